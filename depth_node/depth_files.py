"""Depth as files people exchange: .npy float32 metres, 16-bit PNG millimetres, PLY point clouds.

One place for the unit conventions (REP-118: float metres with NaN = unknown; 16-bit millimetres with
0 = unknown), shared by ``depth-node predict`` and the web page, so a depth downloaded from either reads
back the same way.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt

from depth_node.errors import ImageDecodeError

MM_PER_M = 1000.0  # 16-bit depth is millimetres (REP-118)
NPY_MAGIC = b"\x93NUMPY"


def depth_to_mm(depth: npt.NDArray[np.floating]) -> npt.NDArray[np.uint16]:
    """Metres (NaN = unknown) -> uint16 millimetres (0 = unknown; valid depths clipped to 1..65535)."""
    with np.errstate(invalid="ignore"):
        mm = np.where(np.isfinite(depth), np.clip(np.round(depth * MM_PER_M), 1, 65535), 0)
    return mm.astype(np.uint16)


def mm_to_depth(mm: npt.NDArray[np.integer]) -> npt.NDArray[np.float32]:
    """uint16 millimetres (0 = unknown) -> float32 metres (NaN = unknown): the one mm -> m arithmetic (a float32
    division, correctly rounded), for files, messages (16UC1, mono16) and data sets alike."""
    depth = mm.astype(np.float32) / np.float32(MM_PER_M)
    depth[mm == 0] = np.nan
    return depth


def npy_bytes(array: npt.NDArray[np.generic]) -> bytes:
    """The bytes of ``np.save(array)`` (a .npy file), without touching the disk."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_shape(data: bytes) -> tuple[tuple[int, ...], np.dtype[np.generic]]:
    """Shape and dtype of a .npy file from its header alone, so a huge array is refused before it is read.

    Raises:
        ImageDecodeError: not a .npy file, or an object array (which would need unpickling).
    """
    buf = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buf)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(buf)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(buf)
    except (ValueError, OSError) as exc:
        raise ImageDecodeError(f"not a readable .npy file ({exc})") from exc
    if dtype.hasobject:
        raise ImageDecodeError("a .npy of Python objects is refused (it would need unpickling)")
    return tuple(int(s) for s in shape), dtype


def load_npy(data: bytes) -> npt.NDArray[np.generic]:
    """A .npy file's array (never unpickles)."""
    try:
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False))
    except (ValueError, OSError, EOFError) as exc:
        raise ImageDecodeError(f"not a readable .npy file ({exc})") from exc


def ply_bytes(points: npt.NDArray[np.float32], colors: npt.NDArray[np.uint8] | None = None) -> bytes:
    """A binary little-endian PLY of (N, 3) points, optionally with (N, 3) RGB colours.

    Points with a non-finite coordinate are left out (PLY has no "unknown" point); viewers such as
    MeshLab, CloudCompare and Open3D read this layout.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    keep = np.isfinite(pts).all(axis=1)
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if colors is not None:
        cols = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
        if cols.shape[0] != pts.shape[0]:
            raise ValueError(f"{cols.shape[0]} colours for {pts.shape[0]} points")
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    table = np.empty(int(keep.sum()), dtype=fields)
    for i, name in enumerate("xyz"):
        table[name] = pts[keep, i]
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {table.size}"]
    header += [f"property float {n}" for n in "xyz"]
    if colors is not None:
        for i, name in enumerate(("red", "green", "blue")):
            table[name] = cols[keep, i]
            header.append(f"property uchar {name}")
    header.append("end_header")
    return ("\n".join(header) + "\n").encode("ascii") + table.tobytes()
