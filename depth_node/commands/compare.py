"""``depth-node compare --config config/compare_archs.yaml --out models/ARCHITECTURES.md``: every architecture,
one training budget, one table (see :mod:`depth_node.training.compare`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the compare command."""
    parser.add_argument("--config", required=True, help="comparison plan (e.g. config/compare_archs.yaml)")
    parser.add_argument("--out", type=Path, required=True, help="markdown file; the table replaces its compare block")
    parser.add_argument("--reuse", action="store_true", help="reuse finished checkpoints instead of retraining")
    parser.add_argument("--no-sim", action="store_true", help="skip the closed-loop suite (the slowest part)")


def run(args: argparse.Namespace) -> int:
    """Train, export, evaluate and simulate every entry, then time all models together and write the table."""
    from depth_node.training import compare
    from depth_node.training.config import load_config
    from depth_node.training.networks import build_network
    from depth_node.training.profile import count_macs, count_params

    plan = compare.load_plan(args.config)
    base = load_config(plan.base, plan.overrides)
    size = (base.model.input_width, base.model.input_height)
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    results_path = plan.out_dir / "results.json"
    rows: list[dict[str, Any]] = []

    def log(line: str) -> None:
        print(line, flush=True)

    for entry in plan.entries:
        if entry.model:  # an existing model, e.g. the shipped one: measured, not trained
            net = build_network(entry.arch, entry.width_mult, depth_mult=entry.depth_mult)
            row: dict[str, Any] = {
                "name": entry.name, "arch": entry.arch, "width_mult": entry.width_mult,
                "depth_mult": entry.depth_mult, "model": entry.model, "params": count_params(net),
                "macs": count_macs(net, size[1], size[0]), "train_minutes": None, "val": {},
            }  # fmt: skip
        else:
            row = compare.train_and_export(plan, entry, args.reuse, log)
        model = Path(row["model"])
        row["eval"] = json.loads(compare.run_cli(compare.eval_command(plan, model)).strip().splitlines()[-1])
        log(
            f"{entry.name}: held-out {json.dumps({k: round(row['eval'][k], 4) for k in ('abs_rel', 'rmse', 'delta1')})}"
        )
        if not args.no_sim:
            sim_out = plan.out_dir / "sim" / entry.name
            compare.run_cli(compare.sim_command(plan, model, sim_out))
            report = json.loads((sim_out / "report.json").read_text())
            row["sim"] = {k: report[k] for k in ("success_rate", "collision_rate")}
            log(f"{entry.name}: suite {row['sim']}")
        rows.append(row)
        results_path.write_text(json.dumps(rows, indent=1))
    latency = compare.measure_latency(
        {r["name"]: Path(r["model"]) for r in rows},
        plan.latency_threads,
        plan.latency_rounds,
        plan.latency_runs,
        (size[1], size[0]),
    )
    for r in rows:
        r["latency"] = latency[r["name"]]
    results_path.write_text(json.dumps(rows, indent=1))
    command = f"depth-node compare --config {args.config} --out {args.out}"
    compare.write_section(args.out, compare.render_table(plan, rows, size, command))
    log(f"wrote {args.out} and {results_path}")
    return 0
