"""The W1 benchmark on the field's ground truth: the published funnel pairs of Korotin,
Kolesov and Burnaev (2022) under their protocol, our critics' scores next to theirs.

    python -m lightning_wgan.experiments.funnels            # the grid (resumable: hours), then docs/results/funnels.md
    python -m lightning_wgan.experiments.funnels --quick    # two cells, short runs: minutes
    python -m lightning_wgan.experiments.funnels --report   # the report from the runs done so far

The five methods they ran that are Lipschitz regularizers — weight clipping (c = 0.04,
5 000 critic steps), GP and LP (λ 10, 60 000), spectral normalization (10 000) and a
GroupSort critic with orthonormal layers (deel-torchlip, 25 000) — on each of the 28
published pairs (d ∈ {2, ..., 128} × K ∈ {4, 16, 64, 256}), with their protocol
(``conf/estimate/funnels.yaml``: independent batches of 1024, Adam 2e-4 (0, 0.9), MLP
critic d → max(2d, 128) → max(2d, 128) → 1, scores on 4096 held-out points of Q); plus
a short run without a regularizer per pair, for the speed of each step relative to it.
One sweep, so one progress bar over the whole grid; the runs are rows of
``docs/results/funnels.jsonl``. The report, ``docs/results/funnels.md`` and ``docs/results/funnels.png``,
puts each score next to the published one, pair by pair.
"""

from __future__ import annotations

import csv
import json
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

from lightning_wgan.data import PUBLISHED_FUNNELS  # noqa: E402
from lightning_wgan.experiments.common import (  # noqa: E402
    drift,
    driver_arguments,
    fill_benchmark_page,
    flow,
    places,
    record_machine,
    run_main,
    run_time,
    shown,
)
from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import RunTable, collect, run_sweep  # noqa: E402

SWEEP = "published"
FUNNEL_SPEED = "funnel_speed.json"  # bench.py --regularizers --pair P --save, in the report folder
TASK = "conf/estimate/funnels.yaml"
# method → (its regularizer config, the published protocol's settings for it, its name in published_metrics.csv)
METHODS: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "clip": ("conf/regularizers/clip.yaml",
             {"critic_steps": 5000, "model": {"init_args": {"penalty": {"init_args": {"clip_value": 0.04}}}}}, "wgan"),
    "spectral": ("conf/regularizers/spectral_norm.yaml", {"critic_steps": 10_000}, "sn-gan"),
    "none": ("conf/regularizers/none.yaml", {"critic_steps": 2000}, None),
    "torchlip": ("conf/regularizers/torchlip.yaml", {"critic_steps": 25_000}, "sort-out"),
    "gp": ("conf/regularizers/gp.yaml", {"critic_steps": 60_000}, "wgan-gp"),
    "lp": ("conf/regularizers/lp.yaml", {"critic_steps": 60_000}, "wgan-lp"),
}
PUBLISHED = {name: published for name, (_, _, published) in METHODS.items() if published}
DIMS, FUNNELS = (2, 4, 8, 16, 32, 64, 128), (4, 16, 64, 256)


class Grid:
    def __init__(self, cells: list[tuple[int, int]], seeds: list[int], steps: int | None, extra: list[str]) -> None:
        self.cells, self.seeds, self.steps, self.extra = cells, seeds, steps, extra  # steps: one length for all (quick)


FULL = Grid([(d, k) for d in DIMS for k in FUNNELS], [0], None, [])
QUICK = Grid([(2, 16), (8, 4)], [0], 100, ["--data.init_args.batch_size=256", "--data.init_args.eval_size=1024",
                                          "--data.init_args.grad_size=1024"])
# Every run: an evaluation every 5000 critic steps (the history shows whether the scores have settled), no logger.
RUN_ARGS = ["--eval_every=5000", "--trainer.logger=false", "--trainer.enable_progress_bar=false", "--sample_plot=null",
            "--monitor=null"]


def cell_config(d: int, k: int, width: int = 128, depth: int = 2, seed: int | None = None, **critic: Any) -> str:
    """The published pair d, K, or with ``seed`` K funnels of our own with centres drawn
    from it; a critic of ``depth`` hidden layers of max(2d, ``width``) units (the
    published critic's size by default), with the other arguments ``critic``."""
    pair = {"pair": f"d{d}_w{k}"} if seed is None else {"pair": None, "funnels": k, "seed": seed}
    args = {"data_dim": d, "width": max(2 * d, width), "depth": depth, **critic}
    return flow({"data": {"init_args": {"dim": d, "transform": {"init_args": pair}}},
                 "model": {"init_args": {"critic": {"init_args": args}}}})


def cell_of(config: str) -> dict[str, Any]:
    """What :func:`cell_config` made ``config`` of: d, K, whether the funnels are our own
    (``own``: drawn from a seed, not a published pair), and the critic's arguments."""
    parsed = yaml.safe_load(config)
    data, pair = parsed["data"]["init_args"], parsed["data"]["init_args"]["transform"]["init_args"]
    own = pair.get("pair") is None
    return {"d": data["dim"], "K": pair["funnels"] if own else int(pair["pair"].rsplit("_w", 1)[1]), "own": own,
            "critic": parsed["model"]["init_args"]["critic"]["init_args"]}


def sweep(grid: Grid) -> dict[str, Any]:
    """The whole grid as one sweep: a run's configs are the task, its method, its pair, the method's protocol."""
    configs = []
    for d, k in grid.cells:
        for config, protocol, _ in METHODS.values():
            protocol = {**protocol, "critic_steps": grid.steps or protocol["critic_steps"]}
            configs.append([TASK, config, cell_config(d, k), flow(protocol)])
    return {"program": "train.py", "method": "grid",
            "parameters": {"config": {"values": configs}, "seed_everything": {"values": grid.seeds}}}


def finished_runs(table: RunTable, grid: Grid = FULL) -> int:
    """The grid's runs finished in ``table``."""
    return len(collect(table, [SWEEP]))


def total_runs(grid: Grid = FULL) -> int:
    """All the grid's runs."""
    return len(grid.cells) * len(METHODS) * len(grid.seeds)


def run(grid: Grid, runs: Path, table: RunTable, jobs: int) -> None:
    run_sweep(sweep(grid), runs / SWEEP, [*RUN_ARGS, *grid.extra], jobs=jobs, in_process=True, table=table.path)


# -- the report ------------------------------------------------------------------------


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A run's method, pair and seed."""
    _, config, cell, _ = row["config"]
    method = next(name for name, (c, _, _) in METHODS.items() if c == config)
    pair = cell_of(cell)
    return {"method": method, "d": pair["d"], "K": pair["K"], "seed": row.get("seed_everything")}


def published(path: Path = PUBLISHED_FUNNELS / "published_metrics.csv") -> dict[tuple[int, int, str], dict[str, float]]:
    """(d, K, our method name) → the published estimate / W1, cosine and L2."""
    ours = {theirs: mine for mine, theirs in PUBLISHED.items()}
    out = {}
    for r in csv.DictReader(open(path)):
        if r["method"] in ours:
            out[(int(r["dim"]), int(r["funnels"]), ours[r["method"]])] = {
                "ratio": float(r["estimate"]) / float(r["true_w1"]), "cos": float(r["cos"]), "l2": float(r["l2"])}
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[tuple[int, int, str], dict[str, float]]:
    """(d, K, method) → mean over seeds of estimate / W1, cosine, L2, and the median over
    seeds of critic steps/s relative to the run without a regularizer on the same pair."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        d = describe(r)
        groups[(d["d"], d["K"], d["method"])].append({**r["summary"], "seed": d["seed"]})
    none = {(d, k, s["seed"]): s["critic_steps_per_s"] for (d, k, m), runs in groups.items() if m == "none" for s in runs}
    table = {}
    for (d, k, method), runs in groups.items():
        speeds = [s["critic_steps_per_s"] / none[(d, k, s["seed"])] for s in runs if (d, k, s["seed"]) in none]
        table[(d, k, method)] = {"ratio": statistics.mean(s["ratio"] for s in runs), "cos": statistics.mean(s["grad_cos"] for s in runs),
                                 "l2": statistics.mean(s["grad_l2"] for s in runs), "seeds": len(runs),
                                 "steps": runs[0]["critic_steps"], "speed": statistics.median(speeds) if speeds else math.nan,
                                 **{f"settling_{key}": statistics.mean(drift(s.get("history", []), key) for s in runs)
                                    for key in ("ratio", "grad_cos")}}
    return table


def markdown(table: dict[tuple, dict[str, float]], theirs: dict[tuple, dict[str, float]]) -> str:
    lines = ["| d | K | method | steps | estimate / W1 (published) | cosine (published) | L2 (published) | settling: estimate, cosine "
             "| speed vs none |", "|---|---|---|---|---|---|---|---|---|"]
    order = list(METHODS)
    for (d, k, method), e in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][1], order.index(kv[0][2]))):
        if method == "none":
            continue
        p = theirs.get((d, k, method), {})

        def cell(key: str, e: dict[str, float] = e, p: dict[str, float] = p) -> str:
            return f"{e[key]:.3f} ({p[key]:.3f})" if p else f"{e[key]:.3f}"
        settling = ", ".join("-" if math.isnan(e[f"settling_{key}"]) else f"{e[f'settling_{key}']:+.3f}" for key in ("ratio", "grad_cos"))
        lines.append(f"| {d} | {k} | {method} | {e['steps']} | {cell('ratio')} | {cell('cos')} | {cell('l2')} | {settling} | "
                     f"{'-' if math.isnan(e['speed']) else format(e['speed'], '.2f')} |")
    return "\n".join(lines) + "\n"


def speed_markdown(path: Path, names: Iterable[str]) -> str:
    """The critic steps/s of each regularizer of ``names`` against none, measured side by
    side on funnel pairs (``bench.py --regularizers --pair P --save``, kept in ``path``),
    one column a pair."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    lines = ["## Speed, measured side by side", ""]
    if not kept:
        how = "`python benchmarks/bench.py --regularizers --pair d8_w16 --save`"
        return "\n".join([*lines, f"Not measured yet: {how} writes `{path.name}`.", ""])
    pairs = sorted(kept, key=lambda p: tuple(int(n) for n in p[1:].split("_w")))
    commands = sorted({kept[p]["command"] for p in pairs})
    lines += [f"Critic steps/s of each regularizer over none's, the two alternating in one process ({kept[pairs[0]]['rounds']} "
              f"rounds, medians; {kept[pairs[0]]['threads']} thread(s), as the runs have): " + "; ".join(f"`{c}`" for c in commands)
              + ". none's critic steps/s in the last row.", "",
              "| regularizer | " + " | ".join(pairs) + " |", "|---|" + "---|" * len(pairs)]
    for name in names:
        if name != "none" and any(name in kept[p]["speed_vs_none"] for p in pairs):
            lines.append(f"| {name} | " + " | ".join(f"{kept[p]['speed_vs_none'][name]:.2f}" if name in kept[p]["speed_vs_none"] else "-"
                                                      for p in pairs) + " |")
    lines.append("| none (steps/s) | " + " | ".join(f"{kept[p]['none_steps_per_s']:.0f}" for p in pairs) + " |")
    return "\n".join(lines) + "\n"


def figure(table: dict[tuple, dict[str, float]], theirs: dict[tuple, dict[str, float]], path: Path) -> None:
    """Cosine between ∇D and ∇f* over the pairs (d, then K), one panel per method: ours
    solid, published dashed."""
    methods = [m for m in PUBLISHED if any(key[2] == m for key in table)]
    if not methods:
        return
    cells = sorted({(d, k) for d, k, _ in table})
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.8), squeeze=False, sharey=True)
    for ax, method in zip(axes[0], methods, strict=True):
        for k, color in zip(FUNNELS, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=True):
            mine = [(d, table[(d, kk, method)]["cos"]) for d, kk in cells if kk == k and (d, kk, method) in table]
            pub = [(d, theirs[(d, kk, method)]["cos"]) for d, kk in cells if kk == k and (d, kk, method) in theirs]
            if mine:
                ax.plot(*zip(*mine, strict=True), marker="o", color=color, label=f"K = {k}")
                ax.plot(*zip(*pub, strict=True), ls="--", color=color, alpha=0.6)
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1)
        ax.set_xlabel("dimension d")
        ax.set_title(f"{method}: ours solid, published dashed", fontsize=9)
    axes[0][0].set_ylabel("cosine of ∇D and ∇f* on Q")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


HEADER = """# Funnel pairs: our critics against the published ones

Generated by `python -m lightning_wgan.experiments.funnels` from `{table}`:
{runs} of the grid's {total} runs. The published pairs and protocol of Korotin, Kolesov and
Burnaev (2022): independent batches of 1024, Adam 2e-4 (0, 0.9), MLP critic d → max(2d, 128)
→ max(2d, 128) → 1, scores on 4096 held-out points of Q. In brackets their numbers (their
solver seed 2; estimate / W1 is their estimate over their 4096-point W1). Speed: critic
steps/s over those of the same pair without a regularizer (two runs at a time on 2 cores,
so ±20 %). Settling: how far the estimate / W1 and the cosine moved over the run's second
half (the cosine where the run's history kept it, as runs since 2026-12-02 do).
"""


def report(rows: list[dict[str, Any]], docs: Path, total: int, source: Path) -> dict[tuple, dict[str, float]]:
    """docs/results/funnels.md and .png from the finished runs ``rows`` of the table ``source``."""
    table, theirs = summarize(rows), published()
    docs.mkdir(parents=True, exist_ok=True)
    head = HEADER.format(table=shown(source), runs=len(rows), total=total)
    head += f"{run_time(rows, 'funnels', docs)}.\n" if rows else ""
    (docs / "funnels.md").write_text(head + "\n" + markdown(table, theirs) + "\n" + speed_markdown(docs / FUNNEL_SPEED, METHODS))
    figure(table, theirs, docs / "funnels.png")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("The published funnel pairs under the published protocol, our critics beside theirs.",
                              quick="two pairs, 100 critic steps a run", results="docs/results, or the runs folder for --quick")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, docs = places("funnels", args)
    if not args.report:
        record_machine(args, "funnels")
        run(grid, runs, table, args.jobs)
    rows = collect(table, [SWEEP])
    report(rows, docs, total_runs(grid), table.path)
    print(f"results: {docs / 'funnels.md'} ({len(rows)} runs)")
    fill_benchmark_page(args, "funnels", docs / "funnels.md")


if __name__ == "__main__":
    run_main(main)
