"""The fast paths around the model equal their references: fused area resize + normalisation, the affine
output mapping on the network grid, the cloud interleaved by cv2.merge, the scan's automatic pixel step
and the memory's interval marking."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.estimator import load_estimator
from depth_node.model_spec import OutputKind
from depth_node.preprocess import AreaBlob, area_block, reference_blob
from navigation.freespace import VirtualScanner, auto_pixel_step
from navigation.memory import headings_blocked_by
from navigation.params import ObstacleAvoidanceParams
from tests.onnx_models import plain_spec, write_affine_model

GAIN = np.array([1 / 255 / 0.229, 1 / 255 / 0.224, 1 / 255 / 0.225], np.float32)
BIAS = np.array([-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225], np.float32)


def _frame(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_area_block_rows_cover_each_input_pixel_once() -> None:
    weights, repeats = area_block(480, 128)
    assert weights.shape == (4, 15) and repeats == 32
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(weights.sum(axis=0) * 15 / 4, 1.0)  # each input pixel shared out in full


@pytest.mark.parametrize(
    ("src", "dst"),
    [((480, 640), (128, 160)), ((720, 1280), (128, 160)), ((240, 320), (128, 160)), ((480, 640), (240, 320))],
)
@pytest.mark.parametrize("bgr", [False, True])
def test_fused_blob_feeds_the_network_what_opencv_area_resize_does(
    src: tuple[int, int], dst: tuple[int, int], bgr: bool
) -> None:
    """The same uint8 levels as cv2.resize(INTER_AREA), but for a rare tie rounded the other way."""
    blob = AreaBlob.build(src, dst, GAIN, BIAS, bgr)
    assert blob is not None
    rgb = _frame(*src)
    fast, ref = blob(rgb), reference_blob(rgb, dst, GAIN, BIAS, bgr)
    assert fast.shape == ref.shape == (1, 3, *dst) and fast.dtype == np.float32 and fast.flags.c_contiguous
    levels = np.abs(fast - ref)[0] / GAIN[:, None, None]  # in grey levels
    assert levels.max() <= 1.0 + 1e-3
    assert np.mean(levels > 1e-3) < 0.01
    # Against the exact area average (float64), the fused value is its rounding.
    rows, _ = area_block(src[0], dst[0])
    cols, _ = area_block(src[1], dst[1])
    wy = np.kron(np.eye(src[0] // rows.shape[1]), rows)
    wx = np.kron(np.eye(src[1] // cols.shape[1]), cols)
    exact = np.stack([wy @ rgb[..., c].astype(np.float64) @ wx.T for c in range(3)])
    if bgr:
        exact = exact[::-1]
    fed = (fast[0] - BIAS[:, None, None]) / GAIN[:, None, None]
    assert np.abs(fed - exact).max() <= 0.5 + 1e-3


@pytest.mark.parametrize(
    ("src", "dst"), [((1080, 1920), (128, 160)), ((100, 120), (128, 160)), ((479, 641), (128, 160))]
)
def test_sizes_without_a_short_period_take_the_reference_path(src: tuple[int, int], dst: tuple[int, int]) -> None:
    assert AreaBlob.build(src, dst, GAIN, BIAS, False) is None


@pytest.fixture(scope="module")
def imagenet_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 128x160 metric model with ImageNet normalisation and a focal reference (like the shipped one)."""
    spec = plain_spec(
        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), trained_fx=128.0, trained_width=160, max_depth_m=10.0
    )
    return write_affine_model(tmp_path_factory.mktemp("m") / "m.onnx", spec, gain=2.0, offset=3.0, fixed_hw=(128, 160))


def test_estimator_uses_the_fused_path_and_matches_the_reference(imagenet_model: Path) -> None:
    est = load_estimator(imagenet_model, providers=("cpu",))
    rgb = _frame(480, 640, seed=3)
    fast, ref = est.preprocess(rgb), est.preprocess_reference(rgb)
    assert est._blob is not None  # 640x480 -> 160x128 repeats every 15 rows: the fused path
    assert np.abs(fast - ref).max() <= float(np.max(est._gain)) * 1.001 + 1e-5
    assert np.mean(np.abs(fast - ref) > 1e-5) < 0.01
    est.preprocess(_frame(1080, 1920))
    assert est._blob is None  # a long period: the reference path, no stale blob


@pytest.mark.parametrize("kind", list(OutputKind))
def test_postprocess_applies_the_affine_map_before_the_resize_with_the_same_result(
    imagenet_model: Path, kind: OutputKind
) -> None:
    """Scale, shift and the focal factor commute with bilinear resizing: the old order, resize first, agrees."""
    est = load_estimator(
        imagenet_model,
        spec_overrides={"output_kind": kind.value, "depth_scale": 1.7, "depth_shift": 0.2},
        providers=("cpu",),
    )
    raw = np.random.default_rng(1).uniform(0.05, 6.0, (1, 1, 128, 160)).astype(np.float32)
    camera = CameraModel(640, 480, 520.0, 520.0, 319.5, 239.5)
    got = est.postprocess(raw, camera)
    import cv2

    spec = est.spec
    out = cv2.resize(raw[0, 0], (640, 480), interpolation=cv2.INTER_LINEAR)
    ref = out * np.float32(spec.depth_scale) + np.float32(spec.depth_shift)
    if kind is OutputKind.METRIC_INVERSE_DEPTH:  # the focal factor divides an inverse depth
        ref /= np.float32((camera.fx / camera.width) / spec.focal_reference)
    if kind in (OutputKind.RELATIVE_INVERSE_DEPTH, OutputKind.METRIC_INVERSE_DEPTH):
        ref = np.where(ref > 0, 1.0 / ref, np.nan).astype(np.float32)
    if kind is OutputKind.METRIC_DEPTH:
        ref *= np.float32((camera.fx / camera.width) / spec.focal_reference)
    ref[~((ref >= spec.min_depth_m) & (ref <= spec.max_depth_m))] = np.nan
    both = np.isfinite(got) & np.isfinite(ref)
    assert both.mean() > 0.5
    assert np.array_equal(np.isfinite(got), np.isfinite(ref)) or np.mean(np.isfinite(got) != np.isfinite(ref)) < 1e-4
    np.testing.assert_allclose(got[both], ref[both], rtol=1e-5)


@pytest.mark.parametrize(("width", "step"), [(64, 1), (640, 1), (641, 2), (1280, 2), (1920, 3), (3840, 6)])
def test_auto_pixel_step_keeps_at_most_640_columns(width: int, step: int) -> None:
    assert auto_pixel_step(width) == step
    assert math.ceil(width / step) <= 640


def test_scan_pixel_step_zero_is_automatic_and_one_stays_exact() -> None:
    from navigation.bench import synthetic_frame

    params = ObstacleAvoidanceParams()
    assert params.scan_pixel_step == 0
    depth, camera, _ = synthetic_frame(params, 640, 480)
    auto = VirtualScanner(params).scan(depth, camera)
    one = VirtualScanner(dataclasses.replace(params, scan_pixel_step=1)).scan(depth, camera)
    np.testing.assert_array_equal(auto.ranges, one.ranges)  # up to 640 px wide, auto is step 1
    depth, camera, _ = synthetic_frame(params, 1280, 720)
    scanner = VirtualScanner(params)
    wide = scanner.scan(depth, camera)
    assert scanner.geometry(camera).step == 2
    full = VirtualScanner(dataclasses.replace(params, scan_pixel_step=1)).scan(depth, camera)
    same = np.isclose(wide.ranges, full.ranges, rtol=0.03) | (wide.ranges == full.ranges)  # inf == inf
    assert np.count_nonzero(~same) <= 4  # a bin at an object's edge may see past it


def _blocked_by_matrix(headings: np.ndarray, bearings: np.ndarray, distances: np.ndarray, radius: float) -> np.ndarray:
    """The former headings x points evaluation, kept as the reference."""
    if bearings.size == 0:
        return np.zeros(headings.shape, dtype=bool)
    rel = headings[:, None] - bearings[None, :]
    return np.any((np.cos(rel) > 0.0) & (np.abs(distances[None, :] * np.sin(rel)) < radius), axis=1)


def test_memory_interval_marking_equals_the_matrix_reference() -> None:
    rng = np.random.default_rng(5)
    for trial in range(400):
        n, m = int(rng.integers(1, 120)), int(rng.integers(0, 60))
        headings = np.sort(rng.uniform(-1.5, 1.5, n)) if trial % 2 else rng.uniform(-3.2, 3.2, n)
        bearings, distances = rng.uniform(-math.pi, math.pi, m), rng.uniform(0.0, 3.0, m)
        radius = float(rng.uniform(0.0, 0.6))
        np.testing.assert_array_equal(
            headings_blocked_by(headings, bearings, distances, radius),
            _blocked_by_matrix(headings, bearings, distances, radius),
        )
