"""The shared parallel runner (depth_node.evaluation.parallel) and ``depth-node sim --jobs``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from depth_node.cli import main
from depth_node.errors import ParameterError
from depth_node.evaluation.parallel import default_jobs, run_tasks, threads_per_worker


def _square_and_pid(x: int) -> tuple[int, int]:
    """A task: its result, and the process that computed it."""
    return x * x, os.getpid()


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def test_results_come_in_input_order_from_other_processes() -> None:
    seen: list[int] = []
    results = run_tasks(_square_and_pid, list(range(6)), jobs=2, on_result=lambda i, _r: seen.append(i))
    assert [r[0] for r in results] == [x * x for x in range(6)]
    assert sorted(seen) == list(range(6))
    assert os.getpid() not in {pid for _, pid in results}  # the work left this process


def test_one_job_runs_here() -> None:
    results = run_tasks(_square_and_pid, [2, 3], jobs=1)
    assert results == [(4, os.getpid()), (9, os.getpid())]


def test_a_failing_task_ends_the_run_with_its_exception() -> None:
    with pytest.raises(ValueError, match="three"):
        run_tasks(_fails_on_three, [1, 2, 3, 4], jobs=2)


def test_bad_jobs_is_refused() -> None:
    with pytest.raises(ParameterError, match="--jobs"):
        run_tasks(_square_and_pid, [1], jobs=0)
    assert default_jobs() >= 1 and threads_per_worker(default_jobs() * 4) == 1


def _sim(out: Path, model: Path, jobs: str) -> dict[str, object]:
    argv = ["sim", "--scenario", "dead_end", "--scenario", "doorway", "--seeds", "2", "--out", str(out)]
    argv += ["--model", str(model), "--providers", "cpu", "--width", "64", "--height", "48", "--bags", "failed"]
    assert main([*argv, "--jobs", jobs]) == 0
    report: dict[str, object] = json.loads((out / "report.json").read_text())
    return report


def test_sim_jobs_2_equals_jobs_1(tmp_path: Path, metric_model: Path) -> None:
    one = _sim(tmp_path / "one", metric_model, "1")
    two = _sim(tmp_path / "two", metric_model, "2")
    assert len(one["scenarios"]) == 4  # type: ignore[arg-type]
    assert one == two  # same seeds, same numbers, same order
    bags = [sorted(p.name for p in (tmp_path / d / "bags").glob("*")) for d in ("one", "two")]
    assert bags[0] == bags[1]  # the failed runs' bags, written by the workers into the staged output


def test_sim_refuses_jobs_with_ros_and_jobs_with_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["sim", "--scenario", "dead_end", "--seeds", "1", "--out", str(tmp_path / "s"), "--depth", "oracle"]
    assert main([*base, "--jobs", "0"]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err
    assert main([*base, "--jobs", "2", "--ray", "auto"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([*base, "--ros", "--jobs", "2"]) == 2
    assert "--ros drives one ROS 2 graph" in capsys.readouterr().err
