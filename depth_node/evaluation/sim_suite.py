"""A suite of simulation runs: every scenario over a range of seeds, with the model and optionally the oracle.

Writes OUT/report.json (``scenarios``, ``success_rate``, ``collision_rate``, per-scenario rates, and the same
under ``oracle`` with ``compare_oracle``), OUT/report.html with its figures (:mod:`depth_node.evaluation.sim_figures`),
and one MCAP bag per run under OUT/bags/. Every file is written atomically; report.json last, so its presence
means the suite completed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from depth_node.depth_params import DepthNodeParams
from depth_node.estimator import DepthEstimator
from depth_node.evaluation.parallel import per_process, run_tasks, threads_per_worker
from depth_node.evaluation.report import atomic_write, write_page
from depth_node.evaluation.scenarios import Scenario, build_scenario
from depth_node.evaluation.sim_failures import failure_figures
from depth_node.evaluation.sim_figures import sim_figures
from depth_node.evaluation.sim_page import sim_page_blocks
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from depth_node.simulation.result import SimResult
from navigation.params import ObstacleAvoidanceParams

BAG_MODES = ("failed", "all", "none")
# Runs one scenario: (scenario, options, bag directory or None) -> result.
Runner = Callable[[Scenario, SimOptions, Path | None], SimResult]


@dataclass(frozen=True)
class SuiteSpec:
    """What to run.

    Attributes:
        scenarios: Scenario names.
        seeds: Seeds, each run with every scenario.
        compare_oracle: Also run every scenario and seed with the renderer's exact depth.
        bags: ``all`` (a bag per run), ``failed`` (only runs that did not succeed, re-run deterministically
            to record them) or ``none``.
    """

    scenarios: tuple[str, ...]
    seeds: tuple[int, ...]
    compare_oracle: bool = False
    bags: str = "failed"


def rates(results: Sequence[SimResult]) -> dict[str, Any]:
    """``scenarios``, ``success_rate``, ``collision_rate`` and per-scenario rates of a list of runs."""
    n = max(len(results), 1)
    by_name: dict[str, list[SimResult]] = {}
    for r in results:
        by_name.setdefault(r.scenario.name, []).append(r)
    return {
        "scenarios": [r.summary() for r in results],
        "success_rate": round(sum(r.success for r in results) / n, 4),
        "collision_rate": round(sum(r.collision for r in results) / n, 4),
        "by_scenario": {
            name: {
                "runs": len(rs),
                "success_rate": round(sum(r.success for r in rs) / len(rs), 4),
                "collision_rate": round(sum(r.collision for r in rs) / len(rs), 4),
                "min_clearance_m": round(min(r.min_clearance_m for r in rs), 4),
            }
            for name, rs in by_name.items()
        },
    }


@dataclass(frozen=True)
class SimTask:
    """One scenario and seed of a suite, everything a worker process needs to run it (picklable).

    Attributes:
        scenario: Scenario name.
        seed: Its seed.
        options: Robot and sensors.
        bag: Where its bag goes (written per ``bags``).
        bags: The suite's bag mode.
        depth_params: The depth node's parameters; a worker builds its estimator from them.
        nav_params: The controller's parameters.
        threads: ONNX Runtime threads of a worker's estimator when ``depth_params.threads`` is 0 (its default).
    """

    scenario: str
    seed: int
    options: SimOptions
    bag: Path
    bags: str
    depth_params: DepthNodeParams | None = None
    nav_params: ObstacleAvoidanceParams | None = None
    threads: int = 0


def _run_task(task: SimTask, run_one: Runner) -> SimResult:
    scenario = build_scenario(task.scenario, task.seed)
    result = run_one(scenario, task.options, task.bag if task.bags == "all" else None)
    if task.bags == "failed" and not result.success:  # deterministic: the re-run is the same run
        result = run_one(scenario, task.options, task.bag)
    return result


def _worker_estimator(task: SimTask) -> DepthEstimator | None:
    if task.options.depth != "model":
        return None
    params = task.depth_params or DepthNodeParams()
    if params.threads == 0 and task.threads > 0:
        params = replace(params, threads=task.threads)
    return per_process(("sim", repr(params)), lambda: params.build_estimator(lambda _line: None))


def sim_task(task: SimTask) -> SimResult:
    """Run one :class:`SimTask` in a worker (a pool process or a Ray task): the in-process simulator with an
    estimator built from the task's parameters, once per worker process."""
    estimator = _worker_estimator(task)

    def in_process(scenario: Scenario, opts: SimOptions, bag: Path | None) -> SimResult:
        return run_scenario(scenario, opts, estimator, task.depth_params, task.nav_params, bag)

    return _run_task(task, in_process)


def _log_line(result: SimResult) -> str:
    return (
        f"{result.depth:6s} {result.scenario.name:16s} seed {result.scenario.seed:3d}: {result.outcome:9s} "
        f"{'ok ' if result.success else 'FAIL'} clearance {result.min_clearance_m:.2f} m, "
        f"{result.time_s:.1f} s, {result.path_length_m:.1f} m"
    )


@dataclass(frozen=True)
class Workers:
    """How the suite's runs are spread: ``jobs`` local processes, or Ray tasks at ``ray_address``.

    ``jobs == 1`` without Ray runs every scenario in this process with the caller's estimator.
    """

    jobs: int = 1
    ray_address: str | None = None

    @property
    def parallel(self) -> bool:
        """Whether the runs leave this process."""
        return self.jobs > 1 or self.ray_address is not None


def _run_all(
    spec: SuiteSpec,
    out: Path,
    depths: Sequence[SimOptions],
    run_one: Runner | None,
    log: Callable[[str], None],
    params: tuple[DepthNodeParams | None, ObstacleAvoidanceParams | None],
    workers: Workers,
) -> list[list[SimResult]]:
    """The runs of every scenario and seed, once per entry of ``depths`` (the model, then the oracle)."""
    tasks = [
        SimTask(name, seed, options, out / "bags" / f"{name}_{seed}_{options.depth}", spec.bags, *params)
        for options in depths
        for name in spec.scenarios
        for seed in spec.seeds
    ]
    if run_one is not None:  # this process's runner (the in-process simulator or the ROS graph): one at a time
        results = []
        for task in tasks:
            results.append(_run_task(task, run_one))
            log(_log_line(results[-1]))
    else:
        threads = 1 if workers.ray_address is not None else threads_per_worker(workers.jobs)
        tasks = [replace(t, threads=threads) for t in tasks]
        results = run_tasks(
            sim_task, tasks, workers.jobs, workers.ray_address, on_result=lambda _i, r: log(_log_line(r))
        )
    n = len(spec.scenarios) * len(spec.seeds)
    return [results[i * n : (i + 1) * n] for i in range(len(depths))]


def _subtitle(spec: SuiteSpec, options: SimOptions, transport: str = "in_process") -> str:
    seeds = f"seed {spec.seeds[0]}" if len(spec.seeds) == 1 else f"seeds {spec.seeds[0]}-{spec.seeds[-1]}"
    oracle = ", compared with exact (oracle) depth" if spec.compare_oracle else ""
    return (
        f"{len(spec.scenarios)} scenario(s) x {seeds}, {options.depth} depth{oracle}, "
        f"camera {options.width}x{options.height} at {options.camera_rate_hz:g} Hz, "
        f"latency {options.latency_ms:g} ms" + (", through the ROS 2 graph (--ros)" if transport == "ros" else "")
    )


def run_suite(
    spec: SuiteSpec,
    out: Path,
    options: SimOptions,
    estimator: DepthEstimator | None,
    depth_params: DepthNodeParams | None = None,
    nav_params: ObstacleAvoidanceParams | None = None,
    log: Callable[[str], None] = print,
    info: dict[str, Any] | None = None,
    runner: Runner | None = None,
    transport: str = "in_process",
    workers: Workers | None = None,
) -> dict[str, Any]:
    """Run the suite, write the report files into ``out``, return report.json's content.

    Args:
        spec: Scenarios, seeds, oracle comparison, bag mode.
        out: Output directory (created).
        options: Robot and sensors; ``options.depth`` is the main depth source.
        estimator: The depth model (None with oracle depth).
        depth_params: Depth node parameters.
        nav_params: Controller parameters.
        log: Receives one line per run.
        info: Extra keys for report.json (model path, provider...).
        runner: Runs one scenario (see :data:`Runner`); default: the in-process simulator with ``estimator``.
        transport: How the nodes were driven, for report.json: ``in_process`` or ``ros``.
        workers: Run the scenario-seed pairs in local processes or on Ray (:mod:`depth_node.evaluation.parallel`),
            each worker with an estimator built from ``depth_params`` (same seeds, same numbers as one process);
            default: one at a time in this process. Not with ``runner``.
    """
    workers = workers or Workers()
    if workers.parallel and runner is not None:
        raise ValueError("a custom runner runs in this process: it cannot be combined with parallel workers")
    if spec.bags not in BAG_MODES:
        raise ValueError(f"bags must be one of {', '.join(BAG_MODES)}, got '{spec.bags}'")
    out.mkdir(parents=True, exist_ok=True)

    def in_process(scenario: Scenario, opts: SimOptions, bag: Path | None) -> SimResult:
        model = estimator if opts.depth == "model" else None
        return run_scenario(scenario, opts, model, depth_params, nav_params, bag)

    run_one = None if workers.parallel else (runner or in_process)
    params = (depth_params, nav_params)
    depths = [options]
    if spec.compare_oracle and options.depth != "oracle":
        depths.append(replace(options, depth="oracle"))
    results, *rest = _run_all(spec, out, depths, run_one, log, params, workers)
    oracle: list[SimResult] = rest[0] if rest else []
    for r in [*results, *oracle]:  # relative to OUT: the report's links still work after a move or copy
        if r.bag is not None and Path(r.bag).is_relative_to(out):
            r.bag = Path(r.bag).relative_to(out).as_posix()
    report: dict[str, Any] = {
        "suite_scenarios": list(spec.scenarios),
        "seeds": list(spec.seeds),
        "depth": options.depth,
        "transport": transport,
        "latency_ms": options.latency_ms,
        "camera_rate_hz": options.camera_rate_hz,
        "bags": spec.bags,
        **rates(results),
        "options": {k: v for k, v in asdict(options).items() if k != "limits"},
        "robot": asdict(options.limits),
        **(info or {}),
    }
    if oracle:
        report["oracle"] = rates(oracle)
    sections = sim_figures(out, results, oracle)
    failures = failure_figures(out, [*results, *oracle])
    blocks = sim_page_blocks(out, report, results, oracle, sections, spec.bags, failures)
    write_page(out / "report.html", "depth_node closed-loop simulation", blocks, _subtitle(spec, options, transport))
    atomic_write(out / "report.json", (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    return report
