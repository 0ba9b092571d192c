"""A node's frame counts on ``/diagnostics`` and in the log (rclpy messages; used by the node shells).

The counts are cumulative since start, so a monitor (``ros2 topic echo /diagnostics``, rqt_robot_monitor,
Foxglove) reads them without missing a period; the status is WARN when frames failed since the last
message, and the log line says what happened since the last line.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from depth_node.frame_worker import FrameCounts

# Reasons that are part of normal operation; any other reason in a period makes the status WARN.
NORMAL_REASONS = frozenset({"processed", "dropped_busy", "idle_no_subscribers"})
LOG_PERIOD_S = 10.0


class CountsReporter:
    """Publishes one node's :class:`FrameCounts` as a DiagnosticStatus named after the node, and logs them."""

    def __init__(self, node: Any, counts: FrameCounts, period_s: float) -> None:
        """Start the timers: ``/diagnostics`` every ``period_s`` (0 = never), the log every 10 s."""
        self._node = node
        self.counts = counts
        self._publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._logged: Counter[str] = Counter()
        self._published: Counter[str] = Counter()
        if period_s > 0:
            node.create_timer(period_s, self.publish)
        node.create_timer(LOG_PERIOD_S, self.log)

    def publish(self) -> None:
        """Publish the cumulative counts as one DiagnosticStatus; WARN when frames failed since last time."""
        counts, p50 = self.counts.snapshot()
        failed = {r: n for r, n in (Counter(counts) - self._published).items() if r not in NORMAL_REASONS}
        self._published = Counter(counts)
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN if failed else DiagnosticStatus.OK,
            name=f"{self._node.get_fully_qualified_name()}: frames",
            message=f"dropped {failed}" if failed else "ok",
            hardware_id=self._node.get_name(),
            values=[KeyValue(key=k, value=str(v)) for k, v in sorted(counts.items())]
            + [KeyValue(key="processing_ms_p50", value=f"{p50:.2f}")],
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(msg)

    def log(self) -> None:
        """Log what happened since the last log line (nothing when nothing happened)."""
        counts, p50 = self.counts.snapshot()
        new = Counter(counts) - self._logged
        self._logged = Counter(counts)
        if new:
            self._node.get_logger().info(f"frames: {dict(new)}; processing p50 {p50:.1f} ms")
