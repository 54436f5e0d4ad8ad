"""Feature networks for FID and KID (torchmetrics takes any module with ``num_features``).

- :class:`InceptionFeatures`: the InceptionV3 of published FIDs, through torchmetrics
  (needs ``torch-fidelity`` and its weights, which it downloads on first use).
- :class:`ClassifierFeatures`: a small convolutional classifier trained on the data
  set's labelled training images and cached; its penultimate layer is the feature
  space. An FID in this space is domain-specific: it tracks progress on one data set
  and is not comparable with published Inception FIDs.

Both take images as the generator makes them: floats in [-1, 1], shape
(batch, channels, height, width).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning_utilities.core.imports import RequirementCache
from torch import Tensor, nn


def cache_dir() -> Path:
    """Where trained feature networks are kept: ``$LIGHTNING_WGAN_CACHE``, else
    ``~/.cache/lightning-wgan``."""
    return Path(os.environ.get("LIGHTNING_WGAN_CACHE", Path.home() / ".cache" / "lightning-wgan"))


class InceptionFeatures(nn.Module):
    """torchmetrics' InceptionV3 (the 2048-d pool features of published FIDs)."""

    num_features = 2048

    def __init__(self) -> None:
        super().__init__()
        if not RequirementCache("torch-fidelity"):
            raise ValueError(
                "feature 'inception' needs torch-fidelity (pip install torch-fidelity; its weights download on first use); "
                "without it use feature 'classifier', a domain-specific FID"
            )
        from torchmetrics.image.fid import NoTrainInceptionV3

        try:
            self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"])
        except OSError as err:  # the weights could not be downloaded
            raise ValueError(
                f"feature 'inception': could not load the InceptionV3 weights ({err}); use feature 'classifier' offline"
            ) from None

    def forward(self, x: Tensor) -> Tensor:
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return self.net(x.expand(-1, 3, -1, -1))  # grey images as RGB


class ClassifierFeatures(nn.Module):
    """A small CNN classifier's penultimate layer (``num_features`` units).

    Call :meth:`fit_or_load` before use: it trains the classifier on labelled images
    (seeded, so the same data gives the same network) or loads it from the cache,
    keyed by a hash of the data and the settings. ``accuracy`` is its accuracy on the
    held-out images it was given, a check that the features mean something.
    """

    FORMAT = 3  # of the cached file; part of its key

    def __init__(self, channels: int = 1, num_classes: int = 10, num_features: int = 64, width: int = 32) -> None:
        super().__init__()
        self.num_features = num_features
        self.settings = (channels, num_classes, num_features, width)
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(8 * width, num_features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(num_features, num_classes)
        # Features are standardized with the training images' statistics, so that FID
        # and KID come out on a scale that does not depend on the network's training.
        self.register_buffer("shift", torch.zeros(num_features))
        self.register_buffer("scale", torch.ones(num_features))
        self.accuracy: float | None = None
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: Tensor) -> Tensor:
        return (self.body(x.float()) - self.shift) / self.scale

    def train(self, mode: bool = True) -> ClassifierFeatures:
        return super().train(False)  # a fixed feature map: never in training mode

    def fit_or_load(
        self, images: Tensor, labels: Tensor, val_images: Tensor, val_labels: Tensor, epochs: int = 30, seed: int = 0
    ) -> ClassifierFeatures:
        key = hashlib.sha256()
        for t in (images, labels):
            key.update(t.contiguous().cpu().numpy().tobytes())
        key.update(repr((self.FORMAT, self.settings, epochs, seed)).encode())
        path = cache_dir() / "features" / f"classifier-{key.hexdigest()[:16]}.pt"
        if path.is_file():
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.load_state_dict(state["weights"])
            self.accuracy = state["accuracy"]
            return self
        self._fit(images, labels, epochs, seed)
        with torch.no_grad():
            features = torch.cat([self.body(chunk) for chunk in images.split(1000)])
            self.shift.copy_(features.mean(0))
            std = features.std(0)
            # Units (nearly) constant on real images, often dead ReLUs, are scaled like a
            # typical unit: dividing by their tiny spread would let any activation on a
            # generated image swamp the distance.
            self.scale.copy_(std.clamp(min=0.1 * float(std.mean())))
            logits = torch.cat([self.head(self.body(chunk)) for chunk in val_images.split(1000)])
        self.accuracy = float((logits.argmax(1) == val_labels).float().mean())
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"weights": self.state_dict(), "accuracy": self.accuracy}, tmp)
        os.replace(tmp, path)
        return self

    def _fit(self, images: Tensor, labels: Tensor, epochs: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng():  # leave the run's random state alone
            torch.manual_seed(seed)
            for m in (self.body, self.head):
                for layer in m.modules():
                    if hasattr(layer, "reset_parameters"):
                        layer.reset_parameters()
            self.requires_grad_(True)
            opt = torch.optim.Adam(self.parameters(), lr=2e-3)
            with torch.enable_grad():
                for _ in range(epochs):
                    for idx in torch.randperm(len(images), generator=gen).split(64):
                        x = images[idx]
                        x = x + 0.05 * torch.randn(x.shape, generator=gen)  # a little noise: smoother features
                        loss = F.cross_entropy(self.head(self.body(x)), labels[idx])
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
            self.requires_grad_(False)
