"""The controller configurations of the README's clutter table are reachable by parameters and run a scene."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from depth_node import params as params_mod
from depth_node.evaluation.scenarios import build_scenario
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from navigation.params import ObstacleAvoidanceParams

CONFIG = Path(__file__).resolve().parents[1] / "config"
ORACLE = SimOptions(depth="oracle", width=96, height=72)


def _load(name: str) -> ObstacleAvoidanceParams:
    return params_mod.load(ObstacleAvoidanceParams, CONFIG / name, "obstacle_avoidance")


def test_the_paper_pid_is_memory_off_plan_off_and_everything_else_default() -> None:
    paper, default = _load("controller_paper_pid.yaml"), ObstacleAvoidanceParams()
    assert (paper.memory_s, paper.plan_window_m) == (0.0, 0.0)
    assert (paper.kp, paper.ki, paper.kd) == (default.kp, default.ki, default.kd)
    memory = _load("controller_memory.yaml")
    assert memory.memory_s > 0.0 and memory.plan_window_m == 0.0
    # Our additions are off in both baselines (no squeezing) and on by default ("+ everything").
    for baseline in (paper, memory):
        assert baseline.squeeze_margin_m == baseline.safety_margin_m
        assert not baseline.footprint_window
        assert (baseline.commit_s, baseline.commit_follow_m, baseline.stall_turn_rad_s) == (0.0, 0.0, 0.0)
        assert baseline.look_once_s == 0.0
        assert baseline.plan_hold_unseen_m == 0.0
        assert not baseline.detection_obstacles
    assert default.squeeze_margin_m < default.safety_margin_m
    assert default.footprint_window and default.detection_obstacles and "box" in default.detection_obstacle_classes
    assert min(default.commit_s, default.commit_follow_m, default.stall_turn_rad_s, default.look_once_s) > 0.0
    assert default.memory_s > 0.0 and default.plan_window_m > 0.0 and default.plan_hold_unseen_m > 0.0


@pytest.mark.parametrize("config", ["controller_paper_pid.yaml", "controller_memory.yaml"])
def test_the_baselines_run_a_scene_and_never_plan(config: str) -> None:
    """A run of person_standing reaches the goal by the PID on the gap heading alone: no tick in mode 'plan'."""
    scenario = build_scenario("person_standing", 0)
    result = run_scenario(scenario, ORACLE, None, nav_params=_load(config))
    assert result.outcome == "goal" and not result.collision, result.summary()
    modes = set(result.trace.mode)
    assert "plan" not in modes and "goal" in modes, modes
    assert all(math.isfinite(a) for a, m in zip(result.trace.aim, result.trace.mode, strict=True) if m == "goal")


def test_a_failed_run_shows_what_the_controller_believed(tmp_path: Path) -> None:
    """A run cut short (2 s: a timeout) gets a failure figure with the controller's scan, window and headings."""
    from dataclasses import replace

    from depth_node.evaluation.sim_suite import SuiteSpec, run_suite

    def short(scenario, options, bag):  # type: ignore[no-untyped-def]
        return run_scenario(replace(scenario, timeout_s=2.0), options, None, bag=bag)

    report = run_suite(
        SuiteSpec(("doorway",), (0,), bags="none"), tmp_path, ORACLE, None, runner=short, log=lambda _: None
    )
    (run,) = report["scenarios"]
    assert run["outcome"] == "timeout" and not run["success"]
    page = (tmp_path / "report.html").read_text()
    assert "What failed" in page and 'id="failure-doorway-0-oracle"' in page
    assert "sim_fail_doorway_0_oracle.png" in page and (tmp_path / "sim_fail_doorway_0_oracle.png").stat().st_size > 0
    assert 'href="#failure-doorway-0-oracle"' in page  # the runs table links the run to it
    # What the figure draws: snapshots every 2 s and at the end, with the scan's returns in the world frame.
    result = short(build_scenario("doorway", 0), ORACLE, None)
    beliefs = result.trace.beliefs
    assert [round(b.t, 2) for b in beliefs] == [0.0, round(result.trace.t[-1], 2)]
    assert beliefs[-1].scan.shape[1] == 2 and beliefs[-1].scan.shape[0] > 0
    assert len(result.trace.aim) == len(result.trace.t)
