"""The procedural indoor world: scenes, camera poses, rendering, and the numbers the training and simulator need.

This is the public face of three modules: :mod:`depth_node.evaluation.world_scene` (scene generation),
:mod:`depth_node.evaluation.world_render` (the ray caster) and this one (camera placement, the training camera, the
benchmark). The simulator drives it as::

    scene = generate_scene("room", seed=7)
    frame = render(scene, camera, Pose(x, y, z, yaw, pitch))
    frame.rgb, frame.depth, frame.boxes

Everything is deterministic from seeds and pure numpy (no torch), so the replay and simulator tools can use it
without the training extras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from depth_node.camera import CameraModel
from depth_node.evaluation.world_render import Frame, Pose, render
from depth_node.evaluation.world_scene import (
    SCENE_KINDS,
    Box,
    Cylinder,
    Lighting,
    Material,
    Room,
    Scene,
    generate_scene,
)
from depth_node.timing import median_ms

__all__ = [
    "SCENE_KINDS",
    "Box",
    "Cylinder",
    "Frame",
    "Lighting",
    "Material",
    "Pose",
    "PoseRange",
    "Room",
    "Scene",
    "bench_world",
    "camera_for",
    "generate_scene",
    "is_free",
    "obstacle_distance",
    "render",
    "render_sample",
    "sample_pose",
    "sample_view",
]

# The training camera: a typical robot webcam, 4:3, fx = 0.8 * width (about 64 degrees horizontal FOV).
FX_OVER_WIDTH = 0.8


def camera_for(width: int, height: int, fx_over_width: float = FX_OVER_WIDTH) -> CameraModel:
    """A centred pinhole camera with square pixels and the given focal as a fraction of the width."""
    fx = fx_over_width * width
    return CameraModel(width, height, fx, fx, (width - 1) / 2.0, (height - 1) / 2.0)


def obstacle_distance(scene: Scene, x: float, y: float, max_height: float = math.inf) -> float:
    """Horizontal distance from (x, y) to the nearest wall or object footprint, metres (negative inside one).

    Args:
        scene: The world.
        x: Point in the world frame.
        y: Point in the world frame.
        max_height: Only objects whose bottom is below this height count (a robot drives under a table top
            that is higher than its body); the walls always count.
    """
    room = scene.room
    best = min(x - room.lo[0], room.hi[0] - x, y - room.lo[1], room.hi[1] - y)
    for box in scene.boxes:
        if box.center[2] - box.size[2] / 2 >= max_height:
            continue
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        dx, dy = x - box.center[0], y - box.center[1]
        # The point in the box's own frame, then its signed distance to the footprint rectangle.
        qx = abs(c * dx + s * dy) - box.size[0] / 2
        qy = abs(-s * dx + c * dy) - box.size[1] / 2
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        best = min(best, outside + min(max(qx, qy), 0.0))
    for cyl in scene.cylinders:
        if cyl.z0 < max_height:
            best = min(best, math.hypot(x - cyl.center[0], y - cyl.center[1]) - cyl.radius)
    return best


def is_free(scene: Scene, x: float, y: float, margin: float) -> bool:
    """Whether a disc of radius ``margin`` at (x, y) is inside the room and touches no object.

    Used to place cameras; the simulator uses :func:`obstacle_distance` for collisions and clearance.
    """
    return obstacle_distance(scene, x, y) >= margin


@dataclass(frozen=True)
class PoseRange:
    """Where random cameras go: a webcam on a mobile robot, mounted about 0.5 m above the floor.

    A monocular metric network reads scale largely from how high the camera sits above the floor; a robot's
    camera mount is fixed, so the training poses keep the height within +-10 cm (see models/MODEL_CARD.md).

    Attributes:
        height: (min, max) camera height above the floor, metres.
        pitch: (min, max) pitch, radians, positive looks down.
        margin: Free radius around the camera, metres.
    """

    height: tuple[float, float] = (0.4, 0.6)
    pitch: tuple[float, float] = (-0.05, 0.15)
    margin: float = 0.3


def sample_pose(scene: Scene, rng: np.random.Generator, pose_range: PoseRange | None = None) -> Pose:
    """A random free camera pose in the scene, looking roughly into the room rather than at a wall.

    A robot mostly looks where it drives, so the heading aims at a random point at least 1.5 m away, with up to
    +-0.6 rad of jitter; after 100 failed tries the camera goes to the room centre.
    """
    pr = pose_range or PoseRange()
    room = scene.room
    z = float(rng.uniform(*pr.height))
    pitch = float(rng.uniform(*pr.pitch))
    jitter = float(rng.uniform(-0.6, 0.6))
    for _ in range(100):
        x = float(rng.uniform(room.lo[0], room.hi[0]))
        y = float(rng.uniform(room.lo[1], room.hi[1]))
        tx = float(rng.uniform(room.lo[0], room.hi[0]))
        ty = float(rng.uniform(room.lo[1], room.hi[1]))
        if math.hypot(tx - x, ty - y) >= 1.5 and is_free(scene, x, y, pr.margin):
            return Pose(x, y, z, math.atan2(ty - y, tx - x) + jitter, pitch)
    return Pose(0.0, 0.0, z, jitter, pitch)


def sample_view(
    seed: int, pose_range: PoseRange | None = None, floor_clutter: float = 0.0, passages: float = 0.0
) -> tuple[Scene, Pose]:
    """The scene and camera pose of sample ``seed`` (what :func:`render_sample` renders).

    Held-out splits use seeds disjoint from the training seeds; the kind cycles so every split has all kinds.
    ``floor_clutter``: the share of samples that get low boxes and thin-legged furniture in front of the camera
    (:mod:`depth_node.evaluation.world_extras`); ``passages``: the share that get a wall across the view with
    one narrow passage. 0 and 0 is the original world, sample for sample.
    """
    if seed < 0:
        raise ValueError(f"sample seed must be >= 0, got {seed}")
    scene = generate_scene(SCENE_KINDS[seed % len(SCENE_KINDS)], seed)
    pose = sample_pose(scene, np.random.default_rng([seed, 9001]), pose_range)
    if floor_clutter > 0.0 and np.random.default_rng([seed, 9003]).random() < floor_clutter:
        from depth_node.evaluation.world_extras import add_floor_clutter  # it builds on this module

        scene = add_floor_clutter(scene, pose, seed)
    if passages > 0.0 and np.random.default_rng([seed, 9006]).random() < passages:
        from depth_node.evaluation.world_extras import add_passage

        scene = add_passage(scene, pose, seed)
    return scene, pose


def render_sample(
    seed: int,
    camera: CameraModel,
    pose_range: PoseRange | None = None,
    floor_clutter: float = 0.0,
    passages: float = 0.0,
) -> Frame:
    """One training/evaluation sample: scene kind, scene and pose all drawn from ``seed`` (see :func:`sample_view`)."""
    scene, pose = sample_view(seed, pose_range, floor_clutter, passages)
    return render(scene, camera, pose)


def bench_world(width: int, height: int, frames: int = 20) -> float:
    """Median frames per second of :func:`render` at one resolution (scene generation not included).

    Args:
        width: Image width.
        height: Image height.
        frames: Frames to time (over a few scenes of every kind).
    """
    if frames < 1:
        raise ValueError(f"bench_world needs frames >= 1, got {frames}")
    camera = camera_for(width, height)
    scenes = [generate_scene(SCENE_KINDS[i % len(SCENE_KINDS)], i) for i in range(min(frames, 8))]
    rng = np.random.default_rng(0)
    poses = [sample_pose(scenes[i % len(scenes)], rng) for i in range(frames)]
    # One warm-up call of frame 0 takes the first-call allocations out of the figure.
    ms = median_ms(lambda i: render(scenes[i % len(scenes)], camera, poses[i]), frames, warmup=1)
    return 1000.0 / ms
