"""README's benchmark table is what ``python -m bench --readme`` computed, written by code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from bench.__main__ import README, README_END, README_START, render_markdown, write_readme_table

ROWS = [{"metric": "alert lag p99", "value": "30 ms", "goal": "<= 1 s", "status": "met"},
        {"metric": "cold start a | b", "value": "0.96x", "goal": "<= 0.8x", "status": "NOT MET"},
        {"metric": "throughput", "value": "274/s", "goal": "", "status": ""}]


def test_the_markdown_table_has_every_row_and_verdict_as_computed() -> None:
    text = render_markdown(ROWS, started=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
                           path=str(README.parent / "bench" / "results" / "x.json"), runs=3, load=(1.0, 2.5))
    lines = text.splitlines()
    assert lines[2] == "| alert lag p99 | 30 ms | <= 1 s | met |"
    assert lines[3] == "| cold start a \\| b | 0.96x | <= 0.8x | **NOT MET** |"
    assert lines[4] == "| throughput | 274/s |  |  |"
    assert "bench/results/x.json" in text and "medians of 3 runs" in text


def test_only_the_block_between_the_markers_is_replaced(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{README_START}\nold table\n{README_END}\nafter\n", encoding="utf-8")
    write_readme_table("| new |", readme)
    assert readme.read_text(encoding="utf-8") == f"# x\n\nbefore\n{README_START}\n| new |\n{README_END}\nafter\n"
    write_readme_table("| newer |", readme)
    assert "| new |" not in readme.read_text(encoding="utf-8")


def test_a_readme_without_the_markers_is_an_error_not_a_silent_append(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no block\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        write_readme_table("| t |", readme)


def test_the_projects_readme_has_the_block() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(README_START) == 1 and text.count(README_END) == 1
    assert text.index(README_START) < text.index(README_END)
