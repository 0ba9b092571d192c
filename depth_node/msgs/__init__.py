"""The one message layer: ROS messages <-> core types, by family, written for handed-in message classes.

Every conversion takes a :class:`MessageSet` (rclpy's generated classes live, a rosbags typestore in the
replay, the simulators and the tests), so the live nodes and the tools build the same messages.

Families: :mod:`~depth_node.msgs.message_set` (the classes, headers, stamps, any message with ROS zero
values), :mod:`~depth_node.msgs.image` (Image, CompressedImage, CameraInfo, depth), the point cloud
(:meth:`MessageSet.point_cloud`), :mod:`~depth_node.msgs.scan` (LaserScan), :mod:`~depth_node.msgs.vision`
(vision_msgs), :mod:`~depth_node.msgs.geometry` (twists, poses, TF), :mod:`~depth_node.msgs.markers`
(MarkerArray) and :mod:`~depth_node.msgs.typestore` (registering vision_msgs in a rosbags typestore).
The names most callers need are re-exported here.
"""

from depth_node.msgs.geometry import (
    TF_MESSAGE,
    TWIST,
    TWIST_STAMPED,
    goal_from_msg,
    odometry_from_msg,
    pose,
    scan_header,
    scan_tf_msg,
    tf_message,
    transform_msg,
    twist_to_msg,
    vector3,
)
from depth_node.msgs.image import calibration_from_info, camera_from_info, decode_image, depth_from_msg, is_compressed
from depth_node.msgs.markers import MARKER_ARRAY, markers_to_msg
from depth_node.msgs.message_set import MessageSet, default_message, float32_array, make, stamp_ns
from depth_node.msgs.scan import LASER_SCAN, scan_to_msg
from depth_node.msgs.typestore import has_types, register_from_typestore, register_msg_dir
from depth_node.msgs.vision import (
    DETECTION2D_ARRAY,
    DETECTION3D_ARRAY,
    VISION_PACKAGE,
    detections_from_msg,
    detections_to_msg,
    obstacles_to_msg,
)

__all__ = [
    "DETECTION2D_ARRAY",
    "DETECTION3D_ARRAY",
    "LASER_SCAN",
    "MARKER_ARRAY",
    "TF_MESSAGE",
    "TWIST",
    "TWIST_STAMPED",
    "VISION_PACKAGE",
    "MessageSet",
    "calibration_from_info",
    "camera_from_info",
    "decode_image",
    "default_message",
    "depth_from_msg",
    "detections_from_msg",
    "detections_to_msg",
    "float32_array",
    "goal_from_msg",
    "has_types",
    "is_compressed",
    "make",
    "markers_to_msg",
    "obstacles_to_msg",
    "odometry_from_msg",
    "pose",
    "register_from_typestore",
    "register_msg_dir",
    "scan_header",
    "scan_tf_msg",
    "scan_to_msg",
    "stamp_ns",
    "tf_message",
    "transform_msg",
    "twist_to_msg",
    "vector3",
]
