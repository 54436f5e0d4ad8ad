"""The images driver: every regularizer's two critics on the digits funnel pair parse into
the critics they name, at the λ the family grid chose; the report by hand; --quick (slow)."""

import pytest
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import family as F
from lightning_wgan.experiments import images as I
from lightning_wgan.experiments.benchmark import regularizer_config
from lightning_wgan.sweep import RunTable, expand, run_id, to_args

CLASSES = {("dcgan", "torchlip"): "LipschitzDCGANCritic", ("mlp", "torchlip"): "LipschitzMLPCritic"}


@pytest.mark.parametrize("name", ["lp", "lp+ct", "spectral", "torchlip", "clip", "alp"])
def test_each_regularizer_trains_both_critics_on_the_pair_at_its_chosen_value(tmp_path, monkeypatch, name):
    from lightning_wgan.cli import WGANCLI

    monkeypatch.chdir(REPO)
    lam = {"lp": 100.0, "lp+ct": 1.0, "clip": 0.04, "alp": 1.0}.get(name)
    runs = expand(I.sweep(name, lam))
    assert len(runs) == len(I.CRITICS) and {I.describe(p)["critic"] for p in runs} == set(I.CRITICS)
    for params in runs:
        d = I.describe(params)
        cli = WGANCLI(args=[*to_args(params), *I.RUN_ARGS, f"--run_dir={tmp_path / 'run'}"], run=False)
        model, dm, config = cli.model, cli.datamodule, cli.config.get("fit", cli.config)
        assert d["regularizer"] == name and d["value"] == lam and config["critic_steps"] == 10_000
        assert dm.dataset == "digits" and dm.batch_size == 256 and not dm.paired_training
        expected = CLASSES.get((d["critic"], name), "MLPCritic" if d["critic"] == "mlp" else "DCGANCritic")
        assert type(model.critic).__name__ == expected
        if d["critic"] == "mlp":
            sizes = [m.out_features for m in model.critic.modules() if hasattr(m, "out_features")]
            assert sizes[-3:] == [512, 512, 1], sizes  # 256 → 512 → 512 → 1, whichever class
        if name == "spectral":
            assert config["model"]["init_args"]["critic"]["init_args"]["spectral_norm"] is True
        if name == "lp+ct":
            assert config["model"]["init_args"]["critic"]["init_args"]["dropout"] == 0.1 and model.penalty.penalty.weight == 1.0
        if name == "lp":
            assert model.penalty.weight == 100.0
        if name == "clip":
            assert model.penalty.clip_value == 0.04
        if name == "alp":  # ε at the scale of images, not alp.yaml's toy [0.01, 1], under either critic
            assert (model.penalty.weight, model.penalty.epsilon_min, model.penalty.epsilon_max) == (1.0, 0.1, 10.0)


def test_a_regularizer_waits_for_the_family_grids_choice(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(I, "run_sweep", lambda spec, out, *a, **k: asked.append(out.name))
    tuning = RunTable(tmp_path / "family.jsonl")
    for v, cos in ((1.0, 0.5), (10.0, 0.9), (100.0, 0.7)):  # LP tuned: 10 wins; GP not tuned yet
        for d, k in F.FULL.tuning:
            params = {"config": [F.TASK, regularizer_config("lp"), F.tuning_config(d, k), "{critic_steps: 60000}"],
                      "seed_everything": 0, F.VALUES["lp"][0]: v}
            tuning.put([{"sweep": "tuning-lp", "run": run_id(params), "finished": True, "params": params, "summary": {"grad_cos": cos}}])
    assert I.value("lp", I.FULL, tuning) == 10.0 and I.value("gp", I.FULL, tuning) is None
    assert I.value("gp", I.QUICK, tuning) == F.gan_lambda("gp")  # the quick grid: the config's default
    I.run(I.FULL, tmp_path, RunTable(tmp_path / "images.jsonl"), 1, tuning)
    assert "images-lp" in asked and "images-gp" not in asked and {"images-none", "images-spectral", "images-torchlip"} <= set(asked)


def test_the_report_by_hand(tmp_path):
    def row(name, kind, ratio, cos, speed, lam=None):
        params = {"config": I.critic_configs(kind, name), "seed_everything": 0, **({F.VALUES[name][0]: lam} if lam else {})}
        history = [{"step": 6000, "grad_cos": cos - 0.1}, {"step": 10_000, "grad_cos": cos}]
        return {**params, "summary": {"ratio": ratio, "grad_cos": cos, "grad_l2": 0.5, "critic_steps_per_s": speed, "critic_steps": 10_000,
                                      "w1_exact": 2.312, "history": history, "wall_time_s": 600.0}}

    rows = [row("none", "dcgan", 50.0, 0.1, 20.0), row("none", "mlp", 80.0, 0.1, 40.0),
            row("lp", "dcgan", 0.9, 0.8, 10.0, 10.0), row("lp", "mlp", 0.7, 0.6, 30.0, 10.0)]
    text = I.report(rows, tmp_path, I.FULL, tmp_path / "t.jsonl")
    assert "(4 of the\ngrid's 26 runs)" in text and "exact W1 2.312" in text
    assert "| lp | 10 | 0.900 | 0.800 | 0.500 | +0.100 | 0.50 | 0.700 | 0.600 | 0.500 | +0.100 | 0.75 |" in text
    assert "| gp |" not in text and "| none | - | 50.000 | 0.100 |" in text


@pytest.mark.slow
def test_quick_driver_writes_its_report(tmp_path):
    proc = run_module("lightning_wgan.experiments.images", "--quick", "--runs", str(tmp_path))
    text = (tmp_path / "images.md").read_text()
    assert "(4 of the\ngrid's 4 runs)" in text and "| lp | 10 |" in text and "| none | - |" in text
    assert "Trainable params" not in proc.stdout + proc.stderr
