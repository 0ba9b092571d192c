"""The shared parallel runner (depth_node.evaluation.parallel) and ``depth-node sim --jobs``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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


def _sleepy(arg: tuple[int, str]) -> int:
    """A task: notes its worker's pid in a directory; every task but the first then blocks for minutes."""
    i, pid_dir = arg
    (Path(pid_dir) / str(os.getpid())).touch()
    if i > 0:
        time.sleep(300)
    return i


INTERRUPTED = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
from depth_node.evaluation.parallel import run_tasks
from tests.test_parallel import _sleepy
try:
    run_tasks(_sleepy, [(i, sys.argv[1]) for i in range(4)], jobs=2, on_result=lambda i, r: print("done", i, flush=True))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie is not: an orphan is reaped by whatever init the container has, maybe never)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc (macOS) or gone meanwhile
        return True


def test_ctrl_c_keeps_what_finished_and_stops_the_workers(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env, cwd=root
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "done 0"  # the first result came back while the others run
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:  # both workers are busy
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in out and "done 1" not in out
    workers = [int(p.name) for p in tmp_path.iterdir()]
    assert workers and proc.pid not in workers
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)  # terminated, not left sleeping


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
