"""The funnel benchmark driver: its grid parses into the published protocol, its report
by hand on made-up runs, the --quick grid end to end (slow)."""

import json
import math

import pytest
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import funnels as F
from lightning_wgan.sweep import expand, to_args


def test_every_method_and_pair_of_the_grid_is_the_published_protocol(tmp_path, monkeypatch):
    from lightning_wgan.cli import WGANCLI

    monkeypatch.chdir(REPO)
    runs = expand(F.sweep(F.FULL))
    assert len(runs) == 28 * len(F.METHODS)
    pairs = list(dict.fromkeys((F.describe(p)["d"], F.describe(p)["K"]) for p in runs))
    assert pairs[-1] == (128, 256)
    for pair in pairs[::9]:  # every method of a few pairs, each once, the last (d 128, K 256) among them
        for i, p in enumerate(expand(F.sweep(F.Grid([pair], [0], None, [])))):
            cli = WGANCLI(args=[*to_args(p), *F.RUN_ARGS, f"--run_dir={tmp_path / 'run'}"], run=False)
            method, d = list(F.METHODS)[i], F.describe(p)["d"]
            assert F.describe(p)["method"] == method
            config = cli.config.get("fit", cli.config)
            assert config["critic_steps"] == {"clip": 5000, "spectral": 10_000, "none": 2000, "torchlip": 25_000}.get(method, 60_000)
            dm, model = cli.datamodule, cli.model
            assert dm.dim == d and dm.transform.file.endswith(f"d{d}_w{F.describe(p)['K']}.npz") and not dm.paired_training
            assert dm.batch_size == 1024 and dm.grad_size == 4096 and dm.val_size == 4096
            optimizer = model.configure_optimizers()
            assert optimizer.defaults["lr"] == 2e-4 and optimizer.defaults["betas"] == (0.0, 0.9)
            widths = [m.out_features for m in model.critic.modules() if hasattr(m, "out_features")]
            assert widths[-3:] == [max(2 * d, 128)] * 2 + [1]
            assert regularized_as(method, model), method


def regularized_as(method, model):
    """Whether ``model`` carries the published protocol's regularizer for ``method``."""
    from lightning_wgan.networks import LipschitzMLPCritic

    penalty = model.penalty
    if method == "clip":
        return penalty.clip_value == 0.04
    if method in ("gp", "lp"):
        return penalty.weight == 10.0 and penalty.name == method
    if method == "torchlip":
        return penalty is None and isinstance(model.critic, LipschitzMLPCritic)
    if method == "spectral":
        return penalty is None and hasattr(model.critic.net[0], "parametrizations")
    return penalty is None


def row(method, d, k, ratio, cos, l2, speed, seed=0):
    config, protocol, _ = F.METHODS[method]
    params = {"config": [F.TASK, config, F.cell_config(d, k), F.flow(protocol)], "seed_everything": seed}
    return {**params, "summary": {"ratio": ratio, "grad_cos": cos, "grad_l2": l2, "critic_steps_per_s": speed,
                                  "critic_steps": protocol["critic_steps"]}}


def test_the_report_by_hand(tmp_path):
    rows = [row("lp", 2, 4, 1.0, 0.8, 0.2, 50), row("lp", 2, 4, 0.9, 0.6, 0.4, 30, seed=1), row("none", 2, 4, 9.0, 0.1, 5.0, 100),
            row("none", 2, 4, 9.0, 0.1, 5.0, 60, seed=1), row("clip", 8, 64, 0.1, 0.3, 0.9, 99)]
    table = F.summarize(rows)
    lp = table[(2, 4, "lp")]
    assert (lp["ratio"], lp["cos"], lp["l2"], lp["seeds"]) == (pytest.approx(0.95), pytest.approx(0.7), pytest.approx(0.3), 2)
    assert lp["speed"] == pytest.approx(0.5)  # 50/100 and 30/60
    text = F.markdown(table, F.published())
    # published_metrics.csv, d 2, K 4, wgan-lp: cos 0.8176, l2 0.1708, estimate 0.8850 over true W1 0.8174
    assert f"| 2 | 4 | lp | 60000 | 0.950 ({0.8850 / 0.8174:.3f}) | 0.700 (0.818) | 0.300 (0.171) | -, - | 0.50 |" in text
    # clip at d 8, K 64 has no run without a regularizer beside it: no speed
    assert "| none |" not in text and "| 8 | 64 | clip | 5000 | 0.100 (" in text and text.rstrip().endswith("| -, - | - |")
    F.figure(table, F.published(), tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    # the speed measured side by side: the five methods' rows of bench.py's table, not the rest of the family's
    (tmp_path / F.FUNNEL_SPEED).write_text(json.dumps({"d8_w16": {
        "speed_vs_none": {"lp": 0.61, "alp": 0.3, "torchlip": 0.4}, "none_steps_per_s": 129.0, "rounds": 3, "threads": 1,
        "command": "python benchmarks/bench.py --regularizers --pair d8_w16 --save"}}))
    for r in rows:
        r["summary"]["wall_time_s"] = 60.0
    F.report(rows, tmp_path, 12, tmp_path / "t.jsonl")
    text = (tmp_path / "funnels.md").read_text()
    assert "| regularizer | d8_w16 |\n|---|---|\n| torchlip | 0.40 |\n| lp | 0.61 |\n| none (steps/s) | 129 |" in text


def test_settling_is_the_change_over_the_second_half_of_a_run():
    from lightning_wgan.experiments.common import drift

    # the evaluation nearest the middle of 60 000 steps is the one at 30 000; older runs kept no cosine
    history = [{"step": s, "w1_critic": c, "w1_exact": 2.0, "grad_cos": g}
               for s, c, g in ((5000, 1.0, 0.2), (30_000, 1.6, 0.6), (35_000, 1.7, 0.62), (60_000, 1.8, 0.65))]
    assert drift(history, "ratio") == pytest.approx(0.9 - 0.8) and drift(history) == pytest.approx(0.65 - 0.6)
    old = [{k: v for k, v in h.items() if k != "grad_cos"} for h in history]
    assert math.isnan(drift(old)) and drift(old, "ratio") == pytest.approx(0.1) and math.isnan(drift(history[:1], "ratio"))
    r = row("lp", 2, 4, 0.9, 0.65, 0.2, 50)
    r["summary"]["history"] = history
    entry = F.summarize([r])[(2, 4, "lp")]
    assert (entry["settling_ratio"], entry["settling_grad_cos"]) == (pytest.approx(0.1), pytest.approx(0.05))
    assert "| +0.100, +0.050 |" in F.markdown(F.summarize([r]), F.published())


@pytest.mark.slow
def test_quick_driver_writes_its_report(tmp_path):
    proc = run_module("lightning_wgan.experiments.funnels", "--quick", "--runs", str(tmp_path))
    text = (tmp_path / "funnels.md").read_text()
    assert "12 of the grid's 12 runs" in text and text.count("| 2 | 16 |") == 5 and text.count("| 8 | 4 |") == 5
    assert "Trainable params" not in proc.stdout + proc.stderr  # each run's framework output is in its log
