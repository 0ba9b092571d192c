"""Figures of a simulation suite: top-down trajectories with obstacles and footprint, speed and steering.

One pair of PNGs per scenario (every seed of it in one figure), returned as report sections for the page
(:mod:`depth_node.evaluation.sim_page`). Each seed has its own colour, the same in both figures and named in their
legends; model depth is drawn solid, oracle depth dashed. Figures are drawn for the page's width
(:data:`depth_node.evaluation.report.PAGE_WIDTH_IN`) with fonts that stay readable there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from depth_node.evaluation.report import PAGE_WIDTH_IN, pyplot, readable_fonts, save_figure
from depth_node.simulation.result import SimResult

_ORACLE_STYLE, _MODEL_STYLE = "--", "-"
_CLASS_COLORS = {"person": "tab:red", "pillar": "0.45", None: "0.25"}


def _draw_scene(ax: Any, result: SimResult) -> None:
    """Room outline, object footprints (at t = 0), movers' paths, start and goal."""
    plt = pyplot()
    scenario = result.scenario
    room = scenario.scene.room
    ax.add_patch(
        plt.Rectangle(
            (room.lo[0], room.lo[1]), room.hi[0] - room.lo[0], room.hi[1] - room.lo[1], fill=False, lw=1.5, ec="k"
        )
    )
    for box in scenario.scene.boxes:
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        hx, hy = box.size[0] / 2, box.size[1] / 2
        corners = [
            (box.center[0] + c * x - s * y, box.center[1] + s * x + c * y)
            for x, y in ((-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy))
        ]
        color = _CLASS_COLORS.get(box.label, "0.6")
        ax.add_patch(plt.Polygon(corners, closed=True, fc=color, ec="k", lw=0.5, alpha=0.6))
    for cyl in scenario.scene.cylinders:
        if cyl.z0 > 0.0:
            continue  # a head above its body
        color = _CLASS_COLORS.get(cyl.label, "0.6")
        ax.add_patch(plt.Circle(cyl.center, cyl.radius, fc=color, ec="k", lw=0.5, alpha=0.6))
    for mover in scenario.movers:
        end = mover.offset(mover.t1)
        x0, y0 = mover.start
        ax.annotate("", (x0 + end[0], y0 + end[1]), (x0, y0), arrowprops={"arrowstyle": "->", "color": "tab:red"})
    ax.plot(scenario.start.x, scenario.start.y, "ks", ms=4)
    ax.plot(*scenario.goal, "g*", ms=10)


draw_scene = _draw_scene  # for the failure panels (depth_node.evaluation.sim_failures)


def seed_color(index: int) -> Any:
    """The colour of the ``index``-th seed of a scenario: tab10, then tab20's light shades, then golden-ratio hues."""
    import matplotlib

    if index < 10:
        return matplotlib.colormaps["tab10"](index)
    if index < 20:
        return matplotlib.colormaps["tab20"](2 * (index - 10) + 1)
    return matplotlib.colormaps["hsv"]((index * 0.618034) % 1.0)


def _draw_path(ax: Any, result: SimResult, color: Any, style: str) -> None:
    """The path, the footprint every second, and an X where a run collided."""
    plt = pyplot()
    tr = result.trace
    ax.plot(tr.x, tr.y, style, color=color, lw=1.6)
    step = max(1, round(1.0 / max(tr.t[1] - tr.t[0], 1e-6))) if len(tr.t) > 1 else 1
    for i in range(0, len(tr.t), step):
        ax.add_patch(plt.Circle((tr.x[i], tr.y[i]), result.radius, fill=False, ec=color, lw=0.4, alpha=0.5))
    if result.collision:
        ax.plot(tr.x[-1], tr.y[-1], "x", color="red", ms=10, mew=2)


def _aspect(result: SimResult) -> float:
    """Height over width of what a panel shows (the room and the goal), so the panel has no empty band."""
    room, goal = result.scenario.scene.room, result.scenario.goal
    width = max(room.hi[0], goal[0]) - min(room.lo[0], goal[0]) + 1.0
    height = max(room.hi[1], goal[1]) - min(room.lo[1], goal[1]) + 1.0
    return min(max(height / width, 0.3), 1.2)


def _grid(plt: Any, count: int, aspect: float) -> tuple[Any, list[Any]]:
    cols = min(count, 3)
    rows = math.ceil(count / cols)
    width = PAGE_WIDTH_IN / cols
    fig, axes = plt.subplots(rows, cols, figsize=(PAGE_WIDTH_IN, (aspect * width + 0.9) * rows + 0.8), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat


def _trajectories(out: Path, name: str, runs: list[SimResult], oracle: dict[int, SimResult]) -> tuple[str, str]:
    plt = pyplot()
    with readable_fonts(plt):
        fig, axes = _grid(plt, len(runs), max(_aspect(r) for r in runs))
        for i, (ax, result) in enumerate(zip(axes, runs, strict=False)):
            _draw_scene(ax, result)
            color = seed_color(i)
            if result.scenario.seed in oracle:
                _draw_path(ax, oracle[result.scenario.seed], "0.2", _ORACLE_STYLE)
            _draw_path(ax, result, color, _MODEL_STYLE)
            verdict = "pass" if result.success else f"FAIL ({result.outcome})"
            ax.set_title(f"seed {result.scenario.seed}: {verdict}, {result.time_s:.0f} s", color=color)
            ax.set_aspect("equal")
            ax.set_xlabel("x (m)")
            ax.set_ylabel("y (m)")
        handles = [
            plt.Line2D([], [], color="0.4", ls=_MODEL_STYLE, lw=1.6, label="model depth"),
            plt.Line2D([], [], marker="s", ls="", color="k", label="start"),
            plt.Line2D([], [], marker="*", ls="", color="g", ms=12, label="goal"),
            plt.Line2D([], [], marker="x", ls="", color="red", mew=2, label="collision"),
        ]
        if oracle:
            handles.insert(1, plt.Line2D([], [], color="0.2", ls=_ORACLE_STYLE, lw=1.6, label="oracle depth"))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), bbox_to_anchor=(0.5, -0.02))
        fig.suptitle(f"{name}: top-down paths, footprint every 1 s")
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        file = f"sim_{name}_paths.png"
        save_figure(fig, out / file)
    caption = f"{name}: top-down paths per seed; people red, pillars grey, a walking person's path an arrow"
    return file, caption


def _controls(out: Path, name: str, runs: list[SimResult], oracle: dict[int, SimResult]) -> tuple[str, str]:
    plt = pyplot()
    with readable_fonts(plt):
        fig, (ax_v, ax_w) = plt.subplots(2, 1, figsize=(PAGE_WIDTH_IN, 6.5), sharex=True)
        for i, result in enumerate(runs):
            color = seed_color(i)
            tr = result.trace
            label = f"seed {result.scenario.seed}"
            ax_v.plot(tr.t, tr.v, _MODEL_STYLE, color=color, lw=1.4, label=label)
            ax_w.plot(tr.t, tr.w, _MODEL_STYLE, color=color, lw=1.4)
            if result.scenario.seed in oracle:
                o = oracle[result.scenario.seed].trace
                ax_v.plot(o.t, o.v, _ORACLE_STYLE, color=color, lw=1.2, label=f"{label}, oracle")
                ax_w.plot(o.t, o.w, _ORACLE_STYLE, color=color, lw=1.2)
        ax_v.set_ylabel("speed (m/s)")
        ax_w.set_ylabel("turn rate (rad/s)")
        ax_w.set_xlabel("time (s)")
        for ax in (ax_v, ax_w):
            ax.grid(alpha=0.3)
        ax_v.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        what = "model depth solid, oracle dashed" if oracle else "model depth"
        ax_v.set_title(f"{name}: forward speed and turn rate, one colour per seed ({what})")
        file = f"sim_{name}_controls.png"
        save_figure(fig, out / file)
    return file, f"{name}: forward speed and turn rate (> 0: left) over time, one colour per seed"


def sim_figures(
    out: Path, results: Sequence[SimResult], oracle: Sequence[SimResult]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Write the figures of every scenario into ``out``; returns the report sections."""
    sections = []
    names = list(dict.fromkeys(r.scenario.name for r in results))
    for name in names:
        runs = [r for r in results if r.scenario.name == name]
        by_seed = {r.scenario.seed: r for r in oracle if r.scenario.name == name}
        sections.append((name, [_trajectories(out, name, runs, by_seed), _controls(out, name, runs, by_seed)]))
    return sections
