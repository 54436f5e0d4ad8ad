"""The strongest-critic driver: its candidates parse into the sizes they name on our own
pairs, the rule and the report by hand, the --quick grid end to end (slow)."""

import pytest
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import strongest as S
from lightning_wgan.experiments.family import TUNING_SEED
from lightning_wgan.sweep import expand, to_args


def test_every_candidate_is_the_critic_it_names_on_our_pairs_then_the_published(tmp_path, monkeypatch):
    from lightning_wgan.cli import WGANCLI
    from lightning_wgan.networks import LipschitzMLPCritic

    monkeypatch.chdir(REPO)
    for candidate in S.CANDIDATES:
        for configs, seed in ((candidate.configs(S.FULL.tuning[-1:], TUNING_SEED), TUNING_SEED), (candidate.configs([(8, 4)], None), None)):
            (params,) = expand(S.sweep(configs))
            cli = WGANCLI(args=[*to_args(params), *S.RUN_ARGS, f"--run_dir={tmp_path / 'run'}"], run=False)
            config, dm, model = cli.config.get("fit", cli.config), cli.datamodule, cli.model
            d = S.describe(params, S.FULL)
            assert d["candidate"] == S.CANDIDATES.index(candidate) and d["tuning"] == (seed is not None)
            assert config["critic_steps"] == candidate.steps and dm.batch_size == 1024 and not dm.paired_training
            assert dm.transform.seed == TUNING_SEED if seed else dm.transform.file.endswith("d8_w4.npz")
            widths = [m.out_features for m in model.critic.modules() if hasattr(m, "out_features")]
            assert widths[-candidate.depth - 1:] == [max(2 * d["d"], candidate.width)] * candidate.depth + [1], candidate.name
            assert isinstance(model.critic, LipschitzMLPCritic) == (candidate.regularizer == "torchlip")
            sorts = [m for m in model.critic.modules() if type(m).__name__ == "GroupSort"]  # group_size 16 (2 is GroupSort2)
            assert bool(sorts) == ("group_size" in candidate.critic)
            assert all(m.group_size == candidate.critic["group_size"] for m in sorts)
            assert (model.penalty.name if model.penalty else None) == {"torchlip": None}.get(candidate.regularizer, candidate.regularizer)


def row(candidate, d, k, cos, ratio=1.0, tuning=True, minutes=1.0):
    (params,) = expand(S.sweep(candidate.configs([(d, k)], TUNING_SEED if tuning else None)))
    return {**params, "summary": {"grad_cos": cos, "ratio": ratio, "wall_time_s": 60 * minutes}}


def test_the_rule_and_the_report_by_hand(tmp_path):
    a, b = S.QUICK.candidates
    grid = S.Grid([(2, 4), (8, 16)], [(32, 64), (2, 4)], [a, b])
    rows = [row(a, 2, 4, 0.9), row(a, 8, 16, 0.5), row(b, 2, 4, 0.6)]
    assert S.choose(rows, grid) is None  # b has not run on (8, 16)
    rows.append(row(b, 8, 16, 0.8))
    assert S.choose(rows, grid) == 0  # 0.7 against 0.7: the earlier
    rows[-1]["summary"].update(grad_cos=0.81, threads=2)  # one run of b at 2 threads: its minutes say so
    assert S.choose(rows, grid) == 1
    rows += [row(b, 32, 64, 0.75, ratio=0.9, tuning=False)]
    text = S.report(rows, tmp_path, grid, tmp_path / "t.jsonl")
    assert "| lp 16×1, 100 steps | 0.900 (1.00) | 0.500 (1.00) | 0.700 | 2 |" in text
    assert "| **lp 32×2, 100 steps** (chosen) | 0.600 (1.00) | 0.810 (1.00) | 0.705 | 2 (1/2 threads) |" in text
    # published_metrics.csv at d 32, K 64: the best cosine is sort-out's 0.7395 (estimate 1.0569 / W1 1.5429); wgan-lp 0.7298
    assert f"| 32 | 64 | 0.750 | 0.900 | 0.740 (sort-out) | {1.0569 / 1.5429:.3f} | 0.730 | ✓ | ✗ |" in text
    assert "| 2 | 4 | - | - | 0.859 (wgan-qp) |" in text and "Above the best published solver on 1 of the 1 pairs done." in text


@pytest.mark.slow
def test_quick_driver_writes_its_report(tmp_path):
    proc = run_module("lightning_wgan.experiments.strongest", "--quick", "--runs", str(tmp_path))
    text = (tmp_path / "strongest.md").read_text()
    assert "(3 runs)" in text and "(chosen)" in text and "| 2 | 16 | 0." in text
    assert "Trainable params" not in proc.stdout + proc.stderr
