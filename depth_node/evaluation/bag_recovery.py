"""Salvage of an MCAP file that rosbags refuses: a recording cut off by a crash, or a damaged summary.

A recorder killed mid-write leaves an MCAP without its summary section and end magic, often with its last
chunk cut short; rosbags then refuses the whole file ("File end magic is invalid") although every message
before the cut is intact. :func:`salvage_mcap` walks the data section record by record (the ``mcap``
package's record parsers, no summary needed), decompresses what is there of a cut chunk, and copies every
complete schema, channel and message into a fresh, indexed MCAP that rosbags opens. :func:`readable_bag`
does this when rosbags refuses a bag, and :func:`integrity_report` compares what was read with what the
bag promised (its index, or a cut recording's metadata.yaml).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from depth_node.errors import BagError
from depth_node.evaluation.bagio import open_bag

MCAP_MAGIC = b"\x89MCAP0\r\n"
_OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE, _OP_CHUNK = 0x03, 0x04, 0x05, 0x06
_OP_FOOTER, _OP_DATA_END = 0x02, 0x0F


@dataclass
class Salvage:
    """What :func:`salvage_mcap` found.

    Attributes:
        messages: Messages copied.
        truncated: The data section ended before its end record (the file was cut off).
        by_topic: Messages copied per topic.
    """

    messages: int = 0
    truncated: bool = True
    by_topic: dict[str, int] = field(default_factory=dict)


def _decompress(compression: str, payload: bytes, size: int) -> bytes:
    """As much of a chunk's records as ``payload`` (possibly cut short) holds."""
    if compression == "":
        return payload
    if compression == "zstd":
        import zstandard

        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(payload))[:size]
    if compression == "lz4":
        import lz4.frame

        try:
            return bytes(lz4.frame.LZ4FrameDecompressor().decompress(payload))[:size]
        except RuntimeError:  # a cut lz4 frame may not decode at all
            return b""
    raise BagError(f"MCAP chunk compression '{compression}' is not supported")


def _split(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(opcode, body) of each complete record in ``data``; stops at the first incomplete one."""
    pos = 0
    while pos + 9 <= len(data):
        opcode, length = data[pos], int.from_bytes(data[pos + 1 : pos + 9], "little")
        if opcode == 0 or pos + 9 + length > len(data):  # zeroes or a cut: nothing further is trustworthy
            return
        yield opcode, data[pos + 9 : pos + 9 + length]
        pos += 9 + length


def _left(stream: BinaryIO) -> int:
    """Bytes from the stream's position to its end."""
    pos = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(pos)
    return end - pos


def _read(stream: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes, never asking for more than the file holds: a damaged length field can claim
    exabytes, and ``read(n)`` allocates ``n`` bytes before it finds out (MemoryError)."""
    return stream.read(max(min(n, _left(stream)), 0))


def _records(stream: BinaryIO, salvage: Salvage) -> Iterator[tuple[int, bytes]]:
    """Schema, channel and message records of the data section, chunks opened; sets ``salvage.truncated``."""
    while True:
        head = stream.read(9)
        if len(head) < 9:
            return
        opcode, length = head[0], int.from_bytes(head[1:], "little")
        if opcode in (_OP_DATA_END, _OP_FOOTER):
            salvage.truncated = False
            return
        if opcode != _OP_CHUNK:
            body = _read(stream, length)
            if len(body) < length:
                return
            if opcode in (_OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE):
                yield opcode, body
            continue
        fixed = stream.read(32)  # start, end, uncompressed size, crc, compression length
        if len(fixed) < 32:
            return
        size = int.from_bytes(fixed[16:24], "little")
        name_len = int.from_bytes(fixed[28:32], "little")
        compression = _read(stream, name_len).decode("utf-8", "replace")
        compressed_size = int.from_bytes(stream.read(8), "little")
        payload = _read(stream, min(compressed_size, length))
        yield from _split(_decompress(compression, payload, size))
        if len(payload) < compressed_size:
            return
        rest = length - (32 + name_len + 8 + compressed_size)
        if rest > 0 and len(_read(stream, rest)) < rest:
            return


def salvage_mcap(src: Path, dst: Path) -> Salvage:
    """Copy every readable record of the MCAP file ``src`` into a complete, indexed MCAP file ``dst``.

    Raises:
        BagError: ``src`` is not an MCAP file at all (no magic).
    """
    from mcap.data_stream import ReadDataStream
    from mcap.records import Channel, Message, Schema
    from mcap.writer import CompressionType, Writer

    salvage = Salvage()
    with open(src, "rb") as stream, open(dst, "wb") as out:
        if stream.read(8) != MCAP_MAGIC:
            raise BagError(f"'{src}' is not an MCAP file")
        writer = Writer(out, compression=CompressionType.NONE)
        writer.start(profile="ros2", library="depth_node salvage")
        schemas: dict[int, int] = {0: 0}
        channels: dict[int, tuple[int, str]] = {}
        for opcode, body in _records(stream, salvage):
            rec = ReadDataStream(io.BytesIO(body))
            try:
                if opcode == _OP_SCHEMA:
                    s = Schema.read(rec)
                    schemas[s.id] = writer.register_schema(s.name, s.encoding, s.data)
                elif opcode == _OP_CHANNEL:
                    c = Channel.read(rec)
                    if c.schema_id in schemas and c.id not in channels:
                        new = writer.register_channel(c.topic, c.message_encoding, schemas[c.schema_id], c.metadata)
                        channels[c.id] = (new, c.topic)
                else:
                    m = Message.read(rec, len(body))
                    if m.channel_id in channels:
                        new, topic = channels[m.channel_id]
                        writer.add_message(new, m.log_time, m.data, m.publish_time, m.sequence)
                        salvage.messages += 1
                        salvage.by_topic[topic] = salvage.by_topic.get(topic, 0) + 1
            except Exception:  # a record damaged inside: skip it, keep the rest
                continue
        writer.finish()
    return salvage


@dataclass
class ReadableBag:
    """What can be read of a bag: the paths to open, and what salvage found when rosbags refused it.

    Attributes:
        paths: The bag as given, or salvaged copies of its MCAP files (valid inside :func:`readable_bag`).
        salvage: None when the bag opened as it is; else the salvage of its MCAP files, merged.
        expected_by_topic: Message counts per topic that the bag's metadata.yaml promises (empty without one).
    """

    paths: list[Path]
    salvage: Salvage | None = None
    expected_by_topic: dict[str, int] = field(default_factory=dict)


def _metadata_counts(bag_dir: Path) -> dict[str, int]:
    """Per-topic message counts of a bag directory's metadata.yaml ({} when absent or unreadable)."""
    import yaml

    try:
        info = yaml.safe_load((bag_dir / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        counts = {str(t["topic_metadata"]["name"]): int(t["message_count"]) for t in info["topics_with_message_count"]}
    except Exception:  # no metadata, or not the layout we know: no promise to check against
        return {}
    return {k: v for k, v in counts.items() if v > 0}


@contextlib.contextmanager
def readable_bag(path: str | Path) -> Iterator[ReadableBag]:
    """The bag at ``path`` if rosbags opens it, else salvaged copies of its MCAP files (a cut recording).

    A recorder killed by a crash leaves an MCAP without summary or end magic; every message before the cut
    is still intact and is replayed (:mod:`depth_node.evaluation.bag_recovery`). The copies live in a temporary
    directory for the duration of the ``with``.

    Raises:
        BagError: the path is missing, not a bag, or has no MCAP file to salvage.
    """
    p = Path(path)
    try:
        with open_bag(p):
            pass
    except BagError as exc:
        refused: BagError | None = exc
    else:
        refused = None
    if refused is None:
        yield ReadableBag([p])
        return
    mcaps = [p] if p.is_file() and p.suffix == ".mcap" else sorted(p.glob("*.mcap")) if p.is_dir() else []
    if not mcaps:
        raise refused
    with tempfile.TemporaryDirectory(prefix="depth_node_salvage_") as tmp:
        total = Salvage(truncated=False)
        copies = []
        for i, src in enumerate(mcaps):
            dst = Path(tmp) / f"{i:03d}_{src.name}"
            try:
                found = salvage_mcap(src, dst)
            except (BagError, OSError):
                raise refused from None
            total.messages += found.messages
            total.truncated |= found.truncated
            for topic, n in found.by_topic.items():
                total.by_topic[topic] = total.by_topic.get(topic, 0) + n
            copies.append(dst)
        if total.messages == 0:
            raise refused
        yield ReadableBag(copies, total, _metadata_counts(p) if p.is_dir() else {})


def integrity_report(salvage: Salvage | None, expected: Mapping[str, int], read: Mapping[str, int]) -> dict[str, Any]:
    """``truncated``, ``messages_recovered``, ``missing_messages`` (by topic) and their console warnings.

    A message the bag's index promises but that was not read (a zeroed chunk, a cut recording with a
    metadata.yaml) would otherwise vanish without a trace: a frame fewer and no reason given.
    """
    missing = {t: n - read.get(t, 0) for t, n in sorted(expected.items()) if n > read.get(t, 0)}
    warnings = []
    if salvage is not None:
        what = "cut off (no summary section)" if salvage.truncated else "damaged (unreadable index)"
        warnings.append(f"input bag {what}: replayed the {salvage.messages} messages that could be read")
    if missing:
        listed = ", ".join(f"{t}: {n}" for t, n in missing.items())
        warnings.append(f"{sum(missing.values())} messages the bag's index lists could not be read ({listed})")
    return {
        "truncated": salvage is not None and salvage.truncated,
        "messages_recovered": None if salvage is None else salvage.messages,
        "missing_messages": missing,
        "warnings": warnings,
    }
