"""Depth metrics of the monocular-depth literature (Eigen et al. 2014 and after), numpy only.

Shared by training validation, ``depth-node eval`` and bag replay, so every number the project reports is
computed the same way.

Pixel selection: a pixel counts when its ground truth is finite and inside [min_depth, max_depth]. The
prediction is clipped to [min_depth, max_depth] (as the KITTI/NYU protocols do). A prediction that is NaN or
infinite over a valid ground truth is **not** dropped (dropping it would reward a model for refusing hard
pixels): it is replaced by ``max_depth``, the answer of a sensor that saw nothing, and counted in
``n_invalid_pred``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from depth_node.errors import DepthNodeError

METRIC_KEYS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "mae", "ssim")


class MetricsError(DepthNodeError):
    """Prediction and ground truth that cannot be compared (shape mismatch, no valid pixel)."""

    reason = "bad_metrics_input"


def _prepare(
    pred: npt.ArrayLike, gt: npt.ArrayLike, mask: npt.ArrayLike | None, min_depth: float, max_depth: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_], int]:
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.shape != g.shape:
        raise MetricsError(f"prediction shape {p.shape} differs from ground truth shape {g.shape}")
    if not 0.0 < min_depth < max_depth:
        raise MetricsError(f"need 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
    valid = np.isfinite(g) & (g >= min_depth) & (g <= max_depth)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != g.shape:
            raise MetricsError(f"mask shape {m.shape} differs from ground truth shape {g.shape}")
        valid &= m
    bad_pred = valid & ~np.isfinite(p)
    p = np.where(np.isfinite(p), p, max_depth)
    return np.clip(p, min_depth, max_depth), g, valid, int(bad_pred.sum())


def median_scaled(pred: npt.ArrayLike, gt: npt.ArrayLike, mask: npt.ArrayLike | None = None) -> npt.NDArray[np.float64]:
    """``pred`` multiplied by median(gt) / median(pred) over pixels valid in both (for relative-depth models).

    Raises:
        MetricsError: no pixel is finite and positive in both.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    both = np.isfinite(p) & np.isfinite(g) & (p > 0) & (g > 0)
    if mask is not None:
        both &= np.asarray(mask, dtype=bool)
    if not both.any():
        raise MetricsError("median scaling needs at least one pixel finite and positive in both maps")
    return p * (np.median(g[both]) / np.median(p[both]))


def ssim_map(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], data_range: float, window: int = 7
) -> npt.NDArray[np.float64]:
    """Per-pixel SSIM of two 2-D maps with a uniform window (integral images; valid region only)."""

    def box(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        c = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        w = window
        return (c[w:, w:] - c[:-w, w:] - c[w:, :-w] + c[:-w, :-w]) / (w * w)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = box(a), box(b)
    var_a = box(a * a) - mu_a**2
    var_b = box(b * b) - mu_b**2
    cov = box(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))


def _ssim(
    p: npt.NDArray[np.float64], g: npt.NDArray[np.float64], valid: npt.NDArray[np.bool_], max_depth: float
) -> float:
    """Mean SSIM over windows whose pixels are all valid (image by image for a batch)."""
    p2, g2, v2 = (x.reshape(-1, *x.shape[-2:]) for x in (p, g, valid))
    window = 7
    vals = []
    for pi, gi, vi in zip(p2, g2, v2, strict=True):
        if min(vi.shape) < window:
            continue
        gi_f = np.where(vi, gi, pi)
        s = ssim_map(pi, gi_f, max_depth, window)
        cover = np.pad(vi.astype(np.float64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        counts = (
            cover[window:, window:] - cover[:-window, window:] - cover[window:, :-window] + cover[:-window, :-window]
        )
        ok = counts >= window * window - 0.5  # only windows entirely inside valid ground truth
        if ok.any():
            vals.append(s[ok])
    return float(np.concatenate(vals).mean()) if vals else float("nan")


def compute_metrics(
    pred: npt.ArrayLike,
    gt: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    min_depth: float = 0.1,
    max_depth: float = 10.0,
    with_ssim: bool = True,
) -> dict[str, float]:
    """All metrics of one image or a batch (every valid pixel weighs the same).

    Args:
        pred: Predicted depth, metres, any shape (H, W) or (N, H, W).
        gt: Ground-truth depth, same shape; NaN, inf, 0 or out-of-range = invalid.
        mask: Optional extra pixel selection (True = evaluate).
        min_depth: Evaluation range, metres.
        max_depth: Evaluation range, metres.
        with_ssim: SSIM costs more than all the others together; False reports it as NaN.

    Returns:
        The :data:`METRIC_KEYS` plus ``n_pixels`` (valid pixels) and ``n_invalid_pred`` (see module docstring).

    Raises:
        MetricsError: mismatched shapes, a bad range, or no valid pixel at all.
    """
    p, g, valid, bad = _prepare(pred, gt, mask, min_depth, max_depth)
    n = int(valid.sum())
    if n == 0:
        raise MetricsError(f"no ground-truth pixel inside [{min_depth}, {max_depth}] m to evaluate")
    pv, gv = p[valid], g[valid]
    diff = pv - gv
    ratio = np.maximum(pv / gv, gv / pv)
    log_diff = np.log(pv) - np.log(gv)
    out = {
        "abs_rel": float(np.mean(np.abs(diff) / gv)),
        "sq_rel": float(np.mean(diff**2 / gv)),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "rmse_log": float(np.sqrt(np.mean(log_diff**2))),
        "log10": float(np.mean(np.abs(np.log10(pv) - np.log10(gv)))),
        "delta1": float(np.mean(ratio < 1.25)),
        "delta2": float(np.mean(ratio < 1.25**2)),
        "delta3": float(np.mean(ratio < 1.25**3)),
        "mae": float(np.mean(np.abs(diff))),
        "ssim": _ssim(p, g, valid, max_depth) if with_ssim else float("nan"),
        "n_pixels": float(n),
        "n_invalid_pred": float(bad),
    }
    return out
