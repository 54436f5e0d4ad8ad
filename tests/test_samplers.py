import pytest
import torch

from lightning_wgan.samplers import Fake, Interpolates, Perturbed, Real


@pytest.mark.parametrize("shape", [(2,), (3, 5, 5)])
def test_interpolates_alpha_per_sample_in_unit_interval(shape):
    torch.manual_seed(0)
    real, fake = torch.ones(512, *shape), torch.zeros(512, *shape)
    points = Interpolates()(real, fake)
    assert points.shape == real.shape
    alpha = points.flatten(1)
    # One α per sample: constant across a sample's entries, different between samples.
    torch.testing.assert_close(alpha, alpha[:, :1].expand_as(alpha))
    a = alpha[:, 0]
    assert a.min() >= 0 and a.max() <= 1
    assert a.std() > 0.25  # U[0,1] has std 0.289
    assert abs(a.mean().item() - 0.5) < 0.05


def test_interpolates_lie_on_segment():
    torch.manual_seed(1)
    real, fake = torch.randn(64, 2), torch.randn(64, 2)
    points = Interpolates()(real, fake)
    # x̂ - fake is parallel to real - fake, with the same α in both coordinates.
    ratio = (points - fake) / (real - fake)
    torch.testing.assert_close(ratio[:, 0], ratio[:, 1], rtol=1e-4, atol=1e-4)


def test_perturbation_scale_is_relative_to_batch_std():
    torch.manual_seed(2)
    real = 3.0 * torch.randn(20000, 2)
    fake = torch.zeros(20000, 2)
    points = Perturbed(around="real", scale=0.25)(real, fake)
    noise_std = (points - real).std().item()
    assert noise_std == pytest.approx(0.25 * real.std().item(), rel=0.03)


def test_perturbed_around_both_and_the_points_themselves():
    real, fake = torch.randn(10, 2), torch.randn(10, 2) + 5
    both = Perturbed(around="both", scale=0.1)(real, fake)
    assert both.shape == (20, 2)
    assert (both[:10] - real).abs().max() < 1.0 and (both[10:] - fake).abs().max() < 1.0
    assert torch.equal(Real()(real, fake), real)
    assert torch.equal(Fake()(real, fake), fake)


def test_bad_sampler_arguments():
    with pytest.raises(ValueError, match="around"):
        Perturbed(around="middle")
    with pytest.raises(ValueError, match="scale"):
        Perturbed(scale=-1)
