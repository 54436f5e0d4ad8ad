"""Critic-only training: how well does a regularized critic estimate W1?

The generator is replaced by a fixed source of samples (a ``PairDataModule``), only
the critic trains, and its estimate ``mean D(real) - mean D(fake)`` is compared with
the exact W1 (paper-notes §4): the central measurement of Petzka et al. (2018).
"""

from __future__ import annotations

from typing import Any

import torch
from pytorch_lightning.cli import OptimizerCallable
from torch import Tensor, nn

from lightning_wgan.metrics import CriticEstimate, gradient_fidelity
from lightning_wgan.module import WGAN, _adam
from lightning_wgan.penalties import Penalty, input_gradients
from lightning_wgan.samplers import Sampler


class CriticEstimator(WGAN):
    """Trains a critic on batches ``(real, fake)`` from the data module.

    Logs ``val/w1_critic`` with its standard error ``val/w1_critic_se``, the data
    module's ``val/w1_exact`` (and its standard error), and
    ``val/rel_error = |w1_critic - w1_exact| / w1_exact``; where the data module knows
    the optimal potential's gradient (``potential_gradient``: points of the fake
    distribution and ∇f* there), also ``val/grad_cos`` and ``val/grad_l2``
    (:func:`~lightning_wgan.metrics.gradient_fidelity`). Run lengths are in critic steps
    (``--critic_steps``).
    """

    def __init__(
        self,
        critic: nn.Module | None = None,
        penalty: Penalty | None = None,
        sampler: Sampler | None = None,
        critic_optimizer: OptimizerCallable = _adam,
        gradient_clip_val: float | None = None,
    ) -> None:
        super().__init__(
            critic=critic, penalty=penalty, sampler=sampler, n_critic=1,
            critic_optimizer=critic_optimizer, gradient_clip_val=gradient_clip_val,
        )
        self.generator = None
        self.val_w1_critic: CriticEstimate | None = None

    @property
    def training_steps(self) -> int:
        return self.critic_steps

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.critic_optimizer(self.critic.parameters())

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> dict[str, Tensor]:
        real, fake = batch
        out = self.critic_step(real, fake)
        self.log_train(out, len(real))
        return out

    def on_validation_epoch_start(self) -> None:
        paired = getattr(self.trainer.datamodule, "paired", False)
        self.val_w1_critic = CriticEstimate(paired=paired).to(self.device)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        real, fake = batch
        self.val_w1_critic.update(self.critic(real), self.critic(fake))

    def on_validation_epoch_end(self) -> None:
        estimate, se = self.val_w1_critic.compute()
        w1_exact, w1_exact_se = self.trainer.datamodule.w1_exact
        metrics = {
            "val/w1_critic": estimate,
            "val/w1_critic_se": se,
            "val/w1_exact": w1_exact,
            "val/w1_exact_se": w1_exact_se,
            "val/rel_error": (estimate - w1_exact).abs() / w1_exact,
            "val/ratio": estimate / w1_exact,
            "critic_steps": float(self.critic_steps),
        }
        known = getattr(self.trainer.datamodule, "potential_gradient", None)
        if known is not None:
            points, optimal = known
            # Validation runs under inference mode, which autograd cannot see through.
            with torch.inference_mode(False), torch.enable_grad():
                grad = torch.cat([input_gradients(self.critic, chunk.clone().to(self.device), create_graph=False)
                                  for chunk in points.split(4096)])
            metrics["val/grad_cos"], metrics["val/grad_l2"] = gradient_fidelity(grad, optimal.to(self.device))
        self.log_evaluation(metrics)
