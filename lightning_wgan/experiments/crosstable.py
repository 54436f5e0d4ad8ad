"""Does the better optimal-transport critic make the better generator? Each regularizer's
critic fidelity on the funnel pairs beside its generator's quality in GAN training, at
the same λ.

    python -m lightning_wgan.experiments.crosstable    # docs/results/crosstable.md and .png from the three tables

Critic fidelity: the mean over the family grid's tuning pairs
(:mod:`~lightning_wgan.experiments.family`, critic-only) of the cosine between ∇D and
the optimal ∇f*, and of estimate / W1, at the λ the GAN trained with (each config's
default; GP and LP at 10). Generator quality: the convergence grid's runs
(:mod:`~lightning_wgan.experiments.convergence`, PyTorch's default initialization) on
8gaussians and 25gaussians: the final exact W1 over the noise floor and the generator
steps until W1 is below twice the floor, per seed; and the digits runs
(:mod:`~lightning_wgan.experiments.digits`): the final classifier FID over its floor. Per
data set, Spearman's rank correlation across regularizers between each critic measure
(the cosine; the estimate's distance from W1, |log(estimate / W1)|) and each generator
measure (final quality / floor; steps to 2× the floor), with a bootstrap interval that
redraws each regularizer's seeds and tuning pairs. Nothing here trains: it reads ``docs/results/family.jsonl``,
``convergence.jsonl`` and ``digits.jsonl``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lightning_wgan.experiments import convergence, digits, family  # noqa: E402
from lightning_wgan.experiments.common import LAST_EVALUATIONS, RESULTS, final, load_speed  # noqa: E402
from lightning_wgan.plots import save_figure  # noqa: E402
from lightning_wgan.sweep import RunTable, collect  # noqa: E402

NAMES = {"GP": "gp", "LP": "lp"}  # the convergence grid's names for them → the family's
DRAWS = 2000  # bootstrap draws
GAN_SPEED = convergence.GAN_SPEED


def critics(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """regularizer → the cosine and estimate / W1 on each tuning pair, at its GAN λ."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"cos": [], "ratio": [], "log_error": []})
    for r in rows:
        d = family.describe(r)
        if d["tuning"] and d["value"] == family.gan_lambda(d["regularizer"]):
            ratio = r["summary"]["ratio"]
            out[d["regularizer"]]["cos"].append(r["summary"]["grad_cos"])
            out[d["regularizer"]]["ratio"].append(ratio)
            # how far the estimate is from W1, by the factor it is off in either direction
            out[d["regularizer"]]["log_error"].append(abs(math.log(ratio)) if ratio > 0 else math.inf)
    return dict(out)


def generators(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(data set, regularizer) → per seed, the final W1 / floor and the generator steps to
    2× the floor (inf for never), for the runs at the default initialization and GAN λ."""
    out: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: {"quality": [], "steps": []})
    for r in rows:
        d = convergence.describe(r)
        name = NAMES.get(d["penalty"], d["penalty"])
        s = r["summary"]
        lam = s.get("clip_value") if name == "clip" else d["λ"]  # clipping: c (0.01 in conf/toy), with RMSprop as in its paper
        if d["init"] != "default" or name not in family.REGULARIZERS or lam != family.gan_lambda(name):
            continue
        steps = convergence.time_to_floor(s)
        out[(d["dataset"], name)]["quality"].append(final(s, "w1_exact") / s["noise_floor"])
        out[(d["dataset"], name)]["steps"].append(math.inf if steps is None else steps)
    return dict(out)


def images(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """("digits", regularizer) → per seed, the final classifier FID over its floor (runs of
    the grid's settings only)."""
    out: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: {"quality": [], "steps": []})
    for r in filter(digits.current, rows):
        out[("digits", digits.describe(r))]["quality"].append(final(r["summary"], "fid") / r["summary"]["fid_floor"])
    return dict(out)


def measure(dataset: str) -> str:
    return "FID / floor" if dataset == "digits" else "W1 / floor"


# The critic's fidelity and the generator's quality that the rank correlations pair up:
# (key, name, the sign of ρ that says "the more faithful critic, the better generator").
CRITIC_MEASURES = (("cos", "funnel cosine", "< 0"), ("log_error", "funnel \\|log(estimate / W1)\\|", "> 0"))
GENERATOR_MEASURES = (("quality", "final quality / floor"), ("steps", "steps to 2× floor"))


def rank_correlation(critic: dict[str, dict[str, list[float]]], gan: dict[str, dict[str, list[float]]],
                     draws: int = DRAWS, seed: int = 0, critic_key: str = "cos",
                     gan_key: str = "quality") -> tuple[float, float, float, int]:
    """Spearman's ρ between a critic measure's mean (``critic_key``: the cosine, or the
    estimate's |log(estimate / W1)|) and a generator measure's mean (``gan_key``: final
    quality / floor, or steps to 2× floor, inf for never) over the regularizers both have,
    and the 5th and 95th percentiles of ρ when each regularizer's seeds and tuning pairs
    are redrawn with replacement; the number of regularizers."""
    names = sorted(n for n in set(critic) & set(gan) if critic[n].get(critic_key) and gan[n].get(gan_key))
    if len(names) < 3:
        return math.nan, math.nan, math.nan, len(names)

    def means(pick: Any) -> tuple[list[float], list[float]]:
        return ([statistics.mean(pick(critic[n][critic_key])) for n in names],
                [statistics.mean(pick(gan[n][gan_key])) for n in names])

    rng = random.Random(seed)
    drawn = [means(lambda xs: rng.choices(xs, k=len(xs))) for _ in range(draws)]
    boot = np.sort(spearman_rows(np.array([x for x, _ in drawn]), np.array([y for _, y in drawn])))
    boot = boot[np.isfinite(boot)]
    xs, ys = means(lambda xs: xs)
    rho = float(spearman_rows(np.array([xs]), np.array([ys]))[0])
    if not len(boot):
        return rho, math.nan, math.nan, len(names)
    return rho, float(boot[int(0.05 * (len(boot) - 1))]), float(boot[int(0.95 * (len(boot) - 1))]), len(names)


def spearman_rows(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Spearman's ρ of each row of ``xs`` with the same row of ``ys``, as
    ``scipy.stats.spearmanr`` gives it (average ranks for ties; inf ranks last), for all
    the bootstrap's draws at once (one scipy call each took a minute a report); nan where
    a row is one value throughout, which has no ranks to correlate."""
    rx, ry = stats.rankdata(xs, axis=1), stats.rankdata(ys, axis=1)
    rx, ry = rx - rx.mean(axis=1, keepdims=True), ry - ry.mean(axis=1, keepdims=True)
    scale = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    return np.divide((rx * ry).sum(axis=1), scale, out=np.full(len(scale), np.nan), where=scale > 0)


def measured(gan: dict[tuple[str, str], dict[str, list[float]]], dataset: str, key: str) -> bool:
    """Whether any run on ``dataset`` measured ``key`` (the digits have no steps to the floor)."""
    return any(g.get(key) for (d, _), g in gan.items() if d == dataset)


def correlations(critic: dict[str, dict[str, list[float]]], gan: dict[tuple[str, str], dict[str, list[float]]]) -> list[str]:
    """The rank-correlation table: each data set × critic measure × generator measure."""
    lines = ["| data set | critic | generator | regularizers | Spearman ρ | 90 % bootstrap interval | "
             "better critic, better generator if ρ |", "|---|---|---|---|---|---|---|"]
    for ds in sorted({ds for ds, _ in gan}):
        by_name = {name: g for (d, name), g in gan.items() if d == ds}
        for gan_key, gan_name in GENERATOR_MEASURES:
            if not measured(gan, ds, gan_key):
                continue
            for critic_key, critic_name, sign in CRITIC_MEASURES:
                rho, lo, hi, n = rank_correlation(critic, by_name, critic_key=critic_key, gan_key=gan_key)
                head = f"| {ds} | {critic_name} | {gan_name} | {n} |"
                if n < 3:  # a rank correlation of two points is ±1 whatever they are
                    lines.append(f"{head} - (needs 3 regularizers with both) | - | {sign} |")
                elif math.isnan(rho):
                    lines.append(f"{head} - (one value for all of them) | - | {sign} |")
                else:
                    lines.append(f"{head} {rho:+.2f} | {lo:+.2f} to {hi:+.2f} | {sign} |")
    return lines


def spread(values: list[float], digits: int = 3) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "never" if values else "-"
    # scores as the family's tables print them (huge estimates in three figures); counts whole
    show = (lambda v: f"{v:.0f}") if digits == 0 else (lambda v: family.num(v, digits))
    text = show(statistics.mean(finite)) + (f" ± {show(statistics.stdev(finite))}" if len(finite) > 1 else "")
    return text + (f" ({len(values) - len(finite)} never)" if len(finite) < len(values) else "")


def markdown(critic: dict[str, dict[str, list[float]]], gan: dict[tuple[str, str], dict[str, list[float]]],
             speed: dict[str, float] | None = None) -> str:
    """The cross-table; ``speed``: each regularizer's critic steps/s in GAN training
    relative to none (``bench.py --regularizers --gan``), where measured."""
    datasets = sorted({ds for ds, _ in gan})
    names = [n for n in family.ORDER if n in critic or any((ds, n) in gan for ds in datasets)]
    speed = speed or {}
    # (data set, key, heading) of each measure some run on it has
    columns = [(ds, key, f"{ds}: {measure(ds) if key == 'quality' else 'steps to 2× floor'}") for ds in datasets
               for key in ("quality", "steps") if measured(gan, ds, key)]
    lines = ["| regularizer | λ | funnel cosine | funnel estimate / W1 | " + " | ".join(c[2] for c in columns)
             + " | toy GAN speed vs none |", "|" + "---|" * (5 + len(columns))]
    for n in names:
        c = critic.get(n, {"cos": [], "ratio": []})
        cells = [spread(c["cos"]), spread(c["ratio"], 2)]
        for ds, key, _ in columns:
            cells.append(spread(gan.get((ds, n), {key: []})[key], 2 if key == "quality" else 0))
        lam = family.gan_lambda(n)
        cells.append(f"{speed[n]:.2f}" if n in speed else "-")
        lines.append(f"| {n} | {'-' if lam is None else f'{lam:g}'} | " + " | ".join(cells) + " |")
    lines += ["", *correlations(critic, gan)]
    return "\n".join(lines) + "\n"


def figure(critic: dict[str, dict[str, list[float]]], gan: dict[tuple[str, str], dict[str, list[float]]], path: Path) -> None:
    """Final W1 / floor against funnel cosine, one point per regularizer (the mean; bars:
    the range over seeds and over tuning pairs), one panel per data set."""
    datasets = sorted({ds for ds, _ in gan})
    if not datasets or not critic:
        return
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4.5), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        for i, n in enumerate(family.ORDER):
            if n not in critic or (ds, n) not in gan:
                continue
            x, y = critic[n]["cos"], gan[(ds, n)]["quality"]
            mx, my = statistics.mean(x), statistics.mean(y)
            ax.errorbar([mx], [my], xerr=[[mx - min(x)], [max(x) - mx]], yerr=[[my - min(y)], [max(y) - my]], fmt="o",
                        color=plt.cm.tab20(i / 20), capsize=2)
            ax.annotate(n, (mx, my), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_yscale("log")
        ax.axhline(2.0, color="black", lw=0.8, ls="--")
        ax.set_xlabel("critic: cosine of ∇D and ∇f* (funnel tuning pairs)")
        ax.set_ylabel(f"generator: final {'classifier FID' if ds == 'digits' else 'exact W1'} / its floor")
        ax.set_title(f"{ds}: better critic (right) vs closer generator (down)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


HEADER = """# Critic fidelity against generator quality

Generated by `python -m lightning_wgan.experiments.crosstable` from `{family}` ({critic_runs}
critic-only runs on the funnel tuning pairs at the GAN's λ), `{convergence}` and
`{digits}` ({gan_runs} GAN runs at PyTorch's default initialization and the same λ).
Funnel: mean ± sd over the tuning pairs. GAN: mean ± sd over seeds of the final exact W1
(the mean of the last {last} evaluations) over the noise floor and of the generator steps
until W1 fell below twice the floor; on the digits, the final classifier FID over its
floor. The rank correlations pair each critic measure with each generator measure
across regularizers (quality: W1 or FID over its floor); the last column says which sign
of ρ means that the more faithful critics (a higher cosine, an estimate closer to W1)
train the closer or faster generators. Toy GAN speed: critic steps/s in GAN training at
the reference settings relative to no regularizer, measured side by side in one run
({speed}); the digits' own are in digits.md.
"""


def report(family_rows: list[dict[str, Any]], gan_rows: list[dict[str, Any]], results: Path, sources: tuple[Path, ...],
           image_rows: list[dict[str, Any]] | None = None, speed_path: Path = RESULTS / GAN_SPEED) -> str:
    critic, gan = critics(family_rows), {**generators(gan_rows), **images(image_rows or [])}
    speed, how = load_speed(speed_path, "--gan")
    head = HEADER.format(family=sources[0].name, convergence=sources[1].name, digits=sources[-1].name,
                         critic_runs=sum(len(c["cos"]) for c in critic.values()),
                         gan_runs=sum(len(g["quality"]) for g in gan.values()), last=LAST_EVALUATIONS, speed=how)
    text = head + "\n" + markdown(critic, gan, speed)
    results.mkdir(parents=True, exist_ok=True)
    (results / "crosstable.md").write_text(text)
    figure(critic, gan, results / "crosstable.png")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Critic fidelity on the funnel pairs against generator quality in GAN training.")
    parser.add_argument("--family", default=str(RESULTS / "family.jsonl"), help="the family grid's table")
    parser.add_argument("--convergence", default=str(RESULTS / "convergence.jsonl"), help="the GAN grid's table")
    parser.add_argument("--digits", default=str(RESULTS / "digits.jsonl"), help="the digits grid's table")
    parser.add_argument("--speed", default=str(RESULTS / GAN_SPEED), help="bench.py --regularizers --gan --save's ratios")
    parser.add_argument("--results", default=str(RESULTS), help="where crosstable.md and .png go")
    args = parser.parse_args(argv)
    sources = Path(args.family), Path(args.convergence), Path(args.digits)
    family_rows = collect(RunTable(sources[0]), family.sweeps(family.FULL))
    gan_rows = collect(RunTable(sources[1]), convergence.SWEEPS)
    report(family_rows, gan_rows, Path(args.results), sources, collect(RunTable(sources[2]), ["digits"]), Path(args.speed))
    print(f"results: {Path(args.results) / 'crosstable.md'}")


if __name__ == "__main__":
    main()
