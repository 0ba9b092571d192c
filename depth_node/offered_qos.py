"""The QoS each topic of the package is published with, as plain data (no ROS import).

A bag records, per topic, the QoS its publishers *offered* (rosbag2's ``offered_qos_profiles``), and
``ros2 bag play`` republishes with it: without it ``/tf_static`` comes back volatile and a viewer that
subscribes after its one message never gets the camera's frames. The bags this package writes (sim,
``sim --ros``, replay, the demo drive) are not recorded by rosbag2 but written directly, so they take
the profiles from here; ``tests/ros/test_offered_qos_ros.py`` checks over DDS that the live nodes offer
exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfferedQos:
    """One publisher's QoS (history is always keep-last, deadlines and lifespans are the defaults).

    Attributes:
        depth: History depth.
        reliability: ``reliable`` or ``best_effort``.
        durability: ``volatile`` or ``transient_local`` (latched: late subscribers get the last messages).
    """

    depth: int
    reliability: str = "reliable"
    durability: str = "volatile"


# The depth node's outputs (depth_node/node.py publishes them with depth 5) and the detector's debug image.
SENSOR_OUTPUT = OfferedQos(depth=5)
# Static transforms are latched (tf2's convention; obstacle_avoidance and the simulator both publish so).
LATCHED = OfferedQos(depth=10, durability="transient_local")
# Everything else: rclpy's create_publisher(type, topic, 10).
DEFAULT = OfferedQos(depth=10)

_BY_SUFFIX: dict[str, OfferedQos] = {
    "tf_static": LATCHED,
    "depth/image_raw": SENSOR_OUTPUT,
    "depth/camera_info": SENSOR_OUTPUT,
    "depth/points": SENSOR_OUTPUT,
    "depth/colored": SENSOR_OUTPUT,
    "detections/image": SENSOR_OUTPUT,
}


def offered_qos(topic: str) -> OfferedQos:
    """The QoS the package's publisher of ``topic`` offers, matched on the end of the name (any namespace).

    ``/robot1/depth/points`` is the depth node's cloud, ``/tf_static`` latched; a topic the package does
    not name (a copied input, ``/clock``) gets :data:`DEFAULT`, what ``create_publisher(..., 10)`` offers.
    """
    name = topic.strip("/")
    for suffix, qos in _BY_SUFFIX.items():
        if name == suffix or name.endswith("/" + suffix):
            return qos
    return DEFAULT
