"""Image GANs: networks, the penalty on images, image data, FID and KID, the image configs."""

import pytest
import torch
from conftest import DOWNLOAD_CONFIGS, REPO, run_cli
from PIL import Image
from scipy import linalg
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from callbacks.schedules import LinearLRDecay
from lightning_wgan.features import ClassifierFeatures
from lightning_wgan.images import DataNotFoundError, DigitsDataModule, ImageFolderDataModule, TorchvisionDataModule
from lightning_wgan.networks import DCGANCritic, DCGANGenerator, ResNetCritic, ResNetGenerator
from lightning_wgan.penalties import gradient_norms


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("nets", [(DCGANGenerator, DCGANCritic), (ResNetGenerator, ResNetCritic)], ids=["dcgan", "resnet"])
def test_networks_make_and_score_images_of_each_size(nets, channels, size):
    generator_cls, critic_cls = nets
    torch.manual_seed(0)
    generator = generator_cls(latent_dim=16, channels=channels, size=size, width=8)
    critic = critic_cls(channels=channels, size=size, width=8, norm="layer")
    images = generator(torch.randn(3, 16))
    assert images.shape == (3, channels, size, size)
    assert images.abs().max() <= 1  # tanh: the data's pixel range
    assert critic(images).shape == (3,)


@pytest.mark.parametrize("size", [4, 12, 48])
def test_sizes_that_are_not_4_times_a_power_of_two_are_refused(size):
    with pytest.raises(ValueError, match=f"image size must be 4 times a power of two .* got {size}"):
        DCGANGenerator(size=size)


@pytest.mark.parametrize("critic_cls", [DCGANCritic, ResNetCritic])
def test_penalty_on_images_is_the_per_sample_norm_over_channels_height_and_width(critic_cls):
    # Independent of gradient_norms: each sample's gradient on its own (batch of one).
    torch.manual_seed(0)
    critic = critic_cls(channels=3, size=16, width=8, norm="layer")
    x = torch.randn(5, 3, 16, 16)
    norms = gradient_norms(critic, x, create_graph=False)
    for i in range(5):
        xi = x[i : i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(xi).sum(), xi)
        assert norms[i].item() == pytest.approx(g.norm().item(), rel=1e-5)
    # The layer norm is per sample: no sample's score depends on another sample.
    x = x.requires_grad_(True)
    (cross,) = torch.autograd.grad(critic(x)[0], x)
    assert cross[1:].abs().max() == 0


def test_digits_are_scaled_to_minus_one_one_and_split_by_a_fixed_permutation():
    dm = DigitsDataModule(size=16, val_size=300)
    dm.setup("fit")
    assert dm.shape == (1, 16, 16)
    assert dm.val_real.shape == (300, 1, 16, 16) and len(dm.train_images) == 1797 - 300
    everything = torch.cat([dm.val_real, dm.train_images])
    assert everything.min() == -1 and everything.max() == 1  # ink 16/16 is white, paper 0 black
    # The held-out set is disjoint from the training images and the same in every run.
    train = {tuple(t.flatten().tolist()) for t in dm.train_images}
    overlap = sum(tuple(v.flatten().tolist()) in train for v in dm.val_real)
    assert overlap <= 5  # the data set itself holds a few duplicate digits
    again = DigitsDataModule(size=16, val_size=300)
    again.setup("fit")
    assert torch.equal(again.val_real, dm.val_real)
    batch = next(iter(dm.train_dataloader()))
    assert batch.shape == (64, 1, 16, 16)
    # Scaled up from 8 x 8: size 8 keeps sklearn's pixels, x / 16 mapped to [-1, 1].
    from sklearn.datasets import load_digits

    raw = DigitsDataModule(size=8, val_size=300)
    raw.setup("fit")
    images = torch.tensor(load_digits().images, dtype=torch.float32) / 8 - 1
    assert any(torch.equal(raw.val_real[0, 0], img) for img in images)


def test_image_folder_loads_generated_pngs_with_classes(tmp_path):
    root = tmp_path / "pictures"
    colours = {"black": 0, "white": 255}
    for name, value in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(6):
            # Not square: centre-cropped, then resized. A grey bar in the middle column.
            pixels = Image.new("RGB", (30 + i, 20), (value, value, value))
            pixels.putpixel((15 + i // 2, 10), (128, 128, 128))
            pixels.save(root / name / f"{i}.png")
    (root / "notes.txt").write_text("not an image")
    dm = ImageFolderDataModule(str(root), size=8, channels=3, val_size=4, batch_size=2)
    dm.setup("fit")
    assert dm.shape == (3, 8, 8) and len(dm.val_real) == 4 and len(dm.train_images) == 8
    labels = torch.cat([dm.train_labels, dm.val_labels])
    images = torch.cat([dm.train_images, dm.val_real])
    assert sorted(labels.tolist()) == [0] * 6 + [1] * 6  # black = 0, white = 1 (sorted names)
    for image, label in zip(images, labels, strict=True):
        corner = image[:, 0, 0]
        assert torch.allclose(corner, torch.full((3,), -1.0 if label == 0 else 1.0))
    grey = ImageFolderDataModule(str(root), size=8, channels=1, val_size=4)
    assert grey.shape == (1, 8, 8)


def test_image_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no images .* under .*empty"):
        ImageFolderDataModule(str(tmp_path / "empty"))


FOLDERS = [("mnist", "MNIST/raw"), ("fashion_mnist", "FashionMNIST/raw"), ("cifar10", "cifar-10-batches-py")]


@pytest.mark.parametrize("dataset, folder", FOLDERS)
def test_a_missing_torchvision_data_set_is_a_one_line_error(tmp_path, dataset, folder):
    with pytest.raises(DataNotFoundError) as info:
        TorchvisionDataModule(dataset=dataset, root=str(tmp_path / "data"))
    message = str(info.value)
    assert f"{dataset} is not in {tmp_path / 'data' / folder}" in message and "--data.download true" in message
    assert "\n" not in message


class FakeTorchvisionData:
    """Stands in for torchvision's MNIST / CIFAR10 classes: their documented ``data``
    (MNIST: uint8 tensor n × h × w; CIFAR-10: uint8 array n × h × w × 3) and ``targets``."""

    def __init__(self, root, train=True, download=False):
        assert train and not download
        n = 12
        if self.layout == "nhw":
            self.data = torch.zeros(n, 28, 28, dtype=torch.uint8)
            self.data[:, :, 14:] = 255  # right half white
        else:
            self.data = torch.zeros(n, 32, 32, 3, dtype=torch.uint8)
            self.data[..., 0] = 255  # pure red
            self.data = self.data.numpy()
        self.targets = list(range(n))


@pytest.mark.parametrize("dataset, folder", FOLDERS)
def test_torchvision_data_is_converted_to_channels_first_in_minus_one_one(tmp_path, monkeypatch, dataset, folder):
    import sys
    import types

    import lightning_wgan.images as images

    name = images.TORCHVISION[dataset][0]
    fake = type(name, (FakeTorchvisionData,), {"layout": "nhwc" if dataset == "cifar10" else "nhw"})
    monkeypatch.setitem(sys.modules, "torchvision", types.SimpleNamespace(datasets=types.SimpleNamespace(**{name: fake})))
    monkeypatch.setattr(images, "RequirementCache", lambda name: True)
    for file in images.TORCHVISION[dataset][2]:
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / file).write_bytes(b"")
    dm = TorchvisionDataModule(dataset=dataset, root=str(tmp_path), val_size=4, size=None)
    dm.setup("fit")
    everything = torch.cat([dm.train_images, dm.val_real])
    assert len(everything) == 12 and sorted(torch.cat([dm.train_labels, dm.val_labels]).tolist()) == list(range(12))
    if dataset == "cifar10":
        assert dm.shape == (3, 32, 32)
        assert (everything[:, 0] == 1).all() and (everything[:, 1:] == -1).all()
    else:
        assert dm.shape == (1, 28, 28)
        assert (everything[..., 14:] == 1).all() and (everything[..., :14] == -1).all()


@pytest.mark.parametrize("config", DOWNLOAD_CONFIGS)
def test_gpu_image_configs_stop_before_training_when_the_data_is_absent(tmp_path, config):
    assert {"conf/images/mnist.yaml", "conf/images/cifar10.yaml"} <= set(DOWNLOAD_CONFIGS)
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        run_cli(run, "--data.root", str(tmp_path / "nothing"), config=str(REPO / config))
    message = str(info.value.code)
    assert message.startswith("error: ") and "is not in" in message and "\n" not in message
    assert not run.exists()


def test_a_generator_that_does_not_match_the_data_is_refused(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        run_cli(run, "--model.generator.size", "32", config=str(REPO / "conf/images/digits.yaml"))
    assert str(info.value.code) == (
        "error: the generator DCGANGenerator makes samples of shape (1, 32, 32), the data has shape (1, 16, 16); "
        "set the networks' data_dim, or channels and size, to match the data"
    )


# -- FID and KID -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_features(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIGHTNING_WGAN_CACHE", str(cache))
        dm = DigitsDataModule(size=16)
        dm.setup("fit")
        features = ClassifierFeatures().fit_or_load(dm.train_images, dm.train_labels, dm.val_real, dm.val_labels, epochs=10)
    return dm, features, cache


def fid_by_hand(features, a, b):
    """The Fréchet distance between Gaussians fitted to the features (scipy's sqrtm)."""
    with torch.no_grad():
        fa, fb = features(a).double().numpy(), features(b).double().numpy()
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    cov_a, cov_b = torch.tensor(fa).T.cov().numpy(), torch.tensor(fb).T.cov().numpy()
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + (cov_a + cov_b - 2 * root).trace())


def test_the_classifier_features_are_meaningful_and_cached(digits_features, monkeypatch):
    dm, features, cache = digits_features
    assert features.accuracy > 0.9  # on the held-out digits
    # Standardized on the training images; units constant there (dead ReLUs) are not
    # blown up: garbage images get a large but finite FID, not one of order 1e8.
    with torch.no_grad():
        standardized = features(dm.train_images)
    live = features.scale > 0.1 * features.scale.mean() + 1e-6
    assert 0 < live.sum() < features.num_features  # both kinds exist here
    assert standardized[:, live].mean(0).abs().max() < 1e-3 and (standardized[:, live].std(0) - 1).abs().max() < 1e-3
    fid = FrechetInceptionDistance(features)
    fid.update(dm.val_real, real=True)
    fid.update(torch.rand(500, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1, real=False)
    assert 1 < float(fid.compute()) < 1000
    assert len(list((cache / "features").glob("classifier-*.pt"))) == 1
    monkeypatch.setenv("LIGHTNING_WGAN_CACHE", str(cache))
    monkeypatch.setattr(ClassifierFeatures, "_fit", lambda *args: pytest.fail("trained again instead of loading"))
    again = ClassifierFeatures().fit_or_load(dm.train_images, dm.train_labels, dm.val_real, dm.val_labels, epochs=10)
    assert again.accuracy == features.accuracy
    assert all(torch.equal(p, q) for p, q in zip(features.parameters(), again.parameters(), strict=True))
    # Other data is another network.
    monkeypatch.setattr(ClassifierFeatures, "_fit", lambda *args: None)
    ClassifierFeatures().fit_or_load(dm.train_images[:-1], dm.train_labels[:-1], dm.val_real, dm.val_labels, epochs=10)
    assert len(list((cache / "features").glob("classifier-*.pt"))) == 2


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # dead ReLU features: a singular covariance
def test_fid_and_kid_of_a_set_against_itself_are_zero_and_grow_with_noise(digits_features):
    dm, features, _ = digits_features
    real = dm.val_real
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(real.shape, generator=gen)
    fids, kids = [], []
    for std in (0.0, 0.1, 0.5, 1.0, 2.0):
        fid = FrechetInceptionDistance(features)
        kid = KernelInceptionDistance(features, subsets=50, subset_size=100)
        other = (real + std * noise).clamp(-1, 1)
        for metric in (fid, kid):
            metric.update(real, real=True)
            metric.update(other, real=False)
        fids.append(float(fid.compute()))
        kids.append(float(kid.compute()[0]))
        print(std, fids[-1], kids[-1])
        assert fids[-1] == pytest.approx(fid_by_hand(features, real, other), rel=1e-3, abs=1e-3)
    assert abs(fids[0]) < 1e-3 * fids[1]
    assert fids == sorted(fids) and len(set(fids)) == len(fids)
    # KID is unbiased but averages random subsets: about 0 (±0.02 here), not exactly,
    # so it grows visibly only once the noise is larger.
    assert abs(kids[0]) < 0.2 * kids[3] and kids[2] < kids[3] < kids[4]


# The digits config's FID and KID in the summary: tests/test_cli.py, test_every_config_runs_a_few_steps.


def test_image_quality_needs_labels_for_the_classifier_feature(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(8):
        Image.new("L", (8, 8), 20 * i).save(root / f"{i}.png")
    with pytest.raises(SystemExit, match="error: feature 'classifier' needs class labels, and flat has none"):
        run_cli(tmp_path / "run", "--data", "lightning_wgan.images.ImageFolderDataModule", "--data.root", str(root),
                "--data.size", "16", "--data.channels", "1", "--data.val_size", "4", "--generator_steps", "2",
                config=str(REPO / "conf/images/digits.yaml"))


def test_inception_without_torch_fidelity_names_what_to_install():
    from lightning_utilities.core.imports import RequirementCache

    from callbacks.quality import ImageQuality

    if RequirementCache("torch-fidelity"):
        pytest.skip("torch-fidelity is installed here")
    with pytest.raises(ValueError, match="needs torch-fidelity \\(pip install torch-fidelity"):
        ImageQuality(feature="inception")


# -- the learning rate's linear decay ----------------------------------------------------


def test_linear_lr_decay_reaches_zero_at_the_last_generator_step(tmp_path):
    run = tmp_path / "run"
    cli = run_cli(run, "--generator_steps", "10", "--eval_every", "10", "--trainer.callbacks+=callbacks.schedules.LinearLRDecay",
                  "--model.n_critic", "2")
    assert any(isinstance(cb, LinearLRDecay) for cb in cli.trainer.callbacks)
    for optimizer in cli.trainer.optimizers:
        group = optimizer.param_groups[0]
        # Set before the last batch, at generator step 9 of 10.
        assert group["lr"] == pytest.approx(group["initial_lr"] * (1 - 9 / 10))
        assert group["initial_lr"] == 1e-4


def test_linear_lr_decay_continues_on_the_same_line_after_resume(tmp_path):
    run = tmp_path / "run"
    decay = ["--trainer.callbacks+=callbacks.schedules.LinearLRDecay", "--model.n_critic", "2", "--eval_every", "10"]
    run_cli(run, "--generator_steps", "4", *decay)
    cli = run_cli(run, "--generator_steps", "10", "--ckpt_path", "last", *decay)
    for optimizer in cli.trainer.optimizers:
        group = optimizer.param_groups[0]
        assert group["initial_lr"] == 1e-4  # not the decayed rate the checkpoint held
        assert group["lr"] == pytest.approx(1e-4 * (1 - 9 / 10))
