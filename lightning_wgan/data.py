"""Toy 2-D data sets (paper-notes §3) and the DataModule that streams them.

Training batches are drawn fresh every step from a seeded generator (one stream per
process, so DDP ranks see different data); validation uses one fixed held-out real
sample, which the exact-W1 metric compares with generated points.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from lightning_wgan.metrics import exact_w1


class Distribution:
    """A distribution that can be sampled with an explicit ``torch.Generator``.

    ``dim`` is the number of entries of a sample, ``shape`` its shape (``(dim,)`` for
    points; images set their own), ``name`` what run names and summaries call it.
    ``centres`` and ``std`` are set for Gaussian mixtures (for mode coverage);
    ``mean_norm`` (E‖x‖) where it has a closed form, for the exact W1 of a scaling; a
    1-D distribution with a closed-form quantile function implements :meth:`icdf`, for
    the exact W1 between two of them.
    """

    centres: Tensor | None = None
    std: float | None = None
    dim: int = 2
    mean_norm: float | None = None

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        raise NotImplementedError

    def cdf(self, x: Tensor) -> Tensor:
        """The distribution function F(x) of a 1-D distribution."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form distribution function")

    def icdf(self, u: Tensor) -> Tensor:
        """The quantile function F⁻¹(u) of a 1-D distribution."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form quantile function")


class GaussianMixture(Distribution):
    """Equal-weight mixture of isotropic Gaussians: (centre + std·ε) / divisor."""

    def __init__(self, centres: Tensor, std: float, divisor: float = 1.0) -> None:
        self.centres = centres / divisor
        self.std = std / divisor
        self.dim = centres.shape[1]

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        idx = torch.randint(len(self.centres), (n,), generator=generator)
        return self.centres[idx] + self.std * torch.randn(n, self.dim, generator=generator)


class EightGaussians(GaussianMixture):
    """8 Gaussians on a circle of radius 2, std 0.02, all divided by 1.414."""

    def __init__(self) -> None:
        s = 1 / math.sqrt(2)
        unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
        super().__init__(2 * torch.tensor(unit), std=0.02, divisor=1.414)


class TwentyFiveGaussians(GaussianMixture):
    """Gaussians at 2·(i, j), i, j ∈ {-2..2}, std 0.05, all divided by 2.828."""

    def __init__(self) -> None:
        grid = [(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)]
        super().__init__(torch.tensor(grid), std=0.05, divisor=2.828)


class SwissRoll(Distribution):
    """scikit-learn's ``make_swiss_roll`` (noise 0.25), coordinates 0 and 2, / 7.5."""

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
        # The roll's height coordinate is drawn too (and dropped) to mirror sklearn.
        torch.rand(n, generator=generator)
        xz = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
        return (xz + 0.25 * torch.randn(n, 2, generator=generator)) / 7.5


class StandardGaussian(Distribution):
    """N(0, I) in ``dim`` dimensions: a smooth target, and a source for critic-only runs.

    E‖x‖ = √2·Γ((d+1)/2)/Γ(d/2), the mean of a chi distribution with d degrees of freedom.
    """

    def __init__(self, dim: int = 2) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.mean_norm = math.sqrt(2) * math.exp(math.lgamma((dim + 1) / 2) - math.lgamma(dim / 2))

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return torch.randn(n, self.dim, generator=generator)

    def cdf(self, x: Tensor) -> Tensor:
        if self.dim != 1:
            super().cdf(x)
        return torch.special.ndtr(x)

    def icdf(self, u: Tensor) -> Tensor:
        if self.dim != 1:
            super().icdf(u)
        return torch.special.ndtri(u)


class Exponential(Distribution):
    """Exp(1) - 1 in one dimension, F⁻¹(u) = -log(1 - u) - 1: mean 0 and variance 1 like
    N(0, 1) but skewed, so that W1 between the two takes more than a linear critic
    (Exp(1) itself dominates N(0, 1) stochastically: their W1 is just the mean gap, 1).
    E|x| = 2/e."""

    dim = 1
    mean_norm = 2 / math.e

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.icdf(torch.rand(n, 1, generator=generator))

    def cdf(self, x: Tensor) -> Tensor:
        return -torch.expm1(-(x + 1).clamp(min=0))

    def icdf(self, u: Tensor) -> Tensor:
        return -torch.log1p(-u) - 1


class Cube(Distribution):
    """Uniform on the cube [-a, a]^d, a = 2.5: P of the funnel pairs (:class:`Funnels`)."""

    def __init__(self, dim: int = 2, a: float = 2.5) -> None:
        if dim < 1 or a <= 0:
            raise ValueError(f"the cube needs dim >= 1 and a > 0, got dim={dim}, a={a}")
        self.dim, self.a = dim, float(a)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return (2 * torch.rand(n, self.dim, generator=generator) - 1) * self.a


DATASETS: dict[str, type[Distribution]] = {
    "8gaussians": EightGaussians,
    "25gaussians": TwentyFiveGaussians,
    "swissroll": SwissRoll,
    "gaussian": StandardGaussian,
    "exponential": Exponential,
    "cube": Cube,
}
# The data sets whose dimension is a setting (``--data.dim``).
ANY_DIM = ("gaussian", "cube")


def quantile_w1(p: Distribution, q: Distribution, n: int = 2**20) -> float:
    """Exact W1 between two 1-D distributions: ∫₀¹ |F⁻¹(u) - G⁻¹(u)| du (Vallender 1973),
    by the midpoint rule on ``n`` points in float64 (error far below 1e-4 for these
    distributions, whose quantile functions grow only logarithmically at the ends)."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return float((p.icdf(u) - q.icdf(u)).abs().mean())


class Transform:
    """A fixed map T applied to samples of a distribution (critic-only runs).

    ``optimal`` says that T is an optimal transport map of every P it is applied to: the
    pairing x → T(x) is an optimal plan, so W1(P, T(P)) = E‖x - T(x)‖, and an optimal
    potential f* (with W1 = E_P f* - E_Q f*) rises at unit rate from T(x) to x, so that
    ∇f*(T(x)) = (x - T(x)) / ‖x - T(x)‖ (paper-notes §6).
    """

    optimal: bool = False

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        raise NotImplementedError

    def w1(self, distribution: Distribution) -> float | None:
        """The exact W1 between P and T(P), where it has a closed form; else ``None``."""
        return None

    def gradient(self, x: Tensor, moved: Tensor) -> Tensor:
        """∇f* at ``moved`` = T(``x``) for an optimal map: the unit direction towards x."""
        step = (x - moved).flatten(1)
        return (step / step.norm(dim=1, keepdim=True)).view_as(moved)


class Translate(Transform):
    """x + v. W1(P, P + v) = ‖v‖ for every P: the estimate's exact target.

    ``shift`` is v itself, or a number: a vector of that length along the diagonal
    (1, ..., 1)/√d, whatever the data's dimension d.
    """

    optimal = True

    def __init__(self, shift: list[float] | float) -> None:
        self.shift = torch.tensor(shift, dtype=torch.float32)

    def vector(self, dim: int) -> Tensor:
        if self.shift.dim() == 0:
            return self.shift * torch.ones(dim) / math.sqrt(dim)
        if self.shift.numel() != dim:
            raise ValueError(f"shift has {self.shift.numel()} entries, the data {dim}")
        return self.shift

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        return x + self.vector(x[0].numel()).to(x.device).view_as(x[0])

    def w1(self, distribution: Distribution) -> float | None:
        return float(self.vector(distribution.dim).norm())


class Scale(Transform):
    """factor · x (about the origin). W1(P, sP) = |s - 1|·E‖x‖ for every P: x ↦ s·x moves
    mass at that cost, and the 1-Lipschitz witness f(x) = ±‖x‖ attains it."""

    optimal = True

    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError(f"factor must be > 0, got {factor}")
        self.factor = float(factor)

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        return self.factor * x

    def w1(self, distribution: Distribution) -> float | None:
        return abs(self.factor - 1) * distribution.mean_norm if distribution.mean_norm is not None else None


class AddNoise(Transform):
    """x + std·ε, ε ~ N(0, I): a blurred copy of the data."""

    def __init__(self, std: float) -> None:
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}")
        self.std = float(std)

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        return x + self.std * torch.randn(x.shape, generator=generator)


PUBLISHED_FUNNELS = Path(__file__).resolve().parent / "reference" / "funnels"


class Funnels(Transform):
    """Moves each point towards its funnel's centre: the pairs of Korotin, Kolesov and
    Burnaev (2022), whose W1 and optimal potential are both known (paper-notes §6).

    The potential is f*(x) = min_k (‖x - c_k‖ + b_k), K funnels with centres c_k uniform
    in the cube [-a, a]^d and biases b_k ~ N(0, ``bias_std``²). For a point y whose
    funnel is k, the ray from c_k through y stays in funnel k's region up to u, where it
    leaves the cube or another funnel becomes the minimum; f* rises at unit rate along
    [c_k, u]. y moves to x = c_k + t^deg·(u - c_k), t = ‖y - c_k‖ / ‖u - c_k‖: then
    f*(y) - f*(x) = ‖y - x‖ for every pair, so the map is optimal (:attr:`optimal`) and
    ∇f*(x) = (x - c_k) / ‖x - c_k‖. x stays in the cube, between c_k and y.

    The funnels are drawn from ``seed`` for the data's dimension, or read: ``pair``
    names a published pair (``d8_w16``: d = 8, K = 16; in
    ``lightning_wgan/reference/funnels``, MIT license), ``file`` an ``.npz`` with arrays
    ``centers`` (K × d) and ``bias`` (K). Samples of any shape (images too) are moved as
    flat vectors; the moves are computed in float64.
    """

    optimal = True

    def __init__(self, funnels: int = 16, a: float = 2.5, deg: float = 8.0, seed: int = 0, bias_std: float = 0.1,
                 pair: str | None = None, file: str | None = None) -> None:
        if funnels < 1 or a <= 0 or deg < 1 or bias_std < 0:
            raise ValueError(f"funnels need funnels >= 1, a > 0, deg >= 1, bias_std >= 0; got {funnels}, {a}, {deg}, {bias_std}")
        if pair is not None and file is not None:
            raise ValueError(f"give a published pair or a file, not both: got pair={pair!r}, file={file!r}")
        if pair is not None:
            file = str(PUBLISHED_FUNNELS / f"{pair}.npz")
            if not Path(file).is_file():
                names = sorted(p.stem for p in PUBLISHED_FUNNELS.glob("*.npz"))
                raise ValueError(f"no published funnel pair {pair!r}; choose one of {', '.join(names)}")
        elif file is not None and not Path(file).is_file():
            raise ValueError(f"no funnel file {file}")
        self.funnels, self.a, self.deg, self.seed, self.bias_std, self.file = funnels, float(a), float(deg), seed, float(bias_std), file
        self._drawn: dict[int, tuple[Tensor, Tensor]] = {}

    def centres(self, dim: int) -> tuple[Tensor, Tensor]:
        """(centres K × dim, biases K), in float64."""
        if dim not in self._drawn:
            if self.file is not None:
                with np.load(self.file) as arrays:
                    centres, biases = torch.from_numpy(arrays["centers"]).double(), torch.from_numpy(arrays["bias"]).double()
                if centres.shape[1] != dim:
                    raise ValueError(f"the funnels of {self.file} are {centres.shape[1]}-dimensional, the data {dim}-dimensional")
            else:
                gen = torch.Generator().manual_seed(self.seed)
                centres = (2 * torch.rand(self.funnels, dim, generator=gen, dtype=torch.float64) - 1) * self.a
                biases = self.bias_std * torch.randn(self.funnels, generator=gen, dtype=torch.float64)
            self._drawn[dim] = centres, biases
        return self._drawn[dim]

    def gradient(self, x: Tensor, moved: Tensor) -> Tensor:
        """∇f*(moved) = (moved - c_k) / ‖moved - c_k‖ at the points as stored: exact for a
        point that float32 put within its rounding of a centre, where the direction to
        its unmoved point is not the potential's gradient any more (at d = 2, with
        deg 8, a few percent of the points)."""
        flat = moved.flatten(1).double()
        centres, biases = self.centres(flat.shape[1])
        k = (torch.cdist(flat, centres, compute_mode="donot_use_mm_for_euclid_dist") + biases).argmin(dim=1)
        ray = flat - centres[k]
        return (ray / ray.norm(dim=1, keepdim=True)).to(moved.dtype).view_as(moved)

    def potential(self, x: Tensor) -> Tensor:
        """f*(x) = min_k ‖x - c_k‖ + b_k, per sample."""
        centres, biases = self.centres(x[0].numel())
        return (torch.cdist(x.flatten(1).double(), centres, compute_mode="donot_use_mm_for_euclid_dist") + biases).min(dim=1).values

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        y = x.flatten(1).double()
        centres, biases = self.centres(y.shape[1])
        distance = torch.cdist(y, centres)  # n × K
        values = distance + biases
        f, k = values.min(dim=1)
        ray = y - centres[k]
        radius = ray.norm(dim=1, keepdim=True).clamp(min=1e-12)
        v = ray / radius
        along = (y * v).sum(1, keepdim=True) - v @ centres.T  # (y - c_j)·v
        # Where the ray leaves the cube.
        limits = torch.where(v > 0, (self.a - y) / v.clamp(min=1e-300), torch.where(v < 0, (-self.a - y) / v.clamp(max=-1e-300), torch.inf))
        to_face = limits.min(dim=1).values.clamp(min=0)
        # Funnel j leads funnel k at y by ‖y - c_j‖ + b_j - f ≥ 0. Along the ray f_k rises
        # at unit rate and f_j falls at most at unit rate, so j catches up no sooner than
        # at half its lead. The CANDIDATES funnels of smallest lead are searched first;
        # all K only for the rays that those end later than half the lead of the nearest
        # funnel left out. The same formula on fewer funnels: the same end points, at a
        # fraction of the cost for large K.
        everyone = torch.arange(len(biases))
        if len(biases) <= PRUNE_ABOVE:
            to_funnel = first_catch(distance, along, f[:, None] - biases, everyone == k[:, None])
        else:
            nearest, near = values.topk(CANDIDATES + 1, dim=1, largest=False)  # ascending
            searched = near[:, :-1]
            to_funnel = first_catch(distance.gather(1, searched), along.gather(1, searched), f[:, None] - biases[searched],
                                    searched == k[:, None])
            rest = torch.minimum(to_funnel, to_face) > (nearest[:, -1] - f) / 2
            if rest.any():
                to_funnel[rest] = first_catch(distance[rest], along[rest], f[rest, None] - biases, everyone == k[rest, None])
        end = radius.squeeze(1) + torch.minimum(to_funnel, to_face)  # ‖u - c_k‖
        t = radius.squeeze(1) / end
        moved = centres[k] + (t.pow(self.deg) * end)[:, None] * v
        return moved.to(x.dtype).view_as(x)


# Funnels.__call__ searches the CANDIDATES funnels of smallest lead first, where there are
# more than PRUNE_ABOVE: below that, sorting out the candidates costs more than it saves.
CANDIDATES, PRUNE_ABOVE = 16, 64


def first_catch(distance: Tensor, along: Tensor, beta: Tensor, own: Tensor) -> Tensor:
    """Per row, the smallest r > 0 at which one of the funnels j (columns) catches up with
    the row's own funnel k along its ray y + r·v: ‖y + r·v - c_j‖ + b_j = f + r, i.e.
    r = (β² - ‖y - c_j‖²) / (2((y - c_j)·v - β)) with β = f - b_j, a crossing where the
    denominator is negative and β + r ≥ 0 (the root of the squared equation that solves
    the unsquared one). ``distance`` is ‖y - c_j‖, ``along`` (y - c_j)·v; ``own`` marks
    funnel k's column (0 / 0: left out). inf where none catches up."""
    denominator = 2 * (along - beta)
    crossing = (beta.square() - distance.square()) / denominator.clamp(max=-1e-12)
    valid = (denominator < -1e-12) & (crossing > 0) & (beta + crossing >= 0) & ~own
    return torch.where(valid, crossing, torch.inf).min(dim=1).values


def make_distribution(name: str | Distribution, dim: int | None = None) -> Distribution:
    """The data set ``name`` of :data:`DATASETS` (in ``dim`` dimensions, where that is a
    setting), or a distribution given as an object (a config's ``class_path``)."""
    if isinstance(name, Distribution):
        if dim is not None:
            raise ValueError(f"dim applies to {', '.join(ANY_DIM)}; a {type(name).__name__} has its own dimension, got dim={dim}")
        return name
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if dim is None:
        return DATASETS[name]()
    if name not in ANY_DIM:
        raise ValueError(f"dim applies to {', '.join(ANY_DIM)}; {name} has a fixed dimension ({DATASETS[name]().dim}), got dim={dim}")
    return DATASETS[name](dim)


class Stream(IterableDataset):
    """An endless stream of fresh batches: ``sample(batch_size, generator)`` each step.

    Batch i is drawn from a generator seeded by (seed, rank, i), so the stream needs no
    saved state: a run resumed at batch ``start`` sees exactly the batches an
    uninterrupted run would, whatever the loader had prefetched when it stopped.
    """

    def __init__(self, sample: Callable[[int, torch.Generator], Any], batch_size: int, seed: int, rank: int = 0, start: int = 0) -> None:
        self.sample = sample
        self.batch_size = batch_size
        self.seed, self.rank, self.start = seed, rank, start

    def __iter__(self) -> Iterator[Any]:
        generator = torch.Generator()
        for i in itertools.count(self.start):
            generator.manual_seed(hash((self.seed, self.rank, i)) & 0x7FFF_FFFF_FFFF_FFFF)
            yield self.sample(self.batch_size, generator)


class StreamingDataModule(pl.LightningDataModule):
    """Base of the data modules: fresh training batches from ``sample_train`` (through a
    :class:`Stream`) and a fixed held-out real set, ``val_real``, for validation.

    Args:
        batch_size: samples per critic step (per process).
        val_size: size of the held-out real set.
        seed: seed of the training stream (offset by the process rank); ``None`` takes
            it from ``seed_everything``.
        val_seed: seed of the held-out set, so that runs with different seeds are
            measured on the same points.
    """

    def __init__(self, batch_size: int, val_size: int, seed: int | None, val_seed: int) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if val_size < 2:
            raise ValueError(f"val_size must be >= 2, got {val_size}")
        self.batch_size = batch_size
        self.val_size = val_size
        self.seed = seed
        self.val_seed = val_seed
        self.val_real: Tensor | None = None

    def sample_train(self, n: int, generator: torch.Generator) -> Any:
        """One training batch of ``n`` samples, drawn with ``generator`` only."""
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        seed = torch.initial_seed() if self.seed is None else self.seed
        trainer = self.trainer
        rank = trainer.global_rank if trainer is not None else 0
        # On resume, continue at the batch the restored model has reached (one batch per
        # critic step). Sampling runs in this process: no workers needed.
        start = getattr(trainer.lightning_module, "critic_steps", 0) if trainer is not None else 0
        # The loader gets its own generator: creating its iterator would otherwise draw
        # from the global RNG, and a resumed run (a new iterator) would drift from an
        # uninterrupted one.
        stream = Stream(self.sample_train, self.batch_size, seed, rank, start)
        return DataLoader(stream, batch_size=None, generator=torch.Generator().manual_seed(seed))

    def val_dataloader(self) -> DataLoader:
        # One batch per process: Lightning's DistributedSampler splits it across ranks.
        return DataLoader(TensorDataset(self.val_real), batch_size=self.val_size)


class ToyDataModule(StreamingDataModule):
    """Streams a toy distribution for training; a fixed held-out sample for validation.

    Args:
        dataset: one of ``8gaussians``, ``25gaussians``, ``swissroll``, ``gaussian``,
            ``exponential`` (1-D), ``cube``; or a :class:`Distribution` (``class_path``,
            e.g. ``lightning_wgan.images.DigitsImages``).
        dim: the dimension of ``gaussian`` (default 2); the others have their own.
        batch_size: points per critic step (per process).
        val_size: size n of the held-out real sample, and of the generated sample the
            exact W1 is measured on (split across processes under DDP).
        seed: seed of the training stream (offset by the process rank); ``None`` takes
            it from ``seed_everything``. The held-out sample uses ``val_seed`` so that
            runs with different seeds are measured on the same points.
        noise_floor_draws: how many independent real samples the noise floor averages.
    """

    def __init__(
        self,
        dataset: str | Distribution = "8gaussians",
        dim: int | None = None,
        batch_size: int = 256,
        val_size: int = 2000,
        seed: int | None = None,
        val_seed: int = 2018,
        noise_floor_draws: int = 5,
    ) -> None:
        super().__init__(batch_size, val_size, seed, val_seed)
        if noise_floor_draws < 1:
            raise ValueError(f"noise_floor_draws must be >= 1, got {noise_floor_draws}")
        self.distribution = make_distribution(dataset, dim)
        self.dataset = getattr(self.distribution, "name", dataset) if isinstance(dataset, Distribution) else dataset
        self.noise_floor_draws = noise_floor_draws

    @property
    def dim(self) -> int:
        return self.distribution.dim

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample, which the generator's output must have."""
        return tuple(getattr(self.distribution, "shape", (self.distribution.dim,)))

    def setup(self, stage: str) -> None:
        if self.val_real is None:
            gen = torch.Generator().manual_seed(self.val_seed)
            self.val_real = self.distribution.sample(self.val_size, gen)

    @cached_property
    def noise_floors(self) -> Tensor:
        """Exact W1 between the held-out sample and each of ``noise_floor_draws``
        independent real samples of its size: what a perfect generator would score."""
        gen = torch.Generator().manual_seed(self.val_seed + 1)
        self.setup("validate")
        return torch.tensor([exact_w1(self.val_real, self.distribution.sample(self.val_size, gen)) for _ in range(self.noise_floor_draws)])

    @property
    def noise_floor(self) -> float:
        """The mean of :attr:`noise_floors`: one draw alone can be off by a quarter."""
        return float(self.noise_floors.mean())

    @property
    def noise_floor_sd(self) -> float:
        """The spread (standard deviation) of :attr:`noise_floors`."""
        return float(self.noise_floors.std()) if len(self.noise_floors) > 1 else 0.0

    def sample_train(self, n: int, generator: torch.Generator) -> Any:
        """One training batch."""
        return self.distribution.sample(n, generator)


class PairDataModule(ToyDataModule):
    """Real samples of ``dataset`` against fixed fake samples, for critic-only runs.

    The fake samples are ``transform(x)`` with x from ``source`` (another toy data set)
    or, when ``source`` is ``None``, from ``dataset`` itself. Without a ``source`` the
    held-out points are paired, fake_i = T(real_i), which makes the estimate's standard
    error small. Training batches are independent, as a GAN sees them (the real points
    and the transforms of *other* points), unless ``paired_training``: paired batches,
    the easy case, put every interpolate on a line the optimal plan moves along, where
    the optimal critic's gradient norm is exactly 1. The exact
    W1 is the transform's closed form where it has one (a translation, a scaling of a
    distribution with known E‖x‖), the quantile formula for two 1-D distributions
    (:func:`quantile_w1`), E‖x - T(x)‖ over the held-out pairs for an optimal map
    (:class:`Funnels`), else POT's exact W1 between samples of size ``w1_size``,
    averaged over ``w1_draws`` draws. Where the optimal potential's gradient is known,
    :attr:`potential_gradient` gives it at ``grad_size`` held-out fake points. ``dim`` sets the dimension of ``gaussian`` (as
    data set and as source).
    """

    def __init__(
        self,
        dataset: str | Distribution = "8gaussians",
        source: str | None = None,
        dim: int | None = None,
        transform: Transform | None = None,
        batch_size: int = 256,
        eval_size: int = 50_000,
        w1_size: int = 4000,
        w1_draws: int = 3,
        paired_training: bool = False,
        grad_size: int = 4096,
        seed: int | None = None,
        val_seed: int = 2018,
    ) -> None:
        super().__init__(dataset=dataset, dim=dim, batch_size=batch_size, val_size=eval_size, seed=seed, val_seed=val_seed)
        if source is None and transform is None:
            raise ValueError("a critic-only run needs a source data set or a transform (or both): got neither")
        self.source = make_distribution(source, dim if source in ANY_DIM else None) if source is not None else self.distribution
        if self.source.dim != self.distribution.dim:
            raise ValueError(f"source {source} is {self.source.dim}-D, dataset {dataset} is {self.distribution.dim}-D; they must match")
        self.source_name = source
        self.transform = transform
        self.paired = source is None
        self.paired_training = paired_training and self.paired
        self.w1_size = w1_size
        self.w1_draws = w1_draws
        if grad_size < 1:
            raise ValueError(f"grad_size must be >= 1, got {grad_size}")
        self.grad_size = grad_size
        self.val_fake: Tensor | None = None

    def sample_fake(self, n: int, generator: torch.Generator, x: Tensor | None = None) -> Tensor:
        x = self.source.sample(n, generator) if x is None else x
        return self.transform(x, generator) if self.transform is not None else x

    def sample_train(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        real = self.distribution.sample(n, generator)
        return real, self.sample_fake(n, generator, x=real if self.paired_training else None)

    def setup(self, stage: str) -> None:
        if self.val_real is None:
            gen = torch.Generator().manual_seed(self.val_seed)
            self.val_real = self.distribution.sample(self.val_size, gen)
            self.val_fake = self.sample_fake(self.val_size, gen, x=self.val_real if self.paired else None)

    @cached_property
    def w1_exact(self) -> tuple[float, float]:
        """(exact W1, its standard error over the draws; 0 for a closed form)."""
        closed = self.transform.w1(self.distribution) if self.paired else None
        if closed is None and self.transform is None and self.distribution.dim == 1:
            closed = quantile_w1(self.distribution, self.source)
        if closed is not None:
            return closed, 0.0
        if self.paired and self.transform.optimal:  # the pairing is an optimal plan: W1 = E‖x - T(x)‖
            self.setup("validate")
            cost = (self.val_real - self.val_fake).flatten(1).double().norm(dim=1)
            return float(cost.mean()), float(cost.std() / math.sqrt(len(cost)))
        gen = torch.Generator().manual_seed(self.val_seed + 2)
        draws = torch.tensor([
            exact_w1(self.distribution.sample(self.w1_size, gen), self.sample_fake(self.w1_size, gen))
            for _ in range(self.w1_draws)
        ])
        se = float(draws.std() / math.sqrt(len(draws))) if len(draws) > 1 else 0.0
        return float(draws.mean()), se

    @cached_property
    def potential_gradient(self) -> tuple[Tensor, Tensor] | None:
        """(the first ``grad_size`` held-out fake points, the optimal potential's gradient
        there), where it is known: an optimal map (:attr:`Transform.optimal`), or two
        1-D distributions with closed-form distribution functions, where f*' = sign(F_Q -
        F_P) (P the data set, Q the source); else None."""
        self.setup("validate")
        real, fake = self.val_real[: self.grad_size], self.val_fake[: self.grad_size]
        if self.paired and self.transform.optimal:
            gradient = self.transform.gradient(real, fake)
            # Where f* has no gradient (a point the map leaves in place, or one at a funnel's apex), the point is left out.
            keep = ((real - fake).flatten(1).norm(dim=1) > 1e-6) & gradient.flatten(1).isfinite().all(dim=1)
            return fake[keep], gradient[keep]
        if self.transform is None and self.distribution.dim == 1:
            try:
                return fake, torch.sign(self.source.cdf(fake) - self.distribution.cdf(fake))
            except NotImplementedError:
                return None
        return None

    def val_dataloader(self) -> DataLoader:
        # In chunks: the critic sees tens of thousands of points per evaluation.
        return DataLoader(TensorDataset(self.val_real, self.val_fake), batch_size=10_000)
