"""Timing of the detector's stages (preprocessing, forward, decode + NMS) for ``depth-node bench``.

Runs on the CPU provider whatever the machine has, so that the figures compare between machines and
with the issue's target; the frame is the bench's own, so no data set is needed, only the model.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.detection.detector import Detector
from depth_node.detection.params import DetectorParams
from depth_node.timing import median_ms


def detector_stages(path: Path | None, rgb: npt.NDArray[np.uint8], repeats: int) -> dict[str, Any]:
    """:func:`bench_detector` of ``path``, or one ``detector_skipped`` entry saying why there is nothing to time
    (the package ships no detector: the user names one)."""
    if path is None:
        return {"detector_skipped": "no --detector-model given"}
    if not path.is_file():
        return {"detector_skipped": f"no detector model at {path} (--detector-model)"}
    return bench_detector(path, rgb, repeats)


def bench_detector(model_path: Path, rgb: npt.NDArray[np.uint8], repeats: int) -> dict[str, Any]:
    """Medians (ms) of each stage on ``rgb``, plus the layout, input size and detections found.

    Keys: ``det_preprocess_ms``, ``det_forward_ms``, ``det_decode_nms_ms`` and ``det_total_ms``
    (all three in a row, as the node runs them). A plain bench frame holds few objects, so
    ``det_decode_nms_worst_ms`` also times the decode with a score threshold of 0 and no count limit:
    every anchor or cell a candidate, the most NMS can ever be given.
    """
    params = DetectorParams(model_path=str(model_path), providers=("cpu",))
    detector = Detector(params)
    worst = Detector(replace(params, score_threshold=0.0, max_detections=10000))
    batch, box = detector.preprocess(rgb)
    raw = detector.forward(batch)
    found = detector.decode(raw, box)
    in_h, in_w = detector.input_hw
    return {
        "detector_model": str(model_path),
        "detector_layout": detector.layout,
        "detector_input": f"{in_w}x{in_h}",
        "detector_provider": detector.provider,
        "detector_detections": len(found),
        "det_preprocess_ms": median_ms(lambda _: detector.preprocess(rgb), repeats, warmup=3),
        "det_forward_ms": median_ms(lambda _: detector.forward(batch), repeats, warmup=3),
        "det_decode_nms_ms": median_ms(lambda _: detector.decode(raw, box), repeats, warmup=3),
        "det_decode_nms_worst_ms": median_ms(lambda _: worst.decode(raw, box), repeats, warmup=3),
        "detector_worst_candidates": len(worst.decoder.decode(raw, 0.0)),
        "det_total_ms": median_ms(lambda _: detector.detect(rgb), repeats, warmup=3),
    }
