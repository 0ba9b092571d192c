"""The comparison: MAC counting against hand arithmetic, the plan's checks, and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from depth_node.cli import main
from depth_node.errors import ParameterError
from depth_node.training.compare import load_plan, write_section
from depth_node.training.profile import count_macs, count_params

REPO = Path(__file__).resolve().parents[2]


def test_macs_and_params_by_hand() -> None:
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1),  # 8 x 16 x 16 outputs x 3 x 3 x 3 = 55,296
        nn.BatchNorm2d(8),  # not counted
        nn.Conv2d(8, 8, 3, 1, 1, groups=8),  # depthwise: 8 x 16 x 16 x 1 x 9 = 18,432
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),  # 32
    )
    assert count_macs(net, 32, 32) == 55_296 + 18_432 + 32
    assert count_params(net) == (3 * 8 * 9 + 8) + 16 + (8 * 9 + 8) + (8 * 4 + 4)
    assert net.training  # the count runs in eval mode and restores the mode
    hooks = sum(len(m._forward_hooks) for m in net.modules())
    assert hooks == 0


def test_plan_errors_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("archs: []\n")
    with pytest.raises(ParameterError, match="lists no architecture"):
        load_plan(bad)
    bad.write_text("archs:\n  - {name: x, arch: fastdepth, colour: red}\n")
    with pytest.raises(ParameterError, match=r"archs\[0\].*colour"):
        load_plan(bad)
    plan = load_plan(REPO / "config" / "compare_archs.yaml")
    trained = [e.arch for e in plan.entries if not e.model]
    assert len(trained) == 6 and {"encdec_irv2", "densedepth121", "plain_encdec"} <= set(trained)


def test_write_section_keeps_the_rest(tmp_path: Path) -> None:
    doc = tmp_path / "A.md"
    doc.write_text("# Title\n\nintro\n")
    write_section(doc, "table 1")
    doc.write_text(doc.read_text() + "\n## Notes\nkept\n")
    write_section(doc, "table 2")
    text = doc.read_text()
    assert "table 2" in text and "table 1" not in text and text.startswith("# Title") and text.endswith("kept\n")
    assert "<!-- compare:end -->\n\n## Notes" in text


def test_compare_end_to_end_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = {
        "base": str(REPO / "config" / "train_synthetic.yaml"),
        "out_dir": str(tmp_path / "runs"),
        "overrides": {
            "data.train_count": 4, "data.val_count": 2, "data.camera_width": 32, "data.camera_height": 24,
            "data.cache_dir": "", "model.input_width": 32, "model.input_height": 32, "optim.epochs": 1,
            "optim.steps_per_epoch": 2, "optim.batch_size": 2, "optim.threads": 1,
        },
        "archs": [{"name": "irv2", "arch": "encdec_irv2", "width_mult": 0.1, "depth_mult": 0.1}],
        "eval": {"count": 2},
        "latency": {"rounds": 2, "runs_per_round": 2},
    }  # fmt: skip
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    out = tmp_path / "ARCH.md"
    torch.manual_seed(0)
    # --only trains and measures one entry and writes its row, no table yet
    assert main(["compare", "--config", str(path), "--out", str(out), "--no-sim", "--only", "irv2"]) == 0
    row = json.loads((tmp_path / "runs" / "irv2" / "row.json").read_text())
    assert row["parity_m"] < 1e-3 and row["macs"] > 0 and row["eval"]["count"] == 2 and not out.exists()
    assert main(["compare", "--config", str(path), "--out", str(out), "--only", "vit"]) == 2
    # --reuse keeps the checkpoint and the held-out result, then times every model and writes the table
    capsys.readouterr()
    assert main(["compare", "--config", str(path), "--out", str(out), "--no-sim", "--reuse"]) == 0
    assert "irv2: reusing" in capsys.readouterr().out
    rows = json.loads((tmp_path / "runs" / "results.json").read_text())
    assert [r["name"] for r in rows] == ["irv2"] and rows[0]["eval"] == row["eval"]
    assert set(rows[0]["latency"]) == {"1", "2"} and rows[0]["latency"]["1"]["median_ms"] > 0
    table = out.read_text()
    assert "| irv2 | encdec_irv2 (0.1, 0.1) |" in table and "2 optimiser steps at batch 2" in table
