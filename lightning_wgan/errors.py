"""Bad input gets one clear line, before anything runs or is written."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NoReturn

import torch
from pytorch_lightning.cli import LightningArgumentParser

ALLOWED = {
    "model.penalty": "LipschitzPenalty, GradientPenalty, WeightClipping (lightning_wgan.penalties), null, "
    "or the import path of a Penalty subclass",
    "model.sampler": "Interpolates, Perturbed, Real, Fake (lightning_wgan.samplers), or the import path of a Sampler subclass",
}


class NonFiniteError(RuntimeError):
    """A NaN or Inf in a loss, the penalty or a parameter."""


class ConfigError(ValueError):
    """Bad input that shows only once the data is at hand (missing files, a data set
    without the labels a feature network needs); reported as one line, before training."""


class ContractError(ConfigError):
    """An extension (critic, generator, penalty, sampler, data module, feature network)
    that breaks its contract (:mod:`lightning_wgan.contracts`)."""


def condense(message: str) -> str:
    """jsonargparse's nested report of a bad value, as one line: the flag, the value,
    and what is allowed."""
    keys = re.findall(r'Parser key "([^"]+)"', message)
    if not keys:
        return " ".join(message.split())
    flag = ".".join(k for k in ".".join(keys).split(".") if k != "init_args")
    if not re.search(r"Expected a |Given value|val='", message):
        # Not a bad value but the parser's own reason (e.g. a --config file that does not exist).
        reason = re.split(r'Parser key "[^"]+":', message)[-1]
        return f"--{flag}: {' '.join(reason.split())}"
    got = re.search(r"Expected a (.+?)\. Got value: (.+)", message)
    value = re.search(r"val='([^']*)'|Given value: (.+)", message)
    given = got.group(2).strip() if got else next((g for g in value.groups() if g), "?").strip() if value else "?"
    allowed = ALLOWED.get(flag)
    if allowed is None:
        # A Union (e.g. the Trainer's precision) lists one "Expected a" per member.
        allowed = describe_types(re.findall(r"Expected a (.+?)(?:\. Got value|\n|$)", message))
    return f"--{flag}: {given!r} is not valid; expected {allowed or 'see --help'}"


def describe_types(expected: list[str]) -> str | None:
    """jsonargparse's "Expected a ..." lines, one per member of a Union, as one phrase:
    the literal values merged (the Trainer's precision admits both 16 and '16'), then the
    other types."""
    values: list[str] = []
    kinds: list[str] = []
    for e in expected:
        literal = re.fullmatch(r"typing\.Literal\[(.+)\]", e)
        cls = re.fullmatch(r"<class '([^']+)'>", e)
        if literal:
            values += [v.strip().strip("'\"") for v in literal.group(1).split(",")]
        else:
            kinds.append("null" if cls and cls.group(1) == "NoneType" else f"a value of type {cls.group(1)}" if cls else e)
    parts = ([f"one of {', '.join(dict.fromkeys(values))}"] if values else []) + list(dict.fromkeys(kinds))
    return " or ".join(parts) or None


class ArgumentParser(LightningArgumentParser):
    """Prints one ``error:`` line instead of the usage and a nested report."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)
        sys.stderr.write(f"error: {condense(message)}\n")
        sys.exit(2)


def root_message(err: BaseException) -> str:
    """The message of the error our own code raised, out of jsonargparse's nested
    report of a failed instantiation."""
    chain, e = [], err
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)  # as a traceback shows the chain
    for e in reversed(chain):
        text = str(e)
        if text and "Does not validate" not in text and "Problem with given class_path" not in text:
            return " ".join(text.split())
    noise = ("Does not validate", "Subtypes:", "Errors:", "Expected a", "Given value", "Problem with given", "Parser key")
    lines = [ln.strip(" -") for ln in str(err).splitlines()]
    ours = [ln for ln in lines if ln and not ln.startswith(noise)]
    return ours[0] if ours else " ".join(str(err).split())


def unreadable_checkpoint(path: Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be used (the error's type), or None if it loads."""
    try:
        torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # any failure to read means the file is unusable
        return type(err).__name__
    return None
