"""The single-stage detector export layouts: how each is fed, and how its raw output becomes boxes.

* ``yolov8`` (Ultralytics YOLOv8 / YOLO11 ONNX export): output [1, 4+nc, N]; rows cx, cy, w, h in
  network pixels, then nc class scores (no objectness). Input RGB / 255, centred letterbox, pad 114.
* ``yolox`` (YOLOX export without decode_in_inference): output [1, N, 5+nc]; per anchor point x, y
  offsets in grid cells, log w, log h, objectness, class scores, anchors listed stride 8, 16, 32 with
  the grid row-major. Input BGR 0-255, letterbox in the top-left corner, pad 114.
* ``fastestdet`` (FastestDet): output [1, 5+nc, H, W]; channel 0 objectness, 1-2 tanh offsets of the
  cell, 3-4 sigmoid width / height as fractions of the input, then class scores; score =
  obj^0.6 * cls^0.4 of the best class. Input BGR / 255, plain resize.

Each decoder returns every candidate scoring at least the threshold, boxes x1y1x2y2 in network pixels;
:mod:`depth_node.detection.nms` then suppresses and :mod:`depth_node.detection.letterbox` maps back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.detection.nms import Candidates
from depth_node.errors import DetectorError

Arr = npt.NDArray[np.floating]
LAYOUTS = ("yolov8", "yolox", "fastestdet")
STRIDES = (8, 16, 32)


@dataclass(frozen=True)
class Preprocessing:
    """How a layout's network wants its input.

    Attributes:
        color_order: "rgb" or "bgr".
        scale: Multiplier from 0-255 pixels to the network's input values.
        keep_ratio: Letterbox (True) or plain resize (False).
        centered: Padding split on both sides (True) or right / bottom only.
        pad_value: Value of the padding pixels (0-255).
    """

    color_order: str
    scale: float
    keep_ratio: bool
    centered: bool
    pad_value: int


PREPROCESSING: dict[str, Preprocessing] = {
    "yolov8": Preprocessing("rgb", 1.0 / 255.0, keep_ratio=True, centered=True, pad_value=114),
    "yolox": Preprocessing("bgr", 1.0, keep_ratio=True, centered=False, pad_value=114),
    "fastestdet": Preprocessing("bgr", 1.0 / 255.0, keep_ratio=False, centered=False, pad_value=0),
}


def anchor_count(in_h: int, in_w: int) -> int:
    """Anchor points of a stride-8/16/32 head on an input of this size (8400 at 640x640)."""
    return sum((in_h // s) * (in_w // s) for s in STRIDES)


def _shapes_text(shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(str(list(s)) for s in shapes)


def _is_ultralytics(metadata: Mapping[str, str]) -> bool:
    return "ultralytics" in metadata.get("author", "").lower() or metadata.get("task", "") == "detect"


def detect_layout(
    shapes: Sequence[Sequence[int]], in_h: int, in_w: int, metadata: Mapping[str, str] | None = None
) -> str:
    """The layout of a model from its output shapes (first output) and input size.

    Rank 4 is FastestDet's grid. Rank 3 is Ultralytics when the last axis counts the anchor points,
    YOLOX when the middle one does; when both do (a square output) an Ultralytics author in the
    metadata decides, else the caller must name the layout.

    Raises:
        DetectorError: one line naming the shapes seen and what each layout would need.
    """
    shape = list(shapes[0]) if shapes else []
    n = anchor_count(in_h, in_w)
    found: list[str] = []
    if len(shape) == 4 and shape[0] == 1 and shape[1] >= 6:
        found.append("fastestdet")
    if len(shape) == 3 and shape[0] == 1:
        if shape[2] == n and shape[1] >= 5:
            found.append("yolov8")
        if shape[1] == n and shape[2] >= 6:
            found.append("yolox")
    if len(found) == 1:
        return found[0]
    if len(found) > 1 and _is_ultralytics(metadata or {}):
        return "yolov8"
    what = "is ambiguous" if found else "matches no known layout"
    raise DetectorError(
        f"detector output {_shapes_text(shapes)} for input {in_w}x{in_h} {what} "
        f"(yolov8: [1, 4+nc, {n}], yolox: [1, {n}, 5+nc], fastestdet: [1, 5+nc, H, W]); set the layout parameter"
    )


class Decoder(ABC):
    """Raw output of one layout -> candidates in network pixels; checks the shape once, at load."""

    def __init__(self, shape: Sequence[int], in_h: int, in_w: int) -> None:
        self.shape = tuple(int(v) for v in shape)
        self.in_h = in_h
        self.in_w = in_w

    @property
    @abstractmethod
    def num_classes(self) -> int:
        """Number of classes the output scores."""

    @abstractmethod
    def decode(self, out: npt.NDArray[np.float32], score_threshold: float) -> Candidates:
        """Every candidate scoring at least ``score_threshold``, boxes x1y1x2y2 in network pixels."""

    def check(self, out: npt.NDArray[np.float32]) -> None:
        """Refuse an output whose shape changed since load (a dynamic-shape model fed another size)."""
        if tuple(out.shape) != self.shape:
            raise DetectorError(f"detector output {list(out.shape)} differs from {list(self.shape)} seen at load")


def _xywh_to_xyxy(cx: Arr, cy: Arr, w: Arr, h: Arr) -> npt.NDArray[np.float32]:
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)


def _empty() -> Candidates:
    return Candidates(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


class YoloV8Decoder(Decoder):
    """Ultralytics [1, 4+nc, N]: boxes already in network pixels, score = best class score."""

    @property
    def num_classes(self) -> int:
        """Rows after the four box rows."""
        return self.shape[1] - 4

    def decode(self, out: npt.NDArray[np.float32], score_threshold: float) -> Candidates:
        """Best class per anchor; the box rows are read only for those that pass."""
        self.check(out)
        a = out[0]
        cls = a[4:]
        best = cls.argmax(axis=0)
        scores = cls[best, np.arange(cls.shape[1])]
        idx = np.flatnonzero(scores >= score_threshold)
        if idx.size == 0:
            return _empty()
        box = a[:4, idx]
        return Candidates(_xywh_to_xyxy(*box), scores[idx].astype(np.float32), best[idx].astype(np.int64))


class YoloXDecoder(Decoder):
    """YOLOX [1, N, 5+nc]: grid offsets and log sizes per stride, score = objectness x class score."""

    def __init__(self, shape: Sequence[int], in_h: int, in_w: int) -> None:
        super().__init__(shape, in_h, in_w)
        grids, strides = [], []
        for s in STRIDES:
            gy, gx = np.meshgrid(np.arange(in_h // s), np.arange(in_w // s), indexing="ij")
            grids.append(np.stack([gx.ravel(), gy.ravel()], axis=1))
            strides.append(np.full(gx.size, s))
        self._grid = np.concatenate(grids).astype(np.float32)
        self._stride = np.concatenate(strides).astype(np.float32)
        if self._grid.shape[0] != self.shape[1]:
            raise DetectorError(
                f"yolox output {list(self.shape)} for input {in_w}x{in_h}: expected {self._grid.shape[0]} anchor points"
            )

    @property
    def num_classes(self) -> int:
        """Columns after box, objectness."""
        return self.shape[2] - 5

    def decode(self, out: npt.NDArray[np.float32], score_threshold: float) -> Candidates:
        """Score first (cheap), then the grid decode of the anchors that pass."""
        self.check(out)
        a = out[0]
        cls = a[:, 5:]
        best = cls.argmax(axis=1)
        scores = a[:, 4] * cls[np.arange(cls.shape[0]), best]
        idx = np.flatnonzero(scores >= score_threshold)
        if idx.size == 0:
            return _empty()
        stride = self._stride[idx]
        xy = (a[idx, :2] + self._grid[idx]) * stride[:, None]
        wh = np.exp(a[idx, 2:4]) * stride[:, None]
        boxes = _xywh_to_xyxy(xy[:, 0], xy[:, 1], wh[:, 0], wh[:, 1])
        return Candidates(boxes, scores[idx].astype(np.float32), best[idx].astype(np.int64))


class FastestDetDecoder(Decoder):
    """FastestDet [1, 5+nc, H, W]: per cell objectness, tanh offsets, sigmoid sizes, class scores."""

    @property
    def num_classes(self) -> int:
        """Channels after objectness and box."""
        return self.shape[1] - 5

    def decode(self, out: npt.NDArray[np.float32], score_threshold: float) -> Candidates:
        """score = obj^0.6 * cls^0.4 of the best class; centre (cell + tanh offset) / grid, size sigmoid."""
        self.check(out)
        a = out[0]
        _, gh, gw = a.shape
        cls = a[5:].reshape(self.num_classes, -1)
        best = cls.argmax(axis=0)
        cls_best = cls[best, np.arange(cls.shape[1])]
        obj = a[0].reshape(-1)
        with np.errstate(invalid="ignore"):  # a negative score from a raw export scores NaN: never kept
            scores = np.power(np.clip(obj, 0.0, None), 0.6) * np.power(np.clip(cls_best, 0.0, None), 0.4)
        idx = np.flatnonzero(scores >= score_threshold)
        if idx.size == 0:
            return _empty()
        gy, gx = np.divmod(idx, gw)
        reg = a[1:5].reshape(4, -1)[:, idx]
        cx = (gx + np.tanh(reg[0])) / gw * self.in_w
        cy = (gy + np.tanh(reg[1])) / gh * self.in_h
        w = 1.0 / (1.0 + np.exp(-reg[2])) * self.in_w
        h = 1.0 / (1.0 + np.exp(-reg[3])) * self.in_h
        boxes = _xywh_to_xyxy(cx, cy, w, h)
        return Candidates(boxes, scores[idx].astype(np.float32), best[idx].astype(np.int64))


def make_decoder(layout: str, shape: Sequence[int], in_h: int, in_w: int) -> Decoder:
    """The decoder of ``layout`` for an output of ``shape``, after checking that the shape fits it.

    Raises:
        DetectorError: an unknown layout, or a shape that layout cannot have (naming both).
    """
    shape = [int(v) for v in shape]
    fits = {
        "yolov8": len(shape) == 3 and shape[0] == 1 and shape[1] >= 5,
        "yolox": len(shape) == 3 and shape[0] == 1 and shape[2] >= 6,
        "fastestdet": len(shape) == 4 and shape[0] == 1 and shape[1] >= 6,
    }
    if layout not in fits:
        raise DetectorError(f"detector layout '{layout}' is not one of {list(LAYOUTS)}")
    if not fits[layout]:
        want = {"yolov8": "[1, 4+nc, N]", "yolox": "[1, N, 5+nc]", "fastestdet": "[1, 5+nc, H, W]"}[layout]
        raise DetectorError(f"detector output {shape} does not fit layout '{layout}' (expected {want})")
    if layout == "yolov8":
        return YoloV8Decoder(shape, in_h, in_w)
    if layout == "yolox":
        return YoloXDecoder(shape, in_h, in_w)
    return FastestDetDecoder(shape, in_h, in_w)
