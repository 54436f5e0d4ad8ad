"""GPU checks for mixed precision and speed; prints a small table (under 5 minutes).

    bash tests/gpu/check.sh            # on a CUDA machine
    python tests/gpu/check.py --quick  # smoke run; on a CPU it does what a CPU can

1. The gradient penalty under 16-mixed (GradScaler) against fp32 on the same inputs:
   relative error of the penalty and of the critic's parameter gradients.
2. Short fits at 16-mixed and bf16-mixed on the toy config: exact W1 before and after.
3. Critic steps/s of the template at fp32, bf16-mixed and 16-mixed (toy reference size).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from bench import template  # noqa: E402

from lightning_wgan.cli import WGANCLI  # noqa: E402
from lightning_wgan.penalties import GradientPenalty, gradient_norms  # noqa: E402


def penalty_error(device: str) -> tuple[float, float]:
    """Relative error of penalty and parameter gradients, 16-bit AMP vs fp32."""
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(2, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                 torch.nn.Linear(512, 1)).to(device)
    with torch.no_grad():
        critic[0].weight.mul_(4)
    real, fake = torch.randn(256, 2, device=device), torch.randn(256, 2, device=device) + 1
    points = torch.lerp(fake, real, torch.rand(256, 1, device=device))

    scaler = torch.amp.GradScaler(device)

    def run(amp: bool):
        # As in training: a step whose scaled gradients overflow is skipped and the
        # scaler halves its scale; the first finite step is compared.
        for _ in range(20):
            critic.zero_grad(set_to_none=True)
            with torch.autocast(device, dtype=torch.float16, enabled=amp):
                scale = scaler.scale(torch.ones((), device=device)) if amp else 1.0
                value = GradientPenalty(10.0)(gradient_norms(critic, points, scale))
                loss = critic(fake).float().mean() - critic(real).float().mean() + value
            (scaler.scale(loss) if amp else loss).backward()
            if not amp:
                break
            opt = torch.optim.SGD(critic.parameters(), lr=0.0)
            scaler.unscale_(opt)
            grads = torch.cat([p.grad.flatten() for p in critic.parameters()])
            if torch.isfinite(grads).all() and torch.isfinite(value):
                break
            scaler.step(opt)  # skipped: non-finite gradients
            scaler.update()
        return value.detach(), torch.cat([p.grad.flatten() for p in critic.parameters()])

    (v32, g32), (v16, g16) = run(False), run(True)
    return float((v16 - v32).abs() / v32.abs()), float((g16 - g32).norm() / g32.norm())


def short_fit(precision: str, accelerator: str, steps: int, config: list[str] = ()) -> tuple[dict, dict]:
    """The first and last evaluation of a short fit."""
    with tempfile.TemporaryDirectory() as tmp:
        cli = WGANCLI(args=[
            "fit", *config, "--trainer.precision", precision, "--trainer.accelerator", accelerator, "--trainer.devices", "1",
            "--generator_steps", str(steps), "--eval_every", str(steps // 2), "--trainer.logger", "false",
            "--trainer.enable_progress_bar", "false", "--model.generator_optimizer.init_args.lr", "1e-3",
            "--model.critic_optimizer.init_args.lr", "1e-3", "--run_dir", str(Path(tmp) / "run"),
        ])
        history = json.loads((Path(tmp) / "run" / "summary.json").read_text())["history"]
        assert cli.trainer.precision == precision, cli.trainer.precision
    return history[0], history[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("WANDB_MODE", "disabled")
    cuda = torch.cuda.is_available()
    device, accelerator = ("cuda", "gpu") if cuda else ("cpu", "cpu")
    name = torch.cuda.get_device_name() if cuda else "CPU (no CUDA: 16-mixed rows skipped)"
    print(f"device: {name}, torch {torch.__version__}")
    rows = []
    rel_penalty, rel_grads = penalty_error(device)
    rows.append(("penalty, 16-mixed vs fp32: rel. error (penalty / grads)", f"{rel_penalty:.2e} / {rel_grads:.2e}"))
    steps = 6 if args.quick else 300
    for precision in ("16-mixed", "bf16-mixed") if cuda else ("bf16-mixed",):
        first, last = short_fit(precision, accelerator, steps)
        label = f"toy fit at {precision}: exact W1 at step {steps // 2} → {steps}"
        rows.append((label, f"{first['w1_exact']:.3f} → {last['w1_exact']:.3f}"))
    digits = ["--config", "conf/images/digits.yaml"]
    for precision in ("32-true", "bf16-mixed", "16-mixed") if cuda else ("32-true",):
        first, last = short_fit(precision, accelerator, steps, digits)
        rows.append((f"digits fit at {precision}: FID at step {steps // 2} → {steps}", f"{first['fid']:.2f} → {last['fid']:.2f}"))
    n = 20 if args.quick else 1500
    for precision in ("32-true", "bf16-mixed", "16-mixed") if cuda else ("32-true", "bf16-mixed"):
        rate = template(512, 256, n, extra=["--trainer.precision", precision, "--trainer.accelerator", accelerator])
        rows.append((f"critic steps/s, width 512 batch 256, {precision}", f"{rate:.1f}"))
    width = max(len(r[0]) for r in rows)
    print("\n| check | result |\n|---|---|")
    for label, value in rows:
        print(f"| {label:{width}s} | {value} |")


if __name__ == "__main__":
    main()
