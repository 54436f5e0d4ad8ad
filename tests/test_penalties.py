"""Penalties against values computed by hand on a linear critic D(x) = w·x + b,
whose input gradient is w everywhere, so ‖∇D‖ = ‖w‖."""

import pytest
import torch
from torch import nn

from lightning_wgan.penalties import GradientPenalty, LipschitzPenalty, WeightClipping, gradient_norms


class Linear(nn.Module):
    """D(x) = w·flatten(x) + b, for inputs of any shape."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return x.flatten(1) @ self.w + self.b


def direction(dim: int, norm: float) -> torch.Tensor:
    w = torch.arange(1.0, dim + 1)
    return w / w.norm() * norm


@pytest.mark.parametrize("shape", [(2,), (3, 4, 4)])
@pytest.mark.parametrize("norm", [0.5, 2.0])
def test_gradient_norms_equal_weight_norm(shape, norm):
    dim = torch.Size(shape).numel()
    critic = Linear(direction(dim, norm))
    points = torch.randn(16, *shape)
    norms = gradient_norms(critic, points)
    assert norms.shape == (16,)
    torch.testing.assert_close(norms, torch.full((16,), norm), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(2,), (3, 8, 8)])
@pytest.mark.parametrize("norm", [0.5, 2.0])
@pytest.mark.parametrize("penalty_cls", [GradientPenalty, LipschitzPenalty])
def test_penalty_value_and_gradient_by_hand(penalty_cls, norm, shape):
    lam = 7.0
    dim = torch.Size(shape).numel()
    w = direction(dim, norm)
    critic = Linear(w)
    value = penalty_cls(weight=lam)(gradient_norms(critic, torch.randn(32, *shape)))
    value.backward()

    # By hand: GP = λ(‖w‖-1)², LP = λ·max(0, ‖w‖-1)²; d/dw = 2λ(‖w‖-1)·w/‖w‖ (LP: 0 if ‖w‖ < 1).
    active = penalty_cls is GradientPenalty or norm > 1
    expected = lam * (norm - 1) ** 2 if active else 0.0
    expected_grad = 2 * lam * (norm - 1) * w / norm if active else torch.zeros(dim)
    assert value.item() == pytest.approx(expected, rel=1e-5, abs=1e-7)
    torch.testing.assert_close(critic.w.grad, expected_grad, rtol=1e-4, atol=1e-6)
    assert critic.b.grad is None or critic.b.grad.abs().item() < 1e-7


def test_gp_and_lp_differ_exactly_below_one():
    for norm, same in [(0.5, False), (0.9, False), (1.5, True), (3.0, True)]:
        critic = Linear(direction(2, norm))
        norms = gradient_norms(critic, torch.randn(8, 2))
        gp, lp = GradientPenalty(1.0)(norms), LipschitzPenalty(1.0)(norms)
        assert torch.isclose(gp, lp).item() is same, norm


def test_per_sample_norm_not_batch_norm():
    # A critic whose gradient differs per sample: D(x) = ½‖x‖², ∇D = x.
    class Quadratic(nn.Module):
        def forward(self, x):
            return 0.5 * x.flatten(1).square().sum(1)

    x = torch.randn(5, 2, 3, 3)
    norms = gradient_norms(Quadratic(), x)
    torch.testing.assert_close(norms, x.flatten(1).norm(dim=1))


def test_scaled_gradients_are_unscaled():
    critic = Linear(direction(4, 1.7))
    x = torch.randn(8, 4)
    torch.testing.assert_close(gradient_norms(critic, x, scale=2.0**16), gradient_norms(critic, x))


def test_weight_clipping_keeps_parameters_inside():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(10)
    clip = WeightClipping(clip_value=0.05)
    clip.after_critic_step(critic)
    for p in critic.parameters():
        assert p.abs().max() <= torch.tensor(0.05)  # the bound in the parameters' dtype
    # Clamped, not rescaled: large entries sit on the bound, small ones are untouched.
    w = critic[2].weight
    assert (w.abs() == torch.tensor(0.05)).float().mean() > 0.5 and (w.abs() < 0.05).any()
    assert not clip.adds_loss and clip.strength == 0.05


@pytest.mark.parametrize("make", [lambda: GradientPenalty(-1.0), lambda: LipschitzPenalty(-0.1), lambda: WeightClipping(0.0)])
def test_bad_strength_is_rejected(make):
    with pytest.raises(ValueError, match="must be"):
        make()
