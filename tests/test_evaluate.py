"""``depth-node evaluate``: many bags against several models, one leaderboard.

Small bags recorded here by the renderer (exact depth on /camera/depth_gt) and two tiny ONNX models. A row must
be the replay of that bag alone, whatever ran it (this process, two processes); a damaged bag is a failed row;
Ctrl-C leaves a valid partial leaderboard; --resume runs only what is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from depth_node.cli import main
from depth_node.evaluation import leaderboard as lb
from depth_node.evaluation.demo import record_drive
from depth_node.evaluation.world import camera_for
from tests.onnx_models import plain_spec, write_affine_model

CAMERA = camera_for(64, 48)
GT = ["--gt-depth-topic", "/camera/depth_gt"]
TIMING = {"model_ms", "total_ms", "wall_s"}  # the machine's, not the model's: differ from run to run


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, metric_model: Path) -> dict[str, Any]:
    """Two drives of 4 frames, a damaged bag, two models, a manifest of the three bags."""
    tmp = tmp_path_factory.mktemp("evaluate")
    bags = [
        record_drive(tmp / "corridor_a", "corridor", 1, 4, CAMERA),
        record_drive(tmp / "room_b", "room", 2, 3, CAMERA),
    ]
    broken = tmp / "broken.mcap"
    broken.write_bytes(b"\x89MCAP0\r\n" + bytes(range(256)) * 8)  # a magic, then nothing an MCAP reader can use
    second = write_affine_model(tmp / "half.onnx", plain_spec(), gain=3.0, offset=0.5)
    manifest = tmp / "bags.yaml"
    manifest.write_text(
        "bags:\n"
        + "".join(
            f"  - path: {p.name}\n    image_topic: /camera/image_raw\n    gt_depth_topic: /camera/depth_gt\n"
            for p in [*bags, broken]
        )
    )
    models = ["--model", f"metric={metric_model}", "--model", f"half={second}"]
    return {"tmp": tmp, "bags": bags, "broken": broken, "manifest": manifest, "models": models}


def _evaluate(out: Path, *argv: str) -> dict[str, Any]:
    assert main(["evaluate", *argv, "--out", str(out), "--providers", "cpu"]) == 0
    board: dict[str, Any] = json.loads((out / "leaderboard.json").read_text())
    return board


def _untimed(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in TIMING} for e in entries]


@pytest.fixture(scope="module")
def one_job(inputs: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    out = inputs["tmp"] / "one"
    return out, _evaluate(out, "--manifest", str(inputs["manifest"]), *inputs["models"], "--jobs", "1")


def test_rows_equal_single_replays(one_job: tuple[Path, dict[str, Any]], inputs: dict[str, Any]) -> None:
    out, board = one_job
    assert board["complete"] and board["pairs_total"] == 6 and board["pairs_done"] == 6
    ok = [r for r in board["rows"] if r["status"] == "ok"]
    assert [(r["bag"], r["model"]) for r in ok] == [
        (b, m) for b in ("corridor_a", "room_b") for m in ("metric", "half")
    ]
    model_files = dict(m.split("=", 1) for m in inputs["models"][1::2])
    for row in ok:
        single = inputs["tmp"] / f"single_{row['bag']}_{row['model']}"
        bag = inputs["tmp"] / row["bag"]
        argv = ["replay", str(bag), "--out", str(single), "--model", model_files[row["model"]], *GT]
        assert main([*argv, "--providers", "cpu", "--no-progress"]) == 0
        report = json.loads((single / "report.json").read_text())
        assert row["frames"] == report["depth_eval"]["frames_evaluated"] > 0
        for key in lb.METRICS:
            assert row[key] == report["depth_metrics"][key], key
        assert row["n_pixels"] == report["depth_metrics"]["n_pixels"]
        run = out / row["run_dir"]
        assert json.loads((run / "report.json").read_text())["depth_metrics"] == report["depth_metrics"]
        assert not list(run.glob("*.mcap"))  # the output bag only with --keep-bags
        assert (out / row["worst_frames_png"]).is_file()
        assert row["model_ms"] is not None and row["total_ms"] >= row["model_ms"]
    # The two models differ (gain 4 against 3), so the rows are not one row copied.
    assert ok[0]["abs_rel"] != ok[1]["abs_rel"]


def test_models_pool_every_pixel_of_every_bag(one_job: tuple[Path, dict[str, Any]]) -> None:
    import math

    _, board = one_job
    assert [m["model"] for m in board["models"]] == ["metric", "half"]
    assert set(board["aggregation"]) == {"metrics", "timing"}
    for model in board["models"]:
        rows = [r for r in board["rows"] if r["model"] == model["model"] and r["status"] == "ok"]
        n = sum(r["n_pixels"] for r in rows)
        assert (model["bags"], model["bags_failed"], model["n_pixels"]) == (2, 1, n)
        assert model["frames"] == sum(r["frames"] for r in rows) == 7
        assert model["abs_rel"] == pytest.approx(sum(r["abs_rel"] * r["n_pixels"] for r in rows) / n, rel=1e-12)
        assert model["rmse"] == pytest.approx(math.sqrt(sum(r["rmse"] ** 2 * r["n_pixels"] for r in rows) / n))


def test_a_damaged_bag_is_one_failed_row_per_model(one_job: tuple[Path, dict[str, Any]]) -> None:
    out, board = one_job
    failed = [r for r in board["rows"] if r["status"] != "ok"]
    assert [(r["bag"], r["model"]) for r in failed] == [("broken", "metric"), ("broken", "half")]
    for row in failed:
        assert row["error"] and "broken" in row["error"] and row["abs_rel"] is None
        assert not (out / row["run_dir"]).exists()
    assert board["pairs_failed"] == 2
    page = (out / "leaderboard.html").read_text()
    assert "Bag corridor_a: worst frames per model" in page and "error_vs_speed.png" in page
    best, worst = sorted(board["models"], key=lambda m: m["abs_rel"])
    assert best["abs_rel"] < worst["abs_rel"]
    assert page.index(f"<td>{best['model']}</td>") < page.index(f"<td>{worst['model']}</td>")  # sorted by abs_rel


def test_two_jobs_equal_one(one_job: tuple[Path, dict[str, Any]], inputs: dict[str, Any]) -> None:
    _, board = one_job
    bags = [str(p) for p in [*inputs["bags"], inputs["broken"]]]
    two = _evaluate(
        inputs["tmp"] / "two", *bags, *GT, "--image-topic", "/camera/image_raw", *inputs["models"], "--jobs", "2"
    )
    assert _untimed(two["rows"]) == _untimed(board["rows"])
    assert _untimed(two["models"]) == _untimed(board["models"])


def test_interrupt_leaves_a_partial_leaderboard_and_resume_runs_the_rest(
    inputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = inputs["tmp"] / "resume"
    argv = ["evaluate", *map(str, inputs["bags"]), *GT, *inputs["models"], "--out", str(out), "--jobs", "1"]
    calls = []
    real = lb.evaluate_pair

    def interrupted_at_third(task: lb.PairTask) -> dict[str, Any]:
        calls.append(task.key)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(lb, "evaluate_pair", interrupted_at_third)
    assert main(argv) == 130
    partial = json.loads((out / "leaderboard.json").read_text())
    assert (partial["complete"], partial["pairs_done"], partial["pairs_total"]) == (False, 2, 4)
    assert "partial" in (out / "leaderboard.html").read_text()
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err  # not silently over the old one

    calls.clear()
    before = [r["wall_s"] for r in partial["rows"]]
    assert main([*argv, "--resume"]) == 0
    assert calls == [("room_b", "metric"), ("room_b", "half")]  # only the two missing pairs ran
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["complete"] and [r["wall_s"] for r in board["rows"][:2]] == before
    monkeypatch.setattr(lb, "evaluate_pair", real)
    assert main([*argv, "--resume", "--keep-bags"]) == 0  # everything done: nothing runs
    assert calls == [("room_b", "metric"), ("room_b", "half")]


def test_keep_bags_keeps_the_output_bag(inputs: dict[str, Any]) -> None:
    out = inputs["tmp"] / "keep"
    model = inputs["models"][1]
    _evaluate(out, str(inputs["bags"][1]), *GT, "--model", model, "--keep-bags", "--jobs", "1")
    assert list((out / "runs" / "room_b__metric").glob("*.mcap"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--manifest", "{tmp}/nope.yaml"], "--manifest"),
        (["{bag}"], "exactly one of gt_depth_topic"),
        (["{bag}", *GT, "--model", "x={tmp}/missing.onnx"], "--model x: no such file"),
        (["{bag}", *GT, "--model", "a={model}", "--model", "a={model}"], "two models named"),
        ([], "no bag to evaluate"),
        (["{bag}", *GT, "--jobs", "0"], "--jobs must be >= 1"),
    ],
)
def test_bad_input_is_one_line(
    inputs: dict[str, Any], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    subst = [
        a.format(tmp=inputs["tmp"], bag=inputs["bags"][0], model=inputs["models"][1].split("=", 1)[1]) for a in argv
    ]
    assert main(["evaluate", *subst, "--out", str(inputs["tmp"] / "bad")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_simulator_bag_row_equals_its_replay(tmp_path: Path) -> None:
    """The README's example, small: `sim --bags all`, then `evaluate` with the shipped model. The bag's own
    params.yaml (camera mount, floor scale) applies as in `replay`: without it abs_rel differs (0.057 / 0.105)."""
    model = str(Path(__file__).resolve().parents[1] / "models" / "fastdepth_synthetic.onnx")
    sim = ["sim", "--scenario", "dead_end", "--seeds", "1", "--bags", "all", "--out", str(tmp_path / "sim")]
    assert main([*sim, "--model", model, "--width", "64", "--height", "48", "--jobs", "1"]) == 0
    (bag,) = (tmp_path / "sim" / "bags").iterdir()
    assert (bag / "params.yaml").is_file()
    board = _evaluate(tmp_path / "eval", str(bag), *GT, "--model", f"shipped={model}", "--jobs", "1")
    (row,) = board["rows"]
    assert row["status"] == "ok" and row["frames"] > 10
    argv = ["replay", str(bag), "--out", str(tmp_path / "replay"), "--model", model, *GT]
    assert main([*argv, "--providers", "cpu", "--no-progress"]) == 0
    report = json.loads((tmp_path / "replay" / "report.json").read_text())
    assert {k: row[k] for k in lb.METRICS} == {k: report["depth_metrics"][k] for k in lb.METRICS}
