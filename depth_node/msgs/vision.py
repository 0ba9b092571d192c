"""vision_msgs family: Detection2DArray <-> 2-D detections, obstacles -> Detection3DArray (4.x field layout)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from depth_node.msgs.geometry import pose, vector3
from depth_node.msgs.message_set import MessageSet, make
from depth_node.types import Detection2D, Obstacle

VISION_PACKAGE = "vision_msgs"

DETECTION2D_ARRAY = "vision_msgs/msg/Detection2DArray"

DETECTION3D_ARRAY = "vision_msgs/msg/Detection3DArray"


def detections_from_msg(msg: Any) -> list[Detection2D]:
    """The detections of a ``vision_msgs/Detection2DArray`` (4.x field layout).

    Each detection takes its best-scoring hypothesis; one without hypotheses gets class ``""`` and
    score 0 (fusion still places it; the score threshold decides whether it counts).
    """
    out = []
    for det in msg.detections:
        best = max(det.results, key=lambda r: float(r.hypothesis.score), default=None)
        class_id = "" if best is None else str(best.hypothesis.class_id)
        score = 0.0 if best is None else float(best.hypothesis.score)
        bbox = det.bbox
        out.append(
            Detection2D(
                center_x=float(bbox.center.position.x),
                center_y=float(bbox.center.position.y),
                size_x=float(bbox.size_x),
                size_y=float(bbox.size_y),
                class_id=class_id,
                score=score,
            )
        )
    return out


def detections_to_msg(messages: MessageSet, detections: Iterable[Detection2D], header: Any) -> Any:
    """A ``vision_msgs/Detection2DArray`` (4.x layout) with one hypothesis per detection: the inverse of
    :func:`detections_from_msg`, for the simulator's detector and for tests."""
    out = []
    for det in detections:
        hypothesis = make(messages, "vision_msgs/msg/ObjectHypothesis", class_id=det.class_id, score=float(det.score))
        result = make(messages, "vision_msgs/msg/ObjectHypothesisWithPose", hypothesis=hypothesis)
        position = make(messages, "vision_msgs/msg/Point2D", x=float(det.center_x), y=float(det.center_y))
        center = make(messages, "vision_msgs/msg/Pose2D", position=position, theta=0.0)
        bbox = make(
            messages, "vision_msgs/msg/BoundingBox2D", center=center, size_x=float(det.size_x), size_y=float(det.size_y)
        )
        out.append(make(messages, "vision_msgs/msg/Detection2D", header=header, results=[result], bbox=bbox, id=""))
    return make(messages, DETECTION2D_ARRAY, header=header, detections=out)


def obstacles_to_msg(messages: MessageSet, obstacles: Iterable[Obstacle], header: Any) -> Any:
    """A ``vision_msgs/Detection3DArray`` of the obstacles with a known distance, in the camera optical frame.

    An obstacle of unknown distance has no 3-D position, so it is left out rather than published at NaN.
    """
    detections = []
    for ob in obstacles:
        if not (ob.known and all(math.isfinite(v) for v in (*ob.center, *ob.size))):
            continue
        center = pose(messages, ob.center)
        hypothesis = make(messages, "vision_msgs/msg/ObjectHypothesis", class_id=ob.class_id, score=float(ob.score))
        with_pose = make(
            messages,
            "vision_msgs/msg/ObjectHypothesisWithPose",
            hypothesis=hypothesis,
            pose=make(messages, "geometry_msgs/msg/PoseWithCovariance", pose=center),
        )
        bbox = make(messages, "vision_msgs/msg/BoundingBox3D", center=center, size=vector3(messages, *ob.size))
        detections.append(
            make(messages, "vision_msgs/msg/Detection3D", header=header, results=[with_pose], bbox=bbox, id="")
        )
    return make(messages, DETECTION3D_ARRAY, header=header, detections=detections)
