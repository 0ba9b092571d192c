"""One figure per failed run: what the controller believed beside the truth, so a failure is read off the page.

Left, top-down around where the run ended: the scene as it is (grey, the truth), the robot's path with the
last seconds highlighted, and what the controller held at its last snapshot (:mod:`depth_node.evaluation.beliefs`):
the returns of its last scan (blue), what it remembered beyond them (its memory points and rolling-window
cells, orange), and every second of the last ten the heading it wanted (green) and the one it steered for
(blue arrow). An obstacle in grey with no dot on it was never seen (thin, low, out of view); a dot with no
grey under it is a phantom of the depth. Right, over the whole run: the two headings relative to the robot,
the clearance, and the controller's mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from depth_node.evaluation.report import PAGE_WIDTH_IN, pyplot, readable_fonts, save_figure
from depth_node.evaluation.sim_figures import draw_scene
from depth_node.simulation.result import SimResult

_LAST_S = 10.0  # the highlighted end of a run, s
_VIEW_M = 3.0  # half-size of the top-down view around the end, m
_MODES = ("goal", "plan", "escape", "blocked", "target", "blind", "goal_reached")


def failure_anchor(result: SimResult) -> str:
    """The page anchor of a failed run's figure."""
    return f"failure-{result.scenario.name}-{result.scenario.seed}-{result.depth}"


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def _top_down(ax: Any, result: SimResult) -> None:
    tr = result.trace
    draw_scene(ax, result)
    ax.plot(tr.x, tr.y, "-", color="0.55", lw=1.0)
    t = np.asarray(tr.t)
    last = t >= t[-1] - _LAST_S
    ax.plot(np.asarray(tr.x)[last], np.asarray(tr.y)[last], "-", color="tab:purple", lw=2.0)
    plt = pyplot()
    ax.add_patch(plt.Circle((tr.x[-1], tr.y[-1]), result.radius, fill=False, ec="tab:purple", lw=1.5))
    if tr.beliefs:
        b = tr.beliefs[-1]
        if b.held.size:
            ax.plot(b.held[:, 0], b.held[:, 1], ".", color="tab:orange", ms=3, alpha=0.7)
        if b.scan.size:
            ax.plot(b.scan[:, 0], b.scan[:, 1], ".", color="tab:blue", ms=4)
    step = max(1, round(1.0 / max(t[1] - t[0], 1e-6))) if t.size > 1 else 1
    for i in range(int(np.argmax(last)), t.size, step):
        for angle, color in ((tr.desired[i], "tab:green"), (tr.aim[i], "tab:blue")):
            if math.isfinite(angle):
                ax.annotate(
                    "",
                    (tr.x[i] + 0.5 * math.cos(angle), tr.y[i] + 0.5 * math.sin(angle)),
                    (tr.x[i], tr.y[i]),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0},
                )
    if result.collision:
        ax.plot(tr.x[-1], tr.y[-1], "x", color="red", ms=12, mew=2)
    ax.set_xlim(tr.x[-1] - _VIEW_M, tr.x[-1] + _VIEW_M)
    ax.set_ylim(tr.y[-1] - _VIEW_M, tr.y[-1] + _VIEW_M)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    when = f"t = {tr.beliefs[-1].t:.1f} s" if tr.beliefs else "no belief recorded"
    ax.set_title(f"the end, belief at {when}")


def _timeline(ax: Any, result: SimResult) -> None:
    tr = result.trace
    t, yaw = np.asarray(tr.t), np.asarray(tr.yaw)
    ax.plot(t, np.degrees(_wrap(np.asarray(tr.desired) - yaw)), color="tab:green", lw=1.0, label="wanted heading")
    ax.plot(t, np.degrees(_wrap(np.asarray(tr.aim) - yaw)), color="tab:blue", lw=1.0, label="steered heading")
    ax.set_ylabel("heading, robot frame (deg)")
    ax.set_xlabel("time (s)")
    ax.set_ylim(-185, 185)
    ax.grid(alpha=0.3)
    clear = ax.twinx()
    clear.plot(t, tr.clearance, color="0.3", lw=1.0, label="clearance")
    clear.set_ylabel("clearance (m)")
    clear.set_ylim(bottom=min(0.0, float(np.min(tr.clearance, initial=0.0))))
    cmap = pyplot().get_cmap("tab10")
    modes = np.asarray(tr.mode)
    for index, mode in enumerate(_MODES):
        on = modes == mode
        if on.any():
            ax.fill_between(t, -185, -165, where=on, color=cmap(index), step="mid", label=f"mode {mode}")
    ax.legend(loc="upper left", fontsize=9, ncol=2)
    ax.set_title("headings (the band at the bottom: the controller's mode)")


def failure_figures(out: Path, runs: Sequence[SimResult]) -> list[tuple[SimResult, str, str]]:
    """Write one PNG per failed run of ``runs`` into ``out``; returns (run, file, caption) for the page."""
    written = []
    plt = pyplot()
    for result in runs:
        if result.success or len(result.trace.t) < 2:
            continue
        with readable_fonts(plt):
            fig, (ax_map, ax_time) = plt.subplots(
                1, 2, figsize=(PAGE_WIDTH_IN, 5.6), gridspec_kw={"width_ratios": [1.0, 1.4]}
            )
            _top_down(ax_map, result)
            _timeline(ax_time, result)
            name, seed = result.scenario.name, result.scenario.seed
            fig.suptitle(f"{name} seed {seed}, {result.depth} depth: {result.outcome} at {result.time_s:.1f} s")
            fig.tight_layout()
            file = f"sim_fail_{name}_{seed}_{result.depth}.png"
            save_figure(fig, out / file)
        caption = (
            f"{name} seed {seed} ({result.depth} depth), {result.outcome}: truth grey; the controller's last scan "
            "blue dots, its memory and window orange dots; every second of the last 10 s the wanted heading "
            "(green) and the steered one (blue); the path's last 10 s purple"
        )
        written.append((result, file, caption))
    return written
