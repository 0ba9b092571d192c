"""User mistakes on the command line: one clear line and exit 2, never a traceback or a stray file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from depth_node.cli import main

REPO = Path(__file__).resolve().parents[1]


def _one_error_line(err: str, command: str) -> str:
    assert "Traceback" not in err and "WARN" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"depth-node {command}: error:"), err
    return lines[0]


def _png(path: Path, red: int = 51) -> Path:
    img = np.zeros((48, 64, 3), np.uint8)
    img[..., 2] = red  # OpenCV writes BGR
    assert cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_predict_out_that_is_a_file(tmp_path: Path, metric_model: Path, capfd: pytest.CaptureFixture[str]) -> None:
    img = _png(tmp_path / "frame.png")
    existing = tmp_path / "existing.txt"
    existing.write_text("mine")
    assert main(["predict", str(img), "--out", str(existing), "--model", str(metric_model)]) == 2
    assert "is a file, not a directory" in _one_error_line(capfd.readouterr().err, "predict")
    assert existing.read_text() == "mine"


def test_predict_reads_npy_arrays(tmp_path: Path, metric_model: Path) -> None:
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 0] = 51  # .npy arrays are RGB
    np.save(tmp_path / "a.npy", rgb)
    np.save(tmp_path / "b.npy", rgb.astype(np.float32) / 255.0)  # float 0-1
    out = tmp_path / "out"
    argv = ["predict", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--out", str(out)]
    assert main([*argv, "--model", str(metric_model)]) == 0
    for stem in ("a", "b"):
        np.testing.assert_allclose(np.load(out / f"{stem}_depth.npy"), 1.8, rtol=1e-5)


def test_predict_refuses_an_array_that_is_not_an_image(
    tmp_path: Path, metric_model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "v.npy", np.zeros(10))
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "v.npy"), "--out", str(out), "--model", str(metric_model)]) == 2
    assert "shape (10,) is not an image" in _one_error_line(capfd.readouterr().err, "predict")
    assert not out.exists()


def test_predict_takes_a_directory_of_images(
    tmp_path: Path, metric_model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    _png(images / "one.png")
    _png(images / "two.png", red=102)
    (images / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    assert main(["predict", str(images), "--out", str(out), "--model", str(metric_model)]) == 0
    assert sorted(p.name for p in out.glob("*_depth.npy")) == ["one_depth.npy", "two_depth.npy"]
    np.testing.assert_allclose(np.load(out / "two_depth.npy"), 1 + 4 * 102 / 255, rtol=1e-5)
    empty = tmp_path / "empty"
    empty.mkdir()
    capfd.readouterr()
    assert main(["predict", str(empty), "--out", str(tmp_path / "o2"), "--model", str(metric_model)]) == 2
    assert "holds no image" in _one_error_line(capfd.readouterr().err, "predict")
    assert not (tmp_path / "o2").exists()


def test_predict_failure_leaves_no_out_and_no_opencv_warning(
    tmp_path: Path, metric_model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    assert main(["predict", str(broken), "--out", str(out), "--model", str(metric_model)]) == 2
    assert "cannot be decoded" in _one_error_line(capfd.readouterr().err, "predict")
    assert not out.exists()


def test_predict_outputs_are_readable_by_all(tmp_path: Path, metric_model: Path, umask_022: None) -> None:
    out = tmp_path / "out"
    assert main(["predict", str(_png(tmp_path / "f.png")), "--out", str(out), "--model", str(metric_model)]) == 0
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == {"f_depth.npy": 0o644, "f_depth_mm.png": 0o644, "f_depth_color.png": 0o644}


def test_bench_repeats_zero(metric_model: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--model", str(metric_model), "--repeats", "0"]) == 2
    assert "--repeats must be >= 1" in _one_error_line(capfd.readouterr().err, "bench")


def test_bench_size_flags_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--width WIDTH synthetic frame width" in text and "--height HEIGHT synthetic frame height" in text


def test_sim_refuses_an_existing_out_unless_overwrite(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    out.mkdir()
    (out / "old_run_figure.png").write_text("from an earlier run")
    argv = ["sim", "--scenario", "dead_end", "--seeds", "1", "--out", str(out), "--depth", "oracle"]
    argv += ["--width", "64", "--height", "48", "--bags", "none"]
    assert main(argv) == 2
    assert "already exists (pass --overwrite" in _one_error_line(capfd.readouterr().err, "sim")
    assert (out / "old_run_figure.png").exists()
    assert main([*argv, "--overwrite"]) == 0
    assert (out / "report.json").is_file() and not (out / "old_run_figure.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim"]  # no staging directory left behind


def test_a_params_typo_suggests_the_nearest_name(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("depth_node:\n  ros__parameters:\n    floor_scal: true\n")
    img = _png(tmp_path / "f.png")
    assert main(["predict", str(img), "--out", str(tmp_path / "o"), "--params", str(params)]) == 2
    line = _one_error_line(capfd.readouterr().err, "predict")
    assert "unknown parameter 'floor_scal' (did you mean 'floor_scale'?)" in line
    assert "decimation" not in line  # not the list of every known name


def _with_closed_stdout(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`| head`) is already gone: every write fails with EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-c", "import sys; from depth_node.cli import main; sys.exit(main())", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


def test_a_closed_pipe_is_quiet(tmp_path: Path, metric_model: Path) -> None:
    img = _png(tmp_path / "f.png")
    proc = _with_closed_stdout(["predict", str(img), "--out", str(tmp_path / "o"), "--model", str(metric_model)])
    assert proc.stderr.decode() == ""
    assert proc.returncode == 141  # as a shell reports a command ended by SIGPIPE
    proc = _with_closed_stdout(["--help"])
    assert proc.stderr.decode() == "" and proc.returncode in (0, 141)
