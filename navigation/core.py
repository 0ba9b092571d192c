"""NavigationCore: everything between the obstacle_avoidance inputs and what each control tick emits.

The rclpy node (:mod:`navigation.node`), the bag replay (:mod:`depth_node.evaluation.nav_replay`) and both
simulators hold one :class:`NavigationCore`. They convert messages to plain values (:mod:`depth_node.msgs`),
hand them in with their stamps (``on_depth``, ``on_failed``, ``on_detections``, ``on_odometry``, ``on_goal``)
and call :meth:`NavigationCore.tick` on their own clock (a ROS timer, the bag's clock, the simulated time).
Nothing else decides anything, so a replay of a recording commands what the robot commanded.

The policy that lives here and nowhere else:

- blind (no depth yet, depth older than ``input_timeout_s``, a failed frame): a zero twist at once, and no
  scan or obstacles: the frame a blind tick could have published is dropped;
- a new good depth frame is published (scan, obstacles, marker inputs) at the first tick after it that is
  not blind, stamped with the frame's own stamp and camera frame (the data's time, not the tick's);
- no goal, no motion: a goal is a ``goal_pose`` point, a ``target_class`` in view, or a heading set on
  purpose (``goal_heading_rad``, NaN by default); without one the core commands nothing (``idle``);
- disabled (``autostart`` false, or :meth:`set_enabled` false) commands nothing and keeps the goal for
  when it is enabled again; :meth:`cancel_goal` drops the goal (``idle``);
- silence: entering a state that commands nothing (idle, disabled, goal reached) publishes one zero twist,
  then nothing (``publish_command`` False), so teleop, a twist_mux or Nav2 can drive; blind while holding a
  goal stays zero twists at every tick;
- goal points count only in ``odom_frame`` and with a finite position; a goal within ``goal_tolerance_m``
  is reached: one zero twist (not blind), and the goal is done until a new one comes;
- odometry, when it comes, replaces dead reckoning of the commands for good; a jump drops the surroundings;
- the state goes to /diagnostics at once when it changes, else every ``diagnostics_period_s``.

What a shell must say to a user comes back as :class:`Notice` (taken with :meth:`take_notices`): the shell
logs it (the node, throttled) or counts it (the replay), and never words it itself.

Extending: a new input is one ``on_*`` method that records plain values (and its stamp in ``inputs``); a new
rule of a tick belongs in :meth:`NavigationCore.tick` or the small methods it calls (``_command``,
``_frame_output``, ``_status``); a new output is one field of :class:`TickOutput` that shells may ignore.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.types import Command, Detection2D, Obstacle, Scan
from navigation.controller import Controller
from navigation.latency import DetectionPairing, PoseHistory
from navigation.params import ObstacleAvoidanceParams
from navigation.status import NavStatus, nav_status

INFO, WARNING = "info", "warning"
IDLE_REASON = "idle: no goal (send a goal_pose, set goal_heading_rad, or a target_class in view)"
DISABLED_REASON = "disabled: ~/enable false"
ODOMETRY, DEAD_RECKONING = "odometry", "dead_reckoning"


@dataclass(frozen=True)
class Notice:
    """Something a shell tells its user (log line) or counts (replay report).

    Attributes:
        level: ``info`` or ``warning``.
        reason: A short key to count it under (``bad_odom``, ``goal_refused``...), "" for plain information.
        text: The line to log.
    """

    level: str
    reason: str
    text: str


@dataclass(frozen=True)
class FrameOutput:
    """What a tick publishes about the depth frame it decided on (scan, obstacles, markers).

    Attributes:
        stamp_ns: The depth frame's stamp (the header of the scan, obstacles and markers).
        frame_id: The depth frame's optical frame (obstacles; the scan frame's parent on /tf_static).
        scan: The frame's virtual scan.
        obstacles: The obstacles fused at this decision.
    """

    stamp_ns: int
    frame_id: str
    scan: Scan | None
    obstacles: tuple[Obstacle, ...]


@dataclass(frozen=True)
class TickOutput:
    """Everything one control tick emits; a shell turns each field into its messages.

    Attributes:
        stamp_ns: The tick's time (the header of a TwistStamped and of /diagnostics).
        command: The twist and its reason.
        publish_command: Whether a shell publishes the command at all (False: silence, the twist is only
            for the record).
        frame: The new depth frame's outputs, at the first non-blind tick after it; None otherwise.
        status: The state for /diagnostics when one is due this tick, else None.
        inputs: Stamps of the latest inputs taken (``odom_stamp_ns``, ``detections_stamp_ns``,
            ``depth_stamp_ns``) and ``depth_frames``, the good depth frames so far.
    """

    stamp_ns: int
    command: Command
    publish_command: bool = True
    frame: FrameOutput | None = None
    status: NavStatus | None = None
    inputs: dict[str, int] = field(default_factory=dict)


class NavigationCore:
    """One obstacle_avoidance, fed plain inputs with stamps and ticked at times it is given."""

    def __init__(self, params: ObstacleAvoidanceParams, controller: Controller | None = None) -> None:
        """No input yet: the first tick is blind, the pose is dead-reckoned until odometry comes.

        Args:
            params: The node's parameters.
            controller: The decision stage, injectable for tests and the benchmark (default: a
                :class:`Controller` of ``params``).
        """
        params = params.prefixed()  # frame names with frame_prefix applied, whoever built the parameters
        self.params = params
        self.controller = controller or Controller(params)
        self.counts: Counter[str] = Counter()  # notices by reason (bad_odom, goal_refused...)
        self.inputs: Counter[str] = Counter()
        self._notices: list[Notice] = []
        self._odom_frame: str | None = None
        self._new_frame: tuple[int, str] | None = None
        self._unplaced: int | None = None  # stamp of a frame taken but not yet placed at its odometry pose (ns)
        self._last_state: str | None = None
        self._last_status_ns: int | None = None
        self.enabled = params.autostart
        self._heading_goal = math.isfinite(params.goal_heading_rad)
        self._reached: str | None = None  # the reason line of the goal point reached, until a new goal
        self._commanding = False  # the last tick gave a command (a move, or a blind stop while holding a goal)
        self._poses = PoseHistory()  # odometry by stamp, for the pose at a depth frame's stamp
        self._pairing = DetectionPairing(round(params.detection_stamp_tolerance_s * 1e9))
        self._said_uncompensated = False
        self._zero_once = False  # publish one zero twist at the next tick (disabled, cancelled)
        self._note(INFO, "", "no odometry on 'odom' yet: dead reckoning of the commanded twist")
        if not self.enabled:
            self._note(INFO, "", "autostart false: no command until ~/enable is called with true")
        if not self._heading_goal and not params.target_class:
            self._note(INFO, "", "no goal yet: waiting for a goal_pose (goal_heading_rad is not set)")

    # --- what the shells read -------------------------------------------------------------------

    @property
    def pose_source(self) -> str:
        """``odometry`` once an odometry message was taken, else ``dead_reckoning``."""
        return ODOMETRY if self._odom_frame is not None else DEAD_RECKONING

    def take_notices(self) -> list[Notice]:
        """The notices since the last call (oldest first); the shell logs or counts them."""
        notices, self._notices = self._notices, []
        return notices

    def _note(self, level: str, reason: str, text: str) -> None:
        if reason:
            self.counts[reason] += 1
        self._notices.append(Notice(level, reason, text))

    # --- inputs ---------------------------------------------------------------------------------

    def on_depth(self, stamp_ns: int, frame_id: str, depth: npt.NDArray[np.floating], camera: CameraModel) -> bool:
        """A depth frame (float32 m, NaN unknown) with its camera model, kept by reference until the next one.

        Returns:
            Whether the frame was good (a frame with too little valid depth makes the robot blind).

        Raises:
            ImageDecodeError: ``depth`` is not a 2-D array (the shell logs it and calls :meth:`on_failed`).
        """
        if self.controller.update_depth(stamp_ns * 1e-9, depth, camera) is None:
            return False
        # Placed at the next tick, with the odometry up to then (the order in which a frame and the odometry of
        # its time arrive is the middleware's; a frame placed on arrival could take the pose of the tick before).
        # Without latency_compensation it is placed nowhere (:meth:`_pose_at` gives None).
        self._unplaced = int(stamp_ns)
        if self.params.latency_compensation:
            paired = self._pairing.on_frame(int(stamp_ns))
            self._count_unpaired()
            if paired is not None:
                self.controller.update_detections(paired[0] * 1e-9, paired[1])
        self._new_frame = (int(stamp_ns), str(frame_id))
        self.inputs["depth_stamp_ns"] = int(stamp_ns)
        self.inputs["depth_frames"] += 1
        return True

    def on_failed(self, stamp_ns: int, reason: str) -> None:
        """A depth frame that could not be used (decode, model, no CameraInfo...): blind until a good one."""
        self.controller.mark_failed(stamp_ns * 1e-9, reason)

    def on_detections(self, stamp_ns: int, detections: Sequence[Detection2D]) -> None:
        """The latest 2-D detections, stamped with their image's time."""
        self.inputs["detections_stamp_ns"] = int(stamp_ns)
        if not self.params.latency_compensation:
            self.controller.update_detections(stamp_ns * 1e-9, detections)  # paired by arrival
            return
        current = self._pairing.on_detections(int(stamp_ns), detections)
        self._count_unpaired()
        if current:  # the detections of the frame decided on came after it: decide again with them
            self.controller.update_detections(stamp_ns * 1e-9, detections)
            self.controller.redecide()

    def _count_unpaired(self) -> None:
        dropped, self._pairing.dropped = self._pairing.dropped, 0
        if dropped:
            self.counts["detections_unpaired"] += dropped
            self.inputs["detections_unpaired"] += dropped

    def _pose_at(self, stamp_ns: int) -> tuple[float, float, float] | None:
        """The odometry pose at a depth frame's stamp (latency compensation), None when not compensating."""
        if not self.params.latency_compensation:
            return None
        pose = self._poses.at(int(stamp_ns))
        if pose is None and not self._said_uncompensated:
            self._said_uncompensated = True
            self._note(
                WARNING,
                "",
                "no odometry on 'odom': the latency of depth frames cannot be compensated (each frame is placed "
                "with the newest dead-reckoned pose)",
            )
        return pose

    def on_odometry(self, stamp_ns: int, frame_id: str, x: float, y: float, yaw: float) -> bool:
        """The robot's pose in the odometry frame; from the first one on it replaces dead reckoning.

        Returns:
            Whether it was taken (a non-finite pose is dropped with a notice).
        """
        if not all(math.isfinite(v) for v in (x, y, yaw)):
            self._note(WARNING, "bad_odom", "odometry with a non-finite pose dropped")
            return False
        self._poses.add(int(stamp_ns), (float(x), float(y), float(yaw)))
        p = self.params
        if self._odom_frame != frame_id:
            self._odom_frame = frame_id
            self._note(INFO, "", f"using odometry from 'odom' (frame '{frame_id}') instead of dead reckoning")
            if frame_id != p.odom_frame:
                self._note(
                    WARNING,
                    "",
                    f"odometry frame '{frame_id}' is not odom_frame '{p.odom_frame}': goals are taken in "
                    f"'{p.odom_frame}'",
                )
        resets = self.controller.odom_resets
        self.inputs["odom_stamp_ns"] = int(stamp_ns)
        self.controller.update_odometry(stamp_ns * 1e-9, yaw, x, y)
        if self.controller.odom_resets != resets:
            self._poses.clear()  # the poses before the jump are in another frame
            self._poses.add(int(stamp_ns), (float(x), float(y), float(yaw)))
            self._note(
                WARNING,
                "",
                f"odometry jumped (more than odom_jump_m {p.odom_jump_m} m or 1 rad): obstacle memory "
                "and local window dropped",
            )
        return True

    def on_goal(self, stamp_ns: int, frame_id: str, x: float, y: float) -> bool:
        """A goal point (what RViz's "2D Goal Pose" sends); only in ``odom_frame`` and finite.

        Returns:
            Whether it was taken (else refused with a notice).
        """
        del stamp_ns  # a goal holds until replaced; kept for a uniform input signature
        p = self.params
        if frame_id != p.odom_frame:
            text = f"goal refused: frame '{frame_id}' is not the odometry frame '{p.odom_frame}' (odom_frame)"
            self._note(WARNING, "goal_refused", text)
            return False
        if not (math.isfinite(x) and math.isfinite(y)):
            self._note(WARNING, "goal_refused", "goal refused: non-finite position")
            return False
        self.controller.set_goal_point(x, y)
        self._reached = None
        self._heading_goal = False  # the point replaces a heading: once reached, the robot stays
        source = "odometry" if self._odom_frame is not None else "dead reckoning (no odometry yet)"
        self._note(INFO, "", f"goal ({x:.2f}, {y:.2f}) in '{frame_id}', pose from {source}")
        return True

    # --- goal and enable (services, live parameters) --------------------------------------------

    def set_enabled(self, enabled: bool) -> str:
        """Enable (resume toward the goal still held) or disable (one zero twist, then nothing); the reply."""
        enabled = bool(enabled)
        if enabled != self.enabled:
            self.enabled = enabled
            if not enabled:
                self._zero_once = True
                self.controller.halt()
        text = "enabled" if enabled else "disabled: one zero twist, then no command until enabled"
        self._note(INFO, "", text)
        return text

    def cancel_goal(self) -> str:
        """Drop the goal point and the heading (one zero twist, then idle); the reply."""
        had = self.controller.goal_point is not None or self._heading_goal
        self.controller.clear_goal_point()
        self._heading_goal = False
        self._reached = None
        self._zero_once = True
        self.controller.halt()
        text = "goal cancelled: stopped" if had else "no goal to cancel: stopped"
        self._note(INFO, "", text)
        return text

    def set_goal_heading(self, heading_rad: float) -> None:
        """A heading goal set on purpose (a live ``goal_heading_rad``); NaN drops it."""
        if math.isfinite(heading_rad):
            self.controller.set_goal_heading(heading_rad)
            self._heading_goal, self._reached = True, None
        elif self._heading_goal:
            self._heading_goal = False
            self._zero_once = True

    def has_goal(self, now_ns: int) -> bool:
        """A goal point, a heading set on purpose, or the target class in view."""
        c = self.controller
        return c.goal_point is not None or self._heading_goal or c.target_in_view(now_ns * 1e-9)

    def retune(self, params: ObstacleAvoidanceParams) -> None:
        """New parameters while running (live tuning); the next tick uses them. Everything else is kept."""
        old, self.params = self.params, params
        self.controller.retune(params)
        heading = params.goal_heading_rad
        if not (math.isnan(heading) and math.isnan(old.goal_heading_rad)) and heading != old.goal_heading_rad:
            self.set_goal_heading(heading)  # a heading set (or unset: NaN) on purpose at run time

    # --- the tick ---------------------------------------------------------------------------------

    def tick(self, now_ns: int) -> TickOutput:
        """The control tick at ``now_ns`` (call it at ``control_rate_hz`` on the shell's clock)."""
        command, commanding = self._command(now_ns)
        # A state that commands nothing publishes one zero twist on entry (disable and cancel always), then
        # nothing; at start-up without a goal nothing at all.
        publish = commanding or self._commanding or self._zero_once
        self._commanding, self._zero_once = commanding, False
        return TickOutput(
            stamp_ns=int(now_ns),
            command=command,
            publish_command=publish,
            frame=self._frame_output(command),
            status=self._status(now_ns, command),
            inputs=dict(self.inputs),
        )

    def _command(self, now_ns: int) -> tuple[Command, bool]:
        """The tick's command, and whether it is one (False: idle, disabled, reached: zero, then silence)."""
        if self._unplaced is not None:
            self.controller.place_frame(self._pose_at(self._unplaced))
            self._unplaced = None
        if not (self.enabled and self.has_goal(now_ns)) and self._new_frame is not None:
            self.controller.perceive(now_ns * 1e-9)  # /obstacles go on without a goal
        if not self.enabled:
            return Command(0.0, 0.0, blind=False, reason=DISABLED_REASON, mode="disabled"), False
        if not self.has_goal(now_ns):
            if self._commanding:
                self.controller.halt()
            if self._reached is not None:
                return Command(0.0, 0.0, blind=False, reason=self._reached, mode="goal_reached"), False
            return Command(0.0, 0.0, blind=False, reason=IDLE_REASON, mode="idle"), False
        command = self.controller.step(now_ns * 1e-9)
        if command.mode == "goal_reached":  # done: the goal is dropped, the next one starts afresh
            self._reached = command.reason
            self._zero_once = True  # one zero twist, even when the goal was reached where the robot stood
            self.controller.clear_goal_point()
            self._note(INFO, "", command.reason)
            return command, False
        return command, True

    def _frame_output(self, command: Command) -> FrameOutput | None:
        """The new frame's outputs, once; a blind tick drops the frame (it is stale or failed)."""
        new, self._new_frame = self._new_frame, None
        if new is None or command.blind:
            return None
        stamp, frame_id = new
        return FrameOutput(stamp, frame_id, self.controller.scan, tuple(self.controller.obstacles))

    def _status(self, now_ns: int, command: Command) -> NavStatus | None:
        """The state for /diagnostics: at once when it changes, else every ``diagnostics_period_s``."""
        period_ns = round(self.params.diagnostics_period_s * 1e9)
        if period_ns <= 0:
            return None
        c = self.controller
        status = nav_status(
            command,
            c.pose,
            self.pose_source,
            c.goal_point,
            c.goal_heading if self._heading_goal else math.nan,
            c.odom_resets,
            dict(self.inputs),
        )
        due = self._last_status_ns is None or now_ns - self._last_status_ns >= period_ns
        if not due and status.state == self._last_state:
            return None
        self._last_state, self._last_status_ns = status.state, int(now_ns)
        return status
