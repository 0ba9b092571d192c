"""ONNX Runtime sessions for every ONNX model of the package (depth networks and detectors).

Execution providers are named by alias ("tensorrt", "cuda", "cpu") or in full, most preferred first; the ones the
installed onnxruntime lacks are skipped, and none left is an error naming what is there. onnxruntime is imported
when a session is opened, never at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from depth_node.errors import ModelError, ProviderUnavailableError
from depth_node.providers import ProviderOptions

DEFAULT_PROVIDERS = ("tensorrt", "cuda", "cpu")

PROVIDER_ALIASES = {
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}


def resolve_providers(requested: Sequence[str], available: Sequence[str]) -> list[str]:
    """The requested execution providers that ``available`` offers, in the requested order.

    Args:
        requested: Full names ("CUDAExecutionProvider") or aliases ("cuda"), most preferred first.
        available: What the installed onnxruntime offers (``onnxruntime.get_available_providers()``).

    Raises:
        ProviderUnavailableError: none of the requested providers is available.
    """
    names = [PROVIDER_ALIASES.get(p.strip().lower(), p.strip()) for p in requested]
    chosen = [n for n in dict.fromkeys(names) if n in available]
    if not chosen:
        raise ProviderUnavailableError(
            f"none of the requested providers {list(requested)} is available; this onnxruntime offers {list(available)}"
        )
    return chosen


def open_session(
    path: Path, providers: Sequence[str], threads: int = 0, provider_options: ProviderOptions | None = None
) -> tuple[Any, list[str]]:
    """An ONNX Runtime session of ``path`` on the first available of ``providers``: shared by every ONNX model.

    ``provider_options`` (default: engine cache on, FP32, device 0) go to the TensorRT and CUDA providers
    (:mod:`depth_node.providers`); a CPU-only onnxruntime never sees them.

    Returns:
        (the ``onnxruntime.InferenceSession``, the providers asked of it after dropping unavailable ones).

    Raises:
        ModelError: the file is missing or onnxruntime cannot load it.
        ProviderUnavailableError: none of ``providers`` is available.
    """
    import onnxruntime as ort

    if not path.is_file():
        raise ModelError(f"model file '{path}' does not exist")
    chosen = resolve_providers(providers, ort.get_available_providers())
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads > 0:
        options.intra_op_num_threads = threads
    names, per_provider = (provider_options or ProviderOptions()).session_providers(chosen)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=names, provider_options=per_provider)
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"model file '{path}' could not be loaded by onnxruntime: {exc}") from exc
    return session, chosen
