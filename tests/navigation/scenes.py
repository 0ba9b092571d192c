"""Synthetic scenes for the navigation tests: analytic ray casting of a floor and axis-aligned boxes.

World frame: x forward, y left, z up, floor at z = 0. The robot stands at (x, y) with heading yaw; the
camera is above the robot's origin at ``height``, pitched down by ``pitch``. A depth pixel is the
distance along the optical axis, so the ray through pixel (u, v) is scaled to unit optical z and the
ray parameter t of a hit *is* the depth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.frames import level_from_optical
from depth_node.simulation.stepper import Schedule, Tick, run_closed_loop
from depth_node.types import Command, Detection2D
from navigation.controller import Controller


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the world, metres; ``label`` is its detector class ('' = undetected)."""

    x0: float
    x1: float
    y0: float
    y1: float
    z0: float = 0.0
    z1: float = 0.6
    label: str = ""


@dataclass(frozen=True)
class Pose:
    """Robot pose in the world."""

    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0


def camera(width: int = 160, height: int = 120, hfov_deg: float = 77.3) -> CameraModel:
    """A centred pinhole camera with square pixels."""
    fx = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    return CameraModel(width, height, fx, fx, (width - 1) / 2.0, (height - 1) / 2.0)


def _ray_directions(
    cam: CameraModel, pose: Pose, pitch: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    grid = cam.ray_grid().astype(np.float64)
    bx, by, down = level_from_optical(grid[..., 0], grid[..., 1], 1.0, pitch)
    bz = -down
    cy, sy = math.cos(pose.yaw), math.sin(pose.yaw)
    return cy * bx - sy * by, sy * bx + cy * by, bz


def render_depth(
    cam: CameraModel,
    boxes: Sequence[Box] = (),
    pose: Pose = Pose(),
    height: float = 0.3,
    pitch: float = 0.1,
    floor: bool = True,
    background: float = math.nan,
) -> npt.NDArray[np.float32]:
    """Depth (metres along the optical axis, float32) of a floor and boxes; ``background`` where nothing is hit."""
    dx, dy, dz = _ray_directions(cam, pose, pitch)
    origin = (pose.x, pose.y, height)
    depth = np.full(dx.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        if floor:
            t = np.where(dz < 0.0, -height / dz, np.inf)
            depth = np.minimum(depth, t)
        for box in boxes:
            t_near = np.full(dx.shape, -np.inf)
            t_far = np.full(dx.shape, np.inf)
            for o, d, lo, hi in zip(
                origin, (dx, dy, dz), (box.x0, box.y0, box.z0), (box.x1, box.y1, box.z1), strict=True
            ):
                t1, t2 = (lo - o) / d, (hi - o) / d
                parallel = d == 0.0
                outside = parallel & ((o < lo) | (o > hi))
                t1 = np.where(parallel, -np.inf, t1)
                t2 = np.where(parallel, np.inf, t2)
                t_near = np.maximum(t_near, np.minimum(t1, t2))
                t_far = np.minimum(t_far, np.maximum(t1, t2))
                t_far = np.where(outside, -np.inf, t_far)
            hit = (t_far >= t_near) & (t_near > 0.0)
            depth = np.where(hit, np.minimum(depth, t_near), depth)
    depth = np.where(np.isinf(depth), background, depth)
    return depth.astype(np.float32)


def world_to_optical(points: npt.ArrayLike, pose: Pose, height: float, pitch: float) -> npt.NDArray[np.float64]:
    """World points (..., 3) in the camera optical frame (x right, y down, z forward)."""
    p = np.asarray(points, dtype=np.float64)
    cy, sy = math.cos(pose.yaw), math.sin(pose.yaw)
    wx, wy = p[..., 0] - pose.x, p[..., 1] - pose.y
    bx, by, bz = cy * wx + sy * wy, -sy * wx + cy * wy, p[..., 2] - height
    c, s = math.cos(pitch), math.sin(pitch)
    return np.stack((-by, -bx * s - bz * c, bx * c - bz * s), axis=-1)


def detect(
    cam: CameraModel, boxes: Sequence[Box], pose: Pose, height: float = 0.3, pitch: float = 0.1, score: float = 0.9
) -> list[Detection2D]:
    """A perfect detector: the clipped image bounding box of each labelled box fully in front of the camera."""
    found = []
    for box in boxes:
        if not box.label:
            continue
        corners = np.array([[x, y, z] for x in (box.x0, box.x1) for y in (box.y0, box.y1) for z in (box.z0, box.z1)])
        opt = world_to_optical(corners, pose, height, pitch)
        if np.any(opt[:, 2] <= 0.05):
            continue
        uv = cam.project(opt)
        u0, v0 = np.clip(uv.min(axis=0), -0.5, (cam.width - 0.5, cam.height - 0.5))
        u1, v1 = np.clip(uv.max(axis=0), -0.5, (cam.width - 0.5, cam.height - 0.5))
        if u1 - u0 < 2.0 or v1 - v0 < 2.0:
            continue
        found.append(Detection2D((u0 + u1) / 2, (v0 + v1) / 2, u1 - u0, v1 - v0, box.label, score))
    return found


@dataclass(frozen=True)
class Trace:
    """One closed-loop run: the pose before each step and the command it produced."""

    poses: list[Pose]
    commands: list[Command]


class _Scene:
    """The analytic scene as the stepper's plant: render and detect, trace, and move a plain unicycle."""

    def __init__(self, controller: Controller, boxes: Sequence[Box], cam: CameraModel) -> None:
        self.params, self.boxes, self.cam = controller.params, boxes, cam
        self.poses: list[Pose] = []
        self.commands: list[Command] = []

    def sense(self, tick: Tick, pose: Pose) -> tuple[npt.NDArray[np.float32], list[Detection2D]]:
        p = self.params
        depth = render_depth(self.cam, self.boxes, pose, p.camera_height_m, p.camera_pitch_rad)
        return depth, detect(self.cam, self.boxes, pose, p.camera_height_m, p.camera_pitch_rad)

    def observe(self, tick: Tick, pose: Pose, command: Command) -> str | None:
        self.poses.append(pose)
        self.commands.append(command)
        return None

    def move(self, pose: Pose, command: Command, dt: float) -> Pose:
        yaw = pose.yaw + command.angular_z * dt
        x, y = pose.x + command.linear_x * dt * math.cos(yaw), pose.y + command.linear_x * dt * math.sin(yaw)
        return Pose(x, y, yaw)


class _ControllerLink:
    """The controller reached directly, stamps in seconds since the start; odometry gives the yaw only."""

    def __init__(self, controller: Controller, cam: CameraModel) -> None:
        self.controller, self.cam = controller, cam

    def odometry(self, tick: Tick, pose: Pose) -> None:
        self.controller.update_odometry(tick.t, pose.yaw)

    def camera(self, captured: Tick, sensed: tuple[npt.NDArray[np.float32], list[Detection2D]]) -> None:
        depth, detections = sensed
        self.controller.update_depth(captured.t, depth, self.cam)
        self.controller.update_detections(captured.t, detections)

    def control(self, tick: Tick) -> Command:
        return self.controller.step(tick.t)


def simulate(
    controller: Controller,
    boxes: Sequence[Box],
    start: Pose,
    steps: int,
    cam: CameraModel | None = None,
    rate_hz: float = 10.0,
) -> Trace:
    """Drive a unicycle with the controller through the simulators' stepper: render, detect, feed odometry, step,
    integrate (a camera frame every tick)."""
    cam = cam or camera()
    scene = _Scene(controller, boxes, cam)
    run_closed_loop(Schedule(rate_hz, rate_hz), scene, _ControllerLink(controller, cam), start, steps)
    return Trace(scene.poses, scene.commands)


def distance_to_box(x: float, y: float, box: Box) -> float:
    """Horizontal distance from a point to a box's footprint (0 inside)."""
    dx = max(box.x0 - x, 0.0, x - box.x1)
    dy = max(box.y0 - y, 0.0, y - box.y1)
    return math.hypot(dx, dy)
