"""What a bag replay reads: its options, and the topics of the bag they choose for each input.

:class:`ReplayOptions` says what to replay and where to write it; the functions here check the chosen topics
against the bag (a topic asked for by name must be there with the right type; an optional navigation input is
taken when the bag has it) and set up the ground-truth evaluator of ``--gt-depth-topic`` / ``--gt-points-topic``
(:mod:`depth_node.evaluation.depth_eval`). Each refusal is a :class:`~depth_node.errors.BagError` or
:class:`~depth_node.errors.ParameterError` naming the flag and listing what the bag has.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depth_node.errors import BagError, ParameterError
from depth_node.evaluation.bagio import StampIndex, listing, message_at, open_bag, select_depth_topics, select_topics
from depth_node.evaluation.depth_eval import GT_MATCH_NS, DepthEvaluator, check_depth_range
from depth_node.evaluation.twist_agreement import CMD_VEL
from depth_node.msgs import DETECTION2D_ARRAY, depth_from_msg


@dataclass
class ReplayOptions:
    """What to replay and where to write it."""

    bag: Path
    out: Path
    image_topic: str | None = None
    camera_info_topic: str | None = None
    depth_topic: str | None = None  # sensor depth (16UC1 mm / 32FC1 m) instead of the model
    detections_topic: str | None = None  # vision_msgs/Detection2DArray for the navigation
    odom_topic: str | None = None  # nav_msgs/Odometry for the navigation (None: /odom when the bag has it; "": none)
    goal_topic: str | None = None  # geometry_msgs/PoseStamped goals (None: /goal_pose when the bag has it; "": none)
    msg_dir: Path | None = None  # vision_msgs .msg files when the bag does not carry them
    gt_depth_topic: str | None = None  # aligned ground-truth depth Image (16UC1 mm / 32FC1 m)
    gt_points_topic: str | None = None  # ground-truth PointCloud2 in the camera's optical frame
    gt_min_depth: float = 0.1  # ground-truth pixels outside [min, max] metres are not evaluated
    gt_max_depth: float = 10.0
    worst_frames: int = 0  # with ground truth: report.html also shows this many frames of highest AbsRel
    compare_cmd_vel: bool = False  # report how often the replayed /cmd_vel equals the bag's own
    overwrite: bool = False
    progress: bool | None = None  # None: a bar when stderr is a terminal


def check_detections_topic(reader: Any, topic: str | None) -> str | None:
    if topic is None:
        return None
    conn = next((c for c in reader.connections if c.topic == topic), None)
    if conn is None or conn.msgtype != DETECTION2D_ARRAY:
        raise BagError(
            f"detections topic '{topic}' is not a vision_msgs/Detection2DArray topic of the bag; it has "
            f"{listing(reader)}"
        )
    return topic


ODOM_TYPE, GOAL_TYPE = "nav_msgs/msg/Odometry", "geometry_msgs/msg/PoseStamped"
DEFAULT_ODOM_TOPIC, DEFAULT_GOAL_TOPIC = "/odom", "/goal_pose"


def optional_topic(reader: Any, topic: str | None, default: str, msgtype: str, flag: str) -> str | None:
    """The topic of an optional navigation input: ``default`` when the bag has it (``topic`` None), none for "",
    else ``topic``, which must be in the bag with ``msgtype``.

    Raises:
        BagError: a topic asked for by name is not in the bag with that type.
    """
    if topic == "":
        return None
    conn = next((c for c in reader.connections if c.topic == (topic or default)), None)
    if conn is not None and conn.msgtype == msgtype:
        return conn.topic
    if topic is None:
        return None
    raise BagError(
        f"{flag} '{topic}' is not a {msgtype.replace('/msg/', '/')} topic of the bag; it has {listing(reader)}"
    )


@dataclass(frozen=True)
class ReplayTopics:
    """The bag's topics the replay reads: the images and their CameraInfo, and the navigation's optional inputs."""

    image: str
    camera_info: str
    detections: str | None
    odom: str | None
    goal: str | None


def choose_topics(reader: Any, options: ReplayOptions, has_estimator: bool) -> ReplayTopics:
    """The topics of ``options`` checked against the bag (``has_estimator``: a model runs on colour images).

    Raises:
        BagError: a topic cannot be chosen or is not in the bag with its type, or ``--compare-cmd-vel`` without
            the bag's own /cmd_vel.
        ValueError: neither a model nor ``options.depth_topic``.
    """
    if options.depth_topic is not None:
        image_topic, info_topic = select_depth_topics(reader, options.depth_topic, options.camera_info_topic)
    else:
        if not has_estimator:
            raise ValueError("run_replay needs an estimator unless options.depth_topic is given")
        image_topic, info_topic = select_topics(reader, options.image_topic, options.camera_info_topic)
    det_topic = check_detections_topic(reader, options.detections_topic)
    odom_topic = optional_topic(reader, options.odom_topic, DEFAULT_ODOM_TOPIC, ODOM_TYPE, "--odom-topic")
    if options.compare_cmd_vel and not any(c.topic == CMD_VEL for c in reader.connections):
        raise BagError(f"--compare-cmd-vel: the bag has no {CMD_VEL} to compare with; it has {listing(reader)}")
    goal_topic = optional_topic(reader, options.goal_topic, DEFAULT_GOAL_TOPIC, GOAL_TYPE, "--goal-topic")
    return ReplayTopics(image_topic, info_topic, det_topic, odom_topic, goal_topic)


GT_TYPES = {"depth": "sensor_msgs/msg/Image", "points": "sensor_msgs/msg/PointCloud2"}
NO_DEPTH_EVAL: dict[str, Any] = {"depth_metrics": None, "depth_metrics_median_scaled": None, "depth_eval": None}


def ground_truth(
    reader: Any, options: ReplayOptions, n_frames: int, stack: contextlib.ExitStack, paths: list[Path]
) -> DepthEvaluator | None:
    """The evaluator of ``options``' ground-truth topic, or None without one.

    The topic is indexed by header stamp now, and each frame's message read back when the frame comes,
    through a second reader (the first one is iterating the bag): depth images of a whole bag do not fit
    in memory.

    Raises:
        BagError: the topic is not in the bag with the right type.
        ParameterError: both ground-truth topics given, or a bad depth range.
    """
    given = [(k, t) for k, t in (("depth", options.gt_depth_topic), ("points", options.gt_points_topic)) if t]
    if not given:
        return None
    if len(given) > 1:
        raise ParameterError("give --gt-depth-topic or --gt-points-topic, not both")
    kind, topic = given[0]
    check_depth_range(options.gt_min_depth, options.gt_max_depth)
    conn = next((c for c in reader.connections if c.topic == topic), None)
    if conn is None or conn.msgtype != GT_TYPES[kind]:
        raise BagError(
            f"ground-truth topic '{topic}' is not a {GT_TYPES[kind].replace('/msg/', '/')} topic of the bag; "
            f"it has {listing(reader)}"
        )
    index = StampIndex.from_bag(reader, topic, keep_messages=False)
    gt_reader = stack.enter_context(open_bag(paths))

    def fetch(stamp: int) -> Any:
        hit = index.nearest(stamp, GT_MATCH_NS)
        return None if hit is None else message_at(gt_reader, topic, hit[1], hit[0])

    return DepthEvaluator(
        topic,
        kind,
        fetch,
        depth_from_msg,
        n_frames,
        min_depth=options.gt_min_depth,
        max_depth=options.gt_max_depth,
        worst_frames=options.worst_frames,
    )
