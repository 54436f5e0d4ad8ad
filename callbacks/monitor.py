"""What the critic's gradients look like while it trains."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger
from torch import Tensor, nn

from lightning_wgan.penalties import gradient_norms
from lightning_wgan.samplers import Interpolates, Perturbed

QUANTILES = torch.tensor([0.5, 0.9, 0.99])


def norm_stats(norms: Tensor, tol: float) -> dict[str, Tensor]:
    """mean, std, max, p50/p90/p99 and the Lipschitz-violation rate (‖∇D‖ > 1 + tol)."""
    norms = norms.detach().float()
    q = torch.quantile(norms, QUANTILES.to(norms.device))
    return {
        "mean": norms.mean(), "std": norms.std(), "max": norms.max(),
        "p50": q[0], "p90": q[1], "p99": q[2],
        "violation_rate": (norms > 1 + tol).float().mean(),
    }


def lipschitz_upper_bound(critic: nn.Module) -> float:
    """Product of the spectral norms of the critic's linear layers: an upper bound of
    its Lipschitz constant when every other layer is 1-Lipschitz (ReLU, LeakyReLU,
    Tanh...). NaN for critics with other parameterized layers (conv, normalization),
    where this product is no bound."""
    bound = 1.0
    for module in critic.modules():
        params = list(module.parameters(recurse=False))
        if isinstance(module, nn.Linear):
            bound *= float(torch.linalg.matrix_norm(module.weight.detach().float(), ord=2))
        elif params:
            return float("nan")
    return bound


class GradNormMonitor(pl.Callback):
    """Every ``every`` critic steps (200 by default): the critic's input-gradient norms at real,
    generated, interpolated and perturbed points (``grad/<points>/<stat>``), the
    parameter-gradient norms of generator and critic (``grad/param_norm/<net>``, read
    after AMP unscaling), and the Lipschitz upper bound (``grad/lipschitz_bound``).

    At the points the penalty uses, it reuses the norms the penalty computed. Histograms
    go to wandb when it is the logger. Its cost at the default ``every`` is in the README.
    """

    def __init__(self, every: int = 200, tol: float = 0.05, histograms: bool = True) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every, self.tol, self.histograms = every, tol, histograms
        self._param_norms: dict[str, Tensor] = {}

    def due(self, pl_module: pl.LightningModule) -> bool:
        return pl_module.critic_steps % self.every == 0

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        # Lightning calls this after the precision plugin unscaled the gradients.
        if not self.due(pl_module):
            return
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        critic_params = {id(p) for p in pl_module.critic.parameters()}
        net = "critic" if id(optimizer.param_groups[0]["params"][0]) in critic_params else "generator"
        self._param_norms[net] = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if not self.due(pl_module):
            return
        real = batch[0] if isinstance(batch, (list, tuple)) else batch
        fake = batch[1] if isinstance(batch, (list, tuple)) else pl_module.generate(len(real)).to(real.dtype)
        norms = {}
        with torch.enable_grad():
            for name, points in (
                ("real", real), ("fake", fake),
                ("interpolates", Interpolates()(real, fake)), ("perturbed", Perturbed("both", 0.25)(real, fake)),
            ):
                norms[name] = gradient_norms(pl_module.critic, points, create_graph=False).detach()
        if (outputs or {}).get("norms") is not None:
            norms["penalty_points"] = outputs["norms"]  # computed by the penalty already
        logs = {f"grad/{where}/{k}": v for where, n in norms.items() for k, v in norm_stats(n, self.tol).items()}
        logs.update({f"grad/param_norm/{net}": v for net, v in self._param_norms.items()})
        logs["grad/lipschitz_bound"] = torch.tensor(lipschitz_upper_bound(pl_module.critic))
        pl_module.log_dict(logs)
        if self.histograms:
            for logger in trainer.loggers:
                if isinstance(logger, WandbLogger):
                    import wandb

                    logger.experiment.log(
                        {f"grad_hist/{k}": wandb.Histogram(v.cpu().numpy()) for k, v in norms.items()}, commit=False
                    )
