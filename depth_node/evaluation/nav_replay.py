"""The obstacle_avoidance node, offline: its :class:`navigation.core.NavigationCore` ticked on a bag's clock.

:class:`NavReplay` is fed the same inputs the live node gets (depth frames with their camera, failed
frames, Detection2DArray, Odometry and goal PoseStamped messages) and ticks the core at ``control_rate_hz``
on the bag clock from the first to the last message: before each message, every tick due earlier fires.
So a gap in the depth makes the watchdog stop the robot in replay exactly as it does live, and every rule
of a tick (blind, goal reached, which header) is the core's, the live node's own. ``/cmd_vel`` is written at
every tick, ``/scan`` and ``/obstacles`` at the first non-blind tick after each new depth frame (when the
core decides on it), all logged at the time of that tick. ``/scan`` is in the level scan frame
(``scan_frame``, see :mod:`depth_node.frames`), ``/obstacles`` in the camera optical frame (3-D poses mean
the same in any frame).

/obstacles needs the vision_msgs definitions in the output typestore; without them (a bag with no
detections and no ``--msg-dir``) it is not written, and the report says so instead of failing the
replay, since the obstacles come from detections and would be empty anyway.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from depth_node import msgs as ros_msgs
from depth_node.camera import CameraModel
from depth_node.errors import BagError
from depth_node.msgs import MessageSet, stamp_ns
from depth_node.types import Command, Detection2D
from navigation.core import NavigationCore, TickOutput
from navigation.params import ObstacleAvoidanceParams

NAV_TOPICS = {"obstacles": "/obstacles", "scan": "/scan", "cmd_vel": "/cmd_vel"}


def output_typestore(reader_store: Any, msg_dir: Path | None) -> tuple[Any, str | None]:
    """The Humble typestore for writing, with vision_msgs from the bag or else from ``msg_dir``.

    Returns:
        (typestore, where vision_msgs came from: "bag", "msg_dir", or None when not available).

    Raises:
        BagError: ``msg_dir`` is given but holds no .msg files.
    """
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    wanted = (ros_msgs.DETECTION3D_ARRAY, "vision_msgs/msg/Detection3D", "vision_msgs/msg/BoundingBox3D")
    if reader_store is not None and ros_msgs.has_types(reader_store, *wanted):
        ros_msgs.register_from_typestore(store, reader_store)
        if ros_msgs.has_types(store, *wanted):
            return store, "bag"
    if msg_dir is not None:
        try:
            ros_msgs.register_msg_dir(store, msg_dir)
        except (OSError, ValueError) as exc:
            raise BagError(f"--msg-dir '{msg_dir}': {exc}") from exc
        if not ros_msgs.has_types(store, *wanted):
            raise BagError(f"--msg-dir '{msg_dir}' does not define vision_msgs/Detection3DArray")
        return store, "msg_dir"
    return store, None


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "min": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(arr.mean()), 6), "min": round(float(arr.min()), 6), "max": round(float(arr.max()), 6)}


class NavReplay:
    """The navigation core plus its outputs, ticked on the bag clock (see the module docstring)."""

    def __init__(
        self,
        messages: MessageSet,
        params: ObstacleAvoidanceParams,
        writer: Any,
        write_obstacles: bool,
        tf_static: Callable[[int, Any], None] | None = None,
    ) -> None:
        """Open the output connections.

        Args:
            messages: Message classes of the output bag.
            params: The node's parameters.
            writer: A rosbags writer (or :class:`depth_node.evaluation.sim_bag.NullWriter`).
            write_obstacles: Write /obstacles (needs vision_msgs in the typestore).
            tf_static: Writes a ``tf2_msgs/TFMessage`` on /tf_static at a time; with ``publish_scan_tf`` the
                optical frame -> scan frame transform goes there before the first scan of each camera frame
                id, as the live node publishes it. None: not written.
        """
        params = params.prefixed()  # frame names as the live node uses them (frame_prefix applied)
        self.messages = messages
        self._tf_static = tf_static if params.publish_scan_tf else None
        self._announced: set[str] = set()
        self.params = params
        self.core = NavigationCore(params)
        self.core.take_notices()  # the start-up line is for a live user, not a replay report
        self.writer = writer
        self.period_ns = max(1, round(1e9 / params.control_rate_hz))
        self.next_tick: int | None = None
        store = messages.typestore
        twist_type = ros_msgs.TWIST_STAMPED if params.cmd_vel_stamped else ros_msgs.TWIST
        self._types = {"scan": ros_msgs.LASER_SCAN, "cmd_vel": twist_type, "obstacles": ros_msgs.DETECTION3D_ARRAY}
        keys = ("scan", "cmd_vel", "obstacles") if write_obstacles else ("scan", "cmd_vel")
        self._conns = {k: writer.add_connection(NAV_TOPICS[k], self._types[k], typestore=store) for k in keys}
        self._pending_ms: float | None = None
        self.latencies_ms: list[float] = []
        self.linear: list[float] = []
        self.angular: list[float] = []
        self.twists: dict[int, tuple[float, float]] = {}  # tick time -> (linear.x, angular.z) published
        self.counts: Counter[str] = Counter()
        self.last_command: Command | None = None  # what the latest tick published (the simulator drives it)
        self.last_output: TickOutput | None = None

    @property
    def controller(self) -> Any:
        """The core's decision stage (pose, goal, scan: read-only for reports and tests)."""
        return self.core.controller

    # --- inputs ------------------------------------------------------------------------------------

    def advance(self, t_ns: int, inclusive: bool = False) -> None:
        """Fire every tick due before ``t_ns`` (or at it when ``inclusive``); the first message starts the clock."""
        if self.next_tick is None:
            self.next_tick = t_ns
        while self.next_tick < t_ns or (inclusive and self.next_tick == t_ns):
            self._tick(self.next_tick)
            self.next_tick += self.period_ns

    def on_depth(self, depth: Any, camera: CameraModel, header: Any) -> None:
        """A depth frame (float32 m, NaN unknown) and its camera, stamped by its header."""
        t0 = time.perf_counter()
        good = self.core.on_depth(stamp_ns(header), str(header.frame_id), depth, camera)
        self._pending_ms = (time.perf_counter() - t0) * 1e3
        self.counts["depth_frames"] += 1
        if not good:
            self.counts["depth_failed"] += 1

    def on_failed(self, stamp_ns_: int, reason: str) -> None:
        """A depth frame that could not be used: the core is blind until the next good one."""
        self.counts["depth_failed"] += 1
        self.core.on_failed(stamp_ns_, reason)

    def on_detections(self, msg: Any) -> None:
        """A deserialised vision_msgs/Detection2DArray."""
        self.on_detection_list(stamp_ns(msg.header), ros_msgs.detections_from_msg(msg))

    def on_detection_list(self, stamp: int, detections: list[Detection2D]) -> None:
        """Detections already converted (the simulator's own detector), stamped with their image's time."""
        self.counts["detection_msgs"] += 1
        self.core.on_detections(stamp, detections)

    def on_odometry(self, msg: Any) -> None:
        """A deserialised nav_msgs/Odometry."""
        self.counts["odom_msgs"] += 1
        self.core.on_odometry(*ros_msgs.odometry_from_msg(msg))
        self._count_notices()

    def on_goal(self, msg: Any) -> None:
        """A deserialised geometry_msgs/PoseStamped goal."""
        self.counts["goal_msgs"] += 1
        self.core.on_goal(*ros_msgs.goal_from_msg(msg))
        self._count_notices()

    def _count_notices(self) -> None:
        for notice in self.core.take_notices():
            if notice.reason:
                self.counts[notice.reason] += 1

    # --- control loop ----------------------------------------------------------------------------

    def _write(self, key: str, t_ns: int, msg: Any) -> None:
        conn = self._conns.get(key)
        if conn is not None:
            self.writer.write(conn, t_ns, self.messages.typestore.serialize_cdr(msg, self._types[key]))
            self.counts[f"{key}_written"] += 1

    def _tick(self, t_ns: int) -> None:
        t0 = time.perf_counter()
        out = self.core.tick(t_ns)
        step_ms = (time.perf_counter() - t0) * 1e3
        command = out.command
        self.last_command, self.last_output = command, out
        m = self.messages
        self.counts["ticks"] += 1
        if command.blind:
            self.counts["blind_ticks"] += 1
        self.linear.append(command.linear_x)
        self.angular.append(command.angular_z)
        if out.publish_command:
            self.twists[t_ns] = (command.linear_x, command.angular_z)
            header = m.header(t_ns, self.params.base_frame) if self.params.cmd_vel_stamped else None
            self._write("cmd_vel", t_ns, ros_msgs.twist_to_msg(m, command, header))
        frame = out.frame
        if frame is not None:
            # The core decided on this frame in this tick: its scan and obstacles go out now,
            # stamped with the frame's header (the data's time and camera frame), logged at the tick.
            depth_header = m.header(frame.stamp_ns, frame.frame_id)
            if frame.scan is not None:
                self._announce_scan_frame(t_ns, depth_header)
                scan_header = ros_msgs.scan_header(m, depth_header, self.params.scan_frame)
                self._write("scan", t_ns, ros_msgs.scan_to_msg(m, frame.scan, scan_header))
            if "obstacles" in self._conns:
                self._write("obstacles", t_ns, ros_msgs.obstacles_to_msg(m, frame.obstacles, depth_header))
            if self._pending_ms is not None:
                self.latencies_ms.append(self._pending_ms + step_ms)
        if frame is not None or command.blind:
            self._pending_ms = None

    def _announce_scan_frame(self, t_ns: int, depth_header: Any) -> None:
        camera_frame = str(depth_header.frame_id)
        if self._tf_static is None or camera_frame in self._announced:
            return
        self._announced.add(camera_frame)
        p = self.params
        self._tf_static(t_ns, ros_msgs.scan_tf_msg(self.messages, depth_header, p.scan_frame, p.camera_pitch_rad))
        self.counts["tf_static_written"] += 1

    def report(self) -> dict[str, Any]:
        """The ``cmd_vel`` summary of report.json."""
        zero = sum(1 for lin, ang in zip(self.linear, self.angular, strict=True) if lin == 0.0 and ang == 0.0)
        return {
            "count": len(self.linear),
            "linear_x": _summary(self.linear),
            "angular_z": _summary(self.angular),
            "zero": zero,
        }

    def navigation_report(self) -> dict[str, Any]:
        """Counters of the navigation replay (ticks, blind ticks, inputs, messages written)."""
        return {
            "control_rate_hz": self.params.control_rate_hz,
            "stamped": self.params.cmd_vel_stamped,
            **{k: int(v) for k, v in sorted(self.counts.items())},
        }
