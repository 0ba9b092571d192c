"""geometry_msgs and tf2_msgs family: poses, twists, transforms and the scan frame's static transform."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from depth_node.frames import scan_tf_rotation, yaw_from_quaternion
from depth_node.msgs.message_set import MessageSet, make, stamp_ns
from depth_node.types import Command

TWIST = "geometry_msgs/msg/Twist"
TWIST_STAMPED = "geometry_msgs/msg/TwistStamped"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"


def quaternion(messages: MessageSet, quat: Sequence[float]) -> Any:
    """A ``geometry_msgs/Quaternion`` of ``quat`` (x, y, z, w)."""
    x, y, z, w = (float(v) for v in quat)
    return make(messages, "geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w)


def pose(messages: MessageSet, xyz: Sequence[float], quat: Sequence[float] = (0.0, 0.0, 0.0, 1.0)) -> Any:
    """A ``geometry_msgs/Pose`` at ``xyz`` with orientation ``quat`` (x, y, z, w)."""
    point = make(messages, "geometry_msgs/msg/Point", x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))
    return make(messages, "geometry_msgs/msg/Pose", position=point, orientation=quaternion(messages, quat))


def odometry_from_msg(msg: Any) -> tuple[int, str, float, float, float]:
    """(stamp ns, frame_id, x, y, yaw) of a ``nav_msgs/Odometry`` (the planar pose the navigation uses)."""
    q, position = msg.pose.pose.orientation, msg.pose.pose.position
    yaw = yaw_from_quaternion(q.x, q.y, q.z, q.w)
    return stamp_ns(msg.header), str(msg.header.frame_id), float(position.x), float(position.y), yaw


def goal_from_msg(msg: Any) -> tuple[int, str, float, float]:
    """(stamp ns, frame_id, x, y) of a ``geometry_msgs/PoseStamped`` goal (RViz's "2D Goal Pose")."""
    position = msg.pose.position
    return stamp_ns(msg.header), str(msg.header.frame_id), float(position.x), float(position.y)


def vector3(messages: MessageSet, x: float, y: float, z: float) -> Any:
    """A ``geometry_msgs/Vector3``."""
    return make(messages, "geometry_msgs/msg/Vector3", x=float(x), y=float(y), z=float(z))


def twist_to_msg(messages: MessageSet, command: Command, header: Any = None) -> Any:
    """A ``geometry_msgs/Twist`` of the command, or a ``TwistStamped`` when a header is given."""
    twist = make(
        messages,
        TWIST,
        linear=vector3(messages, command.linear_x, 0.0, 0.0),
        angular=vector3(messages, 0.0, 0.0, command.angular_z),
    )
    if header is None:
        return twist
    return make(messages, TWIST_STAMPED, header=header, twist=twist)


def transform_msg(messages: MessageSet, header: Any, child: str, xyz: Sequence[float], quat: Sequence[float]) -> Any:
    """A ``geometry_msgs/TransformStamped``: the pose of ``child`` in ``header.frame_id``."""
    translation = vector3(messages, *xyz)
    transform = make(
        messages, "geometry_msgs/msg/Transform", translation=translation, rotation=quaternion(messages, quat)
    )
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
