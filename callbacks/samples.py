"""Sample figures after evaluations: 2-D points over the critic's level sets."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_only

from lightning_wgan.plots import plot_critic_1d, plot_critic_2d, plot_image_grid


class SamplePlot(pl.Callback):
    """After every ``every_n_evals``-th evaluation, a figure of the samples.

    2-D data: ``n`` real and generated points over the critic's level sets and gradient
    field; 1-D data: their histograms under the critic's curve. Images (samples of shape channels × height × width): a grid of ``grid_size``
    samples generated from fixed noise. Writes ``samples/step_<step>.png`` and
    ``samples.png`` (the latest) into the run directory, and logs the image to wandb
    when it is the logger.
    """

    def __init__(self, every_n_evals: int = 1, n: int = 1000, seed: int = 0, grid_size: int = 64) -> None:
        self.every_n_evals = every_n_evals
        self.n = n
        self.seed = seed
        self.grid_size = grid_size
        self._evals = 0

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._evals += 1
        if self._evals % self.every_n_evals == 0:
            self.plot(trainer, pl_module)

    @rank_zero_only
    def plot(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = pl_module.training_steps
        w1 = trainer.callback_metrics.get("val/w1_exact")
        unit = "generator" if pl_module.generator is not None else "critic"
        title = f"{unit} step {step}" + (f", exact W1 {float(w1):.4f}" if w1 is not None else "")
        path = Path(trainer.default_root_dir) / "samples" / f"step_{step:06d}.png"
        if pl_module.generator is not None:
            fake = pl_module.generate(max(self.n, self.grid_size), seed=self.seed)
        else:  # critic-only: the data module's fixed fake samples
            fake = trainer.datamodule.val_fake[: self.n].to(pl_module.device)
        if fake.dim() == 4:  # images
            path = plot_image_grid(fake[: self.grid_size], path, title)
        elif fake[0].numel() in (1, 2):
            real = trainer.datamodule.val_real[: self.n].to(pl_module.device)
            plot = plot_critic_2d if fake[0].numel() == 2 else plot_critic_1d
            path = plot(pl_module.critic, real, fake[: len(real)], path, title)
        else:  # points in more dimensions: no picture says much
            return
        run_dir = Path(trainer.default_root_dir)
        latest = run_dir / "samples.png"
        latest.write_bytes(path.read_bytes())
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image("samples", [str(path)], step=trainer.global_step)
