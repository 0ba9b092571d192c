"""``depth-node export-hf MODEL --out FILE.onnx``: a transformers depth checkpoint becomes the node's model."""

from __future__ import annotations

import argparse
import json

from depth_node.errors import ModelError


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 518x392, got {text!r}") from exc
    return width, height


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the export-hf command."""
    parser.add_argument("model", help="hub id (needs internet once) or a directory written by save_pretrained")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.add_argument(
        "--input-size",
        type=_size,
        metavar="WxH",
        help="network input (multiples of the family's patch, 14 for ViT-14); "
        "default: what the checkpoint's image processor makes of a 640x480 frame",
    )
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18)")


def run(args: argparse.Namespace) -> int:
    """Export and print the result (path, family, size, parity, spec) as JSON."""
    try:  # transformers is the `hf` extra, needed for export only
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelError("export-hf needs transformers: pip install 'depth_node[hf]'") from exc
    from depth_node.training.hf_export import export_hf

    result = export_hf(args.model, args.out, args.input_size, args.opset)
    print(
        json.dumps(
            {
                "path": str(result.path),
                "family": result.family,
                "dynamic_size": result.dynamic_size,
                "size_bytes": result.size_bytes,
                "max_rel_diff": result.max_rel_diff,
                "spec": result.spec.to_dict(),
            }
        )
    )
    return 0
