"""Launch-file building blocks shared by ``launch/*.launch.py``: plain or managed nodes, RViz, Foxglove.

Imported by the launch files only (launch and launch_ros are not dependencies of the package's Python code).

``lifecycle:=true`` starts each node as a managed (lifecycle) node (``--managed``,
:mod:`depth_node.lifecycle`) that waits, unconfigured, for nav2_lifecycle_manager or ``ros2 lifecycle set``;
``lifecycle_autostart:=true`` lets the launch file itself configure it and activate it once configured. A
node is declared twice, one plain and one managed, under opposite conditions, so that the launch description
stays a plain list that tools (and the tests) can evaluate without running it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from launch.actions import DeclareLaunchArgument, EmitEvent, RegisterEventHandler
from launch.conditions import IfCondition
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

MANAGED_FLAG = "--managed"  # depth_node.node_main.MANAGED_FLAG (not imported: that pulls in no launch)


def arguments() -> list[DeclareLaunchArgument]:
    """The launch arguments every launch file of the package takes for lifecycle and visualisation."""
    return [
        DeclareLaunchArgument(
            "lifecycle",
            default_value="false",
            description="true: managed (lifecycle) nodes, unconfigured until configured and activated "
            "(nav2_lifecycle_manager, ros2 lifecycle set, or lifecycle_autostart)",
        ),
        DeclareLaunchArgument(
            "lifecycle_autostart",
            default_value="false",
            description="with lifecycle:=true, configure and activate the nodes from this launch file "
            "(leave false when nav2_lifecycle_manager manages them)",
        ),
        DeclareLaunchArgument("rviz", default_value="false", description="true: RViz with config/depth_node.rviz"),
        DeclareLaunchArgument("rviz_config", default_value="", description="RViz config; empty = the package's"),
        DeclareLaunchArgument(
            "foxglove",
            default_value="false",
            description="true: start foxglove_bridge (ws://localhost:8765) for config/depth_node.foxglove.json",
        ),
    ]


def truthy(name: str) -> list[Any]:
    """A Python expression (as substitution parts) that is True when launch argument ``name`` is true or 1."""
    return ["('", LaunchConfiguration(name), "'.lower() in ('true', '1'))"]


def when(*expressions: list[Any]) -> IfCondition:
    """A condition that holds when every expression (substitution parts, see :func:`truthy`) is True."""
    parts: list[Any] = []
    for i, expression in enumerate(expressions):
        parts += ([" and "] if i else []) + list(expression)
    return IfCondition(PythonExpression(parts))


def plain_or_managed(*condition: list[Any], name: str, namespace: Any, **node: Any) -> list[Any]:
    """One node of the package: plain unless ``lifecycle:=true``, managed (with autostart events) if it is.

    Args:
        condition: Further expressions both variants need (the depth launch file's "a model was given").
        name: Node name.
        namespace: Node namespace.
        node: The rest of launch_ros ``Node``'s arguments (package, executable, parameters, remappings...).
    """
    lifecycle = truthy("lifecycle")
    plain = Node(name=name, namespace=namespace, condition=when(*condition, ["not ", *lifecycle]), **node)
    own = list(node.pop("arguments", []))
    managed = LifecycleNode(
        name=name, namespace=namespace, arguments=[MANAGED_FLAG, *own], condition=when(*condition, lifecycle), **node
    )
    autostart = when(*condition, lifecycle, truthy("lifecycle_autostart"))
    configure = EmitEvent(
        event=ChangeState(
            lifecycle_node_matcher=matches_action(managed), transition_id=Transition.TRANSITION_CONFIGURE
        ),
        condition=autostart,
    )
    activate_when_configured = RegisterEventHandler(
        OnStateTransition(
            target_lifecycle_node=managed,
            start_state="configuring",  # not after a deactivate: a user's deactivate stays
            goal_state="inactive",
            entities=[
                EmitEvent(
                    event=ChangeState(
                        lifecycle_node_matcher=matches_action(managed), transition_id=Transition.TRANSITION_ACTIVATE
                    )
                )
            ],
        ),
        condition=autostart,
    )
    return [plain, managed, activate_when_configured, configure]


def viewers(share: Path) -> list[Any]:
    """RViz (``rviz:=true``) with the package's config, and foxglove_bridge (``foxglove:=true``)."""
    default = str(share / "config" / "depth_node.rviz")
    config = PythonExpression(["'", LaunchConfiguration("rviz_config"), "' or '", default, "'"])
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=["-d", config],
        parameters=[{"use_sim_time": LaunchConfiguration("use_sim_time")}],
        condition=when(truthy("rviz")),
        output="screen",
    )
    foxglove = Node(
        package="foxglove_bridge",
        executable="foxglove_bridge",
        name="foxglove_bridge",
        parameters=[{"port": 8765, "use_sim_time": LaunchConfiguration("use_sim_time")}],
        condition=when(truthy("foxglove")),
        output="screen",
    )
    return [rviz, foxglove]
