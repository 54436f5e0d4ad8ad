"""Mixed precision: the gradient penalty under a GradScaler follows PyTorch's AMP
recipe (scale the critic output, unscale the input gradient before the norm)."""

import csv

import pytest
import torch
from conftest import run_cli
from torch import nn

from lightning_wgan import penalties as P
from lightning_wgan.networks import MLPCritic
from lightning_wgan.penalties import LipschitzPenalty, Penalty


def make_critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))


def critic_step_grads(critic, real, fake, points, amp: bool, unscale: bool = True, penalty: Penalty | None = None):
    """Penalty value and critic parameter gradients of one critic loss, the penalty's
    sampler fixed to ``points``; the same random draws (ALP's, dropout's) with and without AMP."""
    penalty = penalty or LipschitzPenalty(weight=10.0)
    critic.zero_grad(set_to_none=True)
    torch.manual_seed(3)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**14, enabled=amp)
    with torch.autocast("cpu", dtype=torch.float16, enabled=amp):
        scale = scaler.scale(torch.ones(())) if amp else 1.0
        if unscale:
            value, _ = penalty.term(critic, real, fake, lambda r, f: points, scale)
        else:  # the mistake GAN libraries make: grad of the scaled output, used as is
            x = points.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(critic(x).sum() * scale, x, create_graph=True)
            value = penalty((g.float().flatten(1).square().sum(1) + 1e-12).sqrt())
        loss = critic(fake).float().mean() - critic(real).float().mean() + value
    scaler.scale(loss).backward()
    if amp:
        opt = torch.optim.SGD(critic.parameters(), lr=0.0)
        scaler.unscale_(opt)
    grads = torch.cat([p.grad.flatten() for p in critic.parameters()])
    return value.detach(), grads


def rel_err(a, b):
    return ((a - b).norm() / b.norm()).item()


def batch():
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(128, 2, generator=g), torch.randn(128, 2, generator=g) * 2 + 1
    alpha = torch.rand(128, 1, generator=g)
    return real, fake, alpha * real + (1 - alpha) * fake


def test_penalty_under_grad_scaler_matches_fp32():
    critic = make_critic()
    with torch.no_grad():  # steep enough that the one-sided penalty is active
        critic[0].weight.mul_(20)
    real, fake, points = batch()
    ref_value, ref_grads = critic_step_grads(critic, real, fake, points, amp=False)
    assert ref_value > 0.1
    value, grads = critic_step_grads(critic, real, fake, points, amp=True)
    assert rel_err(value, ref_value) < 1e-2
    assert rel_err(grads, ref_grads) < 1e-2


# Every penalty with a loss term; steep critics where the penalty acts above slope 1.
AMP_PENALTIES = {
    "gp": (lambda: P.GradientPenalty(10.0), 4.0),
    "lp": (lambda: P.LipschitzPenalty(10.0), 8.0),
    "0gp": (lambda: P.ZeroCentredPenalty(10.0), 1.0),
    "r1": (lambda: P.R1Penalty(10.0), 1.0),
    "r2": (lambda: P.R2Penalty(10.0), 1.0),
    "div": (lambda: P.DivergencePenalty(2.0, 6.0), 2.0),
    "alp": (lambda: P.AdversarialLipschitzPenalty(10.0, 0.05, 0.5), 8.0),
    "ct": (lambda: P.ConsistencyTerm(P.LipschitzPenalty(10.0)), 8.0),
}


@pytest.mark.parametrize("name", AMP_PENALTIES)
def test_every_penalty_under_grad_scaler_matches_fp32(name):
    make, steep = AMP_PENALTIES[name]
    torch.manual_seed(0)
    critic = MLPCritic(width=64, depth=2, activation="tanh", dropout=0.1 if name == "ct" else 0.0)
    with torch.no_grad():
        critic.net[0].weight.mul_(steep)
    real, fake, points = batch()
    ref_value, ref_grads = critic_step_grads(critic, real, fake, points, amp=False, penalty=make())
    assert ref_value > 1e-3
    value, grads = critic_step_grads(critic, real, fake, points, amp=True, penalty=make())
    assert rel_err(value, ref_value) < 1e-2
    assert rel_err(grads, ref_grads) < 1e-2


def test_without_the_unscale_step_the_check_fails():
    critic = make_critic()
    with torch.no_grad():
        critic[0].weight.mul_(20)
    real, fake, points = batch()
    ref_value, ref_grads = critic_step_grads(critic, real, fake, points, amp=False)
    value, grads = critic_step_grads(critic, real, fake, points, amp=True, unscale=False)
    # (written as "not < " so that a NaN also fails the check, as it should)
    assert not rel_err(value, ref_value) < 1e-2
    assert not rel_err(grads, ref_grads) < 1e-2


def test_bf16_mixed_fit_on_cpu_trains(tmp_path):
    run = tmp_path / "run"
    cli = run_cli(
        run, "--trainer.precision", "bf16-mixed", "--generator_steps", "150", "--eval_every", "25",
        "--model.generator.init_args.width", "64", "--model.critic.init_args.width", "64",
        "--model.generator_optimizer.init_args.lr", "1e-3", "--model.critic_optimizer.init_args.lr", "1e-3",
        "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", str(tmp_path / "logs"),
    )
    assert cli.trainer.precision == "bf16-mixed"
    rows = list(csv.DictReader(open(next((tmp_path / "logs").rglob("metrics.csv")))))
    w1 = [float(r["val/w1_exact"]) for r in rows if r.get("val/w1_exact")]
    assert len(w1) == 6
    assert w1[-1] < 0.7 * w1[0], w1


@pytest.mark.parametrize("clip", [0.0, -1.0])
def test_bad_gradient_clip_val(clip, tmp_path):
    with pytest.raises(SystemExit, match="gradient_clip_val must be > 0"):
        run_cli(tmp_path / "run", "--model.gradient_clip_val", str(clip))


@pytest.mark.slow  # a minute: five short fits in a subprocess; run before each CUDA session
def test_gpu_check_script_runs_its_cpu_part():
    """tests/gpu/check.py must not rot between CUDA sessions: its CPU part runs here."""
    import subprocess
    import sys

    from conftest import REPO

    proc = subprocess.run([sys.executable, str(REPO / "tests/gpu/check.py"), "--quick"], capture_output=True, text=True,
                          timeout=600, cwd=REPO, env={**__import__("os").environ, "WANDB_MODE": "disabled"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = [line for line in proc.stdout.splitlines() if line.startswith("| penalty")]
    assert table and float(table[0].split("|")[2].split("/")[1]) < 1e-2
