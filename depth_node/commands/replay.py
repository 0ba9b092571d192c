"""``depth-node replay BAG --out OUT``: the depth node, offline, on a recorded bag."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from depth_node.commands.common import add_model_arguments, build_estimator, load_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the replay command."""
    parser.add_argument("bag", type=Path, help="ROS 2 bag: a directory, .db3 or .mcap file")
    parser.add_argument("--out", type=Path, required=True, help="output bag directory (MCAP) with report.json")
    add_model_arguments(parser)
    parser.add_argument("--image-topic", help="colour image topic (default: the only one in the bag)")
    parser.add_argument("--camera-info-topic", help="CameraInfo topic (default: the only one, or the image's sibling)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def run(args: argparse.Namespace) -> int:
    """Replay, print a one-line summary, write OUT."""
    from evaluation.replay import ReplayOptions, run_replay

    params = load_params(args)
    estimator = build_estimator(params)
    options = ReplayOptions(
        bag=args.bag,
        out=args.out,
        image_topic=args.image_topic,
        camera_info_topic=args.camera_info_topic,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None,
    )
    report = run_replay(options, estimator, params)
    summary = {k: report[k] for k in ("frames_total", "frames_processed", "frames_skipped", "skip_reasons", "provider")}
    summary["total_ms_p50"] = report["latency_ms"]["total"]["p50"]
    print(json.dumps(summary))
    print(f"wrote {args.out} (report: {args.out / 'report.json'})")
    return 0
