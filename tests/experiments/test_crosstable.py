"""The cross-table of critic fidelity against generator quality, by hand on made-up runs."""

import json
import math

import pytest

from lightning_wgan.experiments import convergence as C
from lightning_wgan.experiments import crosstable as X
from lightning_wgan.experiments import digits as G
from lightning_wgan.experiments import family as F
from lightning_wgan.experiments.benchmark import regularizer_config


def critic_row(name, d, k, cos, ratio=1.0, value="default"):
    params = {"config": [F.TASK, regularizer_config(name), F.tuning_config(d, k), "{critic_steps: 60000}"],
              "seed_everything": 0}
    if name in F.VALUES:
        params[F.VALUES[name][0]] = F.gan_lambda(name) if value == "default" else value
    return {**params, "summary": {"grad_cos": cos, "ratio": ratio}}


def gan_row(name, seed, w1_over_floor, dataset="8gaussians", init="default", weight=10.0):
    history = [{"step": 250 * (i + 1), "w1_exact": w} for i, w in enumerate([5.0, 5.0, *[w1_over_floor * 0.1] * 4])]
    summary = {"history": history, "noise_floor": 0.1, "noise_floor_sd": 0.01, "dataset": dataset, "weight": weight, "penalty": name}
    if name in ("gp", "lp"):
        config = [C.INITS[init]]
    elif name == "clip":
        config, summary["clip_value"] = [f"conf/toy/{dataset}_clip.yaml", C.INITS[init]], 0.01
    else:
        config = [C.INITS[init], regularizer_config(name)]
    return {"config": config, "seed_everything": seed, "summary": summary}


def test_each_regularizer_at_its_gan_lambda_side_by_side_and_the_rank_correlation(tmp_path):
    pairs = F.FULL.tuning
    cosines = {"lp": 0.9, "alp": 0.8, "clip": 0.3, "spectral": 0.2}
    ratios = {"lp": 1.0, "alp": 2.0, "clip": 0.01, "spectral": 0.4}  # |log|: 0, 0.69, 4.6, 0.92
    w1 = {"lp": 1.2, "alp": 1.5, "clip": 3.0, "spectral": 9.0}  # in the cosines' reverse order: ρ = -1
    family_rows = [critic_row(n, d, k, c, ratios[n]) for n, c in cosines.items() for d, k in pairs]
    family_rows += [critic_row("lp", 2, 4, 0.1, value=100.0)]  # another λ than the GAN's: not read
    gan_rows = [gan_row(n, s, w + 0.1 * s) for n, w in w1.items() for s in range(3)]
    gan_rows += [gan_row("lp", 0, 50.0, init="normal"), gan_row("lp", 0, 50.0, weight=1.0)]  # not the GAN grid's λ and init
    critic, gan = X.critics(family_rows), X.generators(gan_rows)
    assert critic["lp"]["cos"] == [0.9] * len(pairs) and set(critic) == set(cosines)
    assert gan[("8gaussians", "lp")]["quality"] == pytest.approx([1.2, 1.3, 1.4]) and gan[("8gaussians", "lp")]["steps"] == [750] * 3
    assert gan[("8gaussians", "spectral")]["steps"] == [math.inf] * 3  # 9 × the floor: never below 2×
    rho, lo, hi, n = X.rank_correlation(critic, {name: g for (_, name), g in gan.items()})
    # seeds shift each W1 by at most 0.2: never enough to swap two regularizers, so every draw has ρ = -1
    assert (rho, lo, hi, n) == (pytest.approx(-1.0), pytest.approx(-1.0), pytest.approx(-1.0), 4)
    assert critic["alp"]["log_error"] == pytest.approx([math.log(2.0)] * len(pairs))
    # |log| ranks lp 1, alp 2, spectral 3, clip 4 against W1's 1, 2, 4, 3: ρ = 1 - 6·2 / (4·15) = 0.8
    by_name = {name: g for (_, name), g in gan.items()}
    assert X.rank_correlation(critic, by_name, critic_key="log_error")[:3] == pytest.approx((0.8, 0.8, 0.8))
    # steps: lp and alp 750, clip and spectral never (tied last); cosine ranks 4, 3, 2, 1: ρ = -4 / √20
    assert X.rank_correlation(critic, by_name, gan_key="steps")[0] == pytest.approx(-4 / math.sqrt(20))
    image_rows = [{"config": G.configs(n), "seed_everything": 0,
                   "summary": {"history": [{"step": 250, "fid": 3.0 * q}] * 4, "fid_floor": 3.0}} for n, q in (("lp", 2.0), ("alp", 4.0))]
    speed = tmp_path / "gan_speed.json"
    speed.write_text(json.dumps({"speed_vs_none": {"lp": 0.55, "alp": 0.447}, "none_steps_per_s": 21.0, "threads": 1, "rounds": 3,
                                 "command": "python benchmarks/bench.py --regularizers --gan --save"}))
    text = X.report(family_rows, gan_rows, tmp_path, (tmp_path / "family.jsonl", tmp_path / "convergence.jsonl"), image_rows, speed)
    assert "| 8gaussians: steps to 2× floor | digits: FID / floor | toy GAN speed vs none |" in text and "| 2.00 | 0.55 |" in text
    assert "| 4.00 | 0.45 |" in text and "3 rounds, 1 thread(s) as in the grid; none ran at 21.0 critic steps/s" in text
    assert "| lp | 10 | 0.900 ± 0.000 | 1.00 ± 0.00 | 1.30 ± 0.10 | 750 ± 0 |" in text
    assert "| spectral | - | 0.200 ± 0.000 | 0.40 ± 0.00 | 9.10 ± 0.10 | never | - | - |" in text  # not measured: -
    assert "not measured yet" in X.report(family_rows, gan_rows, tmp_path, (tmp_path / "f", tmp_path / "c"), [], tmp_path / "no.json")
    assert "| clip | 0.01 |" in text
    assert "| 8gaussians | funnel cosine | final quality / floor | 4 | -1.00 | -1.00 to -1.00 | < 0 |" in text
    assert "| 8gaussians | funnel \\|log(estimate / W1)\\| | final quality / floor | 4 | +0.80 | +0.80 to +0.80 | > 0 |" in text
    assert "| 8gaussians | funnel cosine | steps to 2× floor | 4 | -0.89 |" in text
    assert "| digits | funnel cosine | final quality / floor | 2 | - (needs 3 regularizers with both) |" in text
    assert "| digits | funnel cosine | steps" not in text  # the digits have no steps to the floor
    two = X.markdown(critic, {("8gaussians", n): gan[("8gaussians", n)] for n in ("lp", "alp")})
    assert "| 8gaussians | funnel cosine | final quality / floor | 2 | - (needs 3 regularizers with both) | - |" in two
    assert "nan" not in two
    assert (tmp_path / "crosstable.png").stat().st_size > 10_000


def test_a_correlation_needs_three_regularizers_and_its_interval_widens_with_overlapping_seeds():
    critic = {"a": {"cos": [0.9, 0.5]}, "b": {"cos": [0.7]}, "c": {"cos": [0.6]}}
    assert math.isnan(X.rank_correlation(critic, {"a": {"quality": [1.0]}, "b": {"quality": [2.0]}})[0])
    rho, lo, hi, n = X.rank_correlation(critic, {"a": {"quality": [1.0, 5.0]}, "b": {"quality": [2.0]}, "c": {"quality": [3.0]}})
    # cosine ranks a 2.5, b 2.5, c 1 (a ties b); W1 ranks a 2.5, b 1, c 2.5: ρ = -0.75 / 1.5 = -0.5. Redrawn, a's
    # cosine is 0.9, 0.7 or 0.5 and its W1 1, 3 or 5; a at cosine 0.5 and W1 5 (1 draw in 16) gives ρ = -1, a at
    # 0.9 and 5 (1 in 16, more than the 5 % beyond each percentile) ρ = 0.5, the highest any draw reaches
    assert (rho, lo, hi, n) == (pytest.approx(-0.5), pytest.approx(-1.0), pytest.approx(0.5), 3)


def test_an_estimate_at_or_below_zero_is_infinitely_far_from_w1_and_ties_say_so():
    critic = X.critics([critic_row("lp", 2, 4, 0.9, -0.5), critic_row("alp", 2, 4, 0.8, 1.0), critic_row("clip", 2, 4, 0.3, 1.0)])
    assert critic["lp"]["log_error"] == [math.inf] and critic["alp"]["log_error"] == [0.0]
    gan = {("8gaussians", n): {"quality": [1.5], "steps": [500.0]} for n in ("lp", "alp", "clip")}
    assert "| 8gaussians | funnel cosine | final quality / floor | 3 | - (one value for all of them) | - | < 0 |" in X.markdown(critic, gan)


def test_steps_print_whole_and_huge_scores_in_three_figures():
    assert X.spread([1500.0, 2500.0], 0) == "2000 ± 707" and X.spread([math.inf, 3000.0], 0) == "3000 (1 never)"
    assert X.spread([5.5e6, 5.6e6]) == "5.55e+06 ± 7.07e+04" and X.spread([0.8, 0.9]) == "0.850 ± 0.071"


def test_all_bootstrap_draws_at_once_give_scipys_spearman_rho_row_by_row():
    """Against scipy.stats.spearmanr called on each row: ties, inf ("never") and a
    constant row, which has no ρ."""
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(0)
    xs = rng.integers(0, 4, size=(50, 7)).astype(float)
    ys = rng.integers(0, 4, size=(50, 7)).astype(float)
    ys[::5, 2] = math.inf
    xs[3] = 1.0
    got = X.spearman_rows(xs, ys)
    assert math.isnan(got[3])
    for i in set(range(50)) - {3}:
        assert got[i] == pytest.approx(stats.spearmanr(xs[i], ys[i]).statistic, abs=1e-12), i
