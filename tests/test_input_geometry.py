"""The network input's margin and resizes (depth_node.input_geometry), against torch / transformers' own formulas,
and the margin as a user's own ONNX gets it through ``model.*`` overrides."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.errors import ModelError
from depth_node.estimator import OnnxEstimator
from depth_node.input_geometry import Margin, margin_for, pad_frame, pad_width, resize_align_corners
from depth_node.model_spec import ModelSpec
from tests.onnx_models import plain_spec, write_affine_model


@pytest.mark.parametrize("side", [1, 2, 17, 150, 240, 320, 480, 640, 721, 1080])
def test_sqrt_half_is_zoedepths_margin(side: int) -> None:
    assert pad_width(side, "sqrt_half", 3.0) == int(np.sqrt(side / 2) * 3)
    assert pad_width(side, "fraction", 0.1) == int(side * 0.1)
    assert pad_width(side, "sqrt_half", 0.0) == 0


def test_reflect_margin_is_numpys_reflect() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    margin = margin_for(30, 40, "reflect", "sqrt_half", 3.0)
    assert (margin.top, margin.left, margin.padded) == (11, 13, (52, 66))
    want = np.pad(rgb, ((11, 11), (13, 13), (0, 0)), mode="reflect")
    np.testing.assert_array_equal(pad_frame(rgb, margin, "reflect"), want)
    np.testing.assert_array_equal(
        pad_frame(rgb, margin, "replicate"), np.pad(rgb, ((11, 11), (13, 13), (0, 0)), "edge")
    )
    assert pad_frame(rgb, margin_for(30, 40, "none", "sqrt_half", 3.0), "none") is rgb


@pytest.mark.parametrize(("src", "dst"), [((52, 66), (24, 32)), ((20, 30), (48, 64)), ((7, 9), (7, 20))])
def test_aligned_corner_resize_is_torchs(src: tuple[int, int], dst: tuple[int, int]) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 255, (*src, 3)).astype(np.float32)
    want = torch.nn.functional.interpolate(
        torch.from_numpy(image.transpose(2, 0, 1).copy())[None], size=dst, mode="bilinear", align_corners=True
    )[0].numpy()
    got = resize_align_corners(image, dst).transpose(2, 0, 1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-3)  # torch computes the positions in float32


def test_crop_is_the_zoedepth_post_processing() -> None:
    """Resize to the padded frame (bicubic, no aligned corners), cut the margin: transformers' order and filter."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    net = cv2.GaussianBlur(rng.uniform(1, 5, (24, 32)).astype(np.float32), (5, 5), 1.0)
    margin = margin_for(150, 200, "reflect", "sqrt_half", 3.0)
    full = torch.nn.functional.interpolate(
        torch.from_numpy(net)[None, None], size=margin.padded, mode="bicubic", align_corners=False
    )[0, 0].numpy()
    want = full[margin.top : -margin.top, margin.left : -margin.left]
    got = margin.crop_to(net, (150, 200), cv2.INTER_CUBIC)
    assert got.shape == (150, 200)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_crop_at_another_camera_size_keeps_the_frames_area() -> None:
    """A depth at half the frame's size crops half the margin (the same part of the scene)."""
    margin = Margin((100, 200), top=10, left=20)
    ramp = np.tile(np.arange(240, dtype=np.float32), (120, 1))  # column index of the padded frame
    got = margin.crop_to(ramp, (50, 100), cv2.INTER_LINEAR)
    assert got.shape == (50, 100)
    assert abs(float(got[0, 0]) - 20.5) < 1.0 and abs(float(got[0, -1]) - 218.5) < 1.0


def test_a_users_onnx_gets_a_margin_from_overrides(tmp_path: Path) -> None:
    """model.* overrides on a plain dynamic ONNX: the network sees the replicated margin, the depth does not."""
    path = write_affine_model(tmp_path / "dyn.onnx", None, fixed_hw=None)
    overrides = {
        **plain_spec(size_multiple=1).to_dict(),
        "pad_mode": "replicate",
        "pad_rule": "fraction",
        "pad_amount": 0.25,
    }
    est = OnnxEstimator(path, overrides, providers=["cpu"])
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 0] = np.tile(np.arange(64, dtype=np.uint8) * 3, (48, 1))
    batch = est.preprocess(rgb)
    assert batch.shape == (1, 3, 72, 96) and est.input_size(48, 64) == (72, 96)
    np.testing.assert_allclose(batch[0, 0, :, :16], 0.0)  # the left margin repeats the first column
    depth = est.predict(rgb, CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5))
    np.testing.assert_allclose(depth, 1.0 + 4.0 * rgb[..., 0] / 255.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("field", "value"),
    [("pad_mode", "zeros"), ("pad_rule", "log"), ("pad_amount", -1.0), ("pad_amount", 0.9), ("output_resample", "x")],
)
def test_bad_margin_fields_are_refused_naming_them(field: str, value: object) -> None:
    with pytest.raises(ModelError, match=field):
        ModelSpec().replace(**{field: value})


def test_the_margin_geometry_is_what_the_size_rule_sees() -> None:
    spec = ModelSpec(input_width=128, input_height=96, keep_aspect_ratio=True, size_multiple=16)
    spec = spec.replace(pad_mode="reflect", pad_rule="sqrt_half", pad_amount=3.0)
    padded = margin_for(480, 640, spec.pad_mode, spec.pad_rule, spec.pad_amount).padded
    assert padded == (480 + 2 * int(math.sqrt(240) * 3), 640 + 2 * int(math.sqrt(320) * 3))
