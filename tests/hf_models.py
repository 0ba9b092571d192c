"""Tiny random-initialised Hugging Face depth models, written with save_pretrained (no download).

Each has the real architecture of its family with few layers and small widths. The weights are redrawn from
a normal distribution with std 0.2: the default initialisation (std 0.02) gives a nearly constant depth map,
on which any resize or normalisation convention would pass a parity test. The last layer's bias is set so
that the output is positive everywhere (an inverse depth must be, to be inverted).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

WEIGHT_STD = 0.2


def _config(family: str, **extra: Any) -> Any:
    import transformers as tf

    if family in ("depth_anything", "depth_anything_metric"):
        backbone = tf.Dinov2Config(
            hidden_size=32,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=64,
            patch_size=14,
            image_size=518,
            out_features=["stage1", "stage2", "stage3", "stage4"],
            reshape_hidden_states=False,
        )
        kind = {"depth_estimation_type": "metric", "max_depth": 20} if family.endswith("metric") else {}
        return tf.DepthAnythingConfig(
            backbone_config=backbone,
            reassemble_hidden_size=32,
            neck_hidden_sizes=[8, 16, 32, 32],
            fusion_hidden_size=16,
            head_hidden_size=8,
            **kind,
            **extra,
        )
    if family == "dpt":
        return tf.DPTConfig(
            hidden_size=32,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=384,
            patch_size=16,
            backbone_out_indices=[0, 1, 2, 3],
            neck_hidden_sizes=[8, 16, 32, 32],
            fusion_hidden_size=16,
            head_in_index=-1,
            **extra,
        )
    if family == "glpn":
        return tf.GLPNConfig(
            num_encoder_blocks=4,
            depths=[1, 1, 1, 1],
            sr_ratios=[8, 4, 2, 1],
            hidden_sizes=[8, 16, 32, 32],
            num_attention_heads=[1, 1, 2, 2],
            decoder_hidden_size=16,
            max_depth=10,
            **extra,
        )
    raise ValueError(family)


def _processor(family: str, **extra: Any) -> Any:
    """The family's image processor with the published checkpoints' settings (smaller nominal sizes, for speed)."""
    import transformers as tf

    if family.startswith("depth_anything"):  # as depth-anything/Depth-Anything-V2-Small-hf, at 182 instead of 518
        values = {
            "size": {"height": 182, "width": 182},
            "keep_aspect_ratio": True,
            "ensure_multiple_of": 14,
            "resample": 3,  # PIL bicubic
            "image_mean": [0.485, 0.456, 0.406],
            "image_std": [0.229, 0.224, 0.225],
        }
        return tf.DPTImageProcessorPil(**{**values, **extra})
    if family == "dpt":  # as Intel/dpt-large, at 96 instead of 384
        values = {"size": {"height": 96, "width": 96}, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
        return tf.DPTImageProcessorPil(**{**values, **extra})
    if family == "glpn":  # as vinvino02/glpn-nyu
        return tf.GLPNImageProcessorPil(**{"size_divisor": 32, **extra})
    raise ValueError(family)


def last_layer(model: Any) -> Any:
    """The convolution that produces the depth map (its bias sets the output's offset)."""
    family = model.config.model_type
    if family == "depth_anything":
        return model.head.conv3
    if family == "dpt":
        return model.head.head[-2]
    return model.head.head[-1] if hasattr(model.head, "head") else None


def save_tiny(family: str, directory: Path, seed: int = 0, **processor_extra: Any) -> Path:
    """Write a tiny random model of ``family`` and its image processor with save_pretrained; returns the directory.

    Families: depth_anything (relative), depth_anything_metric, dpt, glpn.
    """
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    model = tf.AutoModelForDepthEstimation.from_config(_config(family)).eval()
    processor = _processor(family, **processor_extra)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, WEIGHT_STD)
        _calibrate_last_layer(model, processor, family)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def smooth_image(height: int = 240, width: int = 320, seed: int = 0) -> Any:
    """An RGB uint8 test image: gradients and a few soft blobs, little texture finer than a few pixels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([255 * u / width, 255 * v / height, 128 + 60 * np.sin(u / 23.0) * np.cos(v / 17.0)], axis=-1)
    for _ in range(6):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(15, 50)
        blob = np.exp(-((u - cx) ** 2 + (v - cy) ** 2) / (2 * r * r))[..., None]
        img = img * (1 - blob) + rng.uniform(0, 255, 3) * blob
    return np.clip(img, 0, 255).astype(np.uint8)


def _calibrate_last_layer(model: Any, processor: Any, family: str) -> None:
    """Rescale the last convolution so its output has a set mean and spread on a test image.

    With std-0.2 weights everywhere, the pre-activation of the last layer is hundreds wide: a ReLU head gives
    zeros over half the image and a sigmoid head saturates at 0 and max_depth. Relative heads get mean 3 and
    std 0.8 (positive nearly everywhere, so they invert to a depth), sigmoid heads mean 0 and std 1.
    """

    layer = last_layer(model)
    mean, spread = (3.0, 0.8) if family in ("depth_anything", "dpt") else (0.0, 1.0)
    captured: list[Any] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out - layer.bias.view(1, -1, 1, 1)))
    pixels = processor(images=smooth_image(), return_tensors="pt")["pixel_values"]
    model(pixel_values=pixels)
    handle.remove()
    raw = captured[0]
    gain = spread / float(raw.std())
    layer.weight.mul_(gain)
    layer.bias.fill_(mean - gain * float(raw.mean()))


def save_tiny_zoedepth(directory: Path, seed: int = 0, max_depth: float = 10.0) -> Path:
    """A tiny random ZoeDepthForDepthEstimation (BEiT backbone with relative position bias, one metric head) and
    its image processor as Intel/zoedepth-nyu configures it (bilinear, keep aspect, multiple of 32 here 16),
    nominal size 96x128 instead of 384x512.

    All weights are redrawn with std 0.2 (the default initialisation gives a constant depth); the seed bin
    regressor's last layer is made nearly constant with centres spread over 0.5-8 m and the attractors' last
    layers are damped, so the depth (a per-pixel weighted mean of those centres) stays in (0.4, 8.5) m and varies.
    """
    import torch
    import transformers as tf

    beit = tf.BeitConfig(
        image_size=96,
        num_hidden_layers=4,
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=2,
        patch_size=16,
        use_relative_position_bias=True,
        reshape_hidden_states=False,
        out_features=["stage1", "stage2", "stage3", "stage4"],
    )
    config = tf.ZoeDepthConfig(
        backbone_config=beit,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        bottleneck_features=16,
        bin_embedding_dim=16,
        num_relative_features=8,
        bin_configurations=[{"n_bins": 16, "min_depth": 0.001, "max_depth": max_depth}],
    )
    torch.manual_seed(seed)
    model = tf.ZoeDepthForDepthEstimation(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, WEIGHT_STD)
        head = model.metric_head
        seed_layer = head.seed_bin_regressor.conv2
        seed_layer.weight.mul_(0.01)
        centres = torch.linspace(0.5, 8.0, seed_layer.bias.numel())
        seed_layer.bias.copy_(centres + torch.log(-torch.expm1(-centres)))  # softplus(bias) = centres
        for attractor in head.attractors:
            attractor.conv2.weight.mul_(0.01)
    model.save_pretrained(directory)
    processor = tf.ZoeDepthImageProcessorPil(
        size={"height": 96, "width": 128}, keep_aspect_ratio=True, ensure_multiple_of=16, resample=2
    )
    processor.save_pretrained(directory)
    return directory


def export_with_cli(src: Path, out: Path) -> dict[str, Any]:
    """Run ``depth-node export-hf src --out out`` as a user does; its report (the last stdout line, JSON)."""
    from depth_node.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["export-hf", str(src), "--out", str(out)]) == 0
    report: dict[str, Any] = json.loads(buffer.getvalue().strip().splitlines()[-1])
    return report


def metric_agreement(ours: Any, ref: Any) -> tuple[float, float]:
    """(median relative difference, correlation) of two metric depth maps over the pixels finite in both
    (which must be nearly all of them): the parity figures of the metric families, no scale fitted."""
    ok = np.isfinite(ours) & np.isfinite(ref)
    assert ok.mean() > 0.99
    return (
        float(np.median(np.abs(ours[ok] - ref[ok]) / ref[ok])),
        float(np.corrcoef(ours[ok], ref[ok])[0, 1]),
    )
