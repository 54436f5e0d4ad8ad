"""The WGAN LightningModule: n_critic critic steps, then one generator step.

Manual optimization, because the two networks step at different rates and the
gradient penalty needs a double backward. Lightning's ``global_step`` counts the steps
of both optimizers; this module counts ``critic_steps`` and ``generator_steps``
separately, and run lengths are stated in generator steps (see ``train.py``).
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.cli import OptimizerCallable
from torch import Tensor, nn

from lightning_wgan import contracts
from lightning_wgan.metrics import CriticEstimate, ExactW1, ModeCoverage
from lightning_wgan.networks import MLPCritic, MLPGenerator
from lightning_wgan.penalties import Penalty, penalty_name
from lightning_wgan.samplers import Interpolates, Sampler


def _adam(params: Any) -> torch.optim.Optimizer:
    # The toy reference of Gulrajani et al.
    return torch.optim.Adam(params, lr=1e-4, betas=(0.5, 0.9))


class WGAN(pl.LightningModule):
    """Wasserstein GAN with a pluggable Lipschitz regularizer.

    Critic loss ``mean D(fake) - mean D(real) + penalty``, generator loss
    ``-mean D(G(z))`` (paper-notes §1).

    Args:
        generator: maps noise of shape ``(batch, generator.latent_dim)`` to samples.
        critic: maps a batch of samples to one score each, (n,) or (n, 1) (see
            :mod:`~lightning_wgan.contracts` for every part's contract).
        penalty: the regularizer (λ is ``penalty.weight``); ``None`` for no regularizer.
        sampler: where a gradient penalty draws its points; unused by weight clipping.
        n_critic: critic steps per generator step.
        generator_optimizer, critic_optimizer: optimizer factories.
        val_seed: seed of the fixed noise that validation generates from.
        gradient_clip_val: clip each network's parameter-gradient norm to this (after
            AMP unscaling); ``None`` for no clipping. Lightning's
            ``--trainer.gradient_clip_val`` does not apply to manual optimization.
    """

    def __init__(
        self,
        generator: nn.Module | None = None,
        critic: nn.Module | None = None,
        penalty: Penalty | None = None,
        sampler: Sampler | None = None,
        n_critic: int = 5,
        generator_optimizer: OptimizerCallable = _adam,
        critic_optimizer: OptimizerCallable = _adam,
        val_seed: int = 0,
        gradient_clip_val: float | None = None,
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        self.automatic_optimization = False
        self.generator = generator if generator is not None else MLPGenerator()
        contracts.check_generator(self.generator)
        self.critic = contracts.conform_critic(critic if critic is not None else MLPCritic())
        contracts.check_penalty(penalty)
        self.penalty = penalty
        if penalty is not None:
            penalty.check_critic(self.critic)
        self.sampler = sampler if sampler is not None else Interpolates()
        contracts.check_sampler(self.sampler)
        self.n_critic = n_critic
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        self.val_seed = val_seed
        if gradient_clip_val is not None and gradient_clip_val <= 0:
            raise ValueError(f"gradient_clip_val must be > 0 or None, got {gradient_clip_val}")
        self.gradient_clip_val = gradient_clip_val
        self.critic_steps = 0
        self.generator_steps = 0
        self.val_w1_exact = ExactW1()
        self.val_w1_critic = CriticEstimate()
        self.val_modes: ModeCoverage | None = None
        self.evaluated_at: int | None = None  # generator step of the last evaluation
        self._last_generator_loss: Tensor | None = None
        self._skipped_steps: Tensor | None = None  # optimizer steps a GradScaler skipped
        self._checked_with: int | None = None  # the data module the contracts were checked against

    @property
    def training_steps(self) -> int:
        """Progress in the unit run lengths are stated in: generator steps."""
        return self.generator_steps

    @property
    def penalty_name(self) -> str:
        return penalty_name(self.penalty)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [self.generator_optimizer(self.generator.parameters()), self.critic_optimizer(self.critic.parameters())]

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(n, self.generator.latent_dim, device=self.device, generator=generator)

    @torch.no_grad()
    def generate(self, n: int, seed: int | None = None) -> Tensor:
        """``n`` generated samples; from fixed noise when ``seed`` is given."""
        gen = None if seed is None else torch.Generator(self.device).manual_seed(seed)
        return self.generator(self.noise(n, gen))

    def check_contracts(self, datamodule: pl.LightningDataModule) -> None:
        """Every part's contract (:func:`lightning_wgan.contracts.check`), once per data module."""
        if self._checked_with != id(datamodule):
            contracts.check(self, datamodule)
            self._checked_with = id(datamodule)

    def setup(self, stage: str) -> None:
        # The CLI checks before anything runs; a model trained from Python is checked
        # here, against the data it is given, before its first step.
        if self.trainer.datamodule is not None:
            self.check_contracts(self.trainer.datamodule)

    def on_fit_start(self) -> None:
        # seed_everything gives every process the same seed; the networks start equal
        # anyway (DDP broadcasts rank 0's), but noise and penalty points must differ.
        if self.trainer.world_size > 1:
            torch.manual_seed(torch.initial_seed() + 1_000_003 * self.global_rank)

    def loss_scale(self) -> float | Tensor:
        """The GradScaler's scale under 16-bit mixed precision, else 1.

        ``scaler.scale(1)`` returns the scale as a tensor on the device, without the
        host synchronization of ``scaler.get_scale()``.
        """
        scaler = getattr(self.trainer.precision_plugin, "scaler", None) if self._trainer is not None else None
        if scaler is None or not scaler.is_enabled():
            return 1.0
        return scaler.scale(torch.ones((), device=self.device))

    def critic_loss(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """The critic's loss and its parts on one batch."""
        scores = self.critic(torch.cat([real, fake]))
        w1_critic = scores[: len(real)].mean() - scores[len(real) :].mean()
        out = {"w1_critic": w1_critic.detach(), "loss": -w1_critic}
        if self.penalty is not None and self.penalty.adds_loss:
            out["penalty"], norms = self.penalty.term(self.critic, real, fake, self.sampler, self.loss_scale())
            out["loss"] = out["loss"] + out["penalty"]
            out["grad_norm"] = norms.detach().mean()
            out["norms"] = norms.detach()  # for callbacks (monitor, adaptive λ); not logged
        return out

    def critic_step(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """One optimizer step of the critic; returns the loss and its parts."""
        d_opt = self.optimizers()[-1] if self.generator is not None else self.optimizers()
        out = self.critic_loss(real, fake)
        d_opt.zero_grad(set_to_none=True)
        self.manual_backward(out["loss"])
        self.step_counting_skips(d_opt)
        if self.penalty is not None:
            self.penalty.after_critic_step(self.critic)
        self.critic_steps += 1
        return out

    def generator_step(self, batch_size: int) -> Tensor:
        """One optimizer step of the generator on fresh noise; returns its loss."""
        g_opt = self.optimizers()[0]
        # Only the generator's parameters need gradients here.
        with self.toggled_optimizer(g_opt):
            g_loss = -self.critic(self.generator(self.noise(batch_size))).mean()
            g_opt.zero_grad(set_to_none=True)
            self.manual_backward(g_loss)
            self.step_counting_skips(g_opt)
        self.generator_steps += 1
        return g_loss.detach()

    def training_step(self, batch: Tensor, batch_idx: int) -> dict[str, Tensor]:
        real = batch
        with torch.no_grad():
            # Under autocast the generator's output is 16-bit; the penalty's points
            # (and so their input gradients) stay in the data's precision.
            fake = self.generator(self.noise(len(real))).to(real.dtype)
        out = self.critic_step(real, fake)
        if self.critic_steps % self.n_critic == 0:
            self._last_generator_loss = out["generator_loss"] = self.generator_step(len(real))
        self.log_train(out, len(real))
        return out

    def log_train(self, out: dict[str, Tensor], batch_size: int) -> None:
        # self.log costs more than a tiny step: call it only on the steps Lightning
        # writes (every log_every_n_steps batches, i.e. critic steps).
        if self.critic_steps % max(self.trainer.log_every_n_steps, 1) != 0:
            return
        logs = {f"train/{k}" if k != "loss" else "train/critic_loss": v for k, v in out.items() if v.dim() == 0}
        if self._last_generator_loss is not None:
            logs["train/generator_loss"] = self._last_generator_loss
        if self._skipped_steps is not None:
            logs["train/skipped_steps"] = self._skipped_steps
        self.log_dict(logs, batch_size=batch_size)

    def step_counting_skips(self, optimizer: Any) -> None:
        """``optimizer.step()``, counting the steps a GradScaler skips (non-finite
        gradients under 16-bit AMP; the scaler then lowers its scale). Tensor ops only:
        no host synchronization."""
        scale = self.loss_scale()
        if not isinstance(scale, Tensor):
            optimizer.step()
            return
        scale = scale.clone()
        optimizer.step()
        skipped = (self.loss_scale() < scale).float()
        self._skipped_steps = skipped if self._skipped_steps is None else self._skipped_steps + skipped

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Lightning calls this after AMP unscaling, so the clip sees true gradients.
        if self.gradient_clip_val is not None:
            self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip_val, gradient_clip_algorithm="norm")

    # -- validation: exact W1 of generated vs held-out real points ---------------------

    def on_validation_epoch_start(self) -> None:
        # Fixed noise per process, so successive evaluations are comparable.
        self._val_noise = torch.Generator(self.device).manual_seed(self.val_seed + self.global_rank)
        dm = self.trainer.datamodule
        distribution = getattr(dm, "distribution", None)
        if self.val_modes is None and getattr(distribution, "centres", None) is not None:
            self.val_modes = ModeCoverage(distribution.centres, distribution.std).to(self.device)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        real = batch[0] if isinstance(batch, (list, tuple)) else batch
        fake = self.generator(self.noise(len(real), self._val_noise))
        self.val_w1_exact.update(real, fake)
        self.val_w1_critic.update(self.critic(real), self.critic(fake))
        if self.val_modes is not None:
            self.val_modes.update(fake)

    def on_validation_epoch_end(self) -> None:
        w1_exact = self.val_w1_exact.compute()
        w1_critic, w1_critic_se = self.val_w1_critic.compute()
        metrics = {
            "val/w1_exact": w1_exact,
            "val/w1_critic": w1_critic,
            "val/w1_critic_se": w1_critic_se,
            "generator_steps": float(self.generator_steps),
            "critic_steps": float(self.critic_steps),
        }
        dm = self.trainer.datamodule
        noise_floor = getattr(dm, "noise_floor", None)
        if noise_floor is not None:
            metrics["val/noise_floor"] = noise_floor
            metrics["val/w1_over_floor"] = w1_exact / noise_floor
        if getattr(dm, "noise_floor_sd", None) is not None:
            metrics["val/noise_floor_sd"] = dm.noise_floor_sd
        if self.val_modes is not None:
            metrics["val/modes_covered"], metrics["val/high_quality"] = self.val_modes.compute()
            self.val_modes.reset()
        for metric in (self.val_w1_exact, self.val_w1_critic):
            metric.reset()
        self.log_evaluation(metrics)

    def log_evaluation(self, metrics: dict[str, Any]) -> None:
        """Log one evaluation's metrics and remember at which step it happened.

        The metrics already gathered their states, so every process holds the same
        values and sync_dist only averages equal numbers.
        """
        self.log_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in metrics.items()}, sync_dist=True)
        self.evaluated_at = self.training_steps

    # -- checkpointing: the step counters are plain ints, not in the state dict --------

    # The RNG states make a resumed run draw the same noise and penalty points as an
    # uninterrupted one (the data stream is seeded per batch index; see data.Stream).

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["wgan"] = {
            "critic_steps": self.critic_steps,
            "generator_steps": self.generator_steps,
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("wgan", {})
        self.critic_steps = state.get("critic_steps", 0)
        self.generator_steps = state.get("generator_steps", 0)
        if "rng_cpu" in state:
            torch.set_rng_state(state["rng_cpu"])
        if state.get("rng_cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])



