"""Generator and critic networks. Any ``nn.Module`` works; a generator must expose
``latent_dim`` (the noise it takes is ``N(0, I)`` of shape ``(batch, latent_dim)``)."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh, "silu": nn.SiLU}
NORMS = {"none": None, "layer": nn.LayerNorm, "batch": nn.BatchNorm1d}


def mlp(
    in_dim: int,
    out_dim: int,
    width: int,
    depth: int,
    activation: str = "relu",
    norm: str = "none",
) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units, each Linear → [norm] → activation."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
    if width < 1 or depth < 0:
        raise ValueError(f"width must be >= 1 and depth >= 0, got width={width}, depth={depth}")
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(in_dim if i == 0 else width, width))
        if NORMS[norm] is not None:
            layers.append(NORMS[norm](width))
        layers.append(ACTIVATIONS[activation]())
    layers.append(nn.Linear(width if depth else in_dim, out_dim))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z ~ N(0, I_latent_dim) → data point; the toy reference is 2 → 512×3 → 2."""

    def __init__(
        self,
        latent_dim: int = 2,
        data_dim: int = 2,
        width: int = 512,
        depth: int = 3,
        activation: str = "relu",
        norm: Literal["none", "layer", "batch"] = "none",
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp(latent_dim, data_dim, width, depth, activation, norm)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MLPCritic(nn.Module):
    """data point → score; the toy reference is 2 → 512×3 → 1.

    No BatchNorm option: a gradient penalty is per sample, and BatchNorm makes each
    sample's score depend on the rest of the batch.
    """

    def __init__(
        self,
        data_dim: int = 2,
        width: int = 512,
        depth: int = 3,
        activation: str = "relu",
        norm: Literal["none", "layer"] = "none",
    ) -> None:
        super().__init__()
        self.net = mlp(data_dim, 1, width, depth, activation, norm)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1)).squeeze(1)
