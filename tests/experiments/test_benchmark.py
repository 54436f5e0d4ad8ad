"""The regularizer benchmark: its grid, its tables by hand on made-up runs, and the
--quick subset end to end (slow)."""

import pytest
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import benchmark as B
from lightning_wgan.sweep import expand, to_args


def row(reg: str, lam, seed: int, ratio: float, speed: float, task: str = "scale", d: int = 8) -> dict:
    config, flag = B.REGULARIZERS[reg]
    params = {"config": [B.TASK_CONFIGS[task], B.dim_config(d), f"conf/regularizers/{config}"], "seed_everything": seed}
    if flag:
        params[flag] = lam
    return {**params, "summary": {"ratio": ratio, "w1_exact": 1.37, "critic_steps_per_s": speed}}


def test_tables_by_hand():
    rows = [
        row("lp", 1, 0, 1.50, 50), row("lp", 1, 1, 1.30, 50), row("lp", 10, 0, 1.05, 40), row("lp", 10, 1, 1.03, 60),
        row("gp", 10, 0, 1.20, 50), row("gp", 10, 1, 1.10, 50),
        row("torchlip", None, 0, 0.90, 25), row("torchlip", None, 1, 0.94, 25),
        row("none", None, 0, 100.0, 100), row("none", None, 1, 90.0, 100),
    ]
    table = B.summarize(rows)
    lp10 = table[("scale", 8, "lp", 10)]
    assert lp10["ratio"] == pytest.approx(1.04) and lp10["sd"] == pytest.approx(0.02 ** 0.5 * 0.1, rel=1e-6)
    assert lp10["se"] == pytest.approx(lp10["sd"] / 2 ** 0.5)
    assert lp10["speed"] == pytest.approx(0.5)  # median of 40/100 and 60/100
    assert table[("scale", 8, "torchlip", None)]["speed"] == pytest.approx(0.25)
    assert B.best_lambda(table, "scale", 8, "lp")[0] == 10
    text = B.markdown(table)
    # |ratio - 1| at the best λ: lp 0.04, torchlip 0.08, gp 0.15, none 94: ranks 1, 2, 3, 4.
    ranks = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in text.split("## Rank")[1].split("## Every")[0].splitlines()
             if line.startswith("| ") and "regularizer" not in line}
    assert ranks == {"lp": "1", "gp": "3", "torchlip": "2", "none": "4"}
    assert "| lp | 1.040 ± 0.014 [10] |" in text


def test_every_regularizer_and_task_of_the_grid_is_a_valid_run(tmp_path, monkeypatch):
    """Each sweep the benchmark builds parses: the λ flag reaches the penalty."""
    from lightning_wgan.cli import WGANCLI

    monkeypatch.chdir(REPO)  # the sweep runner runs from the repository
    grid = B.Grid([("translation", 8), ("pair_1d", 1)], [3.0], [0], 5)
    for name in B.REGULARIZERS:
        for params in expand(B.sweep(name, grid)):
            cli = WGANCLI(args=[*to_args(params), *B.RUN_ARGS, f"--run_dir={tmp_path / 'run'}"], run=False)
            penalty = cli.model.penalty
            if B.REGULARIZERS[name][1] is not None:
                assert penalty.weight == 3.0, name
            assert cli.datamodule.dim == (1 if "pair_1d" in params["config"][0] else 8)


@pytest.mark.slow
def test_quick_benchmark_writes_its_tables(tmp_path):
    """`python -m lightning_wgan.experiments.benchmark --quick`: about 2 minutes on 2 cores."""
    run_module("lightning_wgan.experiments.benchmark", "--quick", "--runs", str(tmp_path / "runs"))
    text = (tmp_path / "runs" / "easy_tasks.md").read_text()
    for name in B.REGULARIZERS:
        assert f"| {name} |" in text, name
    assert (tmp_path / "runs" / "easy_tasks.png").stat().st_size > 10_000
