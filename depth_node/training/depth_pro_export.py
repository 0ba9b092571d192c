"""Depth Pro (transformers ``depth_pro``) -> ONNX: metric depth from the camera's own focal length.

The network predicts a canonical inverse depth ``inv`` and, with its field-of-view head, the horizontal field of
view. transformers' post-processing turns them into metres as ``1 / (inv * width / focal)`` with the focal from
that predicted field of view: depth = (focal / width) / inv. A robot knows its focal length (CameraInfo), so the
graph outputs ``inverse_depth`` = inv (1 / metres at focal / width = 1), the spec says ``metric_inverse_depth``
with ``trained_fx`` = input width (a normalised focal of 1), and the node divides by the camera's fx / width,
resizes the inverse depth to the frame and inverts it, in the post-processing's order. The FOV
head's output (``field_of_view``, degrees) stays in the graph and in the spec (``fov_output``) for cameras without
a calibration: ``depth-node predict`` without ``--hfov-deg`` uses it.

The image processor (``DepthProImageProcessor``) exists only with torchvision, which this project cannot
install next to its CPU torch; its settings are read from ``preprocessor_config.json`` over the class's
defaults (1536x1536, rescale 1/255, mean and std 0.5, bilinear). Its order (normalise, then resize the float
image without antialiasing) equals the node's (resize, then normalise) up to the node's uint8 rounding when
enlarging; a frame larger than the input is averaged by the node (area), not sampled bilinearly.

The patch encoder splits the batch into tiles with sizes fixed at export, so the graph has batch 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from depth_node.errors import ModelError
from depth_node.model_spec import ModelSpec, OutputKind

# DepthProImageProcessor's class defaults (transformers 5.x).
DEFAULTS: dict[str, Any] = {
    "size": {"height": 1536, "width": 1536},
    "do_rescale": True,
    "rescale_factor": 1.0 / 255.0,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "resample": 2,  # PIL bilinear
}
MIN_INVERSE = 1e-4  # the post-processing clamps inverse depth to [1e-4, 1e4]: depth outside is unknown here


def processor_settings(source: str) -> Any:
    """The image processor's settings (attributes as on the processor) from preprocessor_config.json."""
    path = Path(source) / "preprocessor_config.json"
    if not path.is_file():
        try:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(source, "preprocessor_config.json"))
        except Exception as exc:  # huggingface_hub raises many types (offline, not found)
            raise ModelError(f"'{source}' has no image processor config (preprocessor_config.json)") from exc
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"'{path}' is not readable JSON ({exc})") from exc
    return SimpleNamespace(**{**DEFAULTS, **{k: v for k, v in values.items() if k in DEFAULTS}})


def input_hw(processor: Any) -> tuple[int, int]:
    """The processor's fixed (height, width)."""
    return int(processor.size["height"]), int(processor.size["width"])


def spec_for(processor: Any, hw: tuple[int, int], has_fov: bool) -> ModelSpec:
    """Metric depth at a normalised focal of 1 (``trained_fx`` = input width), mean/std from the processor."""
    do_norm = bool(processor.do_normalize)
    return ModelSpec(
        input_height=hw[0],
        input_width=hw[1],
        size_multiple=1,
        color_order="rgb",
        scale=float(processor.rescale_factor) if processor.do_rescale else 1.0,
        mean=tuple(float(v) for v in processor.image_mean) if do_norm else (0.0, 0.0, 0.0),  # type: ignore[arg-type]
        std=tuple(float(v) for v in processor.image_std) if do_norm else (1.0, 1.0, 1.0),  # type: ignore[arg-type]
        resample="bilinear",
        output_kind=OutputKind.METRIC_INVERSE_DEPTH,
        trained_fx=float(hw[1]),
        trained_width=hw[1],
        min_depth_m=MIN_INVERSE,
        max_depth_m=1.0 / MIN_INVERSE,
        fov_output="field_of_view" if has_fov else "",
    )


def depth_and_fov(model: Any) -> Any:
    """The model as ``image -> (inverse_depth (N, 1, H, W) at focal / width = 1, [field_of_view (N, 1) deg])``."""
    import torch

    has_fov = getattr(model, "fov_model", None) is not None

    class DepthAndFov(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = self.inner(pixel_values=image)
            inverse = out.predicted_depth.unsqueeze(1)
            if has_fov:
                return inverse, out.field_of_view.reshape(-1, 1)
            return (inverse,)

    return DepthAndFov(model).eval()


def output_names(model: Any) -> list[str]:
    """The graph's outputs, depth first."""
    names = ["inverse_depth", "field_of_view"]
    return names if getattr(model, "fov_model", None) is not None else names[:1]


def export_onnx(wrapped: Any, sample: Any, path: Path, opset: int, names: list[str]) -> None:
    """TorchScript-tracer export, batch 1 (the patch split is sized at export)."""
    import logging
    import warnings

    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped, (sample,), str(path), input_names=["image"], output_names=names, opset_version=opset, dynamo=False
        )
