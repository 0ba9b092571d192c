"""Offline replay of a recorded ROS 2 bag through the depth node's own processing.

The replay drives :class:`depth_node.processing.DepthFrameProcessor`, the object the live node calls,
with the same parameter YAML, and writes what the node would have published into an MCAP bag next to
the input's topics, each output logged at its input frame's time, plus ``report.json`` with counts,
skip reasons and per-stage latencies, and ``report.html``.

With a ground-truth topic (``gt_depth_topic``: an aligned depth Image; ``gt_points_topic``: a cloud in
the optical frame) each frame's depth is also scored against it (:mod:`depth_node.evaluation.depth_eval`); the report
then carries ``depth_eval``, ``depth_metrics`` and ``depth_metrics_median_scaled`` (all three None
without a ground-truth topic, so the report has the same keys either way) and report.html its figures.

The replay's parts: :mod:`depth_node.evaluation.replay_inputs` (the options, and the bag's topics they choose),
:mod:`depth_node.evaluation.replay_frame` (one image through the depth node, the navigation and the evaluation),
this module (the pass over the bag and the output bag), :mod:`depth_node.evaluation.replay_page` (report.html).
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from depth_node import msgs as ros_msgs
from depth_node.depth_params import DepthNodeParams
from depth_node.detection.detector import Detector
from depth_node.errors import BagError, ParameterError
from depth_node.estimator import DepthEstimator
from depth_node.evaluation.bag_recovery import integrity_report, readable_bag
from depth_node.evaluation.bagio import AtomicBagDir, StampIndex, listing, open_bag
from depth_node.evaluation.nav_replay import NAV_TOPICS, NavReplay, output_typestore
from depth_node.evaluation.replay_detector import DETECTIONS_TOPIC, ReplayDetector
from depth_node.evaluation.replay_frame import OUTPUT_TOPICS, Frame, FrameSource, ReplayStats, process_frame
from depth_node.evaluation.replay_inputs import NO_DEPTH_EVAL, ReplayOptions, choose_topics, ground_truth
from depth_node.evaluation.replay_page import write_replay_page
from depth_node.evaluation.twist_agreement import CMD_VEL, read_twists, twist_agreement
from depth_node.msgs import MessageSet
from depth_node.msgs.vision_defs import register as register_vision
from navigation.params import ObstacleAvoidanceParams


def _progress(total: int, enabled: bool | None) -> Any:
    from tqdm import tqdm

    disable = not sys.stderr.isatty() if enabled is None else not enabled
    return tqdm(total=total, unit="frame", desc="replay", disable=disable, file=sys.stderr)


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
        expected = _expected_counts(bag, reader)
        read: Counter[str] = Counter()
        topics = choose_topics(reader, options, estimator is not None)
        out_store, vision_source = output_typestore(reader.typestore, options.msg_dir)
        if detector is not None and vision_source is None:
            register_vision(out_store)  # the detector's own messages need vision_msgs in any case
            vision_source = "built-in"
        messages = MessageSet.from_rosbags(out_store)
        source = FrameSource(messages, None if options.depth_topic else estimator, params, topics.image)
        n_images = sum(c.msgcount for c in reader.connections if c.topic == topics.image)
        evaluator = ground_truth(reader, options, n_images, stack, bag.paths)
        with AtomicBagDir(options.out, overwrite=options.overwrite) as out:
            writer = out.writer
            copies, outs, replaced = _connections(reader, writer, out_store, source.processor is not None, detector)
            nav = NavReplay(
                messages,
                nav_params,
                writer,
                write_obstacles=vision_source is not None,
                tf_static=_tf_static_writer(writer, copies, reader, out_store),
            )
            detect = None if detector is None else ReplayDetector(messages, detector, writer)
            # Detections, odometry and goals as the live node takes them (the core drops a non-finite one, and
            # counts it).
            handlers = (
                ("detections", topics.detections, nav.on_detections),
                ("odom", topics.odom, nav.on_odometry),
                ("goal", topics.goal, nav.on_goal),
            )
            inputs = {topic: (name, take) for name, topic, take in handlers if topic is not None}
            infos = StampIndex.from_bag(reader, topics.camera_info)  # nearest at any distance: intrinsics rarely change
            last_time: int | None = None
            with _progress(n_images, options.progress) as bar:
                for conn, timestamp, raw in reader.messages():
                    read[conn.topic] += 1
                    nav.advance(timestamp)
                    last_time = timestamp
                    if conn.id in copies:
                        writer.write(copies[conn.id], timestamp, raw)
                    if conn.topic in inputs:
                        name, take = inputs[conn.topic]
                        try:
                            take(reader.deserialize(raw, conn.msgtype))
                        except Exception:  # undecodable or unconvertible: dropped and counted, the next one is taken
                            nav.counts[f"{name}_malformed"] += 1
                        continue
                    if conn.topic != topics.image:
                        continue
                    stats.frames_total += 1
                    bar.update(1)
                    frame = Frame(reader, conn, raw, timestamp, stats.frames_total - 1, detect)
                    process_frame(frame, infos, source, stats, nav, evaluator, writer, outs, out_store)
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
                    "image_topic": topics.image,
                    "camera_info_topic": topics.camera_info,
                    "depth_topic": options.depth_topic,
                    "detections_topic": topics.detections,
                    "odom_topic": topics.odom,
                    "goal_topic": topics.goal,
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
            write_replay_page(out.staging, options, report, evaluator)
    return report


def _expected_counts(bag: Any, reader: Any) -> Counter[str]:
    """What the bag promises per topic: its own index (or, for a salvaged recording, its metadata.yaml)."""
    expected: Counter[str] = Counter()
    if bag.salvage is None:
        for c in reader.connections:
            expected[c.topic] += c.msgcount
    else:
        expected.update(bag.expected_by_topic)
    return expected


def _connections(
    reader: Any, writer: Any, out_store: Any, depth_outputs: bool, detector: Detector | None
) -> tuple[dict[int, Any], dict[str, Any], list[str]]:
    """The output bag's connections: the input topics copied (by input connection id), the depth node's outputs
    (by :data:`OUTPUT_TOPICS` key; none when the depth comes from the bag) and the input topics not copied.

    An input topic of the same name as an output (a re-replayed output bag, a robot's own /scan) is not copied:
    two connections of one topic would be ambiguous. The report lists them. A copied topic keeps the QoS the
    input bag recorded for it (the package's when it has none).
    """
    written = set(NAV_TOPICS.values())
    if depth_outputs:
        written |= {t for t, _ in OUTPUT_TOPICS.values()}
    if detector is not None:
        written.add(DETECTIONS_TOPIC)
    replaced = sorted({c.topic for c in reader.connections if c.topic in written})
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
    if depth_outputs:
        outs = {k: writer.add_connection(t, ty, typestore=out_store) for k, (t, ty) in OUTPUT_TOPICS.items()}
    return copies, outs, replaced


def _tf_static_writer(writer: Any, copies: dict[int, Any], reader: Any, store: Any) -> Callable[[int, Any], None]:
    """Writes a TFMessage on /tf_static: into the input bag's copied /tf_static when there is one (one topic,
    one connection), else into a new connection."""
    conn = next((copies[c.id] for c in reader.connections if c.topic == "/tf_static" and c.id in copies), None)
    if conn is None:
        conn = writer.add_connection("/tf_static", ros_msgs.TF_MESSAGE, typestore=store)

    def write(t_ns: int, msg: Any) -> None:
        writer.write(conn, t_ns, store.serialize_cdr(msg, ros_msgs.TF_MESSAGE))

    return write
