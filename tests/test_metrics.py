import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from lightning_wgan.data import make_distribution
from lightning_wgan.metrics import ExactW1, ModeCoverage, exact_w1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_w1_agrees_with_linear_sum_assignment(seed):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(60, 3, generator=g), torch.rand(60, 3, generator=g) * 2
    cost = cdist(x.double().numpy(), y.double().numpy())
    rows, cols = linear_sum_assignment(cost)
    assert exact_w1(x, y) == pytest.approx(cost[rows, cols].mean(), rel=1e-9)


def test_exact_w1_of_a_translation_is_the_shift_length():
    x = make_distribution("8gaussians").sample(1000, torch.Generator().manual_seed(0))
    v = torch.tensor([0.3, -0.4])
    assert exact_w1(x, x + v) == pytest.approx(0.5, rel=1e-9)


def test_metric_gathers_batches_like_one_call():
    g = torch.Generator().manual_seed(4)
    real, fake = torch.randn(90, 2, generator=g), torch.randn(90, 2, generator=g) + 1
    metric = ExactW1()
    for i in range(0, 90, 30):
        metric.update(real[i : i + 30], fake[i : i + 30])
    assert metric.compute().item() == pytest.approx(exact_w1(real, fake), rel=1e-9)


def test_mode_coverage():
    dist = make_distribution("8gaussians")
    g = torch.Generator().manual_seed(0)
    noise = dist.std * torch.randn(300, 2, generator=g)
    on_three = dist.centres[torch.arange(300) % 3] + noise
    metric = ModeCoverage(dist.centres, dist.std)
    metric.update(on_three)
    covered, quality = metric.compute()
    assert covered.item() == pytest.approx(3 / 8)
    # High quality: within 3σ of its centre (the modes are far apart, so nearest = own).
    assert quality.item() == pytest.approx((noise.norm(dim=1) <= 3 * dist.std).float().mean().item())
    metric.reset()
    metric.update(torch.zeros(100, 2))  # the centre of the ring: no mode
    covered, quality = metric.compute()
    assert covered.item() == 0 and quality.item() == 0


def test_noise_floor_is_w1_of_two_real_samples():
    dist = make_distribution("25gaussians")
    a = dist.sample(400, torch.Generator().manual_seed(0))
    b = dist.sample(400, torch.Generator().manual_seed(1))
    assert exact_w1(a, b) > 0
    assert np.isfinite(exact_w1(a, b))
