"""Parameters of the depth node, replay and predict: the single source of names, defaults and ranges.

``config/depth_node.yaml`` mirrors this dataclass, the rclpy node declares its parameters from it and the
CLI reads the same YAML, so a replayed bag runs with exactly the live settings. ``dynamic=True`` marks what
can be tuned while the node runs (cloud, colouring, floor fit); the model, providers, topics and QoS are
wired once at start-up and stay read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from depth_node.errors import ModelError, ParameterError
from depth_node.estimator import DEFAULT_PROVIDERS, DepthEstimator, load_estimator
from depth_node.floor_affine import AffineFloorScaler
from depth_node.params import param
from depth_node.providers import ProviderOptions
from depth_node.rectify import RECTIFY_CHOICES, CameraInput
from depth_node.scale import FloorScaler

NODE_NAME = "depth_node"


@dataclass(frozen=True)
class ModelOverrides:
    """Model spec fields that replace what the model file says; 0 or empty = keep the file's value."""

    input_width: int = param(0, "Network input width in pixels (0 = from the model)", min_value=0, max_value=8192)
    input_height: int = param(0, "Network input height in pixels (0 = from the model)", min_value=0, max_value=8192)
    size_multiple: int = param(0, "Dynamic input sizes round to this multiple (0 = from the model)", min_value=0)
    color_order: str = param("", "Channel order the network expects", choices=("", "rgb", "bgr"))
    scale: float = param(0.0, "Pixel multiplier before normalisation, e.g. 0.00392 (0 = from the model)", min_value=0.0)
    mean: tuple[float, ...] = param((), "Per-channel mean after scaling (empty = from the model)")
    std: tuple[float, ...] = param((), "Per-channel std (empty = from the model)")
    output_kind: str = param(
        "",
        "What the output means (empty = from the model)",
        choices=("", "metric_depth", "relative_inverse_depth", "relative_depth", "metric_inverse_depth"),
    )
    depth_scale: float = param(0.0, "Multiplier on the raw output (0 = from the model)")
    depth_shift: float = param(0.0, "Offset after depth_scale (0 = from the model)")
    min_depth_m: float = param(0.0, "Nearer depths are unknown (0 = from the model)", min_value=0.0)
    max_depth_m: float = param(0.0, "Farther depths are unknown (0 = from the model)", min_value=0.0)
    trained_fx: float = param(
        0.0, "Training focal length in pixels at trained_width (0 = from the model)", min_value=0.0
    )
    trained_width: int = param(0, "Image width trained_fx refers to (0 = from the model)", min_value=0)
    keep_aspect_ratio: str = param(
        "",
        "Dynamic input: keep the aspect ratio around the nominal input size (empty = from the model)",
        choices=("", "true", "false"),
    )
    size_rounding: str = param(
        "", "How dynamic sizes reach size_multiple (empty = from the model)", choices=("", "nearest", "floor")
    )
    resample: str = param(
        "",
        "Resize filter when enlarging, or bilinear_align_corners both ways (empty = from the model)",
        choices=("", "auto", "bilinear", "bicubic", "bilinear_align_corners"),
    )
    confidence_output: str = param("", "Name of the model's confidence output (empty = from the model)")
    sky_output: str = param("", "Name of the model's sky-score output (empty = from the model)")
    sky_threshold: float = param(0.0, "Sky score from which a pixel is sky (0 = from the model)", min_value=0.0)
    fov_output: str = param("", "Name of the model's field-of-view output, degrees (empty = from the model)")
    pad_mode: str = param(
        "",
        "Margin filled around the frame before the resize, cropped off the depth after it (empty = from the model)",
        choices=("", "none", "reflect", "replicate"),
    )
    pad_rule: str = param(
        "",
        "Margin width per side: fraction = pad_amount * side, sqrt_half = pad_amount * sqrt(side / 2) "
        "(empty = from the model)",
        choices=("", "fraction", "sqrt_half"),
    )
    pad_amount: float = param(0.0, "Factor of pad_rule (0 = from the model)", min_value=0.0, max_value=10.0)
    output_resample: str = param(
        "", "Filter that resizes the output to the camera (empty = from the model)", choices=("", "bilinear", "bicubic")
    )

    def as_spec_overrides(self) -> dict[str, Any]:
        """The fields that were set, as :func:`depth_node.model_spec.from_mapping` takes them."""
        out: dict[str, Any] = {}
        for name, value in vars(self).items():
            if value in (0, 0.0, "", ()):
                continue
            if name in ("mean", "std") and len(value) != 3:
                raise ParameterError(f"parameter 'model.{name}': expected 3 values, got {list(value)}")
            out[name] = value == "true" if name == "keep_aspect_ratio" else value
        return out


@dataclass(frozen=True)
class DepthNodeParams:
    """Everything the depth node (and replay / predict) can be told."""

    model_path: str = param("", "model: .onnx, .pt2 (torch.export), TorchScript .pt/.ts; empty = the shipped default")
    providers: tuple[str, ...] = param(
        DEFAULT_PROVIDERS,
        "ONNX Runtime execution providers, most preferred first (unavailable ones are skipped)",
    )
    threads: int = param(0, "ONNX Runtime intra-op threads (0 = its default)", min_value=0, max_value=256)
    trt_engine_cache: bool = param(
        True, "Keep TensorRT engines on disk between starts (the first start builds one: minutes for a ViT)"
    )
    trt_engine_cache_dir: str = param(
        "", "TensorRT engine and timing cache directory (empty = $XDG_CACHE_HOME or ~/.cache, /depth_node/tensorrt)"
    )
    trt_fp16: bool = param(False, "Let TensorRT run in half precision (faster; the depth changes slightly)")
    cuda_device_id: int = param(0, "GPU of the TensorRT and CUDA providers", min_value=0, max_value=63)
    image_transport: str = param(
        "raw", "Subscribe to image_raw (raw) or image_raw/compressed", choices=("raw", "compressed")
    )
    qos_reliability: str = param(
        "auto",
        "Reliability of the image subscriptions; auto follows the publishers (reliable unless one is best-effort)",
        choices=("auto", "reliable", "best_effort"),
    )
    qos_depth: int = param(2, "History depth of the image subscriptions", min_value=1, max_value=100)
    decimation: int = param(
        1, "Cloud keeps every k-th pixel in both directions", min_value=1, max_value=32, dynamic=True
    )
    publish_cloud: bool = param(True, "Publish depth/points")
    cloud_rgb: bool = param(False, "Colour the cloud (xyzrgb, point_step 32) instead of xyz", dynamic=True)
    cloud_max_range_m: float = param(
        0.0, "Cloud points with depth beyond this are NaN (0 = no limit)", min_value=0.0, dynamic=True
    )
    publish_colored: bool = param(False, "Publish depth/colored, a bgr8 inferno_r rendering of the depth")
    colored_min_m: float = param(0.2, "Depth shown brightest in depth/colored", min_value=0.0, dynamic=True)
    colored_max_m: float = param(10.0, "Depth shown darkest in depth/colored", min_value=0.01, dynamic=True)
    publish_confidence: bool = param(
        False,
        "Publish depth/confidence (32FC1, the model's confidence beside the depth, same header); "
        "only for models with a confidence output (Depth Anything 3)",
    )
    min_confidence: float = param(
        0.0,
        "Depth whose model confidence is below this is NaN, so cloud, scan and obstacles ignore it (0 = off)",
        min_value=0.0,
    )
    mask_sky: bool = param(
        True, "Where the model's sky head says sky the depth is NaN, not a far wall (models with a sky output)"
    )
    floor_scale: bool = param(
        False,
        "Rescale each frame so that its floor lies camera_height_m below the camera (depth_node/scale.py)",
        dynamic=True,
    )
    camera_height_m: float = param(
        0.30, "Height of the camera's optical centre above the floor, m (used by floor_scale)", min_value=0.01
    )
    camera_pitch_rad: float = param(
        0.10, "Pitch of the camera, positive looks down, rad (used by floor_scale)", min_value=-1.2, max_value=1.2
    )
    floor_scale_max: float = param(
        1.5,
        "Largest floor-scale factor either way (a metric model needs little)",
        min_value=1.01,
        max_value=1000.0,
        dynamic=True,
    )
    floor_min_support: float = param(
        0.03,
        "Least fraction of the image that must agree on the floor; below it the model's own scale is kept",
        min_value=0.0,
        max_value=1.0,
        dynamic=True,
    )
    floor_scale_mode: str = param(
        "scale",
        "floor_scale fits one factor on metric depth (scale), or scale and shift of a relative inverse depth "
        "(affine: MiDaS, DPT, Depth Anything relative; depth_node/floor_affine.py)",
        choices=("scale", "affine"),
        dynamic=True,
    )
    floor_smoothing: float = param(
        0.0,
        "affine mode: weight of the previous frames' floor line (0 = per frame only)",
        min_value=0.0,
        max_value=0.99,
        dynamic=True,
    )
    floor_max_depth_m: float = param(
        20.0,
        "affine mode: converted depths beyond this are unknown (NaN)",
        min_value=0.1,
        max_value=1000.0,
        dynamic=True,
    )
    diagnostics_period_s: float = param(
        1.0, "Period of the frame counts on /diagnostics, s (0 = off; the log gets them every 10 s)", min_value=0.0
    )
    rectify: str = param(
        "auto",
        "Undistort images whose CameraInfo has a non-zero D before the model; depth, cloud and depth/camera_info "
        "then use the rectified camera (D zero). auto: unless the input topic is an image_rect* topic",
        choices=RECTIFY_CHOICES,
    )
    fallback_hfov_deg: float = param(
        0.0,
        "Horizontal field of view assumed for a camera whose CameraInfo K is all zeros (uncalibrated usb_cam / "
        "v4l2_camera); 0 = drop such frames (bad_camera_info)",
        min_value=0.0,
        max_value=179.0,
    )
    model: ModelOverrides = field(default_factory=ModelOverrides)

    def build_estimator(self, notify: Callable[[str], None] | None = None) -> DepthEstimator:
        """The depth estimator these parameters name (model file, spec overrides, providers, threads).

        Args:
            notify: Told once, at load, which conventions are assumed for a model file without a spec
                (the node passes its logger; the CLI writes to stderr).
        """
        estimator = load_estimator(
            self.model_path or None,
            spec_overrides=self.model.as_spec_overrides(),
            providers=self.providers,
            threads=self.threads,
            provider_options=self.provider_options(),
        )
        try:
            estimator.set_output_options(self.mask_sky, self.min_confidence)
        except ModelError as exc:
            raise ParameterError(f"parameter 'min_confidence': {exc}") from exc
        notice = getattr(estimator, "spec_notice", None)
        if notice and notify is not None:
            notify(notice)
        return estimator

    def provider_options(self) -> ProviderOptions:
        """The TensorRT / CUDA options these parameters set."""
        return ProviderOptions(self.trt_engine_cache, self.trt_engine_cache_dir, self.trt_fp16, self.cuda_device_id)

    def camera_input(self, input_topic: str = "", model_focal: bool = False) -> CameraInput:
        """The CameraInfo + image -> network image + camera step these parameters ask for.

        Args:
            input_topic: The image topic's resolved name (``rectify: auto``).
            model_focal: The model has a field-of-view head: an uncalibrated camera takes its focal from it.
        """
        return CameraInput(self.rectify, self.fallback_hfov_deg, input_topic, model_focal)

    def floor_scaler(self) -> FloorScaler | AffineFloorScaler | None:
        """The per-frame floor fit these parameters ask for, or None when ``floor_scale`` is off."""
        if not self.floor_scale:
            return None
        if self.floor_scale_mode == "affine":
            return AffineFloorScaler(
                self.camera_height_m,
                self.camera_pitch_rad,
                min_support=self.floor_min_support,
                smoothing=self.floor_smoothing,
                max_depth_m=self.floor_max_depth_m,
            )
        return FloorScaler(self.camera_height_m, self.camera_pitch_rad, self.floor_scale_max, self.floor_min_support)
