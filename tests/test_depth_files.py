"""Depth file conventions (.npy metres, 16-bit PNG mm, PLY) and the camera of a plain image file."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth_node.camera import camera_for_image
from depth_node.depth_files import depth_to_mm, load_npy, mm_to_depth, npy_bytes, npy_shape, ply_bytes
from depth_node.errors import CameraModelError, ImageDecodeError


def test_mm_round_trip_keeps_unknown_as_zero_and_nan() -> None:
    depth = np.array([[0.0004, 1.2344, np.nan], [70.0, np.inf, 2.5]], np.float32)
    mm = depth_to_mm(depth)
    assert mm.dtype == np.uint16 and mm.tolist() == [[1, 1234, 0], [65535, 0, 2500]]
    back = mm_to_depth(mm)
    assert np.isnan(back[0, 2]) and np.isnan(back[1, 1]) and back[0, 1] == pytest.approx(1.234)


def test_millimetres_read_the_same_from_a_file_and_a_message() -> None:
    """One mm -> m arithmetic (a correctly rounded float32 division) for files and 16UC1 messages alike."""
    from depth_node.msgs import MessageSet, depth_from_msg
    from depth_node.msgs.vision_defs import typestore_with_vision

    mm = np.arange(0, 65536, dtype=np.uint16).reshape(256, 256)
    m = MessageSet.from_rosbags(typestore_with_vision())
    from_msg = depth_from_msg(m.image(mm, "16UC1", m.header(0, "cam")))
    np.testing.assert_array_equal(from_msg, mm_to_depth(mm))
    exact = mm.ravel()[1:].astype(np.float64) / 1000.0  # 0 is unknown (NaN)
    assert np.all(np.abs(from_msg.ravel()[1:] - exact) <= np.spacing(exact.astype(np.float32)) / 2)


def test_npy_header_is_read_without_the_data_and_objects_are_refused() -> None:
    data = npy_bytes(np.zeros((3, 4), np.float32))
    assert npy_shape(data) == ((3, 4), np.dtype(np.float32))
    assert load_npy(data).shape == (3, 4)
    with pytest.raises(ImageDecodeError, match="not a readable .npy"):
        npy_shape(b"\x93NUMPY garbage")
    with pytest.raises(ImageDecodeError, match="unpickling"):
        npy_shape(_object_npy())


def _object_npy() -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buf.getvalue()


def test_ply_leaves_out_unknown_points_and_reads_back() -> None:
    pts = np.array([[0, 0, 1], [np.nan, np.nan, np.nan], [1, 2, 3]], np.float32)
    cols = np.array([[255, 0, 0], [0, 0, 0], [1, 2, 3]], np.uint8)
    data = ply_bytes(pts, cols)
    header, body = data.split(b"end_header\n")
    assert b"element vertex 2" in header and b"property uchar red" in header
    table = np.frombuffer(body, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1")])
    assert table["z"].tolist() == [1.0, 3.0] and table["r"].tolist() == [255, 1]
    assert b"red" not in ply_bytes(pts)


def test_camera_for_image_takes_fx_or_hfov_or_the_models_focal() -> None:
    assert camera_for_image(640, 480, fx=500.0).fx == 500.0
    assert camera_for_image(640, 480, hfov_deg=90.0).fx == pytest.approx(320.0)
    assert camera_for_image(640, 480, focal_reference=0.8).fx == pytest.approx(512.0)
    assert camera_for_image(640, 480).fx == pytest.approx(320.0 / math.tan(math.radians(30.0)))
    cam = camera_for_image(640, 480, fx=500.0)
    assert (cam.cx, cam.cy) == (319.5, 239.5)
    with pytest.raises(CameraModelError, match="not both"):
        camera_for_image(640, 480, fx=500.0, hfov_deg=60.0)
    with pytest.raises(CameraModelError, match="between 0 and 180"):
        camera_for_image(640, 480, hfov_deg=180.0)
    with pytest.raises(CameraModelError, match="fx must be a positive"):
        camera_for_image(640, 480, fx=-1.0)
