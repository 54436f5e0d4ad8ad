"""The paper's experiment in one command: GP vs LP (and weight clipping) across λ.

    python -m lightning_wgan.paper                 # all four sweeps, then tables + figure
    python -m lightning_wgan.paper --report        # tables + figure from the runs done so far

Runs ``conf/sweeps/paper_*.yaml`` through the local sweep runner (finished runs are
skipped on a rerun) into ``sweeps/``, then writes to ``docs/results/``:
``estimate.csv|md`` (critic-only: the estimate's error against the exact W1),
``gan.csv|md`` (full training: the generator's final exact W1 against the noise
floor) and ``paper.png``. Timing on a 2-core CPU is in docs/results.md.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import REPO, collect, mean_sd, run_sweep, short  # noqa: E402

ESTIMATE = ("paper_estimate", "paper_estimate_clip")
GAN = ("paper_gan", "paper_gan_clip")
PENALTY = {"GradientPenalty": "GP", "LipschitzPenalty": "LP", "WeightClipping": "clip"}


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """The grid coordinates of a run, in the table's words."""
    summary = row["summary"]
    config = Path(str(row.get("config", ""))).stem
    pair = {
        "translation": "8gaussians + (0.3, 0.4), paired batches",
        "translation_unpaired": "8gaussians + (0.3, 0.4), independent batches",
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


def fmt(values: list[float], digits: int = 4) -> str:
    m, s = mean_sd(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def key_columns(setting: str, penalty: str, weight: float | None, runs: list[dict[str, Any]]) -> dict[str, str]:
    """The columns that name a group of runs in both tables."""
    return {"data": setting, "penalty": penalty, "λ": "-" if weight is None else f"{weight:g}", "seeds": str(len(runs))}


def estimate_table(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Critic-only: mean ± std over seeds of the estimate, its ratio and relative error."""
    table = []
    for (setting, penalty, weight), runs in group(rows).items():
        table.append({
            **key_columns(setting, penalty, weight, runs),
            "w1_exact": fmt([r["w1_exact"] for r in runs]),
            "w1_critic": fmt([r["w1_critic"] for r in runs]),
            "w1_critic / w1_exact": fmt([r["ratio"] for r in runs]),
            "rel_error": fmt([r["rel_error"] for r in runs]),
            "se / w1_exact (max)": f"{max(r['w1_critic_se'] / r['w1_exact'] for r in runs):.3%}",
        })
    return table


def gan_table(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Full training: the generator's final exact W1 against the noise floor."""
    table = []
    for (setting, penalty, weight), runs in group(rows).items():
        table.append({
            **key_columns(setting, penalty, weight, runs),
            "w1_exact (final)": fmt([r["w1_exact"] for r in runs]),
            "noise_floor": f"{runs[0]['noise_floor']:.4f}",
            "w1_exact / noise_floor": fmt([r["w1_over_floor"] for r in runs], 2),
            "w1_critic (final)": fmt([r["w1_critic"] for r in runs]),
            "modes_covered": fmt([r.get("modes_covered", float("nan")) for r in runs], 2),
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
    settings = sorted({describe(r)["setting"] for r in estimate_rows})
    datasets = sorted({describe(r)["setting"] for r in gan_rows})
    fig, axes = plt.subplots(1, len(settings) + 1, figsize=(5 * (len(settings) + 1), 4), squeeze=False)
    axes = axes[0]
    for ax, setting in zip(axes, settings, strict=False):
        for (s, penalty, _), runs in group(estimate_rows).items():
            if s != setting:
                continue
            ratio, _sd = mean_sd([r["ratio"] for r in runs])
            if penalty == "clip":
                ax.axhline(ratio, color="gray", ls=":", label=f"clip: {ratio:.2f}")
        for penalty, color in (("GP", "tab:blue"), ("LP", "tab:red")):
            pts = sorted(
                (w, *mean_sd([r["ratio"] for r in runs]))
                for (s, p, w), runs in group(estimate_rows).items()
                if s == setting and p == penalty
            )
            if pts:
                ws, ms, sds = zip(*pts, strict=True)
                ax.errorbar(ws, ms, yerr=sds, marker="o", capsize=3, color=color, label=penalty)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("λ")
        ax.set_ylabel("critic estimate / exact W1")
        ax.set_title(f"critic only: {setting}", fontsize=10)
        ax.legend(fontsize=8)
    ax = axes[-1]
    for dataset, style in zip(datasets, ("-", "--"), strict=False):
        for penalty, color in (("GP", "tab:blue"), ("LP", "tab:red")):
            curves = [r["summary"] for r in gan_rows if describe(r)["setting"] == dataset and describe(r)["penalty"] == penalty
                      and describe(r)["weight"] == 10]
            if not curves:
                continue
            steps = [h["step"] for h in curves[0]["history"]]
            ys = [statistics.mean(c["history"][i]["w1_exact"] / c["noise_floor"] for c in curves) for i in range(len(steps))]
            ax.plot(steps, ys, style, color=color, marker=".", label=f"{penalty} λ=10, {dataset}")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("generator step")
    ax.set_ylabel("exact W1 / noise floor")
    ax.set_title("full GAN training (mean over seeds)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def report(runs: Path, results: Path, estimate: tuple[str, ...] = ESTIMATE, gan: tuple[str, ...] = GAN) -> tuple[list, list]:
    est_rows = [r for name in estimate if (runs / name).is_dir() for r in collect(runs / name)]
    gan_rows = [r for name in gan if (runs / name).is_dir() for r in collect(runs / name)]
    est, g = estimate_table(est_rows), gan_table(gan_rows)
    write_table(est, results / "estimate")
    write_table(g, results / "gan")
    if est_rows or gan_rows:
        figure(est_rows, gan_rows, results / "paper.png")
    return est, g


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="GP vs LP across λ: critic-only and full GAN sweeps, table and figure.")
    parser.add_argument("--runs", default="sweeps", help="where the sweeps' runs go")
    parser.add_argument("--results", default=str(REPO / "docs" / "results"), help="where tables and figure go")
    parser.add_argument("--report", action="store_true", help="only build tables and figure from finished runs")
    parser.add_argument("--only", choices=("estimate", "gan"), help="run only one of the two modes")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (each gets cores/jobs threads)")
    args, extra = parser.parse_known_args(argv)
    runs, results = Path(args.runs), Path(args.results)
    if not args.report:
        names = {"estimate": ESTIMATE, "gan": GAN}.get(args.only, ESTIMATE + GAN)
        for name in names:
            sweep = REPO / "conf" / "sweeps" / f"{name}.yaml"
            run_sweep(sweep, runs / name, ["--trainer.enable_progress_bar=false", *extra], jobs=args.jobs)
    est, g = report(runs, results)
    print(f"results: {results} ({len(est)} critic-only rows, {len(g)} GAN rows)")


if __name__ == "__main__":
    main()
