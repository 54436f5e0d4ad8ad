"""Penalty schedules, the gradient-norm monitor, generator EMA, sample plots."""

import math

import pytest
import torch
from conftest import read_summary, run_cli
from torch import nn

from callbacks.ema import GeneratorEMA
from callbacks.monitor import lipschitz_upper_bound, norm_stats
from callbacks.schedules import AdaptiveViolation, Constant, Cosine, Exponential, LinearWarmup, StepDecay
from lightning_wgan.networks import MLPCritic, MLPGenerator
from lightning_wgan.penalties import gradient_norms
from lightning_wgan.plots import plot_critic_2d


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (Constant(3.0), {0: 3.0, 100: 3.0}),
        (LinearWarmup(0.0, 10.0, steps=100), {0: 0.0, 25: 2.5, 100: 10.0, 500: 10.0}),
        (Cosine(10.0, 0.0, steps=100), {0: 10.0, 50: 5.0, 100: 0.0, 200: 0.0}),
        (StepDecay(8.0, factor=0.5, every=10), {0: 8.0, 9: 8.0, 10: 4.0, 35: 1.0}),
        (Exponential(1.0, rate=1.1), {0: 1.0, 10: 1.1**10}),
    ],
)
def test_schedule_values(schedule, expected):
    for step, value in expected.items():
        assert schedule.value(step) == pytest.approx(value, abs=1e-12), step


def test_schedule_sets_strength_and_clip_value_and_survives_resume(tmp_path):
    run = tmp_path / "run"
    warm = ["--trainer.callbacks+=callbacks.schedules.LinearWarmup", "--trainer.callbacks.start=0.0",
            "--trainer.callbacks.end=10.0", "--trainer.callbacks.steps=10"]
    cli = run_cli(run, "--generator_steps", "4", *warm)
    # The last batch started at generator step 3 (λ = 3), then the 4th step ran.
    assert cli.model.penalty.weight == pytest.approx(3.0)
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert any(v == {"current": 3.0} for v in ckpt["callbacks"].values())
    resumed = run_cli(run, "--generator_steps", "6", "--ckpt_path", "last", *warm)
    assert resumed.model.penalty.weight == pytest.approx(5.0)
    clip = run_cli(tmp_path / "clip", "--generator_steps", "2", "--model.penalty", "lightning_wgan.penalties.WeightClipping",
                   "--trainer.callbacks+=callbacks.schedules.Constant", "--trainer.callbacks.value=0.05")
    assert clip.model.penalty.clip_value == 0.05


def test_adaptive_schedule_moves_toward_the_target_and_restores():
    schedule = AdaptiveViolation(start=10.0, target=0.1, gain=1.0, every=2)

    class Module:
        critic_steps = 0

        def log(self, *args):
            pass

    module = Module()
    for step in (1, 2):
        module.critic_steps = step
        schedule.on_train_batch_end(None, module, {"norms": torch.tensor([0.5, 1.5, 2.0, 0.9])}, None, 0)
    # violation rate 0.5 (> 1.05: two of four) → λ · e^(0.5 - 0.1)
    assert schedule.current == pytest.approx(10.0 * math.exp(0.4))
    restored = AdaptiveViolation()
    restored.load_state_dict(schedule.state_dict())
    assert restored.current == schedule.current


class Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.lin = nn.Linear(len(w), 1)
        with torch.no_grad():
            self.lin.weight.copy_(w[None])

    def forward(self, x):
        return self.lin(x).squeeze(1)


def test_monitor_norms_on_a_linear_critic_and_a_known_violation_rate():
    w = torch.tensor([0.6, 0.8]) * 1.7
    stats = norm_stats(gradient_norms(Linear(w), torch.randn(100, 2)), tol=0.05)
    for k in ("mean", "max", "p50", "p90", "p99"):
        assert stats[k].item() == pytest.approx(1.7, rel=1e-5)
    assert stats["std"].item() < 1e-5 and stats["violation_rate"].item() == 1.0

    class HalfSteep(nn.Module):  # slope 2 where x₀ > 0, slope 0.5 elsewhere
        def forward(self, x):
            return torch.where(x[:, 0] > 0, 2 * x[:, 0], 0.5 * x[:, 0])

    x = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    stats = norm_stats(gradient_norms(HalfSteep(), x), tol=0.05)
    assert stats["violation_rate"].item() == pytest.approx((x[:, 0] > 0).float().mean().item())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lipschitz_bound_is_above_every_measured_gradient_norm(seed):
    torch.manual_seed(seed)
    critic = MLPCritic(width=64)
    norms = gradient_norms(critic, 3 * torch.randn(5000, 2))
    assert lipschitz_upper_bound(critic) >= norms.max().item()
    assert math.isnan(lipschitz_upper_bound(MLPCritic(width=8, norm="layer")))


def test_ema_equals_the_closed_form_average():
    gen = MLPGenerator(width=4, depth=1)
    ema = GeneratorEMA(decay=0.9)

    class Holder:
        generator = gen

    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    ema.ema = AveragedModel(gen, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    weights = [torch.full_like(gen.net[0].weight, float(k)) for k in (1, 2, 3, 4)]
    for k, w in enumerate(weights, start=1):
        with torch.no_grad():
            gen.net[0].weight.copy_(w)
        ema.update(gen, k)
    # ema_1 = w_1, ema_t = 0.9·ema_(t-1) + 0.1·w_t
    expected = 1.0
    for k in (2, 3, 4):
        expected = 0.9 * expected + 0.1 * k
    torch.testing.assert_close(ema.ema.module.net[0].weight, torch.full_like(weights[0], expected))


def test_ema_generator_is_used_for_evaluation_and_kept_in_checkpoints(tmp_path):
    run = tmp_path / "run"
    cli = run_cli(run, "--generator_steps", "5", "--trainer.callbacks+=callbacks.GeneratorEMA", "--trainer.callbacks.decay=0.5")
    ema = next(cb for cb in cli.trainer.callbacks if isinstance(cb, GeneratorEMA))
    assert not ema._swapped  # raw weights back after evaluation
    raw = [p.detach().clone() for p in cli.model.generator.parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(raw, ema.ema.module.parameters(), strict=True))
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    torch.testing.assert_close(ckpt["state_dict"]["generator.net.0.weight"], raw[0])
    assert any("ema" in v for v in ckpt["callbacks"].values() if isinstance(v, dict))
    # The summary's exact W1 is that of the EMA generator.
    real = cli.datamodule.val_real
    ema.swap(cli.model)
    from lightning_wgan.metrics import exact_w1

    fake = cli.model.generator(torch.randn(len(real), 2, generator=torch.Generator().manual_seed(0)))
    ema.swap(cli.model)
    assert read_summary(run)["w1_exact"] == pytest.approx(exact_w1(real, fake), rel=1e-5)


def test_monitor_logs_in_a_run(tmp_path):
    import csv

    run_cli(tmp_path / "run", "--generator_steps", "20", "--trainer.log_every_n_steps", "10",
            "--monitor.every=10",
            "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", str(tmp_path / "logs"))
    rows = list(csv.DictReader(open(next((tmp_path / "logs").rglob("metrics.csv")))))
    logged = {k for r in rows for k, v in r.items() if v}
    for key in ("grad/real/mean", "grad/interpolates/violation_rate", "grad/penalty_points/p99", "grad/lipschitz_bound",
                "grad/param_norm/critic", "grad/param_norm/generator"):
        assert key in logged, key


def test_plot_writes_a_png(tmp_path):
    path = plot_critic_2d(MLPCritic(width=8), torch.randn(50, 2), torch.randn(50, 2), tmp_path / "p.png", "t")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5000


def test_monitor_histograms_reach_an_offline_wandb_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    run = tmp_path / "run"
    run_cli(run, "--generator_steps", "4", "--trainer.logger", "lightning_wgan.loggers.WandbLogger",
            "--monitor.every=5")
    assert list((run / "wandb").glob("offline-run-*/*.wandb"))


@pytest.mark.parametrize("critic_only", [False, True])
def test_progress_bar_total_is_the_runs_critic_steps(tmp_path, critic_only):
    from conftest import REPO

    from callbacks.progress import ProgressBar

    if critic_only:
        cli = run_cli(tmp_path / "run", "--critic_steps", "7", "--trainer.enable_progress_bar", "true",
                      config=str(REPO / "conf/estimate/translation.yaml"))
    else:
        cli = run_cli(tmp_path / "run", "--generator_steps", "3", "--model.n_critic", "4", "--trainer.enable_progress_bar", "true")
    bar = next(cb for cb in cli.trainer.callbacks if isinstance(cb, ProgressBar))
    assert bar.train_progress_bar.total == (7 if critic_only else 12)


def test_image_grid_png(tmp_path):
    from lightning_wgan.plots import plot_image_grid

    images = torch.rand(20, 1, 16, 16) * 2 - 1
    path = plot_image_grid(images, tmp_path / "grid.png", "samples")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 2000
    rgb = plot_image_grid(torch.rand(8, 3, 8, 8) * 2 - 1, tmp_path / "rgb.png")
    assert rgb.stat().st_size > 1000
