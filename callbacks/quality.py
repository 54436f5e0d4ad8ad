"""FID and KID of generated images against the held-out real set, at evaluations."""

from __future__ import annotations

from typing import Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from lightning_wgan.contracts import check_features
from lightning_wgan.errors import ConfigError
from lightning_wgan.features import ClassifierFeatures, InceptionFeatures


class ImageQuality(pl.Callback):
    """Logs ``val/fid`` and ``val/kid`` (with ``val/kid_std``) after every
    ``every_n_evals``-th evaluation (every ``--eval_every`` generator steps), and
    ``val/fid_floor``, the FID of ``n`` training images against the held-out set.

    Real features are those of the data module's held-out set, computed once;
    fake features those of ``n`` images generated from fixed noise, computed once per
    evaluation and given to both metrics. Under DDP each process takes its share of
    both, and torchmetrics gathers the statistics.

    Args:
        feature: ``"classifier"`` (a small classifier trained on the data set's labelled
            training images and cached: a domain-specific FID, not comparable with
            published ones), ``"inception"`` (InceptionV3; needs torch-fidelity and its
            weights), or any module that maps images in [-1, 1] to feature vectors.
        n: generated images per evaluation.
        kid_subset_size: KID's subset size (capped at the number of real images).
        kid_subsets: how many subsets KID averages over.
    """

    def __init__(
        self,
        feature: Literal["classifier", "inception"] | nn.Module = "classifier",
        n: int = 1000,
        every_n_evals: int = 1,
        kid_subset_size: int = 100,
        kid_subsets: int = 50,
        seed: int = 0,
    ) -> None:
        if n < 2:
            raise ValueError(f"ImageQuality n must be >= 2, got {n}")
        if isinstance(feature, str) and feature not in ("classifier", "inception"):
            raise ValueError(f"ImageQuality feature must be 'classifier', 'inception' or a module, got {feature!r}")
        if feature == "inception":
            feature = InceptionFeatures()  # fails here, before training, when unavailable
        self.feature = feature
        self.n, self.every_n_evals, self.seed = n, every_n_evals, seed
        self.kid_subset_size, self.kid_subsets = kid_subset_size, kid_subsets
        self.fid: FrechetInceptionDistance | None = None
        self.kid: KernelInceptionDistance | None = None
        self._evals = 0

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.fid is not None:
            return
        dm = trainer.datamodule
        dm.setup(stage)
        if getattr(dm, "val_real", None) is None or dm.val_real.dim() != 4:
            raise ConfigError(f"ImageQuality needs an image data module, got {type(dm).__name__}")
        if self.feature == "classifier":
            if dm.train_labels is None:
                raise ConfigError(f"feature 'classifier' needs class labels, and {dm.dataset} has none; use feature 'inception'")
            classifier = ClassifierFeatures(channels=dm.val_real.shape[1], num_classes=int(dm.train_labels.max()) + 1)
            self.feature = classifier.fit_or_load(dm.train_images, dm.train_labels, dm.val_real, dm.val_labels)
            rank_zero_info(f"FID/KID features: a classifier with held-out accuracy {classifier.accuracy:.3f} (a domain-specific FID)")
        self.feature = self.feature.to(pl_module.device)
        check_features(self.feature, dm.val_real[:2].to(pl_module.device))
        # The held-out set's features, once: for the floor here, and (each process its
        # share) as FID's and KID's real statistics at the first evaluation.
        self._val_features = self.features_of(dm.val_real, pl_module.device)
        precomputed = Precomputed(self._val_features.shape[1])
        self.fid = FrechetInceptionDistance(precomputed, reset_real_features=False).to(pl_module.device)
        subset = min(self.kid_subset_size, len(dm.val_real) // trainer.world_size, self.n // trainer.world_size)
        self.kid = KernelInceptionDistance(precomputed, subsets=self.kid_subsets, subset_size=subset, reset_real_features=False)
        self.kid = self.kid.to(pl_module.device)
        self._real_done = False
        self.fid_floor = self.floor(dm, pl_module.device)

    @torch.no_grad()
    def features_of(self, images: torch.Tensor, device: torch.device) -> torch.Tensor:
        """The feature network's output for ``images``, in chunks."""
        return torch.cat([self.feature(chunk.to(device).float()) for chunk in images.split(500)])

    def floor(self, dm: object, device: torch.device) -> float:
        """FID of as many training images as generated ones against the held-out set:
        the best a generator can expect at this sample size (each process alone)."""
        fid = FrechetInceptionDistance(Precomputed(self._val_features.shape[1]), sync_on_compute=False).to(device)
        fid.update(self._val_features, real=True)
        fid.update(self.features_of(dm.train_images[: self.n], device), real=False)
        return float(fid.compute())

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or pl_module.generator is None:
            return
        self._evals += 1
        if self._evals % self.every_n_evals:
            return
        rank, world = trainer.global_rank, trainer.world_size
        if not self._real_done:
            self.update(self._val_features[rank::world], real=True)
            self._real_done = True
        count = self.n // world + (rank < self.n % world)
        fake = pl_module.generate(count, seed=self.seed + 7919 * rank)
        self.update(self.features_of(fake, pl_module.device), real=False)
        fid = self.fid.compute()
        kid_mean, kid_std = self.kid.compute()
        self.fid.reset()  # keeps the real features (reset_real_features=False)
        self.kid.reset()
        # Computed from gathered states: equal on every process.
        metrics = {"val/fid": fid.float(), "val/kid": kid_mean.float(), "val/kid_std": kid_std.float(), "val/fid_floor": self.fid_floor}
        pl_module.log_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in metrics.items()}, sync_dist=True)

    def update(self, features: torch.Tensor, real: bool) -> None:
        self.fid.update(features, real=real)
        self.kid.update(features, real=real)


class Precomputed(nn.Identity):
    """Stands in for the feature network inside torchmetrics' FID and KID, which are
    given features computed once: each metric would otherwise run the network on the
    same images again."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features
