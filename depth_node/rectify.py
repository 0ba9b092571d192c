"""From a camera's CameraInfo and image to the undistorted image the network sees and its pinhole model.

A camera with a non-zero ``D`` (plumb_bob, rational_polynomial, equidistant) bends straight lines; back-
projecting its raw pixels with ``K`` alone bends walls at the edges of the cloud and the scan. So a raw image
of such a camera is rectified first, as image_proc's ``rectify`` does (``cv2.initUndistortRectifyMap`` /
``cv2.fisheye.initUndistortRectifyMap`` with ``K``, ``D``, ``R`` and the new camera ``P``; ``K`` when ``P``
is zero), and everything after it (depth, cloud, the published CameraInfo) uses the rectified pinhole model,
with ``D`` zero. The maps depend only on the calibration and the image size, so they are built once per
CameraInfo and reused (a small cache: a camera's CameraInfo does not change between frames).

An input that is already rectified (``image_rect``, ``image_rect_color``: image_proc republishes the raw
CameraInfo, ``D`` included, beside it) is passed through unchanged; with ``rectify: auto`` this is read
from the topic's name. An uncalibrated camera (``usb_cam``, ``v4l2_camera`` without a calibration file)
publishes ``K`` all zeros: with ``fallback_hfov_deg`` set a centred pinhole camera of that horizontal field
of view stands in, and the shell warns (throttled) that depth is only as good as that guess.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel, camera_for_image
from depth_node.errors import CameraModelError

RECTIFY_CHOICES = ("auto", "always", "never")
PLUMB_BOB_MODELS = ("plumb_bob", "rational_polynomial")
FISHEYE_MODELS = ("equidistant",)
_CACHE_SIZE = 4


@dataclass(frozen=True)
class Calibration:
    """The CameraInfo fields the image geometry depends on: hashable, so it keys the map cache.

    Attributes:
        width: CameraInfo.width (0 = unknown).
        height: CameraInfo.height.
        distortion_model: ``plumb_bob``, ``rational_polynomial``, ``equidistant`` (or empty with D zero).
        d: Distortion coefficients.
        k: Intrinsic matrix of the raw image, 9 row-major numbers.
        r: Rectification rotation, 9 numbers (all zero is read as identity).
        p: Projection matrix of the rectified image, 12 numbers (all zero: use K).
        binning_x: Horizontal binning.
        binning_y: Vertical binning.
        roi: (x_offset, y_offset, width, height) in full-resolution pixels.
    """

    width: int
    height: int
    distortion_model: str
    d: tuple[float, ...]
    k: tuple[float, ...]
    r: tuple[float, ...]
    p: tuple[float, ...]
    binning_x: int = 0
    binning_y: int = 0
    roi: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def distorted(self) -> bool:
        """Whether ``D`` has a non-zero (finite or not) coefficient."""
        return any(v != 0.0 for v in self.d)

    @property
    def uncalibrated(self) -> bool:
        """``K`` and ``P`` all zero: what usb_cam / v4l2_camera publish without a calibration file."""
        return not any(v != 0.0 for v in self.k) and not any(v != 0.0 for v in self.p)

    def model(self, image_size: tuple[int, int], *, use_p: bool = True) -> CameraModel:
        """The pinhole model at ``image_size`` from P (rectified image) or, with ``use_p=False``, from K (raw)."""
        return CameraModel.from_info_fields(
            self.width,
            self.height,
            self.k,
            self.p if use_p else (0.0,) * 12,
            self.binning_x,
            self.binning_y,
            self.roi,
            image_size=image_size,
        )


@dataclass(frozen=True)
class CameraView:
    """The image the network sees and its camera.

    Attributes:
        rgb: The image (rectified when ``rectified``; the input array itself otherwise).
        camera: Its pinhole model (no distortion).
        rectified: The image was undistorted here.
        fallback: The camera was built from ``fallback_hfov_deg`` (K was all zeros).
        model_focal: K was all zeros and the model has a field-of-view head: ``camera`` is a centred placeholder
            whose focal the estimator replaces with the one its FOV head predicts for the frame.
        valid: With ``rectified``, the pixels that saw the raw image (False where the rectified view reaches
            beyond the sensor: their depth is unknown, NaN); None when every pixel is valid.
    """

    rgb: npt.NDArray[np.uint8]
    camera: CameraModel
    rectified: bool = False
    fallback: bool = False
    valid: npt.NDArray[np.bool_] | None = None
    model_focal: bool = False


def is_rectified_topic(topic: str) -> bool:
    """Whether a topic name is image_proc's rectified output (``.../image_rect``, ``image_rect_color``, ...)."""
    parts = [p for p in topic.split("/") if p]
    if parts and parts[-1] == "compressed":
        parts = parts[:-1]
    return bool(parts) and parts[-1].startswith("image_rect")


def _matrix(model: CameraModel) -> npt.NDArray[np.float64]:
    return np.array([[model.fx, 0.0, model.cx], [0.0, model.fy, model.cy], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class UndistortMaps:
    """``cv2.remap`` maps from the raw image to the rectified one, the rectified camera and its valid pixels."""

    map1: Any
    map2: Any
    camera: CameraModel
    valid: npt.NDArray[np.bool_] | None


def undistort_maps(calib: Calibration, image_size: tuple[int, int]) -> UndistortMaps:
    """The remap of one calibration at one image size (built once per CameraInfo: see :class:`CameraInput`).

    Raises:
        CameraModelError: a distortion model this node does not know, or a D of the wrong length.
    """
    raw = calib.model(image_size, use_p=False)
    rect = calib.model(image_size, use_p=True)
    r = np.asarray(calib.r, dtype=np.float64).reshape(-1)
    rot = r.reshape(3, 3) if r.size == 9 and np.any(r != 0.0) else np.eye(3)
    d = np.asarray(calib.d, dtype=np.float64)
    if not np.all(np.isfinite(d)):
        raise CameraModelError(f"CameraInfo D has a non-finite coefficient: {list(calib.d)}")
    size = (int(image_size[0]), int(image_size[1]))
    if calib.distortion_model in PLUMB_BOB_MODELS:
        if d.size not in (4, 5, 8, 12, 14):
            raise CameraModelError(f"CameraInfo D of '{calib.distortion_model}' has {d.size} coefficients")
        map1, map2 = cv2.initUndistortRectifyMap(_matrix(raw), d, rot, _matrix(rect), size, cv2.CV_16SC2)
    elif calib.distortion_model in FISHEYE_MODELS:
        if d.size < 4:
            raise CameraModelError(f"CameraInfo D of 'equidistant' needs 4 coefficients, got {d.size}")
        map1, map2 = cv2.fisheye.initUndistortRectifyMap(
            _matrix(raw), d[:4].reshape(4, 1), rot, _matrix(rect), size, cv2.CV_16SC2
        )
    else:
        known = ", ".join(PLUMB_BOB_MODELS + FISHEYE_MODELS)
        raise CameraModelError(
            f"CameraInfo distortion_model '{calib.distortion_model}' with a non-zero D is not supported ({known})"
        )
    # A rectified pixel is valid when its whole bilinear footprint lies inside the raw image.
    inside = cv2.remap(np.full((size[1], size[0]), 255, np.uint8), map1, map2, cv2.INTER_LINEAR, borderValue=0)
    valid = inside == 255
    return UndistortMaps(map1, map2, rect, None if bool(valid.all()) else valid)


class CameraInput:
    """Turns (calibration, image) into the :class:`CameraView` the depth core works on.

    Args:
        rectify: ``auto`` (undistort unless the input topic is an ``image_rect*`` topic), ``always``, ``never``.
        fallback_hfov_deg: Horizontal field of view assumed when K is all zeros (0 = refuse such frames).
        input_topic: The image topic's resolved name (for ``auto``).
        model_focal: The model estimates the focal itself (a field-of-view head): with K all zeros that estimate
            is used, before ``fallback_hfov_deg``.
    """

    def __init__(
        self, rectify: str = "auto", fallback_hfov_deg: float = 0.0, input_topic: str = "", model_focal: bool = False
    ) -> None:
        if rectify not in RECTIFY_CHOICES:
            raise ValueError(f"rectify {rectify!r}: expected one of {RECTIFY_CHOICES}")
        self.rectify = rectify
        self.fallback_hfov_deg = fallback_hfov_deg
        self.input_topic = input_topic
        self.model_focal = model_focal
        self._maps: OrderedDict[tuple[Calibration, tuple[int, int]], UndistortMaps] = OrderedDict()

    def _wants_rectify(self, calib: Calibration) -> bool:
        if not calib.distorted or self.rectify == "never":
            return False
        return self.rectify == "always" or not is_rectified_topic(self.input_topic)

    def view(self, calib: Calibration, rgb: npt.NDArray[np.uint8]) -> CameraView:
        """The network's image and camera for one frame.

        Raises:
            CameraModelError: unusable intrinsics (K all zeros with neither a FOV head nor a fallback, zero focal,
                bad D ...).
        """
        size = (int(rgb.shape[1]), int(rgb.shape[0]))
        if calib.uncalibrated:
            if self.model_focal:  # the model's own field of view for this frame (Depth Pro's FOV head)
                return CameraView(rgb, camera_for_image(size[0], size[1]), model_focal=True)
            if self.fallback_hfov_deg <= 0.0:
                raise CameraModelError(
                    "CameraInfo K and P are all zeros (an uncalibrated camera): calibrate it, "
                    "or set fallback_hfov_deg to the lens's horizontal field of view"
                )
            camera = camera_for_image(size[0], size[1], hfov_deg=self.fallback_hfov_deg)
            return CameraView(rgb, camera, fallback=True)  # nothing to undistort with: D is of no known K
        if not self._wants_rectify(calib):
            return CameraView(rgb, calib.model(size))
        key = (calib, size)
        maps = self._maps.get(key)
        if maps is None:
            maps = self._maps[key] = undistort_maps(calib, size)
            while len(self._maps) > _CACHE_SIZE:
                self._maps.popitem(last=False)
        else:
            self._maps.move_to_end(key)
        rect = cv2.remap(rgb, maps.map1, maps.map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return CameraView(np.asarray(rect, dtype=np.uint8), maps.camera, rectified=True, valid=maps.valid)
