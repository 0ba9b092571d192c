"""Depth losses: L1, BerHu, SSIM, gradient-edge, scale-invariant log, and the weighted composite.

Every loss takes ``pred`` and ``target`` of shape (N, 1, H, W) in metres and a boolean ``mask`` of valid target
pixels (sensors leave holes; rotation augmentation leaves borders). Where a loss needs whole images (SSIM,
gradients), invalid target pixels are filled with the (detached) prediction, so they add nothing to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

LOSS_NAMES = ("l1", "berhu", "ssim", "gradient", "silog", "composite")


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    count = mask.sum()
    return (x * mask).sum() / count.clamp(min=1)


def l1_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over valid pixels."""
    return _masked_mean((pred - target).abs(), mask)


def berhu_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, c_ratio: float = 0.2) -> torch.Tensor:
    """Reverse Huber (Laina et al., 2016): L1 below c, (x^2 + c^2) / 2c above, c = c_ratio * max |error|.

    L1 keeps small errors' gradients alive; the quadratic part weighs large (far-range) errors more.
    """
    err = (pred - target).abs() * mask
    c = (c_ratio * err.max()).detach().clamp(min=1e-6)
    quad = (err * err + c * c) / (2 * c)
    return _masked_mean(torch.where(err <= c, err, quad), mask)


def _fill(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, target, pred.detach())


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window: int = 7) -> torch.Tensor:
    """Mean SSIM (Wang et al., 2004) with a uniform window, constants for the given data range."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    pad = window // 2
    pool = lambda t: F.avg_pool2d(t, window, 1, pad, count_include_pad=False)  # noqa: E731
    mu_x, mu_y = pool(x), pool(y)
    var_x = pool(x * x) - mu_x**2
    var_y = pool(y * y) - mu_y**2
    cov = pool(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return (num / den).mean()


def ssim_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """(1 - SSIM) / 2, in [0, 1]; the structural term of the DenseDepth composite."""
    return ((1.0 - ssim(pred, _fill(pred, target, mask), data_range)) / 2).clamp(0.0, 1.0)


def gradient_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean |d/dx (pred - target)| + |d/dy (pred - target)|: penalises blurred and misplaced depth edges."""
    diff = pred - _fill(pred, target, mask)
    gx = (diff[..., :, 1:] - diff[..., :, :-1]).abs()
    gy = (diff[..., 1:, :] - diff[..., :-1, :]).abs()
    mx = mask[..., :, 1:] & mask[..., :, :-1]
    my = mask[..., 1:, :] & mask[..., :-1, :]
    return _masked_mean(gx, mx) + _masked_mean(gy, my)


def silog_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, lam: float = 0.85) -> torch.Tensor:
    """Scale-invariant log loss (Eigen et al., 2014), BTS form: sqrt(mean(d^2) - lam * mean(d)^2), d = log ratio."""
    d = (torch.log(pred.clamp(min=1e-6)) - torch.log(target.clamp(min=1e-6))) * mask
    n = mask.sum().clamp(min=1)
    mean_sq = (d * d).sum() / n
    mean = d.sum() / n
    return torch.sqrt((mean_sq - lam * mean * mean).clamp(min=1e-12))


@dataclass(frozen=True)
class CompositeLoss:
    """w1 * L1 + w2 * gradient + w3 * SSIM (Alhashim & Wonka, DenseDepth, 2018).

    With ``log_space`` the three terms see depth as log(d) scaled to [0, 1] over [min_depth, max_depth]:
    errors then count relative to the depth, as abs_rel and delta1 do, and SSIM's constants fit the range.
    """

    w_l1: float = 1.0
    w_grad: float = 1.0
    w_ssim: float = 1.0
    log_space: bool = True
    min_depth: float = 0.1
    max_depth: float = 10.0

    def transform(self, depth: torch.Tensor) -> torch.Tensor:
        """Depth in the space the loss compares (identity or normalised log)."""
        if not self.log_space:
            return depth
        lo, hi = math.log(self.min_depth), math.log(self.max_depth)
        return (torch.log(depth.clamp(min=self.min_depth * 0.5)) - lo) / (hi - lo)

    def __call__(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The weighted sum."""
        p, t = self.transform(pred), self.transform(torch.where(mask, target, pred.detach()))
        data_range = 1.0 if self.log_space else self.max_depth
        return (
            self.w_l1 * l1_loss(p, t, mask)
            + self.w_grad * gradient_loss(p, t, mask)
            + self.w_ssim * ssim_loss(p, t, mask, data_range)
        )


def valid_mask(target: torch.Tensor, min_depth: float, max_depth: float) -> torch.Tensor:
    """Pixels with a usable ground truth: finite and inside [min_depth, max_depth]."""
    return torch.isfinite(target) & (target >= min_depth) & (target <= max_depth)
