"""What the experiment drivers share: their command line, where their runs and tables
go, and the generated blocks of the pages they write."""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
import yaml

from lightning_wgan.sweep import REPO, RunTable, SweepError, add_until, shared_cores_env

RESULTS = REPO / "docs" / "results"
MACHINES = RESULTS / "machines.jsonl"  # the plain loop's speed at each start of a grid (record_machine)
BENCHMARK_PAGE = REPO / "docs" / "benchmark.md"  # the W1 benchmark's page: its tables are the drivers' blocks
RUNS = REPO / "runs" / "experiments"
LAST_EVALUATIONS = 4  # a run's final value is the mean over these, so one lucky evaluation does not decide


def driver_arguments(description: str, quick: str, results: str, jobs: int = 2, jobs_help: str = "worker processes"
                     ) -> argparse.ArgumentParser:
    """The command line of a grid driver; ``results`` names the default report folder in
    the help, ``jobs`` and ``jobs_help`` are the default and help of ``--jobs``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--report", action="store_true", help="only the tables and figure, from the runs done so far")
    parser.add_argument("--runs", help="where the runs' directories go (default runs/experiments/NAME; sweeps/NAME_quick for --quick)")
    parser.add_argument("--table", help="the runs' table (default docs/results/NAME.jsonl; runs.jsonl in --runs, or for --quick)")
    parser.add_argument("--results", help=f"where the report goes (default {results})")
    parser.add_argument("--jobs", type=int, default=jobs, help=f"{jobs_help} (default {jobs})")
    add_until(parser)
    return parser


def places(name: str, args: argparse.Namespace) -> tuple[Path, RunTable, Path]:
    """The runs folder, the table and the report folder of experiment ``name``: the full
    grid's are runs/experiments/NAME, docs/results/NAME.jsonl and docs/results/ (kept in
    git); a quick grid, or runs put elsewhere, keep their table beside their runs, and a
    quick grid its report too; ``--results`` puts the report elsewhere."""
    default = REPO / "sweeps" / f"{name}_quick" if args.quick else RUNS / name
    runs = Path(args.runs) if args.runs else default
    table = Path(args.table) if args.table else runs / "runs.jsonl" if args.quick or args.runs else RESULTS / f"{name}.jsonl"
    docs = Path(args.results) if args.results else runs if args.quick else RESULTS
    return runs, RunTable(table), docs


def shown(path: Path) -> Path:
    """``path`` as a report names it: relative to the repository where it lies inside it,
    so the generated pages read the same on every clone."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def drift(history: list[dict[str, float]], key: str = "grad_cos") -> float:
    """How far ``key`` moved over the second half of a run: its last value less its value
    at the evaluation nearest the middle (nan where the history has fewer than two);
    ``"ratio"`` is the critic's estimate over the exact W1. Near 0: the run has settled."""
    def value(h: dict[str, float]) -> float | None:
        return h["w1_critic"] / h["w1_exact"] if key == "ratio" and "w1_critic" in h else h.get(key)
    points = [(h["step"], v) for h in history if (v := value(h)) is not None]
    if len(points) < 2:
        return math.nan
    middle = min(points, key=lambda p: abs(p[0] - points[-1][0] / 2))
    return points[-1][1] - middle[1]


def final(summary: dict[str, Any], key: str) -> float:
    """The mean of ``key`` over a run's last :data:`LAST_EVALUATIONS` evaluations that
    measured it (NaN if none did): evaluations that skip a measure (the digits runs' last
    step, the modes before the history kept them) do not shorten the window."""
    values = [h[key] for h in summary["history"] if key in h][-LAST_EVALUATIONS:]
    return sum(values) / len(values) if values else math.nan


def run_time(rows: list[dict[str, Any]], driver: str | None = None, folder: Path | None = None) -> str:
    """The runs' wall time, in all and on average (empty for no runs); with ``driver``,
    the plain loop's speed at the starts of its grid (:func:`record_machine`), from the
    machines file in the report ``folder`` if given (none for a quick grid or a report
    elsewhere). Only starts measured at a thread count the runs ran at (their summaries'
    ``threads``; 1 for rows from before the key) give a range, one per count: the loop at
    2 threads beside busy 1-thread runs read 1.2–3.0 steps/s where it ran 21.5 at 1, so
    such a speed says nothing of the machine (the file keeps them, and the text counts
    them)."""
    if not rows:
        return ""
    hours = sum(r["summary"]["wall_time_s"] for r in rows) / 3600
    text = f"Their run time: {hours:.1f} h in all, {60 * hours / len(rows):.0f} min a run on average"
    starts = [m for m in read_machines(folder / MACHINES.name) if m["driver"] == driver] if folder else []
    speeds = {n: [m["plain_loop_steps_per_s"] for m in starts if m["threads"] == n] for n in thread_counts(r["summary"] for r in rows)}
    speeds = {n: s for n, s in speeds.items() if s}
    if speeds:
        spans = {n: f"{min(s):.1f}" if min(s) == max(s) else f"{min(s):.1f}–{max(s):.1f}" for n, s in speeds.items()}
        if len(speeds) == 1:
            ((n, s),) = speeds.items()
            at = "the one start of this grid measured" if len(s) == 1 else f"the {len(s)} starts of this grid measured"
            text += (f"; the plain loop of benchmarks/bench.py (the toy reference size, {plural(n, 'thread')} as each run) ran at "
                     f"{spans[n]} critic steps/s at {at} so")
        else:
            each = " and ".join(f"{spans[n]} critic steps/s at {plural(n, 'thread')} ({plural(len(s), 'start')})"
                                for n, s in speeds.items())
            text += (f"; the plain loop of benchmarks/bench.py (the toy reference size, at each start the thread count "
                     f"of its runs) ran at {each} at the starts of this grid measured so")
    left = len(starts) - sum(map(len, speeds.values()))
    if left:
        text += f" ({left} start(s) measured at another thread count left out)"
    return text


def thread_counts(summaries: Iterable[dict[str, Any]]) -> list[int]:
    """The thread counts the runs of these summaries ran at; rows from before the
    ``threads`` key ran at 1."""
    return sorted({s.get("threads", 1) for s in summaries})


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def read_machines(path: Path = MACHINES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def record_machine(args: argparse.Namespace, driver: str, path: Path = MACHINES, steps: int = 200,
                   processes: int | None = None) -> float | None:
    """Measure the plain loop of benchmarks/bench.py (LP at the toy reference size, no
    Lightning) in this process, beside whatever else the machine runs, and keep it with
    its thread count in ``path``. A grid spans sessions on machines that differ up to 3×
    in speed, so its run time means something only beside the speed of the machines it
    ran on. Only a grid for the project's own pages (:func:`to_pages`). It runs at the
    thread count of the grid's runs (:func:`~lightning_wgan.sweep.shared_cores_env` for
    ``processes`` at a time, by default ``--jobs``): at this process's own 2 threads
    beside a busy 1-thread grid, OpenMP's spinning read 1.2–3.0 steps/s on a machine
    whose 1-thread loop ran 29."""
    if not to_pages(args):
        return None
    spec = importlib.util.spec_from_file_location("bench", REPO / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    threads, own = int(shared_cores_env(processes or args.jobs)["OMP_NUM_THREADS"]), torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        rate = bench.plain_loop(*bench.SIZES["toy"], steps)
    finally:
        torch.set_num_threads(own)
    record = {"driver": driver, "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "plain_loop_steps_per_s": round(rate, 1), "threads": threads, "torch": torch.__version__}
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
    return rate


def load_speed(path: Path, where: str) -> tuple[dict[str, float], str]:
    """``bench.py --regularizers {where} --save``'s ratios to no regularizer, and how they
    were measured (or how to measure them)."""
    if not path.exists():
        return {}, f"not measured yet: `python benchmarks/bench.py --regularizers {where} --save` writes `{path.name}`"
    record = json.loads(path.read_text())
    how = (f"`{record['command']}`, {record['rounds']} rounds, {record['threads']} thread(s) as in the grid; "
           f"none ran at {record['none_steps_per_s']} critic steps/s there")
    return record["speed_vs_none"], how


def flow(config: dict[str, Any]) -> str:
    """A config as one line of YAML (``--config`` takes YAML text): a run's parameters
    then name no file, so its id does not depend on where runs go."""
    return yaml.safe_dump(config, default_flow_style=True, width=10_000).strip()


def to_pages(args: argparse.Namespace) -> bool:
    """Whether a driver's report also fills its blocks of the project's pages
    (docs/results.md, docs/benchmark.md): not for --quick, nor for runs, a table or a
    report kept elsewhere."""
    return not (args.quick or args.runs or args.table or args.results)


def page_block(report: Path, stop: str | None = None) -> str:
    """A driver's report as a block of a page: without its title, its headings one level
    down (it sits under a heading of the page), up to the first line that starts with
    ``stop`` if given (the rest stays on the report's own page)."""
    lines = report.read_text().splitlines()[1:]
    if stop is not None:
        lines = lines[: next((i for i, line in enumerate(lines) if line.startswith(stop)), len(lines))]
    return "\n".join("#" + line if line.startswith("#") else line for line in lines).strip("\n") + "\n"


def fill_benchmark_page(args: argparse.Namespace, block: str, report: Path, stop: str | None = None) -> None:
    """Put a W1-benchmark driver's ``report`` into its ``block`` of docs/benchmark.md
    (:func:`page_block`), when it reports for the project's pages (:func:`to_pages`)."""
    if to_pages(args):
        fill_blocks(BENCHMARK_PAGE, {block: page_block(report, stop)})


def fill_blocks(page: Path, blocks: dict[str, str]) -> None:
    """Replace the text between ``<!-- begin NAME -->`` and ``<!-- end NAME -->`` in
    ``page`` by ``blocks[NAME]``; a block the page does not mark is an error, so a
    renamed marker cannot silently leave stale numbers behind."""
    text = page.read_text()
    for name, block in blocks.items():
        pattern = re.compile(rf"(<!-- begin {name} -->\n).*?(<!-- end {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"{page} has no '<!-- begin {name} -->' ... '<!-- end {name} -->' block")
        text = pattern.sub(lambda m, block=block: m.group(1) + block.rstrip("\n") + "\n" + m.group(2), text)
    page.write_text(text)


def run_main(main: Callable[[], None]) -> None:
    """A driver's entry point: a one-line error of its grid (:class:`SweepError`, such
    as another process running it already) ends it with that line, not a traceback."""
    try:
        main()
    except SweepError as err:
        raise SystemExit(f"error: {err}") from None
