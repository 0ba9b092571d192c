"""report.html of a bag replay, as a results page instead of report.json's ~75 dotted keys in one table.

Top to bottom: warnings; what was replayed (bag, topics, model) beside the frame counts and skip reasons;
depth against ground truth (metric by metric, as predicted and median-scaled) with its figures; latency
per stage (p50/p95/max); the navigation's output; the floor-scale summary; anything else the report holds,
so that a key added to report.json later still shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depth_node.evaluation.html_blocks import figures, key_values, section, side_by_side, table, warnings_block

if TYPE_CHECKING:
    from depth_node.evaluation.depth_eval import DepthEvaluator
    from depth_node.evaluation.replay_inputs import ReplayOptions

_INPUT_KEYS = (
    "input_bag",
    "image_topic",
    "camera_info_topic",
    "depth_topic",
    "detections_topic",
    "provider",
    "input_topics_replaced",
)
_FRAME_KEYS = (
    "frames_total",
    "frames_processed",
    "frames_skipped",
    "camera_info_malformed",
    "truncated",
    "messages_recovered",
)
_METRIC_KEYS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "mae", "delta1", "delta2", "delta3", "n_pixels")
_SHOWN = {
    *_INPUT_KEYS,
    *_FRAME_KEYS,
    "skip_reasons",
    "missing_messages",
    "warnings",
    "latency_ms",
    "depth_metrics",
    "depth_metrics_median_scaled",
    "depth_eval",
    "cmd_vel",
    "navigation",
    "floor_scale",
}


def _counts_table(counts: Mapping[str, int], what: str, empty: str) -> str:
    if not counts:
        return f'<p class="note">{empty}</p>'
    return table([what, "count"], sorted(counts.items()))


def inputs_and_frames(report: Mapping[str, Any]) -> str:
    """What was replayed, beside how many frames came and what happened to them."""
    return side_by_side(
        key_values([(k.replace("_", " "), report.get(k)) for k in _INPUT_KEYS], "input"),
        key_values([(k.replace("_", " "), report.get(k)) for k in _FRAME_KEYS], "frames"),
        "<div><h3>skipped frames by reason</h3>"
        + _counts_table(report.get("skip_reasons") or {}, "reason", "none skipped")
        + "</div>",
        "<div><h3>messages the bag's index lists but that were not read</h3>"
        + _counts_table(report.get("missing_messages") or {}, "topic", "none missing")
        + "</div>",
    )


def metrics_table(raw: Mapping[str, Any], scaled: Mapping[str, Any] | None) -> str:
    """One row per depth metric: as predicted, and after per-frame median scaling."""
    keys = [k for k in _METRIC_KEYS if k in raw] + [k for k in raw if k not in _METRIC_KEYS]
    headers = ["metric", "as predicted"] + (["median-scaled"] if scaled else [])
    rows = [[k, raw.get(k)] + ([scaled.get(k)] if scaled else []) for k in keys]
    return table(headers, rows)


def latency_table(latency: Mapping[str, Mapping[str, Any]]) -> str:
    """One row per stage: p50, p95 and max in milliseconds."""
    rows = [[stage, v.get("p50"), v.get("p95"), v.get("max")] for stage, v in latency.items()]
    return table(["stage", "p50 (ms)", "p95 (ms)", "max (ms)"], rows)


def cmd_vel_table(cmd_vel: Mapping[str, Any]) -> str:
    """Counts, then one row per velocity component (mean, min, max)."""
    parts = [(k, v) for k, v in cmd_vel.items() if not isinstance(v, Mapping)]
    comps = [(k, v) for k, v in cmd_vel.items() if isinstance(v, Mapping)]
    block = key_values(parts, "cmd_vel messages")
    if comps:
        rows = [[k, v.get("mean"), v.get("min"), v.get("max")] for k, v in comps]
        block += "<div><h3>cmd_vel components</h3>" + table(["component", "mean", "min", "max"], rows) + "</div>"
    return block


def replay_page_blocks(
    report: Mapping[str, Any], depth_figures: Sequence[tuple[str, str]], gt_topic: str | None
) -> list[str]:
    """The page's blocks, in order, for :func:`depth_node.evaluation.report.write_page`."""
    blocks = [warnings_block(report.get("warnings") or []), section("Input and frames", inputs_and_frames(report))]
    if report.get("depth_metrics"):
        blocks.append(
            section(
                f"Depth against ground truth ({gt_topic})" if gt_topic else "Depth against ground truth",
                side_by_side(
                    "<div><h3>metrics</h3>"
                    + metrics_table(report["depth_metrics"], report.get("depth_metrics_median_scaled"))
                    + "</div>",
                    key_values(report.get("depth_eval") or {}, "evaluation"),
                ),
                figures(depth_figures),
            )
        )
    if report.get("latency_ms"):
        blocks.append(section("Latency per stage", latency_table(report["latency_ms"])))
    nav = report.get("navigation") or {}
    nav_shown = {k: v for k, v in nav.items() if k != "warning"}
    blocks.append(
        section(
            "obstacle_avoidance",
            side_by_side(key_values(nav_shown, "navigation"), cmd_vel_table(report.get("cmd_vel") or {})),
        )
    )
    if report.get("floor_scale"):
        blocks.append(section("Floor scale", key_values(report["floor_scale"])))
    rest = {k: v for k, v in report.items() if k not in _SHOWN}
    if rest:
        blocks.append(section("Other", key_values(rest)))
    return blocks


def write_replay_page(
    directory: Path, options: ReplayOptions, report: Mapping[str, Any], ev: DepthEvaluator | None
) -> None:
    """report.html (and with ground truth its figures) into the bag directory being written."""
    from depth_node.evaluation.report import depth_figures, write_page

    pngs = depth_figures(directory, ev.records()) if ev is not None else []
    blocks = replay_page_blocks(report, pngs, None if ev is None else ev.topic)
    subtitle = f"{report['frames_processed']} of {report['frames_total']} frames processed, on {report['provider']}"
    write_page(directory / "report.html", f"depth-node replay: {options.bag.name}", blocks, subtitle)
