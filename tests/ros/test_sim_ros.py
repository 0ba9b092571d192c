"""``depth-node sim --ros`` end to end: the shipped nodes drive the simulated robot over DDS, in lockstep."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("rclpy")

from depth_node.cli import main
from depth_node.commands.common import build_estimator
from depth_node.depth_params import DepthNodeParams
from depth_node.evaluation.bagio import open_bag
from depth_node.evaluation.scenarios import Scenario
from depth_node.evaluation.sim_suite import SuiteSpec, run_suite
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from depth_node.simulation.runner_node import RosRunner

OPTIONS = SimOptions()
DEPTH = DepthNodeParams(decimation=2)  # what `depth-node sim` uses without --params


def _short(scenario: Scenario) -> Scenario:
    """person_standing with the goal 2 m ahead of the start (short of the person): a few simulated seconds."""
    return dataclasses.replace(scenario, goal=(scenario.start.x + 2.0, scenario.start.y), timeout_s=12.0)


@pytest.fixture(scope="module")
def ros_run(ros_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim_ros")
    spec = SuiteSpec(scenarios=("person_standing",), seeds=(0,), bags="all")
    with RosRunner(out / "ros") as ros:

        def run_one(scenario: Scenario, options: SimOptions, bag: Path | None) -> Any:
            return ros.run(_short(scenario), options, DEPTH, None, bag)

        report = run_suite(spec, out, OPTIONS, None, DEPTH, None, log=print, runner=run_one, transport="ros")
    return out, report


def test_a_short_ros_run_reaches_its_goal_and_writes_its_report_and_bag(ros_run: tuple[Path, dict[str, Any]]) -> None:
    out, report = ros_run
    assert json.loads((out / "report.json").read_text()) == report
    assert (out / "report.html").is_file()
    assert report["transport"] == "ros" and report["success_rate"] == 1.0
    (run,) = report["scenarios"]
    assert run["outcome"] == "goal" and run["transport"] == "ros", run
    assert run["node_exit_codes"] == {"obstacle_avoidance": 0, "depth_node": 0}
    assert run["lockstep_misses"][-1] == 0 and run["blind_ticks"] == 0
    with open_bag(out / run["bag"]) as reader:  # relative to OUT
        counts = {c.topic: c.msgcount for c in reader.connections}
        static = [
            (t.header.frame_id, t.child_frame_id)
            for c, _, raw in reader.messages([c for c in reader.connections if c.topic == "/tf_static"])
            for t in reader.deserialize(raw, c.msgtype).transforms
        ]
    # What crossed the middleware, as the nodes published it.
    for topic in ("/camera/image_raw", "/depth/image_raw", "/depth/points", "/scan", "/obstacles", "/detections"):
        assert counts[topic] == run["frames"], (topic, counts)
    ticks = round(run["time_s"] / 0.05) + 1
    assert counts["/cmd_vel"] == counts["/odom"] == ticks
    assert counts["/goal_pose"] == 1 and counts["/diagnostics"] >= ticks
    assert ("base_link", "camera_color_optical_frame") in static
    assert ("camera_color_optical_frame", "camera_scan") in static


def test_the_graph_gives_the_in_process_result(ros_run: tuple[Path, dict[str, Any]]) -> None:
    """Same scenario, same parameters: the lockstep makes the graph's run the in-process run, tick for tick."""
    from depth_node.evaluation.scenarios import build_scenario

    (run,) = ros_run[1]["scenarios"]
    local = run_scenario(_short(build_scenario("person_standing", 0)), OPTIONS, build_estimator(DEPTH), DEPTH)
    assert (local.outcome, local.frames) == (run["outcome"], run["frames"])
    assert local.time_s == pytest.approx(run["time_s"], abs=1e-9)
    assert local.path_length_m == pytest.approx(run["path_length_m"], abs=1e-3)
    assert local.min_clearance_m == pytest.approx(run["min_clearance_m"], abs=1e-3)


def test_the_ros_bag_replays(ros_run: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    (run,) = ros_run[1]["scenarios"]
    out = tmp_path / "replay"
    bag = str(ros_run[0] / run["bag"])
    argv = ["replay", bag, "--out", str(out), "--image-topic", "/camera/image_raw", "--no-progress"]
    argv += ["--gt-depth-topic", "/camera/depth_gt", "--detections-topic", "/detections"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["frames_processed"] == run["frames"]
    assert report["depth_metrics"]["n_pixels"] > 0


def test_a_replay_of_the_ros_bag_commands_what_the_live_node_commanded(
    ros_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The bag's depth, detections, odometry, goal and parameters through the replay: the live twists, tick by tick."""
    (run,) = ros_run[1]["scenarios"]
    out = tmp_path / "replay"
    argv = ["replay", str(ros_run[0] / run["bag"]), "--out", str(out), "--depth-topic", "/depth/image_raw"]
    assert main([*argv, "--detections-topic", "/detections", "--compare-cmd-vel", "--no-progress"]) == 0
    agreement = json.loads((out / "report.json").read_text())["cmd_vel_agreement"]
    ticks = round(run["time_s"] / 0.05) + 1
    assert agreement["ticks"] == agreement["paired"] == ticks
    assert agreement["fraction"] >= 0.99, agreement


def test_a_bad_step_timeout_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "sim",
        "--scenario",
        "doorway",
        "--seeds",
        "1",
        "--out",
        str(tmp_path / "o"),
        "--ros",
        "--step-timeout",
        "0",
    ]
    assert main(argv) == 2
    assert "--step-timeout must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_node_that_does_not_start_fails_the_run_not_the_suite(ros_env: dict[str, str], tmp_path: Path) -> None:
    from depth_node.evaluation.scenarios import build_scenario

    broken = DepthNodeParams(model_path=str(tmp_path / "missing.onnx"))
    with RosRunner(tmp_path / "ros") as ros:
        result = ros.run(_short(build_scenario("person_standing", 0)), OPTIONS, broken, None, None)
    assert (result.outcome, result.success) == ("no_answer", False)
    assert result.details["node_exit_codes"]["depth_node"] == 2
    assert "depth_node exited (2) while starting the nodes" in result.details["error"]


def test_a_tick_that_decided_on_anything_but_its_own_inputs_is_a_lockstep_miss() -> None:
    from depth_node.simulation.runner_node import _took_this_tick

    t = 1_700_000_000_050_000_000
    good = {"goal": "point 1.000 0.000", "odom_stamp_ns": str(t), "detections_stamp_ns": str(t)}
    good |= {"depth_stamp_ns": str(t), "depth_frames": "2"}
    assert _took_this_tick(good, t, camera_tick=True, blind=False, frames=2)
    for key, value in [
        ("odom_stamp_ns", str(t - 50_000_000)),  # last tick's odometry
        ("detections_stamp_ns", str(t - 100_000_000)),  # last frame's detections
        ("depth_stamp_ns", str(t - 100_000_000)),  # last frame's depth
        ("depth_frames", "3"),  # a frame taken twice
        ("goal", "heading 0.000 rad"),  # the goal never arrived
    ]:
        assert not _took_this_tick({**good, key: value}, t, camera_tick=True, blind=False, frames=2), key
    assert _took_this_tick({**good, "depth_stamp_ns": "1"}, t, camera_tick=True, blind=True, frames=2)
    # With a latency the frame arriving at this tick was captured earlier: its own stamp is what counts.
    late = {**good, "detections_stamp_ns": str(t - 300_000_000), "depth_stamp_ns": str(t - 300_000_000)}
    assert _took_this_tick(late, t, camera_tick=True, blind=False, frames=2, frame_ns=t - 300_000_000)
    assert not _took_this_tick(late, t, camera_tick=True, blind=False, frames=2, frame_ns=t - 250_000_000)


def test_the_ros_bag_records_the_offered_qos(ros_run: tuple[Path, dict[str, Any]]) -> None:
    """``ros2 bag play`` of the run republishes /tf_static latched and the depth outputs as depth_node offers them."""
    from rosbags.interfaces import QosDurability

    from depth_node.evaluation.bagio import rosbags_qos
    from depth_node.offered_qos import offered_qos

    out, report = ros_run
    (run,) = report["scenarios"]
    with open_bag(out / run["bag"]) as reader:
        recorded = {c.topic: list(c.ext.offered_qos_profiles) for c in reader.connections}
    assert recorded["/tf_static"][0].durability == QosDurability.TRANSIENT_LOCAL
    for topic, profiles in recorded.items():
        assert profiles == [rosbags_qos(offered_qos(topic))], topic
