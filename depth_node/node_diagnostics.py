"""Frame counts of a node, by reason, on ``/diagnostics`` and in the log (used by the node shells).

Every frame a node receives ends up under one reason (``processed``, ``dropped_busy``, ``bad_image``...).
The counts are cumulative since start, so a monitor (``ros2 topic echo /diagnostics``, rqt_robot_monitor,
Foxglove) reads them without missing a period; the log line says what happened in the last period.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

# Reasons that are part of normal operation; any other reason in a period makes the status WARN.
NORMAL_REASONS = frozenset({"processed", "dropped_busy", "idle_no_subscribers"})


class CountsReporter:
    """Thread-safe counters of one node, published as one DiagnosticStatus named after the node."""

    def __init__(self, node: Any, name: str, publisher: Any) -> None:
        self._node = node
        self._name = name
        self._publisher = publisher
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self._logged: Counter[str] = Counter()
        self._published: Counter[str] = Counter()
        self._latency_ms: list[float] = []

    def count(self, reason: str, latency_ms: float | None = None) -> None:
        """Count one frame under ``reason`` (and its processing time, for processed frames)."""
        with self._lock:
            self.counts[reason] += 1
            if latency_ms is not None:
                self._latency_ms.append(latency_ms)
                del self._latency_ms[:-200]  # the recent median is what matters; memory stays flat

    def snapshot(self) -> tuple[dict[str, int], float]:
        """The cumulative counts and the median processing time of the recent frames (NaN if none)."""
        with self._lock:
            times = list(self._latency_ms)
            return dict(self.counts), statistics.median(times) if times else float("nan")

    def publish(self) -> None:
        """Publish the cumulative counts as one DiagnosticStatus; WARN when frames failed since last time."""
        counts, p50 = self.snapshot()
        new = Counter(counts) - self._published
        self._published = Counter(counts)
        failed = {reason: n for reason, n in new.items() if reason not in NORMAL_REASONS}
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN if failed else DiagnosticStatus.OK,
            name=f"{self._node.get_fully_qualified_name()}: frames",
            message=f"dropped {failed}" if failed else "ok",
            hardware_id=self._name,
            values=[KeyValue(key=k, value=str(v)) for k, v in sorted(counts.items())]
            + [KeyValue(key="processing_ms_p50", value=f"{p50:.2f}")],
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(msg)

    def log(self) -> None:
        """Log what happened since the last log line (nothing when nothing happened)."""
        counts, p50 = self.snapshot()
        new = Counter(counts) - self._logged
        self._logged = Counter(counts)
        if new:
            self._node.get_logger().info(f"frames: {dict(new)}; processing p50 {p50:.1f} ms")
