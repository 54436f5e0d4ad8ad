"""Where the research grids stand: each grid's finished runs, of all its runs, from its
table in docs/results/, and the command that continues it (finished runs are skipped).

    python -m lightning_wgan.experiments         # the standing
    python -m lightning_wgan.experiments --run   # then each unfinished grid in turn
    python -m lightning_wgan.experiments --run --until 02:30   # starting no run that would end later
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from lightning_wgan.experiments.common import RESULTS
from lightning_wgan.sweep import RunTable, SweepError, add_until

# The grids, GAN training first (docs/results.md), then the W1 benchmark (docs/benchmark.md).
GRIDS = ["convergence", "digits", "funnels", "family", "strongest", "images", "benchmark"]


def standing(results: Path = RESULTS) -> list[tuple[str, int, int]]:
    """(grid, finished runs, all its runs) for each grid, from its table in ``results``."""
    out = []
    for name in GRIDS:
        grid = importlib.import_module(f"lightning_wgan.experiments.{name}")
        out.append((name, grid.finished_runs(RunTable(results / f"{name}.jsonl")), grid.total_runs()))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Where the research grids stand, and the commands that continue them.")
    parser.add_argument("--results", default=str(RESULTS), help="the folder of the grids' tables")
    parser.add_argument("--run", action="store_true",
                        help="then run each unfinished grid in this order, with its own defaults (its tables in docs/results/)")
    add_until(parser)
    args = parser.parse_args(argv)
    if args.run and Path(args.results) != RESULTS:
        parser.error(f"--run continues the grids of {RESULTS}; give --results {args.results} without it")
    print(f"{'grid':12s} {'done':>6s} {'of':>6s}  continue with")
    grids = standing(Path(args.results))
    for name, done, total in grids:
        command = "finished" if done >= total else f"python -m lightning_wgan.experiments.{name}"
        print(f"{name:12s} {done:6d} {total:6d}  {command}")
    for name, done, total in grids if args.run else []:
        if done < total:
            print(f"{name}: {total - done} runs left", flush=True)
            try:
                importlib.import_module(f"lightning_wgan.experiments.{name}").main([])
            except SweepError as err:  # say so, and go on with the next grid
                print(f"{name}: {err}", flush=True)


if __name__ == "__main__":
    main()
