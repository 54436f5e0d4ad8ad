"""docs/benchmark.md: each driver of the W1 benchmark fills its own block of the page
with its report, a level down, and only when it reports for the project's own pages."""

import shutil

from lightning_wgan.experiments.common import BENCHMARK_PAGE, RESULTS, driver_arguments, fill_blocks, page_block, shown, to_pages

BLOCKS = {"funnels": "funnels.md", "family": "family.md", "strongest": "strongest.md", "images": "images.md", "easy-tasks": "easy_tasks.md"}


def test_a_report_becomes_a_block_without_its_title_a_level_down_and_up_to_its_stop(tmp_path):
    report = tmp_path / "r.md"
    report.write_text("# Title\n\nText.\n\n## Part\n\n| a |\n\n### Sub\n\n## Every λ: long\n\n| b |\n")
    assert page_block(report) == "Text.\n\n### Part\n\n| a |\n\n#### Sub\n\n### Every λ: long\n\n| b |\n"
    assert page_block(report, stop="## Every λ") == "Text.\n\n### Part\n\n| a |\n\n#### Sub\n"
    assert page_block(report, stop="## Nowhere") == page_block(report)


def test_the_page_marks_a_block_for_each_driver_and_keeps_its_own_text(tmp_path):
    page = tmp_path / "benchmark.md"
    shutil.copy(BENCHMARK_PAGE, page)
    fill_blocks(page, {name: f"table of {name}\n" for name in BLOCKS})  # raises on a block the page does not mark
    text = page.read_text()
    assert all(f"<!-- begin {name} -->\ntable of {name}\n<!-- end {name} -->" in text for name in BLOCKS)
    order = [text.index(f"table of {name}") for name in BLOCKS]
    assert order == sorted(order)  # the published protocol first, the easy tasks last
    assert "What the benchmark found" in text  # the pointer to the reading stays


def test_only_a_report_of_the_projects_own_runs_goes_into_the_pages():
    parser = driver_arguments("d", quick="q", results="r")
    assert to_pages(parser.parse_args(["--report"]))
    for args in (["--quick"], ["--runs", "x"], ["--table", "t.jsonl"], ["--results", "out"]):
        assert not to_pages(parser.parse_args(args)), args


def test_a_grid_records_the_plain_loops_speed_and_its_run_time_says_it(tmp_path, monkeypatch):
    import os

    import torch

    from lightning_wgan.experiments.common import read_machines, record_machine, run_time

    parser, machines = driver_arguments("d", quick="q", results="r"), tmp_path / "machines.jsonl"
    assert record_machine(parser.parse_args(["--quick"]), "family", machines, steps=5) is None and not machines.exists()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    own = torch.get_num_threads()
    rate = record_machine(parser.parse_args(["--jobs", str(os.cpu_count())]), "family", machines, steps=5)
    (kept,) = read_machines(machines)
    assert rate > 0 and kept["driver"] == "family" and kept["plain_loop_steps_per_s"] == round(rate, 1)
    assert kept["threads"] == 1 and torch.get_num_threads() == own  # as many threads as each of its runs, then its own again
    record_machine(parser.parse_args(["--jobs", "1"]), "family", tmp_path / "other.jsonl", steps=5, processes=os.cpu_count())
    assert read_machines(tmp_path / "other.jsonl")[0]["threads"] == 1  # the convergence grid's rounds and continuations: 2 × --jobs
    machines.write_text(machines.read_text() + '{"driver": "family", "plain_loop_steps_per_s": 12.5, "threads": 1}\n'
                        '{"driver": "funnels", "plain_loop_steps_per_s": 99.0, "threads": 1}\n')
    rows = [{"summary": {"wall_time_s": 1800.0}}] * 4
    text = run_time(rows, "family", tmp_path)
    low, high = sorted([12.5, round(rate, 1)])
    assert text.startswith("Their run time: 2.0 h in all, 30 min a run on average; the plain loop of benchmarks/bench.py")
    assert f"ran at {low:.1f}–{high:.1f} critic steps/s at the 2 starts of this grid measured so" in text  # family's, not funnels'
    assert "left out" not in text
    # a start measured at 2 threads beside 1-thread runs (1.2 where the machine's 1-thread loop ran 21.5) gives no speed
    machines.write_text('{"driver": "family", "plain_loop_steps_per_s": 1.2, "threads": 2}\n'
                        '{"driver": "family", "plain_loop_steps_per_s": 21.5, "threads": 1}\n')
    text = run_time(rows, "family", tmp_path)
    assert "ran at 21.5 critic steps/s at the one start of this grid measured so (1 start(s) measured at another thread" in text
    two = [{"summary": {"wall_time_s": 1800.0, "threads": 2}}] * 4  # runs at 2 threads: their starts' speed is the 2-thread one
    assert "1.2" not in text
    assert "(the toy reference size, 2 threads as each run) ran at 1.2 critic steps/s" in run_time(two, "family", tmp_path)
    # runs at 1 and at 2 threads (the strongest grid's GroupSort candidates): a range for each; 4 threads left out
    machines.write_text(machines.read_text() + '{"driver": "family", "plain_loop_steps_per_s": 30.4, "threads": 2}\n'
                        '{"driver": "family", "plain_loop_steps_per_s": 9.0, "threads": 4}\n')
    text = run_time(rows[:2] + two[:2], "family", tmp_path)
    assert ("ran at 21.5 critic steps/s at 1 thread (1 start) and 1.2–30.4 critic steps/s at 2 threads (2 starts) at the starts"
            " of this grid measured so (1 start(s) measured at another thread count left out)") in text
    assert run_time(rows, "strongest", tmp_path) == run_time(rows) == "Their run time: 2.0 h in all, 30 min a run on average"
    assert run_time(rows, "family", tmp_path / "elsewhere") == run_time(rows) and run_time([], "family", tmp_path) == ""


def test_a_report_names_a_table_in_the_repository_by_its_path_there_and_others_in_full(tmp_path):
    assert str(shown(RESULTS / "family.jsonl")) == "docs/results/family.jsonl"
    assert shown(tmp_path / "runs.jsonl") == tmp_path / "runs.jsonl"
