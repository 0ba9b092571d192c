"""sensor_msgs/LaserScan: the virtual scan."""

from __future__ import annotations

from typing import Any

from depth_node.msgs.message_set import MessageSet, float32_array, make
from depth_node.types import Scan

LASER_SCAN = "sensor_msgs/msg/LaserScan"


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
        ranges=float32_array(messages, scan.ranges),
        intensities=float32_array(messages, ()),
    )
