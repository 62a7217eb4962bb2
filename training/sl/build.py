"""Building shards (`shards.py`) from SGF archives or folders: read, filter, replay, shuffle, write.

    manifest = ensure_shards(sources, out_dir, ShardSpec(GameFilter(...)), workers=2)

`out_dir` receives `<prefix>-0000.npz`, `<prefix>-0001.npz`, ... and, last, `manifest.json`:

| key          | meaning                                                                      |
|--------------|------------------------------------------------------------------------------|
| key          | sha256 of the format version, the source files (path, size, mtime) and spec  |
| spec         | ShardSpec: filter settings, shuffle, seed, positions per shard, prefix        |
| sources      | the source files read                                                        |
| counts       | games_read (parsed, right board size), games_kept, positions, passes,        |
|              | skipped {reason: games} (SGF errors, filters, illegal moves, sizes, archives) |
| shards       | [{file, games, positions, bytes}] in order                                   |
| build_seconds| wall time of the build                                                       |

A manifest present means every shard it lists was written completely (each one atomically,
the manifest after them). `ensure_shards` rebuilds only when the manifest is missing, its key
differs (other sources or settings) or a listed file is missing or of another size; an
interrupted build is simply started again. Games are sorted by name, then shuffled with the
seed (when `shuffle`), so the shards do not depend on the number of workers. The work is split
into slices by a hash of each SGF file's name; every slice streams all the archives (cheap:
decompressing is a small part of the cost, parsing SGF is most of it).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import hashlib
import json
import multiprocessing
import os
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numba as nb
import numpy as np

from goengine.board import COLOR, INFO, KO_COLOR, KO_LOC, SIZE, is_legal, new_board, play, set_stones
from goengine.sgf import ILLEGAL_MOVE, SgfGame
from goengine.sgf_archive import BAD_ARCHIVE, NOT_SGF_FILE, ReadStats, iter_games

from goengine.atomic import atomic_write_json
from .filters import GameFilter, rank_value
from .shards import (FORMAT_VERSION, SHARD_SUFFIX, Shard, check_shard, concat_shards, empty_shard,
                     pack_colors, packed_width, save_shard, select_games)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ShardSpec:
    """What a set of shards is: the games kept, their order and how they are cut."""
    filter: GameFilter = GameFilter()
    shuffle: bool = True
    seed: int = 0
    shard_positions: int = 100_000  # a shard is cut after the game that reaches this many
    prefix: str = "train"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["filter"] = self.filter.to_dict()
        return data


# --- one game --------------------------------------------------------------------------------

@nb.njit(cache=True, nogil=True)
def _replay_positions(board, locs, colors, allow_suicide, stones, to_play, move, ko):
    """Replay `locs` by `colors` on `board`, recording each position before its move. Returns
    the number of moves replayed: less than len(locs) at an illegal move (occupied, simple ko,
    suicide)."""
    n = board[INFO, SIZE]
    w = n + 2
    for i in range(locs.shape[0]):
        loc = locs[i]
        color = colors[i]
        if loc != 0 and not is_legal(board, loc, color, allow_suicide):
            return i
        pack_colors(board[COLOR], n, stones[i])
        to_play[i] = color
        move[i] = n * n if loc == 0 else (loc // w - 1) * n + loc % w - 1
        k = board[INFO, KO_LOC]
        ko[i] = (k // w - 1) * n + k % w - 1 if k != 0 and board[INFO, KO_COLOR] == color else -1
        play(board, loc, color)
    return locs.shape[0]


def _winner(record: SgfGame) -> int:
    winner = record.winner
    return 0 if winner is None else int(winner)


def game_positions(record: SgfGame) -> Optional[Shard]:
    """A one-game shard of `record` (root setup, then its moves), or None when a move is
    illegal by the record's rules with simple ko (as `goengine.sgf.replay` checks them). The
    record must hold no setup after the root."""
    n = record.size
    board = new_board(n)
    if record.setup.stones:
        set_stones(board, record.setup.as_dict())
    moves = record.moves
    count = len(moves)
    locs = np.fromiter((m.loc for m in moves), np.int64, count)
    colors = np.fromiter((m.color for m in moves), np.int64, count)
    stones = np.zeros((count, packed_width(n)), np.uint8)
    to_play = np.zeros(count, np.uint8)
    move = np.zeros(count, np.int16)
    ko = np.zeros(count, np.int16)
    if _replay_positions(board, locs, colors, record.rules.suicide, stones, to_play, move, ko) != count:
        return None
    ranks = np.array([[rank_value(record.black_rank), rank_value(record.white_rank)]], np.int8)
    return Shard(n, np.array([0, count], np.int64), np.array([record.name]),
                 np.array([_winner(record)], np.int8), np.array([record.komi], np.float32),
                 np.array([min(record.handicap, 127)], np.int8), ranks, stones, to_play, move, ko,
                 np.arange(count, dtype=np.int16))


# --- reading in slices -----------------------------------------------------------------------

def _in_slice(name: str, index: int, slices: int) -> bool:
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % slices == index


class _SliceSelector:
    """A picklable `select` for sgf_archive: the SGF files of one slice."""

    def __init__(self, index: int, slices: int):
        self.index, self.slices = index, slices

    def __call__(self, name: str) -> bool:
        return _in_slice(name, self.index, self.slices)


def read_slice(files: Sequence[str], game_filter: GameFilter, index: int = 0, slices: int = 1
               ) -> tuple[Shard, dict[str, Any]]:
    """The kept games of one slice of `files` as a shard, and the counts of this slice."""
    stats = ReadStats()
    select = _SliceSelector(index, slices) if slices > 1 else None
    parts: list[Shard] = []
    for _, record in iter_games(list(files), stats=stats, board_size=game_filter.board_size,
                                check_moves=False, select=select):
        reason = game_filter.reject_reason(record)
        if reason is None:
            part = game_positions(record)
            if part is None:
                reason = ILLEGAL_MOVE
            else:
                parts.append(part)
                continue
        stats.skip(reason, record.name)
    shard = concat_shards(parts) if parts else empty_shard(game_filter.board_size)
    if index > 0:
        # Every slice walks every file: file-level skips are counted by slice 0 alone.
        for reason in (NOT_SGF_FILE, BAD_ARCHIVE):
            stats.skipped.pop(reason, None)
            stats.examples.pop(reason, None)
    counts = {"games_read": stats.read, "skipped": dict(stats.skipped),
              "examples": {k: v[:3] for k, v in stats.examples.items()}}
    return shard, counts


def _read_slice_task(args: tuple) -> tuple[Shard, dict[str, Any]]:
    files, filter_dict, index, slices = args
    return read_slice(files, GameFilter(**filter_dict), index, slices)


# --- sources, keys and manifests -------------------------------------------------------------

def source_files(sources: Iterable[str | os.PathLike]) -> list[str]:
    """Every file under the sources (folders walked in sorted order), as absolute paths."""
    files: list[str] = []
    for source in sources:
        path = os.path.abspath(os.fspath(source))
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders.sort()
                files += [os.path.join(folder, name) for name in sorted(names)]
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


def shard_key(files: Sequence[str], spec: ShardSpec) -> str:
    listing = []
    for f in files:
        st = os.stat(f)
        listing.append([f, st.st_size, st.st_mtime_ns])
    text = json.dumps({"format_version": FORMAT_VERSION, "files": listing, "spec": spec.to_dict()},
                      sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(out_dir: str | os.PathLike) -> Optional[dict[str, Any]]:
    path = Path(out_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def manifest_complete(manifest: Optional[dict[str, Any]], out_dir: str | os.PathLike, key: Optional[str] = None) -> bool:
    """Whether the manifest is for `key` (when given) and every shard it lists is in place."""
    if not manifest or (key is not None and manifest.get("key") != key):
        return False
    for entry in manifest.get("shards", []):
        path = Path(out_dir) / entry["file"]
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            return False
    return True


def manifest_shard_paths(out_dir: str | os.PathLike, manifest: dict[str, Any]) -> list[Path]:
    return [Path(out_dir) / entry["file"] for entry in manifest["shards"]]


# --- building --------------------------------------------------------------------------------

def _cut_points(game_offsets: np.ndarray, shard_positions: int) -> list[tuple[int, int]]:
    """(first game, end game) of each shard: games in order, a shard closed once it holds
    `shard_positions` positions."""
    cuts, start = [], 0
    num_games = game_offsets.shape[0] - 1
    while start < num_games:
        target = game_offsets[start] + shard_positions
        end = int(np.searchsorted(game_offsets, target, side="left"))
        end = min(max(end, start + 1), num_games)
        cuts.append((start, end))
        start = end
    return cuts


def _merge_counts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    skipped: Counter = Counter()
    examples: dict[str, list[str]] = {}
    read = 0
    for c in parts:
        read += c["games_read"]
        skipped.update(c["skipped"])
        for reason, shown in c["examples"].items():
            examples.setdefault(reason, [])
            examples[reason] = (examples[reason] + shown)[:3]
    return {"games_read": read, "skipped": dict(skipped.most_common()), "examples": examples}


def read_games(sources: Iterable[str | os.PathLike], game_filter: GameFilter, workers: int = 1,
               log: Callable[[str], None] = print) -> tuple[Shard, dict[str, Any]]:
    """Every kept game of `sources` in one in-memory shard, sorted by name, and the counts."""
    start = time.perf_counter()
    files = source_files(sources)
    slices = workers * 4 if workers > 1 else 1
    tasks = [(files, game_filter.to_dict(), i, slices) for i in range(slices)]
    results: list[tuple[Shard, dict[str, Any]]] = []
    if workers > 1:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            for done, result in enumerate(pool.map(_read_slice_task, tasks), 1):
                results.append(result)
                log(f"  slice {done}/{slices} read: {result[0].num_games} games kept "
                    f"({time.perf_counter() - start:.0f} s)")
    else:
        results = [_read_slice_task(t) for t in tasks]
    games = concat_shards([r[0] for r in results])
    counts = _merge_counts([r[1] for r in results])
    games = select_games(games, np.argsort(games.game_names, kind="stable"))
    counts.update(games_kept=games.num_games, positions=games.num_positions,
                  passes=int(np.count_nonzero(games.move == games.board_size ** 2)))
    return games, counts


def build_shards(sources: Iterable[str | os.PathLike], out_dir: str | os.PathLike, spec: ShardSpec,
                 workers: int = 1, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Read, filter and replay every game of `sources`, write the shards and the manifest."""
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = source_files(sources)
    key = shard_key(files, spec)
    (out / MANIFEST).unlink(missing_ok=True)
    all_games, counts = read_games(files, spec.filter, workers, log)
    if spec.shuffle:
        all_games = select_games(all_games, np.random.default_rng(spec.seed).permutation(all_games.num_games))
    check_shard(all_games)

    entries = []
    wanted = set()
    for i, (g0, g1) in enumerate(_cut_points(all_games.game_offsets, spec.shard_positions)):
        name = f"{spec.prefix}-{i:04d}{SHARD_SUFFIX}"
        shard = select_games(all_games, np.arange(g0, g1))
        path = save_shard(out / name, shard)
        wanted.add(name)
        entries.append({"file": name, "games": shard.num_games, "positions": shard.num_positions,
                        "bytes": path.stat().st_size})
    for stale in out.glob(f"{spec.prefix}-*{SHARD_SUFFIX}"):
        if stale.name not in wanted:
            stale.unlink()
    manifest = {
        "format_version": FORMAT_VERSION, "key": key, "spec": spec.to_dict(), "sources": files,
        "board_size": spec.filter.board_size, "counts": counts, "shards": entries,
        "build_seconds": round(time.perf_counter() - start, 1), "workers": workers,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_json(out / MANIFEST, manifest)
    return manifest


def ensure_shards(sources: Iterable[str | os.PathLike], out_dir: str | os.PathLike, spec: ShardSpec,
                  workers: int = 1, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The manifest of up-to-date shards of `sources` in `out_dir`, building them if needed."""
    files = source_files(sources)
    key = shard_key(files, spec)
    manifest = read_manifest(out_dir)
    if manifest_complete(manifest, out_dir, key):
        log(f"{spec.prefix} shards in {out_dir} are up to date ({manifest['counts']['positions']} positions)")
        return manifest
    log(f"building {spec.prefix} shards in {out_dir} from {len(files)} files with {workers} workers")
    return build_shards(files, out_dir, spec, workers, log)


def counts_summary(manifest: dict[str, Any]) -> str:
    c = manifest["counts"]
    skipped = ", ".join(f"{reason}: {n}" for reason, n in c["skipped"].items()) or "none"
    return (f"{c['games_read']} games read, {c['games_kept']} kept ({c['positions']} positions, "
            f"{c['passes']} passes); skipped: {skipped}")

