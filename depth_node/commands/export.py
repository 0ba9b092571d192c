"""``depth-node export CKPT --out models/NAME.onnx``: ONNX with the model spec and a torch parity check."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the export command."""
    parser.add_argument("checkpoint", help="checkpoint written by depth-node train (best.pt or last.pt)")
    parser.add_argument("--out", required=True, help="ONNX file to write (e.g. models/fastdepth_synthetic.onnx)")


def run(args: argparse.Namespace) -> int:
    """Export and print the result (path, size, max abs difference to torch, spec) as JSON."""
    # torch and onnx are imported here so that `depth-node --help` stays instant.
    from depth_node.training.export import export_onnx

    result = export_onnx(args.checkpoint, args.out)
    print(
        json.dumps(
            {
                "path": str(result.path),
                "size_bytes": result.size_bytes,
                "max_abs_diff_m": result.max_abs_diff_m,
                "spec": result.spec.to_dict(),
            }
        )
    )
    return 0
