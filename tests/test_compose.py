"""Configs compose: the always-on callbacks once each, every optional callback that a
config file or flag adds, and the same set again from a run's own config.yaml."""

import itertools
from collections import Counter

import pytest
import yaml
from conftest import REPO, TINY, run_cli

from lightning_wgan.cli import ALWAYS_ON, OPTIONAL_DEFAULTS, WGANCLI

CALLBACK_CONFIGS = sorted((REPO / "conf" / "callbacks").glob("*.yaml"))


def added_by(config) -> list[str]:
    """Class names of the callbacks a conf/callbacks file adds."""
    entries = yaml.safe_load(config.read_text())["trainer"]["callbacks+"]
    return [e["class_path"].rpartition(".")[2] for e in entries]


def active(cli: WGANCLI) -> Counter:
    return Counter(type(cb).__name__ for cb in cli.trainer.callbacks)


def build(tmp_path, *args: str) -> WGANCLI:
    """The CLI's trainer for these arguments, without training."""
    return WGANCLI(args=[*TINY, *args, "--run_dir", str(tmp_path / "run")], run=False)


BUILT_IN = {c.__name__ for c in (*ALWAYS_ON.values(), *OPTIONAL_DEFAULTS.values())}


@pytest.mark.parametrize("first, second", list(itertools.permutations(CALLBACK_CONFIGS, 2)), ids=lambda p: p.stem)
def test_every_pair_of_callback_configs_composes(tmp_path, first, second):
    cli = build(tmp_path, "--config", str(first), "--config", str(second))
    counts = active(cli)
    for name in (*added_by(first), *added_by(second), *BUILT_IN):
        assert counts[name] == 1, (name, counts)


def test_print_config_shows_the_active_callbacks(tmp_path, capsys):
    ema, warmup = (REPO / "conf" / "callbacks" / f for f in ("ema.yaml", "lambda_warmup.yaml"))
    with pytest.raises(SystemExit):
        WGANCLI(args=["fit", "--config", str(ema), "--config", str(warmup), "--monitor", "null", "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert [c["class_path"] for c in config["trainer"]["callbacks"]] == ["callbacks.GeneratorEMA", "callbacks.schedules.LinearWarmup"]
    assert config["monitor"] is None and config["sample_plot"]["class_path"] == "callbacks.SamplePlot"
    assert config["checkpoint"]["save_last"] is True


def test_a_users_callback_from_a_flag_joins_the_defaults(tmp_path):
    cli = run_cli(tmp_path / "run", "--generator_steps", "1", "--trainer.callbacks+=tests.helpers.CountFitStarts",
                  "--trainer.callbacks.label=x", figures=True)
    counts = active(cli)
    assert counts["CountFitStarts"] == 1 and all(counts[name] == 1 for name in BUILT_IN)
    mine = next(cb for cb in cli.trainer.callbacks if type(cb).__name__ == "CountFitStarts")
    assert (mine.label, mine.fits) == ("x", 1)


def test_optional_defaults_switch_off_and_take_new_settings(tmp_path):
    counts = active(build(tmp_path, "--monitor", "null", "--sample_plot", "null"))
    assert counts["GradNormMonitor"] == counts["SamplePlot"] == 0
    assert all(counts[c.__name__] == 1 for c in ALWAYS_ON.values())
    cli = build(tmp_path, "--monitor.every", "7", "--checkpoint.every_n_train_steps", "12", "--finite_guard.check_every", "3")
    monitor = next(cb for cb in cli.trainer.callbacks if type(cb).__name__ == "GradNormMonitor")
    assert (monitor.every, cli.trainer.checkpoint_callback._every_n_train_steps) == (7, 12)
    assert next(cb for cb in cli.trainer.callbacks if type(cb).__name__ == "FiniteGuard").check_every == 3


def test_an_optional_default_switched_off_does_not_run(tmp_path):
    run = tmp_path / "run"
    run_cli(run, "--generator_steps", "2", "--sample_plot", "null", figures=True)
    assert (run / "summary.json").is_file() and not (run / "samples.png").exists()


def test_resume_from_the_runs_own_config_has_the_same_callbacks_once(tmp_path):
    run = tmp_path / "run"
    ema, warmup = (str(REPO / "conf" / "callbacks" / f) for f in ("ema.yaml", "lambda_warmup.yaml"))
    first = run_cli(run, "--generator_steps", "2", "--config", ema, "--config", warmup, "--monitor.every", "3")
    resumed = WGANCLI(args=["fit", "--config", str(run / "config.yaml"), "--generator_steps", "4", "--ckpt_path", "last"])
    assert active(resumed) == active(first)
    assert resumed.model.generator_steps == 4
    assert next(cb for cb in resumed.trainer.callbacks if type(cb).__name__ == "GradNormMonitor").every == 3
