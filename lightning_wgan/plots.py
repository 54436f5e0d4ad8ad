"""Figures: real and generated 2-D points over the critic's level sets."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG (creating its folder) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight", dpi=dpi)
    plt.close(fig)
    return path


def plot_critic_2d(critic: nn.Module, real: Tensor, fake: Tensor, path: str | Path, title: str = "") -> Path:
    """Contours of D, its gradient field, and the real and generated points (a PNG)."""
    real, fake = real.detach().float().cpu(), fake.detach().float().cpu()
    both = torch.cat([real, fake])
    lo, hi = both.min(0).values, both.max(0).values
    pad = 0.15 * (hi - lo).max().clamp(min=1e-3)
    lo, hi = lo - pad, hi + pad
    device = next(critic.parameters()).device
    xs, ys = torch.linspace(lo[0], hi[0], 120), torch.linspace(lo[1], hi[1], 120)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(device).requires_grad_(True)
    with torch.enable_grad():
        scores = critic(grid)
        (grad,) = torch.autograd.grad(scores.sum(), grid)
    z = scores.detach().float().cpu().reshape(gx.shape)
    grad = grad.float().cpu().reshape(*gx.shape, 2)

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    cs = ax.contourf(gx, gy, z, levels=20, cmap="viridis", alpha=0.8)
    fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="critic D(x)")
    step = 10
    ax.quiver(gx[::step, ::step], gy[::step, ::step], grad[::step, ::step, 0], grad[::step, ::step, 1], color="white", alpha=0.6)
    ax.scatter(real[:, 0], real[:, 1], s=3, c="orange", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="red", marker="x", linewidths=0.5, label="generated")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title(title)
    return save_figure(fig, path)


def plot_critic_1d(critic: nn.Module, real: Tensor, fake: Tensor, path: str | Path, title: str = "") -> Path:
    """1-D data: histograms of the real and generated points, and the critic D(x) over
    them (a 1-Lipschitz critic has slope at most 1; the optimal one is ±1 where mass moves)."""
    real, fake = real.detach().float().cpu().flatten(), fake.detach().float().cpu().flatten()
    both = torch.cat([real, fake])
    lo, hi = float(both.min()), float(both.max())
    device = next(critic.parameters()).device
    xs = torch.linspace(lo, hi, 400)
    with torch.no_grad():
        scores = critic(xs.view(-1, 1).to(device)).float().cpu()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    bins = torch.linspace(lo, hi, 60).tolist()
    ax.hist(real.numpy(), bins=bins, density=True, alpha=0.5, color="orange", label="real")
    ax.hist(fake.numpy(), bins=bins, density=True, alpha=0.5, color="red", label="generated")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.legend(loc="upper left")
    twin = ax.twinx()
    twin.plot(xs.numpy(), scores.numpy(), color="black", label="critic D(x)")
    twin.set_ylabel("critic D(x)")
    ax.set_title(title)
    return save_figure(fig, path)


def plot_image_grid(images: Tensor, path: str | Path, title: str = "", columns: int = 8) -> Path:
    """A grid of images (batch, channels, height, width) with values in [-1, 1] (a PNG)."""
    images = images.detach().float().cpu().clamp(-1, 1).add(1).div(2)
    n, c, h, w = images.shape
    rows = -(-n // columns)
    grid = torch.ones(c, rows * (h + 2), columns * (w + 2))
    for i, image in enumerate(images):
        r, k = divmod(i, columns)
        grid[:, r * (h + 2) + 1 : r * (h + 2) + 1 + h, k * (w + 2) + 1 : k * (w + 2) + 1 + w] = image
    fig, ax = plt.subplots(figsize=(columns * 0.8 + 0.5, rows * 0.8 + 0.6), dpi=100)
    ax.imshow(grid[0] if c == 1 else grid.permute(1, 2, 0), cmap="gray" if c == 1 else None, vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(title)
    return save_figure(fig, path)


def plot_history(history: list[dict[str, float]], path: str | Path, unit: str = "generator step") -> Path | None:
    """The metrics of every evaluation against the step: the W1 values (exact and the
    critic's estimate) in one panel, every other metric (FID, KID) in a panel of its
    own. Nothing is written when the history holds no metric."""
    keys = [k for k in dict.fromkeys(k for h in history for k in h) if k != "step"]
    w1 = [k for k in keys if k.startswith("w1_")]
    panels = ([w1] if w1 else []) + [[k] for k in keys if k not in w1]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.5), dpi=100, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        for key in panel:
            points = [(h["step"], h[key]) for h in history if key in h]
            ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=key)
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)
