"""leaderboard.html: which model, how good, how fast, where it fails.

Top to bottom: the models' aggregates sorted by the chosen metric (with how they are aggregated) beside a plot
of that metric against the model's milliseconds per frame; every (bag, model) row, sorted the same way, failed
rows last with their reason and a link to each pair's own replay report; then per bag, each model's worst
frames (input, prediction, ground truth, error), drawn by the pair's replay (depth_worst_frames.png).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from depth_node.evaluation.html_blocks import Html, figures, link, section, table, verdict
from depth_node.evaluation.leaderboard import AGGREGATION, HIGHER_IS_BETTER, METRICS, sort_key
from depth_node.evaluation.report import PAGE_WIDTH_IN, pyplot, readable_fonts, save_figure, write_page

PLOT = "error_vs_speed.png"
_ROW_COLUMNS = ("frames", *METRICS, "model_ms", "total_ms")


def _plot(out: Path, board: dict[str, Any], metric: str) -> tuple[str, str] | None:
    """The metric against model milliseconds: one large point per model, small ones per bag."""
    models = [m for m in board["models"] if m.get(metric) is not None and m.get("model_ms") is not None]
    if not models:
        return None
    plt = pyplot()
    with readable_fonts(plt):
        fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN * 0.6, 5.5))
        cmap = plt.get_cmap("tab10")
        for i, m in enumerate(models):
            colour = cmap(i % 10)
            rows = [
                r
                for r in board["rows"]
                if r["model"] == m["model"] and r["status"] == "ok" and r["model_ms"] is not None
            ]
            ax.scatter([r["model_ms"] for r in rows], [r[metric] for r in rows], s=14, color=colour, alpha=0.45)
            ax.scatter([m["model_ms"]], [m[metric]], s=120, color=colour, edgecolor="k", label=m["model"], zorder=3)
        ax.set_xlabel("model milliseconds per frame (median)")
        better = "higher is better" if metric in HIGHER_IS_BETTER else "lower is better"
        ax.set_ylabel(f"{metric} ({better})")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right")  # "best" searches every point (slow, and warns)
        save_figure(fig, out / PLOT)
    return PLOT, f"{metric} against speed: a large point per model (its aggregate), a small one per bag."


def _row_cells(row: dict[str, Any]) -> list[Any]:
    report = f"{row['run_dir']}/report.html"
    status: Any = verdict(True, "ok") if row["status"] == "ok" else verdict(False, row.get("error") or "failed")
    cells: list[Any] = [row["bag"], row["model"], status]
    cells += [row.get(k) for k in _ROW_COLUMNS]
    cells.append(link(report, "report") if row["status"] == "ok" else Html("—"))
    return cells


def _worst_frames(rows: Sequence[dict[str, Any]], bags: Sequence[str], metric: str) -> list[str]:
    blocks = []
    for bag in bags:
        items = []
        for row in sorted((r for r in rows if r["bag"] == bag), key=sort_key(metric)):
            if row.get("worst_frames_png"):
                caption = f"{row['model']}: abs_rel {row['abs_rel']:.4g} over {row['frames']} frames"
                items.append((row["worst_frames_png"], caption))
        if items:
            blocks.append(section(f"Bag {bag}: worst frames per model", figures(items), anchor=f"bag-{bag}"))
    return blocks


def write_leaderboard_page(out: Path, board: dict[str, Any], metric: str) -> None:
    """OUT/leaderboard.html (and its plot) from leaderboard.json's content, sorted by ``metric``."""
    models = sorted(board["models"], key=sort_key(metric))
    plot = _plot(out, board, metric)
    model_rows = [[m["model"], m["bags"], m["bags_failed"], *[m.get(k) for k in _ROW_COLUMNS]] for m in models]
    blocks = [
        section(
            f"Models, best {metric} first",
            table(["model", "bags", "bags failed", *_ROW_COLUMNS], model_rows),
            f'<p class="note">Aggregation. Metrics: {AGGREGATION["metrics"]}. Timing: {AGGREGATION["timing"]}.</p>',
            figures([plot] if plot else []),
        )
    ]
    rows = sorted(board["rows"], key=sort_key(metric))
    blocks.append(
        section(
            f"Every bag and model, best {metric} first",
            table(["bag", "model", "status", *_ROW_COLUMNS, "replay"], [_row_cells(r) for r in rows]),
        )
    )
    bags = list(dict.fromkeys(r["bag"] for r in board["rows"]))
    blocks += _worst_frames(board["rows"], bags, metric)
    done = f"{board['pairs_done']} of {board['pairs_total']} pairs done"
    if not board["complete"]:
        done += " (partial: the evaluation was interrupted; --resume continues it)"
    subtitle = f"{len(bags)} bag(s) x {len(board['models'])} model(s); {done}, {board['pairs_failed']} failed."
    write_page(out / "leaderboard.html", "depth-node evaluate: leaderboard", blocks, subtitle)
