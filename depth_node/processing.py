"""One camera frame in, the depth node's output messages out: shared by the live node and replay.

The rclpy node and ``depth-node replay`` both call :meth:`DepthFrameProcessor.process`, so a replayed
bag exercises exactly the code that runs on the robot. A frame that cannot be processed raises a
:class:`depth_node.errors.DepthNodeError` whose ``reason`` the shell counts; nothing here logs or drops.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node.camera import CameraModel
from depth_node.colorize import colorize_depth
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import DepthNodeError, ModelError
from depth_node.estimator import DepthEstimator
from depth_node.floor_affine import AffineFit
from depth_node.msgs import MessageSet, calibration_from_info, decode_image
from depth_node.pointcloud import PointCloudBuilder
from depth_node.scale import FloorFit

STAGES = ("decode", "inference", "points", "total")


class InferenceError(ModelError):
    """The network raised while running on a frame (the frame is dropped, the node goes on)."""

    reason = "inference_failed"


@dataclass
class FrameOutputs:
    """What one frame produced; messages are None when not asked for.

    Attributes:
        depth: float32 metres (H, W), NaN = unknown.
        camera: The camera model of the depth image.
        depth_msg: 32FC1 Image, stamp and frame_id of the input.
        info_msg: CameraInfo of the depth image (same stamp and resolution).
        cloud_msg: Organised PointCloud2, or None.
        colored_msg: bgr8 inferno_r Image, or None.
        times_ms: Milliseconds per stage (see :data:`STAGES`; the floor fit counts as inference).
        floor: The frame's floor fit (already applied to ``depth``), or None when ``floor_scale`` is off.
            In affine mode a frame with no floor line and none before it raises ``FloorNotFoundError``.
        confidence: The model's confidence (H, W) for a model with a confidence output, else None.
        confidence_msg: 32FC1 Image of ``confidence`` (header of the input) when ``publish_confidence``, else None.
        camera_fallback: The camera was built from ``fallback_hfov_deg`` (its CameraInfo had K all zeros):
            the shell warns, throttled, that the depth is only as good as that guess.
        fov_deg: The horizontal field of view the model's FOV head predicted for this frame when the camera is
            uncalibrated (K all zeros) and ``camera`` has its focal; None otherwise.
    """

    depth: npt.NDArray[np.float32]
    camera: CameraModel
    depth_msg: Any
    info_msg: Any
    cloud_msg: Any
    colored_msg: Any
    times_ms: dict[str, float]
    floor: FloorFit | AffineFit | None = None
    confidence: npt.NDArray[np.float32] | None = None
    confidence_msg: Any = None
    camera_fallback: bool = False
    fov_deg: float | None = None


class DepthFrameProcessor:
    """Decode, rectify, infer, back-project and build messages for one (image, camera_info) pair.

    Args:
        messages: The message classes to build outputs with.
        estimator: The depth network.
        params: The depth node's parameters.
        input_topic: The image topic's resolved name (``rectify: auto`` leaves an ``image_rect*`` input as it is).
    """

    def __init__(
        self, messages: MessageSet, estimator: DepthEstimator, params: DepthNodeParams, input_topic: str = ""
    ) -> None:
        self.messages = messages
        # A model with a field-of-view head (Depth Pro) gives an uncalibrated camera its focal, frame by frame.
        spec = getattr(estimator, "spec", None)
        self.camera_input = params.camera_input(input_topic, model_focal=bool(getattr(spec, "fov_output", "")))
        self.estimator = estimator
        self.params = params
        max_range = params.cloud_max_range_m if params.cloud_max_range_m > 0.0 else math.inf
        self.cloud_builder = PointCloudBuilder(params.decimation, max_range)
        self.floor_scaler = params.floor_scaler()

    def process(
        self,
        image_msg: Any,
        info_msg: Any,
        *,
        want_cloud: bool | None = None,
        want_colored: bool | None = None,
    ) -> FrameOutputs:
        """Run the depth core on one frame.

        Args:
            image_msg: sensor_msgs/Image or CompressedImage.
            info_msg: The CameraInfo of that camera (any resolution; rescaled to the image's).
            want_cloud: Build the cloud (default: the ``publish_cloud`` parameter). The node passes
                False when nobody subscribes to it.
            want_colored: Build the colourised image (default: ``publish_colored``).

        Raises:
            DepthNodeError: a subclass whose ``reason`` names why the frame was dropped.
        """
        params = self.params
        want_cloud = params.publish_cloud if want_cloud is None else want_cloud
        want_colored = params.publish_colored if want_colored is None else want_colored
        t0 = time.perf_counter()
        pixels, encoding = decode_image(image_msg)
        view = self.camera_input.view(calibration_from_info(info_msg), image_codec.to_rgb8(pixels, encoding))
        rgb, camera = view.rgb, view.camera
        t1 = time.perf_counter()
        try:
            predicted = self.estimator.predict_outputs(rgb, camera, focal_known=not view.model_focal)
        except DepthNodeError:
            raise
        except Exception as exc:  # a backend's own error type: drop the frame, keep the node
            raise InferenceError(f"inference failed: {type(exc).__name__}: {exc}") from exc
        depth, confidence = predicted.depth, predicted.confidence
        if predicted.camera is not None:  # the focal of the model's FOV head: the cloud and CameraInfo use it too
            camera = predicted.camera
        if view.valid is not None:  # beyond the raw image's edge: no depth (a copy: the estimator may reuse its own)
            depth = np.where(view.valid, depth, np.float32(np.nan)).astype(np.float32, copy=False)
        floor: FloorFit | AffineFit | None = None
        if self.floor_scaler is not None:
            depth, floor = self.floor_scaler.apply(depth, camera)
        t2 = time.perf_counter()
        header = image_msg.header
        m = self.messages
        depth_msg = m.image(depth, "32FC1", header)
        info_out = m.camera_info(camera, header)
        confidence_msg = None
        if params.publish_confidence and confidence is not None:
            confidence_msg = m.image(confidence, "32FC1", header)
        cloud_msg = None
        if want_cloud:
            cloud = self.cloud_builder.build(depth, camera, rgb if params.cloud_rgb else None)
            cloud_msg = m.point_cloud(cloud, header)
        colored_msg = None
        if want_colored:
            colored_msg = m.image(colorize_depth(depth, params.colored_min_m, params.colored_max_m), "bgr8", header)
        t3 = time.perf_counter()
        times = {
            "decode": (t1 - t0) * 1e3,
            "inference": (t2 - t1) * 1e3,
            "points": (t3 - t2) * 1e3,
            "total": (t3 - t0) * 1e3,
        }
        return FrameOutputs(
            depth,
            camera,
            depth_msg,
            info_out,
            cloud_msg,
            colored_msg,
            times,
            floor,
            confidence,
            confidence_msg,
            camera_fallback=view.fallback,
            fov_deg=predicted.fov_deg if predicted.camera is not None else None,
        )

    def retune(self, params: DepthNodeParams) -> None:
        """Take new parameters while running (the node's live tuning); the next frame uses them.

        The floor fit is rebuilt only when one of its own settings changed, so that an affine fit keeps its
        smoothing across an unrelated change. Each attribute is swapped whole: a frame in flight on the
        worker sees either the old or the new object.
        """
        floor_fields = (
            *("floor_scale", "floor_scale_mode", "floor_scale_max", "floor_min_support"),
            *("floor_smoothing", "floor_max_depth_m", "camera_height_m", "camera_pitch_rad"),
        )
        if any(getattr(params, f) != getattr(self.params, f) for f in floor_fields):
            self.floor_scaler = params.floor_scaler()
        max_range = params.cloud_max_range_m if params.cloud_max_range_m > 0.0 else math.inf
        self.cloud_builder = PointCloudBuilder(params.decimation, max_range)
        self.params = params
