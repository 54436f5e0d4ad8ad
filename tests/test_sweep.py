"""Sweep files and the local sweep runner (a user's run without wandb credentials: test_cli)."""

import argparse
import datetime
import json
import os
import random
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from lightning_wgan.cli import WGANCLI
from lightning_wgan.sweep import (
    SINCE,
    UNTIL,
    RunTable,
    SweepError,
    add_until,
    claim,
    collect,
    draw,
    expand,
    expected_seconds,
    fits,
    in_time,
    load_sweep,
    pace,
    run_id,
    run_sweep,
    shared_cores_env,
    to_args,
    until_time,
    work,
)

SWEEPS = sorted((REPO / "conf" / "sweeps").glob("*.yaml"))


def sample(spec, rng):
    return spec["values"][-1] if "values" in spec else draw(spec, rng)


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_every_sweep_parameter_is_a_cli_argument(path, tmp_path):
    """Renaming a CLI argument breaks this test, not a user's sweep."""
    sweep = yaml.safe_load(path.read_text())
    assert sweep["program"] == "train.py"
    rng = random.Random(0)
    params = {name: sample(spec, rng) for name, spec in sweep["parameters"].items()}
    os.chdir(REPO)  # configs in sweep files are relative to the repository
    cli = WGANCLI(args=[*to_args(params), "--trainer.logger=false", f"--run_dir={tmp_path / 'run'}"], run=False)
    config = cli.config
    for name, value in params.items():
        if name == "config":
            continue
        got = config
        for part in name.split("."):
            got = got[part] if part in got else got["init_args"][part]
        got = got["class_path"] if isinstance(got, dict) or hasattr(got, "class_path") else got
        assert got == value or got == pytest.approx(value), name


def test_local_runner_runs_a_grid_writes_tables_and_skips_finished_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WANDB_MODE")  # the runner then makes each run an offline wandb run
    grid = {
        "program": "train.py",
        "method": "grid",
        "parameters": {
            "model.penalty": {"values": ["lightning_wgan.penalties.GradientPenalty", "lightning_wgan.penalties.LipschitzPenalty"]},
            "model.penalty.weight": {"values": [1, 10]},
            "generator_steps": {"value": 2},
        },
    }
    assert {(r["model.penalty"].rsplit(".", 1)[-1], r["model.penalty.weight"]) for r in expand(grid)} == {
        ("GradientPenalty", 1), ("GradientPenalty", 10), ("LipschitzPenalty", 1), ("LipschitzPenalty", 10)}
    # Two of the four run (a subprocess and an offline wandb run each, side by side).
    grid["parameters"]["model.penalty.weight"] = {"values": [10]}
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(yaml.safe_dump(grid, sort_keys=False))
    extra = ["--model.generator.init_args.width=16", "--model.critic.init_args.width=16", "--data.init_args.val_size=100",
             "--trainer.enable_progress_bar=false"]
    out = tmp_path / "out"
    rows = run_sweep(sweep, out, extra, jobs=2)
    assert len(rows) == 2
    table = (out / "results.md").read_text().splitlines()
    assert table[0].startswith("| model.penalty | model.penalty.weight | generator_steps | runs | w1_exact")
    assert len(table) == 2 + 2
    assert {(r["model.penalty"].rsplit(".", 1)[-1], r["model.penalty.weight"]) for r in rows} == {
        ("GradientPenalty", 10), ("LipschitzPenalty", 10)}
    assert all(json.loads((out / r["run"] / "summary.json").read_text())["generator_steps"] == 2 for r in rows)
    assert len((out / "results.csv").read_text().splitlines()) == 3
    # The table has a row a run: its parameters, its summary, finished; the run's directory is not needed to read it.
    table = RunTable(out / "runs.jsonl").read()
    assert sorted(table) == sorted(("out", r["run"]) for r in rows)
    assert all(row["finished"] and row["summary"] == json.loads((out / row["run"] / "summary.json").read_text()) for row in table.values())
    # Each run is an offline wandb run of the sweep's group.
    assert all(list((out / r["run"] / "wandb").glob("offline-run-*")) for r in rows)

    capsys.readouterr()
    mtimes = {r["run"]: (out / r["run"] / "summary.json").stat().st_mtime for r in rows}
    rerun = run_sweep(sweep, out, extra)
    assert capsys.readouterr().out.count("done already") == 2
    assert {r["run"]: (out / r["run"] / "summary.json").stat().st_mtime for r in rerun} == mtimes


def test_random_search_and_bayes(tmp_path):
    sweep = {"method": "random", "run_cap": 5, "parameters": {
        "model.penalty.weight": {"distribution": "log_uniform_values", "min": 0.1, "max": 100},
        "seed_everything": {"values": [0, 1]}}}
    runs = expand(sweep)
    assert len(runs) == 5 and all(0.1 <= r["model.penalty.weight"] <= 100 for r in runs)
    with pytest.raises(SweepError, match="method 'bayes' needs wandb's sweep server: run `wandb sweep"):
        load_sweep(REPO / "conf" / "sweeps" / "bayes.yaml")
    with pytest.raises(SweepError, match="grid search needs 'value' or 'values'"):
        expand({"method": "grid", "parameters": {"x": {"min": 0, "max": 1}}})


def test_a_grid_of_several_sweeps_shows_one_progress_bar(tmp_path, capfd, monkeypatch):
    """Two sweeps run in turn under one GridProgress, the first done already (by an
    earlier call): one bar, over both, from 1/2 to 2/2; no bar or message of either
    sweep's own; the sweep whose runs are all done starts no workers."""
    import lightning_wgan.sweep as sweep_module
    from lightning_wgan.sweep import GridProgress

    extra = ["--model.critic.init_args.width=16", "--data.init_args.eval_size=100", "--eval_every=3", "--trainer.logger=false",
             "--trainer.enable_progress_bar=false"]
    table = RunTable(tmp_path / "grid.jsonl")
    sweeps = {name: {"program": "train.py", "method": "grid", "parameters": {
        "config": {"value": ["conf/estimate/gaussian_scale.yaml", f"conf/regularizers/{name}.yaml"]}, "critic_steps": {"value": 3}}}
        for name in ("none", "clip")}
    done = expand(sweeps["none"])[0]
    table.put([{"sweep": "none", "run": run_id(done), "finished": True, "params": done, "summary": {"finished": True, "critic_steps": 3}}])
    started = []
    popen = sweep_module.subprocess.Popen
    monkeypatch.setattr(sweep_module.subprocess, "Popen", lambda *args, **kwargs: started.append(args) or popen(*args, **kwargs))
    with GridProgress("grid", 2, lambda: len(collect(table, list(sweeps)))) as bar:
        rows = {name: run_sweep(sweep, tmp_path / name, extra, in_process=True, table=table.path, grid=bar)
                for name, sweep in sweeps.items()}
    assert rows["none"] and rows["clip"]  # the done sweep, too, returns its rows
    out, terminal = capfd.readouterr()
    assert "1/2" in terminal and "2/2" in terminal and "grid: 100%" in terminal
    assert "none:" not in terminal and "clip:" not in terminal and "runs done already" not in out
    assert len(started) == 1 and "clip" in str(started[0])  # one worker, the second sweep's
    assert len(collect(table, list(sweeps))) == 2


def test_a_worker_takes_the_runs_no_other_worker_has_claimed(tmp_path, monkeypatch):
    """Runs 0 and 2 are another worker's; run 3 is done. This worker runs run 1 only, and
    claims it, which a share fixed by index (every other run) would not have done."""
    sweep = tmp_path / "seeds.yaml"
    sweep.write_text(yaml.safe_dump({"method": "grid", "parameters": {"seed_everything": {"values": [0, 1, 2, 3]}}}))
    out, claims = tmp_path / "out", tmp_path / "claims"
    claims.mkdir()
    RunTable(out / "runs.jsonl").put([{"sweep": "out", "run": run_id({"seed_everything": 3}), "finished": True,
                                      "params": {"seed_everything": 3}, "summary": {"finished": True}}])
    ran = []

    class FakeCLI:
        def __init__(self, args):
            ran.append(args[0])
            run_dir = Path(next(a for a in args if a.startswith("--run_dir=")).split("=", 1)[1])
            (run_dir / "summary.json").write_text(json.dumps({"finished": True}))

    monkeypatch.setattr("lightning_wgan.cli.WGANCLI", FakeCLI)
    assert claim(claims, {"seed_everything": 0}) and claim(claims, {"seed_everything": 2})
    assert not claim(claims, {"seed_everything": 0})  # a claim is taken once
    work(sweep, out, [], claims)
    assert ran == ["--seed_everything=1"]
    assert not claim(claims, {"seed_everything": 1})
    assert sorted(p.name for p in claims.iterdir()) == sorted(run_id({"seed_everything": s}) for s in (0, 1, 2))
    ran.clear()
    (tmp_path / "fresh").mkdir()
    work(sweep, out, [], tmp_path / "fresh", at_most=1)  # a worker of one run, in a share borrowed for it
    assert ran == ["--seed_everything=0"]  # the first unclaimed one: 1 is done by now, but 0 never was


def test_in_process_workers_take_config_lists_borrow_spare_shares_and_skip_finished_runs(tmp_path, capfd):
    """One worker of its own and one share to spare: the sweep borrows the share for a
    worker of one run while runs are unclaimed, runs every run once, and gives it back.
    Each run's parameter is a list of configs; the terminal shows the progress bar and
    each run's log the framework's output."""
    from lightning_wgan.sweep import Shares

    class Counted(Shares):
        lent = 0

        def borrow(self):
            got = super().borrow()
            Counted.lent += got
            return got

    sweep = {"program": "train.py", "method": "grid", "parameters": {
        "config": {"values": [["conf/estimate/gaussian_scale.yaml", "conf/regularizers/gp.yaml"],
                              ["conf/estimate/gaussian_scale.yaml", "conf/regularizers/torchlip.yaml"]]},
        "critic_steps": {"value": 3}}}
    assert to_args({"critic_steps": 3, "config": ["a.yaml", "b.yaml"]}) == ["--config=a.yaml", "--config=b.yaml", "--critic_steps=3"]
    extra = ["--model.critic.init_args.width=16", "--data.init_args.eval_size=100", "--eval_every=3", "--trainer.logger=false",
             "--trainer.enable_progress_bar=false"]
    out, spare = tmp_path / "out", Counted(1)
    rows = run_sweep(sweep, out, extra, in_process=True, spare=spare)
    assert len(rows) == 2 and sorted(r["summary"]["penalty"] for r in rows) == ["gp", "none"]
    assert all(r["summary"]["critic_steps"] == 3 and r["summary"]["critic_steps_per_s"] > 0 for r in rows)
    assert all(r["summary"]["threads"] == int(shared_cores_env(1)["OMP_NUM_THREADS"]) for r in rows)  # its speed's thread count
    assert all(r["finished"] for r in RunTable(out / "runs.jsonl").read().values())
    assert Counted.lent >= 1 and spare.free == 1  # borrowed, and given back
    # Lightning's model summary is in each run's log, not on the terminal.
    terminal = "".join(capfd.readouterr())
    assert "2/2" in terminal and "Trainable params" not in terminal
    assert all("Trainable params" in (out / r["run"] / "output.log").read_text() for r in rows)
    run_sweep(sweep, out, extra, in_process=True)
    assert "2 of 2 runs done already" in capfd.readouterr().out


def test_a_share_goes_to_an_owner_who_waits_before_any_borrower():
    import threading

    from lightning_wgan.sweep import Shares

    shares, order = Shares(1), []
    assert shares.borrow() and not shares.borrow()  # one share, lent

    def own() -> None:
        shares.__enter__()  # kept: the share stays the owner's
        order.append("owner")

    owner = threading.Thread(target=own)
    owner.start()
    while not shares.waiting:  # the owner waits for it
        threading.Event().wait(0.01)
    shares.give_back()
    assert not shares.borrow()  # freed while the owner waits: the owner's, not lent again
    owner.join(timeout=10)
    assert order == ["owner"] and shares.free == 0
    shares.give_back()
    assert shares.borrow()


def test_an_interrupted_run_resumes_from_its_checkpoint_and_a_broken_one_starts_afresh(tmp_path):
    import torch

    from lightning_wgan.sweep import start_run

    params = {"seed_everything": 1}
    run_dir, resume = start_run(tmp_path, params)
    assert resume == [] and json.loads((run_dir / "params.json").read_text()) == params
    (run_dir / "config.yaml").write_text("seed_everything: 1\n")
    (run_dir / "checkpoints").mkdir()
    torch.save({"global_step": 30}, run_dir / "checkpoints" / "last.ckpt")
    (run_dir / "summary.json").write_text('{"finished": false}')
    assert start_run(tmp_path, params) == (tmp_path / run_id(params), ["--ckpt_path=last"])
    assert (run_dir / "summary.json").exists()  # what the run measured before it stopped is kept
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"cut short by a kill")
    assert start_run(tmp_path, params) == (run_dir, [])
    assert sorted(p.name for p in run_dir.iterdir()) == ["params.json"]


def test_the_table_keeps_a_row_a_run_the_last_written_and_reports_only_finished_ones(tmp_path):
    """Rows replace the row of their sweep and run; writers in threads of their own lose no
    row (each write takes the lock and rewrites the file whole); unfinished runs are kept
    but not collected."""
    from concurrent.futures import ThreadPoolExecutor

    table = RunTable(tmp_path / "t.jsonl")

    def row(sweep, seed, finished=True, w1=1.0):
        return {"sweep": sweep, "run": run_id({"seed_everything": seed}), "finished": finished,
                "params": {"seed_everything": seed}, "summary": {"w1_exact": w1, "finished": finished}}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda seed: table.put([row("b", seed)]), range(20)))
    table.put([row("a", 0, finished=False), row("b", 3, w1=2.0)])
    rows = table.read()
    assert len(rows) == 21 and rows[("b", run_id({"seed_everything": 3}))]["summary"]["w1_exact"] == 2.0
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert [json.loads(line)["sweep"] for line in lines] == ["a"] + ["b"] * 20  # sorted by sweep and run
    assert table.finished("a") == set() and table.finished("b") == {run_id({"seed_everything": s}) for s in range(20)}
    collected = collect(table, ["a", "b"])
    assert len(collected) == 20 and all(r["seed_everything"] == r["summary"].get("seed", r["seed_everything"]) for r in collected)
    assert sorted(r["seed_everything"] for r in collected) == list(range(20)) and collected[0]["w1_exact"] in (1.0, 2.0)


def test_a_second_runner_of_a_sweep_stops_with_one_line(tmp_path):
    """While one process runs a sweep (holds its folder's run lock), another that starts
    it gets a SweepError at once, before any run; once the first is done, it may."""
    from filelock import FileLock

    from lightning_wgan.sweep import sole_runner

    sweep = {"program": "train.py", "method": "grid", "parameters": {"seed_everything": {"values": [0]}}}
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(out / ".running.lock"):  # as another process's sole_runner(out) holds it
        with pytest.raises(SweepError, match="is being run by another process"):
            run_sweep(sweep, out, [], in_process=True)
    assert not (out / "runs.jsonl").exists() and not any(out.glob("*/params.json"))  # nothing ran
    with sole_runner(out):
        pass  # free again


def row(params, wall=None, steps=None, sweep="s", finished=True, recorded=None):
    summary = {"finished": finished, "wall_time_s": wall, **({"generator_steps": steps} if steps else {})}
    return {"sweep": sweep, "run": run_id(params), "finished": finished, "params": params, "summary": summary,
            **({"recorded": recorded} if recorded is not None else {})}


def funnel(pair, width=256, steps=60000, seed=0):
    """A funnel run's parameters as the experiment driver gives them: inline YAML in ``config``."""
    return {"config": ["conf/estimate/funnels.yaml", "conf/regularizers/lp.yaml",
                       f"{{data: {{init_args: {{dim: 128, transform: {{init_args: {{pair: {pair}}}}}}}}}, "
                       f"model: {{init_args: {{critic: {{init_args: {{data_dim: 128, width: {width}}}}}}}}}}}",
                       f"{{critic_steps: {steps}}}"], "seed_everything": seed}


def ran(params, wall, steps, recorded=None):
    return {**row(params, wall, recorded=recorded), "summary": {"finished": True, "wall_time_s": wall, "critic_steps": steps}}


def test_until_is_the_next_time_the_clock_shows_it_and_a_bad_one_is_one_line(monkeypatch, capsys):
    now = datetime.datetime(2026, 12, 5, 23, 50, 12)
    assert until_time("02:30", now) == datetime.datetime(2026, 12, 6, 2, 30).timestamp()  # past midnight: tomorrow's
    assert until_time("23:55", now) == datetime.datetime(2026, 12, 5, 23, 55).timestamp()
    assert until_time("23:50", now) == datetime.datetime(2026, 12, 6, 23, 50).timestamp()  # a minute that has begun is gone
    parser = argparse.ArgumentParser(prog="sweep")
    add_until(parser)
    monkeypatch.setenv(UNTIL, "0")  # restored after the test
    monkeypatch.setenv(SINCE, "0")
    for bad in ("25:00", "2:30pm", "0230", "1:2:3"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--until", bad])
        assert f"argument --until: '{bad}' is not a time of day HH:MM (e.g. 02:30)" in capsys.readouterr().err
    assert os.environ[UNTIL] == "0"  # a bad value sets nothing
    before = time.time()
    args = parser.parse_args(["--until", "06:00"])
    assert float(os.environ[UNTIL]) == args.until == until_time("06:00")  # the workers and runs it starts inherit it
    assert before <= float(os.environ[SINCE]) <= time.time()  # and when it was given: the call's own rows come after


def test_a_runs_expected_time_is_the_median_of_its_finished_look_alikes_scaled_to_its_length():
    a = {"config": "a", "data.dataset": "8g", "generator_steps": 1000}
    rows = [row({**a, "seed_everything": 0}, 100, 1000), row({**a, "seed_everything": 1}, 300, 1000),
            row({**a, "seed_everything": 2}, 800, 2000),  # continued to 2000 steps: 400 s for 1000
            row({**a, "seed_everything": 3}, 9000, 1000, finished=False), row({**a, "seed_everything": 4}, 9000, 1000, sweep="t"),
            row({**a, "config": "b", "seed_everything": 0}, 50, 1000),
            row({**a, "data.dataset": "25g", "config": "c", "seed_everything": 0}, 70, 1000)]
    assert expected_seconds(rows, "s", {**a, "seed_everything": 9}) == 300  # median of 100, 300, 400
    assert expected_seconds(rows, "s", {**a, "seed_everything": 9, "generator_steps": 3000}) == 900
    assert expected_seconds(rows, "s", {**a, "data.dataset": "25g", "seed_everything": 9}) == 300  # no 25g one: the other data's
    assert expected_seconds(rows, "s", {**a, "config": "c", "seed_everything": 9}) == 70  # its own data's, where it has one
    assert expected_seconds(rows, "s", {**a, "config": "d"}) is None
    assert expected_seconds(rows, "t", {**a, "seed_everything": 0}) == 9000
    assert expected_seconds([row({"x": 1}, 60)], "s", {"x": 1, "generator_steps": 5}) == 60  # no length in the row: as it is


def test_look_alikes_read_the_settings_inside_a_config_list_as_the_experiment_drivers_give_them():
    """The drivers give a run's data, critic and length as inline YAML in ``config``: a
    funnel pair never run before takes the time of the same critic on the other pairs of
    its dimension, scaled to its length, not no time at all (which --until cannot stop)."""
    rows = [ran(funnel("d128_w4"), 2000, 60000), ran(funnel("d128_w16"), 2400, 60000),
            ran(funnel("d128_w4", width=64), 300, 60000)]
    assert expected_seconds(rows, "s", funnel("d128_w64")) == 2200  # the other pairs' median
    assert expected_seconds(rows, "s", funnel("d128_w4")) == 2000  # its own pair's, where it has one
    assert expected_seconds(rows, "s", funnel("d128_w64", steps=30000)) == 1100  # scaled to its length
    assert expected_seconds(rows, "s", funnel("d128_w64", width=128)) is None  # another critic: not known
    assert expected_seconds([ran(funnel("d128_w4"), 2000, 120000)], "s", funnel("d128_w16")) == 1000  # continued


def test_this_calls_pace_scales_what_earlier_calls_runs_expect_like_for_like(tmp_path, monkeypatch, capsys):
    """Earlier calls' look-alikes took an hour; this call's runs took 0.4 and 0.5 of their
    own data's look-alikes and 0.25 of another data's: a run expected to take 60 min by
    its own data's look-alikes takes 27 here, one expected to take 60 by another data's
    takes 15; with no run of this call yet, either takes 60."""
    a = {"config": "a", "data.dataset": "8g", "generator_steps": 1000}
    b, c = {**a, "config": "b"}, {**a, "config": "c"}
    earlier = [row({**a, "seed_everything": 0}, 3600, 1000, recorded=100), row({**a, "seed_everything": 1}, 3600, 1000),
               row({**b, "seed_everything": 0}, 1000, 1000, recorded=100), row({**c, "seed_everything": 0}, 1000, 1000)]
    now = [row({**b, "seed_everything": 1}, 400, 1000, recorded=200),  # 0.4 of b's 1000
           row({**a, "seed_everything": 2}, 3600, 2000, recorded=200),  # continued to 2000 steps: 0.5 of 7200
           row({**c, "data.dataset": "25g", "seed_everything": 0}, 250, 1000, recorded=200),  # 0.25 of c's 1000 on 8g
           row({**a, "seed_everything": 3}, 10, 1000, recorded=200, finished=False)]  # unfinished: no pace
    assert pace(earlier + now, since=150, same_data=True) == pytest.approx(0.45)
    assert pace(earlier + now, since=150, same_data=False) == pytest.approx(0.25)
    assert pace(earlier, since=150, same_data=True) == 1.0 and pace(now, since=150, same_data=True) == 1.0  # none to say
    table = RunTable(tmp_path / "t.jsonl")
    table.put(earlier + now)
    monkeypatch.setenv(UNTIL, str(time.time() + 20 * 60))
    monkeypatch.setenv(SINCE, "150")
    assert not in_time(table, "s", {**a, "seed_everything": 9}, "[1/1]")  # 3600 s (its own data's) × 0.45: 27 min
    assert "left for the next call: it would end after --until (about 27 min)" in capsys.readouterr().out
    assert in_time(table, "s", {**a, "data.dataset": "25g", "seed_everything": 9}, "[1/1]")  # 3600 s (8g's) × 0.25
    monkeypatch.setenv(UNTIL, str(time.time() + 30 * 60))
    assert in_time(table, "s", {**a, "seed_everything": 9}, "[1/1]")
    monkeypatch.setenv(SINCE, "300")  # all rows earlier: 3600 s (median of 3600, 3600, 1800)
    assert not in_time(table, "s", {**a, "seed_everything": 9}, "[1/1]")
    assert "left for the next call: it would end after --until (about 60 min)" in capsys.readouterr().out
    monkeypatch.delenv(SINCE)  # no --until given in this process: every row is earlier
    assert not in_time(table, "s", {**a, "seed_everything": 9}, "[1/1]")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text(json.dumps({"finished": True, "wall_time_s": 5}))
    start = round(time.time())
    assert table.record("s", {"x": 1}, run_dir) and start <= table.read()[("s", run_id({"x": 1}))]["recorded"] <= time.time() + 1


def test_in_time_reads_each_rows_yaml_once_not_once_for_each_of_this_calls_rows(tmp_path, monkeypatch):
    """pace() compares each of this call's rows with all earlier ones: were each row's
    inline YAML read there, a grid of a thousand rows would parse it a million times
    before each run. Read once a row, and the run's own once; the answer is the same."""
    earlier = [ran(funnel(f"d128_w{k}", seed=s), 2000, 60000, recorded=100) for k in (4, 16) for s in range(10)]
    now = [ran(funnel(f"d128_w{k}", seed=s), 1000, 60000, recorded=200) for k in (4, 16) for s in range(10, 15)]
    table = RunTable(tmp_path / "t.jsonl")
    table.put(earlier + now)
    monkeypatch.setenv(UNTIL, str(time.time() + 20 * 60))  # 2000 s × pace 0.5: 17 min fits, 2000 s would not
    monkeypatch.setenv(SINCE, "150")
    parse, calls = yaml.safe_load, []
    monkeypatch.setattr(yaml, "safe_load", lambda text: calls.append(text) or parse(text))
    assert in_time(table, "s", funnel("d128_w4", seed=99), "[1/1]")
    assert len(calls) == 2 * (len(earlier) + len(now) + 1)  # two inline mappings a run


def test_fits_before_the_deadline_only(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(UNTIL, raising=False)
    assert fits(1e9)  # no deadline
    monkeypatch.setenv(UNTIL, str(time.time() + 100))
    assert fits(50) and fits(None) and not fits(500)
    monkeypatch.setenv(UNTIL, str(time.time() - 1))
    assert not fits(None)  # past it, not even a run of unknown length starts
    assert not in_time(RunTable(tmp_path / "none.jsonl"), "s", {"x": 1}, "[1/1]")
    assert capsys.readouterr().out == f"[1/1] {run_id({'x': 1})} left for the next call: --until has passed\n"


def test_runs_that_would_end_after_until_wait_for_the_next_call(tmp_path, monkeypatch, capfd):
    """A finished look-alike took an hour, the deadline is 10 minutes away: the slow run is
    left (and claimed, so no other worker asks again), the fast one of unknown length runs;
    the same in a sweep's own processes, and with no deadline the slow one runs."""
    sweep = tmp_path / "s.yaml"
    program = tmp_path / "program.py"  # a run: its summary, at once
    program.write_text("import json, sys\nrun_dir = [a for a in sys.argv if a.startswith('--run_dir=')][0].split('=', 1)[1]\n"
                       "open(run_dir + '/summary.json', 'w').write(json.dumps({'finished': True, 'wall_time_s': 1}))\n")
    sweep.write_text(yaml.safe_dump({"program": str(program), "method": "grid",
                                     "parameters": {"x": {"values": ["slow", "fast"]}, "seed_everything": {"value": 0}}}))
    out, claims = tmp_path / "out", tmp_path / "claims"
    claims.mkdir()
    RunTable(out / "runs.jsonl").put([row({"x": "slow", "seed_everything": 9}, 3600, sweep="out")])
    monkeypatch.setenv(UNTIL, str(time.time() + 600))
    ran = []

    class FakeCLI:
        def __init__(self, args):
            ran.append(next(a for a in args if a.startswith("--x=")))
            run_dir = Path(next(a for a in args if a.startswith("--run_dir=")).split("=", 1)[1])
            (run_dir / "summary.json").write_text(json.dumps({"finished": True, "wall_time_s": 1}))

    monkeypatch.setattr("lightning_wgan.cli.WGANCLI", FakeCLI)
    work(sweep, out, [], claims)
    assert ran == ["--x=fast"]
    assert not claim(claims, {"x": "slow", "seed_everything": 0})
    assert f"[1/2] {run_id({'x': 'slow', 'seed_everything': 0})} left for the next call: it would end after --until (about 60 min)" \
        in capfd.readouterr().out
    processes = tmp_path / "processes"
    RunTable(processes / "runs.jsonl").put([row({"x": "slow", "seed_everything": 9}, 3600, sweep="processes")])
    assert [r["x"] for r in run_sweep(sweep, processes, []) if r["seed_everything"] == 0] == ["fast"]
    assert "left for the next call" in capfd.readouterr().out
    monkeypatch.delenv(UNTIL)
    assert sorted(r["x"] for r in run_sweep(sweep, processes, []) if r["seed_everything"] == 0) == ["fast", "slow"]
