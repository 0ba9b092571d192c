"""Small ROS 2 bags written by the tests (rosbags Writer, real CDR), good and malformed frames mixed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer

from depth_node.camera import CameraModel
from depth_node.msgs import MessageSet

T0 = 1_700_000_000_000_000_000
PERIOD = 100_000_000  # 10 Hz


@dataclass
class Frame:
    """One camera frame to write: what the image and its CameraInfo look like."""

    kind: str = "good"  # good | truncated | bad_encoding | garbage | zero_fx | uncalibrated | jpeg
    red: int = 51


def write_camera_bag(
    path: Path,
    frames: Sequence[Frame],
    messages: MessageSet,
    *,
    camera: CameraModel | None = None,
    storage: StoragePlugin = StoragePlugin.MCAP,
    image_topic: str = "/cam/image_raw",
    info_topic: str = "/cam/camera_info",
    extra_depth_topic: bool = True,
    info_first: bool = False,
    image_qos: Sequence[Any] = (),
) -> Path:
    """Write a bag of ``frames``; the CameraInfo of each frame has the frame's stamp.

    By default the image of a frame is logged before its CameraInfo (as a busy driver might), which the
    replay must still pair. With ``extra_depth_topic`` a 16UC1 depth topic and its camera_info come
    along, so topic choice has something to tell apart. ``image_qos`` (rosbags ``Qos`` profiles) is what
    the image topic's publisher offered, as rosbag2 records it.
    """
    cam = camera or CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5)
    store = messages.typestore
    compressed = any(f.kind == "jpeg" for f in frames)
    image_type = "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image"
    with Writer(path, version=9, storage_plugin=storage) as writer:
        img_conn = writer.add_connection(image_topic, image_type, typestore=store, offered_qos_profiles=image_qos)
        info_conn = writer.add_connection(info_topic, "sensor_msgs/msg/CameraInfo", typestore=store)
        depth_conns = None
        if extra_depth_topic:
            depth_conns = (
                writer.add_connection("/depth_cam/image_raw", "sensor_msgs/msg/Image", typestore=store),
                writer.add_connection("/depth_cam/camera_info", "sensor_msgs/msg/CameraInfo", typestore=store),
            )
        for i, frame in enumerate(frames):
            t = T0 + i * PERIOD
            header = messages.header(t, "cam_optical_frame")
            rgb = np.zeros((cam.height, cam.width, 3), np.uint8)
            rgb[..., 0] = frame.red
            img = _image_bytes(messages, store, frame, rgb, header, image_type)
            info_cam = cam if frame.kind != "zero_fx" else None
            info = _camera_info(messages, info_cam or cam, header, zero_fx=info_cam is None)
            if frame.kind == "uncalibrated":  # usb_cam without a calibration file: K and P all zeros
                info.k[:] = 0.0
                info.p[:] = 0.0
            info_bytes = store.serialize_cdr(info, "sensor_msgs/msg/CameraInfo")
            order = (
                [(info_conn, info_bytes), (img_conn, img)] if info_first else [(img_conn, img), (info_conn, info_bytes)]
            )
            for conn, data in order:
                writer.write(conn, t, data)
            if depth_conns is not None:
                depth = messages.image(np.full((cam.height, cam.width), 1500, np.uint16), "16UC1", header)
                writer.write(depth_conns[0], t, store.serialize_cdr(depth, "sensor_msgs/msg/Image"))
                writer.write(depth_conns[1], t, info_bytes)
    return path


def _image_bytes(
    messages: MessageSet, store: Any, frame: Frame, rgb: np.ndarray, header: Any, image_type: str
) -> bytes:
    if frame.kind == "garbage":
        return b"\x00\x01\x00\x00garbage"
    if image_type.endswith("CompressedImage"):
        msg = messages.compressed_image(rgb, "rgb8", header, "png")
        if frame.kind != "jpeg":  # a compressed frame that does not decode
            msg = messages.get(image_type)(
                header=header, format="jpeg", data=np.frombuffer(b"\xff\xd8broken", np.uint8)
            )
        return bytes(store.serialize_cdr(msg, image_type))
    msg = messages.image(rgb, "rgb8", header)
    if frame.kind == "truncated":
        msg = messages.get(image_type)(
            header=header,
            height=msg.height,
            width=msg.width,
            encoding="rgb8",
            is_bigendian=0,
            step=msg.step,
            data=msg.data[: msg.data.size // 2],
        )
    elif frame.kind == "bad_encoding":
        msg = messages.get(image_type)(
            header=header,
            height=msg.height,
            width=msg.width,
            encoding="bayer_rggb42",
            is_bigendian=0,
            step=msg.step,
            data=msg.data,
        )
    return bytes(store.serialize_cdr(msg, image_type))


def _camera_info(messages: MessageSet, cam: CameraModel, header: Any, zero_fx: bool) -> Any:
    info = messages.camera_info(cam, header)
    if zero_fx:
        info.k[0] = 0.0
        info.p[0] = 0.0
    return info
