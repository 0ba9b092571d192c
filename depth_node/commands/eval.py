"""``depth-node eval --synthetic --seed S --count N [--model M]``: metrics of a model on a fresh synthetic split.

The split is rendered from seeds S .. S+N-1 (see :func:`~depth_node.evaluation.world.render_sample`), so choosing S far
from the training seeds (0 .. 19999 for the shipped model) gives scenes the model has never seen. The model runs
through the same estimator as the live node (resize, normalisation, focal rescale), and the metrics are pooled
over all valid pixels of all frames.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SHIPPED_MODEL = "models/fastdepth_synthetic.onnx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the eval command."""
    parser.add_argument("--synthetic", action="store_true", required=True, help="evaluate on procedural scenes")
    parser.add_argument("--seed", type=int, default=20_000_000, help="first seed of the split (default 20000000)")
    parser.add_argument("--count", type=int, default=200, help="number of frames (default 200)")
    parser.add_argument("--model", default=None, help=f"ONNX model (default: the shipped {SHIPPED_MODEL})")
    parser.add_argument("--width", type=int, default=160, help="camera width (default 160)")
    parser.add_argument("--height", type=int, default=120, help="camera height (default 120)")
    parser.add_argument(
        "--fx-over-width", type=float, default=0.8, help="camera focal length over width (default 0.8, ~64 deg)"
    )
    parser.add_argument("--min-depth", type=float, default=0.1, help="evaluation range, metres (default 0.1)")
    parser.add_argument("--max-depth", type=float, default=10.0, help="evaluation range, metres (default 10)")
    parser.add_argument("--no-ssim", action="store_true", help="skip SSIM (the slowest metric)")
    parser.add_argument(
        "--floor-clutter",
        type=float,
        default=0.0,
        help="share of frames with low boxes and thin-legged furniture in front of the camera "
        "(depth_node/evaluation/world_extras.py; default 0: the original world)",
    )
    parser.add_argument(
        "--passages",
        type=float,
        default=0.0,
        help="share of frames with a wall across the view open in one narrow passage (default 0)",
    )
    parser.add_argument(
        "--median-scale",
        action="store_true",
        help="scale each prediction by median(gt) / median(pred) first (for relative-depth models)",
    )
    parser.add_argument(
        "--floor-scale",
        action="store_true",
        help="rescale each prediction so its floor lies at the frame's true camera height, as the depth node's "
        "floor_scale does with the robot's mount (depth_node/scale.py)",
    )


def default_model() -> Path:
    """The shipped model, from the estimator when it names one, else relative to this source tree."""
    try:
        from depth_node.estimator import default_model_path

        return Path(default_model_path())
    except ImportError:
        return Path(__file__).resolve().parents[2] / SHIPPED_MODEL


def run(args: argparse.Namespace) -> int:
    """Render, predict, print one JSON object of metrics."""
    # Imported here so that `depth-node --help` does not load ONNX Runtime and the renderer.
    import numpy as np

    from depth_node.depth_params import DepthNodeParams
    from depth_node.errors import ParameterError
    from depth_node.estimator import load_estimator
    from depth_node.evaluation.world import camera_for, render, sample_view
    from depth_node.metrics import compute_metrics, median_scaled

    if args.count < 1:
        raise ParameterError(f"--count must be >= 1, got {args.count}")
    if args.seed < 0:
        raise ParameterError(f"--seed must be >= 0, got {args.seed}")
    if not 0.0 <= args.floor_clutter <= 1.0:
        raise ParameterError(f"--floor-clutter must be in [0, 1], got {args.floor_clutter}")
    if not 0.0 <= args.passages <= 1.0:
        raise ParameterError(f"--passages must be in [0, 1], got {args.passages}")
    model = Path(args.model) if args.model else default_model()
    if not model.is_file():
        raise ParameterError(f"model file {model} does not exist")
    camera = camera_for(args.width, args.height, args.fx_over_width)
    est = load_estimator(model, providers=("cpu",))
    preds, gts, floor_found = [], [], 0
    for seed in range(args.seed, args.seed + args.count):
        scene, pose = sample_view(seed, floor_clutter=args.floor_clutter, passages=args.passages)
        frame = render(scene, camera, pose)
        pred = np.asarray(est.predict(frame.rgb, camera), dtype=np.float32)
        if args.floor_scale:
            mount = DepthNodeParams(floor_scale=True, camera_height_m=pose.z, camera_pitch_rad=pose.pitch)
            scaler = mount.floor_scaler()
            assert scaler is not None
            pred, fit = scaler.apply(pred, camera)
            floor_found += fit.found
        preds.append(median_scaled(pred, frame.depth).astype(np.float32) if args.median_scale else pred)
        gts.append(frame.depth)
    metrics = compute_metrics(
        np.stack(preds), np.stack(gts), min_depth=args.min_depth, max_depth=args.max_depth, with_ssim=not args.no_ssim
    )
    report = {
        **metrics,
        "model": str(model),
        "provider": str(getattr(est, "provider", "")),
        "seed": args.seed,
        "count": args.count,
        "width": args.width,
        "height": args.height,
        "median_scaled": bool(args.median_scale),
        "floor_scaled": bool(args.floor_scale),
        "floor_clutter": args.floor_clutter,
        "passages": args.passages,
    }
    if args.floor_scale:
        report["floor_found_fraction"] = floor_found / args.count
    print(json.dumps(report))
    return 0
