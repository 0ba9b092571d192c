"""Newest-frame-only processing on a worker thread, and frame counts by reason (no ROS; the node shells use it).

A camera publishes faster than a network may run. The subscription callback only hands the frame to
:meth:`LatestFrameWorker.submit`, which replaces a frame still waiting (counted as ``dropped_busy``),
and one worker thread runs the node's processing on the newest frame. So latency never queues up, and
the executor thread stays free for the other callbacks. Every frame ends up counted under one reason in
a :class:`FrameCounts` (``processed``, ``dropped_busy``, ``idle_no_subscribers``, a failure's reason...),
which the node publishes on ``/diagnostics`` and logs.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

RECENT_TIMES = 200  # processing times kept for the median: the recent ones matter, memory stays flat
# How long stop() waits for the item in progress. Longer than one inference of a large model on a loaded
# CPU (a join shorter than one inference let a late result be published on destroyed handles), short
# enough that Ctrl-C still ends the node within a few seconds.
STOP_TIMEOUT_S = 5.0


class FrameCounts:
    """Thread-safe cumulative counts by reason and the recent processing times of one node."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._times_ms: list[float] = []

    def count(self, reason: str, total_ms: float | None = None) -> None:
        """Count one frame under ``reason``; with ``total_ms`` also record its processing time."""
        with self._lock:
            self._counts[reason] += 1
            if total_ms is not None:
                self._times_ms.append(total_ms)
                del self._times_ms[:-RECENT_TIMES]

    def snapshot(self) -> tuple[dict[str, int], float]:
        """The counts since start and the median of the recent processing times (NaN before any)."""
        with self._lock:
            times = list(self._times_ms)
            return dict(self._counts), statistics.median(times) if times else float("nan")


class LatestFrameWorker:
    """One worker thread that processes the newest submitted item; older waiting items are dropped."""

    def __init__(
        self,
        process: Callable[[Any], None],
        name: str,
        counts: FrameCounts,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Start the worker.

        Args:
            process: Called on the worker thread with each item taken; it counts its own outcome.
            name: Thread name (shows in debuggers and ``py-spy``).
            counts: Where ``dropped_busy`` and ``internal_error`` are counted.
            on_error: Told of an exception escaping ``process`` (counted as ``internal_error``; the worker
                goes on with the next item whatever one frame raised).
        """
        self._process = process
        self._counts = counts
        self._on_error = on_error
        self._lock = threading.Condition()
        self._pending: Any = None
        self._has_pending = False
        self._running = True
        self._output_lock = threading.Lock()
        self._closed = False
        self.busy = False  # an item is being processed (read by a shutdown that wants to say why it waits)
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> None:
        """Make ``item`` the next to process, dropping (and counting) one that was still waiting."""
        with self._lock:
            if self._has_pending:
                self._counts.count("dropped_busy")
            self._pending, self._has_pending = item, True
            self._lock.notify()

    @contextlib.contextmanager
    def output(self) -> Iterator[bool]:
        """Hold while publishing a result; yields False once :meth:`stop` has returned (publish nothing then).

        So a result that comes after the worker was given up on (an inference longer than ``stop``'s
        timeout) is never published on the handles the node destroys after ``stop``.
        """
        with self._output_lock:
            yield not self._closed

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop the worker after the item in progress (a waiting one is not processed).

        Returns:
            True when the worker thread ended within ``timeout_s``. Either way, no :meth:`output` block
            runs after this returns, so the caller may destroy what the processing publishes on.
        """
        with self._lock:
            self._running = False
            self._lock.notify()
        self._thread.join(timeout=timeout_s)
        with self._output_lock:
            self._closed = True
        return not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            with self._lock:
                while self._running and not self._has_pending:
                    self._lock.wait(timeout=0.5)
                if not self._running:
                    return
                item, self._pending, self._has_pending = self._pending, None, False
                self.busy = True
            try:
                self._process(item)
            except Exception as exc:  # a bug in one frame's processing must not end the node's processing
                self._counts.count("internal_error")
                if self._on_error is not None:
                    self._on_error(exc)
            finally:
                self.busy = False


def stop_worker(worker: LatestFrameWorker | None, logger: Any) -> None:
    """Stop a node's inference worker before its handles go away (shutdown, or a managed node's cleanup).

    The worker finishes the frame in progress and nothing is published after this returns; ``None`` (a managed
    node that was never configured) is nothing to stop.
    """
    if worker is None:
        return
    if worker.busy:
        logger.info("stopping: waiting for the frame in progress")
    if not worker.stop():
        logger.warning("inference still running at shutdown: its result is not published")
