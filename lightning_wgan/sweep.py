"""Run a wandb sweep file on this machine, without wandb's server.

    python -m lightning_wgan.sweep conf/sweeps/lambda_grid.yaml [--out DIR] [--count N] [-- EXTRA ARGS]

Reads the same YAML that ``wandb sweep`` takes (``program``, ``method``,
``parameters``), runs every grid point (``method: grid``) or ``--count``/``run_cap``
random draws (``method: random``) one process at a time, each an offline wandb run in
one group, and keeps every run as a row of a table (:class:`RunTable`, ``runs.jsonl`` in
the results folder: its parameters, its ``summary.json`` and whether it finished), from
which it writes ``results.csv`` and ``results.md``. A rerun skips the runs the table has
as finished. ``--until HH:MM`` starts no run that is expected to end after that time
(:func:`in_time`): the runs left wait for the next sweep, instead of being cut off.
Bayesian search needs wandb's server (``wandb sweep``, then ``wandb agent``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import hashlib
import itertools
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock, Timeout

REPO = Path(__file__).resolve().parent.parent
# The deadline of --until, as epoch seconds: in the environment, so that the workers and
# runs a sweep starts, and the grids a driver runs in turn, all keep it.
UNTIL = "SWEEP_UNTIL"
SINCE = "SWEEP_SINCE"  # when --until was given, as epoch seconds: rows recorded after it are this call's (pace)
RESULT_KEYS = ("w1_exact", "noise_floor", "w1_over_floor", "w1_critic", "w1_critic_se", "rel_error", "ratio", "modes_covered")


class SweepError(ValueError):
    pass


def load_sweep(path: str | Path) -> dict[str, Any]:
    sweep = yaml.safe_load(Path(path).read_text())
    if not isinstance(sweep, dict) or "parameters" not in sweep:
        raise SweepError(f"{path}: a sweep file needs a 'parameters' mapping")
    method = sweep.get("method", "grid")
    if method == "bayes":
        raise SweepError(
            f"{path}: method 'bayes' needs wandb's sweep server: run `wandb sweep {path}` and then `wandb agent <sweep id>`; "
            "this local runner does 'grid' and 'random'"
        )
    if method not in ("grid", "random"):
        raise SweepError(f"{path}: unknown method {method!r}; choose one of grid, random, bayes")
    return sweep


def draw(spec: dict[str, Any], rng: random.Random) -> Any:
    """One value of a parameter, drawn as wandb's random search does."""
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        return rng.choice(spec["values"])
    dist = spec.get("distribution", "uniform")
    lo, hi = spec["min"], spec["max"]
    if dist == "uniform":
        return rng.uniform(lo, hi)
    if dist == "int_uniform":
        return rng.randint(lo, hi)
    if dist == "log_uniform_values":
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    raise SweepError(f"unsupported distribution {dist!r}; use values, uniform, int_uniform or log_uniform_values")


def expand(sweep: dict[str, Any], count: int | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """The runs of a sweep, each a dict of CLI argument name → value, in file order."""
    params: dict[str, dict[str, Any]] = sweep["parameters"]
    if sweep.get("method", "grid") == "grid":
        axes = []
        for name, spec in params.items():
            if "value" in spec:
                axes.append([(name, spec["value"])])
            elif "values" in spec:
                axes.append([(name, v) for v in spec["values"]])
            else:
                raise SweepError(f"grid search needs 'value' or 'values' for every parameter; {name!r} has {sorted(spec)}")
        return [dict(point) for point in itertools.product(*axes)]
    n = count or sweep.get("run_cap")
    if not n:
        raise SweepError("random search needs --count N or 'run_cap' in the sweep file")
    rng = random.Random(seed)
    return [{name: draw(spec, rng) for name, spec in params.items()} for _ in range(n)]


def to_args(params: dict[str, Any]) -> list[str]:
    """``--name=value`` as wandb's agent passes them; ``config`` first, since a config
    file must come before the flags that override it. A list of configs (this runner
    only) becomes one ``--config`` each, applied in order."""
    order = sorted(params, key=lambda k: k != "config")
    args = []
    for k in order:
        if k == "config" and isinstance(params[k], list):
            args += [f"--config={c}" for c in params[k]]
        else:
            args.append(f"--{k}={json.dumps(params[k]) if isinstance(params[k], list) else params[k]}")
    return args


def run_id(params: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]


def summary_of(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``summary.json``; None where it left none (or a broken one)."""
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None


class RunTable:
    """The runs of one experiment as one table: a JSON Lines file, a row a run, sorted by
    sweep and run id. A row holds the run's ``sweep`` (the name of its results folder),
    ``run`` (:func:`run_id` of its parameters), ``finished``, ``params``, ``summary``
    (its ``summary.json``, or None when it left none) and ``recorded`` (epoch seconds; rows
    of before it was kept have none).

    The sweep runner records a run when it ends and skips the runs recorded as finished;
    reports read the finished rows (:func:`collect`). A run's directory (config,
    checkpoints, logs) stays on the machine that ran it; the table is the record, small
    enough to keep in git. Every write takes a file lock and replaces the file whole, so
    the workers of a grid (processes or threads) can record at once, and a kill
    mid-write leaves the table as it was.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[tuple[str, str], dict[str, Any]]:
        if not self.path.exists():
            return {}
        rows = (json.loads(line) for line in self.path.read_text().splitlines() if line.strip())
        return {(r["sweep"], r["run"]): r for r in rows}

    def finished(self, sweep: str) -> set[str]:
        """The ids of the sweep's finished runs (:func:`run_id` of their parameters)."""
        return {run for (s, run), row in self.read().items() if s == sweep and row["finished"]}

    def record(self, sweep: str, params: dict[str, Any], run_dir: Path) -> bool:
        """Write (or replace) the row of the run in ``run_dir``; returns whether it finished:
        its summary says so (a run stopped by a signal exits 0 too, having saved a
        checkpoint, but its summary says ``finished: false``)."""
        summary = summary_of(run_dir)
        done = bool(summary and summary.get("finished"))
        self.put([{"sweep": sweep, "run": run_id(params), "finished": done, "params": params, "summary": summary,
                   "recorded": round(time.time())}])
        return done

    def put(self, rows: list[dict[str, Any]]) -> None:
        """Write ``rows``, each replacing the row of its sweep and run."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.path}.lock"):
            table = self.read()
            table.update({(r["sweep"], r["run"]): r for r in rows})
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text("".join(json.dumps(table[k], ensure_ascii=False) + "\n" for k in sorted(table)))
            os.replace(partial, self.path)


@contextlib.contextmanager
def sole_runner(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s run lock while the block runs: a second process that runs the
    same sweep or grid gets a :class:`SweepError` at once instead of running its runs
    twice (its claims are its own)."""
    lock = FileLock(folder / ".running.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SweepError(f"{folder} is being run by another process (it holds {lock.lock_file}); "
                         "wait for it to finish, or stop it") from None
    try:
        yield
    finally:
        lock.release()


class Shares:
    """Shares of the machine's cores between threads that start runs: an owner's thread
    waits for a share (``with shares:``, given back at the end), and a sweep borrows one
    that is free (:meth:`borrow`) only while no owner waits, so borrowing never keeps
    an owner from the next share that comes free."""

    def __init__(self, free: int) -> None:
        self.free, self.waiting, self.changed = free, 0, threading.Condition()

    def __enter__(self) -> Shares:
        with self.changed:
            self.waiting += 1
            self.changed.wait_for(lambda: self.free > 0)
            self.waiting -= 1
            self.free -= 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.give_back()

    def borrow(self) -> bool:
        with self.changed:
            if self.free == 0 or self.waiting:
                return False
            self.free -= 1
            return True

    def give_back(self) -> None:
        with self.changed:
            self.free += 1
            self.changed.notify()


def run_sweep(
    path: str | Path | dict[str, Any], out: Path, extra: list[str], count: int | None = None, jobs: int = 1, in_process: bool = False,
    table: Path | None = None, grid: GridProgress | None = None, processes: int | None = None,
    spare: Shares | None = None,
) -> list[dict]:
    """Run the sweep's unfinished runs, ``jobs`` at a time, then write its tables.

    ``path`` is a sweep file, or a sweep as a dict (written to ``out/sweep.yaml``, where
    workers read it). The runs' directories go under ``out``, their rows into ``table``
    (default ``out/runs.jsonl``; an experiment of several sweeps keeps them in one), as
    the sweep ``out.name``. Each run is a process of its own, unless ``in_process``: then
    ``jobs`` worker processes each run their share of the runs one after another inside
    themselves, which saves the few seconds of start-up per run that dominate short runs;
    their progress is one bar over the sweep, or over the whole ``grid`` that this sweep
    is a part of. ``processes`` is how many processes share the machine's cores while it
    runs, this sweep's ``jobs`` and any its caller runs beside them (default ``jobs``):
    each run gets an equal share of the cores (:func:`shared_cores_env`). With
    ``in_process``, ``spare`` holds shares that others own: while runs are left
    unclaimed, the sweep borrows each one that is free for a worker of one run, and gives
    it back when that worker exits, so an owner who comes waits one run at most. Under
    ``--until`` a run starts only where it is expected to end before it (:func:`in_time`).
    """
    if isinstance(path, dict):
        out.mkdir(parents=True, exist_ok=True)
        (out / "sweep.yaml").write_text(yaml.safe_dump(path, sort_keys=False))
        path = out / "sweep.yaml"
    sweep = load_sweep(path)
    runs = expand(sweep, count)
    runs_table = RunTable(table or out / "runs.jsonl")
    program = REPO / sweep.get("program", "train.py")
    env = shared_cores_env(processes or jobs, WANDB_RUN_GROUP=out.name)
    env.setdefault("WANDB_MODE", "offline")
    out.mkdir(parents=True, exist_ok=True)
    with sole_runner(out):  # a second runner of this sweep would run its runs twice
        if in_process:
            finished = runs_table.finished(out.name)
            unfinished = [run_id(p) for p in runs if run_id(p) not in finished]
            done = len(runs) - len(unfinished)
            if grid is None:
                print(f"{done} of {len(runs)} runs done already; {jobs} workers run the other {len(runs) - done}", flush=True)
            if done == len(runs):  # no workers to start
                return write_tables(runs_table, out, list(sweep["parameters"]))
            # Workers take the next run nobody has claimed, so none idles while runs are left
            # (a fixed share idles one when a resumed sweep's unfinished runs fall to the other).
            with tempfile.TemporaryDirectory(prefix="sweep-claims-") as claims:

                def worker(*limit: str) -> subprocess.Popen:
                    return subprocess.Popen([sys.executable, "-m", "lightning_wgan.sweep", str(Path(path).resolve()),
                                             "--out", str(out.resolve()), "--table", str(runs_table.path.resolve()), "--claims", claims,
                                             *limit, *(["--count", str(count)] if count else []), "--", *extra], env=env, cwd=REPO)

                workers, borrowed = [worker() for _ in range(jobs)], []

                def borrow() -> None:
                    for proc in [p for p in borrowed if p.poll() is not None]:
                        borrowed.remove(proc)
                        spare.give_back()
                    unclaimed = sum(not (Path(claims) / run).exists() for run in unfinished)
                    while len(borrowed) < unclaimed and spare.borrow():
                        borrowed.append(worker("--at_most", "1"))
                        workers.append(borrowed[-1])

                try:
                    progress(workers, runs_table, out.name, runs, grid, borrow if spare else None)
                finally:
                    for _ in borrowed:  # the shares not given back yet (all, if the sweep was stopped)
                        spare.give_back()
            return write_tables(runs_table, out, list(sweep["parameters"]))
        running: list[tuple[subprocess.Popen, Path, Any]] = []

        def reap(block: bool) -> None:
            while running and (block or any(p.poll() is not None for p, _, _ in running)):
                for item in list(running):
                    proc, run_dir, log = item
                    if proc.poll() is None and not block:
                        continue
                    proc.wait()
                    log.close()
                    running.remove(item)
                    params = json.loads((run_dir / "params.json").read_text())
                    if not (runs_table.record(out.name, params, run_dir) and proc.returncode == 0):
                        print(f"    {run_dir.name} failed (exit {proc.returncode}); see {run_dir / 'output.log'}", flush=True)
                    if not block:
                        return
                if not block:
                    time.sleep(0.5)

        finished = runs_table.finished(out.name)
        for i, params in enumerate(runs):
            if run_id(params) in finished:
                print(f"[{i + 1}/{len(runs)}] done already: {run_id(params)} {params}", flush=True)
                continue
            while len(running) >= jobs:
                reap(block=False)
            if not in_time(runs_table, out.name, params, f"[{i + 1}/{len(runs)}]"):
                continue
            run_dir, resume = start_run(out, params)
            print(f"[{i + 1}/{len(runs)}] {run_dir.name} {params}", flush=True)
            cmd = [sys.executable, str(program), *to_args(params), *extra, f"--run_dir={run_dir}", *resume]
            log = open(run_dir / "output.log", "a")  # noqa: SIM115 (closed by reap)
            # No run reads the terminal: a prompt (wandb's login, say) fails at once instead of waiting.
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
            running.append((proc, run_dir, log))
        reap(block=True)
        return write_tables(runs_table, out, list(sweep["parameters"]))


class GridProgress:
    """One progress bar over a grid that a driver runs as several sweeps in turn (each
    :func:`run_sweep` given it moves the same bar): runs finished of the grid's
    ``total``, elapsed time and the time left at the rate so far. ``finished`` counts the
    grid's finished runs, from its table. Use it as a context manager."""

    def __init__(self, name: str, total: int, finished: Callable[[], int]) -> None:
        from tqdm import tqdm

        self.finished = finished
        self.bar = tqdm(total=total, initial=finished(), unit="run", desc=name, dynamic_ncols=True, smoothing=0)

    def update(self) -> None:
        self.bar.update(self.finished() - self.bar.n)

    def __enter__(self) -> GridProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.update()
        self.bar.close()


def progress(workers: list[subprocess.Popen], table: RunTable, sweep: str, runs: list[dict[str, Any]],
             grid: GridProgress | None = None, each_second: Callable[[], None] | None = None) -> None:
    """One progress bar while the sweep's workers run (the ``grid``'s, or the sweep's
    own): runs finished of all, elapsed time and the time left at the rate so far (tqdm),
    read from the table. ``each_second`` is called as often (it may add workers)."""
    ids = {run_id(p) for p in runs}
    with contextlib.nullcontext(grid) if grid else GridProgress(sweep, len(runs), lambda: len(table.finished(sweep) & ids)) as bar:
        while any(worker.poll() is None for worker in workers):
            time.sleep(1)
            bar.update()
            if each_second:
                each_second()


@contextlib.contextmanager
def output_to(log: Any) -> Iterator[None]:
    """Everything this process writes, into ``log``: Python's streams, and the file
    descriptors under them, which logging handlers made before (Lightning's model
    summary, its banners) and C code write to."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in (1, 2)]
    try:
        for fd in (1, 2):
            os.dup2(log.fileno(), fd)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def shared_cores_env(processes: int, **extra: str) -> dict[str, str]:
    """The environment for ``processes`` processes at a time on this machine's cores
    (with ``extra`` set). Processes that share cores must not start more threads between
    them than there are cores: OpenMP's threads spin while they wait for each other, so
    on 2 cores two 2-thread processes ran the plain loop at 7.1 critic steps/s in all,
    two 1-thread ones at 33.6 (``benchmarks/bench.py --sharing``)."""
    env = {**os.environ, **extra}
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    return env


def start_run(out: Path, params: dict[str, Any]) -> tuple[Path, list[str]]:
    """The directory of a run, with its parameters, and the arguments that go on with it.
    A run interrupted after a checkpoint continues from its ``last.ckpt`` (resumed runs
    draw what an uninterrupted one would, so nothing is lost but the steps since that
    checkpoint); any other unfinished attempt is cleared and the run starts afresh."""
    run_dir = out / run_id(params)
    if resumable(run_dir):
        return run_dir, ["--ckpt_path=last"]
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "params.json").write_text(json.dumps(params, indent=2) + "\n")
    return run_dir, []


def resumable(run_dir: Path) -> bool:
    """Whether an unfinished run left its config and a readable ``last.ckpt`` (a file cut
    short by a kill mid-write is not, and the run then starts afresh)."""
    if not ((run_dir / "config.yaml").is_file() and (run_dir / "params.json").is_file()):
        return False
    # only runs that started need the training stack
    from callbacks.reliability import last_checkpoint
    from lightning_wgan.errors import unreadable_checkpoint

    ckpt = last_checkpoint(run_dir)
    return ckpt.is_file() and unreadable_checkpoint(ckpt) is None


def until_time(text: str, now: datetime.datetime | None = None) -> float:
    """``--until``'s value, a time of day HH:MM, as epoch seconds: the next time this
    machine's clock shows it (after ``now``)."""
    now = now or datetime.datetime.now()
    try:
        hour, minute = (int(part) for part in text.split(":"))
        end = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day HH:MM (e.g. 02:30)") from None
    return (end if end > now else end + datetime.timedelta(days=1)).timestamp()


class Until(argparse.Action):
    """``--until HH:MM``: puts the deadline in this process's environment (:data:`UNTIL`),
    where every sweep it runs, and their workers and runs, find it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None
                 ) -> None:
        os.environ[UNTIL] = str(values)
        os.environ[SINCE] = str(time.time())
        setattr(namespace, self.dest, values)


def add_until(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--until", type=until_time, action=Until, metavar="HH:MM",
                        help="start no run that is expected to end after this time of day (by the wall time of its "
                             "finished look-alikes); the runs left are run by the next call")


LENGTHS = ("generator_steps", "critic_steps")  # a run's length, in the parameters that give one


def settings(params: dict[str, Any]) -> dict[str, Any]:
    """A run's parameters as dotted names: the YAML mappings of a ``config`` list (the
    experiment drivers give each run's settings so, :func:`~lightning_wgan.experiments.common.flow`)
    spread out like the sweep's own names, so that ``data.*`` and the length are found
    there too; the list keeps its files."""
    def spread(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in mapping.items():
            out.update(spread(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    config = params.get("config")
    if not isinstance(config, list):
        return params
    loaded = [yaml.safe_load(entry) if isinstance(entry, str) and entry.startswith("{") else entry for entry in config]
    out = {k: v for k, v in params.items() if k != "config"}
    for entry in loaded:
        if isinstance(entry, dict):
            out.update(spread(entry))
    return {**out, "config": [entry for entry in loaded if not isinstance(entry, dict)]}


def look_alikes(rows: Iterable[dict[str, Any]], sweep: str, params: dict[str, Any]) -> tuple[list[float], bool]:
    """The wall times of a run's finished look-alikes among ``rows`` of ``sweep``, and
    whether they share its data: those with the same parameters (:func:`settings`) but the
    seeds (any name with "seed" in it) and the length, failing that those with the same
    but the data (``data.*``) too; each scaled to the run's length where its parameters
    give one (``generator_steps`` or ``critic_steps``) and the row's summary has it (a
    continued run ran longer). No times where none has finished."""
    params = settings(params)

    def cost(p: dict[str, Any], data: bool) -> dict[str, Any]:  # p already spread by settings()
        return {k: v for k, v in p.items() if "seed" not in k and k not in LENGTHS and (data or not k.startswith("data."))}

    def seconds(summary: dict[str, Any]) -> float:
        length = next((k for k in LENGTHS if params.get(k) and summary.get(k)), None)
        return summary["wall_time_s"] * (params[length] / summary[length] if length else 1.0)

    # each row's YAML read once, not once a pass and a comparison
    done = [(settings(r["params"]), r["summary"]) for r in rows
            if r["sweep"] == sweep and r["finished"] and "wall_time_s" in (r["summary"] or {})]
    for data in (True, False):
        wanted = cost(params, data)
        times = [seconds(summary) for p, summary in done if cost(p, data) == wanted]
        if times:
            return times, data
    return [], False


def expected_seconds(rows: Iterable[dict[str, Any]], sweep: str, params: dict[str, Any]) -> float | None:
    """How long a run of ``sweep`` with ``params`` should take: the median wall time of its
    :func:`look_alikes` in ``rows`` (None where none has finished)."""
    times, _ = look_alikes(rows, sweep, params)
    return statistics.median(times) if times else None


def fits(seconds: float | None) -> bool:
    """Whether something expected to take ``seconds`` (None: not known) ends before the
    deadline of ``--until`` (:data:`UNTIL`), if there is one."""
    until = os.environ.get(UNTIL)
    return until is None or time.time() + (seconds or 0.0) <= float(until)


def pace(rows: list[dict[str, Any]], since: float, same_data: bool) -> float:
    """How fast this call's runs go against the runs before it: the median, over the
    finished rows recorded after ``since`` whose :func:`look_alikes` among the earlier rows
    share their data (``same_data``) or do not, of each one's wall time over its
    look-alikes' median (1 where none can say).
    Look-alikes of other sessions ran on machines up to 3× slower or faster, some
    sharing a core with another grid: an hour's look-alike may take twenty minutes here.
    Like is compared with like because the two kinds are often rows of different
    sessions: the family's 8gaussians runs took four times as long as their 25gaussians
    look-alikes, so a pace learned against one kind would start runs of the other that
    end long after the deadline."""
    def as_ran(r: dict[str, Any]) -> dict[str, Any]:  # a continued run ran longer than its parameters say
        params = settings(r["params"])
        return {**params, **{k: r["summary"][k] for k in LENGTHS if params.get(k) and r["summary"].get(k)}}

    before, ratios = [r for r in rows if r.get("recorded", 0) < since], []
    for r in rows:
        if r.get("recorded", 0) >= since and r["finished"] and "wall_time_s" in (r["summary"] or {}):
            times, data = look_alikes(before, r["sweep"], as_ran(r))
            if times and data == same_data:
                ratios.append(r["summary"]["wall_time_s"] / statistics.median(times))
    return statistics.median(ratios) if ratios else 1.0


def in_time(table: RunTable, sweep: str, params: dict[str, Any], label: str) -> bool:
    """Whether to start a run of ``sweep`` with ``params`` now (:func:`fits`, by its
    :func:`look_alikes` among ``table``'s rows of earlier calls, at this call's
    :func:`pace` against look-alikes of the same kind); says so where it is left for later."""
    if UNTIL not in os.environ:  # no deadline: no table to read before each run
        return True
    # each row's YAML read once here, not once for each of this call's rows that pace() compares
    rows = [{**r, "params": settings(r["params"])} for r in table.read().values()]  # settings() of settings: the same
    since = float(os.environ.get(SINCE, "inf"))  # no --until given here: all earlier
    times, same_data = look_alikes([r for r in rows if r.get("recorded", 0) < since], sweep, params)
    seconds = statistics.median(times) * pace(rows, since, same_data) if times else expected_seconds(rows, sweep, params)
    if fits(seconds):
        return True
    why = f"it would end after --until (about {seconds / 60:.0f} min)" if seconds is not None else "--until has passed"
    print(f"{label} {run_id(params)} left for the next call: {why}", flush=True)
    return False


def claim(claims: Path, params: dict[str, Any]) -> bool:
    """Whether this worker takes the run: the one that creates its claim file first
    (an exclusive create, atomic between processes)."""
    try:
        (claims / run_id(params)).open("x").close()
    except FileExistsError:
        return False
    return True


def work(path: str | Path, out: Path, extra: list[str], claims: Path, count: int | None = None, table: Path | None = None,
         at_most: int | None = None) -> None:
    """Run the sweep's unfinished runs that no other worker sharing ``claims`` has taken
    (``at_most`` of them if given), in this process, one after another, each writing all its output to its own log
    (:func:`output_to`) and its row to ``table`` (as :func:`run_sweep`). The terminal
    shows the runner's progress bar and the runs that failed."""
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from lightning_wgan.cli import WGANCLI  # only workers need the training stack

    runs, runs_table = expand(load_sweep(path), count), RunTable(table or out / "runs.jsonl")
    finished = runs_table.finished(out.name)  # a run finished since is claimed, so no other worker takes it
    taken = 0
    for i, params in enumerate(runs):
        if taken == at_most:
            return
        if run_id(params) in finished or not claim(claims, params):
            continue
        if not in_time(runs_table, out.name, params, f"[{i + 1}/{len(runs)}]"):  # it stays claimed: no other worker asks again
            continue
        taken += 1
        run_dir, resume = start_run(out, params)
        with open(run_dir / "output.log", "a") as log, output_to(log):
            print(f"[{i + 1}/{len(runs)}] {run_dir.name} {params}{' (resumed)' if resume else ''}", flush=True)
            try:
                WGANCLI(args=[*to_args(params), *extra, f"--run_dir={run_dir}", *resume])
            except SIGTERMException:  # the worker was asked to stop: the run stays unfinished
                raise
            except SystemExit as err:  # the CLI's one-line errors
                print(err.code)
            except Exception:  # one failed run must not stop the others
                traceback.print_exc()
        if not runs_table.record(out.name, params, run_dir):
            print(f"    {run_dir.name} failed; see {run_dir / 'output.log'}", flush=True)


def collect(table: RunTable, sweeps: Iterable[str]) -> list[dict[str, Any]]:
    """The finished runs of ``sweeps`` (in that order, each sweep's by run id) as the
    reports read them: the run id, its parameters, its main results and its summary."""
    rows = table.read()
    out = []
    for sweep in sweeps:
        for (s, run), row in sorted(rows.items()):
            if s == sweep and row["finished"]:
                summary = row["summary"]
                out.append({"run": run, **row["params"], **{k: summary[k] for k in RESULT_KEYS if k in summary}, "summary": summary})
    return out


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of runs' results."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def mean_sd_text(values: list[float], digits: int = 4) -> str:
    """``mean ± sd`` of runs' results, as the tables print it."""
    m, s = mean_sd(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def short(value: Any) -> str:
    return str(value).rsplit(".", 1)[-1] if isinstance(value, str) else str(value)


def write_tables(table: RunTable, out: Path, param_names: list[str]) -> list[dict[str, Any]]:
    """results.csv (one row a finished run of the sweep ``out.name``) and results.md (mean
    ± std over seeds) in ``out``; returns the rows (:func:`collect`)."""
    rows = collect(table, [out.name])
    metrics = [k for k in RESULT_KEYS if any(k in r for r in rows)]
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run", *param_names, *metrics])
        for r in rows:
            writer.writerow([r["run"], *(r.get(p) for p in param_names), *(r.get(m) for m in metrics)])
    keys = [p for p in param_names if p != "seed_everything"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(short(r.get(k)) for k in keys), []).append(r)
    lines = ["| " + " | ".join([*keys, "runs", *metrics]) + " |", "|" + "---|" * (len(keys) + 1 + len(metrics))]
    for key, group in sorted(groups.items()):
        cells = []
        for m in metrics:
            vals = [g[m] for g in group if g.get(m) is not None]
            cells.append(mean_sd_text(vals) if vals else "")
        lines.append("| " + " | ".join([*key, str(len(group)), *cells]) + " |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    return rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    parser = argparse.ArgumentParser(description="Run a wandb sweep file locally (grid or random search).")
    parser.add_argument("sweep", help="a sweep YAML, e.g. conf/sweeps/lambda_grid.yaml")
    parser.add_argument("--out", help="results folder (default: sweeps/<file name>)")
    parser.add_argument("--count", type=int, help="number of runs of a random search")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (each gets cores/jobs threads)")
    parser.add_argument("--in_process", action="store_true", help="--jobs worker processes, each running its runs in itself")
    parser.add_argument("--table", help="the runs' table (default: runs.jsonl in the results folder)")
    add_until(parser)
    parser.add_argument("--claims", help=argparse.SUPPRESS)  # one worker of an --in_process sweep: its claims folder
    parser.add_argument("--at_most", type=int, help=argparse.SUPPRESS)  # and how many runs it takes
    args = parser.parse_args(argv)
    if not Path(args.sweep).is_file():
        raise SystemExit(f"error: no sweep file {args.sweep}")
    out = Path(args.out) if args.out else Path("sweeps") / Path(args.sweep).stem
    table = Path(args.table) if args.table else None
    if args.claims:
        work(args.sweep, out, extra, Path(args.claims), args.count, table, args.at_most)
        return
    try:
        rows = run_sweep(args.sweep, out, extra, args.count, args.jobs, args.in_process, table)
    except SweepError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"results: {out / 'results.md'} ({len(rows)} runs)")


if __name__ == "__main__":
    main()
