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
    assert set(section) == {f.name for f in dataclasses.fields(ObstacleAvoidanceParams)}
    loaded = load(ObstacleAvoidanceParams, CONFIG, "obstacle_avoidance")
    assert loaded == ObstacleAvoidanceParams()


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
