"""Console-script entry points of the ROS nodes (``ros2 run depth_node depth_node`` and friends).

Kept apart from the node modules, which import rclpy and the message packages at the top: started without
a ROS 2 runtime, an entry point here says so in one line instead of ending in an ImportError traceback.
"""

from __future__ import annotations

from depth_node.node_params import run_node


def depth_node(args: list[str] | None = None) -> None:
    """``depth_node``: camera frames in, metric depth, its CameraInfo and a point cloud out."""
    run_node("depth_node", "depth_node.node", "DepthNode", args)


def obstacle_avoidance(args: list[str] | None = None) -> None:
    """``obstacle_avoidance``: depth (and detections) in, cmd_vel, scan and obstacles out."""
    run_node("obstacle_avoidance", "navigation.node", "ObstacleAvoidanceNode", args)


def detector(args: list[str] | None = None) -> None:
    """``detector``: camera frames in, vision_msgs detections out."""
    run_node("detector", "depth_node.detector_node", "DetectorNode", args)
