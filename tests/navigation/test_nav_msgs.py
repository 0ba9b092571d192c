"""Message conversions of the navigation layer, through real CDR (rosbags typestore)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from depth_node import msgs as ros_msgs
from depth_node.errors import UnsupportedEncodingError
from depth_node.msgs import MessageSet, stamp_ns
from depth_node.types import Command, Obstacle, Scan
from tests.conftest import SHARED_DATA, roundtrip

UPSTREAM_VISION_DIR = SHARED_DATA / "msg" / "vision_msgs"  # vision_msgs 4.x's own .msg files, when ../shared is here


@pytest.fixture(scope="module")
def plain() -> MessageSet:
    """Humble classes without vision_msgs."""
    return MessageSet.from_rosbags(get_typestore(Stores.ROS2_HUMBLE))


@pytest.fixture(scope="module")
def vision(vision_msg_dir: Path) -> MessageSet:
    """Humble classes plus vision_msgs registered from a directory of .msg files."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    names = ros_msgs.register_msg_dir(store, vision_msg_dir)
    assert ros_msgs.DETECTION2D_ARRAY in names and ros_msgs.DETECTION3D_ARRAY in names
    return MessageSet.from_rosbags(store)


def _obstacle(class_id: str = "chair", distance: float = 2.0) -> Obstacle:
    return Obstacle(
        class_id=class_id,
        score=0.8,
        distance_m=distance,
        bearing_rad=0.1,
        lateral_extent_m=0.5,
        depth_m=2.0,
        center=(-0.2, 0.05, 2.0),
        size=(0.5, 0.9, 0.5),
        valid_pixels=100,
    )


def _det2d(m: MessageSet, hyps: list[tuple[str, float]], cx: float, cy: float, sx: float, sy: float) -> Any:
    results = [
        ros_msgs.make(
            m,
            "vision_msgs/msg/ObjectHypothesisWithPose",
            hypothesis=ros_msgs.make(m, "vision_msgs/msg/ObjectHypothesis", class_id=c, score=s),
        )
        for c, s in hyps
    ]
    pos = ros_msgs.make(m, "vision_msgs/msg/Point2D", x=cx, y=cy)
    bbox = ros_msgs.make(
        m,
        "vision_msgs/msg/BoundingBox2D",
        center=ros_msgs.make(m, "vision_msgs/msg/Pose2D", position=pos),
        size_x=sx,
        size_y=sy,
    )
    return ros_msgs.make(m, "vision_msgs/msg/Detection2D", results=results, bbox=bbox, id="")


def test_detections_take_best_hypothesis_through_cdr(vision: MessageSet) -> None:
    header = vision.header(1_500_000_000, "cam")
    msg = ros_msgs.make(
        vision,
        ros_msgs.DETECTION2D_ARRAY,
        header=header,
        detections=[
            _det2d(vision, [("cat", 0.3), ("person", 0.9), ("dog", 0.5)], 100.0, 80.0, 40.0, 60.0),
            _det2d(vision, [], 10.0, 20.0, 4.0, 6.0),
        ],
    )
    back = roundtrip(vision.typestore, msg)
    dets = ros_msgs.detections_from_msg(back)
    assert stamp_ns(back.header) == 1_500_000_000
    assert len(dets) == 2
    a, b = dets
    assert (a.class_id, a.score) == ("person", pytest.approx(0.9))
    assert (a.center_x, a.center_y, a.size_x, a.size_y) == (100.0, 80.0, 40.0, 60.0)
    assert (b.class_id, b.score) == ("", 0.0)


def test_obstacles_to_detection3d_array(vision: MessageSet) -> None:
    header = vision.header(7, "cam_optical")
    obstacles = [_obstacle(), _obstacle("person", math.nan)]
    msg = roundtrip(vision.typestore, ros_msgs.obstacles_to_msg(vision, obstacles, header))
    assert msg.header.frame_id == "cam_optical"
    assert len(msg.detections) == 1  # the unknown-distance one is left out
    det = msg.detections[0]
    p = det.bbox.center.position
    assert (p.x, p.y, p.z) == (-0.2, 0.05, 2.0)
    assert (det.bbox.size.x, det.bbox.size.y, det.bbox.size.z) == (0.5, 0.9, 0.5)
    assert det.bbox.center.orientation.w == 1.0
    assert det.results[0].hypothesis.class_id == "chair"
    assert det.results[0].hypothesis.score == pytest.approx(0.8)
    assert det.results[0].pose.pose.position.z == 2.0


def test_scan_to_laserscan(plain: MessageSet) -> None:
    ranges = np.array([1.0, np.inf, np.nan, -np.inf, 2.5], np.float32)
    scan = Scan(-0.5, 0.5, 0.25, 0.05, 5.0, ranges, scan_time=0.05)
    msg = roundtrip(plain.typestore, ros_msgs.scan_to_msg(plain, scan, plain.header(3, "cam")))
    assert msg.angle_min == pytest.approx(-0.5) and msg.angle_increment == pytest.approx(0.25)
    assert (msg.range_min, msg.range_max) == (pytest.approx(0.05), 5.0)
    assert msg.scan_time == pytest.approx(0.05) and msg.intensities.size == 0
    np.testing.assert_array_equal(msg.ranges, ranges)


def test_twist_and_twist_stamped(plain: MessageSet) -> None:
    cmd = Command(linear_x=0.3, angular_z=-0.4, blind=False, reason="ok", mode="goal")
    twist = roundtrip(plain.typestore, ros_msgs.twist_to_msg(plain, cmd))
    assert twist.__msgtype__ == ros_msgs.TWIST
    assert (twist.linear.x, twist.linear.y, twist.angular.z) == (0.3, 0.0, -0.4)
    stamped = roundtrip(plain.typestore, ros_msgs.twist_to_msg(plain, cmd, plain.header(5, "base_link")))
    assert stamped.__msgtype__ == ros_msgs.TWIST_STAMPED
    assert stamped.header.frame_id == "base_link" and stamped.twist.angular.z == -0.4


def test_markers(plain: MessageSet) -> None:
    cmd = Command(0.2, 0.3, False, "ok", "goal", chosen_heading_rad=math.pi / 2)
    msg = ros_msgs.markers_to_msg(
        plain, [_obstacle(), _obstacle("person")], cmd, plain.header(1, "cam"), person_classes=("person",)
    )
    msg = roundtrip(plain.typestore, msg)
    kinds = [(m.ns, m.type, m.action) for m in msg.markers]
    assert kinds == [("obstacles", 0, 3), ("obstacles", 1, 0), ("obstacles", 3, 0), ("heading", 0, 0)]
    arrow = msg.markers[-1]
    tip = arrow.points[1]
    # The scan frame is z up, x forward: a heading of +90 degrees (left) is +y, level.
    assert (tip.x, tip.y, tip.z) == pytest.approx((0.0, 1.0, 0.0), abs=1e-12)
    assert arrow.header.frame_id == "cam"
    assert arrow.color.g > arrow.color.r
    blind = roundtrip(plain.typestore, ros_msgs.markers_to_msg(plain, [], Command.stop("x"), plain.header(1, "c")))
    assert blind.markers[-1].color.r == 1.0 and len(blind.markers) == 2


def test_depth_16uc1_and_32fc1(plain: MessageSet) -> None:
    header = plain.header(0, "d")
    mm = np.array([[0, 1000], [2500, 65535]], np.uint16)
    depth = ros_msgs.depth_from_msg(roundtrip(plain.typestore, plain.image(mm, "16UC1", header)))
    assert depth.dtype == np.float32
    np.testing.assert_allclose(depth, [[np.nan, 1.0], [2.5, 65.535]], rtol=1e-6)
    m = np.array([[np.nan, 0.0], [1.25, 3.0]], np.float32)
    depth = ros_msgs.depth_from_msg(roundtrip(plain.typestore, plain.image(m, "32FC1", header)))
    np.testing.assert_allclose(depth, [[np.nan, np.nan], [1.25, 3.0]])
    with pytest.raises(UnsupportedEncodingError, match="rgb8"):
        ros_msgs.depth_from_msg(plain.image(np.zeros((2, 2, 3), np.uint8), "rgb8", header))


def test_register_from_bag_typestore(tmp_path: Path) -> None:
    src = get_typestore(Stores.ROS2_HUMBLE)
    msg_dir = tmp_path / "msgs"
    msg_dir.mkdir()
    (msg_dir / "Thing.msg").write_text("Part[] parts\nstring name\n")
    (msg_dir / "Part.msg").write_text("float64 x\n")
    assert ros_msgs.register_msg_dir(src, msg_dir, "my_msgs") == ["my_msgs/msg/Part", "my_msgs/msg/Thing"]
    dst = get_typestore(Stores.ROS2_HUMBLE)
    assert not ros_msgs.has_types(dst, "my_msgs/msg/Thing")
    assert ros_msgs.register_from_typestore(dst, src, "my_msgs") == ["my_msgs/msg/Part", "my_msgs/msg/Thing"]
    assert ros_msgs.has_types(dst, "my_msgs/msg/Thing", "my_msgs/msg/Part")
    assert ros_msgs.register_from_typestore(dst, src, "none_msgs") == []
    with pytest.raises(FileNotFoundError, match="no .msg"):
        ros_msgs.register_msg_dir(dst, tmp_path / "empty")


def test_markers_are_level_in_the_scan_frame_whatever_the_pitch(plain: MessageSet) -> None:
    """A cube 2 m ahead of a camera pitched down by 0.3 rad sits 2 m ahead in the scan frame, not below it."""
    pitch = 0.3
    # A point 2 m ahead, level with the camera, in the optical frame of a camera pitched down by 0.3 rad.
    center = (0.0, -2.0 * math.sin(pitch), 2.0 * math.cos(pitch))  # above the axis: optical -y
    ob = Obstacle("box", 0.9, 2.0, 0.0, 0.4, center[2], center, (0.4, 0.6, 0.4), 50)
    cmd = Command(0.2, 0.0, False, "ok", "goal")
    msg = ros_msgs.markers_to_msg(plain, [ob], cmd, plain.header(1, "camera_scan"), pitch_rad=pitch)
    cube = roundtrip(plain.typestore, msg).markers[1]
    pos = cube.pose.position
    assert (pos.x, pos.y, pos.z) == pytest.approx((2.0, 0.0, 0.0), abs=1e-9)
    assert (cube.scale.x, cube.scale.y, cube.scale.z) == pytest.approx((0.4, 0.4, 0.6))  # depth, width, height up


@pytest.mark.skipif(not UPSTREAM_VISION_DIR.is_dir(), reason="needs vision_msgs' own .msg files from ../shared/data")
def test_built_in_vision_definitions_match_upstream() -> None:
    """The built-in field lists (what every other vision_msgs test uses) are upstream's, field for field."""
    from rosbags.typesys import get_types_from_msg

    from depth_node.msgs.vision_defs import DEFINITIONS, PACKAGE

    for name, text in DEFINITIONS.items():
        full = f"{PACKAGE}/msg/{name}"
        upstream = (UPSTREAM_VISION_DIR / f"{name}.msg").read_text(encoding="utf-8")
        ours_fields = get_types_from_msg(text, full)[full][1]
        assert get_types_from_msg(upstream, full)[full][1] == ours_fields, name
