import json
import os
from pathlib import Path

import pytest
import torch

from lightning_wgan.cli import WGANCLI

# The suite runs one pytest-xdist worker per core (``-n auto`` in pyproject.toml). One
# intra-op thread per process, subprocesses of the tests included, keeps the workers
# from fighting over the cores: with torch's default of a thread per core, two workers
# on two cores took longer than one.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# Small networks and samples: the code paths of a real run, in seconds.
TINY = [
    "--model.generator.init_args.width", "32",
    "--model.critic.init_args.width", "32",
    "--data.init_args.batch_size", "64",
    "--data.init_args.val_size", "200",
    "--trainer.logger", "false",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
]

# The same for critic-only runs (no generator; run length in critic steps).
TINY_ESTIMATE = [
    "--model.critic.init_args.width", "32",
    "--data.init_args.batch_size", "64",
    "--data.init_args.eval_size", "2000",
    "--data.init_args.w1_size", "300",
    "--trainer.logger", "false",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
]


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory):
    """One cache of trained feature networks for the session, not the user's."""
    return tmp_path_factory.mktemp("feature-cache")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path, feature_cache):
    """No network and no credentials in tests; runs land in the test's folder."""
    monkeypatch.setenv("LIGHTNING_WGAN_CACHE", str(feature_cache))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)


def run_cli(
    run_dir: Path, *args: str, config: str | None = None, subcommand: str = "fit", tiny: bool = True, figures: bool = False
) -> WGANCLI:
    """Run ``train.py <subcommand> [--config C] [TINY] <args>`` in this process. Without
    ``figures`` the sample figure and curves.png are switched off (``--sample_plot null
    --summary.curves null``): drawing them at each evaluation is most of a tiny run's
    time, and only the tests that look at them (``figures=True``) need them."""
    small = (TINY_ESTIMATE if config and "estimate" in config else TINY) if tiny else []
    no_figures = [] if figures else ["--sample_plot", "null", "--summary.curves", "null"]
    head = [subcommand, *(["--config", config] if config else []), *small, *no_figures]
    return WGANCLI(args=[*head, *args, "--run_dir", str(run_dir)])


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


REPO = Path(__file__).resolve().parent.parent
CONFIGS = sorted(str(p.relative_to(REPO)) for p in (REPO / "conf").rglob("*.yaml") if "sweeps" not in p.parts)
# Configs whose data torchvision downloads: absent here, so they must stop with a clear error.
DOWNLOAD_CONFIGS = [c for c in CONFIGS if "TorchvisionDataModule" in (REPO / c).read_text()]
RUNNABLE_CONFIGS = [c for c in CONFIGS if c not in DOWNLOAD_CONFIGS]
os.environ.setdefault("PYTHONHASHSEED", "0")
