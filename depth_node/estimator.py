"""Monocular depth estimators: one interface, an ONNX Runtime backend and a torch backend.

Both backends share the model spec handling (:class:`depth_node.model_spec.ModelSpec`): pad, resize and
normalise the RGB frame for the network (:mod:`depth_node.input_geometry`), then turn the raw outputs into
metric depth at the camera's resolution, NaN where it is invalid (:mod:`depth_node.model_outputs`). Only the
forward pass differs. onnxruntime and torch are imported when a backend is built, never at import time.

The names that used to live here (sessions, model paths, size rules, :class:`DepthOutputs`) are re-exported.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from depth_node import model_spec as ms
from depth_node.camera import CameraModel
from depth_node.errors import ModelError
from depth_node.input_geometry import (
    Margin,
    floor_to_multiple,
    keep_aspect_size,
    margin_for,
    pad_frame,
    resize_align_corners,
    round_to_multiple,
)
from depth_node.model_files import DEFAULT_MODEL_NAME, assumed_spec_notice, default_model_path
from depth_node.model_outputs import (
    DepthOutputs,
    apply_masks,
    camera_from_fov,
    fov_of,
    output_map,
    single_map,
    to_camera,
)
from depth_node.model_spec import ModelSpec, OutputKind
from depth_node.onnx_session import DEFAULT_PROVIDERS, PROVIDER_ALIASES, open_session, resolve_providers
from depth_node.preprocess import AreaBlob, reference_blob
from depth_node.providers import ProviderOptions

__all__ = [
    "DEFAULT_MODEL_NAME",
    "DEFAULT_PROVIDERS",
    "PROVIDER_ALIASES",
    "DepthEstimator",
    "DepthOutputs",
    "OnnxEstimator",
    "TorchEstimator",
    "assumed_spec_notice",
    "default_model_path",
    "floor_to_multiple",
    "keep_aspect_size",
    "load_estimator",
    "open_session",
    "resolve_providers",
    "round_to_multiple",
]

LOG = logging.getLogger(__name__)


class DepthEstimator(ABC):
    """RGB frame + camera -> metric depth (float32 metres, NaN = unknown) at the camera's resolution."""

    #: Where the model's sky output says sky, the depth is NaN (not a far wall); see :meth:`set_output_options`.
    mask_sky: bool = True
    #: Depth whose confidence is below this is NaN (0 = off); needs a model with a confidence output.
    min_confidence: float = 0.0

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

    def _forward_all(self, batch: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        """Every output by name, the depth first (a backend with named extra outputs overrides this)."""
        return {"depth": self._forward(batch)}

    def set_output_options(self, mask_sky: bool = True, min_confidence: float = 0.0) -> None:
        """How the model's extra outputs act on the depth (the node's ``mask_sky`` and ``min_confidence``).

        Raises:
            ModelError: ``min_confidence`` is set for a model without a confidence output (it would do nothing).
        """
        if not (math.isfinite(min_confidence) and min_confidence >= 0.0):
            raise ModelError(f"min_confidence must be a finite number >= 0, got {min_confidence!r}")
        if min_confidence > 0.0 and not self.spec.confidence_output:
            raise ModelError(
                f"min_confidence {min_confidence} is set but the model has no confidence output "
                "(model spec 'confidence_output'; Depth Anything 3 any-view models have one)"
            )
        self.mask_sky = bool(mask_sky)
        self.min_confidence = float(min_confidence)

    def margin(self, height: int, width: int) -> Margin:
        """The margin the spec pads around a frame of this size before resizing (none for most models)."""
        spec = self.spec
        return margin_for(height, width, spec.pad_mode, spec.pad_rule, spec.pad_amount)

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the network is fed for an image of this size (its padded size when the spec pads)."""
        if self._fixed is not None:
            return self._fixed
        height, width = self.margin(height, width).padded
        spec = self.spec
        m = spec.size_multiple
        if spec.keep_aspect_ratio and spec.input_width and spec.input_height:
            return keep_aspect_size(height, width, spec.input_height, spec.input_width, m, spec.size_rounding)
        if spec.input_width and spec.input_height:  # given exactly: used exactly
            return spec.input_height, spec.input_width
        if spec.input_width:  # width given: keep the image's aspect ratio
            return round_to_multiple(spec.input_width * height / width, m), round_to_multiple(spec.input_width, m)
        if spec.size_rounding == "floor":
            return floor_to_multiple(height, m), floor_to_multiple(width, m)
        return round_to_multiple(height, m), round_to_multiple(width, m)

    def preprocess(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """RGB uint8 (H, W, 3) -> normalised float32 (1, 3, h, w) in the network's channel order."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ModelError(f"expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}")
        size = self.input_size(*rgb.shape[:2])
        rgb = pad_frame(rgb, self.margin(*rgb.shape[:2]), self.spec.pad_mode)
        if self.spec.resample == "bilinear_align_corners":
            return self._corner_blob(rgb, size)
        src = (int(rgb.shape[0]), int(rgb.shape[1]))
        if self._blob_key != (src, size):
            self._blob = AreaBlob.build(src, size, self._gain, self._bias, self.spec.color_order == "bgr")
            self._blob_key = (src, size)
        if self._blob is not None:
            return self._blob(rgb)
        return reference_blob(rgb, size, self._gain, self._bias, self.spec.color_order == "bgr", self._enlarge)

    def preprocess_reference(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """:meth:`preprocess` through OpenCV's resize only (the tests' and the benchmark's baseline)."""
        size = self.input_size(*rgb.shape[:2])
        rgb = pad_frame(rgb, self.margin(*rgb.shape[:2]), self.spec.pad_mode)
        if self.spec.resample == "bilinear_align_corners":
            return self._corner_blob(rgb, size)
        return reference_blob(rgb, size, self._gain, self._bias, self.spec.color_order == "bgr", self._enlarge)

    @property
    def _enlarge(self) -> int:
        return cv2.INTER_CUBIC if self.spec.resample == "bicubic" else cv2.INTER_LINEAR

    def _corner_blob(self, rgb: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.float32]:
        """Float bilinear resize with aligned corners, then normalisation (ZoeDepth's processor, no uint8 step)."""
        x = resize_align_corners(rgb, size) if rgb.shape[:2] != size else rgb.astype(np.float32)
        if self.spec.color_order == "bgr":
            x = x[..., ::-1]
        x = x * self._gain + self._bias
        return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)[None]

    def postprocess(
        self, raw: npt.NDArray[Any], camera: CameraModel, source_hw: tuple[int, int] | None = None
    ) -> npt.NDArray[np.float32]:
        """Raw network output -> metric depth at the camera's resolution, NaN where invalid.

        Args:
            raw: The network's depth output for one frame.
            camera: The camera the depth is for (its size is the output's).
            source_hw: (height, width) of the frame the network was fed (default: the camera's): a padding
                model's margin is cropped as it was padded around that frame.
        """
        try:
            out = single_map(raw, "depth")
        except ModelError:
            raise ModelError(f"expected a single-image depth output, got shape {np.shape(raw)}") from None
        spec = self.spec
        gain, offset = float(spec.depth_scale), float(spec.depth_shift)
        kind = spec.output_kind
        inverse = kind in (OutputKind.RELATIVE_INVERSE_DEPTH, OutputKind.METRIC_INVERSE_DEPTH)
        if kind in (OutputKind.METRIC_DEPTH, OutputKind.METRIC_INVERSE_DEPTH) and spec.focal_reference is not None:
            # A metric net judges distance from apparent size: a longer lens makes things look nearer.
            focal = (camera.fx / camera.width) / spec.focal_reference
            if inverse:
                focal = 1.0 / focal
            gain, offset = gain * focal, offset * focal
        # The affine part on the network's small grid: it commutes with the linear and cubic resizes (weights
        # sum to 1), and costs a sixteenth of doing it at the camera's resolution.
        depth = out * np.float32(gain) + np.float32(offset)
        interpolation = cv2.INTER_CUBIC if spec.output_resample == "bicubic" else cv2.INTER_LINEAR
        depth = to_camera(depth, camera, self.margin(*(source_hw or (camera.height, camera.width))), interpolation)
        if depth.base is not None:  # a crop is a view of the resized map: own the frame's depth
            depth = depth.copy()
        if inverse:  # inverted after the resize, as the Hugging Face post-processing does
            with np.errstate(divide="ignore", invalid="ignore"):
                depth = np.where(depth > 0.0, 1.0 / depth, np.nan).astype(np.float32)
        with np.errstate(invalid="ignore"):
            valid = (depth >= spec.min_depth_m) & (depth <= spec.max_depth_m)
        depth[~valid] = np.nan
        return depth

    def predict(self, rgb: npt.NDArray[np.uint8], camera: CameraModel) -> npt.NDArray[np.float32]:
        """Metric depth (float32 metres along the optical axis, NaN = unknown), shape (H, W) of the camera.

        ``rgb`` may be at any resolution with the camera's aspect ratio; the depth is at the camera's.
        Sky and low-confidence pixels are NaN for a model with those outputs (:meth:`predict_outputs`).
        """
        if self.spec.confidence_output or self.spec.sky_output:
            return self._predict_all(rgb, camera).depth
        return self.postprocess(self._forward(self.preprocess(rgb)), camera, rgb.shape[:2])

    def predict_outputs(
        self, rgb: npt.NDArray[np.uint8], camera: CameraModel, focal_known: bool = True
    ) -> DepthOutputs:
        """:meth:`predict` and the model's confidence (None for a model without one).

        Args:
            rgb: The frame.
            camera: Its camera model.
            focal_known: False for an uncalibrated camera: a model with a field-of-view output (spec
                ``fov_output``) then takes the focal length from it instead of ``camera.fx`` (the result's
                ``camera`` is the one used).
        """
        if self.spec.confidence_output or self.spec.sky_output or (self.spec.fov_output and not focal_known):
            return self._predict_all(rgb, camera, focal_known)
        return DepthOutputs(self.predict(rgb, camera))  # a subclass's own predict (the simulator's oracle)

    def _predict_all(self, rgb: npt.NDArray[np.uint8], camera: CameraModel, focal_known: bool = True) -> DepthOutputs:
        """Depth with the sky and confidence masks applied, and the confidence, from every named output."""
        spec = self.spec
        outputs = self._forward_all(self.preprocess(rgb))
        fov_deg, used = None, None
        if spec.fov_output and not focal_known:
            fov_deg = fov_of(outputs, spec.fov_output)
            camera = used = camera_from_fov(camera, fov_deg)
        source = (int(rgb.shape[0]), int(rgb.shape[1]))
        depth = self.postprocess(next(iter(outputs.values())), camera, source)
        margin = self.margin(*source)
        confidence = output_map(outputs, spec.confidence_output, camera, margin)
        sky = output_map(outputs, spec.sky_output, camera, margin) if self.mask_sky else None
        apply_masks(depth, sky, spec.sky_threshold, confidence, self.min_confidence)
        return DepthOutputs(depth, confidence, fov_deg, used)


class OnnxEstimator(DepthEstimator):
    """ONNX Runtime backend; the spec comes from the file's metadata, overridden field by field."""

    def __init__(
        self,
        path: str | Path,
        spec_overrides: Mapping[str, Any] | None = None,
        providers: Sequence[str] = DEFAULT_PROVIDERS,
        threads: int = 0,
        provider_options: ProviderOptions | None = None,
    ) -> None:
        path = Path(path)
        self._session, chosen = open_session(path, providers, threads, provider_options)
        metadata = self._session.get_modelmeta().custom_metadata_map
        spec = ModelSpec.from_metadata(metadata)
        if spec_overrides:
            spec = ms.from_mapping(spec_overrides, base=spec)
        # A file without a spec, run without YAML: say once what is assumed (a wrong guess gives plausible nonsense).
        self.spec_notice = None if (ms.METADATA_KEY in metadata or spec_overrides) else assumed_spec_notice(path, spec)
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        self._output_names = [o.name for o in self._session.get_outputs()]
        for field_name in ("confidence_output", "sky_output", "fov_output"):
            name = getattr(spec, field_name)
            if name and name not in self._output_names:
                raise ModelError(
                    f"model spec {field_name} '{name}' is not an output of '{path}' (outputs: {self._output_names})"
                )
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
        out = self._session.run(self._output_names[:1], {self._input_name: batch})[0]
        return np.asarray(out, dtype=np.float32)

    def _forward_all(self, batch: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        outs = self._session.run(self._output_names, {self._input_name: batch})
        return {name: np.asarray(out, dtype=np.float32) for name, out in zip(self._output_names, outs, strict=True)}


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
    provider_options: ProviderOptions | None = None,
) -> DepthEstimator:
    """The estimator for a model file: ``.onnx`` runs on ONNX Runtime, ``.pt2``/``.pt``/``.ts`` on torch.

    Args:
        path: Model file; None or "" means the shipped default model.
        spec_overrides: ModelSpec fields that replace the file's (see :mod:`depth_node.model_spec`).
        providers: ONNX Runtime providers in preference order; unavailable ones are skipped.
        threads: ONNX Runtime intra-op threads (0 = its default).
        device: torch device for TorchScript models ("auto", "cpu", "cuda").
        provider_options: TensorRT / CUDA options (engine cache, FP16, device id); None = their defaults.
    """
    model_path = Path(path) if path else default_model_path()
    if not path and not model_path.is_file():
        raise ModelError(
            f"the shipped default model '{model_path}' is not installed; name a model (--model / model_path)"
        )
    if model_path.suffix.lower() == ".onnx":
        return OnnxEstimator(model_path, spec_overrides, providers, threads, provider_options)
    if model_path.suffix.lower() in (".pt2", ".pt", ".ts", ".torchscript"):
        spec = ms.from_mapping(spec_overrides or {})
        return TorchEstimator.from_file(model_path, spec, device)
    raise ModelError(f"model file '{model_path}': expected .onnx, a torch.export .pt2 or a TorchScript .pt/.ts file")
