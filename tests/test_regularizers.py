"""The Lipschitz regularizer family against values computed by hand.

A linear critic D(x) = w·x + b has ∇D = w everywhere, so each penalty's value and its
gradient with respect to w have closed forms; ‖w‖ = 0.5 and 2 put the slope on both
sides of 1, where one-sided and two-sided forms differ. A quadratic critic
D(x) = ½‖x‖² (∇D = x) has a different slope per sample, which shows that norms are
taken per sample, over all of an image's dimensions.
"""

import pytest
import torch
from test_penalties import Linear, direction
from torch import nn

from lightning_wgan import penalties as P
from lightning_wgan.networks import DCGANCritic, LipschitzDCGANCritic, LipschitzMLPCritic, MLPCritic, spectral_normalize
from lightning_wgan.penalties import gradient_norms
from lightning_wgan.samplers import Interpolates


class Quadratic(nn.Module):
    def forward(self, x):
        return 0.5 * x.flatten(1).square().sum(1)


LAM = 7.0
# name → (penalty, value as a function of s = ‖w‖, d value / d w as a function of (w, s))
BY_HAND = {
    "gp": (P.GradientPenalty(LAM), lambda s: LAM * (s - 1) ** 2, lambda w, s: 2 * LAM * (s - 1) * w / s),
    "lp": (P.LipschitzPenalty(LAM), lambda s: LAM * max(s - 1, 0) ** 2, lambda w, s: 2 * LAM * max(s - 1, 0) * w / s),
    "0gp": (P.ZeroCentredPenalty(LAM), lambda s: LAM * s**2, lambda w, s: 2 * LAM * w),
    "r1": (P.R1Penalty(LAM), lambda s: LAM / 2 * s**2, lambda w, s: LAM * w),
    "r2": (P.R2Penalty(LAM), lambda s: LAM / 2 * s**2, lambda w, s: LAM * w),
    "div": (P.DivergencePenalty(LAM, 6.0), lambda s: LAM * s**6, lambda w, s: LAM * 6 * s**4 * w),
    # The adversarial direction of a linear critic is ±w, so the slope is exactly ‖w‖.
    "alp": (P.AdversarialLipschitzPenalty(LAM, 0.1, 2.0), lambda s: LAM * max(s - 1, 0) ** 2, lambda w, s: 2 * LAM * max(s - 1, 0) * w / s),
}


@pytest.mark.parametrize("shape", [(2,), (3, 8, 8)])
@pytest.mark.parametrize("norm", [0.5, 2.0])
@pytest.mark.parametrize("name", BY_HAND)
def test_value_and_parameter_gradient_by_hand(name, norm, shape):
    penalty, value_of, grad_of = BY_HAND[name]
    torch.manual_seed(0)
    dim = torch.Size(shape).numel()
    w = direction(dim, norm)
    critic = Linear(w)
    real, fake = torch.randn(32, *shape), torch.randn(32, *shape) + 1
    value, slopes = penalty.term(critic, real, fake, Interpolates())
    value.backward()
    assert slopes.shape[0] in (32, 64)
    torch.testing.assert_close(slopes, torch.full_like(slopes, norm), rtol=1e-4, atol=1e-5)
    assert value.item() == pytest.approx(value_of(norm), rel=1e-4, abs=1e-7)
    torch.testing.assert_close(critic.w.grad, grad_of(w, norm), rtol=1e-3, atol=1e-6)


def test_one_sided_and_two_sided_differ_exactly_below_one():
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    for norm, same in [(0.5, False), (0.9, False), (1.5, True)]:
        critic = Linear(direction(2, norm))
        gp = P.GradientPenalty(1.0).term(critic, real, fake, Interpolates())[0]
        for one_sided in (P.LipschitzPenalty(1.0), P.AdversarialLipschitzPenalty(1.0)):
            assert torch.isclose(gp, one_sided.term(critic, real, fake, Interpolates())[0], rtol=1e-4).item() is same, norm


def test_r1_r2_and_div_take_their_own_points_per_sample_on_images():
    real, fake = torch.randn(6, 3, 4, 4), 2 + torch.randn(6, 3, 4, 4)
    sq = lambda x: x.flatten(1).square().sum(1)  # noqa: E731  ‖∇D(x)‖² = ‖x‖² for the quadratic critic
    r1 = P.R1Penalty(2.0).term(Quadratic(), real, fake, Interpolates())[0]
    r2 = P.R2Penalty(2.0).term(Quadratic(), real, fake, Interpolates())[0]
    div = P.DivergencePenalty(2.0, 6.0).term(Quadratic(), real, fake, Interpolates())[0]
    assert r1.item() == pytest.approx(sq(real).mean().item(), rel=1e-5)  # γ/2 = 1
    assert r2.item() == pytest.approx(sq(fake).mean().item(), rel=1e-5)
    both = torch.cat([sq(real), sq(fake)]).pow(3)  # ‖x‖⁶
    assert div.item() == pytest.approx(2.0 * both.mean().item(), rel=1e-4)


def test_alp_slopes_are_per_sample_on_images():
    # D = ½‖x‖²: from x along the unit direction d, the slope over a length ε is |x·d + ε/2|;
    # power iteration with a tiny ξ turns d to ±x/‖x‖.
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4)
    alp = P.AdversarialLipschitzPenalty(1.0, epsilon_min=0.2, epsilon_max=0.2, xi=1e-4, power_iterations=2)
    slopes = alp.slopes(Quadratic(), x, 1.0)
    # d = ±x/‖x‖ (both maximize the first-order change), so the slope is ‖x‖ ± ε/2.
    torch.testing.assert_close((slopes - x.flatten(1).norm(dim=1)).abs(), torch.full((8,), 0.1), rtol=1e-3, atol=1e-3)


class NoDoubleBackward(torch.autograd.Function):
    """tanh whose backward cannot itself be differentiated."""

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class OnceDifferentiableCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 16), nn.Linear(16, 1)

    def forward(self, x):
        return self.b(NoDoubleBackward.apply(self.a(x))).squeeze(1)


def test_alp_needs_no_double_backward_where_gp_does():
    torch.manual_seed(0)
    critic, real, fake = OnceDifferentiableCritic(), torch.randn(16, 2), torch.randn(16, 2)
    P.AdversarialLipschitzPenalty(10.0, 0.1, 1.0).term(critic, real, fake, Interpolates())[0].backward()
    assert critic.a.weight.grad is not None and torch.isfinite(critic.a.weight.grad).all()
    with pytest.raises(RuntimeError, match="once_differentiable|twice"):
        P.GradientPenalty(10.0).term(critic, real, fake, Interpolates())[0].backward()


def test_consistency_term_against_two_explicit_dropout_passes():
    torch.manual_seed(0)
    critic = MLPCritic(width=32, depth=2, dropout=0.3)
    real = torch.randn(64, 2)
    ct = P.ConsistencyTerm(P.LipschitzPenalty(10.0), ct_weight=2.0, margin=0.05, feature_weight=0.1)
    torch.manual_seed(5)
    value = ct.consistency(critic, real)
    torch.manual_seed(5)  # the same dropout masks, computed here by hand
    h1 = critic.net[:-1](real)
    d1 = critic.net[-1](h1).squeeze(1)
    h2 = critic.net[:-1](real)
    d2 = critic.net[-1](h2).squeeze(1)
    expected = 2.0 * torch.relu((d1 - d2).abs() + 0.1 * (h1 - h2).norm(dim=1) - 0.05).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6) and value > 0
    critic.eval()  # no dropout: both passes agree, the term is 0
    assert ct.consistency(critic, real).item() == 0.0
    # On top of the wrapped penalty, whose λ it shares.
    critic.train()
    torch.manual_seed(1)
    total, _ = ct.term(critic, real, real + 1, Interpolates())
    torch.manual_seed(1)
    inner, _ = ct.penalty.term(critic, real, real + 1, Interpolates())
    assert total.item() == pytest.approx(inner.item() + ct.consistency(critic, real).item(), rel=1e-5)
    ct.strength = 3.0
    assert ct.penalty.weight == 3.0 and ct.weight == 3.0


def test_consistency_term_refuses_critics_without_dropout():
    with pytest.raises(ValueError, match="needs a critic with dropout"):
        P.ConsistencyTerm(P.GradientPenalty()).check_critic(MLPCritic(width=8))
    with pytest.raises(ValueError, match="needs critic.head, the submodule"):
        P.ConsistencyTerm(P.GradientPenalty()).check_critic(nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.1), nn.Linear(4, 1)))


@pytest.mark.parametrize("make", [
    lambda: P.DivergencePenalty(2.0, 0.0), lambda: P.AdversarialLipschitzPenalty(1.0, 0.5, 0.1),
    lambda: P.AdversarialLipschitzPenalty(1.0, xi=0.0), lambda: P.ConsistencyTerm(P.WeightClipping()),
    lambda: P.ConsistencyTerm(P.LipschitzPenalty(), margin=-1), lambda: P.R1Penalty(-1.0),
])
def test_bad_settings_are_refused(make):
    with pytest.raises(ValueError):
        make()


def trained(critic: nn.Module, x: torch.Tensor, steps: int = 30) -> nn.Module:
    """A few steps of the unregularized critic objective: pushes the slope up."""
    opt = torch.optim.Adam(critic.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = critic(x.flip(0) * 0.3).mean() - critic(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return critic


LIPSCHITZ_CRITICS = {
    "mlp-spectral": (lambda: MLPCritic(width=64, spectral_norm=True), (2,)),
    "mlp-torchlip": (lambda: LipschitzMLPCritic(width=64), (2,)),
    "mlp-torchlip-sort-8": (lambda: LipschitzMLPCritic(width=64, group_size=8), (2,)),
    "dcgan-torchlip": (lambda: LipschitzDCGANCritic(size=16, width=16), (1, 16, 16)),
}


@pytest.mark.parametrize("name", LIPSCHITZ_CRITICS)
def test_lipschitz_critics_keep_every_gradient_norm_at_most_one(name):
    make, shape = LIPSCHITZ_CRITICS[name]
    torch.manual_seed(0)
    critic = make()
    x = 3 * torch.randn(256, *shape)
    trained(critic, x)
    for mode in (critic.train, critic.eval):
        mode()
        points = torch.cat([x, 3 * torch.randn(256, *shape)])
        assert gradient_norms(critic, points, create_graph=False).max().item() <= 1 + 1e-3


def test_groupsort_sorts_each_group_of_units():
    """group_size 4: every hidden layer's 8 units come out as two groups of 4, each in
    order (deel-torchlip sorts ascending); 2 is MaxMin (GroupSort2); a width the groups
    do not divide is refused."""
    torch.manual_seed(0)
    critic = LipschitzMLPCritic(data_dim=3, width=8, depth=2, group_size=4)
    sorts = [m for m in critic.net if "Sort" in type(m).__name__]
    assert len(sorts) == 2
    hidden = critic.net[:2](torch.randn(16, 3)).view(16, 2, 4)
    assert torch.equal(hidden, hidden.sort(dim=2).values)
    assert [type(m).__name__ for m in LipschitzMLPCritic(width=8, depth=1).net][1] == "GroupSort2"
    with pytest.raises(ValueError, match="width must be a multiple of group_size"):
        LipschitzMLPCritic(width=10, group_size=4)


def test_spectral_norm_of_a_strided_conv_layer_is_no_bound_of_one():
    """torch's spectral_norm normalizes a conv kernel reshaped to a matrix; a 4 × 4
    kernel at stride 2 covers each input pixel up to 4 times, so the layer's Lipschitz
    constant can reach 2 (Gouk et al. 2021). By hand: an all-ones kernel is divided by
    its matrix norm 4; on a 64 × 64 image of ones each of the 32 × 32 outputs is
    (rows covered)·(columns covered)/4, 4 rows inside and 3 in the first and last output
    row (padding), so ‖y‖ = (30·4² + 2·3²)/4 against ‖x‖ = 64: a ratio of 1.95."""
    conv = nn.Conv2d(1, 1, 4, 2, 1, bias=False)
    nn.init.ones_(conv.weight)
    conv = spectral_normalize(conv)
    for _ in range(20):  # converge the power iteration
        conv(torch.zeros(1, 1, 4, 4))
    conv.eval()
    x = torch.ones(1, 1, 64, 64)
    ratio = (conv(x).norm() / x.norm()).item()
    assert ratio == pytest.approx((30 * 16 + 2 * 9) / 4 / 64, rel=1e-4)


def test_spectral_norm_needs_a_critic_without_normalization():
    with pytest.raises(ValueError, match="spectral_norm needs norm 'none'"):
        DCGANCritic(norm="layer", spectral_norm=True)
