"""Callbacks that keep a run's work safe: preemption and non-finite values."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException

from lightning_wgan.errors import NonFiniteError


def last_checkpoint(run_dir: str | Path) -> Path:
    """Where a run directory keeps the checkpoint it resumes from (``--ckpt_path last``)."""
    return Path(run_dir) / "checkpoints" / "last.ckpt"


class Checkpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint``, whose ``last.ckpt`` holds the run's final state.

    With ``every_n_train_steps``, Lightning saves the last checkpoint at the end of
    training only if it never saved one, so a run whose length is not a multiple of the
    interval ended with the state of its last interval in ``last.ckpt`` (a 3100-step
    critic-only run kept the step-3000 critic) while ``summary.json`` reported the final
    one. Here the end of training saves it whenever the final step is not saved yet.
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        super().on_train_end(trainer, pl_module)


class Preemption(pl.Callback):
    """SIGTERM or SIGINT during a fit: finish the current step, save ``last.ckpt``, exit 0.

    Lightning already turns SIGTERM into an exception at the end of the current batch;
    SIGINT (Ctrl-C) is routed the same way, so that the checkpoint never holds a
    half-done step. Resume with ``--ckpt_path last``.
    """

    def __init__(self) -> None:
        self._signal: int | None = None
        self._previous: Any = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._previous = signal.signal(signal.SIGINT, self._request_stop)

    def _request_stop(self, signum: int, frame: Any) -> None:
        self._signal = signum

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self._signal is not None:
            raise SIGTERMException()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        path = last_checkpoint(trainer.default_root_dir)
        checkpointing = trainer.checkpoint_callback
        if isinstance(checkpointing, ModelCheckpoint) and checkpointing.save_last:
            # Recorded in the saved state, so that after resuming the callback overwrites
            # this file; otherwise a run stopped before its first save would go on in a
            # last-v1.ckpt beside it.
            checkpointing.last_model_path = str(path)
        trainer.save_checkpoint(path)
        name = signal.Signals(self._signal).name if self._signal is not None else "SIGTERM"
        step = getattr(pl_module, "training_steps", trainer.global_step)
        rank_zero_info(f"stopped by {name} at step {step}; saved {path}; resume with --run_dir {trainer.default_root_dir} --ckpt_path last")

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class FiniteGuard(pl.Callback):
    """Stops the run at the first NaN or Inf in a loss, the penalty or a parameter.

    Losses and parameters are checked every ``check_every`` critic steps (one host
    synchronization each time, not every step), and the parameters again before every
    checkpoint is written, so a non-finite state never overwrites the last good one.
    """

    def __init__(self, check_every: int = 50) -> None:
        if check_every < 1:
            raise ValueError(f"check_every must be >= 1, got {check_every}")
        self.check_every = check_every

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if pl_module.critic_steps % self.check_every == 0:
            losses = {f"train/{k}": v for k, v in (outputs or {}).items() if isinstance(v, torch.Tensor) and v.dim() == 0}
            self.check(trainer, pl_module, losses)

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]) -> None:
        self.check(trainer, pl_module, {})

    def check(self, trainer: pl.Trainer, pl_module: pl.LightningModule, losses: dict[str, torch.Tensor]) -> None:
        named = {**losses, **{f"parameter {n}": p for n, p in pl_module.named_parameters()}}
        finite = torch.stack([torch.isfinite(t.detach()).all() for t in named.values()])
        if bool(finite.all()):  # the one host synchronization
            return
        bad = next(name for name, ok in zip(named, finite.tolist(), strict=True) if not ok)
        last = last_checkpoint(trainer.default_root_dir)
        where = f"last good checkpoint: {last}" if last.is_file() else "no checkpoint was saved yet"
        raise NonFiniteError(
            f"non-finite {bad} at generator step {getattr(pl_module, 'generator_steps', '?')} "
            f"(critic step {pl_module.critic_steps}); {where}"
        )
