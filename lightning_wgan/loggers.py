"""wandb that never prompts: offline whenever no credentials are configured."""

from __future__ import annotations

import netrc
import os
from typing import Any
from urllib.parse import urlparse

from pytorch_lightning.loggers import WandbLogger as _WandbLogger
from pytorch_lightning.utilities import rank_zero_info


def wandb_credentials_found() -> bool:
    """True when wandb could log in without asking: an API key or a netrc entry."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc(os.environ.get("NETRC")).authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


class WandbLogger(_WandbLogger):
    """Lightning's WandbLogger, offline unless credentials are found.

    Args:
        offline: ``None`` (default) decides automatically: offline when ``WANDB_MODE``
            is unset and there is no API key or netrc entry, so a run never waits on a
            login prompt. Offline runs are uploaded later with ``wandb sync <dir>``.
        Other arguments are those of ``pytorch_lightning.loggers.WandbLogger``.
    """

    def __init__(
        self,
        name: str | None = None,
        save_dir: str = ".",
        project: str = "lightning-wgan",
        entity: str | None = None,
        group: str | None = None,
        offline: bool | None = None,
        log_model: bool = False,
        **kwargs: Any,
    ) -> None:
        auto = offline is None
        if auto:
            offline = "WANDB_MODE" not in os.environ and not wandb_credentials_found()
        if auto and offline:
            # wandb's own banner advertises login; say once what happens instead.
            os.environ.setdefault("WANDB_SILENT", "true")
            rank_zero_info(f"wandb: no credentials found, logging offline under {save_dir} (upload later with `wandb sync`)")
        super().__init__(
            name=name, save_dir=save_dir, project=project, entity=entity, group=group,
            offline=offline, log_model=log_model, **kwargs,
        )
