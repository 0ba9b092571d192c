"""tools/passage_width.py: the narrow_gap passage as the controller's scan sees it, exact and through a model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from depth_node.evaluation.scenarios import build_scenario

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import passage_width  # noqa: E402


def test_exact_depth_shows_the_passage_at_its_width_less_the_scan_bins() -> None:
    gap = passage_width.passage(build_scenario("narrow_gap", 0))
    assert 0.72 <= gap.width <= 0.81  # 1.45-1.6 robot diameters
    widths, ratios = passage_width.measure(None, 1, [1.0])[1.0]
    assert len(widths) == len(passage_width.OFFSETS_M) and ratios == []
    for width in widths:
        assert gap.width - 0.05 <= width <= gap.width + 1e-6  # a bin's corner cuts a little, never widens


def test_the_shipped_model_is_measured_and_the_table_printed(capsys: pytest.CaptureFixture[str]) -> None:
    model = ROOT / "models" / "fastdepth_synthetic.onnx"
    assert passage_width.main([str(model), "--seeds", "1", "--distances", "1.0"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "1.0 |" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| exact", f"| {model}"]
    ratio = float(rows[1].split(" | ")[-1].split()[0])
    assert 0.5 < ratio < 1.5  # the face's depth, predicted: near the truth, not exact


def test_bad_distances_are_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert passage_width.main(["--distances", "1,x"]) == 2
    assert capsys.readouterr().err.strip() == "error: --distances must be numbers separated by commas, got '1,x'"
