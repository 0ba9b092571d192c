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
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse finished checkpoints, and held-out / suite results measured with the same command lines",
    )
    parser.add_argument("--no-sim", action="store_true", help="skip the closed-loop suite (the slowest part)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="train and measure only this entry (repeatable; no latency, no table: finish with --reuse)",
    )


def _measure(plan: Any, entry: Any, args: argparse.Namespace, size: tuple[int, int]) -> dict[str, Any]:
    """One entry's row: trained (or reused) and exported, then held-out eval and suite (or their stored results)."""
    from depth_node.training import compare
    from depth_node.training.networks import build_network
    from depth_node.training.profile import count_macs, count_params

    def log(line: str) -> None:
        print(line, flush=True)

    row_path = plan.out_dir / entry.name / "row.json"
    old = json.loads(row_path.read_text()) if args.reuse and row_path.exists() else {}
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
    trained_again = not entry.model and not row.get("reused")
    row["eval_cmd"] = compare.eval_command(plan, model)
    if old.get("eval_cmd") == row["eval_cmd"] and not trained_again:
        row["eval"] = old["eval"]
    else:
        row["eval"] = json.loads(compare.run_cli(row["eval_cmd"]).strip().splitlines()[-1])
    held = {k: round(row["eval"][k], 4) for k in ("abs_rel", "rmse", "delta1")}
    log(f"{entry.name}: held-out {json.dumps(held)}")
    if not args.no_sim:
        sim_out = plan.out_dir / "sim" / entry.name
        row["sim_cmd"] = compare.sim_command(plan, model, sim_out)
        if old.get("sim_cmd") == row["sim_cmd"] and "sim" in old and not trained_again:
            row["sim"] = old["sim"]
        else:
            compare.run_cli(row["sim_cmd"])
            report = json.loads((sim_out / "report.json").read_text())
            row["sim"] = {k: report[k] for k in ("success_rate", "collision_rate")}
        log(f"{entry.name}: suite {row['sim']}")
    compare.write_json(row_path, row)
    return row


def run(args: argparse.Namespace) -> int:
    """Train, export, evaluate and simulate every entry, then time all models together and write the table."""
    from depth_node.errors import ParameterError
    from depth_node.training import compare
    from depth_node.training.config import load_config

    plan = compare.load_plan(args.config)
    base = load_config(plan.base, plan.overrides)
    size = (base.model.input_width, base.model.input_height)
    names = [e.name for e in plan.entries]
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        raise ParameterError(f"--only {', '.join(unknown)}: not in {args.config} (entries: {', '.join(names)})")
    entries = [e for e in plan.entries if not args.only or e.name in args.only]
    rows = [_measure(plan, entry, args, size) for entry in entries]
    if args.only:
        print(f"measured {', '.join(args.only)}; finish with --reuse to time all models and write the table")
        return 0
    latency = compare.measure_latency(
        {r["name"]: Path(r["model"]) for r in rows},
        plan.latency_threads,
        plan.latency_rounds,
        plan.latency_runs,
        (size[1], size[0]),
    )
    for r in rows:
        r["latency"] = latency[r["name"]]
    results_path = plan.out_dir / "results.json"
    compare.write_json(results_path, rows)
    command = f"depth-node compare --config {args.config} --out {args.out}"
    compare.write_section(args.out, compare.render_table(plan, rows, size, command))
    print(f"wrote {args.out} and {results_path}")
    return 0
