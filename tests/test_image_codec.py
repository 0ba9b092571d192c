"""Image / CompressedImage <-> ndarray, through real CDR serialisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from depth_node import image_codec
from depth_node.errors import ImageDecodeError, UnsupportedEncodingError
from depth_node.msgs import MessageSet, decode_image
from tests.conftest import roundtrip

RNG = np.random.default_rng(7)


def _pixels(encoding: str, h: int = 5, w: int = 7) -> np.ndarray:
    info = image_codec.ENCODINGS[encoding]
    shape = (h, w) if info.channels == 1 else (h, w, info.channels)
    if info.dtype.kind == "f":
        return RNG.normal(2.0, 1.0, shape).astype(info.dtype)
    lim = np.iinfo(info.dtype)
    return RNG.integers(lim.min, lim.max, shape, endpoint=True).astype(info.dtype)


def _image_msg(
    messages: MessageSet, pixels: np.ndarray, encoding: str, step: int | None = None, big: bool = False
) -> Any:
    arr = pixels.astype(pixels.dtype.newbyteorder(">")) if big else pixels
    h, w = pixels.shape[:2]
    row = w * pixels.itemsize * (1 if pixels.ndim == 2 else pixels.shape[2])
    step = step or row
    padded = np.zeros((h, step), np.uint8)
    padded[:, :row] = np.ascontiguousarray(arr).view(np.uint8).reshape(h, row)
    return messages.get("sensor_msgs/msg/Image")(
        header=messages.header(5, "cam"),
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=int(big),
        step=step,
        data=padded.reshape(-1),
    )


@pytest.mark.parametrize("encoding", sorted(image_codec.ENCODINGS))
def test_every_encoding_round_trips_through_cdr(messages: MessageSet, typestore: Any, encoding: str) -> None:
    pixels = _pixels(encoding)
    msg = roundtrip(typestore, messages.image(pixels, encoding, messages.header(1, "cam")))
    decoded, enc = decode_image(msg)
    assert enc == encoding
    np.testing.assert_array_equal(decoded, pixels)


@pytest.mark.parametrize("encoding", ["rgb8", "mono16", "32FC1", "bgra8"])
@pytest.mark.parametrize("big", [False, True])
def test_padded_step_and_byte_order(messages: MessageSet, typestore: Any, encoding: str, big: bool) -> None:
    pixels = _pixels(encoding, h=4, w=3)
    row = pixels.nbytes // 4
    msg = roundtrip(typestore, _image_msg(messages, pixels, encoding, step=row + 5, big=big))
    decoded, _ = decode_image(msg)
    np.testing.assert_array_equal(decoded, pixels)
    assert decoded.dtype.byteorder in ("=", "|")


def test_padded_step_from_encoder_matches(messages: MessageSet) -> None:
    pixels = _pixels("rgb8", 3, 4)
    h, w, step, data = image_codec.encode_raw(pixels, "rgb8", step=16)
    assert step == 16 and len(data) == 48
    np.testing.assert_array_equal(image_codec.decode_raw("rgb8", h, w, step, False, data), pixels)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("bgr8", lambda p: p[..., ::-1]), ("rgba8", lambda p: p[..., :3]), ("bgra8", lambda p: p[..., 2::-1])],
)
def test_to_rgb8_channel_order(encoding: str, expected: Any) -> None:
    pixels = _pixels(encoding)
    np.testing.assert_array_equal(image_codec.to_rgb8(pixels, encoding), expected(pixels))


def test_mono_and_yuv_become_rgb() -> None:
    mono = _pixels("mono8")
    rgb = image_codec.to_rgb8(mono, "mono8")
    assert rgb.shape == (*mono.shape, 3) and np.all(rgb[..., 1] == mono)
    # A grey UYVY frame (U = V = 128) is grey in RGB.
    uyvy = np.zeros((2, 4, 2), np.uint8)
    uyvy[..., 0] = 128
    uyvy[..., 1] = 90
    out = image_codec.to_rgb8(uyvy, "yuv422")
    assert out.shape == (2, 4, 3) and np.ptp(out) <= 2


@pytest.mark.parametrize(
    ("fmt", "original", "codec"),
    [
        ("jpeg", "", "jpeg"),
        ("png", "", "png"),
        ("rgb8; jpeg compressed bgr8", "rgb8", "jpeg"),
        ("bgr8; png compressed bgr8", "bgr8", "png"),
        ("mono16; png compressed mono16", "mono16", "png"),
    ],
)
def test_format_strings(fmt: str, original: str, codec: str) -> None:
    assert image_codec.parse_compressed_format(fmt) == (original, codec)


def test_png_colour_is_lossless_and_rgb(messages: MessageSet, typestore: Any) -> None:
    pixels = _pixels("rgb8", 6, 9)
    msg = roundtrip(typestore, messages.compressed_image(pixels, "rgb8", messages.header(1, "c"), "png"))
    assert msg.format == "rgb8; png compressed bgr8"
    decoded, enc = decode_image(msg)
    assert enc == "rgb8"
    np.testing.assert_array_equal(decoded, pixels)


def test_png_16bit_depth_round_trips(messages: MessageSet, typestore: Any) -> None:
    depth_mm = _pixels("16UC1", 6, 9)
    msg = roundtrip(typestore, messages.compressed_image(depth_mm, "16UC1", messages.header(1, "c"), "png"))
    decoded, enc = decode_image(msg)
    assert enc == "16UC1" and decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded, depth_mm)


def test_jpeg_is_close_and_keeps_channel_order(messages: MessageSet, typestore: Any) -> None:
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[..., 0] = 200  # pure red must stay in channel 0 of rgb8
    msg = roundtrip(typestore, messages.compressed_image(pixels, "rgb8", messages.header(1, "c"), "jpeg"))
    decoded, enc = decode_image(msg)
    assert enc == "rgb8"
    assert np.abs(decoded.astype(int) - pixels).max() <= 3
    # A plain "jpeg" format (no original encoding) also decodes to rgb8.
    plain = messages.get("sensor_msgs/msg/CompressedImage")(header=msg.header, format="jpeg", data=msg.data)
    assert decode_image(plain)[0][0, 0, 0] > 190


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"encoding": "rgb16"}, UnsupportedEncodingError, "unsupported image encoding 'rgb16'"),
        ({"step": 5}, ImageDecodeError, "step 5 is shorter than a row"),
        ({"height": 9}, ImageDecodeError, "expected step 21 x height 9"),
        ({"width": 0}, ImageDecodeError, "zero size"),
    ],
)
def test_malformed_raw_images_raise(kwargs: dict[str, Any], error: type, match: str) -> None:
    fields: dict[str, Any] = {
        "encoding": "rgb8",
        "height": 5,
        "width": 7,
        "step": 21,
        "is_bigendian": 0,
        "data": np.zeros(105, np.uint8),
    }
    fields.update(kwargs)
    with pytest.raises(error, match=match):
        image_codec.decode_raw(**fields)


def test_undecodable_compressed_raises(messages: MessageSet) -> None:
    bad = messages.get("sensor_msgs/msg/CompressedImage")(
        header=messages.header(1, "c"), format="jpeg", data=np.frombuffer(b"not a jpeg at all", np.uint8)
    )
    with pytest.raises(ImageDecodeError, match="could not be decoded"):
        decode_image(bad)
    with pytest.raises(UnsupportedEncodingError, match="compressedDepth"):
        image_codec.parse_compressed_format("16UC1; compressedDepth png")
    with pytest.raises(UnsupportedEncodingError, match="unknown compressed format"):
        image_codec.parse_compressed_format("webp")
