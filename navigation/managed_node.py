"""``obstacle_avoidance --managed``: the node as a managed (lifecycle) node, for nav2_lifecycle_manager and launch.

The wiring is :class:`navigation.node.ObstacleAvoidanceNode`'s; :class:`depth_node.lifecycle.ManagedMixin`
runs it on the lifecycle transitions. What is particular to a velocity source: when deactivated (or shut down
while active) it sends one zero twist before its publishers go silent, so a base without a command timeout
does not keep driving the last command, and it marks its depth as failed, so that after the next ``activate``
it drives only on a depth frame taken after that (never on the frame it saw before it was deactivated).
"""

from __future__ import annotations

from rclpy.lifecycle import LifecycleNode

from depth_node import msgs as ros_msgs
from depth_node.lifecycle import ManagedMixin
from depth_node.types import Command
from navigation.node import ObstacleAvoidanceNode


class ManagedObstacleAvoidanceNode(ManagedMixin, ObstacleAvoidanceNode, LifecycleNode):  # type: ignore[misc]
    """obstacle_avoidance as a lifecycle node; deactivated, it commands nothing."""

    def _before_deactivate(self) -> None:
        """One zero twist while cmd_vel is still enabled; then blind until a fresh depth frame."""
        now_ns = self.get_clock().now().nanoseconds
        reason = "node deactivated (lifecycle)"
        self.core.on_failed(now_ns, reason)
        p = self.params
        header = self.m.header(now_ns, p.base_frame) if p.cmd_vel_stamped else None
        self.pub_cmd.publish(ros_msgs.twist_to_msg(self.m, Command.stop(reason), header))
