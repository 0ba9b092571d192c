"""One image message of a replayed bag: its depth, the navigation's input, the depth node's outputs, the evaluation.

:class:`FrameSource` turns the message into depth (the depth node's :class:`~depth_node.processing.DepthFrameProcessor`
on a colour image, or a sensor's depth image as it is); :func:`process_frame` feeds that depth to the navigation,
writes what the depth node would have published (:data:`OUTPUT_TOPICS`) and scores the depth against ground truth,
counting every skipped frame and every stage's milliseconds in :class:`ReplayStats`, whose :meth:`ReplayStats.report`
is the frame part of report.json.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import DepthNodeError
from depth_node.estimator import DepthEstimator
from depth_node.evaluation.bagio import StampIndex
from depth_node.evaluation.depth_eval import DepthEvaluator
from depth_node.evaluation.nav_replay import NavReplay
from depth_node.evaluation.replay_detector import ReplayDetector
from depth_node.floor_affine import AffineFit
from depth_node.msgs import MessageSet, camera_from_info, decode_image, depth_from_msg, stamp_ns
from depth_node.processing import STAGES, DepthFrameProcessor
from depth_node.scale import FloorFit, summarise_fits

OUTPUT_TOPICS = {
    "depth": ("/depth/image_raw", "sensor_msgs/msg/Image"),
    "info": ("/depth/camera_info", "sensor_msgs/msg/CameraInfo"),
    "cloud": ("/depth/points", "sensor_msgs/msg/PointCloud2"),
}


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
    floor_fits: list[FloorFit | AffineFit] = field(
        default_factory=list
    )  # empty unless the depth node's floor_scale is on

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
            "floor_scale": summarise_fits(self.floor_fits) if self.floor_fits else None,
            **extra,
        }


def _colour_of(image: Any) -> npt.NDArray[np.uint8] | None:
    """The RGB of an image message (decoded again only for the few frames the report shows whole)."""
    try:
        pixels, encoding = decode_image(image)
        return image_codec.to_rgb8(pixels, encoding)
    except DepthNodeError:
        return None


class FrameSource:
    """Turns one image message of the bag into depth for the navigation: the model, or sensor depth."""

    def __init__(
        self, messages: MessageSet, estimator: DepthEstimator | None, params: DepthNodeParams, image_topic: str = ""
    ) -> None:
        self.processor = None if estimator is None else DepthFrameProcessor(messages, estimator, params, image_topic)

    def process(
        self, image: Any, info: Any
    ) -> tuple[Any, CameraModel, dict[str, float], list[tuple[str, Any]], FloorFit | AffineFit | None]:
        """(depth m, camera, stage milliseconds, depth-node output messages by OUTPUT_TOPICS key, floor fit).

        Raises:
            DepthNodeError: the frame cannot be used (its ``reason`` is counted).
        """
        if self.processor is None:
            t0 = time.perf_counter()
            depth = depth_from_msg(image)
            camera = camera_from_info(info, image_size=(depth.shape[1], depth.shape[0]))
            return depth, camera, {"decode": (time.perf_counter() - t0) * 1e3}, [], None
        result = self.processor.process(image, info)
        outputs = [("depth", result.depth_msg), ("info", result.info_msg), ("cloud", result.cloud_msg)]
        kept = [(k, m) for k, m in outputs if m is not None]
        return result.depth, result.camera, result.times_ms, kept, result.floor


@dataclass
class Frame:
    """One image message of the bag as read: where it came from and its position among the images."""

    reader: Any
    conn: Any
    raw: bytes
    timestamp: int
    index: int
    detector: ReplayDetector | None = None  # runs on the frame before its depth


def process_frame(
    frame: Frame,
    infos: StampIndex,
    source: FrameSource,
    stats: ReplayStats,
    nav: NavReplay,
    evaluator: DepthEvaluator | None,
    writer: Any,
    outs: dict[str, Any],
    out_store: Any,
) -> None:
    """One image (colour or depth) of the bag: depth, navigation input, depth-node outputs, evaluation."""
    timestamp = frame.timestamp
    try:
        image = frame.reader.deserialize(frame.raw, frame.conn.msgtype)
    except Exception:
        stats.skip("malformed_message")
        nav.on_failed(timestamp, "malformed message")
        return
    if frame.detector is not None:
        frame.detector.process(image, timestamp, nav)
    stamp = stamp_ns(image.header)
    info = infos.lookup(stamp)
    if info is None:
        stats.skip("no_camera_info")
        nav.on_failed(stamp, "no camera_info")
        return
    try:
        depth, camera, times_ms, outputs, floor = source.process(image, info)
    except DepthNodeError as exc:
        stats.skip(exc.reason)
        nav.on_failed(stamp, f"{exc.reason}: {exc}")
        return
    stats.frames_processed += 1
    if floor is not None:
        stats.floor_fits.append(floor)
    for stage, ms in times_ms.items():
        stats.latencies[stage].append(ms)
    nav.on_depth(depth, camera, image.header)
    for key, msg in outputs:
        writer.write(outs[key], timestamp, out_store.serialize_cdr(msg, OUTPUT_TOPICS[key][1]))
    if evaluator is not None:
        # Sensor depth has no colour image to show; a colour one is decoded again only if kept whole.
        colour = None if source.processor is None else functools.partial(_colour_of, image)
        evaluator.add(frame.index, stamp, depth, camera, colour)
