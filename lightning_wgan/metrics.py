"""Evaluation (paper-notes §4): the exact W1 between samples, and mode coverage.

Both are torchmetrics ``Metric``s, so samples and counts gather across processes
under DDP before they are computed.
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
