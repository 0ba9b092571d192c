"""depth-node export-hf of Depth Pro: a tiny random DepthProForDepthEstimation (real architecture, small widths,
FOV head on), saved with save_pretrained, exported, and the node's metres compared with transformers'.

transformers' ``DepthProImageProcessor`` needs torchvision, which cannot be installed next to this project's CPU
torch, so ``pipeline("depth-estimation")`` cannot run here. The reference is therefore transformers' own model
forward with the processor's and ``post_process_depth_estimation``'s steps written out (rescale, normalise,
bilinear resize without antialiasing; focal = 0.5 * width / tan(fov / 2), depth = 1 / clamp(inv * width / focal),
inverse depth resized bilinearly to the frame). Floor: median relative difference < 1 %, correlation > 0.99.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("transformers")

from depth_node.camera import CameraModel
from depth_node.estimator import OnnxEstimator
from tests.hf_models import export_with_cli, metric_agreement, smooth_image

SIZE = 256  # the processor's size (the published model: 1536)


def _save_tiny(directory: Path) -> Path:
    import torch
    import transformers as tf

    def dino() -> dict[str, Any]:
        values: dict[str, Any] = {
            "hidden_size": 32,
            "num_hidden_layers": 4,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "patch_size": 16,
            "image_size": SIZE // 4,
        }
        return tf.Dinov2Config(**values).to_dict()

    config = tf.DepthProConfig(
        patch_size=SIZE // 4,
        fusion_hidden_size=16,
        intermediate_hook_ids=[3, 1],
        intermediate_feature_dims=[16, 16],
        scaled_images_feature_dims=[32, 32, 16],
        use_fov_model=True,
        image_model_config=dino(),
        patch_model_config=dino(),
        fov_model_config=dino(),
    )
    torch.manual_seed(0)
    model = tf.DepthProForDepthEstimation(config).eval()
    with torch.no_grad():
        _calibrate(model)
    model.save_pretrained(directory)
    processor = {"image_processor_type": "DepthProImageProcessor", "size": {"height": SIZE, "width": SIZE}}
    (directory / "preprocessor_config.json").write_text(json.dumps(processor))
    return directory


def _pixels(rgb: np.ndarray) -> Any:
    """The processor's steps: rescale, normalise (0.5, 0.5), then bilinear resize without antialiasing."""
    import torch

    x = torch.from_numpy(((rgb.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1).copy())[None]
    return torch.nn.functional.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)


def _calibrate(model: Any) -> None:
    """Inverse depth of mean 1, std 0.15 before the final ReLU (positive); field of view about 60 degrees."""
    layer = model.head.layers[-2]
    captured: list[Any] = []
    hook = layer.register_forward_hook(lambda _m, _i, out: captured.append(out - layer.bias.view(1, -1, 1, 1)))
    out = model(pixel_values=_pixels(smooth_image(150, 200, seed=1)))
    hook.remove()
    gain = 0.15 / float(captured[0].std())
    layer.weight.mul_(gain)
    layer.bias.fill_(1.0 - gain * float(captured[0].mean()))
    last = [m for m in model.fov_model.head.modules() if hasattr(m, "bias") and m.bias is not None][-1]
    fov = float(out.field_of_view.reshape(-1)[0]) - float(last.bias.reshape(-1)[0])
    last.weight.mul_(0.01)
    last.bias.fill_(60.0 - 0.01 * fov)


def _reference(src: Path, rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """transformers' model and post-processing: (depth in metres at the frame's size, field of view deg)."""
    import torch
    import transformers as tf

    model = tf.AutoModelForDepthEstimation.from_pretrained(src).eval()
    h, w = rgb.shape[:2]
    with torch.no_grad():
        out = model(pixel_values=_pixels(rgb))
    fov = out.field_of_view.reshape(-1)[0]
    focal = 0.5 * w / torch.tan(0.5 * torch.deg2rad(fov))
    inv = out.predicted_depth[0] * w / focal
    inv = torch.nn.functional.interpolate(inv[None, None], size=(h, w), mode="bilinear")[0, 0]
    return (1.0 / torch.clamp(inv, min=1e-4, max=1e4)).numpy().astype(np.float64), float(fov)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("depth_pro")
    src = _save_tiny(root / "hf_depth_pro")
    out = root / "depth_pro.onnx"
    return src, out, export_with_cli(src, out)


def test_export_carries_a_metric_spec_at_a_normalised_focal(exported: Any) -> None:
    import onnxruntime as ort

    _, out, info = exported
    assert info["family"] == "depth_pro" and info["max_rel_diff"] < 1e-4
    spec = info["spec"]
    assert (spec["output_kind"], spec["input_width"], spec["trained_fx"], spec["trained_width"]) == (
        "metric_inverse_depth",
        SIZE,
        float(SIZE),
        SIZE,
    )
    assert spec["fov_output"] == "field_of_view" and spec["mean"] == [0.5, 0.5, 0.5]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["inverse_depth", "field_of_view"]


@pytest.mark.parametrize("use_fov_head", [False, True])
def test_node_matches_transformers_in_metres(exported: Any, use_fov_head: bool) -> None:
    """With the camera's focal equal to the one the FOV head implies, and with the FOV head as the fallback."""
    src, out, _ = exported
    rgb = smooth_image(150, 200, seed=3)
    h, w = rgb.shape[:2]
    ref, fov = _reference(src, rgb)
    assert 40.0 < fov < 80.0 and float(ref.std() / ref.mean()) > 0.1
    fx = (w / 2) / math.tan(math.radians(fov) / 2)
    estimator = OnnxEstimator(out, providers=["cpu"])
    camera = CameraModel(w, h, 3 * fx if use_fov_head else fx, fx, (w - 1) / 2, (h - 1) / 2)
    got = estimator.predict_outputs(rgb, camera, focal_known=not use_fov_head)
    assert (got.fov_deg is not None) == use_fov_head
    median, corr = metric_agreement(got.depth.astype(np.float64), ref)
    assert median < 0.01 and corr > 0.99, (median, corr)


def test_the_camera_focal_sets_the_scale(exported: Any) -> None:
    _, out, _ = exported
    rgb = smooth_image(150, 200, seed=3)
    estimator = OnnxEstimator(out, providers=["cpu"])
    near = estimator.predict(rgb, CameraModel(200, 150, 150.0, 150.0, 99.5, 74.5))
    far = estimator.predict(rgb, CameraModel(200, 150, 300.0, 300.0, 99.5, 74.5))
    ok = np.isfinite(near) & np.isfinite(far)
    np.testing.assert_allclose(far[ok], 2.0 * near[ok], rtol=1e-5)
