import math

import pytest
import torch

from lightning_wgan.data import ToyDataModule, make_distribution


def nearest_centre_stats(x, centres):
    idx = torch.cdist(x, centres).argmin(1)
    residual = x - centres[idx]
    return idx, residual


@pytest.mark.parametrize(
    "name, centres, std",
    [
        (
            "8gaussians",
            2 * torch.tensor([(1, 0), (-1, 0), (0, 1), (0, -1)] + [(a / math.sqrt(2), b / math.sqrt(2)) for a in (1, -1) for b in (1, -1)])
            / 1.414,
            0.02 / 1.414,
        ),
        ("25gaussians", torch.tensor([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)]) / 2.828, 0.05 / 2.828),
    ],
)
def test_mixture_centres_and_spread_match_paper_notes(name, centres, std):
    dist = make_distribution(name)
    torch.testing.assert_close(torch.sort(dist.centres.flatten()).values, torch.sort(centres.float().flatten()).values)
    x = dist.sample(40000, torch.Generator().manual_seed(0))
    idx, residual = nearest_centre_stats(x, centres.float())
    assert residual.std().item() == pytest.approx(std, rel=0.03)
    counts = torch.bincount(idx, minlength=len(centres)).float()
    assert counts.min() > 0.8 * len(x) / len(centres)  # equal weights


def test_swissroll_radius_and_noise():
    x = make_distribution("swissroll").sample(50000, torch.Generator().manual_seed(0)) * 7.5
    # Before noise, a point at angle t lies at radius t, t ~ U[1.5π, 4.5π]: mean radius 3π.
    r = x.norm(dim=1)
    assert r.mean().item() == pytest.approx(3 * math.pi, rel=0.02)
    assert r.min().item() > 1.5 * math.pi - 1.5 and r.max().item() < 4.5 * math.pi + 1.5


def test_stream_is_seeded_and_fresh():
    dm = ToyDataModule(batch_size=8, seed=3)
    a = iter(dm.train_dataloader())
    b = iter(ToyDataModule(batch_size=8, seed=3).train_dataloader())
    first, second = next(a), next(a)
    assert first.shape == (8, 2)
    assert torch.equal(first, next(b)) and not torch.equal(first, second)


def test_validation_sample_is_fixed_and_noise_floor_positive():
    dm = ToyDataModule(val_size=500)
    dm.setup("fit")
    again = ToyDataModule(val_size=500)
    again.setup("fit")
    assert torch.equal(dm.val_real, again.val_real)
    assert 0 < dm.noise_floor < 0.5


def test_unknown_dataset_and_bad_batch_size():
    with pytest.raises(ValueError, match="unknown dataset 'moons'; choose one of 8gaussians"):
        ToyDataModule(dataset="moons")
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        ToyDataModule(batch_size=0)


def test_noise_floor_is_the_mean_of_independent_draws():
    from lightning_wgan.metrics import exact_w1

    dm = ToyDataModule(val_size=300, noise_floor_draws=4)
    gen = torch.Generator().manual_seed(dm.val_seed + 1)
    dm.setup("fit")
    draws = torch.tensor([exact_w1(dm.val_real, dm.distribution.sample(300, gen)) for _ in range(4)])
    assert dm.noise_floor == pytest.approx(draws.mean().item(), rel=1e-6)
    assert dm.noise_floor_sd == pytest.approx(draws.std().item(), rel=1e-6) and dm.noise_floor_sd > 0
    one = ToyDataModule(val_size=300, noise_floor_draws=1)
    assert one.noise_floor == pytest.approx(draws[0].item(), rel=1e-6) and one.noise_floor_sd == 0.0
    with pytest.raises(ValueError, match="noise_floor_draws must be >= 1"):
        ToyDataModule(noise_floor_draws=0)
