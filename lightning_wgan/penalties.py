"""Lipschitz regularizers for the critic (paper-notes §2).

A gradient penalty is a function of the per-sample input-gradient norms ‖∇D(x̂)‖₂ at the
points x̂ a :mod:`~lightning_wgan.samplers` sampler draws (or at points the penalty
itself defines, as R1 and R2 do); :func:`gradient_norms` computes them,
shape-agnostically, and follows PyTorch's AMP recipe when a loss scale is given. The
adversarial Lipschitz penalty uses finite-difference slopes instead (no double
backward); the consistency term adds to another penalty; weight clipping acts on the
parameters after each critic step. Critics that are Lipschitz by construction (spectral
normalization, deel-torchlip) are networks (:mod:`~lightning_wgan.networks`) and need
no penalty.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lightning_wgan.errors import ContractError
from lightning_wgan.samplers import Sampler


def input_gradients(critic: nn.Module, points: Tensor, scale: float | Tensor = 1.0, create_graph: bool = True) -> Tensor:
    """∇ₓD(x) for each sample in ``points`` (in float32).

    With ``create_graph`` the graph is kept so that a penalty on them can be
    backpropagated into the critic's parameters (a double backward); monitoring and
    evaluation, which only read them, turn it off.

    ``scale`` is the GradScaler's current scale under 16-bit mixed precision: the inner
    ``autograd.grad`` runs on the scaled output so that small gradients do not underflow
    in fp16, and the gradient is unscaled before the norm (PyTorch's documented recipe
    for gradient penalties under AMP). Without the unscale the norms would be ``scale``
    times too large; without the scaling they can flush to zero.
    """
    points = points.detach().requires_grad_(True)
    out = critic(points)
    (grad,) = torch.autograd.grad(out.sum() * scale, points, create_graph=create_graph)
    return grad.float() / scale


def gradient_norms(critic: nn.Module, points: Tensor, scale: float | Tensor = 1.0, create_graph: bool = True) -> Tensor:
    """‖∇ₓD(x)‖₂ for each sample in ``points``, over all non-batch dimensions
    (:func:`input_gradients`, whose arguments these are)."""
    grad = input_gradients(critic, points, scale, create_graph)
    # The epsilon keeps the norm's derivative finite where the gradient vanishes.
    return (grad.flatten(1).square().sum(1) + 1e-12).sqrt()


class Penalty:
    """Base class of critic regularizers.

    ``weight`` is λ, the factor of the regularizer in the critic loss. Gradient
    penalties implement :meth:`form`, a per-sample function of the gradient norm; the
    loss term is ``weight * mean(form(norms))`` at the points :meth:`points` returns
    (the sampler's, unless the penalty defines its own). :meth:`term` computes it from
    a batch; a penalty that measures the critic's slope another way overrides
    :meth:`slopes`. Regularizers that act on the parameters (weight clipping) set
    ``adds_loss = False`` and override :meth:`after_critic_step`.
    """

    #: Whether the penalty adds a term to the critic loss.
    adds_loss: bool = True
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

    def points(self, real: Tensor, fake: Tensor, sampler: Sampler) -> Tensor:
        """Where the penalty is taken: the sampler's points."""
        return sampler(real, fake)

    def slopes(self, critic: nn.Module, points: Tensor, scale: float | Tensor) -> Tensor:
        """The per-sample quantity :meth:`form` acts on: here ‖∇D‖ at ``points``."""
        return gradient_norms(critic, points, scale)

    def term(self, critic: nn.Module, real: Tensor, fake: Tensor, sampler: Sampler, scale: float | Tensor = 1.0) -> tuple[Tensor, Tensor]:
        """(the loss term, the per-sample slopes it was computed from) for one batch."""
        norms = self.slopes(critic, self.points(real, fake, sampler), scale)
        return self(norms), norms

    def check_critic(self, critic: nn.Module) -> None:
        """Refuse a critic this penalty cannot work with (a ValueError of one line)."""
        batchnorm = [n for n, m in critic.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if self.adds_loss and batchnorm:
            raise ValueError(
                f"the critic has BatchNorm ({', '.join('critic.' + n for n in batchnorm)}), but {type(self).__name__} "
                "penalizes per-sample slopes, which BatchNorm mixes across the batch; use LayerNorm or no normalization"
            )

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
    """Two-sided gradient penalty of WGAN-GP (Gulrajani et al. 2017): λ·E(‖∇D‖ - 1)².

    With ``Perturbed(around="real")`` points this is DRAGAN (Kodali et al. 2017;
    ``conf/regularizers/dragan.yaml``).
    """

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


class ZeroCentredPenalty(Penalty):
    """Zero-centred gradient penalty (0-GP, Thanh-Tung et al. 2019): λ·E‖∇D(x̂)‖² at
    the sampler's points (interpolates by default). It pulls the slope towards 0, not 1,
    so the critic is no 1-Lipschitz witness: its estimate of W1 is not the target."""

    name = "0gp"

    def form(self, norms: Tensor) -> Tensor:
        return norms.square()


class R1Penalty(ZeroCentredPenalty):
    """R1 (Mescheder et al. 2018): γ/2·E‖∇D(x)‖² at real points x; γ is ``weight``."""

    name = "r1"

    def form(self, norms: Tensor) -> Tensor:
        return norms.square() / 2

    def points(self, real: Tensor, fake: Tensor, sampler: Sampler) -> Tensor:
        return real


class R2Penalty(R1Penalty):
    """R2 (Mescheder et al. 2018): γ/2·E‖∇D(x)‖² at generated points x."""

    name = "r2"

    def points(self, real: Tensor, fake: Tensor, sampler: Sampler) -> Tensor:
        return fake


class DivergencePenalty(Penalty):
    """WGAN-div (Wu et al. 2018): k·E‖∇D(x)‖^p over real and generated points together,
    i.e. k/2·(E_real‖∇D‖^p + E_fake‖∇D‖^p) as in the authors' code; k is ``weight``."""

    name = "div"

    def __init__(self, weight: float = 2.0, power: float = 6.0) -> None:
        super().__init__(weight)
        if power <= 0:
            raise ValueError(f"power must be > 0, got {power}")
        self.power = float(power)

    def form(self, norms: Tensor) -> Tensor:
        return norms.pow(self.power)

    def points(self, real: Tensor, fake: Tensor, sampler: Sampler) -> Tensor:
        return torch.cat([real, fake])

    def __repr__(self) -> str:
        return f"DivergencePenalty(weight={self.weight:g}, power={self.power:g})"


class AdversarialLipschitzPenalty(LipschitzPenalty):
    """Adversarial Lipschitz penalty (ALP, Terjék 2020): λ·E max(0, |D(x) - D(x + r)| / ‖r‖ - 1)².

    The direction of r maximizes the critic's change at x: it is found by
    ``power_iterations`` steps of power iteration (as in virtual adversarial training:
    d ← normalize(∇_d |D(x + ξ·d) - D(x)|), from a random d), and its length ε is drawn
    per sample uniformly from [``epsilon_min``, ``epsilon_max``]. r is then held fixed, so
    the penalty's gradient needs one ordinary backward, no double backward. The points x
    are the sampler's (the authors used real and generated points:
    ``Perturbed(around="both", scale=0)``). Under AMP the finite difference is taken in
    fp32: in fp16 the two scores cancel to a few digits.
    """

    name = "alp"

    def __init__(
        self, weight: float = 10.0, epsilon_min: float = 0.1, epsilon_max: float = 10.0, xi: float = 10.0, power_iterations: int = 1,
    ) -> None:
        super().__init__(weight)
        if not 0 < epsilon_min <= epsilon_max:
            raise ValueError(f"need 0 < epsilon_min <= epsilon_max, got {epsilon_min} and {epsilon_max}")
        if xi <= 0 or power_iterations < 1:
            raise ValueError(f"need xi > 0 and power_iterations >= 1, got {xi} and {power_iterations}")
        self.epsilon_min, self.epsilon_max = float(epsilon_min), float(epsilon_max)
        self.xi = float(xi)
        self.power_iterations = power_iterations

    @staticmethod
    def _unit(d: Tensor) -> Tensor:
        return d / (d.flatten(1).norm(dim=1) + 1e-12).view(-1, *([1] * (d.dim() - 1)))

    def slopes(self, critic: nn.Module, points: Tensor, scale: float | Tensor) -> Tensor:
        x = points.detach().float()
        with torch.autocast(x.device.type, enabled=False):
            score = critic(x)
            d = self._unit(torch.randn_like(x))
            for _ in range(self.power_iterations):
                d.requires_grad_(True)
                change = (critic(x + self.xi * d) - score.detach()).abs().sum()
                (grad,) = torch.autograd.grad(change, d)
                d = self._unit(grad.detach())
            shape = (len(x),) + (1,) * (x.dim() - 1)
            eps = torch.empty(shape, device=x.device).uniform_(self.epsilon_min, self.epsilon_max)
            return (score - critic(x + eps * d)).abs() / eps.flatten()

    def __repr__(self) -> str:
        return f"AdversarialLipschitzPenalty(weight={self.weight:g}, epsilon=[{self.epsilon_min:g}, {self.epsilon_max:g}])"


class ConsistencyTerm(Penalty):
    """CT-GAN's consistency term (Wei et al. 2018) on top of another penalty.

    Two passes of the real batch through the critic, each with its own dropout masks,
    give D(x'), D(x'') and the second-to-last layer's features D_(x'), D_(x''); the term
    is ``ct_weight · E max(0, |D(x') - D(x'')| + feature_weight·‖D_(x') - D_(x'')‖ - margin)``,
    added to the wrapped penalty (GP or LP). The critic needs dropout and, for the
    feature part, a ``head`` submodule that its forward calls once on the features: the
    features are read as the head's input in the same pass as the score (``MLPCritic``
    has both). ``weight`` (λ) and ``strength`` are the wrapped penalty's, so schedules and
    sweeps act on it.
    """

    name = "ct"

    def __init__(self, penalty: Penalty, ct_weight: float = 2.0, margin: float = 0.2, feature_weight: float = 0.1) -> None:
        if ct_weight < 0 or margin < 0 or feature_weight < 0:
            raise ValueError(f"ct_weight, margin and feature_weight must be >= 0, got {ct_weight}, {margin}, {feature_weight}")
        if not penalty.adds_loss:
            raise ValueError(f"the consistency term adds to a penalty with a loss term (GP, LP), got {type(penalty).__name__}")
        self.penalty = penalty
        self.ct_weight, self.margin, self.feature_weight = float(ct_weight), float(margin), float(feature_weight)
        self.name = f"{penalty.name}+ct"

    @property
    def weight(self) -> float:  # type: ignore[override]
        return self.penalty.weight

    @weight.setter
    def weight(self, value: float) -> None:
        self.penalty.weight = float(value)

    def scores_and_features(self, critic: nn.Module, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """One pass: the scores (through the critic's forward, so of shape (n,): see
        :func:`lightning_wgan.contracts.conform_critic`) and the features its head took."""
        if self.feature_weight == 0:
            return critic(x), None
        taken: list[Tensor] = []
        handle = critic.head.register_forward_pre_hook(lambda module, args: taken.append(args[0]))
        try:
            scores = critic(x)
        finally:
            handle.remove()
        if len(taken) != 1:
            raise ContractError(
                f"the consistency term reads the features as critic.head's input, but {type(critic).__name__}'s forward called "
                f"its head {len(taken)} times; it must call it once, on the features"
            )
        return scores, taken[0]

    def consistency(self, critic: nn.Module, real: Tensor) -> Tensor:
        """The consistency term on one real batch (dropout must be active)."""
        (s1, f1), (s2, f2) = (self.scores_and_features(critic, real) for _ in range(2))
        distance = (s1 - s2).abs()
        if self.feature_weight > 0:
            distance = distance + self.feature_weight * (f1 - f2).flatten(1).norm(dim=1)
        return self.ct_weight * torch.relu(distance - self.margin).mean()

    def term(self, critic: nn.Module, real: Tensor, fake: Tensor, sampler: Sampler, scale: float | Tensor = 1.0) -> tuple[Tensor, Tensor]:
        value, norms = self.penalty.term(critic, real, fake, sampler, scale)
        return value + self.consistency(critic, real), norms

    def check_critic(self, critic: nn.Module) -> None:
        self.penalty.check_critic(critic)
        if not any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in critic.modules()):
            raise ValueError("the consistency term needs a critic with dropout (e.g. --model.critic.dropout 0.1); this one has none")
        if self.feature_weight > 0 and not isinstance(getattr(critic, "head", None), nn.Module):
            raise ContractError(
                f"the consistency term's feature part needs critic.head, the submodule that maps the features to the score, "
                f"which {type(critic).__name__} lacks; set --model.penalty.feature_weight 0"
            )

    def __repr__(self) -> str:
        return f"ConsistencyTerm({self.penalty!r}, ct_weight={self.ct_weight:g}, margin={self.margin:g})"


class WeightClipping(Penalty):
    """Weight clipping of the original WGAN (Arjovsky et al. 2017).

    After every critic step each critic parameter is clamped to [-clip_value, clip_value].
    It adds nothing to the loss, so ``weight`` is 0.
    """

    adds_loss = False
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
