"""What each extension point must provide, written once and checked once, at start-up.

Every part of a run is a class that a config names; this module is where their
contracts are stated and enforced (the README's "Extending" points here).

- **critic**: an ``nn.Module`` that maps a batch of samples, shape ``(n, *shape)``, to
  one score per sample: ``(n,)``, or ``(n, 1)``, which :func:`conform_critic` makes
  ``(n,)`` in one place, for every caller. It does not mix samples (no BatchNorm) when
  a penalty is taken per sample (:meth:`~lightning_wgan.penalties.Penalty.check_critic`).
  For the consistency term's feature part it has a ``head`` submodule, which its
  forward calls once, on the features (as ``MLPCritic.head``).
- **generator**: an ``nn.Module`` with an integer ``latent_dim`` ≥ 1, which maps noise
  ``N(0, I)`` of shape ``(n, latent_dim)`` to samples of the data's shape ``(n, *shape)``.
- **penalty**: a :class:`~lightning_wgan.penalties.Penalty`, or None. Its ``form`` maps
  the per-sample slopes, shape ``(n,)``, to per-sample values of the same shape, unless
  it overrides ``term`` or adds no loss (``adds_loss = False``); its ``name`` is a str.
- **sampler**: a :class:`~lightning_wgan.samplers.Sampler`; ``sampler(real, fake)``
  returns points of the samples' shape, ``(m, *shape)`` for any m.
- **data module**: a ``LightningDataModule``. Its training loader yields batches of real
  samples (in a critic-only run, pairs ``(real, fake)``), its validation loader the
  held-out set. Optional: ``shape`` (of one sample, a tuple of ints; the generator,
  sampler and critic are checked against it), ``noise_floor`` and ``noise_floor_sd``
  (logged), ``paired`` (bool). A critic-only run needs ``w1_exact``: (value, standard
  error).
- **optimizers**: ``generator_optimizer`` and ``critic_optimizer`` are factories that
  build a ``torch.optim.Optimizer`` from a network's parameters; each is built once at
  start-up (:func:`check_optimizers`), so that a bad setting (a negative learning rate,
  a beta outside [0, 1)) stops the run before its directory exists.
- **feature network** (FID, KID): an ``nn.Module`` that maps images in [-1, 1], shape
  ``(n, C, H, W)``, to features of shape ``(n, k)`` (:func:`check_features`).

A violation is a :class:`ContractError`, one line that names the object and what it
lacks; the CLI prints it and stops before training.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from lightning_wgan.errors import ContractError
from lightning_wgan.penalties import Penalty
from lightning_wgan.samplers import Sampler

__all__ = ["ContractError", "check", "check_features", "check_optimizers", "conform_critic", "one_score_per_sample"]


def one_score_per_sample(critic: nn.Module, args: tuple[Any, ...], scores: Any) -> Tensor | None:
    """The forward hook :func:`conform_critic` puts on a critic: scores of shape (n, 1)
    become (n,); any other shape but (n,) is a :class:`ContractError`. Without it a
    (n, 1) score broadcasts silently against per-sample (n,) terms into an n × n matrix
    (the adversarial Lipschitz penalty, the consistency term)."""
    n = args[0].shape[0] if args and isinstance(args[0], Tensor) else None
    if isinstance(scores, Tensor) and n is not None:
        if scores.shape == (n,):
            return None
        if scores.shape == (n, 1):
            return scores.flatten()
    got = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
    raise ContractError(
        f"the critic {type(critic).__name__} returned scores of shape {got} for a batch of {n} samples; "
        "a critic returns one score per sample, of shape (n,) or (n, 1)"
    )


def conform_critic(critic: Any) -> nn.Module:
    """The critic, with its scores made (n,) wherever it is called (once per critic)."""
    if not isinstance(critic, nn.Module):
        raise ContractError(f"the critic must be an nn.Module, got {type(critic).__name__}")
    if one_score_per_sample not in critic._forward_hooks.values():
        critic.register_forward_hook(one_score_per_sample)
    return critic


def check_generator(generator: Any) -> None:
    if not isinstance(generator, nn.Module):
        raise ContractError(f"the generator must be an nn.Module, got {type(generator).__name__}")
    latent_dim = getattr(generator, "latent_dim", None)
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ContractError(
            f"the generator {type(generator).__name__} needs an integer latent_dim >= 1 (the size of its noise), got {latent_dim!r}"
        )


def check_penalty(penalty: Any) -> None:
    if penalty is None:
        return
    if not isinstance(penalty, Penalty):
        raise ContractError(f"the penalty must be a lightning_wgan.penalties.Penalty or null, got {type(penalty).__name__}")
    if not isinstance(penalty.name, str) or not penalty.name:
        raise ContractError(f"the penalty {type(penalty).__name__} needs a name (a non-empty str), got {penalty.name!r}")
    if not penalty.adds_loss or type(penalty).term is not Penalty.term:
        return  # acts on the parameters, or computes its term its own way
    norms = torch.linspace(0.5, 1.5, 4)
    try:
        values = penalty.form(norms)
    except NotImplementedError:
        raise ContractError(f"the penalty {type(penalty).__name__} implements neither form(norms) nor term(...)") from None
    if not isinstance(values, Tensor) or values.shape != norms.shape:
        got = tuple(values.shape) if isinstance(values, Tensor) else type(values).__name__
        raise ContractError(
            f"{type(penalty).__name__}.form returned shape {got} for 4 slopes; form maps each sample's slope to its own value, "
            "shape (n,) (the penalty averages them)"
        )


def check_sampler(sampler: Any) -> None:
    if not isinstance(sampler, Sampler):
        raise ContractError(f"the sampler must be a lightning_wgan.samplers.Sampler, got {type(sampler).__name__}")


def check_data(datamodule: Any, critic_only: bool) -> None:
    """Its type and the attributes a run reads, looked up without being computed (a data
    module's ``noise_floor`` may be a property that measures)."""
    if not isinstance(datamodule, pl.LightningDataModule):
        raise ContractError(f"the data must be a LightningDataModule, got {type(datamodule).__name__}")
    if critic_only and not (hasattr(type(datamodule), "w1_exact") or "w1_exact" in vars(datamodule)):
        raise ContractError(
            f"the data module {type(datamodule).__name__} has no w1_exact ((value, standard error) of the exact W1), "
            "which a critic-only run compares its critic's estimate with"
        )
    shape = getattr(datamodule, "shape", None)
    if shape is not None and not (isinstance(shape, tuple) and shape and all(isinstance(s, int) and s > 0 for s in shape)):
        raise ContractError(f"the data module {type(datamodule).__name__}'s shape must be a tuple of positive ints, got {shape!r}")


def check_shapes(generator: nn.Module | None, critic: nn.Module, sampler: Sampler, shape: tuple[int, ...]) -> None:
    """The generator makes samples of the data's ``shape``, the sampler keeps that shape,
    and the critic scores them, one score each. Networks run in eval mode, with no
    gradient and no draw from the run's random state (nor a BatchNorm or spectral-norm
    update)."""
    modes = [(net, net.training) for net in (generator, critic) if net is not None]
    try:
        with torch.random.fork_rng(), torch.no_grad():
            for net, _ in modes:
                net.eval()
            if generator is not None:
                out = generator(torch.randn(2, generator.latent_dim))
                if not isinstance(out, Tensor) or tuple(out.shape) != (2, *shape):
                    got = tuple(out.shape[1:]) if isinstance(out, Tensor) else type(out).__name__
                    raise ContractError(
                        f"the generator {type(generator).__name__} makes samples of shape {got}, the data has shape {shape}; "
                        "set the networks' data_dim, or channels and size, to match the data"
                    )
            real = torch.zeros(2, *shape)
            points = sampler(real, real)
            if not isinstance(points, Tensor) or tuple(points.shape[1:]) != shape:
                got = tuple(points.shape[1:]) if isinstance(points, Tensor) else type(points).__name__
                raise ContractError(f"the sampler {type(sampler).__name__} returned points of shape {got} for samples of shape {shape}")
            try:
                critic(real)
            except RuntimeError as err:
                raise ContractError(
                    f"the critic {type(critic).__name__} does not take samples of the data's shape {shape} ({' '.join(str(err).split())}); "
                    "set its data_dim, or channels and size, to match the data"
                ) from None
    finally:
        for net, training in modes:
            net.train(training)


def check_optimizers(model: Any, critic_only: bool) -> None:
    """Builds each optimizer once on its network's parameters and drops it: the
    optimizers' own checks (torch's) then run before anything is written."""
    networks = {"critic": model.critic} if critic_only else {"generator": model.generator, "critic": model.critic}
    for name, network in networks.items():
        factory = getattr(model, f"{name}_optimizer")
        try:
            optimizer = factory(network.parameters())
        except (ValueError, TypeError) as err:
            raise ContractError(f"--model.{name}_optimizer: {err}") from None
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ContractError(f"--model.{name}_optimizer must build a torch.optim.Optimizer, got {type(optimizer).__name__}")


def check(model: Any, datamodule: Any) -> None:
    """Every contract of a run: ``model`` (a WGAN or CriticEstimator) and its data."""
    critic_only = getattr(model, "generator", None) is None
    if not critic_only:
        check_generator(model.generator)
    conform_critic(model.critic)
    check_penalty(model.penalty)
    check_sampler(model.sampler)
    if model.penalty is not None:
        model.penalty.check_critic(model.critic)
    check_optimizers(model, critic_only)
    check_data(datamodule, critic_only)
    shape = getattr(datamodule, "shape", None)
    if shape is not None:
        check_shapes(model.generator, model.critic, model.sampler, tuple(shape))


def check_features(network: nn.Module, images: Tensor) -> None:
    """A feature network maps a batch of images to one feature vector each, (n, k)."""
    with torch.no_grad():
        features = network(images[:2])
    if not isinstance(features, Tensor) or features.dim() != 2 or len(features) != len(images[:2]):
        got = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
        raise ContractError(
            f"the feature network {type(network).__name__} returned shape {got} for {len(images[:2])} images; "
            "it maps each image to a feature vector, shape (n, k)"
        )
