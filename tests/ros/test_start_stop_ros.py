"""Starting and stopping the nodes again and again over DDS, as a robot's launch does (issue 26).

Each test starts a node several times, not once: the failures these guard against (a Ctrl-C that hung, an
``RCLError`` from a publisher at shutdown, frames lost at start) were intermittent. Every stop is a SIGINT
while the node is busy (frames flowing, ``/diagnostics`` published every 20 ms, a frame in inference), and
must end the process with exit code 0 and no traceback (:meth:`NodeProcess.stop` kills it and returns -9
when it has not ended after its timeout).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from depth_node.msgs import MessageSet, stamp_ns
from tests.navigation.scenes import camera, render_depth
from tests.onnx_models import plain_spec, write_slow_model
from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, Harness, NodeProcess

STARTS = 4
STOP_TIMEOUT_S = 10.0  # a hang, not a speed check: a clean stop takes well under this even on a loaded machine
FAST_DIAGNOSTICS = ("-p", "diagnostics_period_s:=0.02")
CAMERA_PERIOD_S = 1.0 / 3.0  # slower than one frame's processing (the shipped model), so none is dropped busy
FIRST_DEPTH_S = 20.0  # a start that gives no depth this long after matching is broken, even on a loaded machine
FRAMES_AFTER_FIRST = 6  # after the first depth, each of these must get its depth


def stop_cleanly(ros: Harness, proc: NodeProcess) -> str:
    """SIGINT the node; assert it ended with exit code 0, without a traceback or an RCL error; its output."""
    ros.processes.remove(proc)
    code = proc.stop(timeout=STOP_TIMEOUT_S)
    out = proc.output()
    assert code == 0, f"exit code {code} (-9: still running {STOP_TIMEOUT_S} s after SIGINT):\n{out[-3000:]}"
    assert "Traceback" not in out and "RCLError" not in out, out[-3000:]
    return out


def depth_node_once(ros: Harness, start: int) -> None:
    """One start: a camera from the moment it is matched, depth within FIRST_DEPTH_S, then for every frame, a stop.

    The start is not a fixed settle time: on a loaded machine Fast DDS has matched the test's CameraInfo writer
    to the node's best-effort reader (and the node's depth writer to the test's reader) seconds after the
    test's side saw the match, and a frame before that is rightly dropped ("no CameraInfo"). Once one depth
    image came back the whole path is matched, and from then on no frame may be lost.
    """
    ns = ros.namespace()
    proc = ros.start("depth_node", ns, *FAST_DIAGNOSTICS, params_file=CONFIG / "depth_node.yaml")
    frames = Frames()
    depth = ros.collect(Image, f"{ns}/depth/image_raw")
    pub_image = ros.publisher(Image, f"{ns}/image_raw")
    pub_info = ros.publisher(CameraInfo, f"{ns}/camera_info")
    ros.wait_matched(pub_image)
    ros.wait_matched(pub_info)

    def camera_frame() -> int:
        """Publish one frame as a camera driver does (its CameraInfo with it); its stamp."""
        image = frames.image()
        pub_info.publish(frames.info())
        pub_image.publish(image)
        return stamp_ns(image.header)

    end = time.monotonic() + FIRST_DEPTH_S
    while not depth and time.monotonic() < end:
        camera_frame()
        ros.spin_until(lambda: bool(depth), CAMERA_PERIOD_S)
    assert depth, f"start {start}: no depth {FIRST_DEPTH_S} s after matching:\n{proc.output()[-3000:]}"
    due = []
    for _ in range(FRAMES_AFTER_FIRST):
        due.append(camera_frame())
        ros.spin_for(CAMERA_PERIOD_S)

    def missing() -> list[int]:
        return sorted(set(due) - {stamp_ns(m.header) for m in depth})

    ros.spin_until(lambda: not missing(), 15.0)
    assert not missing(), f"start {start}: {len(missing())} of {len(due)} without depth:\n{proc.output()[-3000:]}"
    camera_frame()  # stopped while this one is on its way or in processing
    stop_cleanly(ros, proc)
    ros.node.destroy_publisher(pub_image)
    ros.node.destroy_publisher(pub_info)


def test_depth_node_gives_depth_for_every_frame_once_matched_and_stops_cleanly_every_time(ros: Harness) -> None:
    for start in range(STARTS):
        depth_node_once(ros, start)


def stopped_in_inference(ros: Harness, model: Path, start: int) -> bool:
    """One start on the slow model, stopped while a frame is in inference; whether the node said it waited."""
    ns = ros.namespace()
    proc = ros.start(
        "depth_node", ns, "-p", f"model_path:={model}", *FAST_DIAGNOSTICS, params_file=CONFIG / "depth_node.yaml"
    )
    frames = Frames(width=64, height=48)
    depth = ros.collect(Image, f"{ns}/depth/image_raw")
    pub_image = ros.publisher(Image, f"{ns}/image_raw")
    pub_info = ros.publisher(CameraInfo, f"{ns}/camera_info")
    ros.wait_matched(pub_image)
    end = time.monotonic() + 60.0
    while not depth and time.monotonic() < end:  # the first frame through: the model is loaded and running
        pub_info.publish(frames.info())
        pub_image.publish(frames.image())
        ros.spin_until(lambda: bool(depth), 0.5)
    assert depth, f"start {start}: no depth:\n{proc.output()[-3000:]}"
    pub_info.publish(frames.info())
    pub_image.publish(frames.image())
    ros.spin_for(0.3)  # delivered: now in inference (about a second per frame)
    out = stop_cleanly(ros, proc)
    ros.node.destroy_publisher(pub_image)
    ros.node.destroy_publisher(pub_info)
    return "waiting for the frame in progress" in out


def test_ctrl_c_while_a_frame_is_in_inference_ends_depth_node_cleanly(ros: Harness, tmp_path: Path) -> None:
    model = write_slow_model(tmp_path / "slow.onnx", plain_spec())
    in_inference = sum(stopped_in_inference(ros, model, start) for start in range(3))
    assert in_inference >= 1, "no stop landed while a frame was in inference: the test did not test it"


def test_a_latched_camera_info_sent_once_before_the_node_starts_is_used(ros: Harness) -> None:
    latched = QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    ns = ros.namespace()
    frames = Frames()
    pub_info = ros.node.create_publisher(CameraInfo, f"{ns}/camera_info", latched)
    pub_info.publish(frames.info())  # once, before depth_node exists (a static calibration publisher)
    proc = ros.start("depth_node", ns, *FAST_DIAGNOSTICS, params_file=CONFIG / "depth_node.yaml")
    depth = ros.collect(Image, f"{ns}/depth/image_raw")
    info_out = ros.collect(CameraInfo, f"{ns}/depth/camera_info")
    pub_image = ros.publisher(Image, f"{ns}/image_raw")
    ros.wait_matched(pub_image)
    end = time.monotonic() + 20.0
    while not depth and time.monotonic() < end:  # images only, never another CameraInfo
        pub_image.publish(frames.image())
        ros.spin_until(lambda: bool(depth), 0.3)
    assert depth, f"no depth from images with a latched CameraInfo:\n{proc.output()[-3000:]}"
    sent = []
    for _ in range(5):  # from now on every frame gets its depth, with the kept CameraInfo
        image = frames.image()
        pub_image.publish(image)
        sent.append(stamp_ns(image.header))
        ros.spin_for(CAMERA_PERIOD_S)
    assert ros.spin_until(lambda: set(sent) <= {stamp_ns(m.header) for m in depth}, 15.0), proc.output()[-3000:]
    assert "camera_info: publishers offer reliable, transient_local; subscribed reliable, transient_local" in (
        proc.output()
    )
    # A new calibration, latched like the first: the last CameraInfo is the one used.
    wide = frames.info()
    wide.k = [300.0, 0.0, 319.5, 0.0, 300.0, 239.5, 0.0, 0.0, 1.0]
    wide.p = [300.0, 0.0, 319.5, 0.0, 0.0, 300.0, 239.5, 0.0, 0.0, 0.0, 1.0, 0.0]
    pub_info.publish(wide)
    ros.spin_for(0.5)
    info_out.clear()
    end = time.monotonic() + 15.0
    while not any(m.k[0] == 300.0 for m in info_out) and time.monotonic() < end:
        pub_image.publish(frames.image())
        ros.spin_for(CAMERA_PERIOD_S)
    assert any(m.k[0] == 300.0 for m in info_out), [m.k[0] for m in info_out]
    stop_cleanly(ros, proc)


def obstacle_avoidance_once(ros: Harness, diag: list[Any], start: int) -> None:
    """One start of obstacle_avoidance on a goal heading, fed depth until it decided on 5 frames, a stop."""
    m = MessageSet.from_rclpy()
    cam = camera(160, 120)
    floor = render_depth(cam)
    ns = ros.namespace()
    proc = ros.start(
        "obstacle_avoidance",
        ns,
        *FAST_DIAGNOSTICS,
        "-p",
        "goal_heading_rad:=0.0",
        params_file=CONFIG / "obstacle_avoidance.yaml",
    )
    pub_depth = ros.publisher(Image, f"{ns}/depth/image_raw")
    pub_info = ros.publisher(CameraInfo, f"{ns}/depth/camera_info")
    ros.wait_matched(pub_depth)
    ros.wait_matched(pub_info)

    def depth_frames() -> int:
        return int(ros.diagnostics(diag, f"{ns}/obstacle_avoidance").get("depth_frames", "0"))

    def send() -> None:
        header = m.header(ros.node.get_clock().now().nanoseconds, "camera_optical_frame")
        pub_info.publish(m.camera_info(cam, header))
        pub_depth.publish(m.image(floor, "32FC1", header))

    end = time.monotonic() + 20.0
    while depth_frames() < 5 and time.monotonic() < end:  # depth flows and the node decides on it
        send()
        ros.spin_for(0.1)
    assert depth_frames() >= 5, f"start {start}: {ros.diagnostics(diag, f'{ns}/obstacle_avoidance')}"
    send()  # stopped while depth is arriving and /diagnostics is being published
    stop_cleanly(ros, proc)
    ros.node.destroy_publisher(pub_depth)
    ros.node.destroy_publisher(pub_info)


def test_obstacle_avoidance_stops_cleanly_every_time(ros: Harness) -> None:
    diag = ros.collect(DiagnosticArray, "/diagnostics")
    for start in range(STARTS):
        obstacle_avoidance_once(ros, diag, start)
