"""Golden transcripts: tests/data/gtp/NAME.in holds command lines, NAME.out the exact replies.
An expected line ending in "..." matches any line that starts with the text before it (error
messages that quote other modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goengine.gtp import Engine, EngineOptions

DATA = Path(__file__).parent / "data" / "gtp"
CASES = sorted(p.stem for p in DATA.glob("*.in"))


def transcript(name: str) -> str:
    engine = Engine(EngineOptions(size=19))
    return "".join(engine.handle_line(line) for line in (DATA / f"{name}.in").read_text().splitlines())


def lines_match(actual: str, expected: str) -> bool:
    if expected.endswith("..."):
        return actual.startswith(expected[:-3])
    return actual == expected


@pytest.mark.parametrize("name", CASES)
def test_transcript(name, monkeypatch):
    monkeypatch.chdir(DATA)  # the transcripts name their files relative to their folder
    actual = transcript(name).split("\n")
    expected = (DATA / f"{name}.out").read_text().split("\n")
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert lines_match(a, e), f"{name}.out line {i + 1}: expected {e!r}, got {a!r}"
    assert len(actual) == len(expected), f"{name}: {len(actual)} lines of output, {len(expected)} expected"


def test_cases_exist():
    assert {"basic", "board", "handicap", "rules_time", "records"} <= set(CASES)
