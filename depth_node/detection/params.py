"""Parameters of the detector node, ``depth-node detect`` and replay's ``--detector``: the single source.

``config/detector.yaml`` mirrors this dataclass, the rclpy node declares its parameters from it
(:func:`depth_node.node_params.declare_and_read`), and the CLI loads the same YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

from depth_node.detection.layouts import LAYOUTS
from depth_node.estimator import DEFAULT_PROVIDERS
from depth_node.params import param

NODE_NAME = "detector"


@dataclass(frozen=True)
class DetectorParams:
    """Everything the detector (core, node, CLI) can be told."""

    model_path: str = param("", "ONNX detector (Ultralytics YOLOv8/YOLO11, YOLOX or FastestDet export)")
    labels_path: str = param("", "Class names, one per line (empty = the model's 'names' metadata, else the index)")
    layout: str = param("auto", "Output layout (auto = from the output shape)", choices=("auto", *LAYOUTS))
    score_threshold: float = param(
        0.3, "Detections scoring lower are dropped", min_value=0.0, max_value=1.0, dynamic=True
    )
    iou_threshold: float = param(
        0.45,
        "Within a class, a box overlapping a better one by more IoU is dropped",
        min_value=0.0,
        max_value=1.0,
        dynamic=True,
    )
    max_detections: int = param(
        100, "At most this many detections per image, best first", min_value=1, max_value=10000, dynamic=True
    )
    classes: tuple[str, ...] = param((), "Keep only these class names (empty = all)")
    input_width: int = param(
        0,
        "Network input width of a model with a dynamic input (0 = its imgsz metadata, else 640)",
        min_value=0,
        max_value=8192,
    )
    input_height: int = param(
        0,
        "Network input height of a model with a dynamic input (0 = its imgsz metadata, else 640)",
        min_value=0,
        max_value=8192,
    )
    providers: tuple[str, ...] = param(
        DEFAULT_PROVIDERS, "ONNX Runtime execution providers, most preferred first (unavailable ones are skipped)"
    )
    threads: int = param(0, "ONNX Runtime intra-op threads (0 = its default)", min_value=0, max_value=256)
    image_transport: str = param(
        "raw", "Subscribe to image_raw (raw) or image_raw/compressed", choices=("raw", "compressed")
    )
    qos_reliability: str = param(
        "auto",
        "Reliability of the image subscription; auto follows the publishers (reliable unless one is best-effort)",
        choices=("auto", "reliable", "best_effort"),
    )
    qos_depth: int = param(2, "History depth of the image subscription", min_value=1, max_value=100)
    publish_image: bool = param(False, "Publish detections/image, the frame with its boxes drawn (bgr8)")
    diagnostics_period_s: float = param(
        1.0, "Period of the frame counts on /diagnostics, s (0 = off; the log gets them every 10 s)", min_value=0.0
    )
