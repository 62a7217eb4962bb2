"""What the Ray tests share: a private cache folder for shipped weights, and checks that the
records on disk are whole and hold no game twice."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from selfplay import records


@contextmanager
def private_weights_cache(folder: Path):
    """Actors inherit the environment of the Ray started here: their weights cache goes to
    `folder` instead of the user's cache."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    try:
        yield folder / "goengine" / "weights"
    finally:
        if before is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = before


def whole_games(records_dir: Path) -> list:
    """Every game of every chunk; a chunk that cannot be read fails the test."""
    return [g for p in records.chunk_paths(records_dir) for g in records.read_chunk(p)]


def assert_no_game_twice(games: list) -> None:
    seeds = [g.seed for g in games]
    assert len(set(seeds)) == len(seeds), "a seed was played twice"
    moves = [tuple(g.actions) for g in games]
    assert len(set(moves)) == len(moves), "a game was recorded twice"
