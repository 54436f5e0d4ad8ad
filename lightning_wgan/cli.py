"""The command line: LightningCLI with run lengths in generator steps and one run
directory per run, holding everything the run leaves behind."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import yaml
from jsonargparse import Namespace
from lightning_fabric.utilities.exceptions import MisconfigurationException
from pytorch_lightning.accelerators import AcceleratorRegistry
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningCLI, SaveConfigCallback
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.strategies import DDPStrategy

from callbacks.monitor import GradNormMonitor
from callbacks.progress import ProgressBar
from callbacks.reliability import Checkpoint, FiniteGuard, Preemption, last_checkpoint
from callbacks.samples import SamplePlot
from callbacks.summary import Summary
from lightning_wgan.errors import ArgumentParser, ConfigError, NonFiniteError, root_message, unreadable_checkpoint
from lightning_wgan.estimate import CriticEstimator
from lightning_wgan.module import WGAN

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
DEFAULT_CONFIG = CONF_DIR / "default.yaml"
# Lightning's test and predict need test_step and predict_step, which the models do not
# have (a fork that adds them adds the subcommand here); building their parsers too
# would double the CLI's start-up.
SUBCOMMANDS = ("fit", "validate")
# Callbacks every run has, each under its own key (``--checkpoint.every_n_train_steps``).
ALWAYS_ON = {"checkpoint": Checkpoint, "summary": Summary, "finite_guard": FiniteGuard, "preemption": Preemption}
# Callbacks on by default, each under its own key; ``--monitor null`` switches one off.
OPTIONAL_DEFAULTS = {"sample_plot": SamplePlot, "monitor": GradNormMonitor}


def quiet_framework() -> None:
    """Silence framework output that says nothing about this run."""
    for pattern in (
        ".*does not have many workers.*",
        ".*is smaller than the logging interval.*",
        ".*`isinstance\\(treespec, LeafSpec\\)` is deprecated.*",
        ".*LeafSpec.*",
        ".*args parameter is intended to run from within Python.*",
        # Checkpoints are written between steps; the state after the step is the one to save.
        ".*Using ModelCheckpoint with manual optimization.*",
        ".*will save all extracted features in buffer.*",  # KID on a bounded held-out set
    ):
        warnings.filterwarnings("ignore", message=pattern)
    # Hardware and tips banners at start-up.
    for name in ("pytorch_lightning.utilities.rank_zero", "lightning.pytorch.utilities.rank_zero"):
        logging.getLogger(name).addFilter(
            lambda record: not any(s in record.getMessage() for s in ("available:", "Tip:", "litlogger", "litmodels"))
        )


def with_default_subcommand(args: list[str]) -> list[str]:
    """``train.py [options]`` means ``train.py fit [options]``."""
    if args and args[0] in SUBCOMMANDS:
        return args
    if args and args[0] in LightningCLI.subcommands():
        raise SystemExit(f"error: train.py {args[0]}: the models have no {args[0]} step; the subcommands are {', '.join(SUBCOMMANDS)}")
    return ["fit", *args]


def check_run_dir(run_dir: Path, ckpt_path: str | None, subcommand: str) -> None:
    """Refuse to write into the directory of another run (unless resuming it)."""
    artifacts = ("config.yaml", "summary.json", "checkpoints")
    if subcommand == "fit" and ckpt_path is None and any((run_dir / name).exists() for name in artifacts):
        raise SystemExit(
            f"error: run directory {run_dir} already holds a run; resume it with --ckpt_path last, or choose another --run_dir"
        )


def check_ckpt_path(ckpt_path: str | None, run_dir: Path | None) -> None:
    """Refuse a checkpoint that does not exist or cannot be read, before anything starts.
    ``last`` is the run directory's ``checkpoints/last.ckpt``."""
    if ckpt_path is None or ckpt_path in ("best", "hpc", "registry"):
        return
    if ckpt_path == "last":
        if run_dir is None:
            raise SystemExit("error: --ckpt_path last needs the run's --run_dir (or --config <run dir>/config.yaml)")
        path = last_checkpoint(run_dir)
    else:
        path = Path(ckpt_path)
    if not path.is_file():
        raise SystemExit(f"error: --ckpt_path {ckpt_path}: no checkpoint at {path}")
    if (problem := unreadable_checkpoint(path)) is not None:
        raise SystemExit(f"error: --ckpt_path {ckpt_path}: {path} is not a readable checkpoint ({problem})")


def check_accelerator(accelerator: Any) -> None:
    """Refuse an accelerator this machine lacks, or a name Lightning does not know, by the
    flag (Lightning's own errors come later, and for ``tpu`` as a traceback)."""
    if not isinstance(accelerator, str) or accelerator == "auto":
        return  # "auto", or an Accelerator instance a config built
    here = sorted(n for n in AcceleratorRegistry.available_accelerators() if AcceleratorRegistry[n]["accelerator"].is_available())
    names = ("cuda", "mps") if accelerator == "gpu" else (accelerator,)  # Lightning's "gpu" is either
    if not any(n in here for n in names):
        known = accelerator == "gpu" or accelerator in AcceleratorRegistry
        raise SystemExit(
            f"error: --trainer.accelerator {accelerator}: "
            + ("this machine has none" if known else "not an accelerator Lightning knows")
            + f"; available here: auto, {', '.join(here)}"
        )


def _import(class_path: str) -> Any:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _short_name(value: Any) -> str:
    """The ``name`` attribute of a configured class (e.g. ``lp``), else its class name."""
    if value is None:
        return "none"
    if isinstance(value, Namespace) and "class_path" in value:
        return str(getattr(_import(str(value.class_path)), "name", str(value.class_path).rpartition(".")[2]))
    return str(getattr(value, "name", type(value).__name__))


class SaveAndLogConfig(SaveConfigCallback):
    """Writes ``config.yaml`` into the run directory and logs the same resolved config
    to every logger (wandb shows it as the run's config)."""

    def save_config(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
        for logger in trainer.loggers:
            logger.log_hyperparams(config)


class WGANCLI(LightningCLI):
    """LightningCLI for :class:`~lightning_wgan.module.WGAN` with these additions:

    - ``--generator_steps G``: the run length. Lightning's ``max_steps`` counts the
      optimizer steps of critic and generator together, so it is set to
      ``G * (n_critic + 1)``, which ends the run right after the G-th generator step.
    - ``--eval_every K``: evaluate every K generator steps, and once more at the end.
    - ``--run_dir``: where the run's config, checkpoints, plots, logs and
      ``summary.json`` go; by default a new folder under ``runs/``.
    """

    def __init__(self, args: list[str] | None = None, run: bool = True, **kwargs: Any) -> None:
        quiet_framework()
        args = sys.argv[1:] if args is None else list(args)
        if run:  # without run there are no subcommands (LightningCLI(run=False))
            args = with_default_subcommand(args)
        defaults = {"default_config_files": [str(DEFAULT_CONFIG)]}
        parser_kwargs = {sub: defaults for sub in SUBCOMMANDS} if run else defaults
        super().__init__(
            WGAN,
            pl.LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            parser_kwargs=parser_kwargs,
            parser_class=ArgumentParser,
            save_config_callback=SaveAndLogConfig,
            save_config_kwargs={"overwrite": True},
            args=args,
            run=run,
            **kwargs,
        )

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        return {name: keys for name, keys in LightningCLI.subcommands().items() if name in SUBCOMMANDS}

    @staticmethod
    def subcommand_config(config: Namespace) -> Namespace:
        """The part of ``config`` for the running subcommand (all of it without one)."""
        subcommand = config.get("subcommand")
        return config[subcommand] if subcommand else config

    def parse_arguments(self, parser: Any, args: Any) -> None:
        super().parse_arguments(parser, args)
        # Before LightningCLI itself opens the checkpoint (for its hyperparameters).
        cfg = self.subcommand_config(self.config)
        check_ckpt_path(cfg.get("ckpt_path"), Path(cfg.run_dir) if cfg.get("run_dir") else None)

    def add_arguments_to_parser(self, parser: Any) -> None:
        # The callbacks a run cannot do without are not in trainer.callbacks, so that a
        # config that adds callbacks (``callbacks+:``) can never drop them.
        for key, callback in ALWAYS_ON.items():
            parser.add_lightning_class_args(callback, key)
        for key, callback in OPTIONAL_DEFAULTS.items():
            parser.add_subclass_arguments(callback, key, required=False, help=f"{callback.__name__}; null switches it off.")
        parser.add_argument("--generator_steps", type=int, default=2000, help="Run length in generator steps.")
        parser.add_argument(
            "--eval_every", type=int, default=500, help="Evaluate every this many generator steps (critic steps in critic-only runs)."
        )
        parser.add_argument("--critic_steps", type=int | None, default=None, help="Run length of a critic-only run (CriticEstimator).")
        parser.add_argument("--run_dir", type=str | None, default=None, help="Run directory (default: a new one under runs/).")

    # -- before anything is built: derive trainer settings, choose the run directory ---

    def before_instantiate_classes(self) -> None:
        cfg = self.subcommand_config(self.config)
        check_accelerator(cfg.trainer.accelerator)
        critic_only = issubclass(_import(cfg.model.class_path), CriticEstimator)
        length = "critic_steps" if critic_only else "generator_steps"
        if cfg[length] is None:
            raise SystemExit(f"error: a critic-only run needs --critic_steps (its length in critic steps), got {cfg[length]}")
        for name in (length, "eval_every"):
            if cfg[name] < 1:
                raise SystemExit(f"error: --{name} must be >= 1, got {cfg[name]}")
        n_critic = cfg.model.init_args.get("n_critic", 1)
        if n_critic < 1:
            raise SystemExit(f"error: --model.n_critic must be >= 1, got {n_critic}")
        if cfg.trainer.max_steps not in (None, -1):
            raise SystemExit(
                "error: --trainer.max_steps counts critic and generator steps together; "
                f"set the run length with --{length} instead (got max_steps={cfg.trainer.max_steps})"
            )
        # Derived settings go to the Trainer, not into the config: config.yaml keeps what
        # the user set, so that a rerun from it derives them again for its own run length.
        if critic_only:
            self.derived_trainer_settings = {"max_steps": cfg.critic_steps, "val_check_interval": cfg.eval_every}
        else:
            # Lightning counts validation intervals in training batches, one per critic step.
            self.derived_trainer_settings = {
                "max_steps": cfg.generator_steps * (n_critic + 1), "val_check_interval": cfg.eval_every * n_critic,
            }
        self.derived_trainer_settings["check_val_every_n_epoch"] = None
        run_dir = Path(cfg.run_dir) if cfg.run_dir else self.new_run_dir(cfg)
        check_run_dir(run_dir, cfg.get("ckpt_path"), self.subcommand)
        cfg.run_dir = str(run_dir)
        cfg.trainer.default_root_dir = str(run_dir)
        for logger in self.logger_configs(cfg.trainer.logger):
            if "save_dir" in logger.init_args and logger.init_args.save_dir in (None, ".", "lightning_logs"):
                logger.init_args.save_dir = str(run_dir)
            if "name" in logger.init_args and logger.init_args.name is None:
                logger.init_args.name = run_dir.name

    @staticmethod
    def logger_configs(value: Any) -> list[Namespace]:
        values = value if isinstance(value, list) else [value]
        return [v for v in values if isinstance(v, Namespace) and "init_args" in v]

    @staticmethod
    def new_run_dir(cfg: Namespace) -> Path:
        penalty = cfg.model.init_args.penalty
        args = penalty.init_args if isinstance(penalty, Namespace) and "init_args" in penalty else Namespace()
        strength = args.get("weight", args.get("clip_value"))
        data_args = cfg.data.get("init_args", Namespace()) if isinstance(cfg.data, Namespace) else Namespace()
        parts = [
            time.strftime("%Y%m%d-%H%M%S"),
            _short_name(dataset) if isinstance(dataset := data_args.get("dataset"), Namespace)
            else str(dataset or getattr(_import(str(cfg.data.class_path)), "dataset", _short_name(cfg.data))),
            _short_name(penalty),
            f"{strength:g}" if strength is not None else "",
            f"s{cfg.seed_everything}",
        ]
        base = Path("runs") / "-".join(p for p in parts if p)
        run_dir, i = base, 1
        while run_dir.exists():
            run_dir, i = base.with_name(f"{base.name}-{i}"), i + 1
        return run_dir

    def instantiate_classes(self) -> None:
        try:
            super().instantiate_classes()
            self.model.check_contracts(self.datamodule)  # loads the data: missing files show here
        except (ValueError, MisconfigurationException) as err:
            # Our constructors validate their arguments: one clear line, no traceback.
            raise SystemExit(f"error: {root_message(err)}") from None
        if self.trainer.accelerator.__class__.__name__ == "CPUAccelerator" and self.trainer.num_devices > (os.cpu_count() or 1):
            raise SystemExit(
                f"error: --trainer.devices {self.trainer.num_devices} asks for more CPU processes than this machine has cores "
                f"({os.cpu_count()})"
            )
        for cb in self.trainer.callbacks:
            if isinstance(cb, ModelCheckpoint) and cb.dirpath is None:
                cb.dirpath = str(Path(self.trainer.default_root_dir) / "checkpoints")

    def instantiate_trainer(self, **kwargs: Any) -> pl.Trainer:
        cfg = self.subcommand_config(self.config_init)
        optional = [cfg[key] for key in OPTIONAL_DEFAULTS if cfg.get(key) is not None]
        progress = [ProgressBar()] if cfg.trainer.get("enable_progress_bar") is not False else []
        callbacks = [*optional, *(cfg.trainer.get("callbacks") or []), *progress]
        kwargs.update(self.derived_trainer_settings)
        # A fresh list for each build: LightningCLI appends the always-on callbacks to it.
        trainer = super().instantiate_trainer(**kwargs, callbacks=list(callbacks))
        if cfg.trainer.get("strategy") == "auto" and type(trainer.strategy) is DDPStrategy:
            # Plain DDP fails here: each critic step leaves the generator without
            # gradients and each generator step the critic. Lightning resolves devices
            # and nodes first; the trainer is then rebuilt with unused-parameter
            # detection (the cost is measured in the README's scaling section).
            trainer = super().instantiate_trainer(**kwargs, callbacks=list(callbacks), strategy=DDPStrategy(find_unused_parameters=True))
        return trainer

    # -- fit: stop cleanly on a non-finite value; then a final evaluation ---------------

    def fit(self, **kwargs: Any) -> None:
        try:
            self.trainer.fit(**kwargs)
        except (NonFiniteError, ConfigError) as err:
            raise SystemExit(f"error: {err}") from None

    def after_fit(self) -> None:
        model: WGAN = self.model
        if model.evaluated_at != model.training_steps and not self.trainer.interrupted:
            self.trainer.validate(model, datamodule=self.datamodule, verbose=False)
        self.print_summary_path()

    def after_validate(self) -> None:
        self.print_summary_path()

    def print_summary_path(self) -> None:
        # Close the wandb run, so that a second run in this process starts its own.
        if any(isinstance(lg, WandbLogger) for lg in self.trainer.loggers):
            import wandb

            wandb.finish()
        for cb in self.trainer.callbacks:
            if isinstance(cb, Summary) and self.trainer.is_global_zero:
                print(f"summary: {cb.path(self.trainer)}", flush=True)
