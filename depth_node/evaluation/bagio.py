"""Reading ROS 2 bags and writing output bags atomically (rosbags, no ROS installation needed).

:func:`open_bag` turns every way a path can fail to be a bag into one :class:`BagError` with a one-line
message (salvaging a bag that rosbags refuses is :mod:`depth_node.evaluation.bag_recovery`'s work).
:class:`AtomicBagDir` writes an MCAP bag directory under a temporary name next to the target and renames
it into place only when everything, report included, is complete, so a crash or a bad input
never leaves a half-written OUT behind; every topic it writes records the QoS its publisher offers
(:class:`QosRecordingWriter`), so ``ros2 bag play`` republishes ``/tf_static`` latched.
:class:`StampIndex` pairs messages of different topics by header
stamp, whatever order the bag logged them in.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from depth_node.errors import BagError
from depth_node.msgs import stamp_ns
from depth_node.offered_qos import OfferedQos, offered_qos

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
COLOUR_ENCODINGS = frozenset(
    {"rgb8", "bgr8", "rgba8", "bgra8", "mono8", "8UC3", "8UC4", "yuv422", "uyvy", "yuyv", "yuv422_yuy2"}
)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def open_bag(path: str | Path | Sequence[Path], typestore: Any = None) -> Iterator[Any]:
    """An open rosbags ``AnyReader`` on a bag directory, .db3 or .mcap file (or several, read as one).

    Raises:
        BagError: the path is missing, not a bag, or unreadable.
    """
    from rosbags.highlevel import AnyReader

    paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    for p in paths:
        if not p.exists():
            raise BagError(f"bag '{p}' does not exist")
    # rosbags raises several unrelated types for "not a bag", some already in the constructor (an empty
    # directory, a directory of PNGs, a .png file): both steps are inside the try.
    try:
        reader = AnyReader(paths, default_typestore=typestore)
        reader.open()
    except Exception as exc:
        raise BagError(f"'{paths[0]}' is not a readable ROS 2 bag: {_one_line(exc)}") from exc
    try:
        yield reader
    finally:
        reader.close()


def _sibling_info_topic(image_topic: str, info_topics: Sequence[str]) -> str | None:
    """image_transport's convention: ``<ns>/image_raw`` goes with ``<ns>/camera_info``."""
    parts = image_topic.rstrip("/").split("/")
    for depth in (1, 2):  # <ns>/image_raw and <ns>/image_raw/compressed
        candidate = "/".join([*parts[:-depth], "camera_info"])
        if candidate in info_topics:
            return candidate
    return None


def _first_encoding(reader: Any, connection: Any) -> str | None:
    """The encoding (Image) or format (CompressedImage) of a topic's first message; None if it has none.

    An undecodable first message reads as ``"?"``: not a colour encoding.
    """
    for conn, _t, raw in reader.messages(connections=[connection]):
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except Exception:
            return "?"
        return str(msg.format if conn.msgtype.endswith("CompressedImage") else msg.encoding)
    return None


def _is_colour_encoding(msgtype: str, encoding: str) -> bool:
    """Colour or mono images only: depth and IR topics are not inputs of the model."""
    if msgtype.endswith("CompressedImage"):
        return encoding != "?" and "compresseddepth" not in encoding.lower()
    return encoding in COLOUR_ENCODINGS


def _is_colour_topic(reader: Any, connection: Any) -> bool:
    """Peek at a topic's first message: colour images only (depth and IR topics are not inputs)."""
    encoding = _first_encoding(reader, connection)
    return encoding is not None and _is_colour_encoding(connection.msgtype, encoding)


def select_topics(reader: Any, image_topic: str | None, info_topic: str | None) -> tuple[str, str]:
    """The (colour image topic, camera_info topic) to replay.

    Given topics are checked to exist with the right type. Otherwise the only colour image topic is
    taken, and the only CameraInfo topic or else the image topic's sibling ``camera_info``.

    Raises:
        BagError: a named topic is missing or of the wrong type, or the choice is ambiguous (the message
            lists the candidates seen).
    """
    by_topic = {c.topic: c for c in reader.connections}
    if image_topic is not None:
        conn = by_topic.get(image_topic)
        if conn is None or conn.msgtype not in IMAGE_TYPES:
            raise BagError(
                f"image topic '{image_topic}' is not an Image/CompressedImage topic of the bag; "
                f"it has {listing(reader)}"
            )
        encoding = _first_encoding(reader, conn)
        if encoding not in (None, "?") and not _is_colour_encoding(conn.msgtype, encoding):  # ?: count, skip
            raise BagError(
                f"image topic '{image_topic}' carries '{encoding}' images, not colour or mono "
                f"({', '.join(sorted(COLOUR_ENCODINGS))}); a depth topic goes to --depth-topic"
            )
    else:
        candidates = [c.topic for c in reader.connections if c.msgtype in IMAGE_TYPES and _is_colour_topic(reader, c)]
        if len(candidates) != 1:
            what = "no colour image topic" if not candidates else f"several colour image topics {sorted(candidates)}"
            raise BagError(f"{what}; pass --image-topic (the bag has {listing(reader)})")
        image_topic = candidates[0]
    info_topics = sorted({c.topic for c in reader.connections if c.msgtype == CAMERA_INFO_TYPE})
    if info_topic is not None:
        if info_topic not in info_topics:
            raise BagError(
                f"camera_info topic '{info_topic}' is not a CameraInfo topic of the bag; "
                f"CameraInfo topics: {info_topics}"
            )
    elif len(info_topics) == 1:
        info_topic = info_topics[0]
    else:
        sibling = _sibling_info_topic(image_topic, info_topics)
        if sibling is None:
            raise BagError(
                f"cannot tell which CameraInfo goes with '{image_topic}' among {info_topics}; pass --camera-info-topic"
            )
        info_topic = sibling
    return image_topic, info_topic


def select_depth_topics(reader: Any, depth_topic: str, info_topic: str | None) -> tuple[str, str]:
    """The (sensor depth topic, its camera_info topic) for ``--depth-topic``.

    Raises:
        BagError: the depth topic is missing or not an Image topic, or its CameraInfo cannot be chosen.
    """
    by_topic = {c.topic: c for c in reader.connections}
    conn = by_topic.get(depth_topic)
    if conn is None or conn.msgtype != "sensor_msgs/msg/Image":
        raise BagError(f"depth topic '{depth_topic}' is not an Image topic of the bag; it has {listing(reader)}")
    info_topics = sorted({c.topic for c in reader.connections if c.msgtype == CAMERA_INFO_TYPE})
    if info_topic is not None:
        if info_topic not in info_topics:
            raise BagError(f"camera_info topic '{info_topic}' is not a CameraInfo topic of the bag: {info_topics}")
        return depth_topic, info_topic
    sibling = _sibling_info_topic(depth_topic, info_topics)
    if sibling is None and len(info_topics) == 1:
        sibling = info_topics[0]
    if sibling is None:
        raise BagError(
            f"cannot tell which CameraInfo goes with '{depth_topic}' among {info_topics}; pass --camera-info-topic"
        )
    return depth_topic, sibling


def listing(reader: Any) -> str:
    """The topics of a bag with their types, for error messages."""
    return ", ".join(f"{c.topic} [{c.msgtype}]" for c in reader.connections) or "no topics"


def rosbags_qos(qos: OfferedQos) -> Any:
    """An :class:`OfferedQos` as the rosbags ``Qos`` a writer records (rmw's defaults for the durations)."""
    from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

    # rmw's "default" deadline / lifespan / lease duration, as rosbag2 records a publisher that set none.
    infinite = QosTime(sec=9223372036, nsec=854775807)
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=qos.depth,
        reliability=QosReliability[qos.reliability.upper()],
        durability=QosDurability[qos.durability.upper()],
        deadline=infinite,
        lifespan=infinite,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=infinite,
        avoid_ros_namespace_conventions=False,
    )


class QosRecordingWriter:
    """A rosbags ``Writer`` whose connections record the QoS their publishers offer.

    ``add_connection`` without ``offered_qos_profiles`` records the package's own profile of the topic
    (:func:`depth_node.offered_qos.offered_qos`); a copied input topic passes the input bag's profiles
    (and gets the package's when the input recorded none). Both the MCAP channel metadata and
    metadata.yaml carry them (rosbags writes both), as rosbag2 itself does.
    """

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def add_connection(self, topic: str, msgtype: str, **kwargs: Any) -> Any:
        """The writer's ``add_connection``, with ``offered_qos_profiles`` filled in when none was given."""
        if not kwargs.get("offered_qos_profiles"):
            kwargs["offered_qos_profiles"] = [rosbags_qos(offered_qos(topic))]
        return self._writer.add_connection(topic, msgtype, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


class AtomicBagDir:
    """An MCAP bag directory (plus side files) that appears at ``target`` only when complete.

    Use as a context manager: ``writer`` is a rosbags ``Writer`` inside a temporary directory beside the
    target; on a clean exit the side files are written and the directory renamed into place; on an
    exception everything temporary is removed and the target is untouched.
    """

    def __init__(self, target: str | Path, overwrite: bool = False) -> None:
        self.target = Path(target)
        if self.target.exists() and not overwrite:
            raise BagError(f"output '{self.target}' already exists (pass --overwrite to replace it)")
        self.overwrite = overwrite
        self._parent: Path | None = None
        self.writer: Any = None
        self._side_files: dict[str, bytes] = {}

    def __enter__(self) -> AtomicBagDir:
        from rosbags.rosbag2 import StoragePlugin, Writer

        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._parent = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.partial-", dir=self.target.parent))
        # The bag directory already has the final name inside the temporary parent, so the files the
        # Writer names after it (NAME.mcap) are right after the rename.
        self.writer = QosRecordingWriter(
            Writer(self._parent / self.target.name, version=9, storage_plugin=StoragePlugin.MCAP)
        )
        self.writer.open()
        return self

    @property
    def staging(self) -> Path:
        """The bag directory being written (inside the temporary parent; valid inside the ``with``).

        Files written here (figures rendered straight to disk) move with the bag on completion and vanish
        with it on failure, the same guarantee as :meth:`add_file`, without holding them in memory.
        """
        if self._parent is None:
            raise RuntimeError("AtomicBagDir.staging is only available inside the with block")
        return self._parent / self.target.name

    def add_file(self, name: str, data: bytes) -> None:
        """A side file to be placed in the bag directory on completion (written only if all went well).

        Raises:
            ValueError: ``name`` is not a plain file name (a path could escape the bag directory).
        """
        if name in ("", ".", "..") or Path(name).name != name:
            raise ValueError(f"side file name must be a plain file name, got {name!r}")
        self._side_files[name] = bytes(data)

    def add_json(self, name: str, payload: Any) -> None:
        """A JSON side file (such as report.json) to be placed in the bag directory on completion."""
        self.add_file(name, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._parent is not None
        try:
            self.writer.close()
            if exc_type is not None:
                return
            staged = self.staging
            for name, data in self._side_files.items():
                (staged / name).write_bytes(data)
            if self.target.exists():
                trash = self._parent / ".old"
                os.replace(self.target, trash)
            os.replace(staged, self.target)
        finally:
            shutil.rmtree(self._parent, ignore_errors=True)


class StampIndex:
    """The messages of one topic looked up by header stamp.

    Topics that belong together (an image, its CameraInfo, a ground-truth depth) share header stamps, but a
    bag may log them in any order and drivers drift a little; an index built in a first pass pairs them
    regardless of order. Items are the messages themselves for small ones (CameraInfo) or, with
    ``keep_messages=False``, their log times, for messages too large to hold for a whole bag (depth
    images, clouds): :func:`message_at` reads one back when it is needed.
    """

    def __init__(self, stamps: Sequence[int], items: Sequence[Any], malformed: int = 0) -> None:
        order = np.argsort(np.asarray(stamps, dtype=np.int64), kind="stable")
        self._stamps = np.asarray(stamps, dtype=np.int64)[order]
        self._items = [items[i] for i in order]
        self.malformed = malformed

    def __len__(self) -> int:
        return len(self._items)

    @classmethod
    def from_bag(cls, reader: Any, topic: str, keep_messages: bool = True) -> StampIndex:
        """Index every message of ``topic``; undecodable ones are counted in ``malformed``, not fatal."""
        stamps: list[int] = []
        items: list[Any] = []
        malformed = 0
        conns = [c for c in reader.connections if c.topic == topic]
        for conn, log_time, raw in reader.messages(connections=conns):
            try:
                msg = reader.deserialize(raw, conn.msgtype)
                stamp = stamp_ns(msg.header)
            except Exception:
                malformed += 1
                continue
            stamps.append(stamp)
            items.append(msg if keep_messages else log_time)
        return cls(stamps, items, malformed)

    def nearest(self, stamp: int, max_offset_ns: int | None = None) -> tuple[int, Any] | None:
        """(stamp, item) of the entry nearest to ``stamp`` in time, or None when there is none.

        Args:
            stamp: Header stamp looked for, nanoseconds.
            max_offset_ns: Refuse entries further away than this (None: any distance).
        """
        if not self._items:
            return None
        i = int(np.searchsorted(self._stamps, stamp))
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self._items)]
        best = min(candidates, key=lambda j: abs(int(self._stamps[j]) - stamp))
        found = int(self._stamps[best])
        if max_offset_ns is not None and abs(found - stamp) > max_offset_ns:
            return None
        return found, self._items[best]

    def lookup(self, stamp: int, max_offset_ns: int | None = None) -> Any:
        """The item with this stamp, else the nearest in time (within ``max_offset_ns``), else None."""
        hit = self.nearest(stamp, max_offset_ns)
        return None if hit is None else hit[1]


def message_at(reader: Any, topic: str, log_time: int, stamp: int) -> Any:
    """The message of ``topic`` logged at ``log_time`` with header stamp ``stamp`` (None if gone or undecodable).

    Reads through an index (MCAP chunk index, SQLite query), so it costs one chunk, not a scan. Use a
    reader of its own while another iterates the bag: a reader's file position is shared.
    """
    conns = [c for c in reader.connections if c.topic == topic]
    for conn, _t, raw in reader.messages(connections=conns, start=log_time, stop=log_time + 1):
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except Exception:
            continue
        if stamp_ns(msg.header) == stamp:
            return msg
    return None
