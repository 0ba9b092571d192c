"""Relative inverse depth made metric from the floor: scale and shift fitted on rendered scenes with known depth.

The "network output" is the rendered ground truth's inverse depth under an affine distortion ``A / depth + B``
(what a relative model gives: unknown scale and shift), with multiplicative noise. The fit must recover the
metric depth; a single floor factor (``floor_scale_mode: scale``) cannot undo the shift.
"""

from __future__ import annotations

import numpy as np
import pytest

from depth_node.depth_params import DepthNodeParams
from depth_node.evaluation.world import Pose, camera_for, render, sample_view
from depth_node.floor_affine import AffineFloorScaler, FloorNotFoundError
from depth_node.msgs import MessageSet, depth_from_msg
from depth_node.msgs.vision_defs import typestore_with_vision
from depth_node.processing import DepthFrameProcessor
from depth_node.scale import FloorScaler, summarise_fits
from depth_node.simulation.in_process import OracleDepth

CAMERA = camera_for(160, 120)


def _relative(depth: np.ndarray, a: float, b: float, noise: float, seed: int) -> np.ndarray:
    """What the estimator returns for a relative model: 1 / (a / depth + b), with multiplicative noise."""
    rng = np.random.default_rng(seed)
    inverse = (a / depth + b) * (1.0 + noise * rng.standard_normal(depth.shape))
    return (1.0 / inverse).astype(np.float32)


def _abs_rel(depth: np.ndarray, truth: np.ndarray) -> float:
    ok = np.isfinite(depth) & np.isfinite(truth) & (truth < 15.0)
    return float(np.median(np.abs(depth[ok] - truth[ok]) / truth[ok]))


@pytest.mark.parametrize("seed", range(8))
def test_scale_and_shift_are_recovered_on_rendered_scenes(seed: int) -> None:
    scene, pose = sample_view(seed)
    truth = render(scene, CAMERA, pose).depth
    rng = np.random.default_rng(100 + seed)
    a, b = float(rng.uniform(0.3, 3.0)), float(rng.uniform(0.2, 0.5))
    relative = _relative(truth, a, b, noise=0.01, seed=seed)
    metric, fit = AffineFloorScaler(pose.z, pose.pitch).apply(relative, CAMERA)
    assert fit.found
    assert fit.scale == pytest.approx(1 / a, rel=0.05)
    assert _abs_rel(metric, truth) < 0.03
    # One factor cannot undo the shift: without noise the line is exact and the scale-only fit is not.
    exact = _relative(truth, a, b, noise=0.0, seed=seed)
    assert _abs_rel(AffineFloorScaler(pose.z, pose.pitch).apply(exact, CAMERA)[0], truth) < 0.005
    scaled, _ = FloorScaler(pose.z, pose.pitch, max_correction=1000.0).apply(exact, CAMERA)
    assert _abs_rel(scaled, truth) > 0.02


def test_objects_on_the_floor_do_not_move_the_line() -> None:
    # Seeds whose view holds the most object pixels below the horizon: the line still goes through the floor.
    worst = 0.0
    for seed in range(8, 20):
        scene, pose = sample_view(seed)
        frame = render(scene, CAMERA, pose)
        if (frame.instance >= 0).mean() < 0.2:
            continue
        relative = _relative(frame.depth, 1.7, 0.3, noise=0.02, seed=seed)
        metric, fit = AffineFloorScaler(pose.z, pose.pitch).apply(relative, CAMERA)
        assert fit.found
        objects = (frame.instance >= 0) & np.isfinite(frame.depth)
        worst = max(worst, _abs_rel(np.where(objects, metric, np.nan), frame.depth))
    assert 0.0 < worst < 0.04


def test_a_frame_without_floor_is_counted_and_reuses_the_last_line() -> None:
    scene, pose = sample_view(3)
    frame = render(scene, CAMERA, pose)
    relative = _relative(frame.depth, 1.0, 0.2, noise=0.0, seed=0)
    scaler = AffineFloorScaler(pose.z, pose.pitch, smoothing=0.5)
    with pytest.raises(FloorNotFoundError, match="no floor line"):
        scaler.apply(np.full_like(relative, np.nan), CAMERA)  # nothing to fit and nothing before
    first, fit = scaler.apply(relative, CAMERA)
    assert fit.found and scaler.failures == 1
    again, blind = scaler.apply(np.where(np.arange(CAMERA.height)[:, None] < 10, relative, np.nan), CAMERA)
    assert not blind.found and scaler.failures == 2
    assert (blind.scale, blind.shift) == (fit.scale, fit.shift)
    np.testing.assert_allclose(again[:10], first[:10], rtol=1e-6)
    assert summarise_fits([fit, blind])["found_fraction"] == 0.5


def test_smoothing_averages_the_line_over_frames() -> None:
    scene, pose = sample_view(5)
    truth = render(scene, CAMERA, pose).depth
    scaler = AffineFloorScaler(pose.z, pose.pitch, smoothing=0.75)
    _, f1 = scaler.apply(_relative(truth, 1.0, 0.2, 0.0, 0), CAMERA)
    _, f2 = scaler.apply(_relative(truth, 2.0, 0.2, 0.0, 0), CAMERA)
    assert f1.scale == pytest.approx(1.0, rel=0.02)
    assert f2.scale == pytest.approx(0.75 * 1.0 + 0.25 * 0.5, rel=0.02)  # 3 parts the old line, 1 part the new


def test_the_node_publishes_metric_depth_from_a_relative_model() -> None:
    pose = Pose(0.0, 0.0, 0.45, 0.0, 0.12)
    scene, _ = sample_view(2)
    truth = render(scene, CAMERA, pose).depth
    oracle = OracleDepth()
    oracle.truth = _relative(truth, 2.5, 0.4, noise=0.0, seed=0)
    messages = MessageSet.from_rosbags(typestore_with_vision())
    header = messages.header(1_000_000_000, "camera")
    image = messages.image(np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8), "rgb8", header)
    info = messages.camera_info(CAMERA, header)
    mount = DepthNodeParams(
        floor_scale=True,
        floor_scale_mode="affine",
        camera_height_m=pose.z,
        camera_pitch_rad=pose.pitch,
        publish_cloud=False,
    )
    out = DepthFrameProcessor(messages, oracle, mount).process(image, info)
    assert out.floor is not None and out.floor.found
    assert _abs_rel(depth_from_msg(out.depth_msg), truth) < 0.01
    assert isinstance(mount.floor_scaler(), AffineFloorScaler)
    with pytest.raises(ValueError, match="smoothing"):
        AffineFloorScaler(0.5, 0.1, smoothing=1.0)


def test_the_real_camera_yaml_asks_for_the_affine_fit() -> None:
    from pathlib import Path

    from depth_node import params
    from depth_node.depth_params import NODE_NAME

    yaml_path = Path(__file__).resolve().parents[1] / "config" / "real_camera.yaml"
    loaded = params.load(DepthNodeParams, yaml_path, NODE_NAME, {})
    scaler = loaded.floor_scaler()
    assert isinstance(scaler, AffineFloorScaler) and scaler.smoothing == 0.5
