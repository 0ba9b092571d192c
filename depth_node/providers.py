"""ONNX Runtime execution-provider options: the TensorRT engine cache, FP16 and the CUDA device.

TensorRT builds an engine for the model on the first session of a process: minutes for a ViT on a robot's
GPU, at every start unless the engine is cached on disk. So the cache is on by default, under the user's
cache directory (``$XDG_CACHE_HOME/depth_node/tensorrt``, else ``~/.cache/depth_node/tensorrt``); the
timing cache lives there too. FP16 (``trt_fp16``) is off by default: it roughly halves the frame time on
most GPUs but changes the depth a model gives, which nobody measured here (no GPU was lent). The CUDA
device id applies to both the TensorRT and the CUDA provider. The CPU provider takes no options.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depth_node.errors import ModelError

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"


def default_engine_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/depth_node/tensorrt`` (``~/.cache/...`` when unset): the user's, not the package's."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "depth_node" / "tensorrt"


@dataclass(frozen=True)
class ProviderOptions:
    """What the GPU providers are told (the depth node's ``trt_*`` and ``cuda_device_id`` parameters).

    Attributes:
        trt_engine_cache: Keep TensorRT engines (and the timing cache) on disk between starts.
        trt_engine_cache_dir: Where; empty = :func:`default_engine_cache_dir`.
        trt_fp16: Let TensorRT run layers in half precision.
        cuda_device_id: The GPU the TensorRT and CUDA providers run on.
    """

    trt_engine_cache: bool = True
    trt_engine_cache_dir: str = ""
    trt_fp16: bool = False
    cuda_device_id: int = 0

    def engine_cache_dir(self) -> Path:
        """The engine cache directory these options name (not created here)."""
        return Path(self.trt_engine_cache_dir).expanduser() if self.trt_engine_cache_dir else default_engine_cache_dir()

    def for_provider(self, name: str) -> dict[str, Any]:
        """The provider-options dict of one ONNX Runtime provider (empty for providers without options).

        Raises:
            ModelError: the engine cache directory cannot be created (it names the directory).
        """
        if name == TENSORRT:
            out: dict[str, Any] = {"device_id": self.cuda_device_id, "trt_fp16_enable": self.trt_fp16}
            if self.trt_engine_cache:
                cache = self.engine_cache_dir()
                try:
                    cache.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ModelError(
                        f"TensorRT engine cache directory '{cache}' cannot be created ({exc.strerror}); "
                        "set trt_engine_cache_dir, or trt_engine_cache: false"
                    ) from exc
                out.update(
                    trt_engine_cache_enable=True,
                    trt_engine_cache_path=str(cache),
                    trt_timing_cache_enable=True,
                    trt_timing_cache_path=str(cache),
                )
            return out
        if name == CUDA:
            return {"device_id": self.cuda_device_id}
        return {}

    def session_providers(self, chosen: Sequence[str]) -> tuple[list[str], list[dict[str, Any]]]:
        """``providers`` and ``provider_options`` for ``onnxruntime.InferenceSession``, in the same order."""
        return list(chosen), [self.for_provider(name) for name in chosen]
