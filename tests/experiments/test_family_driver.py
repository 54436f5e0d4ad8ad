"""The family driver: its runs parse into the project's protocol on the right pairs, the
λ rule and the report by hand on made-up runs, the --quick grid end to end (slow)."""

import json
import math

import pytest
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import family as F
from lightning_wgan.experiments.benchmark import REGULARIZERS, regularizer_config
from lightning_wgan.sweep import expand, to_args


def test_every_regularizer_trains_equal_steps_tuned_on_our_pairs_and_scored_on_the_published(tmp_path, monkeypatch):
    from lightning_wgan.cli import WGANCLI

    monkeypatch.chdir(REPO)
    grid = F.FULL
    assert set(grid.regularizers) == set(REGULARIZERS) and grid.regularizers[0] == "none"
    assert len(expand(F.tuning_sweep("lp", grid))) == 3 * 2 and len(expand(F.published_sweep("lp", grid, 10.0, F.SEEDS))) == 8 * 3
    for name in grid.regularizers:
        tuning = expand(F.tuning_sweep(name, grid))
        assert len(tuning) == 2 * len(grid.values_of(name))
        scored = expand(F.published_sweep(name, grid, F.VALUES[name][1][1] if name in F.VALUES else None, (0,)))
        for params in [*tuning[-1:], scored[-1]]:  # a tuning run at the largest value, the last published pair (d 128, K 64)
            cli = WGANCLI(args=[*to_args(params), *F.run_args(grid), f"--run_dir={tmp_path / 'run'}"], run=False)
            config, dm, model, d = cli.config.get("fit", cli.config), cli.datamodule, cli.model, F.describe(params)
            assert config["critic_steps"] == 60_000 and config["eval_every"] == 5000
            assert dm.batch_size == 1024 and dm.grad_size == 4096 and not dm.paired_training and dm.dim == d["d"]
            funnels = dm.transform
            if d["tuning"]:
                assert funnels.file is None and funnels.seed == F.TUNING_SEED and funnels.centres(d["d"])[0].shape == (d["K"], d["d"])
            else:
                assert funnels.file.endswith(f"d{d['d']}_w{d['K']}.npz") and (d["d"], d["K"]) == (128, 64)
            optimizer = model.configure_optimizers()
            assert optimizer.defaults["lr"] == 2e-4 and optimizer.defaults["betas"] == (0.0, 0.9)
            assert [m.out_features for m in model.critic.modules() if hasattr(m, "out_features")][-3:] == [max(2 * d["d"], 128)] * 2 + [1]
            if name == "clip":
                assert model.penalty.clip_value == d["value"]
            elif name in F.VALUES:
                inner = getattr(model.penalty, "penalty", model.penalty)  # LP + CT: λ is the LP's
                assert inner.weight == d["value"], name
    # WGAN-div: its config's k = 2 besides 1, 10, 100; spectral norm, torchlip and none once on each tuning pair
    assert F.total_runs(grid) == (9 * 3 + 4 + 3) * 2 + 13 * 8 * 3


def test_the_values_tried_include_each_configs_default():
    assert F.config_value("div", F.VALUES["div"][0]) == 2.0 and F.VALUES["div"][1] == (1.0, 2.0, 10.0, 100.0)
    assert F.config_value("lp+ct", F.VALUES["lp+ct"][0]) == 10.0 and F.config_value("clip", F.CLIP_FLAG) == 0.01
    assert all(F.config_value(name, flag) in values for name, (flag, values) in F.VALUES.items())


def test_the_runs_the_crosstable_reads_come_first_with_the_same_run_ids(tmp_path, monkeypatch):
    """Every regularizer at its GAN λ on the tuning pairs, before any other run: the same
    runs (same ids) as the tuning sweep's, so nothing is trained twice."""
    from lightning_wgan.sweep import RunTable, run_id

    asked = []
    monkeypatch.setattr(F, "run_sweep", lambda spec, out, *a, **k: asked.append((out.name, {run_id(p) for p in expand(spec)})))
    F.run(F.FULL, tmp_path, RunTable(tmp_path / "t.jsonl"), jobs=1)  # an empty table: no λ is chosen, no published run starts
    first = asked[: len(F.ORDER)]
    assert [name for name, _ in first] == [f"tuning-{n}" for n in F.ORDER]
    for (_, ids), name in zip(first, F.ORDER, strict=True):
        full = {run_id(p) for p in expand(F.tuning_sweep(name, F.FULL))}
        assert len(ids) == len(F.FULL.tuning) and ids <= full, name
        if name in F.VALUES:
            assert {p[F.VALUES[name][0]] for p in expand(F.tuning_sweep(name, F.FULL, F.gan_lambda(name)))} == {F.gan_lambda(name)}
    assert F.gan_lambda("lp") == 10.0 and F.gan_lambda("div") == 2.0 and F.gan_lambda("clip") == 0.01 and F.gan_lambda("spectral") is None
    published = [name for name, _ in asked if name.startswith("published-")]
    assert set(published) == {"published-none", "published-spectral", "published-torchlip"}  # no hyperparameter to choose


def row(name, d, k, value, cos, ratio=1.0, seed=0, tuning=False, l2=0.1, speed=50.0, history=()):
    cell = F.tuning_config(d, k) if tuning else F.cell_config(d, k)
    params = {"config": [F.TASK, regularizer_config(name), cell, "{critic_steps: 60000}"],
              "seed_everything": seed}
    if name in F.VALUES:
        params[F.VALUES[name][0]] = value
    return {**params, "summary": {"grad_cos": cos, "ratio": ratio, "grad_l2": l2, "critic_steps_per_s": speed,
                                  "critic_steps": 60_000, "history": list(history), "wall_time_s": 360.0}}


def test_the_rule_picks_the_highest_mean_cosine_on_the_tuning_pairs_only():
    grid = F.FULL
    pairs = grid.tuning
    rows = [row("lp", d, k, v, cos, tuning=True) for (d, k) in pairs for v, cos in ((1.0, 0.5), (10.0, 0.7), (100.0, 0.6))]
    rows.append(row("lp", 2, 4, 100.0, 0.99))  # a published pair: never looked at
    assert F.choose(rows, "lp", grid) == 10.0
    assert F.choose(rows[1:], "lp", grid) is None  # a tuning run missing: no choice yet
    # the mean decides, not the best pair: (0.8 + 0.5)/2 = 0.65 < 0.7
    skewed = [row("gp", d, k, 1.0, 0.8 if i == 0 else 0.5, tuning=True) for i, (d, k) in enumerate(pairs)]
    skewed += [row("gp", d, k, v, 0.7, tuning=True) for (d, k) in pairs for v in (10.0, 100.0)]
    assert F.choose(skewed, "gp", grid) == 10.0  # 10 and 100 tie at 0.7: the smaller
    assert F.choose(rows, "spectral", grid) is None  # no hyperparameter


def test_the_report_by_hand(tmp_path):
    history = [{"step": s, "grad_cos": c} for s, c in ((5000, 0.2), (30_000, 0.6), (35_000, 0.65), (60_000, 0.8))]
    rows = [row("lp", d, k, v, 0.7 if v == 10.0 else 0.4, ratio=0.9, tuning=True) for d, k in F.FULL.tuning for v in (1.0, 10.0, 100.0)]
    rows += [row("lp", 2, 4, 10.0, 0.8, ratio=1.0, seed=0, speed=40, history=history),
             row("lp", 2, 4, 10.0, 0.6, ratio=0.8, seed=1, speed=30, history=history),
             row("none", 2, 4, None, 0.1, ratio=9.0, seed=0, speed=80), row("none", 2, 4, None, 0.1, ratio=9.0, seed=1, speed=50)]
    tuned, table = F.summarize(rows)
    assert tuned[("lp", 10.0)] == {"cos": pytest.approx(0.7), "ratio": pytest.approx(0.9), "pairs": 2}
    lp = table[(2, 4, "lp")]
    assert (lp["grad_cos"], lp["grad_cos_sd"], lp["ratio"], lp["seeds"], lp["value"]) == (
        pytest.approx(0.7), pytest.approx(math.sqrt(0.02)), pytest.approx(0.9), 2, 10.0)
    assert lp["speed"] == pytest.approx(0.55)  # median of 40/80 and 30/50
    assert lp["settling"] == pytest.approx(0.8 - 0.6)  # last less the evaluation nearest step 30 000
    assert math.isnan(table[(2, 4, "none")]["settling"])  # no cosine in its history
    F.report(rows, tmp_path, F.FULL, tmp_path / "t.jsonl")
    assert "Not measured yet: `python benchmarks/bench.py --regularizers --pair d8_w16 --save`" in (tmp_path / "family.md").read_text()
    measured = {p: {"speed_vs_none": {"lp": r, "alp": r / 2}, "none_steps_per_s": n, "rounds": 3, "threads": 1,
                    "command": f"python benchmarks/bench.py --regularizers --pair {p} --save"}
                for p, r, n in (("d128_w64", 0.6, 20.0), ("d8_w16", 0.5, 150.0))}
    (tmp_path / "funnel_speed.json").write_text(json.dumps(measured))
    F.report(rows, tmp_path, F.FULL, tmp_path / "t.jsonl")
    text = (tmp_path / "family.md").read_text()
    # the pairs in order of d, the regularizers in the family's order, none's own speed last
    assert ("| regularizer | d8_w16 | d128_w64 |\n|---|---|---|\n| lp | 0.50 | 0.60 |\n| alp | 0.25 | 0.30 |\n"
            "| none (steps/s) | 150 | 20 |") in text
    assert "| lp | 1: 0.400 (0.90), 2 pairs | **10: 0.700 (0.90), 2 pairs** | 100: 0.400 (0.90), 2 pairs |  | 10 |" in text
    assert "| gp | 1: - | 10: - | 100: - |  | not yet |" in text
    # published_metrics.csv, d 2, K 4, wgan-lp: cos 0.8176, l2 0.1708, estimate 0.8850 over true W1 0.8174
    assert (f"| 2 | 4 | lp | 10 | 2 | 0.900 ± {math.sqrt(0.02):.3f} ({0.8850 / 0.8174:.3f}) | 0.700 ± {math.sqrt(0.02):.3f} (0.818) | "
            "0.100 ± 0.000 (0.171) | +0.200 | 0.55 |") in text
    assert f"{len(rows)} of the\ngrid's {F.total_runs(F.FULL)} runs" in text
    assert f"Their run time: {len(rows) * 0.1:.1f} h in all, 6 min a run on average." in text
    assert (tmp_path / "family.png").stat().st_size > 5_000 and (tmp_path / "family_settling.png").stat().st_size > 5_000


@pytest.mark.slow
def test_quick_driver_writes_its_report(tmp_path):
    proc = run_module("lightning_wgan.experiments.family", "--quick", "--runs", str(tmp_path))
    text = (tmp_path / "family.md").read_text()
    assert "10 of the\ngrid's 10 runs" in text and text.count("| 2 | 16 |") == 4  # none and spectral tune once too
    assert "Trainable params" not in proc.stdout + proc.stderr
    assert "family: 100%" in proc.stderr and "10/10" in proc.stderr and "tuning-lp:" not in proc.stderr  # one bar, over the grid
