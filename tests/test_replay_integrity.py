"""Replay of damaged or unusable inputs: salvage what is readable, say what is missing, refuse in one line."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mcap.reader import make_reader

from depth_node.camera import CameraModel
from depth_node.cli import main
from depth_node.msgs import MessageSet
from tests.bags import Frame, write_camera_bag

# 640x480 frames: rosbags closes an MCAP chunk past 1 MiB, so each frame gets a chunk of its own.
BIG = CameraModel(640, 480, 500.0, 500.0, 319.5, 239.5)


def _replay(bag: Path, out: Path, model: Path, *extra: str) -> int:
    return main(["replay", str(bag), "--out", str(out), "--model", str(model), "--no-progress", *extra])


def _one_error_line(err: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("depth-node replay: error:"), err


def test_a_cut_off_recording_replays_what_is_readable(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()] * 5, messages, camera=BIG, extra_depth_topic=False)
    mcap = next(bag.glob("*.mcap"))
    data = mcap.read_bytes()
    mcap.write_bytes(data[: len(data) // 2])  # a recorder killed halfway: no summary, last chunk cut
    out = tmp_path / "out"
    assert _replay(bag, out, metric_model) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["truncated"] is True
    assert 2 <= report["frames_processed"] <= 3  # the frames before the cut, not one made up
    assert report["messages_recovered"] == 2 * report["frames_total"]  # image + camera_info each
    # metadata.yaml promised 5 of each: the rest is reported missing.
    missing = report["missing_messages"]
    assert missing["/cam/image_raw"] == 5 - report["frames_total"]
    err = capsys.readouterr().err
    assert "warning: input bag cut off" in err and "Traceback" not in err


def test_a_cut_off_single_mcap_file_and_one_chunk(tmp_path: Path, messages: MessageSet, metric_model: Path) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()] * 6, messages, extra_depth_topic=False)
    mcap = next(bag.glob("*.mcap"))
    data = mcap.read_bytes()  # one uncompressed chunk holds everything: the cut is inside it
    alone = tmp_path / "alone.mcap"
    alone.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    assert _replay(alone, out, metric_model) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["truncated"] is True and report["frames_processed"] >= 3
    assert report["missing_messages"] == {}  # a lone file: no metadata.yaml to hold it to


def test_a_zeroed_chunk_header_is_reported_missing_by_topic(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()] * 5, messages, camera=BIG)
    mcap = next(bag.glob("*.mcap"))
    with mcap.open("rb") as f:
        chunk = make_reader(f).get_summary().chunk_indexes[2]  # type: ignore[union-attr]
    data = bytearray(mcap.read_bytes())
    data[chunk.chunk_start_offset : chunk.chunk_start_offset + 100] = bytes(100)
    mcap.write_bytes(bytes(data))
    out = tmp_path / "out"
    assert _replay(bag, out, metric_model) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["frames_total"] == 4 and report["truncated"] is False
    assert report["missing_messages"] == {
        "/cam/camera_info": 1,
        "/cam/image_raw": 1,
        "/depth_cam/camera_info": 1,
        "/depth_cam/image_raw": 1,
    }
    err = capsys.readouterr().err
    assert "warning: 4 messages the bag's index lists could not be read" in err


def test_a_run_that_processes_no_frame_exits_3(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame("truncated"), Frame("garbage")], messages)
    out = tmp_path / "out"
    assert _replay(bag, out, metric_model) == 3
    assert json.loads((out / "report.json").read_text())["frames_processed"] == 0  # the report is still there
    err = capsys.readouterr().err
    assert "error: no frame of 2 could be processed" in err and "Traceback" not in err


def test_things_that_are_not_bags_get_one_line_and_exit_2(
    tmp_path: Path, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    pngs = tmp_path / "pngs"
    pngs.mkdir()
    cv2.imwrite(str(pngs / "a.png"), np.zeros((8, 8, 3), np.uint8))
    for bag in (empty, pngs, pngs / "a.png"):
        out = tmp_path / "out"
        assert _replay(bag, out, metric_model) == 2
        _one_error_line(capsys.readouterr().err)
        assert not out.exists()


def test_a_depth_topic_is_refused_as_the_colour_input(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()], messages)
    out = tmp_path / "out"
    assert _replay(bag, out, metric_model, "--image-topic", "/depth_cam/image_raw") == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "'16UC1'" in err and "--depth-topic" in err
    assert not out.exists()


def test_obstacles_not_written_is_said_on_the_console(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()], messages)
    assert _replay(bag, tmp_path / "out", metric_model) == 0
    err = capsys.readouterr().err
    assert "warning: vision_msgs definitions not found" in err and "/obstacles not written" in err
