"""An exponential moving average of the generator's weights."""

from __future__ import annotations

import itertools
from typing import Any

import pytorch_lightning as pl
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


class GeneratorEMA(pl.Callback):
    """EMA of the generator after every generator step, used for evaluation and samples.

    ``ema ← decay · ema + (1 - decay) · weights`` after each generator step from
    ``start_step`` on (before it, the EMA copies the weights). During validation the
    generator holds the EMA weights; the raw weights are back before training goes on
    and in every checkpoint, which also holds the EMA (this callback's state).

    Lightning's ``EMAWeightAveraging`` averages the whole LightningModule (the critic
    too), counts the steps of both optimizers and ends by copying the average into the
    model, so this callback uses torch's ``AveragedModel`` on the generator alone.
    """

    def __init__(self, decay: float = 0.999, start_step: int = 0) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.start_step = start_step
        self.ema: AveragedModel | None = None
        self._updated_at = 0  # generator step of the last update
        self._swapped = False
        self._pending: dict[str, Any] | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if getattr(pl_module, "generator", None) is None:
            raise ValueError("GeneratorEMA needs a generator; a critic-only run has none")
        if self.ema is None:
            self.ema = AveragedModel(pl_module.generator, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True)
            if self._pending is not None:
                self.ema.load_state_dict(self._pending)
        # Swap back only after every other callback has seen the EMA generator.
        trainer.callbacks.remove(self)
        trainer.callbacks.append(self)

    def update(self, generator: torch.nn.Module, step: int) -> None:
        if step < self.start_step:
            for e, p in zip(self.ema.module.state_dict().values(), generator.state_dict().values(), strict=True):
                e.copy_(p)
        else:
            self.ema.update_parameters(generator)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if pl_module.generator_steps != self._updated_at:
            self._updated_at = pl_module.generator_steps
            self.update(pl_module.generator, pl_module.generator_steps)

    def swap(self, pl_module: pl.LightningModule) -> None:
        ema = itertools.chain(self.ema.module.parameters(), self.ema.module.buffers())
        current = itertools.chain(pl_module.generator.parameters(), pl_module.generator.buffers())
        for e, p in zip(ema, current, strict=True):
            tmp = p.detach().clone()
            p.data.copy_(e.data)
            e.data.copy_(tmp)
        self._swapped = not self._swapped

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.ema is not None and not self._swapped:
            self.swap(pl_module)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._swapped:
            self.swap(pl_module)

    def state_dict(self) -> dict[str, Any]:
        return {"ema": self.ema.state_dict() if self.ema is not None else None, "updated_at": self._updated_at}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict.get("ema")
        self._updated_at = state_dict.get("updated_at", 0)
        if self.ema is not None and self._pending is not None:
            self.ema.load_state_dict(self._pending)
