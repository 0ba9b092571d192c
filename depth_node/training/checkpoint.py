"""Checkpoints: the weights plus the config that made them, written atomically, read with weights_only=True."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from depth_node.errors import ModelError
from depth_node.training.config import TrainConfig, config_from_dict, config_to_dict
from depth_node.training.networks import build_network


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to a temporary file next to ``path``, then rename it (no half-written checkpoints)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, target)
    return target


def _read_weights(p: Path, what: str) -> Any:
    """``torch.load`` with ``weights_only=True``; a missing or unreadable file is a ModelError naming ``what``."""
    if not p.is_file():
        raise ModelError(f"{what} {p} does not exist")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a corrupt or foreign file
        raise ModelError(f"cannot read {what} {p}: {exc}") from exc


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary code from the file).

    Raises:
        ModelError: missing or unreadable file, or one without ``config`` and ``model`` entries.
    """
    p = Path(path)
    state = _read_weights(p, "checkpoint")
    if not isinstance(state, dict) or "config" not in state or "model" not in state:
        raise ModelError(f"checkpoint {p} has no 'config'/'model' entries (not written by depth-node train)")
    return state


def config_of(state: dict[str, Any], source: str = "checkpoint") -> TrainConfig:
    """The training config stored in a checkpoint."""
    return config_from_dict(state["config"], source=source)


def model_from_checkpoint(path: str | Path) -> tuple[nn.Module, TrainConfig, dict[str, Any]]:
    """Rebuild the network a checkpoint was trained with and load its weights (eval mode, CPU)."""
    state = load_checkpoint(path)
    config = config_of(state, str(path))
    m = config.model
    model = build_network(m.arch, m.width_mult, m.min_depth, m.max_depth, m.depth_mult)
    model.load_state_dict(state["model"])
    model.eval()
    return model, config, state


def load_init_weights(model: nn.Module, path: str | Path) -> tuple[int, int]:
    """Start from local weights: a depth-node checkpoint, a whole-model state dict, or an encoder state dict.

    An encoder-only file (keys without the ``encoder.`` prefix, e.g. a locally converted ImageNet MobileNetV2
    with matching module names) is loaded into ``model.encoder``. Nothing is ever downloaded.

    Returns:
        (tensors loaded, tensors of the model left at their fresh initialisation).

    Raises:
        ModelError: unreadable file, or not a single tensor name in common with the model.
    """
    p = Path(path)
    state = _read_weights(p, "model.init_checkpoint")
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise ModelError(f"model.init_checkpoint {p} holds no state dict")
    target: nn.Module = model
    own = model.state_dict()
    encoder = getattr(model, "encoder", None)
    if not set(state) & set(own) and isinstance(encoder, nn.Module):
        target, own = encoder, encoder.state_dict()
    shared = {k: v for k, v in state.items() if k in own and tuple(own[k].shape) == tuple(v.shape)}
    if not shared:
        raise ModelError(f"model.init_checkpoint {p} shares no tensor (name and shape) with the {type(model).__name__}")
    target.load_state_dict(shared, strict=False)
    return len(shared), len(model.state_dict()) - len(shared)


def make_state(config: TrainConfig, model: nn.Module, **extra: Any) -> dict[str, Any]:
    """The checkpoint dict: config (plain values), weights and anything else (optimiser, epoch, metrics)."""
    return {"config": config_to_dict(config), "model": model.state_dict(), **extra}
