"""A progress bar whose total is the run's number of critic steps."""

from __future__ import annotations

from typing import Any

from pytorch_lightning.callbacks import TQDMProgressBar


class ProgressBar(TQDMProgressBar):
    """Lightning's bar counts training batches (critic steps) but takes its total from
    ``max_steps``, which also counts generator steps; this one divides that out and
    shows the generator step. It redraws every ``refresh_rate`` critic steps (default
    10): at a thousand tiny steps a second, redrawing each one costs 10 %."""

    def __init__(self, refresh_rate: int = 10, **kwargs: Any) -> None:
        super().__init__(refresh_rate=refresh_rate, **kwargs)

    @property
    def total_train_batches(self) -> int | float:
        total = super().total_train_batches
        module = self.trainer.lightning_module
        if self.trainer.max_steps > 0 and hasattr(module, "critic_steps"):
            # A GAN takes n_critic + 1 optimizer steps per n_critic batches; a critic-only run one per batch.
            n = module.n_critic if module.generator is not None else None
            critic_total = self.trainer.max_steps * n // (n + 1) if n else self.trainer.max_steps
            total = min(total, critic_total - module.critic_steps)
        return total

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        metrics["generator_step"] = getattr(pl_module, "generator_steps", "?")
        return metrics
