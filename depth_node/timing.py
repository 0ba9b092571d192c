"""The one timing helper of the benchmarks: median wall time of a repeated call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[int], object], repeats: int, warmup: int = 0) -> float:
    """Median milliseconds of ``fn(i)`` over ``repeats`` calls (i = 0..repeats-1), after ``warmup`` calls of ``fn(0)``.

    The index lets a benchmark cycle through prepared inputs; the median keeps one slow call (a page
    fault, the other core's load) from moving the figure.
    """
    for _ in range(warmup):
        fn(0)
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(samples)
