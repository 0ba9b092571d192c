"""Arguments and loading shared by the commands that run a depth model (predict, replay, bench)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from depth_node import params as params_mod
from depth_node.depth_params import NODE_NAME, DepthNodeParams
from depth_node.estimator import DepthEstimator


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --params, --providers: the same knobs as the node's YAML."""
    parser.add_argument(
        "--model",
        type=Path,
        help="depth model: .onnx, .pt2 (torch.export) or TorchScript .pt/.ts (first input and first output used); "
        "default: params or the shipped model",
    )
    parser.add_argument(
        "--params", type=Path, help="ROS 2 parameter YAML with a 'depth_node: ros__parameters:' section"
    )
    parser.add_argument("--providers", help="comma-separated ONNX Runtime providers, e.g. cuda,cpu (default: params)")


def load_params(args: argparse.Namespace) -> DepthNodeParams:
    """Defaults, then --params YAML, then --model / --providers flags."""
    overrides: dict[str, object] = {}
    if getattr(args, "model", None) is not None:
        overrides["model_path"] = str(args.model)
    if getattr(args, "providers", None):
        overrides["providers"] = [p.strip() for p in args.providers.split(",") if p.strip()]
    return params_mod.load(DepthNodeParams, args.params, NODE_NAME, overrides)


def _to_stderr(line: str) -> None:
    print(f"depth-node: warning: {line}", file=sys.stderr)


def build_estimator(params: DepthNodeParams, notify: Callable[[str], None] = _to_stderr) -> DepthEstimator:
    """The estimator the CLI builds from these parameters; a model without a spec is noted on stderr."""
    return params.build_estimator(notify)
