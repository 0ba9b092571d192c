"""The procedural world: determinism, exact geometry, the pinhole projection of boxes, the benchmark."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth_node.evaluation.world import (
    SCENE_KINDS,
    Box,
    Cylinder,
    Lighting,
    Material,
    Pose,
    Room,
    Scene,
    bench_world,
    camera_for,
    generate_scene,
    is_free,
    render,
    render_sample,
    sample_pose,
)
from depth_node.evaluation.world_scene import periodic_noise

# Odd sizes put the principal point exactly on a pixel centre: (80, 60).
CAM = camera_for(161, 121)


def empty_room(boxes: tuple[Box, ...] = (), cylinders: tuple[Cylinder, ...] = ()) -> Scene:
    """A 10 x 6 x 3 m room, x in [-5, 5], y in [-3, 3]."""
    mats = (
        Material("tiles", (0.5, 0.5, 0.5), (0.2, 0.2, 0.2), 0.5),
        Material("plain", (0.8, 0.2, 0.2), (0.8, 0.2, 0.2), 1.0),
    )
    light = Lighting(0.4, (0.0, 0.0, 1.0), 0.4, (0.0, 0.0, 2.9), 0.5, 0.1, (1.0, 1.0, 1.0))
    room = Room((-5.0, -3.0, 0.0), (5.0, 3.0, 3.0), (0, 0, 0, 0, 0, 0))
    noise = periodic_noise(np.random.default_rng(0))
    return Scene("room", 0, room, boxes, cylinders, mats, light, noise)


def test_wall_depth_on_optical_axis_is_exact() -> None:
    frame = render(empty_room(), CAM, Pose(0.0, 0.0, 1.0))
    assert frame.depth[60, 80] == pytest.approx(5.0, abs=1e-5)
    # z-depth, not ray length: every pixel of the wall row reads the same 5 m.
    np.testing.assert_allclose(frame.depth[60, 40:121], 5.0, atol=1e-5)


def test_yaw_turns_left_and_pitch_looks_down() -> None:
    left = render(empty_room(), CAM, Pose(0.0, 0.0, 1.0, yaw=math.pi / 2))
    assert left.depth[60, 80] == pytest.approx(3.0, abs=1e-5)  # the +y wall
    down = render(empty_room(), CAM, Pose(0.0, 0.0, 1.0, pitch=0.5))
    assert down.depth[60, 80] == pytest.approx(1.0 / math.sin(0.5), abs=1e-4)  # the floor


def test_box_projects_where_the_pinhole_model_says() -> None:
    box = Box((3.5, 0.0, 1.0), (1.0, 1.0, 1.0), 0.0, 1, 7, "box")
    frame = render(empty_room(boxes=(box,)), CAM, Pose(0.0, 0.0, 1.0))
    # Front face x = 3 m: optical x = -y, optical y = -(z - 1), z = 3.
    u_left, v_top = CAM.project([[-0.5, -0.5, 3.0]])[0]
    u_right, v_bottom = CAM.project([[0.5, 0.5, 3.0]])[0]
    assert len(frame.boxes) == 1
    label, x0, y0, x1, y1 = frame.boxes[0]
    assert label == "box"
    assert abs(x0 - math.ceil(u_left)) <= 1 and abs((x1 - 1) - math.floor(u_right)) <= 1
    assert abs(y0 - math.ceil(v_top)) <= 1 and abs((y1 - 1) - math.floor(v_bottom)) <= 1
    assert frame.depth[60, 80] == pytest.approx(3.0, abs=1e-5)
    assert frame.instance[60, 80] == 7 and frame.instance[0, 0] == -1


def test_cylinder_front_is_radius_before_its_axis() -> None:
    person = Cylinder((2.0, 0.0), 0.0, 1.8, 0.25, 1, 3, "person")
    frame = render(empty_room(cylinders=(person,)), CAM, Pose(0.0, 0.0, 1.0))
    assert frame.depth[60, 80] == pytest.approx(1.75, abs=1e-4)
    assert [b[0] for b in frame.boxes] == ["person"]


def test_occluded_object_gets_no_box() -> None:
    front = Box((2.0, 0.0, 1.0), (0.2, 3.0, 2.0), 0.0, 1, 1, None)  # a wall segment, unlabelled
    hidden = Box((4.0, 0.0, 1.0), (0.5, 0.5, 0.5), 0.0, 1, 2, "box")
    frame = render(empty_room(boxes=(front, hidden)), CAM, Pose(0.0, 0.0, 1.0))
    assert frame.boxes == ()


def test_nothing_hit_is_nan() -> None:
    frame = render(empty_room(), CAM, Pose(20.0, 0.0, 1.0))  # outside the room, looking away from it
    assert np.isnan(frame.depth).all()
    assert (frame.rgb == 0).all()


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_scenes_and_renders_are_deterministic(kind: str) -> None:
    a, b = generate_scene(kind, 11), generate_scene(kind, 11)
    assert a.boxes == b.boxes and a.cylinders == b.cylinders and a.materials == b.materials
    np.testing.assert_array_equal(a.noise, b.noise)
    pose = sample_pose(a, np.random.default_rng(1))
    assert is_free(a, pose.x, pose.y, 0.2)
    fa, fb = render(a, CAM, pose), render(b, CAM, pose)
    np.testing.assert_array_equal(fa.rgb, fb.rgb)
    np.testing.assert_array_equal(fa.depth, fb.depth)
    assert fa.rgb.dtype == np.uint8 and fa.rgb.shape == (121, 161, 3)
    assert fa.depth.dtype == np.float32 and np.isfinite(fa.depth).all()  # closed rooms: every ray hits


def test_render_sample_differs_between_seeds() -> None:
    a, b = render_sample(1, camera_for(32, 24)), render_sample(2, camera_for(32, 24))
    assert not np.array_equal(a.depth, b.depth)
    np.testing.assert_array_equal(a.depth, render_sample(1, camera_for(32, 24)).depth)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scene kind 'cave'"):
        generate_scene("cave", 0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        generate_scene("room", -1)
    with pytest.raises(ValueError, match="frames >= 1"):
        bench_world(16, 12, 0)


def test_bench_world_reports_frames_per_second() -> None:
    assert bench_world(32, 24, frames=3) > 0.0
