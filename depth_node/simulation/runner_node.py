"""The simulator as a ROS 2 graph: the world, the camera and the robot base, in lockstep with the shipped nodes.

Per run, ``depth_node`` and ``obstacle_avoidance`` are started as processes (:mod:`depth_node.simulation.processes`)
with the run's parameter file (:mod:`depth_node.simulation.params_file`) and ``use_sim_time``. This node publishes
``/clock``, the camera (``/camera/image_raw`` + ``/camera/camera_info``), ``/detections`` (the renderer's
boxes, with the noise and miss options), ``/odom``, ``/tf``, ``/tf_static`` and the goal on ``/goal_pose``,
and integrates what comes back on ``/cmd_vel``.

Lockstep, one control period per step, so that the result does not depend on how fast the machine is:

1. publish ``/odom`` and ``/tf`` at ``t``;
2. on a camera tick, publish ``/detections`` and the frame stamped ``t`` (reliable: nothing is re-sent) and
   wait until ``depth_node``'s depth, CameraInfo and cloud of it arrive;
3. publish ``/clock`` = ``t``: obstacle_avoidance's control timer fires;
4. wait for its ``cmd_vel`` (TwistStamped) and ``/diagnostics`` stamped ``t``. The diagnostics carry the
   stamps of the odometry, detections and depth the tick decided on, and the count of depth frames taken;
   anything but this tick's inputs, each once, is a lockstep miss, and the run is repeated.

The steps are :func:`depth_node.simulation.stepper.run_closed_loop` with the in-process run's
:class:`~depth_node.simulation.plant.ScenarioPlant`; only the link differs (:class:`RosLink`: messages over DDS).
An answer that does not come within ``step_timeout_s`` (wall clock) ends the run as failed (``no_answer``).
Everything that crossed the middleware is written to the run's bag, at the simulated time it arrived.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import rclpy

from depth_node import msgs as ros_msgs
from depth_node.depth_params import DepthNodeParams
from depth_node.evaluation.bagio import AtomicBagDir
from depth_node.evaluation.scenarios import Scenario
from depth_node.evaluation.sim_bag import DEFAULT_FRAMES, RobotFrames, goal_msg, state_msgs, static_tf_msg
from depth_node.msgs import MessageSet
from depth_node.simulation.options import START_NS, SimOptions, sim_depth_params, sim_nav_params
from depth_node.simulation.params_file import RECORDED_PARAMS, write_params_file
from depth_node.simulation.plant import ScenarioPlant
from depth_node.simulation.processes import GraphError, NodeProcess, ros_env, start_node
from depth_node.simulation.result import SimResult, Trace, run_result
from depth_node.simulation.sim_node import DEPTH_REMAPS, NAV_REMAPS, BagSink, GraphOptions, Lockstep, SimNode
from depth_node.simulation.stepper import NoAnswerError, Tick, run_closed_loop
from depth_node.types import Command
from navigation.params import ObstacleAvoidanceParams


class RosRunner:
    """Runs scenarios through the ROS graph; one rclpy context for all runs (see :func:`run_scenario_ros`)."""

    def __init__(self, work_dir: Path, timing: GraphOptions | None = None) -> None:
        self.work_dir = work_dir
        self.timing = timing or GraphOptions()
        self.context = rclpy.Context()
        rclpy.init(context=self.context)

    def close(self) -> None:
        """Shut the rclpy context down."""
        if self.context.ok():
            rclpy.shutdown(context=self.context)

    def __enter__(self) -> RosRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(
        self,
        scenario: Scenario,
        options: SimOptions,
        depth_params: DepthNodeParams | None = None,
        nav_params: ObstacleAvoidanceParams | None = None,
        bag: Path | None = None,
    ) -> SimResult:
        """One scenario through the graph; see the module docstring. A bag is written when ``bag`` is given."""
        run_dir = self.work_dir / f"{scenario.name}_{scenario.seed}_{options.depth}"
        dp = sim_depth_params(depth_params or DepthNodeParams(), options)
        np_ = sim_nav_params(nav_params or ObstacleAvoidanceParams(), options).with_values(
            goal_tolerance_m=scenario.goal_tolerance_m
        )
        # The sim reads the stamp of each command and the state of each tick; both are the node's own options.
        extra = {"cmd_vel_stamped": True, "diagnostics_period_s": 1.0 / np_.control_rate_hz}
        params_file = write_params_file(run_dir / "params.yaml", dp, np_, extra)
        misses: list[int] = []
        while True:
            result = self._attempt(scenario, options, dp, np_, params_file, run_dir, bag)
            misses.append(result.details["lockstep_misses"])
            if misses[-1] == 0 or len(misses) > self.timing.repeats:
                break
        result.details["lockstep_misses"] = misses
        return result

    def _attempt(
        self,
        scenario: Scenario,
        options: SimOptions,
        dp: DepthNodeParams,
        np_: ObstacleAvoidanceParams,
        params_file: Path,
        run_dir: Path,
        bag: Path | None,
    ) -> SimResult:
        env = ros_env(run_dir / "ros_logs")
        processes = [start_node("obstacle_avoidance", params_file, run_dir, env, NAV_REMAPS)]
        if options.depth == "model":
            processes.append(start_node("depth_node", params_file, run_dir, env, DEPTH_REMAPS))
        cloud = dp.publish_cloud
        try:
            if bag is None:
                result = self._run(scenario, options, np_, cloud, processes, BagSink(None))
            else:
                with AtomicBagDir(bag, overwrite=True) as out:
                    out.add_file(RECORDED_PARAMS, params_file.read_bytes())  # what replay runs the bag with
                    result = self._run(scenario, options, np_, cloud, processes, BagSink(out.writer))
                result.bag = str(bag)
        finally:
            codes = {proc.name: proc.stop() for proc in processes}
        result.details["node_exit_codes"] = codes
        return result

    def _run(
        self,
        scenario: Scenario,
        options: SimOptions,
        params: ObstacleAvoidanceParams,
        publish_cloud: bool,
        processes: list[NodeProcess],
        sink: BagSink,
    ) -> SimResult:
        node = SimNode(sink, self.context)
        step = Lockstep(node, processes)
        try:
            try:
                _connect(node, step, options, publish_cloud, self.timing)
            except GraphError as exc:  # a node that does not start fails this run, not the suite
                return _not_started(scenario, options, str(exc))
            return _loop(node, step, scenario, options, params, publish_cloud, self.timing)
        finally:
            step.close()
            node.destroy_node()


def _took_this_tick(
    diag: dict[str, str], t_ns: int, camera_tick: bool, blind: bool, frames: int, frame_ns: int | None = None
) -> bool:
    """Whether the tick decided on exactly what was sent for it: the goal point, this tick's odometry and, on a
    tick a frame arrived (stamped ``frame_ns``, its capture: earlier than the tick with a latency; default the
    tick), that frame's detections and depth (once: a frame counted twice would restart the PID)."""
    ok = diag.get("odom_stamp_ns") == str(t_ns) and int(diag.get("depth_frames", "0")) <= frames
    # the goal sent before the first tick was taken (until it is reached: then it is done, "none")
    ok = ok and (diag.get("goal", "").startswith("point") or diag.get("state") == "goal reached")
    if camera_tick:
        stamp = str(t_ns if frame_ns is None else frame_ns)
        ok = ok and diag.get("detections_stamp_ns") == stamp and (blind or diag.get("depth_stamp_ns") == stamp)
    return ok


def _not_started(scenario: Scenario, options: SimOptions, error: str) -> SimResult:
    """The result of a run whose nodes never connected: failed, ``no_answer``, the robot at its start."""
    trace = Trace()
    trace.record(0.0, scenario.start, math.nan, True)
    details = {"transport": "ros", "lockstep_misses": 0, "error": error.splitlines()[0]}
    return run_result(
        scenario,
        options,
        "no_answer",
        scenario.start,
        trace,
        path_length_m=0.0,
        min_clearance_m=math.nan,
        frames=0,
        blind_ticks=0,
        details=details,
    )


def _connect(node: SimNode, step: Lockstep, options: SimOptions, publish_cloud: bool, timing: GraphOptions) -> None:
    """Wait until every link of the lockstep is matched: a message sent before its link is up is lost
    (volatile), and the step waiting for it would time out."""
    pubs, wanted = node.pubs, ["/odom", "/goal_pose", "/detections", "/clock"]
    answers = ["/cmd_vel", "/diagnostics"]
    if options.depth == "model":
        wanted += ["/camera/image_raw", "/camera/camera_info"]  # depth_node subscribes once it sees a publisher
        answers += ["/depth/image_raw", "/depth/camera_info"] + (["/depth/points"] if publish_cloud else [])

    def connected() -> bool:
        return (
            all(pubs[t].get_subscription_count() > 0 for t in wanted)
            and all(node.subs[t].get_publisher_count() > 0 for t in answers)
            # this node and obstacle_avoidance on depth_node's outputs (or on the oracle's)
            and node.count_subscribers("/depth/image_raw") >= 2
            and node.count_subscribers("/depth/camera_info") >= 2
            # both nodes run on /clock: a tick lost before obstacle_avoidance matched would never come
            and pubs["/clock"].get_subscription_count() >= (2 if options.depth == "model" else 1)
        )

    step.until(connected, timing.start_timeout_s, "while starting the nodes")


class RosLink:
    """The stepper's link through the ROS graph: each exchange is a message, each answer waited for in lockstep
    (see the module docstring); a tick that decided on anything but its own inputs is counted as a miss."""

    def __init__(
        self,
        node: SimNode,
        step: Lockstep,
        options: SimOptions,
        camera: Any,
        timing: GraphOptions,
        publish_cloud: bool,
        robot_frames: RobotFrames = DEFAULT_FRAMES,
    ) -> None:
        self.node, self.step, self.options, self.camera_model = node, step, options, camera
        self.robot_frames = robot_frames  # the nodes' own frames (odom_frame, base_frame, frame_prefix)
        self.timing, self.publish_cloud = timing, publish_cloud
        self.m = MessageSet.from_rclpy()
        self.frames = 0
        self.misses = 0
        self._frame_this_tick: int | None = None  # the stamp of the frame that arrived this tick

    def start(self, scenario: Scenario) -> None:
        """The camera mount, the goal and (model depth) the first CameraInfo, before the first tick."""
        m, options, node = self.m, self.options, self.node
        rf = self.robot_frames
        node.publish_static(static_tf_msg(m, START_NS, options.camera_height_m, options.camera_pitch_rad, rf))
        node.publish("/goal_pose", goal_msg(m, START_NS, *scenario.goal, frames=rf))
        if options.depth == "model":
            # The camera's CameraInfo before its first image: depth_node takes the two on separate subscriptions
            # and drops an image that comes before any CameraInfo (then the first step would wait in vain).
            node.publish("/camera/camera_info", m.camera_info(self.camera_model, m.header(START_NS, rf.camera)))
        self.step.spin_for(0.2)

    def odometry(self, tick: Tick, state: Any) -> None:
        """/odom and /tf at the tick; first in a step: it has the whole depth inference to arrive."""
        self.node.now_ns = tick.t_ns  # this step's sensor messages and the nodes' answers are logged at its time
        self._frame_this_tick = None
        tf, odom = state_msgs(self.m, tick.t_ns, state, self.robot_frames)
        self.node.publish("/odom", odom)
        self.node.publish("/tf", tf)

    def camera(self, captured: Tick, sensed: tuple[Any, list[Any]]) -> None:
        """Publish one frame and its detections, and wait for its depth (the oracle publishes the exact depth)."""
        frame, detections = sensed
        m, node, t_ns = self.m, self.node, captured.t_ns
        self.frames += 1
        self._frame_this_tick = t_ns
        header = m.header(t_ns, self.robot_frames.camera)
        info = m.camera_info(self.camera_model, header)
        gt = m.image(frame.depth, "32FC1", header)
        wanted = {"/depth/image_raw", "/depth/camera_info"}
        if self.options.depth == "model" and self.publish_cloud:
            wanted.add("/depth/points")  # depth_node's last message of a frame
        node.publish("/detections", ros_msgs.detections_to_msg(m, detections, header))
        node.publish("/camera/depth_gt", gt)
        if self.options.depth == "oracle":
            node.publish_depth(info, gt)
        else:  # reliable: depth_node's subscription follows it (qos_reliability auto), so nothing is re-sent
            node.publish("/camera/camera_info", info)
            node.publish("/camera/image_raw", m.image(frame.rgb, "rgb8", header))
        self._until(
            lambda: node.depth_stamps.get(t_ns, set()) >= wanted,
            f"for the depth of the frame at t = {captured.t:.2f} s",
        )
        node.depth_stamps.pop(t_ns, None)
        # obstacle_avoidance got the same messages from the same writes; a moment's spin lets its executor take
        # them before the clock tick (a late one is detected from the diagnostics and the run repeated).
        self.step.spin_for(self.timing.settle_s)

    def control(self, tick: Tick) -> Command:
        """Publish /clock at the tick and wait for obstacle_avoidance's cmd_vel and diagnostics of it."""
        node, t_ns = self.node, tick.t_ns
        if self._frame_this_tick is None:
            self.step.spin_for(self.timing.settle_s)
        node.publish_clock(t_ns)
        self._until(
            lambda: t_ns in node.commands and t_ns in node.diagnostics,
            f"for cmd_vel and diagnostics at t = {tick.t:.2f} s",
        )
        twist, diag = node.commands.pop(t_ns), node.diagnostics.pop(t_ns)
        blind = diag.get("state") == "blind"
        frame = self._frame_this_tick
        self.misses += not _took_this_tick(diag, t_ns, frame is not None, blind, self.frames, frame)
        return Command(
            float(twist.linear.x),
            float(twist.angular.z),
            blind=blind,
            reason=diag.get("reason", ""),
            mode=diag.get("mode", ""),
        )

    def _until(self, done: Any, what: str) -> None:
        try:
            self.step.until(done, self.timing.step_timeout_s, what)
        except GraphError as exc:
            raise NoAnswerError(str(exc)) from exc


def _loop(
    node: SimNode,
    step: Lockstep,
    scenario: Scenario,
    options: SimOptions,
    params: ObstacleAvoidanceParams,
    publish_cloud: bool,
    timing: GraphOptions,
) -> SimResult:
    """The in-process run's stepper and plant, with every exchange going through the middleware."""
    plant = ScenarioPlant(scenario, options)
    link = RosLink(node, step, options, plant.camera, timing, publish_cloud, RobotFrames.of(params))
    link.start(scenario)
    schedule = plant.schedule(params)
    loop = run_closed_loop(schedule, plant, link, scenario.start, schedule.ticks_for(scenario.timeout_s))
    details: dict[str, Any] = {"transport": "ros", "lockstep_misses": link.misses}
    if loop.error is not None:
        details["error"] = loop.error.splitlines()[0]
    return plant.result(loop, details)
