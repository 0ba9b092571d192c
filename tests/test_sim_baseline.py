"""The controller configurations of the README's clutter table are reachable by parameters and run a scene."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from depth_node import params as params_mod
from depth_node.evaluation.scenarios import build_scenario
from depth_node.evaluation.sim import SimOptions, run_scenario
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


@pytest.mark.parametrize("config", ["controller_paper_pid.yaml", "controller_memory.yaml"])
def test_the_baselines_run_a_scene_and_never_plan(config: str) -> None:
    """A run of person_standing reaches the goal by the PID on the gap heading alone: no tick in mode 'plan'."""
    scenario = build_scenario("person_standing", 0)
    result = run_scenario(scenario, ORACLE, None, nav_params=_load(config))
    assert result.outcome == "goal" and not result.collision, result.summary()
    modes = set(result.trace.mode)
    assert "plan" not in modes and "goal" in modes, modes
    assert all(math.isfinite(a) for a, m in zip(result.trace.aim, result.trace.mode, strict=True) if m == "goal")
