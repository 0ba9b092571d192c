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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from depth_node.providers import ProviderOptions

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
    """The shipped model: in the source tree (``models/``) or where colcon / pip installed it.

    colcon (ament_python) installs the package's data under ``<prefix>/share/depth_node/models`` and the
    code under ``<prefix>/lib/pythonX.Y/site-packages``; that prefix is neither ``sys.prefix`` nor next to
    the code, so it is found through the ament index when ROS is sourced, and from the code's own location.
    """
    here = Path(__file__).resolve().parent
    first = here.parent / "models" / DEFAULT_MODEL_NAME
    for path in (first, *_installed_model_paths(here)):
        if path.is_file():
            return path
    return first


def _installed_model_paths(here: Path) -> Iterator[Path]:
    """Where an install puts the shipped model, most specific first (looked up only when needed)."""
    share = _ament_share_directory()
    if share is not None:
        yield share / "models" / DEFAULT_MODEL_NAME
    if len(here.parents) > 3:  # <prefix>/lib/pythonX.Y/site-packages/depth_node -> <prefix>
        yield here.parents[3] / "share" / "depth_node" / "models" / DEFAULT_MODEL_NAME
    yield Path(sys.prefix) / "share" / "depth_node" / "models" / DEFAULT_MODEL_NAME


def _ament_share_directory() -> Path | None:
    """depth_node's share directory from the ament index, or None without ROS or outside an install."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory("depth_node"))
    except (PackageNotFoundError, LookupError, OSError, ValueError):  # OSError: AMENT_PREFIX_PATH unset
        return None


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


def round_to_multiple(value: float, multiple: int) -> int:
    """Nearest multiple of ``multiple`` to ``value`` (halves round up), at least ``multiple``."""
    return max(multiple, math.floor(value / multiple + 0.5) * multiple)


def floor_to_multiple(value: float, multiple: int) -> int:
    """Largest multiple of ``multiple`` not above ``value``, at least ``multiple`` (GLPN's rule)."""
    return max(multiple, math.floor(value / multiple) * multiple)


def keep_aspect_size(
    height: int, width: int, target_h: int, target_w: int, multiple: int, rounding: str = "nearest"
) -> tuple[int, int]:
    """The Hugging Face DPT rule: scale as little as possible to reach one target side, keep the aspect ratio.

    Each side is then rounded to ``multiple`` with Python's ``round`` (halves to even), as the image processors
    of DPT and Depth Anything do, so that the node feeds the network exactly the size ``transformers`` would.
    """
    scale_h, scale_w = target_h / height, target_w / width
    if abs(1 - scale_w) < abs(1 - scale_h):
        scale_h = scale_w
    else:
        scale_w = scale_h
    if rounding == "floor":
        return floor_to_multiple(scale_h * height, multiple), floor_to_multiple(scale_w * width, multiple)
    return (
        max(multiple, round(scale_h * height / multiple) * multiple),
        max(multiple, round(scale_w * width / multiple) * multiple),
    )


@dataclass(frozen=True)
class DepthOutputs:
    """One frame's depth and, for a model with a confidence output, its confidence, both at the camera's size.

    Attributes:
        depth: float32 metres (H, W), NaN = unknown (sky and, with ``min_confidence``, unsure pixels included).
        confidence: float32 (H, W) in the model's own units (larger = surer), or None.
        fov_deg: The horizontal field of view the model's FOV head estimated, when it was used for the focal.
    """

    depth: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32] | None = None
    fov_deg: float | None = None


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

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the network is fed for an image of this size."""
        if self._fixed is not None:
            return self._fixed
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
        enlarge = cv2.INTER_CUBIC if self.spec.resample == "bicubic" else cv2.INTER_LINEAR
        return reference_blob(rgb, size, self._gain, self._bias, self.spec.color_order == "bgr", enlarge)

    def postprocess(self, raw: npt.NDArray[Any], camera: CameraModel) -> npt.NDArray[np.float32]:
        """Raw network output -> metric depth at the camera's resolution, NaN where invalid."""
        out = np.asarray(raw, dtype=np.float32)
        while out.ndim > 2 and out.shape[0] == 1:
            out = out[0]
        if out.ndim != 2:
            raise ModelError(f"expected a single-image depth output, got shape {np.shape(raw)}")
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
        # The affine part on the network's small grid: it commutes with the bilinear resize (weights sum
        # to 1), and costs a sixteenth of doing it at the camera's resolution.
        depth = out * np.float32(gain) + np.float32(offset)
        if depth.shape != (camera.height, camera.width):
            depth = np.asarray(
                cv2.resize(depth, (camera.width, camera.height), interpolation=cv2.INTER_LINEAR), np.float32
            )
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
        return self.postprocess(self._forward(self.preprocess(rgb)), camera)

    def predict_outputs(
        self, rgb: npt.NDArray[np.uint8], camera: CameraModel, focal_known: bool = True
    ) -> DepthOutputs:
        """:meth:`predict` and the model's confidence (None for a model without one).

        Args:
            rgb: The frame.
            camera: Its camera model.
            focal_known: False for an uncalibrated camera: a model with a field-of-view output (spec
                ``fov_output``) then takes the focal length from it instead of ``camera.fx``.
        """
        if self.spec.confidence_output or self.spec.sky_output or (self.spec.fov_output and not focal_known):
            return self._predict_all(rgb, camera, focal_known)
        return DepthOutputs(self.predict(rgb, camera))  # a subclass's own predict (the simulator's oracle)

    def _predict_all(self, rgb: npt.NDArray[np.uint8], camera: CameraModel, focal_known: bool = True) -> DepthOutputs:
        """Depth with the sky and confidence masks applied, and the confidence, from every named output."""
        spec = self.spec
        outputs = self._forward_all(self.preprocess(rgb))
        fov_deg = None
        if spec.fov_output and not focal_known:
            fov_deg = float(np.asarray(outputs[spec.fov_output]).reshape(-1)[0])
            if not 0.0 < fov_deg < 180.0:
                raise ModelError(f"the model's field of view {fov_deg:.3g} deg is not usable as a focal length")
            fx = (camera.width / 2) / math.tan(math.radians(fov_deg) / 2)
            camera = CameraModel(camera.width, camera.height, fx, fx, camera.cx, camera.cy)
        depth = self.postprocess(next(iter(outputs.values())), camera)
        confidence = self._extra_output(outputs, spec.confidence_output, camera)
        if self.mask_sky and spec.sky_output:
            sky = self._extra_output(outputs, spec.sky_output, camera)
            assert sky is not None
            depth[sky >= np.float32(spec.sky_threshold)] = np.nan
        if confidence is not None and self.min_confidence > 0.0:
            with np.errstate(invalid="ignore"):
                depth[~(confidence >= np.float32(self.min_confidence))] = np.nan
        return DepthOutputs(depth, confidence, fov_deg)

    @staticmethod
    def _extra_output(
        outputs: Mapping[str, npt.NDArray[Any]], name: str, camera: CameraModel
    ) -> npt.NDArray[np.float32] | None:
        """A named per-pixel output at the camera's resolution (bilinear, as the depth), or None for ""."""
        if not name:
            return None
        if name not in outputs:
            raise ModelError(f"the model spec names output '{name}' but the model's outputs are {list(outputs)}")
        out = np.asarray(outputs[name], dtype=np.float32)
        while out.ndim > 2 and out.shape[0] == 1:
            out = out[0]
        if out.ndim != 2:
            raise ModelError(f"output '{name}': expected a single-image map, got shape {np.shape(outputs[name])}")
        if out.shape != (camera.height, camera.width):
            out = np.asarray(cv2.resize(out, (camera.width, camera.height), interpolation=cv2.INTER_LINEAR), np.float32)
        return np.asarray(out, np.float32)


def assumed_spec_notice(path: Path, spec: ModelSpec) -> str:
    """One line: the conventions assumed for a model file that carries no spec, and where to set them."""
    size = (
        f"{spec.input_width}x{spec.input_height}" if spec.input_width else f"dynamic, multiple of {spec.size_multiple}"
    )
    return (
        f"model '{path.name}' has no '{ms.METADATA_KEY}' metadata and no model.* parameters were given; assuming "
        f"input {size}, {spec.color_order.upper()} scaled by {spec.scale:.5g}, mean {list(spec.mean)}, "
        f"std {list(spec.std)}, output {spec.output_kind.value} in [{spec.min_depth_m}, {spec.max_depth_m}] m; "
        "set them under 'model:' in the depth_node YAML (README: 'Model spec') or export with depth-node export-hf"
    )


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
