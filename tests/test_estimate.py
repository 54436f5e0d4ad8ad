"""Critic-only estimation: the data module, the estimate's standard error, a short run."""

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
    real, fake = next(iter(dm.train_dataloader()))
    assert real.shape == fake.shape == (256, 2)
    # Training batches are paired too (interpolates on the transport lines) ...
    torch.testing.assert_close(fake, real + torch.tensor([0.3, 0.4]))
    # ... unless paired_training is off: then fake is the translate of other points.
    unpaired = PairDataModule(transform=Translate([0.3, 0.4]), eval_size=1000, paired_training=False)
    real, fake = next(iter(unpaired.train_dataloader()))
    assert not torch.allclose(fake, real + torch.tensor([0.3, 0.4]))


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
