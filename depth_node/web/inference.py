"""One upload -> the JSON the page shows: decoding with limits, the model run, metrics, images, files.

No web framework here: the FastAPI shell hands bytes and numbers in and a dict comes out, so the checks
(not an image, too large, ground truth of another size) are plain functions with plain tests. Every
refusal is a :class:`WebInputError` whose ``status`` is the HTTP status and whose message is the one line
the page shows. Nothing here opens a path: uploads are bytes, and the model is looked up by name.
"""

from __future__ import annotations

import base64
import io
import math
import struct
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node.camera import camera_for_image
from depth_node.colorize import colorize_depth, colorize_values
from depth_node.depth_files import NPY_MAGIC, depth_to_mm, load_npy, mm_to_depth, npy_bytes, npy_shape, ply_bytes
from depth_node.errors import DepthNodeError
from depth_node.metrics import compute_metrics, median_scaled
from depth_node.pointcloud import PointCloudBuilder
from depth_node.web.registry import ServedModel

F32 = npt.NDArray[np.float32]
METRIC_KEYS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "mae", "mse")
VIEW_POINTS = 40_000  # points sent for the page's 3-D view (drawn in the browser at every drag)
PLY_POINTS = 1_000_000  # points at most in the PLY download (about 15 MB)


class WebInputError(DepthNodeError):
    """A request the server refuses; ``status`` is its HTTP status, the message its one-line reason."""

    reason = "bad_request"
    status = 400


class NotAnImageError(WebInputError):
    """An upload that no image decoder recognises."""

    reason = "not_an_image"
    status = 415


class TooLargeError(WebInputError):
    """An image (or ground truth, or request body) over the server's size limit."""

    reason = "too_large"
    status = 413


class UnknownModelError(WebInputError):
    """A model name the server does not offer."""

    reason = "unknown_model"
    status = 400


class GroundTruthMismatchError(WebInputError):
    """A ground truth whose size differs from its image's."""

    reason = "gt_size_mismatch"
    status = 422


def b64(data: bytes) -> str:
    """Base64 text of bytes (how files travel inside the JSON)."""
    return base64.b64encode(data).decode("ascii")


def png_bytes(image: npt.NDArray[Any]) -> bytes:
    """A PNG file of an 8-bit BGR / grey or 16-bit grey image."""
    # Light compression: these PNGs cross a local socket once; encoding time matters more than bytes.
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise DepthNodeError(f"OpenCV could not encode a {image.dtype} {image.shape} PNG")
    return bytes(buf)


def _check_pixels(width: int, height: int, max_pixels: int, what: str) -> None:
    if width * height > max_pixels:
        raise TooLargeError(
            f"{what} is {width}x{height} = {width * height / 1e6:.1f} megapixels, over this server's limit of "
            f"{max_pixels / 1e6:g} megapixels"
        )


def _png_jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG from its header bytes, None for other formats or a bad header.

    Read here rather than by Pillow for the two common formats, because Pillow's own guard refuses
    the largest images without saying their size.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if not data.startswith(b"\xff\xd8"):
        return None
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:  # markers without a length
            pos += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame: the size
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


def image_header_size(data: bytes, what: str) -> tuple[int, int]:
    """(width, height) from an image file's header alone (no pixel data is decoded to answer this).

    Raises:
        NotAnImageError: no image format recognises the bytes.
    """
    from PIL import Image, UnidentifiedImageError

    size = _png_jpeg_size(data)
    if size is not None:
        return size
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Image.DecompressionBombError as exc:  # bigger than even Pillow's own guard
        raise TooLargeError(f"{what} is far over this server's size limit ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise NotAnImageError(f"{what} is not an image (no decoder recognises its {len(data)} bytes)") from exc


def decode_image(data: bytes, max_pixels: int) -> npt.NDArray[np.uint8]:
    """RGB uint8 (H, W, 3) of an uploaded image file, its size checked before its pixels are decoded.

    Decoded by OpenCV exactly as ``depth-node predict`` reads a file, so both give the same depth.
    """
    width, height = image_header_size(data, "the image")
    _check_pixels(width, height, max_pixels, "the image")
    rgb = image_codec.decode_file_rgb8(np.frombuffer(data, np.uint8))
    if rgb is None:
        raise NotAnImageError("the image's format is recognised but OpenCV cannot decode it (try PNG or JPEG)")
    return rgb


MM_PER_METRE = 1000.0  # REP-118 16UC1; TUM RGB-D PNGs use 5000 units per metre


def decode_ground_truth(data: bytes, max_pixels: int, depth_scale: float = MM_PER_METRE) -> F32:
    """Ground-truth depth in metres (NaN = unknown) from a 16-bit PNG or a .npy in metres.

    Args:
        data: The uploaded file.
        max_pixels: Refuse larger maps.
        depth_scale: PNG units per metre: 1000 for millimetres (REP-118, RealSense, NYU exports), 5000 for
            TUM RGB-D. A .npy is metres whatever this says.

    Raises:
        NotAnImageError: neither format, an 8-bit image (not depth), or a .npy that is not one 2-D map.
        TooLargeError: over the pixel limit (checked on the header, before the data is read).
    """
    if data.startswith(NPY_MAGIC):
        shape, dtype = npy_shape(data)
        squeezed = tuple(s for s in shape if s != 1)
        if len(squeezed) != 2 or dtype.kind not in "fiu":
            raise NotAnImageError(f"ground-truth .npy must be one 2-D numeric depth map, got {dtype} {shape}")
        _check_pixels(squeezed[1], squeezed[0], max_pixels, "the ground truth")
        return np.asarray(load_npy(data), dtype=np.float32).reshape(squeezed)
    width, height = image_header_size(data, "the ground truth")
    _check_pixels(width, height, max_pixels, "the ground truth")
    units = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if units is None or units.ndim != 2 or units.dtype != np.uint16:
        got = "undecodable" if units is None else f"{units.dtype} with shape {units.shape}"
        raise NotAnImageError(
            f"ground truth must be a one-channel 16-bit PNG (depth_scale units per metre) or a .npy in metres, "
            f"got {got}"
        )
    depth = mm_to_depth(np.asarray(units, dtype=np.uint16))  # units / 1000, NaN where 0
    if depth_scale != MM_PER_METRE:
        depth *= np.float32(MM_PER_METRE / depth_scale)
    return depth


def _colour_range(values: F32) -> tuple[float, float]:
    """2nd-98th percentile of the finite values (a far outlier does not wash out the map)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [2.0, 98.0]))
    return lo, max(hi, lo + 1e-3)


def _png_b64(bgr: npt.NDArray[np.uint8]) -> str:
    return b64(png_bytes(bgr))


def score(
    depth: F32, gt: F32, relative: bool, min_depth: float, max_depth: float
) -> tuple[dict[str, float], float | None]:
    """Metrics of ``depth`` against ``gt`` with the replay's code; relative models median-scaled first.

    Returns:
        The :data:`METRIC_KEYS` (``mse`` is rmse squared, the mean squared error over the same pixels)
        plus ``n_pixels``, and the median-scaling factor applied (None for a metric model).
    """
    scale = None
    pred: npt.NDArray[np.floating] = depth
    if relative:
        valid = np.isfinite(gt) & (gt >= min_depth) & (gt <= max_depth)
        pred = median_scaled(depth, gt, valid)
        finite = np.isfinite(depth) & (depth > 0) & valid
        scale = float(np.median(gt[finite]) / np.median(depth[finite]))
    m = compute_metrics(pred, gt, min_depth=min_depth, max_depth=max_depth, with_ssim=False)
    out = {key: m[key] for key in METRIC_KEYS if key in m}
    out["mse"] = m["rmse"] ** 2
    out["n_pixels"] = int(m["n_pixels"])
    return out, scale


def predict_response(
    model: ServedModel,
    rgb: npt.NDArray[np.uint8],
    gt: F32 | None = None,
    *,
    fx: float | None = None,
    hfov_deg: float | None = None,
    gt_range: tuple[float, float] = (0.1, 10.0),
) -> dict[str, Any]:
    """Everything ``POST /api/predict`` returns for one image and one model.

    Raises:
        GroundTruthMismatchError: ``gt`` is not the image's size.
        CameraModelError: a bad or double focal.
        MetricsError: no ground-truth pixel inside ``gt_range``.
    """
    height, width = rgb.shape[:2]
    if gt is not None and gt.shape != (height, width):
        raise GroundTruthMismatchError(
            f"the ground truth is {gt.shape[1]}x{gt.shape[0]} but the image is {width}x{height}; they must match"
        )
    camera = camera_for_image(
        width, height, fx=fx, hfov_deg=hfov_deg, focal_reference=model.estimator.spec.focal_reference
    )
    depth, latency_ms = model.predict(rgb, camera)
    out: dict[str, Any] = {
        "model": model.name,
        "width": width,
        "height": height,
        "latency_ms": latency_ms,
        "kind": model.estimator.spec.output_kind.value,
        "camera": {"fx": camera.fx, "fy": camera.fy, "cx": camera.cx, "cy": camera.cy},
    }
    metrics: dict[str, float] | None = None
    scale: float | None = None
    shown = depth
    if gt is not None:
        metrics, scale = score(depth, gt, model.relative, *gt_range)
        shown = depth * np.float32(scale) if scale is not None else depth
        lo, hi = _colour_range(np.where((gt >= gt_range[0]) & (gt <= gt_range[1]), gt, np.nan).astype(np.float32))
        error = np.abs(shown - gt)
        err_hi = max(_colour_range(error)[1], 1e-3)
        out["gt_png"] = _png_b64(colorize_depth(gt, lo, hi))
        out["error_png"] = _png_b64(colorize_values(error, 0.0, err_hi))
        out["error_range_m"] = [0.0, err_hi]
    else:
        lo, hi = _colour_range(depth)
    out["metrics"] = metrics
    out["median_scaled"] = scale is not None
    out["scale"] = scale
    out["depth_range_m"] = [lo, hi]
    out["depth_png"] = _png_b64(colorize_depth(shown, lo, hi))
    out["depth_npy"] = b64(npy_bytes(depth.astype(np.float32)))
    out["depth_mm_png"] = b64(png_bytes(depth_to_mm(depth)))
    out.update(_clouds(depth, camera, rgb))
    return out


def _clouds(depth: F32, camera: Any, rgb: npt.NDArray[np.uint8]) -> dict[str, Any]:
    """The decimated points of the 3-D view and the PLY download, back-projected as the node does."""
    out: dict[str, Any] = {}
    for key, limit in (("points", VIEW_POINTS), ("ply", PLY_POINTS)):
        k = max(1, math.ceil(math.sqrt(depth.size / limit)))
        cloud = PointCloudBuilder(decimation=k).build(depth, camera)
        pts = cloud.points().reshape(-1, 3)
        cols = np.ascontiguousarray(rgb[::k, ::k]).reshape(-1, 3)
        if key == "ply":
            out["ply"] = b64(ply_bytes(pts, cols))
            out["ply_decimation"] = k
        else:
            keep = np.isfinite(pts[:, 2])
            out["points"] = b64(np.ascontiguousarray(pts[keep], dtype="<f4").tobytes())
            out["points_step"] = k
            out["points_rgb"] = b64(np.ascontiguousarray(cols[keep]).tobytes())
    return out


def parse_depth_scale(raw: Any) -> float:
    """The ``depth_scale`` form field (16-bit PNG units per metre); empty or absent = 1000 (millimetres).

    Raises:
        WebInputError: not a positive number.
    """
    if raw is None or str(raw).strip() == "":
        return MM_PER_METRE
    try:
        value = float(str(raw))
    except ValueError as exc:
        raise WebInputError(f"field 'depth_scale' must be a number, got {str(raw)[:40]!r}") from exc
    if not math.isfinite(value) or value <= 0:
        raise WebInputError(f"field 'depth_scale' must be a positive number of units per metre, got {value}")
    return value


def parse_focal(form: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(fx, hfov_deg) from optional form text; empty strings mean "not given"."""
    values: list[float | None] = []
    for name in ("fx", "hfov_deg"):
        raw = form.get(name)
        if raw is None or str(raw).strip() == "":
            values.append(None)
            continue
        try:
            value = float(str(raw))
        except ValueError as exc:
            raise WebInputError(f"field '{name}' must be a number, got {str(raw)[:40]!r}") from exc
        if not math.isfinite(value) or value <= 0:
            raise WebInputError(f"field '{name}' must be a positive number, got {value}")
        values.append(value)
    return values[0], values[1]
