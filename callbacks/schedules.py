"""Penalty schedules: how λ (or the clip value, for weight clipping) changes over a run;
and the learning rate's linear decay (:class:`LinearLRDecay`).

Every schedule sets ``pl_module.penalty.strength`` before each training batch, from the
step count in its ``unit`` (``generator`` or ``critic`` steps), logs
``train/penalty_strength`` when the value changes, and keeps its state in checkpoints.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pytorch_lightning as pl
import torch


class PenaltySchedule(pl.Callback):
    """Base class: subclasses define ``value(step)``."""

    def __init__(self, unit: Literal["generator", "critic"] = "generator") -> None:
        if unit not in ("generator", "critic"):
            raise ValueError(f"unit must be 'generator' or 'critic', got {unit!r}")
        self.unit = unit
        self.current: float | None = None

    def value(self, step: int) -> float:
        raise NotImplementedError

    def step_of(self, pl_module: pl.LightningModule) -> int:
        return pl_module.generator_steps if self.unit == "generator" else pl_module.critic_steps

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int) -> None:
        if pl_module.penalty is None:
            return
        value = float(self.value(self.step_of(pl_module)))
        if value != self.current:
            self.current = pl_module.penalty.strength = value
            pl_module.log("train/penalty_strength", value)

    def state_dict(self) -> dict[str, Any]:
        return {"current": self.current}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.current = state_dict.get("current")

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        if self.current is not None and pl_module.penalty is not None:
            pl_module.penalty.strength = self.current


class Constant(PenaltySchedule):
    """λ = value."""

    def __init__(self, value: float, unit: Literal["generator", "critic"] = "generator") -> None:
        super().__init__(unit)
        self.constant = value

    def value(self, step: int) -> float:
        return self.constant


class Ramp(PenaltySchedule):
    """λ moves from ``start`` to ``end`` over ``steps`` along ``shape(t)``, t ∈ [0, 1],
    then stays at ``end``."""

    def __init__(self, start: float, end: float, steps: int, unit: Literal["generator", "critic"] = "generator") -> None:
        super().__init__(unit)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.start, self.end, self.steps = start, end, steps

    @staticmethod
    def shape(t: float) -> float:
        raise NotImplementedError

    def value(self, step: int) -> float:
        return self.start + (self.end - self.start) * self.shape(min(step, self.steps) / self.steps)


class LinearWarmup(Ramp):
    """λ rises (or falls) linearly from ``start`` to ``end`` over ``steps``."""

    @staticmethod
    def shape(t: float) -> float:
        return t


class Cosine(Ramp):
    """λ follows a half cosine from ``start`` to ``end`` over ``steps``."""

    @staticmethod
    def shape(t: float) -> float:
        return 0.5 * (1 - math.cos(math.pi * t))


class StepDecay(PenaltySchedule):
    """λ = start · factor^(step // every)."""

    def __init__(self, start: float, factor: float, every: int, unit: Literal["generator", "critic"] = "generator") -> None:
        super().__init__(unit)
        if every < 1 or factor <= 0:
            raise ValueError(f"every must be >= 1 and factor > 0, got every={every}, factor={factor}")
        self.start, self.factor, self.every = start, factor, every

    def value(self, step: int) -> float:
        return self.start * self.factor ** (step // self.every)


class Exponential(PenaltySchedule):
    """λ = start · rate^step."""

    def __init__(self, start: float, rate: float, unit: Literal["generator", "critic"] = "generator") -> None:
        super().__init__(unit)
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        self.start, self.rate = start, rate

    def value(self, step: int) -> float:
        return self.start * self.rate**step


class AdaptiveViolation(PenaltySchedule):
    """Moves λ to hold the Lipschitz-violation rate near ``target``.

    The rate is the fraction of penalty points with ‖∇D‖ > 1 + ``tol``, from the norms
    the penalty already computed. Every ``every`` critic steps λ is multiplied by
    ``exp(gain · (rate - target))`` and kept in [``min_value``, ``max_value``]: more
    violations, a stronger penalty. One host synchronization per update.
    """

    def __init__(
        self, start: float = 10.0, target: float = 0.05, tol: float = 0.05, gain: float = 2.0, every: int = 50,
        min_value: float = 1e-3, max_value: float = 1e4,
    ) -> None:
        super().__init__("critic")
        if not 0 <= target <= 1:
            raise ValueError(f"target must be in [0, 1], got {target}")
        self.start, self.target, self.tol, self.gain, self.every = start, target, tol, gain, every
        self.min_value, self.max_value = min_value, max_value
        self.current = start
        self._violations: list[torch.Tensor] = []

    def value(self, step: int) -> float:
        return self.current

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        norms = (outputs or {}).get("norms")
        if norms is not None:
            self._violations.append((norms > 1 + self.tol).float().mean())
        if pl_module.critic_steps % self.every == 0 and self._violations:
            rate = float(torch.stack(self._violations).mean())
            self._violations.clear()
            updated = self.current * math.exp(self.gain * (rate - self.target))
            self.current = min(max(updated, self.min_value), self.max_value)
            pl_module.log("train/violation_rate", rate)


class LinearLRDecay(pl.Callback):
    """Both learning rates fall linearly from their configured values to 0 at the run's
    last generator step: the schedule of Gulrajani et al.'s image experiments.

    The configured rate stays in each parameter group as ``initial_lr`` (as torch's
    schedulers keep it), so it is saved with the optimizer and a resumed run continues
    on the same line.
    """

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int) -> None:
        # max_steps counts optimizer steps: n_critic + 1 per generator step.
        total = trainer.max_steps // (pl_module.n_critic + 1)
        factor = max(0.0, 1.0 - pl_module.generator_steps / max(total, 1))
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor
