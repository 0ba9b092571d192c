"""The floor scale: a depth frame rescaled so that its floor lies at the camera's known height."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from depth_node import params
from depth_node.camera import CameraModel
from depth_node.cli import main
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import ParameterError
from depth_node.evaluation.world import Box, Pose, camera_for, render
from depth_node.msgs import MessageSet, depth_from_msg
from depth_node.msgs.vision_defs import typestore_with_vision
from depth_node.processing import DepthFrameProcessor
from depth_node.scale import FloorFit, FloorScaler, summarise_fits
from depth_node.simulation.in_process import OracleDepth
from tests.test_world import empty_room

HEIGHT, PITCH = 0.5, 0.05
CAMERA = CameraModel(160, 120, 128.0, 128.0, 79.5, 59.5)


def floor_and_wall(camera: CameraModel = CAMERA, wall_m: float = 4.0) -> np.ndarray:
    """Exact depth of a flat floor HEIGHT below the camera, and a wall at ``wall_m`` where the floor is farther."""
    v = (np.arange(camera.height) - camera.cy) / camera.fy
    drop = v * math.cos(PITCH) + math.sin(PITCH)  # height lost per metre of optical-axis depth
    with np.errstate(divide="ignore"):
        floor = np.where(drop > 0.0, HEIGHT / drop, np.inf)
    return np.repeat(np.minimum(floor, wall_m)[:, None], camera.width, axis=1).astype(np.float32)


def test_a_short_floor_is_scaled_back_to_the_camera_height() -> None:
    truth = floor_and_wall()
    depth, fit = FloorScaler(HEIGHT, PITCH).apply(truth * np.float32(0.9), CAMERA)
    assert fit.found and fit.support > 0.3
    assert fit.scale == pytest.approx(1.0 / 0.9, rel=0.005)
    np.testing.assert_allclose(depth, truth, rtol=0.005)


def test_obstacles_in_front_of_the_floor_do_not_move_the_fit() -> None:
    # An oblique box face over the lower middle of the image: each of its columns is a different amount
    # nearer than the floor behind it, and together they hold more pixels than the floor left in view. Their
    # factors spread, the floor's agree: a median over all pixels would land on the box, the mode does not.
    truth = floor_and_wall()
    truth[70:, 30:130] /= np.linspace(1.1, 1.45, 100, dtype=np.float32)[None, :]
    scaled = truth * np.float32(1.2)
    fit = FloorScaler(HEIGHT, PITCH).fit(scaled, CAMERA)
    assert fit.found
    assert fit.scale == pytest.approx(1.0 / 1.2, rel=0.005)
    floor = floor_and_wall(wall_m=10.0)  # rays that meet the floor within 10 m: the fit's pixels
    looking_down = floor < 10.0
    assert np.median(floor[looking_down] / scaled[looking_down]) > 1.05 / 1.2  # a median: off by > 5 %


def test_unknown_pixels_are_ignored() -> None:
    depth = floor_and_wall() * np.float32(1.1)
    depth[:, ::2] = np.nan
    depth[:, 1::4] = 0.0
    fit = FloorScaler(HEIGHT, PITCH).fit(depth, CAMERA)
    assert fit.found and fit.scale == pytest.approx(1.0 / 1.1, rel=0.005)


def test_no_floor_in_view_keeps_the_model_scale() -> None:
    wall = np.full((CAMERA.height, CAMERA.width), 0.4, np.float32)  # facing a wall close up
    scaler = FloorScaler(HEIGHT, PITCH)
    depth, fit = scaler.apply(wall, CAMERA)
    assert not fit.found and fit.scale == 1.0 and fit.support < 0.03
    assert depth is wall
    all_nan = np.full_like(wall, np.nan)
    assert not scaler.fit(all_nan, CAMERA).found


def test_a_factor_beyond_max_correction_is_not_taken() -> None:
    half = floor_and_wall() * np.float32(0.5)
    assert not FloorScaler(HEIGHT, PITCH, max_correction=1.5).fit(half, CAMERA).found
    fit = FloorScaler(HEIGHT, PITCH, max_correction=3.0).fit(half, CAMERA)  # a relative model's range
    assert fit.found and fit.scale == pytest.approx(2.0, rel=0.005)


def test_depth_at_another_resolution_than_the_camera_info() -> None:
    small = CAMERA.rescaled(80, 60)
    fit = FloorScaler(HEIGHT, PITCH).fit(floor_and_wall(small) * np.float32(0.8), CAMERA)
    assert fit.found and fit.scale == pytest.approx(1.25, rel=0.005)


def test_a_rendered_room_with_boxes() -> None:
    camera = camera_for(160, 120)
    scene = empty_room(boxes=(Box((1.5, 0.3, 0.3), (0.5, 0.8, 0.6), 0.3, 1, 1, "box"),))
    frame = render(scene, camera, Pose(0.0, 0.0, HEIGHT, 0.2, PITCH))
    fit = FloorScaler(HEIGHT, PITCH).fit(frame.depth * np.float32(0.87), camera)
    assert fit.found and fit.scale == pytest.approx(1.0 / 0.87, rel=0.005)


def test_bad_scaler_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="camera height"):
        FloorScaler(0.0, PITCH)
    with pytest.raises(ValueError, match="max_correction"):
        FloorScaler(HEIGHT, PITCH, max_correction=1.0)


def test_params_switch_it_on_and_refuse_a_bad_range() -> None:
    assert DepthNodeParams().floor_scaler() is None
    scaler = DepthNodeParams(floor_scale=True, camera_height_m=0.7, camera_pitch_rad=0.2).floor_scaler()
    assert scaler is not None and scaler.height == 0.7 and scaler.pitch == 0.2
    with pytest.raises(ParameterError, match="parameter 'floor_scale_max': 1.0 is below the minimum 1.01"):
        params.from_mapping(DepthNodeParams, {"floor_scale_max": 1.0})


def test_the_processor_publishes_the_rescaled_depth() -> None:
    messages = MessageSet.from_rosbags(typestore_with_vision())
    oracle = OracleDepth()
    truth = floor_and_wall()
    oracle.truth = truth * np.float32(0.9)
    header = messages.header(1_000_000_000, "camera")
    image = messages.image(np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8), "rgb8", header)
    info = messages.camera_info(CAMERA, header)
    mount = DepthNodeParams(floor_scale=True, camera_height_m=HEIGHT, camera_pitch_rad=PITCH, publish_cloud=False)
    out = DepthFrameProcessor(messages, oracle, mount).process(image, info)
    assert out.floor is not None and out.floor.found
    np.testing.assert_allclose(depth_from_msg(out.depth_msg), truth, rtol=0.005)
    plain = DepthFrameProcessor(messages, oracle, DepthNodeParams(publish_cloud=False)).process(image, info)
    assert plain.floor is None
    np.testing.assert_array_equal(depth_from_msg(plain.depth_msg), truth * np.float32(0.9))


def test_the_shipped_model_is_nearer_the_truth_with_the_floor_scale(capsys: pytest.CaptureFixture[str]) -> None:
    # Held-out synthetic frames, each rescaled with its own camera mount (depth-node eval --floor-scale).
    argv = ["eval", "--synthetic", "--seed", "20000000", "--count", "12", "--no-ssim"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*argv, "--floor-scale"]) == 0
    floor = json.loads(capsys.readouterr().out)
    assert not plain["floor_scaled"] and floor["floor_scaled"] and floor["floor_found_fraction"] == 1.0
    assert floor["n_pixels"] == plain["n_pixels"]
    assert floor["abs_rel"] < plain["abs_rel"] - 0.005


def test_a_run_of_fits_is_summarised_over_the_frames_with_a_floor() -> None:
    fits = [FloorFit(1.1, True, 0.4), FloorFit(1.0, False, 0.01), FloorFit(0.9, True, 0.5), FloorFit(1.0, True, 0.3)]
    summary = summarise_fits(fits)
    assert summary["frames"] == 4 and summary["found_fraction"] == 0.75
    assert summary["scale_p50"] == 1.0
    assert summary["scale_p05"] == pytest.approx(0.91) and summary["scale_p95"] == pytest.approx(1.09)
    assert summarise_fits([]) == dict.fromkeys(("frames", "found_fraction", "scale_p05", "scale_p50", "scale_p95")) | {
        "frames": 0
    }
