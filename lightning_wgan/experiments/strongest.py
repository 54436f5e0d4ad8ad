"""The strongest critic this project can train on the funnel pairs, against the best
published solver on each of the 28 published pairs.

    python -m lightning_wgan.experiments.strongest            # candidates on tuning pairs, then the chosen one (resumable: many hours)
    python -m lightning_wgan.experiments.strongest --quick    # one tuning pair, two small candidates, one published pair: minutes
    python -m lightning_wgan.experiments.strongest --report   # the report from the runs done so far

The published critic is small (two hidden layers of max(2d, 128) units). Each
candidate of :data:`CANDIDATES` (a regularizer at its config's default, a critic size,
a run length; otherwise the published protocol: batches of 1024, Adam 2e-4 (0, 0.9))
trains first on the tuning pairs, funnels with our own centres (seed
:data:`~lightning_wgan.experiments.family.TUNING_SEED`), never the published ones. The
rule (:func:`choose`): the highest mean cosine between ∇D and ∇f* over the tuning pairs,
the earlier (cheaper) candidate on a tie. The chosen one then trains on all 28
published pairs, and the report sets its cosine beside the best published solver's on
each (of the eleven in ``published_metrics.csv``, not only the five regularizers). Rows
in ``docs/results/strongest.jsonl``; the report is ``docs/results/strongest.md``.

Runs are resumable from their last checkpoint only where the checkpoint survives: a run
that cannot finish where it started (a session on a machine that is handed back) starts
again. Two 1-thread runs at a time suit the LP candidates (about an hour a run); a
GroupSort critic of width 512 orthonormalizes every weight on every step, which made a
1-thread run last over 3 hours on a slow machine, so run those with ``--jobs 1``: one
run at a time on 2 threads, about as many steps per hour in all, each run half as long
(``python benchmarks/bench.py --candidates`` gives each candidate's step cost).
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from lightning_wgan.data import PUBLISHED_FUNNELS
from lightning_wgan.experiments.benchmark import regularizer_config
from lightning_wgan.experiments.common import (
    driver_arguments,
    fill_benchmark_page,
    flow,
    places,
    record_machine,
    run_main,
    run_time,
    shown,
    thread_counts,
)
from lightning_wgan.experiments.family import TUNING_SEED
from lightning_wgan.experiments.funnels import DIMS, FUNNELS, TASK, cell_config, cell_of
from lightning_wgan.sweep import GridProgress, RunTable, collect, run_sweep


class Candidate:
    """A regularizer of ``conf/regularizers/`` at its config's default, a critic of
    ``depth`` hidden layers of max(2d, ``width``) units, ``steps`` critic steps."""

    def __init__(self, regularizer: str, width: int, depth: int, steps: int, **critic: Any) -> None:
        self.regularizer, self.width, self.depth, self.steps, self.critic = regularizer, width, depth, steps, critic

    @property
    def name(self) -> str:
        extra = "".join(f", {k.replace('_', ' ')} {v}" for k, v in self.critic.items())
        return f"{self.regularizer} {self.width}×{self.depth}{extra}, {self.steps} steps"

    def configs(self, cells: list[tuple[int, int]], seed: int | None) -> list[list[str]]:
        config = regularizer_config(self.regularizer)
        return [[TASK, config, cell_config(d, k, self.width, self.depth, seed, **self.critic), flow({"critic_steps": self.steps})]
                for d, k in cells]


# Cheapest first (a tie goes to the earlier). The first probe (issue 29): LP at 256 × 3
# for 30 000 steps reached cosine 0.85 at d 32, K 64, against the published best 0.74.
# GroupSort in groups of 16 besides MaxMin: the published GroupSort critic (LNets'
# GroupSort, orthogonal layers) beat ours by 0.3 at d 2, K ≥ 64, and group size is
# where the two differ.
CANDIDATES = [Candidate("lp", 256, 3, 30_000), Candidate("lp", 512, 3, 30_000), Candidate("torchlip", 512, 3, 30_000),
              Candidate("torchlip", 512, 3, 30_000, group_size=16), Candidate("alp", 512, 3, 30_000),
              Candidate("lp", 512, 4, 30_000), Candidate("lp", 512, 3, 60_000)]


class Grid:
    def __init__(self, tuning: list[tuple[int, int]], cells: list[tuple[int, int]], candidates: list[Candidate],
                 extra: list[str] | None = None) -> None:
        self.tuning, self.cells, self.candidates, self.extra = tuning, cells, candidates, extra or []


FULL = Grid([(2, 64), (16, 256), (64, 16), (128, 64)], [(d, k) for d in DIMS for k in FUNNELS], CANDIDATES)
QUICK = Grid([(2, 4)], [(2, 16)], [Candidate("lp", 16, 1, 100), Candidate("lp", 32, 2, 100)],
             ["--data.init_args.batch_size=256", "--data.init_args.eval_size=1024", "--data.init_args.grad_size=1024"])
RUN_ARGS = ["--eval_every=5000", "--trainer.logger=false", "--trainer.enable_progress_bar=false", "--sample_plot=null",
            "--monitor=null"]


def sweep(configs: list[list[str]]) -> dict[str, Any]:
    return {"program": "train.py", "method": "grid", "parameters": {"config": {"values": configs}, "seed_everything": {"value": 0}}}


def describe(row: dict[str, Any], grid: Grid) -> dict[str, Any]:
    """A run's candidate (its index in ``grid.candidates``, or None), and pair."""
    _, config, cell, protocol = row["config"]
    pair = cell_of(cell)
    d, k, tuning, critic = pair["d"], pair["K"], pair["own"], pair["critic"]
    steps = yaml.safe_load(protocol)["critic_steps"]
    index = next((i for i, c in enumerate(grid.candidates) if regularizer_config(c.regularizer) == config
                  and critic == {"data_dim": d, "width": max(2 * d, c.width), "depth": c.depth, **c.critic} and c.steps == steps),
                 None)
    return {"candidate": index, "d": d, "K": k, "tuning": tuning}


def choose(rows: list[dict[str, Any]], grid: Grid) -> int | None:
    """The rule: the candidate with the highest mean cosine over the tuning pairs, once
    every candidate has finished on all of them (None before that); the earlier on a tie."""
    cos: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        d = describe(r, grid)
        if d["tuning"] and d["candidate"] is not None:
            cos[d["candidate"]].append(r["summary"]["grad_cos"])
    if any(len(cos[i]) < len(grid.tuning) for i in range(len(grid.candidates))):
        return None
    return max(range(len(grid.candidates)), key=lambda i: (statistics.mean(cos[i]), -i))


def tuning_configs(grid: Grid) -> list[list[str]]:
    return [c for candidate in grid.candidates for c in candidate.configs(grid.tuning, TUNING_SEED)]


def finished_runs(table: RunTable, grid: Grid = FULL) -> int:
    """The grid's runs finished in ``table``."""
    return len(collect(table, ["tuning", "published"]))


def total_runs(grid: Grid = FULL) -> int:
    """All the grid's runs."""
    return len(tuning_configs(grid)) + len(grid.cells)


def run(grid: Grid, runs: Path, table: RunTable, jobs: int) -> None:
    args, tuning = [*RUN_ARGS, *grid.extra], tuning_configs(grid)
    with GridProgress("strongest", total_runs(grid), lambda: finished_runs(table, grid)) as bar:
        run_sweep(sweep(tuning), runs / "tuning", args, jobs=jobs, in_process=True, table=table.path, grid=bar)
        chosen = choose(collect(table, ["tuning"]), grid)
        if chosen is not None:
            run_sweep(sweep(grid.candidates[chosen].configs(grid.cells, None)), runs / "published", args, jobs=jobs, in_process=True,
                      table=table.path, grid=bar)


# -- the report ------------------------------------------------------------------------


def best_published(path: Path = PUBLISHED_FUNNELS / "published_metrics.csv") -> dict[tuple[int, int], dict[str, Any]]:
    """(d, K) → the published solver with the highest cosine there (its name, cosine,
    estimate / W1), and the published WGAN-LP's cosine."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for r in csv.DictReader(open(path)):
        key, cos = (int(r["dim"]), int(r["funnels"])), float(r["cos"])
        entry = out.setdefault(key, {"cos": -math.inf})
        if r["method"] == "wgan-lp":
            entry["lp"] = cos
        if cos > entry["cos"]:
            entry.update(cos=cos, method=r["method"], ratio=float(r["estimate"]) / float(r["true_w1"]))
    return out


def report(rows: list[dict[str, Any]], docs: Path, grid: Grid, source: Path) -> str:
    """docs/results/strongest.md from the finished runs ``rows`` of the table ``source``."""
    by_candidate: dict[int, dict[tuple[int, int], dict[str, Any]]] = defaultdict(dict)
    scored: dict[tuple[int, int], dict[str, Any]] = {}
    for r in rows:
        d = describe(r, grid)
        if d["tuning"] and d["candidate"] is not None:
            by_candidate[d["candidate"]][(d["d"], d["K"])] = r["summary"]
        elif not d["tuning"]:
            scored[(d["d"], d["K"])] = r["summary"]
    chosen = choose(rows, grid)
    # the candidates' runs span sessions on machines up to 3x apart: the shared line says how fast they were
    timing = [f"{run_time(rows, 'strongest', docs)}."] if rows else []
    lines = [HEADER.format(table=shown(source), runs=len(rows)), *timing, "",
             "## The candidates on the tuning pairs", "",
             f"Funnels of our own (centre seed {TUNING_SEED}), solver seed 0: cosine (estimate / W1) on each; the rule picks "
             "the highest mean cosine. Minutes: the runs' wall time, two runs at a time at 1 thread each, on the machines "
             "of the grid's starts above (compare candidates by it only as far as those speeds allow); a candidate whose "
             "run would outlast a session that way ran one run at a time at 2 threads, as its minutes say.", "",
             "| candidate | " + " | ".join(f"d {d}, K {k}" for d, k in grid.tuning) + " | mean cosine | minutes |",
             "|" + "---|" * (len(grid.tuning) + 3)]
    for i, candidate in enumerate(grid.candidates):
        runs = by_candidate.get(i, {})
        cells = [f"{runs[c]['grad_cos']:.3f} ({runs[c]['ratio']:.2f})" if c in runs else "-" for c in grid.tuning]
        mean = f"{statistics.mean(s['grad_cos'] for s in runs.values()):.3f}" if len(runs) == len(grid.tuning) else "-"
        minutes = f"{sum(s['wall_time_s'] for s in runs.values()) / 60:.0f}" if runs else "-"
        threads = thread_counts(runs.values())
        if threads != [1] and runs:
            minutes += f" ({'/'.join(map(str, threads))} threads)"
        name = f"**{candidate.name}** (chosen)" if i == chosen else candidate.name
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean} | {minutes} |")
    best = best_published()
    lines += ["", "## The chosen critic against the best published solver", "",
              f"{grid.candidates[chosen].name if chosen is not None else 'No candidate chosen yet'} on each published pair "
              "(solver seed 0) against the published solver with the highest cosine there (and the published WGAN-LP). "
              "✓: ours is above the best published; ≥ 0.9: the goal for K ≤ 64.", "",
              "| d | K | ours: cosine | ours: estimate / W1 | best published: cosine (solver) | its estimate / W1 | published LP "
              "| above | ≥ 0.9 |",
              "|---|---|---|---|---|---|---|---|---|"]
    for d, k in grid.cells:
        p, s = best[(d, k)], scored.get((d, k))
        ours = (f"{s['grad_cos']:.3f}", f"{s['ratio']:.3f}", "✓" if s["grad_cos"] > p["cos"] else "✗",
                ("✓" if s["grad_cos"] >= 0.9 else "✗") if k <= 64 else "") if s else ("-", "-", "", "")
        lines.append(f"| {d} | {k} | {ours[0]} | {ours[1]} | {p['cos']:.3f} ({p['method']}) | {p['ratio']:.3f} | {p['lp']:.3f} | "
                     f"{ours[2]} | {ours[3]} |")
    if scored:
        above = sum(s["grad_cos"] > best[c]["cos"] for c, s in scored.items())
        lines += ["", f"Above the best published solver on {above} of the {len(scored)} pairs done."]
    text = "\n".join(lines) + "\n"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "strongest.md").write_text(text)
    return text


HEADER = """# Funnel pairs: the strongest critic we can train, against the best published

Generated by `python -m lightning_wgan.experiments.strongest` from `{table}` ({runs} runs).
Korotin, Kolesov and Burnaev's (2022) published pairs, batches of 1024, Adam 2e-4
(0, 0.9), scores on 4096 held-out points of Q; the critic's size and run length are the
candidate's."""


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("The strongest critic on the funnel pairs, chosen on pairs of our own, against the best published.",
                              quick="one tuning pair, two small candidates, 100 steps",
                              results="docs/results, or the runs folder for --quick")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, docs = places("strongest", args)
    if not args.report:
        record_machine(args, "strongest")
        run(grid, runs, table, args.jobs)
    rows = collect(table, ["tuning", "published"])
    report(rows, docs, grid, table.path)
    print(f"results: {docs / 'strongest.md'} ({len(rows)} runs)")
    fill_benchmark_page(args, "strongest", docs / "strongest.md")


if __name__ == "__main__":
    run_main(main)
