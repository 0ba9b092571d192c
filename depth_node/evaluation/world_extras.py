"""Low boxes and thin-legged furniture in front of a training camera: what the first world never showed a network.

The procedural world (:mod:`depth_node.evaluation.world_scene`) has tables on 6 cm legs, cabinets, boxes of
20-90 cm and people, but nothing lower than a fifth of the camera height and no leg thinner than 6 cm. A depth
network trained on it puts an 8-16 cm box on the floor plane (the simulator's ``low_box``: no return in the
scan's height band at all), and a robot's scan drops the box. These extras are placed where a robot's camera
looks, 0.6-3.5 m ahead within its view, so that most of them are in the frame:

- low boxes, 3-20 cm high, 0.15-0.7 m wide, any yaw and texture;
- tables (top 0.65-1.1 m) and bar stools (top 0.45-0.8 m) on legs 2-5 cm thick.

And a narrow passage (:func:`add_passage`): a wall across the view with one opening 0.6-1.1 m wide, 0.5-3 m
ahead, 10-55 cm thick. The world's partitions have 0.8-1.4 m doors in 12 cm walls, seldom seen from near; a
network trained on them places the jambs of a 0.75 m passage up to 12 cm inside it as a robot comes close
(the simulator's ``narrow_gap``), which is the robot's whole margin.

They are drawn from their own random streams (``[seed, 9002]``, ``[seed, 9005]``), so a sample without extras
is pixel-for-pixel the original world's, and the held-out test splits (drawn without extras) are unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from depth_node.evaluation.world import obstacle_distance
from depth_node.evaluation.world_render import Pose
from depth_node.evaluation.world_scene import Box, Material, Scene

EXTRAS_STREAM = 9002
PASSAGE_STREAM = 9005


def _material(rng: np.random.Generator) -> Material:
    pattern = str(rng.choice(("plain", "wood", "noise", "stripes", "checker", "tiles")))
    grey = rng.uniform(0.1, 0.95)
    mix = rng.uniform(0.3, 1.0)
    a = mix * grey + (1.0 - mix) * rng.uniform(0.1, 0.95, 3)
    b = np.clip(a * rng.uniform(0.4, 1.3), 0.0, 1.0)
    return Material(
        pattern,
        (float(a[0]), float(a[1]), float(a[2])),
        (float(b[0]), float(b[1]), float(b[2])),
        float(rng.uniform(0.05, 0.4)),
    )


def _spot(
    scene: Scene, pose: Pose, rng: np.random.Generator, radius: float, placed: list[tuple[float, float, float]]
) -> tuple[float, float] | None:
    """A free floor point 0.6-3.5 m ahead of the camera within +-28 degrees, clear of walls, objects and the camera."""
    for _ in range(20):
        dist = float(rng.uniform(0.6, 3.5))
        bearing = pose.yaw + float(rng.uniform(-0.5, 0.5))
        x, y = pose.x + dist * math.cos(bearing), pose.y + dist * math.sin(bearing)
        if math.hypot(x - pose.x, y - pose.y) < radius + 0.35:
            continue
        if obstacle_distance(scene, x, y) < radius + 0.05:
            continue
        if any(math.hypot(x - px, y - py) < radius + pr + 0.05 for px, py, pr in placed):
            continue
        return x, y
    return None


def add_floor_clutter(scene: Scene, pose: Pose, seed: int) -> Scene:
    """``scene`` with 1-4 low boxes and 0-2 thin-legged tables or stools placed in front of ``pose``.

    Args:
        scene: The sample's scene.
        pose: The sample's camera pose (the extras go where it looks).
        seed: The sample's seed (the extras' own stream is ``[seed, EXTRAS_STREAM]``).
    """
    rng = np.random.default_rng([seed, EXTRAS_STREAM])
    materials = list(scene.materials)
    boxes = list(scene.boxes)
    instance = 1 + max([b.instance for b in scene.boxes] + [c.instance for c in scene.cylinders], default=0)
    placed: list[tuple[float, float, float]] = []
    for _ in range(int(rng.integers(1, 5))):
        w, d, h = float(rng.uniform(0.15, 0.7)), float(rng.uniform(0.15, 0.7)), float(rng.uniform(0.03, 0.2))
        r = 0.5 * math.hypot(w, d)
        spot = _spot(scene, pose, rng, r, placed)
        if spot is None:
            continue
        materials.append(_material(rng))
        boxes.append(
            Box(
                (spot[0], spot[1], h / 2),
                (w, d, h),
                float(rng.uniform(-math.pi, math.pi)),
                len(materials) - 1,
                instance,
                "box",
            )
        )
        placed.append((spot[0], spot[1], r))
        instance += 1
    for _ in range(int(rng.integers(0, 3))):
        if rng.random() < 0.5:
            w, d, top, label = (
                float(rng.uniform(0.6, 1.4)),
                float(rng.uniform(0.5, 0.9)),
                float(rng.uniform(0.65, 1.1)),
                "table",
            )
        else:
            w = d = float(rng.uniform(0.3, 0.45))
            top, label = float(rng.uniform(0.45, 0.8)), "chair"
        leg = float(rng.uniform(0.02, 0.05))
        r = 0.5 * math.hypot(w, d)
        spot = _spot(scene, pose, rng, r, placed)
        if spot is None:
            continue
        materials.append(_material(rng))
        yaw = float(rng.uniform(-math.pi, math.pi))
        c, s = math.cos(yaw), math.sin(yaw)
        boxes.append(Box((spot[0], spot[1], top - 0.02), (w, d, 0.04), yaw, len(materials) - 1, instance, label))
        for sx in (-1, 1):
            for sy in (-1, 1):
                lx, ly = sx * (w / 2 - leg), sy * (d / 2 - leg)
                center = (spot[0] + c * lx - s * ly, spot[1] + s * lx + c * ly, (top - 0.04) / 2)
                boxes.append(Box(center, (leg, leg, top - 0.04), yaw, len(materials) - 1, instance, label))
        placed.append((spot[0], spot[1], r))
        instance += 1
    return replace(scene, boxes=tuple(boxes), materials=tuple(materials))


def add_passage(scene: Scene, pose: Pose, seed: int) -> Scene:
    """``scene`` with a full-height wall across the view of ``pose``, open in one narrow passage.

    The passage (0.6-1.1 m wide) is centred 0.5-3 m ahead within +-20 degrees of the view; the wall is turned
    up to +-40 degrees from facing the camera (so a jamb's inner face is seen at a grazing angle), 10-55 cm
    thick, and runs 0.4-3 m to each side of the opening. The camera stays at least 25 cm in front of its face.
    """
    rng = np.random.default_rng([seed, PASSAGE_STREAM])
    height = scene.room.hi[2]
    for _ in range(20):
        dist = float(rng.uniform(0.5, 3.0))
        bearing = pose.yaw + float(rng.uniform(-0.35, 0.35))
        normal = pose.yaw + float(rng.uniform(-0.7, 0.7))
        thick = float(rng.uniform(0.1, 0.55))
        gap = float(rng.uniform(0.6, 1.1))
        lengths = (float(rng.uniform(0.4, 3.0)), float(rng.uniform(0.4, 3.0)))
        cx, cy = pose.x + dist * math.cos(bearing), pose.y + dist * math.sin(bearing)
        ahead = dist * math.cos(bearing - normal)  # the camera's distance to the wall's centre plane
        if ahead - thick / 2 >= 0.25:
            break
    else:
        return scene
    materials = list(scene.materials)
    # The scene's first material (what the fine-tunes of models/MODEL_CARD.md were trained with), or its own.
    material = 0 if rng.random() < 0.3 else len(materials)
    if material:
        materials.append(_material(rng))
    instance = 1 + max([b.instance for b in scene.boxes] + [c.instance for c in scene.cylinders], default=0)
    tx, ty = -math.sin(normal), math.cos(normal)  # along the wall
    boxes = list(scene.boxes)
    for side, length in zip((-1.0, 1.0), lengths, strict=True):
        off = side * (gap + length) / 2
        center = (cx + off * tx, cy + off * ty, height / 2)
        boxes.append(Box(center, (thick, length, height), normal, material, instance, None))
    return replace(scene, boxes=tuple(boxes), materials=tuple(materials))
