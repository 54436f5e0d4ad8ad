"""Where the gradient penalty is taken: ways of drawing the points x̂ (paper-notes §2).

A sampler maps a batch of real and generated points to the points x̂ at which the
penalty evaluates ‖∇D(x̂)‖. Samplers are shape-agnostic: any tensor of shape
(batch, ...) works, 2-D points and images alike. Randomness comes from torch's RNG on
the batch's device, so ``seed_everything`` makes it reproducible.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor


class Sampler:
    """Base class: ``sampler(real, fake) -> points``."""

    def __call__(self, real: Tensor, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Interpolates(Sampler):
    """x̂ = α·real + (1-α)·fake, with α ~ U[0, 1] drawn once per sample (WGAN-GP)."""

    def __call__(self, real: Tensor, fake: Tensor) -> Tensor:
        if real.shape != fake.shape:
            raise ValueError(f"interpolates need real and fake batches of one shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
        alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        return torch.lerp(fake, real, alpha)


class Perturbed(Sampler):
    """x̂ = x + scale·s·ε, ε ~ N(0, I), around real points, generated points or both.

    ``s`` is the standard deviation of the batch the point comes from (over all its
    entries), so ``scale`` is relative to the data's spread; the authors of WGAN-LP used
    about 0.25. ``scale=0`` gives the points themselves. With ``around="both"`` the
    perturbed real and generated points are concatenated (twice the batch).
    """

    def __init__(self, around: Literal["real", "fake", "both"] = "both", scale: float = 0.25) -> None:
        if around not in ("real", "fake", "both"):
            raise ValueError(f"around must be one of 'real', 'fake', 'both', got {around!r}")
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        self.around = around
        self.scale = float(scale)

    def perturb(self, x: Tensor) -> Tensor:
        if self.scale == 0:
            return x
        return x + self.scale * x.std() * torch.randn_like(x)

    def __call__(self, real: Tensor, fake: Tensor) -> Tensor:
        if self.around == "real":
            return self.perturb(real)
        if self.around == "fake":
            return self.perturb(fake)
        return torch.cat([self.perturb(real), self.perturb(fake)])


class Real(Perturbed):
    """The real points themselves."""

    def __init__(self) -> None:
        super().__init__(around="real", scale=0.0)


class Fake(Perturbed):
    """The generated points themselves."""

    def __init__(self) -> None:
        super().__init__(around="fake", scale=0.0)
