"""``depth-node detect IMAGE... --model M``: objects in image files with a YOLO-family ONNX detector.

With ``--json`` it prints exactly one object,
``{"images": [{"image": PATH, "detections": [{"class": NAME, "score": S, "box": [cx, cy, w, h]}]}]}``,
boxes in image pixels; without it, one line per image. ``--out DIR`` writes DIR/NAME_detections.png
with the boxes drawn (atomically).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from depth_node.errors import ImageDecodeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the detect command."""
    from depth_node.detection.layouts import LAYOUTS

    parser.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files (png, jpg, ...)")
    parser.add_argument("--model", type=Path, help="ONNX detector (default: model_path of --params)")
    parser.add_argument("--labels", type=Path, help="class names, one per line (default: model metadata or index)")
    parser.add_argument("--layout", choices=("auto", *LAYOUTS), help="output layout (default: auto from the shape)")
    parser.add_argument("--score", type=float, help="score threshold 0..1 (default: params, 0.3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text lines")
    parser.add_argument("--out", type=Path, help="write NAME_detections.png with the boxes drawn into this directory")
    parser.add_argument("--params", type=Path, help="ROS 2 parameter YAML with a 'detector: ros__parameters:' section")
    parser.add_argument("--providers", help="comma-separated ONNX Runtime providers, e.g. cuda,cpu (default: params)")


def load_detector_params(args: argparse.Namespace) -> Any:
    """Defaults, then --params YAML, then the flags (--model, --labels, --layout, --score, --providers)."""
    from depth_node import params as params_mod
    from depth_node.detection.params import NODE_NAME, DetectorParams

    overrides: dict[str, Any] = {}
    for flag, name in (("model", "model_path"), ("labels", "labels_path")):
        if getattr(args, flag, None) is not None:
            overrides[name] = str(getattr(args, flag))
    if getattr(args, "layout", None):
        overrides["layout"] = args.layout
    if getattr(args, "score", None) is not None:
        overrides["score_threshold"] = args.score
    if getattr(args, "providers", None):
        overrides["providers"] = [p.strip() for p in args.providers.split(",") if p.strip()]
    return params_mod.load(DetectorParams, getattr(args, "params", None), NODE_NAME, overrides)


def run(args: argparse.Namespace) -> int:
    """Detect in every image; print JSON or text; write drawn images with --out."""
    import cv2
    import numpy as np

    from depth_node.detection.detector import Detector
    from depth_node.detection.draw import draw_detections
    from depth_node.evaluation.report import atomic_write

    detector = Detector(load_detector_params(args))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for path in args.images:
        read = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if read is None:
            raise ImageDecodeError(f"image '{path}' does not exist or cannot be decoded")
        bgr = np.asarray(read, dtype=np.uint8)
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        detections = detector.detect(rgb)
        results.append({"image": str(path), "detections": [d.as_json() for d in detections]})
        if args.out is not None:
            ok, png = cv2.imencode(".png", draw_detections(bgr, detections))
            if not ok:
                raise OSError(f"OpenCV could not encode the drawn '{path}'")
            atomic_write(args.out / f"{path.stem}_detections.png", png.tobytes())
        if not args.json:
            found = ", ".join(f"{d.class_name} {d.score:.2f}" for d in detections) or "nothing"
            print(f"{path}: {len(detections)} detection(s): {found}")
    if args.json:
        print(json.dumps({"images": results}))
    return 0
