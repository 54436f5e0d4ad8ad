"""The regularizer benchmark: how well does each Lipschitz regularizer's critic estimate W1?

    python -m lightning_wgan.experiments.benchmark            # the full grid (resumable), then its report
    python -m lightning_wgan.experiments.benchmark --quick    # a subset: minutes on 2 CPU cores
    python -m lightning_wgan.experiments.benchmark --report   # tables and figure from the runs done so far

Every regularizer in ``conf/regularizers/`` × a λ grid (one value where λ does not
apply) × critic-only tasks with an exact W1 (translation and scaling of N(0, I_d) for
d ∈ {2, 8, 32, 128}, on independent batches as a GAN sees them and, the easy case, on
paired ones; and a 1-D pair with W1 from the quantile functions) × seeds, each
a run of the local sweep runner (finished runs are skipped, so a grid can span
sessions), kept as a row of ``docs/results/benchmark.jsonl``. Writes
``docs/results/easy_tasks.md`` (tables) and ``easy_tasks.png``, and its best-λ and rank
tables into ``docs/benchmark.md``, after the funnel pairs: these tasks are the easy ones.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.experiments.common import driver_arguments, fill_benchmark_page, flow, places, record_machine, run_main  # noqa: E402
from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import GridProgress, RunTable, collect, expand, mean_sd, run_sweep  # noqa: E402

REGULARIZER_DIR = "conf/regularizers"
# name → (config, the λ flag, or None where λ does not apply), in the tables' order.
REGULARIZERS: dict[str, tuple[str, str | None]] = {
    "lp": ("lp.yaml", "model.penalty.init_args.weight"),
    "gp": ("gp.yaml", "model.penalty.init_args.weight"),
    "dragan": ("dragan.yaml", "model.penalty.init_args.weight"),
    "0gp": ("zero_gp.yaml", "model.penalty.init_args.weight"),
    "r1": ("r1.yaml", "model.penalty.init_args.weight"),
    "r2": ("r2.yaml", "model.penalty.init_args.weight"),
    "div": ("div.yaml", "model.penalty.init_args.weight"),
    "alp": ("alp.yaml", "model.penalty.init_args.weight"),
    "lp+ct": ("ct.yaml", "model.penalty.init_args.penalty.init_args.weight"),
    "clip": ("clip.yaml", None),
    "spectral": ("spectral_norm.yaml", None),
    "torchlip": ("torchlip.yaml", None),
    "none": ("none.yaml", None),
}
# Translation and scaling on independent batches, as a GAN sees them; the same on paired
# batches (fake_i = T(real_i)), the easy case: every interpolate lies on a transport ray.
TASK_CONFIGS = {"translation": "conf/estimate/gaussian_translation.yaml", "scale": "conf/estimate/gaussian_scale.yaml",
                "translation_paired": "conf/estimate/gaussian_translation_paired.yaml",
                "scale_paired": "conf/estimate/gaussian_scale_paired.yaml", "pair_1d": "conf/estimate/pair_1d.yaml"}
D_TASKS = ("translation", "scale", "translation_paired", "scale_paired")  # those in d dimensions


def regularizer_config(name: str) -> str:
    """The config file of regularizer ``name``, as runs' parameters name it."""
    return f"{REGULARIZER_DIR}/{REGULARIZERS[name][0]}"


class Grid:
    """The benchmark's grid: tasks as (name, d), λ values, seeds, run length."""

    def __init__(self, tasks: list[tuple[str, int]], lambdas: list[float], seeds: list[int], critic_steps: int) -> None:
        self.tasks, self.lambdas, self.seeds, self.critic_steps = tasks, lambdas, seeds, critic_steps


FULL = Grid([(t, d) for t in D_TASKS for d in (2, 8, 32, 128)] + [("pair_1d", 1)], [0.1, 1, 10, 100], [0, 1, 2], 2000)
QUICK = Grid([("translation", 2), ("scale", 8)], [1, 10], [0], 400)


def dim_config(d: int) -> str:
    """A config, given inline (:func:`~lightning_wgan.experiments.common.flow`), that sets
    the data's and the critic's dimension to d."""
    return flow({"data": {"init_args": {"dim": d}}, "model": {"init_args": {"critic": {"init_args": {"data_dim": d}}}}})


def sweep(name: str, grid: Grid) -> dict[str, Any]:
    """The sweep of one regularizer over the grid, as the sweep runner reads it."""
    config, flag = REGULARIZERS[name]
    configs = [[TASK_CONFIGS[task], dim_config(d), f"{REGULARIZER_DIR}/{config}"] for task, d in grid.tasks]
    parameters: dict[str, Any] = {"config": {"values": configs}}
    if flag is not None:
        parameters[flag] = {"values": grid.lambdas}
    parameters["critic_steps"] = {"value": grid.critic_steps}
    parameters["seed_everything"] = {"values": grid.seeds}
    return {"program": "train.py", "method": "grid", "parameters": parameters}


# Every run: one evaluation at the end, Adam at 1e-3 (the critic converges within the
# run at every d; measured in the README), no logger, no sample plots, no checkpoint.
RUN_ARGS = ["--eval_every=1000000", "--model.critic_optimizer.init_args.lr=1e-3", "--trainer.logger=false",
            "--trainer.enable_progress_bar=false", "--sample_plot=null", "--monitor=null", "--checkpoint.save_last=false"]


def finished_runs(table: RunTable, grid: Grid = FULL, names: Iterable[str] = REGULARIZERS) -> int:
    """The grid's runs finished in ``table`` (of the regularizers ``names``)."""
    return len(collect(table, names))


def total_runs(grid: Grid = FULL, names: Iterable[str] = REGULARIZERS) -> int:
    """All the grid's runs (of the regularizers ``names``)."""
    return sum(len(expand(sweep(name, grid))) for name in names)


def run(grid: Grid, runs: Path, table: RunTable, jobs: int, only: list[str] | None = None) -> None:
    """A sweep per regularizer in turn, under one progress bar."""
    names = only or list(REGULARIZERS)
    with GridProgress("benchmark", total_runs(grid, names), lambda: finished_runs(table, grid, names)) as bar:
        for name in names:
            run_sweep(sweep(name, grid), runs / name, RUN_ARGS, jobs=jobs, in_process=True, table=table.path, grid=bar)


# -- the report ------------------------------------------------------------------------


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A run's grid coordinates: regularizer, λ, task, d, seed."""
    configs = row["config"]
    task = next(t for t, c in TASK_CONFIGS.items() if c == configs[0])
    d = yaml.safe_load(configs[1])["data"]["init_args"]["dim"]
    reg = next(n for n, (c, _) in REGULARIZERS.items() if configs[2].endswith("/" + c))
    flag = REGULARIZERS[reg][1]
    return {"regularizer": reg, "λ": row.get(flag) if flag else None, "task": task, "d": d, "seed": row.get("seed_everything")}


def summarize(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """(task, d, regularizer, λ) → ratio mean, sd, standard error, the mean cosine of ∇D
    and ∇f* (nan for runs from before it was measured), speed relative to none."""
    speed_none = {(describe(r)["task"], describe(r)["d"], describe(r)["seed"]): r["summary"].get("critic_steps_per_s")
                  for r in rows if describe(r)["regularizer"] == "none"}
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        d = describe(r)
        groups[(d["task"], d["d"], d["regularizer"], d["λ"])].append({**d, **r["summary"]})
    table = {}
    for key, runs in groups.items():
        ratios = [r["ratio"] for r in runs if math.isfinite(r["ratio"])]
        m, sd = mean_sd(ratios) if ratios else (float("nan"), float("nan"))
        speeds = [r["critic_steps_per_s"] / speed_none[(r["task"], r["d"], r["seed"])] for r in runs
                  if r.get("critic_steps_per_s") and speed_none.get((r["task"], r["d"], r["seed"]))]
        cosines = [r["grad_cos"] for r in runs if math.isfinite(r.get("grad_cos", math.nan))]
        table[key] = {"ratio": m, "sd": sd, "se": sd / math.sqrt(len(ratios)) if ratios else float("nan"), "seeds": len(runs),
                      "cos": statistics.mean(cosines) if cosines else float("nan"),
                      "w1_exact": runs[0]["w1_exact"], "speed": statistics.median(speeds) if speeds else float("nan")}
    return table


def best_lambda(table: dict[tuple, dict[str, Any]], task: str, d: int, reg: str) -> tuple[Any, dict[str, Any]] | None:
    """The λ whose mean estimate is closest to the exact W1, and its entry."""
    entries = [(lam, e) for (t, dd, r, lam), e in table.items() if (t, dd, r) == (task, d, reg) and math.isfinite(e["ratio"])]
    return min(entries, key=lambda le: abs(le[1]["ratio"] - 1)) if entries else None


def fmt_lambda(lam: Any) -> str:
    return "-" if lam is None else f"{lam:g}"


EVERY_LAMBDA = "## Every λ"  # the report's last section, its longest: on its own page only


def markdown(table: dict[tuple, dict[str, Any]]) -> str:
    tasks = sorted({(t, d) for t, d, _, _ in table}, key=lambda td: (list(TASK_CONFIGS).index(td[0]), td[1]))
    regs = [r for r in REGULARIZERS if any(k[2] == r for k in table)]
    lines = ["## Estimate / exact W1 at each regularizer's best λ", "",
             "Mean over seeds (± standard deviation); best λ in brackets. 1 is exact.", "",
             "| regularizer | " + " | ".join(f"{t} d={d}" for t, d in tasks) + " |", "|---|" + "---|" * len(tasks)]
    for reg in regs:
        cells = []
        for t, d in tasks:
            best = best_lambda(table, t, d, reg)
            cells.append(f"{best[1]['ratio']:.3f} ± {best[1]['sd']:.3f} [{fmt_lambda(best[0])}]" if best else "")
        lines.append(f"| {reg} | " + " | ".join(cells) + " |")
    lines += ["", "## Rank per task (by |estimate / exact - 1| at the best λ; 1 is best)", "",
              "| regularizer | " + " | ".join(f"{t} d={d}" for t, d in tasks) + " | mean rank |", "|---|" + "---|" * (len(tasks) + 1)]
    rank: dict[tuple, dict[str, int]] = {}  # (task, d) → regularizer → rank
    for t, d in tasks:
        errors = sorted((abs(b[1]["ratio"] - 1), reg) for reg in regs if (b := best_lambda(table, t, d, reg)))
        rank[(t, d)] = {reg: i + 1 for i, (_, reg) in enumerate(errors)}
    for reg in regs:
        mine = [rank[task].get(reg) for task in tasks]
        ranked = [r for r in mine if r is not None]
        mean_rank = statistics.mean(ranked) if ranked else float("nan")
        lines.append(f"| {reg} | " + " | ".join("" if r is None else str(r) for r in mine) + f" | {mean_rank:.1f} |")
    lines += ["", EVERY_LAMBDA + ": estimate / exact W1, mean ± sd (standard error) over seeds; critic steps/s relative to no regularizer",
              ""]
    for t, d in tasks:
        w1 = next(e["w1_exact"] for (tt, dd, _, _), e in table.items() if (tt, dd) == (t, d))
        lines += [f"### {t}, d = {d} (exact W1 = {w1:.4f})", "", "| regularizer | λ | seeds | estimate / exact | cosine | speed vs none |",
                  "|---|---|---|---|---|---|"]
        for reg in regs:
            entries = sorted(((lam, e) for (tt, dd, r, lam), e in table.items() if (tt, dd, r) == (t, d, reg)),
                             key=lambda le: le[0] if le[0] is not None else 0)
            for lam, e in entries:
                lines.append(f"| {reg} | {fmt_lambda(lam)} | {e['seeds']} | {e['ratio']:.3f} ± {e['sd']:.3f} ({e['se']:.3f}) | "
                             f"{e['cos']:.3f} | {e['speed']:.2f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def figure(table: dict[tuple, dict[str, Any]], path: Path) -> None:
    """|estimate / exact - 1| at the best λ against d, one panel per d-dimensional task,
    and against λ (mean over every task) for the regularizers that have one. No
    regularizer at all is left out: its estimate grows without bound."""
    tasks = [t for t in D_TASKS if any(k[0] == t for k in table)]
    if not tasks:
        return
    regs = [r for r in REGULARIZERS if r != "none" and any(k[2] == r for k in table)]
    style = {r: dict(color=plt.cm.tab20(i / 20), marker="osD^v<>ph*XP"[i % 11]) for i, r in enumerate(regs)}
    fig, axes = plt.subplots(1, len(tasks) + 1, figsize=(5.5 * (len(tasks) + 1), 4.5), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=False):
        dims = sorted({d for t, d, _, _ in table if t == task})
        for reg in regs:
            pts = [(d, b[1]["ratio"]) for d in dims if (b := best_lambda(table, task, d, reg))]
            if pts:
                ax.plot([p[0] for p in pts], [abs(p[1] - 1) for p in pts], label=reg, **style[reg])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("|estimate / exact W1 - 1| (best λ)")
        ax.set_title(f"critic only: {task} of N(0, I_d)", fontsize=10)
    ax = axes[0][-1]
    for reg in regs:
        lams = sorted({lam for (_, _, r, lam) in table if r == reg and lam is not None})
        pts = [(lam, statistics.mean(abs(e["ratio"] - 1) for (_, _, r, la), e in table.items() if r == reg and la == lam)) for lam in lams]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=reg, **style[reg])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("λ")
    ax.set_ylabel("|estimate / exact W1 - 1|, mean over tasks")
    ax.set_title("sensitivity to λ", fontsize=10)
    axes[0][0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def report(rows: list[dict[str, Any]], docs: Path, header: str) -> dict[tuple, dict[str, Any]]:
    """easy_tasks.md and easy_tasks.png from the finished runs ``rows``."""
    table = summarize(rows)
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "easy_tasks.md").write_text(header + "\n" + markdown(table))
    figure(table, docs / "easy_tasks.png")
    return table


HEADER = """# The easy tasks: how well each Lipschitz regularizer's critic estimates W1

Generated by `python -m lightning_wgan.experiments.benchmark` from the runs in its table (see the
README, "Choosing a regularizer", for the reading). Critic-only runs of {steps} critic
steps, Adam 1e-3 (0.5, 0.9), batch 256, MLP critic 3 × 128 (ReLU; GroupSort for
torchlip), {runs} runs. The translation and scaling tasks train on independent batches,
as a GAN sees them; the `_paired` tasks on *paired* batches (fake_i = T(real_i)), the
easy case: every interpolate lies on a transport ray, where the optimal critic's
gradient norm is exactly 1. "Best λ" is picked on the task itself, so it flatters every
regularizer with a λ; the funnel pairs (docs/results/funnels.md, docs/results/family.md) choose λ on
other pairs and are the harder test. Cosine: of ∇D and the optimal ∇f* on held-out
points (nan for the paired runs, made before it was measured).
"""


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("Every Lipschitz regularizer × λ × task × seed, critic-only, against an exact W1.",
                              quick="a small subset: 2 tasks, λ ∈ {1, 10}, one seed, 400 steps",
                              results="docs/results, or the runs folder for --quick")
    parser.add_argument("--only", nargs="+", choices=list(REGULARIZERS), help="only these regularizers")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, docs = places("benchmark", args)
    if not args.report:
        record_machine(args, "benchmark")
        run(grid, runs, table, args.jobs, args.only)
    rows = collect(table, REGULARIZERS)
    report(rows, docs, HEADER.format(steps=grid.critic_steps, runs=len(rows)))
    print(f"results: {docs / 'easy_tasks.md'} ({len(rows)} runs)")
    fill_benchmark_page(args, "easy-tasks", docs / "easy_tasks.md", stop=EVERY_LAMBDA)


if __name__ == "__main__":
    run_main(main)
