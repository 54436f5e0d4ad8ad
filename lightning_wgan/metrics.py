"""Evaluation (paper-notes §4, §6): the exact W1 between samples, mode coverage, and
how well a critic's gradient matches the optimal potential's.

The first two are torchmetrics ``Metric``s, so samples and counts gather across
processes under DDP before they are computed.
"""

from __future__ import annotations

import numpy as np
import ot
import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat


def exact_w1(x: Tensor, y: Tensor) -> float:
    """Exact W1 between two empirical distributions with uniform weights.

    The optimal transport cost under the Euclidean distance (network simplex, POT's
    ``ot.emd2``), in float64. Samples may differ in size; points are flattened.
    """
    a = x.detach().flatten(1).double().cpu().numpy()
    b = y.detach().flatten(1).double().cpu().numpy()
    cost = ot.dist(a, b, metric="euclidean")
    wa = np.full(len(a), 1.0 / len(a))
    wb = np.full(len(b), 1.0 / len(b))
    return float(ot.emd2(wa, wb, cost, numItermax=10_000_000))


def gradient_fidelity(grad: Tensor, optimal: Tensor) -> tuple[float, float]:
    """(mean cosine, mean squared L2 distance) between a critic's input gradients and the
    optimal potential's, per sample over all non-batch dimensions: the scores of
    Korotin et al. (2022). The gradient is what a generator is trained on."""
    grad, optimal = grad.flatten(1).double(), optimal.flatten(1).double()
    cos = torch.nn.functional.cosine_similarity(grad, optimal, dim=1, eps=1e-12)
    return float(cos.mean()), float((grad - optimal).square().sum(1).mean())


class ExactW1(Metric):
    """Exact W1 between all real and all generated samples seen (on every process)."""

    full_state_update = False
    higher_is_better = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("real", default=[], dist_reduce_fx="cat")
        self.add_state("fake", default=[], dist_reduce_fx="cat")

    def update(self, real: Tensor, fake: Tensor) -> None:
        self.real.append(real.detach().flatten(1).float())
        self.fake.append(fake.detach().flatten(1).float())

    def compute(self) -> Tensor:
        w1 = exact_w1(dim_zero_cat(self.real), dim_zero_cat(self.fake))
        return torch.tensor(w1, dtype=torch.float64)


class ModeCoverage(Metric):
    """Mode coverage of generated points on a Gaussian mixture.

    A point is of high quality when it lies within ``n_std`` standard deviations of a
    centre; a mode is covered when it holds at least ``min_fraction`` of the
    high-quality points it would get if all points were spread evenly over the modes.
    ``compute`` returns (fraction of modes covered, fraction of high-quality points).
    """

    full_state_update = False

    def __init__(self, centres: Tensor, std: float, n_std: float = 3.0, min_fraction: float = 0.2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.register_buffer("centres", centres.float().clone(), persistent=False)
        self.radius = n_std * std
        self.min_fraction = min_fraction
        self.add_state("counts", default=torch.zeros(len(centres)), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, fake: Tensor) -> None:
        dist = torch.cdist(fake.detach().flatten(1).float(), self.centres)
        nearest, idx = dist.min(dim=1)
        hit = nearest <= self.radius
        self.counts += torch.bincount(idx[hit], minlength=len(self.centres)).float()
        self.total += fake.shape[0]

    def compute(self) -> tuple[Tensor, Tensor]:
        expected = self.total / len(self.centres)
        covered = (self.counts >= self.min_fraction * expected).float().mean()
        return covered, self.counts.sum() / self.total.clamp(min=1)


class CriticEstimate(Metric):
    """The critic's W1 estimate ``mean D(real) - mean D(fake)`` with its standard error.

    With ``paired=True`` the i-th real and fake points belong together (fake = T(real)
    for a fixed transform T), and the standard error is that of the mean of the paired
    differences, which is far smaller than the unpaired one when D(x) - D(T(x)) varies
    little. Only sums are kept, so the metric reduces across processes exactly.
    ``compute`` returns (estimate, standard error).
    """

    full_state_update = False

    def __init__(self, paired: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paired = paired
        for name in ("n", "real", "real_sq", "fake", "fake_sq", "diff_sq"):
            self.add_state(name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, d_real: Tensor, d_fake: Tensor) -> None:
        d_real, d_fake = d_real.detach().double().flatten(), d_fake.detach().double().flatten()
        if self.paired and d_real.shape != d_fake.shape:
            raise ValueError(f"paired estimates need as many real as fake scores, got {d_real.numel()} and {d_fake.numel()}")
        self.n += d_real.numel()
        self.real += d_real.sum()
        self.real_sq += d_real.square().sum()
        self.fake += d_fake.sum()
        self.fake_sq += d_fake.square().sum()
        if self.paired:
            self.diff_sq += (d_real - d_fake).square().sum()

    def compute(self) -> tuple[Tensor, Tensor]:
        n = self.n
        mean_r, mean_f = self.real / n, self.fake / n
        estimate = mean_r - mean_f
        if self.paired:
            var = (self.diff_sq / n - estimate.square()) * n / (n - 1)
            se = (var.clamp(min=0) / n).sqrt()
        else:
            var_r = (self.real_sq / n - mean_r.square()) * n / (n - 1)
            var_f = (self.fake_sq / n - mean_f.square()) * n / (n - 1)
            se = ((var_r.clamp(min=0) + var_f.clamp(min=0)) / n).sqrt()
        return estimate, se
