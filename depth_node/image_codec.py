"""``sensor_msgs/Image`` and ``CompressedImage`` payloads <-> numpy arrays, without ROS.

The functions take the message's plain fields (encoding, sizes, step, data buffer), so they serve the
rclpy classes and the rosbags ones alike; :mod:`depth_node.msgs` passes the fields in. Decoding is a
zero-copy view where the layout allows (no padding, native byte order), so a 640x480 rgb8 frame costs
microseconds; the caller copies if it needs to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from depth_node.errors import ImageDecodeError, ImageTooLargeError, UnsupportedEncodingError

# The most pixels an image may state (an 8192 x 8192 frame). The node allocates about 40 bytes per pixel
# downstream (colour, network input, depth, cloud), so a corrupt size field or a decompression bomb past
# this would take gigabytes: it is refused from the header, before any buffer of that size exists.
MAX_IMAGE_PIXELS = 1 << 26

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
# JPEG start-of-frame markers (baseline, progressive, lossless ...); C4, C8 and CC are other segments.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class EncodingInfo:
    """Memory layout of one raw encoding: element type and channels per pixel."""

    dtype: np.dtype[Any]
    channels: int


def _info(dtype: str, channels: int) -> EncodingInfo:
    return EncodingInfo(np.dtype(dtype), channels)


# The encodings of sensor_msgs/image_encodings.hpp that cameras and depth pipelines actually send.
ENCODINGS: dict[str, EncodingInfo] = {
    "rgb8": _info("u1", 3),
    "bgr8": _info("u1", 3),
    "rgba8": _info("u1", 4),
    "bgra8": _info("u1", 4),
    "mono8": _info("u1", 1),
    "mono16": _info("u2", 1),
    "8UC1": _info("u1", 1),
    "8UC3": _info("u1", 3),
    "8UC4": _info("u1", 4),
    "16UC1": _info("u2", 1),
    "16SC1": _info("i2", 1),
    "32FC1": _info("f4", 1),
    "64FC1": _info("f8", 1),
    # Packed 4:2:2, two bytes per pixel; decoded to rgb8 by to_rgb8.
    "yuv422": _info("u1", 2),  # UYVY
    "uyvy": _info("u1", 2),
    "yuv422_yuy2": _info("u1", 2),  # YUYV
    "yuyv": _info("u1", 2),
}

_TO_RGB = {
    "bgr8": cv2.COLOR_BGR2RGB,
    "rgba8": cv2.COLOR_RGBA2RGB,
    "8UC4": cv2.COLOR_RGBA2RGB,
    "bgra8": cv2.COLOR_BGRA2RGB,
    "mono8": cv2.COLOR_GRAY2RGB,
    "8UC1": cv2.COLOR_GRAY2RGB,
    "yuv422": cv2.COLOR_YUV2RGB_UYVY,
    "uyvy": cv2.COLOR_YUV2RGB_UYVY,
    "yuv422_yuy2": cv2.COLOR_YUV2RGB_YUY2,
    "yuyv": cv2.COLOR_YUV2RGB_YUY2,
}


def encoding_info(encoding: str) -> EncodingInfo:
    """Layout of an encoding; unknown ones raise :class:`UnsupportedEncodingError`."""
    try:
        return ENCODINGS[encoding]
    except KeyError:
        raise UnsupportedEncodingError(
            f"unsupported image encoding {encoding!r}; supported: {sorted(ENCODINGS)}"
        ) from None


def as_uint8_buffer(data: Any) -> npt.NDArray[np.uint8]:
    """A flat uint8 view of a message's ``data`` (numpy, bytes, array.array('B') or a list)."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8) if data.dtype != np.uint8 else data.reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        return np.asarray(data, dtype=np.uint8)


def decode_raw(
    encoding: str, height: int, width: int, step: int, is_bigendian: bool | int, data: Any
) -> npt.NDArray[Any]:
    """The pixels of a raw image as (H, W) or (H, W, C) in native byte order.

    Honours ``step`` (row padding) and ``is_bigendian``. The result may be a read-only view of ``data``.

    Raises:
        UnsupportedEncodingError: an encoding outside :data:`ENCODINGS`.
        ImageTooLargeError: more than :data:`MAX_IMAGE_PIXELS` pixels (checked before anything else).
        ImageDecodeError: sizes that do not add up (step shorter than a row, data shorter than
            step * height, zero sizes).
    """
    info = encoding_info(encoding)
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f"image has zero size ({width}x{height})")
    check_pixel_count(width, height)
    row_bytes = width * info.channels * info.dtype.itemsize
    if step < row_bytes:
        raise ImageDecodeError(f"step {step} is shorter than a row of {width} {encoding} pixels ({row_bytes} bytes)")
    buf = as_uint8_buffer(data)
    if buf.size < step * height:
        raise ImageDecodeError(f"data has {buf.size} bytes, expected step {step} x height {height} = {step * height}")
    rows = buf[: step * height].reshape(height, step)[:, :row_bytes]
    dtype = info.dtype.newbyteorder(">" if is_bigendian else "<") if info.dtype.itemsize > 1 else info.dtype
    if not rows.flags.c_contiguous or (info.dtype.itemsize > 1 and rows.ctypes.data % info.dtype.itemsize):
        rows = np.ascontiguousarray(rows)
    pixels = rows.view(dtype)
    if dtype.byteorder not in ("=", "|"):  # numpy reports the native order as "="
        pixels = pixels.astype(info.dtype.newbyteorder("="))
    shape = (height, width) if info.channels == 1 else (height, width, info.channels)
    return pixels.reshape(shape)


def check_pixel_count(width: int, height: int) -> None:
    """Refuse a stated image size over :data:`MAX_IMAGE_PIXELS` (:class:`ImageTooLargeError`)."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLargeError(
            f"image of {width}x{height} = {width * height} pixels is over the limit of {MAX_IMAGE_PIXELS} pixels"
        )


def compressed_size(data: npt.NDArray[np.uint8]) -> tuple[str, int, int]:
    """(codec, width, height) read from a PNG or JPEG header, without decoding any pixel.

    Raises:
        ImageDecodeError: data that is neither PNG nor JPEG, or whose header is cut short or has no size.
    """
    head = data[:8].tobytes()
    if head.startswith(_PNG_MAGIC):
        if data.size < 24 or data[12:16].tobytes() != b"IHDR":
            raise ImageDecodeError("PNG data has no IHDR header")
        width, height = (int.from_bytes(data[i : i + 4].tobytes(), "big") for i in (16, 20))
        return "png", width, height
    if head.startswith(_JPEG_MAGIC):
        pos = 2
        while pos + 9 <= data.size:  # walk the segments up to the frame header
            if data[pos] != 0xFF:
                break
            marker = int(data[pos + 1])
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker in _JPEG_SOF:
                height = int(data[pos + 5]) << 8 | int(data[pos + 6])
                width = int(data[pos + 7]) << 8 | int(data[pos + 8])
                return "jpeg", width, height
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # segments without a length
                pos += 2
                continue
            pos += 2 + (int(data[pos + 2]) << 8 | int(data[pos + 3]))
        raise ImageDecodeError("JPEG data has no frame header (SOF) before its end")
    raise ImageDecodeError(
        f"compressed image could not be decoded: neither PNG nor JPEG data (starts with {head[:4].hex()})"
    )


def to_rgb8(image: npt.NDArray[Any], encoding: str) -> npt.NDArray[np.uint8]:
    """Colour pixels as RGB uint8 (H, W, 3): what the depth networks are fed.

    Mono and 16-bit images are expanded (16-bit scaled to 8 bits), alpha dropped, YUV converted.
    """
    if encoding in ("rgb8", "8UC3"):
        return image  # 8UC3 carries no channel order; rgb is the ROS default for colour
    if encoding in ("mono16", "16UC1"):
        image = (image >> 8).astype(np.uint8)
        encoding = "mono8"
    code = _TO_RGB.get(encoding)
    info = ENCODINGS.get(encoding)
    if info is not None and info.channels == 2 and image.shape[1] % 2:  # OpenCV would raise its own error
        raise ImageDecodeError(f"{encoding} packs two pixels in 4 bytes: its width must be even, got {image.shape[1]}")
    if code is not None:
        return np.asarray(cv2.cvtColor(np.ascontiguousarray(image), code), dtype=np.uint8)
    raise UnsupportedEncodingError(f"encoding {encoding!r} is not a colour image")


def bgr_to_rgb8(bgr: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """OpenCV's BGR uint8 (H, W, 3) as RGB uint8, what the networks are fed (the one BGR -> RGB step)."""
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def decode_file_rgb8(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """RGB uint8 (H, W, 3) of an image file's bytes (PNG, JPEG...) as OpenCV decodes it; None when it cannot.

    ``depth-node predict`` and the web page read images with it, so both give the same depth for one file.
    """
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return None if bgr is None else bgr_to_rgb8(bgr)


def encode_raw(image: npt.NDArray[Any], encoding: str, *, step: int | None = None) -> tuple[int, int, int, bytes]:
    """Pack an array for an Image message: (height, width, step, data) in little-endian order.

    Args:
        image: (H, W) or (H, W, C) array matching ``encoding``.
        encoding: One of :data:`ENCODINGS`.
        step: Row stride in bytes; larger than a row adds zero padding (tests use it), default packed.
    """
    info = encoding_info(encoding)
    arr = np.asarray(image)
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if arr.ndim not in (2, 3) or channels != info.channels:
        raise ImageDecodeError(f"array of shape {arr.shape} does not fit encoding {encoding!r}")
    height, width = arr.shape[:2]
    arr = np.ascontiguousarray(arr, dtype=info.dtype.newbyteorder("<"))
    row_bytes = width * info.channels * info.dtype.itemsize
    if step is None or step == row_bytes:
        return height, width, row_bytes, arr.tobytes()
    if step < row_bytes:
        raise ImageDecodeError(f"step {step} is shorter than a row ({row_bytes} bytes)")
    padded = np.zeros((height, step), dtype=np.uint8)
    padded[:, :row_bytes] = arr.view(np.uint8).reshape(height, row_bytes)
    return height, width, step, padded.tobytes()


def parse_compressed_format(fmt: str) -> tuple[str, str]:
    """(original encoding, codec) of a CompressedImage format string.

    Accepts plain codecs ("jpeg", "png") and image_transport's "rgb8; jpeg compressed bgr8". The original
    encoding is "" when the string does not say it.
    """
    text = fmt.strip().lower()
    if ";" in fmt:
        original, rest = (part.strip() for part in fmt.split(";", 1))
        rest_l = rest.lower()
        if "compresseddepth" in rest_l:
            raise UnsupportedEncodingError(f"compressedDepth format {fmt!r} is not supported; use raw depth")
        codec = "png" if "png" in rest_l else "jpeg" if ("jpeg" in rest_l or "jpg" in rest_l) else ""
        if not codec:
            raise UnsupportedEncodingError(f"unknown compressed format {fmt!r}")
        return original, codec
    if text in ("jpeg", "jpg"):
        return "", "jpeg"
    if text == "png":
        return "", "png"
    raise UnsupportedEncodingError(
        f"unknown compressed format {fmt!r}; expected jpeg, png or 'ENC; CODEC compressed ...'"
    )


def decode_compressed(fmt: str, data: Any) -> tuple[npt.NDArray[Any], str]:
    """Decode a CompressedImage payload to (array, encoding).

    Colour comes back as rgb8 unless the format names bgr8 as the original; 16-bit PNGs come back as
    16UC1 (or the named original, such as mono16); grey 8-bit as mono8.

    Raises:
        UnsupportedEncodingError: a format string that is not jpeg/png.
        ImageTooLargeError: a header stating more than :data:`MAX_IMAGE_PIXELS` pixels.
        ImageDecodeError: bytes that are not PNG/JPEG or that OpenCV cannot decode.
    """
    original, _codec = parse_compressed_format(fmt)
    buf = as_uint8_buffer(data)
    if buf.size == 0:
        raise ImageDecodeError("compressed image has no data")
    # The header's size is checked before OpenCV allocates the decoded image; the magic check also keeps
    # imdecode from reading anything else it knows (TIFF, EXR, ...) out of a message that says jpeg/png.
    _codec_found, width, height = compressed_size(buf)
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"compressed image header states a zero size ({width}x{height})")
    check_pixel_count(width, height)
    try:
        decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageDecodeError(f"compressed image ({fmt!r}, {buf.size} bytes) could not be decoded: {exc}") from None
    if decoded is None:
        raise ImageDecodeError(f"compressed image ({fmt!r}, {buf.size} bytes) could not be decoded")
    if decoded.dtype not in (np.uint8, np.uint16) or (decoded.ndim == 3 and decoded.shape[2] not in (3, 4)):
        raise ImageDecodeError(f"compressed image decoded to an unsupported {decoded.dtype} {decoded.shape} array")
    if decoded.ndim == 2:
        if decoded.dtype == np.uint16:
            return decoded, original if original in ("mono16", "16UC1") else "16UC1"
        return decoded, original if original in ("mono8", "8UC1") else "mono8"
    if decoded.shape[2] == 4:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2BGR)
    if decoded.dtype != np.uint8:
        decoded = (np.asarray(decoded, dtype=np.uint16) >> 8).astype(np.uint8)
    if original == "bgr8":
        return decoded, "bgr8"
    return bgr_to_rgb8(decoded), "rgb8"


def encode_compressed(
    image: npt.NDArray[Any], encoding: str, codec: str = "jpeg", quality: int = 90
) -> tuple[str, bytes]:
    """Compress an image as image_transport does: (format string, bytes)."""
    if codec not in ("jpeg", "png"):
        raise UnsupportedEncodingError(f"codec must be jpeg or png, got {codec!r}")
    if encoding in ("rgb8", "8UC3"):
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        target = "bgr8"
    elif encoding == "bgr8":
        bgr, target = image, "bgr8"
    elif encoding in ("mono8", "8UC1", "mono16", "16UC1"):
        bgr, target = image, encoding
    else:
        raise UnsupportedEncodingError(f"cannot compress encoding {encoding!r}")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if codec == "jpeg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    ok, out = cv2.imencode(".jpg" if codec == "jpeg" else ".png", bgr, params)
    if not ok:
        raise ImageDecodeError(f"OpenCV could not encode a {encoding} image as {codec}")
    return f"{encoding}; {codec} compressed {target}", out.tobytes()
