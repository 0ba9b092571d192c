"""Figures of a simulation suite: top-down trajectories with obstacles and footprint, speed and steering.

One pair of PNGs per scenario (every seed of it in one figure), returned as report sections for
:func:`evaluation.report.write_html`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.report import pyplot, save_figure
from evaluation.sim import SimResult

_MODEL_COLOR, _ORACLE_COLOR = "tab:blue", "tab:orange"
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


def _draw_path(ax: Any, result: SimResult, color: str, style: str) -> None:
    """The path, the footprint every second, and an X where a run collided."""
    plt = pyplot()
    tr = result.trace
    ax.plot(tr.x, tr.y, style, color=color, lw=1.2)
    step = max(1, round(1.0 / max(tr.t[1] - tr.t[0], 1e-6))) if len(tr.t) > 1 else 1
    for i in range(0, len(tr.t), step):
        ax.add_patch(plt.Circle((tr.x[i], tr.y[i]), result.radius, fill=False, ec=color, lw=0.4, alpha=0.5))
    if result.collision:
        ax.plot(tr.x[-1], tr.y[-1], "x", color="red", ms=10, mew=2)


def _grid(plt: Any, count: int, width: float, height: float) -> tuple[Any, list[Any]]:
    cols = min(count, 5)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat


def _trajectories(out: Path, name: str, runs: list[SimResult], oracle: dict[int, SimResult]) -> tuple[str, str]:
    plt = pyplot()
    fig, axes = _grid(plt, len(runs), 3.6, 3.0)
    for ax, result in zip(axes, runs, strict=False):
        _draw_scene(ax, result)
        if result.scenario.seed in oracle:
            _draw_path(ax, oracle[result.scenario.seed], _ORACLE_COLOR, "--")
        _draw_path(ax, result, _MODEL_COLOR, "-")
        verdict = "ok" if result.success else result.outcome
        ax.set_title(f"seed {result.scenario.seed}: {verdict}, {result.time_s:.0f} s", fontsize=9)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{name}: model depth (solid){', oracle (dashed)' if oracle else ''}; footprint every 1 s")
    file = f"sim_{name}_paths.png"
    save_figure(fig, out / file)
    return file, f"{name}: top-down paths (m), start square, goal star, people red, collisions X"


def _controls(out: Path, name: str, runs: list[SimResult], oracle: dict[int, SimResult]) -> tuple[str, str]:
    plt = pyplot()
    fig, (ax_v, ax_w) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
    for result in runs:
        tr = result.trace
        ax_v.plot(tr.t, tr.v, color=_MODEL_COLOR, lw=0.8, alpha=0.7)
        ax_w.plot(tr.t, tr.w, color=_MODEL_COLOR, lw=0.8, alpha=0.7)
        if result.scenario.seed in oracle:
            o = oracle[result.scenario.seed].trace
            ax_v.plot(o.t, o.v, "--", color=_ORACLE_COLOR, lw=0.8, alpha=0.7)
            ax_w.plot(o.t, o.w, "--", color=_ORACLE_COLOR, lw=0.8, alpha=0.7)
    ax_v.set_ylabel("speed (m/s)")
    ax_w.set_ylabel("turn rate (rad/s)")
    ax_w.set_xlabel("time (s)")
    ax_v.set_title(f"{name}: every seed, model (solid){' and oracle (dashed)' if oracle else ''}")
    file = f"sim_{name}_controls.png"
    save_figure(fig, out / file)
    return file, f"{name}: forward speed and turn rate over time"


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
