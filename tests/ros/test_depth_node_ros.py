"""depth_node through the live ROS 2 graph: started as ``ros2 run`` starts it, fed and read over DDS."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2

from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, Harness, NodeProcess

PARAMS = CONFIG / "depth_node.yaml"
FAST_DIAGNOSTICS = ("-p", "diagnostics_period_s:=0.2")


class Running:
    """A started depth_node with the test's publishers and collectors on its topics."""

    def __init__(self, ros: Harness, *args: str, params_file: Path = PARAMS, compressed: bool = False) -> None:
        self.ros = ros
        self.ns = ros.namespace()
        self.proc: NodeProcess = ros.start("depth_node", self.ns, *FAST_DIAGNOSTICS, *args, params_file=params_file)
        self.frames = Frames()
        image_type, image_topic = (CompressedImage, "image_raw/compressed") if compressed else (Image, "image_raw")
        self.pub_image = ros.publisher(image_type, f"{self.ns}/{image_topic}")
        self.pub_info = ros.publisher(CameraInfo, f"{self.ns}/camera_info")
        self.diag = ros.collect(DiagnosticArray, "/diagnostics")
        ros.wait_matched(self.pub_image)
        ros.wait_matched(self.pub_info)

    def listen(self, topic: str, msg_type: Any = Image) -> list[Any]:
        """Subscribe one output and wait until the node sees the subscription."""
        received = self.ros.collect(msg_type, f"{self.ns}/{topic}")
        assert self.ros.spin_until(lambda: self.ros.node.count_publishers(f"{self.ns}/{topic}") > 0)
        return received

    def counts(self) -> dict[str, int]:
        values = self.ros.diagnostics(self.diag, f"{self.ns}/depth_node")
        return {k: int(v) for k, v in values.items() if k != "processing_ms_p50"}

    def send(self, image: Any) -> None:
        self.pub_info.publish(self.frames.info())
        self.pub_image.publish(image)

    def send_until(self, received: list[Any], image: Any = None, timeout: float = 20.0) -> Any:
        """Publish the same frame every 0.3 s until an output arrives; returns (sent, first output)."""
        image = image if image is not None else self.frames.image()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.send(image)
            if self.ros.spin_until(lambda: len(received) > 0, 0.3):
                return image, received[0]
        raise AssertionError("no output from depth_node:\n" + self.proc.output()[-3000:])

    def wait_count(self, reason: str, at_least: int, timeout: float = 10.0) -> None:
        ok = self.ros.spin_until(lambda: self.counts().get(reason, 0) >= at_least, timeout)
        assert ok, f"count {reason} never reached {at_least}: {self.counts()}\n{self.proc.output()[-2000:]}"

    def stop(self) -> int:
        return self.ros.stop(self.proc)


@pytest.fixture(scope="module")
def node(ros: Harness) -> Iterator[Running]:
    """One depth_node on the shipped params file, shared by the tests that only feed it good frames."""
    running = Running(ros)
    yield running
    assert running.stop() == 0, running.proc.output()


def test_depth_info_and_cloud_match_the_input_frame(node: Running) -> None:
    depth = node.listen("depth/image_raw")
    info = node.listen("depth/camera_info", CameraInfo)
    cloud = node.listen("depth/points", PointCloud2)
    sent, out = node.send_until(depth)
    assert node.ros.spin_until(lambda: info and cloud)
    assert (out.encoding, out.width, out.height, out.step) == ("32FC1", 640, 480, 640 * 4)
    assert out.header.stamp == sent.header.stamp and out.header.frame_id == "camera_optical_frame"
    values = np.frombuffer(bytes(out.data), np.float32)
    assert np.isfinite(values).mean() > 0.5 and np.nanmin(values) > 0.0
    assert (info[0].width, info[0].height, info[0].header.frame_id) == (640, 480, "camera_optical_frame")
    c = cloud[0]
    assert (c.height, c.width, c.point_step, c.row_step, c.is_dense) == (480, 640, 16, 640 * 16, False)
    assert [(f.name, f.offset, f.datatype, f.count) for f in c.fields] == [
        ("x", 0, 7, 1),
        ("y", 4, 7, 1),
        ("z", 8, 7, 1),
    ]
    assert c.header.stamp == sent.header.stamp
    z = np.frombuffer(bytes(c.data), np.float32).reshape(480, 640, 4)[..., 2]
    np.testing.assert_allclose(z, values.reshape(480, 640), equal_nan=True)


def test_malformed_frames_are_counted_and_never_stop_later_frames(node: Running) -> None:
    depth = node.listen("depth/image_raw")
    f = node.frames
    bad = {
        "short data": (f.raw(640, 480, "rgb8", 640 * 3, bytes(100)), ("bad_image",)),
        "bad step": (f.raw(640, 480, "rgb8", 100, bytes(100 * 480)), ("bad_image",)),
        "unknown encoding": (f.raw(4, 4, "hsv9", 12, bytes(48)), ("unsupported_encoding",)),
        "0x0": (f.raw(0, 0, "rgb8", 0, b""), ("bad_image",)),
        # 4:2:2 packs two pixels in four bytes: an odd width cannot be decoded (this killed the worker once).
        "odd-width 4:2:2": (f.raw(641, 4, "yuv422", 1282, bytes(1282 * 4)), ("bad_image",)),
    }
    for name, (msg, reasons) in bad.items():
        before = node.counts()
        node.send(msg)
        ok = node.ros.spin_until(
            lambda before=before, reasons=reasons: any(node.counts().get(r, 0) > before.get(r, 0) for r in reasons),
            10.0,
        )
        assert ok, f"{name}: not counted under {reasons}: {node.counts()}"
        depth.clear()
        node.send_until(depth)  # the next good frame is processed
    zero = node.frames.info()
    zero.k = [0.0] * 9
    zero.p = [0.0] * 12
    binned = node.frames.info()
    binned.binning_x = binned.binning_y = 100000
    outside = node.frames.info()
    outside.roi.x_offset, outside.roi.y_offset, outside.roi.width, outside.roi.height = 600, 0, 100, 100
    for name, info in {"zero intrinsics": zero, "absurd binning": binned, "ROI outside the image": outside}.items():
        before = node.counts().get("bad_camera_info", 0)
        for _ in range(20):  # as a camera driver does: the CameraInfo with every frame
            node.pub_info.publish(info)
            node.pub_image.publish(node.frames.image())
            if node.ros.spin_until(lambda before=before: node.counts().get("bad_camera_info", 0) > before, 0.5):
                break
        assert node.counts().get("bad_camera_info", 0) > before, f"{name}: {node.counts()}"
        depth.clear()
        node.send_until(depth)  # a good CameraInfo again: frames flow


def test_a_reliable_camera_loses_no_frame(node: Running) -> None:
    """Every frame a reliable driver publishes reaches the node: processed or dropped as busy, none lost."""
    node.listen("depth/image_raw")
    node.ros.spin_until(lambda: bool(node.counts()), 5.0)
    before = sum(node.counts().values())
    sent = 30
    for _ in range(sent):
        node.send(node.frames.image())
        node.ros.spin_for(0.1)
    ok = node.ros.spin_until(lambda: sum(node.counts().values()) - before >= sent, 10.0)
    assert ok, f"{sent} sent, {sum(node.counts().values()) - before} counted: {node.counts()}"


def test_a_best_effort_camera_is_matched(ros: Harness) -> None:
    running = Running(ros)
    try:
        pub = ros.publisher(Image, f"{running.ns}/image_raw", reliable=False)
        running.pub_image = pub
        depth = running.listen("depth/image_raw")
        running.send_until(depth)
        assert "subscription now best_effort" in running.proc.output()
    finally:
        assert running.stop() == 0


def test_no_inference_without_subscribers_and_resumes_on_subscribe(ros: Harness) -> None:
    running = Running(ros)
    try:
        for _ in range(3):
            running.send(running.frames.image())
            ros.spin_for(0.3)
        running.wait_count("idle_no_subscribers", 1)
        assert running.counts().get("processed", 0) == 0
        depth = running.listen("depth/image_raw")
        running.send_until(depth)
        running.wait_count("processed", 1)
    finally:
        assert running.stop() == 0


def test_compressed_transport(ros: Harness) -> None:
    running = Running(ros, "-p", "image_transport:=compressed", compressed=True)
    try:
        depth = running.listen("depth/image_raw")
        sent, out = running.send_until(depth, running.frames.compressed())
        assert (out.width, out.height, out.header.stamp) == (640, 480, sent.header.stamp)
    finally:
        assert running.stop() == 0


def test_yaml_parameters_apply_and_read_back_through_the_parameter_service(ros: Harness, tmp_path: Path) -> None:
    from rcl_interfaces.srv import GetParameters

    doc = yaml.safe_load(PARAMS.read_text())
    section = doc["/**/depth_node"]["ros__parameters"]
    section.update(decimation=2, cloud_rgb=True, publish_colored=True)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(doc))
    running = Running(ros, params_file=params)
    try:
        cloud = running.listen("depth/points", PointCloud2)
        colored = running.listen("depth/colored")
        running.send_until(cloud)
        assert ros.spin_until(lambda: bool(colored))
        c = cloud[0]
        assert (c.width, c.height, c.point_step) == (320, 240, 32)
        assert [f.name for f in c.fields] == ["x", "y", "z", "rgb"]
        assert (colored[0].encoding, colored[0].width) == ("bgr8", 640)
        client = ros.node.create_client(GetParameters, f"{running.ns}/depth_node/get_parameters")
        assert client.wait_for_service(timeout_sec=10.0)
        future = client.call_async(GetParameters.Request(names=["decimation", "cloud_rgb", "qos_reliability"]))
        assert ros.spin_until(future.done)
        values = future.result().values
        assert (values[0].integer_value, values[1].bool_value, values[2].string_value) == (2, True, "auto")
    finally:
        assert running.stop() == 0


@pytest.mark.parametrize(
    ("override", "expected"),
    [("decimation:=0", "'decimation': 0 is below the minimum 1"), ("decimation:=2.5", "'decimation': expected int")],
)
def test_a_bad_parameter_is_refused_in_one_line(ros: Harness, override: str, expected: str) -> None:
    proc = ros.start("depth_node", ros.namespace(), "-p", override)
    code = proc.wait_exit()
    ros.processes.remove(proc)
    out = proc.output()
    assert code == 2, out
    assert expected in out and "Traceback" not in out


def test_ctrl_c_twice_stops_quietly(ros: Harness) -> None:
    running = Running(ros)
    running.proc.proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    if running.proc.proc.poll() is None:
        running.proc.proc.send_signal(signal.SIGINT)
    code = running.stop()
    assert code == 0 and "Traceback" not in running.proc.output(), running.proc.output()


def test_confidence_topic_and_sky_mask(ros: Harness, tmp_path: Path) -> None:
    """publish_confidence: depth/confidence (32FC1, the depth's header); the sky rows are NaN in the depth."""
    from tests.onnx_models import plain_spec, write_confidence_sky_model

    spec = plain_spec(input_width=64, input_height=48, confidence_output="confidence", sky_output="sky")
    model = write_confidence_sky_model(tmp_path / "conf_sky.onnx", spec)
    running = Running(ros, "-p", f"model_path:={model}", "-p", "publish_confidence:=true")
    try:
        depth = running.listen("depth/image_raw")
        confidence = running.listen("depth/confidence")
        pixels = np.zeros((480, 640, 3), np.uint8)
        pixels[..., 0], pixels[..., 1] = 51, 128
        pixels[:120, :, 2] = 200  # sky score 0.78 in the top quarter
        sent, out = running.send_until(depth, running.frames.image(pixels))
        assert ros.spin_until(lambda: any(c.header.stamp == sent.header.stamp for c in confidence))
        conf = next(c for c in confidence if c.header.stamp == sent.header.stamp)
        assert (conf.encoding, conf.width, conf.height, conf.header.frame_id) == (
            "32FC1",
            640,
            480,
            out.header.frame_id,
        )
        np.testing.assert_allclose(np.frombuffer(bytes(conf.data), np.float32), 128 / 255, atol=1e-5)
        values = np.frombuffer(bytes(out.data), np.float32).reshape(480, 640)
        assert np.isnan(values[:110]).all() and np.isfinite(values[130:]).all()
    finally:
        assert running.stop() == 0
