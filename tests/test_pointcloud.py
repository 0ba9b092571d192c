"""Organised clouds laid out like depth_image_proc, checked against hand back-projection."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.msgs import MessageSet
from depth_node.pointcloud import PointCloudBuilder, backproject_numpy
from tests.conftest import roundtrip


def _depth(camera: CameraModel) -> np.ndarray:
    v, u = np.indices((camera.height, camera.width))
    depth = (1.0 + 0.05 * u + 0.02 * v).astype(np.float32)
    depth[3, 5] = np.nan
    return depth


@pytest.mark.parametrize(("u", "v"), [(0, 0), (63, 47), (30, 20), (17, 41)])
def test_points_match_hand_back_projection(camera: CameraModel, u: int, v: int) -> None:
    depth = _depth(camera)
    cloud = PointCloudBuilder().build(depth, camera)
    z = float(depth[v, u])
    expected = ((u - camera.cx) * z / camera.fx, (v - camera.cy) * z / camera.fy, z)
    np.testing.assert_allclose(cloud.points()[v, u], expected, rtol=1e-6)
    np.testing.assert_allclose(cloud.points(), backproject_numpy(depth, camera), rtol=1e-6, equal_nan=True)


def test_nan_depth_is_a_nan_point_and_layout_is_organised(camera: CameraModel) -> None:
    cloud = PointCloudBuilder().build(_depth(camera), camera)
    assert (cloud.height, cloud.width, cloud.point_step, cloud.row_step) == (48, 64, 16, 64 * 16)
    assert [(f.name, f.offset, f.datatype, f.count) for f in cloud.fields] == [
        ("x", 0, 7, 1),
        ("y", 4, 7, 1),
        ("z", 8, 7, 1),
    ]
    assert cloud.data.size == 48 * 64 * 16
    assert np.all(np.isnan(cloud.points()[3, 5]))
    assert np.isfinite(cloud.points()[3, 6]).all()


def test_decimation_and_max_range(camera: CameraModel) -> None:
    depth = _depth(camera)
    cloud = PointCloudBuilder(decimation=4, max_range_m=3.0).build(depth, camera)
    assert (cloud.height, cloud.width) == (12, 16)
    pts = cloud.points()
    # Cloud point (r, c) is depth pixel (4r, 4c).
    z = float(depth[8, 12])
    np.testing.assert_allclose(
        pts[2, 3], ((12 - camera.cx) * z / camera.fx, (8 - camera.cy) * z / camera.fy, z), rtol=1e-6
    )
    far = depth[::4, ::4] > 3.0
    assert far.any() and np.isnan(pts[far]).all() and np.isfinite(pts[~far & np.isfinite(depth[::4, ::4])]).all()


def test_xyzrgb_packs_colour_like_pcl(camera: CameraModel) -> None:
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[10, 20] = (255, 128, 1)
    cloud = PointCloudBuilder().build(_depth(camera), camera, rgb)
    assert cloud.point_step == 32
    assert [(f.name, f.offset) for f in cloud.fields] == [("x", 0), ("y", 4), ("z", 8), ("rgb", 16)]
    words = cloud.data.view(np.uint32).reshape(48, 64, 8)
    assert words[10, 20, 4] == (255 << 16) | (128 << 8) | 1
    np.testing.assert_allclose(cloud.points()[10, 20, 2], _depth(camera)[10, 20])


def test_point_cloud2_message_round_trips(messages: MessageSet, typestore: Any, camera: CameraModel) -> None:
    depth = _depth(camera)
    cloud = PointCloudBuilder().build(depth, camera)
    msg = roundtrip(typestore, messages.point_cloud(cloud, messages.header(123, "cam_optical")))
    assert (msg.height, msg.width, msg.point_step, msg.row_step, msg.is_dense, msg.is_bigendian) == (
        48,
        64,
        16,
        1024,
        False,
        False,
    )
    assert msg.header.frame_id == "cam_optical" and msg.header.stamp.nanosec == 123
    xyz = np.frombuffer(msg.data.tobytes(), np.float32).reshape(48, 64, 4)[..., :3]
    np.testing.assert_array_equal(xyz, cloud.points())


def test_ray_cache_follows_the_camera(camera: CameraModel) -> None:
    builder = PointCloudBuilder()
    builder.build(_depth(camera), camera)
    other = CameraModel(64, 48, 80.0, 80.0, 31.5, 23.5)
    cloud = builder.build(_depth(camera), other)
    np.testing.assert_allclose(cloud.points(), backproject_numpy(_depth(camera), other), rtol=1e-6, equal_nan=True)
    with pytest.raises(ValueError, match="does not match"):
        builder.build(np.ones((10, 10), np.float32), camera)
