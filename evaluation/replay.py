"""Offline replay of a recorded ROS 2 bag through the depth node's own processing.

The replay drives :class:`depth_node.processing.DepthFrameProcessor`, the object the live node calls,
with the same parameter YAML, and writes what the node would have published into an MCAP bag next to
the input's topics, each output logged at its input frame's time, plus ``report.json`` with counts,
skip reasons and per-stage latencies.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from depth_node.depth_params import DepthNodeParams
from depth_node.errors import DepthNodeError
from depth_node.estimator import DepthEstimator
from depth_node.msgs import MessageSet, stamp_ns
from depth_node.processing import STAGES, DepthFrameProcessor
from evaluation.bagio import AtomicBagDir, open_bag, select_topics

OUTPUT_TOPICS = {
    "depth": ("/depth/image_raw", "sensor_msgs/msg/Image"),
    "info": ("/depth/camera_info", "sensor_msgs/msg/CameraInfo"),
    "cloud": ("/depth/points", "sensor_msgs/msg/PointCloud2"),
}


@dataclass
class ReplayOptions:
    """What to replay and where to write it."""

    bag: Path
    out: Path
    image_topic: str | None = None
    camera_info_topic: str | None = None
    overwrite: bool = False
    progress: bool | None = None  # None: a bar when stderr is a terminal


def latency_summary(samples: Iterable[float]) -> dict[str, float | None]:
    """p50, p95 and max of a list of milliseconds (None when there are none)."""
    values = np.asarray(list(samples), dtype=np.float64)
    if values.size == 0:
        return {"p50": None, "p95": None, "max": None}
    return {
        "p50": round(float(np.percentile(values, 50)), 3),
        "p95": round(float(np.percentile(values, 95)), 3),
        "max": round(float(values.max()), 3),
    }


@dataclass
class ReplayStats:
    """Counters and timings collected while replaying."""

    frames_total: int = 0
    frames_processed: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})

    def skip(self, reason: str) -> None:
        """Count one skipped frame under ``reason``."""
        self.skip_reasons[reason] += 1

    def report(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        """The report.json payload."""
        return {
            "frames_total": self.frames_total,
            "frames_processed": self.frames_processed,
            "frames_skipped": sum(self.skip_reasons.values()),
            "skip_reasons": dict(sorted(self.skip_reasons.items())),
            "latency_ms": {stage: latency_summary(v) for stage, v in self.latencies.items()},
            **extra,
        }


class CameraInfoIndex:
    """The CameraInfo messages of one topic, looked up by header stamp.

    A camera publishes each image with a CameraInfo of the same stamp, but a bag may log either first;
    pairing by stamp (and else taking the nearest in time, since the intrinsics rarely change) means the
    first frame of a bag is not lost to ordering.
    """

    def __init__(self, stamps: list[int], infos: list[Any], malformed: int = 0) -> None:
        order = np.argsort(np.asarray(stamps, dtype=np.int64), kind="stable")
        self._stamps = np.asarray(stamps, dtype=np.int64)[order]
        self._infos = [infos[i] for i in order]
        self.malformed = malformed

    @classmethod
    def from_bag(cls, reader: Any, topic: str) -> CameraInfoIndex:
        """Read every CameraInfo of ``topic``; undecodable ones are counted, not fatal."""
        stamps: list[int] = []
        infos: list[Any] = []
        malformed = 0
        conns = [c for c in reader.connections if c.topic == topic]
        for conn, _t, raw in reader.messages(connections=conns):
            try:
                info = reader.deserialize(raw, conn.msgtype)
                stamp = stamp_ns(info.header)
            except Exception:
                malformed += 1
                continue
            stamps.append(stamp)
            infos.append(info)
        return cls(stamps, infos, malformed)

    def lookup(self, stamp: int) -> Any:
        """The CameraInfo with this stamp, else the nearest in time, else None when there is none."""
        if not self._infos:
            return None
        i = int(np.searchsorted(self._stamps, stamp))
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self._infos)]
        best = min(candidates, key=lambda j: abs(int(self._stamps[j]) - stamp))
        return self._infos[best]


def _progress(total: int, enabled: bool | None) -> Any:
    from tqdm import tqdm

    disable = not sys.stderr.isatty() if enabled is None else not enabled
    return tqdm(total=total, unit="frame", desc="replay", disable=disable, file=sys.stderr)


def run_replay(options: ReplayOptions, estimator: DepthEstimator, params: DepthNodeParams) -> dict[str, Any]:
    """Replay ``options.bag`` and write ``options.out``; returns the report (also in OUT/report.json).

    Raises:
        BagError: the input is not a readable bag, the topics cannot be chosen, or OUT exists.
    """
    messages = MessageSet.from_rosbags()
    out_store = messages.typestore
    processor = DepthFrameProcessor(messages, estimator, params)
    stats = ReplayStats()
    with open_bag(options.bag) as reader:
        image_topic, info_topic = select_topics(reader, options.image_topic, options.camera_info_topic)
        n_images = sum(c.msgcount for c in reader.connections if c.topic == image_topic)
        with AtomicBagDir(options.out, overwrite=options.overwrite) as out:
            writer = out.writer
            copies = {
                c.id: writer.add_connection(c.topic, c.msgtype, typestore=reader.typestore) for c in reader.connections
            }
            outs = {k: writer.add_connection(t, ty, typestore=out_store) for k, (t, ty) in OUTPUT_TOPICS.items()}
            infos = CameraInfoIndex.from_bag(reader, info_topic)
            with _progress(n_images, options.progress) as bar:
                for conn, timestamp, raw in reader.messages():
                    writer.write(copies[conn.id], timestamp, raw)
                    if conn.topic != image_topic:
                        continue
                    stats.frames_total += 1
                    bar.update(1)
                    try:
                        image = reader.deserialize(raw, conn.msgtype)
                    except Exception:
                        stats.skip("malformed_message")
                        continue
                    info = infos.lookup(stamp_ns(image.header))
                    if info is None:
                        stats.skip("no_camera_info")
                        continue
                    try:
                        result = processor.process(image, info)
                    except DepthNodeError as exc:
                        stats.skip(exc.reason)
                        continue
                    stats.frames_processed += 1
                    for stage, ms in result.times_ms.items():
                        stats.latencies[stage].append(ms)
                    for key, msg in (
                        ("depth", result.depth_msg),
                        ("info", result.info_msg),
                        ("cloud", result.cloud_msg),
                    ):
                        if msg is not None:
                            topic_type = OUTPUT_TOPICS[key][1]
                            writer.write(outs[key], timestamp, out_store.serialize_cdr(msg, topic_type))
            report = stats.report(
                {
                    "camera_info_malformed": infos.malformed,
                    "provider": estimator.provider,
                    "input_bag": str(options.bag),
                    "image_topic": image_topic,
                    "camera_info_topic": info_topic,
                }
            )
            out.add_json("report.json", report)
    return report
