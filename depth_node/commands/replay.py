"""``depth-node replay BAG --out OUT``: the depth node and obstacle_avoidance, offline, on a recorded bag."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from depth_node import params as params_mod
from depth_node.commands.common import add_model_arguments, build_estimator, load_params
from depth_node.errors import ParameterError

NAV_NODE_NAME = "obstacle_avoidance"
EXIT_NO_FRAMES = 3  # the replay ran, wrote its report, but not one frame could be processed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the replay command."""
    parser.add_argument("bag", type=Path, help="ROS 2 bag: a directory, .db3 or .mcap file")
    parser.add_argument("--out", type=Path, required=True, help="output bag directory (MCAP) with report.json")
    add_model_arguments(parser)
    parser.add_argument("--image-topic", help="colour image topic (default: the only one in the bag)")
    parser.add_argument("--camera-info-topic", help="CameraInfo topic (default: the only one, or the image's sibling)")
    parser.add_argument(
        "--depth-topic",
        help="take depth from this sensor topic (16UC1 mm or 32FC1 m) instead of running the model",
    )
    parser.add_argument("--detections-topic", help="vision_msgs/Detection2DArray topic fed to obstacle_avoidance")
    parser.add_argument(
        "--odom-topic",
        help="nav_msgs/Odometry topic fed to obstacle_avoidance (default: /odom when the bag has it; '' = none: "
        "dead reckoning, as the node without odometry)",
    )
    parser.add_argument(
        "--goal-topic",
        help="geometry_msgs/PoseStamped goal topic fed to obstacle_avoidance (default: /goal_pose when the bag has "
        "it; '' = none: goal_heading_rad)",
    )
    parser.add_argument(
        "--detector",
        type=Path,
        metavar="MODEL",
        help="run this ONNX detector on each colour frame in place of a detections topic (writes /detections); "
        "its settings come from the 'detector' section of --params",
    )
    parser.add_argument(
        "--msg-dir",
        type=Path,
        help="directory of vision_msgs .msg files, used when the bag does not carry the definitions",
    )
    gt = parser.add_argument_group(
        "ground truth", "score the depth against the bag's own ground truth (report.json depth_metrics, report.html)"
    )
    gt_topic = gt.add_mutually_exclusive_group()
    gt_topic.add_argument(
        "--gt-depth-topic",
        help="aligned ground-truth depth Image (16UC1 mm or 32FC1 m), paired with each frame by header stamp",
    )
    gt_topic.add_argument(
        "--gt-points-topic",
        help="ground-truth PointCloud2 in the camera's optical frame (e.g. a projected LiDAR), z-buffered per pixel",
    )
    gt.add_argument("--gt-min-depth", type=float, default=0.1, help="nearest evaluated ground truth, m (default 0.1)")
    gt.add_argument("--gt-max-depth", type=float, default=10.0, help="farthest evaluated ground truth, m (default 10)")
    parser.add_argument(
        "--compare-cmd-vel",
        action="store_true",
        help="compare the replayed /cmd_vel with the bag's own, tick by tick (report.json cmd_vel_agreement): "
        "does the replay command what the robot commanded?",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def _has_section(path: Path | None, node_name: str) -> bool:
    if path is None:
        return False
    try:
        params_mod.read_ros_params(path, node_name)
    except ParameterError as exc:
        if "section" in str(exc):
            return False
        raise
    return True


def load_both_params(args: argparse.Namespace) -> tuple[Any, Any]:
    """(depth_node params, obstacle_avoidance params) from one --params YAML.

    Either section may be missing (that node runs on defaults), but not both: a file with neither is
    a typo that must not silently run on defaults.

    Raises:
        ParameterError: a refused value, or a file with neither section.
    """
    from navigation.params import ObstacleAvoidanceParams

    path = args.params
    has_depth, has_nav = _has_section(path, "depth_node"), _has_section(path, NAV_NODE_NAME)
    has_detector = getattr(args, "detector", None) is not None and _has_section(path, "detector")
    if path is not None and not (has_depth or has_nav or has_detector):
        raise ParameterError(f"params file '{path}': no 'depth_node' or '{NAV_NODE_NAME}' ros__parameters section")
    depth_args = argparse.Namespace(**{**vars(args), "params": path if has_depth else None})
    depth_params = load_params(depth_args)
    nav_params = params_mod.load(ObstacleAvoidanceParams, path if has_nav else None, NAV_NODE_NAME)
    return depth_params, nav_params


def _load_detector(args: argparse.Namespace) -> Any:
    """The detector of ``--detector`` with the --params file's 'detector' section (if any), or None."""
    if args.detector is None:
        return None
    from depth_node.detection.detector import Detector
    from depth_node.detection.params import NODE_NAME, DetectorParams

    path = args.params if _has_section(args.params, NODE_NAME) else None
    return Detector(params_mod.load(DetectorParams, path, NODE_NAME, {"model_path": str(args.detector)}))


def run(args: argparse.Namespace) -> int:
    """Replay, print a one-line summary, write OUT."""
    from depth_node.evaluation.replay import run_replay
    from depth_node.evaluation.replay_inputs import ReplayOptions
    from depth_node.simulation.params_file import recorded_params

    if args.params is None and (recorded := recorded_params(args.bag)) is not None:
        # The nodes' own parameters (camera mount, footprint, goal tolerance): replayed as they ran live.
        print(f"depth-node replay: using the bag's parameters {recorded} (pass --params to override)", file=sys.stderr)
        args = argparse.Namespace(**{**vars(args), "params": recorded})
    params, nav_params = load_both_params(args)
    detector = _load_detector(args)
    estimator = None if args.depth_topic else build_estimator(params)
    options = ReplayOptions(
        bag=args.bag,
        out=args.out,
        image_topic=args.image_topic,
        camera_info_topic=args.camera_info_topic,
        depth_topic=args.depth_topic,
        detections_topic=args.detections_topic,
        odom_topic=args.odom_topic,
        goal_topic=args.goal_topic,
        msg_dir=args.msg_dir,
        gt_depth_topic=args.gt_depth_topic,
        gt_points_topic=args.gt_points_topic,
        gt_min_depth=args.gt_min_depth,
        gt_max_depth=args.gt_max_depth,
        compare_cmd_vel=args.compare_cmd_vel,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None,
    )
    report = run_replay(options, estimator, params, nav_params, detector)
    summary = {k: report[k] for k in ("frames_total", "frames_processed", "frames_skipped", "skip_reasons", "provider")}
    summary["total_ms_p50"] = report["latency_ms"]["total"]["p50"]
    if report["detector"] is not None:
        summary["detections"] = report["detector"].get("detections", 0)
    summary["navigation_ms_p50"] = report["latency_ms"]["navigation"]["p50"]
    summary["cmd_vel"] = report["cmd_vel"]["count"]
    if report["cmd_vel_agreement"] is not None:
        agreement = report["cmd_vel_agreement"]
        summary["cmd_vel_equal"] = f"{agreement['equal']}/{agreement['ticks']}"
    if report["messages_recovered"] is not None:
        summary["truncated"] = report["truncated"]
        summary["messages_recovered"] = report["messages_recovered"]
    if report["missing_messages"]:
        summary["missing_messages"] = report["missing_messages"]
    if report["depth_metrics"] is not None:
        summary["abs_rel"] = report["depth_metrics"]["abs_rel"]
        summary["abs_rel_median_scaled"] = report["depth_metrics_median_scaled"]["abs_rel"]
    for warning in report["warnings"]:
        print(f"depth-node replay: warning: {warning}", file=sys.stderr)
    print(json.dumps(summary))
    print(f"wrote {args.out} (report: {args.out / 'report.json'}, {args.out / 'report.html'})")
    if report["frames_processed"] == 0:
        reasons = ", ".join(f"{k}: {v}" for k, v in report["skip_reasons"].items()) or "no image on the topic"
        print(
            f"depth-node replay: error: no frame of {report['frames_total']} could be processed ({reasons})",
            file=sys.stderr,
        )
        return EXIT_NO_FRAMES
    return 0
