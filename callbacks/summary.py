"""summary.json and curves.png: the figures of a run, rewritten after every evaluation."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_only

from lightning_wgan.plots import plot_history


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that a crash mid-write never leaves a truncated file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


# The metrics kept at every evaluation: enough to see whether a run has settled.
HISTORY = ("w1_exact", "w1_critic", "modes_covered", "grad_cos", "grad_l2", "fid", "kid")


class Summary(pl.Callback):
    """Writes ``summary.json`` into the run directory after every evaluation.

    It holds the latest validation metrics (``w1_exact``, ``w1_critic``,
    ``noise_floor``, ...; the ``val/`` prefix dropped), the step counters, the wall
    time, what was trained (penalty, weight, dataset), and ``history``: the exact and
    estimated W1 (and the modes covered, FID and KID, and the gradient scores
    ``grad_cos`` and ``grad_l2``, when measured) at every evaluation (``step`` in
    generator steps, or critic steps in critic-only runs), which ``curves.png`` plots.
    Because it is rewritten after each evaluation, an interrupted run keeps the figures
    of its last evaluation. ``critic_steps_per_s`` is the training speed of this fit,
    evaluations left out, at ``threads`` threads (a speed means little without them);
    ``finished`` is true once the fit has run to its last step.
    ``curves`` names the figure beside it (``--summary.curves null``: none, for runs
    whose curves are read from their tables; drawing it is most of a tiny run's
    evaluation).
    """

    def __init__(self, filename: str = "summary.json", curves: str | None = "curves.png") -> None:
        if curves is not None and (Path(curves).name != curves or Path(curves).suffix != ".png"):
            # Checked here, not at the first evaluation, minutes into a run.
            raise ValueError(f"Summary curves must be a file name ending in .png, or null, got {curves!r}")
        self.filename = filename
        self.curves = curves
        self.wall_time_s = 0.0  # of earlier fits of a resumed run
        self.history: list[dict[str, float]] = []  # one entry per evaluation
        self._start: float | None = None
        self._training: dict[str, float] = {}  # start, steps at start, evaluation time, end
        self.finished = False  # whether the fit ran to its last step

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._training = {"start": time.perf_counter(), "steps": getattr(pl_module, "critic_steps", 0), "eval_s": 0.0}

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if "start" in self._training:  # evaluations during a fit (not `train.py validate`)
            self._training["eval_start"] = time.perf_counter()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._training.setdefault("end", time.perf_counter())

    def critic_steps_per_s(self, pl_module: pl.LightningModule) -> float | None:
        t = self._training
        if "start" not in t:
            return None
        seconds = t.get("end", time.perf_counter()) - t["start"] - t["eval_s"]
        steps = getattr(pl_module, "critic_steps", 0) - t["steps"]
        return round(steps / seconds, 2) if steps > 0 and seconds > 0 else None

    def path(self, trainer: pl.Trainer) -> Path:
        return Path(trainer.default_root_dir) / self.filename

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()
        self.finished = False

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Only a fit that ran to its end gets here (not one stopped by a signal or an
        # error): ``finished`` tells a sweep runner that the run needs no rerun.
        self.finished = True
        if self.history:  # only ``finished`` has changed since the last evaluation drew curves.png
            self.write(trainer, pl_module, plot=False)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if "eval_start" in self._training and "end" not in self._training:
            self._training["eval_s"] += time.perf_counter() - self._training.pop("eval_start")
        if not trainer.sanity_checking:
            self.write(trainer, pl_module)

    def elapsed(self) -> float:
        return self.wall_time_s + (time.perf_counter() - self._start if self._start is not None else 0.0)

    @rank_zero_only
    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, plot: bool = True) -> None:
        summary: dict[str, Any] = {
            k.removeprefix("val/"): float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")
        }
        penalty = getattr(pl_module, "penalty", None)
        summary.update(
            generator_steps=getattr(pl_module, "generator_steps", None),
            critic_steps=getattr(pl_module, "critic_steps", None),
            wall_time_s=round(self.elapsed(), 3),
            critic_steps_per_s=self.critic_steps_per_s(pl_module),
            threads=torch.get_num_threads(),
            finished=self.finished,
            penalty=getattr(pl_module, "penalty_name", None),
            weight=penalty.weight if penalty is not None else 0.0,
            sampler=repr(getattr(pl_module, "sampler", None)),
            n_critic=getattr(pl_module, "n_critic", None),
            dataset=getattr(trainer.datamodule, "dataset", None),
            seed=int(torch.initial_seed()),
            run_dir=str(trainer.default_root_dir),
        )
        if getattr(penalty, "clip_value", None) is not None:
            summary["clip_value"] = penalty.clip_value
        step = getattr(pl_module, "training_steps", None)
        entry = {"step": step, **{k: summary[k] for k in HISTORY if k in summary}}
        self.history = [h for h in self.history if h.get("step") != step] + [entry]
        summary["history"] = self.history
        path = self.path(trainer)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, summary)
        if plot and self.curves is not None:
            unit = "generator step" if getattr(pl_module, "generator", None) is not None else "critic step"
            plot_history(self.history, path.with_name(self.curves), unit)

    def state_dict(self) -> dict[str, Any]:
        return {"wall_time_s": self.elapsed(), "history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.wall_time_s = state_dict.get("wall_time_s", 0.0)
        self.history = list(state_dict.get("history", []))
