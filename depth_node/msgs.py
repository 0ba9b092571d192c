"""The message layer: ROS messages <-> core types, written once for handed-in message classes.

A :class:`MessageSet` hands out message classes either from rclpy's generated packages (live node) or
from a rosbags typestore (replay, simulation, tests: the real ROS 2 definitions and CDR). Both take
keyword fields of the same names; the builders here always pass every field (rosbags classes have no
defaults) and fill array fields in the form each flavour wants: numpy arrays for rosbags, ``array``
/ lists for rclpy, whose setters would otherwise check a 900 kB ``uint8[]`` element by element.
"""

from __future__ import annotations

import array
import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node.camera import CameraModel
from depth_node.errors import ImageDecodeError
from depth_node.pointcloud import CloudData


@dataclass
class MessageSet:
    """Message classes of one flavour ("rosbags" or "rclpy"), looked up by ROS type name.

    Attributes:
        flavour: "rosbags" or "rclpy".
        typestore: The rosbags typestore (rosbags flavour only).
    """

    flavour: str
    typestore: Any = None
    _cache: dict[str, type] = field(default_factory=dict, repr=False)

    @classmethod
    def from_rosbags(cls, typestore: Any = None) -> MessageSet:
        """Classes from a rosbags typestore (default: ROS 2 Humble, with vision_msgs if registered)."""
        if typestore is None:
            from rosbags.typesys import Stores, get_typestore

            typestore = get_typestore(Stores.ROS2_HUMBLE)
        return cls("rosbags", typestore)

    @classmethod
    def from_rclpy(cls) -> MessageSet:
        """Classes from the ROS 2 installation (imported lazily, per package, on first use)."""
        return cls("rclpy")

    def get(self, type_name: str) -> type:
        """The class of a ROS type such as ``sensor_msgs/msg/Image``."""
        cached = self._cache.get(type_name)
        if cached is not None:
            return cached
        if self.flavour == "rosbags":
            cls_ = self.typestore.types[type_name]
        else:
            package, _, name = type_name.split("/")
            cls_ = getattr(importlib.import_module(f"{package}.msg"), name)
        self._cache[type_name] = cls_
        return cls_

    def uint8_array(self, data: npt.NDArray[Any] | bytes | memoryview) -> Any:
        """A ``uint8[]`` field value, filled in one copy (never element by element)."""
        if self.flavour == "rosbags":
            if isinstance(data, np.ndarray):
                return data.reshape(-1).view(np.uint8)
            return np.frombuffer(data, dtype=np.uint8)
        out = array.array("B")
        if isinstance(data, np.ndarray):
            data = np.ascontiguousarray(data).reshape(-1).view(np.uint8).data
        out.frombytes(data)
        return out

    def float64_array(self, values: Any) -> Any:
        """A ``float64[]`` / ``float64[N]`` field value."""
        if self.flavour == "rosbags":
            return np.asarray(values, dtype=np.float64).reshape(-1)
        return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]

    # --- headers and stamps -------------------------------------------------------------------------

    def header(self, stamp_ns: int, frame_id: str) -> Any:
        """A std_msgs/Header."""
        time_cls = self.get("builtin_interfaces/msg/Time")
        sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
        return self.get("std_msgs/msg/Header")(stamp=time_cls(sec=sec, nanosec=nanosec), frame_id=frame_id)

    # --- images ---------------------------------------------------------------------------------------

    def image(self, pixels: npt.NDArray[Any], encoding: str, header: Any) -> Any:
        """A sensor_msgs/Image of ``pixels`` in ``encoding`` (little-endian, packed rows)."""
        height, width, step, data = image_codec.encode_raw(pixels, encoding)
        return self.get("sensor_msgs/msg/Image")(
            header=header,
            height=height,
            width=width,
            encoding=encoding,
            is_bigendian=0,
            step=step,
            data=self.uint8_array(data),
        )

    def compressed_image(self, pixels: npt.NDArray[Any], encoding: str, header: Any, codec: str = "jpeg") -> Any:
        """A sensor_msgs/CompressedImage with image_transport's format string."""
        fmt, data = image_codec.encode_compressed(pixels, encoding, codec)
        return self.get("sensor_msgs/msg/CompressedImage")(header=header, format=fmt, data=self.uint8_array(data))

    def camera_info(self, camera: CameraModel, header: Any) -> Any:
        """A CameraInfo describing ``camera`` (no distortion: the depth is of the image as received)."""
        roi = self.get("sensor_msgs/msg/RegionOfInterest")(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
        return self.get("sensor_msgs/msg/CameraInfo")(
            header=header,
            height=camera.height,
            width=camera.width,
            distortion_model="plumb_bob",
            d=self.float64_array([0.0] * 5),
            k=self.float64_array(camera.k),
            r=self.float64_array((1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)),
            p=self.float64_array(camera.p),
            binning_x=0,
            binning_y=0,
            roi=roi,
        )

    def point_cloud(self, cloud: CloudData, header: Any) -> Any:
        """A sensor_msgs/PointCloud2 of an organised cloud (is_dense false: NaN points are kept)."""
        field_cls = self.get("sensor_msgs/msg/PointField")
        fields = [field_cls(name=f.name, offset=f.offset, datatype=f.datatype, count=f.count) for f in cloud.fields]
        return self.get("sensor_msgs/msg/PointCloud2")(
            header=header,
            height=cloud.height,
            width=cloud.width,
            fields=fields,
            is_bigendian=False,
            point_step=cloud.point_step,
            row_step=cloud.row_step,
            data=self.uint8_array(cloud.data),
            is_dense=False,
        )


# --- reading messages (flavour-independent: only field access) ---------------------------------------


def stamp_ns(header: Any) -> int:
    """A header's stamp in integer nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


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
