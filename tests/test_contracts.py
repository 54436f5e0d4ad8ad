"""The extension points' contracts (lightning_wgan/contracts.py): a critic's (n, 1)
scores give exactly what its (n,) twin gives, under every penalty and sampler; every
violation is one line that names the object."""

import copy

import pytest
import pytorch_lightning as pl
import torch
from conftest import run_cli
from helpers import ColumnCritic
from torch import nn

from lightning_wgan import contracts
from lightning_wgan import penalties as P
from lightning_wgan.data import ToyDataModule
from lightning_wgan.errors import ContractError
from lightning_wgan.module import WGAN
from lightning_wgan.networks import DCGANCritic, MLPCritic, MLPGenerator
from lightning_wgan.samplers import Fake, Interpolates, Perturbed, Real

PENALTIES = {
    "gp": lambda: P.GradientPenalty(3.0), "lp": lambda: P.LipschitzPenalty(3.0), "0gp": lambda: P.ZeroCentredPenalty(3.0),
    "r1": lambda: P.R1Penalty(3.0), "r2": lambda: P.R2Penalty(3.0), "div": lambda: P.DivergencePenalty(2.0, 6.0),
    "alp": lambda: P.AdversarialLipschitzPenalty(3.0, 0.1, 1.0), "lp+ct": lambda: P.ConsistencyTerm(P.LipschitzPenalty(3.0)),
    "clip": lambda: P.WeightClipping(0.05), "none": lambda: None,
}
SAMPLERS = {"interpolates": Interpolates, "perturbed": lambda: Perturbed("both", 0.25), "real": Real, "fake": Fake}


def loss_and_grads(critic, penalty, sampler, real, fake):
    model = WGAN(generator=MLPGenerator(width=8), critic=critic, penalty=penalty, sampler=sampler)
    torch.manual_seed(7)  # the sampler's, ALP's and dropout's draws
    out = model.critic_loss(real, fake)
    grads = torch.autograd.grad(out["loss"], list(model.critic.parameters()))
    return out, grads


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_a_column_critic_trains_on_the_objective_of_its_flat_twin(penalty, sampler):
    torch.manual_seed(0)
    dropout = 0.2 if penalty == "lp+ct" else 0.0
    column = ColumnCritic(dropout=dropout)
    flat = copy.deepcopy(column)
    flat.squeeze = True
    real, fake = torch.randn(32, 2), torch.randn(32, 2) + 1
    (a, grads_a), (b, grads_b) = (loss_and_grads(c, PENALTIES[penalty](), SAMPLERS[sampler](), real, fake) for c in (column, flat))
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].shape == b[key].shape and torch.allclose(a[key], b[key], rtol=1e-6, atol=1e-7), key
    for ga, gb in zip(grads_a, grads_b, strict=True):
        assert torch.allclose(ga, gb, rtol=1e-6, atol=1e-7)


def linear_critic(w: torch.Tensor, column: bool) -> nn.Module:
    critic = nn.Linear(len(w), 1, bias=False) if column else nn.Sequential(nn.Linear(len(w), 1, bias=False), nn.Flatten(0))
    with torch.no_grad():
        next(critic.parameters()).copy_(w.view(1, -1))
    return critic


def test_alp_on_a_linear_critic_by_hand():
    """D(x) = w·x with ‖w‖ = 2.5: power iteration finds r ∥ w, so every slope |D(x) - D(x + r)| / ‖r‖
    is 2.5 and the term is λ·(2.5 - 1)² = 4 · 2.25 = 9, for (n, 1) scores as for (n,). Without the
    contract the (n, 1) differences broadcast against ε of shape (n,) into an n × n matrix."""
    w, x = torch.tensor([1.5, 2.0]), torch.randn(64, 2)
    alp = P.AdversarialLipschitzPenalty(4.0, 0.1, 2.0)
    for column in (False, True):
        torch.manual_seed(3)
        term, slopes = alp.term(contracts.conform_critic(linear_critic(w, column)), x, x, Real())
        assert slopes.shape == (64,) and torch.allclose(slopes, torch.full((64,), 2.5), atol=1e-4)
        assert term.item() == pytest.approx(9.0, rel=1e-4)
    torch.manual_seed(3)
    broadcast, _ = alp.term(linear_critic(w, column=True), x, x, Real())  # the critic as it was before the contract
    assert broadcast.item() != pytest.approx(9.0, rel=1e-2)


@pytest.mark.parametrize("make, shape, features", [
    (lambda: MLPCritic(width=16, dropout=0.3), (32, 2), 16),
    # the flattened convolutional features: 16 → 8 → 4 pixels, 4 → 8 channels
    (lambda: DCGANCritic(channels=1, size=16, width=4, dropout=0.3), (6, 1, 16, 16), 8 * 4 * 4),
], ids=["mlp", "dcgan"])
def test_ct_reads_the_features_of_the_scoring_pass(make, shape, features):
    """The consistency term by an independent route: features and scores computed
    explicitly, layer by layer, with the same dropout masks (the same seed); the
    features are the head's input, the second-to-last layer's output."""
    torch.manual_seed(0)
    critic, real = contracts.conform_critic(make()), torch.randn(*shape)
    assert critic.head is critic.net[-1]
    ct = P.ConsistencyTerm(P.LipschitzPenalty(1.0), ct_weight=2.0, margin=0.05, feature_weight=0.1)
    ct.check_critic(critic)
    torch.manual_seed(5)
    term = ct.consistency(critic, real)
    torch.manual_seed(5)
    parts = []
    for _ in range(2):
        f = critic.net[:-1](real)
        parts.append((critic.net[-1](f).squeeze(1), f))
    (s1, f1), (s2, f2) = parts
    by_hand = 2.0 * torch.relu((s1 - s2).abs() + 0.1 * (f1 - f2).norm(dim=1) - 0.05).mean()
    assert f1.shape == (shape[0], features) and term > 0
    assert term.item() == pytest.approx(by_hand.item(), rel=1e-6)


def test_dropout_in_the_convolutional_critic_follows_each_convolution():
    names = [type(m).__name__ for m in DCGANCritic(channels=1, size=16, width=4, dropout=0.3).net]
    assert names == ["Conv2d", "LeakyReLU", "Dropout", "Conv2d", "Identity", "LeakyReLU", "Dropout", "Flatten", "Linear"]
    with pytest.raises(ValueError, match="dropout must be in"):
        DCGANCritic(dropout=1.0)


class TwoHeads(ColumnCritic):
    def forward(self, x):
        return (self.head(self.body(x)) + self.head(self.body(x))).squeeze(1)


class NoLatent(nn.Module):
    def forward(self, z):
        return z


class Sum(P.Penalty):
    name = "sum"

    def form(self, norms):
        return norms.sum()  # one value for the batch, not one per sample


class Formless(P.Penalty):
    name = "formless"


class Halves(Interpolates):
    def __call__(self, real, fake):
        return super().__call__(real, fake)[:, :1]


class NoExact(pl.LightningDataModule):
    shape = (2,)


class Pooled(nn.Module):
    def forward(self, images):
        return images.mean(dim=(1, 2, 3))  # one number per image, not a vector


@pytest.mark.parametrize("violation, message", [
    (lambda: contracts.conform_critic(ColumnCritic(outputs=3))(torch.zeros(4, 2)),
     r"^the critic ColumnCritic returned scores of shape \(4, 3\) for a batch of 4 samples; a critic returns one score per sample"),
    (lambda: contracts.conform_critic(lambda x: x), r"^the critic must be an nn.Module, got function$"),
    (lambda: WGAN(generator=NoLatent()), r"^the generator NoLatent needs an integer latent_dim >= 1 \(the size of its noise\), got None$"),
    (lambda: WGAN(penalty=Sum()), r"^Sum.form returned shape \(\) for 4 slopes; form maps each sample's slope to its own value"),
    (lambda: WGAN(penalty=Formless()), r"^the penalty Formless implements neither form\(norms\) nor term\(...\)$"),
    (lambda: WGAN(sampler=lambda real, fake: real), r"^the sampler must be a lightning_wgan.samplers.Sampler, got function$"),
    (lambda: contracts.check(WGAN(sampler=Halves()), ToyDataModule()), r"^the sampler Halves returned points of shape \(1,\) for samples"),
    (lambda: contracts.check(WGAN(), object()), r"^the data must be a LightningDataModule, got object$"),
    (lambda: contracts.check_data(NoExact(), critic_only=True), r"^the data module NoExact has no w1_exact"),
    (lambda: contracts.check_features(Pooled(), torch.zeros(4, 1, 8, 8)),
     r"^the feature network Pooled returned shape \(2,\) for 2 images; it maps each image to a feature vector, shape \(n, k\)$"),
    (lambda: P.ConsistencyTerm(P.LipschitzPenalty()).consistency(TwoHeads(dropout=0.1), torch.zeros(4, 2)),
     r"its head 2 times; it must call it once, on the features$"),
])
def test_each_violation_is_one_line_naming_the_object(violation, message):
    with pytest.raises(ContractError, match=message) as info:
        violation()
    assert "\n" not in str(info.value)


def test_a_critic_with_many_scores_stops_the_cli_before_training(tmp_path):
    with pytest.raises(SystemExit) as info:
        run_cli(tmp_path / "run", "--model.critic", "tests.helpers.ColumnCritic", "--model.critic.outputs", "3")
    assert str(info.value.code) == ("error: the critic ColumnCritic returned scores of shape (2, 3) for a batch of 2 samples; "
                                    "a critic returns one score per sample, of shape (n,) or (n, 1)")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_column_critic_trains_through_the_cli(tmp_path):
    cli = run_cli(tmp_path / "run", "--model.critic", "tests.helpers.ColumnCritic", "--generator_steps", "2", "--eval_every", "2")
    summary = (tmp_path / "run" / "summary.json").read_text()
    assert cli.model.critic(torch.zeros(5, 2)).shape == (5,) and '"finished": true' in summary
