"""The paper's experiment in one command: GP vs LP (and weight clipping) across λ.

    python -m lightning_wgan.experiments.paper                 # the critic-only sweeps, then the report
    python -m lightning_wgan.experiments.paper --report        # the report from the runs done so far

Critic-only: runs ``conf/sweeps/paper_estimate*.yaml`` through the local sweep runner
(finished runs are skipped on a rerun) into ``runs/experiments/paper/``, their rows into
the table ``docs/results/paper.jsonl`` (kept in git), and writes
``docs/results/estimate.csv|md``. Full GAN training is the convergence grid of
:mod:`lightning_wgan.experiments.convergence` (``docs/results/convergence.jsonl``). The
report draws ``docs/results/paper.png`` from both and rewrites the generated blocks of
``docs/results.md`` (the tables between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``),
so that the page's numbers are always those of the tables in git.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.experiments import convergence  # noqa: E402
from lightning_wgan.experiments.common import RESULTS, RUNS, fill_blocks, run_main  # noqa: E402
from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import REPO, RunTable, collect, mean_sd, mean_sd_text, run_sweep, short  # noqa: E402

ESTIMATE = ("paper_estimate", "paper_estimate_clip")
TABLE = RESULTS / "paper.jsonl"
GAN_TABLE = RESULTS / "convergence.jsonl"
PENALTY = {"GradientPenalty": "GP", "LipschitzPenalty": "LP", "WeightClipping": "clip"}


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run, in the table's words."""
    summary = row["summary"]
    config = Path(str(row.get("config", ""))).stem
    pair = {
        "translation_paired": "8gaussians + (0.3, 0.4), paired batches",
        "translation": "8gaussians + (0.3, 0.4), independent batches",
        "pair": "8gaussians vs 25gaussians",
    }.get(config, summary.get("dataset"))
    penalty = PENALTY.get(short(row.get("model.penalty", "")), short(row.get("model.penalty", "clip")))
    if summary.get("penalty") == "clip":
        penalty = "clip"
    weight = summary.get("weight") if penalty != "clip" else None
    return {"setting": pair, "penalty": penalty, "weight": weight, "seed": row.get("seed_everything")}


def group(rows: list[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        d = describe(row)
        groups[(d["setting"], d["penalty"], d["weight"])].append(row["summary"])
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)))


def key_columns(setting: str, penalty: str, weight: float | None, runs: list[dict[str, Any]]) -> dict[str, str]:
    """The columns that name a group of runs in both tables."""
    return {"data": setting, "penalty": penalty, "λ": "-" if weight is None else f"{weight:g}", "seeds": str(len(runs))}


def estimate_table(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Critic-only: mean ± std over seeds of the estimate, its ratio and relative error."""
    table = []
    for (setting, penalty, weight), runs in group(rows).items():
        table.append({
            **key_columns(setting, penalty, weight, runs),
            "w1_exact": mean_sd_text([r["w1_exact"] for r in runs]),
            "w1_critic": mean_sd_text([r["w1_critic"] for r in runs]),
            "w1_critic / w1_exact": mean_sd_text([r["ratio"] for r in runs]),
            "rel_error": mean_sd_text([r["rel_error"] for r in runs]),
            "se / w1_exact (max)": f"{max(r['w1_critic_se'] / r['w1_exact'] for r in runs):.3%}",
        })
    return table


def write_table(table: list[dict[str, str]], stem: Path) -> None:
    if not table:
        return
    stem.parent.mkdir(parents=True, exist_ok=True)
    with open(stem.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    head = list(table[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row[h] for h in head) + " |" for row in table]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")


def figure(estimate_rows: list[dict[str, Any]], gan_rows: list[dict[str, Any]], path: Path) -> None:
    """Top: the critic's estimate / exact W1 against λ, one panel per critic-only setting.
    Bottom: full GAN training, exact W1 / noise floor over the whole run, one panel per
    data set and initialization (:func:`lightning_wgan.experiments.convergence.trajectories`)."""
    settings = sorted({describe(r)["setting"] for r in estimate_rows})
    panels = convergence.panels(gan_rows)
    columns = max(len(settings), len(panels), 1)
    fig, axes = plt.subplots(2, columns, figsize=(5 * columns, 8.5), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=False):
        estimate_panel(ax, estimate_rows, setting)
    for ax, (dataset, init) in zip(axes[1], panels, strict=False):
        convergence.trajectories(ax, gan_rows, dataset, init)
    for ax in [*axes[0][len(settings):], *axes[1][len(panels):]]:
        ax.set_axis_off()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def estimate_panel(ax: plt.Axes, rows: list[dict[str, Any]], setting: str) -> None:
    for (s, penalty, _), runs in group(rows).items():
        if s == setting and penalty == "clip":
            ratio, _sd = mean_sd([r["ratio"] for r in runs])
            ax.axhline(ratio, color="gray", ls=":", label=f"clip: {ratio:.2f}")
    for penalty, color in (("GP", "tab:blue"), ("LP", "tab:red")):
        pts = sorted((w, *mean_sd([r["ratio"] for r in runs])) for (s, p, w), runs in group(rows).items() if s == setting and p == penalty)
        if pts:
            ws, ms, sds = zip(*pts, strict=True)
            ax.errorbar(ws, ms, yerr=sds, marker="o", capsize=3, color=color, label=penalty)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("λ")
    ax.set_ylabel("critic estimate / exact W1")
    ax.set_title(f"critic only: {setting}", fontsize=10)
    ax.legend(fontsize=8)


def report(table: RunTable, results: Path, gan_table: RunTable, page: Path | None = None) -> list:
    """Tables and figure from the runs done so far; the generated blocks of ``page``."""
    est_rows = collect(table, ESTIMATE)
    gan_rows = convergence.rows(gan_table)
    est = estimate_table(est_rows)
    write_table(est, results / "estimate")
    gan_tables = convergence.report(gan_rows, results)
    if est_rows or gan_rows:
        figure(est_rows, gan_rows, results / "paper.png")
    if page is not None:
        fill_blocks(page, {"estimate": (results / "estimate.md").read_text(), **gan_tables})
    return est


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="GP vs LP across λ: the critic-only sweeps; tables, figure and docs/results.md.")
    parser.add_argument("--runs", default=str(RUNS / "paper"), help="where the critic-only runs' directories go")
    parser.add_argument("--table", default=str(TABLE), help="the critic-only runs' table (kept in git)")
    parser.add_argument("--gan_table", default=str(GAN_TABLE), help="the convergence grid's table")
    parser.add_argument("--results", default=str(RESULTS), help="where tables and figure go")
    parser.add_argument("--page", default=str(REPO / "docs" / "results.md"), help="the page whose generated blocks are rewritten")
    parser.add_argument("--report", action="store_true", help="only build tables and figure from finished runs")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (each gets cores/jobs threads)")
    args, extra = parser.parse_known_args(argv)
    runs, results, table = Path(args.runs), Path(args.results), RunTable(args.table)
    if not args.report:
        for name in ESTIMATE:
            run_sweep(REPO / "conf" / "sweeps" / f"{name}.yaml", runs / name, ["--trainer.enable_progress_bar=false", *extra],
                      jobs=args.jobs, in_process=True, table=table.path)
    est = report(table, results, RunTable(args.gan_table), page=Path(args.page))
    print(f"results: {results} ({len(est)} critic-only rows) and {args.page}")


if __name__ == "__main__":
    run_main(main)
