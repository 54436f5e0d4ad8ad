"""Slow checks, left out of CI (`python -m pytest -m slow`): the README's claims."""

import json
import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_default_run_reaches_twice_the_noise_floor(tmp_path, seed):
    """`python train.py` (about 5 minutes on 2 cores): w1_exact ≤ 2 × noise_floor."""
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--seed_everything", str(seed), "--run_dir", str(run),
                           "--trainer.enable_progress_bar", "false"], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["w1_exact"] <= 2 * summary["noise_floor"], summary
