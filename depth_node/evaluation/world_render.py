"""Vectorised numpy ray caster for :mod:`depth_node.evaluation.world_scene` scenes.

Rays are cast with an optical-frame direction of (x/z, y/z, 1), so the ray parameter t at a hit *is* the depth
along the optical axis (what a depth camera reports), not the ray length. Each primitive is only intersected with
the pixels inside its projected screen rectangle, which keeps small objects cheap at 640x480.

The geometry pass stores per pixel the nearest t and a *surface code* (an index into flat per-face tables:
material, normal, instance); the shading pass then looks everything up at once instead of writing several
arrays per object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.evaluation.world_scene import PATTERNS, Box, Cylinder, Scene

F32 = npt.NDArray[np.float32]
_NEAR = 0.02  # hits closer than this (metres along the optical axis) are ignored


@dataclass(frozen=True)
class Pose:
    """A camera pose in the world frame (REP-103: x forward, y left, z up).

    Attributes:
        x: Camera centre, metres.
        y: Camera centre, metres.
        z: Camera height above the floor, metres.
        yaw: Heading about +z, radians (0 looks along +x, positive turns left).
        pitch: Rotation about the camera's left axis, radians; positive looks *down* (REP-103 right-hand rule).
    """

    x: float
    y: float
    z: float
    yaw: float = 0.0
    pitch: float = 0.0

    @property
    def position(self) -> npt.NDArray[np.float64]:
        """Camera centre as a 3-vector."""
        return np.array([self.x, self.y, self.z], dtype=np.float64)

    def world_from_optical(self) -> npt.NDArray[np.float64]:
        """Rotation taking optical-frame vectors (z forward, x right, y down) into the world frame."""
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        world_from_body = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]]) @ np.array(
            [[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]]
        )
        # Columns: optical x (right) = -body y, optical y (down) = -body z, optical z (forward) = body x.
        body_from_optical = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
        return world_from_body @ body_from_optical


@dataclass(frozen=True, eq=False)
class Frame:
    """One rendered view.

    Attributes:
        rgb: uint8 (H, W, 3), RGB order.
        depth: float32 (H, W), metres along the optical axis; NaN where no surface is hit.
        boxes: Visible labelled objects as (class_name, x0, y0, x1, y1) in pixels, x1/y1 exclusive.
        instance: int32 (H, W) object id per pixel, -1 for the room shell and for misses.
    """

    rgb: npt.NDArray[np.uint8]
    depth: F32
    boxes: tuple[tuple[str, int, int, int, int], ...]
    instance: npt.NDArray[np.int32]


class _Tables:
    """Flat per-surface tables: code -> material, normal, instance, cylinder data."""

    def __init__(self) -> None:
        self.material: list[int] = []
        self.normal: list[tuple[float, float, float]] = []
        self.instance: list[int] = []
        self.cyl: list[tuple[float, float, float]] = []  # (cx, cy, r) for cylinder sides, r = 0 otherwise
        self.offset: list[float] = []  # n . p on a planar face (its plane equation), 0 for cylinder sides

    def add(
        self,
        material: int,
        normal: tuple[float, float, float],
        instance: int,
        offset: float = 0.0,
        cyl: tuple[float, ...] = (0, 0, 0),
    ) -> int:
        self.offset.append(float(offset))
        self.material.append(material)
        self.normal.append(normal)
        self.instance.append(instance)
        self.cyl.append((float(cyl[0]), float(cyl[1]), float(cyl[2])))
        return len(self.material) - 1


def _window(
    corners: npt.NDArray[np.float64], rot: npt.NDArray[np.float64], origin: F32, cam: CameraModel
) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (u0, v0, u1, v1) covering world points, the full image when some are behind the camera."""
    opt = (corners - origin) @ rot  # rows: optical-frame coordinates
    z = opt[:, 2]
    if np.all(z <= _NEAR):
        return None
    if np.any(z <= _NEAR):
        return 0, 0, cam.width, cam.height
    u = cam.fx * opt[:, 0] / z + cam.cx
    v = cam.fy * opt[:, 1] / z + cam.cy
    u0, u1 = max(math.floor(u.min()) - 1, 0), min(math.ceil(u.max()) + 2, cam.width)
    v0, v1 = max(math.floor(v.min()) - 1, 0), min(math.ceil(v.max()) + 2, cam.height)
    if u0 >= u1 or v0 >= v1:
        return None
    return u0, v0, u1, v1


def _room_pass(scene: Scene, o: F32, d: list[F32], tab: _Tables) -> tuple[F32, npt.NDArray]:
    """Exit distance of every ray from the room box and the code of the face it leaves through.

    The room is seen from inside only: a camera outside it sees none of its faces (they are one-sided).
    """
    room = scene.room
    best_t = np.full(d[0].shape, np.inf, dtype=np.float32)
    code = np.full(d[0].shape, -1, dtype=np.int32)
    if not all(room.lo[i] <= o[i] <= room.hi[i] for i in range(3)):
        return best_t, code
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in range(3):
            lo_code = tab.add(room.materials[2 * axis], _unit(axis, 1.0), -1, room.lo[axis])
            hi_code = tab.add(room.materials[2 * axis + 1], _unit(axis, -1.0), -1, -room.hi[axis])
            da = d[axis]
            bound = np.where(da > 0, np.float32(room.hi[axis]), np.float32(room.lo[axis]))
            t = (bound - o[axis]) / da
            t[~(np.abs(da) > 0) | ~(t > _NEAR)] = np.inf
            closer = t < best_t
            best_t[closer] = t[closer]
            code[closer] = np.where(da[closer] > 0, hi_code, lo_code)
    return best_t, code


def _unit(axis: int, sign: float) -> tuple[float, float, float]:
    v = [0.0, 0.0, 0.0]
    v[axis] = sign
    return (v[0], v[1], v[2])


def _box_hit(box: Box, o: F32, d: list[F32], tab: _Tables) -> tuple[F32, npt.NDArray]:
    """Slab test in the box's own frame; returns t (inf on a miss) and the code of the entry face."""
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    rel = o - np.asarray(box.center, dtype=np.float32)
    lo_local = (c * rel[0] + s * rel[1], -s * rel[0] + c * rel[1], rel[2])
    dl = (c * d[0] + s * d[1], -s * d[0] + c * d[1], d[2])
    t_near = np.full(d[0].shape, -np.inf, dtype=np.float32)
    t_far = np.full(d[0].shape, np.inf, dtype=np.float32)
    face = np.zeros(d[0].shape, dtype=np.int32)
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in range(3):
            half = box.size[axis] / 2
            inv = np.float32(1.0) / dl[axis]
            t1 = (-half - lo_local[axis]) * inv
            t2 = (half - lo_local[axis]) * inv
            tmin, tmax = np.minimum(t1, t2), np.maximum(t1, t2)
            # A ray parallel to a slab: inside it -> (-inf, inf) stays; outside -> NaN here, caught below.
            entering = tmin > t_near
            t_near = np.where(entering, tmin, t_near)
            face = np.where(entering, axis * 2 + (dl[axis] < 0), face)
            t_far = np.minimum(t_far, tmax)
    hit = (t_near <= t_far) & (t_near > _NEAR)
    t = np.where(hit, t_near, np.float32(np.inf)).astype(np.float32)
    codes = np.empty(6, dtype=np.int32)
    for axis in range(3):
        for positive in (0, 1):
            n_local = [0.0, 0.0, 0.0]
            n_local[axis] = 1.0 if positive else -1.0
            normal = (c * n_local[0] - s * n_local[1], s * n_local[0] + c * n_local[1], n_local[2])
            offset = sum(normal[i] * box.center[i] for i in range(3)) + box.size[axis] / 2
            codes[axis * 2 + positive] = tab.add(box.material, normal, box.instance, offset)
    return t, codes[face]


def _cylinder_hit(cyl: Cylinder, o: F32, d: list[F32], tab: _Tables) -> tuple[F32, npt.NDArray]:
    """Side (quadratic in x, y) and top cap of a vertical cylinder."""
    ox, oy = o[0] - np.float32(cyl.center[0]), o[1] - np.float32(cyl.center[1])
    a = d[0] * d[0] + d[1] * d[1]
    b = 2.0 * (ox * d[0] + oy * d[1])
    cc = ox * ox + oy * oy - cyl.radius**2
    disc = b * b - 4.0 * a * cc
    with np.errstate(divide="ignore", invalid="ignore"):
        t_side = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
        z = o[2] + t_side * d[2]
        side_ok = (disc >= 0) & (a > 0) & (t_side > _NEAR) & (z >= cyl.z0) & (z <= cyl.z1)
        t = np.where(side_ok, t_side, np.inf).astype(np.float32)
        side_code = tab.add(cyl.material, (0.0, 0.0, 0.0), cyl.instance, cyl=(cyl.center[0], cyl.center[1], cyl.radius))
        codes = np.full(t.shape, side_code, dtype=np.int32)
        if o[2] > cyl.z1:
            t_top = ((cyl.z1 - o[2]) / d[2]).astype(np.float32)
            px, py = ox + t_top * d[0], oy + t_top * d[1]
            top_ok = (t_top > _NEAR) & (px * px + py * py <= cyl.radius**2) & (t_top < t)
            top_code = tab.add(cyl.material, (0.0, 0.0, 1.0), cyl.instance, cyl.z1)
            t = np.where(top_ok, t_top, t)
            codes[top_ok] = top_code
    return t, codes


def _box_corners(box: Box) -> npt.NDArray[np.float64]:
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    hx, hy, hz = (v / 2 for v in box.size)
    pts = []
    for sx in (-hx, hx):
        for sy in (-hy, hy):
            for sz in (-hz, hz):
                pts.append((box.center[0] + c * sx - s * sy, box.center[1] + s * sx + c * sy, box.center[2] + sz))
    return np.asarray(pts)


def _cyl_corners(cyl: Cylinder) -> npt.NDArray[np.float64]:
    r = cyl.radius
    return np.asarray(
        [(cyl.center[0] + sx, cyl.center[1] + sy, z) for sx in (-r, r) for sy in (-r, r) for z in (cyl.z0, cyl.z1)]
    )


def _pattern(kind: str, u: F32, v: F32, scale: F32, noise: F32) -> F32:
    """Mix factor in [0, 1] between a material's two colours; ``noise`` is the noise texture at (u, v)."""
    fu, fv = u / scale, v / scale
    if kind == "tiles":
        gu, gv = fu - np.floor(fu), fv - np.floor(fv)
        grout = (gu < 0.06) | (gv < 0.06)
        return np.where(grout, np.float32(1.0), 0.25 * noise).astype(np.float32)
    if kind == "wood":
        return (0.5 + 0.5 * np.sin(2.0 * math.pi * (fu * 3.0 + 2.0 * noise))).astype(np.float32)
    if kind == "stripes":
        return ((fu - np.floor(fu)) < 0.5).astype(np.float32)
    if kind == "checker":
        return ((np.floor(fu) + np.floor(fv)) % 2).astype(np.float32)
    if kind == "noise":
        return noise
    return 0.3 * noise


def _code_table(scene: Scene, tab: _Tables) -> F32:
    """Everything shading needs per surface code, one row each, so one gather serves all pixels.

    Columns: colour a (3), colour b (3), pattern scale, sun term, lamp term numerator, texture axis, pattern id.
    On a plane n . (lamp - p) = n . lamp - offset is constant, so both light terms are per code; cylinder sides
    (radial normals) are fixed up per pixel afterwards.
    """
    light = scene.lighting
    mats = scene.materials
    rows = []
    for mat_id, n, off in zip(tab.material, tab.normal, tab.offset, strict=True):
        m = mats[mat_id]
        an = [abs(c) for c in n]
        # Texture axes across the face's dominant normal axis: 2 -> (x, y), 0 -> (y, z), 1 -> (x, z).
        axis = 2 if an[2] >= an[0] and an[2] >= an[1] else (0 if an[0] >= an[1] else 1)
        sun = max(sum(n[i] * light.sun_dir[i] for i in range(3)), 0.0)
        lamp = max(sum(n[i] * light.lamp[i] for i in range(3)) - off, 0.0)
        rows.append((*m.color_a, *m.color_b, m.scale, sun, lamp, axis, PATTERNS.index(m.pattern)))
    return np.asarray(rows, dtype=np.float32)


def _shade(scene: Scene, o: F32, d: list[F32], t: F32, code: npt.NDArray, tab: _Tables) -> F32:
    """Albedo from the material pattern times ambient + directional + lamp light (with falloff)."""
    hit = code >= 0
    if not hit.any():
        return np.zeros((*t.shape, 3), dtype=np.float32)
    safe_code = np.maximum(code, 0)
    safe_t = np.where(hit, t, np.float32(0.0))
    p = [o[i] + safe_t * d[i] for i in range(3)]
    table = _code_table(scene, tab)
    px = np.take(table, safe_code, axis=0)
    sun, lamp_num, axis = px[..., 7], px[..., 8], px[..., 9]
    light = scene.lighting
    cyl = np.asarray(tab.cyl, dtype=np.float32)
    side_codes = np.nonzero(cyl[:, 2] > 0)[0]
    if side_codes.size:
        # Cylinder sides: the normal is radial, from the axis to the hit point.
        side = np.isin(code, side_codes)
        sc = code[side]
        r = cyl[sc, 2]
        sx, sy = p[0][side], p[1][side]
        nx, ny = (sx - cyl[sc, 0]) / r, (sy - cyl[sc, 1]) / r
        sun[side] = np.maximum(nx * light.sun_dir[0] + ny * light.sun_dir[1], 0.0)
        lamp_num[side] = np.maximum(nx * (light.lamp[0] - sx) + ny * (light.lamp[1] - sy), 0.0)
        axis[side] = np.where(np.abs(nx) >= np.abs(ny), np.float32(0.0), np.float32(1.0))
    u = np.where(axis == 0, p[1], p[0])
    v = np.where(axis == 2, p[1], p[2])
    size = scene.noise.shape[0]  # a power of two: & (size - 1) is a wrap-around modulo, negatives included
    flat = ((v * 8.0).astype(np.int64) & (size - 1)) * size + ((u * 8.0).astype(np.int64) & (size - 1))
    noise = np.take(scene.noise.reshape(-1), flat)
    pattern_px = px[..., 10]
    mix = np.zeros(t.shape, dtype=np.float32)
    scale = px[..., 6]
    for pid in np.unique(table[:, 10]):
        sel = pattern_px == pid
        mix[sel] = _pattern(PATTERNS[int(pid)], u[sel], v[sel], scale[sel], noise[sel])
    to_lamp = [np.float32(light.lamp[i]) - p[i] for i in range(3)]
    dist2 = to_lamp[0] * to_lamp[0] + to_lamp[1] * to_lamp[1] + to_lamp[2] * to_lamp[2] + np.float32(1e-6)
    lamp = lamp_num / np.sqrt(dist2) / (1.0 + light.falloff * dist2)
    shade = light.ambient + light.sun * sun + light.lamp_power * lamp
    shade *= 0.85 + 0.3 * noise  # low-frequency dirt so plain surfaces are not perfectly flat
    shade[~hit] = 0.0
    rgb = np.empty((*t.shape, 3), dtype=np.float32)
    for ch in range(3):
        a, b = px[..., ch], px[..., 3 + ch]
        rgb[..., ch] = (a + (b - a) * mix) * shade * (light.tint[ch] * 255.0)
    return rgb


def render(scene: Scene, camera: CameraModel, pose: Pose, *, min_box_pixels: int = 12) -> Frame:
    """Render RGB, exact z-depth, per-pixel instances and the 2-D boxes of visible labelled objects.

    Args:
        scene: The world.
        camera: Pinhole intrinsics (any resolution).
        pose: Camera pose in the world frame.
        min_box_pixels: Objects with fewer visible pixels get no box (a detector would not see them either).
    """
    rot = pose.world_from_optical()
    o = pose.position.astype(np.float32)
    # Optical-frame ray (x/z, y/z, 1) per pixel, rotated into the world: built from 1-D rows and columns.
    gx = ((np.arange(camera.width) - camera.cx) / camera.fx).astype(np.float32)[None, :]
    gy = ((np.arange(camera.height) - camera.cy) / camera.fy).astype(np.float32)[:, None]
    d = [gx * np.float32(rot[i, 0]) + (gy * np.float32(rot[i, 1]) + np.float32(rot[i, 2])) for i in range(3)]
    tab = _Tables()
    t, code = _room_pass(scene, o, d, tab)
    windows: dict[int, list[tuple[int, int, int, int]]] = {}
    prims: list[tuple[Any, npt.NDArray[np.float64], Callable[..., tuple[F32, npt.NDArray[Any]]]]]
    prims = [(b, _box_corners(b), _box_hit) for b in scene.boxes]
    prims += [(c, _cyl_corners(c), _cylinder_hit) for c in scene.cylinders]
    for prim, corners, hit_fn in prims:
        win = _window(corners, rot, o, camera)
        if win is None:
            continue
        u0, v0, u1, v1 = win
        sub_d = [di[v0:v1, u0:u1] for di in d]
        t_obj, c_obj = hit_fn(prim, o, sub_d, tab)
        t_win, code_win = t[v0:v1, u0:u1], code[v0:v1, u0:u1]
        closer = t_obj < t_win
        t_win[closer] = t_obj[closer]
        code_win[closer] = c_obj[closer]
        windows.setdefault(prim.instance, []).append(win)
    rgb = _shade(scene, o, d, t, code, tab)
    instance = np.asarray([*tab.instance, -1], dtype=np.int32)[code]  # code -1 picks the trailing -1
    depth = np.where(np.isfinite(t) & (code >= 0), t, np.nan).astype(np.float32)
    boxes = _boxes(scene, instance, windows, min_box_pixels)
    out = np.clip(rgb, 0.0, 255.0).astype(np.uint8)
    return Frame(rgb=out, depth=depth, boxes=boxes, instance=instance)


def _boxes(
    scene: Scene, instance: npt.NDArray[np.int32], windows: dict[int, list[tuple[int, int, int, int]]], min_px: int
) -> tuple[tuple[str, int, int, int, int], ...]:
    """Tight pixel boxes of the visible part of each labelled object (occlusion included)."""
    out = []
    for inst, label in sorted(scene.labels().items()):
        wins = windows.get(inst)
        if not wins:
            continue
        u0, v0 = min(w[0] for w in wins), min(w[1] for w in wins)
        u1, v1 = max(w[2] for w in wins), max(w[3] for w in wins)
        vs, us = np.nonzero(instance[v0:v1, u0:u1] == inst)
        if vs.size < min_px:
            continue
        out.append((label, int(us.min() + u0), int(vs.min() + v0), int(us.max() + u0 + 1), int(vs.max() + v0 + 1)))
    return tuple(out)
