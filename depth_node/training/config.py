"""The training configuration: one frozen dataclass tree, read from YAML with the package's parameter loader.

The YAML is plain nested mappings (not the ROS ``ros__parameters`` layout: a training run is not a node).
Unknown keys, wrong types and out-of-range values are refused with the dotted name of the key, and a checkpoint
stores the whole config so that resume and export need nothing else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from depth_node import params
from depth_node.errors import ParameterError
from depth_node.params import param


@dataclass(frozen=True)
class DataConfig:
    """Where samples come from and how the synthetic ones are rendered."""

    kind: str = param("synthetic", "dataset", choices=("synthetic", "nyu_mat", "nyu_csv", "kitti", "cityscapes"))
    path: str = param("", "dataset root or file for the real datasets")
    val_path: str = param(
        "", "validation file/root of real datasets (cityscapes: its 'val' split); empty = hold out val_fraction"
    )
    val_fraction: float = param(0.05, "share of a real dataset held out when val_path is empty", min_value=0.0)
    train_count: int = param(12000, "synthetic training samples (seeds train_seed ...)", min_value=1)
    train_seed: int = param(0, "first seed of the synthetic training split", min_value=0)
    val_count: int = param(256, "synthetic validation samples", min_value=1)
    val_seed: int = param(10_000_000, "first seed of the validation split (disjoint from training)", min_value=0)
    camera_width: int = param(160, "synthetic camera width (4:3 webcam, resized to the input size)", min_value=8)
    camera_height: int = param(120, "synthetic camera height", min_value=8)
    fx_over_width: float = param(0.8, "synthetic focal length over image width (0.8: ~64 deg hfov)", min_value=0.1)
    cache_dir: str = param("", "pre-rendered synthetic samples go here (empty: render on the fly)")
    floor_clutter: float = param(
        0.0,
        "share of synthetic training samples with low boxes and thin-legged furniture in front of the camera "
        "(depth_node/evaluation/world_extras.py; validation never gets them); 0 = the original world",
        min_value=0.0,
        max_value=1.0,
    )
    passages: float = param(
        0.0,
        "share of synthetic training samples with a wall across the view open in one narrow passage (0.6-1.1 m) "
        "(depth_node/evaluation/world_extras.py; validation never gets them); 0 = the original world",
        min_value=0.0,
        max_value=1.0,
    )
    min_depth: float = param(0.1, "ground truth below this is ignored, metres", min_value=0.0)
    max_depth: float = param(10.0, "ground truth above this is ignored, metres", min_value=0.1)
    workers: int = param(0, "DataLoader worker processes", min_value=0)


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentations that keep image and depth aligned."""

    hflip: bool = param(True, "random horizontal flip")
    rotate_deg: float = param(5.0, "maximum random rotation, degrees", min_value=0.0, max_value=45.0)
    color_jitter: float = param(0.2, "brightness/contrast/saturation jitter amplitude", min_value=0.0, max_value=1.0)
    crop: bool = param(False, "random crop to the input size (sources larger than it)")


@dataclass(frozen=True)
class ModelConfig:
    """Network choice and what its output means."""

    arch: str = param(
        "fastdepth",
        "network",
        choices=(
            "fastdepth",
            "resnet_unet",
            "attention_unet",
            "encdec_irv2",
            "densedepth121",
            "densedepth169",
            "plain_encdec",
        ),
    )
    width_mult: float = param(1.0, "channel multiplier (MobileNetV2 width / U-Net base width scale)", min_value=0.1)
    depth_mult: float = param(
        1.0, "block-count multiplier of encdec_irv2 (10/20/10) and densedepth* (layers per dense block)", min_value=0.01
    )
    input_width: int = param(160, "network input width (multiple of 32)", min_value=32)
    input_height: int = param(128, "network input height (multiple of 32)", min_value=32)
    min_depth: float = param(0.1, "smallest depth the network outputs, metres", min_value=0.001)
    max_depth: float = param(10.0, "largest depth the network outputs, metres", min_value=0.01)
    init_checkpoint: str = param("", "local checkpoint to start from (weights only); nothing is downloaded")


@dataclass(frozen=True)
class LossConfig:
    """The training loss."""

    name: str = param("composite", "loss", choices=("l1", "berhu", "ssim", "gradient", "silog", "composite"))
    w_l1: float = param(1.0, "composite: weight of L1", min_value=0.0)
    w_grad: float = param(1.0, "composite: weight of the gradient term", min_value=0.0)
    w_ssim: float = param(1.0, "composite: weight of (1 - SSIM) / 2", min_value=0.0)
    log_space: bool = param(True, "composite: compare normalised log depth instead of metres")


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser, schedule and run length."""

    epochs: int = param(20, "epochs", min_value=1)
    steps_per_epoch: int = param(0, "cap on steps per epoch (0: the whole training set)", min_value=0)
    batch_size: int = param(16, "batch size per process", min_value=1)
    lr: float = param(1e-3, "peak learning rate (AdamW, one-cycle cosine)", min_value=0.0)
    weight_decay: float = param(1e-4, "AdamW weight decay", min_value=0.0)
    amp: bool = param(True, "mixed precision (CUDA only; ignored on the CPU)")
    threads: int = param(0, "torch CPU threads per process (0: leave torch's default)", min_value=0)
    max_minutes: float = param(0.0, "stop after this many minutes of training, at an epoch end (0: no cap)")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; stored in every checkpoint."""

    seed: int = param(0, "seed of weights init, sampling and augmentation", min_value=0)
    out_dir: str = param("runs/train", "checkpoints and logs go here")
    device: str = param("auto", "auto, cpu, cuda or cuda:N")
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        m = self.model
        if m.input_width % 32 or m.input_height % 32:
            raise ParameterError(
                f"model.input_width/height must be multiples of 32, got {m.input_width}x{m.input_height}"
            )
        if m.min_depth >= m.max_depth:
            raise ParameterError(f"model.min_depth {m.min_depth} must be below model.max_depth {m.max_depth}")
        if self.data.min_depth >= self.data.max_depth:
            raise ParameterError(
                f"data.min_depth {self.data.min_depth} must be below data.max_depth {self.data.max_depth}"
            )


def config_from_dict(values: dict[str, Any], source: str = "config") -> TrainConfig:
    """A validated config from nested mappings (a YAML document or a checkpoint's stored copy)."""
    return params.from_mapping(TrainConfig, values, source=source)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a training YAML; ``overrides`` are dotted names (``optim.epochs``) applied on top."""
    p = Path(path)
    try:
        values = yaml.safe_load(p.read_text()) or {}
    except OSError as exc:
        raise ParameterError(f"cannot read training config {p}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"training config {p} is not valid YAML: {exc}") from exc
    if not isinstance(values, dict):
        raise ParameterError(f"training config {p} must be a mapping, got {type(values).__name__}")
    flat = params.flatten(values)
    flat.update(overrides or {})
    return config_from_dict(flat, source=str(p))


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Nested plain values (for checkpoints and logs)."""
    return dataclasses.asdict(config)
