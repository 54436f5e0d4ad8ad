"""Funnel pairs (Korotin et al. 2022), gradient fidelity, and the optimal potentials of
every critic-only task that has one."""

import csv
import math

import pytest
import torch
from conftest import REPO, read_summary, run_cli
from scipy import stats

from lightning_wgan.data import PUBLISHED_FUNNELS, Cube, Funnels, PairDataModule, Scale, Translate
from lightning_wgan.metrics import exact_w1, gradient_fidelity
from lightning_wgan.penalties import input_gradients

GEN = torch.Generator().manual_seed(0)


def pair(d, k, n, seed=1):
    transform = Funnels(funnels=k, seed=seed)
    y = Cube(d).sample(n, torch.Generator().manual_seed(seed)).double()
    return transform, y, transform(y, GEN)


@pytest.mark.parametrize("d, k", [(2, 4), (2, 64), (8, 16), (32, 64), (128, 256)])
def test_every_pair_is_transported_optimally_inside_the_cube(d, k):
    """f*(y) - f*(x) = ‖y - x‖ for every pair (so the pairing is an optimal plan), x in
    the cube, and x between its funnel's centre and y."""
    transform, y, x = pair(d, k, 3000)
    gap = transform.potential(y) - transform.potential(x) - (y - x).norm(dim=1)
    assert gap.abs().max() < 1e-10
    assert x.abs().max() <= 2.5 + 1e-12 and (y - x).norm(dim=1).mean() > 0.05
    centres, biases = transform.centres(d)
    nearest = centres[(torch.cdist(y, centres) + biases).argmin(dim=1)]
    assert torch.all((x - nearest).norm(dim=1) <= (y - nearest).norm(dim=1) + 1e-9)


def test_the_potentials_gradient_at_the_moved_points_by_autograd():
    """∇f*(x) = (y - x)/‖y - x‖, what the data module reports, against autograd of f*."""
    transform, y, x = pair(8, 16, 2000)
    dm = PairDataModule(dataset="cube", dim=8, transform=transform, eval_size=2000, grad_size=500)
    points, optimal = dm.potential_gradient
    points = points.double().requires_grad_(True)
    (by_autograd,) = torch.autograd.grad(transform.potential(points).sum(), points)
    cos, l2 = gradient_fidelity(by_autograd, optimal)
    assert len(points) == 500 and cos > 1 - 1e-4 and l2 < 1e-3


def test_paired_samples_have_the_w1_of_their_pairing_and_independent_ones_lie_near_it():
    """POT on the paired samples finds no cheaper plan than the pairing: their W1 is
    mean ‖y_i - x_i‖ exactly (f* certifies it). Independent samples of P and Q at d = 2
    come within POT's sampling bias (measured: +0.006 at n = 2000, 3 draws)."""
    for d in (2, 8):
        _, y, x = pair(d, 16, 600)
        assert exact_w1(y, x) == pytest.approx(float((y - x).norm(dim=1).mean()), rel=1e-9)
    transform = Funnels(funnels=16, seed=1)
    dm = PairDataModule(dataset="cube", dim=2, transform=transform, eval_size=100_000)
    exact, se = dm.w1_exact
    draws = []
    for i in range(3):
        g = torch.Generator().manual_seed(10 + i)
        draws.append(exact_w1(Cube(2).sample(2000, g), transform(Cube(2).sample(2000, g), g)))
    assert se < 0.002 and 0 <= sum(draws) / 3 - exact < 0.03


def test_the_published_pairs_have_their_published_w1():
    """Our exact W1 of each of the 28 published pairs (20 000 points) against the published
    4096-point estimate: a difference within sampling error (z = difference / its
    standard error; mean z² 1.1 over the 28, the largest |z| 2.6, on this seed)."""
    rows = [r for r in csv.DictReader(open(PUBLISHED_FUNNELS / "published_metrics.csv")) if r["method"] == "wgan-lp"]
    assert len(rows) == 28
    zs = []
    for r in rows:
        d, k = int(r["dim"]), int(r["funnels"])
        y = Cube(d).sample(20_000, torch.Generator().manual_seed(d * 1000 + k))
        cost = (y - Funnels(pair=f"d{d}_w{k}")(y, GEN)).double().norm(dim=1)
        zs.append((float(cost.mean()) - float(r["true_w1"])) / float(cost.std() * math.sqrt(1 / 4096 + 1 / 20_000)))
    assert max(map(abs, zs)) < 4 and sum(z * z for z in zs) / len(zs) < 2


def test_a_pair_is_read_from_its_file_and_a_mismatch_is_one_line(tmp_path):
    import numpy as np

    with np.load(PUBLISHED_FUNNELS / "d8_w16.npz") as arrays:
        centres, biases = arrays["centers"], arrays["bias"]
    for transform in (Funnels(pair="d8_w16"), Funnels(file=str(PUBLISHED_FUNNELS / "d8_w16.npz"))):
        c, b = transform.centres(8)
        assert torch.equal(c, torch.from_numpy(centres).double()) and torch.equal(b, torch.from_numpy(biases).double())
    with pytest.raises(ValueError, match=r"^the funnels of .*d8_w16.npz are 8-dimensional, the data 2-dimensional$"):
        Funnels(pair="d8_w16")(torch.zeros(3, 2), GEN)
    with pytest.raises(ValueError, match=r"^no published funnel pair 'd3_w16'; choose one of d128_w16, "):
        Funnels(pair="d3_w16")
    np.savez(tmp_path / "mine.npz", centers=np.zeros((2, 3), np.float32), bias=np.array([0.0, 0.5], np.float32))
    assert Funnels(file=str(tmp_path / "mine.npz")).potential(torch.tensor([[3.0, 4.0, 0.0]])).item() == pytest.approx(5.0)


def test_gradient_fidelity_of_critics_whose_gradient_is_known_by_hand():
    """A linear critic D(x) = w·x has ∇D = w everywhere. Translation by v: ∇f* = -v/‖v‖
    (f* falls along v); scaling by 1.5: ∇f*(x) = -x/‖x‖; the 1-D pair N(0, 1) against
    Exp(1) - 1: f*' = sign(F_Q - F_P)."""
    w = torch.tensor([1.0, -2.0, 0.5])
    v = torch.tensor([0.3, 0.4, 0.0])
    critic = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(w)
    dm = PairDataModule(dataset="gaussian", dim=3, transform=Translate(v.tolist()), eval_size=200, grad_size=50)
    points, optimal = dm.potential_gradient
    assert torch.allclose(optimal, (-v / v.norm()).expand(50, 3), atol=1e-5)
    cos, l2 = gradient_fidelity(input_gradients(critic, points, create_graph=False), optimal)
    assert cos == pytest.approx(float(w @ -v / (w.norm() * v.norm())), abs=1e-6)  # (−0.3 + 0.8)/(2.29·0.5) = 0.4364
    assert l2 == pytest.approx(float((w + v / v.norm()).square().sum()), abs=1e-5)
    scale = PairDataModule(dataset="gaussian", dim=3, transform=Scale(1.5), eval_size=200, grad_size=50)
    points, optimal = scale.potential_gradient
    assert torch.allclose(optimal, -points / points.norm(dim=1, keepdim=True), atol=1e-5)
    one_d = PairDataModule(dataset="gaussian", dim=1, source="exponential", eval_size=400, grad_size=400)
    points, optimal = one_d.potential_gradient
    by_hand = torch.sign(torch.tensor(stats.expon(loc=-1).cdf(points.numpy()) - stats.norm.cdf(points.numpy())))
    assert torch.equal(optimal, by_hand.float()) and {-1.0, 1.0} <= set(optimal.flatten().tolist())


def test_the_optimal_critic_scores_perfectly_through_a_critic_only_run(tmp_path):
    """f* itself as the critic: its estimate is the exact W1 (the held-out pairs are an
    optimal plan), its gradient the optimal one (cosine 1, L2 0)."""
    run = tmp_path / "run"
    run_cli(run, "--critic_steps", "2", "--eval_every", "2", "--model.critic", "tests.helpers.FunnelPotential",
            config=str(REPO / "conf/estimate/funnels.yaml"))
    summary = read_summary(run)
    assert summary["ratio"] == pytest.approx(1.0, abs=1e-5)
    assert summary["grad_cos"] == pytest.approx(1.0, abs=1e-5) and summary["grad_l2"] == pytest.approx(0.0, abs=1e-4)
    assert summary["w1_exact"] == pytest.approx(0.4662, abs=0.03)  # the published d = 2, K = 16 pair
    assert summary["history"][-1]["grad_cos"] == summary["grad_cos"]  # kept per evaluation: settling shows


def test_the_digits_pair_moves_real_images_and_needs_a_cube_larger_than_the_pixels():
    """P = the digits images (pixels in [-1, 1]), funnels in [-1.2, 1.2]^256: a pair on real
    data with W1 far from 0, the images moved inside that cube along optimal rays. With
    a = 1 the background pixels, at -1, lie on the cube's face: the rays end at the
    images, and nothing moves."""
    from lightning_wgan.images import DigitsImages

    digits = DigitsImages(size=16)
    assert digits.shape == (1, 16, 16) and digits.dim == 256 and len(digits.images) == 1797
    y = digits.sample(500, torch.Generator().manual_seed(0))
    wide = Funnels(funnels=16, a=1.2, seed=0)
    x = wide(y, GEN)
    cost = (y - x).flatten(1).norm(dim=1)
    assert x.shape == y.shape and x.abs().max() <= 1.2 + 1e-6 and cost.mean() > 1.5
    assert (wide.potential(y) - wide.potential(x) - cost.double()).abs().max() < 1e-4  # float32 images
    tight = Funnels(funnels=16, a=1.0, seed=0)
    assert (y - tight(y, GEN)).flatten(1).norm(dim=1).mean() < 1e-3
    dm = PairDataModule(dataset=digits, transform=wide, eval_size=1000, grad_size=100)
    assert dm.shape == (1, 16, 16) and dm.dataset == "digits" and dm.w1_exact[0] > 1.5


@pytest.mark.parametrize("pair", ["d2_w256", "d32_w256", "d128_w256"])
def test_searching_the_nearest_funnels_first_moves_every_point_as_searching_all(pair, monkeypatch):
    """For K above PRUNE_ABOVE, a ray's end is looked for among the CANDIDATES funnels of
    smallest lead, and among all only where those cannot be sure: the same points, to the
    bit, as the search over every funnel, with all K searched for few rays."""
    import lightning_wgan.data as data

    d = int(pair[1:].split("_")[0])
    x = torch.rand(4096, d, generator=torch.Generator().manual_seed(3)) * 5 - 2.5
    funnels, searched = Funnels(pair=pair), []
    catch = data.first_catch
    monkeypatch.setattr(data, "first_catch", lambda *a: searched.append(a[0].shape) or catch(*a))
    pruned = funnels(x, GEN)
    monkeypatch.setattr(data, "PRUNE_ABOVE", 10**9)
    full = funnels(x, GEN)
    assert torch.equal(pruned, full)
    assert searched[0] == (4096, data.CANDIDATES) and searched[1][0] < 0.05 * 4096 and searched[-1] == (4096, 256)


@pytest.mark.parametrize("critic", ["dcgan", "mlp"])
def test_both_critics_train_on_the_digits_pair_and_are_scored_against_its_known_gradient(tmp_path, critic):
    """conf/estimate/funnels_digits.yaml with its DCGAN critic, and with the MLP critic its
    comment names (on the images flattened): each trains and is scored on the pair's
    exact W1 and optimal gradient in 256 dimensions."""
    run = tmp_path / critic
    mlp = ["--model.critic", "lightning_wgan.networks.MLPCritic", "--model.critic.data_dim", "256",
           "--model.critic.width", "32"] if critic == "mlp" else ["--model.critic.init_args.width", "8"]
    run_cli(run, "--critic_steps", "4", "--eval_every", "4", "--data.init_args.batch_size", "32", "--data.init_args.eval_size", "500",
            "--data.init_args.grad_size", "100", *mlp, config=str(REPO / "conf/estimate/funnels_digits.yaml"), tiny=False)
    summary = read_summary(run)
    assert summary["w1_exact"] > 1.5 and summary["critic_steps"] == 4
    assert -1.0 <= summary["grad_cos"] <= 1.0 and summary["grad_l2"] > 0
    assert ("networks.MLPCritic" if critic == "mlp" else "networks.DCGANCritic") in (run / "config.yaml").read_text()
