"""python -m lightning_wgan.experiments: each grid's finished runs of all its runs, from its table."""

from lightning_wgan.experiments import __main__ as standing
from lightning_wgan.experiments import digits, funnels
from lightning_wgan.sweep import RunTable, SweepError, expand, run_id


def test_each_grid_says_how_much_is_done_of_all_and_what_continues_it(tmp_path, capsys, monkeypatch):
    assert standing.standing(tmp_path) == [("convergence", 0, 169), ("digits", 0, 12), ("funnels", 0, 168), ("family", 0, 380),
                                           ("strongest", 0, 56), ("images", 0, 26), ("benchmark", 0, 2040)]
    params = expand(funnels.sweep(funnels.FULL))[0]
    RunTable(tmp_path / "funnels.jsonl").put([{"sweep": funnels.SWEEP, "run": run_id(params), "finished": True, "params": params,
                                               "summary": {}}])
    assert ("funnels", 1, 168) in standing.standing(tmp_path)
    monkeypatch.setattr(digits, "finished_runs", lambda table: 12)
    standing.main(["--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert "funnels           1    168  python -m lightning_wgan.experiments.funnels" in out
    assert "digits           12     12  finished" in out


def test_run_continues_each_unfinished_grid_in_turn(monkeypatch, capsys):
    import importlib

    import pytest

    grids = [("convergence", 169, 169), ("digits", 3, 12), ("funnels", 0, 168)]
    monkeypatch.setattr(standing, "standing", lambda results: grids)
    ran = []

    def main(argv, name):
        ran.append((name, argv))
        if name == "digits":
            raise SweepError("runs/experiments/digits/digits is being run by another process")

    for name, _, _ in grids:
        module = importlib.import_module(f"lightning_wgan.experiments.{name}")
        monkeypatch.setattr(module, "main", lambda argv, n=name: main(argv, n))
    standing.main(["--run"])
    assert ran == [("digits", []), ("funnels", [])]  # convergence is finished; digits' error does not stop funnels
    out = capsys.readouterr().out
    assert "digits: 9 runs left" in out and "digits: runs/experiments/digits/digits is being run by another process" in out
    with pytest.raises(SystemExit):
        standing.main(["--run", "--results", "/elsewhere"])
    assert "--run continues the grids of" in capsys.readouterr().err


def test_a_drivers_one_line_error_ends_it_with_that_line(tmp_path):
    """A driver started while another process runs its sweep: ``error: ...``, no traceback."""
    import pytest
    from filelock import FileLock

    from lightning_wgan.experiments.common import run_main
    from lightning_wgan.sweep import run_sweep

    (tmp_path / "out").mkdir()
    sweep = {"program": "train.py", "method": "grid", "parameters": {"seed_everything": {"values": [0]}}}
    busy = r"^error: .* is being run by another process .*; wait for it"
    with FileLock(tmp_path / "out" / ".running.lock"), pytest.raises(SystemExit, match=busy):
        run_main(lambda: run_sweep(sweep, tmp_path / "out", [], in_process=True))
