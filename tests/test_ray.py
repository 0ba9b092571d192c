"""``--ray``: the same pairs as Ray tasks on a local Ray instance (2 CPUs) give the numbers of ``--jobs 1``.

One Ray instance for the module (its start-up costs seconds), started as a new local instance so that no
other Ray on this machine is joined; the runner then uses it as it is (``ray.is_initialized()``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from depth_node.cli import main
from depth_node.evaluation.demo import record_drive
from depth_node.evaluation.parallel import run_tasks
from depth_node.evaluation.world import camera_for

TIMING = {"model_ms", "total_ms", "wall_s"}
GT = ["--gt-depth-topic", "/camera/depth_gt"]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    saved = os.environ.pop("RAY_ADDRESS", None)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        if saved is not None:
            os.environ["RAY_ADDRESS"] = saved


def _cube(x: int) -> tuple[int, int]:
    return x**3, os.getpid()


def test_ray_tasks_come_back_in_input_order() -> None:
    seen: list[int] = []
    results = run_tasks(_cube, list(range(5)), ray_address="auto", on_result=lambda i, _r: seen.append(i))
    assert [r[0] for r in results] == [x**3 for x in range(5)] and sorted(seen) == list(range(5))
    assert os.getpid() not in {pid for _, pid in results}  # run by Ray's workers


def _untimed(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in TIMING} for e in entries]


def test_evaluate_on_ray_equals_one_job(tmp_path: Path, metric_model: Path) -> None:
    camera = camera_for(64, 48)
    bags = [str(record_drive(tmp_path / f"drive_{i}", "corridor", i, 3, camera)) for i in (1, 2)]
    common = [*bags, *GT, "--model", f"metric={metric_model}", "--providers", "cpu"]
    boards = []
    for name, flags in (("one", ["--jobs", "1"]), ("ray", ["--ray", "auto"])):
        assert main(["evaluate", *common, "--out", str(tmp_path / name), *flags]) == 0
        boards.append(json.loads((tmp_path / name / "leaderboard.json").read_text()))
    one, on_ray = boards
    assert [r["status"] for r in on_ray["rows"]] == ["ok", "ok"]
    assert _untimed(on_ray["rows"]) == _untimed(one["rows"])
    assert _untimed(on_ray["models"]) == _untimed(one["models"])
    assert on_ray["workers"] == "Ray at auto"


def test_sim_on_ray_equals_one_job(tmp_path: Path, metric_model: Path) -> None:
    argv = ["sim", "--scenario", "dead_end", "--seeds", "2", "--model", str(metric_model), "--providers", "cpu"]
    argv += ["--width", "64", "--height", "48", "--bags", "none"]
    reports = []
    for name, flags in (("one", ["--jobs", "1"]), ("ray", ["--ray", "auto"])):
        assert main([*argv, "--out", str(tmp_path / name), *flags]) == 0
        reports.append(json.loads((tmp_path / name / "report.json").read_text()))
    assert reports[0] == reports[1]
