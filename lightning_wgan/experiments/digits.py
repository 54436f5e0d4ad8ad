"""Every regularizer in GAN training on real images: the digits at 16 × 16 with the DCGAN
critic, scored by the classifier FID against its floor.

    python -m lightning_wgan.experiments.digits            # the grid (resumable: hours), then docs/results/digits.md
    python -m lightning_wgan.experiments.digits --quick    # two regularizers, tiny networks, 20 generator steps
    python -m lightning_wgan.experiments.digits --report   # the report from the runs done so far

``conf/images/digits.yaml`` (DCGAN generator and critic, Adam 2e-4 (0, 0.9), n_critic 5,
5000 generator steps) with each regularizer of ``conf/regularizers/`` on top at its
config's default λ: spectral norm as the DCGAN critic's own option (torch's, which does
not bound a strided convolution by 1: see the README), the deel-torchlip critic as
``LipschitzDCGANCritic``, CT-GAN's dropout after each convolution, ALP's ε at the
scale of images (``IMAGE_PENALTY``). The FID is the
classifier's (``callbacks.ImageQuality``: a domain-specific FID, not comparable with
published ones); its floor is the FID of training images against the held-out ones.
Rows in ``docs/results/digits.jsonl``.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from lightning_wgan.experiments.benchmark import REGULARIZERS, regularizer_config
from lightning_wgan.experiments.common import (
    LAST_EVALUATIONS,
    driver_arguments,
    final,
    flow,
    load_speed,
    places,
    record_machine,
    run_main,
    shown,
)
from lightning_wgan.experiments.family import ORDER, gan_lambda
from lightning_wgan.sweep import RunTable, collect, run_sweep

TASK = "conf/images/digits.yaml"
SPEED = "digits_speed.json"  # in docs/results/: bench.py --regularizers --digits --save writes it
# The image critic a regularizer config's MLP critic stands for.
IMAGE_CRITIC = {"torchlip": {"class_path": "lightning_wgan.networks.LipschitzDCGANCritic",
                             "init_args": {"channels": 1, "size": 16, "width": 64}}}
# A regularizer's settings at the scale of images, where its config's are the toys'. ALP
# checks the slope only within ε of the data: alp.yaml's ε ∈ [0.01, 1] fits the toys, but
# a real and a generated digit lie about 8 apart, and with it the first digits run's
# critic estimated 714 against an exact W1 of 8.2 (final FID 44.6 × its floor). On
# images, Terjék's own pixel-space range, [0.1, 10].
IMAGE_PENALTY = {"alp": {"init_args": {"epsilon_min": 0.1, "epsilon_max": 10.0}}}


def image_penalty(name: str) -> list[str]:
    """The config, if any, that sets regularizer ``name``'s penalty to the scale of images."""
    return [flow({"model": {"init_args": {"penalty": IMAGE_PENALTY[name]}}})] if name in IMAGE_PENALTY else []


class Grid:
    def __init__(self, regularizers: list[str], seeds: list[int], extra: list[str]) -> None:
        self.regularizers, self.seeds, self.extra = regularizers, seeds, extra


FULL = Grid([n for n in ORDER if n != "none"], [0], [])
QUICK = Grid(["lp", "torchlip"], [0], ["--generator_steps=20", "--eval_every=10", "--model.generator.init_args.width=8",
                                       "--model.critic.init_args.width=8"])
RUN_ARGS = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--monitor=null"]


def finished_runs(table: RunTable, grid: Grid = FULL) -> int:
    """The grid's runs finished in ``table`` (not those of a setting it has since changed)."""
    return sum(current(r) for r in collect(table, ["digits"]))


def total_runs(grid: Grid = FULL) -> int:
    """All the grid's runs."""
    return len(grid.regularizers) * len(grid.seeds)


def configs(name: str) -> list[str]:
    out = [TASK, regularizer_config(name)]
    if name in IMAGE_CRITIC:
        out.append(flow({"model": {"init_args": {"critic": IMAGE_CRITIC[name]}}}))
    return out + image_penalty(name)


def sweep(grid: Grid) -> dict[str, Any]:
    return {"program": "train.py", "method": "grid",
            "parameters": {"config": {"values": [configs(n) for n in grid.regularizers]}, "seed_everything": {"values": grid.seeds}}}


def describe(row: dict[str, Any]) -> str:
    return next(n for n in REGULARIZERS if regularizer_config(n) in row["config"])


def current(row: dict[str, Any]) -> bool:
    """Whether a run has its regularizer's settings of today's grid (rows of a setting since
    changed stay in the table, and in the report apart)."""
    return row["config"] == configs(describe(row))


def markdown(rows: list[dict[str, Any]], speed: dict[str, float] | None = None) -> str:
    """The table; ``speed``: each regularizer's critic steps/s relative to none, measured
    side by side (``bench.py --regularizers --digits``), where measured."""
    speed = speed or {}
    lines = ["| regularizer | λ | seeds | final FID | FID / floor | best FID (step) | estimate / exact W1 | critic steps/s in the run | "
             "critic steps/s vs none |", "|---|---|---|---|---|---|---|---|---|"]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_name.setdefault(describe(r), []).append(r["summary"])
    for name in (n for n in ORDER if n in by_name):
        runs = by_name[name]
        fid = [final(s, "fid") for s in runs]
        best = min(((h["fid"], h["step"]) for s in runs for h in s["history"] if "fid" in h), default=(math.nan, None))
        lam = gan_lambda(name)
        lines.append(f"| {name} | {'-' if lam is None else f'{lam:g}'} | {len(runs)} | {statistics.mean(fid):.2f} | "
                     f"{statistics.mean(f / s['fid_floor'] for f, s in zip(fid, runs, strict=True)):.2f} | {best[0]:.2f} ({best[1]}) | "
                     f"{statistics.mean(final(s, 'w1_critic') / final(s, 'w1_exact') for s in runs):.3g} | "
                     f"{statistics.mean(s['critic_steps_per_s'] for s in runs):.1f} | "
                     f"{f'{speed[name]:.2f}' if name in speed else '-'} |")
    return "\n".join(lines) + "\n"


HEADER = """# Every regularizer on the digits

Generated by `python -m lightning_wgan.experiments.digits` from `{table}` ({runs} runs):
`conf/images/digits.yaml` with each regularizer at its config's default λ. Final FID:
the mean over the last {last} evaluations (every 250 generator steps) of the classifier
FID of 1000 generated images against the held-out images; its floor is the FID of
training images against the same held-out ones. Estimate / exact W1: the critic's
mean D(real) − mean D(fake) over the exact W1 between the same images, over the last
{last} evaluations; by duality no 1-Lipschitz critic exceeds 1 there, and a zero-centred
penalty's critic is not meant to reach it. Critic steps/s in the run: each run's
own, as it shared the 2 cores with the other grids (noisy). Critic steps/s vs none: the
digits' configs trained side by side with no regularizer, alternating, in one process
({speed}).
"""


def report(rows: list[dict[str, Any]], results: Path, source: Path, speed_path: Path | None = None) -> str:
    speed, how = load_speed(speed_path or results / SPEED, "--digits")
    now, earlier = [], []
    for r in rows:
        (now if current(r) else earlier).append(r)
    text = HEADER.format(table=shown(source), runs=len(now), last=LAST_EVALUATIONS, speed=how) + "\n" + markdown(now, speed)
    if earlier:
        text += (f"\n## Runs of earlier settings\n\nKept in the table, left out of the grid and of the cross-table: their "
                 f"regularizer's settings on images have changed since ({', '.join(sorted({describe(r) for r in earlier}))}: "
                 f"see `IMAGE_PENALTY` in `lightning_wgan/experiments/digits.py` for why).\n\n" + markdown(earlier))
    results.mkdir(parents=True, exist_ok=True)
    (results / "digits.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = driver_arguments("Every regularizer in GAN training on the digits, classifier FID against its floor.",
                              quick="two regularizers, tiny networks, 20 generator steps",
                              results="docs/results, or the runs folder for --quick")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    runs, table, results = places("digits", args)
    if not args.report:
        record_machine(args, "digits")
        run_sweep(sweep(grid), runs / "digits", [*RUN_ARGS, *grid.extra], jobs=args.jobs, in_process=True, table=table.path)
    rows = collect(table, ["digits"])
    report(rows, results, table.path)
    print(f"results: {results / 'digits.md'} ({sum(map(current, rows))} runs of the grid's settings)")


if __name__ == "__main__":
    run_main(main)
