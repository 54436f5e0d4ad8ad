"""The report behind docs/results.md: its generated blocks come from the runs' tables."""

import pytest

from lightning_wgan.experiments import convergence, paper
from lightning_wgan.experiments.common import fill_blocks
from lightning_wgan.sweep import RunTable, run_id


def write_run(table, sweep, params, summary):
    table.put([{"sweep": sweep, "run": run_id(params), "finished": True, "params": params, "summary": summary}])


PAGE = """# page
hand-written text
<!-- begin estimate -->
stale
<!-- end estimate -->
more text
""" + "".join(f"<!-- begin {name} -->\nstale\n<!-- end {name} -->\n" for name in convergence.blocks([]))


def test_fill_blocks_replaces_only_the_marked_text_and_refuses_a_missing_marker(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("a\n<!-- begin x -->\nold\nlines\n<!-- end x -->\nb\n<!-- begin y -->\n<!-- end y -->\n")
    fill_blocks(page, {"x": "new\n", "y": "why"})
    assert page.read_text() == "a\n<!-- begin x -->\nnew\n<!-- end x -->\nb\n<!-- begin y -->\nwhy\n<!-- end y -->\n"
    with pytest.raises(ValueError, match="no '<!-- begin z -->'"):
        fill_blocks(page, {"z": "text"})


def test_report_fills_the_page_from_the_runs(tmp_path):
    runs, gan_runs = RunTable(tmp_path / "p.jsonl"), RunTable(tmp_path / "c.jsonl")
    results, page = tmp_path / "results", tmp_path / "page.md"
    page.write_text(PAGE)
    for seed, ratio in enumerate((1.1, 1.3)):
        write_run(runs, "paper_estimate",
                  {"config": "conf/estimate/pair.yaml", "model.penalty": "lightning_wgan.penalties.LipschitzPenalty",
                   "model.penalty.weight": 10, "seed_everything": seed},
                  {"w1_exact": 0.5, "w1_critic": 0.5 * ratio, "ratio": ratio, "rel_error": ratio - 1, "w1_critic_se": 0.001,
                   "penalty": "lp", "weight": 10.0})
    for seed, last in enumerate((0.1, 0.3)):
        history = [{"step": 250 * (i + 1), "w1_exact": w, "w1_critic": w} for i, w in enumerate([0.9, 0.5, last, last, last, last])]
        write_run(gan_runs, "penalties",
                  {"config": [convergence.INITS["default"]], "model.penalty.weight": 1, "seed_everything": seed},
                  {"history": history, "noise_floor": 0.1, "noise_floor_sd": 0.01, "penalty": "gp", "weight": 1.0, "dataset": "25gaussians",
                   "seed": seed, "modes_covered": 0.5, "w1_exact": last, "finished": True, "wall_time_s": 900 * (seed + 1),
                   "critic_steps_per_s": 20 + seed})
    paper.report(runs, results, gan_runs, page)
    text = page.read_text()
    assert "stale" not in text and text.startswith("# page\nhand-written text\n") and "more text" in text
    # the std of two values a, b is |a - b| / √2: 0.1 / √2 = 0.0707 for the estimates 0.55, 0.65
    assert "| 8gaussians vs 25gaussians | LP | 10 | 2 | 0.5000 ± 0.0000 | 0.6000 ± 0.0707 | 1.2000 ± 0.1414 |" in text
    assert "| 25gaussians | GP | 1 | 750, never | - |" in text  # seed 0 below 2 × 0.1 at its third evaluation
    assert "| 25gaussians | GP | 1 | 2 × 1500 | 0.200 ± 0.141 | 2.00 ± 1.41 | 0.50 ± 0.00 † | 1.00 ± 0.00 | 0 | - |" in text
    assert "2 of the grid's 169 runs are done (25gaussians seed 0: 1 of 27; 25gaussians seed 1: 1 of 27)" in text
    assert "Their run time: 0.8 h in all, 22 min a run on average. A run averaged 20.5 critic steps/s" in text
    assert (results / "paper.png").stat().st_size > 20_000 and (results / "convergence.md").exists()
