"""launch/navigation.launch.py: ``detector_model`` starts the detector onto obstacle_avoidance's detections topic.

The launch description is evaluated, not run: each Node's condition and remappings are performed in a
LaunchContext holding the launch arguments. Skipped without launch_ros (a ROS 2 install or its sources).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("launch_ros")

from launch.actions import DeclareLaunchArgument
from launch_ros.actions import Node

from launch import LaunchContext

LAUNCH = Path(__file__).resolve().parents[1] / "launch" / "navigation.launch.py"


def evaluate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launch: Path = LAUNCH, **arguments: str
) -> tuple[LaunchContext, list[Any]]:
    """The launch file's entities whose condition holds with these arguments, and the context holding them."""
    prefix = tmp_path / "prefix"
    marker = prefix / "share" / "ament_index" / "resource_index" / "packages" / "depth_node"
    marker.parent.mkdir(parents=True)
    marker.touch()
    (prefix / "share" / "depth_node").mkdir()
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    spec = importlib.util.spec_from_file_location(launch.stem.replace(".", "_"), launch)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    context = LaunchContext()
    for entity in description.entities:
        if isinstance(entity, DeclareLaunchArgument):
            default = entity.default_value
            context.launch_configurations[entity.name] = "".join(s.perform(context) for s in default or [])
    context.launch_configurations.update(arguments)
    chosen = [e for e in description.entities if e.condition is None or e.condition.evaluate(context)]
    return context, chosen


def nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launch: Path = LAUNCH, **arguments: str) -> dict[str, Any]:
    """The nodes the launch file starts with these arguments: executable -> performed Node."""
    context, entities = evaluate(tmp_path, monkeypatch, launch, **arguments)
    started = {}
    for entity in entities:
        if isinstance(entity, Node):
            entity._perform_substitutions(context)
            started[entity.node_executable] = entity
    return started


def test_no_detector_without_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sorted(nodes(tmp_path, monkeypatch)) == ["depth_node", "obstacle_avoidance"]


def test_detector_model_starts_the_detector_onto_the_navigation_detections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = nodes(tmp_path, monkeypatch, detector_model="/models/yolo11n.onnx", detections="/robot/detections")
    assert sorted(started) == ["depth_node", "detector", "obstacle_avoidance"]
    detector = dict(started["detector"]._Node__expanded_remappings)
    navigation = dict(started["obstacle_avoidance"]._Node__expanded_remappings)
    assert detector["detections"] == navigation["detections"] == "/robot/detections"
    assert detector["image_raw"] == dict(started["depth_node"]._Node__expanded_remappings)["image_raw"]
    # The parameters go to the node as files: the YAML path, then the launch's own dict written out.
    files = [Path(path).read_text() for path, _ in started["detector"]._Node__expanded_parameter_arguments]
    assert any("model_path: /models/yolo11n.onnx" in text for text in files), files


def test_frame_prefix_and_stamped_cmd_vel_reach_obstacle_avoidance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two robots in one graph: robot1's frames are robot1/odom, robot1/base_link, robot1/camera_scan."""
    import yaml

    runs = iter(range(10))

    def launch_params(**arguments: str) -> dict[str, Any]:
        node = nodes(tmp_path / str(next(runs)), monkeypatch, **arguments)["obstacle_avoidance"]
        merged: dict[str, Any] = {}
        for path, _ in node._Node__expanded_parameter_arguments:  # the params files, then the launch's own dicts
            if Path(path).is_file():
                for section in yaml.safe_load(Path(path).read_text()).values():
                    merged.update(section["ros__parameters"])
        return merged

    default = launch_params()
    assert default["frame_prefix"] == "" and default["cmd_vel_stamped"] is False
    given = launch_params(frame_prefix="robot1/", cmd_vel_stamped="true")
    assert given["frame_prefix"] == "robot1/" and given["cmd_vel_stamped"] is True
