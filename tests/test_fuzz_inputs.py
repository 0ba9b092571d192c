"""Fuzzed and absurd input through the real message classes: only the package's own errors, and the
processor keeps working on the next good frame.

Every fuzzed message is built from the rosbags typestore classes and sent through real CDR (as a message
off the wire or out of a bag is), then handed to :class:`DepthFrameProcessor` as the node would. Anything
but a :class:`DepthNodeError` fails the test, and after each input a good frame must give the same depth
as before. Hypothesis runs derandomised, with no deadline and a modest number of examples, so the tests
are deterministic and take seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from depth_node import image_codec
from depth_node.depth_params import DepthNodeParams
from depth_node.errors import CameraModelError, DepthNodeError, ImageTooLargeError
from depth_node.estimator import load_estimator
from depth_node.msgs import MessageSet, camera_from_info, decode_image
from depth_node.processing import DepthFrameProcessor
from tests.conftest import roundtrip

FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
UINT32 = st.integers(0, 2**32 - 1)
SMALL_OR_HUGE = st.one_of(st.integers(0, 80), st.sampled_from([100_000, 2**31, 2**32 - 1]), UINT32)
# No NUL: CDR strings end at the first one, so a NUL cannot cross the wire.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=16)
ENCODING = st.one_of(
    st.sampled_from(sorted(image_codec.ENCODINGS)), st.sampled_from(["", "RGB8", "bayer_rggb8", "32FC3", "rgb16"]), TEXT
)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
PLAUSIBLE = st.floats(-2000.0, 2000.0)


class Rig:
    """A processor on a real ONNX model, a good frame and the depth that frame gives."""

    def __init__(self, messages: MessageSet, model: Path) -> None:
        self.m = messages
        self.store = messages.typestore
        params = DepthNodeParams(publish_colored=True, cloud_rgb=True, floor_scale=True)
        self.processor = DepthFrameProcessor(messages, load_estimator(model, providers=("cpu",)), params)
        self.header = messages.header(1_000, "cam")
        rgb = np.zeros((48, 64, 3), np.uint8)
        rgb[..., 0] = 128
        rgb[24:, :, 0] = 200  # the floor half nearer, so floor_scale has something to fit
        self.good_image = roundtrip(self.store, messages.image(rgb, "rgb8", self.header))
        self.good_info = self.info(width=64, height=48, k=[50.0, 0, 32, 0, 50, 24, 0, 0, 1])
        self.good_depth = self.processor.process(self.good_image, self.good_info).depth.copy()
        assert np.isfinite(self.good_depth).mean() > 0.9

    def info(
        self,
        width: int,
        height: int,
        k: list[float],
        p: list[float] | None = None,
        binning: tuple[int, int] = (0, 0),
        roi: tuple[int, int, int, int] = (0, 0, 0, 0),
    ) -> Any:
        """A CameraInfo through CDR."""
        roi_msg = self.m.get("sensor_msgs/msg/RegionOfInterest")(
            x_offset=roi[0], y_offset=roi[1], width=roi[2], height=roi[3], do_rectify=False
        )
        msg = self.m.get("sensor_msgs/msg/CameraInfo")(
            header=self.header,
            height=height,
            width=width,
            distortion_model="plumb_bob",
            d=np.zeros(5),
            k=np.asarray(k, dtype=np.float64),
            r=np.eye(3).reshape(-1),
            p=np.asarray(p if p is not None else [0.0] * 12, dtype=np.float64),
            binning_x=binning[0],
            binning_y=binning[1],
            roi=roi_msg,
        )
        return roundtrip(self.store, msg)

    def survives(self, image: Any, info: Any) -> DepthNodeError | None:
        """Process a (possibly bad) frame, then a good one; returns the package error the bad one raised."""
        error = None
        try:
            self.processor.process(image, info)
        except DepthNodeError as exc:  # anything else fails the test
            error = exc
            assert exc.reason and str(exc)
        after = self.processor.process(self.good_image, self.good_info).depth
        np.testing.assert_array_equal(after, self.good_depth)
        return error


@pytest.fixture(scope="module")
def rig(messages: MessageSet, metric_model: Path) -> Rig:
    return Rig(messages, metric_model)


def _image(rig: Rig, encoding: str, height: int, width: int, step: int, big: int, data: bytes) -> Any:
    msg = rig.m.get("sensor_msgs/msg/Image")(
        header=rig.header,
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=big,
        step=step,
        data=np.frombuffer(data, np.uint8),
    )
    return roundtrip(rig.store, msg)


@st.composite
def raw_images(draw: st.DrawFn) -> tuple[str, int, int, int, int, bytes]:
    """(encoding, height, width, step, is_bigendian, data): mostly sizes that add up, with random bytes."""
    encoding = draw(ENCODING)
    info = image_codec.ENCODINGS.get(encoding)
    height, width = draw(st.integers(0, 40)), draw(st.integers(0, 40))
    row = width * (info.channels * info.dtype.itemsize if info else 3)
    step = draw(st.one_of(st.just(row), st.integers(row, row + 9), st.integers(0, 300), SMALL_OR_HUGE))
    if draw(st.booleans()):
        height, width = draw(SMALL_OR_HUGE), draw(SMALL_OR_HUGE)
    size = max(0, min(step * height + draw(st.integers(-4, 4)), 200_000))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    if draw(st.booleans()):
        data = draw(st.binary(max_size=600))
    return encoding, height, width, step, draw(st.integers(0, 255)), data


@FUZZ
@given(raw_images())
@example(("yuv422", 4, 5, 10, 0, bytes(40)))  # odd width: OpenCV's own error before the fix
@example(("16UC1", 6, 7, 14, 1, bytes(range(84))))  # big-endian 16-bit
def test_fuzzed_raw_images(rig: Rig, fields: tuple[str, int, int, int, int, bytes]) -> None:
    rig.survives(_image(rig, *fields), rig.good_info)


def _encoded(draw: st.DrawFn) -> bytes:
    """A real PNG or JPEG of random size, depth and channels, sometimes cut short or with flipped bytes."""
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([1, 3, 4]))
    png = draw(st.booleans())
    dtype = np.uint16 if png and draw(st.booleans()) else np.uint8
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pixels = rng.integers(0, np.iinfo(dtype).max, (h, w, channels), dtype=dtype, endpoint=True)
    if channels == 1:
        pixels = pixels[..., 0]
    if not png and channels == 4:
        pixels = pixels[..., :3]
    ok, out = cv2.imencode(".png" if png else ".jpg", pixels)
    assert ok
    data = bytearray(out.tobytes())
    cut = draw(st.one_of(st.just(len(data)), st.integers(0, len(data))))
    data = data[:cut]
    for pos, value in draw(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=3)):
        if pos < len(data):
            data[pos] = value
    return bytes(data)


@st.composite
def compressed_images(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(
        st.one_of(
            st.sampled_from(
                [
                    "jpeg",
                    "png",
                    "rgb8; jpeg compressed bgr8",
                    "bgr8; png compressed bgr8",
                    "16UC1; png compressed",
                    "mono8; jpeg compressed mono8",
                    "16UC1; compressedDepth png",
                    "webp",
                ]
            ),
            TEXT,
        )
    )
    data = draw(st.one_of(st.binary(max_size=400), st.builds(lambda: b""), st.just(b"\x89PNG\r\n\x1a\n")))
    if draw(st.booleans()):
        data = _encoded(draw)
    return fmt, data


@FUZZ
@given(compressed_images())
def test_fuzzed_compressed_images(rig: Rig, fields: tuple[str, bytes]) -> None:
    fmt, data = fields
    msg = rig.m.get("sensor_msgs/msg/CompressedImage")(
        header=rig.header, format=fmt, data=np.frombuffer(data, np.uint8)
    )
    rig.survives(roundtrip(rig.store, msg), rig.good_info)


@st.composite
def camera_infos(draw: st.DrawFn) -> dict[str, Any]:
    floats = st.one_of(ANY_FLOAT, PLAUSIBLE)
    p = draw(st.one_of(st.just([0.0] * 12), st.lists(floats, min_size=12, max_size=12)))
    return {
        "width": draw(SMALL_OR_HUGE),
        "height": draw(SMALL_OR_HUGE),
        "k": draw(st.lists(floats, min_size=9, max_size=9)),
        "p": p,
        "binning": (draw(SMALL_OR_HUGE), draw(SMALL_OR_HUGE)),
        "roi": tuple(draw(SMALL_OR_HUGE) for _ in range(4)),
    }


@FUZZ
@given(camera_infos())
def test_fuzzed_camera_infos(rig: Rig, fields: dict[str, Any]) -> None:
    rig.survives(rig.good_image, rig.info(**fields))


@pytest.mark.parametrize(
    ("binning", "roi", "match"),
    [
        ((100_000, 100_000), (0, 0, 0, 0), "binning"),
        ((2, 2), (0, 0, 0, 0), None),
        ((1, 1), (600, 0, 100, 48), "ROI"),
        ((1, 1), (0, 40, 64, 48), "ROI"),
        ((1, 1), (4, 4, 32, 24), None),
    ],
)
def test_roi_outside_the_image_and_absurd_binning_are_refused(
    rig: Rig, binning: tuple[int, int], roi: tuple[int, int, int, int], match: str | None
) -> None:
    """They used to be accepted and give an all-NaN depth (the focal length divided by 100000)."""
    k = [50.0, 0, 32, 0, 50, 24, 0, 0, 1]
    info = rig.info(width=64, height=48, k=k, binning=binning, roi=roi)
    if match is None:
        out = rig.processor.process(rig.good_image, info)
        assert np.isfinite(out.depth).mean() > 0.9
        return
    with pytest.raises(CameraModelError, match=match):
        camera_from_info(info, image_size=(64, 48))
    error = rig.survives(rig.good_image, info)
    assert isinstance(error, CameraModelError) and error.reason == "bad_camera_info"


def test_a_stated_size_of_gigabytes_is_refused_before_any_allocation(rig: Rig) -> None:
    """A 100000 x 100000 rgb8 image whose data is one byte repeated (a zero-stride view, 30 GB as stated):
    copying it would raise MemoryError; it must be refused from its sizes alone."""
    side = 100_000
    data = np.broadcast_to(np.zeros(1, np.uint8), (side * side * 3,))
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        image_codec.decode_raw("rgb8", side, side, side * 3, False, data)
    msg = _image(rig, "rgb8", side, side, side * 3, 0, b"\x00" * 16)
    assert isinstance(rig.survives(msg, rig.good_info), ImageTooLargeError)


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_a_compressed_header_stating_gigapixels_is_refused_before_decoding(rig: Rig, ext: str) -> None:
    ok, out = cv2.imencode(ext, np.zeros((8, 8, 3), np.uint8))
    assert ok
    data = bytearray(out.tobytes())
    if ext == ".png":  # IHDR width and height, big-endian at bytes 16..24
        data[16:24] = (60_000).to_bytes(4, "big") + (60_000).to_bytes(4, "big")
    else:  # the SOF0 segment's height and width
        sof = data.index(b"\xff\xc0")
        data[sof + 5 : sof + 9] = (65_000).to_bytes(2, "big") + (65_000).to_bytes(2, "big")
    codec, width, height = image_codec.compressed_size(np.frombuffer(bytes(data), np.uint8))
    assert (codec, width, height) == ((ext == ".png" and "png") or "jpeg", width, height) and width >= 60_000
    msg = rig.m.get("sensor_msgs/msg/CompressedImage")(
        header=rig.header, format="jpeg" if ext == ".jpg" else "png", data=np.frombuffer(bytes(data), np.uint8)
    )
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        decode_image(msg)
    assert isinstance(rig.survives(roundtrip(rig.store, msg), rig.good_info), ImageTooLargeError)


def test_compressed_size_reads_real_headers() -> None:
    for ext, (h, w) in ((".png", (17, 33)), (".jpg", (21, 40))):
        ok, out = cv2.imencode(ext, np.zeros((h, w, 3), np.uint8))
        assert ok
        assert image_codec.compressed_size(out.reshape(-1))[1:] == (w, h)
