"""The simulator with time in it: ``--latency-ms`` and ``--camera-rate-hz`` (issue 26).

A frame rendered at t keeps its stamp t and reaches the nodes at t + latency, with its detections and its
depth; the camera runs at its own rate. A short run of each kind is part of CI; the sweep of the README
table is a command, not a test.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from depth_node.cli import main
from depth_node.evaluation.bagio import open_bag
from depth_node.evaluation.scenarios import build_scenario
from depth_node.msgs import stamp_ns
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions

MS = 1_000_000


def _log_and_stamp(bag: Path, topic: str) -> list[tuple[int, int]]:
    """(log time, header stamp) of every message of ``topic``."""
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        return [(t, stamp_ns(reader.deserialize(raw, c.msgtype).header)) for c, t, raw in reader.messages(conns)]


def test_a_frame_reaches_the_nodes_latency_ms_after_it_was_rendered(tmp_path: Path) -> None:
    options = SimOptions(depth="oracle", width=64, height=48, latency_ms=300.0, camera_rate_hz=5.0)
    scenario = dataclasses.replace(build_scenario("corridor_boxes", 0), timeout_s=3.0)
    result = run_scenario(scenario, options, None, bag=tmp_path / "run")
    assert result.bag is not None
    for topic in ("/camera/image_raw", "/detections", "/depth/image_raw"):
        times = _log_and_stamp(Path(result.bag), topic)
        assert len(times) >= 10, topic  # 3 s at 5 Hz, less the frames still in flight at the end
        assert all(logged - stamp == 300 * MS for logged, stamp in times), (topic, times[:3])
        stamps = [stamp for _, stamp in times]
        assert {b - a for a, b in itertools.pairwise(stamps)} == {200 * MS}, topic  # the camera at 5 Hz
    # The robot drove on late frames: it left the start and never touched anything.
    assert result.path_length_m > 0.5 and result.min_clearance_m > 0.0


def test_cli_sim_with_latency_reports_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    argv = ["sim", "--scenario", "person_crossing", "--seeds", "1", "--out", str(out), "--depth", "oracle"]
    argv += ["--latency-ms", "300", "--camera-rate-hz", "5", "--width", "64", "--height", "48", "--bags", "none"]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["latency_ms"], report["camera_rate_hz"]) == (300.0, 5.0)
    assert (report["success_rate"], report["collision_rate"]) == (1.0, 0.0), report["scenarios"]
    html = (out / "report.html").read_text()
    assert "latency, ms" in html and "latency 300 ms" in html and "at 5 Hz" in html
    assert "success_rate 1.000" in capsys.readouterr().out


@pytest.mark.parametrize("flags", [["--latency-ms", "-1"], ["--camera-rate-hz", "0"]])
def test_cli_sim_refuses_a_bad_latency_or_rate(
    tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sim", "--scenario", "dead_end", "--out", str(tmp_path / "sim"), "--depth", "oracle", *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "depth-node sim: error:" in err and "Traceback" not in err
