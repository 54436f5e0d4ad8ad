"""The funnel benchmark on real images: every regularizer's critic on the digits pair,
whose W1 and optimal gradient are known in 256 dimensions.

    python -m lightning_wgan.experiments.images            # every regularizer, both critics (resumable: hours)
    python -m lightning_wgan.experiments.images --quick    # two regularizers, tiny critics, 20 steps: a minute
    python -m lightning_wgan.experiments.images --report   # the report from the runs done so far

The pair is ``conf/estimate/funnels_digits.yaml``. P is the 1,797 digits images
(16 × 16, pixels in [-1, 1]). Q is the same images moved along the rays of 16 funnels
with centres in [-1.2, 1.2]^256. The protocol is the config's: independent batches of 256,
Adam 2e-4 (0, 0.9), 10 000 critic steps, an evaluation every 2000, and the scores on
held-out images of Q.

Each regularizer of ``conf/regularizers/`` trains two critics (:data:`CRITICS`). One is
the config's DCGAN critic, or deel-torchlip's convolutional critic for the 1-Lipschitz
network. The other is the MLP critic of the published protocol on the flattened images
(256 → 512 → 512 → 1; deel-torchlip's for the 1-Lipschitz network). Solver seed 0.

λ is the value the family grid chose on its tuning pairs, never the images
(:func:`lightning_wgan.experiments.family.choose`). A regularizer whose choice is not made
yet waits. The runs are rows of ``docs/results/images.jsonl``. The report is
``docs/results/images.md`` and a block of ``docs/benchmark.md``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from lightning_wgan.experiments import family
from lightning_wgan.experiments.benchmark import REGULARIZERS, regularizer_config
from lightning_wgan.experiments.common import (
    RESULTS,
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
from lightning_wgan.experiments.digits import IMAGE_CRITIC, image_penalty
from lightning_wgan.sweep import GridProgress, RunTable, collect, mean_sd, run_sweep

TASK = "conf/estimate/funnels_digits.yaml"
WIDTH = 32  # the task's DCGAN critic, and deel-torchlip's in its place
MLP = {"class_path": "lightning_wgan.networks.MLPCritic"}
MLP_ARGS = {"data_dim": 256, "width": 512, "depth": 2}  # the published protocol's critic: d → max(2d, 128) → max(2d, 128) → 1
CRITICS = ("dcgan", "mlp")


def critic_configs(kind: str, name: str) -> list[str]:
    """The configs of regularizer ``name`` with critic ``kind`` on the pair. The MLP's
    class comes before the regularizer's config and its size after: a regularizer may
    change the class (deel-torchlip) or add to its arguments (dropout for CT, spectral
    norm), and the size holds for each. Either critic sees images: the penalty takes its
    settings at their scale (:func:`~lightning_wgan.experiments.digits.image_penalty`)."""
    if kind == "dcgan":
        out = [TASK, regularizer_config(name)]
        if name in IMAGE_CRITIC:
            critic = {**IMAGE_CRITIC[name], "init_args": {**IMAGE_CRITIC[name]["init_args"], "width": WIDTH}}
            out.append(flow({"model": {"init_args": {"critic": critic}}}))
    else:
        out = [TASK, flow({"model": {"init_args": {"critic": MLP}}}), regularizer_config(name),
               flow({"model": {"init_args": {"critic": {"init_args": MLP_ARGS}}}})]
    return out + image_penalty(name)


class Grid:
    def __init__(self, regularizers: list[str], extra: list[str], chosen: bool) -> None:
        # chosen: λ from the family grid's tuning; else (the quick grid) each config's default
        self.regularizers, self.extra, self.chosen = regularizers, extra, chosen


FULL = Grid(family.ORDER, [], chosen=True)
QUICK = Grid(["none", "lp"], ["--critic_steps=20", "--eval_every=10", "--data.init_args.batch_size=32", "--data.init_args.eval_size=500",
                              "--data.init_args.grad_size=200", "--model.critic.init_args.width=8"], chosen=False)
RUN_ARGS = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--sample_plot=null", "--monitor=null"]


def value(name: str, grid: Grid, tuning: RunTable) -> float | None:
    """The λ (or c) ``name`` trains with here: the family grid's choice on its tuning
    pairs (None while not made), or the config's default for the quick grid."""
    if not grid.chosen:
        return family.gan_lambda(name)
    return family.choose(collect(tuning, [f"tuning-{name}"]), name, family.FULL)


def sweep(name: str, lam: float | None) -> dict[str, Any]:
    parameters: dict[str, Any] = {"config": {"values": [critic_configs(kind, name) for kind in CRITICS]}, "seed_everything": {"value": 0}}
    if name in family.VALUES:
        parameters[family.VALUES[name][0]] = {"value": lam}
    return {"program": "train.py", "method": "grid", "parameters": parameters}


def finished_runs(table: RunTable, grid: Grid = FULL) -> int:
    """The grid's runs finished in ``table``."""
    return len(collect(table, sweeps(grid)))


def total_runs(grid: Grid = FULL) -> int:
    """All the grid's runs."""
    return len(grid.regularizers) * len(CRITICS)


def run(grid: Grid, runs: Path, table: RunTable, jobs: int, tuning: RunTable) -> None:
    with GridProgress("images", total_runs(grid), lambda: finished_runs(table, grid)) as bar:
        for name in grid.regularizers:
            lam = value(name, grid, tuning)
            if family.ready(name, lam):
                run_sweep(sweep(name, lam), runs / f"images-{name}", [*RUN_ARGS, *grid.extra], jobs=jobs, in_process=True,
                          table=table.path, grid=bar)


def sweeps(grid: Grid) -> list[str]:
    return [f"images-{name}" for name in grid.regularizers]


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A run's regularizer, critic and hyperparameter value."""
    name = next(n for n in REGULARIZERS if regularizer_config(n) in row["config"])
    kind = "mlp" if flow({"model": {"init_args": {"critic": MLP}}}) in row["config"] else "dcgan"
    return {"regularizer": name, "critic": kind, "value": row.get(family.VALUES[name][0]) if name in family.VALUES else None}


def summarize(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(regularizer, critic) → its scores, the cosine's change over the run's second half
    and its critic steps/s over none's with the same critic (two runs at a time: ±20 %)."""
    runs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        d = describe(r)
        runs[(d["regularizer"], d["critic"])].append({**r["summary"], "value": d["value"]})
    none = {kind: statistics.mean(s["critic_steps_per_s"] for s in runs[("none", kind)])
            for kind in CRITICS if runs.get(("none", kind))}
    table = {}
    for (name, kind), group in runs.items():
        speed = statistics.mean(s["critic_steps_per_s"] for s in group)
        entry: dict[str, Any] = {"value": group[0]["value"], "seeds": len(group), "steps": group[0]["critic_steps"],
                                 "settling": statistics.mean(drift(s["history"]) for s in group),
                                 "speed": speed / none[kind] if kind in none else math.nan, "w1_exact": group[0]["w1_exact"]}
        for key in ("ratio", "grad_cos", "grad_l2"):
            entry[key] = mean_sd([s[key] for s in group])[0]
        table[(name, kind)] = entry
    return table


def markdown(table: dict[tuple[str, str], dict[str, Any]], grid: Grid) -> str:
    head = " | ".join(f"{kind}: {what}" for kind in CRITICS for what in ("estimate / W1", "cosine", "L2", "settling", "speed vs none"))
    lines = [f"| regularizer | value | {head} |", "|" + "---|" * (2 + 5 * len(CRITICS))]
    for name in grid.regularizers:
        if not any((name, kind) in table for kind in CRITICS):
            continue
        cells = []
        for kind in CRITICS:
            e = table.get((name, kind))
            cells += ([family.num(e["ratio"]), f"{e['grad_cos']:.3f}", family.num(e["grad_l2"]), f"{e['settling']:+.3f}",
                       f"{e['speed']:.2f}"] if e else ["-"] * 5)
        lam = next((table[(name, kind)]["value"] for kind in CRITICS if (name, kind) in table), None)
        lines.append(f"| {name} | {family.fmt(lam)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


HEADER = """# Funnel pairs on real images: every regularizer on the digits pair

Generated by `python -m lightning_wgan.experiments.images` from `{table}` ({runs} of the
grid's {total} runs). P: the 1,797 digits images; Q: the same images moved by 16 funnels
with centres in [-1.2, 1.2]^256 (`conf/estimate/funnels_digits.yaml`; exact W1 {w1}).
Independent batches of 256, Adam 2e-4 (0, 0.9), 10 000 critic steps, solver seed 0, scores
on held-out images of Q. Critics: `dcgan`, the config's DCGAN critic (deel-torchlip's
convolutional one for torchlip); `mlp`, the published protocol's MLP on the flattened
images (256 → 512 → 512 → 1). Value: λ (c for clipping) as the family grid chose it on its
tuning pairs (docs/results/family.md), never on this pair. Settling: the cosine's change
over the run's second half. Speed: critic steps/s over none's with the same critic (two
runs at a time on 2 cores, so ±20 %).
"""


def report(rows: list[dict[str, Any]], docs: Path, grid: Grid, source: Path) -> str:
    table = summarize(rows)
    w1 = next((f"{e['w1_exact']:.3f}" for e in table.values()), "-")
    text = HEADER.format(table=shown(source), runs=len(rows), total=total_runs(grid), w1=w1)
    text += f"{run_time(rows, 'images', docs)}.\n" if rows else ""
    text += "\n" + markdown(table, grid)
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "images.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("Every regularizer's critic on the digits funnel pair, λ chosen by the family grid.",
                              quick="two regularizers, tiny critics, 20 critic steps a run",
                              results="docs/results, or the runs folder for --quick")
    parser.add_argument("--family", default=str(RESULTS / "family.jsonl"), help="the family grid's table, where λ is chosen")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, docs = places("images", args)
    if not args.report:
        record_machine(args, "images")
        run(grid, runs, table, args.jobs, RunTable(args.family))
    rows = collect(table, sweeps(grid))
    report(rows, docs, grid, table.path)
    print(f"results: {docs / 'images.md'} ({len(rows)} of {total_runs(grid)} runs)")
    fill_benchmark_page(args, "images", docs / "images.md")


if __name__ == "__main__":
    run_main(main)
