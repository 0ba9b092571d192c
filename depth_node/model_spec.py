"""What a depth model needs to be run correctly: input size, normalisation and output meaning.

A model file carries its spec in ONNX ``metadata_props`` under :data:`METADATA_KEY` as one JSON object
(written by :meth:`ModelSpec.to_metadata`, read by :meth:`ModelSpec.from_metadata`). A user's own
export without it runs with the spec given in YAML; YAML values override the file's field by field.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from depth_node.errors import ModelError

METADATA_KEY = "depth_node.model_spec"

# ImageNet statistics: what most depth encoders (MobileNet, ResNet, DINOv2) were normalised with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

RESAMPLE = ("auto", "bilinear", "bicubic", "bilinear_align_corners")
PAD_MODES = ("none", "reflect", "replicate")
PAD_RULES = ("fraction", "sqrt_half")


class OutputKind(str, Enum):
    """What the network's output means."""

    METRIC_DEPTH = "metric_depth"  # metres along the optical axis
    RELATIVE_INVERSE_DEPTH = "relative_inverse_depth"  # disparity up to scale and shift (MiDaS, DA V2 relative)
    RELATIVE_DEPTH = "relative_depth"  # depth up to scale
    METRIC_INVERSE_DEPTH = "metric_inverse_depth"  # 1 / metres (Depth Pro: at a normalised focal, see trained_fx)


@dataclass(frozen=True)
class ModelSpec:
    """How to feed a depth network and read its output.

    Attributes:
        input_width: Network input width; 0 = dynamic (follows the image, rounded to ``size_multiple``).
        input_height: Network input height; 0 = dynamic.
        size_multiple: Dynamic sizes are rounded to a multiple of this (32 for most CNNs, 14 for ViT-14).
        color_order: "rgb" or "bgr", the channel order the network expects.
        scale: Pixel values are multiplied by this first (1/255 maps uint8 to [0, 1]).
        mean: Subtracted per channel after scaling, in the network's channel order.
        std: Divided per channel after subtracting the mean.
        output_kind: What the output means (see :class:`OutputKind`).
        depth_scale: Multiplier applied to the raw output (for relative kinds: the affine scale).
        depth_shift: Added after ``depth_scale`` (inverse kinds: in disparity space).
        min_depth_m: Depths below this are reported unknown (NaN).
        max_depth_m: Depths above this are reported unknown (NaN).
        trained_fx: Focal length (pixels) of the training images at width ``trained_width``; a metric
            model's depth is multiplied by (camera fx / width) / (trained_fx / trained_width) (a metric inverse
            depth divided by it).
            0 disables the focal rescale.
        trained_width: The image width ``trained_fx`` refers to; 0 = ``input_width``.
        keep_aspect_ratio: With a dynamic network and ``input_width`` x ``input_height`` as the nominal size,
            scale the image as little as possible so that one side reaches its nominal length, keeping the
            aspect ratio, then round each side to ``size_multiple`` (the Hugging Face DPT / Depth Anything rule).
        size_rounding: How dynamic sizes reach ``size_multiple``: "nearest" or "floor" (GLPN floors).
        resample: Resize filter when the image is enlarged: "auto" (bilinear), "bilinear" or "bicubic".
            Shrinking always uses area averaging, the closest OpenCV filter to PIL's antialiased resize.
            "bilinear_align_corners" instead resizes the float image bilinearly with aligned corners both ways,
            without antialiasing (``torch.nn.functional.interpolate(..., align_corners=True)``: ZoeDepth's
            processor).
        pad_mode: A margin filled around the frame before the resize and cropped off the output again after
            it (at the frame's resolution): "none", "reflect" (mirror without repeating the edge, ZoeDepth) or
            "replicate". Models trained with such a margin see fewer border artefacts.
        pad_rule: How wide the margin of a side is: "fraction" = int(pad_amount * side), "sqrt_half" =
            int(pad_amount * sqrt(side / 2)) (ZoeDepth: 3).
        pad_amount: The factor of ``pad_rule``; 0 = no margin.
        output_resample: How the output map is resized to the camera: "bilinear" or "bicubic" (the filter of the
            model's own post-processing, e.g. ZoeDepth's bicubic).
        confidence_output: Name of the graph output holding a per-pixel confidence (larger = surer, same grid
            as the depth; Depth Anything 3's ``depth_conf``); "" = the model has none.
        sky_output: Name of the graph output holding a sky score (Depth Anything 3's sky head); where it is at
            least ``sky_threshold`` the depth is unknown (NaN) unless the node's ``mask_sky`` is off. "" = none.
        sky_threshold: Sky score from which a pixel is sky (0.3: Depth Anything 3's own ``compute_sky_mask``).
        fov_output: Name of the graph output holding the model's own estimate of the horizontal field of view,
            degrees (Depth Pro's FOV head); used for the focal length only where the camera has no calibration.
    """

    input_width: int = 0
    input_height: int = 0
    size_multiple: int = 32
    color_order: str = "rgb"
    scale: float = 1.0 / 255.0
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    output_kind: OutputKind = OutputKind.METRIC_DEPTH
    depth_scale: float = 1.0
    depth_shift: float = 0.0
    min_depth_m: float = 0.05
    max_depth_m: float = 20.0
    trained_fx: float = 0.0
    trained_width: int = 0
    keep_aspect_ratio: bool = False
    size_rounding: str = "nearest"
    resample: str = "auto"
    confidence_output: str = ""
    sky_output: str = ""
    sky_threshold: float = 0.3
    fov_output: str = ""
    pad_mode: str = "none"
    pad_rule: str = "fraction"
    pad_amount: float = 0.0
    output_resample: str = "bilinear"

    def __post_init__(self) -> None:
        if self.input_width < 0 or self.input_height < 0:
            raise ModelError(f"model spec: input size must be >= 0, got {self.input_width}x{self.input_height}")
        if self.size_multiple < 1:
            raise ModelError(f"model spec: size_multiple must be >= 1, got {self.size_multiple}")
        if self.color_order not in ("rgb", "bgr"):
            raise ModelError(f"model spec: color_order must be 'rgb' or 'bgr', got {self.color_order!r}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ModelError("model spec: mean and std need 3 values each")
        if any(not math.isfinite(s) or s == 0.0 for s in self.std):
            raise ModelError(f"model spec: std must be finite and non-zero, got {self.std}")
        if not (0.0 <= self.min_depth_m < self.max_depth_m) or not math.isfinite(self.max_depth_m):
            raise ModelError(
                f"model spec: need 0 <= min_depth_m < max_depth_m < inf, got {self.min_depth_m}, {self.max_depth_m}"
            )
        if self.size_rounding not in ("nearest", "floor"):
            raise ModelError(f"model spec: size_rounding must be 'nearest' or 'floor', got {self.size_rounding!r}")
        if self.resample not in RESAMPLE:
            raise ModelError(f"model spec: resample must be one of {list(RESAMPLE)}, got {self.resample!r}")
        if self.pad_mode not in PAD_MODES:
            raise ModelError(f"model spec: pad_mode must be one of {list(PAD_MODES)}, got {self.pad_mode!r}")
        if self.pad_rule not in PAD_RULES:
            raise ModelError(f"model spec: pad_rule must be one of {list(PAD_RULES)}, got {self.pad_rule!r}")
        if not (
            math.isfinite(self.pad_amount) and 0.0 <= self.pad_amount <= (0.5 if self.pad_rule == "fraction" else 10.0)
        ):
            raise ModelError(
                f"model spec: pad_amount must be in [0, 0.5] for 'fraction' and [0, 10] for 'sqrt_half', "
                f"got {self.pad_amount!r}"
            )
        if self.output_resample not in ("bilinear", "bicubic"):
            raise ModelError(
                f"model spec: output_resample must be 'bilinear' or 'bicubic', got {self.output_resample!r}"
            )
        if not math.isfinite(self.sky_threshold):
            raise ModelError(f"model spec: sky_threshold must be finite, got {self.sky_threshold}")
        if self.trained_fx < 0.0 or not math.isfinite(self.trained_fx):
            raise ModelError(f"model spec: trained_fx must be >= 0, got {self.trained_fx}")
        if self.trained_fx > 0.0 and self.trained_width <= 0 and self.input_width <= 0:
            raise ModelError("model spec: trained_fx needs trained_width (or a fixed input_width)")

    @property
    def focal_reference(self) -> float | None:
        """trained_fx divided by its image width (a resolution-free focal), or None when unset."""
        if self.trained_fx <= 0.0:
            return None
        width = self.trained_width or self.input_width
        return self.trained_fx / width

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed (validated again)."""
        return from_mapping(changes, base=self)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values."""
        out = dataclasses.asdict(self)
        out["output_kind"] = self.output_kind.value
        out["mean"] = list(self.mean)
        out["std"] = list(self.std)
        return out

    def to_metadata(self) -> dict[str, str]:
        """The ONNX ``metadata_props`` entries that carry this spec."""
        return {METADATA_KEY: json.dumps(self.to_dict(), sort_keys=True)}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], base: ModelSpec | None = None) -> ModelSpec:
        """The spec stored in a model's metadata, or ``base`` (default spec) when there is none."""
        raw = metadata.get(METADATA_KEY)
        if raw is None:
            return base or cls()
        try:
            values = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ModelError(f"model metadata '{METADATA_KEY}' is not valid JSON: {exc}") from exc
        if not isinstance(values, dict):
            raise ModelError(f"model metadata '{METADATA_KEY}' must be a JSON object")
        return from_mapping(values, base=base or cls())


_FIELDS = {f.name: f for f in dataclasses.fields(ModelSpec)}


def from_mapping(values: Mapping[str, Any], base: ModelSpec | None = None) -> ModelSpec:
    """A spec with the given fields replaced; unknown names and wrong types raise :class:`ModelError`."""
    base = base or ModelSpec()
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ModelError(f"model spec: unknown field(s) {unknown}; known: {sorted(_FIELDS)}")
    changes: dict[str, Any] = {}
    for name, value in values.items():
        try:
            if name == "output_kind":
                changes[name] = OutputKind(value)
            elif name in ("mean", "std"):
                changes[name] = tuple(float(v) for v in value)
            elif name in ("color_order", "size_rounding", "resample", "pad_mode", "pad_rule", "output_resample"):
                changes[name] = str(value).lower()
            elif name in ("confidence_output", "sky_output", "fov_output"):
                changes[name] = str(value)
            elif isinstance(_FIELDS[name].default, bool):
                changes[name] = bool(value)
            elif isinstance(_FIELDS[name].default, int):
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(f"{value} is not a whole number")
                changes[name] = int(value)
            else:
                changes[name] = float(value)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"model spec: field '{name}' has a bad value {value!r}: {exc}") from exc
    return dataclasses.replace(base, **changes)
