"""depth_node: monocular metric depth and point clouds for ROS 2.

The package is split in three layers (see README): a ROS-free core (this package's plain modules),
a message layer over handed-in message classes (:mod:`depth_node.msgs`), and thin shells (the rclpy
node, the CLI, bag replay). Nothing here imports rclpy except :mod:`depth_node.node`.
"""

__version__ = "0.1.0"
