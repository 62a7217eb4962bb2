"""Feature encoding speed: positions per second for each feature set, on one core.

    python benchmarks/features.py --size 19 [--sgf-dir DIR] [--positions 2000]

prints one JSON line: {"size": 19, "source": ..., "agz_positions_per_s": ...,
"alphago_positions_per_s": ..., "alphago_cpu_us_per_position": ..., ...}: rates per second of
wall time and per CPU-second (the steadier figure on a shared machine, whose load average is
reported too). Positions come from
real games when --sgf-dir (or the GOENGINE_SGF_DIR environment variable) names a folder of
SGF files of that size, otherwise from random games (uniform legal moves that do not fill an
own eye, stopped at a random move between 20% and 90% of N*N): random play leaves many more
short-of-liberty chains, so ladder reads, than real games do. The timed loop runs in numba
over prepared histories, so it measures `encode` alone.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba as nb  # noqa: E402
import numpy as np  # noqa: E402

from goengine.board import COLOR, EMPTY, EMPTY_LIST, INFO, NUM_EMPTY, is_eyeish, is_legal, new_board, play  # noqa: E402
from goengine.coords import loc_of_sgf_point  # noqa: E402
from goengine.features import FEATURE_SETS, encode, push_position  # noqa: E402
from goengine.rng import new_rng, randint  # noqa: E402

HISTORY = 8


@nb.njit(cache=True)
def _random_move(b, color, rng):
    k = b[INFO, NUM_EMPTY]
    for _ in range(4 * k):
        loc = b[EMPTY_LIST, randint(rng, k)]
        if is_legal(b, loc, color, False) and not is_eyeish(b, loc, color):
            return loc
    return 0


@nb.njit(cache=True)
def _snapshot(b, color_hist, move_hist, hist_len, moves_len, color, i, boards, hists, moves, lens, to_play):
    boards[i] = b
    hists[i] = color_hist
    moves[i] = move_hist
    lens[i, 0] = hist_len
    lens[i, 1] = moves_len
    to_play[i] = color


@nb.njit(cache=True)
def _random_positions(size_board, count, rng, boards, hists, moves, lens, to_play):
    n = size_board[INFO, 0]
    for i in range(count):
        b = size_board.copy()
        color_hist = np.zeros((HISTORY, b.shape[1]), np.int8)
        move_hist = np.full(HISTORY, -1, np.int64)
        color_hist[0] = b[COLOR]
        hist_len, moves_len = 1, 0
        stop = n * n // 5 + randint(rng, n * n * 7 // 10)
        color = 1
        for _ in range(stop):
            loc = _random_move(b, color, rng)
            play(b, loc, color)
            hist_len, moves_len = push_position(b, color_hist, hist_len, move_hist, moves_len, loc)
            color = 3 - color
        _snapshot(b, color_hist, move_hist, hist_len, moves_len, color, i, boards, hists, moves, lens, to_play)


@nb.njit(cache=True)
def _game_positions(size_board, game_moves, game_colors, picks, first, boards, hists, moves, lens, to_play):
    """Replay one game, keeping the positions before the moves whose index is in `picks`."""
    b = size_board.copy()
    color_hist = np.zeros((HISTORY, b.shape[1]), np.int8)
    move_hist = np.full(HISTORY, -1, np.int64)
    color_hist[0] = b[COLOR]
    hist_len, moves_len = 1, 0
    j = first
    for i in range(game_moves.shape[0]):
        loc = game_moves[i]
        if loc != 0 and b[COLOR, loc] != EMPTY:
            break
        if j - first < picks.shape[0] and picks[j - first] == i:
            _snapshot(b, color_hist, move_hist, hist_len, moves_len, game_colors[i], j, boards, hists, moves, lens,
                      to_play)
            j += 1
        play(b, loc, game_colors[i])
        hist_len, moves_len = push_position(b, color_hist, hist_len, move_hist, moves_len, loc)
    return j


@nb.njit(cache=True)
def _encode_all(code, boards, hists, moves, lens, to_play, out, repeats):
    for _ in range(repeats):
        for i in range(boards.shape[0]):
            encode(code, boards[i], hists[i], lens[i, 0], moves[i], lens[i, 1], to_play[i], out)


def _sgf_games(folder: str, size: int, limit: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sgfmill import sgf

    games = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.sgf"), recursive=True)):
        try:
            with open(path, "rb") as f:
                game = sgf.Sgf_game.from_bytes(f.read())
        except ValueError:
            continue
        root = game.get_root()
        if game.get_size() != size or root.has_property("AB") or root.has_property("AW"):
            continue
        locs, colors = [], []
        for node in game.get_main_sequence()[1:]:
            colour, point = node.get_move()
            if colour is None:
                continue
            locs.append(0 if point is None else loc_of_sgf_point(node.get_raw(colour.upper()).decode(), size))
            colors.append(1 if colour == "b" else 2)
        if len(locs) >= 20:
            games.append((np.array(locs, np.int64), np.array(colors, np.int64)))
        if len(games) >= limit:
            break
    return games


def build_positions(size: int, count: int, seed: int, sgf_dir: str | None):
    board = new_board(size)
    num_locs = board.shape[1]
    boards = np.zeros((count, board.shape[0], num_locs), np.int64)
    hists = np.zeros((count, HISTORY, num_locs), np.int8)
    moves = np.zeros((count, HISTORY), np.int64)
    lens = np.zeros((count, 2), np.int64)
    to_play = np.zeros(count, np.int64)
    games = _sgf_games(sgf_dir, size, max(20, count // 10)) if sgf_dir else []  # ~10 positions a game
    if not games:
        _random_positions(board, count, new_rng(seed), boards, hists, moves, lens, to_play)
        return "random", (boards, hists, moves, lens, to_play)
    rng = np.random.default_rng(seed)
    per_game = max(1, -(-count // len(games)))
    filled = 0
    for locs, colors in games:
        if filled >= count:
            break
        k = min(per_game, count - filled, len(locs))
        picks = np.sort(rng.choice(len(locs), size=k, replace=False)).astype(np.int64)
        filled = _game_positions(board, locs, colors, picks, filled, boards, hists, moves, lens, to_play)
    return f"sgf ({len(games)} games)", tuple(a[:filled] for a in (boards, hists, moves, lens, to_play))


def measure(size: int, count: int, seconds: float, seed: int, sgf_dir: str | None) -> dict:
    source, arrays = build_positions(size, count, seed, sgf_dir)
    result = {"size": size, "source": source, "positions": int(arrays[0].shape[0])}
    for fs in FEATURE_SETS.values():
        if fs.name == "alphago-value":
            continue
        out = np.zeros((fs.num_planes, size, size), np.uint8)
        _encode_all(fs.code, *arrays, out, 1)  # compile or load from cache, warm the caches
        best = 0.0
        total = 0
        start, cpu_start = time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            t = time.process_time()
            _encode_all(fs.code, *arrays, out, 1)
            best = max(best, arrays[0].shape[0] / max(time.process_time() - t, 1e-9))
            total += arrays[0].shape[0]
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        result[f"{fs.name}_positions_per_s"] = round(total / wall)
        result[f"{fs.name}_positions_per_cpu_s"] = round(total / cpu)
        result[f"{fs.name}_cpu_us_per_position"] = round(1e6 * cpu / total, 2)
        result[f"{fs.name}_best_chunk_cpu_us_per_position"] = round(1e6 / best, 2)
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=19)
    parser.add_argument("--positions", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per feature set")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sgf-dir", default=os.environ.get("GOENGINE_SGF_DIR"),
                        help="a folder of SGF games (default: $GOENGINE_SGF_DIR; random games when unset)")
    args = parser.parse_args()
    print(json.dumps(measure(args.size, args.positions, args.seconds, args.seed, args.sgf_dir)))


if __name__ == "__main__":
    main()
