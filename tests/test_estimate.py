"""Critic-only estimation: the data module, the estimate's standard error, a short run."""

import math

import pytest
import torch
from conftest import REPO, read_summary, run_cli

from lightning_wgan.data import AddNoise, PairDataModule, Scale, Translate
from lightning_wgan.metrics import CriticEstimate, exact_w1


def test_translation_pairs_points_and_knows_w1():
    dm = PairDataModule(transform=Translate([0.3, 0.4]), eval_size=1000)
    dm.setup("fit")
    torch.testing.assert_close(dm.val_fake, dm.val_real + torch.tensor([0.3, 0.4]))
    assert dm.paired and dm.w1_exact == (pytest.approx(0.5), 0.0)
    # Training batches are independent by default, as a GAN sees them: fake is the translate of other points ...
    real, fake = next(iter(dm.train_dataloader()))
    assert real.shape == fake.shape == (256, 2) and not dm.paired_training
    assert not torch.allclose(fake, real + torch.tensor([0.3, 0.4]))
    # ... and paired in the easy case (interpolates on the transport lines).
    paired = PairDataModule(transform=Translate([0.3, 0.4]), eval_size=1000, paired_training=True)
    real, fake = next(iter(paired.train_dataloader()))
    torch.testing.assert_close(fake, real + torch.tensor([0.3, 0.4]))


def test_pair_of_data_sets_uses_pot_over_draws():
    dm = PairDataModule(dataset="8gaussians", source="25gaussians", eval_size=500, w1_size=300, w1_draws=2)
    dm.setup("fit")
    assert not dm.paired
    w1, se = dm.w1_exact
    g = torch.Generator().manual_seed(dm.val_seed + 2)
    first = exact_w1(dm.distribution.sample(300, g), dm.source.sample(300, g))
    assert 0 < se < w1 and abs(w1 - first) < 0.1


def test_other_transforms_and_bad_arguments():
    x = torch.randn(100, 2)
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(Scale(2.0)(x, g), 2 * x)
    assert (AddNoise(0.1)(x, g) - x).std().item() == pytest.approx(0.1, rel=0.2)
    with pytest.raises(ValueError, match="needs a source data set or a transform"):
        PairDataModule()
    with pytest.raises(ValueError, match="factor must be > 0"):
        Scale(0)


@pytest.mark.parametrize("paired", [False, True])
def test_standard_error_matches_the_spread_of_repeated_estimates(paired):
    g = torch.Generator().manual_seed(0)
    n, reps = 500, 400
    estimates, ses = [], []
    for _ in range(reps):
        d_real = 1.0 + 0.5 * torch.randn(n, generator=g)
        d_fake = d_real - 0.5 + 0.05 * torch.randn(n, generator=g) if paired else 0.3 * torch.randn(n, generator=g)
        metric = CriticEstimate(paired=paired)
        for i in range(0, n, 100):  # in chunks, as validation batches arrive
            metric.update(d_real[i : i + 100], d_fake[i : i + 100])
        est, se = metric.compute()
        estimates.append(est.item())
        ses.append(se.item())
    spread = torch.tensor(estimates).std().item()
    mean_se = sum(ses) / reps
    # Analytic: unpaired sqrt((0.25 + 0.09) / n), paired 0.05 / sqrt(n).
    analytic = (0.05 if paired else (0.25 + 0.09) ** 0.5) / n**0.5
    assert mean_se == pytest.approx(analytic, rel=0.02)
    assert spread == pytest.approx(mean_se, rel=0.1)  # 400 repetitions: ±7 % sampling error


def test_short_critic_only_run_approaches_the_shift(tmp_path):
    run = tmp_path / "run"
    run_cli(
        run, "--critic_steps", "1500", "--eval_every", "1500", "--model.critic.init_args.width", "64",
        "--model.critic_optimizer.init_args.lr", "1e-3",
        config=str(REPO / "conf/estimate/translation.yaml"),
    )
    summary = read_summary(run)
    assert summary["w1_exact"] == 0.5
    assert summary["w1_critic"] == pytest.approx(0.5, rel=0.2), summary
    assert summary["w1_critic_se"] < 0.005 * 0.5


@pytest.mark.parametrize("d", [2, 8, 32, 128])
def test_translation_and_scaling_in_d_dimensions_against_pot(d):
    """POT on paired samples is the independent check: x ↦ x + v and x ↦ s·x are optimal
    for every distribution, empirical ones too, so POT(x, T(x)) is the transport cost of
    the map exactly, and that cost converges to the formula at the sampling rate."""
    g = torch.Generator().manual_seed(d)
    n, s = 2000, 1.5
    shift = PairDataModule(dataset="gaussian", dim=d, transform=Translate(1.0), eval_size=100)
    assert shift.w1_exact == (pytest.approx(1.0), 0.0)
    x = shift.distribution.sample(n, g)
    assert exact_w1(x, shift.transform(x, g)) == pytest.approx(1.0, rel=1e-5)
    scale = PairDataModule(dataset="gaussian", dim=d, transform=Scale(s), eval_size=100)
    w1, _ = scale.w1_exact
    pot = exact_w1(x, s * x)
    norms = x.norm(dim=1)
    assert pot == pytest.approx((s - 1) * norms.mean().item(), rel=1e-4)
    assert abs(pot - w1) < 4 * (s - 1) * norms.std().item() / n**0.5
    # E‖x‖ of N(0, I_d): √(π/2) at d = 2, and √d·(1 - 1/(4d)) + O(d^-1.5) for large d.
    if d == 2:
        assert w1 == pytest.approx(0.5 * (math.pi / 2) ** 0.5, rel=1e-12)
    else:
        assert w1 / 0.5 == pytest.approx(d**0.5 * (1 - 1 / (4 * d)), rel=2 / d**2)


def test_scaling_against_pot_on_independent_samples_in_2d():
    g = torch.Generator().manual_seed(0)
    dm = PairDataModule(dataset="gaussian", dim=2, transform=Scale(1.5), eval_size=100)
    x, y = dm.distribution.sample(3000, g), dm.distribution.sample(3000, g)
    floor = exact_w1(x, dm.distribution.sample(3000, g))
    assert abs(exact_w1(x, 1.5 * y) - dm.w1_exact[0]) < floor


def test_one_dimensional_pair_from_quantiles_against_scipy_and_pot():
    from scipy.stats import wasserstein_distance

    dm = PairDataModule(dataset="gaussian", dim=1, source="exponential", eval_size=100)
    w1, se = dm.w1_exact
    assert se == 0.0 and w1 == pytest.approx(0.31442, abs=1e-4)
    g = torch.Generator().manual_seed(0)
    big = [dist.sample(400_000, g).flatten().numpy() for dist in (dm.distribution, dm.source)]
    assert wasserstein_distance(*big) == pytest.approx(w1, abs=3e-3)
    x, y = dm.distribution.sample(3000, g), dm.source.sample(3000, g)
    floor = exact_w1(x, dm.distribution.sample(3000, g))
    assert abs(exact_w1(x, y) - w1) < 2 * floor
    # Exp(1) - 1 has mean 0 and variance 1, like N(0, 1): no linear critic separates them.
    e = dm.source.sample(400_000, g)
    assert abs(e.mean().item()) < 0.01 and e.var().item() == pytest.approx(1.0, abs=0.01)
    assert e.abs().mean().item() == pytest.approx(2 / math.e, abs=0.005)


def test_dimension_errors():
    from lightning_wgan.data import make_distribution

    with pytest.raises(ValueError, match="dim applies to gaussian, cube; 8gaussians has a fixed dimension"):
        make_distribution("8gaussians", dim=3)
    with pytest.raises(ValueError, match="source exponential is 1-D, dataset gaussian is 2-D"):
        PairDataModule(dataset="gaussian", dim=2, source="exponential")
    with pytest.raises(ValueError, match="shift has 2 entries, the data 3"):
        Translate([0.3, 0.4])(torch.zeros(4, 3), torch.Generator())


def test_a_critic_of_the_wrong_dimension_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match=r"the critic MLPCritic does not take samples of the data's shape \(8,\)"):
        run_cli(tmp_path / "run", "--data.dim", "8", config=str(REPO / "conf/estimate/gaussian_scale.yaml"))
    assert not (tmp_path / "run" / "checkpoints").exists()
