"""Generator and critic networks. Any ``nn.Module`` works; a generator must expose
``latent_dim`` (the noise it takes is ``N(0, I)`` of shape ``(batch, latent_dim)``).

MLPs for points; for images (channels × size × size, pixels in [-1, 1]) the DCGAN
networks for 16, 32 and 64 pixels and the residual networks of Gulrajani et al.
(2017). Critics have no BatchNorm: a gradient penalty is per sample, and BatchNorm
makes each sample's score depend on the rest of the batch. Their "layer" norm is
``GroupNorm(1, C)``, a LayerNorm over each sample's channels, height and width.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh, "silu": nn.SiLU}
NORMS = {"none": None, "layer": nn.LayerNorm, "batch": nn.BatchNorm1d}


INITS = ("default", "normal", "glorot", "he")
Init = Literal["default", "normal", "glorot", "he"]


def initialize(module: nn.Module, init: str = "default", std: float = 0.02) -> nn.Module:
    """Initialize every Linear and (transposed) convolution layer of ``module``.

    ``default``: PyTorch's own (Kaiming-uniform with a = √5, biases uniform), untouched;
    ``normal``: weights N(0, ``std``²), biases 0 (the DCGAN paper, and the toy script of
    Gulrajani et al. as ported to PyTorch, with std 0.02); ``glorot``: Glorot/Xavier
    uniform, std √(2 / (fan_in + fan_out)), biases 0; ``he``: He/Kaiming uniform for
    ReLU, std √(2 / fan_in), biases 0.
    """
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if std <= 0:
        raise ValueError(f"init_std must be > 0, got {std}")
    if init == "default":
        return module
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            if init == "normal":
                nn.init.normal_(layer.weight, 0.0, std)
            elif init == "glorot":
                nn.init.xavier_uniform_(layer.weight)
            else:
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Spectral normalization (Miyato et al. 2018) of every Linear and Conv2d layer in
    ``module``, with torch's parametrization: each weight is divided by its largest
    singular value, estimated by one power-iteration step per training forward."""
    for layer in list(module.modules()):
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.utils.parametrizations.spectral_norm(layer)
    return module


def mlp(
    in_dim: int,
    out_dim: int,
    width: int,
    depth: int,
    activation: str = "relu",
    norm: str = "none",
    dropout: float = 0.0,
) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units, each Linear → [norm] → activation → [dropout]."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if width < 1 or depth < 0:
        raise ValueError(f"width must be >= 1 and depth >= 0, got width={width}, depth={depth}")
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(in_dim if i == 0 else width, width))
        if NORMS[norm] is not None:
            layers.append(NORMS[norm](width))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
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
        init: Init = "default",
        init_std: float = 0.02,
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = initialize(mlp(latent_dim, data_dim, width, depth, activation, norm), init, init_std)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MLPCritic(nn.Module):
    """data point → score; the toy reference is 2 → 512×3 → 1.

    No BatchNorm option: a gradient penalty is per sample, and BatchNorm makes each
    sample's score depend on the rest of the batch. ``dropout`` after each hidden layer
    is for CT-GAN's consistency term; ``spectral_norm`` makes every layer 1-Lipschitz
    (with ReLU-like activations the critic is then 1-Lipschitz: no penalty needed).
    """

    def __init__(
        self,
        data_dim: int = 2,
        width: int = 512,
        depth: int = 3,
        activation: str = "relu",
        norm: Literal["none", "layer"] = "none",
        dropout: float = 0.0,
        spectral_norm: bool = False,
        init: Init = "default",
        init_std: float = 0.02,
    ) -> None:
        super().__init__()
        self.net = initialize(mlp(data_dim, 1, width, depth, activation, norm, dropout), init, init_std)
        if spectral_norm:
            spectral_normalize(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1)).squeeze(1)

    @property
    def head(self) -> nn.Module:
        """The last layer, which maps the features (CT-GAN's D_(x), the second-to-last
        layer's output) to the score: the consistency term reads its input."""
        return self.net[-1]


# -- images ----------------------------------------------------------------------------


def _halvings(size: int) -> int:
    """How many factor-2 steps separate ``size`` from 4 × 4."""
    n = int(math.log2(size / 4)) if size >= 8 else 0
    if size < 8 or 4 * 2**n != size:
        raise ValueError(f"image size must be 4 times a power of two (8, 16, 32, 64, ...), got {size}")
    return n


def _image_norm(norm: str, channels: int) -> nn.Module:
    """The normalization layer a conv network's ``norm`` names."""
    layers = {"none": nn.Identity, "layer": lambda c: nn.GroupNorm(1, c), "batch": nn.BatchNorm2d}
    if norm not in layers:
        raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(layers)}")
    return layers[norm](channels)


class DCGANGenerator(nn.Module):
    """z → image: Linear to 4 × 4, then transposed convolutions that double the size.

    ``width`` is the number of channels before the output layer; each earlier layer has
    twice as many (Radford et al., 2016).
    """

    def __init__(
        self,
        latent_dim: int = 128,
        channels: int = 1,
        size: int = 32,
        width: int = 64,
        norm: Literal["batch", "layer", "none"] = "batch",
        init: Init = "default",
        init_std: float = 0.02,
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        n = _halvings(size)
        c = width * 2 ** (n - 1)
        self.stem = nn.Sequential(nn.Linear(latent_dim, c * 16), nn.Unflatten(1, (c, 4, 4)), _image_norm(norm, c), nn.ReLU())
        layers: list[nn.Module] = []
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), _image_norm(norm, c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        initialize(self, init, init_std)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(self.stem(z))


class DCGANCritic(nn.Module):
    """image → score: strided convolutions that halve the size down to 4 × 4, then Linear.
    ``dropout`` after each convolution's activation (the consistency term's two passes
    differ by it, as CT-GAN's convolutional critics do)."""

    def __init__(
        self,
        channels: int = 1,
        size: int = 32,
        width: int = 64,
        norm: Literal["layer", "none"] = "none",
        spectral_norm: bool = False,
        init: Init = "default",
        init_std: float = 0.02,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if spectral_norm and norm != "none":
            raise ValueError(f"spectral_norm needs norm 'none' (a normalization layer is not 1-Lipschitz), got norm {norm!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        drop = [nn.Dropout(dropout)] if dropout > 0 else []
        n = _halvings(size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2), *drop]
        c = width
        for _ in range(n - 1):
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1), _image_norm(norm, 2 * c), nn.LeakyReLU(0.2), *drop]
            c *= 2
        layers += [nn.Flatten(), nn.Linear(c * 16, 1)]
        self.net = initialize(nn.Sequential(*layers), init, init_std)
        if spectral_norm:
            spectral_normalize(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)

    @property
    def head(self) -> nn.Module:
        """The last layer, which maps the flattened features to the score (as ``MLPCritic.head``)."""
        return self.net[-1]


class ResBlock(nn.Module):
    """Pre-activation residual block (Gulrajani et al.), resampling ``up``, ``down`` or not.

    ``preactivate=False`` is the critic's first block, which sees raw pixels.
    """

    def __init__(self, c_in: int, c_out: int, resample: Literal["up", "down", "none"], norm: str, preactivate: bool = True) -> None:
        super().__init__()
        up = [nn.Upsample(scale_factor=2)] if resample == "up" else []
        down = [nn.AvgPool2d(2)] if resample == "down" else []
        pre = [_image_norm(norm, c_in), nn.ReLU()] if preactivate else []
        self.residual = nn.Sequential(
            *pre, *up,
            nn.Conv2d(c_in, c_out, 3, padding=1), _image_norm(norm, c_out), nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1),
            *down,
        )  # fmt: skip
        same = c_in == c_out and resample == "none"
        self.shortcut = nn.Identity() if same else nn.Sequential(*up, *down, nn.Conv2d(c_in, c_out, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.residual(x)


class ResNetGenerator(nn.Module):
    """z → image: Linear to ``width`` × 4 × 4, up-sampling residual blocks, conv, tanh.

    At size 32 with width 128 this is the CIFAR-10 generator of Gulrajani et al. (2017).
    """

    def __init__(
        self, latent_dim: int = 128, channels: int = 3, size: int = 32, width: int = 128, init: Init = "default", init_std: float = 0.02,
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        blocks = [ResBlock(width, width, "up", "batch") for _ in range(_halvings(size))]
        self.net = nn.Sequential(
            nn.Linear(latent_dim, width * 16),
            nn.Unflatten(1, (width, 4, 4)),
            *blocks,
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, channels, 3, padding=1),
            nn.Tanh(),
        )
        initialize(self, init, init_std)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class ResNetCritic(nn.Module):
    """image → score: down-sampling residual blocks to 8 × 8, two more, mean pool, Linear.

    At size 32 with width 128 this is the CIFAR-10 critic of Gulrajani et al. (2017),
    without normalization by default.
    """

    def __init__(
        self,
        channels: int = 3,
        size: int = 32,
        width: int = 128,
        norm: Literal["layer", "none"] = "none",
        init: Init = "default",
        init_std: float = 0.02,
    ) -> None:
        super().__init__()
        downs = _halvings(size) - 1  # down to 8 × 8
        if downs < 1:
            raise ValueError(f"ResNetCritic needs images of at least 16 pixels, got {size}")
        blocks = [ResBlock(channels, width, "down", norm, preactivate=False)]
        blocks += [ResBlock(width, width, "down", norm) for _ in range(downs - 1)]
        blocks += [ResBlock(width, width, "none", norm) for _ in range(2)]
        self.net = nn.Sequential(*blocks, nn.ReLU())
        self.out = nn.Linear(width, 1)
        initialize(self, init, init_std)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(torch.mean(self.net(x), dim=(2, 3))).squeeze(1)


# -- 1-Lipschitz by construction (deel-torchlip) ----------------------------------------


class LipschitzMLPCritic(nn.Module):
    """A 1-Lipschitz MLP critic (Anil et al. 2019): deel-torchlip's ``SpectralLinear``
    layers (spectrally normalized, then orthonormalized by Björck iterations) with
    GroupSort activations, which keep gradient norms: each hidden layer's units sorted
    in groups of ``group_size`` (2, the default, is MaxMin; ``width`` is a full sort).
    Needs no penalty (``--model.penalty null``); its estimate of W1 is a lower bound by
    construction."""

    def __init__(self, data_dim: int = 2, width: int = 512, depth: int = 3, group_size: int = 2) -> None:
        super().__init__()
        from deel import torchlip

        if group_size < 2 or width % group_size or depth < 0:
            raise ValueError(f"width must be a multiple of group_size >= 2 (GroupSort sorts groups of units) and depth >= 0, "
                             f"got width={width}, group_size={group_size}, depth={depth}")
        layers: list[nn.Module] = []
        for i in range(depth):
            sort = torchlip.GroupSort2() if group_size == 2 else torchlip.GroupSort(group_size)
            layers += [torchlip.SpectralLinear(data_dim if i == 0 else width, width), sort]
        layers.append(torchlip.SpectralLinear(width if depth else data_dim, 1))
        self.net = torchlip.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1)).squeeze(1)


class LipschitzDCGANCritic(nn.Module):
    """The DCGAN critic's shape (strided 4 × 4 convolutions down to 4 × 4, then Linear),
    1-Lipschitz by construction: deel-torchlip's ``SpectralConv2d`` (which corrects for
    the stride's overlap) and ``SpectralLinear``, with ``GroupSort2``. No penalty needed."""

    def __init__(self, channels: int = 1, size: int = 32, width: int = 64) -> None:
        super().__init__()
        from deel import torchlip

        if width < 2 or width % 2:
            raise ValueError(f"width must be even and >= 2 (GroupSort2 sorts pairs), got {width}")
        n = _halvings(size)
        layers: list[nn.Module] = [torchlip.SpectralConv2d(channels, width, 4, 2, 1), torchlip.GroupSort2()]
        c = width
        for _ in range(n - 1):
            layers += [torchlip.SpectralConv2d(c, 2 * c, 4, 2, 1), torchlip.GroupSort2()]
            c *= 2
        layers += [nn.Flatten(), torchlip.SpectralLinear(c * 16, 1)]
        self.net = torchlip.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)
