"""Lipschitz regularizers for the critic (paper-notes §2).

A gradient penalty is a function of the per-sample input-gradient norms ‖∇D(x̂)‖₂ at the
points x̂ a :mod:`~lightning_wgan.samplers` sampler draws; :func:`gradient_norms`
computes them, shape-agnostically, and follows PyTorch's AMP recipe when a loss scale
is given. Weight clipping instead acts on the parameters after each critic step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def gradient_norms(critic: nn.Module, points: Tensor, scale: float | Tensor = 1.0, create_graph: bool = True) -> Tensor:
    """‖∇ₓD(x)‖₂ for each sample in ``points``, over all non-batch dimensions.

    With ``create_graph`` the graph is kept so that a penalty on the norms can be
    backpropagated into the critic's parameters (a double backward); monitoring, which
    only reads the norms, turns it off.

    ``scale`` is the GradScaler's current scale under 16-bit mixed precision: the inner
    ``autograd.grad`` runs on the scaled output so that small gradients do not underflow
    in fp16, and the gradient is unscaled before the norm (PyTorch's documented recipe
    for gradient penalties under AMP). Without the unscale the norms would be ``scale``
    times too large; without the scaling they can flush to zero.
    """
    points = points.detach().requires_grad_(True)
    out = critic(points)
    (grad,) = torch.autograd.grad(out.sum() * scale, points, create_graph=create_graph)
    grad = grad.float() / scale
    # The epsilon keeps the norm's derivative finite where the gradient vanishes.
    return (grad.flatten(1).square().sum(1) + 1e-12).sqrt()


class Penalty:
    """Base class of critic regularizers.

    ``weight`` is λ, the factor of the regularizer in the critic loss. Gradient
    penalties implement :meth:`form`, a per-sample function of the gradient norm; the
    loss term is ``weight * mean(form(norms))``. Regularizers that act on the parameters
    (weight clipping) set ``uses_gradients = False`` and override
    :meth:`after_critic_step`.
    """

    #: Whether the penalty needs input-gradient norms at sampled points.
    uses_gradients: bool = True
    #: Short name used in run names, logs and summaries.
    name: str = "penalty"

    def __init__(self, weight: float = 10.0) -> None:
        if weight < 0:
            raise ValueError(f"penalty weight must be >= 0, got {weight}")
        self.weight = float(weight)

    def form(self, norms: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, norms: Tensor) -> Tensor:
        return self.weight * self.form(norms).mean()

    def after_critic_step(self, critic: nn.Module) -> None:
        """Called after every critic optimizer step."""

    @property
    def strength(self) -> float:
        """The number a schedule sets: λ here, the clip value for weight clipping."""
        return self.weight

    @strength.setter
    def strength(self, value: float) -> None:
        self.weight = float(value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight:g})"


class GradientPenalty(Penalty):
    """Two-sided gradient penalty of WGAN-GP (Gulrajani et al. 2017): λ·E(‖∇D‖ - 1)²."""

    name = "gp"

    def form(self, norms: Tensor) -> Tensor:
        return (norms - 1).square()


class LipschitzPenalty(Penalty):
    """One-sided Lipschitz penalty of WGAN-LP (Petzka et al. 2018): λ·E max(0, ‖∇D‖ - 1)².

    It penalizes only violations of the Lipschitz constraint ‖∇D‖ ≤ 1, since the
    optimal critic has gradient norm below 1 off the transport lines.
    """

    name = "lp"

    def form(self, norms: Tensor) -> Tensor:
        return torch.relu(norms - 1).square()


class WeightClipping(Penalty):
    """Weight clipping of the original WGAN (Arjovsky et al. 2017).

    After every critic step each critic parameter is clamped to [-clip_value, clip_value].
    It adds nothing to the loss, so ``weight`` is 0.
    """

    uses_gradients = False
    name = "clip"

    def __init__(self, clip_value: float = 0.01) -> None:
        super().__init__(weight=0.0)
        if clip_value <= 0:
            raise ValueError(f"clip_value must be > 0, got {clip_value}")
        self.clip_value = float(clip_value)

    def __call__(self, norms: Tensor) -> Tensor:
        raise RuntimeError("WeightClipping adds no loss term; it acts in after_critic_step")

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-self.clip_value, self.clip_value)

    @property
    def strength(self) -> float:
        return self.clip_value

    @strength.setter
    def strength(self, value: float) -> None:
        self.clip_value = float(value)

    def __repr__(self) -> str:
        return f"WeightClipping(clip_value={self.clip_value:g})"


def penalty_name(penalty: Penalty | None) -> str:
    return "none" if penalty is None else penalty.name
