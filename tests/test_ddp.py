"""DDP for real: two CPU processes with the gloo backend."""

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import REPO, TINY

from lightning_wgan.metrics import exact_w1

# One xdist worker runs these one after another: each picks a free port for its processes.
pytestmark = pytest.mark.xdist_group("ddp")


# Spectral norm's power-iteration state, with the default LP penalty put back on top (one
# two-process run for both); ALP (its random directions drawn on each rank) is slow-marked:
# the DDP tests share one worker.
@pytest.mark.parametrize("regularizer", ["spectral_norm", pytest.param("alp", marks=pytest.mark.slow)])
def test_two_process_fit_keeps_ranks_identical_and_gathers_w1(tmp_path, regularizer):
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANDB_MODE": "disabled"}
    lp = ["--model.penalty=lightning_wgan.penalties.LipschitzPenalty"] if regularizer == "spectral_norm" else []
    cmd = [
        sys.executable, str(REPO / "train.py"),
        "--config", str(REPO / "conf" / "regularizers" / f"{regularizer}.yaml"), *lp,
        "--trainer.accelerator", "cpu", "--trainer.devices", "2",
        "--generator_steps", "6", "--eval_every", "6", *TINY,
        "--data.init_args.val_size", "300",
        # as a sweep agent passes them: the swept values must reach every rank
        "--model.penalty.weight=3.5", "--model.n_critic=3",
        "--trainer.callbacks+=tests.helpers.DumpPerRank",
        f"--trainer.callbacks.out_dir={tmp_path}",
        "--run_dir", str(run),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]

    # Every parameter of generator and critic is identical on both processes.
    p0, p1 = ranks[0]["params"], ranks[1]["params"]
    assert p0.keys() == p1.keys() and any(k.startswith("critic.") for k in p0)
    for key in p0:
        assert torch.equal(p0[key], p1[key]), key

    # Each process saw different data and noise ...
    assert not torch.equal(ranks[0]["real"], ranks[1]["real"])
    assert not torch.equal(ranks[0]["fake"], ranks[1]["fake"])
    # ... and the logged exact W1 is the one of the union of both processes' samples.
    real = torch.cat([r["real"] for r in ranks])
    fake = torch.cat([r["fake"] for r in ranks])
    assert len(real) == 300
    summary = json.loads((run / "summary.json").read_text())
    assert summary["w1_exact"] == pytest.approx(exact_w1(real, fake), rel=1e-5)
    assert summary["generator_steps"] == 6
    assert ranks[0]["settings"] == ranks[1]["settings"] == {"weight": 3.5, "n_critic": 3}
    assert (run / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow  # a minute on two processes; the W1 tests above keep DDP's gathering in CI
def test_two_process_fid_is_the_fid_of_both_processes_images(tmp_path):
    from torchmetrics.image.fid import FrechetInceptionDistance

    from lightning_wgan.features import ClassifierFeatures
    from lightning_wgan.images import DigitsDataModule
    from lightning_wgan.networks import DCGANGenerator

    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANDB_MODE": "disabled"}
    cmd = [
        sys.executable, str(REPO / "train.py"), "--config", str(REPO / "conf/images/digits.yaml"),
        "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.logger", "false",
        "--trainer.enable_progress_bar", "false", "--generator_steps", "3", "--eval_every", "3", "--run_dir", str(run),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())

    # Recompute in this process: the whole held-out set against the images both ranks
    # generated (500 each, from their fixed noise), with the cached feature network.
    dm = DigitsDataModule()
    dm.setup("fit")
    features = ClassifierFeatures().fit_or_load(dm.train_images, dm.train_labels, dm.val_real, dm.val_labels)
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    generator = DCGANGenerator(latent_dim=64, channels=1, size=16, width=64)
    generator.load_state_dict({k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")})
    generator.eval()  # as in validation
    with torch.no_grad():
        fake = torch.cat([generator(torch.randn(500, 64, generator=torch.Generator().manual_seed(7919 * r))) for r in (0, 1)])
    fid = FrechetInceptionDistance(features)
    fid.update(dm.val_real, real=True)
    fid.update(fake, real=False)
    assert summary["fid"] == pytest.approx(float(fid.compute()), rel=1e-3)
