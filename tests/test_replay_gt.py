"""`depth-node replay --gt-depth-topic / --gt-points-topic`: depth scored against the bag's ground truth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer

from depth_node.camera import CameraModel
from depth_node.cli import main
from depth_node.evaluation.demo import record_drive
from depth_node.evaluation.depth_eval import DepthEvaluator, points_from_cloud, project_points
from depth_node.evaluation.world import camera_for
from depth_node.metrics import compute_metrics, median_scaled
from depth_node.msgs import MessageSet, depth_from_msg, stamp_ns
from depth_node.pointcloud import PointCloudBuilder

CAMERA = camera_for(64, 48)
FRAMES = 4
METRIC_KEYS = {"abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "mae", "n_pixels"}
LATE_NS = 30_000_000  # within the 50 ms pairing window
TOO_LATE_NS = 60_000_000  # outside it


def _derived(messages: MessageSet, depth: np.ndarray, header: Any, i: int) -> dict[str, Any]:
    """The extra ground-truth topics of one frame, all from the renderer's exact 32FC1 depth."""
    mm = np.where(np.isfinite(depth), np.clip(np.rint(depth * 1000.0), 0, 65535), 0).astype(np.uint16)
    out = {
        "/gt/mm": messages.image(mm, "16UC1", header),
        "/gt/points": messages.point_cloud(PointCloudBuilder().build(depth, CAMERA), header),
        "/gt/half": messages.image(cv2.resize(depth, (32, 24), interpolation=cv2.INTER_NEAREST), "32FC1", header),
    }
    if i != 2:  # frame 2 has none, frame 3's is too late to pair
        shifted = stamp_ns(header) + (TOO_LATE_NS if i == 3 else LATE_NS)
        out["/gt/late"] = messages.image(depth, "32FC1", messages.header(shifted, header.frame_id))
    return out


@pytest.fixture(scope="module")
def gt_bag(tmp_path_factory: pytest.TempPathFactory, messages: MessageSet) -> Path:
    """A recorded drive (with /camera/depth_gt) plus ground truth in every other form this feature reads."""
    tmp = tmp_path_factory.mktemp("gt")
    drive = record_drive(tmp / "drive", "corridor", 3, FRAMES, CAMERA)
    store = messages.typestore
    bag = tmp / "gt_bag"
    with AnyReader([drive]) as reader, Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        copies = {c.id: writer.add_connection(c.topic, c.msgtype, typestore=store) for c in reader.connections}
        extra: dict[str, Any] = {}
        frame = 0
        for conn, t, raw in reader.messages():
            writer.write(copies[conn.id], t, raw)
            if conn.topic != "/camera/depth_gt":
                continue
            msg = reader.deserialize(raw, conn.msgtype)
            for topic, out in _derived(messages, depth_from_msg(msg), msg.header, frame).items():
                if topic not in extra:
                    extra[topic] = writer.add_connection(topic, out.__msgtype__, typestore=store)
                writer.write(extra[topic], t, store.serialize_cdr(out, out.__msgtype__))
            frame += 1
    return bag


def _replay(bag: Path, out: Path, model: Path, *flags: str) -> dict[str, Any]:
    assert main(["replay", str(bag), "--out", str(out), "--model", str(model), *flags]) == 0
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


def _images(bag: Path, topic: str) -> dict[int, np.ndarray]:
    with AnyReader([bag]) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        return {
            stamp_ns(m.header): depth_from_msg(m)
            for m in (reader.deserialize(raw, c.msgtype) for c, _t, raw in reader.messages(connections=conns))
        }


def _valid(gt: np.ndarray) -> np.ndarray:
    return np.isfinite(gt) & (gt >= 0.1) & (gt <= 10.0)


def _expected(preds: list[np.ndarray], gts: list[np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
    """Metrics computed directly on whole frames (batch), plain and per-frame median-scaled."""
    plain = compute_metrics(np.stack(preds), np.stack(gts), with_ssim=False)
    scaled = [median_scaled(p, g, _valid(g)) for p, g in zip(preds, gts, strict=True)]
    return plain, compute_metrics(np.stack(scaled), np.stack(gts), with_ssim=False)


def _assert_metrics(got: dict[str, Any], want: dict[str, float], rel: float = 1e-6) -> None:
    assert set(got) == METRIC_KEYS
    assert got["n_pixels"] == int(want["n_pixels"])
    for key in METRIC_KEYS - {"n_pixels"}:
        assert got[key] == pytest.approx(want[key], rel=rel, abs=1e-12), key


@pytest.fixture(scope="module")
def float_run(
    gt_bag: Path, metric_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("runs") / "float"
    return out, _replay(gt_bag, out, metric_model, "--gt-depth-topic", "/camera/depth_gt")


def test_metrics_equal_a_direct_computation(gt_bag: Path, float_run: tuple[Path, dict[str, Any]]) -> None:
    out, report = float_run
    preds, gts = _images(out, "/depth/image_raw"), _images(gt_bag, "/camera/depth_gt")
    assert sorted(preds) == sorted(gts) and len(preds) == FRAMES
    plain, scaled = _expected([preds[s] for s in sorted(preds)], [gts[s] for s in sorted(preds)])
    _assert_metrics(report["depth_metrics"], plain)
    _assert_metrics(report["depth_metrics_median_scaled"], scaled)
    ev = report["depth_eval"]
    assert (ev["gt_topic"], ev["gt_kind"], ev["frames_evaluated"]) == ("/camera/depth_gt", "depth", FRAMES)
    assert (ev["gt_missing"], ev["gt_malformed"], ev["gt_empty"], ev["gt_resampled"]) == (0, 0, 0, False)


def test_report_html_shows_metrics_and_figures(float_run: tuple[Path, dict[str, Any]]) -> None:
    out, report = float_run
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "depth-node replay: gt_bag" in page and "<td>abs_rel</td>" in page  # the metrics table's first row
    assert f"{report['depth_metrics']['abs_rel']:.4g}" in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images == ["depth_per_frame.png", "depth_error_hist.png", "depth_pred_vs_true.png", "depth_frames.png"]
    for name in images:
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_millimetre_gt_matches_float_gt(
    gt_bag: Path, metric_model: Path, tmp_path: Path, float_run: tuple[Path, dict[str, Any]]
) -> None:
    report = _replay(gt_bag, tmp_path / "o", metric_model, "--gt-depth-topic", "/gt/mm")
    want = float_run[1]["depth_metrics"]
    assert report["depth_metrics"]["n_pixels"] == want["n_pixels"]
    for key in ("abs_rel", "rmse", "mae", "delta1", "log10"):
        assert report["depth_metrics"][key] == pytest.approx(want[key], abs=2e-3), key  # 0.5 mm rounding


def test_projected_cloud_gt_matches_depth_gt(
    gt_bag: Path, metric_model: Path, tmp_path: Path, float_run: tuple[Path, dict[str, Any]]
) -> None:
    report = _replay(gt_bag, tmp_path / "o", metric_model, "--gt-points-topic", "/gt/points")
    assert report["depth_eval"]["gt_kind"] == "points"
    for key in ("depth_metrics", "depth_metrics_median_scaled"):
        _assert_metrics(report[key], float_run[1][key], rel=1e-12)


def test_gt_of_another_resolution_resamples_the_prediction(gt_bag: Path, metric_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    report = _replay(gt_bag, out, metric_model, "--gt-depth-topic", "/gt/half")
    assert report["depth_eval"]["gt_resampled"] is True
    preds, gts = _images(out, "/depth/image_raw"), _images(gt_bag, "/gt/half")
    small = [cv2.resize(preds[s], (32, 24), interpolation=cv2.INTER_NEAREST) for s in sorted(preds)]
    plain, _ = _expected(small, [gts[s] for s in sorted(preds)])
    _assert_metrics(report["depth_metrics"], plain)


def test_gt_paired_by_nearest_stamp_within_50ms(
    gt_bag: Path, metric_model: Path, tmp_path: Path, float_run: tuple[Path, dict[str, Any]]
) -> None:
    report = _replay(gt_bag, tmp_path / "o", metric_model, "--gt-depth-topic", "/gt/late")
    ev = report["depth_eval"]
    assert (ev["frames_evaluated"], ev["gt_missing"]) == (2, 2)  # frame 2 has none, frame 3's is 60 ms off
    gts = _images(gt_bag, "/camera/depth_gt")
    first_two = sum(int(_valid(gts[s]).sum()) for s in sorted(gts)[:2])
    assert report["depth_metrics"]["n_pixels"] == first_two


def test_sensor_depth_against_itself_is_perfect(gt_bag: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    flags = ["--depth-topic", "/camera/depth_gt", "--gt-depth-topic", "/camera/depth_gt"]
    assert main(["replay", str(gt_bag), "--out", str(out), *flags]) == 0
    report = json.loads((out / "report.json").read_text())
    m = report["depth_metrics"]
    assert (m["abs_rel"], m["rmse"], m["delta1"]) == (0.0, 0.0, 1.0)
    assert report["depth_eval"]["frames_evaluated"] == FRAMES
    assert (out / "depth_frames.png").exists()  # drawn without a colour column


def test_without_gt_the_keys_are_null_and_html_has_no_figures(
    gt_bag: Path, metric_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    report = _replay(gt_bag, out, metric_model, "--image-topic", "/camera/image_raw")
    assert (report["depth_eval"], report["depth_metrics"], report["depth_metrics_median_scaled"]) == (None,) * 3
    assert "<img" not in (out / "report.html").read_text()
    assert not list(out.glob("*.png"))
    assert str(out / "report.html") in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--gt-depth-topic", "/nope"], "ground-truth topic '/nope' is not a sensor_msgs/Image topic"),
        (["--gt-points-topic", "/camera/depth_gt"], "'/camera/depth_gt' is not a sensor_msgs/PointCloud2 topic"),
        (["--gt-depth-topic", "/camera/depth_gt", "--gt-min-depth", "5", "--gt-max-depth", "1"], "--gt-min-depth"),
    ],
)
def test_bad_gt_options_exit_2_and_write_nothing(
    gt_bag: Path,
    metric_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    out = tmp_path / "o"
    assert main(["replay", str(gt_bag), "--out", str(out), "--model", str(metric_model), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if "topic" in message:
        assert "/camera/image_raw [sensor_msgs/msg/Image]" in err  # the bag's topics are listed
    assert list(tmp_path.iterdir()) == []


def test_both_gt_topics_are_refused(gt_bag: Path, tmp_path: Path) -> None:
    argv = ["replay", str(gt_bag), "--out", str(tmp_path / "o"), "--gt-depth-topic", "/a", "--gt-points-topic", "/b"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


# --- the core pieces ------------------------------------------------------------------------------


def test_project_points_keeps_the_nearest_point_per_pixel() -> None:
    cam = CameraModel(8, 6, 10.0, 10.0, 3.5, 2.5)
    pts = [
        cam.backproject(2, 1, 4.0),
        cam.backproject(2, 1, 2.0),  # same pixel, nearer: wins whatever the order
        cam.backproject(2.4, 1.3, 3.0),  # rounds to pixel (2, 1) too, still farther
        cam.backproject(7, 5, 1.5),  # the bottom-right pixel
        cam.backproject(8, 5, 1.0),  # right of the image
        [0.0, 0.0, -1.0],  # behind the camera
        [np.nan, 0.0, 1.0],
    ]
    depth = project_points(np.array(pts), cam)
    assert depth.shape == (6, 8)
    assert depth[1, 2] == 2.0 and depth[5, 7] == 1.5
    assert np.isfinite(depth).sum() == 2


def test_points_from_cloud_reads_padded_rows_and_float64(messages: MessageSet) -> None:
    xyz = np.arange(2 * 3 * 3, dtype=np.float64).reshape(2, 3, 3)
    point = np.dtype({"names": ["x", "y", "z"], "formats": ["<f8"] * 3, "offsets": [8, 0, 16], "itemsize": 32})
    rows = np.zeros((2, 3 * 32 + 8), np.uint8)  # 8 bytes of padding per row
    for r in range(2):
        arr = np.zeros(3, point)
        arr["x"], arr["y"], arr["z"] = xyz[r, :, 0], xyz[r, :, 1], xyz[r, :, 2]
        rows[r, : 3 * 32] = arr.view(np.uint8)
    field = messages.get("sensor_msgs/msg/PointField")
    fields = [field(name=n, offset=o, datatype=8, count=1) for n, o in (("x", 8), ("y", 0), ("z", 16))]
    msg = messages.get("sensor_msgs/msg/PointCloud2")(
        header=messages.header(0, "c"),
        height=2,
        width=3,
        fields=fields,
        is_bigendian=False,
        point_step=32,
        row_step=3 * 32 + 8,
        data=rows.reshape(-1)[:-8],  # the last row's padding may be left out
        is_dense=True,
    )
    np.testing.assert_array_equal(points_from_cloud(msg), xyz.reshape(-1, 3))


def test_kept_frames_spread_over_the_bag_and_skip_frames_without_gt() -> None:
    cam = CameraModel(4, 3, 4.0, 4.0, 1.5, 1.0)
    gt = np.full((3, 4), 2.0, np.float32)
    ev = DepthEvaluator("/gt", "depth", lambda s: None if s == 3 else s, lambda _m: gt, n_frames=10)
    for i in range(10):
        ev.add(i, i, np.full((3, 4), 2.5, np.float32), cam, lambda: np.zeros((3, 4, 3), np.uint8))
    rec = ev.records()
    assert [f.stamp_ns for f in rec.frames] == [0, 4, 6, 9]  # frame 3 had no ground truth: 4 stands in
    assert rec.pred.dtype == np.float32 and rec.pred.size == 9 * 12
    report = ev.report()
    assert report["depth_eval"]["gt_missing"] == 1
    assert report["depth_metrics"]["abs_rel"] == pytest.approx(0.25)
    assert report["depth_metrics_median_scaled"]["abs_rel"] == pytest.approx(0.0)
