"""Exact resume, preemption, the non-finite guard, atomic checkpoints, bad input."""

import os
import re
import signal
import subprocess
import sys
import time

import fsspec.implementations.local
import pytest
import torch
from conftest import REPO, TINY, read_summary, run_cli


def final_state(run):
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    return ckpt["state_dict"], ckpt["optimizer_states"], ckpt["wgan"]


def test_resume_is_bitwise_equal_to_an_uninterrupted_run(tmp_path):
    # 300 critic steps (n_critic 5: 60 generator steps) straight, against 150 + 150.
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_cli(straight, "--generator_steps", "60", "--eval_every", "15")
    run_cli(resumed, "--generator_steps", "30", "--eval_every", "15")
    run_cli(resumed, "--generator_steps", "60", "--eval_every", "15", "--ckpt_path", "last")
    (a, opt_a, wgan_a), (b, opt_b, wgan_b) = final_state(straight), final_state(resumed)
    assert wgan_a["critic_steps"] == wgan_b["critic_steps"] == 300
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for sa, sb in zip(opt_a, opt_b, strict=True):
        for pa, pb in zip(sa["state"].values(), sb["state"].values(), strict=True):
            assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert read_summary(straight)["w1_exact"] == read_summary(resumed)["w1_exact"]
    assert [h["step"] for h in read_summary(resumed)["history"]] == [15, 30, 45, 60]


# SIGINT runs through this project's handler and then the path Lightning's own SIGTERM
# handling takes, so SIGTERM (what a cluster sends) runs with the slow tests.
@pytest.mark.parametrize("signum", [pytest.param(signal.SIGTERM, marks=pytest.mark.slow), signal.SIGINT])
def test_signal_saves_a_checkpoint_exits_cleanly_and_resumes(tmp_path, signum):
    run = tmp_path / "run"
    env = {**os.environ, "WANDB_MODE": "disabled"}
    cmd = [sys.executable, str(REPO / "train.py"), *TINY, "--run_dir", str(run)]
    proc = subprocess.Popen([*cmd, "--generator_steps", "1000000", "--eval_every", "5"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not (run / "summary.json").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.stdout.read()
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "Traceback" not in out and f"stopped by {signal.Signals(signum).name}" in out
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    stopped_at = ckpt["wgan"]["generator_steps"]
    assert stopped_at >= 5 and ckpt["wgan"]["critic_steps"] == ckpt["global_step"] - stopped_at
    assert read_summary(run)["finished"] is False  # exit 0, but a sweep runner must rerun it

    target = stopped_at + 3  # resumed in this process: the stop needed a process of its own, the resume does not
    run_cli(run, "--generator_steps", str(target), "--eval_every", "5", "--ckpt_path", "last", figures=True)
    assert read_summary(run)["generator_steps"] == target and read_summary(run)["finished"] is True
    # The checkpoint callback goes on writing the file it resumed from, not a last-v1.ckpt beside it.
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.ckpt"]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["wgan"]["generator_steps"] == target


def test_nan_stops_the_run_and_never_reaches_a_checkpoint(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        run_cli(
            run, "--generator_steps", "1000", "--eval_every", "1000",
            "--trainer.callbacks+=tests.helpers.InjectNaN", "--trainer.callbacks.at=130",
            "--checkpoint.every_n_train_steps=12",
        )
    message = str(exit_info.value.code)
    assert message.startswith("error: non-finite ") and "\n" not in message
    # Caught at the first check after step 130: the periodic one or the one before a save.
    assert 130 <= int(re.search(r"critic step (\d+)", message).group(1)) <= 150
    assert f"last good checkpoint: {run / 'checkpoints' / 'last.ckpt'}" in message
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["wgan"]["critic_steps"] < 130
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


def test_a_crash_while_writing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    run = tmp_path / "run"
    cli = run_cli(run, "--generator_steps", "4")
    path = run / "checkpoints" / "last.ckpt"
    before = path.read_bytes()

    def crash(self, data):  # half the bytes reach the disk, then the process "dies"
        self.f.write(bytes(data)[: len(data) // 2])
        raise OSError("disk gone")

    monkeypatch.setattr(fsspec.implementations.local.LocalFileOpener, "write", crash)
    with pytest.raises(OSError, match="disk gone"):
        cli.trainer.save_checkpoint(path)
    assert path.read_bytes() == before
    torch.load(path, weights_only=False)


BAD_INPUTS = [
    (["--model.n_critic", "0"], "--model.n_critic must be >= 1, got 0"),
    (["--model.penalty.weight", "-1"], "penalty weight must be >= 0, got -1.0"),
    (["--model.penalty", "lightning_wgan.penalties.WeightClipping", "--model.penalty.clip_value", "0"], "clip_value must be > 0, got 0.0"),
    (["--model.penalty", "Foo"], "--model.penalty: 'Foo' is not valid; expected LipschitzPenalty, GradientPenalty"),
    (["--model.sampler", "Bar"], "--model.sampler: 'Bar' is not valid; expected Interpolates"),
    (["--model.sampler", "lightning_wgan.samplers.Perturbed", "--model.sampler.around", "middle"],
     "--model.sampler.around: 'middle' is not valid; expected one of real, fake, both"),
    (["--data.dataset", "moons"], "unknown dataset 'moons'; choose one of 8gaussians, 25gaussians, swissroll, gaussian"),
    (["--data.batch_size", "0"], "batch_size must be >= 1, got 0"),
    (["--data.batch_size", "many"], "--data.batch_size: 'many' is not valid; expected a value of type int"),
    # A Union of literals (the Trainer's): every value it admits, once, and None as null.
    (["--trainer.precision", "8"], "--trainer.precision: '8' is not valid; expected one of 64, 32, 16, transformer-engine,"),
    (["--model.penalty.weight", "abc"], "--model.penalty.weight: 'abc' is not valid; expected a value of type float or null"),
    (["--model.critic", "tests.helpers.BatchNormCritic"], "the critic has BatchNorm (critic.net.1)"),
    (["--ckpt_path", "nowhere.ckpt"], "--ckpt_path nowhere.ckpt: no checkpoint at nowhere.ckpt"),
    (["--ckpt_path", "corrupt.ckpt"], "--ckpt_path corrupt.ckpt: corrupt.ckpt is not a readable checkpoint"),
    (["--trainer.accelerator", "cpu", "--trainer.devices", "64"], "--trainer.devices 64 asks for more CPU processes than this machine has"),
    (["--generator_steps", "0"], "--generator_steps must be >= 1, got 0"),
    (["--summary.curves", "figures/curves.png"], "Summary curves must be a file name ending in .png, or null, got 'figures/curves.png'"),
    (["--summary.curves", "curves.pdf"], "Summary curves must be a file name ending in .png, or null, got 'curves.pdf'"),
    (["--eval_every", "0"], "--eval_every must be >= 1, got 0"),
    (["--trainer.max_steps", "10"], "set the run length with --generator_steps instead"),
    (["--config", "nope.yaml"], "--config: File does not exist:"),
    # The optimizers' own checks (torch's), by the flag, before the run directory exists.
    (["--model.critic_optimizer.init_args.lr=-1"], "error: --model.critic_optimizer: Invalid learning rate: -1.0"),
    (["--model.generator_optimizer.init_args.betas=[0.5,1.5]"],
     "error: --model.generator_optimizer: Invalid beta parameter at index 1: 1.5"),
    # An accelerator this machine lacks (no machine here has a TPU) or one Lightning does not know.
    (["--trainer.accelerator", "tpu"], "error: --trainer.accelerator tpu: this machine has none; available here: auto, cpu"),
    (["--trainer.accelerator", "foo"], "error: --trainer.accelerator foo: not an accelerator Lightning knows"),
]


@pytest.mark.parametrize("args, expected", BAD_INPUTS, ids=[a[0][-1] for a in BAD_INPUTS])
def test_bad_input_gets_one_line_before_anything_runs(tmp_path, capsys, args, expected):
    (tmp_path / "corrupt.ckpt").write_bytes(b"not a checkpoint")
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run, *args)
    code = exit_info.value.code
    message = capsys.readouterr().err.strip() if code == 2 else str(code)
    assert code != 0
    assert message.startswith("error: ") and "\n" not in message, message
    assert expected in message
    assert not run.exists() and not (tmp_path / "runs").exists()  # nothing written


def test_an_existing_run_directory_is_not_overwritten(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text("{}")
    with pytest.raises(SystemExit, match="already holds a run; resume it with --ckpt_path last"):
        run_cli(run, "--generator_steps", "1")
    assert (run / "summary.json").read_text() == "{}"


def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--model.penalty.weight", "-3"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == "error: penalty weight must be >= 0, got -3.0"
    assert "Traceback" not in proc.stderr + proc.stdout and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("mode", ["critic-only", "gan"])
def test_the_last_checkpoint_holds_the_final_state(tmp_path, mode):
    """A run whose length is not a multiple of the checkpoint interval saves its final
    step too: the critic in last.ckpt is the one summary.json reports on."""
    run = tmp_path / "run"
    if mode == "critic-only":  # 7 critic steps, a checkpoint every 5
        cli = run_cli(run, "--critic_steps", "7", "--eval_every", "7", "--checkpoint.every_n_train_steps", "5",
                      config=str(REPO / "conf/estimate/gaussian_scale.yaml"))
        final = 7
    else:  # 3 generator steps of 5 critic steps each: 18 optimizer steps, a checkpoint every 12
        cli = run_cli(run, "--generator_steps", "3", "--eval_every", "3", "--checkpoint.every_n_train_steps", "12")
        final = 18
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["global_step"] == final == cli.trainer.global_step
    critic = {k.removeprefix("critic."): v for k, v in ckpt["state_dict"].items() if k.startswith("critic.")}
    assert all(torch.equal(v, cli.model.critic.state_dict()[k]) for k, v in critic.items()) and critic
    assert ckpt["wgan"]["critic_steps"] == read_summary(run)["critic_steps"]


def test_a_union_of_literals_lists_each_allowed_value_once():
    from lightning_wgan.errors import describe_types

    expected = ["typing.Literal[64, 32, 16]", "typing.Literal['16-mixed', 'bf16-mixed']", "typing.Literal['64', '32', '16', 'bf16']",
                "<class 'NoneType'>"]
    assert describe_types(expected) == "one of 64, 32, 16, 16-mixed, bf16-mixed, bf16 or null"
    assert describe_types(["<class 'float'>", "<class 'NoneType'>"]) == "a value of type float or null"
    assert describe_types([]) is None
