"""README's benchmark table is what ``python -m bench --readme`` computed, written by code."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


# -- the table README shows is the one the current code writes --------------------------------------


class _Figure(float):
    """Any measured figure: a number that also answers every key (nested results) and every ``in``."""

    def __new__(cls) -> _Figure:
        return super().__new__(cls, 1.0)

    def __getitem__(self, key: str) -> _Figure:
        return _Figure()

    def get(self, key: str, default: Any = None) -> _Figure:
        return _Figure()

    def __contains__(self, key: object) -> bool:
        return True


class _Section(dict):
    """One section's results: every figure the table asks for exists (optional ones too); no error."""

    def __missing__(self, key: str) -> _Figure:
        return _Figure()

    def __contains__(self, key: object) -> bool:
        return key != "error"

    def __bool__(self) -> bool:
        return True

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]


def every_row_the_code_writes() -> list[dict[str, str]]:
    """``table()`` over a synthetic result with every section and every optional figure present."""
    from bench.__main__ import SECTIONS, table
    from bench.cost import LIFECYCLES

    results: dict[str, Any] = {name: _Section() for name in SECTIONS}
    results["cost"] = _Section(lifecycles={name: _Section() for name in LIFECYCLES})
    results["pii"] = _Section(worst_case_ms={"digit groups": 1.0})
    results["outage"] = _Section(quiet_start_delay_s={"0": {"median": 1.0, "max": 1.0},
                                                      "1": {"median": 1.0, "max": 1.0}})
    return table(results)


def _shape(text: str) -> str:
    """A label or goal with its measured numbers taken out (they differ from run to run)."""
    return re.sub(r"\d+(?:\.\d+)?", "#", text.replace("\\|", "|")).strip()


def readme_rows() -> list[tuple[str, str, str]]:
    """README's table as (figure, goal, verdict), numbers taken out of figure and goal."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index(README_START) + len(README_START):text.index(README_END)]
    rows = []
    for line in block.splitlines()[3:]:  # after the marker's line break, the header and the rule
        if not line.startswith("| "):
            break
        figure, _value, goal, verdict = (cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1])
        rows.append((_shape(figure), _shape(goal), verdict.strip("*")))
    return rows


def test_readmes_table_was_written_by_the_current_row_set() -> None:
    """A relabelled, added or removed row, or a changed goal, needs a fresh ``make bench``."""
    written = [(figure, goal) for figure, goal, _ in readme_rows()]
    current = [(_shape(r["metric"]), _shape(r["goal"])) for r in every_row_the_code_writes()]

    assert written == current


def test_every_row_of_readmes_table_has_a_verdict_exactly_when_it_has_a_goal() -> None:
    rows = readme_rows()
    assert rows, "README's bench block holds no table"
    for figure, goal, verdict in rows:
        assert verdict in (("met", "NOT MET") if goal else ("",)), (figure, goal, verdict)


NUMBER_WORDS = {word: n for n, word in enumerate("no one two three four five six seven eight nine ten".split())}


def test_readmes_prose_counts_the_goals_the_table_marks_not_met() -> None:
    """"N goals are not met" in README's prose must be what the table computed (better: no number)."""
    text = README.read_text(encoding="utf-8")
    not_met = sum(1 for *_, verdict in readme_rows() if verdict == "NOT MET")
    counted = rf"\b({'|'.join(NUMBER_WORDS)}|\d+) (?:performance )?goals? (?:are|is) not met"
    for match in re.finditer(counted, text, re.IGNORECASE):
        said = match.group(1).lower()
        assert NUMBER_WORDS.get(said, said) in (not_met, str(not_met)), \
            f"README says {match.group(0)!r}, the table marks {not_met} NOT MET"


def test_the_cost_goal_is_set_for_the_post_answered_before_any_alert_only() -> None:
    from bench.__main__ import COST_GOALS, table
    from bench.cost import LIFECYCLES

    assert set(COST_GOALS) <= set(LIFECYCLES)

    def cost_rows(reads: int, writes: int, creates: int) -> dict[str, tuple[str, str]]:
        lifecycle = {"firestore_reads": reads, "firestore_writes": writes, "task_creates": creates,
                     "task_deletes": 2, "task_deliveries": 3, "invocations": 5, "usd_per_100k_posts": 1.0}
        rows = table({"cost": {"lifecycles": dict.fromkeys(LIFECYCLES, lifecycle)}})
        return {r["metric"].removeprefix("cost "): (r["goal"], r["status"]) for r in rows}

    assert cost_rows(2, 2, 2)["mention -> answered (before warning)"] == ("<= 2 / 2 / 2", "met")
    within, over = cost_rows(2, 2, 2), cost_rows(3, 4, 2)
    assert over["mention -> answered (before warning)"] == ("<= 2 / 2 / 2", "NOT MET")
    for name in set(LIFECYCLES) - set(COST_GOALS):
        assert within[name] == over[name] == ("", ""), f"{name} has no stated goal"
