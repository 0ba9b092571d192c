"""The training loop: datasets, model, AdamW + one-cycle schedule, validation each epoch, checkpoints, resume.

Runs as one process or as several under ``torchrun`` (DistributedDataParallel: gloo on the CPU, NCCL on
GPUs). Only rank 0 validates, logs and writes checkpoints; the others wait at a barrier.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from depth_node.metrics import compute_metrics
from depth_node.training import losses
from depth_node.training.checkpoint import load_checkpoint, load_init_weights, make_state, save_checkpoint
from depth_node.training.config import TrainConfig
from depth_node.training.datasets.factory import build_datasets
from depth_node.training.networks import build_network

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a (possibly single-process) run."""

    rank: int
    world: int
    local_rank: int

    @property
    def main(self) -> bool:
        """Whether this process logs and writes files."""
        return self.rank == 0


def setup_distributed(device: torch.device) -> DistInfo:
    """Join the process group torchrun describes in the environment (nothing to do for one process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(0, 1, 0)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def pick_device(name: str, local_rank: int) -> torch.device:
    """``auto`` is the local GPU when there is one, else the CPU."""
    if name == "auto":
        name = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (weights init and sampler order follow)."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries that still use the legacy global generator
    torch.manual_seed(seed)


def build_loss(config: TrainConfig) -> LossFn:
    """The configured loss as a (pred, target, mask) callable."""
    lc, m = config.loss, config.model
    if lc.name == "composite":
        return losses.CompositeLoss(lc.w_l1, lc.w_grad, lc.w_ssim, lc.log_space, m.min_depth, m.max_depth)
    table: dict[str, LossFn] = {
        "l1": losses.l1_loss,
        "berhu": losses.berhu_loss,
        "ssim": lambda p, t, k: losses.ssim_loss(p, t, k, data_range=m.max_depth),
        "gradient": losses.gradient_loss,
        "silog": losses.silog_loss,
    }
    return table[lc.name]


@torch.no_grad()
def validate(model: nn.Module, loader: DataLoader, device: torch.device, config: TrainConfig) -> dict[str, float]:
    """Metrics over the validation set, pixels weighted equally (numpy metrics, as replay and eval use)."""
    model.eval()
    preds, gts = [], []
    for image, depth in loader:
        preds.append(model(image.to(device)).float().cpu().numpy()[:, 0])
        gts.append(depth.numpy()[:, 0])
    model.train()
    pred, gt = np.concatenate(preds), np.concatenate(gts)
    d = config.data
    return compute_metrics(pred, gt, min_depth=d.min_depth, max_depth=d.max_depth, with_ssim=False)


def train(config: TrainConfig, resume: str | Path | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run a whole training; returns the last validation metrics (rank 0), the checkpoint paths and the rank.

    Every torchrun process gets a result; only rank 0's carries metrics, and ``rank`` lets the caller report once.

    Args:
        config: The validated config.
        resume: A ``last.pt`` to continue from (its stored config must match the model part of ``config``).
        log: Where rank 0's one-line messages go.
    """
    o = config.optim
    if o.threads > 0:
        torch.set_num_threads(o.threads)
    device = pick_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    info = setup_distributed(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    seed_everything(config.seed + info.rank)
    out = Path(config.out_dir)
    try:
        train_set, val_set = build_datasets(config, build_cache=info.main)
        if info.world > 1:
            dist.barrier()  # rank 0 may have just rendered the cache
            train_set, val_set = build_datasets(config, build_cache=False)
        sampler: DistributedSampler[int] | None = (
            DistributedSampler(train_set, info.world, info.rank, seed=config.seed) if info.world > 1 else None
        )
        gen = torch.Generator().manual_seed(config.seed)
        loader = DataLoader(
            train_set,
            o.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=gen,
            num_workers=config.data.workers,
            drop_last=True,  # workers are re-created each epoch, so they see set_epoch's new draw
        )
        val_loader = DataLoader(val_set, o.batch_size, shuffle=False, num_workers=config.data.workers)
        steps = len(loader) if o.steps_per_epoch == 0 else min(o.steps_per_epoch, len(loader))
        if steps == 0:
            raise ValueError(f"training set of {len(train_set)} samples is smaller than one batch of {o.batch_size}")
        m = config.model
        model: nn.Module = build_network(m.arch, m.width_mult, m.min_depth, m.max_depth, m.depth_mult).to(device)
        if m.init_checkpoint:
            loaded, fresh = load_init_weights(model, m.init_checkpoint)
            if info.main:
                log(f"initialised {loaded} tensors from {m.init_checkpoint} ({fresh} left fresh)")
        opt = torch.optim.AdamW(model.parameters(), lr=o.lr, weight_decay=o.weight_decay)
        total = o.epochs * steps
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, o.lr, total_steps=total, pct_start=0.05)
        use_amp = o.amp and device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        start_epoch, best = 0, math.inf
        if resume:
            state = load_checkpoint(resume)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start_epoch, best = int(state["epoch"]) + 1, float(state.get("best", math.inf))
            if int(state["scheduler"].get("total_steps", -1)) == total:
                sched.load_state_dict(state["scheduler"])
            else:  # more (or fewer) epochs than the first run planned: the same schedule, stretched
                done = int(state["scheduler"].get("last_epoch", 0))
                sched = torch.optim.lr_scheduler.OneCycleLR(
                    opt, o.lr, total_steps=max(total, done + 1), pct_start=0.05, last_epoch=done - 1
                )
            if info.main:
                log(f"resumed from {resume} at epoch {start_epoch}")
        net: nn.Module = model
        if info.world > 1:
            net = nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None
            )
        loss_fn = build_loss(config)
        t0 = time.monotonic()
        metrics: dict[str, float] = {}
        for epoch in range(start_epoch, o.epochs):
            if sampler is not None:
                sampler.set_epoch(epoch)
            train_set.set_epoch(epoch)
            running = _run_epoch(net, loader, steps, opt, sched, scaler, loss_fn, device, config, info, epoch)
            if info.main:
                metrics = validate(model, val_loader, device, config)
                metrics["train_loss"] = running
                best = min(best, metrics["abs_rel"])
                extra = {
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "epoch": epoch,
                    "best": best,
                    "metrics": metrics,
                }
                save_checkpoint(out / "last.pt", make_state(config, model, **extra))
                if metrics["abs_rel"] <= best:
                    save_checkpoint(out / "best.pt", make_state(config, model, **extra))
                log(json.dumps({"epoch": epoch, **{k: round(v, 4) for k, v in metrics.items()}}))
            if info.world > 1:
                dist.barrier()
            if o.max_minutes > 0 and (time.monotonic() - t0) / 60.0 >= o.max_minutes:
                if info.main:
                    log(f"stopping after epoch {epoch}: max_minutes {o.max_minutes} reached")
                break
        return {"metrics": metrics, "last": str(out / "last.pt"), "best": str(out / "best.pt"), "rank": info.rank}
    finally:
        if info.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _run_epoch(
    net: nn.Module,
    loader: DataLoader,
    steps: int,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    loss_fn: LossFn,
    device: torch.device,
    config: TrainConfig,
    info: DistInfo,
    epoch: int,
) -> float:
    """One epoch of ``steps`` optimiser steps; returns the mean training loss."""
    from tqdm import tqdm

    d = config.data
    use_amp = scaler.is_enabled()
    bar = tqdm(total=steps, desc=f"epoch {epoch}", disable=not info.main, mininterval=10.0)
    total = 0.0
    for step, (image_cpu, depth_cpu) in enumerate(loader):
        if step >= steps:
            break
        image, depth = image_cpu.to(device, non_blocking=True), depth_cpu.to(device, non_blocking=True)
        mask = losses.valid_mask(depth, d.min_depth, d.max_depth)
        with torch.autocast(device.type, enabled=use_amp):
            pred = net(image)
        loss = loss_fn(pred.float(), depth, mask)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        total += float(loss.detach())
        bar.update(1)
        bar.set_postfix(loss=f"{total / (step + 1):.4f}", refresh=False)
    bar.close()
    return total / steps
