"""Many bags against several models: one replay per (bag, model) pair, one row per pair, one aggregate per model.

Each pair is exactly ``depth-node replay BAG --model PATH --params P --gt-...-topic T`` (the same parameter
loading and :func:`depth_node.evaluation.replay.run_replay`), written to ``OUT/runs/BAG__MODEL/``, so a row's
numbers are those of a replay of that bag alone. :func:`evaluate_pair` is a module-level function of one
picklable :class:`PairTask`: it runs in this process, a local worker or a Ray task alike
(:mod:`depth_node.evaluation.parallel`), and never raises for a bag that cannot be replayed: that pair is a
failed row with its reason.

A model's aggregate pools every evaluated pixel of every frame of all its bags, as each replay pools its own
frames: the mean metrics (abs_rel, sq_rel, log10, delta1..3) are the rows' values weighted by their pixel
counts, rmse and rmse_log the root of the pixel-weighted mean of their squares; that equals computing the
metrics over all those pixels at once. Its timings are the frame-weighted median of the rows' per-frame medians.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from depth_node.evaluation.bag_manifest import BagEntry, safe_name
from depth_node.evaluation.parallel import per_process
from depth_node.fileio import atomic_write_bytes

MEAN_METRICS = ("abs_rel", "sq_rel", "log10", "delta1", "delta2", "delta3")
ROOT_METRICS = ("rmse", "rmse_log")
METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3")
HIGHER_IS_BETTER = {"delta1", "delta2", "delta3"}
TIMINGS = ("model_ms", "total_ms")
AGGREGATION = {
    "metrics": "pooled over every evaluated pixel of every frame of all the model's bags that replayed: "
    "abs_rel, sq_rel, log10 and delta1..3 are the rows' values weighted by their n_pixels, rmse and rmse_log "
    "the square root of the n_pixels-weighted mean of their squares (the same as computing them over all "
    "those pixels at once); failed rows are left out and counted in bags_failed",
    "timing": "model_ms (the network: ONNX Runtime or torch) and total_ms (decode to point cloud) are medians "
    "per frame; a model's value is the median of its rows' medians weighted by their frames",
}


@dataclass(frozen=True)
class PairTask:
    """One (bag, model) replay: everything a worker needs (picklable).

    Attributes:
        bag: The bag and its topics.
        model: The model's name in the leaderboard.
        model_path: Its file ("" = the --params model or the shipped one), as ``replay --model`` takes it.
        params: The --params YAML, or None.
        providers: The --providers text, or None.
        run_dir: Where the replay writes (``OUT/runs/BAG__MODEL``).
        keep_bag: Keep the output bag (MCAP) beside report.json.
        gt_min_depth: Evaluated ground-truth range, metres.
        gt_max_depth: Evaluated ground-truth range, metres.
        worst_frames: Frames of highest AbsRel shown whole (depth_worst_frames.png).
        threads: ONNX Runtime threads when the params leave them at 0 (one worker's share of the CPUs).
    """

    bag: BagEntry
    model: str
    model_path: str
    params: Path | None
    providers: str | None
    run_dir: Path
    keep_bag: bool = False
    gt_min_depth: float = 0.1
    gt_max_depth: float = 10.0
    worst_frames: int = 3
    threads: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """(bag, model): a row's identity."""
        return self.bag.name, self.model


def run_dir_name(bag: str, model: str) -> str:
    """``BAG__MODEL``, safe as a directory name."""
    return f"{safe_name(bag)}__{safe_name(model)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _base_row(task: PairTask) -> dict[str, Any]:
    return {
        "bag": task.bag.name,
        "model": task.model,
        "status": "failed",
        "error": None,
        "frames": 0,
        **dict.fromkeys(METRICS),
        "n_pixels": 0,
        "model_ms": None,
        "total_ms": None,
        "bag_path": str(task.bag.path),
        "model_path": task.model_path,
        "run_dir": f"runs/{task.run_dir.name}",
    }


def load_pair_params(task: PairTask) -> tuple[Any, Any]:
    """(depth_node, obstacle_avoidance) parameters of a pair, loaded as ``depth-node replay`` loads them.

    Without --params a simulator bag's own ``params.yaml`` is used, as ``replay`` does. The bag's
    ``camera_height_m`` (if any) then sets both nodes' camera height, as that robot's params file would.
    """
    from depth_node.commands.replay import load_both_params
    from depth_node.simulation.params_file import recorded_params

    args = argparse.Namespace(
        params=task.params if task.params is not None else recorded_params(task.bag.path),
        model=Path(task.model_path) if task.model_path else None,
        providers=task.providers,
        detector=None,
    )
    depth_params, nav_params = load_both_params(args)
    if task.bag.camera_height_m is not None:
        depth_params = replace(depth_params, camera_height_m=task.bag.camera_height_m)
        nav_params = replace(nav_params, camera_height_m=task.bag.camera_height_m)
    return depth_params, nav_params


def evaluate_pair(task: PairTask) -> dict[str, Any]:
    """Replay one pair into ``task.run_dir`` and return its leaderboard row (``status`` ok or failed)."""
    from depth_node.evaluation.replay import run_replay
    from depth_node.evaluation.replay_inputs import ReplayOptions
    from depth_node.evaluation.report import WORST_FRAMES_PNG

    row = _base_row(task)
    t0 = time.perf_counter()
    try:
        depth_params, nav_params = load_pair_params(task)
        built = depth_params
        if built.threads == 0 and task.threads > 0:  # threads do not change the numbers, only who waits
            built = replace(built, threads=task.threads)
        estimator = per_process(("evaluate", repr(built)), lambda: built.build_estimator(lambda _line: None))
        options = ReplayOptions(
            bag=task.bag.path,
            out=task.run_dir,
            image_topic=task.bag.image_topic,
            camera_info_topic=task.bag.camera_info_topic,
            gt_depth_topic=task.bag.gt_depth_topic,
            gt_points_topic=task.bag.gt_points_topic,
            gt_min_depth=task.gt_min_depth,
            gt_max_depth=task.gt_max_depth,
            worst_frames=task.worst_frames,
            overwrite=True,
            progress=False,
        )
        report = run_replay(options, estimator, depth_params, nav_params)
    except Exception as exc:  # any bag that cannot be replayed is one failed row, never the end
        row["error"] = _one_line(exc)
        row["wall_s"] = round(time.perf_counter() - t0, 3)
        return row
    if not task.keep_bag:
        for path in [*task.run_dir.glob("*.mcap"), task.run_dir / "metadata.yaml"]:
            path.unlink(missing_ok=True)
    row.update(_row_numbers(report))
    row["worst_frames_png"] = (
        f"{row['run_dir']}/{WORST_FRAMES_PNG}" if (task.run_dir / WORST_FRAMES_PNG).exists() else None
    )
    row["wall_s"] = round(time.perf_counter() - t0, 3)
    return row


def _row_numbers(report: dict[str, Any]) -> dict[str, Any]:
    """A row's numbers (and its status) from a replay's report.json."""
    latency = report.get("latency_ms") or {}
    out: dict[str, Any] = {
        "frames_total": report["frames_total"],
        "frames_processed": report["frames_processed"],
        "model_ms": (latency.get("inference") or {}).get("p50"),
        "total_ms": (latency.get("total") or {}).get("p50"),
        "provider": report.get("provider"),
        "warnings": list(report.get("warnings") or []),
    }
    metrics = report.get("depth_metrics")
    evaluated = (report.get("depth_eval") or {}).get("frames_evaluated", 0)
    if metrics is None:
        reasons = dict(report.get("skip_reasons") or {})
        gt = {k: v for k, v in (report.get("depth_eval") or {}).items() if k.startswith("gt_") and v}
        out["error"] = (
            f"no frame evaluated against ground truth: {report['frames_processed']} of {report['frames_total']} "
            f"frames processed, skipped {reasons or 'none'}, ground truth {gt or 'none'}"
        )
        return out
    out.update({k: metrics[k] for k in METRICS})
    out.update(status="ok", frames=evaluated, n_pixels=metrics["n_pixels"])
    out["abs_rel_median_scaled"] = (report.get("depth_metrics_median_scaled") or {}).get("abs_rel")
    return out


def _weighted_median(values: list[float], weights: list[int]) -> float | None:
    pairs = sorted((v, w) for v, w in zip(values, weights, strict=True) if w > 0)
    total = sum(w for _, w in pairs)
    if total == 0:
        return None
    acc = 0
    for value, weight in pairs:
        acc += weight
        if acc * 2 >= total:
            return value
    return pairs[-1][0]


def aggregate(rows: list[dict[str, Any]], models: list[str]) -> list[dict[str, Any]]:
    """One entry per model, in ``models``' order, over its ok rows (module docstring: how)."""
    out = []
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        ok = [r for r in mine if r["status"] == "ok"]
        n = sum(int(r["n_pixels"]) for r in ok)
        entry: dict[str, Any] = {
            "model": model,
            "bags": len(ok),
            "bags_failed": len(mine) - len(ok),
            "frames": sum(int(r["frames"]) for r in ok),
            "n_pixels": n,
        }
        for key in METRICS:
            if n == 0:
                entry[key] = None
            elif key in ROOT_METRICS:
                entry[key] = math.sqrt(sum(r["n_pixels"] * r[key] ** 2 for r in ok) / n)
            else:
                entry[key] = sum(r["n_pixels"] * r[key] for r in ok) / n
        for key in TIMINGS:
            timed = [r for r in ok if r[key] is not None]
            entry[key] = _weighted_median([r[key] for r in timed], [int(r["frames"]) for r in timed])
        out.append(entry)
    return out


def sort_key(metric: str) -> Any:
    """A sort key putting the best value of ``metric`` first and missing values (failed rows) last."""

    def key(entry: dict[str, Any]) -> tuple[int, float]:
        value = entry.get(metric)
        if value is None:
            return (1, 0.0)
        return (0, -float(value) if metric in HIGHER_IS_BETTER else float(value))

    return key


def leaderboard(
    rows: list[dict[str, Any]], models: list[str], pairs_total: int, sort_by: str, info: dict[str, Any]
) -> dict[str, Any]:
    """leaderboard.json's content: rows in input order, the per-model aggregates, how they were made."""
    return {
        "complete": len(rows) == pairs_total,
        "pairs_total": pairs_total,
        "pairs_done": len(rows),
        "pairs_failed": sum(r["status"] != "ok" for r in rows),
        "sort_by": sort_by,
        "rows": rows,
        "models": aggregate(rows, models),
        "aggregation": AGGREGATION,
        **info,
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """``payload`` as indented JSON at ``path``, atomically (a reader never sees half a leaderboard)."""
    atomic_write_bytes(path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())


def reusable_rows(path: Path, tasks: list[PairTask]) -> dict[tuple[str, str], dict[str, Any]]:
    """--resume: the ok rows of an earlier leaderboard.json whose pair is still asked for, with the same bag
    and model files, and whose report.json is still there. Failed rows are run again."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    wanted = {t.key: t for t in tasks}
    kept = {}
    for row in old.get("rows", []) if isinstance(old, dict) else []:
        task = wanted.get((row.get("bag"), row.get("model")))
        if task is None or row.get("status") != "ok":
            continue
        if row.get("bag_path") != str(task.bag.path) or row.get("model_path") != task.model_path:
            continue
        if (task.run_dir / "report.json").is_file():
            kept[task.key] = row
    return kept
