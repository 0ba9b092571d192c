"""Each loss against a value computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from depth_node.training.losses import (
    CompositeLoss,
    berhu_loss,
    gradient_loss,
    l1_loss,
    silog_loss,
    ssim,
    ssim_loss,
    valid_mask,
)


def maps(*values: list[float]) -> torch.Tensor:
    return torch.tensor([list(values)], dtype=torch.float32).reshape(1, 1, 1, -1)


def test_l1_ignores_masked_pixels() -> None:
    pred, target = maps(1.0, 2.0, 3.0), maps(2.0, 2.0, 0.0)
    mask = target > 0
    assert l1_loss(pred, target, mask).item() == pytest.approx(0.5)


def test_berhu_is_l1_below_c_and_quadratic_above() -> None:
    pred, target = maps(1.1, 2.0), maps(1.0, 1.0)
    # errors 0.1 and 1.0; c = 0.2 * 1.0: 0.1 -> 0.1, 1.0 -> (1 + 0.04) / 0.4 = 2.6
    loss = berhu_loss(pred, target, torch.ones_like(pred, dtype=torch.bool))
    assert loss.item() == pytest.approx((0.1 + 2.6) / 2, rel=1e-5)


def test_ssim_of_constant_maps_matches_the_formula() -> None:
    x, y = torch.full((1, 1, 8, 8), 0.5), torch.full((1, 1, 8, 8), 0.25)
    c1 = 0.01**2
    expected = (2 * 0.5 * 0.25 + c1) / (0.5**2 + 0.25**2 + c1)
    assert ssim(x, y).item() == pytest.approx(expected, rel=1e-5)
    mask = torch.ones_like(x, dtype=torch.bool)
    assert ssim_loss(x, x, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert ssim_loss(x, y, mask).item() == pytest.approx((1 - expected) / 2, rel=1e-4)


def test_gradient_loss_sees_a_ramp_and_ignores_an_offset() -> None:
    target = torch.ones(1, 1, 4, 5)
    ramp = target + torch.arange(5.0).view(1, 1, 1, 5)  # d/dx of the error = 1 everywhere, d/dy = 0
    mask = torch.ones_like(target, dtype=torch.bool)
    assert gradient_loss(ramp, target, mask).item() == pytest.approx(1.0)
    assert gradient_loss(target + 3.0, target, mask).item() == pytest.approx(0.0)


def test_silog_by_hand() -> None:
    target = torch.tensor([1.0, 2.0, 4.0]).view(1, 1, 1, 3)
    mask = torch.ones_like(target, dtype=torch.bool)
    # a constant log ratio d: sqrt(d^2 - 0.85 d^2)
    assert silog_loss(2.0 * target, target, mask).item() == pytest.approx(math.log(2) * math.sqrt(0.15), rel=1e-5)
    assert silog_loss(2.0 * target, target, mask, lam=1.0).item() == pytest.approx(0.0, abs=1e-4)


def test_composite_is_the_weighted_sum() -> None:
    torch.manual_seed(0)
    target = torch.rand(1, 1, 16, 16) * 5 + 0.5
    pred = target * 1.1
    mask = torch.ones_like(target, dtype=torch.bool)
    lin = CompositeLoss(w_l1=1.0, w_grad=2.0, w_ssim=3.0, log_space=False, max_depth=10.0)
    expected = (
        l1_loss(pred, target, mask) + 2 * gradient_loss(pred, target, mask) + 3 * ssim_loss(pred, target, mask, 10.0)
    )
    assert lin(pred, target, mask).item() == pytest.approx(expected.item(), rel=1e-5)
    log = CompositeLoss(w_grad=0.0, w_ssim=0.0, min_depth=0.1, max_depth=10.0)
    # log space, L1 only: |log 1.1| / log(100)
    assert log(pred, target, mask).item() == pytest.approx(math.log(1.1) / math.log(100.0), rel=1e-4)
    assert log(target, target, mask).item() == pytest.approx(0.0, abs=1e-6)


def test_valid_mask_bounds() -> None:
    t = torch.tensor([0.0, 0.05, 1.0, 12.0, float("nan")])
    assert valid_mask(t, 0.1, 10.0).tolist() == [False, False, True, False, False]
