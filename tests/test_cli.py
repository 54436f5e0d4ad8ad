"""train.py end to end: every shipped config, what a run leaves behind, the flags."""

import subprocess
import sys

import pytest
import torch
from conftest import REPO, RUNNABLE_CONFIGS, read_summary, run_cli

from lightning_wgan.cli import with_default_subcommand

SUMMARY_KEYS = {"w1_exact", "w1_critic", "noise_floor", "generator_steps", "critic_steps", "wall_time_s", "penalty", "weight", "dataset"}


@pytest.mark.parametrize("config", RUNNABLE_CONFIGS)
def test_every_config_runs_a_few_steps(config, tmp_path):
    run = tmp_path / "run"
    critic_only = "estimate" in config
    length = ["--critic_steps", "6"] if critic_only else ["--generator_steps", "3"]
    cli = run_cli(run, *length, "--eval_every", "2", config=str(REPO / config), figures=True)
    summary = read_summary(run)
    if critic_only:
        assert {"w1_critic", "w1_critic_se", "w1_exact", "rel_error"} <= summary.keys()
        assert summary["critic_steps"] == 6 and summary["generator_steps"] == 0
    else:
        assert SUMMARY_KEYS <= summary.keys()
        assert summary["generator_steps"] == 3 and summary["critic_steps"] == 3 * cli.model.n_critic
    assert [h["step"] for h in summary["history"]] == ([2, 4, 6] if critic_only else [2, 3])
    assert torch.isfinite(torch.tensor(summary["w1_exact"]))
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "config.yaml").is_file()
    assert (run / "samples.png").stat().st_size > 1000 and (run / "curves.png").stat().st_size > 1000
    if config.startswith("conf/images/"):  # the quality callback of an image config: FID and KID at every evaluation
        assert all(h["fid"] > 0 and "kid" in h for h in summary["history"])
        # Real training images are far closer to the held-out set than an untrained generator.
        assert 0 < summary["fid_floor"] < 0.2 * summary["fid"]


def test_run_length_is_in_generator_steps_and_ends_with_an_evaluation(tmp_path):
    run = tmp_path / "run"
    cli = run_cli(run, "--generator_steps", "7", "--eval_every", "5", "--model.n_critic", "3", figures=True)
    assert cli.trainer.max_steps == 7 * 4 and cli.trainer.global_step == 28
    assert (cli.model.generator_steps, cli.model.critic_steps) == (7, 21)
    # Evaluated at 5 and, though 7 is no multiple of 5, at the end.
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_000005.png", "step_000007.png"]
    assert read_summary(run)["generator_steps"] == 7


def test_penalty_data_and_sampler_from_the_command_line(tmp_path):
    run = tmp_path / "run"
    cli = run_cli(
        run,
        "--model.penalty", "lightning_wgan.penalties.GradientPenalty",
        "--model.penalty.weight", "100",
        "--model.sampler", "lightning_wgan.samplers.Perturbed",
        "--model.sampler.around", "real",
        "--data.dataset", "25gaussians",
        "--generator_steps", "1",
    )
    assert cli.model.penalty.weight == 100 and cli.model.penalty_name == "gp"
    assert cli.model.sampler.around == "real"
    summary = read_summary(run)
    assert (summary["penalty"], summary["weight"], summary["dataset"]) == ("gp", 100.0, "25gaussians")
    assert not (run / "curves.png").exists() and not (run / "samples.png").exists()  # --summary.curves null, --sample_plot null


def test_penalty_weight_shorthand_on_the_default_config(tmp_path):
    cli = run_cli(tmp_path / "run", "--model.penalty.weight", "0.5", "--generator_steps", "1")
    assert cli.model.penalty.weight == 0.5 and cli.model.penalty_name == "lp"


def test_max_steps_is_refused_with_a_pointer_to_generator_steps(tmp_path):
    with pytest.raises(SystemExit, match="set the run length with --generator_steps"):
        run_cli(tmp_path / "run", "--trainer.max_steps", "100")


def test_default_subcommand():
    assert with_default_subcommand([]) == ["fit"]
    assert with_default_subcommand(["--trainer.devices", "4"]) == ["fit", "--trainer.devices", "4"]
    assert with_default_subcommand(["validate", "--ckpt_path", "x"]) == ["validate", "--ckpt_path", "x"]
    for lacking in ("test", "predict"):  # Lightning's, but the models have no test_step or predict_step
        expected = f"^error: train.py {lacking}: the models have no {lacking} step; the subcommands are fit, validate$"
        with pytest.raises(SystemExit, match=expected):
            with_default_subcommand([lacking, "--ckpt_path", "x"])


def test_validate_from_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    run_cli(run, "--generator_steps", "2")
    fitted = read_summary(run)
    out = tmp_path / "val"
    run_cli(out, "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), subcommand="validate")
    assert read_summary(out)["w1_exact"] == pytest.approx(fitted["w1_exact"], rel=1e-6)
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"summary: {out / 'summary.json'}"


def test_train_py_as_a_user_runs_it(tmp_path):
    """A subprocess, like a user with no wandb account: no prompt (nothing to read on
    stdin), an offline wandb run, no traceback, no framework noise, summary line last."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(HOME=str(tmp_path), NETRC=str(tmp_path / "netrc"), PYTHONPATH=str(REPO))
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(REPO / "train.py"), "--generator_steps", "2", "--model.generator.init_args.width=16",
         "--model.critic.init_args.width=16", "--data.init_args.val_size=100", "--trainer.enable_progress_bar=false",
         "--run_dir", str(run)],
        env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == f"summary: {run / 'summary.json'}"
    for noise in ("Traceback", "GPU available", "Tip:", "litlogger", "does not have many workers"):
        assert noise not in proc.stdout + proc.stderr, noise
    assert "no credentials found, logging offline" in proc.stdout + proc.stderr
    offline = list((run / "wandb").glob("offline-run-*"))
    assert len(offline) == 1 and any(offline[0].glob("*.wandb"))
