"""The funnel benchmark under the project's protocol: every Lipschitz regularizer, its λ
chosen on pairs of our own, scored on the published pairs.

    python -m lightning_wgan.experiments.family            # tuning, then the published pairs (resumable: many hours)
    python -m lightning_wgan.experiments.family --quick    # one pair each, four regularizers, short runs: minutes
    python -m lightning_wgan.experiments.family --report   # the report from the runs done so far

The published protocol (:mod:`~lightning_wgan.experiments.funnels`) gives each method
its own run length (5 000 to 60 000 critic steps). Here every regularizer of
``conf/regularizers/`` trains for the same number of critic steps (:data:`STEPS`),
otherwise under the published protocol (batches of 1024, Adam 2e-4 (0, 0.9), the
published critic's size), with an evaluation every :data:`EVAL_EVERY` steps so that the
history shows whether the estimate and the cosine have settled.

λ is not chosen on the pairs it is scored on. Stage 1 (tuning) trains each regularizer
at each value of its hyperparameter in :data:`VALUES` (λ 1, 10, 100 and its config's
default; the clipping bound c 0.01, 0.04, 0.1), those without one once, on tuning pairs:
funnels with our own centres (seed :data:`TUNING_SEED`), not the published ones.
The rule (:func:`choose`): the value with the highest mean cosine between ∇D and ∇f*
over the tuning pairs, the smaller value on a tie; a generator learns from ∇D, so the
gradient is what is tuned for. Stage 2 trains every regularizer at its
chosen value on the published pairs of the lean grid (``FULL.cells``). A regularizer's
tuning and its seed 0 come before the next regularizer's, and seeds 1 and 2 of all of
them after that, so a grid cut short still covers as much of the family as it can.
The runs are rows of ``docs/results/family.jsonl``; the report is ``docs/results/family.md`` with
``docs/results/family.png`` (cosine over the pairs, per regularizer) and
``docs/results/family_settling.png`` (the cosine over the run).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.experiments.benchmark import REGULARIZERS, regularizer_config  # noqa: E402
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
from lightning_wgan.experiments.funnels import FUNNEL_SPEED, PUBLISHED, TASK, cell_config, cell_of, published, speed_markdown  # noqa: E402
from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import REPO, GridProgress, RunTable, collect, mean_sd, run_sweep  # noqa: E402

# The published GP and LP run length, the longest the published protocol has: 20 000
# steps did not settle. LP's estimate on the published pairs at K 64 rises by 3-7 % from
# step 20 000 to 60 000 (d 2: 0.849 to 0.906 × W1), its cosine at d 4, K 256 by 0.07
# (0.594 to 0.665); at K 4 both have settled by 10 000 (docs/results/funnels.jsonl).
STEPS, EVAL_EVERY = 60_000, 5000
TUNING_SEED = 1  # the centres of the tuning pairs (the published pairs are not ours: any seed differs from them)
CLIP_FLAG = "model.penalty.init_args.clip_value"


def config_path(name: str, flag: str) -> tuple[list[str], float]:
    """Where the config of regularizer ``name`` in ``conf/regularizers/`` sets the
    hyperparameter ``flag`` (its keys, with the init_args a flag leaves out between a
    class and its arguments), and the value it sets there."""
    node, path = yaml.safe_load((REPO / regularizer_config(name)).read_text()), []
    for part in flag.split("."):
        if part not in node:
            node, path = node["init_args"], [*path, "init_args"]
        node, path = node[part], [*path, part]
    return path, float(node)


def config_value(name: str, flag: str) -> float:
    """The default a user gets: the value of the paper the config cites (10 for the
    penalties, k = 2 for WGAN-div, c = 0.01 for clipping)."""
    return config_path(name, flag)[1]


def setting(name: str, value: float) -> str:
    """An inline config that sets the hyperparameter of regularizer ``name`` to ``value``."""
    config: Any = value
    for key in reversed(config_path(name, VALUES[name][0])[0]):
        config = {key: config}
    return flow(config)


def tried(name: str, flag: str, grid: tuple[float, ...]) -> tuple[str, tuple[float, ...]]:
    return flag, tuple(sorted({*grid, config_value(name, flag)}))


# regularizer → (the flag of its hyperparameter, the values tried on the tuning pairs: a
# decade grid and the config's default, which the GAN grid trains at); the others have none.
VALUES: dict[str, tuple[str, tuple[float, ...]]] = {
    **{name: tried(name, flag, (1.0, 10.0, 100.0)) for name, (_, flag) in REGULARIZERS.items() if flag},
    "clip": tried("clip", CLIP_FLAG, (0.01, 0.04, 0.1)),
}
def gan_lambda(name: str) -> float | None:
    """The λ (or c) regularizer ``name`` (the benchmark's name for it) trains with in the
    GAN grids (:mod:`~lightning_wgan.experiments.convergence`, the digits): its config's
    default. None for a regularizer without a hyperparameter."""
    return config_value(name, VALUES[name][0]) if name in VALUES else None


# Speed is relative to "none", so it runs first; then the rest in the benchmark's order.
ORDER = ["none", *(name for name in REGULARIZERS if name != "none")]
SEEDS = (0, 1, 2)


class Grid:
    def __init__(self, tuning: list[tuple[int, int]], cells: list[tuple[int, int]], seeds: tuple[int, ...], steps: int,
                 eval_every: int, regularizers: list[str], values: int | None = None, extra: list[str] | None = None) -> None:
        self.tuning, self.cells, self.seeds, self.steps, self.eval_every = tuning, cells, seeds, steps, eval_every
        self.regularizers, self.values, self.extra = regularizers, values, extra or []  # values: the first n of each (quick)

    def values_of(self, name: str) -> tuple[float | None, ...]:
        """The values tried on the tuning pairs; (None,) for a regularizer without a
        hyperparameter, which trains there once, at its only setting."""
        return VALUES[name][1][: self.values] if name in VALUES else (None,)


# Two tuning pairs, one of middling difficulty and one hard, to keep the 60 000-step runs affordable.
FULL = Grid(tuning=[(8, 16), (32, 64)], cells=[(d, k) for d in (2, 8, 32, 128) for k in (4, 64)],
            seeds=SEEDS, steps=STEPS, eval_every=EVAL_EVERY, regularizers=ORDER)
QUICK = Grid(tuning=[(2, 4)], cells=[(2, 16)], seeds=(0,), steps=100, eval_every=50, regularizers=["none", "lp", "clip", "spectral"],
             values=2, extra=["--data.init_args.batch_size=256", "--data.init_args.eval_size=1024", "--data.init_args.grad_size=1024"])


def tuning_config(d: int, k: int) -> str:
    """A tuning pair: K funnels of our own in d dimensions, the published critic's size for it."""
    return cell_config(d, k, seed=TUNING_SEED)


def run_args(grid: Grid) -> list[str]:
    return [f"--eval_every={grid.eval_every}", "--trainer.logger=false", "--trainer.enable_progress_bar=false",
            "--sample_plot=null", "--monitor=null", *grid.extra]


def sweep(name: str, cells: list[str], grid: Grid, seeds: tuple[int, ...], value: float | None = None) -> dict[str, Any]:
    """One regularizer on ``cells`` (inline pair configs): at every tuning value, or at ``value``."""
    protocol = flow({"critic_steps": grid.steps})
    parameters: dict[str, Any] = {
        "config": {"values": [[TASK, regularizer_config(name), cell, protocol] for cell in cells]},
        "seed_everything": {"values": list(seeds)}}
    if name in VALUES:
        parameters[VALUES[name][0]] = {"value": value} if value is not None else {"values": list(grid.values_of(name))}
    return {"program": "train.py", "method": "grid", "parameters": parameters}


def tuning_sweep(name: str, grid: Grid, value: float | None = None) -> dict[str, Any]:
    """One regularizer on the tuning pairs: at every tuning value, or at ``value`` only."""
    return sweep(name, [tuning_config(d, k) for d, k in grid.tuning], grid, (0,), value)


def published_sweep(name: str, grid: Grid, value: float | None, seeds: tuple[int, ...]) -> dict[str, Any]:
    return sweep(name, [cell_config(d, k) for d, k in grid.cells], grid, seeds, value)


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A run's regularizer, hyperparameter value, pair (d, K, whether it is a tuning pair) and seed."""
    _, config, cell, _ = row["config"]
    name = next(n for n in REGULARIZERS if config == regularizer_config(n))
    pair = cell_of(cell)
    return {"regularizer": name, "value": row.get(VALUES[name][0]) if name in VALUES else None, "d": pair["d"], "K": pair["K"],
            "tuning": pair["own"], "seed": row.get("seed_everything")}


def choose(rows: list[dict[str, Any]], name: str, grid: Grid) -> float | None:
    """The rule: the tuning value of ``name`` with the highest mean cosine over the tuning
    pairs (the smaller value on a tie), once every tuning run of it has finished; None
    before that, and for a regularizer without a hyperparameter."""
    if name not in VALUES:
        return None
    cos: dict[float, list[float]] = defaultdict(list)
    for r in rows:
        d = describe(r)
        if d["regularizer"] == name and d["tuning"]:
            cos[d["value"]].append(r["summary"]["grad_cos"])
    values = grid.values_of(name)
    if any(len(cos[v]) < len(grid.tuning) for v in values):
        return None
    return max(values, key=lambda v: (statistics.mean(cos[v]), -v))


def ready(name: str, value: float | None) -> bool:
    """Whether ``name`` can train on pairs it is scored on: once its value is chosen, or
    at once if it has no hyperparameter."""
    return name not in VALUES or value is not None


def finished_runs(table: RunTable, grid: Grid = FULL) -> int:
    """The grid's runs finished in ``table``."""
    return len(collect(table, sweeps(grid)))


def run(grid: Grid, runs: Path, table: RunTable, jobs: int) -> None:
    """The grid's sweeps in turn, under one progress bar."""
    args = run_args(grid)
    with GridProgress("family", total_runs(grid), lambda: finished_runs(table, grid)) as bar:
        def go(sweep_name: str, spec: dict[str, Any]) -> None:
            run_sweep(spec, runs / sweep_name, args, jobs=jobs, in_process=True, table=table.path, grid=bar)

        for name in grid.regularizers:  # first what the cross-table reads: each at its GAN λ on the tuning pairs
            if name not in VALUES or gan_lambda(name) in grid.values_of(name):
                go(f"tuning-{name}", tuning_sweep(name, grid, gan_lambda(name)))
        for seeds in ((grid.seeds[0],), grid.seeds):  # seed 0 of the whole family first
            for name in grid.regularizers:
                go(f"tuning-{name}", tuning_sweep(name, grid))  # nothing to do the second time
                value = choose(collect(table, [f"tuning-{name}"]), name, grid)
                if ready(name, value):
                    go(f"published-{name}", published_sweep(name, grid, value, seeds))


def sweeps(grid: Grid) -> list[str]:
    return [f"{stage}-{name}" for name in grid.regularizers for stage in ("tuning", "published")]


def total_runs(grid: Grid = FULL) -> int:
    """All the grid's runs."""
    tuning = sum(len(grid.values_of(n)) * len(grid.tuning) for n in grid.regularizers)
    return tuning + len(grid.regularizers) * len(grid.cells) * len(grid.seeds)


# -- the report ------------------------------------------------------------------------


def summarize(rows: list[dict[str, Any]]) -> tuple[dict[tuple, dict[str, Any]], dict[tuple, dict[str, Any]]]:
    """The tuning table, (regularizer, value) → mean cosine and mean estimate / W1 over the
    tuning pairs; and the published pairs' table, (d, K, regularizer) → mean and sd over
    seeds of estimate / W1, cosine and L2, the change of the cosine over the run's second
    half (mean over seeds), and the median critic steps/s relative to "none" on the same
    pair and seed."""
    tuning: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    scored: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        d = describe(r)
        if d["tuning"]:
            tuning[(d["regularizer"], d["value"])].append(r["summary"])
        else:
            scored[(d["d"], d["K"], d["regularizer"])].append({**r["summary"], "seed": d["seed"], "value": d["value"]})
    tuned = {key: {"cos": statistics.mean(s["grad_cos"] for s in runs), "ratio": statistics.mean(s["ratio"] for s in runs),
                   "pairs": len(runs)} for key, runs in tuning.items()}
    none = {(d, k, s["seed"]): s["critic_steps_per_s"] for (d, k, m), runs in scored.items() if m == "none" for s in runs}
    table = {}
    for (d, k, name), runs in scored.items():
        speeds = [s["critic_steps_per_s"] / none[(d, k, s["seed"])] for s in runs if none.get((d, k, s["seed"]))]
        entry: dict[str, Any] = {"seeds": len(runs), "value": runs[0]["value"], "steps": runs[0]["critic_steps"],
                                 "speed": statistics.median(speeds) if speeds else math.nan,
                                 "settling": statistics.mean(drift(s["history"]) for s in runs)}
        for key in ("ratio", "grad_cos", "grad_l2"):
            entry[key], entry[key + "_sd"] = mean_sd([s[key] for s in runs])
        table[(d, k, name)] = entry
    return tuned, table


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def num(value: float, digits: int = 3) -> str:
    """A score in the tables: fixed digits, or three significant ones for the huge
    estimates and L2s of a critic without a regularizer."""
    return f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:.3g}"


def tuning_markdown(tuned: dict[tuple, dict[str, Any]], rows: list[dict[str, Any]], grid: Grid) -> str:
    width = max(len(grid.values_of(n)) for n in VALUES)
    lines = ["## λ chosen on the tuning pairs", "",
             f"Tuning pairs: d, K ∈ {', '.join(f'({d}, {k})' for d, k in grid.tuning)}, our own centres (seed {TUNING_SEED}), "
             "solver seed 0. Each value's mean cosine (mean estimate / W1) over those pairs; **bold** is the value the rule "
             "chose (the highest mean cosine). For weight clipping the value is the clipping bound c; a regularizer without "
             "a hyperparameter trains there once (value -), so that every one has a score on these pairs.", "",
             "| regularizer | " + " | ".join(f"value {i + 1}" for i in range(width)) + " | chosen |", "|" + "---|" * (width + 2)]
    for name in grid.regularizers:
        chosen = choose(rows, name, grid)
        cells = []
        for v in grid.values_of(name):
            e = tuned.get((name, v))
            text = f"{fmt(v)}: {e['cos']:.3f} ({num(e['ratio'], 2)}), {e['pairs']} pairs" if e else f"{fmt(v)}: -"
            cells.append(f"**{text}**" if name in VALUES and v == chosen else text)
        cells += [""] * (width - len(cells))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {fmt(chosen) if chosen is not None or name not in VALUES else 'not yet'} |")
    return "\n".join(lines) + "\n"


def published_markdown(table: dict[tuple, dict[str, Any]], theirs: dict[tuple, dict[str, float]], grid: Grid) -> str:
    lines = ["## Every regularizer on the published pairs", "",
             f"{grid.steps} critic steps each. Mean ± sd over solver seeds. In brackets the published solver's number under "
             "its own protocol and run length (five methods only). Settling: the cosine's change over the run's second half.",
             "", "| d | K | regularizer | value | seeds | estimate / W1 | cosine | L2 | settling | speed vs none |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (d, k, name), e in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][1], ORDER.index(kv[0][2]))):
        p = theirs.get((d, k, name), {})

        def cell(key: str, short: str, e: dict[str, Any] = e, p: dict[str, float] = p) -> str:
            text = f"{num(e[key])} ± {num(e[key + '_sd'])}"
            return f"{text} ({p[short]:.3f})" if p else text
        lines.append(f"| {d} | {k} | {name} | {fmt(e['value'])} | {e['seeds']} | {cell('ratio', 'ratio')} | {cell('grad_cos', 'cos')} | "
                     f"{cell('grad_l2', 'l2')} | {e['settling']:+.3f} | {e['speed']:.2f} |")
    return "\n".join(lines) + "\n"


def figure(table: dict[tuple, dict[str, Any]], theirs: dict[tuple, dict[str, float]], path: Path) -> None:
    """Cosine over the pairs (d, K), one row per regularizer: ours as colour and number,
    the best published solver's cosine on each pair in the bottom row."""
    cells = sorted({(d, k) for d, k, _ in table}, key=lambda c: (c[1], c[0]))
    names = [n for n in ORDER if any(key[2] == n for key in table)]
    if not cells or not names:
        return
    best = [max((theirs[(d, k, m)]["cos"] for m in PUBLISHED if (d, k, m) in theirs), default=math.nan) for d, k in cells]
    grid = [[table[(d, k, n)]["grad_cos"] if (d, k, n) in table else math.nan for d, k in cells] for n in names] + [best]
    fig, ax = plt.subplots(figsize=(1.0 * len(cells) + 2.5, 0.42 * len(grid) + 1.5))
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if math.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 else "black")
    ax.set_xticks(range(len(cells)), [f"d {d}\nK {k}" for d, k in cells], fontsize=7)
    ax.set_yticks(range(len(grid)), [*names, "best published"], fontsize=8)
    ax.axhline(len(names) - 0.5, color="white", lw=2)
    ax.set_title(f"cosine of ∇D and ∇f* on Q, published pairs, {next(iter(table.values()))['steps']} critic steps each", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def settling_figure(rows: list[dict[str, Any]], path: Path) -> None:
    """The cosine against the critic step on each published pair, one line per
    regularizer (seed 0): whether the runs are long enough."""
    curves: dict[tuple[int, int], dict[str, list[tuple[int, float]]]] = defaultdict(dict)
    for r in rows:
        d = describe(r)
        if not d["tuning"] and d["seed"] == SEEDS[0]:
            curves[(d["d"], d["K"])][d["regularizer"]] = [(h["step"], h["grad_cos"]) for h in r["summary"]["history"] if "grad_cos" in h]
    if not curves:
        return
    cells = sorted(curves, key=lambda c: (c[1], c[0]))
    cols = min(4, len(cells))
    fig, axes = plt.subplots(math.ceil(len(cells) / cols), cols, figsize=(3.6 * cols, 3.0 * math.ceil(len(cells) / cols)),
                             squeeze=False, sharey=True)
    for ax, cell in zip(axes.flat, cells, strict=False):
        for i, name in enumerate(n for n in ORDER if n in curves[cell]):
            if curves[cell][name]:
                ax.plot(*zip(*curves[cell][name], strict=True), color=plt.cm.tab20(i / 20), label=name, lw=1.2)
        ax.set_title(f"d {cell[0]}, K {cell[1]}", fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_xlabel("critic step", fontsize=8)
    for ax in axes.flat[len(cells):]:
        ax.axis("off")
    axes[0][0].set_ylabel("cosine of ∇D and ∇f*")
    axes[0][0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


HEADER = """# Funnel pairs: every regularizer under one protocol

Generated by `python -m lightning_wgan.experiments.family` from `{table}`: {runs} of the
grid's {total} runs. The published protocol of Korotin, Kolesov and Burnaev (2022)
(independent batches of 1024, Adam 2e-4 (0, 0.9), MLP critic d → max(2d, 128) →
max(2d, 128) → 1, scores on 4096 held-out points of Q), except that every regularizer
trains for the same {steps} critic steps. Speed: critic steps/s over those of the same
pair and seed without a regularizer (two runs at a time on 2 cores, so ±20 %; the last
table measures it side by side). The
cosine over the pairs is in `family.png`, the cosine over each run in
`family_settling.png`.
"""


def report(rows: list[dict[str, Any]], docs: Path, grid: Grid, source: Path) -> dict[tuple, dict[str, Any]]:
    """docs/results/family.md and its two figures from the finished runs ``rows`` of the table ``source``."""
    tuned, table = summarize(rows)
    theirs = published()
    docs.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(table=shown(source), runs=len(rows), total=total_runs(grid), steps=grid.steps)
    text += f"{run_time(rows, 'family', docs)}.\n" if rows else ""
    text += "\n" + tuning_markdown(tuned, rows, grid) + "\n" + published_markdown(table, theirs, grid)
    (docs / "family.md").write_text(text + "\n" + speed_markdown(docs / FUNNEL_SPEED, ORDER))
    figure(table, theirs, docs / "family.png")
    settling_figure(rows, docs / "family_settling.png")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("Every regularizer on the funnel pairs under one protocol, λ chosen on pairs of our own.",
                              quick="one tuning and one published pair, four regularizers, 100 critic steps a run",
                              results="docs/results, or the runs folder for --quick")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, docs = places("family", args)
    if not args.report:
        record_machine(args, "family")
        run(grid, runs, table, args.jobs)
    rows = collect(table, sweeps(grid))
    report(rows, docs, grid, table.path)
    print(f"results: {docs / 'family.md'} ({len(rows)} of {total_runs(grid)} runs)")
    fill_benchmark_page(args, "family", docs / "family.md")


if __name__ == "__main__":
    run_main(main)
