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
    gpu = parser.add_argument_group("GPU providers (TensorRT / CUDA; the depth node's parameters of the same names)")
    gpu.add_argument(
        "--trt-cache-dir",
        help="TensorRT engine cache directory (trt_engine_cache_dir; default: ~/.cache/depth_node/tensorrt)",
    )
    gpu.add_argument(
        "--no-trt-cache", action="store_true", help="build the TensorRT engine at every start (trt_engine_cache: false)"
    )
    gpu.add_argument("--trt-fp16", action="store_true", help="TensorRT in half precision (trt_fp16: true)")
    gpu.add_argument("--cuda-device", type=int, metavar="N", help="GPU of TensorRT and CUDA (cuda_device_id)")


def model_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The depth parameters the model flags set (--model, --providers, the GPU provider flags)."""
    overrides: dict[str, object] = {}
    if getattr(args, "model", None) is not None:
        overrides["model_path"] = str(args.model)
    if getattr(args, "providers", None):
        overrides["providers"] = [p.strip() for p in args.providers.split(",") if p.strip()]
    if getattr(args, "trt_cache_dir", None):
        overrides["trt_engine_cache_dir"] = str(args.trt_cache_dir)
    if getattr(args, "no_trt_cache", False):
        overrides["trt_engine_cache"] = False
    if getattr(args, "trt_fp16", False):
        overrides["trt_fp16"] = True
    if getattr(args, "cuda_device", None) is not None:
        overrides["cuda_device_id"] = args.cuda_device
    return overrides


def load_params(args: argparse.Namespace) -> DepthNodeParams:
    """Defaults, then --params YAML, then --model / --providers / GPU provider flags."""
    return params_mod.load(DepthNodeParams, args.params, NODE_NAME, model_overrides(args))


def _to_stderr(line: str) -> None:
    print(f"depth-node: warning: {line}", file=sys.stderr)


def build_estimator(params: DepthNodeParams, notify: Callable[[str], None] = _to_stderr) -> DepthEstimator:
    """The estimator the CLI builds from these parameters; a model without a spec is noted on stderr."""
    return params.build_estimator(notify)
