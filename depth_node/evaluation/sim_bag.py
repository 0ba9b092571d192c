"""What the simulator records: the topics of a live robot running depth_node and obstacle_avoidance.

/camera/image_raw, /camera/camera_info, /camera/depth_gt (the renderer's exact depth, 32FC1), /detections,
/depth/image_raw, /depth/points, /scan, /obstacles, /cmd_vel, /odom, /tf, /tf_static and the goal on /goal_pose
(with the run's params.yaml beside it: what a replay needs to command what the robot did), with REP-105 frames
(``odom`` -> ``base_link`` -> the camera's optical frame), so the bag replays with ``depth-node replay`` and
shows the robot moving in Foxglove or RViz. Without a bag the same messages are still built (the control loop
reads them back), only not stored: :class:`NullWriter` stands in for the rosbags writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from depth_node import msgs as ros_msgs
from depth_node.evaluation.replay_frame import OUTPUT_TOPICS
from depth_node.evaluation.robot import RobotState
from depth_node.evaluation.world import Pose
from depth_node.frames import BASE_FRAME, ODOM_FRAME, quaternion_from_matrix, quaternion_from_yaw
from depth_node.msgs import MessageSet

CAMERA_FRAME = "camera_color_optical_frame"
CAMERA_TOPICS = {
    "image": ("/camera/image_raw", "sensor_msgs/msg/Image"),
    "info": ("/camera/camera_info", "sensor_msgs/msg/CameraInfo"),
    "gt": ("/camera/depth_gt", "sensor_msgs/msg/Image"),
    "detections": ("/detections", ros_msgs.DETECTION2D_ARRAY),
}
STATE_TOPICS = {
    "odom": ("/odom", "nav_msgs/msg/Odometry"),
    "tf": ("/tf", "tf2_msgs/msg/TFMessage"),
    "tf_static": ("/tf_static", "tf2_msgs/msg/TFMessage"),
    "goal": ("/goal_pose", "geometry_msgs/msg/PoseStamped"),
}


@dataclass(frozen=True)
class RobotFrames:
    """The simulated robot's TF frames: the nav parameters' own (odom_frame, base_frame, frame_prefix), so a
    run with a prefix (two robots, ``robot1/``) keeps goals, odometry and transforms in the frames the node
    expects."""

    odom: str = ODOM_FRAME
    base: str = BASE_FRAME
    camera: str = CAMERA_FRAME

    @classmethod
    def of(cls, params: Any) -> RobotFrames:
        """The frames of :class:`navigation.params.ObstacleAvoidanceParams` (prefix applied; the camera too)."""
        resolved = params.prefixed()
        return cls(resolved.odom_frame, resolved.base_frame, params.frame_prefix + CAMERA_FRAME)


DEFAULT_FRAMES = RobotFrames()


class NullWriter:
    """A rosbags-writer stand-in that stores nothing (a simulation run without a bag)."""

    def add_connection(self, topic: str, msgtype: str, **_: Any) -> None:
        """No connection; ``write`` ignores it."""
        del topic, msgtype

    def write(self, connection: Any, timestamp: int, data: bytes) -> None:
        """Drop the message."""
        del connection, timestamp, data


class SimRecorder:
    """Connections and message builders of one simulation run (the depth and navigation outputs are written by
    the same code replay uses; this adds the camera, ground truth, detections, odometry and transforms)."""

    def __init__(
        self,
        messages: MessageSet,
        writer: Any,
        camera_height_m: float,
        camera_pitch_rad: float,
        frames: RobotFrames = DEFAULT_FRAMES,
    ) -> None:
        self.messages = messages
        self.frames = frames
        self.writer = writer
        store = messages.typestore
        # The depth node's outputs under out_<key>: /depth/camera_info and /camera/camera_info are both "info".
        outputs = {f"out_{key}": value for key, value in OUTPUT_TOPICS.items()}
        topics = {**CAMERA_TOPICS, **STATE_TOPICS, **outputs}
        self._types = {key: msgtype for key, (_topic, msgtype) in topics.items()}
        self._conns = {key: writer.add_connection(t, ty, typestore=store) for key, (t, ty) in topics.items()}
        self.camera_height_m = camera_height_m
        self.camera_pitch_rad = camera_pitch_rad
        self.enabled = not isinstance(writer, NullWriter)

    def write(self, key: str, t_ns: int, msg: Any) -> None:
        """Serialise and store one message under a topic key (no-op without a bag)."""
        if self.enabled and msg is not None:
            self.writer.write(self._conns[key], t_ns, self.messages.typestore.serialize_cdr(msg, self._types[key]))

    def write_static(self, t_ns: int) -> None:
        """/tf_static: the camera mount, base_link -> optical frame (height and pitch, camera over the centre)."""
        msg = static_tf_msg(self.messages, t_ns, self.camera_height_m, self.camera_pitch_rad, self.frames)
        self.write("tf_static", t_ns, msg)

    def write_state(self, t_ns: int, state: RobotState) -> None:
        """/odom and /tf (odom -> base_link) of the robot's true state: the simulator's odometry is perfect."""
        if not self.enabled:
            return
        tf, odom = state_msgs(self.messages, t_ns, state, self.frames)
        self.write("tf", t_ns, tf)
        self.write("odom", t_ns, odom)


def static_tf_msg(
    messages: MessageSet,
    t_ns: int,
    camera_height_m: float,
    camera_pitch_rad: float,
    frames: RobotFrames = DEFAULT_FRAMES,
) -> Any:
    """The camera mount as a TFMessage: base -> optical frame (camera over the robot's centre)."""
    rot = Pose(0.0, 0.0, 0.0, 0.0, camera_pitch_rad).world_from_optical()
    header = messages.header(t_ns, frames.base)
    quat = quaternion_from_matrix(rot)
    tf = ros_msgs.transform_msg(messages, header, frames.camera, (0.0, 0.0, camera_height_m), quat)
    return ros_msgs.tf_message(messages, [tf])


def state_msgs(
    messages: MessageSet, t_ns: int, state: RobotState, frames: RobotFrames = DEFAULT_FRAMES
) -> tuple[Any, Any]:
    """(/tf TFMessage odom -> base, nav_msgs/Odometry) of the robot's true state, in either flavour."""
    m = messages
    make = ros_msgs.make
    quat = quaternion_from_yaw(state.yaw)
    tf = ros_msgs.transform_msg(m, m.header(t_ns, frames.odom), frames.base, (state.x, state.y, 0.0), quat)
    position = make(m, "geometry_msgs/msg/Point", x=state.x, y=state.y, z=0.0)
    orientation = make(m, "geometry_msgs/msg/Quaternion", x=quat[0], y=quat[1], z=quat[2], w=quat[3])
    pose = make(m, "geometry_msgs/msg/Pose", position=position, orientation=orientation)
    twist = make(
        m,
        "geometry_msgs/msg/Twist",
        linear=make(m, "geometry_msgs/msg/Vector3", x=state.v, y=0.0, z=0.0),
        angular=make(m, "geometry_msgs/msg/Vector3", x=0.0, y=0.0, z=state.w),
    )
    odom = make(
        m,
        "nav_msgs/msg/Odometry",
        header=m.header(t_ns, frames.odom),
        child_frame_id=frames.base,
        pose=make(m, "geometry_msgs/msg/PoseWithCovariance", pose=pose),
        twist=make(m, "geometry_msgs/msg/TwistWithCovariance", twist=twist),
    )
    return ros_msgs.tf_message(m, [tf]), odom


def goal_msg(messages: MessageSet, t_ns: int, x: float, y: float, frames: RobotFrames = DEFAULT_FRAMES) -> Any:
    """A geometry_msgs/PoseStamped goal point in the odometry frame (what RViz's "2D Goal Pose" sends)."""
    make = ros_msgs.make
    position = make(messages, "geometry_msgs/msg/Point", x=float(x), y=float(y), z=0.0)
    orientation = make(messages, "geometry_msgs/msg/Quaternion", x=0.0, y=0.0, z=0.0, w=1.0)
    pose = make(messages, "geometry_msgs/msg/Pose", position=position, orientation=orientation)
    return make(messages, "geometry_msgs/msg/PoseStamped", header=messages.header(t_ns, frames.odom), pose=pose)
