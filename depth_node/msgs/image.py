"""Image and camera family: Image / CompressedImage -> pixels, CameraInfo -> camera model, depth images -> metres."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node.camera import CameraModel
from depth_node.depth_files import mm_to_depth
from depth_node.errors import CameraModelError, ImageDecodeError, UnsupportedEncodingError
from depth_node.rectify import Calibration


def is_compressed(msg: Any) -> bool:
    """Whether a message is a CompressedImage (it has ``format``, an Image has ``encoding``)."""
    return hasattr(msg, "format") and not hasattr(msg, "encoding")


def decode_image(msg: Any) -> tuple[npt.NDArray[Any], str]:
    """Pixels and encoding of an Image or CompressedImage message.

    Raises:
        ImageDecodeError: (or its subclass UnsupportedEncodingError) naming what does not fit.
    """
    if is_compressed(msg):
        return image_codec.decode_compressed(str(msg.format), msg.data)
    try:
        encoding = str(msg.encoding)
        pixels = image_codec.decode_raw(
            encoding, int(msg.height), int(msg.width), int(msg.step), bool(msg.is_bigendian), msg.data
        )
    except AttributeError as exc:
        raise ImageDecodeError(f"not an image message: {exc}") from exc
    return pixels, encoding


def camera_from_info(info: Any, image_size: tuple[int, int] | None = None) -> CameraModel:
    """The camera model of a CameraInfo, rescaled to ``image_size`` (width, height) when given.

    Raises:
        CameraModelError: zero or non-finite intrinsics, or no usable resolution.
    """
    roi = info.roi
    return CameraModel.from_info_fields(
        width=int(info.width),
        height=int(info.height),
        k=[float(v) for v in info.k],
        p=[float(v) for v in info.p],
        binning_x=int(info.binning_x),
        binning_y=int(info.binning_y),
        roi=(int(roi.x_offset), int(roi.y_offset), int(roi.width), int(roi.height)),
        image_size=image_size,
    )


def calibration_from_info(info: Any) -> Calibration:
    """The geometry fields of a CameraInfo (distortion included) as a hashable :class:`Calibration`.

    Raises:
        CameraModelError: a field that is not numbers (a malformed message).
    """
    roi = info.roi
    try:
        return Calibration(
            width=int(info.width),
            height=int(info.height),
            distortion_model=str(info.distortion_model),
            d=tuple(float(v) for v in info.d),
            k=tuple(float(v) for v in info.k),
            r=tuple(float(v) for v in info.r),
            p=tuple(float(v) for v in info.p),
            binning_x=int(info.binning_x),
            binning_y=int(info.binning_y),
            roi=(int(roi.x_offset), int(roi.y_offset), int(roi.width), int(roi.height)),
        )
    except (TypeError, ValueError) as exc:
        raise CameraModelError(f"malformed CameraInfo: {exc}") from exc


def depth_from_msg(msg: Any) -> npt.NDArray[np.float32]:
    """Metric depth of a depth Image, float32 metres with NaN for unknown (REP-118).

    16UC1 / mono16 are millimetres with 0 = no measurement; 32FC1 is metres (NaN, and here also
    non-positive values, become NaN so that a driver writing 0 for "none" is not read as contact).

    Raises:
        UnsupportedEncodingError: any other encoding (colour, 8-bit ...).
        ImageDecodeError: a malformed image.
    """
    pixels, encoding = decode_image(msg)
    if encoding not in ("16UC1", "mono16", "32FC1"):
        raise UnsupportedEncodingError(f"depth image encoding '{encoding}' is not 16UC1 (mm) or 32FC1 (m)")
    if pixels.ndim != 2:
        raise ImageDecodeError(f"depth image must have one channel, got shape {pixels.shape} ({encoding})")
    if encoding in ("16UC1", "mono16"):
        return mm_to_depth(pixels)
    depth = np.array(pixels, dtype=np.float32)  # a copy: the controller keeps it beyond the message
    with np.errstate(invalid="ignore"):
        depth[~(depth > 0.0)] = np.nan
    return depth
