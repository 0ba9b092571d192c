"""Newest-frame-only processing on a worker thread for a node shell (no ROS; the detector node uses it).

A camera publishes faster than a network may run. The subscription callback only hands the frame to
:meth:`LatestFrameWorker.submit`, which replaces a frame still waiting (counted as ``dropped_busy``),
and one worker thread runs the node's processing on the newest frame. So latency never queues up, and
the executor thread stays free for the other callbacks. Counters by reason and the processing times
feed the node's periodic log line.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any


class LatestFrameWorker:
    """One worker thread that processes the newest submitted item; older waiting items are dropped."""

    def __init__(self, process: Callable[[Any], None], name: str) -> None:
        """Start the worker.

        Args:
            process: Called on the worker thread with each item taken; it reports through :meth:`count`.
                An exception escaping it is counted as ``worker_error`` and the worker goes on.
            name: Thread name (shows in debuggers and ``py-spy``).
        """
        self._process = process
        self._lock = threading.Condition()
        self._pending: Any = None
        self._has_pending = False
        self._running = True
        self.counts: Counter[str] = Counter()
        self._total_ms: list[float] = []
        self.last_error = ""
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> None:
        """Make ``item`` the next to process, dropping (and counting) one that was still waiting."""
        with self._lock:
            if self._has_pending:
                self.counts["dropped_busy"] += 1
            self._pending, self._has_pending = item, True
            self._lock.notify()

    def count(self, reason: str, total_ms: float | None = None) -> None:
        """Count one item under ``reason``; with ``total_ms`` also record its processing time."""
        with self._lock:
            self.counts[reason] += 1
            if total_ms is not None:
                self._total_ms.append(total_ms)

    def take_stats(self) -> tuple[dict[str, int], list[float]]:
        """(counts since start, processing times since the last call): the times are handed over once."""
        with self._lock:
            counts, times, self._total_ms = dict(self.counts), self._total_ms, []
        return counts, times

    def stats_line(self, period_s: float) -> str | None:
        """The node's periodic log line, or None before anything was counted."""
        counts, times = self.take_stats()
        if not counts:
            return None
        p50 = sorted(times)[len(times) // 2] if times else float("nan")
        line = f"frames: {counts}; total p50 {p50:.1f} ms over the last {period_s:.0f} s"
        return f"{line}; last worker error: {self.last_error}" if self.last_error else line

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the worker after the item in progress (a waiting one is not processed)."""
        with self._lock:
            self._running = False
            self._lock.notify()
        self._thread.join(timeout=timeout_s)

    def _work(self) -> None:
        while True:
            with self._lock:
                while self._running and not self._has_pending:
                    self._lock.wait(timeout=0.5)
                if not self._running:
                    return
                item, self._pending, self._has_pending = self._pending, None, False
            try:
                self._process(item)
            except Exception as exc:  # a bug in one frame's processing must not end the node's processing
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.count("worker_error")
