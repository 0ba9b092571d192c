"""Depth Anything 3 (the ``depth-anything-3`` package) -> ONNX with the node's model spec, for one view.

A DA3 checkpoint is not a transformers model: its ``config.json`` (written by the package's
``save_pretrained``, a ``PyTorchModelHubMixin``) holds only ``model_name``, which names one of the package's
own network configs. The network is built from that config with the package's own classes and the weights are
loaded from ``model.safetensors``; the package's API module is not imported (it pulls open3d, moviepy, pycolmap
and a CUDA torch for its file exports), only its model code (torch, einops, omegaconf, addict, safetensors).

What the graph computes for one image (N, 3, H, W), as the package's ``DepthAnything3Net`` does for a single
view (backbone, then the depth head; the camera branch does not change the depth and is left out):

- ``depth`` (N, 1, H, W): metric depth at a canonical focal length of 300 px for ``da3metric-*``, which the
  node multiplies by f / 300 with f the camera focal length at the network input (``trained_fx`` 300 at the
  input width); depth up to one scale for ``da3-*`` and ``da3mono-*`` (made metric by the floor fit).
- ``confidence`` (N, 1, H, W), any-view models (``da3-*``): the head's ``depth_conf`` (>= 1, larger = surer).
- ``sky`` (N, 1, H, W), ``da3metric-*`` and ``da3mono-*``: the sky head's score; the node makes depth NaN
  where it is >= 0.3 (the package's own threshold). The package itself writes the 99th percentile of the
  non-sky depth there instead, a far wall an obstacle filter would see.

The package's preprocessing (longest side resized to ``process_res``, 504, with OpenCV area / bicubic, sides
rounded to the nearest multiple of 14, ImageNet normalisation) is what the node's estimator does for a frame
resized to the fixed input size: the default input size is what that rule makes of a 640x480 frame (504x378).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from depth_node.errors import ModelError
from depth_node.model_spec import IMAGENET_MEAN, IMAGENET_STD, ModelSpec, OutputKind

PATCH = 14
PROCESS_RES = 504  # the package's default process_res (upper_bound_resize)
CANONICAL_FOCAL_PX = 300.0  # the metric model's depth is at this focal length (the package's apply_metric_scaling)
SKY_THRESHOLD = 0.3  # the package's compute_sky_mask threshold
INSTALL_HINT = (
    "pip install --no-deps depth-anything-3==0.1.1 and pip install einops omegaconf addict safetensors "
    "(README: 'Exporting models'; the package's own dependencies are not needed)"
)
REFUSED = {
    "da3nested": "its metric depth is aligned at run time to the any-view branch's predicted intrinsics with a "
    "confidence-weighted least-squares fit; export da3metric-large (metric) or da3-large (relative) instead",
    "da3-giant": "not exported (ViT-g, over a billion parameters, beyond a robot's budget); use da3-large",
}


def is_da3_source(source: str) -> bool:
    """Whether ``source`` names a DA3 checkpoint: a directory whose config.json has ``model_name``, or a DA3 hub id."""
    path = Path(source)
    config = path / "config.json"
    if path.is_dir():
        if not config.is_file():
            return False
        try:
            values = json.loads(config.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(values, dict) and "model_name" in values and "model_type" not in values
    return source.lower().startswith("depth-anything/da3")


def _local_dir(source: str) -> Path:
    path = Path(source)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise ModelError(f"'{source}': downloading a hub id needs huggingface_hub ({INSTALL_HINT})") from exc
    try:
        return Path(snapshot_download(source, allow_patterns=["config.json", "model.safetensors"]))
    except Exception as exc:  # huggingface_hub raises many types (offline, not found, gated)
        raise ModelError(f"'{source}': could not be downloaded ({exc})") from exc


def kind_of(model_name: str) -> str:
    """ "metric", "mono" or "anyview" from a DA3 model name; ModelError for the refused ones."""
    for prefix, reason in REFUSED.items():
        if model_name.startswith(prefix):
            raise ModelError(f"Depth Anything 3 '{model_name}' is not exported: {reason}")
    if model_name.startswith("da3metric"):
        return "metric"
    if model_name.startswith("da3mono"):
        return "mono"
    if model_name.startswith("da3-"):
        return "anyview"
    raise ModelError(f"'{model_name}' is not a Depth Anything 3 model name (da3-small, da3metric-large, ...)")


def load_da3(source: str) -> tuple[Any, str]:
    """(the package's network in eval mode with the checkpoint's weights, model_name).

    Raises:
        ModelError: the package is not installed, an unknown or refused model name, missing or bad weights.
    """
    directory = _local_dir(source)
    try:
        model_name = str(json.loads((directory / "config.json").read_text())["model_name"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"'{source}': config.json without a model_name ({exc})") from exc
    kind_of(model_name)
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"'{source}' has no weights (expected model.safetensors)")
    try:
        with warnings.catch_warnings():  # the package registers an omegaconf resolver with a deprecated call
            warnings.simplefilter("ignore")
            from depth_anything_3.cfg import create_object, load_config
            from depth_anything_3.registry import MODEL_REGISTRY
    except ImportError as exc:
        raise ModelError(f"exporting Depth Anything 3 needs its model code: {INSTALL_HINT} ({exc})") from exc
    if model_name not in MODEL_REGISTRY:
        raise ModelError(f"'{model_name}' is not a model of this depth-anything-3 ({', '.join(MODEL_REGISTRY)})")
    import torch
    from safetensors.torch import load_model

    logging.getLogger("depth_anything_3").setLevel(logging.ERROR)
    # The package prints build notices on stdout, where the command writes its one JSON line.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        net = create_object(load_config(MODEL_REGISTRY[model_name]))
    # save_pretrained stores the package's wrapper, with the network under "model." and tied tensors once;
    # safetensors' own loader restores the ties.
    holder = torch.nn.Module()
    holder.model = net
    try:
        load_model(holder, str(weights), strict=True)
    except Exception as exc:  # safetensors and torch raise their own error types for a bad or foreign file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"'{source}': the weights could not be loaded into {model_name} ({first})") from exc
    return net.eval(), model_name


def default_input_hw(height: int = 480, width: int = 640, process_res: int = PROCESS_RES) -> tuple[int, int]:
    """(height, width) the package's upper_bound_resize makes of a frame: longest side to process_res, x14."""
    scale = process_res / max(height, width)
    h, w = max(1, round(height * scale)), max(1, round(width * scale))

    def nearest(x: int) -> int:
        down = x // PATCH * PATCH
        return max(PATCH, down + PATCH if x - down >= PATCH - (x - down) else down)

    return nearest(h), nearest(w)


def spec_for(model_name: str, input_hw: tuple[int, int]) -> ModelSpec:
    """The node's model spec of a DA3 export at a fixed input size."""
    kind = kind_of(model_name)
    common: dict[str, Any] = {
        "input_height": input_hw[0],
        "input_width": input_hw[1],
        "size_multiple": PATCH,
        "color_order": "rgb",
        "scale": 1.0 / 255.0,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "resample": "bicubic",  # the package: cv2.INTER_CUBIC when enlarging, INTER_AREA when shrinking
        "sky_threshold": SKY_THRESHOLD,
    }
    if kind == "metric":
        return ModelSpec(
            output_kind=OutputKind.METRIC_DEPTH,
            trained_fx=CANONICAL_FOCAL_PX,
            min_depth_m=0.01,
            max_depth_m=1000.0,
            sky_output="sky",
            **common,
        )
    extra: dict[str, Any] = {"sky_output": "sky"} if kind == "mono" else {"confidence_output": "confidence"}
    # Depth up to one scale: made metric by the floor fit (floor_scale, mode scale, a large floor_scale_max).
    return ModelSpec(output_kind=OutputKind.RELATIVE_DEPTH, min_depth_m=0.0, max_depth_m=1e9, **extra, **common)


def output_names(model_name: str) -> list[str]:
    """The graph's outputs in order (depth first)."""
    kind = kind_of(model_name)
    return ["depth", "confidence"] if kind == "anyview" else ["depth", "sky"]


class _FixedPositions:
    """The backbone's RoPE patch positions for the one exported size, computed once by the package's own getter.

    The getter builds them with ``torch.cartesian_prod``, which no ONNX exporter converts, and the rotary
    embedding reads their maximum as a Python int; for a fixed input size they are a constant.
    """

    def __init__(self, positions: Any) -> None:
        self.positions = positions

    def __call__(self, batch_size: int, height: int, width: int, device: Any) -> Any:
        return self.positions[None].expand(batch_size, -1, -1).clone()


def single_view(net: Any, model_name: str, input_hw: tuple[int, int]) -> Any:
    """The network as a module ``image (N, 3, H, W) -> (depth, confidence | sky)``, each (N, 1, H, W)."""
    import torch

    names = output_names(model_name)
    for module in net.modules():
        getter = getattr(module, "position_getter", None)
        if getter is not None and not isinstance(getter, _FixedPositions):
            grid = getter(1, input_hw[0] // PATCH, input_hw[1] // PATCH, torch.device("cpu"))[0].clone()
            module.position_getter = _FixedPositions(grid)
    head_keys = {"depth": "depth", "confidence": "depth_conf", "sky": "sky"}

    class SingleView(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
            n, _, h, w = image.shape
            feats, _ = self.inner.backbone(
                image[:, None], cam_token=None, export_feat_layers=[], ref_view_strategy="first"
            )
            out = self.inner.head(feats, h, w, patch_start_idx=0)
            return tuple(out[head_keys[name]].reshape(n, 1, h, w) for name in names)

    return SingleView(net).eval()


def export_onnx(wrapped: Any, sample: Any, path: Path, opset: int, names: list[str]) -> None:
    """TorchScript-tracer export with a dynamic batch (the size is fixed: the head's resizes are Python ints)."""
    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (sample,),
            str(path),
            input_names=["image"],
            output_names=names,
            dynamic_axes={"image": {0: "batch"}, **{name: {0: "batch"} for name in names}},
            opset_version=opset,
            dynamo=False,
        )
