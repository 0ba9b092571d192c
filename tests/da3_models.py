"""Depth Anything 3 networks with seeded random weights, saved as the depth-anything-3 package saves them.

The package's ``DepthAnything3`` is a ``PyTorchModelHubMixin`` module holding the network as ``.model``, built
from the config its ``model_name`` names; its ``save_pretrained`` writes ``config.json`` ({"model_name": ...})
and ``model.safetensors``. :func:`save_da3` does the same with the same mixin and the package's own network
classes (the package's API module itself imports moviepy, open3d and torchvision for its file exports).

``da3-small`` is the real DA3-Small architecture. The metric and mono networks of the hub are ViT-L (1.3 GB in
float32), too large for a test: :func:`register_vits_variant` registers their architecture (DPT head with a sky
head, no camera branch) on the ViT-S backbone under a new name, e.g. ``da3metric-vits``.

Default initialisation leaves the depth logits near constant and an exponential head then gives a flat map,
on which any resize or normalisation convention would pass: the last convolutions are rescaled so that on a
test image the depth logits have mean 0 and std 0.5 (depth within about e^+-1.5), the confidence logits std 1
and the sky score is at least 0.3 over roughly a tenth of the image.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

VITS_HEAD = {"dim_in": 384, "features": 64, "out_channels": [48, 96, 192, 384]}


def register_vits_variant(name: str, base: str, directory: Path) -> str:
    """Write ``base``'s config with a ViT-S backbone into ``directory`` and register it as ``name``; returns name.

    The registry is the package's module-level dict: callers undo it (pytest's monkeypatch) after the test.
    """
    from depth_anything_3.registry import MODEL_REGISTRY
    from omegaconf import OmegaConf

    config = OmegaConf.load(MODEL_REGISTRY[base])
    config.net.name = "vits"
    config.net.out_layers = [5, 7, 9, 11]
    for key, value in VITS_HEAD.items():
        config.head[key] = value
    path = directory / f"{name}.yaml"
    directory.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(config, path)
    MODEL_REGISTRY[name] = str(path)
    return name


def _normalised(rgb: np.ndarray, hw: tuple[int, int]) -> Any:
    import cv2
    import torch

    small = cv2.resize(rgb, (hw[1], hw[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    x = (small - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy())[None, None]


def _calibrate(net: Any, rgb: np.ndarray) -> None:
    """Rescale the depth (and confidence) and sky convolutions to the spreads the module docstring gives."""

    layers = {"main": net.head.scratch.output_conv2[-1]}
    if hasattr(net.head.scratch, "sky_output_conv2"):
        layers["sky"] = net.head.scratch.sky_output_conv2[-1]
    captured: dict[str, Any] = {}
    handles = [
        layer.register_forward_hook(
            lambda _m, _i, out, key=key, layer=layer: captured.__setitem__(key, out - layer.bias.view(1, -1, 1, 1))
        )
        for key, layer in layers.items()
    ]
    net(_normalised(rgb, (140, 182)))
    for handle in handles:
        handle.remove()
    targets = {"main": [(0.0, 0.5), (0.5, 1.0)], "sky": [(-0.2, 0.4)]}
    for key, layer in layers.items():
        raw = captured[key]
        for channel, (mean, spread) in enumerate(targets[key][: raw.shape[1]]):
            values = raw[:, channel]
            gain = spread / float(values.std())
            layer.weight[channel].mul_(gain)
            layer.bias[channel] = mean - gain * float(values.mean())


@functools.cache
def saved_class() -> Any:
    """A PyTorchModelHubMixin module as depth_anything_3.api.DepthAnything3: the network under .model,
    model_name in config.json (save_pretrained / from_pretrained as the package's)."""
    import torch
    from depth_anything_3.cfg import create_object, load_config
    from depth_anything_3.registry import MODEL_REGISTRY
    from huggingface_hub import PyTorchModelHubMixin

    class Saved(torch.nn.Module, PyTorchModelHubMixin):
        def __init__(self, model_name: str) -> None:
            super().__init__()
            self.model_name = model_name
            self.model = create_object(load_config(MODEL_REGISTRY[model_name]))

    return Saved


def save_da3(model_name: str, directory: Path, seed: int = 0) -> Path:
    """Build ``model_name`` with seeded weights and save it as the package does; returns the directory."""
    import torch

    from tests.hf_models import smooth_image

    torch.manual_seed(seed)
    saved = saved_class()(model_name=model_name).eval()
    with torch.no_grad():
        _calibrate(saved.model, smooth_image(240, 320, seed=seed))
    saved.save_pretrained(directory)
    return directory
