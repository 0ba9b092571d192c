"""The detector node through the live ROS 2 graph, and detector -> obstacle_avoidance -> obstacles.

The model is a tiny ONNX file whose output is constructed (tests/detection/models.py): it always sees a
"person" in the middle of the frame, so every published box is known exactly in image pixels.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("rclpy")
pytest.importorskip("vision_msgs.msg")
pytest.importorskip("tests.ros.harness", reason="the tests/ros harness of main (ROS 2 for real)")

from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from vision_msgs.msg import Detection2DArray, Detection3DArray

from depth_node.detection.layouts import anchor_count
from tests.detection.models import write_constant_detector
from tests.ros.frames import Frames, colour_image
from tests.ros.harness import CONFIG, Harness

PARAMS = CONFIG / "detector.yaml"


@pytest.fixture(scope="module")
def person_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A yolov8-layout 64x64 model: one "person" at network (32, 32) size 32x24, i.e. the middle half of 640x480."""
    tmp = tmp_path_factory.mktemp("detector")
    out = np.zeros((1, 6, anchor_count(64, 64)), np.float32)
    out[0, :, 0] = [32.0, 32.0, 32.0, 24.0, 0.9, 0.0]
    labels = tmp / "labels.txt"
    labels.write_text("person\ncar\n", encoding="utf-8")
    return write_constant_detector(tmp / "person.onnx", out), labels


def start_detector(ros: Harness, model: tuple[Path, Path], *args: str) -> Any:
    ns = ros.namespace()
    proc = ros.start(
        "detector", ns, "-p", f"model_path:={model[0]}", "-p", f"labels_path:={model[1]}", *args, params_file=PARAMS
    )
    return ns, proc


def send_until(ros: Harness, pub: Any, make: Any, received: list[Any], proc: Any, more_than: int = 0) -> Any:
    """Publish a fresh frame every 0.3 s until ``received`` holds more than ``more_than``; returns the frames sent."""
    sent = []
    end = time.monotonic() + 20.0
    while time.monotonic() < end:
        sent.append(make())
        pub.publish(sent[-1])
        if ros.spin_until(lambda: len(received) > more_than, 0.3):
            return sent
    raise AssertionError("nothing arrived:\n" + proc.output()[-3000:])


def wire(ros: Harness, ns: str, image_type: Any, topic: str) -> tuple[Any, list[Any]]:
    """A camera publisher the detector listens to, and the list its detections arrive in."""
    pub = ros.publisher(image_type, f"{ns}/{topic}")
    ros.wait_matched(pub)
    detections = ros.collect(Detection2DArray, f"{ns}/detections")
    assert ros.spin_until(lambda: ros.node.count_publishers(f"{ns}/detections") > 0)
    return pub, detections


def test_detections_carry_the_image_stamp_and_image_pixels(ros: Harness, person_model: tuple[Path, Path]) -> None:
    ns, proc = start_detector(ros, person_model, "-p", "publish_image:=true")
    try:
        frames = Frames()
        drawn = ros.collect(Image, f"{ns}/detections/image")
        pub, detections = wire(ros, ns, Image, "image_raw")
        sent = send_until(ros, pub, frames.image, detections, proc)
        msg = detections[0]
        assert msg.header.stamp in [s.header.stamp for s in sent]
        assert msg.header.frame_id == "camera_optical_frame"
        [d] = msg.detections
        assert d.header.stamp == msg.header.stamp
        assert d.results[0].hypothesis.class_id == "person" and d.results[0].hypothesis.score == pytest.approx(0.9)
        box = (d.bbox.center.position.x, d.bbox.center.position.y, d.bbox.size_x, d.bbox.size_y)
        np.testing.assert_allclose(box, (320.0, 240.0, 320.0, 240.0), atol=1e-3)  # 640x480 pixels, not 64x64
        assert ros.spin_until(lambda: len(drawn) > 0)
        assert (drawn[0].encoding, drawn[0].width, drawn[0].height) == ("bgr8", 640, 480)
        assert drawn[0].header.stamp in [s.header.stamp for s in sent]
    finally:
        assert ros.stop(proc) == 0


def test_a_bad_frame_is_dropped_and_later_frames_still_detected(ros: Harness, person_model: tuple[Path, Path]) -> None:
    ns, proc = start_detector(ros, person_model)
    try:
        frames = Frames()
        pub, detections = wire(ros, ns, Image, "image_raw")
        send_until(ros, pub, frames.image, detections, proc)
        bad = frames.raw(640, 480, "rgb8", 640 * 3, b"\x00" * 100)  # 100 bytes where 921600 are due
        pub.publish(bad)
        assert ros.spin_until(lambda: "frame dropped (bad_image)" in proc.output(), 10.0), proc.output()
        assert bad.header.stamp not in [m.header.stamp for m in detections]
        send_until(ros, pub, frames.image, detections, proc, more_than=len(detections))
    finally:
        assert ros.stop(proc) == 0


def test_yaml_parameters_apply_in_a_namespace(ros: Harness, person_model: tuple[Path, Path], tmp_path: Path) -> None:
    """config/detector.yaml's '/**/detector' section reaches the node in its namespace: a class filter empties it."""
    doc = yaml.safe_load(PARAMS.read_text())
    section = doc["/**/detector"]["ros__parameters"]
    section.update(model_path=str(person_model[0]), labels_path=str(person_model[1]), classes=["car"])
    params = tmp_path / "detector.yaml"
    params.write_text(yaml.safe_dump(doc))
    ns = ros.namespace()
    proc = ros.start("detector", ns, params_file=params)
    try:
        frames = Frames()
        pub, detections = wire(ros, ns, Image, "image_raw")
        send_until(ros, pub, frames.image, detections, proc)
        assert detections[0].detections == []  # the person is filtered out: only "car" is kept
    finally:
        assert ros.stop(proc) == 0


def test_compressed_transport(ros: Harness, person_model: tuple[Path, Path]) -> None:
    ns, proc = start_detector(ros, person_model, "-p", "image_transport:=compressed")
    try:
        frames = Frames()
        pub, detections = wire(ros, ns, CompressedImage, "image_raw/compressed")
        sent = send_until(ros, pub, frames.compressed, detections, proc)
        assert detections[0].header.stamp in [s.header.stamp for s in sent]
        assert detections[0].detections[0].bbox.size_x == pytest.approx(320.0)
    finally:
        assert ros.stop(proc) == 0


def test_a_model_of_no_layout_is_refused_at_start_in_one_line(ros: Harness, tmp_path: Path) -> None:
    model = write_constant_detector(tmp_path / "bad.onnx", np.zeros((1, 7, 5), np.float32))
    proc = ros.start("detector", ros.namespace(), "-p", f"model_path:={model}", params_file=PARAMS)
    code = proc.wait_exit(30.0)
    ros.processes.remove(proc)
    out = proc.log.read_text(errors="replace")
    assert code == 2, out
    assert "detector output [1, 7, 5] for input 64x64 matches no known layout" in out
    assert "Traceback" not in out


def test_detections_reach_obstacle_avoidance_as_obstacles(ros: Harness, person_model: tuple[Path, Path]) -> None:
    """Camera -> detector -> detections -> obstacle_avoidance (+ depth) -> obstacles, all over DDS."""
    ns, det_proc = start_detector(ros, person_model)
    nav_proc = ros.start("obstacle_avoidance", ns, params_file=CONFIG / "obstacle_avoidance.yaml")
    try:
        frames = Frames()
        m = frames.m
        pub_image = ros.publisher(Image, f"{ns}/image_raw")
        pub_depth = ros.publisher(Image, f"{ns}/depth/image_raw")
        pub_info = ros.publisher(CameraInfo, f"{ns}/depth/camera_info")
        for pub in (pub_image, pub_depth, pub_info):
            ros.wait_matched(pub)
        obstacles = ros.collect(Detection3DArray, f"{ns}/obstacles")
        wall = np.full((480, 640), 2.0, np.float32)  # a wall 2 m ahead, the person in front of it

        def send() -> None:
            # The controller judges freshness against its clock: stamp the frames now.
            header = m.header(time.time_ns(), "camera_optical_frame")
            pub_image.publish(m.image(colour_image(), "rgb8", header))
            pub_info.publish(m.camera_info(frames.camera, header))
            pub_depth.publish(m.image(wall, "32FC1", header))

        people: list[Any] = []

        def seen() -> bool:
            people[:] = [d for o in obstacles for d in o.detections if d.results[0].hypothesis.class_id == "person"]
            return bool(people)

        end = time.monotonic() + 30.0
        while time.monotonic() < end and not seen():
            send()
            ros.spin_until(seen, 0.3)
        assert people, det_proc.output()[-2000:] + nav_proc.output()[-2000:]
        assert people[0].bbox.center.position.z == pytest.approx(2.0, abs=0.1)
        assert abs(people[0].bbox.center.position.x) < 0.1  # the box is centred: straight ahead
    finally:
        assert ros.stop(nav_proc) == 0
        assert ros.stop(det_proc) == 0
