"""Message classes of one flavour, handed in: the base every conversion of :mod:`depth_node.msgs` builds on.

A :class:`MessageSet` hands out message classes either from rclpy's generated packages (live node) or
from a rosbags typestore (replay, simulation, tests: the real ROS 2 definitions and CDR). Both take
keyword fields of the same names; the builders always pass every field (rosbags classes have no
defaults; :func:`make` fills the fields not given with ROS's zero values) and fill array fields in the
form each flavour wants: numpy arrays for rosbags, ``array`` / lists for rclpy, whose setters would
otherwise check a 900 kB ``uint8[]`` element by element.
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
from depth_node.pointcloud import CloudData

_BASE_DEFAULTS: dict[str, Any] = {"string": "", "bool": False, "float32": 0.0, "float64": 0.0}

_NUMPY_DTYPES = {
    "bool": np.bool_,
    "int8": np.int8,
    "uint8": np.uint8,
    "byte": np.uint8,
    "char": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
    "float32": np.float32,
    "float64": np.float64,
}


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


def stamp_ns(header: Any) -> int:
    """A header's stamp in integer nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def _default_value(typestore: Any, desc: tuple[Any, Any]) -> Any:
    kind, detail = desc
    kind = int(kind)
    if kind == 1:  # BASE: (type name, max string length)
        base = detail[0]
        return _BASE_DEFAULTS.get(base, 0)
    if kind == 2:  # NAME: a nested message
        return default_message(typestore, detail)
    inner, count = detail
    if int(inner[0]) == 1:  # arrays of base types are numpy arrays in rosbags (strings: lists)
        base = inner[1][0]
        if base == "string":
            return [""] * (count if kind == 3 else 0)
        return np.zeros(count if kind == 3 else 0, dtype=_NUMPY_DTYPES[base])
    return [_default_value(typestore, inner) for _ in range(count if kind == 3 else 0)]


def default_message(typestore: Any, type_name: str, **fields: Any) -> Any:
    """A rosbags message of ``type_name`` with ``fields`` and ROS zero values for every other field."""
    _consts, field_defs = typestore.fielddefs[type_name]
    values = {name: fields[name] if name in fields else _default_value(typestore, d) for name, d in field_defs}
    return typestore.types[type_name](**values)


def make(messages: MessageSet, type_name: str, **fields: Any) -> Any:
    """A message with ``fields``, the rest at their defaults, in either flavour."""
    if messages.flavour == "rosbags":
        return default_message(messages.typestore, type_name, **fields)
    return messages.get(type_name)(**fields)


def float32_array(messages: MessageSet, values: npt.ArrayLike) -> Any:
    """A ``float32[]`` field: numpy for rosbags, ``array('f')`` for rclpy (one copy, no per-element check)."""
    arr = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if messages.flavour == "rosbags":
        return arr
    out = array.array("f")
    out.frombytes(arr.tobytes())
    return out
