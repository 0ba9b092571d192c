"""An exported model back into a trainable checkpoint (depth_node/training/onnx_import.py), and the training world's
floor clutter (low boxes, thin legs) and passages that a fine-tuned model trains on."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from depth_node.errors import ModelError
from depth_node.evaluation.world import camera_for, render_sample, sample_view
from depth_node.training.checkpoint import model_from_checkpoint
from depth_node.training.config import load_config
from depth_node.training.export import export_onnx
from depth_node.training.onnx_import import calibration_batch, import_onnx
from depth_node.training.train import train
from tests.training.test_train import tiny


def test_an_exported_model_comes_back_with_the_same_output_and_trains_from_there(tmp_path: Path) -> None:
    config = load_config(tiny(tmp_path))
    result = train(config, log=lambda _: None)
    onnx_path = export_onnx(result["last"], tmp_path / "m.onnx").path
    back = tmp_path / "back.pt"
    diff = import_onnx(onnx_path, config, back, count=8)
    assert diff < 1e-4
    original, _, _ = model_from_checkpoint(result["last"])
    imported, _, _ = model_from_checkpoint(back)
    batch = calibration_batch(config, 4, first_seed=50_000_000)
    with torch.no_grad():
        np.testing.assert_allclose(imported(batch).numpy(), original(batch).numpy(), atol=1e-4)
    # In training mode BatchNorm normalises by the batch: the rebuilt statistics keep that close to eval mode.
    imported.train()
    with torch.no_grad():
        rel = (imported(batch) - original(batch)).abs() / original(batch)
    assert float(rel.mean()) < 0.25
    # A fine-tuning run starts from it (every tensor loaded).
    more = load_config(tiny(tmp_path), {"model.init_checkpoint": str(back), "out_dir": str(tmp_path / "ft")})
    logs: list[str] = []
    train(more, log=logs.append)
    assert any("(0 left fresh)" in line for line in logs)


def test_another_architecture_is_refused_with_a_reason(tmp_path: Path) -> None:
    config = load_config(tiny(tmp_path))
    onnx_path = export_onnx(train(config, log=lambda _: None)["last"], tmp_path / "m.onnx").path
    wider = load_config(tiny(tmp_path), {"model.width_mult": 0.5})
    with pytest.raises(ModelError, match="weight shape"):
        import_onnx(onnx_path, wider, tmp_path / "x.pt", count=2)
    with pytest.raises(ModelError, match="does not exist"):
        import_onnx(tmp_path / "none.onnx", config, tmp_path / "x.pt", count=2)
    assert not (tmp_path / "x.pt").exists()


def test_floor_clutter_adds_low_boxes_and_thin_legs_in_view_and_nothing_else() -> None:
    camera = camera_for(160, 120)
    seeds = range(30_000_000, 30_000_030)
    low = legs = 0
    for seed in seeds:
        plain, pose = sample_view(seed)
        cluttered, same_pose = sample_view(seed, floor_clutter=1.0)
        assert same_pose == pose and cluttered.boxes[: len(plain.boxes)] == plain.boxes
        extra = cluttered.boxes[len(plain.boxes) :]
        assert extra  # at least one low box always fits in front of the camera in these rooms
        for box in extra:
            ahead = math.hypot(box.center[0] - pose.x, box.center[1] - pose.y)
            assert 0.5 < ahead < 3.6
            low += box.size[2] <= 0.2 and box.center[2] == pytest.approx(box.size[2] / 2)
            legs += box.size[0] <= 0.05 and box.size[1] <= 0.05
        # Without clutter a sample is the original world's, pixel for pixel.
        np.testing.assert_array_equal(render_sample(seed, camera).rgb, render_sample(seed, camera, None, 0.0).rgb)
    assert low >= 30 and legs >= 20
    # The share: about half of the samples get clutter at floor_clutter 0.5.
    shared = sum(len(sample_view(s, floor_clutter=0.5)[0].boxes) > len(sample_view(s)[0].boxes) for s in seeds)
    assert 8 <= shared <= 22


def test_eval_takes_the_floor_clutter_and_refuses_a_share_outside_0_1(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from depth_node.cli import main

    argv = ["eval", "--synthetic", "--seed", "20000000", "--count", "3", "--no-ssim"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*argv, "--floor-clutter", "1.0"]) == 0
    cluttered = json.loads(capsys.readouterr().out)
    assert plain["floor_clutter"] == 0.0 and cluttered["floor_clutter"] == 1.0
    assert cluttered["abs_rel"] != plain["abs_rel"]  # other frames: boxes in front of the camera
    assert main([*argv, "--floor-clutter", "2"]) != 0
    assert "--floor-clutter must be in [0, 1], got 2.0" in capsys.readouterr().err


def test_a_passage_is_a_wall_across_the_view_with_one_narrow_opening_in_front_of_the_camera() -> None:
    camera = camera_for(160, 120)
    seeds = range(30_000_000, 30_000_030)
    seen = 0
    for seed in seeds:
        plain, pose = sample_view(seed)
        walled, same_pose = sample_view(seed, passages=1.0)
        assert same_pose == pose and walled.boxes[: len(plain.boxes)] == plain.boxes
        a, b = walled.boxes[len(plain.boxes) :]  # the two wall pieces, one structure without a label
        assert a.label is None and b.label is None and a.instance == b.instance and a.yaw == b.yaw
        assert a.size[0] == b.size[0] and 0.1 <= a.size[0] <= 0.55 and a.size[2] == walled.room.hi[2]
        normal = (math.cos(a.yaw), math.sin(a.yaw))
        along = (-normal[1], normal[0])
        ends = sorted(
            (box.center[0] - pose.x) * along[0] + (box.center[1] - pose.y) * along[1] + s * box.size[1] / 2
            for box in (a, b)
            for s in (-1, 1)
        )
        assert 0.6 <= ends[2] - ends[1] <= 1.1 + 1e-9  # the opening between the two inner ends
        face = (a.center[0] - pose.x) * normal[0] + (a.center[1] - pose.y) * normal[1] - a.size[0] / 2
        assert face >= 0.25  # the camera is in front of the wall, never in it
        frame = render_sample(seed, camera, None, 0.0, 1.0)
        seen += bool(np.any(frame.depth < render_sample(seed, camera).depth - 0.05))
    assert seen >= 25  # the wall is in the picture
    shared = sum(len(sample_view(s, passages=0.5)[0].boxes) > len(sample_view(s)[0].boxes) for s in seeds)
    assert 8 <= shared <= 22


def test_eval_takes_the_passages_share_and_refuses_one_outside_0_1(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from depth_node.cli import main

    argv = ["eval", "--synthetic", "--seed", "20000000", "--count", "3", "--no-ssim"]
    assert main([*argv, "--passages", "1.0"]) == 0
    assert json.loads(capsys.readouterr().out)["passages"] == 1.0
    assert main([*argv, "--passages", "-0.5"]) != 0
    assert "--passages must be in [0, 1], got -0.5" in capsys.readouterr().err
