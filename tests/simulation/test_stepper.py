"""The one closed-loop stepper: the order of a step, the camera schedule, frame delay, how a run ends."""

from __future__ import annotations

import pytest

from depth_node.simulation.stepper import NO_ANSWER, TIMEOUT, NoAnswerError, Schedule, Tick, run_closed_loop
from depth_node.types import Command


class _Plant:
    """A robot on a line: the state is x; it senses its x; ends at ``stop_at``."""

    def __init__(self, stop_at: float = 1e9) -> None:
        self.stop_at = stop_at
        self.log: list[str] = []

    def sense(self, tick: Tick, x: float) -> float:
        self.log.append(f"sense {tick.index}")
        return x

    def observe(self, tick: Tick, x: float, command: Command) -> str | None:
        self.log.append(f"observe {tick.index}")
        return "goal" if x >= self.stop_at else None

    def move(self, x: float, command: Command, dt: float) -> float:
        return x + command.linear_x * dt


class _Link:
    def __init__(self, plant: _Plant, fail_at: int | None = None) -> None:
        self.log = plant.log
        self.fail_at = fail_at
        self.frames: list[tuple[int, float]] = []

    def odometry(self, tick: Tick, x: float) -> None:
        self.log.append(f"odometry {tick.index}")

    def camera(self, captured: Tick, frame: float) -> None:
        self.log.append(f"camera {captured.index}")
        self.frames.append((captured.t_ns, frame))

    def control(self, tick: Tick) -> Command:
        if tick.index == self.fail_at:
            raise NoAnswerError("no cmd_vel")
        self.log.append(f"control {tick.index}")
        return Command(1.0, 0.0, blind=tick.index == 0, reason="")


def test_a_step_feeds_odometry_then_the_frame_then_ticks_and_the_camera_runs_at_its_rate() -> None:
    schedule = Schedule(control_rate_hz=20.0, camera_rate_hz=10.0, start_ns=1_000)
    assert (schedule.frame_every, schedule.period_ns, schedule.ticks_for(0.21)) == (2, 50_000_000, 5)
    plant = _Plant()
    link = _Link(plant)
    result = run_closed_loop(schedule, plant, link, 0.0, 3)
    assert plant.log == [
        "odometry 0",
        "sense 0",
        "camera 0",
        "control 0",
        "observe 0",
        "odometry 1",
        "control 1",
        "observe 1",
        "odometry 2",
        "sense 2",
        "camera 2",
        "control 2",
        "observe 2",
    ]
    assert (result.outcome, result.ticks, result.frames, result.blind_ticks) == (TIMEOUT, 3, 2, 1)
    assert link.frames == [(1_000, 0.0), (1_000 + 100_000_000, pytest.approx(0.1))]
    assert result.state == pytest.approx(0.15)


def test_a_delayed_frame_arrives_later_with_its_capture_stamp() -> None:
    plant = _Plant()
    link = _Link(plant)
    run_closed_loop(Schedule(10.0, 10.0, frame_delay_ticks=2), plant, link, 0.0, 4)
    assert [entry for entry in plant.log if entry.startswith("camera")] == ["camera 0", "camera 1"]
    assert plant.log.index("camera 0") > plant.log.index("odometry 2")


def test_the_plant_ends_a_run_and_a_missing_answer_is_no_answer() -> None:
    plant = _Plant(stop_at=0.25)
    result = run_closed_loop(Schedule(10.0, 10.0), plant, _Link(plant), 0.0, 100)
    assert (result.outcome, result.ticks) == ("goal", 4) and result.state == pytest.approx(0.3)
    plant = _Plant()
    result = run_closed_loop(Schedule(10.0, 10.0), plant, _Link(plant, fail_at=2), 0.0, 100)
    assert (result.outcome, result.ticks, result.error) == (NO_ANSWER, 2, "no cmd_vel")
