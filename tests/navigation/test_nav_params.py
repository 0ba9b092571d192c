"""ObstacleAvoidanceParams: the issue's names, ROS-typed values, the YAML file, refusals that name the parameter."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from depth_node.errors import ParameterError
from depth_node.params import describe, from_mapping, load
from navigation.params import ObstacleAvoidanceParams

CONFIG = Path(__file__).resolve().parents[2] / "config" / "obstacle_avoidance.yaml"

ISSUE_NAMES = (
    "camera_height_m",
    "camera_pitch_rad",
    "goal_heading_rad",
    "target_class",
    "target_standoff_m",
    "max_linear_speed",
    "max_angular_speed",
    "stop_distance_m",
    "slow_distance_m",
    "robot_radius_m",
    "safety_margin_m",
    "input_timeout_s",
    "control_rate_hz",
    "cmd_vel_stamped",
)


def test_every_issue_name_is_a_parameter() -> None:
    names = {info.name for info in describe(ObstacleAvoidanceParams)}
    assert set(ISSUE_NAMES) <= names


def test_defaults_are_ros_parameter_types() -> None:
    scalar = (bool, int, float, str)
    for info in describe(ObstacleAvoidanceParams):
        assert info.description, info.name
        if info.kind is tuple:
            assert info.default and all(isinstance(v, scalar) for v in info.default), info.name
        else:
            assert isinstance(info.default, scalar), info.name
            assert isinstance(info.default, info.kind), info.name


def test_yaml_lists_every_field_and_loads_to_the_defaults() -> None:
    section = yaml.safe_load(CONFIG.read_text())["/**/obstacle_avoidance"]["ros__parameters"]
    # every parameter (the dataclass's fields are groups by the part that reads them; the names stay flat)
    assert set(section) == {info.name for info in describe(ObstacleAvoidanceParams)}
    # 56 + squeeze_margin_m, squeeze_speed (#23), base_frame, frame_prefix (#24) + autostart,
    # latency_compensation, detection_stamp_tolerance_s (#26) + commit_s, commit_switch_m, commit_reach_m,
    # commit_follow_m, commit_follow_hold_s, stall_turn_rad_s, plan_squeeze_cost_m (#23, navigation/commit.py)
    # + footprint_window, footprint_min_points, footprint_min_height_m (#23, navigation/footprint.py)
    # + plan_hold_unseen_m (#23, navigation/local_plan.py) + look_once_s (#23, navigation/heading.py)
    # + detection_obstacles, detection_obstacle_classes (#23, navigation/detected.py)
    assert len(set(section)) == 77
    loaded = load(ObstacleAvoidanceParams, CONFIG, "obstacle_avoidance")
    assert loaded == ObstacleAvoidanceParams()


def test_groups_keep_flat_names_flat_construction_and_flat_reads() -> None:
    p = ObstacleAvoidanceParams(kp=2.0, max_linear_speed=0.3)
    assert (p.pid.kp, p.kp, p.speed.max_linear_speed, p.max_linear_speed) == (2.0, 2.0, 0.3, 0.3)
    assert (
        dataclasses.replace(p, ki=0.5)
        == p.with_values(ki=0.5)
        == ObstacleAvoidanceParams(kp=2.0, max_linear_speed=0.3, ki=0.5)
    )
    assert dataclasses.replace(p, ki=0.5).pid.ki == 0.5 and p.pid.ki == ObstacleAvoidanceParams().ki
    with pytest.raises(TypeError, match="max_speed"):
        ObstacleAvoidanceParams(max_speed=1.0)
    with pytest.raises(AttributeError, match="max_speed"):
        _ = p.max_speed
    with pytest.raises(ParameterError, match="stop_distance_m"):
        p.with_values(stop_distance_m=5.0)
    # every parameter sits in exactly one group, under its own name
    names = [info.name for info in describe(ObstacleAvoidanceParams)]
    assert len(names) == len(set(names)) and "." not in "".join(names)
    groups = {f.name: {g.name for g in dataclasses.fields(getattr(p, f.name))} for f in dataclasses.fields(p)}
    assert sorted(n for g in groups.values() for n in g) == sorted(names)
    assert {"kp", "ki", "kd"} == groups["pid"]


def test_yaml_with_overrides() -> None:
    p = load(ObstacleAvoidanceParams, CONFIG, "obstacle_avoidance", {"target_class": "person", "kp": 2})
    assert p.target_class == "person"
    assert p.kp == 2.0
    assert isinstance(p.kp, float)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"stop_distance_m": 2.0, "slow_distance_m": 1.0}, "stop_distance_m"),
        ({"person_stop_distance_m": 3.0}, "person_stop_distance_m"),
        ({"obstacle_min_height_m": 0.9}, "obstacle_min_height_m"),
        ({"detector_width": 640}, "detector_height"),
        ({"camera_height_m": -1.0}, "camera_height_m"),
        ({"box_margin": 0.6}, "box_margin"),
        ({"stamped": "yes"}, "stamped"),
        ({"max_speed": 1.0}, "max_speed"),
    ],
)
def test_invalid_values_are_refused_by_name(values: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        from_mapping(ObstacleAvoidanceParams, values)


def test_goal_heading_is_unset_by_default_and_checked_when_set() -> None:
    import math

    assert math.isnan(ObstacleAvoidanceParams().goal_heading_rad)  # no goal that means "drive straight"
    assert from_mapping(ObstacleAvoidanceParams, {"goal_heading_rad": float("nan")}) == ObstacleAvoidanceParams()
    assert from_mapping(ObstacleAvoidanceParams, {"goal_heading_rad": 0.0}).goal_heading_rad == 0.0
    with pytest.raises(ParameterError, match="'goal_heading_rad': 4.0 is above the maximum"):
        from_mapping(ObstacleAvoidanceParams, {"goal_heading_rad": 4.0})
