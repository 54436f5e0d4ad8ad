"""A callback for the DDP test: each process dumps its parameters and its share of
the validation samples, so the test can compare processes and recompute W1."""

import os

import pytorch_lightning as pl
import torch


class DumpPerRank(pl.Callback):
    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        # Runs before the module's hook computes (and resets) the metric, so the
        # states still hold this process's own samples.
        metric = pl_module.val_w1_exact
        self.samples = (torch.cat(metric.real).clone(), torch.cat(metric.fake).clone())

    def on_fit_end(self, trainer, pl_module) -> None:
        params = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        path = os.path.join(self.out_dir, f"rank{trainer.global_rank}.pt")
        torch.save({"params": params, "real": self.samples[0], "fake": self.samples[1]}, path)
