"""A Hugging Face ``transformers`` depth-estimation checkpoint -> ONNX with the node's model spec.

The spec is read from the checkpoint's own configs (the model config and the image processor's), so that the
node's estimator feeds the network what ``transformers``' pipeline would: the same size rule, filter family,
scale, mean and std, and reads its output with the same meaning. Nothing is typed by hand.

Families (``AutoModelForDepthEstimation``'s mapping) and how they export:

- ``depth_anything`` (V1, V2, relative and metric) and ``dpt`` (DPT / MiDaS): a ViT whose depth head resizes to a
  size it computes with Python ints, which both ONNX exporters freeze into the graph. They are exported at one
  fixed input size (by default what the image processor makes of a 640x480 frame), with a dynamic batch.
- ``glpn``: convolutional decoder, exported with a dynamic batch, height and width (multiples of 32) by the
  ``torch.export`` based exporter; the TorchScript tracer mis-exports its attention.
- ``depth_pro``: fixed size and batch 1, metric at the camera's focal (:mod:`depth_node.training.depth_pro_export`).
- ``zoedepth``: fixed size like DPT, metric, with its reflected margin in the spec
  (:mod:`depth_node.training.zoedepth_export`).
- The others are refused with the reason (see :data:`REFUSED`).
- Depth Anything 3 (the ``depth-anything-3`` package, not transformers): see
  :mod:`depth_node.training.da3_export`; exported at a fixed size with its confidence or sky output.

Every export is checked against torch with ONNX Runtime before the file gets its name.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from depth_node.errors import ModelError
from depth_node.model_spec import ModelSpec, OutputKind

DEFAULT_OPSET = 18
PARITY_REL_TOLERANCE = 1e-4
REFERENCE_FRAME = (480, 640)  # (height, width) whose processed size is the default fixed input size

SUPPORTED = ("depth_anything", "dpt", "glpn", "depth_pro", "zoedepth")
REFUSED = {
    "prompt_depth_anything": "it needs a metric prompt depth (LiDAR) as a second input, and this node has "
    "only a camera",
    "chmv2": "it estimates canopy height from aerial images, not depth along a camera's optical axis",
    "tipsv2_dpt": "its depth-bin head and its torchvision-only image processor are not verified by this "
    "exporter's parity tests",
}
_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


@dataclass(frozen=True)
class HfExportResult:
    """What :func:`export_hf` wrote and how closely ONNX Runtime matched torch."""

    path: Path
    family: str
    spec: ModelSpec
    dynamic_size: bool
    max_rel_diff: float
    size_bytes: int


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _check_source(source: str) -> None:
    """A local path must be a save_pretrained directory with weights; anything else is taken as a hub id."""
    path = Path(source)
    looks_local = path.exists() or source.startswith((".", "/", "~")) or source.count("/") > 1
    if not looks_local:
        return
    if not path.is_dir():
        raise ModelError(f"'{source}' is not a directory written by save_pretrained (nor a hub id)")
    if not (path / "config.json").is_file():
        raise ModelError(f"'{source}' has no config.json: not a directory written by save_pretrained")
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        raise ModelError(f"'{source}' has no weights (expected one of {', '.join(_WEIGHT_FILES)})")


def load_checkpoint(source: str) -> tuple[Any, Any, str]:
    """(model in eval mode, image processor, family) of a hub id or a save_pretrained directory.

    Raises:
        ModelError: not a depth-estimation model, a refused family, no weights or no image processor config.
    """
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES

    _check_source(source)
    # One line per outcome: transformers' progress bars and notices would bury the command's own answer.
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)  # its retry notices when offline
    try:
        config = transformers.AutoConfig.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"'{source}': no readable transformers config ({_first_line(exc)})") from exc
    family = str(config.model_type)
    depth_families = sorted(MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES)
    if family not in MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES:
        raise ModelError(
            f"'{source}' is a '{family}' model, not a depth-estimation model "
            f"(transformers' depth families: {', '.join(depth_families)})"
        )
    if family in REFUSED:
        raise ModelError(f"family '{family}' is not exported: {REFUSED[family]}")
    if family not in SUPPORTED:
        raise ModelError(f"family '{family}' is not exported: this exporter does not know its conventions yet")
    if family == "dpt" and getattr(config, "is_hybrid", False):
        raise ModelError("family 'dpt' with a hybrid (BiT) backbone is not exported: not covered by the parity tests")
    if family == "zoedepth":
        from depth_node.training.zoedepth_export import check_config

        check_config(config)
    try:
        model = transformers.AutoModelForDepthEstimation.from_pretrained(source).eval()
    except Exception as exc:  # torch, safetensors and transformers each raise their own types for a bad file
        raise ModelError(f"'{source}': the weights could not be loaded ({_first_line(exc)})") from exc
    if family == "depth_pro":  # its processor class needs torchvision: its settings are read from the JSON
        from depth_node.training.depth_pro_export import processor_settings

        return model, processor_settings(source), family
    try:
        processor = transformers.AutoImageProcessor.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"'{source}' has no image processor config (preprocessor_config.json): the input conventions "
            "cannot be derived from the checkpoint"
        ) from exc
    return model, processor, family


def _patch_size(config: Any) -> int:
    backbone = getattr(config, "backbone_config", None)
    patch: Any = getattr(backbone, "patch_size", None) or getattr(config, "patch_size", None) or 16
    return int(patch[0] if isinstance(patch, (list, tuple)) else patch)


def _processed_size(processor: Any, height: int, width: int) -> tuple[int, int]:
    """(height, width) the image processor makes of a frame of this size: its own rule, run, not re-implemented."""
    frame = np.full((height, width, 3), 128, np.uint8)
    pixels = processor(images=frame, return_tensors="np")["pixel_values"]
    return int(pixels.shape[-2]), int(pixels.shape[-1])


def _resample_name(resample: Any) -> str:
    name = str(getattr(resample, "name", resample)).lower()
    if "cubic" in name or str(resample) == "3":
        return "bicubic"
    return "bilinear"


def spec_for(family: str, config: Any, processor: Any, input_hw: tuple[int, int] | None) -> ModelSpec:
    """The node's model spec from a checkpoint's configs.

    Args:
        family: The model_type ("depth_anything", "dpt", "glpn", "zoedepth").
        config: The model config (depth_estimation_type, max_depth, patch size).
        processor: The image processor (mean, std, rescale factor, size, keep_aspect_ratio, multiple, filter).
        input_hw: The fixed (height, width) the network is exported at; None for a dynamic-size network.
    """
    if family == "zoedepth":
        from depth_node.training import zoedepth_export

        assert input_hw is not None
        resample = _resample_name(getattr(processor, "resample", "bilinear"))
        return zoedepth_export.spec_for(config, processor, input_hw, resample)
    if getattr(processor, "do_pad", False):
        raise ModelError(f"{family}: the image processor pads (do_pad), which the node's estimator does not reproduce")
    do_norm = bool(getattr(processor, "do_normalize", False))
    mean = tuple(float(v) for v in processor.image_mean) if do_norm else (0.0, 0.0, 0.0)
    std = tuple(float(v) for v in processor.image_std) if do_norm else (1.0, 1.0, 1.0)
    scale = float(processor.rescale_factor) if getattr(processor, "do_rescale", True) else 1.0
    common: dict[str, Any] = {
        "color_order": "rgb",
        "scale": scale,
        "mean": mean,
        "std": std,
        "resample": _resample_name(getattr(processor, "resample", "bilinear")),
    }
    if family == "glpn":
        return ModelSpec(
            size_multiple=int(getattr(processor, "size_divisor", 32) or 32),
            size_rounding="floor",
            output_kind=OutputKind.METRIC_DEPTH,
            min_depth_m=0.01,
            max_depth_m=float(config.max_depth),
            **common,
        )
    assert input_hw is not None
    multiple = getattr(processor, "ensure_multiple_of", 1) or 1
    spec = ModelSpec(
        input_width=input_hw[1],
        input_height=input_hw[0],
        size_multiple=max(1, int(multiple)),
        keep_aspect_ratio=bool(getattr(processor, "keep_aspect_ratio", False)),
        **common,
    )
    if family == "depth_anything" and getattr(config, "depth_estimation_type", "relative") == "metric":
        return spec.replace(output_kind="metric_depth", min_depth_m=0.01, max_depth_m=float(config.max_depth))
    # Relative inverse depth is not in metres until scale and shift are fitted (floor_scale_mode: affine);
    # the range only drops non-positive values.
    return spec.replace(output_kind="relative_inverse_depth", min_depth_m=0.0, max_depth_m=1e9)


def _depth_only(model: Any) -> Any:
    """The model as a module that maps ``image`` to ``depth`` (N, 1, H, W), the graph's one input and output."""
    import torch

    class DepthOnly(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.inner(pixel_values=image).predicted_depth.unsqueeze(1)

    return DepthOnly(model).eval()


def _export(
    wrapped: Any, sample: Any, tmp: Path, opset: int, dynamic_size: bool, multiple: int, dynamic_batch: bool = True
) -> None:
    import torch

    # The torch.export based exporter logs, at warning level, every torchvision op it cannot register.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamic_size:
            batch = torch.export.Dim("batch", min=1, max=64)
            rows = torch.export.Dim("rows", min=1, max=256)
            cols = torch.export.Dim("cols", min=1, max=256)
            program = torch.onnx.export(
                wrapped,
                (sample,),
                input_names=["image"],
                output_names=["depth"],
                dynamic_shapes={"image": {0: batch, 2: multiple * rows, 3: multiple * cols}},
                opset_version=opset,
                dynamo=True,
                verbose=False,
            )
            if program is None:
                raise ModelError("the torch.export based ONNX exporter returned no program")
            program.save(str(tmp))
        else:
            torch.onnx.export(
                wrapped,
                (sample,),
                str(tmp),
                input_names=["image"],
                output_names=["depth"],
                dynamic_axes={"image": {0: "batch"}, "depth": {0: "batch"}} if dynamic_batch else None,
                opset_version=opset,
                dynamo=False,
            )


def _parity(wrapped: Any, path: Path, shapes: list[tuple[int, int, int, int]]) -> float:
    """Largest |ONNX - torch| over max |torch|, over every output, on seeded random inputs of the given shapes."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    worst = 0.0
    for i, shape in enumerate(shapes):
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(i))
        with torch.no_grad():
            ref = wrapped(x)
        refs = [r.numpy() for r in (ref if isinstance(ref, (tuple, list)) else (ref,))]
        gots = session.run(None, {input_name: x.numpy()})
        names = [o.name for o in session.get_outputs()]
        if len(names) != len(refs):
            raise ModelError(f"ONNX has {len(names)} outputs, torch {len(refs)}")
        for name, got, want in zip(names, gots, refs, strict=True):
            if got.shape != want.shape:
                raise ModelError(f"ONNX output '{name}' shape {got.shape} differs from torch's {want.shape} ({shape})")
            worst = max(worst, float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-12)))
    return worst


def _finish(
    wrapped: Any, tmp: Path, target: Path, spec: ModelSpec, note: str, shapes: list[tuple[int, int, int, int]]
) -> float:
    """Write the spec into the exported ``tmp``, check it against torch, rename it to ``target``; the parity."""
    import onnx

    proto = onnx.load(str(tmp))
    del proto.metadata_props[:]
    for key, value in {**spec.to_metadata(), "depth_node.source": note}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = f"depth_node export-hf of {note}"
    onnx.save(proto, str(tmp))
    diff = _parity(wrapped, tmp, shapes)
    if not diff < PARITY_REL_TOLERANCE or not math.isfinite(diff):
        raise ModelError(f"ONNX/torch parity failed: max relative difference {diff:.3g} >= {PARITY_REL_TOLERANCE}")
    os.replace(tmp, target)
    return diff


def _fixed_size(input_size: tuple[int, int] | None, multiple: int, family: str) -> tuple[int, int] | None:
    """(height, width) of ``--input-size`` (width, height), checked against the family's multiple."""
    if input_size is None:
        return None
    width, height = input_size
    if width <= 0 or height <= 0 or width % multiple or height % multiple:
        raise ModelError(f"--input-size {width}x{height}: {family} needs positive multiples of {multiple}")
    return height, width


def _export_da3(source: str, target: Path, input_size: tuple[int, int] | None, opset: int) -> HfExportResult:
    """Depth Anything 3 (see :mod:`depth_node.training.da3_export`)."""
    import torch

    from depth_node.training import da3_export as da3

    net, model_name = da3.load_da3(source)
    input_hw = _fixed_size(input_size, da3.PATCH, "depth_anything_3") or da3.default_input_hw(*REFERENCE_FRAME)
    spec = da3.spec_for(model_name, input_hw)
    wrapped = da3.single_view(net, model_name, input_hw)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        da3.export_onnx(wrapped, torch.zeros(2, 3, *input_hw), tmp, opset, da3.output_names(model_name))
        note = f"depth_anything_3 {model_name}: {source}"
        diff = _finish(wrapped, tmp, target, spec, note, [(2, 3, *input_hw), (1, 3, *input_hw)])
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return HfExportResult(target, "depth_anything_3", spec, False, diff, target.stat().st_size)


def _export_depth_pro(
    model: Any, processor: Any, source: str, target: Path, input_size: tuple[int, int] | None, opset: int
) -> HfExportResult:
    """Depth Pro (see :mod:`depth_node.training.depth_pro_export`): the processor's fixed size only."""
    import torch

    from depth_node.training import depth_pro_export as dp

    hw = dp.input_hw(processor)
    if input_size is not None and (input_size[1], input_size[0]) != hw:
        raise ModelError(f"--input-size: depth_pro runs at its processor's size {hw[1]}x{hw[0]} only")
    names = dp.output_names(model)
    spec = dp.spec_for(processor, hw, has_fov=len(names) > 1)
    wrapped = dp.depth_and_fov(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        dp.export_onnx(wrapped, torch.zeros(1, 3, *hw), tmp, opset, names)
        diff = _finish(wrapped, tmp, target, spec, f"transformers depth_pro: {source}", [(1, 3, *hw)])
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return HfExportResult(target, "depth_pro", spec, False, diff, target.stat().st_size)


def export_hf(
    source: str, out: str | Path, input_size: tuple[int, int] | None = None, opset: int = DEFAULT_OPSET
) -> HfExportResult:
    """Export a transformers depth checkpoint to ONNX; the file gets its name only after the parity check.

    Args:
        source: Hub id (downloaded by transformers where there is internet) or a save_pretrained directory.
        out: Target ``.onnx`` path.
        input_size: (width, height) of the network input; must be multiples of the family's size multiple.
            Default: what the checkpoint's image processor makes of a 640x480 frame (a dynamic-size
            network only uses it for the parity check).
        opset: ONNX opset.

    Raises:
        ModelError: bad source (see :func:`load_checkpoint`), a bad input size, or ONNX differing from torch.
    """
    import torch

    from depth_node.training.da3_export import is_da3_source

    target = Path(out)
    if is_da3_source(source):
        return _export_da3(source, target, input_size, opset)
    model, processor, family = load_checkpoint(source)
    if family == "depth_pro":
        return _export_depth_pro(model, processor, source, target, input_size, opset)
    dynamic_size = family == "glpn"
    multiple = int(getattr(processor, "size_divisor", 32) or 32) if dynamic_size else _patch_size(model.config)
    fixed = _fixed_size(input_size, multiple, family)
    if fixed is not None:
        input_hw = fixed
    else:
        input_hw = _processed_size(processor, *REFERENCE_FRAME)
        if dynamic_size or input_hw[0] % multiple or input_hw[1] % multiple:
            input_hw = (
                max(multiple, input_hw[0] // multiple * multiple),
                max(multiple, input_hw[1] // multiple * multiple),
            )
    if family == "dpt" and getattr(model.config, "backbone_config", None) is None and input_hw[0] != input_hw[1]:
        raise ModelError(f"family 'dpt' with a plain ViT needs a square input; got {input_hw[1]}x{input_hw[0]}")
    spec = spec_for(family, model.config, processor, None if dynamic_size else input_hw)
    wrapped = _depth_only(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    # ZoeDepth's neck splits its tokens with sizes the tracer freezes for the sample's batch: batch 1 only.
    batch = 1 if family == "zoedepth" else 2
    try:
        sample = torch.zeros(batch, 3, *input_hw)
        _export(wrapped, sample, tmp, opset, dynamic_size, multiple, dynamic_batch=batch > 1)
        shapes = [(batch, 3, *input_hw)]
        if dynamic_size:
            shapes.append((1, 3, input_hw[0] + multiple, max(multiple, input_hw[1] - multiple)))
        diff = _finish(wrapped, tmp, target, spec, f"transformers {family}: {source}", shapes)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return HfExportResult(target, family, spec, dynamic_size, diff, target.stat().st_size)
