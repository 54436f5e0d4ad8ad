"""benchmarks/bench.py --regularizers: the speed of each regularizer of the benchmark (slow)."""

import json
import subprocess
import sys

import pytest
from conftest import REPO
from test_bench import clean_env

from lightning_wgan.experiments.benchmark import REGULARIZERS


@pytest.mark.slow
def test_regularizer_speeds_print_every_regularizer(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench.py"), "--regularizers", "--quick"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600, env=clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) == set(REGULARIZERS) - {"none"} and all(v > 0 for v in result.values())
