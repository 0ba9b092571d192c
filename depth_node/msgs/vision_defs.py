"""The vision_msgs (ROS 2 Humble, 4.x) message layouts this package reads and writes, built in.

rosbags ships the core ROS 2 message definitions but not vision_msgs, and a bag only carries the definitions
of the types it holds. The simulator writes ``/detections`` and ``/obstacles`` into new bags on machines
that have no ROS installed, so it needs the field layouts themselves. These are the interface (field names
and types in wire order), which is all CDR and the MCAP schema need; :func:`register` adds them to a
rosbags typestore. A directory of the real ``.msg`` files (``--msg-dir``) or a bag's own definitions take
precedence where the replay runner has them.
"""

from __future__ import annotations

from typing import Any

PACKAGE = "vision_msgs"

# Field lists of vision_msgs 4.x (the version released for Humble and later), in wire order.
DEFINITIONS: dict[str, str] = {
    "Point2D": "float64 x\nfloat64 y\n",
    "Pose2D": "vision_msgs/Point2D position\nfloat64 theta\n",
    "BoundingBox2D": "vision_msgs/Pose2D center\nfloat64 size_x\nfloat64 size_y\n",
    "BoundingBox3D": "geometry_msgs/Pose center\ngeometry_msgs/Vector3 size\n",
    "ObjectHypothesis": "string class_id\nfloat64 score\n",
    "ObjectHypothesisWithPose": "vision_msgs/ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n",
    "Detection2D": (
        "std_msgs/Header header\nvision_msgs/ObjectHypothesisWithPose[] results\n"
        "vision_msgs/BoundingBox2D bbox\nstring id\n"
    ),
    "Detection2DArray": "std_msgs/Header header\nvision_msgs/Detection2D[] detections\n",
    "Detection3D": (
        "std_msgs/Header header\nvision_msgs/ObjectHypothesisWithPose[] results\n"
        "vision_msgs/BoundingBox3D bbox\nstring id\n"
    ),
    "Detection3DArray": "std_msgs/Header header\nvision_msgs/Detection3D[] detections\n",
}


def register(typestore: Any) -> list[str]:
    """Add the built-in vision_msgs types to a rosbags typestore (types it already knows are kept).

    Returns:
        The type names added.
    """
    from rosbags.typesys import get_types_from_msg

    types: dict[str, Any] = {}
    for name, text in DEFINITIONS.items():
        full = f"{PACKAGE}/msg/{name}"
        if full not in typestore.fielddefs:
            types.update(get_types_from_msg(text, full))
    if types:
        typestore.register(types)
    return sorted(types)


def typestore_with_vision() -> Any:
    """A fresh ROS 2 Humble rosbags typestore that also knows vision_msgs."""
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    register(store)
    return store
