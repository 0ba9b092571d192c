"""Static reports: PNG figures (matplotlib, Agg) and one self-contained report.html beside them.

Shared by ``depth-node replay`` (depth against ground truth) and the simulator. The page needs no server,
script or external stylesheet, so it opens from a copied output directory or a CI artifact. Every file is
written under a temporary name and renamed when complete, so a reader never sees half a figure.

matplotlib is imported inside the functions: importing this module is cheap, and a run without a report
never pays for it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from depth_node.evaluation.html_blocks import figures, flatten_raw, format_value, key_values, page, section
from depth_node.fileio import atomic_write_bytes

if TYPE_CHECKING:
    from depth_node.evaluation.depth_eval import DepthRecords, KeptFrame

Section = tuple[str, Sequence[tuple[str, str]]]  # (heading, [(png file name, caption), ...])
DPI = 100
PAGE_WIDTH_IN = 13.6  # figures fill a 1400 px page (html_blocks.PAGE_WIDTH_PX) at DPI, less the margins
READABLE_FONTS = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 14,
}
WORST_FRAMES_PNG = "depth_worst_frames.png"  # the strip of the frames of highest AbsRel (evaluate's page)
DEPTH_CMAP = "inferno_r"  # near = bright, as the node's colourised depth


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only: no display needed, none opened)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def readable_fonts(plt: Any) -> Any:
    """A context in which new figures use fonts readable on the page (a context: no global style change)."""
    return plt.rc_context(READABLE_FONTS)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name in ``path``'s directory, then rename it to ``path``."""
    atomic_write_bytes(Path(path), data)


def figure_png(fig: Any) -> bytes:
    """The PNG bytes of a matplotlib figure, which is then closed (figures hold memory until closed)."""
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
        return buf.getvalue()
    finally:
        pyplot().close(fig)


def save_figure(fig: Any, path: Path) -> None:
    """Write a figure as PNG atomically and close it."""
    atomic_write(Path(path), figure_png(fig))


def flatten(summary: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, formatted value) rows of a nested mapping, in its own order."""
    return [(k, format_value(v)) for k, v in flatten_raw(summary, prefix)]


def render_html(title: str, summary: Mapping[str, Any], sections: Sequence[Section]) -> str:
    """A plain page: title, the summary as a table of dotted keys, then each section's figures."""
    blocks = [section("Summary", key_values(summary))]
    blocks += [section(heading, figures(items)) for heading, items in sections]
    return page(title, blocks)


def write_html(path: Path, title: str, summary: Mapping[str, Any], sections: Sequence[Section]) -> None:
    """Write :func:`render_html`'s page to ``path`` atomically (UTF-8).

    Args:
        path: The .html file; figure names in ``sections`` are relative to its directory.
        title: Page title and heading.
        summary: Nested mapping shown as a table of dotted keys.
        sections: (heading, [(png file name, caption), ...]) in order.
    """
    atomic_write(Path(path), render_html(title, summary, sections).encode("utf-8"))


def write_page(path: Path, title: str, blocks: Sequence[str], subtitle: str | None = None) -> None:
    """Write a results page made of :mod:`depth_node.evaluation.html_blocks` pieces to ``path`` atomically (UTF-8)."""
    atomic_write(Path(path), page(title, blocks, subtitle).encode("utf-8"))


def _depth_limits(*arrays: np.ndarray) -> tuple[float, float]:
    """A shared colour range for depth maps: 1st-99th percentile of their finite values."""
    values = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays])
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(values, [1, 99]))
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def depth_figures(out_dir: Path, records: DepthRecords) -> list[tuple[str, str]]:
    """The figures of a depth-against-ground-truth evaluation, written into ``out_dir``.

    Returns:
        [(file name, caption)] for :func:`write_html`; empty when no frame was evaluated.
    """
    if not records.stamps_ns:
        return []
    plt = pyplot()
    with readable_fonts(plt):
        return _depth_figures(plt, Path(out_dir), records)


def _depth_figures(plt: Any, out_dir: Path, records: DepthRecords) -> list[tuple[str, str]]:
    from matplotlib.colors import LogNorm

    lo_d, hi_d = records.min_depth, records.max_depth
    # The prediction as the metrics see it: unknown -> max depth, clipped to the evaluated range.
    pred = np.clip(np.where(np.isfinite(records.pred), records.pred, hi_d), lo_d, hi_d)
    gt = records.gt
    figures: list[tuple[str, str]] = []

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(PAGE_WIDTH_IN, 5.5))
    t = (np.asarray(records.stamps_ns, np.int64) - records.stamps_ns[0]) / 1e9
    ax1.plot(t, records.abs_rel, ".-", color="tab:red")
    ax1.set_ylabel("AbsRel")
    ax2.plot(t, records.rmse, ".-", color="tab:blue")
    ax2.set_ylabel("RMSE (m)")
    ax2.set_xlabel("time from the first evaluated frame (s)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    save_figure(fig, out_dir / "depth_per_frame.png")
    figures.append(("depth_per_frame.png", "Per-frame AbsRel and RMSE over the bag."))

    err = pred - gt
    lo, hi = (float(v) for v in np.percentile(err, [1, 99]))
    if not hi > lo:
        lo, hi = lo - 0.05, hi + 0.05
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN * 0.7, 5))
    ax.hist(err, bins=80, range=(lo, hi), color="tab:gray")
    ax.axvline(0.0, color="k", lw=1)
    ax.axvline(float(np.median(err)), color="tab:red", lw=1, ls="--", label=f"median {np.median(err):+.3f} m")
    ax.set_xlabel("predicted − true depth (m)")
    ax.set_ylabel("pixels")
    ax.legend()
    save_figure(fig, out_dir / "depth_error_hist.png")
    figures.append(
        ("depth_error_hist.png", f"Signed error of all {gt.size} evaluated pixels (1st–99th percentile shown).")
    )

    top = min(hi_d, float(max(np.percentile(gt, 99.5), np.percentile(pred, 99.5))))
    top = top if top > lo_d else hi_d
    counts, xe, ye = np.histogram2d(gt, pred, bins=80, range=[[lo_d, top], [lo_d, top]])
    fig, ax = plt.subplots(figsize=(8, 7))
    mesh = ax.pcolormesh(xe, ye, np.ma.masked_equal(counts.T, 0), norm=LogNorm(vmin=1, vmax=max(counts.max(), 1)))
    ax.plot([lo_d, top], [lo_d, top], "w--", lw=1)
    ax.set_xlabel("true depth (m)")
    ax.set_ylabel("predicted depth (m)")
    ax.set_aspect("equal")
    fig.colorbar(mesh, ax=ax, label="pixels")
    save_figure(fig, out_dir / "depth_pred_vs_true.png")
    figures.append(("depth_pred_vs_true.png", "Predicted against true depth (pixel counts, log scale); dashed: y = x."))

    if records.frames:
        n = len(records.frames)
        caption = f"{n} frame{'s' if n != 1 else ''} spread over the bag; grey: no ground truth."
        figures.append(_frame_strip(plt, out_dir / "depth_frames.png", records, records.frames, caption))
    if records.worst:
        n = len(records.worst)
        caption = (
            f"The {n} frame{'s' if n != 1 else ''} of highest AbsRel, worst first (frame index and AbsRel at "
            "the left); grey: no ground truth."
        )
        figures.append(_frame_strip(plt, out_dir / WORST_FRAMES_PNG, records, records.worst, caption))
    return figures


def _frame_strip(
    plt: Any, path: Path, records: DepthRecords, frames: Sequence[KeptFrame], caption: str
) -> tuple[str, str]:
    """Rows of input / predicted / true depth / absolute error for the given kept frames."""
    import matplotlib

    cmap = matplotlib.colormaps[DEPTH_CMAP].with_extremes(bad="0.85")
    fig, axes = plt.subplots(len(frames), 4, figsize=(PAGE_WIDTH_IN, 2.8 * len(frames)), squeeze=False)
    t0 = records.stamps_ns[0]
    for row, frame in zip(axes, frames, strict=True):
        valid = np.isfinite(frame.gt) & (frame.gt >= records.min_depth) & (frame.gt <= records.max_depth)
        vmin, vmax = _depth_limits(frame.pred, frame.gt[valid])
        if frame.rgb is not None:
            row[0].imshow(frame.rgb)
        else:
            row[0].text(0.5, 0.5, "no colour image\n(sensor depth)", ha="center", va="center")
        label = f"t = {(frame.stamp_ns - t0) / 1e9:.2f} s"
        if frame.abs_rel is not None and frames is records.worst:
            label = f"frame {frame.index}\nt = {(frame.stamp_ns - t0) / 1e9:.2f} s\nAbsRel {frame.abs_rel:.3f}"
        row[0].set_ylabel(label)
        row[1].imshow(frame.pred, cmap=cmap, vmin=vmin, vmax=vmax)
        im = row[2].imshow(np.where(valid, frame.gt, np.nan), cmap=cmap, vmin=vmin, vmax=vmax)
        fig.colorbar(im, ax=row[1:3], label="depth (m)", fraction=0.04)
        err = np.where(valid, np.abs(frame.pred - frame.gt), np.nan)
        finite = err[np.isfinite(err)]
        emax = max(float(np.percentile(finite, 99)) if finite.size else 1.0, 1e-3)  # a perfect row: 0-1 mm
        im = row[3].imshow(err, cmap=matplotlib.colormaps["magma"].with_extremes(bad="0.85"), vmin=0.0, vmax=emax)
        fig.colorbar(im, ax=row[3], label="|error| (m)", fraction=0.046)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, title in zip(axes[0], ("input", "predicted depth", "true depth", "absolute error"), strict=True):
        ax.set_title(title)
    save_figure(fig, path)
    return path.name, caption
