"""config/detector.yaml against DetectorParams, and the newest-frame worker of the detector node."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from depth_node import params
from depth_node.detection.params import NODE_NAME, DetectorParams
from depth_node.errors import ParameterError
from depth_node.frame_worker import FrameCounts, LatestFrameWorker

CONFIG = Path(__file__).resolve().parents[2] / "config" / "detector.yaml"


def test_yaml_lists_every_parameter_with_its_default() -> None:
    text = CONFIG.read_text()
    in_yaml = params.read_ros_params(CONFIG, NODE_NAME)
    infos = {info.name: info for info in params.describe(DetectorParams)}
    expected = {name for name, info in infos.items() if info.default != ()}
    assert set(in_yaml) == expected
    for name in expected:
        assert params.coerce(infos[name], in_yaml[name]) == infos[name].default, name
    for name in set(infos) - expected:
        assert f"# {name}:" in text
    assert params.load(DetectorParams, CONFIG, NODE_NAME) == DetectorParams()
    assert all(info.description for info in infos.values())


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"layout": "yolov5"}, "parameter 'layout': 'yolov5' is not one of"),
        ({"score_threshold": -0.1}, "parameter 'score_threshold': -0.1 is below"),
        ({"max_detections": 0}, "parameter 'max_detections': 0 is below"),
        ({"classes": "person"}, "parameter 'classes': expected a list"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(values: dict[str, Any], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        params.from_mapping(DetectorParams, values)


def test_worker_processes_the_newest_frame_and_counts_the_dropped() -> None:
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def process(item: int) -> None:
        if item == 0:
            started.set()
            release.wait(5.0)
        seen.append(item)
        counts.count("processed", 1.0)
        if item == 3:
            done.set()

    counts = FrameCounts()
    worker = LatestFrameWorker(process, "test_worker", counts)
    try:
        worker.submit(0)
        assert started.wait(5.0)
        for item in (1, 2, 3):  # arrive while 0 is in progress: only the newest survives
            worker.submit(item)
        release.set()
        assert done.wait(5.0)
        assert seen == [0, 3]
        assert counts.snapshot() == ({"dropped_busy": 2, "processed": 2}, 1.0)
    finally:
        worker.stop()


def test_worker_survives_an_exception_and_says_so() -> None:
    done = threading.Event()

    def process(item: int) -> None:
        if item == 0:
            raise RuntimeError("boom")
        done.set()

    counts = FrameCounts()
    errors: list[Exception] = []
    worker = LatestFrameWorker(process, "test_worker", counts, errors.append)
    try:
        worker.submit(0)
        for _ in range(100):  # the first item must be taken before the second replaces it
            if counts.snapshot()[0].get("internal_error"):
                break
            threading.Event().wait(0.01)
        worker.submit(1)
        assert done.wait(5.0)
        assert counts.snapshot()[0] == {"internal_error": 1}
        assert [str(e) for e in errors] == ["boom"]
    finally:
        worker.stop()
