"""`depth-node replay` end to end on bags written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin

from depth_node.cli import main
from depth_node.msgs import MessageSet, stamp_ns
from tests.bags import PERIOD, T0, Frame, write_camera_bag

LATENCY_KEYS = {"decode", "inference", "points", "total", "navigation"}


def _read(out: Path) -> dict[str, list[tuple[int, object]]]:
    topics: dict[str, list[tuple[int, object]]] = {}
    with AnyReader([out]) as reader:
        for conn, t, raw in reader.messages():
            try:
                msg: object = reader.deserialize(raw, conn.msgtype)
            except Exception:  # the malformed frames the test wrote are copied as they were
                msg = raw
            topics.setdefault(conn.topic, []).append((t, msg))
    return topics


@pytest.mark.parametrize("storage", [StoragePlugin.MCAP, StoragePlugin.SQLITE3])
def test_replay_processes_good_frames_and_counts_bad_ones(
    tmp_path: Path,
    messages: MessageSet,
    metric_model: Path,
    storage: StoragePlugin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kinds = ["good", "truncated", "good", "bad_encoding", "garbage", "zero_fx", "good"]
    bag = write_camera_bag(tmp_path / "in", [Frame(k) for k in kinds], messages, storage=storage)
    out = tmp_path / "out"
    assert main(["replay", str(bag), "--out", str(out), "--model", str(metric_model)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["frames_total"] == 7 and report["frames_processed"] == 3 and report["frames_skipped"] == 4
    assert report["skip_reasons"] == {
        "bad_image": 1,
        "unsupported_encoding": 1,
        "malformed_message": 1,
        "bad_camera_info": 1,
    }
    assert report["provider"] == "CPUExecutionProvider"
    assert report["image_topic"] == "/cam/image_raw" and report["camera_info_topic"] == "/cam/camera_info"
    assert set(report["latency_ms"]) == LATENCY_KEYS
    assert all(set(v) == {"p50", "p95", "max"} and v["p50"] > 0 for v in report["latency_ms"].values())
    assert report["floor_scale"] is None  # the node's floor_scale is off by default
    summary = json.loads(capsys.readouterr().out.splitlines()[0])
    assert summary["frames_processed"] == 3

    topics = _read(out)
    assert {"/cam/image_raw", "/cam/camera_info", "/depth_cam/image_raw"} <= set(topics)
    assert len(topics["/cam/image_raw"]) == 7  # input topics are copied whole, bad frames included
    good_times = [T0 + i * PERIOD for i, k in enumerate(kinds) if k == "good"]
    for topic in ("/depth/image_raw", "/depth/camera_info", "/depth/points"):
        assert [t for t, _ in topics[topic]] == good_times, topic
    for t, depth_msg in topics["/depth/image_raw"]:
        assert stamp_ns(depth_msg.header) == t and depth_msg.header.frame_id == "cam_optical_frame"
        assert depth_msg.encoding == "32FC1"
        depth = np.frombuffer(depth_msg.data.tobytes(), np.float32).reshape(48, 64)
        np.testing.assert_allclose(depth, 1.0 + 4.0 * 51 / 255, rtol=1e-6)
    _, info = topics["/depth/camera_info"][0]
    assert (info.width, info.height, info.k[0]) == (64, 48, 50.0)
    _, cloud = topics["/depth/points"][0]
    assert (cloud.height, cloud.width, cloud.point_step, cloud.is_dense) == (48, 64, 16, False)


def test_compressed_images_and_undecodable_ones(tmp_path: Path, messages: MessageSet, metric_model: Path) -> None:
    frames = [Frame("jpeg"), Frame("corrupt"), Frame("jpeg")]
    bag = write_camera_bag(tmp_path / "in", frames, messages, extra_depth_topic=False, info_first=True)
    out = tmp_path / "out"
    assert main(["replay", str(bag), "--out", str(out), "--model", str(metric_model)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["frames_processed"], report["skip_reasons"]) == (2, {"bad_image": 1})


def test_bad_paths_exit_2_and_leave_nothing(
    tmp_path: Path, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"not a bag")
    for bag in (tmp_path / "missing", junk):
        out = tmp_path / "out"
        assert main(["replay", str(bag), "--out", str(out), "--model", str(metric_model)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("depth-node replay: error:") and "Traceback" not in err and len(err.splitlines()) == 1
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mcap"]


def test_existing_output_is_kept_unless_overwrite(tmp_path: Path, messages: MessageSet, metric_model: Path) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()], messages)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["replay", str(bag), "--out", str(out), "--model", str(metric_model)]) == 2
    assert (out / "keep.txt").read_text() == "mine"
    assert main(["replay", str(bag), "--out", str(out), "--model", str(metric_model), "--overwrite"]) == 0
    assert not (out / "keep.txt").exists() and (out / "report.json").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ambiguous_topics_list_the_candidates(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = tmp_path / "two"
    write_camera_bag(bag, [Frame()], messages)
    # A second colour camera in another bag directory, read together? Simpler: name topics explicitly.
    assert (
        main(
            [
                "replay",
                str(bag),
                "--out",
                str(tmp_path / "o1"),
                "--model",
                str(metric_model),
                "--image-topic",
                "/nope",
            ]
        )
        == 2
    )
    assert "image topic '/nope' is not an Image/CompressedImage topic" in capsys.readouterr().err
    assert (
        main(
            [
                "replay",
                str(bag),
                "--out",
                str(tmp_path / "o2"),
                "--model",
                str(metric_model),
                "--camera-info-topic",
                "/depth_cam/camera_info",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert report["camera_info_topic"] == "/depth_cam/camera_info"


def test_two_colour_cameras_are_ambiguous(
    tmp_path: Path, messages: MessageSet, metric_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rosbags.rosbag2 import Writer

    store = messages.typestore
    rgb = np.zeros((48, 64, 3), np.uint8)
    bag = tmp_path / "stereo"
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        for topic in ("/left/image_raw", "/right/image_raw"):
            conn = writer.add_connection(topic, "sensor_msgs/msg/Image", typestore=store)
            writer.write(
                conn,
                T0,
                store.serialize_cdr(messages.image(rgb, "rgb8", messages.header(T0, "c")), "sensor_msgs/msg/Image"),
            )
    assert main(["replay", str(bag), "--out", str(tmp_path / "o"), "--model", str(metric_model)]) == 2
    err = capsys.readouterr().err
    assert "several colour image topics ['/left/image_raw', '/right/image_raw']" in err


def test_params_yaml_feeds_replay(tmp_path: Path, messages: MessageSet, metric_model: Path) -> None:
    bag = write_camera_bag(tmp_path / "in", [Frame()], messages)
    params = tmp_path / "p.yaml"
    params.write_text(
        f"depth_node:\n  ros__parameters:\n    model_path: {metric_model}\n    decimation: 4\n    cloud_rgb: true\n"
    )
    assert main(["replay", str(bag), "--out", str(tmp_path / "o"), "--params", str(params)]) == 0
    _, cloud = _read(tmp_path / "o")["/depth/points"][0]
    assert (cloud.height, cloud.width, cloud.point_step) == (12, 16, 32)
    bad = tmp_path / "bad.yaml"
    bad.write_text("depth_node:\n  ros__parameters:\n    decimation: 0\n")
    assert main(["replay", str(bag), "--out", str(tmp_path / "o3"), "--params", str(bad)]) == 2


def test_the_report_summarises_the_floor_fits(tmp_path: Path, messages: MessageSet, metric_model: Path) -> None:
    # The test model sees a flat 1.8 m everywhere: no floor agrees with a 0.3 m camera, so every frame is
    # counted and none is rescaled.
    bag = write_camera_bag(tmp_path / "in", [Frame(), Frame("truncated"), Frame()], messages)
    params = tmp_path / "p.yaml"
    params.write_text(f"depth_node:\n  ros__parameters:\n    model_path: {metric_model}\n    floor_scale: true\n")
    assert main(["replay", str(bag), "--out", str(tmp_path / "o"), "--params", str(params)]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    floor = report["floor_scale"]
    assert floor["frames"] == report["frames_processed"] == 2
    assert floor["found_fraction"] == 0.0 and floor["scale_p50"] is None
