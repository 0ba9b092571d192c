"""The detector: RGB frame -> detections in the frame's pixels, with an ONNX Runtime session.

The session is opened by :func:`depth_node.estimator.open_session`, so providers, threads and load
errors behave exactly as for the depth model. At load one forward pass on a blank input gives the
concrete output shape (symbolic in many exports), from which the layout is checked or detected and the
class count taken; everything that can be wrong with a model is refused there, not on the first frame.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.detection import nms
from depth_node.detection.labels import resolve_labels
from depth_node.detection.layouts import PREPROCESSING, detect_layout, make_decoder
from depth_node.detection.letterbox import Letterbox
from depth_node.detection.params import DetectorParams
from depth_node.errors import DetectorError, ModelError, ParameterError
from depth_node.onnx_session import open_session

LOG = logging.getLogger(__name__)
DYNAMIC_INPUT_SIZE = 640


@dataclass(frozen=True)
class Detection:
    """One detected object, box centre and size in the input image's pixels.

    Attributes:
        class_index: Index of the class in the model's output.
        class_name: Its name (labels file, metadata, or the index as text).
        score: Confidence, 0..1.
        cx: Box centre x, pixels.
        cy: Box centre y, pixels.
        w: Box width, pixels.
        h: Box height, pixels.
    """

    class_index: int
    class_name: str
    score: float
    cx: float
    cy: float
    w: float
    h: float

    def as_json(self) -> dict[str, Any]:
        """``{"class": NAME, "score": S, "box": [cx, cy, w, h]}``, the CLI's JSON shape."""
        return {"class": self.class_name, "score": self.score, "box": [self.cx, self.cy, self.w, self.h]}


def _metadata_size(metadata: Mapping[str, str]) -> tuple[int | None, int | None]:
    """(height, width) of Ultralytics' ``imgsz`` metadata ("[640, 640]"), the size it exported for."""
    try:
        value = ast.literal_eval(metadata.get("imgsz", ""))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None, None
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return int(value[0]), int(value[1])
    return None, None


def _input_size(shape: Sequence[Any], params: DetectorParams, metadata: Mapping[str, str]) -> tuple[int, int]:
    """(height, width) of the network input: the model's fixed size, else the parameters', else the
    export's ``imgsz`` metadata, else 640."""
    if len(shape) != 4:
        raise DetectorError(f"detector input {list(shape)}: expected an image batch [1, 3, H, W]")
    fixed = [v if isinstance(v, int) and v > 0 else None for v in shape[2:]]
    asked = (params.input_height or None, params.input_width or None)
    for name, have, want in zip(("input_height", "input_width"), fixed, asked, strict=True):
        if have is not None and want is not None and have != want:
            raise ParameterError(f"parameter '{name}': {want} contradicts the model's fixed input size {have}")
    meta = _metadata_size(metadata)
    h = fixed[0] or asked[0] or meta[0] or DYNAMIC_INPUT_SIZE
    w = fixed[1] or asked[1] or meta[1] or DYNAMIC_INPUT_SIZE
    return h, w


class Detector:
    """A YOLO-family ONNX detector with its layout's pre- and post-processing."""

    def __init__(self, params: DetectorParams) -> None:
        """Open the model of ``params.model_path`` and check everything about it.

        Raises:
            ModelError: no model path, a missing or unloadable file, no usable provider.
            DetectorError: an output matching no layout, a labels count that does not match.
            ParameterError: a class filter naming no class of the model, a contradicting input size.
        """
        if not params.model_path:
            raise ModelError("no detector model given (model_path / --model)")
        self.params = params
        self.path = Path(params.model_path)
        self._session, _ = open_session(self.path, params.providers, params.threads)
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self.input_hw = _input_size(inp.shape, params, metadata)
        # A half-precision export (Ultralytics half=True) takes float16; everything else float32.
        self._input_dtype = np.float16 if inp.type == "tensor(float16)" else np.float32
        blank = np.zeros((1, 3, *self.input_hw), dtype=self._input_dtype)
        try:
            outputs = self._session.run(None, {self._input_name: blank})
        except Exception as exc:  # onnxruntime's own error types
            raise DetectorError(f"detector '{self.path}' failed on a blank {blank.shape} input: {exc}") from exc
        shapes = [list(np.shape(o)) for o in outputs]
        in_h, in_w = self.input_hw
        self.layout = detect_layout(shapes, in_h, in_w, metadata) if params.layout == "auto" else params.layout
        self.decoder = make_decoder(self.layout, shapes[0], in_h, in_w)
        self.labels = resolve_labels(self.decoder.num_classes, params.labels_path or None, metadata)
        self.class_filter = self._class_filter(params.classes)
        self.pre = PREPROCESSING[self.layout]
        self.provider = self._session.get_providers()[0]
        LOG.info("detector %s: %s, input %dx%d, %s", self.path.name, self.layout, in_w, in_h, self.provider)

    def _class_filter(self, classes: Sequence[str]) -> set[int] | None:
        if not classes:
            return None
        index = {name: i for i, name in enumerate(self.labels)}
        out = set()
        for name in classes:
            if name in index:
                out.add(index[name])
            elif name.isdigit() and int(name) < len(self.labels):
                out.add(int(name))
            else:
                some = ", ".join(self.labels[:8])
                raise ParameterError(f"parameter 'classes': '{name}' is not a class of the model (it has {some}, ...)")
        return out

    def preprocess(self, rgb: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], Letterbox]:
        """RGB uint8 (H, W, 3) -> the network's float32 (1, 3, h, w) batch and where the image went."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise DetectorError(f"expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}")
        pre = self.pre
        in_h, in_w = self.input_hw
        box = Letterbox.fit(rgb.shape[1], rgb.shape[0], in_w, in_h, pre.keep_ratio, pre.centered)
        net = box.apply(rgb, pre.pad_value)
        chw = net.transpose(2, 0, 1)
        if pre.color_order == "bgr":
            chw = chw[::-1]
        batch = chw.astype(np.float32)
        if pre.scale != 1.0:
            batch *= np.float32(pre.scale)
        return np.ascontiguousarray(batch)[None], box

    def forward(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The network's raw first output."""
        out = self._session.run(None, {self._input_name: batch.astype(self._input_dtype, copy=False)})[0]
        return np.asarray(out, dtype=np.float32)

    def decode(self, raw: npt.NDArray[np.float32], box: Letterbox) -> list[Detection]:
        """Raw output -> filtered, suppressed detections in image pixels, best first."""
        p = self.params
        cands = self.decoder.decode(raw, p.score_threshold)
        kept = nms.select(cands, p.score_threshold, p.iou_threshold, p.max_detections, self.class_filter)
        xyxy = box.to_image(kept.boxes)
        out = []
        rows = zip(xyxy.tolist(), kept.scores.tolist(), kept.classes.tolist(), strict=True)
        for (x1, y1, x2, y2), score, cls in rows:
            w, h = x2 - x1, y2 - y1
            if w <= 0.0 or h <= 0.0:  # wholly in the padding: nothing of the image is in it
                continue
            out.append(Detection(int(cls), self.labels[cls], float(score), x1 + w / 2, y1 + h / 2, w, h))
        return out

    def retune(self, params: DetectorParams) -> None:
        """New thresholds while running (the node's live tuning): the next decode uses them."""
        self.params = params

    def detect(self, rgb: npt.NDArray[np.uint8]) -> list[Detection]:
        """Detections of an RGB uint8 frame, boxes in its pixels, best first."""
        batch, box = self.preprocess(rgb)
        return self.decode(self.forward(batch), box)
