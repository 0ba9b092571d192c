"""The README's clutter table from ``depth-node sim`` reports: one row per configuration and depth source.

    python tools/sim_table.py "paper PID=OUT_A/report.json,OUT_B/report.json" "+ memory=OUT_C/report.json" ...

Each argument is ``label=report.json[,report.json...]``: the runs of the listed reports are pooled (a sweep
split over seed ranges), and a scenario-seed pair that appears twice is an error (it would count twice); a
report written as ``report.json!low_box+thin_legs`` contributes every scenario but those (runs of an older
version of a scene, superseded by another report in the list). Rows
are grouped by depth source. Columns: runs, success, collision, median time of the runs that reached the goal,
smallest clearance over all runs, and the failed runs by scenario (``name:seed`` list), so the table says
where the remaining failures are.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def _runs(paths: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    seen: set[tuple[str, int, str]] = set()
    for entry in paths:
        path, _, dropped = entry.partition("!")
        drop = set(dropped.split("+")) if dropped else set()
        for run in json.loads(Path(path).read_text())["scenarios"]:
            if run["name"] in drop:
                continue
            key = (run["name"], run["seed"], run["depth"])
            if key in seen:
                raise SystemExit(f"error: {key} appears twice (in {path})")
            seen.add(key)
            runs.append(run)
    return runs


def row(label: str, runs: list[dict[str, Any]]) -> str:
    """One markdown row of the table."""
    n = len(runs)
    success = sum(r["success"] for r in runs)
    collisions = sum(r["collision"] for r in runs)
    arrived = [r["time_s"] for r in runs if r["outcome"] == "goal"]
    median = f"{statistics.median(arrived):.1f}" if arrived else "-"
    clearance = min(r["min_clearance_m"] for r in runs)
    failed: dict[str, list[int]] = defaultdict(list)
    for r in runs:
        if not r["success"]:
            failed[r["name"]].append(r["seed"])
    where = "; ".join(f"{name} {','.join(map(str, seeds))}" for name, seeds in failed.items()) or "none"
    seeds = sorted({r["seed"] for r in runs})
    return (
        f"| {label} | {runs[0]['depth']} | {seeds[0]}-{seeds[-1]} | {n} | {success}/{n} ({success / n:.3f}) | "
        f"{collisions} | {median} | {clearance:.2f} | {where} |"
    )


def main(argv: list[str]) -> int:
    """Print the table of ``label=report.json,...`` arguments."""
    if not argv or any("=" not in a for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    print(
        "| configuration | depth | seeds | runs | success | collisions | median time (s) | min clearance (m) |"
        " failed runs (scenario seeds) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for arg in argv:
        label, paths = arg.split("=", 1)
        print(row(label, _runs(paths.split(","))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
