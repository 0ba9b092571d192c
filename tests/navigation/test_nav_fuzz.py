"""Fuzzed detections and depth frames through the real message classes into the controller.

The obstacle_avoidance node converts each message and hands it to :class:`Controller`; a message it
cannot use may raise only a :class:`DepthNodeError` (the node counts it and marks the frame failed).
After each fuzzed input a good depth frame must give a scan and a finite, non-blind command again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from depth_node import msgs as ros_msgs
from depth_node.errors import DepthNodeError
from depth_node.msgs import MessageSet, camera_from_info, vision_defs
from depth_node.types import Detection2D
from navigation.bench import synthetic_frame
from navigation.controller import Controller
from navigation.fusion import fuse_detections
from navigation.params import ObstacleAvoidanceParams
from tests.conftest import roundtrip

FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANY_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-500.0, 500.0))
UINT32 = st.integers(0, 2**32 - 1)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)


class NavRig:
    """A controller, a good depth frame and the time, advanced one frame per input."""

    def __init__(self) -> None:
        self.m = MessageSet.from_rosbags(vision_defs.typestore_with_vision())
        self.store = self.m.typestore
        self.params = ObstacleAvoidanceParams()
        self.depth, self.camera, self.detections = synthetic_frame(self.params, 160, 120)
        self.controller = Controller(self.params)
        self.header = self.m.header(1, "camera_optical_frame")
        self.stamp = 0.0

    def tick(self) -> float:
        self.stamp += 0.05
        return self.stamp

    def good_frame(self) -> None:
        """The next good depth frame: a scan, and a finite command that is not blind."""
        stamp = self.tick()
        assert self.controller.update_depth(stamp, self.depth, self.camera) is not None
        self.controller.update_detections(stamp, self.detections)
        command = self.controller.step(stamp)
        assert not command.blind, command.reason
        assert math.isfinite(command.linear_x) and math.isfinite(command.angular_z)


@pytest.fixture(scope="module")
def rig() -> NavRig:
    return NavRig()


@st.composite
def boxes(draw: st.DrawFn) -> list[Detection2D]:
    return draw(
        st.lists(
            st.builds(Detection2D, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, TEXT, ANY_FLOAT),
            max_size=6,
        )
    )


@FUZZ
@given(boxes())
@example([Detection2D(math.nan, 60.0, 20.0, 20.0, "chair", 0.9)])  # math.ceil(NaN) before the fix
@example([Detection2D(80.0, 60.0, -30.0, -40.0, "person", 0.9), Detection2D(1e308, 1e308, 1e308, 1e308, "x", 1.0)])
def test_fuzzed_detection_arrays(rig: NavRig, detections: list[Detection2D]) -> None:
    msg = roundtrip(rig.store, ros_msgs.detections_to_msg(rig.m, detections, rig.header))
    read = ros_msgs.detections_from_msg(msg)
    assert len(read) == len(detections)
    for ob in fuse_detections(read, rig.depth, rig.camera, rig.params):
        assert math.isfinite(ob.bearing_rad)  # NaN and infinite boxes are skipped, not placed at NaN
    stamp = rig.tick()
    rig.controller.update_detections(stamp, read)
    rig.controller.update_depth(stamp, rig.depth, rig.camera)
    command = rig.controller.step(stamp)
    assert math.isfinite(command.linear_x) and math.isfinite(command.angular_z)
    rig.good_frame()


@st.composite
def depth_frames(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a depth Image (random encoding, sizes, step, endianness, bytes) and of a CameraInfo."""
    encoding = draw(st.sampled_from(["16UC1", "mono16", "32FC1", "64FC1", "rgb8", "mono8", "", "32FC2"]))
    height, width = draw(st.integers(0, 24)), draw(st.integers(0, 32))
    itemsize = {"16UC1": 2, "mono16": 2, "32FC1": 4, "64FC1": 8, "rgb8": 3, "mono8": 1}.get(encoding, 4)
    step = draw(st.one_of(st.just(width * itemsize), st.integers(0, 200), UINT32))
    size = max(0, min(step * height + draw(st.integers(-3, 3)), 50_000))
    return {
        "image": {
            "height": height,
            "width": width,
            "encoding": encoding,
            "is_bigendian": draw(st.integers(0, 1)),
            "step": step,
            "data": np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, 256, size, dtype=np.uint8),
        },
        "roi": {name: draw(st.integers(0, 64)) for name in ("x_offset", "y_offset", "width", "height")},
        "info": {
            "height": draw(st.one_of(st.integers(0, 64), UINT32)),
            "width": draw(st.one_of(st.integers(0, 64), UINT32)),
            "k": np.asarray(draw(st.lists(ANY_FLOAT, min_size=9, max_size=9)), dtype=np.float64),
            "binning_x": draw(st.one_of(st.integers(0, 4), UINT32)),
            "binning_y": draw(st.one_of(st.integers(0, 4), UINT32)),
        },
    }


@FUZZ
@given(depth_frames())
def test_fuzzed_depth_frames(rig: NavRig, fields: dict[str, Any]) -> None:
    m = rig.m
    image = m.get("sensor_msgs/msg/Image")(header=rig.header, **fields["image"])
    roi = m.get("sensor_msgs/msg/RegionOfInterest")(do_rectify=False, **fields["roi"])
    info = m.get("sensor_msgs/msg/CameraInfo")(
        header=rig.header,
        distortion_model="plumb_bob",
        d=np.zeros(5),
        r=np.eye(3).reshape(-1),
        p=np.zeros(12),
        roi=roi,
        **fields["info"],
    )
    image, info = roundtrip(rig.store, image), roundtrip(rig.store, info)
    stamp = rig.tick()
    try:  # what ObstacleAvoidanceNode._on_depth does
        depth = ros_msgs.depth_from_msg(image)
        camera = camera_from_info(info, image_size=(depth.shape[1], depth.shape[0]))
        rig.controller.update_depth(stamp, depth, camera)
    except DepthNodeError as exc:
        assert exc.reason
        rig.controller.mark_failed(stamp, str(exc))
    command = rig.controller.step(stamp)
    assert math.isfinite(command.linear_x) and math.isfinite(command.angular_z)
    rig.good_frame()
