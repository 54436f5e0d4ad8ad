"""The GAN comparison at convergence: GP and LP across λ, with weight clipping as the
baseline, on 8gaussians and 25gaussians, from two initializations, over seeds; and the
rest of the regularizer family (:data:`FAMILY`) at its config's default λ (each
config's paper's value), with a second λ ten times larger on 8gaussians, seed 0.

    python -m lightning_wgan.experiments.convergence            # the full grid (resumable: hours), then the report
    python -m lightning_wgan.experiments.convergence --quick    # a few short runs, to check the pipeline
    python -m lightning_wgan.experiments.convergence --report   # tables and figures from the runs done so far

Runs go through the local sweep runner (finished runs are skipped, so the grid can be
completed across sessions) into ``runs/experiments/convergence/``, their rows into the
table ``docs/results/convergence.jsonl`` (kept in git). The report, ``docs/results/convergence.md`` and
``convergence.png``, gives per data set, initialization, penalty and λ: the generator
step at which the exact W1 first falls below twice the noise floor (or never), the final
W1 over the last evaluations, mode coverage and the critic's estimate next to the exact
W1; and the project's GP trajectories next to the reference port's. The same tables fill
the generated blocks of ``docs/results.md``; its figure, ``paper.png``, is drawn by
:mod:`lightning_wgan.experiments.paper` (which reads this module, not the other way round).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import threading
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.experiments.benchmark import REGULARIZERS, regularizer_config  # noqa: E402
from lightning_wgan.experiments.common import (  # noqa: E402
    LAST_EVALUATIONS,
    driver_arguments,
    fill_blocks,
    final,
    places,
    record_machine,
    run_main,
    run_time,
    to_pages,
)
from lightning_wgan.experiments.family import VALUES, gan_lambda, setting  # noqa: E402
from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import (  # noqa: E402
    REPO,
    UNTIL,
    GridProgress,
    RunTable,
    Shares,
    collect,
    expand,
    fits,
    mean_sd,
    mean_sd_text,
    resumable,
    run_id,
    run_sweep,
    shared_cores_env,
    sole_runner,
    start_run,
    summary_of,
    to_args,
)

SWEEPS = ("penalties", "clip", "family", "family-sensitivity")
# The regularizers of conf/regularizers/ besides GP, LP and clipping (whose runs are the
# penalties and clip sweeps) and none, in the benchmark's order.
FAMILY = [name for name in REGULARIZERS if name not in ("lp", "gp", "clip", "none")]
SENSITIVITY = 10.0  # the second λ is this many times the default, on the first data set and seed
INITS = {"default": "conf/init/default.yaml", "normal": "conf/init/normal.yaml"}
PENALTIES = {"GP": "lightning_wgan.penalties.GradientPenalty", "LP": "lightning_wgan.penalties.LipschitzPenalty"}
# The exact W1 of the PyTorch port of Gulrajani et al.'s toy script (caogang/wgan-gp,
# gan_toy.py: N(0, 0.02) weights, zero biases) at the reference settings, 8gaussians,
# seed 0, by generator step, as measured and reported in issue 15 of this project.
REFERENCE = {0.1: {500: 0.356, 1000: 0.209, 1500: 0.122, 2000: 0.075, 2500: 0.078, 3000: 0.093},
             10.0: {500: 0.899, 1000: 0.900, 1500: 0.467, 2000: 0.286, 2500: 0.233}}
PLAIN_LOOP = REPO / "docs" / "results" / "plain_loop.json"  # bench.py --trajectory ... --save
GAN_SPEED = "gan_speed.json"  # in docs/results/: bench.py --regularizers --gan --save writes it
POLL_S = 10.0  # how often the extensions look for runs to continue
LONGEST = 4  # a run still falling at its end goes on, doubling its length, up to this many times the grid's


class Grid:
    def __init__(self, datasets: list[str], lambdas: list[float], seeds: list[int], generator_steps: int, eval_every: int,
                 extra: list[str], family: list[str] | None = None) -> None:
        self.datasets, self.lambdas, self.seeds = datasets, lambdas, seeds
        self.generator_steps, self.eval_every, self.extra = generator_steps, eval_every, extra
        self.family = family or []


# The reference settings are conf/default.yaml's: width 512, batch 256, n_critic 5, Adam 1e-4 (0.5, 0.9).
FULL = Grid(["8gaussians", "25gaussians"], [0.1, 1, 10, 100], [0, 1, 2], 5000, 250, [], FAMILY)
QUICK = Grid(["8gaussians"], [1, 10], [0], 40, 20, ["--model.generator.init_args.width=32", "--model.critic.init_args.width=32",
                                                   "--data.init_args.val_size=300"], ["alp", "spectral"])


def gan_configs(name: str, dataset: str = "8gaussians") -> list[str]:
    """The configs a regularizer (the benchmark's name for it) trains a GAN with here, at
    PyTorch's default initialization: its own from ``conf/regularizers/``; weight clipping
    the toy config of its paper (RMSprop, c = 0.01) for ``dataset``."""
    if name == "clip":
        return [f"conf/toy/{dataset}_clip.yaml", INITS["default"]]
    return [INITS["default"], regularizer_config(name)]


def slowest_first(names: list[str], speed_path: Path = REPO / "docs" / "results" / GAN_SPEED) -> list[str]:
    """The regularizers ``names``, the slowest to train a GAN first (by their speed
    measured side by side, where it has been): a round's workers take its runs in this
    order, so its longest runs (deel-torchlip's take hours) start first, beside the
    others, rather than run on alone at its end."""
    speed = json.loads(speed_path.read_text())["speed_vs_none"] if speed_path.is_file() else {}
    return sorted(names, key=lambda name: speed.get(name, 1.0))


def sweeps(grid: Grid, seeds: list[int] | None = None, datasets: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The penalty sweep, the weight-clipping sweep, the family's sweep (PyTorch's default
    initialization) and its second λ's (on the grid's first data set and seed only, so
    empty in other rounds), as the sweep runner reads them (all of the grid's seeds and
    data sets unless restricted)."""
    seeds, datasets = seeds or grid.seeds, datasets or grid.datasets
    common = {"generator_steps": {"value": grid.generator_steps}, "eval_every": {"value": grid.eval_every},
              "seed_everything": {"values": seeds}}
    penalties = {
        "config": {"values": [[INITS[i]] for i in INITS]},
        "data.dataset": {"values": datasets},
        "model.penalty": {"values": list(PENALTIES.values())},
        "model.penalty.weight": {"values": grid.lambdas},
        **common,
    }
    clip = {"config": {"values": [[f"conf/toy/{d}_clip.yaml", INITS[i]] for d in datasets for i in INITS]}, **common}
    family = {"config": {"values": [gan_configs(n) for n in slowest_first(grid.family)]}, "data.dataset": {"values": datasets},
              **common}
    sensitivity = {"config": {"values": [[*gan_configs(n), setting(n, SENSITIVITY * gan_lambda(n))]
                                         for n in grid.family if n in VALUES]},
                   "data.dataset": {"values": [d for d in datasets if d == grid.datasets[0]]},
                   **common, "seed_everything": {"values": [s for s in seeds if s == grid.seeds[0]]}}
    return {name: {"program": "train.py", "method": "grid", "parameters": p}
            for name, p in (("penalties", penalties), ("clip", clip), ("family", family), ("family-sensitivity", sensitivity))}


# Every run keeps its last checkpoint (on the machine, not in git): an interrupted run
# resumes from it, and a run still falling at its end is continued from it (:func:`extend`).
RUN_ARGS = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--monitor=null", "--checkpoint.save_last=true"]


def finished_runs(table: RunTable, grid: Grid = FULL) -> int:
    """The grid's runs finished in ``table``."""
    return len(collect(table, SWEEPS))


def total_runs(grid: Grid = FULL) -> int:
    """All the grid's runs."""
    return sum(len(expand(s)) for s in sweeps(grid).values())


def run(grid: Grid, runs: Path, table: RunTable, jobs: int) -> None:
    """The grid in rounds of one data set and one seed (every penalty, λ, initialization
    and the clipping baseline), the reference data set's seeds first: a grid stopped
    part-way leaves whole comparisons on 8gaussians rather than one seed of everything.
    A run's id does not depend on the round it ran in, so finished runs are skipped
    whichever way the grid is cut.

    Beside the rounds, :func:`extend` continues each finished run still falling as soon
    as it is in the table, the earlier rounds' first: a lone long run (deel-torchlip's
    takes hours) would otherwise leave the other cores idle for as long as it runs. The
    cores are shared as ``2 * jobs`` runs of one share each
    (:func:`~lightning_wgan.sweep.shared_cores_env`): the rounds' ``jobs`` runs, and
    extensions in the other ``jobs`` shares while rounds are left, in all of them once
    none is. While no extension uses a share, the rounds borrow it for one run at a time
    (so an extension that comes waits for one run at most). The grid returns when the
    last extension has finished."""
    slots, env, rounds_over = Shares(jobs), shared_cores_env(2 * jobs), threading.Event()
    runs.mkdir(parents=True, exist_ok=True)
    with (
        sole_runner(runs),  # before the bar: a second driver of the grid stops with one line
        ThreadPoolExecutor(1) as beside,
        GridProgress("convergence", total_runs(grid), lambda: finished_runs(table, grid)) as bar,
    ):
        extensions = beside.submit(extend, grid, runs, table, slots, env, rounds_over)
        try:
            for dataset in grid.datasets:
                for seed in grid.seeds:
                    for name, sweep in sweeps(grid, [seed], [dataset]).items():
                        if not expand(sweep):  # the family's second λ outside its round, or no family
                            continue
                        run_sweep(sweep, runs / name, [*RUN_ARGS, *grid.extra], jobs=jobs, in_process=True, table=table.path, grid=bar,
                                  processes=2 * jobs, spare=slots)
        finally:
            for _ in range(jobs):  # no rounds left (or none will run): their shares go to the extensions
                slots.give_back()
            rounds_over.set()
        extensions.result()


def extension(summary: dict[str, Any], longest: int) -> int | None:
    """The length in generator steps to continue a finished grid run to, or None: a run
    still falling at its end (:func:`still_falling`) goes on for as long again, up to
    ``longest``."""
    if still_falling(summary) and summary["generator_steps"] < longest:
        return min(2 * summary["generator_steps"], longest)
    return None


def grid_runs(grid: Grid) -> list[tuple[str, dict[str, Any]]]:
    """Every run of the grid as (sweep, parameters), in the order of its rounds."""
    return [(name, params) for dataset in grid.datasets for seed in grid.seeds
            for name, sweep in sweeps(grid, [seed], [dataset]).items() for params in expand(sweep)]


def extend(grid: Grid, runs: Path, table: RunTable, slots: Shares, env: dict[str, str], rounds_over: threading.Event) -> None:
    """Continue every finished grid run that is still falling, each in a share of the
    cores taken from ``slots`` (and run with ``env``), looking at the table every
    :data:`POLL_S` seconds, until none is (or each has reached :data:`LONGEST` times the
    grid's length) and ``rounds_over`` is set. The table keeps a run's row until its
    continuation has finished, so a continuation cut short is asked for again (in a
    later grid), and goes on from its own checkpoint."""
    longest, tried, pending = LONGEST * grid.generator_steps, set(), []
    order = grid_runs(grid)

    def go_on_in_a_slot(sweep: str, params: dict[str, Any], steps: int) -> None:
        with slots:
            go_on(runs, table, sweep, params, steps, grid.extra, env)

    with ThreadPoolExecutor(len(order) or 1) as pool:  # each waits there for a share
        while True:
            last_look = rounds_over.is_set()  # before reading the table, which then has the rounds' last runs
            for done in [f for f in pending if f.done()]:  # before it too: each one's row is in it then
                pending.remove(done)
                done.result()
            rows = table.read()
            for sweep, params in order:
                row = rows.get((sweep, run_id(params)))
                steps = extension(row["summary"], longest) if row and row["finished"] else None
                if steps is not None and (sweep, run_id(params), steps) not in tried:  # one that failed is not retried here
                    tried.add((sweep, run_id(params), steps))
                    pending.append(pool.submit(go_on_in_a_slot, sweep, params, steps))
            if last_look and not pending:
                return
            if last_look:  # only a continuation that ends can ask for another now
                wait(pending, return_when=FIRST_COMPLETED)
            else:
                rounds_over.wait(POLL_S)


def go_on(runs: Path, table: RunTable, sweep: str, params: dict[str, Any], steps: int, extra: list[str], env: dict[str, str]) -> None:
    """Continue a finished run to ``steps`` generator steps, as the sweep runner starts
    and resumes runs (:func:`~lightning_wgan.sweep.start_run`): from its last checkpoint
    where the run's directory holds one, else from its start (a run of an earlier
    session: checkpoints are not in git). Its row is replaced only once the continuation
    has finished, so an interruption never loses the shorter run. On the same machine
    the seed makes a rerun's first part the same as the run's; on another CPU the
    rounding of its kernels differs (W1 differs in the third digit from the first
    evaluation), so the rerun is another draw of the same settings and seed. It waits for
    the next call where, at the run's rate so far, it would end after ``--until``."""
    if UNTIL in os.environ and not fits(seconds_left(runs, table, sweep, params, steps)):
        print(f"    {run_id(params)}: still falling, left for the next call: continuing it would end after --until", flush=True)
        return
    run_dir, resume = start_run(runs / sweep, params)
    print(f"    {run_dir.name}: still falling, continued to {steps} generator steps", flush=True)
    args = [*to_args(params), *RUN_ARGS, *extra, f"--generator_steps={steps}", f"--run_dir={run_dir}", *resume]
    with open(run_dir / "output.log", "a") as log:
        proc = subprocess.run([sys.executable, str(REPO / "train.py"), *args], stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    if proc.returncode == 0 and (summary_of(run_dir) or {}).get("finished"):
        table.record(sweep, params, run_dir)


def seconds_left(runs: Path, table: RunTable, sweep: str, params: dict[str, Any], steps: int) -> float:
    """How long continuing a finished run to ``steps`` generator steps should take: at
    its rate so far, from its checkpoint where it has one, else from its start."""
    done = table.read()[(sweep, run_id(params))]["summary"]
    left = steps - done["generator_steps"] if resumable(runs / sweep / run_id(params)) else steps
    return done["wall_time_s"] / done["generator_steps"] * left


# -- the report ------------------------------------------------------------------------


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A run's coordinates: data set, initialization, penalty (GP, LP, clip or the
    family's name for it), λ, seed."""
    configs, summary = row["config"], row["summary"]
    init = next(i for i, c in INITS.items() if c in configs)
    member = next((n for n in REGULARIZERS if regularizer_config(n) in configs), None)
    if member is not None:
        penalty, lam = member, summary["weight"] if member in VALUES else None
    else:
        penalty = "clip" if summary.get("penalty") == "clip" else summary["penalty"].upper()
        lam = None if penalty == "clip" else summary["weight"]
    return {"dataset": summary["dataset"], "init": init, "penalty": penalty, "λ": lam, "seed": row.get("seed_everything")}


def time_to_floor(summary: dict[str, Any], factor: float = 2.0) -> int | None:
    """The first evaluated generator step with exact W1 below ``factor`` × the noise floor."""
    return next((h["step"] for h in summary["history"] if h["w1_exact"] < factor * summary["noise_floor"]), None)


def final_modes(summary: dict[str, Any]) -> tuple[float, bool]:
    """The modes covered over the last evaluations (:func:`final`), and whether that is
    what it is: runs recorded before the history kept the modes have their last
    evaluation's only (False)."""
    if all("modes_covered" in h for h in summary["history"][-LAST_EVALUATIONS:]):
        return final(summary, "modes_covered"), True
    return summary.get("modes_covered", math.nan), False


def still_falling(summary: dict[str, Any]) -> bool:
    """Whether W1 was still falling at the end of the run: the mean over the last
    evaluations is below the mean over the ones before them by more than twice the
    standard error of that difference (Welch's, from each window's own spread across its
    evaluations, but never less than the noise floor's spread over draws,
    ``noise_floor_sd``). A run that only oscillates, as GP at large λ does by factors of
    2–10 between evaluations, has a large spread and does not count as falling."""
    w1 = [h["w1_exact"] for h in summary["history"]]
    n = LAST_EVALUATIONS
    if len(w1) < 2 * n:
        return False
    before, last = w1[-2 * n:-n], w1[-n:]
    sd = [max(statistics.stdev(window), summary["noise_floor_sd"]) for window in (before, last)]
    return statistics.mean(before) - statistics.mean(last) > 2 * math.sqrt((sd[0] ** 2 + sd[1] ** 2) / n)


def rows(table: RunTable) -> list[dict[str, Any]]:
    """The finished runs of both sweeps."""
    return collect(table, SWEEPS)


def groups(rows: list[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    """Summaries by (data set, initialization, penalty, λ), the seeds in order."""
    out: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: describe(r)["seed"] or 0):
        d = describe(r)
        out[(d["dataset"], d["init"], d["penalty"], d["λ"])].append(r["summary"])
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or 0)))


def fmt(values: list[float], digits: int = 3) -> str:
    """Mean ± sd over seeds; one seed's value alone, as it has no spread to show."""
    return f"{values[0]:.{digits}f}" if len(values) == 1 else mean_sd_text(values, digits)


def settings(g: dict[tuple, list[dict[str, Any]]]) -> list[tuple]:
    """(data set, penalty, λ) of :func:`groups` ``g``, in table order, with clipping last."""
    keys = {(d, p, lam) for d, _, p, lam in g}
    return sorted(keys, key=lambda k: (k[0], k[1] == "clip", k[1], k[2] or 0))


def by_init(rows: list[dict[str, Any]], cell: Any, head: list[str]) -> str:
    """One row per (data set, penalty, λ), the columns ``head`` once per initialization,
    each cell ``cell(summaries)``; "-" where no run of that initialization is done yet."""
    g = groups(rows)
    lines = ["| data | penalty | λ | " + " | ".join(f"{h} ({init})" for init in INITS for h in head) + " |",
             "|" + "---|" * (3 + len(head) * len(INITS))]
    for dataset, penalty, lam in settings(g):
        cells = []
        for init in INITS:
            runs = g.get((dataset, init, penalty, lam))
            cells += cell(runs) if runs else ["-"] * len(head)
        lines.append(f"| {dataset} | {penalty} | {'-' if lam is None else f'{lam:g}'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def time_table(rows: list[dict[str, Any]]) -> str:
    """The generator step at which the exact W1 first fell below 2× the noise floor, for
    each seed of the grid in order ("·" where that seed's run is not done yet)."""
    seeds = sorted({describe(r)["seed"] for r in rows})

    def cell(runs: list[dict[str, Any]]) -> list[str]:
        by_seed = {s["seed"]: time_to_floor(s) for s in runs}
        return [", ".join("·" if seed not in by_seed else "never" if by_seed[seed] is None else str(by_seed[seed]) for seed in seeds)]
    return by_init(rows, cell, ["steps to 2× floor, seeds " + "/".join(map(str, seeds))])


def final_table(rows: list[dict[str, Any]]) -> str:
    """Mean ± std over seeds of the final exact W1, its ratio to the noise floor, mode
    coverage and the critic's estimate over the exact W1; how many seeds were still
    falling at the end (:func:`still_falling`). The seeds column gives the runs'
    length in generator steps too, as runs still falling were continued (:func:`extend`)."""
    def cell(runs: list[dict[str, Any]]) -> list[str]:
        steps = sorted({s["history"][-1]["step"] for s in runs})
        length = str(steps[0]) if len(steps) == 1 else f"{steps[0]}–{steps[-1]}"
        modes, w1 = [final_modes(s) for s in runs], [final(s, "w1_exact") for s in runs]
        return [f"{len(runs)} × {length}", fmt(w1), fmt([w / s["noise_floor"] for w, s in zip(w1, runs, strict=True)], 2),
                fmt([m for m, _ in modes], 2) + ("" if all(over for _, over in modes) else " †"),
                fmt([final(s, "w1_critic") / w for w, s in zip(w1, runs, strict=True)], 2), str(sum(map(still_falling, runs)))]
    return by_init(rows, cell, ["seeds × steps", "final W1", "W1 / floor", "modes", "critic / exact", "still falling"]) + (
        f"\nModes: the mean over the last {LAST_EVALUATIONS} evaluations; † the last evaluation's only, for runs recorded "
        "before the history kept the modes.\n")


def plain_loop_key(penalty: str, lam: float, init: str) -> str:
    """How :data:`PLAIN_LOOP` names the trajectories of one setting (their seeds below it)."""
    return f"{penalty.upper()} λ {lam:g}, {init} init"


def load_plain_loop(path: Path = PLAIN_LOOP) -> dict[str, dict[str, dict[str, float]]]:
    """The plain loop's trajectories kept so far: setting → seed → generator step → exact W1."""
    return json.loads(path.read_text()) if path.exists() else {}


def save_plain_loop(penalty: str, lam: float, init: str, seed: int, trajectory: dict[int, float],
                    path: Path = PLAIN_LOOP) -> None:
    """Adds one trajectory of the plain loop (``bench.py --trajectory ... --save``) to ``path``."""
    data, key = load_plain_loop(path), plain_loop_key(penalty, lam, init)
    seeds = {**data.get(key, {}), str(seed): {str(k): round(v, 3) for k, v in sorted(trajectory.items())}}
    data[key] = dict(sorted(seeds.items(), key=lambda kv: int(kv[0])))
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def span(curves: list[dict[int, float]], steps: list[int]) -> list[str]:
    """Per step, the lowest–highest value over ``curves`` (one curve: its value)."""
    out = []
    for s in steps:
        values = [c[s] for c in curves if s in c]
        out.append("" if not values else f"{values[0]:.3f}" if len(values) == 1 else f"{min(values):.3f}–{max(values):.3f}")
    return out


def side(value: float | None, values: list[float]) -> str:
    """Where ``value`` lies against the range of ``values``: below, inside or above."""
    if value is None or not values:
        return ""
    return "below" if value < min(values) else "above" if value > max(values) else "inside"


def reference_table(rows: list[dict[str, Any]], plain: dict[str, dict[str, dict[str, float]]] | None = None) -> str:
    """The project's GP trajectories (8gaussians) next to the reference port's: each seed
    at the port's N(0, 0.02) initialization, the seeds' range at both initializations and
    of the plain loop (``plain``, as :func:`save_plain_loop` keeps it), and where the
    reference lies against the project's range at the port's initialization (with two
    seeds or more)."""
    steps = sorted({s for ref in REFERENCE.values() for s in ref} | {3500, 4000, 4500, 5000})
    g = groups(rows)
    lines = ["| run | " + " | ".join(map(str, steps)) + " |", "|---|" + "---|" * len(steps)]

    def line(name: str, cells: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    for lam, ref in REFERENCE.items():
        line(f"reference port, GP λ {lam:g}, seed 0", [f"{ref[s]:.3f}" if s in ref else "" for s in steps])
        curves = {init: [{h["step"]: h["w1_exact"] for h in s["history"]} for s in g.get(("8gaussians", init, "GP", lam), [])]
                  for init in INITS}
        for summary, curve in zip(g.get(("8gaussians", "normal", "GP", lam), []), curves["normal"], strict=True):
            line(f"this project, GP λ {lam:g}, N(0, 0.02) init, seed {summary['seed']}", span([curve], steps))
        loops = [{int(k): v for k, v in c.items()} for c in (plain or {}).get(plain_loop_key("GP", lam, "normal"), {}).values()]
        ranges = (("this project, N(0, 0.02) init", curves["normal"] if len(curves["normal"]) > 1 else []),
                  ("plain loop (no Lightning), N(0, 0.02) init", loops), ("this project, PyTorch default init", curves["default"]))
        for name, group in ranges:
            if group:
                line(f"{name}, range of {len(group)} seed{'s' * (len(group) > 1)}, GP λ {lam:g}", span(group, steps))
        if len(curves["normal"]) > 1:
            line(f"reference against the project's N(0, 0.02) range, GP λ {lam:g}",
                 [side(ref.get(s), [c[s] for c in curves["normal"] if s in c]) for s in steps])
    return "\n".join(lines) + "\n"


def status(rows: list[dict[str, Any]], results: Path | None = None) -> str:
    """How much of the full grid is done, and the command that continues it."""
    total = total_runs()
    count: dict[tuple, int] = defaultdict(int)
    for r in rows:
        d = describe(r)
        count[d["dataset"], d["seed"]] += 1

    def per_round(dataset: str, seed: int) -> int:  # the first round has the family's second λ too
        return sum(len(expand(s)) for s in sweeps(FULL, [seed], [dataset]).values())
    done = "; ".join(f"{ds} seed {seed}: {n} of {per_round(ds, seed)}" for (ds, seed), n in sorted(count.items())) or "none"
    longer = sum(r["summary"]["history"][-1]["step"] > FULL.generator_steps for r in rows)
    text = (f"{len(rows)} of the grid's {total} runs are done ({done}). Each is {FULL.generator_steps} generator steps "
            f"at the reference settings, evaluated every {FULL.eval_every}; a run still falling at its end is continued "
            f"for as long again, up to {LONGEST * FULL.generator_steps} ({longer} so far), from its last checkpoint "
            "(or run again from its start where the checkpoint is not on the machine: checkpoints are not kept in git). "
            "`python -m lightning_wgan.experiments.convergence` continues the grid (finished runs are skipped).")
    if rows:
        speed = mean_sd([r["summary"]["critic_steps_per_s"] for r in rows])[0]
        text += f" {run_time(rows, 'convergence', results)}. A run averaged {speed:.1f} critic steps/s, one thread a run."
    return text + "\n"


def blocks(rows: list[dict[str, Any]], results: Path | None = None) -> dict[str, str]:
    """The generated blocks of docs/results.md (with the plain loop's trajectories kept in :data:`PLAIN_LOOP`)."""
    plain = load_plain_loop()
    return {"convergence-status": status(rows, results), "convergence-time": time_table(rows), "convergence-final": final_table(rows),
            "convergence-reference": reference_table(rows, plain)}


def panels(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(data set, initialization) pairs that have runs."""
    return sorted({(d["dataset"], d["init"]) for d in map(describe, rows)})


def trajectories(ax: plt.Axes, rows: list[dict[str, Any]], dataset: str, init: str, family: bool = False) -> None:
    """Exact W1 / noise floor over the whole run, one line per penalty × λ (the mean over
    seeds), the seeds' range shaded, a run continued past its seeds' common length dotted
    on its own; the dashed line is 2× the floor. GP and LP at every λ and clipping; or,
    with ``family``, every regularizer at its config's default λ (GP and LP at 10)."""
    colors = {"GP": plt.cm.Blues, "LP": plt.cm.Reds}
    members = ["GP", "LP", *FAMILY]
    for (ds, it, penalty, lam), runs in groups(rows).items():
        default = penalty == "clip" or lam == gan_lambda(penalty.lower())
        if (ds, it) != (dataset, init) or (penalty in FAMILY and not family) or (family and not default):
            continue
        n = min(len(s["history"]) for s in runs)
        steps = [h["step"] for h in runs[0]["history"][:n]]
        curves = [[h["w1_exact"] / s["noise_floor"] for h in s["history"][:n]] for s in runs]
        mean = [sum(c[i] for c in curves) / len(curves) for i in range(n)]
        if penalty == "clip":
            color = "gray"
        elif family:
            color = plt.cm.tab20(members.index(penalty) / 20)
        else:
            color = colors[penalty](0.35 + 0.15 * math.log10(lam * 10))
        label = (penalty if penalty == "clip" or lam is None else f"{penalty} λ={lam:g}") + f" ({len(runs)})"
        ax.plot(steps, mean, color=color, label=label)
        ax.fill_between(steps, [min(c[i] for c in curves) for i in range(n)], [max(c[i] for c in curves) for i in range(n)],
                        color=color, alpha=0.15, lw=0)
        for s in runs:  # a run continued past the others' length (:func:`extend`): on alone, dotted
            if len(s["history"]) > n:
                ax.plot([h["step"] for h in s["history"][n - 1:]], [h["w1_exact"] / s["noise_floor"] for h in s["history"][n - 1:]],
                        color=color, ls=":")
    ax.axhline(2.0, color="black", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("generator step")
    ax.set_ylabel("exact W1 / noise floor")
    # two lines: on one, four panels side by side run into each other's titles
    which = "each regularizer at its default λ" if family else "mean over seeds, their range shaded; continued runs dotted"
    ax.set_title(f"GAN training: {dataset}, {init} init\n{which}", fontsize=9)
    ax.legend(fontsize=7, ncol=2, title="(seeds)", title_fontsize=7)


def figure(rows: list[dict[str, Any]], path: Path, family: bool = False) -> None:
    """One panel of :func:`trajectories` per data set and initialization (the family's:
    per data set, at PyTorch's default initialization, which its runs use)."""
    if not (todo := [(d, i) for d, i in panels(rows) if not family or i == "default"]):
        return
    fig, axes = plt.subplots(1, len(todo), figsize=(5.5 * len(todo), 4.5), squeeze=False)
    for ax, (dataset, init) in zip(axes[0], todo, strict=True):
        trajectories(ax, rows, dataset, init, family)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def report(done: list[dict[str, Any]], results: Path) -> dict[str, str]:
    """convergence.md and convergence.png from the finished runs ``done``; returns the
    tables as the generated blocks of docs/results.md (:func:`blocks`)."""
    tables = blocks(done, results)
    results.mkdir(parents=True, exist_ok=True)
    text = ["# GAN training at convergence", "",
            f"Generated by `python -m lightning_wgan.experiments.convergence --report`. {tables['convergence-status']}",
            f"Final values are means over the last {LAST_EVALUATIONS} evaluations; the noise floor is the mean of 5 draws; "
            "± is the standard deviation over seeds.", "", "## Generator steps until the exact W1 is below 2× the noise floor", "",
            tables["convergence-time"], "## At the end of the run", "", tables["convergence-final"], "## Against the reference port",
            "", tables["convergence-reference"]]
    (results / "convergence.md").write_text("\n".join(text))
    figure(done, results / "convergence.png")
    if any(describe(r)["penalty"] in FAMILY for r in done):
        figure(done, results / "convergence_family.png", family=True)
    return tables


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("GP and LP across λ in full GAN training, run to convergence.", quick="a few short, small runs",
                              results="docs/results, or the runs folder for --quick", jobs=max(1, (os.cpu_count() or 2) // 2),
                              jobs_help="the rounds' runs at a time, and the continuations' beside them (half the cores each)")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, results = places("convergence", args)
    if not args.report:
        record_machine(args, "convergence", processes=2 * args.jobs)  # the rounds' and the continuations' shares
        run(grid, runs, table, args.jobs)
    done = rows(table)
    tables = report(done, results)
    print(f"results: {results / 'convergence.md'} ({len(done)} runs)")
    if to_pages(args):
        page = REPO / "docs" / "results.md"
        fill_blocks(page, tables)
        print(f"{page}: its GAN tables; its figure paper.png: python -m lightning_wgan.experiments.paper --report")


if __name__ == "__main__":
    run_main(main)
