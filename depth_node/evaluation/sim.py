"""The closed-loop simulator: render the camera, run the depth core and obstacle_avoidance, move the robot.

Each control tick (``control_rate_hz``, 20 Hz by default) the robot's commanded twist is integrated by the
unicycle model; each camera frame (``camera_rate_hz``) the procedural world is rendered from the robot's
pose and goes through exactly what runs on the robot: :class:`depth_node.processing.DepthFrameProcessor`
(the shipped model, or the renderer's exact depth with ``depth="oracle"``, which separates the controller's
quality from the perception's), and the NavigationCore fed and ticked by
:class:`depth_node.evaluation.nav_replay.NavReplay`, the replay runner's own loop. Detections are the renderer's 2-D
boxes of visible objects, optionally degraded (pixel noise, misses). The goal is given to the controller as
a goal point on /goal_pose, once, with perfect odometry on /odom each tick, as messages.

The loop is :func:`depth_node.simulation.stepper.run_closed_loop`, the one stepper of every simulator, with
:class:`ScenarioPlant` (the world, the camera, the detector, the robot base) and :class:`DirectLink` (the cores
called directly); ``--ros`` runs the same plant and stepper with a link through the ROS graph.

A run ends at the goal, on a collision (the footprint disc touches a wall or an object lower than the body)
or at the timeout. Not simulated: inference latency (depth is stamped and used at capture time), wheel slip,
sensor noise and motion blur.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import msgs as ros_msgs
from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.estimator import DepthEstimator
from depth_node.evaluation.bagio import AtomicBagDir
from depth_node.evaluation.beliefs import Belief, due, snapshot
from depth_node.evaluation.nav_replay import NavReplay
from depth_node.evaluation.robot import RobotLimits, RobotState, step_unicycle
from depth_node.evaluation.scenarios import REACH, Scenario, Walkers
from depth_node.evaluation.sim_bag import NullWriter, RobotFrames, SimRecorder, goal_msg, state_msgs
from depth_node.evaluation.world import Pose, camera_for, obstacle_distance, render
from depth_node.model_spec import ModelSpec
from depth_node.msgs import MessageSet
from depth_node.msgs.vision_defs import typestore_with_vision
from depth_node.processing import DepthFrameProcessor
from depth_node.simulation.params_file import RECORDED_PARAMS, params_text
from depth_node.simulation.stepper import LoopResult, Schedule, Tick, run_closed_loop
from depth_node.types import Command, Detection2D
from navigation.params import ObstacleAvoidanceParams

START_NS = 1_700_000_000_000_000_000
DEPTH_SOURCES = ("model", "oracle")


@dataclass(frozen=True)
class SimOptions:
    """How the robot and its sensors are simulated.

    Attributes:
        depth: ``"model"`` (the depth network) or ``"oracle"`` (the renderer's exact depth).
        width: Camera image width, pixels.
        height: Camera image height, pixels.
        fx_over_width: Focal length over width (0.8: about 64 degrees, the training camera).
        camera_rate_hz: Frames per second.
        latency_ms: How late a frame reaches the nodes: a frame rendered at t (and stamped t) arrives at t + this,
            with its depth and its detections (rounded to whole control periods), ms.
        camera_height_m: Camera height above the floor (over the robot's centre).
        camera_pitch_rad: Camera pitch, positive looks down.
        det_noise_px: Standard deviation of the noise added to each box edge, pixels.
        det_miss_rate: Probability that a visible object gets no detection in a frame.
        det_score: Score of every detection.
        floor_scale: Let the depth node rescale each frame to the known camera height (see
            :mod:`depth_node.scale`); a robot knows its camera mount, so this is on unless measuring without it.
        limits: The robot base.
    """

    depth: str = "model"
    width: int = 160
    height: int = 120
    fx_over_width: float = 0.8
    camera_rate_hz: float = 10.0
    latency_ms: float = 0.0
    camera_height_m: float = 0.5
    camera_pitch_rad: float = 0.05
    det_noise_px: float = 0.0
    det_miss_rate: float = 0.0
    det_score: float = 0.9
    floor_scale: bool = True
    limits: RobotLimits = field(default_factory=RobotLimits)

    def __post_init__(self) -> None:
        if self.depth not in DEPTH_SOURCES:
            raise ValueError(f"depth source must be one of {', '.join(DEPTH_SOURCES)}, got '{self.depth}'")
        if self.width < 16 or self.height < 16:
            raise ValueError(f"camera must be at least 16x16 pixels, got {self.width}x{self.height}")
        if not 0.0 <= self.det_miss_rate <= 1.0:
            raise ValueError(f"detection miss rate must be in [0, 1], got {self.det_miss_rate}")
        if self.det_noise_px < 0.0 or not self.camera_rate_hz > 0.0:
            raise ValueError("detection noise must be >= 0 and the camera rate > 0")
        if not 0.0 <= self.latency_ms <= 10_000.0:
            raise ValueError(f"latency must be in [0, 10000] ms, got {self.latency_ms}")


class OracleDepth(DepthEstimator):
    """The renderer's exact depth in place of a network (set :attr:`truth` before each frame)."""

    def __init__(self) -> None:
        super().__init__(ModelSpec())
        self.truth: npt.NDArray[np.float32] | None = None

    @property
    def provider(self) -> str:
        """Where the depth comes from."""
        return "oracle"

    def _forward(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        raise NotImplementedError("the oracle has no network")

    def predict(self, rgb: npt.NDArray[np.uint8], camera: CameraModel) -> npt.NDArray[np.float32]:
        """The exact depth of the frame being processed."""
        if self.truth is None or self.truth.shape != rgb.shape[:2]:
            raise ValueError("OracleDepth.truth must be set to the frame's depth before predict")
        return self.truth


def detect(
    boxes: tuple[tuple[str, int, int, int, int], ...], options: SimOptions, rng: np.random.Generator
) -> list[Detection2D]:
    """The renderer's boxes as a detector's output: edge noise, misses, clipped to the image."""
    out = []
    for label, x0, y0, x1, y1 in boxes:
        if options.det_miss_rate > 0.0 and rng.random() < options.det_miss_rate:
            continue
        edges = np.array([x0, y0, x1, y1], dtype=np.float64)
        if options.det_noise_px > 0.0:
            edges += rng.normal(0.0, options.det_noise_px, 4)
        u0, u1 = np.clip(edges[[0, 2]], 0.0, options.width)
        v0, v1 = np.clip(edges[[1, 3]], 0.0, options.height)
        if u1 - u0 < 2.0 or v1 - v0 < 2.0:
            continue
        out.append(Detection2D((u0 + u1) / 2, (v0 + v1) / 2, u1 - u0, v1 - v0, label, options.det_score))
    return out


@dataclass
class Trace:
    """The run, one entry per control tick (for the report's plots)."""

    t: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    yaw: list[float] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    clearance: list[float] = field(default_factory=list)
    blind: list[bool] = field(default_factory=list)
    # What the controller believed at each tick (NaN / "" where a transport does not know it): its mode and
    # the headings it wanted and steered for, in the world frame (for the report's failure panels).
    mode: list[str] = field(default_factory=list)
    desired: list[float] = field(default_factory=list)
    aim: list[float] = field(default_factory=list)
    # The controller's obstacles (scan, remembered points, window cells) every few seconds and at the end.
    beliefs: list[Belief] = field(default_factory=list)

    def record(
        self, t: float, state: RobotState, clearance: float, blind: bool, command: Command | None = None
    ) -> None:
        """Append one control tick (``command``: what the controller decided, when the transport has it)."""
        self.mode.append(command.mode if command is not None else "")
        self.desired.append(state.yaw + command.desired_heading_rad if command is not None else math.nan)
        self.aim.append(state.yaw + command.chosen_heading_rad if command is not None else math.nan)
        self.t.append(t)
        self.x.append(state.x)
        self.y.append(state.y)
        self.yaw.append(state.yaw)
        self.v.append(state.v)
        self.w.append(state.w)
        self.clearance.append(clearance)
        self.blind.append(blind)


@dataclass
class SimResult:
    """The outcome of one run; :meth:`summary` is its entry in report.json."""

    scenario: Scenario
    depth: str
    success: bool
    collision: bool
    outcome: str
    min_clearance_m: float
    time_s: float
    path_length_m: float
    goal_distance_m: float
    frames: int
    blind_ticks: int
    trace: Trace
    radius: float = 0.25  # the footprint, for the plots
    bag: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # transport-specific keys for report.json

    def summary(self) -> dict[str, Any]:
        """The report.json entry (the issue's keys first, then the details)."""
        return {
            "name": self.scenario.name,
            "seed": self.scenario.seed,
            "success": self.success,
            "collision": self.collision,
            "min_clearance_m": round(self.min_clearance_m, 4),
            "time_s": round(self.time_s, 3),
            "path_length_m": round(self.path_length_m, 4),
            "depth": self.depth,
            "expect": self.scenario.expect,
            "outcome": self.outcome,
            "goal_distance_m": round(self.goal_distance_m, 4),
            "frames": self.frames,
            "blind_ticks": self.blind_ticks,
            "bag": self.bag,
            **self.details,
        }


def sim_depth_params(base: DepthNodeParams, options: SimOptions) -> DepthNodeParams:
    """The depth node's parameters with the simulated camera mount and the floor-scale choice of ``options``.

    Oracle depth is exact, so it is never rescaled: it stays bit-identical to the ground truth.
    """
    return replace(
        base,
        floor_scale=options.floor_scale and options.depth == "model",
        camera_height_m=options.camera_height_m,
        camera_pitch_rad=options.camera_pitch_rad,
    )


def sim_nav_params(base: ObstacleAvoidanceParams, options: SimOptions) -> ObstacleAvoidanceParams:
    """The controller's parameters with the simulated robot's mount and size (those are facts, not choices)."""
    return base.with_values(
        camera_height_m=options.camera_height_m,
        camera_pitch_rad=options.camera_pitch_rad,
        robot_radius_m=options.limits.radius,
    )


def run_scenario(
    scenario: Scenario,
    options: SimOptions,
    estimator: DepthEstimator | None,
    depth_params: DepthNodeParams | None = None,
    nav_params: ObstacleAvoidanceParams | None = None,
    bag: Path | None = None,
) -> SimResult:
    """Simulate one scenario until the goal, a collision or the timeout.

    Args:
        scenario: What to drive through.
        options: Robot and sensors.
        estimator: The depth model (ignored, may be None, with ``options.depth == "oracle"``).
        depth_params: The depth node's parameters (cloud decimation...), default values when None; the camera
            mount and ``floor_scale`` come from ``options``.
        nav_params: The controller's parameters; the camera mount and the robot radius are set from ``options``.
        bag: Write the run as an MCAP bag directory here (atomically), or None for no bag.
    """
    if options.depth == "oracle":
        estimator = OracleDepth()
    elif estimator is None:
        raise ValueError("run_scenario needs a depth estimator unless options.depth is 'oracle'")
    messages = MessageSet.from_rosbags(typestore_with_vision())
    processor = DepthFrameProcessor(messages, estimator, sim_depth_params(depth_params or DepthNodeParams(), options))
    params = sim_nav_params(nav_params or ObstacleAvoidanceParams(), options).with_values(
        goal_tolerance_m=scenario.goal_tolerance_m
    )
    if bag is None:
        return _loop(scenario, options, processor, params, messages, NullWriter())
    with AtomicBagDir(bag, overwrite=True) as out:
        # What replay runs the bag with: the nodes' parameters of this run (commands.replay.recorded_params).
        out.add_file(RECORDED_PARAMS, params_text(processor.params, params).encode())
        result = _loop(scenario, options, processor, params, messages, out.writer)
    result.bag = str(bag)
    return result


class ScenarioPlant:
    """A scenario's world and robot base, for :func:`depth_node.simulation.stepper.run_closed_loop`: the same for
    the in-process run and the ROS graph (the camera, the detector's noise and misses, the collision and goal
    rules, the trace)."""

    def __init__(self, scenario: Scenario, options: SimOptions) -> None:
        self.scenario = scenario
        self.options = options
        self.camera = camera_for(options.width, options.height, options.fx_over_width)
        self.rng = np.random.default_rng([scenario.seed, 7, len(scenario.name)])
        self.trace = Trace()
        self.path, self.min_clearance = 0.0, math.inf
        self.walkers = Walkers(scenario)  # people who give way stop for the robot
        # What the controller believes, for the failure panels (set by a link that can read the controller).
        self.believe: Callable[[float], Belief | None] | None = None
        self.last_tick = math.inf  # index of the run's last tick (its belief is always taken)
        self.rate_hz = 20.0  # the control rate (set with the schedule)

    def schedule(self, params: ObstacleAvoidanceParams) -> Schedule:
        """The stepper's schedule: the navigation's control rate, the camera's rate and latency, from START_NS."""
        delay = round(self.options.latency_ms * 1e-3 * params.control_rate_hz)
        schedule = Schedule(params.control_rate_hz, self.options.camera_rate_hz, START_NS, frame_delay_ticks=delay)
        self.rate_hz = params.control_rate_hz
        self.last_tick = schedule.ticks_for(self.scenario.timeout_s) - 1
        return schedule

    def sense(self, tick: Tick, state: RobotState) -> tuple[Any, list[Detection2D]]:
        """The rendered frame at the robot's camera pose and the detector's boxes of it."""
        o = self.options
        pose = Pose(state.x, state.y, o.camera_height_m, state.yaw, o.camera_pitch_rad)
        frame = render(self.walkers.scene_at(tick.t, (state.x, state.y)), self.camera, pose)
        return frame, detect(frame.boxes, o, self.rng)

    def observe(self, tick: Tick, state: RobotState, command: Command) -> str | None:
        """Trace the tick; a collision (the footprint touches something lower than the body) or the goal ends it."""
        limits, scenario = self.options.limits, self.scenario
        scene = self.walkers.scene_at(tick.t, (state.x, state.y))
        clearance = obstacle_distance(scene, state.x, state.y, limits.body_height) - limits.radius
        self.min_clearance = min(self.min_clearance, clearance)
        self.trace.record(tick.t, state, clearance, command.blind, command)
        outcome = None
        if clearance < 0.0:
            outcome = "collision"
        elif scenario.expect == REACH and goal_distance(scenario, state) <= scenario.goal_tolerance_m:
            outcome = "goal"
        if self.believe is not None and (due(tick.t, 1.0 / self.rate_hz) or outcome or tick.index >= self.last_tick):
            belief = self.believe(tick.t)
            self.trace.beliefs.extend([belief] if belief is not None else [])
        return outcome

    def move(self, state: RobotState, command: Command, dt: float) -> RobotState:
        """The unicycle under the command (the base's own speed and acceleration limits)."""
        moved = step_unicycle(state, command.linear_x, command.angular_z, dt, self.options.limits)
        self.path += math.hypot(moved.x - state.x, moved.y - state.y)
        return moved

    def result(self, loop: LoopResult[RobotState], details: dict[str, Any] | None = None) -> SimResult:
        """The run's :class:`SimResult` from how the loop ended."""
        return run_result(
            self.scenario,
            self.options,
            loop.outcome,
            loop.state,
            self.trace,
            path_length_m=self.path,
            min_clearance_m=self.min_clearance,
            frames=loop.frames,
            blind_ticks=loop.blind_ticks,
            details=details,
        )


class DirectLink:
    """The in-process link: messages built as on the robot, handed straight to the cores.

    The depth core (:class:`DepthFrameProcessor`) turns the camera message into depth; the navigation core is
    fed and ticked by :class:`NavReplay`, the replay runner's own loop; the state goes in as an Odometry
    message, as the live node gets it through ``--ros``. Everything is recorded when a bag is written.
    """

    def __init__(
        self, processor: DepthFrameProcessor, nav: NavReplay, recorder: SimRecorder, options: SimOptions, camera: Any
    ) -> None:
        self.processor, self.nav, self.recorder, self.options = processor, nav, recorder, options
        self.camera_model = camera
        self._now_ns = START_NS  # the step's time: a late frame is recorded when it arrives

    def start(self, scenario: Scenario) -> None:
        """The camera mount on /tf_static and the goal, once, before the first tick (as the --ros runner)."""
        self.recorder.write_static(START_NS)
        goal = goal_msg(self.recorder.messages, START_NS, *scenario.goal, frames=self.recorder.frames)
        self.recorder.write("goal", START_NS, goal)
        self.nav.on_goal(goal)

    def odometry(self, tick: Tick, state: RobotState) -> None:
        """/odom and /tf of the true state; the odometry to the navigation core."""
        self._now_ns = tick.t_ns
        tf, odom = state_msgs(self.recorder.messages, tick.t_ns, state, self.recorder.frames)
        self.recorder.write("tf", tick.t_ns, tf)
        self.recorder.write("odom", tick.t_ns, odom)
        self.nav.on_odometry(odom)

    def camera(self, captured: Tick, sensed: tuple[Any, list[Detection2D]]) -> None:
        """The frame through the depth core and, with its detections, into the navigation core."""
        frame, detections = sensed
        m, recorder = self.recorder.messages, self.recorder
        header = m.header(captured.t_ns, recorder.frames.camera)
        image_msg = m.image(frame.rgb, "rgb8", header)
        info_msg = m.camera_info(self.camera_model, header)
        if isinstance(self.processor.estimator, OracleDepth):
            self.processor.estimator.truth = frame.depth
        out = self.processor.process(image_msg, info_msg, want_cloud=recorder.enabled, want_colored=False)
        det_msg = ros_msgs.detections_to_msg(m, detections, header)
        self.nav.on_detections(det_msg)
        self.nav.on_depth(out.depth, out.camera, header)
        if recorder.enabled:
            for key, msg in (
                ("image", image_msg),
                ("info", info_msg),
                ("gt", m.image(frame.depth, "32FC1", header)),
                ("detections", det_msg),
                ("out_depth", out.depth_msg),
                ("out_info", out.info_msg),
                ("out_cloud", out.cloud_msg),
            ):
                recorder.write(key, self._now_ns, msg)  # at arrival (its stamp stays the capture time)

    def control(self, tick: Tick) -> Command:
        """The navigation core's tick at this time (its /cmd_vel, /scan and /obstacles recorded)."""
        self.nav.advance(tick.t_ns, inclusive=True)
        assert self.nav.last_command is not None
        return self.nav.last_command


def _loop(
    scenario: Scenario,
    options: SimOptions,
    processor: DepthFrameProcessor,
    params: ObstacleAvoidanceParams,
    messages: MessageSet,
    writer: Any,
) -> SimResult:
    plant = ScenarioPlant(scenario, options)
    # The robot's frames are the nodes' own (odom_frame, base_frame, frame_prefix): a prefixed robot stays one tree.
    frames = RobotFrames.of(params)
    recorder = SimRecorder(messages, writer, options.camera_height_m, options.camera_pitch_rad, frames)
    nav = NavReplay(
        messages, params, writer, write_obstacles=True, tf_static=lambda t, msg: recorder.write("tf_static", t, msg)
    )
    link = DirectLink(processor, nav, recorder, options, plant.camera)
    plant.believe = lambda t: snapshot(t, nav.controller)
    link.start(scenario)
    schedule = plant.schedule(params)
    loop = run_closed_loop(schedule, plant, link, scenario.start, schedule.ticks_for(scenario.timeout_s))
    return plant.result(loop)


def goal_distance(scenario: Scenario, state: RobotState) -> float:
    """Distance from the robot to the scenario's goal point, m."""
    return math.hypot(scenario.goal[0] - state.x, scenario.goal[1] - state.y)


def run_result(
    scenario: Scenario,
    options: SimOptions,
    outcome: str,
    state: RobotState,
    trace: Trace,
    *,
    path_length_m: float,
    min_clearance_m: float,
    frames: int,
    blind_ticks: int,
    details: dict[str, Any] | None = None,
) -> SimResult:
    """One run's result from where it ended, for both transports (in-process and ``--ros``).

    A run passes when it reached the goal of a REACH scenario, or, for a scenario that expects a stop, when
    it ran out of time without contact (a ``collision`` or ``no_answer`` outcome fails either kind).
    """
    success = outcome == "goal" if scenario.expect == REACH else outcome == "timeout"
    return SimResult(
        scenario=scenario,
        depth=options.depth,
        success=success,
        collision=outcome == "collision",
        outcome=outcome,
        min_clearance_m=min_clearance_m,
        time_s=trace.t[-1] if trace.t else 0.0,
        path_length_m=path_length_m,
        goal_distance_m=goal_distance(scenario, state),
        frames=frames,
        blind_ticks=blind_ticks,
        trace=trace,
        radius=options.limits.radius,
        details=details or {},
    )
