"""``depth-node sim``: closed-loop simulation of the robot with the depth model and obstacle_avoidance.

    depth-node sim --suite default --seeds 10 --out DIR [--compare-oracle]
    depth-node sim --scenario doorway --seeds 1 --out DIR --depth oracle
    depth-node sim --suite default --seeds 3 --out DIR --ros --bags failed   # through the ROS 2 graph
    depth-node sim --suite default --seeds 5 --out DIR --depth oracle --latency-ms 300 --camera-rate-hz 5
    depth-node sim --suite default --seeds 10 --out DIR --jobs 4             # 4 local processes
    depth-node sim --suite default --seeds 100 --out DIR --ray auto          # Ray tasks on a cluster

Writes DIR/report.json, DIR/report.html with its figures, and one MCAP bag per run under DIR/bags/
(see :mod:`depth_node.evaluation.sim_suite`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from depth_node.commands.common import add_model_arguments, build_estimator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the sim command."""
    from depth_node.evaluation.scenarios import ALL_SCENARIOS, SUITES
    from depth_node.evaluation.sim_suite import BAG_MODES
    from depth_node.simulation.options import DEPTH_SOURCES

    parser.add_argument("--out", type=Path, required=True, help="output directory (report.json, report.html, bags/)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--suite", choices=sorted(SUITES), help="run every scenario of a suite (default: default)")
    which.add_argument(
        "--scenario", action="append", choices=ALL_SCENARIOS, help="run this scenario (repeatable) instead of a suite"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per scenario (default 3)")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--depth", choices=DEPTH_SOURCES, default="model", help="depth source (default: model)")
    parser.add_argument("--compare-oracle", action="store_true", help="also run every scenario with exact depth")
    parser.add_argument(
        "--bags",
        choices=BAG_MODES,
        default="failed",
        help="which runs write a bag: failed (default), all (about 2-3 MB per simulated second), none",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (the whole directory)")
    parser.add_argument("--width", type=int, default=160, help="camera width (default 160)")
    parser.add_argument("--height", type=int, default=120, help="camera height (default 120)")
    parser.add_argument("--det-noise-px", type=float, default=0.0, help="detector box edge noise, pixels (default 0)")
    parser.add_argument(
        "--no-floor-scale",
        action="store_true",
        help="keep the model's own scale (default: rescale each frame to the known camera height)",
    )
    parser.add_argument("--det-miss-rate", type=float, default=0.0, help="detector miss probability (default 0)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="a frame rendered at t (stamped t) reaches the nodes at t + MS, its depth and detections with it "
        "(whole control periods: 50 ms at 20 Hz; default 0)",
    )
    parser.add_argument("--camera-rate-hz", type=float, default=10.0, help="camera frames per second (default 10)")
    parser.add_argument(
        "--ros",
        action="store_true",
        help="run depth_node and obstacle_avoidance as ROS 2 processes, the simulator as a node, in lockstep "
        "on /clock (needs rclpy; the graph uses ROS_DOMAIN_ID from the environment)",
    )
    parser.add_argument(
        "--step-timeout", type=float, default=30.0, help="--ros: seconds to wait for one answer (default 30)"
    )
    add_worker_arguments(parser, "scenario-seed pairs")
    add_model_arguments(parser)


def _provider(estimator: Any, depth_params: Any) -> str:
    """The execution provider of the model: the estimator's, or (through the graph, where the depth_node process
    opens the session with the same onnxruntime and the same rule) the first of ``providers`` it offers."""
    from depth_node.estimator import default_model_path, resolve_providers

    if estimator is not None:
        return str(estimator.provider)
    path = depth_params.model_path or str(default_model_path())
    if not path.lower().endswith(".onnx"):
        return "torch"
    import onnxruntime as ort

    return resolve_providers(depth_params.providers, ort.get_available_providers())[0]


def add_worker_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """--jobs and --ray: how independent runs are spread (:mod:`depth_node.evaluation.parallel`)."""
    parser.add_argument(
        "--jobs",
        type=int,
        help=f"run the {what} in N local processes (same numbers as --jobs 1; default: this machine's CPUs)",
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help=f"run the {what} as Ray tasks: 'auto' (the cluster this machine is part of), a cluster address "
        "(ray://head:10001), or 'local' (a Ray instance started on this machine); needs the 'ray' extra",
    )


def resolve_workers(args: argparse.Namespace) -> tuple[int, str | None]:
    """(jobs, ray address) of the flags: --jobs defaults to the machine's CPUs, 1 under --ray.

    Raises:
        ParameterError: --jobs below 1, or --jobs with --ray.
    """
    from depth_node.errors import ParameterError
    from depth_node.evaluation.parallel import check_jobs, default_jobs

    if args.ray is not None and args.jobs is not None:
        raise ParameterError("give --jobs (local processes) or --ray (Ray tasks), not both")
    if args.ray is not None:
        return 1, args.ray
    return check_jobs(default_jobs() if args.jobs is None else args.jobs), None


def run(args: argparse.Namespace) -> int:
    """Run the scenarios, print one line per run and the rates, write the report."""
    from dataclasses import replace

    from depth_node.commands.replay import load_both_params
    from depth_node.errors import ParameterError
    from depth_node.estimator import default_model_path
    from depth_node.evaluation.scenarios import SUITES
    from depth_node.evaluation.sim_suite import SuiteSpec, Workers, run_suite
    from depth_node.fileio import staged_dir
    from depth_node.simulation.options import SimOptions

    if args.out.exists() and not args.overwrite:
        raise ParameterError(f"output '{args.out}' already exists (pass --overwrite to replace it)")
    if args.seeds < 1 or args.seed_start < 0:
        raise ParameterError(f"--seeds must be >= 1 and --seed-start >= 0, got {args.seeds} and {args.seed_start}")
    try:
        options = SimOptions(
            depth=args.depth,
            width=args.width,
            height=args.height,
            det_noise_px=args.det_noise_px,
            det_miss_rate=args.det_miss_rate,
            floor_scale=not args.no_floor_scale,
            camera_rate_hz=args.camera_rate_hz,
            latency_ms=args.latency_ms,
        )
    except ValueError as exc:
        raise ParameterError(str(exc)) from exc
    if args.ros and (args.jobs not in (None, 1) or args.ray is not None):
        raise ParameterError(
            "--ros drives one ROS 2 graph, one run at a time: --jobs and --ray are for the in-process simulator"
        )
    jobs, ray_address = (1, None) if args.ros else resolve_workers(args)
    depth_params, nav_params = load_both_params(args)
    # The cloud of a 160x120 camera at full density is 300 kB a frame; every other pixel keeps bags small.
    if args.params is None:
        depth_params = replace(depth_params, decimation=2)
    needs_model = args.depth == "model"
    # Through the graph the depth_node process loads the model; in-process, this process does.
    estimator = build_estimator(depth_params) if needs_model and not args.ros else None
    names = tuple(args.scenario) if args.scenario else SUITES[args.suite or "default"]
    spec = SuiteSpec(
        scenarios=names,
        seeds=tuple(range(args.seed_start, args.seed_start + args.seeds)),
        compare_oracle=args.compare_oracle,
        bags=args.bags,
    )
    info = {
        "model": (depth_params.model_path or str(default_model_path())) if needs_model else None,
        "provider": _provider(estimator, depth_params) if needs_model else "none (oracle depth)",
    }
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    with staged_dir(args.out) as staging:  # OUT appears, or replaces the old one, only when complete
        if args.ros:
            report = _run_ros(args, staging, spec, options, depth_params, nav_params, info, log)
        else:
            workers = Workers(jobs, ray_address)
            report = run_suite(
                spec, staging, options, estimator, depth_params, nav_params, log=log, info=info, workers=workers
            )
    line = f"{args.depth}: success_rate {report['success_rate']:.3f}, collision_rate {report['collision_rate']:.3f}"
    if "oracle" in report:
        oracle = report["oracle"]
        line += f"; oracle: success_rate {oracle['success_rate']:.3f}, collision_rate {oracle['collision_rate']:.3f}"
    print(line)
    print(f"wrote {args.out / 'report.json'} and {args.out / 'report.html'}")
    recorded = sum(1 for r in report["scenarios"] + report.get("oracle", {}).get("scenarios", []) if r["bag"])
    if args.bags == "failed":
        print(f"recorded {recorded} bag(s) of failed runs in {args.out / 'bags'}; --bags all records every run")
    elif args.bags == "all":
        print(f"recorded {recorded} bag(s) in {args.out / 'bags'}")
    return 0


def _run_ros(
    args: argparse.Namespace,
    out: Path,
    spec: Any,
    options: Any,
    depth_params: Any,
    nav_params: Any,
    info: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """The suite through the ROS 2 graph (:mod:`depth_node.simulation.runner_node`)."""
    from depth_node.errors import ParameterError
    from depth_node.evaluation.sim_suite import run_suite

    try:
        from depth_node.simulation.runner_node import GraphOptions, RosRunner
    except ImportError as exc:
        raise ParameterError(
            f"--ros needs a ROS 2 Python runtime ({exc}): install the 'ros' extra (make setup) or source ROS 2"
        ) from exc
    if not args.step_timeout > 0.0:
        raise ParameterError(f"--step-timeout must be > 0, got {args.step_timeout}")
    timing = GraphOptions(step_timeout_s=args.step_timeout)
    # The simulator publishes /clock and drives /cmd_vel: unless asked otherwise, keep its graph on this host,
    # away from any robot on the network (the nodes inherit this environment).
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    with RosRunner(out / "ros", timing) as ros:

        def run_one(scenario: Any, opts: Any, bag: Path | None) -> Any:
            return ros.run(scenario, opts, depth_params, nav_params, bag)

        return run_suite(
            spec, out, options, None, depth_params, nav_params, log=log, info=info, runner=run_one, transport="ros"
        )
