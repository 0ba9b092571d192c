"""depth_node.evaluation.report: the static HTML page and the PNG figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depth_node.evaluation.depth_eval import DepthRecords, KeptFrame
from depth_node.evaluation.report import depth_figures, flatten, pyplot, save_figure, write_html

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_write_html_escapes_every_text(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    evil = "<script>alert('x')</script>"
    write_html(page, f"title {evil}", {"k<b>": evil}, [(f"h {evil}", [("a b&c.png", f"cap {evil}")])])
    text = page.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert text.count("&lt;script&gt;") == 6  # <title>, <h1>, the cell, the heading, the img alt, the caption
    assert "<th>k&lt;b&gt;</th>" in text
    assert '<img src="a%20b%26c.png"' in text
    assert "<figcaption>cap &lt;script&gt;" in text


def test_summary_is_flattened_with_four_significant_digits(tmp_path: Path) -> None:
    summary = {"a": {"b": 1.234567, "c": {"d": 12345678, "e": None}}, "f": True, "g": [0.5, 2], "h": {}}
    assert flatten(summary) == [
        ("a.b", "1.235"),
        ("a.c.d", "12345678"),
        ("a.c.e", "—"),
        ("f", "true"),
        ("g", "0.5, 2"),
        ("h", "—"),
    ]
    page = tmp_path / "r.html"
    write_html(page, "t", summary, [])
    text = page.read_text(encoding="utf-8")
    assert '<tr><th>a.b</th><td class="n">1.235</td></tr>' in text and "<img" not in text


def test_writes_are_atomic_and_leave_no_temporary_file(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("old")
    write_html(page, "new", {}, [])
    assert "<h1>new</h1>" in page.read_text()
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "f.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "report.html"]
    with pytest.raises(FileNotFoundError):  # a failed write leaves nothing either
        write_html(tmp_path / "missing" / "r.html", "t", {}, [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "report.html"]


def test_save_figure_writes_a_png_and_closes_the_figure(tmp_path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    save_figure(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes().startswith(PNG_SIGNATURE)
    assert not plt.fignum_exists(fig.number)


def _records(with_rgb: bool) -> DepthRecords:
    rng = np.random.default_rng(0)
    gt = rng.uniform(0.5, 6.0, (24, 32)).astype(np.float32)
    gt[:3] = np.nan  # no ground truth in the top rows
    pred = (gt * rng.uniform(0.8, 1.2, gt.shape)).astype(np.float32)
    pred[5, 5] = np.nan
    valid = np.isfinite(gt)
    rgb = np.zeros((24, 32, 3), np.uint8) if with_rgb else None
    return DepthRecords(
        min_depth=0.1,
        max_depth=10.0,
        stamps_ns=[0, 100_000_000, 200_000_000],
        abs_rel=[0.1, 0.12, 0.09],
        rmse=[0.3, 0.35, 0.28],
        n_pixels=[int(valid.sum())] * 3,
        pred=np.tile(pred[valid], 3),
        gt=np.tile(gt[valid], 3),
        frames=[KeptFrame(0, rgb, pred, gt), KeptFrame(200_000_000, rgb, pred, gt)],
    )


@pytest.mark.parametrize("with_rgb", [True, False])
def test_depth_figures_writes_four_pngs(tmp_path: Path, with_rgb: bool) -> None:
    figures = depth_figures(tmp_path, _records(with_rgb))
    names = [name for name, _caption in figures]
    assert names == ["depth_per_frame.png", "depth_error_hist.png", "depth_pred_vs_true.png", "depth_frames.png"]
    assert all(caption for _name, caption in figures)
    for name in names:
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_depth_figures_of_nothing_is_nothing(tmp_path: Path) -> None:
    assert depth_figures(tmp_path, DepthRecords(0.1, 10.0)) == []
    assert list(tmp_path.iterdir()) == []
