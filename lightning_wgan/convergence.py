"""The GAN comparison at convergence: GP and LP across λ, with weight clipping as the
baseline, on 8gaussians and 25gaussians, from two initializations, over seeds.

    python -m lightning_wgan.convergence            # the full grid (resumable: hours), then the report
    python -m lightning_wgan.convergence --quick    # a few short runs, to check the pipeline
    python -m lightning_wgan.convergence --report   # tables and figure from the runs done so far

Runs go through the local sweep runner (finished runs are skipped, so the grid can be
completed across sessions) into ``docs/convergence_runs/`` (their ``summary.json`` and
``params.json`` are kept in git). The report, ``docs/results/convergence.md`` and
``convergence.png``, gives per data set, initialization, penalty and λ: the generator
step at which the exact W1 first falls below twice the noise floor (or never), the final
W1 over the last evaluations, mode coverage and the critic's estimate next to the exact
W1; and the project's GP trajectories next to the reference port's.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import REPO, collect, mean_sd, run_sweep  # noqa: E402

INITS = {"default": "conf/init/default.yaml", "normal": "conf/init/normal.yaml"}
PENALTIES = {"GP": "lightning_wgan.penalties.GradientPenalty", "LP": "lightning_wgan.penalties.LipschitzPenalty"}
# The exact W1 of the PyTorch port of Gulrajani et al.'s toy script (caogang/wgan-gp,
# gan_toy.py: N(0, 0.02) weights, zero biases) at the reference settings, 8gaussians,
# seed 0, by generator step, as measured and reported in issue 15 of this project.
REFERENCE = {0.1: {500: 0.356, 1000: 0.209, 1500: 0.122, 2000: 0.075, 2500: 0.078, 3000: 0.093},
             10.0: {500: 0.899, 1000: 0.900, 1500: 0.467, 2000: 0.286, 2500: 0.233}}
LAST_EVALUATIONS = 4  # the final W1 is the mean over these, so one lucky evaluation does not decide


class Grid:
    def __init__(self, datasets: list[str], lambdas: list[float], seeds: list[int], generator_steps: int, eval_every: int,
                 extra: list[str]) -> None:
        self.datasets, self.lambdas, self.seeds = datasets, lambdas, seeds
        self.generator_steps, self.eval_every, self.extra = generator_steps, eval_every, extra


# The reference settings are conf/default.yaml's: width 512, batch 256, n_critic 5, Adam 1e-4 (0.5, 0.9).
FULL = Grid(["8gaussians", "25gaussians"], [0.1, 1, 10, 100], [0, 1, 2], 5000, 250, [])
QUICK = Grid(["8gaussians"], [1, 10], [0], 40, 20, ["--model.generator.init_args.width=32", "--model.critic.init_args.width=32",
                                                   "--data.init_args.val_size=300"])


def sweeps(grid: Grid, seeds: list[int] | None = None, datasets: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The penalty sweep and the weight-clipping sweep, as the sweep runner reads them
    (all of the grid's seeds and data sets unless restricted)."""
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
    return {name: {"program": "train.py", "method": "grid", "parameters": p} for name, p in (("penalties", penalties), ("clip", clip))}


RUN_ARGS = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--monitor=null", "--checkpoint.save_last=false"]


def run(grid: Grid, runs: Path, jobs: int) -> None:
    """The grid in rounds of one data set and one seed (every penalty, λ, initialization
    and the clipping baseline), the reference data set's seeds first: a grid stopped
    part-way leaves whole comparisons on 8gaussians rather than one seed of everything.
    A run's id does not depend on the round it ran in, so finished runs are skipped
    whichever way the grid is cut."""
    for dataset in grid.datasets:
        for seed in grid.seeds:
            for name, sweep in sweeps(grid, [seed], [dataset]).items():
                run_sweep(sweep, runs / name, [*RUN_ARGS, *grid.extra], jobs=jobs, in_process=True)


# -- the report ------------------------------------------------------------------------


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A run's coordinates: data set, initialization, penalty, λ, seed."""
    configs, summary = row["config"], row["summary"]
    init = next(i for i, c in INITS.items() if c in configs)
    penalty = "clip" if summary.get("penalty") == "clip" else summary["penalty"].upper()
    return {"dataset": summary["dataset"], "init": init, "penalty": penalty,
            "λ": None if penalty == "clip" else summary["weight"], "seed": row.get("seed_everything")}


def time_to_floor(summary: dict[str, Any], factor: float = 2.0) -> int | None:
    """The first evaluated generator step with exact W1 below ``factor`` × the noise floor."""
    return next((h["step"] for h in summary["history"] if h["w1_exact"] < factor * summary["noise_floor"]), None)


def final(summary: dict[str, Any], key: str = "w1_exact") -> float:
    """The mean of ``key`` over the last evaluations."""
    return sum(h[key] for h in summary["history"][-LAST_EVALUATIONS:]) / len(summary["history"][-LAST_EVALUATIONS:])


def groups(rows: list[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        d = describe(r)
        out[(d["dataset"], d["init"], d["penalty"], d["λ"])].append(r["summary"])
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or 0)))


def fmt(values: list[float], digits: int = 3) -> str:
    m, s = mean_sd(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def tables(rows: list[dict[str, Any]]) -> str:
    lines = ["| data | init | penalty | λ | seeds | steps to 2× floor (each seed) | final W1 / floor | final W1 | "
             "modes covered | critic estimate / exact (final) |", "|" + "---|" * 10]
    for (dataset, init, penalty, lam), runs in groups(rows).items():
        reached = [time_to_floor(s) for s in runs]
        lines.append(" | ".join([
            f"| {dataset}", init, penalty, "-" if lam is None else f"{lam:g}", str(len(runs)),
            ", ".join("never" if t is None else str(t) for t in reached),
            fmt([final(s) / s["noise_floor"] for s in runs], 2), fmt([final(s) for s in runs]),
            fmt([s.get("modes_covered", math.nan) for s in runs], 2),
            fmt([final(s, "w1_critic") / final(s) for s in runs], 2),
        ]) + " |")
    return "\n".join(lines) + "\n"


def reference_table(rows: list[dict[str, Any]]) -> str:
    """The project's GP trajectories (N(0, 0.02) init, 8gaussians) next to the reference port's."""
    steps = sorted({s for ref in REFERENCE.values() for s in ref})
    lines = ["| run | " + " | ".join(map(str, steps)) + " |", "|---|" + "---|" * len(steps)]
    for lam, ref in REFERENCE.items():
        lines.append(f"| reference port, GP λ {lam:g}, seed 0 | " + " | ".join(f"{ref[s]:.3f}" if s in ref else "" for s in steps) + " |")
        runs = groups(rows).get(("8gaussians", "normal", "GP", lam), [])
        for summary in runs:
            by_step = {h["step"]: h["w1_exact"] for h in summary["history"]}
            lines.append(f"| this project, GP λ {lam:g}, N(0, 0.02) init, seed {summary['seed']} | "
                         + " | ".join(f"{by_step[s]:.3f}" if s in by_step else "" for s in steps) + " |")
    return "\n".join(lines) + "\n"


def figure(rows: list[dict[str, Any]], path: Path) -> None:
    """W1 / noise floor over the whole run, one line per penalty × λ, the seeds' range shaded."""
    panels = sorted({(d["dataset"], d["init"]) for d in map(describe, rows)})
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.5), squeeze=False)
    colors = {"GP": plt.cm.Blues, "LP": plt.cm.Reds}
    for ax, (dataset, init) in zip(axes[0], panels, strict=True):
        for (ds, it, penalty, lam), runs in groups(rows).items():
            if (ds, it) != (dataset, init):
                continue
            steps = [h["step"] for h in runs[0]["history"]]
            curves = [[h["w1_exact"] / s["noise_floor"] for h in s["history"]][: len(steps)] for s in runs]
            n = min(len(c) for c in curves)
            mean = [sum(c[i] for c in curves) / len(curves) for i in range(n)]
            color = "gray" if penalty == "clip" else colors[penalty](0.35 + 0.15 * math.log10(lam * 10))
            label = "clip" if penalty == "clip" else f"{penalty} λ={lam:g}"
            ax.plot(steps[:n], mean, color=color, label=label)
            ax.fill_between(steps[:n], [min(c[i] for c in curves) for i in range(n)], [max(c[i] for c in curves) for i in range(n)],
                            color=color, alpha=0.15)
        ax.axhline(2.0, color="black", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xlabel("generator step")
        ax.set_ylabel("exact W1 / noise floor")
        ax.set_title(f"{dataset}, {init} init (mean; seeds' range shaded)", fontsize=10)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def report(runs: Path, results: Path) -> int:
    rows = [r for name in ("penalties", "clip") if (runs / name).is_dir() for r in collect(runs / name)]
    for r in rows:
        r["summary"]["seed"] = r.get("seed_everything")
    results.mkdir(parents=True, exist_ok=True)
    text = ["# GAN training at convergence", "", f"Generated by `python -m lightning_wgan.convergence` from {len(rows)} runs.",
            f"Final values are means over the last {LAST_EVALUATIONS} evaluations; the noise floor is the mean of 5 draws.",
            "", tables(rows), "## Against the reference port", "", reference_table(rows)]
    (results / "convergence.md").write_text("\n".join(text))
    figure(rows, results / "convergence.png")
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="GP and LP across λ in full GAN training, run to convergence.")
    parser.add_argument("--quick", action="store_true", help="a few short, small runs")
    parser.add_argument("--report", action="store_true", help="only the tables and figure, from the runs done so far")
    parser.add_argument("--runs", help="where the runs go (default docs/convergence_runs, kept in git; sweeps/convergence_quick)")
    parser.add_argument("--results", help="where the report goes (default docs/results, or the runs folder for --quick)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs = Path(args.runs) if args.runs else REPO / ("sweeps/convergence_quick" if args.quick else "docs/convergence_runs")
    results = Path(args.results) if args.results else (runs if args.quick else REPO / "docs" / "results")
    if not args.report:
        run(grid, runs, args.jobs)
    n = report(runs, results)
    print(f"results: {results / 'convergence.md'} ({n} runs)")


if __name__ == "__main__":
    main()
