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

An answer that does not come within ``step_timeout_s`` (wall clock) ends the run as failed (``no_answer``).
Everything that crossed the middleware is written to the run's bag, at the simulated time it arrived.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import rclpy

from depth_node import msgs as ros_msgs
from depth_node.depth_params import DepthNodeParams
from depth_node.evaluation.bagio import AtomicBagDir
from depth_node.evaluation.robot import step_unicycle
from depth_node.evaluation.scenarios import REACH, Scenario
from depth_node.evaluation.sim import (
    START_NS,
    SimOptions,
    SimResult,
    Trace,
    detect,
    goal_distance,
    run_result,
    sim_depth_params,
    sim_nav_params,
)
from depth_node.evaluation.sim_bag import RobotFrames, goal_msg, state_msgs, static_tf_msg
from depth_node.evaluation.world import Pose, camera_for, obstacle_distance, render
from depth_node.msgs import MessageSet
from depth_node.simulation.params_file import RECORDED_PARAMS, write_params_file
from depth_node.simulation.processes import GraphError, NodeProcess, ros_env, start_node
from depth_node.simulation.sim_node import DEPTH_REMAPS, NAV_REMAPS, BagSink, GraphOptions, Lockstep, SimNode
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
        np_ = replace(
            sim_nav_params(nav_params or ObstacleAvoidanceParams(), options), goal_tolerance_m=scenario.goal_tolerance_m
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


def _took_this_tick(diag: dict[str, str], t_ns: int, camera_tick: bool, blind: bool, frames: int) -> bool:
    """Whether the tick decided on exactly what was sent for it: the goal point, this tick's odometry and, on
    a camera tick, this frame's detections and depth (once: a frame counted twice would restart the PID)."""
    stamp = str(t_ns)
    ok = diag.get("odom_stamp_ns") == stamp and int(diag.get("depth_frames", "0")) <= frames
    ok = ok and diag.get("goal", "").startswith("point")  # the goal sent before the first tick was taken
    if camera_tick:
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
        wanted.append("/camera/image_raw")
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


def _loop(
    node: SimNode,
    step: Lockstep,
    scenario: Scenario,
    options: SimOptions,
    params: ObstacleAvoidanceParams,
    publish_cloud: bool,
    timing: GraphOptions,
) -> SimResult:
    """The in-process loop of :mod:`depth_node.evaluation.sim`, with every exchange going through the middleware."""
    m = MessageSet.from_rclpy()
    camera = camera_for(options.width, options.height, options.fx_over_width)
    limits = options.limits
    rng = np.random.default_rng([scenario.seed, 7, len(scenario.name)])
    dt = 1.0 / params.control_rate_hz
    period_ns = round(dt * 1e9)
    frame_every = max(1, round(params.control_rate_hz / options.camera_rate_hz))
    state, trace = scenario.start, Trace()
    robot_frames = RobotFrames.of(params)  # the nodes' own frames (odom_frame, base_frame, frame_prefix)
    node.publish_static(static_tf_msg(m, START_NS, options.camera_height_m, options.camera_pitch_rad, robot_frames))
    node.publish("/goal_pose", goal_msg(m, START_NS, *scenario.goal, frames=robot_frames))
    if options.depth == "model":
        # The camera's CameraInfo before its first image: depth_node takes the two on separate subscriptions
        # and drops an image that comes before any CameraInfo (then the first step would wait in vain).
        node.publish("/camera/camera_info", m.camera_info(camera, m.header(START_NS, robot_frames.camera)))
    step.spin_for(0.2)
    frames, blind_ticks, misses, path, min_clearance, outcome = 0, 0, 0, 0.0, math.inf, "timeout"
    error = None
    for k in range(math.ceil(scenario.timeout_s / dt)):
        t, t_ns = k * dt, START_NS + k * period_ns
        scene = scenario.scene_at(t)
        camera_tick = k % frame_every == 0
        node.now_ns = t_ns  # this step's sensor messages and the nodes' answers are logged at its time
        try:
            # Odometry first: it has the whole depth inference to arrive before the clock tick.
            tf, odom = state_msgs(m, t_ns, state, robot_frames)
            node.publish("/odom", odom)
            node.publish("/tf", tf)
            if camera_tick:
                frames += 1
                pose = Pose(state.x, state.y, options.camera_height_m, state.yaw, options.camera_pitch_rad)
                _camera_frame(
                    node, step, m, scene, camera, pose, t_ns, options, rng, timing, publish_cloud, robot_frames
                )
            else:
                step.spin_for(timing.settle_s)
            node.publish_clock(t_ns)
            step.until(
                lambda t_ns=t_ns: t_ns in node.commands and t_ns in node.diagnostics,  # type: ignore[misc]
                timing.step_timeout_s,
                f"for cmd_vel and diagnostics at t = {t:.2f} s",
            )
        except GraphError as exc:
            outcome, error = "no_answer", str(exc)
            break
        twist, diag = node.commands.pop(t_ns), node.diagnostics.pop(t_ns)
        blind = diag.get("state") == "blind"
        blind_ticks += blind
        misses += not _took_this_tick(diag, t_ns, camera_tick, blind, frames)
        clearance = obstacle_distance(scene, state.x, state.y, limits.body_height) - limits.radius
        min_clearance = min(min_clearance, clearance)
        trace.record(t, state, clearance, blind)
        if clearance < 0.0:
            outcome = "collision"
            break
        if scenario.expect == REACH and goal_distance(scenario, state) <= scenario.goal_tolerance_m:
            outcome = "goal"
            break
        moved = step_unicycle(state, twist.linear.x, twist.angular.z, dt, limits)
        path += math.hypot(moved.x - state.x, moved.y - state.y)
        state = moved
    details: dict[str, Any] = {"transport": "ros", "lockstep_misses": misses}
    if error is not None:
        details["error"] = error.splitlines()[0]
    return run_result(
        scenario,
        options,
        outcome,
        state,
        trace,
        path_length_m=path,
        min_clearance_m=min_clearance,
        frames=frames,
        blind_ticks=blind_ticks,
        details=details,
    )


def _camera_frame(
    node: SimNode,
    step: Lockstep,
    m: MessageSet,
    scene: Any,
    camera: Any,
    pose: Pose,
    t_ns: int,
    options: SimOptions,
    rng: np.random.Generator,
    timing: GraphOptions,
    publish_cloud: bool,
    frames: RobotFrames,
) -> None:
    """Render and publish one frame, and wait for its depth (the oracle publishes the exact depth itself)."""
    frame = render(scene, camera, pose)
    header = m.header(t_ns, frames.camera)
    info = m.camera_info(camera, header)
    image = m.image(frame.rgb, "rgb8", header)
    gt = m.image(frame.depth, "32FC1", header)
    wanted = {"/depth/image_raw", "/depth/camera_info"}
    if options.depth == "model" and publish_cloud:
        wanted.add("/depth/points")  # depth_node's last message of a frame
    node.publish("/detections", ros_msgs.detections_to_msg(m, detect(frame.boxes, options, rng), header))
    node.publish("/camera/depth_gt", gt)
    if options.depth == "oracle":
        node.publish_depth(info, gt)
    else:  # reliable: depth_node's subscription follows it (qos_reliability auto), so nothing is re-sent
        node.publish("/camera/camera_info", info)
        node.publish("/camera/image_raw", image)
    step.until(
        lambda: node.depth_stamps.get(t_ns, set()) >= wanted,
        timing.step_timeout_s,
        f"for the depth of the frame at t = {(t_ns - START_NS) * 1e-9:.2f} s",
    )
    node.depth_stamps.pop(t_ns, None)
    # obstacle_avoidance got the same messages from the same writes; a moment's spin lets its executor take
    # them before the clock tick (a late one is detected from the diagnostics and the run repeated).
    step.spin_for(timing.settle_s)
