"""Monocular depth estimators: one interface, an ONNX Runtime backend and a torch backend.

Both backends share the model spec handling (:class:`depth_node.model_spec.ModelSpec`): resize and
normalise the RGB frame for the network, then turn the raw output into metric depth at the camera's
resolution, NaN where it is invalid. Only the forward pass differs. onnxruntime and torch are imported
when a backend is built, never at import time.
"""

from __future__ import annotations

import logging
import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from depth_node import model_spec as ms
from depth_node.camera import CameraModel
from depth_node.errors import ModelError, ProviderUnavailableError
from depth_node.model_spec import ModelSpec, OutputKind
from depth_node.preprocess import AreaBlob, reference_blob

LOG = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "fastdepth_synthetic.onnx"
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


def default_model_path() -> Path:
    """The shipped model: in the source tree (``models/``) or where colcon / pip installed it."""
    candidates = [
        Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME,
        Path(sys.prefix) / "share" / "depth_node" / "models" / DEFAULT_MODEL_NAME,
    ]
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0]


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


def round_to_multiple(value: float, multiple: int) -> int:
    """Nearest multiple of ``multiple`` to ``value`` (halves round up), at least ``multiple``."""
    return max(multiple, math.floor(value / multiple + 0.5) * multiple)


class DepthEstimator(ABC):
    """RGB frame + camera -> metric depth (float32 metres, NaN = unknown) at the camera's resolution."""

    def __init__(self, spec: ModelSpec, fixed_size: tuple[int, int] | None = None) -> None:
        """Args: spec: how to run the model; fixed_size: (height, width) the network itself requires."""
        if fixed_size is not None:
            h, w = fixed_size
            if (spec.input_height and spec.input_height != h) or (spec.input_width and spec.input_width != w):
                raise ModelError(
                    f"model spec input {spec.input_width}x{spec.input_height} "
                    f"contradicts the network's fixed input {w}x{h}"
                )
            spec = spec.replace(input_height=h, input_width=w)
        self.spec = spec
        self._fixed = fixed_size
        mean = np.asarray(spec.mean, dtype=np.float32)
        std = np.asarray(spec.std, dtype=np.float32)
        # (x * scale - mean) / std folded into one multiply-add per channel.
        self._gain = (spec.scale / std).astype(np.float32)
        self._bias = (-mean / std).astype(np.float32)
        # The fused resize + normalisation of the last frame size (None: that size takes the reference path).
        self._blob_key: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._blob: AreaBlob | None = None

    @property
    @abstractmethod
    def provider(self) -> str:
        """The execution provider / device actually used (e.g. "CUDAExecutionProvider", "torch:cpu")."""

    @abstractmethod
    def _forward(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Run the network on a normalised NCHW batch; return its raw first output."""

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the network is fed for an image of this size."""
        if self._fixed is not None:
            return self._fixed
        m = self.spec.size_multiple
        if self.spec.input_width and self.spec.input_height:  # given exactly: used exactly
            return self.spec.input_height, self.spec.input_width
        if self.spec.input_width:  # width given: keep the image's aspect ratio
            return round_to_multiple(self.spec.input_width * height / width, m), round_to_multiple(
                self.spec.input_width, m
            )
        return round_to_multiple(height, m), round_to_multiple(width, m)

    def preprocess(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """RGB uint8 (H, W, 3) -> normalised float32 (1, 3, h, w) in the network's channel order."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ModelError(f"expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}")
        size = self.input_size(*rgb.shape[:2])
        src = (int(rgb.shape[0]), int(rgb.shape[1]))
        if self._blob_key != (src, size):
            self._blob = AreaBlob.build(src, size, self._gain, self._bias, self.spec.color_order == "bgr")
            self._blob_key = (src, size)
        if self._blob is not None:
            return self._blob(rgb)
        return self.preprocess_reference(rgb)

    def preprocess_reference(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """:meth:`preprocess` through OpenCV's resize only (the tests' and the benchmark's baseline)."""
        size = self.input_size(*rgb.shape[:2])
        return reference_blob(rgb, size, self._gain, self._bias, self.spec.color_order == "bgr")

    def postprocess(self, raw: npt.NDArray[Any], camera: CameraModel) -> npt.NDArray[np.float32]:
        """Raw network output -> metric depth at the camera's resolution, NaN where invalid."""
        out = np.asarray(raw, dtype=np.float32)
        while out.ndim > 2 and out.shape[0] == 1:
            out = out[0]
        if out.ndim != 2:
            raise ModelError(f"expected a single-image depth output, got shape {np.shape(raw)}")
        spec = self.spec
        gain, offset = float(spec.depth_scale), float(spec.depth_shift)
        if spec.output_kind is OutputKind.METRIC_DEPTH and spec.focal_reference is not None:
            # A metric net judges distance from apparent size: a longer lens makes things look nearer.
            focal = (camera.fx / camera.width) / spec.focal_reference
            gain, offset = gain * focal, offset * focal
        # The affine part on the network's small grid: it commutes with the bilinear resize (weights sum
        # to 1), and costs a sixteenth of doing it at the camera's resolution.
        depth = out * np.float32(gain) + np.float32(offset)
        if depth.shape != (camera.height, camera.width):
            depth = np.asarray(
                cv2.resize(depth, (camera.width, camera.height), interpolation=cv2.INTER_LINEAR), np.float32
            )
        if spec.output_kind is OutputKind.RELATIVE_INVERSE_DEPTH:
            with np.errstate(divide="ignore", invalid="ignore"):
                depth = np.where(depth > 0.0, 1.0 / depth, np.nan).astype(np.float32)
        with np.errstate(invalid="ignore"):
            valid = (depth >= spec.min_depth_m) & (depth <= spec.max_depth_m)
        depth[~valid] = np.nan
        return depth

    def predict(self, rgb: npt.NDArray[np.uint8], camera: CameraModel) -> npt.NDArray[np.float32]:
        """Metric depth (float32 metres along the optical axis, NaN = unknown), shape (H, W) of the camera.

        ``rgb`` may be at any resolution with the camera's aspect ratio; the depth is at the camera's.
        """
        raw = self._forward(self.preprocess(rgb))
        return self.postprocess(raw, camera)


class OnnxEstimator(DepthEstimator):
    """ONNX Runtime backend; the spec comes from the file's metadata, overridden field by field."""

    def __init__(
        self,
        path: str | Path,
        spec_overrides: Mapping[str, Any] | None = None,
        providers: Sequence[str] = DEFAULT_PROVIDERS,
        threads: int = 0,
    ) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"model file '{path}' does not exist")
        chosen = resolve_providers(providers, ort.get_available_providers())
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options, providers=chosen)
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(f"model file '{path}' could not be loaded by onnxruntime: {exc}") from exc
        metadata = self._session.get_modelmeta().custom_metadata_map
        spec = ModelSpec.from_metadata(metadata)
        if spec_overrides:
            spec = ms.from_mapping(spec_overrides, base=spec)
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        shape = inp.shape
        fixed = None
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            fixed = (int(shape[2]), int(shape[3]))
        super().__init__(spec, fixed)
        self._provider = self._session.get_providers()[0]
        self.path = path
        LOG.info("depth model %s on %s (asked for %s)", path.name, self._provider, chosen)

    @property
    def provider(self) -> str:
        """The provider onnxruntime really put the model on (the first of the session's)."""
        return self._provider

    def _forward(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out = self._session.run(None, {self._input_name: batch})[0]
        return np.asarray(out, dtype=np.float32)


class TorchEstimator(DepthEstimator):
    """torch backend for a ``torch.nn.Module`` (or TorchScript file) and an explicit spec."""

    def __init__(self, module: Any, spec: ModelSpec, device: str = "auto") -> None:
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._torch = torch
        self._device = torch.device(device)
        self._module = module.to(self._device)
        if hasattr(self._module, "eval") and not isinstance(self._module, torch.fx.GraphModule):
            self._module.eval()
        super().__init__(spec)

    @classmethod
    def from_file(cls, path: str | Path, spec: ModelSpec, device: str = "auto") -> TorchEstimator:
        """Load a ``torch.export`` program (.pt2) or a TorchScript file (.pt/.ts, ``torch.jit.save``).

        Both formats hold the network's code as well as its weights, so no Python class is needed;
        neither unpickles arbitrary objects.
        """
        import torch

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"model file '{path}' does not exist")
        try:
            if path.suffix.lower() == ".pt2":
                module = torch.export.load(str(path)).module()
            else:
                module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:  # torch raises RuntimeError, ValueError or zipfile errors here
            raise ModelError(f"model file '{path}' could not be loaded by torch: {exc}") from exc
        return cls(module, spec, device)

    @property
    def provider(self) -> str:
        """ "torch:cpu" or "torch:cuda"."""
        return f"torch:{self._device.type}"

    def _forward(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        torch = self._torch
        with torch.inference_mode():
            out = self._module(torch.from_numpy(batch).to(self._device))
        if isinstance(out, (tuple, list)):
            out = out[0]
        return np.asarray(out.float().cpu().numpy(), dtype=np.float32)


def load_estimator(
    path: str | Path | None = None,
    spec_overrides: Mapping[str, Any] | None = None,
    providers: Sequence[str] = DEFAULT_PROVIDERS,
    threads: int = 0,
    device: str = "auto",
) -> DepthEstimator:
    """The estimator for a model file: ``.onnx`` runs on ONNX Runtime, ``.pt2``/``.pt``/``.ts`` on torch.

    Args:
        path: Model file; None or "" means the shipped default model.
        spec_overrides: ModelSpec fields that replace the file's (see :mod:`depth_node.model_spec`).
        providers: ONNX Runtime providers in preference order; unavailable ones are skipped.
        threads: ONNX Runtime intra-op threads (0 = its default).
        device: torch device for TorchScript models ("auto", "cpu", "cuda").
    """
    model_path = Path(path) if path else default_model_path()
    if not path and not model_path.is_file():
        raise ModelError(
            f"the shipped default model '{model_path}' is not installed; name a model (--model / model_path)"
        )
    if model_path.suffix.lower() == ".onnx":
        return OnnxEstimator(model_path, spec_overrides, providers, threads)
    if model_path.suffix.lower() in (".pt2", ".pt", ".ts", ".torchscript"):
        spec = ms.from_mapping(spec_overrides or {})
        return TorchEstimator.from_file(model_path, spec, device)
    raise ModelError(f"model file '{model_path}': expected .onnx, a torch.export .pt2 or a TorchScript .pt/.ts file")
