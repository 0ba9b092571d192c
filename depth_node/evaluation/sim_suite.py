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
from depth_node.evaluation.report import atomic_write, write_page
from depth_node.evaluation.scenarios import Scenario, build_scenario
from depth_node.evaluation.sim import SimOptions, SimResult, run_scenario
from depth_node.evaluation.sim_failures import failure_figures
from depth_node.evaluation.sim_figures import sim_figures
from depth_node.evaluation.sim_page import sim_page_blocks
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


def _run_all(
    spec: SuiteSpec,
    out: Path,
    options: SimOptions,
    run_one: Runner,
    log: Callable[[str], None],
) -> list[SimResult]:
    results = []
    for name in spec.scenarios:
        for seed in spec.seeds:
            scenario = build_scenario(name, seed)
            bag = out / "bags" / f"{name}_{seed}_{options.depth}"
            result = run_one(scenario, options, bag if spec.bags == "all" else None)
            if spec.bags == "failed" and not result.success:  # deterministic: the re-run is the same run
                result = run_one(scenario, options, bag)
            log(
                f"{options.depth:6s} {name:16s} seed {seed:3d}: {result.outcome:9s} "
                f"{'ok ' if result.success else 'FAIL'} clearance {result.min_clearance_m:.2f} m, "
                f"{result.time_s:.1f} s, {result.path_length_m:.1f} m"
            )
            results.append(result)
    return results


def _subtitle(spec: SuiteSpec, options: SimOptions, transport: str = "in_process") -> str:
    seeds = f"seed {spec.seeds[0]}" if len(spec.seeds) == 1 else f"seeds {spec.seeds[0]}-{spec.seeds[-1]}"
    oracle = ", compared with exact (oracle) depth" if spec.compare_oracle else ""
    return (
        f"{len(spec.scenarios)} scenario(s) x {seeds}, {options.depth} depth{oracle}, "
        f"camera {options.width}x{options.height}" + (", through the ROS 2 graph (--ros)" if transport == "ros" else "")
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
    """
    if spec.bags not in BAG_MODES:
        raise ValueError(f"bags must be one of {', '.join(BAG_MODES)}, got '{spec.bags}'")
    out.mkdir(parents=True, exist_ok=True)

    def in_process(scenario: Scenario, opts: SimOptions, bag: Path | None) -> SimResult:
        model = estimator if opts.depth == "model" else None
        return run_scenario(scenario, opts, model, depth_params, nav_params, bag)

    run_one = runner or in_process
    results = _run_all(spec, out, options, run_one, log)
    oracle: list[SimResult] = []
    if spec.compare_oracle and options.depth != "oracle":
        oracle = _run_all(spec, out, replace(options, depth="oracle"), run_one, log)
    for r in [*results, *oracle]:  # relative to OUT: the report's links still work after a move or copy
        if r.bag is not None and Path(r.bag).is_relative_to(out):
            r.bag = Path(r.bag).relative_to(out).as_posix()
    report: dict[str, Any] = {
        "suite_scenarios": list(spec.scenarios),
        "seeds": list(spec.seeds),
        "depth": options.depth,
        "transport": transport,
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
