"""The GAN convergence driver: its grid parses, its measures by hand, the quick run (slow)."""

import shutil

import pytest
from conftest import REPO
from helpers import run_module

from lightning_wgan.experiments import convergence as C
from lightning_wgan.experiments.common import final
from lightning_wgan.sweep import RunTable, expand, run_id, to_args


def summary(w1s, floor=0.1, step=250, penalty="gp", weight=10.0):
    history = [{"step": step * (i + 1), "w1_exact": w, "w1_critic": w / 2, "modes_covered": 1.0} for i, w in enumerate(w1s)]
    return {"history": history, "noise_floor": floor, "noise_floor_sd": floor / 10, "penalty": penalty, "weight": weight,
            "dataset": "8gaussians", "modes_covered": 1.0}


def test_time_to_twice_the_floor_and_the_final_mean_by_hand():
    s = summary([1.0, 0.5, 0.19, 0.25, 0.18, 0.16, 0.14, 0.12])
    assert C.time_to_floor(s) == 750  # 0.19 < 2 × 0.1, the first one below
    assert C.time_to_floor(summary([1.0, 0.3])) is None
    assert final(s, "w1_exact") == pytest.approx((0.18 + 0.16 + 0.14 + 0.12) / 4)
    assert final(s, "w1_critic") == pytest.approx(final(s, "w1_exact") / 2)


def test_still_falling_means_a_drop_beyond_the_noise_of_two_means_of_four():
    # flat windows, noise_floor_sd 0.01: the threshold is 2 × 0.01 × √(2/4) = 0.01414 between the two means
    flat = [0.5, 0.4, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2]
    assert not C.still_falling(summary([*flat[:4], 0.21, 0.21, 0.21, 0.21, 0.2, 0.2, 0.2, 0.2]))  # drop 0.01
    assert C.still_falling(summary([*flat[:4], 0.22, 0.22, 0.22, 0.22, 0.2, 0.2, 0.2, 0.2]))  # drop 0.02
    assert not C.still_falling(summary([0.9, 0.1, 0.1]))  # too short to tell
    # GP λ 100 seed 1 (default init), which oscillates: the means drop by 5.2, within twice their
    # standard error (window sds 10.8 and 0.70: 2 × √((10.8² + 0.70²) / 4) = 10.8)
    assert not C.still_falling(summary([1.345, 1.523, 22.946, 1.091, 0.936, 0.958, 2.423, 1.623]))
    # clipping from N(0, 0.02), seed 0: a drop of 0.052 against 2 × √((0.0262² + 0.0065²) / 4) = 0.027
    assert C.still_falling(summary([0.33, 0.309, 0.289, 0.269, 0.256, 0.247, 0.241, 0.244]))


def test_a_run_goes_on_while_still_falling_doubling_up_to_the_longest():
    falling = summary([0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2]) | {"finished": True, "generator_steps": 5000}
    settled = summary([0.5, 0.4, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]) | {"finished": True, "generator_steps": 5000}
    assert C.extension(falling, 20000) == 10000
    assert C.extension(falling | {"generator_steps": 15000}, 20000) == 20000  # not past the longest
    assert C.extension(falling | {"generator_steps": 20000}, 20000) is None
    assert C.extension(settled, 20000) is None


TINY = ["--model.generator.init_args.width=16", "--model.critic.init_args.width=16", "--data.init_args.val_size=200", "--eval_every=3",
        "--sample_plot=null", "--summary.curves=null"]


@pytest.mark.parametrize("case", ["resumed", "cloned", "cut"])
def test_a_continued_run_is_the_run_that_never_stopped(tmp_path, monkeypatch, case):
    """A finished run continued from its checkpoint (resumed), or run again from its
    start (cloned: a run whose directory is not on this machine, as in a fresh clone: the
    table is all there is of it), or a continuation interrupted part-way and asked for
    again (cut), evaluates exactly as one given the longer length from the start. The
    table keeps the shorter run's row until the continuation has finished. (One case a
    test, so that the three run side by side.)"""
    import os

    from lightning_wgan.cli import WGANCLI
    from lightning_wgan.sweep import start_run

    monkeypatch.chdir(REPO)
    runs, table, env = tmp_path / "runs", RunTable(tmp_path / "table.jsonl"), {**os.environ, "OMP_NUM_THREADS": "1"}
    params = {"seed_everything": 0}  # the same run in every sweep below

    def train(sweep, steps):
        run_dir, resume = start_run(runs / sweep, params)
        WGANCLI(args=[*to_args(params), *C.RUN_ARGS, *TINY, f"--generator_steps={steps}", f"--run_dir={run_dir}", *resume])
        table.record(sweep, params, run_dir)

    def history(sweep):
        return [(h["step"], h["w1_exact"]) for h in table.read()[(sweep, run_id(params))]["summary"]["history"]]

    train("straight", 12)
    train(case, 6)
    assert history(case) == history("straight")[:2]
    run = runs / case / run_id(params)
    if case == "cloned":
        shutil.rmtree(runs / case)  # the run of an earlier session: its row is all there is of it
    elif case == "cut":
        # A continuation cut short at step 9 of 12: its checkpoint is at step 9, its row still the finished
        # 6-step run's. (Trained here rather than by go_on, whose part is the continuation below.)
        six = table.read()[(case, run_id(params))]
        train(case, 9)
        table.put([six])
        (run / "summary.json").write_text('{"finished": false}')
    C.go_on(runs, table, case, params, 12, TINY, env)  # a failed one leaves the row: the test after this one
    assert history(case) == history("straight")
    assert (run / "checkpoints" / "last.ckpt").exists()
    log = (run / "output.log").read_text()
    restored = {"resumed": 1, "cloned": 0, "cut": 1}[case]  # cloned: run again from step 0
    assert log.count("Restored all states from the checkpoint") == restored


def test_a_continuation_that_would_end_after_until_waits_for_the_next_call(tmp_path, monkeypatch, capsys):
    """5000 steps took an hour at its rate: continued from its start to 10 000 (no
    checkpoint on the machine) it needs two, from a checkpoint at 5000 one."""
    import time

    from lightning_wgan.sweep import UNTIL

    table, params, started = RunTable(tmp_path / "table.jsonl"), {"seed_everything": 0}, []
    table.put([{"sweep": "family", "run": run_id(params), "finished": True, "params": params,
                "summary": {"finished": True, "generator_steps": 5000, "wall_time_s": 3600.0}}])
    monkeypatch.setattr(C.subprocess, "run", lambda args, **kwargs: started.append(args) or C.subprocess.CompletedProcess(args, 1))
    monkeypatch.setenv(UNTIL, str(time.time() + 5400))
    C.go_on(tmp_path / "runs", table, "family", params, 10_000, [], {})
    assert not started and not (tmp_path / "runs" / "family" / run_id(params)).exists()
    assert f"{run_id(params)}: still falling, left for the next call" in capsys.readouterr().out
    monkeypatch.setattr(C, "resumable", lambda run_dir: True)  # its checkpoint at 5000 is here
    C.go_on(tmp_path / "runs", table, "family", params, 10_000, [], {})
    assert len(started) == 1
    assert table.read()[("family", run_id(params))]["summary"]["generator_steps"] == 5000  # a failed continuation leaves it
    monkeypatch.delenv(UNTIL)  # no deadline: started at once, without sizing it from the table
    monkeypatch.setattr(C, "seconds_left", lambda *args: pytest.fail("sized with no deadline"))
    C.go_on(tmp_path / "runs", table, "family", params, 10_000, [], {})
    assert len(started) == 2


def rows_of(finals, init="normal", penalty="gp", weight=10.0, dataset="8gaussians"):
    """Runs as the sweep runner collects them: one per seed, W1 falling to ``final``."""
    rows = []
    for seed, last in enumerate(finals):
        s = summary([0.5, 0.3, last, last, last, last], penalty=penalty, weight=weight)
        s["dataset"], s["seed"] = dataset, seed
        rows.append({"config": [C.INITS[init]], "seed_everything": seed, "summary": s})
    return rows


def test_tables_give_each_seed_its_time_and_the_mean_and_std_by_initialization(tmp_path):
    rows = rows_of([0.15, 0.25]) + rows_of([0.12], init="default") + rows_of([0.3, 0.3], penalty="lp", weight=0.1)
    time, final = C.time_table(rows), C.final_table(rows)
    # GP λ 10: default init one seed (below 0.2 at step 750); normal init seeds 0 and 1 (0.25 never is)
    assert "| 8gaussians | GP | 10 | 750, · | 750, never |" in time  # seed 1 of the default init not done
    assert "| 8gaussians | LP | 0.1 | - | never, never |" in time
    # final W1 over the last 4 evaluations: 0.15 and 0.25 → 0.200 ± 0.071 (sample std), W1 / floor 2.00 ± 0.71
    default, normal = "1 × 1500 | 0.120 | 1.20 | 1.00 | 0.50 | 0", "2 × 1500 | 0.200 ± 0.071 | 2.00 ± 0.71 | 1.00 ± 0.00 | 0.50 ± 0.00 | 0"
    assert f"| 8gaussians | GP | 10 | {default} | {normal} |" in final
    assert [line.split(" | ")[1] for line in final.splitlines()[2:] if line.startswith("|")] == ["GP", "LP"]
    rows[0]["summary"]["history"] += [{"step": 1750, "w1_exact": 0.1, "w1_critic": 0.05, "modes_covered": 1.0}]  # one seed continued
    assert "| 8gaussians | GP | 10 | 1 × 1500 | 0.120 | 1.20 | 1.00 | 0.50 | 0 | 2 × 1500–1750 |" in C.final_table(rows)
    C.figure(rows, tmp_path / "convergence.png")  # the continued seed drawn on its own past the others
    assert (tmp_path / "convergence.png").stat().st_size > 10_000


def test_modes_are_the_mean_over_the_last_evaluations_where_the_history_has_them():
    s = summary([0.5, 0.4, 0.3, 0.2, 0.2])
    for h, m in zip(s["history"], (0.0, 0.5, 0.75, 1.0, 0.5), strict=True):
        h["modes_covered"] = m
    assert C.final_modes(s) == (pytest.approx((0.5 + 0.75 + 1.0 + 0.5) / 4), True)
    old = summary([0.5, 0.4, 0.3, 0.2, 0.2]) | {"modes_covered": 0.875}  # recorded before the history kept the modes
    for h in old["history"]:
        del h["modes_covered"]
    assert C.final_modes(old) == (0.875, False)
    row = {"config": [C.INITS["default"]], "seed_everything": 0, "summary": old | {"seed": 0}}
    assert "| 0.88 † |" in C.final_table([row])


def test_the_family_runs_at_each_configs_default_and_ten_times_it_on_the_first_round_only():
    full = C.sweeps(C.FULL)
    assert len(expand(full["family"])) == 9 * 2 * 3 and len(expand(full["family-sensitivity"])) == 7
    assert expand(C.sweeps(C.FULL, [1], ["8gaussians"])["family-sensitivity"]) == []
    assert expand(C.sweeps(C.FULL, [0], ["25gaussians"])["family-sensitivity"]) == []
    spectral = {"config": [C.INITS["default"], C.regularizer_config("spectral")], "seed_everything": 2,
                "summary": {"weight": 0.0, "dataset": "25gaussians", "penalty": None}}
    assert C.describe(spectral) == {"dataset": "25gaussians", "init": "default", "penalty": "spectral", "λ": None, "seed": 2}
    alp = {"config": [C.INITS["default"], C.regularizer_config("alp")],
           "summary": {"weight": 10.0, "dataset": "8gaussians", "penalty": "alp"}}
    assert C.describe(alp)["penalty"] == "alp" and C.describe(alp)["λ"] == 10.0


def test_reference_table_puts_the_project_next_to_the_reference(tmp_path):
    path = tmp_path / "plain.json"
    C.save_plain_loop("gp", 0.1, "normal", 4, {500: 0.2, 1000: 0.1}, path)
    C.save_plain_loop("gp", 0.1, "normal", 3, {500: 0.4, 1000: 0.3}, path)  # kept in seed order
    plain = C.load_plain_loop(path)
    assert list(plain["GP λ 0.1, normal init"]) == ["3", "4"]
    # two seeds at the port's init, evaluated every 250 steps (0.5, 0.3, then their final value)
    rows = rows_of([0.15, 0.2], weight=0.1)
    rows[1]["summary"]["history"][1]["w1_exact"] = 0.4  # step 500: 0.3 and 0.4 around the reference's 0.356
    lines = C.reference_table(rows + rows_of([0.12], init="default", weight=0.1), plain).splitlines()
    assert lines[2].startswith("| reference port, GP λ 0.1, seed 0 | 0.356 | 0.209 |")
    assert lines[3] == "| this project, GP λ 0.1, N(0, 0.02) init, seed 0 | 0.300 | 0.150 | 0.150 |  |  |  |  |  |  |  |"
    assert lines[4] == "| this project, GP λ 0.1, N(0, 0.02) init, seed 1 | 0.400 | 0.200 | 0.200 |  |  |  |  |  |  |  |"
    assert lines[5].startswith("| this project, N(0, 0.02) init, range of 2 seeds, GP λ 0.1 | 0.300–0.400 | 0.150–0.200 | 0.150–0.200 |")
    assert lines[6].startswith("| plain loop (no Lightning), N(0, 0.02) init, range of 2 seeds, GP λ 0.1 | 0.200–0.400 | 0.100–0.300 |  |")
    assert lines[7].startswith("| this project, PyTorch default init, range of 1 seed, GP λ 0.1 | 0.300 | 0.120 | 0.120 |")
    # 0.356 lies in 0.300–0.400; 0.209 is above both seeds' 0.150–0.200; 0.122 below them
    assert lines[8] == "| reference against the project's N(0, 0.02) range, GP λ 0.1 | inside | above | below |" + "  |" * 7
    assert lines[9].startswith("| reference port, GP λ 10, seed 0 |")
    # one seed: no range of the project's own, nothing to place the reference against
    one = C.reference_table(rows[:1], {}).splitlines()
    assert [line.split(",")[0] for line in one[2:5]] == ["| reference port", "| this project", "| reference port"]


def test_status_counts_the_runs_of_each_round_of_the_grid():
    rows = rows_of([0.1, 0.1]) + rows_of([0.1], penalty="lp")
    for r in rows:
        r["summary"].update(wall_time_s=1800, critic_steps_per_s=20.0)
    text = C.status(rows)
    # a round is one data set and seed: 16 penalty runs (2 inits × 2 penalties × 4 λ), 2 clipping runs and
    # the 9 of the family; the first round also the second λ of the 7 of them that have one
    assert text.startswith("3 of the grid's 169 runs are done (8gaussians seed 0: 2 of 34; 8gaussians seed 1: 1 of 27).")
    assert "1.5 h in all, 30 min a run on average. A run averaged 20.0 critic steps/s, one thread a run." in text
    assert "up to 20000 (0 so far)" in text
    rows[0]["summary"]["history"].append({"step": 10000, "w1_exact": 0.1})
    assert "up to 20000 (1 so far)" in C.status(rows)


def test_every_run_of_the_grid_parses(tmp_path, monkeypatch):
    import torch

    from lightning_wgan.cli import WGANCLI
    from lightning_wgan.experiments.family import VALUES, config_value

    monkeypatch.chdir(REPO)
    for name, sweep in C.sweeps(C.FULL).items():
        params = expand(sweep)
        for p in params[:: max(1, len(params) // 8)]:
            cli = WGANCLI(args=[*to_args(p), *C.RUN_ARGS, f"--run_dir={tmp_path / 'run'}"], run=False)
            init = "normal" if "conf/init/normal.yaml" in p["config"] else "default"
            weights = [m.weight for m in cli.model.critic.modules() if isinstance(getattr(m, "weight", None), torch.Tensor)]
            assert (weights[0].std().item() < 0.025) == (init == "normal")  # the first layer's
            assert cli.datamodule.dataset == p.get("data.dataset", cli.datamodule.dataset)
            if name.startswith("family"):  # the config's default λ, or ten times it
                member = C.describe({**p, "summary": {"weight": 0.0, "dataset": ""}})["penalty"]
                if member in VALUES:
                    penalty, (flag, _) = cli.model.penalty, VALUES[member]
                    value = penalty.clip_value if member == "clip" else penalty.weight
                    assert value == config_value(member, flag) * (C.SENSITIVITY if name == "family-sensitivity" else 1), member
    assert len(expand(C.sweeps(C.FULL)["penalties"])) == 2 * 2 * 2 * 4 * 3


def test_the_rounds_run_exactly_the_full_grid():
    """Cut into rounds of one seed and one data set, the grid has the same run ids (so a
    run finished in one cut is skipped in another), none twice."""
    for name, sweep in C.sweeps(C.FULL).items():
        full = sorted(run_id(p) for p in expand(sweep))
        rounds = sorted(run_id(p) for s in C.FULL.seeds for d in C.FULL.datasets for p in expand(C.sweeps(C.FULL, [s], [d])[name]))
        assert rounds == full and len(set(full)) == len(full)


@pytest.mark.slow
def test_quick_driver_writes_its_report(tmp_path):
    run_module("lightning_wgan.experiments.convergence", "--quick", "--runs", str(tmp_path))
    text = (tmp_path / "convergence.md").read_text()
    # GP, LP at λ 1 and 10 and clipping; ALP at 10 and 100 and spectral norm: 8 rows in each of two tables
    assert text.count("| 8gaussians |") == 16 and "reference port, GP λ 10" in text
    assert "| 8gaussians | alp | 100 |" in text and "| 8gaussians | spectral | - |" in text
    assert (tmp_path / "convergence.png").stat().st_size > 10_000 and (tmp_path / "convergence_family.png").stat().st_size > 10_000


def test_the_extensions_go_on_beside_the_rounds_in_the_cores_they_leave(tmp_path, monkeypatch):
    """At ``jobs`` 2 on 4 cores every run gets one thread. Round 1's first sweep, with
    nothing to extend yet, may borrow the extensions' ``jobs`` shares; its runs are
    extended as soon as they finish, before the round ends; round 2 starts
    while round 1's extensions hold them, and may not. The runs finished in the first
    rounds are extended while the last round waits for them, at most ``jobs`` at once;
    once no round is left, ``2 * jobs`` run at once; every run is continued once (the
    fake never makes it longer), and the grid returns after the last one."""
    import os
    import threading
    import time

    from lightning_wgan.sweep import shared_cores_env

    def wait_until(done):
        deadline = time.monotonic() + 10
        while not done() and time.monotonic() < deadline:
            time.sleep(0.01)
        return done()

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(C, "POLL_S", 0.01)
    grid, jobs, lock = C.Grid(["8gaussians", "25gaussians"], [1], [0, 1], 10, 5, []), 2, threading.Lock()
    threads, sweeps_run, lent, entered, running, during, after, beside = set(), [], [], [], [], [], [], []
    round_2, rounds_done, all_shares = threading.Event(), threading.Event(), threading.Barrier(2 * jobs, timeout=10)
    falling = summary([0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2]) | {"finished": True, "generator_steps": 10}

    def run_sweep(sweep, out, extra, jobs, in_process, table, grid, processes, spare):  # every run finishes, still falling
        threads.add(shared_cores_env(processes)["OMP_NUM_THREADS"])
        sweeps_run.append(out.name)
        if len(sweeps_run) == 1:  # nothing to extend yet
            lent.append([spare.borrow() for _ in range(jobs + 1)])
            for _ in range(jobs):
                spare.give_back()
        if len(sweeps_run) == 2:  # round 1's penalty runs are extended before its clipping sweep ends
            beside.append(wait_until(lambda: len(entered) >= 1))
        if len(sweeps_run) == 3:  # round 2, while round 1's extensions hold both shares and more wait for them
            lent.append(wait_until(lambda: len(entered) == jobs) and spare.borrow())
            round_2.set()
        if len(sweeps_run) == 7:  # the last round (two sweeps a round: penalties, clip) waits for 6 extensions
            beside.append(wait_until(lambda: len(during) >= 6))
        RunTable(table).put([{"sweep": out.name, "run": run_id(p), "finished": True, "params": p, "summary": falling}
                             for p in expand(sweep)])
        if len(sweeps_run) == 8:
            rounds_done.set()

    def go_on(runs, table, sweep, params, steps, extra, env):
        threads.add(env["OMP_NUM_THREADS"])
        with lock:
            entered.append((sweep, run_id(params), steps))
        round_2.wait(timeout=10)
        with lock:
            running.append(1)
            (after if rounds_done.is_set() else during).append(len(running))
            first_after = len(after) <= 2 * jobs and rounds_done.is_set()
        if first_after:  # the first 2 × jobs after the rounds run at once, or the barrier times out
            all_shares.wait()
        elif not rounds_done.is_set():
            time.sleep(0.02)  # long enough for more than ``jobs`` to overlap if they could
        with lock:
            running.pop()

    monkeypatch.setattr(C, "run_sweep", run_sweep)
    monkeypatch.setattr(C, "go_on", go_on)
    C.run(grid, tmp_path / "runs", RunTable(tmp_path / "table.jsonl"), jobs=jobs)
    assert threads == {"1"} and shared_cores_env(1)["OMP_NUM_THREADS"] == "4"  # a sweep alone has them all
    assert sweeps_run == ["penalties", "clip"] * 4 and beside == [True, True]
    assert lent == [[True, True, False], False]
    assert max(during) <= jobs and max(after) == 2 * jobs and not running
    assert sorted(entered) == sorted((s, run_id(p), 20) for s, p in C.grid_runs(grid)) and len(entered) == 4 * 6


def test_a_rounds_slowest_regularizers_run_first(tmp_path):
    speed = tmp_path / "gan_speed.json"
    speed.write_text('{"speed_vs_none": {"alp": 0.42, "torchlip": 0.17, "spectral": 0.86}}')
    assert C.slowest_first(["alp", "spectral", "dragan", "torchlip"], speed) == ["torchlip", "alp", "spectral", "dragan"]
    assert C.slowest_first(["alp", "torchlip"], tmp_path / "none.json") == ["alp", "torchlip"]  # not measured: as given
    family = C.sweeps(C.FULL)["family"]["parameters"]["config"]["values"]
    assert family[0] == C.gan_configs("torchlip")  # by docs/results/gan_speed.json


def test_a_second_driver_of_the_grid_stops_before_any_run(tmp_path, monkeypatch):
    """Its continuations are not sweeps, so the grid holds its own run lock too."""
    from filelock import FileLock

    from lightning_wgan.sweep import SweepError

    monkeypatch.setattr(C, "run_sweep", lambda *args, **kwargs: pytest.fail("a sweep ran"))
    monkeypatch.setattr(C, "go_on", lambda *args, **kwargs: pytest.fail("a continuation ran"))
    (tmp_path / "runs").mkdir()
    with FileLock(tmp_path / "runs" / ".running.lock"), pytest.raises(SweepError, match="being run by another process"):
        C.run(C.QUICK, tmp_path / "runs", RunTable(tmp_path / "table.jsonl"), jobs=1)


def test_a_continuation_still_falling_goes_on_again_up_to_the_longest(tmp_path, monkeypatch):
    """Every run stays falling: each is continued to 2× and then to 4× the grid's length
    (LONGEST), once each, the last ones after the rounds are over."""
    monkeypatch.setattr(C, "POLL_S", 0.01)
    grid, table = C.Grid(["8gaussians"], [1], [0], 10, 5, []), RunTable(tmp_path / "table.jsonl")
    falling = summary([0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2]) | {"finished": True}

    def row(sweep, params, steps):
        return {"sweep": sweep, "run": run_id(params), "finished": True, "params": params, "summary": falling | {"generator_steps": steps}}

    def run_sweep(sweep, out, extra, jobs, in_process, table, grid, processes, spare):
        RunTable(table).put([row(out.name, p, 10) for p in expand(sweep)])

    continued = []

    def go_on(runs, table, sweep, params, steps, extra, env):
        continued.append((run_id(params), steps))
        table.put([row(sweep, params, steps)])

    monkeypatch.setattr(C, "run_sweep", run_sweep)
    monkeypatch.setattr(C, "go_on", go_on)
    C.run(grid, tmp_path / "runs", table, jobs=1)
    ids = [run_id(p) for _, p in C.grid_runs(grid)]
    assert len(ids) == 6 and sorted(continued) == sorted((i, s) for i in ids for s in (20, 40))
    assert all(r["summary"]["generator_steps"] == 40 for r in table.read().values())
