"""``depth-node bench --soak SECONDS``: the depth node's processor and the controller on a long stream.

A leak or a slowdown shows only over time: a cache keyed by something that changes every frame, a
list that is appended to and never trimmed. The soak feeds a stream of fresh messages (new header,
new data buffer, a moving image) through :class:`depth_node.processing.DepthFrameProcessor` and the
depth it yields into :class:`navigation.controller.Controller`, as the two live nodes would, at the
camera's pace (``--soak-rate``, 30 Hz by default; 0 = as fast as possible). It prints one JSON line per
phase (start, middle, end: the process RSS and latency percentiles of that stretch) as it goes, and a
summary with the RSS sampled every tenth of the run.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

PHASES = ("start", "middle", "end")
PERCENTILES = (50, 90, 99)
# Length of each measured phase, as a fraction of the run (and at most this many seconds).
PHASE_FRACTION = 0.1
PHASE_MAX_S = 60.0


def rss_mb() -> float:
    """The process's resident set size now, MiB (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class Phase:
    """Latencies (ms) of one stretch of the soak and the RSS at its end."""

    name: str
    begin_s: float
    end_s: float
    samples: dict[str, list[float]] = field(default_factory=lambda: {"process": [], "control": [], "total": []})
    rss_end_mb: float = math.nan

    def summary(self) -> dict[str, Any]:
        """Frames, RSS and p50/p90/p99/max per stage, as JSON-able numbers."""
        out: dict[str, Any] = {
            "phase": self.name,
            "from_s": round(self.begin_s, 1),
            "to_s": round(self.end_s, 1),
            "frames": len(self.samples["total"]),
            "rss_mb": round(self.rss_end_mb, 1),
        }
        for stage, values in self.samples.items():
            if values:
                arr = np.asarray(values)
                for q in PERCENTILES:
                    out[f"{stage}_p{q}_ms"] = round(float(np.percentile(arr, q)), 3)
                out[f"{stage}_max_ms"] = round(float(arr.max()), 3)
        return out


def phase_windows(duration_s: float) -> list[Phase]:
    """The start, middle and end stretches of a run of ``duration_s`` seconds."""
    width = min(PHASE_MAX_S, PHASE_FRACTION * duration_s)
    mid = 0.5 * duration_s
    bounds = ((0.0, width), (mid - 0.5 * width, mid + 0.5 * width), (duration_s - width, duration_s))
    return [Phase(name, lo, hi) for name, (lo, hi) in zip(PHASES, bounds, strict=True)]


def frame_stream(width: int, height: int, count: int = 16) -> list[npt.NDArray[np.uint8]]:
    """A few textured frames that differ (a panning view), cycled through by the soak."""
    from depth_node.commands.bench import _synthetic_frame

    base = _synthetic_frame(width + count * 8, height)
    return [np.ascontiguousarray(base[:, i * 8 : i * 8 + width]) for i in range(count)]


def soak(
    duration_s: float,
    rate_hz: float,
    processor: Any,
    emit: Callable[[dict[str, Any]], None],
    width: int = 640,
    height: int = 480,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Run the stream for ``duration_s`` seconds; ``emit`` gets each phase's summary when it ends.

    Args:
        duration_s: Length of the run, s.
        rate_hz: Frames per second to pace at; 0 = back to back.
        processor: A :class:`DepthFrameProcessor` (its message set builds the input messages).
        emit: Called with each phase's summary as soon as the phase is over (progress on long runs).
        width: Frame width, px.
        height: Frame height, px.
        clock: Monotonic clock, s (injectable for tests).

    Returns:
        The summary: frames, achieved rate, phases, RSS every tenth of the run, RSS growth.
    """
    from depth_node.camera import CameraModel
    from depth_node.errors import DepthNodeError
    from depth_node.types import Detection2D
    from navigation.controller import Controller
    from navigation.params import ObstacleAvoidanceParams

    messages = processor.messages
    frames = frame_stream(width, height)
    camera = CameraModel(width, height, 0.8 * width, 0.8 * width, (width - 1) / 2, (height - 1) / 2)
    controller = Controller(ObstacleAvoidanceParams())
    boxes = [
        Detection2D(0.25 * width, 0.6 * height, 0.2 * width, 0.4 * height, "chair", 0.9),
        Detection2D(0.7 * width, 0.5 * height, 0.1 * width, 0.6 * height, "person", 0.8),
    ]
    phases = phase_windows(duration_s)
    pending = list(phases)
    rss_series: list[float] = []
    next_rss_at = 0.0
    period = 1.0 / rate_hz if rate_hz > 0.0 else 0.0
    start = clock()
    next_tick = start
    index = 0
    failures = 0
    while True:
        now = clock()
        elapsed = now - start
        if elapsed >= duration_s:
            break
        if elapsed >= next_rss_at:
            rss_series.append(round(rss_mb(), 1))
            next_rss_at += duration_s / 10.0
        stamp_ns = 1_700_000_000_000_000_000 + round(index * 1e9 / 30.0)
        header = messages.header(stamp_ns, "camera_optical_frame")
        image_msg = messages.image(frames[index % len(frames)], "rgb8", header)
        info_msg = messages.camera_info(camera, header)
        t0 = clock()
        try:
            out = processor.process(image_msg, info_msg)
        except DepthNodeError:  # counted, not fatal, as the node would (a bug still ends the run)
            failures += 1
            out = None
        t1 = clock()
        stamp_s = stamp_ns * 1e-9
        controller.update_odometry(stamp_s, 0.0, 0.0, 0.0)  # the camera pans, the robot stays put
        if out is not None:
            controller.update_depth(stamp_s, out.depth, out.camera)
        controller.update_detections(stamp_s, boxes)
        controller.step(stamp_s)
        t2 = clock()
        for phase in pending:
            # A frame slower than a whole phase (a very busy machine) still gives that phase one sample.
            if phase.begin_s <= elapsed and (elapsed < phase.end_s or not phase.samples["total"]):
                phase.samples["process"].append(1e3 * (t1 - t0))
                phase.samples["control"].append(1e3 * (t2 - t1))
                phase.samples["total"].append(1e3 * (t2 - t0))
        while pending and t2 - start >= pending[0].end_s:
            done = pending.pop(0)
            done.rss_end_mb = rss_mb()
            emit(done.summary())
        index += 1
        if period:
            next_tick = max(next_tick + period, clock())  # late frames do not pile up a backlog
            time.sleep(max(0.0, next_tick - clock()))
    for phase in pending:  # a phase cut short by the end of the run
        phase.rss_end_mb = rss_mb()
        emit(phase.summary())
    rss_series.append(round(rss_mb(), 1))
    total_s = clock() - start
    summary = {
        "soak_s": round(total_s, 1),
        "rate_hz": rate_hz,
        "frames": index,
        "achieved_hz": round(index / total_s, 2) if total_s > 0 else 0.0,
        "failed_frames": failures,
        "phases": [p.summary() for p in phases],
        "rss_mb_every_tenth": rss_series,
        "rss_growth_mb": round(rss_series[-1] - rss_series[0], 1),
        "rss_growth_after_start_mb": round(phases[2].rss_end_mb - phases[0].rss_end_mb, 1),
    }
    return summary


def run_soak(args: Any, processor: Any) -> int:
    """Print each phase as a JSON line while the soak runs, then the summary."""

    def emit(line: dict[str, Any]) -> None:
        print(json.dumps(line), flush=True)

    result = soak(float(args.soak), float(args.soak_rate), processor, emit, args.width, args.height)
    print(json.dumps(result, indent=2 if not args.json else None), flush=True)
    sys.stdout.flush()
    return 0
