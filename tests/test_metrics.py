"""Depth metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth_node.metrics import METRIC_KEYS, MetricsError, compute_metrics, median_scaled, ssim_map

PRED = np.array([1.0, 2.0, 4.0])
GT = np.array([1.0, 1.0, 2.0])


def test_every_metric_by_hand() -> None:
    m = compute_metrics(PRED, GT, with_ssim=False)
    ln2 = math.log(2.0)
    assert m["abs_rel"] == pytest.approx((0 + 1 / 1 + 2 / 2) / 3)
    assert m["sq_rel"] == pytest.approx((0 + 1 / 1 + 4 / 2) / 3)
    assert m["rmse"] == pytest.approx(math.sqrt((0 + 1 + 4) / 3))
    assert m["rmse_log"] == pytest.approx(math.sqrt(2 * ln2**2 / 3))
    assert m["log10"] == pytest.approx(2 * math.log10(2.0) / 3)
    assert m["mae"] == pytest.approx(1.0)
    assert m["delta1"] == pytest.approx(1 / 3)  # ratios 1, 2, 2
    assert m["delta2"] == pytest.approx(1 / 3)  # 2 > 1.5625
    assert m["delta3"] == pytest.approx(1 / 3)  # 2 > 1.953
    assert m["n_pixels"] == 3 and math.isnan(m["ssim"])
    assert set(METRIC_KEYS) <= set(m)


def test_delta_thresholds_are_symmetric_ratios() -> None:
    gt = np.ones(4)
    pred = np.array([1.2, 1 / 1.5, 1.9, 2.5])  # ratios 1.2, 1.5, 1.9, 2.5
    m = compute_metrics(pred, gt, with_ssim=False)
    assert (m["delta1"], m["delta2"], m["delta3"]) == (0.25, 0.5, 0.75)


def test_invalid_ground_truth_is_excluded() -> None:
    gt = np.array([1.0, np.nan, 0.0, 50.0, 2.0])
    pred = np.array([1.5, 9.0, 9.0, 9.0, 2.0])
    m = compute_metrics(pred, gt, max_depth=10.0, with_ssim=False)
    assert m["n_pixels"] == 2
    assert m["abs_rel"] == pytest.approx(0.25)


def test_nan_prediction_counts_as_max_depth() -> None:
    m = compute_metrics(np.array([np.nan, 2.0]), np.array([5.0, 2.0]), max_depth=10.0, with_ssim=False)
    assert m["n_invalid_pred"] == 1
    assert m["mae"] == pytest.approx((10.0 - 5.0) / 2)


def test_prediction_is_clipped_to_the_range_and_mask_selects() -> None:
    m = compute_metrics(np.array([0.01, 30.0]), np.array([0.1, 10.0]), with_ssim=False)
    assert m["abs_rel"] == pytest.approx(0.0)
    m = compute_metrics(PRED, GT, mask=np.array([True, False, False]), with_ssim=False)
    assert m["abs_rel"] == 0.0 and m["n_pixels"] == 1


def test_median_scaled_recovers_scale() -> None:
    gt = np.array([[1.0, 2.0], [3.0, np.nan]])
    np.testing.assert_allclose(median_scaled(3.0 * gt, gt)[:, 0], gt[:, 0])
    with pytest.raises(MetricsError, match="at least one pixel"):
        median_scaled(np.full(2, np.nan), np.ones(2))


def test_ssim_is_one_for_identical_maps_and_matches_the_formula() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(1.0, 5.0, (2, 12, 12))
    assert compute_metrics(gt, gt)["ssim"] == pytest.approx(1.0)
    # Constant maps: SSIM = (2ab + c1) / (a^2 + b^2 + c1), c1 = (0.01 * range)^2.
    a, b, c1 = 2.0, 3.0, (0.01 * 10.0) ** 2
    s = ssim_map(np.full((9, 9), a), np.full((9, 9), b), 10.0)
    assert s.shape == (3, 3)
    np.testing.assert_allclose(s, (2 * a * b + c1) / (a * a + b * b + c1))


def test_bad_inputs_raise_with_the_shapes() -> None:
    with pytest.raises(MetricsError, match=r"\(2,\) differs from ground truth shape \(3,\)"):
        compute_metrics(np.ones(2), np.ones(3))
    with pytest.raises(MetricsError, match="no ground-truth pixel"):
        compute_metrics(np.ones(2), np.full(2, np.nan))
    with pytest.raises(MetricsError, match="min_depth < max_depth"):
        compute_metrics(np.ones(2), np.ones(2), min_depth=5.0, max_depth=1.0)
