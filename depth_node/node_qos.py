"""Subscriptions whose reliability and durability follow the publishers of their topic (rclpy; node shells).

A reliable subscription cannot connect to a best-effort publisher, and a best-effort one loses frames
that a reliable publisher would have delivered: with 640x480 rgb8 at 10 Hz on one host, Fast DDS dropped
38 to 60 % of the frames to a best-effort reader, and none to a reliable one. So, in ``auto``, the
subscription starts reliable and, like rosbag2's recorder, looks at the publishers that appear: if any of
them offers only best effort, it is re-created best-effort (which matches every publisher), and back to
reliable when all of them are reliable again. ``reliable`` and ``best_effort`` pin the choice.

Durability is matched the same way, always: a volatile subscription never receives what a latched
(``transient_local``) publisher sent before it joined, so a calibration published once, before the node
started, would never arrive; a transient_local subscription cannot connect to a volatile publisher. So
the subscription starts volatile and becomes transient_local while every publisher offers it (re-created,
it then receives the publisher's kept messages), as rosbag2's recorder does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

RELIABILITY_CHOICES = ("auto", "reliable", "best_effort")
CHECK_PERIOD_S = 0.25


def profile(
    reliability: ReliabilityPolicy, depth: int, durability: DurabilityPolicy = DurabilityPolicy.VOLATILE
) -> QoSProfile:
    """A keep-last profile of ``depth`` with the given reliability and durability (volatile by default)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability, durability=durability)


def wanted_reliability(offered: list[ReliabilityPolicy]) -> ReliabilityPolicy | None:
    """Reliable when every publisher offers it, best effort when any does not, None without publishers."""
    if not offered:
        return None
    if all(r == ReliabilityPolicy.RELIABLE for r in offered):
        return ReliabilityPolicy.RELIABLE
    return ReliabilityPolicy.BEST_EFFORT


def wanted_durability(offered: list[DurabilityPolicy]) -> DurabilityPolicy | None:
    """Transient local when every publisher offers it, volatile when any does not, None without publishers."""
    if not offered:
        return None
    if all(d == DurabilityPolicy.TRANSIENT_LOCAL for d in offered):
        return DurabilityPolicy.TRANSIENT_LOCAL
    return DurabilityPolicy.VOLATILE


class MatchedSubscription:
    """One subscription of ``node`` that follows its publishers' reliability and durability.

    The subscription is created only once a publisher of the topic is known to this node, with the QoS
    that publisher set asks for. Besides saving a re-creation, that order is what lets the first messages
    through: a reader created after its participant discovered the writer knows the writer from the start;
    a reader created before may receive the writer's samples before it has matched the writer, and a
    reliable reader then holds every later sample until the writer's next heartbeat (3 s in Fast DDS) to
    fill the gap. So a camera that publishes from the moment it sees the node lost its first seconds of
    CameraInfo, and the frames with them (``no_camera_info``).
    """

    def __init__(
        self,
        node: Node,
        msg_type: Any,
        topic: str,
        callback: Callable[[Any], None],
        depth: int,
        reliability: str = "auto",
        newest_only: bool = False,
    ) -> None:
        """Subscribe once a publisher is known, and follow the publishers from then on.

        Args:
            node: The node that subscribes.
            msg_type: The message class.
            topic: Topic name (relative names resolve in the node's namespace, remaps apply).
            callback: Called with each message.
            depth: History depth.
            reliability: ``auto``, ``reliable`` or ``best_effort`` (see the module).
            newest_only: Only the newest message matters (CameraInfo: the node keeps the last one). In
                ``auto`` such a topic is read best effort unless its publishers latch: a reliable reader
                holds every newer message behind a lost one until the writer's next heartbeat (3 s in Fast
                DDS); seen on CameraInfo sent next to large images, it cost the frames of 3 s at a time.
        """
        if reliability not in RELIABILITY_CHOICES:
            raise ValueError(f"reliability {reliability!r}: expected one of {RELIABILITY_CHOICES}")
        self._node = node
        self._args = (msg_type, callback)
        self._depth = depth
        self._auto_reliability = reliability == "auto"
        self._newest_only = newest_only
        self.reliability = ReliabilityPolicy.BEST_EFFORT if reliability == "best_effort" else ReliabilityPolicy.RELIABLE
        self.durability = DurabilityPolicy.VOLATILE
        self._sub: Any = None
        self.topic_name: str = node.resolve_topic_name(topic)
        # A steady clock: with use_sim_time a node timer would wait for /clock, which may never come.
        self._timer = node.create_timer(CHECK_PERIOD_S, self._match, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._match()

    @property
    def subscribed(self) -> bool:
        """Whether the subscription exists (a publisher has been seen)."""
        return self._sub is not None

    def _match(self) -> None:
        infos = self._node.get_publishers_info_by_topic(self.topic_name)
        if not infos:
            return  # keep what we have (a publisher that went away may come back with the same QoS)
        reliability = self.reliability
        if self._auto_reliability:
            reliability = wanted_reliability([info.qos_profile.reliability for info in infos]) or reliability
        durability = wanted_durability([info.qos_profile.durability for info in infos]) or self.durability
        if self._auto_reliability and self._newest_only and durability != DurabilityPolicy.TRANSIENT_LOCAL:
            reliability = ReliabilityPolicy.BEST_EFFORT
        if self._sub is not None and (reliability, durability) == (self.reliability, self.durability):
            return
        first = self._sub is None
        if self._sub is not None:
            self._node.destroy_subscription(self._sub)
        msg_type, callback = self._args
        self._sub = self._node.create_subscription(
            msg_type, self.topic_name, callback, profile(reliability, self._depth, durability)
        )
        self.reliability, self.durability = reliability, durability
        qos = f"{reliability.name.lower()}, {durability.name.lower()}"
        done = "subscribed" if first else "subscription now"
        self._node.get_logger().info(f"{self.topic_name}: publishers offer {qos}; {done} {qos}")
