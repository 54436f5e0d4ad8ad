"""Network options: initialization schemes against their formulas."""

import math

import pytest
import torch
from torch import nn

from lightning_wgan.networks import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator, ResNetCritic, ResNetGenerator, initialize


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """fan_in, fan_out as Glorot and He define them: dimension 1 and 0 of the weight,
    times the kernel's size (for a transposed convolution, torch's weight is (in, out, k, k))."""
    receptive = weight[0, 0].numel()
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def expected_std(init: str, weight: torch.Tensor) -> float:
    fan_in, fan_out = fans(weight)
    return {"normal": 0.02, "glorot": math.sqrt(2 / (fan_in + fan_out)), "he": math.sqrt(2 / fan_in)}[init]


NETWORKS = {
    "mlp_g": lambda init: MLPGenerator(width=256, init=init),
    "mlp_d": lambda init: MLPCritic(width=256, init=init),
    "dcgan_g": lambda init: DCGANGenerator(latent_dim=64, size=16, width=32, init=init),
    "dcgan_d": lambda init: DCGANCritic(size=16, width=32, init=init),
    "resnet_g": lambda init: ResNetGenerator(latent_dim=32, size=16, width=32, init=init),
    "resnet_d": lambda init: ResNetCritic(size=16, width=32, init=init),
}


@pytest.mark.parametrize("init", ["normal", "glorot", "he"])
@pytest.mark.parametrize("net", NETWORKS)
def test_every_layer_has_the_std_of_its_formula_and_zero_bias(net, init):
    torch.manual_seed(0)
    model = NETWORKS[net](init)
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    assert layers
    for layer in layers:
        w = layer.weight.detach()
        if w.numel() < 500:  # too few entries for a tight estimate of the std
            continue
        # The std of n samples has a relative standard error of about 1/√(2n).
        assert w.std().item() == pytest.approx(expected_std(init, w), rel=5 / math.sqrt(2 * w.numel())), (net, layer)
        assert abs(w.mean().item()) < 5 * expected_std(init, w) / math.sqrt(w.numel())
        if layer.bias is not None:
            assert torch.count_nonzero(layer.bias) == 0
    if init == "glorot" or init == "he":  # uniform, not normal: bounded by √3 · std
        w = layers[1].weight.detach()
        assert w.abs().max().item() <= math.sqrt(3) * expected_std(init, w) * (1 + 1e-6)


def test_default_init_is_pytorchs_own():
    torch.manual_seed(0)
    a = MLPCritic(width=32)
    torch.manual_seed(0)
    b = MLPCritic(width=32, init="default")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    # PyTorch's Linear: uniform(-1/√fan_in, 1/√fan_in) for weights and biases.
    w = a.net[2].weight
    assert w.abs().max().item() <= 1 / math.sqrt(32) and a.net[2].bias.abs().max().item() <= 1 / math.sqrt(32)


def test_init_std_and_bad_init():
    torch.manual_seed(0)
    w = initialize(nn.Linear(400, 400), "normal", std=0.1).weight
    assert w.std().item() == pytest.approx(0.1, rel=0.02)
    with pytest.raises(ValueError, match="unknown init 'xavier'; choose one of default, normal, glorot, he"):
        MLPCritic(init="xavier")
    with pytest.raises(ValueError, match="init_std must be > 0"):
        MLPGenerator(init="normal", init_std=0)


def test_init_from_the_command_line(tmp_path):
    from conftest import run_cli

    cli = run_cli(tmp_path / "run", "--model.critic.init_args.init", "normal", "--model.generator.init_args.init", "normal",
                  "--generator_steps", "1", "--model.critic.init_args.width", "256", "--model.generator.init_args.width", "256")
    assert cli.model.critic.net[2].weight.std().item() == pytest.approx(0.02, rel=0.05)
