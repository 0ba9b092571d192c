"""The launch files' ``lifecycle``, ``lifecycle_autostart``, ``rviz`` and ``foxglove`` arguments, and the view configs.

The launch descriptions are evaluated, not run (as in test_navigation_launch.py); the managed nodes are run
through DDS in tests/ros, and RViz and Foxglove are not installed here, so their configs are checked for what
they show: the topics our nodes publish, in files that parse.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("launch_ros")

from launch.actions import EmitEvent, RegisterEventHandler
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions
from launch_ros.actions import LifecycleNode, Node

from tests.test_navigation_launch import evaluate, nodes

ROOT = Path(__file__).resolve().parents[1]
DEPTH_LAUNCH = ROOT / "launch" / "depth_node.launch.py"
NAV_LAUNCH = ROOT / "launch" / "navigation.launch.py"


def arguments(path: Path, monkeypatch: pytest.MonkeyPatch, launch: Path, **values: str) -> dict[str, list[str]]:
    """executable -> the command-line arguments (before --ros-args) of each node the launch file starts."""
    context, chosen = evaluate(path, monkeypatch, launch, **values)
    return {
        n.node_executable: [
            perform_substitutions(context, normalize_to_list_of_substitutions(a)) for a in n._Node__arguments or []
        ]
        for n in chosen
        if isinstance(n, Node)
    }


SHOWN = {"/depth/image_raw", "/depth/points", "/scan", "/markers", "/camera/color/image_raw"}


@pytest.mark.parametrize("launch", [DEPTH_LAUNCH, NAV_LAUNCH], ids=["depth_node", "navigation"])
def test_plain_nodes_by_default_managed_ones_with_lifecycle(
    launch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = nodes(tmp_path / "a", monkeypatch, launch)
    assert plain and not any(isinstance(n, LifecycleNode) for n in plain.values())
    assert all("--managed" not in a for a in arguments(tmp_path / "c", monkeypatch, launch).values())
    managed = nodes(tmp_path / "b", monkeypatch, launch, lifecycle="true")
    assert sorted(managed) == sorted(plain)  # the same nodes, now managed
    ours = [n for n in managed.values() if n.node_executable in ("depth_node", "obstacle_avoidance")]
    assert ours and all(isinstance(n, LifecycleNode) for n in ours)
    given = arguments(tmp_path / "d", monkeypatch, launch, lifecycle="true")
    assert all(given[n.node_executable][0] == "--managed" for n in ours)


def test_autostart_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def events(path: Path, **arguments: str) -> int:
        _, chosen = evaluate(path, monkeypatch, NAV_LAUNCH, **arguments)
        return sum(isinstance(e, (EmitEvent, RegisterEventHandler)) for e in chosen)

    assert events(tmp_path / "a", lifecycle="true") == 0  # left to nav2_lifecycle_manager
    assert events(tmp_path / "b", lifecycle="false", lifecycle_autostart="true") == 0
    assert events(tmp_path / "c", lifecycle="true", lifecycle_autostart="true") == 4  # configure + activate, x2
    with_detector = {"lifecycle": "true", "lifecycle_autostart": "true", "detector_model": "/m.onnx"}
    assert events(tmp_path / "d", **with_detector) == 6
    assert isinstance(nodes(tmp_path / "e", monkeypatch, NAV_LAUNCH, **with_detector)["detector"], LifecycleNode)


def test_rviz_and_foxglove_start_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "rviz2" not in nodes(tmp_path / "a", monkeypatch, NAV_LAUNCH)
    started = arguments(tmp_path / "b", monkeypatch, NAV_LAUNCH, rviz="true", foxglove="true")
    share = tmp_path / "b" / "prefix" / "share" / "depth_node"
    assert started["rviz2"] == ["-d", str(share / "config" / "depth_node.rviz")]
    assert "foxglove_bridge" in started
    own = arguments(tmp_path / "c", monkeypatch, DEPTH_LAUNCH, rviz="1", rviz_config="/mine.rviz")
    assert own["rviz2"] == ["-d", "/mine.rviz"]


def test_rviz_config_shows_every_output() -> None:
    doc = yaml.safe_load((ROOT / "config" / "depth_node.rviz").read_text(encoding="utf-8"))
    displays = doc["Visualization Manager"]["Displays"]
    topics = {d["Topic"]["Value"] for d in displays if "Topic" in d}
    assert SHOWN | {"/obstacles", "/depth/colored"} <= topics
    assert {d["Class"] for d in displays} >= {"rviz_default_plugins/TF", "rviz_default_plugins/PointCloud2"}
    goal = [t for t in doc["Visualization Manager"]["Tools"] if t["Class"] == "rviz_default_plugins/SetGoal"]
    assert goal[0]["Topic"]["Value"] == "/goal_pose"  # what obstacle_avoidance takes goals on


def test_foxglove_layout_shows_every_output() -> None:
    layout = json.loads((ROOT / "config" / "depth_node.foxglove.json").read_text(encoding="utf-8"))
    configs = layout["configById"]
    topics = set(configs["3D!depthnode"]["topics"])
    topics |= {c["imageMode"]["imageTopic"] for key, c in configs.items() if key.startswith("Image!")}
    assert SHOWN | {"/obstacles"} <= topics

    def leaves(node: object) -> set[str]:
        if isinstance(node, str):
            return {node}
        assert isinstance(node, dict)
        return leaves(node["first"]) | leaves(node["second"])

    assert leaves(layout["layout"]) == set(configs)  # every panel configured is placed, and only those
