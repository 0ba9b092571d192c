"""report.html of a simulation suite, as a results page.

Top to bottom: the headline rates; a scenario-by-metric table; every run in one table (scenario, seed,
outcome, pass or fail, time, clearance, links to its bag and to its scenario's figures); then one section
per scenario with what it tests, how a run passes (a dead end expects a stop, not an arrival) and its
figures (:mod:`depth_node.evaluation.sim_figures`); last the settings the suite ran with.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from depth_node.evaluation.html_blocks import esc, figures, key_values, link, section, side_by_side, table, verdict
from depth_node.evaluation.scenarios import DESCRIPTIONS, STOP, pass_rule
from depth_node.evaluation.sim_failures import failure_anchor
from depth_node.simulation.result import SimResult

Sections = Sequence[tuple[str, Sequence[tuple[str, str]]]]


def anchor(name: str) -> str:
    """The page anchor of a scenario's section."""
    return f"scenario-{name}"


def outcome_text(result: SimResult) -> str:
    """What happened, in words that fit the scenario's expectation."""
    if result.outcome == "collision":
        return "collision"
    if result.outcome == "goal":
        return "reached the goal"
    if result.scenario.expect == STOP:
        return "stopped, no contact"
    return "timed out before the goal"


def _bag_cell(out: Path, result: SimResult) -> Any:
    """A link to the run's MCAP file (Foxglove opens it), or a dash when the run was not recorded."""
    if result.bag is None:
        return None
    bag = Path(result.bag)
    mcap = bag / f"{bag.name}.mcap"
    target = mcap if (out / mcap).is_file() else bag
    return link(target.as_posix(), "bag")


def _rate_row(runs: Sequence[SimResult]) -> tuple[str, float, float]:
    passed = sum(r.success for r in runs)
    return f"{passed}/{len(runs)}", passed / len(runs), sum(r.collision for r in runs) / len(runs)


def scenario_table(results: Sequence[SimResult], oracle: Sequence[SimResult]) -> str:
    """One row per scenario: what it expects, pass and collision rates, clearance and time, oracle beside."""
    names = list(dict.fromkeys(r.scenario.name for r in results))
    headers = ["scenario", "expects", "passed", "success rate", "collision rate", "min clearance (m)"]
    headers += ["median time (s)"] + (["oracle success rate", "oracle collision rate"] if oracle else [])
    rows = []
    for name in names:
        runs = [r for r in results if r.scenario.name == name]
        passed, success, collision = _rate_row(runs)
        row: list[Any] = [link(f"#{anchor(name)}", name), "stop" if runs[0].scenario.expect == STOP else "arrive"]
        row += [verdict(success == 1.0, passed), success, collision]
        row += [min(r.min_clearance_m for r in runs), statistics.median(r.time_s for r in runs)]
        if oracle:
            o_runs = [r for r in oracle if r.scenario.name == name]
            row += list(_rate_row(o_runs)[1:]) if o_runs else [None, None]
        rows.append(row)
    return table(headers, rows)


def runs_table(out: Path, results: Sequence[SimResult], oracle: Sequence[SimResult]) -> str:
    """Every run: scenario, seed, depth source, outcome, verdict, time, clearance, path, bag and figures."""
    headers = ["scenario", "seed", "depth", "outcome", "verdict", "time (s)", "min clearance (m)", "path (m)"]
    headers += ["blind ticks", "bag", "figures"]
    rows = []
    for r in [*results, *oracle]:
        name = r.scenario.name
        rows.append(
            [
                name,
                r.scenario.seed,
                r.depth,
                outcome_text(r),
                verdict(r.success, "pass" if r.success else "FAIL"),
                r.time_s,
                r.min_clearance_m,
                r.path_length_m,
                r.blind_ticks,
                _bag_cell(out, r),
                link(f"#{failure_anchor(r)}", "what it believed")
                if not r.success
                else link(f"#{anchor(name)}", "paths, speed"),
            ]
        )
    return table(headers, rows)


def _headline(report: Mapping[str, Any], n_runs: int) -> str:
    pairs: list[tuple[str, Any]] = [
        ("depth source", report.get("depth")),
        ("model", report.get("model")),
        ("provider", report.get("provider")),
        ("seeds", report.get("seeds")),
        ("camera rate, Hz", report.get("camera_rate_hz")),
        ("latency, ms (frame to nodes)", report.get("latency_ms")),
        ("runs", n_runs),
        ("success rate", report["success_rate"]),
        ("collision rate", report["collision_rate"]),
    ]
    if "oracle" in report:
        pairs += [
            ("oracle success rate", report["oracle"]["success_rate"]),
            ("oracle collision rate", report["oracle"]["collision_rate"]),
        ]
    return key_values(pairs)


def _bags_note(bags: str) -> str:
    text = {
        "failed": "Bags are recorded for the failed runs only; run with --bags all to record every run.",
        "all": "Every run is recorded as a bag (MCAP; open the file in Foxglove).",
        "none": "No run was recorded (--bags none); --bags failed or --bags all record bags.",
    }.get(bags, "")
    return f'<p class="note">{esc(text)}</p>' if text else ""


def sim_page_blocks(
    out: Path,
    report: Mapping[str, Any],
    results: Sequence[SimResult],
    oracle: Sequence[SimResult],
    scenario_figures: Sections,
    bags: str,
    failures: Sequence[tuple[SimResult, str, str]] = (),
) -> list[str]:
    """The page's blocks, in order, for :func:`depth_node.evaluation.report.write_page`.

    ``failures``: (run, figure file, caption) of every failed run (:func:`depth_node.evaluation.sim_failures.
    failure_figures`), shown after the runs table with what the controller believed beside the truth.
    """
    blocks = [
        section("Summary", _headline(report, len(results))),
        section(
            "Results by scenario",
            scenario_table(results, oracle),
            '<p class="note">passed: runs that met the scenario\'s pass rule (below, with each scenario); '
            "min clearance: the smallest distance between the robot's footprint and any obstacle over all runs.</p>",
        ),
        section("Every run", runs_table(out, results, oracle), _bags_note(bags)),
    ]
    if failures:
        blocks.append(
            section(
                "What failed",
                '<p class="note">Each failed run: what the controller believed at the end (its last scan, its '
                "memory and rolling window, the headings it wanted and steered for) beside the truth.</p>",
                *(
                    f'<div id="{esc(failure_anchor(r))}">{figures([(file, caption)])}</div>'
                    for r, file, caption in failures
                ),
            )
        )
    first = {r.scenario.name: r.scenario for r in results}
    for name, figs in scenario_figures:
        scenario = first[name]
        blocks.append(
            section(
                name,
                f"<p>{esc(DESCRIPTIONS.get(name, ''))}</p>",
                f"<p><strong>Pass rule.</strong> {esc(pass_rule(scenario))}</p>",
                figures(figs),
                anchor=anchor(name),
            )
        )
    settings = side_by_side(
        key_values(report.get("options", {}), "simulation options"),
        key_values(report.get("robot", {}), "robot limits"),
    )
    blocks.append(section("Settings", settings))
    return blocks
