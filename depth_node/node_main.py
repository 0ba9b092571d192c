"""Console-script entry points of the ROS nodes (``ros2 run depth_node depth_node`` and friends).

Kept apart from the node modules, which import rclpy and the message packages at the top: started without
a ROS 2 runtime, an entry point here says so in one line instead of ending in an ImportError traceback.

``--managed`` (before ``--ros-args``; the launch files pass it with ``lifecycle:=true``) starts the node as a
managed (lifecycle) node that waits, unconfigured, for ``configure`` and ``activate``
(:mod:`depth_node.lifecycle`); without it the node is a plain one that runs at once, as before.
"""

from __future__ import annotations

import sys

from depth_node.node_params import run_node

MANAGED_FLAG = "--managed"


def managed(args: list[str] | None) -> bool:
    """True when ``--managed`` comes among the node's own arguments (those before ``--ros-args``)."""
    argv = sys.argv[1:] if args is None else list(args)
    own = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    return MANAGED_FLAG in own


def depth_node(args: list[str] | None = None) -> None:
    """``depth_node``: camera frames in, metric depth, its CameraInfo and a point cloud out."""
    run_node("depth_node", "depth_node.node", "ManagedDepthNode" if managed(args) else "DepthNode", args)


def obstacle_avoidance(args: list[str] | None = None) -> None:
    """``obstacle_avoidance``: depth (and detections) in, cmd_vel, scan and obstacles out."""
    if managed(args):
        run_node("obstacle_avoidance", "navigation.managed_node", "ManagedObstacleAvoidanceNode", args)
    else:
        run_node("obstacle_avoidance", "navigation.node", "ObstacleAvoidanceNode", args)


def detector(args: list[str] | None = None) -> None:
    """``detector``: camera frames in, vision_msgs detections out."""
    run_node("detector", "depth_node.detector_node", "ManagedDetectorNode" if managed(args) else "DetectorNode", args)
