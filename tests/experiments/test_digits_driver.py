"""The digits driver: every regularizer composes with the digits config into a
convolutional critic that meets its contracts; the report by hand; --quick (slow)."""

import json
import math

import pytest
import yaml
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import digits as G
from lightning_wgan.experiments.benchmark import regularizer_config
from lightning_wgan.experiments.common import final
from lightning_wgan.sweep import RunTable, collect, expand, run_id, to_args


def test_every_regularizer_is_a_valid_image_run_with_its_convolutional_critic(tmp_path, monkeypatch):
    from lightning_wgan import contracts
    from lightning_wgan.cli import WGANCLI
    from lightning_wgan.networks import DCGANCritic, LipschitzDCGANCritic

    monkeypatch.chdir(REPO)
    runs = expand(G.sweep(G.FULL))
    assert len(runs) == 12 and {G.describe(p) for p in runs} == set(G.FULL.regularizers)
    for params in runs:
        name = G.describe(params)
        cli = WGANCLI(args=[*to_args(params), *G.RUN_ARGS, f"--run_dir={tmp_path / 'run'}"], run=False)
        model, dm = cli.model, cli.datamodule
        cli.datamodule.setup("fit")
        contracts.check(model, dm)  # the critic scores images, the penalty accepts it (CT: dropout and a head)
        critic = model.critic
        assert isinstance(critic, LipschitzDCGANCritic if name == "torchlip" else DCGANCritic), name
        if name != "torchlip":  # its layers are parametrized their own way (orthonormalized)
            assert hasattr(critic.net[0], "parametrizations") == (name == "spectral"), name
        assert any(type(m).__name__ == "Dropout" for m in critic.modules()) == (name == "lp+ct"), name
        penalty = yaml.safe_load((REPO / params["config"][1]).read_text())["model"]["init_args"].get("penalty")
        assert type(model.penalty).__name__ == (penalty["class_path"].rsplit(".", 1)[1] if penalty else "NoneType"), name
        if name == "alp":  # ε at the scale of images (Terjék's pixel-space range), not alp.yaml's toy [0.01, 1]
            assert (model.penalty.epsilon_min, model.penalty.epsilon_max) == (0.1, 10.0)


def test_the_final_fid_is_the_mean_of_the_last_evaluations_and_the_table_by_hand(tmp_path):
    history = [{"step": 250 * i, "fid": f, "w1_exact": 8.0, "w1_critic": c}
               for i, (f, c) in enumerate([(90.0, 1.0), (40.0, 1.0), (20.0, 2.0), (12.0, 2.0), (10.0, 4.0), (8.0, 4.0)], start=1)]
    summary = {"history": [*history, {"step": 1600}], "fid_floor": 2.0, "critic_steps_per_s": 30.0}
    assert final(summary, "fid") == pytest.approx((20 + 12 + 10 + 8) / 4) and final(summary, "w1_critic") == pytest.approx(3.0)
    assert math.isnan(final(summary, "modes_covered"))  # no evaluation measured it
    rows = [{"config": G.configs("alp"), "seed_everything": 0, "summary": summary}]
    text = G.report(rows, tmp_path, tmp_path / "t.jsonl")
    assert "| alp | 10 | 1 | 12.50 | 6.25 | 8.00 (1500) | 0.375 | 30.0 | - |" in text  # estimate 3 over W1 8; speed not measured yet
    assert "not measured yet: `python benchmarks/bench.py --regularizers --digits --save` writes `digits_speed.json`" in text
    (tmp_path / G.SPEED).write_text(json.dumps({"speed_vs_none": {"alp": 0.404}, "none_steps_per_s": 12.0, "threads": 1,
                                                "rounds": 3, "command": "python benchmarks/bench.py --regularizers --digits"}))
    text = G.report(rows, tmp_path, tmp_path / "t.jsonl")
    assert "| 30.0 | 0.40 |" in text and "3 rounds, 1 thread(s) as in the grid; none ran at 12.0 critic steps/s" in text
    assert "earlier settings" not in text


def test_a_run_of_a_setting_since_changed_stays_apart(tmp_path):
    """The first ALP run had the toys' ε: kept and shown, but not counted as the grid's
    ALP run nor put in the cross-table."""
    from lightning_wgan.experiments import crosstable

    summary = {"history": [{"step": 250, "fid": 10.0, "w1_exact": 8.0, "w1_critic": 700.0}], "fid_floor": 2.0, "critic_steps_per_s": 9.0}
    toys = [G.TASK, regularizer_config("alp")]
    table = RunTable(tmp_path / "digits.jsonl")
    for config in (toys, G.configs("lp")):
        params = {"config": config, "seed_everything": 0}
        table.put([{"sweep": "digits", "run": run_id(params), "finished": True, "params": params, "summary": summary}])
    assert toys != G.configs("alp") and not G.current({"config": toys}) and G.current({"config": G.configs("lp")})
    assert G.finished_runs(table) == 1 and G.total_runs() == 12
    rows = collect(table, ["digits"])
    text = G.report(rows, tmp_path, tmp_path / "t.jsonl")
    grid, earlier = text.split("## Runs of earlier settings")
    assert "(1 runs)" in grid and "| lp | 10 | 1 | 10.00 | 5.00 |" in grid and "| alp |" not in grid
    assert "(alp: see `IMAGE_PENALTY`" in earlier and "| alp | 10 | 1 | 10.00 | 5.00 | 10.00 (250) | 87.5 |" in earlier
    assert set(crosstable.images(rows)) == {("digits", "lp")}


@pytest.mark.slow
def test_quick_driver_writes_its_report(tmp_path):
    run_module("lightning_wgan.experiments.digits", "--quick", "--runs", str(tmp_path))
    text = (tmp_path / "digits.md").read_text()
    assert "(2 runs)" in text and "| lp | 10 | 1 |" in text and "| torchlip | - | 1 |" in text
