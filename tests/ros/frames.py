"""Camera and depth frames for the ROS tests, built with the package's own message layer (rclpy classes)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.msgs import MessageSet


def camera(width: int = 640, height: int = 480, hfov_deg: float = 70.0) -> CameraModel:
    """A centred pinhole camera with square pixels."""
    fx = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    return CameraModel(width, height, fx, fx, (width - 1) / 2.0, (height - 1) / 2.0)


def colour_image(width: int = 640, height: int = 480, seed: int = 0) -> npt.NDArray[np.uint8]:
    """A room-like RGB picture: a textured floor below a wall, so the model sees structure."""
    rng = np.random.default_rng(seed)
    img = np.empty((height, width, 3), np.uint8)
    img[: height // 2] = (180, 170, 150)
    floor = np.indices((height - height // 2, width)).sum(axis=0) % 32 < 16
    img[height // 2 :] = np.where(floor[..., None], (90, 80, 70), (120, 110, 100)).astype(np.uint8)
    img += rng.integers(0, 12, img.shape, dtype=np.uint8)
    return img


class Frames:
    """Messages of one camera stream (stamps advance per frame)."""

    def __init__(self, frame_id: str = "camera_optical_frame", width: int = 640, height: int = 480) -> None:
        self.m = MessageSet.from_rclpy()
        self.frame_id = frame_id
        self.camera = camera(width, height)
        self.stamp_ns = 1_700_000_000_000_000_000

    def header(self) -> Any:
        self.stamp_ns += 100_000_000
        return self.m.header(self.stamp_ns, self.frame_id)

    def image(self, pixels: npt.NDArray[Any] | None = None, encoding: str = "rgb8") -> Any:
        """The next Image (default: the room picture in rgb8)."""
        if pixels is None:
            pixels = colour_image(self.camera.width, self.camera.height)
        return self.m.image(pixels, encoding, self.header())

    def compressed(self) -> Any:
        """The next CompressedImage (jpeg of the room picture)."""
        return self.m.compressed_image(colour_image(self.camera.width, self.camera.height), "rgb8", self.header())

    def info(self, camera: CameraModel | None = None) -> Any:
        """A CameraInfo of the stream's camera, stamped like the latest frame."""
        return self.m.camera_info(camera or self.camera, self.m.header(self.stamp_ns, self.frame_id))

    def raw(self, width: int, height: int, encoding: str, step: int, data: bytes) -> Any:
        """A hand-made (possibly malformed) Image."""
        msg = self.m.image(np.zeros((1, 1, 3), np.uint8), "rgb8", self.header())
        msg.width, msg.height, msg.encoding, msg.step = width, height, encoding, step
        msg.data = self.m.uint8_array(data)
        return msg
