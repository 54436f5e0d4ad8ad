"""Image data sets: scikit-learn's digits, torchvision's MNIST, Fashion-MNIST and
CIFAR-10, and any folder of images.

Every data set is loaded once into memory as a float tensor (batch, channels, height,
width) with pixels in [-1, 1]. A seeded permutation sets ``val_size`` images aside as
the held-out real set that evaluation (exact W1, FID, KID) compares generated images
with; training batches are drawn with replacement from the rest by the same
index-seeded :class:`~lightning_wgan.data.Stream` as the toy data, so a resumed run
sees the batches an uninterrupted one would.

To add a data set, subclass :class:`ImageDataModule` and implement :meth:`load`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from lightning_utilities.core.imports import RequirementCache
from torch import Tensor

from lightning_wgan.data import Distribution, StreamingDataModule
from lightning_wgan.errors import ConfigError
from lightning_wgan.metrics import exact_w1

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class DataNotFoundError(ConfigError):
    """A data set's files are not where the configuration says."""


class ImageDataModule(StreamingDataModule):
    """Base class of the image data modules.

    Args:
        batch_size: images per critic step (per process).
        val_size: size of the held-out real set (taken from the data before training).
        size: resize the images to ``size`` × ``size`` pixels; ``None`` keeps them.
        seed: seed of the training stream; ``None`` takes it from ``seed_everything``.
        val_seed: seed of the permutation that chooses the held-out set.
    """

    #: Name used in run directories and summaries.
    dataset: str = "images"

    def __init__(
        self, batch_size: int = 64, val_size: int = 1000, size: int | None = None, seed: int | None = None, val_seed: int = 2018
    ) -> None:
        super().__init__(batch_size, val_size, seed, val_seed)
        if size is not None and size < 1:
            raise ValueError(f"size must be >= 1 or None, got {size}")
        self.size = size
        self.train_images: Tensor | None = None
        self.train_labels: Tensor | None = None
        self.val_labels: Tensor | None = None

    def load(self) -> tuple[Tensor, Tensor | None]:
        """All images as floats in [0, 1], shape (n, channels, height, width), and their
        integer class labels (``None`` when the data set has none)."""
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the images the generator must produce."""
        self.setup("fit")
        return tuple(self.train_images.shape[1:])

    def pixels(self) -> tuple[Tensor, Tensor | None]:
        """All images as the networks see them: resized to ``size``, in [-1, 1]; and their labels."""
        images, labels = self.load()
        if self.size is not None and images.shape[-2:] != (self.size, self.size):
            images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        return images.clamp(0, 1) * 2 - 1, labels

    def setup(self, stage: str) -> None:
        if self.val_real is not None:
            return
        images, labels = self.pixels()
        if len(images) <= self.val_size:
            raise ValueError(f"val_size {self.val_size} leaves no training images: the data set has {len(images)}")
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.val_seed))
        held_out, train = order[: self.val_size], order[self.val_size :]
        self.val_real, self.train_images = images[held_out].contiguous(), images[train].contiguous()
        self.train_labels = labels[train] if labels is not None else None
        self.val_labels = labels[held_out] if labels is not None else None

    @cached_property
    def noise_floor(self) -> float:
        """Exact W1 (in pixel space) between the held-out set and as many training images."""
        self.setup("validate")
        n = min(self.val_size, len(self.train_images))
        return exact_w1(self.val_real, self.train_images[:n])

    def sample_train(self, n: int, generator: torch.Generator) -> Tensor:
        return self.train_images[torch.randint(len(self.train_images), (n,), generator=generator)]


class DigitsDataModule(ImageDataModule):
    """scikit-learn's handwritten digits: 1,797 grey 8 × 8 images (16 levels) in ten
    classes, shipped with scikit-learn, so it works offline; scaled up to ``size``."""

    dataset = "digits"

    def __init__(
        self, batch_size: int = 64, val_size: int = 360, size: int | None = 16, seed: int | None = None, val_seed: int = 2018
    ) -> None:
        super().__init__(batch_size, val_size, size, seed, val_seed)

    def load(self) -> tuple[Tensor, Tensor]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
        return images, torch.tensor(digits.target)


class DigitsImages(Distribution):
    """The digits images as a distribution: every one of the 1,797 (``DigitsDataModule``'s
    pixels in [-1, 1], ``size`` × ``size``) with equal weight. The P of a critic-only pair
    on real data, e.g. with :class:`~lightning_wgan.data.Funnels` moving them
    (``conf/estimate/funnels_digits.yaml``)."""

    name = "digits"

    def __init__(self, size: int = 16) -> None:
        self.images = DigitsDataModule(size=size).pixels()[0]
        self.shape = tuple(self.images.shape[1:])
        self.dim = self.images[0].numel()

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.images[torch.randint(len(self.images), (n,), generator=generator)]


# The files torchvision looks for, relative to --data.root, and the class that reads them.
TORCHVISION = {
    "mnist": ("MNIST", "MNIST/raw", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]),
    "fashion_mnist": ("FashionMNIST", "FashionMNIST/raw", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]),
    "cifar10": ("CIFAR10", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)]),
}


class TorchvisionDataModule(ImageDataModule):
    """MNIST, Fashion-MNIST or CIFAR-10 (training split) through torchvision, from ``root``.

    With ``download`` the files are fetched when missing (this needs network); without
    it, missing files are a one-line error that says where they were looked for.
    """

    def __init__(
        self,
        dataset: Literal["mnist", "fashion_mnist", "cifar10"] = "mnist",
        root: str = "data",
        download: bool = False,
        batch_size: int = 64,
        val_size: int = 1000,
        size: int | None = 32,
        seed: int | None = None,
        val_seed: int = 2018,
    ) -> None:
        super().__init__(batch_size, val_size, size, seed, val_seed)
        if dataset not in TORCHVISION:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(TORCHVISION)}")
        self.dataset, self.root, self.download = dataset, Path(root), download
        _, folder, files = TORCHVISION[dataset]
        missing = [f for f in files if not any((self.root / folder / (f + ext)).is_file() for ext in ("", ".gz"))]
        if missing and not download:
            raise DataNotFoundError(
                f"{dataset} is not in {self.root / folder} (missing {', '.join(missing)}); "
                f"add --data.download true to fetch it (needs network) or point --data.root at a folder that holds it"
            )
        if not RequirementCache("torchvision"):
            raise ValueError(f"the {dataset} data set needs torchvision: pip install torchvision (the build that matches your torch)")

    def load(self) -> tuple[Tensor, Tensor]:
        import torchvision

        cls = getattr(torchvision.datasets, TORCHVISION[self.dataset][0])
        try:
            data = cls(str(self.root), train=True, download=self.download)
        except OSError as err:  # no network, or a broken file
            raise DataNotFoundError(f"could not load {self.dataset} from {self.root}: {err}") from None
        images = torch.as_tensor(data.data)
        images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)  # MNIST: n×h×w; CIFAR: n×h×w×c
        return images.float() / 255.0, torch.as_tensor(data.targets)


class ImageFolderDataModule(ImageDataModule):
    """Every image under ``root``, for your own data; each first-level subfolder is a class.

    Images are converted to ``channels`` (1: grey, 3: RGB), centre-cropped to a square
    and resized to ``size``. Images directly in ``root`` have no class.
    """

    def __init__(
        self,
        root: str,
        size: int = 64,
        channels: Literal[1, 3] = 3,
        batch_size: int = 64,
        val_size: int = 1000,
        seed: int | None = None,
        val_seed: int = 2018,
    ) -> None:
        super().__init__(batch_size, val_size, size, seed, val_seed)
        self.root = Path(root)
        self.dataset = self.root.name
        self.channels = channels
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if self.root.is_dir() else []
        if not self.files:
            raise DataNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {self.root}")

    def load(self) -> tuple[Tensor, Tensor | None]:
        from PIL import Image

        classes = sorted({p.relative_to(self.root).parts[0] for p in self.files if p.parent != self.root})
        images, labels = [], []
        for path in self.files:
            with Image.open(path) as img:
                img = img.convert("L" if self.channels == 1 else "RGB")
                side = min(img.size)
                left, top = (img.width - side) // 2, (img.height - side) // 2
                img = img.crop((left, top, left + side, top + side)).resize((self.size, self.size), Image.BICUBIC)
                pixels = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
            images.append(pixels.view(self.size, self.size, self.channels).permute(2, 0, 1))
            labels.append(classes.index(path.relative_to(self.root).parts[0]) if path.parent != self.root else -1)
        labels_t = torch.tensor(labels)
        return torch.stack(images).float() / 255.0, (labels_t if classes and (labels_t >= 0).all() else None)
