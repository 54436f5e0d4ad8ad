"""Test helpers that configs and subprocesses name by import path (tests.helpers.X)."""

import os

import pytorch_lightning as pl
import torch


class DumpPerRank(pl.Callback):
    """Each DDP process dumps its parameters and its share of the validation samples,
    so the test can compare processes and recompute W1."""

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
        settings = {"weight": getattr(pl_module.penalty, "weight", None), "n_critic": pl_module.n_critic}
        torch.save({"params": params, "real": self.samples[0], "fake": self.samples[1], "settings": settings}, path)


class BatchNormCritic(torch.nn.Module):
    """A critic with BatchNorm: wrong with a gradient penalty."""

    def __init__(self, data_dim: int = 2) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(data_dim, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


class InjectNaN(pl.Callback):
    """Makes the critic's output NaN from critic step ``at`` on."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_train_start(self, trainer, pl_module) -> None:
        def hook(module, inputs, output):
            return output * float("nan") if pl_module.critic_steps >= self.at else output

        pl_module.critic.register_forward_hook(hook)


class CountFitStarts(pl.Callback):
    """A user's own callback: counts the fits it was part of."""

    def __init__(self, label: str = "mine") -> None:
        self.label = label
        self.fits = 0

    def on_fit_start(self, trainer, pl_module) -> None:
        self.fits += 1


class ColumnCritic(torch.nn.Module):
    """A user's critic as they are usually written, ending in ``nn.Linear(h, 1)``: its
    scores have shape (n, 1), or (n,) with ``squeeze`` (its twin), or (n, ``outputs``)
    (a contract violation). ``head`` is the last layer, for the consistency term."""

    def __init__(self, data_dim: int = 2, width: int = 16, dropout: float = 0.0, squeeze: bool = False, outputs: int = 1) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(data_dim, width), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                        torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Dropout(dropout))
        self.head = torch.nn.Linear(width, outputs)
        self.squeeze = squeeze

    def forward(self, x):
        scores = self.head(self.body(x.flatten(1)))
        return scores.squeeze(1) if self.squeeze else scores


class FunnelPotential(torch.nn.Module):
    """The optimal critic of a funnel pair: f*(x) = min_k ‖x - c_k‖ + b_k itself (its one
    parameter is 0 and stays 0: a critic-only run needs something to optimize)."""

    def __init__(self, pair: str = "d2_w16") -> None:
        super().__init__()
        from lightning_wgan.data import Funnels

        self.funnels = Funnels(pair=pair)
        self.zero = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        centres, biases = self.funnels.centres(x[0].numel())
        # In float64, where float32 cannot tell a point from the centre it lies next to;
        # differences, not torch.cdist: the penalty's double backward goes through them.
        distances = (x.flatten(1).double()[:, None, :] - centres[None]).norm(dim=2)
        return (distances + biases).min(dim=1).values.to(x.dtype) + 0 * self.zero


def run_module(module: str, *args: str, timeout: int = 900):
    """``python -m module args`` from the repository, as a user runs a driver; it must succeed."""
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc
