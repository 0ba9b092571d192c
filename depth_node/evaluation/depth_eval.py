"""Replayed depth against ground truth from the bag: an aligned depth image or a cloud in the optical frame.

:class:`DepthEvaluator` receives each frame's depth (the model's, or a sensor's with ``--depth-topic``),
pairs it with the ground-truth message of nearest header stamp, and keeps only what the report needs:
the (prediction, truth) values of the valid pixels as 1-D float32 arrays, a few numbers per frame, and
up to :data:`KEPT_FRAMES` whole frames spread over the bag for the figures. Metrics are pooled over all
pixels of all frames (every pixel weighs the same, so a frame seeing a near wall does not count more
than one seeing a far corridor), with :func:`depth_node.metrics.compute_metrics`, the function the
training validation and ``depth-node eval`` use.

A projected LiDAR (``sensor_msgs/PointCloud2`` with float x, y, z in the camera's optical frame) becomes
a sparse depth image by projecting each point to its nearest pixel through the frame's camera model and
keeping the nearest point per pixel (a z-buffer, since a far point behind a near one is not visible).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.errors import DepthNodeError, ParameterError
from depth_node.metrics import MetricsError, compute_metrics, median_scaled

F32 = npt.NDArray[np.float32]
GT_MATCH_NS = 50_000_000  # a GT message further than this from the frame's stamp is not its GT
KEPT_FRAMES = 4
REPORT_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "mae", "n_pixels")
_CLOUD_DTYPES = {7: "f4", 8: "f8"}  # sensor_msgs/PointField FLOAT32, FLOAT64


class GroundTruthError(DepthNodeError):
    """A ground-truth message that cannot be read as depth (counted, the frame is not evaluated)."""

    reason = "bad_ground_truth"


def points_from_cloud(msg: Any) -> npt.NDArray[np.float64]:
    """The (N, 3) x, y, z of a PointCloud2 (organised or not, any point layout with float x/y/z fields).

    Raises:
        GroundTruthError: no float x, y, z fields, or sizes that do not fit the data.
    """
    fields = {str(f.name): f for f in msg.fields}
    endian = ">" if bool(msg.is_bigendian) else "<"
    formats = []
    for name in ("x", "y", "z"):
        f = fields.get(name)
        if f is None or int(f.datatype) not in _CLOUD_DTYPES:
            raise GroundTruthError(f"point cloud needs float32/float64 fields x, y, z; it has {sorted(fields)}")
        formats.append(endian + _CLOUD_DTYPES[int(f.datatype)])
    height, width, step, row_step = int(msg.height), int(msg.width), int(msg.point_step), int(msg.row_step)
    raw = msg.data
    if isinstance(raw, bytes | bytearray | memoryview):  # rclpy may hand bytes; rosbags a numpy array
        data = np.frombuffer(raw, np.uint8)
    else:
        data = np.asarray(raw, dtype=np.uint8).reshape(-1)
    if height * width == 0:
        return np.empty((0, 3), np.float64)
    if step <= 0 or row_step < width * step or data.size < (height - 1) * row_step + width * step:
        raise GroundTruthError(
            f"point cloud of {height}x{width} points, point_step {step}, row_step {row_step} "
            f"does not fit its {data.size} data bytes"
        )
    offsets = [int(fields[n].offset) for n in ("x", "y", "z")]
    if max(o + int(np.dtype(f).itemsize) for o, f in zip(offsets, formats, strict=True)) > step:
        raise GroundTruthError(f"point cloud fields at offsets {offsets} do not fit point_step {step}")
    dtype = np.dtype({"names": ["x", "y", "z"], "formats": formats, "offsets": offsets, "itemsize": step})
    if row_step == width * step:
        pts = np.frombuffer(data, dtype, count=height * width)
    else:  # padded rows: drop each row's tail (the last row's may be absent altogether)
        rows = np.zeros(height * row_step, np.uint8)
        rows[: min(data.size, rows.size)] = data[: rows.size]
        pts = np.frombuffer(np.ascontiguousarray(rows.reshape(height, row_step)[:, : width * step]), dtype)
    return np.stack([pts["x"], pts["y"], pts["z"]], axis=-1).astype(np.float64)


def project_points(points: npt.ArrayLike, camera: CameraModel) -> F32:
    """A sparse depth image (camera resolution, NaN = no point) of optical-frame points.

    Each finite point with z > 0 lands on its nearest pixel ((0, 0) is the top-left pixel's centre, as in
    CameraInfo); where several land on one pixel the nearest wins.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    pts = pts[np.all(np.isfinite(pts), axis=1) & (pts[:, 2] > 0.0)]
    out = np.full((camera.height, camera.width), np.nan, dtype=np.float32)
    if pts.size == 0:
        return out
    uv = np.floor(camera.project(pts) + 0.5)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < camera.width) & (uv[:, 1] >= 0) & (uv[:, 1] < camera.height)
    u, v, z = uv[inside, 0].astype(np.int64), uv[inside, 1].astype(np.int64), pts[inside, 2]
    flat = v * camera.width + u
    order = np.lexsort((z, flat))  # by pixel, nearest first: the first of each pixel run is the visible point
    flat, z = flat[order], z[order]
    first = np.ones(flat.size, dtype=bool)
    first[1:] = flat[1:] != flat[:-1]
    out.reshape(-1)[flat[first]] = z[first]
    return out


def check_depth_range(min_depth: float, max_depth: float) -> None:
    """Refuse an evaluation range that would leave no pixel (before a long replay, not after it).

    Raises:
        ParameterError: naming the flags.
    """
    if not 0.0 < min_depth < max_depth:
        raise ParameterError(f"need 0 < --gt-min-depth < --gt-max-depth, got {min_depth} and {max_depth}")


@dataclass
class KeptFrame:
    """One frame kept whole for the report's image strip (arrays at the ground truth's resolution)."""

    stamp_ns: int
    rgb: npt.NDArray[np.uint8] | None  # None when the depth came from a sensor (no colour image)
    pred: F32
    gt: F32
    index: int = -1  # position among the bag's image messages
    abs_rel: float | None = None  # this frame's own AbsRel (the worst frames are ranked by it)


@dataclass
class DepthRecords:
    """What the figures need: per-frame numbers, the pooled valid pixels, a few whole frames."""

    min_depth: float
    max_depth: float
    stamps_ns: list[int] = field(default_factory=list)
    abs_rel: list[float] = field(default_factory=list)
    rmse: list[float] = field(default_factory=list)
    n_pixels: list[int] = field(default_factory=list)
    pred: F32 = field(default_factory=lambda: np.empty(0, np.float32))
    gt: F32 = field(default_factory=lambda: np.empty(0, np.float32))
    frames: list[KeptFrame] = field(default_factory=list)
    worst: list[KeptFrame] = field(default_factory=list)  # the highest per-frame AbsRel first (``worst_frames``)


def _report_metrics(metrics: dict[str, float]) -> dict[str, float | int]:
    out: dict[str, float | int] = {k: metrics[k] for k in REPORT_METRICS}
    out["n_pixels"] = int(metrics["n_pixels"])
    return out


class DepthEvaluator:
    """Accumulates one replay's depth-against-ground-truth evaluation.

    Args:
        topic: The ground-truth topic (for the report).
        kind: "depth" (an aligned depth Image) or "points" (a PointCloud2 in the optical frame).
        fetch: The ground-truth message for a frame's header stamp, or None when there is none close enough.
        decode_depth: Depth image message -> float32 metres with NaN unknown (depth_node.msgs.depth_from_msg).
        n_frames: How many image messages the bag holds, to spread the kept frames over it.
        min_depth: Valid ground-truth range, metres.
        max_depth: Valid ground-truth range, metres.
        worst_frames: Also keep this many whole frames of highest AbsRel (where a model fails, for
            ``depth-node evaluate``'s page); 0 keeps none.

    Raises:
        ParameterError: a bad kind or depth range (before any frame is replayed).
    """

    def __init__(
        self,
        topic: str,
        kind: str,
        fetch: Callable[[int], Any],
        decode_depth: Callable[[Any], F32],
        n_frames: int,
        min_depth: float = 0.1,
        max_depth: float = 10.0,
        worst_frames: int = 0,
    ) -> None:
        if kind not in ("depth", "points"):
            raise ParameterError(f"ground-truth kind must be 'depth' or 'points', got {kind!r}")
        check_depth_range(min_depth, max_depth)
        self.topic, self.kind = topic, kind
        self._fetch, self._decode_depth = fetch, decode_depth
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        # Frame positions (in bag order) whose arrays are kept; a later frame stands in for one without GT.
        last = max(n_frames - 1, 0)
        self._keep_at = sorted({round(i * last / (KEPT_FRAMES - 1)) for i in range(KEPT_FRAMES)})
        self.counts = {"frames_evaluated": 0, "gt_missing": 0, "gt_empty": 0, "gt_malformed": 0}
        self.resampled = False
        self._records = DepthRecords(self.min_depth, self.max_depth)
        self._pred: list[F32] = []
        self._gt: list[F32] = []
        self._scaled: list[F32] = []
        self._worst_n = max(int(worst_frames), 0)

    def ground_truth(self, stamp: int, camera: CameraModel) -> F32 | None:
        """The ground-truth depth of the frame with this stamp (None and counted when missing or bad)."""
        msg = self._fetch(stamp)
        if msg is None:
            self.counts["gt_missing"] += 1
            return None
        try:
            if self.kind == "points":
                return project_points(points_from_cloud(msg), camera)
            return self._decode_depth(msg)
        except (DepthNodeError, ValueError):
            self.counts["gt_malformed"] += 1
            return None

    def add(
        self,
        index: int,
        stamp: int,
        pred: F32,
        camera: CameraModel,
        rgb: Callable[[], npt.NDArray[np.uint8] | None] | None = None,
    ) -> None:
        """Evaluate one frame's depth.

        Args:
            index: The frame's position among the bag's image messages (0-based).
            stamp: Its header stamp, nanoseconds.
            pred: Its depth, metres, NaN = unknown.
            camera: The camera model of ``pred`` (projects a ground-truth cloud).
            rgb: Decodes the frame's colour image; called only for the few frames kept whole.
        """
        gt = self.ground_truth(stamp, camera)
        if gt is None:
            return
        if gt.shape != pred.shape:
            import cv2

            # Nearest neighbour: interpolating would invent depths across object edges.
            size = (gt.shape[1], gt.shape[0])
            pred = np.asarray(cv2.resize(pred, size, interpolation=cv2.INTER_NEAREST), dtype=np.float32)
            self.resampled = True
        valid = np.isfinite(gt) & (gt >= self.min_depth) & (gt <= self.max_depth)
        if not valid.any():
            self.counts["gt_empty"] += 1
            return
        p = pred[valid].astype(np.float32)
        g = gt[valid].astype(np.float32)
        try:
            scaled = median_scaled(p, g).astype(np.float32)
        except MetricsError:  # no finite positive prediction here: nothing to scale, judged as it is
            scaled = p
        frame = compute_metrics(p, g, min_depth=self.min_depth, max_depth=self.max_depth, with_ssim=False)
        self.counts["frames_evaluated"] += 1
        rec = self._records
        rec.stamps_ns.append(stamp)
        rec.abs_rel.append(frame["abs_rel"])
        rec.rmse.append(frame["rmse"])
        rec.n_pixels.append(int(frame["n_pixels"]))
        self._pred.append(p)
        self._gt.append(g)
        self._scaled.append(scaled)
        if self._keep_at and index >= self._keep_at[0]:
            self._keep_at = [i for i in self._keep_at if i > index]
            rgb_img = rgb() if rgb is not None else None
            rec.frames.append(
                KeptFrame(stamp, rgb_img, np.array(pred, np.float32), np.array(gt, np.float32), index, frame["abs_rel"])
            )
        self._keep_if_worst(index, stamp, pred, gt, frame["abs_rel"], rgb)

    def _keep_if_worst(
        self,
        index: int,
        stamp: int,
        pred: F32,
        gt: F32,
        abs_rel: float,
        rgb: Callable[[], npt.NDArray[np.uint8] | None] | None,
    ) -> None:
        """Keep this frame whole if it is among the ``worst_frames`` of highest AbsRel so far (earlier wins ties)."""
        worst = self._records.worst
        if self._worst_n == 0 or (len(worst) >= self._worst_n and abs_rel <= (worst[-1].abs_rel or 0.0)):
            return
        rgb_img = rgb() if rgb is not None else None
        kept = KeptFrame(stamp, rgb_img, np.array(pred, np.float32), np.array(gt, np.float32), index, abs_rel)
        at = next((i for i, k in enumerate(worst) if abs_rel > (k.abs_rel or 0.0)), len(worst))
        worst.insert(at, kept)
        del worst[self._worst_n :]

    def records(self) -> DepthRecords:
        """Everything for :func:`depth_node.evaluation.report.depth_figures` (the pooled arrays concatenated)."""
        rec = self._records
        rec.pred = np.concatenate(self._pred) if self._pred else np.empty(0, np.float32)
        rec.gt = np.concatenate(self._gt) if self._gt else np.empty(0, np.float32)
        return rec

    def report(self) -> dict[str, Any]:
        """``depth_eval``, ``depth_metrics`` and ``depth_metrics_median_scaled`` for report.json.

        ``depth_eval`` counts frames: evaluated, ``gt_missing`` (no GT message within 50 ms of the
        frame's stamp), ``gt_empty`` (GT without a pixel in range), ``gt_malformed`` (GT that does not
        decode); ``gt_resampled`` tells whether a prediction was resized to the GT's resolution. The
        metric dicts hold :data:`REPORT_METRICS`, pooled over pixels; None when no frame was evaluated.
        """
        metrics: dict[str, Any] = {"depth_metrics": None, "depth_metrics_median_scaled": None}
        if self._gt:
            gt = np.concatenate(self._gt)
            for key, preds in (("depth_metrics", self._pred), ("depth_metrics_median_scaled", self._scaled)):
                m = compute_metrics(
                    np.concatenate(preds), gt, min_depth=self.min_depth, max_depth=self.max_depth, with_ssim=False
                )
                metrics[key] = _report_metrics(m)
        return {
            "depth_eval": {
                "gt_topic": self.topic,
                "gt_kind": self.kind,
                **self.counts,
                "gt_resampled": self.resampled,
                "gt_min_depth_m": self.min_depth,
                "gt_max_depth_m": self.max_depth,
            },
            **metrics,
        }
