"""``depth-node bench --soak``: the processor and the controller on a stream, RSS and latency by phase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from depth_node.cli import main
from depth_node.commands.soak import PHASES, phase_windows, rss_mb, soak
from depth_node.depth_params import DepthNodeParams
from depth_node.estimator import load_estimator
from depth_node.msgs import MessageSet
from depth_node.processing import DepthFrameProcessor


def test_phases_are_the_start_middle_and_end_of_the_run() -> None:
    windows = phase_windows(1800.0)
    assert [(p.name, p.begin_s, p.end_s) for p in windows] == [
        ("start", 0.0, 60.0),
        ("middle", 870.0, 930.0),
        ("end", 1740.0, 1800.0),
    ]
    short = phase_windows(10.0)
    assert [(p.begin_s, p.end_s) for p in short] == [(0.0, 1.0), (4.5, 5.5), (9.0, 10.0)]


def _check_phase(line: dict[str, Any], name: str) -> None:
    assert line["phase"] == name and line["frames"] > 0 and line["rss_mb"] > 0
    for stage in ("process", "control", "total"):
        values = [line[f"{stage}_p{q}_ms"] for q in (50, 90, 99)] + [line[f"{stage}_max_ms"]]
        assert values == sorted(values) and values[0] > 0


def test_soak_reports_each_phase_as_it_ends_and_a_summary(messages: MessageSet, metric_model: Path) -> None:
    params = DepthNodeParams()
    processor = DepthFrameProcessor(messages, load_estimator(metric_model, providers=("cpu",)), params)
    emitted: list[dict[str, Any]] = []
    summary = soak(1.5, 0.0, processor, emitted.append, width=64, height=48)
    assert [line["phase"] for line in emitted] == list(PHASES)
    for line, name in zip(emitted, PHASES, strict=True):
        _check_phase(line, name)
    assert summary["phases"] == emitted
    assert summary["frames"] >= sum(line["frames"] for line in emitted) and summary["failed_frames"] == 0
    assert len(summary["rss_mb_every_tenth"]) >= 10
    assert summary["rss_growth_mb"] == pytest.approx(
        summary["rss_mb_every_tenth"][-1] - summary["rss_mb_every_tenth"][0], abs=0.11
    )


def test_soak_paces_the_stream(messages: MessageSet, metric_model: Path) -> None:
    processor = DepthFrameProcessor(messages, load_estimator(metric_model, providers=("cpu",)), DepthNodeParams())
    summary = soak(1.0, 10.0, processor, lambda _: None, width=64, height=48)
    assert summary["frames"] <= 11  # never faster than the asked rate (it may be slower on a busy machine)


def test_bench_soak_prints_json_lines(metric_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--model", str(metric_model), "--soak", "0.6", "--soak-rate", "0", "--width", "64"]
    assert main([*argv, "--height", "48", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("phase") for line in lines[:3]] == list(PHASES)
    assert lines[3]["soak_s"] >= 0.6 and "rss_growth_mb" in lines[3]


@pytest.mark.parametrize(("flag", "value"), [("--soak", "-1"), ("--soak", "nan"), ("--soak-rate", "-3")])
def test_bench_soak_refuses_bad_values(
    metric_model: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    argv = ["bench", "--model", str(metric_model), "--soak", "1", flag, value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err


def test_rss_is_read() -> None:
    assert 10.0 < rss_mb() < 100_000.0
