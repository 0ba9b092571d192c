"""The in-process closed-loop simulator: render the camera, run the depth core and obstacle_avoidance, move the robot.

Each control tick (``control_rate_hz``, 20 Hz by default) the robot's commanded twist is integrated by the
unicycle model; each camera frame (``camera_rate_hz``) the procedural world is rendered from the robot's
pose and goes through exactly what runs on the robot: :class:`depth_node.processing.DepthFrameProcessor`
(the shipped model, or the renderer's exact depth with ``depth="oracle"``, which separates the controller's
quality from the perception's), and the NavigationCore fed and ticked by
:class:`depth_node.evaluation.nav_replay.NavReplay`, the replay runner's own loop. Detections are the renderer's 2-D
boxes of visible objects, optionally degraded (pixel noise, misses). The goal is given to the controller as
a goal point on /goal_pose, once, with perfect odometry on /odom each tick, as messages.

The loop is :func:`depth_node.simulation.stepper.run_closed_loop`, the one stepper of every simulator, with
:class:`~depth_node.simulation.plant.ScenarioPlant` (the world, the camera, the detector, the robot base) and
:class:`DirectLink` (the cores called directly); ``--ros`` runs the same plant and stepper with a link through
the ROS graph (:mod:`depth_node.simulation.runner_node`).

A run ends at the goal, on a collision (the footprint disc touches a wall or an object lower than the body)
or at the timeout. Not simulated: inference latency (depth is stamped and used at capture time), wheel slip,
sensor noise and motion blur.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import msgs as ros_msgs
from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.estimator import DepthEstimator
from depth_node.evaluation.bagio import AtomicBagDir
from depth_node.evaluation.beliefs import snapshot
from depth_node.evaluation.nav_replay import NavReplay
from depth_node.evaluation.robot import RobotState
from depth_node.evaluation.scenarios import Scenario
from depth_node.evaluation.sim_bag import NullWriter, RobotFrames, SimRecorder, goal_msg, state_msgs
from depth_node.model_spec import ModelSpec
from depth_node.msgs import MessageSet
from depth_node.msgs.vision_defs import typestore_with_vision
from depth_node.processing import DepthFrameProcessor
from depth_node.simulation.options import START_NS, SimOptions, sim_depth_params, sim_nav_params
from depth_node.simulation.params_file import RECORDED_PARAMS, params_text
from depth_node.simulation.plant import ScenarioPlant
from depth_node.simulation.result import SimResult
from depth_node.simulation.stepper import Tick, run_closed_loop
from depth_node.types import Command, Detection2D
from navigation.params import ObstacleAvoidanceParams


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
