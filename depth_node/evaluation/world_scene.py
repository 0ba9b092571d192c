"""Procedural indoor scenes: rooms, corridors, doorways and clutter made of boxes and cylinders.

A :class:`Scene` is plain data (primitives with materials and class labels, the lighting, a periodic noise
texture), so the renderer, the simulator and the tests read the same geometry. Everything is drawn from one
``numpy.random.Generator`` seeded by the caller: the same ``(kind, seed)`` gives the same scene on every machine.

World frame: REP-103, x forward, y left, z up, metres; the floor is z = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

SCENE_KINDS = ("room", "corridor", "doorway", "clutter")
PATTERNS = ("plain", "tiles", "wood", "noise", "stripes", "checker")
NOISE_SIZE = 64

Color = tuple[float, float, float]
Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Material:
    """A surface: a pattern mixing two colours, with the pattern period in metres.

    Attributes:
        pattern: One of :data:`PATTERNS`.
        color_a: Base colour, linear RGB in [0, 1].
        color_b: Second colour (grout, grain, stripe).
        scale: Pattern period in metres (tile size, stripe width...).
    """

    pattern: str
    color_a: Color
    color_b: Color
    scale: float


@dataclass(frozen=True)
class Box:
    """A box standing upright, rotated by ``yaw`` about the vertical axis through its centre.

    Attributes:
        center: Centre (x, y, z), metres.
        size: Full extents along the box's own x, y, z.
        yaw: Rotation about z, radians.
        material: Index into :attr:`Scene.materials`.
        instance: Object id shared by the parts of one object (a table's top and legs).
        label: Class name of the object, or None for structure (partition walls) that gets no 2-D box.
    """

    center: Vec3
    size: Vec3
    yaw: float
    material: int
    instance: int
    label: str | None


@dataclass(frozen=True)
class Cylinder:
    """A vertical cylinder from ``z0`` to ``z1`` (people, pillars, bins).

    Attributes:
        center: Axis position (x, y), metres.
        z0: Bottom height.
        z1: Top height.
        radius: Radius, metres.
        material: Index into :attr:`Scene.materials`.
        instance: Object id shared by the parts of one object.
        label: Class name, or None.
    """

    center: tuple[float, float]
    z0: float
    z1: float
    radius: float
    material: int
    instance: int
    label: str | None


@dataclass(frozen=True)
class Room:
    """The inside of an axis-aligned box: floor, ceiling and four walls.

    Attributes:
        lo: Minimum corner (x, y, z); z is 0 (the floor).
        hi: Maximum corner; z is the ceiling height.
        materials: Material index of the faces -x, +x, -y, +y, floor, ceiling.
    """

    lo: Vec3
    hi: Vec3
    materials: tuple[int, int, int, int, int, int]


@dataclass(frozen=True)
class Lighting:
    """Ambient light, one directional light and one ceiling lamp with distance falloff.

    Attributes:
        ambient: Ambient intensity.
        sun_dir: Unit vector pointing toward the directional light.
        sun: Directional intensity.
        lamp: Lamp position (x, y, z).
        lamp_power: Lamp intensity at distance 0.
        falloff: Lamp intensity divides by 1 + falloff * distance**2.
        tint: RGB colour of the light.
    """

    ambient: float
    sun_dir: Vec3
    sun: float
    lamp: Vec3
    lamp_power: float
    falloff: float
    tint: Color


@dataclass(frozen=True, eq=False)
class Scene:
    """One procedural world: geometry, materials, light and the noise texture the materials sample.

    Attributes:
        kind: The generator used (one of :data:`SCENE_KINDS`).
        seed: The seed it was generated from.
        room: The enclosing room.
        boxes: Box primitives.
        cylinders: Cylinder primitives.
        materials: Materials referenced by index.
        lighting: The light.
        noise: Periodic smooth noise, ``NOISE_SIZE`` square, values in [0, 1].
    """

    kind: str
    seed: int
    room: Room
    boxes: tuple[Box, ...]
    cylinders: tuple[Cylinder, ...]
    materials: tuple[Material, ...]
    lighting: Lighting
    noise: npt.NDArray[np.float32] = field(repr=False)

    def labels(self) -> dict[int, str]:
        """Instance id -> class name of every labelled object."""
        out: dict[int, str] = {}
        prims: tuple[Box | Cylinder, ...] = (*self.boxes, *self.cylinders)
        for prim in prims:
            if prim.label is not None:
                out[prim.instance] = prim.label
        return out


def periodic_noise(rng: np.random.Generator, size: int = NOISE_SIZE) -> npt.NDArray[np.float32]:
    """Smooth noise that tiles seamlessly (1/f spectrum), so textures can wrap without visible seams."""
    freq = np.fft.fftfreq(size)[:, None] ** 2 + np.fft.rfftfreq(size)[None, :] ** 2
    amplitude = 1.0 / np.maximum(np.sqrt(freq) * size, 1.0) ** 1.6
    amplitude[0, 0] = 0.0
    phase = rng.uniform(0.0, 2.0 * math.pi, amplitude.shape)
    img = np.fft.irfft2(amplitude * np.exp(1j * phase), s=(size, size))
    img = (img - img.min()) / max(float(np.ptp(img)), 1e-9)
    return img.astype(np.float32)


class _Builder:
    """Accumulates primitives and materials while a generator lays out one scene."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.materials: list[Material] = []
        self.boxes: list[Box] = []
        self.cylinders: list[Cylinder] = []
        self.next_instance = 0
        # Footprints (x, y, radius) of what stands on the floor, to keep objects and cameras apart.
        self.footprints: list[tuple[float, float, float]] = []

    def color(self, lo: float = 0.1, hi: float = 0.95) -> Color:
        c = self.rng.uniform(lo, hi, 3)
        grey = self.rng.uniform(lo, hi)
        mix = self.rng.uniform(0.3, 1.0)  # desaturate: indoor colours are mostly muted
        out = mix * grey + (1.0 - mix) * c
        return (float(out[0]), float(out[1]), float(out[2]))

    def material(self, patterns: tuple[str, ...] = PATTERNS, scale: tuple[float, float] = (0.2, 1.0)) -> int:
        pattern = str(self.rng.choice(patterns))
        a = self.color()
        b = tuple(float(np.clip(v * self.rng.uniform(0.4, 1.3), 0.0, 1.0)) for v in a)
        self.materials.append(Material(pattern, a, (b[0], b[1], b[2]), float(self.rng.uniform(*scale))))
        return len(self.materials) - 1

    def instance(self) -> int:
        self.next_instance += 1
        return self.next_instance - 1

    def box(self, center: Vec3, size: Vec3, yaw: float, material: int, instance: int, label: str | None) -> None:
        self.boxes.append(Box(center, size, yaw, material, instance, label))

    def free(self, x: float, y: float, r: float) -> bool:
        return all(math.hypot(x - fx, y - fy) > r + fr for fx, fy, fr in self.footprints)

    def place(self, lo: Vec3, hi: Vec3, r: float, tries: int = 20) -> tuple[float, float] | None:
        if hi[0] - lo[0] <= 2 * r or hi[1] - lo[1] <= 2 * r:
            return None  # does not fit (a wide table in a narrow corridor)
        for _ in range(tries):
            x = float(self.rng.uniform(lo[0] + r, hi[0] - r))
            y = float(self.rng.uniform(lo[1] + r, hi[1] - r))
            if self.free(x, y, r):
                self.footprints.append((x, y, r))
                return x, y
        return None


def _add_furniture(b: _Builder, lo: Vec3, hi: Vec3, count: int) -> None:
    """Tables (top + legs), cabinets and loose boxes, at random places that do not overlap."""
    rng = b.rng
    for _ in range(count):
        kind = str(rng.choice(("table", "cabinet", "box", "box")))
        if kind == "table":
            w, d, h = rng.uniform(0.8, 1.8), rng.uniform(0.6, 1.0), rng.uniform(0.6, 0.8)
        elif kind == "cabinet":
            w, d, h = rng.uniform(0.5, 1.5), rng.uniform(0.35, 0.6), rng.uniform(0.8, 2.0)
        else:
            w, d, h = rng.uniform(0.25, 0.8), rng.uniform(0.25, 0.8), rng.uniform(0.2, 0.9)
        spot = b.place(lo, hi, 0.5 * math.hypot(w, d))
        if spot is None:
            continue
        x, y = spot
        yaw = float(rng.uniform(-math.pi, math.pi)) if rng.random() < 0.6 else 0.0
        mat = b.material(("wood", "plain", "noise", "stripes"), (0.05, 0.4))
        inst = b.instance()
        if kind == "table":
            b.box((x, y, h - 0.03), (w, d, 0.06), yaw, mat, inst, "table")
            c, s = math.cos(yaw), math.sin(yaw)
            for sx in (-1, 1):
                for sy in (-1, 1):
                    lx, ly = sx * (w / 2 - 0.06), sy * (d / 2 - 0.06)
                    leg = (x + c * lx - s * ly, y + s * lx + c * ly, (h - 0.06) / 2)
                    b.box(leg, (0.06, 0.06, h - 0.06), yaw, mat, inst, "table")
        else:
            b.box((x, y, h / 2), (w, d, h), yaw, mat, inst, kind)
        if kind == "box" and rng.random() < 0.3:  # a box stacked on a box
            top = (0.7 * w, 0.7 * d, rng.uniform(0.15, 0.5))
            b.box((x, y, h + top[2] / 2), top, yaw + rng.uniform(-0.5, 0.5), mat, b.instance(), "box")


def _add_cylinders(b: _Builder, lo: Vec3, hi: Vec3, people: int, pillars: int) -> None:
    """Standing people (body and head) and pillars from floor to ceiling."""
    rng = b.rng
    for _ in range(people):
        r = float(rng.uniform(0.18, 0.28))
        spot = b.place(lo, hi, r + 0.1)
        if spot is None:
            continue
        height = float(rng.uniform(1.5, 1.9))
        inst = b.instance()
        body = b.material(("plain", "stripes", "noise", "checker"), (0.05, 0.3))
        b.cylinders.append(Cylinder(spot, 0.0, height - 0.25, r, body, inst, "person"))
        skin = b.material(("plain",), (0.1, 0.2))
        b.cylinders.append(Cylinder(spot, height - 0.25, height, 0.11, skin, inst, "person"))
    for _ in range(pillars):
        r = float(rng.uniform(0.12, 0.35))
        spot = b.place(lo, hi, r)
        if spot is None:
            continue
        mat = b.material(("plain", "noise", "tiles"), (0.1, 0.5))
        b.cylinders.append(Cylinder(spot, 0.0, hi[2], r, mat, b.instance(), "pillar"))


def _lighting(rng: np.random.Generator, lo: Vec3, hi: Vec3) -> Lighting:
    sun = rng.normal(size=3)
    sun[2] = abs(sun[2]) + 0.3
    sun /= np.linalg.norm(sun)
    lamp = (
        float(rng.uniform(lo[0], hi[0])),
        float(rng.uniform(lo[1], hi[1])),
        float(hi[2] - 0.1),
    )
    warm = rng.uniform(-0.12, 0.12)
    return Lighting(
        ambient=float(rng.uniform(0.25, 0.5)),
        sun_dir=(float(sun[0]), float(sun[1]), float(sun[2])),
        sun=float(rng.uniform(0.2, 0.6)),
        lamp=lamp,
        lamp_power=float(rng.uniform(0.3, 1.2)),
        falloff=float(rng.uniform(0.05, 0.3)),
        tint=(float(1.0 + warm), 1.0, float(1.0 - warm)),
    )


def generate_scene(kind: str, seed: int) -> Scene:
    """Build a scene of the given kind, deterministically from ``seed``.

    Args:
        kind: ``room`` (furniture, a few people), ``corridor`` (long and narrow), ``doorway`` (a room split by a
            partition wall with a door gap), or ``clutter`` (many objects).
        seed: Any non-negative integer; the same (kind, seed) always gives the same scene.

    Raises:
        ValueError: an unknown kind or a negative seed.
    """
    if kind not in SCENE_KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; known: {', '.join(SCENE_KINDS)}")
    if seed < 0:
        raise ValueError(f"scene seed must be >= 0, got {seed}")
    rng = np.random.default_rng([seed, SCENE_KINDS.index(kind)])
    b = _Builder(rng)
    height = float(rng.uniform(2.4, 3.2))
    if kind == "corridor":
        length, width = float(rng.uniform(7.0, 12.0)), float(rng.uniform(1.6, 3.0))
    else:
        length, width = float(rng.uniform(3.5, 8.5)), float(rng.uniform(3.5, 8.5))
    lo: Vec3 = (-length / 2, -width / 2, 0.0)
    hi: Vec3 = (length / 2, width / 2, height)
    wall = b.material(("plain", "noise", "stripes", "tiles"), (0.3, 1.5))
    other_wall = wall if rng.random() < 0.6 else b.material(("plain", "noise", "stripes"), (0.3, 1.5))
    floor = b.material(("tiles", "wood", "checker", "noise", "plain"), (0.2, 0.8))
    ceiling = b.material(("plain", "tiles", "noise"), (0.4, 1.2))
    room = Room(lo, hi, (wall, wall, other_wall, other_wall, floor, ceiling))
    # Keep a free zone around the origin: that is where cameras are placed (see sample_pose).
    b.footprints.append((0.0, 0.0, 0.6))
    inner_lo: Vec3 = (lo[0] + 0.1, lo[1] + 0.1, 0.0)
    inner_hi: Vec3 = (hi[0] - 0.1, hi[1] - 0.1, height)
    if kind == "doorway":
        _add_partition(b, lo, hi)
    if kind in {"room", "doorway"}:
        _add_furniture(b, inner_lo, inner_hi, int(rng.integers(2, 7)))
        _add_cylinders(b, inner_lo, inner_hi, int(rng.integers(0, 3)), int(rng.integers(0, 2)))
    elif kind == "corridor":
        _add_furniture(b, inner_lo, inner_hi, int(rng.integers(0, 4)))
        _add_cylinders(b, inner_lo, inner_hi, int(rng.integers(0, 4)), int(rng.integers(0, 3)))
    else:
        _add_furniture(b, inner_lo, inner_hi, int(rng.integers(6, 13)))
        _add_cylinders(b, inner_lo, inner_hi, int(rng.integers(1, 5)), int(rng.integers(0, 3)))
    return Scene(
        kind=kind,
        seed=seed,
        room=room,
        boxes=tuple(b.boxes),
        cylinders=tuple(b.cylinders),
        materials=tuple(b.materials),
        lighting=_lighting(rng, lo, hi),
        noise=periodic_noise(rng),
    )


def _add_partition(b: _Builder, lo: Vec3, hi: Vec3) -> None:
    """A wall across the room at some x with a door gap: two wall boxes and a lintel above the gap."""
    rng = b.rng
    x = float(rng.uniform(0.35, 0.7) * hi[0]) * (1 if rng.random() < 0.5 else -1)
    thick = 0.12
    door_w, door_h = float(rng.uniform(0.8, 1.4)), float(min(rng.uniform(2.0, 2.3), hi[2]))
    gap_y = float(rng.uniform(lo[1] + door_w, hi[1] - door_w))
    mat = b.material(("plain", "noise", "stripes"), (0.3, 1.5))
    inst = b.instance()
    left = (gap_y + door_w / 2, hi[1])
    right = (lo[1], gap_y - door_w / 2)
    for y0, y1 in (left, right):
        if y1 - y0 > 0.01:
            b.box((x, (y0 + y1) / 2, hi[2] / 2), (thick, y1 - y0, hi[2]), 0.0, mat, inst, None)
    lintel = hi[2] - door_h
    b.box((x, gap_y, door_h + lintel / 2), (thick, door_w, lintel), 0.0, mat, inst, None)
    for y in np.linspace(lo[1], hi[1], 12):  # keep the partition itself clear of furniture
        if abs(y - gap_y) > door_w / 2:
            b.footprints.append((x, float(y), 0.2))
