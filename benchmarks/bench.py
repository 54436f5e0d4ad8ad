"""Speed of the template against a plain PyTorch loop doing identical math.

    python benchmarks/bench.py            # about 3 minutes on a 2-core CPU
    python benchmarks/bench.py --quick    # a smoke run
    python benchmarks/bench.py --breakdown  # the tiny template with and without its callbacks
    python benchmarks/bench.py --regularizers  # each regularizer's critic step against none
    python benchmarks/bench.py --regularizers --gan --save  # the same in GAN training (docs/results/gan_speed.json)
    python benchmarks/bench.py --regularizers --digits --save  # ... on the digits (docs/results/digits_speed.json)
    python benchmarks/bench.py --regularizers --pair d8_w16 --save  # on a funnel pair (docs/results/funnel_speed.json)
    python benchmarks/bench.py --candidates  # each strongest-critic candidate's step against the first (LP 256×3)
    python benchmarks/bench.py --funnels  # a funnel pair's training batch against the critic step that includes it
    python benchmarks/bench.py --trajectory gp 0.1 normal 0 3000 --save  # the plain loop's exact W1 over training
    python benchmarks/bench.py --sharing  # processes × threads on this machine's cores, as sweeps share them

Measures, side by side in one process:
  a. critic steps/s of the template's real training path (WGANCLI: Trainer, default
     callbacks, wandb offline) against a plain loop with the same networks, batch,
     penalty, sampler and n_critic, at the toy reference size (width 512, batch 256)
     and a tiny size (width 64, batch 64) where framework overhead dominates;
  b. the critic step's cost with LP and GP against no penalty (plain loop);
  c. the exact-W1 metric's time against n;
  d. peak memory.
Each pair is measured in alternation, several rounds, and the median kept. The last
line printed is one JSON object with the ratios.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytorch_lightning as pl
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from lightning_wgan.cli import WGANCLI  # noqa: E402
from lightning_wgan.data import make_distribution  # noqa: E402
from lightning_wgan.metrics import exact_w1  # noqa: E402
from lightning_wgan.networks import MLPCritic, MLPGenerator  # noqa: E402

SIZES = {"toy": (512, 256), "tiny": (64, 64)}
RESULTS = REPO / "docs" / "results"  # where --save keeps a measurement, under the name its reader gives


def experiment(name: str, mode: str) -> ModuleType:
    """The experiment module ``name`` that ``mode`` measures for; a lean fork has deleted
    the experiments, and the template's own measurements do not need them."""
    try:
        return importlib.import_module(f"lightning_wgan.experiments.{name}")
    except ModuleNotFoundError:
        raise SystemExit(f"error: {mode} measures for lightning_wgan.experiments.{name}, which this checkout does not have") from None
# The default run without its optional callbacks (the always-on ones stay).
NO_OPTIONAL_CALLBACKS = ["--sample_plot", "null", "--monitor", "null"]


def plain_loop(width: int, batch: int, steps: int, penalty: str = "lp", n_critic: int = 5, lam: float = 10.0,
               init: str = "default", seed: int = 0, trajectory: dict[int, float] | None = None, every: int = 500,
               warmup: int | None = None, stream: Iterable[torch.Tensor] | None = None,
               networks: tuple[torch.nn.Module, torch.nn.Module] | None = None) -> float:
    """Critic steps/s of a hand-written loop: the template's math, nothing else.

    With ``trajectory`` (a dict to fill), it also records the exact W1 between 2000
    generated points and the held-out sample the template evaluates on, every ``every``
    generator steps: the reference algorithm's trajectory without Lightning, to tell the
    template's behaviour from the algorithm's. ``warmup`` steps (default a tenth) run
    before the clock starts. ``stream`` replaces the loop's own real batches and
    ``networks`` (generator, critic; trained in place) its own networks: a test gives it
    the template's, to compare the two step for step.
    """
    torch.manual_seed(seed)
    gen, critic = networks or (MLPGenerator(width=width, init=init), MLPCritic(width=width, init=init))
    g_opt = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.5, 0.9))
    d_opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    data, rng = make_distribution("8gaussians"), torch.Generator().manual_seed(seed)
    held_out = data.sample(2000, torch.Generator().manual_seed(2018)) if trajectory is not None else None  # ToyDataModule's val_seed
    warmup = max(steps // 10, 5) if warmup is None else warmup
    batches = iter(stream) if stream is not None else None
    for step in range(steps + warmup):
        if step == warmup:
            start = time.perf_counter()
        real = next(batches) if batches is not None else data.sample(batch, rng)
        with torch.no_grad():
            fake = gen(torch.randn(batch, 2))
        scores = critic(torch.cat([real, fake]))
        loss = scores[batch:].mean() - scores[:batch].mean()
        if penalty != "none":
            alpha = torch.rand(batch, 1)
            points = torch.lerp(fake, real, alpha).requires_grad_(True)
            (grad,) = torch.autograd.grad(critic(points).sum(), points, create_graph=True)
            norms = (grad.flatten(1).square().sum(1) + 1e-12).sqrt()
            form = torch.relu(norms - 1) if penalty == "lp" else norms - 1
            loss = loss + lam * form.square().mean()
        d_opt.zero_grad(set_to_none=True)
        loss.backward()
        d_opt.step()
        if (step + 1) % n_critic == 0:
            for p in critic.parameters():
                p.requires_grad_(False)
            g_loss = -critic(gen(torch.randn(batch, 2))).mean()
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()
            for p in critic.parameters():
                p.requires_grad_(True)
            if trajectory is not None and ((step + 1) // n_critic) % every == 0:
                with torch.no_grad():
                    trajectory[(step + 1) // n_critic] = exact_w1(gen(torch.randn(2000, 2)), held_out)
    return steps / (time.perf_counter() - start)


def reference_trajectory(penalty: str, lam: float, init: str, seed: int, generator_steps: int, save: bool = False) -> None:
    """The toy reference algorithm (width 512, batch 256, n_critic 5, Adam 1e-4 (0.5, 0.9))
    as the plain loop, printing the exact W1 every 500 generator steps; with ``save``, also
    kept in docs/results/plain_loop.json for the reference comparison of docs/results.md."""
    trajectory: dict[int, float] = {}
    plain_loop(512, 256, 5 * generator_steps, penalty, 5, lam, init, seed, trajectory, every=min(500, generator_steps), warmup=0)
    print(f"plain loop, {penalty.upper()} λ {lam:g}, {init} init, seed {seed}: exact W1 by generator step")
    print(json.dumps({k: round(v, 3) for k, v in sorted(trajectory.items())}))
    if save:
        experiment("convergence", "--trajectory --save").save_plain_loop(penalty, lam, init, seed, trajectory)


class StepTimer(pl.Callback):
    """Times critic steps after a warm-up, inside the real Trainer; with ``out``, rank 0
    writes ``{"rate": steps/s}`` there."""

    def __init__(self, warmup: int, out: str | None = None) -> None:
        self.warmup = warmup
        self.out = out

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if pl_module.critic_steps == self.warmup:
            self.start, self.start_step = time.perf_counter(), pl_module.critic_steps

    def on_train_end(self, trainer, pl_module) -> None:
        self.rate = (pl_module.critic_steps - self.start_step) / (time.perf_counter() - self.start)
        if self.out and trainer.is_global_zero:
            Path(self.out).write_text(json.dumps({"rate": self.rate}))


def config_flags(configs: Iterable[str]) -> list[str]:
    """``--config`` for each of ``configs``: a file in the repository, or inline YAML (the
    digits' deel-torchlip critic, a funnel pair's critic)."""
    return [arg for c in configs for arg in ("--config", str(REPO / c) if c.endswith(".yaml") else c)]


def template(width: int | None, batch: int | None, steps: int, n_critic: int = 5, monitor: bool = True,
             extra: list[str] | None = None, configs: Iterable[str] = ()) -> float:
    """Critic steps/s of `python train.py` with the default config, or ``configs`` on top
    of it (no evaluation); at ``width`` and ``batch``, or (None) at the configs' own."""
    warmup = max(steps // 10, 5)
    generator_steps = (steps + warmup) // n_critic
    timer = StepTimer(warmup)
    size = [] if width is None or batch is None else [
        "--model.generator.init_args.width", str(width), "--model.critic.init_args.width", str(width),
        # The fit ends with an evaluation, outside the timed steps: a small held-out
        # sample keeps its exact-W1 solves from costing seconds (2000 points: ~3 s).
        "--data.init_args.batch_size", str(batch), "--data.init_args.val_size", "200"]
    with tempfile.TemporaryDirectory() as tmp:
        WGANCLI(
            args=[
                "fit", *config_flags(configs), *([] if monitor else ["--monitor", "null"]),
                "--generator_steps", str(generator_steps), "--eval_every", str(10**9), *size, "--run_dir", str(Path(tmp) / "run"),
                "--trainer.enable_progress_bar", "true", "--trainer.enable_model_summary", "false", *(extra or []),
            ],
            trainer_defaults={"callbacks": [timer]},
        )
    return timer.rate


EASY = ("conf/estimate/gaussian_scale.yaml", ("--data.dim", "32", "--model.critic.init_args.data_dim", "32",
                                               "--data.init_args.eval_size=1000"))  # the regularizer benchmark's d = 32


def critic_only(configs: Iterable[str], steps: int, extra: Iterable[str] = ()) -> float:
    """Critic steps/s of a critic-only run of ``configs`` (files, or inline YAML), in
    order, with the regularizer benchmark's run arguments."""
    timer = StepTimer(max(steps // 10, 5))
    run_args = experiment("benchmark", "--regularizers").RUN_ARGS
    with tempfile.TemporaryDirectory() as tmp:
        WGANCLI(
            args=["fit", *config_flags(configs), *extra, "--critic_steps", str(steps + timer.warmup), *run_args,
                  "--trainer.enable_model_summary=false", "--run_dir", str(Path(tmp) / "run")],
            trainer_defaults={"callbacks": [timer]},
        )
    return timer.rate


# Funnel pairs from the easiest to the dearest move (the cost grows with d × K).
FUNNEL_PAIRS = [(2, 4), (2, 256), (32, 64), (128, 4), (128, 256)]


def funnel_sampling(steps: int, draws: int = 20) -> None:
    """What drawing a training batch of a funnel pair (P, and the moved points of Q, as
    the runs draw them, in the training process) costs beside the whole critic-only step
    of the published protocol that includes it (LP, as conf/estimate/funnels.yaml)."""
    from lightning_wgan.data import Funnels, PairDataModule

    funnels = experiment("funnels", "--funnels")
    result: dict[str, float] = {}
    print(f"{'funnel pair, published protocol (LP)':44s} {'batch ms':>10s} {'step ms':>10s} {'share':>7s}")
    for d, k in FUNNEL_PAIRS:
        data = PairDataModule(dataset="cube", dim=d, transform=Funnels(pair=f"d{d}_w{k}"), batch_size=1024)
        gen = torch.Generator().manual_seed(0)
        data.sample_train(1024, gen)  # the funnels load
        start = time.perf_counter()
        for _ in range(draws):
            data.sample_train(1024, gen)
        batch = (time.perf_counter() - start) / draws
        step = 1 / critic_only([funnels.TASK, funnels.cell_config(d, k)], steps)
        result[f"d{d}_w{k}"] = round(batch / step, 3)  # the batch's share of the step
        print(f"{f'd {d}, K {k}':44s} {1000 * batch:10.2f} {1000 * step:10.2f} {batch / step:7.3f}")
    print(json.dumps(result))


def regularizers(steps: int, rounds: int, pair: str | None = None, save: bool = False) -> None:
    """Each regularizer's critic step against none, side by side (alternating, medians):
    on the easy tasks' d = 32, or under the published protocol on the funnel ``pair``
    (as the family grid trains there; with ``save`` kept in the file the funnel reports read)."""
    result = {}
    bench = experiment("benchmark", "--regularizers")
    if pair is None:
        task, extra, where = [EASY[0]], EASY[1], "critic-only, d = 32"
        cell: list[str] = []
    else:
        funnels = experiment("funnels", "--regularizers --pair")
        d, k = (int(n) for n in pair[1:].split("_w"))
        task, extra, where, cell = [funnels.TASK], (), f"funnel pair {pair}", [funnels.cell_config(d, k)]
    print(f"{'critic steps/s, ' + where:44s} {'with':>10s} {'none':>10s} {'ratio':>7s}")
    none = [*task, bench.regularizer_config("none"), *cell]
    rates: list[float] = []
    for name in bench.REGULARIZERS:
        if name == "none":
            continue
        with_it = [*task, bench.regularizer_config(name), *cell]
        t, p, r = median_ratio(lambda c=with_it: critic_only(c, steps, extra), lambda: critic_only(none, steps, extra), rounds)
        result[name] = round(r, 3)
        rates.append(p)
        print(f"{name:44s} {t:10.1f} {p:10.1f} {r:7.3f}")
    print(json.dumps(result))
    if save and pair is not None:
        path = RESULTS / funnels.FUNNEL_SPEED
        kept = json.loads(path.read_text()) if path.exists() else {}
        kept[pair] = speed_record(result, rates, rounds, steps)
        path.write_text(json.dumps(kept, indent=1) + "\n")
        print(f"kept in {path}")


def candidates(steps: int, rounds: int) -> None:
    """Each candidate of the strongest-critic grid (its regularizer and critic size) against
    the first, LP at 256 × 3, side by side on a tuning pair (d 16, K 256): what a
    candidate's critic step costs, as a ratio that holds across machines. Candidates
    that differ only in run length take the same step and are measured once."""
    strongest = experiment("strongest", "--candidates")
    d, k = strongest.FULL.tuning[1]

    def step_of(c: Any) -> tuple[list[str], str]:
        """The candidate's configs and name, the run length left out of both."""
        return c.configs([(d, k)], strongest.TUNING_SEED)[0][:-1], c.name.rsplit(",", 1)[0]

    (base, base_name), *others = [step_of(c) for c in strongest.CANDIDATES]
    print(f"{f'critic steps/s, funnel pair d {d}, K {k}':44s} {'it':>10s} {base_name:>10s} {'ratio':>7s}")
    result, measured = {}, [base]
    for configs, name in others:
        if configs in measured:
            continue
        measured.append(configs)
        t, p, r = median_ratio(lambda c=configs: critic_only(c, steps), lambda: critic_only(base, steps), rounds)
        result[name] = round(r, 3)
        print(f"{name:44s} {t:10.1f} {p:10.1f} {r:7.3f}")
    print(json.dumps(result))


def speed_record(result: dict[str, float], none_rates: list[float], rounds: int, steps: int) -> dict[str, Any]:
    """What --save keeps of a side-by-side measurement: the ratios, none's median speed,
    and how they were measured."""
    return {"speed_vs_none": result, "none_steps_per_s": round(statistics.median(none_rates), 1), "rounds": rounds, "steps": steps,
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "command": "python benchmarks/bench.py " + " ".join(sys.argv[1:])}


def gan_regularizers(steps: int, rounds: int, save: bool, digits: bool = False) -> None:
    """Each regularizer's critic step in GAN training against none, side by side: as the
    convergence grid trains it (its configs, the reference size, no monitor), or with
    ``digits`` as the digits grid does (its configs at their own sizes)."""
    if digits:
        grid = experiment("digits", "--regularizers --digits")
        names, configs_of, size, where, file = grid.FULL.regularizers, grid.configs, (None, None), "digits, DCGAN", grid.SPEED
    else:
        grid = experiment("convergence", "--regularizers --gan")
        names, configs_of, size = ["gp", "lp", "clip", *grid.FAMILY], grid.gan_configs, SIZES["toy"]
        where, file = "reference size", grid.GAN_SPEED
    none = configs_of("none")
    result: dict[str, float] = {}
    rates: list[float] = []
    print(f"{'critic steps/s, GAN training, ' + where:44s} {'with':>10s} {'none':>10s} {'ratio':>7s}")
    for name in names:
        t, p, r = median_ratio(lambda c=configs_of(name): template(*size, steps, monitor=False, configs=c),
                               lambda: template(*size, steps, monitor=False, configs=none), rounds)
        result[name] = round(r, 3)
        rates.append(p)
        print(f"{name:44s} {t:10.1f} {p:10.1f} {r:7.3f}")
    print(json.dumps(result))
    if save:
        path = RESULTS / file
        path.write_text(json.dumps(speed_record(result, rates, rounds, steps), indent=1) + "\n")
        print(f"kept in {path}")


def median_ratio(fa, fb, rounds: int) -> tuple[float, float, float]:
    """Alternate a and b; the median rates and the median of per-round ratios."""
    a, b = [], []
    for _ in range(rounds):
        a.append(fa())
        b.append(fb())
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def sharing(steps: int) -> None:
    """The plain loop at the toy size in several processes at once, each with its own
    thread count, as a sweep's runs share the cores: critic steps/s per process and in
    all, for one process on every core, one thread per core, and twice as many of either.
    Torch's OpenMP threads spin while they wait for each other, so more threads than
    cores cost far more than their share."""
    import subprocess

    cores = os.cpu_count() or 1
    one = [sys.executable, __file__, "--plain_loop", str(steps)]
    print(f"{'processes × threads':24s} {'per process':>12s} {'in all':>8s}")
    result = {}
    for processes, threads in ((1, cores), (cores, 1), (cores, cores), (2 * cores, 1)):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        procs = [subprocess.Popen(one, stdout=subprocess.PIPE, text=True, env=env) for _ in range(processes)]
        rates = [float(proc.communicate()[0].split()[-1]) for proc in procs]
        result[f"{processes}x{threads}"] = round(sum(rates), 1)
        print(f"{f'{processes} × {threads}':24s} {statistics.mean(rates):12.1f} {sum(rates):8.1f}")
    print(json.dumps(result))


def breakdown(steps: int, rounds: int) -> None:
    """Where the tiny template's time goes: the same run without the config's callbacks
    (the progress bar stays), and without logger and progress bar too."""
    width, batch = SIZES["tiny"]
    variants = {
        "default config": [],
        "no optional callbacks": NO_OPTIONAL_CALLBACKS,
        "no optional callbacks, logger or progress bar": [
            *NO_OPTIONAL_CALLBACKS, "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
        ],
    }
    result = {}
    for label, extra in variants.items():
        t, p, r = median_ratio(lambda e=extra: template(width, batch, steps, extra=e), lambda: plain_loop(width, batch, steps), rounds)
        result[label] = round(r, 3)
        print(f"{'tiny template, ' + label:44s} {t:10.1f} {p:10.1f} {r:7.3f}")
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few steps, one round: a smoke run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="only: the tiny template with and without its callbacks")
    parser.add_argument("--regularizers", action="store_true", help="only: each regularizer's critic step against none")
    parser.add_argument("--trajectory", nargs=5, metavar=("PENALTY", "LAMBDA", "INIT", "SEED", "STEPS"),
                        help="only: the plain loop's exact-W1 trajectory, e.g. gp 0.1 normal 0 3000")
    parser.add_argument("--candidates", action="store_true",
                        help="only: each strongest-critic candidate's critic step against the first (LP 256×3)")
    parser.add_argument("--funnels", action="store_true", help="only: a funnel pair's training batch against the critic step")
    parser.add_argument("--pair", help="with --regularizers: under the published protocol on this funnel pair, e.g. d8_w16")
    parser.add_argument("--gan", action="store_true", help="with --regularizers: in GAN training, as the convergence grid trains")
    parser.add_argument("--digits", action="store_true", help="with --regularizers: in GAN training, as the digits grid trains")
    parser.add_argument("--sharing", action="store_true", help="only: processes × threads sharing the cores")
    parser.add_argument("--plain_loop", type=int, metavar="STEPS", help=argparse.SUPPRESS)  # one process of --sharing
    parser.add_argument("--save", action="store_true",
                        help="keep a --trajectory, or a --regularizers --gan, --digits or --pair measurement, in docs/results/")
    args = parser.parse_args()
    if (args.gan or args.digits or args.pair) and not args.regularizers:
        parser.error("--gan, --digits and --pair say where --regularizers measures; give them with --regularizers")
    if args.gan + args.digits + bool(args.pair) > 1:
        parser.error("--gan measures on the toy GAN, --digits on the digits GAN, --pair on a funnel pair: give one of them")
    if args.save and not (args.trajectory or args.gan or args.digits or args.pair):
        parser.error("--save keeps a --trajectory run, or a --regularizers --gan, --digits or --pair measurement; "
                     "give one of them with it")
    if args.trajectory:
        penalty, lam, init, seed, generator_steps = args.trajectory
        reference_trajectory(penalty, float(lam), init, int(seed), int(generator_steps), args.save)
        return
    if args.plain_loop:
        print(plain_loop(*SIZES["toy"], args.plain_loop))
        return
    if args.sharing:
        sharing(40 if args.quick else 300)
        return
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    rounds = 1 if args.quick else args.rounds
    steps = {"toy": 40 if args.quick else 400, "tiny": 100 if args.quick else 2000}
    torch.set_num_threads(torch.get_num_threads())

    result: dict[str, float] = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    if args.breakdown:
        breakdown(steps["tiny"], rounds)
        return
    if args.candidates:
        candidates(20 if args.quick else 100, 1 if args.quick else 2)
        return
    if args.funnels:
        funnel_sampling(30 if args.quick else 300)
        return
    if args.regularizers and (args.gan or args.digits):
        gan_regularizers(20 if args.quick else 200, rounds, args.save, args.digits)
        return
    if args.regularizers:
        regularizers(50 if args.quick else 500 if args.pair is None else 300, rounds, args.pair, args.save)
        return
    print(f"{'what':44s} {'template':>10s} {'plain':>10s} {'ratio':>7s}")
    for name, (width, batch) in SIZES.items():
        t, p, r = median_ratio(lambda w=width, b=batch, n=steps[name]: template(w, b, n),
                               lambda w=width, b=batch, n=steps[name]: plain_loop(w, b, n), rounds)
        result[f"template_vs_plain_{name}"] = round(r, 3)
        label = f"critic steps/s, LP, width {width} batch {batch}"
        print(f"{label:44s} {t:10.1f} {p:10.1f} {r:7.3f}")

    width, batch = SIZES["toy"]
    on, off, r = median_ratio(lambda: template(width, batch, steps["toy"]),
                              lambda: template(width, batch, steps["toy"], monitor=False), rounds)
    result["monitor_overhead"] = round(1 / r - 1, 3)
    print(f"{'template with / without GradNormMonitor':44s} {on:10.1f} {off:10.1f} {1 / r:7.3f}")

    for penalty in ("lp", "gp"):
        pen, none, r = median_ratio(lambda pe=penalty: plain_loop(width, batch, steps["toy"], pe),
                                    lambda: plain_loop(width, batch, steps["toy"], "none"), rounds)
        result[f"{penalty}_vs_none"] = round(1 / r, 3)  # time ratio
        print(f"{'step time ' + penalty.upper() + ' / none (plain, toy size)':44s} {pen:10.1f} {none:10.1f} {1 / r:7.3f}")

    g = torch.Generator().manual_seed(0)
    data = make_distribution("8gaussians")
    for n in (500, 1000, 2000, 4000) if not args.quick else (500, 2000):
        x, y = data.sample(n, g), data.sample(n, g) + 0.1
        start = time.perf_counter()
        exact_w1(x, y)
        seconds = time.perf_counter() - start
        result[f"w1_seconds_n{n}"] = round(seconds, 3)
        label = f"exact W1, n = {n}"
        print(f"{label:44s} {seconds:9.3f}s")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_rss_mb"] = round(peak_mb, 1)
    print(f"{'peak resident memory of this process':44s} {peak_mb:8.0f}MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
