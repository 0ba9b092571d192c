"""The first run of a new user: `make demo` needs the runtime only (no torch), and its Makefile says so."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# torch, onnx (the exporter) and the test tools are not installed by the demo's set-up: make them unimportable.
_NO_EXTRAS = (
    "import sys\n"
    "for name in ('torch', 'onnx', 'pytest', 'h5py'):\n"
    "    sys.modules[name] = None\n"
    "from depth_node.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_the_demo_runs_without_torch(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    argv = ["sim", "--scenario", "dead_end", "--seeds", "1", "--out", str(out), "--width", "64", "--height", "48"]
    proc = subprocess.run(
        [sys.executable, "-c", _NO_EXTRAS, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["depth"] == "model" and len(report["scenarios"]) == 1
    # By default only a failed run is recorded, and the output says how to record them all.
    run = report["scenarios"][0]
    assert (run["bag"] is None) == run["success"] and report["bags"] == "failed"
    assert "--bags all records every run" in proc.stdout


def _recipe(target: str) -> tuple[str, list[str]]:
    """(prerequisites, recipe lines) of a Makefile target."""
    text = (REPO / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:([^\n]*)\n((?:\t[^\n]*\n)*)", text, re.MULTILINE)
    assert match, target
    return match.group(1), [line.strip() for line in match.group(2).splitlines()]


def test_the_demo_setup_installs_the_runtime_only() -> None:
    """The runtime and the ROS 2 runtime (the demo runs the live graph), never torch or the test tools."""
    prereq, _ = _recipe("demo")
    stamp = prereq.split()[0]
    _, lines = _recipe(stamp)
    installs = [line for line in lines if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("torch" not in line for line in installs), installs
    extras = {e for line in installs for group in re.findall(r"\[([^\]]*)\]", line) for e in group.split(",")}
    assert extras <= {"ros", "ros-build"}, extras
    setup = (REPO / "setup.py").read_text()
    for extra in extras:
        block = re.search(rf'"{extra}": \[(.*?)\n        \]', setup, re.DOTALL)
        assert block and not re.search(r'"(torch|pytest)\b', block.group(1)), extra


@pytest.mark.parametrize("flag", ["--bags", "--overwrite"])
def test_the_demo_records_failed_runs_and_can_run_twice(flag: str) -> None:
    _, lines = _recipe("demo")
    assert any(flag in line for line in lines)
    assert any("--bags $(or $(BAGS),failed)" in line for line in lines)
