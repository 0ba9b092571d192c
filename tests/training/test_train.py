"""Config loading, a two-step training run with resume, ONNX export parity, a 2-process torchrun smoke run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import yaml

from depth_node.cli import main
from depth_node.errors import ModelError, ParameterError
from depth_node.metrics import METRIC_KEYS
from depth_node.model_spec import ModelSpec, OutputKind
from depth_node.training.checkpoint import load_checkpoint, model_from_checkpoint
from depth_node.training.config import load_config
from depth_node.training.export import export_onnx
from depth_node.training.train import train

REPO = Path(__file__).resolve().parents[2]


def tiny(tmp_path: Path, **optim: Any) -> Path:
    """A config small enough for a few seconds of CPU."""
    cfg = {
        "seed": 3,
        "out_dir": str(tmp_path / "run"),
        "device": "cpu",
        "data": {"train_count": 4, "val_count": 2, "camera_width": 32, "camera_height": 24, "cache_dir": ""},
        "model": {"width_mult": 0.25, "input_width": 32, "input_height": 32},
        "optim": {"epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "threads": 1, **optim},
    }
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("optim:\n  epochz: 3\n")
    with pytest.raises(ParameterError, match=r"unknown parameter 'optim.epochz' \(did you mean 'optim.epochs'\?\)"):
        load_config(path)
    path.write_text("model:\n  input_width: 100\n")
    with pytest.raises(ParameterError, match="multiples of 32, got 100x128"):
        load_config(path)
    assert load_config(REPO / "config" / "train_synthetic.yaml").model.arch == "fastdepth"


def test_two_steps_checkpoint_resume_export_and_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config(tiny(tmp_path))
    result = train(config, log=lambda _: None)
    assert set(result["metrics"]) >= {"abs_rel", "delta1", "train_loss"}
    state = load_checkpoint(result["last"])
    assert state["epoch"] == 0 and state["config"]["model"]["width_mult"] == 0.25
    # Resume continues with the next epoch from the stored optimiser state.
    more = load_config(tiny(tmp_path), {"optim.epochs": 2})
    train(more, resume=result["last"], log=lambda _: None)
    assert load_checkpoint(result["last"])["epoch"] == 1

    out = export_onnx(result["last"], tmp_path / "m.onnx")
    assert out.max_abs_diff_m < 1e-3 and out.path.exists()
    proto = onnx.load(str(out.path))
    spec = ModelSpec.from_metadata({p.key: p.value for p in proto.metadata_props})
    assert spec.output_kind is OutputKind.METRIC_DEPTH
    assert (spec.input_width, spec.input_height, spec.trained_width) == (32, 32, 32)
    assert spec.trained_fx == pytest.approx(0.8 * 32)
    sess = ort.InferenceSession(str(out.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["image"] and [o.name for o in sess.get_outputs()] == ["depth"]
    batch = np.random.default_rng(0).standard_normal((3, 3, 32, 32)).astype(np.float32)  # dynamic batch
    got = sess.run(["depth"], {"image": batch})[0]
    model, _, _ = model_from_checkpoint(result["last"])
    with torch.no_grad():
        ref = model(torch.from_numpy(batch)).numpy()
    assert got.shape == (3, 1, 32, 32) and np.abs(got - ref).max() < 1e-3

    # depth-node eval runs the exported file through the estimator and prints one JSON object.
    capsys.readouterr()
    argv = ["eval", "--synthetic", "--seed", "5", "--count", "2", "--model", str(out.path), "--width", "32"]
    assert main([*argv, "--height", "24"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(METRIC_KEYS) <= set(report) and report["count"] == 2 and report["n_pixels"] > 0
    assert main([*argv, "--height", "24", "--median-scale", "--no-ssim"]) == 0
    scaled = json.loads(capsys.readouterr().out)
    assert scaled["median_scaled"] and scaled["n_pixels"] == report["n_pixels"]
    assert main(["eval", "--synthetic", "--model", str(tmp_path / "none.onnx")]) == 2


def test_init_weights_whole_model_or_encoder_only(tmp_path: Path) -> None:
    from depth_node.training.checkpoint import load_init_weights
    from depth_node.training.networks import build_network

    src = build_network("fastdepth", width_mult=0.25)
    torch.save(src.encoder.state_dict(), tmp_path / "encoder.pt")  # keys without the "encoder." prefix
    dst = build_network("fastdepth", width_mult=0.25)
    loaded, fresh = load_init_weights(dst, tmp_path / "encoder.pt")
    assert loaded == len(src.encoder.state_dict()) and fresh > 0
    for key, value in src.encoder.state_dict().items():
        assert torch.equal(dst.encoder.state_dict()[key], value)
    torch.save({"unrelated": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ModelError, match="shares no tensor"):
        load_init_weights(dst, tmp_path / "other.pt")


def test_checkpoint_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ModelError, match="no 'config'/'model' entries"):
        load_checkpoint(tmp_path / "foreign.pt")


def test_torchrun_two_processes_gloo(tmp_path: Path) -> None:
    config = tiny(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "depth_node.cli", "train", "--config", str(config), "--set", "data.train_count=8",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summaries = [line for line in proc.stdout.splitlines() if line.startswith('{"metrics"')]
    assert len(summaries) == 1, proc.stdout  # rank 1 must not print a second, interleaved summary
    last = json.loads(summaries[0])
    assert Path(last["last"]).exists()
    assert load_checkpoint(last["last"])["epoch"] == 0
    assert "epoch 0: 100%" in proc.stderr  # 8 samples / 2 processes / batch 2 = 2 steps each
