"""visualization_msgs/MarkerArray: the obstacles and the chosen heading, for RViz and Foxglove."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from depth_node.frames import optical_to_scan
from depth_node.msgs.geometry import pose, vector3
from depth_node.msgs.message_set import MessageSet, make
from depth_node.types import Command, Obstacle

MARKER_ARRAY = "visualization_msgs/msg/MarkerArray"

# Marker constants (visualization_msgs/Marker); literal so that no message class is needed to read them.
_ARROW, _CUBE, _CYLINDER = 0, 1, 3
_ADD, _DELETEALL = 0, 3


def _color(messages: MessageSet, r: float, g: float, b: float, a: float = 0.8) -> Any:
    return make(messages, "std_msgs/msg/ColorRGBA", r=r, g=g, b=b, a=a)


def markers_to_msg(
    messages: MessageSet,
    obstacles: Iterable[Obstacle],
    command: Command,
    header: Any,
    person_classes: Sequence[str] = (),
    arrow_length_m: float = 1.0,
    pitch_rad: float = 0.0,
) -> Any:
    """A ``visualization_msgs/MarkerArray``: the obstacles and an arrow along the chosen heading.

    Everything is in the scan frame of ``header`` (level, z up, x along the camera's heading; see
    :mod:`depth_node.frames`), so upright things are drawn upright whatever the camera pitch: obstacles as
    cubes (their optical-frame centres rotated by ``pitch_rad``), people as upright cylinders, and the
    heading arrow level from the camera. A DELETEALL first removes last tick's markers, so an obstacle that
    disappeared does not linger in RViz. The arrow is red when blind.
    """
    out = [make(messages, "visualization_msgs/msg/Marker", header=header, ns="obstacles", action=_DELETEALL)]
    known = [o for o in obstacles if o.known and all(math.isfinite(v) for v in o.center)]
    centers = optical_to_scan([o.center for o in known], pitch_rad) if known else np.zeros((0, 3))
    for i, (ob, center) in enumerate(zip(known, centers, strict=True)):
        person = ob.class_id in person_classes
        w, h, d = (v if math.isfinite(v) and v > 0 else 0.1 for v in ob.size)
        out.append(
            make(
                messages,
                "visualization_msgs/msg/Marker",
                header=header,
                ns="obstacles",
                id=i,
                type=_CYLINDER if person else _CUBE,
                action=_ADD,
                pose=pose(messages, center),
                scale=vector3(messages, d, w, h),  # x along the view (depth), y across (width), z up (height)
                color=_color(messages, 1.0, 0.2, 0.2) if person else _color(messages, 1.0, 0.6, 0.1),
                text=ob.class_id,
            )
        )
    heading = command.chosen_heading_rad
    tip = make(
        messages,
        "geometry_msgs/msg/Point",
        x=arrow_length_m * math.cos(heading),
        y=arrow_length_m * math.sin(heading),  # positive heading is left: +y
        z=0.0,
    )
    origin = make(messages, "geometry_msgs/msg/Point", x=0.0, y=0.0, z=0.0)
    out.append(
        make(
            messages,
            "visualization_msgs/msg/Marker",
            header=header,
            ns="heading",
            id=0,
            type=_ARROW,
            action=_ADD,
            pose=pose(messages, (0.0, 0.0, 0.0)),
            scale=vector3(messages, 0.03, 0.06, 0.1),  # shaft diameter, head diameter, head length
            color=_color(messages, 1.0, 0.0, 0.0, 1.0) if command.blind else _color(messages, 0.1, 0.9, 0.2, 1.0),
            points=[origin, tip],
            text=command.reason,
        )
    )
    return make(messages, MARKER_ARRAY, markers=out)
