"""benchmarks/bench.py --regularizers: the speed of each regularizer of the benchmark (slow), and in GAN training
(--gan) with the convergence grid's configs."""

import json
import subprocess
import sys

import pytest
from conftest import REPO
from test_bench import clean_env

from lightning_wgan.experiments.benchmark import REGULARIZERS


@pytest.mark.slow
def test_regularizer_speeds_print_every_regularizer(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench.py"), "--regularizers", "--quick"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600, env=clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) == set(REGULARIZERS) - {"none"} and all(v > 0 for v in result.values())


def test_gan_speed_measures_each_regularizer_with_the_grids_configs_against_none(tmp_path, monkeypatch, capsys):
    """--regularizers --gan: every regularizer of the convergence grid, trained as the grid
    trains it, alternates with none; the ratios (and how they were measured) are kept."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench

    from lightning_wgan.experiments import convergence

    asked = []

    def rate(width, batch, steps, monitor=True, configs=()):
        asked.append((width, batch, monitor, list(configs)))
        return 10.0 if configs == convergence.gan_configs("none") else 5.0 if "conf/regularizers/alp.yaml" in configs else 8.0

    monkeypatch.setattr(bench, "template", rate)
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    bench.gan_regularizers(200, 1, save=True)
    names = ["gp", "lp", "clip", *convergence.FAMILY]
    assert [a[3] for a in asked] == [c for n in names for c in (convergence.gan_configs(n), convergence.gan_configs("none"))]
    assert all(a[:3] == (512, 256, False) for a in asked)  # the reference size, no monitor: as the grid runs
    assert convergence.gan_configs("clip") == ["conf/toy/8gaussians_clip.yaml", "conf/init/default.yaml"]
    kept = json.loads((tmp_path / "gan_speed.json").read_text())
    assert kept["speed_vs_none"] == {n: (0.5 if n == "alp" else 0.8) for n in names} and kept["none_steps_per_s"] == 10.0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-2]) == kept["speed_vs_none"]


def test_digits_speed_measures_each_regularizer_with_the_digits_configs_at_their_own_size(tmp_path, monkeypatch):
    """--regularizers --digits: the digits grid's configs (the DCGAN critic, deel-torchlip's
    convolutional one), at the configs' own sizes, alternating with none; kept for its report."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench

    from lightning_wgan.experiments import digits

    asked = []

    def rate(width, batch, steps, monitor=True, configs=()):
        asked.append((width, batch, monitor, list(configs)))
        return 10.0 if configs == digits.configs("none") else 2.0 if any("LipschitzDCGANCritic" in c for c in configs) else 6.0

    monkeypatch.setattr(bench, "template", rate)
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    bench.gan_regularizers(200, 1, save=True, digits=True)
    names = digits.FULL.regularizers
    assert [a[3] for a in asked] == [c for n in names for c in (digits.configs(n), digits.configs("none"))]
    assert all(a[:3] == (None, None, False) for a in asked)  # the digits config's own networks and batch
    kept = json.loads((tmp_path / digits.SPEED).read_text())
    assert kept["speed_vs_none"] == {n: (0.2 if n == "torchlip" else 0.6) for n in names} and len(names) == 12


def test_funnel_speed_trains_each_regularizer_as_the_family_grid_does_and_keeps_each_pair(tmp_path, monkeypatch):
    """--regularizers --pair: the family grid's configs for the pair (the task, the
    regularizer, the pair and its critic), alternating with none; pairs kept side by side."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench

    from lightning_wgan.experiments import funnels
    from lightning_wgan.experiments.benchmark import regularizer_config

    asked = []

    def rate(configs, steps, extra=()):
        asked.append(list(configs))
        return 100.0 if configs[1] == regularizer_config("none") else 25.0 if configs[1] == regularizer_config("alp") else 50.0

    monkeypatch.setattr(bench, "critic_only", rate)
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    for pair in ("d8_w16", "d128_w64"):
        bench.regularizers(300, 1, pair, save=True)
    names = [n for n in REGULARIZERS if n != "none"]
    cell = funnels.cell_config(128, 64)
    assert asked[-2 * len(names):] == [c for n in names for c in ([funnels.TASK, regularizer_config(n), cell],
                                                                  [funnels.TASK, regularizer_config("none"), cell])]
    kept = json.loads((tmp_path / "funnel_speed.json").read_text())
    assert set(kept) == {"d8_w16", "d128_w64"} and kept["d8_w16"]["none_steps_per_s"] == 100.0
    assert kept["d128_w64"]["speed_vs_none"] == {n: (0.25 if n == "alp" else 0.5) for n in names}


def test_candidate_speed_trains_each_strongest_candidate_as_its_grid_does_once_per_step(capsys, monkeypatch):
    """--candidates: each candidate's configs on the tuning pair d 16, K 256 without the
    run length, alternating with the first (LP 256×3); LP 512×3 at 60 000 steps takes
    LP 512×3's step, so it is not measured twice."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench

    from lightning_wgan.experiments import funnels, strongest
    from lightning_wgan.experiments.benchmark import regularizer_config

    asked = []

    def rate(configs, steps, extra=()):
        asked.append(list(configs))
        return 10.0 if configs[2] == funnels.cell_config(16, 256, 256, 3, strongest.TUNING_SEED) else 2.5

    monkeypatch.setattr(bench, "critic_only", rate)
    bench.candidates(100, 1)
    first = [funnels.TASK, regularizer_config("lp"), funnels.cell_config(16, 256, 256, 3, strongest.TUNING_SEED)]
    torchlip = [funnels.TASK, regularizer_config("torchlip"), funnels.cell_config(16, 256, 512, 3, strongest.TUNING_SEED)]
    assert len(asked) == 2 * 5 and asked[1::2] == [first] * 5 and asked[2] == torchlip
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[-1]) == {"lp 512×3": 0.25, "torchlip 512×3": 0.25, "torchlip 512×3, group size 16": 0.25,
                                               "alp 512×3": 0.25, "lp 512×4": 0.25}
