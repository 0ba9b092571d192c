"""One comparison, one budget: train every listed architecture the same way, measure each, write one table.

A plan (``config/compare_archs.yaml``) names a base training config, the overrides that set the shared budget,
and the architectures with their widths. For each: train in this process, export with the parity check, count
parameters and MACs at the model's input size, evaluate on held-out synthetic seeds (``depth-node eval``) and run
the closed-loop suite (``depth-node sim``), both as subprocesses with exactly the command lines the table
prints. ONNX CPU latency of all models is measured last, in one loop that interleaves models and thread counts,
so that the load of a shared machine falls on all of them alike.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from depth_node.errors import ParameterError

BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"


@dataclass(frozen=True)
class Entry:
    """One architecture of the comparison (``model`` set: an existing ONNX file, measured but not trained)."""

    name: str
    arch: str
    width_mult: float = 1.0
    depth_mult: float = 1.0
    model: str = ""


@dataclass(frozen=True)
class Plan:
    """What to train and how to measure it (see ``config/compare_archs.yaml``)."""

    base: Path
    out_dir: Path
    overrides: dict[str, Any]
    entries: tuple[Entry, ...]
    eval_seed: int = 20_000_000
    eval_count: int = 200
    sim_suite: str = "default"
    sim_seeds: int = 3
    sim_seed_start: int = 0
    latency_threads: tuple[int, ...] = (1, 2)
    latency_rounds: int = 20
    latency_runs: int = 10


_PLAN_KEYS = {"base", "out_dir", "overrides", "archs", "eval", "sim", "latency"}


def load_plan(path: str | Path) -> Plan:
    """Read and check a comparison plan; relative paths are relative to the current directory.

    Raises:
        ParameterError: unreadable file, unknown keys, or an entry without ``name`` and ``arch``.
    """
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"cannot read comparison plan {p}: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - _PLAN_KEYS:
        raise ParameterError(f"comparison plan {p}: expected a mapping with keys {sorted(_PLAN_KEYS)}")
    entries = []
    for i, item in enumerate(raw.get("archs") or []):
        try:
            entries.append(Entry(**item))
        except TypeError as exc:
            raise ParameterError(f"comparison plan {p}: archs[{i}]: {exc}") from exc
    if not entries:
        raise ParameterError(f"comparison plan {p}: 'archs' lists no architecture")
    ev, sim, lat = raw.get("eval") or {}, raw.get("sim") or {}, raw.get("latency") or {}
    return Plan(
        base=Path(raw.get("base", "config/train_synthetic.yaml")),
        out_dir=Path(raw.get("out_dir", "runs/compare")),
        overrides=dict(raw.get("overrides") or {}),
        entries=tuple(entries),
        eval_seed=int(ev.get("seed", 20_000_000)),
        eval_count=int(ev.get("count", 200)),
        sim_suite=str(sim.get("suite", "default")),
        sim_seeds=int(sim.get("seeds", 3)),
        sim_seed_start=int(sim.get("seed_start", 0)),
        latency_threads=tuple(int(t) for t in lat.get("threads", (1, 2))),
        latency_rounds=int(lat.get("rounds", 20)),
        latency_runs=int(lat.get("runs_per_round", 10)),
    )


def entry_overrides(plan: Plan, entry: Entry) -> dict[str, Any]:
    """The dotted overrides that turn the base config into this entry's training run."""
    return {
        **plan.overrides,
        "model.arch": entry.arch,
        "model.width_mult": entry.width_mult,
        "model.depth_mult": entry.depth_mult,
        "out_dir": str(plan.out_dir / entry.name),
    }


def eval_command(plan: Plan, model: Path) -> list[str]:
    """The ``depth-node eval`` arguments of the held-out split."""
    return ["eval", "--synthetic", "--seed", str(plan.eval_seed), "--count", str(plan.eval_count), "--no-ssim",
            "--model", str(model)]  # fmt: skip


def sim_command(plan: Plan, model: Path, out: Path) -> list[str]:
    """The ``depth-node sim`` arguments of the closed-loop suite."""
    return ["sim", "--suite", plan.sim_suite, "--seeds", str(plan.sim_seeds), "--seed-start",
            str(plan.sim_seed_start), "--bags", "none", "--model", str(model), "--out", str(out)]  # fmt: skip


def run_cli(args: list[str]) -> str:
    """Run ``depth-node ARGS`` in a fresh interpreter (the same one as this process); its stdout.

    Raises:
        ParameterError: the command failed (its stderr's tail is in the message).
    """
    proc = subprocess.run([sys.executable, "-m", "depth_node.cli", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ParameterError(f"depth-node {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return proc.stdout


def train_and_export(plan: Plan, entry: Entry, reuse: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """Train one entry (or reuse its finished checkpoint), export it; size, MACs, training time, val metrics."""
    from depth_node.training.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
    from depth_node.training.config import load_config
    from depth_node.training.export import export_onnx
    from depth_node.training.profile import count_macs, count_params
    from depth_node.training.train import train

    config = load_config(plan.base, entry_overrides(plan, entry))
    last = Path(config.out_dir) / "last.pt"
    onnx_path = plan.out_dir / f"{entry.name}.onnx"
    done = reuse and last.exists() and int(load_checkpoint(last)["epoch"]) == config.optim.epochs - 1
    if done:
        log(f"{entry.name}: reusing {last}")
        minutes = float(load_checkpoint(last).get("train_minutes", float("nan")))
    else:
        t0 = time.monotonic()
        train(config, log=lambda line: log(f"{entry.name}: {line}"))
        minutes = (time.monotonic() - t0) / 60.0
        state = load_checkpoint(last)
        state["train_minutes"] = minutes  # kept with the weights, so --reuse can still report it
        save_checkpoint(last, state)
    exported = export_onnx(last, onnx_path)
    model, cfg, state = model_from_checkpoint(last)
    m = cfg.model
    return {
        "name": entry.name,
        "arch": entry.arch,
        "width_mult": entry.width_mult,
        "depth_mult": entry.depth_mult,
        "model": str(onnx_path),
        "params": count_params(model),
        "macs": count_macs(model, m.input_height, m.input_width),
        "train_minutes": minutes,
        "val": {k: float(v) for k, v in state.get("metrics", {}).items()},
        "parity_m": exported.max_abs_diff_m,
        "reused": done,
    }


def measure_latency(
    models: dict[str, Path], threads: tuple[int, ...], rounds: int, runs: int, shape: tuple[int, int]
) -> dict[str, dict[int, dict[str, float]]]:
    """Median and p90 ms of one forward pass per (model, intra-op threads), all interleaved round by round."""
    import onnxruntime as ort

    x = np.random.default_rng(0).standard_normal((1, 3, *shape)).astype(np.float32)
    sessions = {}
    for name, path in models.items():
        for t in threads:
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = t, 1
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
            for _ in range(10):
                sess.run(["depth"], {"image": x})
            sessions[name, t] = sess
    samples: dict[tuple[str, int], list[float]] = {k: [] for k in sessions}
    for _ in range(rounds):
        for key, sess in sessions.items():
            for _ in range(runs):
                start = time.perf_counter()
                sess.run(["depth"], {"image": x})
                samples[key].append(1000.0 * (time.perf_counter() - start))
    out: dict[str, dict[int, dict[str, float]]] = {name: {} for name in models}
    for (name, t), ts in samples.items():
        out[name][t] = {"median_ms": statistics.median(ts), "p90_ms": float(np.percentile(ts, 90))}
    return out


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to a temporary name, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


def write_section(path: Path, text: str) -> None:
    """Put ``text`` between the compare markers of ``path`` (the rest of the file is kept), atomically."""
    block = f"{BEGIN}\n{text.rstrip()}\n{END}\n"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        _, _, tail = rest.partition(END)
        rest = tail.lstrip("\n")
        new = head + block + ("\n" + rest if rest else "")
    else:
        new = old + ("\n" if old else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


def _f(value: Any, fmt: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def render_table(plan: Plan, rows: list[dict[str, Any]], input_size: tuple[int, int], command: str) -> str:
    """The markdown section: budget, commands, one row per architecture."""
    o = plan.overrides
    steps = int(o.get("optim.epochs", 0)) * int(o.get("optim.steps_per_epoch", 0))
    batch = o.get("optim.batch_size", "?")
    w, h = input_size
    threads = " / ".join(f"{t} thr" for t in plan.latency_threads)
    lines = [
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"- Budget, the same for every trained row: {steps} optimiser steps at batch {batch} "
        f"({steps * int(batch) if isinstance(batch, int) else '?'} samples), "
        f"{o.get('optim.threads', '?')} CPU thread, from scratch, base config `{plan.base}` with "
        + ", ".join(f"`{k}={v}`" for k, v in o.items())
        + ".",
        f"- Params and MACs (convolutions + linear layers, forward-hook count) at the input size {w}x{h}.",
        f"- ONNX Runtime CPU latency: batch 1 at {w}x{h}, median (p90) of {plan.latency_rounds * plan.latency_runs} "
        f"runs per model and thread count, all models and thread counts interleaved in one loop "
        f"({plan.latency_rounds} rounds x {plan.latency_runs} runs) on a shared, loaded 2-core machine.",
        f"- Held-out: `depth-node eval --synthetic --seed {plan.eval_seed} --count {plan.eval_count} --no-ssim "
        f"--model M` (seeds disjoint from training and validation).",
        f"- Suite: `depth-node sim --suite {plan.sim_suite} --seeds {plan.sim_seeds} --seed-start "
        f"{plan.sim_seed_start} --bags none --model M --out DIR` (success rate / collision rate).",
        "",
        f"| name | arch (width, depth mult) | params | MACs | ONNX ms, {threads} | train min | val abs_rel "
        "| abs_rel | rmse (m) | delta1 | suite success | collisions |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lat = r.get("latency", {})
        ms = " / ".join(
            f"{_f(lat.get(t, {}).get('median_ms'), '.2f')} ({_f(lat.get(t, {}).get('p90_ms'), '.2f')})"
            for t in plan.latency_threads
        )
        ev, sim = r.get("eval", {}), r.get("sim", {})
        lines.append(
            f"| {r['name']} | {r['arch']} ({r['width_mult']:g}, {r['depth_mult']:g}) | {r['params'] / 1e6:.2f} M "
            f"| {r['macs'] / 1e9:.3f} G | {ms} | {_f(r.get('train_minutes'), '.1f')} "
            f"| {_f(r.get('val', {}).get('abs_rel'), '.3f')} | {_f(ev.get('abs_rel'), '.3f')} "
            f"| {_f(ev.get('rmse'), '.3f')} | {_f(ev.get('delta1'), '.3f')} | {_f(sim.get('success_rate'), '.3f')} "
            f"| {_f(sim.get('collision_rate'), '.3f')} |"
        )
    return "\n".join(lines)
