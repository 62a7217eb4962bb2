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
    `folder` instead of the user's cache. The compiled kernels stay where they are (they follow
    XDG_CACHE_HOME too, and compiling them afresh in every actor takes half a minute)."""
    from goengine.numba_cache import cache_dir

    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "NUMBA_CACHE_DIR")}
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir())
    os.environ["XDG_CACHE_HOME"] = str(folder)
    try:
        yield folder / "goengine" / "weights"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def private_ray(cache_folder: Path, num_cpus: int = 2):
    """A private Ray on this machine with `num_cpus` CPUs whose actors cache weights under
    `cache_folder`; yields that weights cache and shuts Ray down after."""
    import ray

    from selfplay.ray_session import connect

    with private_weights_cache(cache_folder) as weights_cache:
        connect("", num_cpus=num_cpus)
        try:
            yield weights_cache
        finally:
            ray.shutdown()


def whole_games(records_dir: Path) -> list:
    """Every game of every chunk; a chunk that cannot be read fails the test."""
    return [g for p in records.chunk_paths(records_dir) for g in records.read_chunk(p)]


def assert_no_game_twice(games: list) -> None:
    seeds = [g.seed for g in games]
    assert len(set(seeds)) == len(seeds), "a seed was played twice"
    moves = [tuple(g.actions) for g in games]
    assert len(set(moves)) == len(moves), "a game was recorded twice"
