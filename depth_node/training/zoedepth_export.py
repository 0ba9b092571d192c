"""ZoeDepth (transformers ``zoedepth``) -> the node's model spec: metric depth with a reflected margin.

ZoeDepth's network predicts metric depth in metres directly (bins between the configuration's ``min_depth`` and
``max_depth``, no focal length in the formula: it is metric for cameras like its training set's). What it
needs reproduced is its image processor and post-processing:

- ``ZoeDepthImageProcessor`` rescales to [0, 1], reflect-pads the frame by ``int(sqrt(side / 2) * 3)`` pixels on
  each end of each side, resizes the padded float image bilinearly with aligned corners (no antialiasing) to the
  DPT keep-aspect size, then normalises. The spec says so: ``pad_mode: reflect``, ``pad_rule: sqrt_half``,
  ``pad_amount: 3``, ``resample: bilinear_align_corners``.
- ``post_process_depth_estimation`` resizes the depth bicubically to the padded frame's size and crops the margin:
  ``output_resample: bicubic`` with the same margin (:class:`depth_node.input_geometry.Margin`).
- It does not average a horizontally flipped pass unless asked (``outputs_flipped``); the pipeline does not,
  and neither does the node.

The network itself exports like DPT: one fixed input size (the keep-aspect size of a padded 640x480 frame by
default), dynamic batch. A checkpoint with several metric heads (``Intel/zoedepth-nyu-kitti``) chooses its head
per image with a Python branch on the classifier's vote; a traced graph would freeze one choice, so it is refused
with the single-head checkpoints named instead.
"""

from __future__ import annotations

from typing import Any

from depth_node.errors import ModelError
from depth_node.model_spec import ModelSpec, OutputKind

PAD_FACTOR = 3.0  # transformers' padding_factor_h / _w and the original ZoeDepth's fh / fw


def check_config(config: Any) -> None:
    """Refuse what a fixed graph cannot carry (several metric heads chosen per image).

    Raises:
        ModelError: more than one bin configuration.
    """
    bins = list(getattr(config, "bin_configurations", None) or [])
    if len(bins) > 1:
        names = [str(b.get("name", "?")) for b in bins]
        raise ModelError(
            f"family 'zoedepth' with {len(bins)} metric heads ({', '.join(names)}) is not exported: it chooses "
            "its head per image in Python, which an exported graph would freeze; export a single-head checkpoint "
            "(Intel/zoedepth-nyu indoors, Intel/zoedepth-kitti outdoors)"
        )


def spec_for(config: Any, processor: Any, input_hw: tuple[int, int], resample: str) -> ModelSpec:
    """The node's spec of a ZoeDepth checkpoint exported at ``input_hw`` (height, width).

    Args:
        config: The model config (its bin configuration gives the depth range).
        processor: The image processor (rescale, pad, keep-aspect size, multiple, mean, std).
        input_hw: The fixed network input.
        resample: The processor's filter family, "bilinear" or "bicubic".

    Raises:
        ModelError: a bicubic processor (its aligned-corner bicubic resize is not reproduced).
    """
    if resample != "bilinear":
        raise ModelError(
            "family 'zoedepth' with a bicubic image processor is not exported: its aligned-corner bicubic resize "
            "is not reproduced by the node (the published checkpoints resize bilinearly)"
        )
    bins = (getattr(config, "bin_configurations", None) or [{}])[0]
    do_norm = bool(getattr(processor, "do_normalize", True))
    multiple = getattr(processor, "ensure_multiple_of", 1) or 1
    pad = bool(getattr(processor, "do_pad", True))
    return ModelSpec(
        input_width=input_hw[1],
        input_height=input_hw[0],
        size_multiple=max(1, int(multiple)),
        keep_aspect_ratio=bool(getattr(processor, "keep_aspect_ratio", True)),
        color_order="rgb",
        scale=float(processor.rescale_factor) if getattr(processor, "do_rescale", True) else 1.0,
        mean=tuple(float(v) for v in processor.image_mean) if do_norm else (0.0, 0.0, 0.0),  # type: ignore[arg-type]
        std=tuple(float(v) for v in processor.image_std) if do_norm else (1.0, 1.0, 1.0),  # type: ignore[arg-type]
        resample="bilinear_align_corners",
        pad_mode="reflect" if pad else "none",
        pad_rule="sqrt_half",
        pad_amount=PAD_FACTOR if pad else 0.0,
        output_resample="bicubic",
        output_kind=OutputKind.METRIC_DEPTH,
        min_depth_m=max(1e-3, float(bins.get("min_depth", 1e-3))),
        max_depth_m=float(bins.get("max_depth", 10.0)),
    )
