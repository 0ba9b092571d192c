"""Offline replay of a recorded ROS 2 bag through the depth node's own processing.

The replay drives :class:`depth_node.processing.DepthFrameProcessor`, the object the live node calls,
with the same parameter YAML, and writes what the node would have published into an MCAP bag next to
the input's topics, each output logged at its input frame's time, plus ``report.json`` with counts,
skip reasons and per-stage latencies, and ``report.html``.

With a ground-truth topic (``gt_depth_topic``: an aligned depth Image; ``gt_points_topic``: a cloud in
the optical frame) each frame's depth is also scored against it (:mod:`depth_node.evaluation.depth_eval`); the report
then carries ``depth_eval``, ``depth_metrics`` and ``depth_metrics_median_scaled`` (all three None
without a ground-truth topic, so the report has the same keys either way) and report.html its figures.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import image_codec
from depth_node import msgs as ros_msgs
from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.detection.detector import Detector
from depth_node.errors import BagError, DepthNodeError, ParameterError
from depth_node.estimator import DepthEstimator
from depth_node.evaluation.bag_recovery import integrity_report, readable_bag
from depth_node.evaluation.bagio import (
    AtomicBagDir,
    StampIndex,
    listing,
    message_at,
    open_bag,
    select_depth_topics,
    select_topics,
)
from depth_node.evaluation.depth_eval import GT_MATCH_NS, DepthEvaluator, check_depth_range
from depth_node.evaluation.nav_replay import NAV_TOPICS, NavReplay, output_typestore
from depth_node.evaluation.replay_detector import DETECTIONS_TOPIC, ReplayDetector
from depth_node.evaluation.twist_agreement import CMD_VEL, read_twists, twist_agreement
from depth_node.floor_affine import AffineFit
from depth_node.msgs import DETECTION2D_ARRAY, MessageSet, camera_from_info, decode_image, depth_from_msg, stamp_ns
from depth_node.msgs.vision_defs import register as register_vision
from depth_node.processing import STAGES, DepthFrameProcessor
from depth_node.scale import FloorFit, summarise_fits
from navigation.params import ObstacleAvoidanceParams

OUTPUT_TOPICS = {
    "depth": ("/depth/image_raw", "sensor_msgs/msg/Image"),
    "info": ("/depth/camera_info", "sensor_msgs/msg/CameraInfo"),
    "cloud": ("/depth/points", "sensor_msgs/msg/PointCloud2"),
}


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


def latency_summary(samples: Iterable[float]) -> dict[str, float | None]:
    """p50, p95 and max of a list of milliseconds (None when there are none)."""
    values = np.asarray(list(samples), dtype=np.float64)
    if values.size == 0:
        return {"p50": None, "p95": None, "max": None}
    return {
        "p50": round(float(np.percentile(values, 50)), 3),
        "p95": round(float(np.percentile(values, 95)), 3),
        "max": round(float(values.max()), 3),
    }


@dataclass
class ReplayStats:
    """Counters and timings collected while replaying."""

    frames_total: int = 0
    frames_processed: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    floor_fits: list[FloorFit | AffineFit] = field(
        default_factory=list
    )  # empty unless the depth node's floor_scale is on

    def skip(self, reason: str) -> None:
        """Count one skipped frame under ``reason``."""
        self.skip_reasons[reason] += 1

    def report(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        """The report.json payload."""
        return {
            "frames_total": self.frames_total,
            "frames_processed": self.frames_processed,
            "frames_skipped": sum(self.skip_reasons.values()),
            "skip_reasons": dict(sorted(self.skip_reasons.items())),
            "latency_ms": {stage: latency_summary(v) for stage, v in self.latencies.items()},
            "floor_scale": summarise_fits(self.floor_fits) if self.floor_fits else None,
            **extra,
        }


def _progress(total: int, enabled: bool | None) -> Any:
    from tqdm import tqdm

    disable = not sys.stderr.isatty() if enabled is None else not enabled
    return tqdm(total=total, unit="frame", desc="replay", disable=disable, file=sys.stderr)


def _check_detections_topic(reader: Any, topic: str | None) -> str | None:
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


def _optional_topic(reader: Any, topic: str | None, default: str, msgtype: str, flag: str) -> str | None:
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


GT_TYPES = {"depth": "sensor_msgs/msg/Image", "points": "sensor_msgs/msg/PointCloud2"}
NO_DEPTH_EVAL: dict[str, Any] = {"depth_metrics": None, "depth_metrics_median_scaled": None, "depth_eval": None}


def _ground_truth(
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


def _colour_of(image: Any) -> npt.NDArray[np.uint8] | None:
    """The RGB of an image message (decoded again only for the few frames the report shows whole)."""
    try:
        pixels, encoding = decode_image(image)
        return image_codec.to_rgb8(pixels, encoding)
    except DepthNodeError:
        return None


class _FrameSource:
    """Turns one image message of the bag into depth for the navigation: the model, or sensor depth."""

    def __init__(
        self, messages: MessageSet, estimator: DepthEstimator | None, params: DepthNodeParams, image_topic: str = ""
    ) -> None:
        self.processor = None if estimator is None else DepthFrameProcessor(messages, estimator, params, image_topic)

    def process(
        self, image: Any, info: Any
    ) -> tuple[Any, CameraModel, dict[str, float], list[tuple[str, Any]], FloorFit | AffineFit | None]:
        """(depth m, camera, stage milliseconds, depth-node output messages by OUTPUT_TOPICS key, floor fit).

        Raises:
            DepthNodeError: the frame cannot be used (its ``reason`` is counted).
        """
        if self.processor is None:
            t0 = time.perf_counter()
            depth = depth_from_msg(image)
            camera = camera_from_info(info, image_size=(depth.shape[1], depth.shape[0]))
            return depth, camera, {"decode": (time.perf_counter() - t0) * 1e3}, [], None
        result = self.processor.process(image, info)
        outputs = [("depth", result.depth_msg), ("info", result.info_msg), ("cloud", result.cloud_msg)]
        kept = [(k, m) for k, m in outputs if m is not None]
        return result.depth, result.camera, result.times_ms, kept, result.floor


def run_replay(
    options: ReplayOptions,
    estimator: DepthEstimator | None,
    params: DepthNodeParams,
    nav_params: ObstacleAvoidanceParams | None = None,
    detector: Detector | None = None,
) -> dict[str, Any]:
    """Replay ``options.bag`` and write ``options.out``; returns the report (also in OUT/report.json).

    The depth comes from ``estimator`` run on the colour images, or, with ``options.depth_topic`` (then
    ``estimator`` may be None), from the bag's sensor depth. Either way the navigation controller runs on
    it on the bag clock (:mod:`depth_node.evaluation.nav_replay`).

    With a ``detector`` each colour frame is also run through it, in place of ``options.detections_topic``
    (:mod:`depth_node.evaluation.replay_detector`); its detections go to the navigation and to ``/detections``.

    With a ground-truth topic in ``options`` the depth is also scored against it (module docstring).
    OUT also gets report.html: the report as a table, and with ground truth the depth figures.

    Raises:
        BagError: the input is not a readable bag, the topics cannot be chosen, or OUT exists.
        ParameterError: inconsistent ground-truth options, or a detector with a detections topic or sensor depth.
    """
    if detector is not None and (options.detections_topic or options.depth_topic):
        raise ParameterError(
            "--detector runs on the colour images in place of --detections-topic and the model's "
            "depth; it cannot be combined with --detections-topic or --depth-topic"
        )
    nav_params = nav_params or ObstacleAvoidanceParams()
    stats = ReplayStats()
    stats.latencies["navigation"] = []
    with contextlib.ExitStack() as stack:
        bag = stack.enter_context(readable_bag(options.bag))
        reader = stack.enter_context(open_bag(bag.paths))
        # What the bag promises per topic: its own index (or, for a salvaged recording, its metadata.yaml).
        expected: Counter[str] = Counter()
        if bag.salvage is None:
            for c in reader.connections:
                expected[c.topic] += c.msgcount
        else:
            expected.update(bag.expected_by_topic)
        read: Counter[str] = Counter()
        if options.depth_topic is not None:
            image_topic, info_topic = select_depth_topics(reader, options.depth_topic, options.camera_info_topic)
        else:
            if estimator is None:
                raise ValueError("run_replay needs an estimator unless options.depth_topic is given")
            image_topic, info_topic = select_topics(reader, options.image_topic, options.camera_info_topic)
        det_topic = _check_detections_topic(reader, options.detections_topic)
        odom_topic = _optional_topic(reader, options.odom_topic, DEFAULT_ODOM_TOPIC, ODOM_TYPE, "--odom-topic")
        if options.compare_cmd_vel and not any(c.topic == CMD_VEL for c in reader.connections):
            raise BagError(f"--compare-cmd-vel: the bag has no {CMD_VEL} to compare with; it has {listing(reader)}")
        goal_topic = _optional_topic(reader, options.goal_topic, DEFAULT_GOAL_TOPIC, GOAL_TYPE, "--goal-topic")
        out_store, vision_source = output_typestore(reader.typestore, options.msg_dir)
        if detector is not None and vision_source is None:
            register_vision(out_store)  # the detector's own messages need vision_msgs in any case
            vision_source = "built-in"
        messages = MessageSet.from_rosbags(out_store)
        source = _FrameSource(messages, None if options.depth_topic else estimator, params, image_topic)
        n_images = sum(c.msgcount for c in reader.connections if c.topic == image_topic)
        evaluator = _ground_truth(reader, options, n_images, stack, bag.paths)
        with AtomicBagDir(options.out, overwrite=options.overwrite) as out:
            writer = out.writer
            written = set(NAV_TOPICS.values())
            if source.processor is not None:
                written |= {t for t, _ in OUTPUT_TOPICS.values()}
            if detector is not None:
                written.add(DETECTIONS_TOPIC)
            # An input topic of the same name as an output (a re-replayed output bag, a robot's own
            # /scan) is not copied: two connections of one topic would be ambiguous. The report lists them.
            replaced = sorted({c.topic for c in reader.connections if c.topic in written})
            # A copied topic keeps the QoS the input bag recorded for it (the package's when it has none).
            copies = {
                c.id: writer.add_connection(
                    c.topic,
                    c.msgtype,
                    typestore=reader.typestore,
                    offered_qos_profiles=getattr(c.ext, "offered_qos_profiles", ()),
                )
                for c in reader.connections
                if c.topic not in written
            }
            outs = {}
            if source.processor is not None:
                outs = {k: writer.add_connection(t, ty, typestore=out_store) for k, (t, ty) in OUTPUT_TOPICS.items()}
            nav = NavReplay(
                messages,
                nav_params,
                writer,
                write_obstacles=vision_source is not None,
                tf_static=_tf_static_writer(writer, copies, reader, out_store),
            )
            detect = None if detector is None else ReplayDetector(messages, detector, writer)
            # Odometry and goals as the live node takes them (the core drops a non-finite one, and counts it).
            handlers = (("odom", odom_topic, nav.on_odometry), ("goal", goal_topic, nav.on_goal))
            inputs = {topic: (name, take) for name, topic, take in handlers if topic is not None}
            infos = StampIndex.from_bag(reader, info_topic)  # nearest at any distance: intrinsics rarely change
            last_time: int | None = None
            with _progress(n_images, options.progress) as bar:
                for conn, timestamp, raw in reader.messages():
                    read[conn.topic] += 1
                    nav.advance(timestamp)
                    last_time = timestamp
                    if conn.id in copies:
                        writer.write(copies[conn.id], timestamp, raw)
                    if conn.topic == det_topic:
                        try:
                            nav.on_detections(reader.deserialize(raw, conn.msgtype))
                        except Exception:
                            nav.counts["detections_malformed"] += 1
                        continue
                    if conn.topic in inputs:
                        name, take = inputs[conn.topic]
                        try:
                            message = reader.deserialize(raw, conn.msgtype)
                        except Exception:
                            nav.counts[f"{name}_malformed"] += 1
                            continue
                        take(message)
                        continue
                    if conn.topic != image_topic:
                        continue
                    stats.frames_total += 1
                    bar.update(1)
                    frame = _Frame(reader, conn, raw, timestamp, stats.frames_total - 1, detect)
                    _process_frame(frame, infos, source, stats, nav, evaluator, writer, outs, out_store)
            if last_time is not None:
                nav.advance(last_time, inclusive=True)
            stats.latencies["navigation"] = nav.latencies_ms
            if detect is not None:
                stats.latencies["detector"] = detect.latencies_ms
            navigation = nav.navigation_report()
            navigation["obstacles_written"] = vision_source is not None
            navigation["vision_msgs_from"] = vision_source
            warnings = []
            if vision_source is None:
                navigation["warning"] = "vision_msgs definitions not found (bag or --msg-dir): /obstacles not written"
                warnings.append(navigation["warning"])
            agreement = None
            if options.compare_cmd_vel:
                recorded = read_twists(bag.paths, CMD_VEL)
                if not recorded:
                    raise BagError(
                        f"--compare-cmd-vel: the bag has no {CMD_VEL} to compare with; it has {listing(reader)}"
                    )
                agreement = twist_agreement(recorded, nav.twists)
            integrity = integrity_report(bag.salvage, expected, read)
            warnings.extend(integrity.pop("warnings"))
            report = stats.report(
                {
                    "camera_info_malformed": infos.malformed,
                    "provider": "sensor_depth" if source.processor is None else getattr(estimator, "provider", ""),
                    "input_bag": str(options.bag),
                    "image_topic": image_topic,
                    "camera_info_topic": info_topic,
                    "depth_topic": options.depth_topic,
                    "detections_topic": det_topic,
                    "odom_topic": odom_topic,
                    "goal_topic": goal_topic,
                    "cmd_vel": nav.report(),
                    "cmd_vel_agreement": agreement,
                    "input_topics_replaced": replaced,
                    "navigation": navigation,
                    "detector": None if detect is None else detect.report(),
                    **(NO_DEPTH_EVAL if evaluator is None else evaluator.report()),
                    **integrity,
                    "warnings": warnings,
                }
            )
            out.add_json("report.json", report)
            _write_html(out.staging, options, report, evaluator)
    return report


def _write_html(directory: Path, options: ReplayOptions, report: Mapping[str, Any], ev: DepthEvaluator | None) -> None:
    """report.html (and with ground truth its figures) into the bag directory being written."""
    from depth_node.evaluation.replay_page import replay_page_blocks
    from depth_node.evaluation.report import depth_figures, write_page

    figures = depth_figures(directory, ev.records()) if ev is not None else []
    blocks = replay_page_blocks(report, figures, None if ev is None else ev.topic)
    subtitle = f"{report['frames_processed']} of {report['frames_total']} frames processed, on {report['provider']}"
    write_page(directory / "report.html", f"depth-node replay: {options.bag.name}", blocks, subtitle)


@dataclass
class _Frame:
    """One image message of the bag as read: where it came from and its position among the images."""

    reader: Any
    conn: Any
    raw: bytes
    timestamp: int
    index: int
    detector: ReplayDetector | None = None  # runs on the frame before its depth


def _process_frame(
    frame: _Frame,
    infos: StampIndex,
    source: _FrameSource,
    stats: ReplayStats,
    nav: NavReplay,
    evaluator: DepthEvaluator | None,
    writer: Any,
    outs: dict[str, Any],
    out_store: Any,
) -> None:
    """One image (colour or depth) of the bag: depth, navigation input, depth-node outputs, evaluation."""
    timestamp = frame.timestamp
    try:
        image = frame.reader.deserialize(frame.raw, frame.conn.msgtype)
    except Exception:
        stats.skip("malformed_message")
        nav.on_failed(timestamp, "malformed message")
        return
    if frame.detector is not None:
        frame.detector.process(image, timestamp, nav)
    stamp = stamp_ns(image.header)
    info = infos.lookup(stamp)
    if info is None:
        stats.skip("no_camera_info")
        nav.on_failed(stamp, "no camera_info")
        return
    try:
        depth, camera, times_ms, outputs, floor = source.process(image, info)
    except DepthNodeError as exc:
        stats.skip(exc.reason)
        nav.on_failed(stamp, f"{exc.reason}: {exc}")
        return
    stats.frames_processed += 1
    if floor is not None:
        stats.floor_fits.append(floor)
    for stage, ms in times_ms.items():
        stats.latencies[stage].append(ms)
    nav.on_depth(depth, camera, image.header)
    for key, msg in outputs:
        writer.write(outs[key], timestamp, out_store.serialize_cdr(msg, OUTPUT_TOPICS[key][1]))
    if evaluator is not None:
        # Sensor depth has no colour image to show; a colour one is decoded again only if kept whole.
        colour = None if source.processor is None else functools.partial(_colour_of, image)
        evaluator.add(frame.index, stamp, depth, camera, colour)


def _tf_static_writer(writer: Any, copies: dict[int, Any], reader: Any, store: Any) -> Callable[[int, Any], None]:
    """Writes a TFMessage on /tf_static: into the input bag's copied /tf_static when there is one (one topic,
    one connection), else into a new connection."""
    conn = next((copies[c.id] for c in reader.connections if c.topic == "/tf_static" and c.id in copies), None)
    if conn is None:
        conn = writer.add_connection("/tf_static", ros_msgs.TF_MESSAGE, typestore=store)

    def write(t_ns: int, msg: Any) -> None:
        writer.write(conn, t_ns, store.serialize_cdr(msg, ros_msgs.TF_MESSAGE))

    return write
