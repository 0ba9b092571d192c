"""The navigation message layer: vision_msgs / sensor_msgs / geometry_msgs <-> the navigation core types.

Written once against a :class:`depth_node.msgs.MessageSet`, so the live node (rclpy classes) and the
replay and tests (rosbags classes, real CDR) build the same messages. rosbags classes have no defaults,
so every builder goes through :func:`make`, which fills the fields not given with ROS's zero values
(for rclpy the generated classes already do that).

vision_msgs is not part of rosbags' built-in typestores: :func:`register_msg_dir` registers it from a
directory of ``.msg`` files and :func:`register_from_typestore` copies it from a bag's own typestore
(bags written by rosbag2 carry the definitions of the types they hold).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.errors import ImageDecodeError, UnsupportedEncodingError
from depth_node.msgs import MessageSet, decode_image, stamp_ns
from navigation.frames import optical_to_scan, scan_tf_rotation
from navigation.types import Command, Detection2D, Obstacle, Scan

VISION_PACKAGE = "vision_msgs"
DETECTION2D_ARRAY = "vision_msgs/msg/Detection2DArray"
DETECTION3D_ARRAY = "vision_msgs/msg/Detection3DArray"
TWIST = "geometry_msgs/msg/Twist"
TWIST_STAMPED = "geometry_msgs/msg/TwistStamped"
LASER_SCAN = "sensor_msgs/msg/LaserScan"
MARKER_ARRAY = "visualization_msgs/msg/MarkerArray"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"

# Marker constants (visualization_msgs/Marker); literal so that no message class is needed to read them.
_ARROW, _CUBE, _CYLINDER = 0, 1, 3
_ADD, _DELETEALL = 0, 3
_BASE_DEFAULTS: dict[str, Any] = {"string": "", "bool": False, "float32": 0.0, "float64": 0.0}
_NUMPY_DTYPES = {
    "bool": np.bool_,
    "int8": np.int8,
    "uint8": np.uint8,
    "byte": np.uint8,
    "char": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
    "float32": np.float32,
    "float64": np.float64,
}


# --- type registration (rosbags) ------------------------------------------------------------------


def register_msg_dir(typestore: Any, path: str | Path, package: str = VISION_PACKAGE) -> list[str]:
    """Register every ``*.msg`` file of ``path`` as ``<package>/msg/<stem>`` in a rosbags typestore.

    All files are parsed before registering, so definitions that refer to each other resolve whatever
    the file order.

    Returns:
        The registered type names (sorted).

    Raises:
        FileNotFoundError: ``path`` holds no ``.msg`` file.
    """
    from rosbags.typesys import get_types_from_msg

    files = sorted(Path(path).glob("*.msg"))
    if not files:
        raise FileNotFoundError(f"no .msg files in '{path}'")
    types: dict[str, Any] = {}
    for f in files:
        types.update(get_types_from_msg(f.read_text(encoding="utf-8"), f"{package}/msg/{f.stem}"))
    typestore.register(types)
    return sorted(types)


def register_from_typestore(typestore: Any, source: Any, package: str = VISION_PACKAGE) -> list[str]:
    """Copy the types of ``package`` from ``source`` (e.g. an ``AnyReader``'s typestore) into ``typestore``.

    Returns:
        The copied type names; empty when ``source`` does not know the package.
    """
    defs = getattr(source, "fielddefs", {})
    types = {name: defs[name] for name in defs if name.startswith(f"{package}/")}
    if types:
        typestore.register(types)
    return sorted(types)


def has_types(typestore: Any, *names: str) -> bool:
    """Whether a rosbags typestore knows every one of ``names``."""
    return all(name in typestore.fielddefs for name in names)


# --- building any message -------------------------------------------------------------------------


def _default_value(typestore: Any, desc: tuple[Any, Any]) -> Any:
    kind, detail = desc
    kind = int(kind)
    if kind == 1:  # BASE: (type name, max string length)
        base = detail[0]
        return _BASE_DEFAULTS.get(base, 0)
    if kind == 2:  # NAME: a nested message
        return default_message(typestore, detail)
    inner, count = detail
    if int(inner[0]) == 1:  # arrays of base types are numpy arrays in rosbags (strings: lists)
        base = inner[1][0]
        if base == "string":
            return [""] * (count if kind == 3 else 0)
        return np.zeros(count if kind == 3 else 0, dtype=_NUMPY_DTYPES[base])
    return [_default_value(typestore, inner) for _ in range(count if kind == 3 else 0)]


def default_message(typestore: Any, type_name: str, **fields: Any) -> Any:
    """A rosbags message of ``type_name`` with ``fields`` and ROS zero values for every other field."""
    _consts, field_defs = typestore.fielddefs[type_name]
    values = {name: fields[name] if name in fields else _default_value(typestore, d) for name, d in field_defs}
    return typestore.types[type_name](**values)


def make(messages: MessageSet, type_name: str, **fields: Any) -> Any:
    """A message with ``fields``, the rest at their defaults, in either flavour."""
    if messages.flavour == "rosbags":
        return default_message(messages.typestore, type_name, **fields)
    return messages.get(type_name)(**fields)


def _float32_array(messages: MessageSet, values: npt.ArrayLike) -> Any:
    """A ``float32[]`` field: numpy for rosbags, ``array('f')`` for rclpy (one copy, no per-element check)."""
    arr = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if messages.flavour == "rosbags":
        return arr
    import array

    out = array.array("f")
    out.frombytes(arr.tobytes())
    return out


def _pose(messages: MessageSet, xyz: Sequence[float], quat: Sequence[float] = (0.0, 0.0, 0.0, 1.0)) -> Any:
    point = make(messages, "geometry_msgs/msg/Point", x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))
    q = make(
        messages,
        "geometry_msgs/msg/Quaternion",
        x=float(quat[0]),
        y=float(quat[1]),
        z=float(quat[2]),
        w=float(quat[3]),
    )
    return make(messages, "geometry_msgs/msg/Pose", position=point, orientation=q)


def _vector3(messages: MessageSet, x: float, y: float, z: float) -> Any:
    return make(messages, "geometry_msgs/msg/Vector3", x=float(x), y=float(y), z=float(z))


# --- reading ----------------------------------------------------------------------------------------


def detections_from_msg(msg: Any) -> list[Detection2D]:
    """The detections of a ``vision_msgs/Detection2DArray`` (4.x field layout).

    Each detection takes its best-scoring hypothesis; one without hypotheses gets class ``""`` and
    score 0 (fusion still places it; the score threshold decides whether it counts).
    """
    out = []
    for det in msg.detections:
        best = max(det.results, key=lambda r: float(r.hypothesis.score), default=None)
        class_id = "" if best is None else str(best.hypothesis.class_id)
        score = 0.0 if best is None else float(best.hypothesis.score)
        bbox = det.bbox
        out.append(
            Detection2D(
                center_x=float(bbox.center.position.x),
                center_y=float(bbox.center.position.y),
                size_x=float(bbox.size_x),
                size_y=float(bbox.size_y),
                class_id=class_id,
                score=score,
            )
        )
    return out


def depth_from_msg(msg: Any) -> npt.NDArray[np.float32]:
    """Metric depth of a depth Image, float32 metres with NaN for unknown (REP-118).

    16UC1 / mono16 are millimetres with 0 = no measurement; 32FC1 is metres (NaN, and here also
    non-positive values, become NaN so that a driver writing 0 for "none" is not read as contact).

    Raises:
        UnsupportedEncodingError: any other encoding (colour, 8-bit ...).
        ImageDecodeError: a malformed image.
    """
    pixels, encoding = decode_image(msg)
    if encoding not in ("16UC1", "mono16", "32FC1"):
        raise UnsupportedEncodingError(f"depth image encoding '{encoding}' is not 16UC1 (mm) or 32FC1 (m)")
    if pixels.ndim != 2:
        raise ImageDecodeError(f"depth image must have one channel, got shape {pixels.shape} ({encoding})")
    if encoding in ("16UC1", "mono16"):
        depth = pixels.astype(np.float32) * np.float32(0.001)
        depth[pixels == 0] = np.nan
        return depth
    depth = np.array(pixels, dtype=np.float32)  # a copy: the controller keeps it beyond the message
    with np.errstate(invalid="ignore"):
        depth[~(depth > 0.0)] = np.nan
    return depth


# --- building ---------------------------------------------------------------------------------------


def detections_to_msg(messages: MessageSet, detections: Iterable[Detection2D], header: Any) -> Any:
    """A ``vision_msgs/Detection2DArray`` (4.x layout) with one hypothesis per detection: the inverse of
    :func:`detections_from_msg`, for the simulator's detector and for tests."""
    out = []
    for det in detections:
        hypothesis = make(messages, "vision_msgs/msg/ObjectHypothesis", class_id=det.class_id, score=float(det.score))
        result = make(messages, "vision_msgs/msg/ObjectHypothesisWithPose", hypothesis=hypothesis)
        position = make(messages, "vision_msgs/msg/Point2D", x=float(det.center_x), y=float(det.center_y))
        center = make(messages, "vision_msgs/msg/Pose2D", position=position, theta=0.0)
        bbox = make(
            messages, "vision_msgs/msg/BoundingBox2D", center=center, size_x=float(det.size_x), size_y=float(det.size_y)
        )
        out.append(make(messages, "vision_msgs/msg/Detection2D", header=header, results=[result], bbox=bbox, id=""))
    return make(messages, DETECTION2D_ARRAY, header=header, detections=out)


def obstacles_to_msg(messages: MessageSet, obstacles: Iterable[Obstacle], header: Any) -> Any:
    """A ``vision_msgs/Detection3DArray`` of the obstacles with a known distance, in the camera optical frame.

    An obstacle of unknown distance has no 3-D position, so it is left out rather than published at NaN.
    """
    detections = []
    for ob in obstacles:
        if not (ob.known and all(math.isfinite(v) for v in (*ob.center, *ob.size))):
            continue
        pose = _pose(messages, ob.center)
        hypothesis = make(messages, "vision_msgs/msg/ObjectHypothesis", class_id=ob.class_id, score=float(ob.score))
        with_pose = make(
            messages,
            "vision_msgs/msg/ObjectHypothesisWithPose",
            hypothesis=hypothesis,
            pose=make(messages, "geometry_msgs/msg/PoseWithCovariance", pose=pose),
        )
        bbox = make(messages, "vision_msgs/msg/BoundingBox3D", center=pose, size=_vector3(messages, *ob.size))
        detections.append(
            make(messages, "vision_msgs/msg/Detection3D", header=header, results=[with_pose], bbox=bbox, id="")
        )
    return make(messages, DETECTION3D_ARRAY, header=header, detections=detections)


def scan_to_msg(messages: MessageSet, scan: Scan, header: Any) -> Any:
    """A ``sensor_msgs/LaserScan`` of a virtual scan (same field names, no intensities)."""
    return make(
        messages,
        LASER_SCAN,
        header=header,
        angle_min=float(scan.angle_min),
        angle_max=float(scan.angle_max),
        angle_increment=float(scan.angle_increment),
        time_increment=float(scan.time_increment),
        scan_time=float(scan.scan_time),
        range_min=float(scan.range_min),
        range_max=float(scan.range_max),
        ranges=_float32_array(messages, scan.ranges),
        intensities=_float32_array(messages, ()),
    )


def twist_to_msg(messages: MessageSet, command: Command, header: Any = None) -> Any:
    """A ``geometry_msgs/Twist`` of the command, or a ``TwistStamped`` when a header is given."""
    twist = make(
        messages,
        TWIST,
        linear=_vector3(messages, command.linear_x, 0.0, 0.0),
        angular=_vector3(messages, 0.0, 0.0, command.angular_z),
    )
    if header is None:
        return twist
    return make(messages, TWIST_STAMPED, header=header, twist=twist)


def _color(messages: MessageSet, r: float, g: float, b: float, a: float = 0.8) -> Any:
    return make(messages, "std_msgs/msg/ColorRGBA", r=r, g=g, b=b, a=a)


def markers_to_msg(
    messages: MessageSet,
    obstacles: Iterable[Obstacle],
    command: Command,
    header: Any,
    person_classes: Sequence[str] = (),
    arrow_length_m: float = 1.0,
    pitch_rad: float = 0.0,
) -> Any:
    """A ``visualization_msgs/MarkerArray``: the obstacles and an arrow along the chosen heading.

    Everything is in the scan frame of ``header`` (level, z up, x along the camera's heading; see
    :mod:`navigation.frames`), so upright things are drawn upright whatever the camera pitch: obstacles as
    cubes (their optical-frame centres rotated by ``pitch_rad``), people as upright cylinders, and the
    heading arrow level from the camera. A DELETEALL first removes last tick's markers, so an obstacle that
    disappeared does not linger in RViz. The arrow is red when blind.
    """
    out = [make(messages, "visualization_msgs/msg/Marker", header=header, ns="obstacles", action=_DELETEALL)]
    known = [o for o in obstacles if o.known and all(math.isfinite(v) for v in o.center)]
    centers = optical_to_scan([o.center for o in known], pitch_rad) if known else np.zeros((0, 3))
    for i, (ob, center) in enumerate(zip(known, centers, strict=True)):
        person = ob.class_id in person_classes
        w, h, d = (v if math.isfinite(v) and v > 0 else 0.1 for v in ob.size)
        out.append(
            make(
                messages,
                "visualization_msgs/msg/Marker",
                header=header,
                ns="obstacles",
                id=i,
                type=_CYLINDER if person else _CUBE,
                action=_ADD,
                pose=_pose(messages, center),
                scale=_vector3(messages, d, w, h),  # x along the view (depth), y across (width), z up (height)
                color=_color(messages, 1.0, 0.2, 0.2) if person else _color(messages, 1.0, 0.6, 0.1),
                text=ob.class_id,
            )
        )
    heading = command.chosen_heading_rad
    tip = make(
        messages,
        "geometry_msgs/msg/Point",
        x=arrow_length_m * math.cos(heading),
        y=arrow_length_m * math.sin(heading),  # positive heading is left: +y
        z=0.0,
    )
    origin = make(messages, "geometry_msgs/msg/Point", x=0.0, y=0.0, z=0.0)
    out.append(
        make(
            messages,
            "visualization_msgs/msg/Marker",
            header=header,
            ns="heading",
            id=0,
            type=_ARROW,
            action=_ADD,
            pose=_pose(messages, (0.0, 0.0, 0.0)),
            scale=_vector3(messages, 0.03, 0.06, 0.1),  # shaft diameter, head diameter, head length
            color=_color(messages, 1.0, 0.0, 0.0, 1.0) if command.blind else _color(messages, 0.1, 0.9, 0.2, 1.0),
            points=[origin, tip],
            text=command.reason,
        )
    )
    return make(messages, MARKER_ARRAY, markers=out)


# --- transforms -------------------------------------------------------------------------------------


def transform_msg(messages: MessageSet, header: Any, child: str, xyz: Sequence[float], quat: Sequence[float]) -> Any:
    """A ``geometry_msgs/TransformStamped``: the pose of ``child`` in ``header.frame_id``."""
    translation = _vector3(messages, *xyz)
    rotation = make(
        messages,
        "geometry_msgs/msg/Quaternion",
        x=float(quat[0]),
        y=float(quat[1]),
        z=float(quat[2]),
        w=float(quat[3]),
    )
    transform = make(messages, "geometry_msgs/msg/Transform", translation=translation, rotation=rotation)
    stamped = "geometry_msgs/msg/TransformStamped"
    return make(messages, stamped, header=header, child_frame_id=child, transform=transform)


def tf_message(messages: MessageSet, transforms: Sequence[Any]) -> Any:
    """A ``tf2_msgs/TFMessage`` (what /tf and /tf_static carry)."""
    return make(messages, TF_MESSAGE, transforms=list(transforms))


def scan_header(messages: MessageSet, depth_header: Any, scan_frame: str) -> Any:
    """The header of the scan and markers of a depth frame: its stamp, in the scan frame."""
    return messages.header(stamp_ns(depth_header), scan_frame)


def scan_tf_msg(messages: MessageSet, depth_header: Any, scan_frame: str, pitch_rad: float) -> Any:
    """The ``/tf_static`` message: the camera's optical frame (``depth_header.frame_id``) -> ``scan_frame``."""
    transform = transform_msg(messages, depth_header, scan_frame, (0.0, 0.0, 0.0), scan_tf_rotation(pitch_rad))
    return tf_message(messages, [transform])
