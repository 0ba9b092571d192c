"""``depth-node evaluate``: many bags against several models, one leaderboard.

    depth-node evaluate --manifest bags.yaml --model shipped=models/x.onnx --model dav2=dav2.onnx --out DIR
    depth-node evaluate out/sim/bags/* --gt-depth-topic /camera/depth_gt --out DIR --jobs 2
    depth-node evaluate ... --out DIR --resume          # after Ctrl-C: only the pairs not done yet
    depth-node evaluate ... --out DIR --ray auto        # the pairs as Ray tasks on a cluster

Writes DIR/leaderboard.json (``rows``, ``models``), DIR/leaderboard.html and DIR/runs/BAG__MODEL/ (each
pair's replay report; its output bag with --keep-bags). See :mod:`depth_node.evaluation.leaderboard`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from depth_node.commands.sim import add_worker_arguments, resolve_workers

EXIT_ALL_FAILED = 3  # the evaluation ran, wrote its leaderboard, but no pair could be scored


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the evaluate command."""
    from depth_node.evaluation.leaderboard import METRICS, TIMINGS

    parser.add_argument("bags", nargs="*", type=Path, help="bags sharing the topics given by the flags below")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="YAML list of bags: path, image_topic, gt_depth_topic or "
        "gt_points_topic, optional camera_info_topic, camera_height_m, name",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory (leaderboard.json/.html, runs/)")
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME=PATH",
        help="a model to evaluate (repeatable): a file as 'replay --model' takes it (.onnx, also an export-hf "
        "export, .pt2, .pt/.ts); NAME defaults to the file's stem; default: the --params model or the shipped one",
    )
    parser.add_argument("--params", type=Path, help="ROS 2 parameter YAML for every pair (as replay --params)")
    parser.add_argument("--providers", help="comma-separated ONNX Runtime providers, e.g. cuda,cpu")
    bag_topics = parser.add_argument_group("topics of the bags given on the command line")
    bag_topics.add_argument("--image-topic", help="colour image topic (default: the only one in each bag)")
    bag_topics.add_argument("--camera-info-topic", help="CameraInfo topic (default: the image's)")
    gt = bag_topics.add_mutually_exclusive_group()
    gt.add_argument("--gt-depth-topic", help="aligned ground-truth depth Image (16UC1 mm or 32FC1 m)")
    gt.add_argument("--gt-points-topic", help="ground-truth PointCloud2 in the camera's optical frame")
    bag_topics.add_argument("--camera-height-m", type=float, help="camera height above the floor, m (all bags)")
    parser.add_argument("--gt-min-depth", type=float, default=0.1, help="nearest evaluated ground truth, m (0.1)")
    parser.add_argument("--gt-max-depth", type=float, default=10.0, help="farthest evaluated ground truth, m (10)")
    add_worker_arguments(parser, "(bag, model) pairs")
    parser.add_argument("--resume", action="store_true", help="keep the pairs DIR/leaderboard.json has done")
    parser.add_argument("--overwrite", action="store_true", help="start again in an existing DIR")
    parser.add_argument("--keep-bags", action="store_true", help="keep each pair's output bag in runs/BAG__MODEL/")
    parser.add_argument(
        "--sort", choices=(*METRICS, *TIMINGS), default="abs_rel", help="leaderboard.html order (default abs_rel)"
    )
    parser.add_argument(
        "--worst-frames", type=int, default=3, help="frames of highest AbsRel shown per bag and model (default 3)"
    )


def _bags(args: argparse.Namespace) -> list[Any]:
    from depth_node.errors import ParameterError
    from depth_node.evaluation.bag_manifest import check_unique, load_manifest, make_entry

    entries = load_manifest(args.manifest) if args.manifest is not None else []
    flags = {
        "image_topic": args.image_topic,
        "camera_info_topic": args.camera_info_topic,
        "gt_depth_topic": args.gt_depth_topic,
        "gt_points_topic": args.gt_points_topic,
        "camera_height_m": args.camera_height_m,
    }
    for path in args.bags:
        entries.append(make_entry({"path": str(path), **flags}, f"bag '{path}' (topics from the flags)"))
    if not entries:
        raise ParameterError("no bag to evaluate: give bags (with --gt-depth-topic/--gt-points-topic) or --manifest")
    return check_unique(entries)


def _models(args: argparse.Namespace, check_files: bool) -> list[tuple[str, str]]:
    """(name, path) of each --model; ("default", "") without one."""
    from depth_node.errors import ParameterError
    from depth_node.evaluation.bag_manifest import safe_name

    if not args.model:
        return [("default", "")]
    models: dict[str, str] = {}
    for text in args.model:
        name, sep, path = text.partition("=")
        if not sep:
            name, path = Path(text).stem, text
        if not name or not path:
            raise ParameterError(f"--model expects NAME=PATH or PATH, got {text!r}")
        if safe_name(name) in {safe_name(n) for n in models}:
            raise ParameterError(f"--model: two models named {name!r}")
        if check_files and not Path(path).expanduser().exists():
            raise ParameterError(f"--model {name}: no such file '{path}'")
        models[name] = str(Path(path).expanduser().absolute())
    return list(models.items())


def _prepare_out(args: argparse.Namespace) -> None:
    from depth_node.errors import ParameterError

    board = args.out / "leaderboard.json"
    if args.resume and args.overwrite:
        raise ParameterError("give --resume (keep what is done) or --overwrite (start again), not both")
    if board.exists() and not (args.resume or args.overwrite):
        raise ParameterError(f"'{board}' exists: pass --resume to continue it or --overwrite to start again")
    if args.overwrite:
        shutil.rmtree(args.out / "runs", ignore_errors=True)
        for name in ("leaderboard.json", "leaderboard.html", "error_vs_speed.png"):
            (args.out / name).unlink(missing_ok=True)
    (args.out / "runs").mkdir(parents=True, exist_ok=True)


def run(args: argparse.Namespace) -> int:
    """Replay every (bag, model) pair, keep leaderboard.json current, write leaderboard.html at the end."""
    from depth_node.errors import ParameterError
    from depth_node.evaluation.depth_eval import check_depth_range
    from depth_node.evaluation.leaderboard import (
        PairTask,
        evaluate_pair,
        leaderboard,
        reusable_rows,
        run_dir_name,
        write_json,
    )
    from depth_node.evaluation.leaderboard_page import write_leaderboard_page
    from depth_node.evaluation.parallel import run_tasks, threads_per_worker

    jobs, ray_address = resolve_workers(args)
    check_depth_range(args.gt_min_depth, args.gt_max_depth)
    if args.worst_frames < 0:
        raise ParameterError(f"--worst-frames must be >= 0, got {args.worst_frames}")
    bags = _bags(args)
    models = _models(args, check_files=ray_address is None)  # on a cluster the paths are the workers'
    _prepare_out(args)
    threads = 1 if ray_address is not None else threads_per_worker(jobs)
    tasks = [
        PairTask(
            bag=bag,
            model=name,
            model_path=path,
            params=None if args.params is None else args.params.absolute(),
            providers=args.providers,
            run_dir=(args.out / "runs" / run_dir_name(bag.name, name)).absolute(),
            keep_bag=args.keep_bags,
            gt_min_depth=args.gt_min_depth,
            gt_max_depth=args.gt_max_depth,
            worst_frames=args.worst_frames,
            threads=threads,
        )
        for bag in bags
        for name, path in models
    ]
    done = reusable_rows(args.out / "leaderboard.json", tasks) if args.resume else {}
    todo = [t for t in tasks if t.key not in done]
    rows: dict[tuple[str, str], dict[str, Any]] = dict(done)
    names = [name for name, _ in models]
    workers = f"Ray at {ray_address}" if ray_address else f"{jobs} local process(es)"
    info = {"workers": workers}

    def board() -> dict[str, Any]:
        in_order = [rows[t.key] for t in tasks if t.key in rows]
        return leaderboard(in_order, names, len(tasks), args.sort, info)

    def finished(_i: int, row: dict[str, Any]) -> None:
        rows[(row["bag"], row["model"])] = row
        write_json(args.out / "leaderboard.json", board())  # after every pair: Ctrl-C leaves a valid file
        what = f"abs_rel {row['abs_rel']:.4f}, {row['frames']} frames" if row["status"] == "ok" else row["error"]
        print(f"[{len(rows)}/{len(tasks)}] {row['bag']} x {row['model']}: {row['status']} ({what})", file=sys.stderr)

    if done:
        print(f"--resume: {len(done)} of {len(tasks)} pairs already done", file=sys.stderr)
    try:
        run_tasks(evaluate_pair, todo, jobs, ray_address, on_result=finished)
    finally:  # also on Ctrl-C: the page of what finished
        for partial in (args.out / "runs").glob(".*.partial-*"):  # a replay stopped with its worker
            shutil.rmtree(partial, ignore_errors=True)
        final = board()
        write_json(args.out / "leaderboard.json", final)
        write_leaderboard_page(args.out, final, args.sort)
    for m in final["models"]:
        metrics = "no bag scored" if m["abs_rel"] is None else f"abs_rel {m['abs_rel']:.4f}, rmse {m['rmse']:.4f} m"
        print(f"{m['model']}: {metrics} over {m['frames']} frames of {m['bags']} bag(s), {m['bags_failed']} failed")
    print(f"wrote {args.out / 'leaderboard.json'} and {args.out / 'leaderboard.html'}")
    return 0 if any(r["status"] == "ok" for r in final["rows"]) else EXIT_ALL_FAILED
