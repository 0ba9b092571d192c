"""The one closed-loop stepper: a world, a robot and the navigation, one control period per step.

Every simulator steps through :func:`run_closed_loop`: the in-process one (:mod:`depth_node.simulation.in_process`),
the ROS 2 graph (:mod:`depth_node.simulation.runner_node`) and the navigation tests' analytic scenes. They
share the schedule and the order of a step, and differ only in how the nodes are reached, the :class:`Link`:
a direct call into the cores, or messages over DDS in lockstep on ``/clock``.

One step at tick ``k`` (time ``t = k * dt``, graph time ``t_ns = start_ns + k * period_ns``):

1. ``link.odometry``: the robot's state at ``t`` (perfect odometry);
2. on a camera tick (every ``control_rate / camera_rate`` ticks) the plant senses the world at ``t``
   (``plant.sense``: render, detect); the frame reaches the nodes ``frame_delay_ticks`` later
   (``link.camera``, stamped with its capture tick): the place for a camera latency;
3. ``link.control``: the nodes' control tick at ``t`` answers a :class:`~depth_node.types.Command`;
4. ``plant.observe`` records the step and may end the run (collision, goal); else ``plant.move`` applies
   the command for one period.

A link that gets no answer raises :class:`NoAnswerError`: the run ends as ``no_answer`` with the reason.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from depth_node.types import Command

S = TypeVar("S")  # the robot's state
F = TypeVar("F")  # what the plant senses at a camera tick
S_contra = TypeVar("S_contra", contravariant=True)
F_contra = TypeVar("F_contra", contravariant=True)
F_co = TypeVar("F_co", covariant=True)

NO_ANSWER = "no_answer"
TIMEOUT = "timeout"


class NoAnswerError(Exception):
    """The nodes did not answer a step (a process died, a message never came)."""


@dataclass(frozen=True)
class Tick:
    """One control period.

    Attributes:
        index: k, from 0.
        t: Seconds since the start, ``k * dt`` (what plants and plots use).
        t_ns: The graph's time, ``start_ns + k * period_ns`` (stamps, /clock, bag times).
    """

    index: int
    t: float
    t_ns: int


@dataclass(frozen=True)
class Schedule:
    """When the control ticks and the camera frames come.

    Attributes:
        control_rate_hz: Rate of the navigation's control tick (one step per tick).
        camera_rate_hz: Rate of the camera (a frame every ``round(control / camera)`` ticks, at least 1).
        start_ns: Graph time of tick 0.
        frame_delay_ticks: Ticks between a frame's capture and its arrival at the nodes (it keeps its capture
            stamp); 0: at once.
    """

    control_rate_hz: float
    camera_rate_hz: float
    start_ns: int = 0
    frame_delay_ticks: int = 0

    @property
    def dt(self) -> float:
        """One control period, s."""
        return 1.0 / self.control_rate_hz

    @property
    def period_ns(self) -> int:
        """One control period, ns."""
        return round(self.dt * 1e9)

    @property
    def frame_every(self) -> int:
        """Ticks per camera frame."""
        return max(1, round(self.control_rate_hz / self.camera_rate_hz))

    def tick(self, k: int) -> Tick:
        """Tick ``k``."""
        return Tick(k, k * self.dt, self.start_ns + k * self.period_ns)

    def camera_tick(self, k: int) -> bool:
        """Whether the camera captures a frame at tick ``k``."""
        return k % self.frame_every == 0

    def ticks_for(self, timeout_s: float) -> int:
        """How many ticks a run of ``timeout_s`` has."""
        return math.ceil(timeout_s / self.dt)


class Link(Protocol[S_contra, F_contra]):
    """How the nodes are reached: a direct call into the cores, or messages over the middleware."""

    def odometry(self, tick: Tick, state: S_contra) -> None:
        """The robot's state at the tick (raises :class:`NoAnswerError` when the nodes are gone)."""

    def camera(self, captured: Tick, frame: F_contra) -> None:
        """A frame captured at ``captured`` reaches the nodes (raises :class:`NoAnswerError`)."""

    def control(self, tick: Tick) -> Command:
        """The nodes' control tick: the command (raises :class:`NoAnswerError`)."""


class Plant(Protocol[S, F_co]):
    """The world and the robot base."""

    def sense(self, tick: Tick, state: S) -> F_co:
        """What the camera (and the detector) see at the tick."""

    def observe(self, tick: Tick, state: S, command: Command) -> str | None:
        """Record the step; an outcome ends the run (``collision``, ``goal``), None goes on."""

    def move(self, state: S, command: Command, dt: float) -> S:
        """The state one period later under the command."""


@dataclass
class LoopResult(Generic[S]):
    """How a run ended.

    Attributes:
        outcome: What :meth:`Plant.observe` ended it with, ``timeout``, or ``no_answer``.
        state: The robot's last state.
        ticks: Steps taken (the one that ended the run included).
        frames: Frames captured.
        blind_ticks: Ticks whose command was blind.
        error: The reason of ``no_answer``, else None.
    """

    outcome: str
    state: S
    ticks: int = 0
    frames: int = 0
    blind_ticks: int = 0
    error: str | None = None


def run_closed_loop(schedule: Schedule, plant: Plant[S, F], link: Link[S, F], start: S, n_ticks: int) -> LoopResult[S]:
    """Step the plant and the nodes for at most ``n_ticks`` ticks (see the module docstring)."""
    result: LoopResult[S] = LoopResult(TIMEOUT, start)
    in_flight: deque[tuple[int, Tick, F]] = deque()  # (arrival tick, capture tick, frame)
    state = start
    for k in range(n_ticks):
        tick = schedule.tick(k)
        try:
            link.odometry(tick, state)
            if schedule.camera_tick(k):
                result.frames += 1
                in_flight.append((k + schedule.frame_delay_ticks, tick, plant.sense(tick, state)))
            while in_flight and in_flight[0][0] <= k:
                _, captured, frame = in_flight.popleft()
                link.camera(captured, frame)
            command = link.control(tick)
        except NoAnswerError as exc:
            result.outcome, result.error = NO_ANSWER, str(exc)
            break
        result.ticks += 1
        result.blind_ticks += command.blind
        outcome = plant.observe(tick, state, command)
        if outcome is not None:
            result.outcome = outcome
            break
        state = plant.move(state, command, schedule.dt)
    result.state = state
    return result
