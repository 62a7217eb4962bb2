"""Self-play game records: what was played and searched, in compact npz chunks.

Records hold moves, search statistics and results, never features, so a change of features
never invalidates old games. This module is the one description of the format and its one
reader (`load_chunk_arrays`, which checks what it reads); `read_chunk` gives a chunk's games as
`PlayedGame`s, `training.replay` the games of many chunks as flat arrays.

Coordinates (`goengine.coords`): moves and policy entries are actions (the network's index,
pass = N*N); setup stones are locs (the padded board's index), as `GameState.setup_stones`
takes them. Colours alternate from Black, or from White when the game has handicap stones
among its setup (`first_player`); passes count as moves. One chunk file holds several games; every array is plain numeric
or fixed-width unicode, so `np.load(allow_pickle=False)` reads it. Files are written to a
temporary name and renamed, so a reader never sees half a chunk.

Chunk layout (format version 1; G games, M moves in all, P policy entries in all):

| key              | dtype    | shape   | meaning                                                 |
|------------------|----------|---------|---------------------------------------------------------|
| format_version   | int64    | []      | RECORD_FORMAT_VERSION                                   |
| board_size       | int16    | [G]     |                                                         |
| komi             | float32  | [G]     | komi (White's handicap bonus not included)              |
| handicap         | int16    | [G]     | handicap stones (placed as setup, listed below)         |
| rules            | <U16     | [G]     | rule preset name                                        |
| model_id         | <U64     | [G]     | the network that played (both sides)                    |
| seed             | int64    | [G]     |                                                         |
| result           | float32  | [G]     | +1 Black won, -1 White won, 0 draw                      |
| score            | float32  | [G]     | Black's area minus White's minus komi; NaN if resigned  |
| resigned         | int8     | [G]     | 0, or the colour (1 black, 2 white) that resigned       |
| playthrough      | bool     | [G]     | resignation was disabled for this game                  |
| would_resign     | int8     | [G]     | in a playthrough game, the colour that would have       |
|                  |          |         | resigned first (0: none)                                |
| ownership        | int8     | [G, A-1]| final area owner per point (1, 2, 0), action order      |
| game_offsets     | int64    | [G+1]   | moves of game g are [offsets[g], offsets[g+1])          |
| actions          | int16    | [M]     | action played (pass = N*N)                              |
| root_value       | float32  | [M]     | search value at the root, for the player to move        |
| full_search      | bool     | [M]     | a full search: its policy is a training target          |
| policy_offsets   | int64    | [M+1]   | policy entries of move m                                |
| policy_actions   | int16    | [P]     | actions with visits (or Gumbel target mass)             |
| policy_weights   | float32  | [P]     | visit counts or target probabilities (normalise them)   |
| setup_offsets    | int64    | [G+1]   | setup stones of game g                                  |
| setup_locs       | int16    | [S]     | locs of setup stones                                    |
| setup_colors     | int8     | [S]     |                                                         |

Readers check a chunk's arrays against this layout before using them (`check_chunk_arrays`):
lengths and offsets that agree, actions and setup stones on the board, colours 1 or 2, finite
non-negative policy weights, results of +1, 0 or -1. A file that fails is a `RecordError`, never
an index past an array's end; `quarantine_chunk` moves such a file aside (into `quarantine/`
beside it, which no reader lists) and names it in the log, so one bad file cannot stop training.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from goengine.atomic import atomic_write
from goengine.coords import MAX_SIZE, MIN_SIZE

RECORD_FORMAT_VERSION = 1
QUARANTINE_DIR = "quarantine"
PER_GAME_KEYS = ("board_size", "komi", "handicap", "rules", "model_id", "seed", "result", "score",
                 "resigned", "playthrough", "would_resign")
log = logging.getLogger(__name__)


class RecordError(ValueError):
    """A chunk file that is missing, corrupt or of an unknown format."""


@dataclass
class PlayedGame:
    board_size: int
    komi: float
    rules: str
    model_id: str
    seed: int = 0
    handicap: int = 0
    setup: list[tuple[int, int]] = field(default_factory=list)  # (loc, colour)
    actions: list[int] = field(default_factory=list)
    root_values: list[float] = field(default_factory=list)
    full_search: list[bool] = field(default_factory=list)
    policies: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (actions, weights)
    result: float = 0.0
    score: float = float("nan")
    resigned: int = 0
    playthrough: bool = False
    would_resign: int = 0
    ownership: Optional[np.ndarray] = None

    def add_move(self, action: int, root_value: float, policy: Optional[np.ndarray]) -> None:
        """`policy`: visit counts or target probabilities over all actions, or None for a move
        whose search is not a training target."""
        self.actions.append(int(action))
        self.root_values.append(float(root_value))
        self.full_search.append(policy is not None)
        if policy is None:
            self.policies.append((np.zeros(0, np.int16), np.zeros(0, np.float32)))
        else:
            nz = np.flatnonzero(policy > 0)
            self.policies.append((nz.astype(np.int16), policy[nz].astype(np.float32)))

    @property
    def num_moves(self) -> int:
        return len(self.actions)

    @property
    def winner(self) -> int:
        return 1 if self.result > 0 else 2 if self.result < 0 else 0

    @property
    def first_player(self) -> int:
        return int(first_player(self.handicap, len(self.setup)))


def first_player(handicap, setup_stones):
    """The colour of a game's first move (1 Black, 2 White) from its handicap and its number of
    setup stones: White after handicap stones (as `GameState.place_handicap` leaves it), else
    Black. Works elementwise on arrays."""
    return np.where((np.asarray(handicap) > 0) & (np.asarray(setup_stones) > 0), 2, 1)


def write_chunk(path: str | os.PathLike, games: list[PlayedGame]) -> Path:
    """Write games to one chunk file atomically."""
    if not games:
        raise ValueError("a chunk needs at least one game")
    path = Path(path)
    num_points = max(g.board_size for g in games) ** 2
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(RECORD_FORMAT_VERSION, np.int64),
        "board_size": np.array([g.board_size for g in games], np.int16),
        "komi": np.array([g.komi for g in games], np.float32),
        "handicap": np.array([g.handicap for g in games], np.int16),
        "rules": np.array([g.rules for g in games], "<U16"),
        "model_id": np.array([g.model_id for g in games], "<U64"),
        "seed": np.array([g.seed for g in games], np.int64),
        "result": np.array([g.result for g in games], np.float32),
        "score": np.array([g.score for g in games], np.float32),
        "resigned": np.array([g.resigned for g in games], np.int8),
        "playthrough": np.array([g.playthrough for g in games], np.bool_),
        "would_resign": np.array([g.would_resign for g in games], np.int8),
    }
    ownership = np.zeros((len(games), num_points), np.int8)
    for i, g in enumerate(games):
        if g.ownership is not None:
            ownership[i, :len(g.ownership)] = g.ownership
    arrays["ownership"] = ownership
    arrays["game_offsets"] = np.concatenate([[0], np.cumsum([g.num_moves for g in games])]).astype(np.int64)
    arrays["actions"] = np.array([a for g in games for a in g.actions], np.int16)
    arrays["root_value"] = np.array([v for g in games for v in g.root_values], np.float32)
    arrays["full_search"] = np.array([f for g in games for f in g.full_search], np.bool_)
    policies = [p for g in games for p in g.policies]
    arrays["policy_offsets"] = np.concatenate([[0], np.cumsum([len(a) for a, _ in policies])]).astype(np.int64)
    arrays["policy_actions"] = (np.concatenate([a for a, _ in policies]) if policies else np.zeros(0)).astype(np.int16)
    arrays["policy_weights"] = (np.concatenate([w for _, w in policies]) if policies else np.zeros(0)).astype(np.float32)
    arrays["setup_offsets"] = np.concatenate([[0], np.cumsum([len(g.setup) for g in games])]).astype(np.int64)
    arrays["setup_locs"] = np.array([loc for g in games for loc, _ in g.setup], np.int16)
    arrays["setup_colors"] = np.array([c for g in games for _, c in g.setup], np.int8)
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def load_chunk_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of one chunk, checked (`check_chunk_arrays`). Raises RecordError for a
    missing, corrupt, unknown or inconsistent file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format_version"])
            if version != RECORD_FORMAT_VERSION:
                raise RecordError(f"{path}: record format version {version}, expected {RECORD_FORMAT_VERSION}")
            d = {k: data[k] for k in data.files}
    except RecordError:
        raise
    except Exception as e:  # a damaged zip can fail in many ways (BadZipFile, zlib.error, ...)
        raise RecordError(f"{path}: unreadable record chunk ({type(e).__name__}: {e})") from e
    check_chunk_arrays(d, path)
    return d


def _offsets_ok(offsets: np.ndarray, count: int, total: int) -> bool:
    return (offsets.ndim == 1 and offsets.shape[0] == count + 1 and int(offsets[0]) == 0
            and int(offsets[-1]) == total and bool(np.all(np.diff(offsets) >= 0)))


def check_chunk_arrays(d: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Raise RecordError unless the arrays of a chunk fit the layout above, so that readers can
    index them (and numba kernels replay them) without going past an array's end."""
    def bad(what: str) -> RecordError:
        return RecordError(f"{path}: corrupt record chunk: {what}")

    keys = PER_GAME_KEYS + ("ownership", "game_offsets", "actions", "root_value", "full_search", "policy_offsets",
                            "policy_actions", "policy_weights", "setup_offsets", "setup_locs", "setup_colors")
    missing = [k for k in keys if k not in d]
    if missing:
        raise bad(f"missing arrays {missing}")
    sizes = d["board_size"]
    if sizes.ndim != 1:
        raise bad("board_size is not a list")
    games = sizes.shape[0]
    if any(d[k].shape != (games,) for k in PER_GAME_KEYS):
        raise bad("per-game arrays of different lengths")
    if games and (int(sizes.min()) < MIN_SIZE or int(sizes.max()) > MAX_SIZE):
        raise bad(f"a board size outside {MIN_SIZE}..{MAX_SIZE}")
    moves, entries, stones = d["actions"].shape[0], d["policy_actions"].shape[0], d["setup_locs"].shape[0]
    if not _offsets_ok(d["game_offsets"], games, moves) or d["root_value"].shape != (moves,) \
            or d["full_search"].shape != (moves,):
        raise bad("game offsets that do not fit the moves")
    if not _offsets_ok(d["policy_offsets"], moves, entries) or d["policy_weights"].shape != (entries,):
        raise bad("policy offsets that do not fit the policy entries")
    if not _offsets_ok(d["setup_offsets"], games, stones) or d["setup_colors"].shape != (stones,):
        raise bad("setup offsets that do not fit the setup stones")
    points = sizes.astype(np.int64) ** 2
    ownership = d["ownership"]
    if ownership.ndim != 2 or ownership.shape[0] != games or (games and ownership.shape[1] < int(points.max())):
        raise bad("an ownership array of the wrong shape")
    move_points = np.repeat(points, np.diff(d["game_offsets"]))
    actions = d["actions"].astype(np.int64)
    if np.any((actions < 0) | (actions > move_points)):
        raise bad("an action off the board")
    entry_points = np.repeat(move_points, np.diff(d["policy_offsets"]))
    policy_actions = d["policy_actions"].astype(np.int64)
    if np.any((policy_actions < 0) | (policy_actions > entry_points)):
        raise bad("a policy action off the board")
    weights = d["policy_weights"].astype(np.float64)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise bad("a policy weight that is negative, infinite or NaN")
    stone_sizes = np.repeat(sizes.astype(np.int64), np.diff(d["setup_offsets"]))
    w = stone_sizes + 2
    locs = d["setup_locs"].astype(np.int64)
    rows, cols = locs // np.maximum(w, 1) - 1, locs % np.maximum(w, 1) - 1
    if np.any((rows < 0) | (rows >= stone_sizes) | (cols < 0) | (cols >= stone_sizes)):
        raise bad("a setup stone off the board")
    if np.any((d["setup_colors"] != 1) & (d["setup_colors"] != 2)):
        raise bad("a setup stone whose colour is neither 1 (black) nor 2 (white)")
    result = d["result"].astype(np.float64)
    if np.any((result != 1) & (result != 0) & (result != -1)):
        raise bad("a result other than +1, 0 or -1")
    if np.any(np.isinf(d["score"])) or not np.all(np.isfinite(d["komi"])):
        raise bad("an infinite score or komi")
    for key in ("resigned", "would_resign"):
        if np.any((d[key] < 0) | (d[key] > 2)):
            raise bad(f"{key} other than 0, 1 or 2")
    if np.any((ownership < 0) | (ownership > 2)):
        raise bad("an ownership value other than 0, 1 or 2")


def read_chunk(path: str | os.PathLike) -> list[PlayedGame]:
    """All games of one chunk. Raises RecordError for a missing, corrupt or unknown file."""
    d = load_chunk_arrays(path)
    games = []
    go, po, so = d["game_offsets"], d["policy_offsets"], d["setup_offsets"]
    for i in range(len(d["board_size"])):
        size = int(d["board_size"][i])
        g = PlayedGame(board_size=size, komi=float(d["komi"][i]), rules=str(d["rules"][i]),
                       model_id=str(d["model_id"][i]), seed=int(d["seed"][i]), handicap=int(d["handicap"][i]),
                       result=float(d["result"][i]), score=float(d["score"][i]), resigned=int(d["resigned"][i]),
                       playthrough=bool(d["playthrough"][i]), would_resign=int(d["would_resign"][i]),
                       ownership=d["ownership"][i, :size * size].copy())
        g.setup = [(int(loc), int(c)) for loc, c in zip(d["setup_locs"][so[i]:so[i + 1]], d["setup_colors"][so[i]:so[i + 1]])]
        for m in range(go[i], go[i + 1]):
            g.actions.append(int(d["actions"][m]))
            g.root_values.append(float(d["root_value"][m]))
            g.full_search.append(bool(d["full_search"][m]))
            g.policies.append((d["policy_actions"][po[m]:po[m + 1]].copy(), d["policy_weights"][po[m]:po[m + 1]].copy()))
        games.append(g)
    return games


def chunk_game_count(path: str | os.PathLike) -> int:
    """How many games a chunk holds, without decoding them. Raises RecordError."""
    try:
        with np.load(path, allow_pickle=False) as d:
            version = int(d["format_version"])
            count = int(d["game_offsets"].size) - 1
    except Exception as e:
        raise RecordError(f"{path}: unreadable record chunk ({type(e).__name__}: {e})") from e
    if version != RECORD_FORMAT_VERSION:
        raise RecordError(f"{path}: record format version {version}, expected {RECORD_FORMAT_VERSION}")
    return count


def quarantine_chunk(path: str | os.PathLike, error: Exception,
                     report: Optional[Callable[[str], None]] = None) -> Path:
    """Move a chunk that cannot be read into `quarantine/` beside it (readers list only the
    folder itself), and say so in the log and to `report`. Returns the new path."""
    path = Path(path)
    target = path.parent / QUARANTINE_DIR / path.name
    target.parent.mkdir(exist_ok=True)
    try:
        os.replace(path, target)
    except FileNotFoundError:  # another reader moved it first
        pass
    message = f"record chunk {path} moved to {target}: {error}"
    if report is not None:
        report(message)
    else:
        log.warning("%s", message)
    return target


def count_games(paths: Iterable[str | os.PathLike], report: Optional[Callable[[str], None]] = None) -> int:
    """Games in the chunks `paths` (counted without decoding them); chunks that cannot be
    opened are quarantined."""
    total = 0
    for p in paths:
        try:
            total += chunk_game_count(p)
        except RecordError as e:
            quarantine_chunk(p, e, report)
    return total


def chunk_paths(directory: str | os.PathLike) -> list[Path]:
    """Chunk files in a directory, oldest first (names sort by creation order)."""
    directory = Path(directory)
    if not directory.exists():
        return []
    return sorted(p for p in directory.glob("*.npz") if not p.name.startswith("."))
