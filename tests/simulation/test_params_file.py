"""The parameter file of a --ros run: the in-process parameters, written so that ROS reads them back the same."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from depth_node import params as params_mod
from depth_node.depth_params import DepthNodeParams
from depth_node.simulation.params_file import params_document, write_params_file
from depth_node.simulation.processes import GraphError, console_script
from navigation.params import ObstacleAvoidanceParams


def test_the_file_reads_back_as_the_same_parameters(tmp_path: Path) -> None:
    depth = DepthNodeParams(decimation=2, camera_height_m=0.5, camera_pitch_rad=0.05, floor_scale=True)
    nav = ObstacleAvoidanceParams(camera_height_m=0.5, camera_pitch_rad=0.05, robot_radius_m=0.25, kp=2)
    path = write_params_file(tmp_path / "p.yaml", depth, nav, {"stamped": True})
    assert params_mod.load(DepthNodeParams, path, "depth_node") == depth
    # "stamped", the old name of cmd_vel_stamped, still reads (a params file from before the rename).
    assert params_mod.load(ObstacleAvoidanceParams, path, "obstacle_avoidance") == dataclasses.replace(
        nav, cmd_vel_stamped=True
    )
    doc = yaml.safe_load(path.read_text())
    # One camera mount, for both nodes; doubles stay doubles (kp=2 would be an integer override to rclpy).
    assert doc["/**"]["ros__parameters"] == {"camera_height_m": 0.5, "camera_pitch_rad": 0.05}
    assert "camera_height_m" not in doc["depth_node"]["ros__parameters"]
    assert isinstance(doc["obstacle_avoidance"]["ros__parameters"]["kp"], float)
    # rcl's YAML parser refuses an empty list: unset list parameters are left out.
    assert "mean" not in doc["depth_node"]["ros__parameters"]["model"]
    assert not list(tmp_path.glob(".*tmp"))


def test_two_camera_mounts_are_refused() -> None:
    with pytest.raises(ValueError, match="camera mount 'camera_height_m' differs"):
        params_document(DepthNodeParams(camera_height_m=0.4), ObstacleAvoidanceParams(camera_height_m=0.3))


def test_a_missing_console_script_is_named() -> None:
    with pytest.raises(GraphError, match="console script 'no_such_node' not found"):
        console_script("no_such_node")
