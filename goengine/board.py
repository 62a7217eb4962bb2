"""The board: stones, chains, captures and the Zobrist hash, as numba kernels over one array.

A board is a single int64 array of shape [NUM_FIELDS, L] (N = size, W = N + 2, L = W * W padded
points, see `coords.py`). One array keeps kernel calls cheap (numba passes a tuple of arrays to a
function at a cost of ~150 ns, one array at a few ns), copying a board is one memcpy, and a batch
of boards is simply an array [G, NUM_FIELDS, L]. Kernels mutate it in place and return scalars.

| row          | indexed by | meaning                                                          |
|--------------|------------|------------------------------------------------------------------|
| COLOR        | loc        | EMPTY 0, BLACK 1, WHITE 2, WALL 3                                |
| HEAD         | loc        | loc of the head stone of the stone's chain (0 where no stone)    |
| NEXT         | loc        | next stone of the same chain (a circular list)                   |
| LIBS         | head loc   | pseudo-liberties: one per (stone, empty neighbour) pair          |
| STONES       | head loc   | number of stones in the chain                                    |
| EMPTY_LIST   | 0..        | the empty points, the first INFO[NUM_EMPTY] entries, any order   |
| EMPTY_POS    | loc        | index of an empty point in EMPTY_LIST                            |
| INFO         | below      | SIZE (N), KO_LOC (the simple-ko point, 0: none) and KO_COLOR     |
|              |            | (the colour that may not take it: only the opponent of the       |
|              |            | capturer is barred, which matters when GTP plays one colour      |
|              |            | twice), CAPTURES+BLACK / CAPTURES+WHITE (stones each colour      |
|              |            | captured), NUM_EMPTY, HASH (Zobrist hash of the stones, 64 bits) |

The board knows the rules of stones only (captures, simple ko, suicide); superko keys, rule sets
and scoring conventions live in `game.py`, `rules.py` and `scoring.py`. Pseudo-liberties are zero
exactly when real liberties are, which is all that captures and legality need;
`count_liberties` gives the real count for features.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .coords import MAX_SIZE, PASS_LOC, check_size

EMPTY = 0
BLACK = 1
WHITE = 2
WALL = 3

COLOR, HEAD, NEXT, LIBS, STONES, EMPTY_LIST, EMPTY_POS, INFO = range(8)
NUM_FIELDS = 8
SIZE, KO_LOC, CAPTURES, NUM_EMPTY, HASH, KO_COLOR = 0, 1, 1, 4, 5, 6  # INFO[CAPTURES + colour]

_MAX_LOCS = (MAX_SIZE + 2) * (MAX_SIZE + 2)


def _zobrist_tables() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0x5EED60)
    stones = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=(3, _MAX_LOCS),
                          dtype=np.int64, endpoint=True)
    stones[0] = 0
    side = np.zeros(3, dtype=np.int64)
    side[WHITE] = rng.integers(1, np.iinfo(np.int64).max, dtype=np.int64)
    return stones, side


# ZOBRIST[colour, loc]; SIDE_KEY[colour] is xor-ed in for "white to play" in situational keys.
ZOBRIST, SIDE_KEY = _zobrist_tables()


def new_board(size: int) -> np.ndarray:
    """An empty board of the given size (2..25)."""
    check_size(size)
    board = np.zeros((NUM_FIELDS, (size + 2) * (size + 2)), dtype=np.int64)
    board[INFO, SIZE] = size
    clear(board)
    return board


def board_size(board: np.ndarray) -> int:
    return int(board[INFO, SIZE])


@nb.njit(cache=True)
def clear(b):
    n = b[INFO, SIZE]
    w = n + 2
    b[:INFO, :] = 0
    b[COLOR, :] = WALL
    count = 0
    for row in range(n):
        for col in range(n):
            loc = (row + 1) * w + col + 1
            b[COLOR, loc] = EMPTY
            b[EMPTY_LIST, count] = loc
            b[EMPTY_POS, loc] = count
            count += 1
    b[INFO, :] = 0
    b[INFO, SIZE] = n
    b[INFO, NUM_EMPTY] = count


@nb.njit(cache=True, inline="always")
def _remove_empty(b, loc):
    i = b[EMPTY_POS, loc]
    last = b[EMPTY_LIST, b[INFO, NUM_EMPTY] - 1]
    b[EMPTY_LIST, i] = last
    b[EMPTY_POS, last] = i
    b[INFO, NUM_EMPTY] -= 1


@nb.njit(cache=True, inline="always")
def _add_empty(b, loc):
    count = b[INFO, NUM_EMPTY]
    b[EMPTY_LIST, count] = loc
    b[EMPTY_POS, loc] = count
    b[INFO, NUM_EMPTY] = count + 1


@nb.njit(cache=True)
def _merge(b, h1, h2):
    """Join two chains of one colour; the larger keeps its head, which is returned."""
    if b[STONES, h1] < b[STONES, h2]:
        h1, h2 = h2, h1
    s = h2
    while True:
        b[HEAD, s] = h1
        s = b[NEXT, s]
        if s == h2:
            break
    n1 = b[NEXT, h1]
    b[NEXT, h1] = b[NEXT, h2]
    b[NEXT, h2] = n1
    b[LIBS, h1] += b[LIBS, h2]
    b[STONES, h1] += b[STONES, h2]
    return h1


@nb.njit(cache=True)
def remove_chain(b, head):
    """Take a chain off the board; returns the number of stones removed."""
    w = b[INFO, SIZE] + 2
    col = b[COLOR, head]
    other = 3 - col
    removed = 0
    s = head
    while True:
        nxt = b[NEXT, s]
        b[COLOR, s] = EMPTY
        b[INFO, HASH] ^= ZOBRIST[col, s]
        _add_empty(b, s)
        for n in (s - w, s - 1, s + 1, s + w):
            if b[COLOR, n] == other:
                b[LIBS, b[HEAD, n]] += 1
        b[HEAD, s] = 0
        b[NEXT, s] = 0
        removed += 1
        s = nxt
        if s == head:
            break
    return removed


@nb.njit(cache=True)
def play(b, loc, color):
    """Play a stone (or pass, loc 0) for `color`, which must be a legal move; captures and
    (where the rules allow it and the move is one) multi-stone suicide are carried out.
    Returns the number of opponent stones captured."""
    b[INFO, KO_LOC] = 0
    if loc == PASS_LOC:
        return 0
    w = b[INFO, SIZE] + 2
    other = 3 - color
    b[COLOR, loc] = color
    b[INFO, HASH] ^= ZOBRIST[color, loc]
    _remove_empty(b, loc)
    libs = 0
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, n]
        if c == EMPTY:
            libs += 1
        elif c != WALL:
            b[LIBS, b[HEAD, n]] -= 1
    b[HEAD, loc] = loc
    b[NEXT, loc] = loc
    b[LIBS, loc] = libs
    b[STONES, loc] = 1
    head = loc
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        if b[COLOR, n] == color:
            h = b[HEAD, n]
            if h != head:
                head = _merge(b, head, h)
    captured = 0
    ko = 0
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        if b[COLOR, n] == other and b[LIBS, b[HEAD, n]] == 0:
            captured += remove_chain(b, b[HEAD, n])
            ko = n
    b[INFO, CAPTURES + color] += captured
    if b[LIBS, head] == 0:
        b[INFO, CAPTURES + other] += remove_chain(b, head)
    elif captured == 1 and b[STONES, head] == 1 and b[LIBS, head] == 1:
        b[INFO, KO_LOC] = ko
        b[INFO, KO_COLOR] = other
    return captured


@nb.njit(cache=True, inline="always")
def _adjacency(b, loc, head, w):
    """How many of `loc`'s neighbours belong to the chain headed by `head`."""
    k = 0
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        if b[HEAD, n] == head:
            k += 1
    return k


@nb.njit(cache=True)
def is_legal(b, loc, color, allow_suicide):
    """Legality by the rules of stones: the point is empty, it is not the simple-ko point barred
    to `color`, and the move is not suicide (multi-stone suicide allowed when `allow_suicide`).
    Superko is checked by `repeats_position`."""
    if loc == PASS_LOC:
        return True
    if b[COLOR, loc] != EMPTY or (loc == b[INFO, KO_LOC] and color == b[INFO, KO_COLOR]):
        return False
    w = b[INFO, SIZE] + 2
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        if b[COLOR, n] == EMPTY:
            return True
    other = 3 - color
    has_own = False
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, n]
        if c == color:
            has_own = True
            h = b[HEAD, n]
            if b[LIBS, h] > _adjacency(b, loc, h, w):
                return True
        elif c == other:
            h = b[HEAD, n]
            if b[LIBS, h] == _adjacency(b, loc, h, w):
                return True
    return allow_suicide and has_own


@nb.njit(cache=True)
def _chain_hash(b, head, color):
    h = 0
    s = head
    while True:
        h ^= ZOBRIST[color, s]
        s = b[NEXT, s]
        if s == head:
            break
    return h


@nb.njit(cache=True)
def hash_after(b, loc, color):
    """The Zobrist hash of the stones after `color` plays the legal move `loc`."""
    h = b[INFO, HASH]
    if loc == PASS_LOC:
        return h
    w = b[INFO, SIZE] + 2
    other = 3 - color
    h ^= ZOBRIST[color, loc]
    survives = False
    seen0 = seen1 = seen2 = -1
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, n]
        if c == EMPTY:
            survives = True
        elif c == other:
            head = b[HEAD, n]
            if head != seen0 and head != seen1 and head != seen2:
                seen2, seen1, seen0 = seen1, seen0, head
                if b[LIBS, head] == _adjacency(b, loc, head, w):
                    survives = True
                    h ^= _chain_hash(b, head, other)
        elif c == color:
            if b[LIBS, b[HEAD, n]] > _adjacency(b, loc, b[HEAD, n], w):
                survives = True
    if survives:
        return h
    # A multi-stone suicide: the new stone and every own neighbouring chain leave the board.
    h ^= ZOBRIST[color, loc]
    seen0 = seen1 = seen2 = -1
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        if b[COLOR, n] == color:
            head = b[HEAD, n]
            if head != seen0 and head != seen1 and head != seen2:
                seen2, seen1, seen0 = seen1, seen0, head
                h ^= _chain_hash(b, head, color)
    return h


@nb.njit(cache=True)
def situation_key(position_hash, to_play, situational):
    """The key superko compares: the stones alone (positional), or the stones and the player to
    move (situational)."""
    if situational:
        return position_hash ^ SIDE_KEY[to_play]
    return position_hash


@nb.njit(cache=True)
def repeats_position(b, loc, color, history_keys, history_len, situational):
    """Whether `color` playing the (otherwise legal) move `loc` recreates an earlier position
    (positional superko) or situation (situational superko). `history_keys[:history_len]` holds
    the keys of every position so far, as made by `situation_key`. Passes never repeat."""
    if loc == PASS_LOC:
        return False
    key = situation_key(hash_after(b, loc, color), 3 - color, situational)
    for i in range(history_len):
        if history_keys[i] == key:
            return True
    return False


@nb.njit(cache=True)
def rebuild(b):
    """Recompute chains, liberties, the empty list and the hash from the COLOR row alone (after
    setup stones were placed or removed). Captures and the ko point are kept."""
    n = b[INFO, SIZE]
    w = n + 2
    b[HEAD:INFO, :] = 0
    b[INFO, HASH] = 0
    count = 0
    for row in range(n):
        for col in range(n):
            loc = (row + 1) * w + col + 1
            c = b[COLOR, loc]
            if c == EMPTY:
                b[EMPTY_LIST, count] = loc
                b[EMPTY_POS, loc] = count
                count += 1
            else:
                b[INFO, HASH] ^= ZOBRIST[c, loc]
                b[HEAD, loc] = loc
                b[NEXT, loc] = loc
                b[STONES, loc] = 1
    b[INFO, NUM_EMPTY] = count
    for row in range(n):
        for col in range(n):
            loc = (row + 1) * w + col + 1
            c = b[COLOR, loc]
            if c == EMPTY:
                continue
            for nb_loc in (loc + 1, loc + w):
                if b[COLOR, nb_loc] == c and b[HEAD, nb_loc] != b[HEAD, loc]:
                    _merge(b, b[HEAD, loc], b[HEAD, nb_loc])
    for row in range(n):
        for col in range(n):
            loc = (row + 1) * w + col + 1
            if b[COLOR, loc] == EMPTY:
                for nb_loc in (loc - w, loc - 1, loc + 1, loc + w):
                    c = b[COLOR, nb_loc]
                    if c == BLACK or c == WHITE:
                        b[LIBS, b[HEAD, nb_loc]] += 1


def set_stones(board: np.ndarray, stones: dict[int, int]) -> None:
    """Setup: put a colour (EMPTY to clear) on each loc, then rebuild the chains. Chains left
    without a liberty stay as they are, as SGF setup allows."""
    for loc, col in stones.items():
        if not 0 <= loc < board.shape[1] or board[COLOR, loc] == WALL:
            raise ValueError(f"loc {loc} is not on the board")
        if col not in (EMPTY, BLACK, WHITE):
            raise ValueError(f"bad colour {col}")
        board[COLOR, loc] = col
    board[INFO, KO_LOC] = 0
    rebuild(board)


@nb.njit(cache=True)
def count_liberties(b, loc, mark):
    """Real liberties of the chain through `loc`. `mark` is an int32 scratch array of length L,
    with mark[0] holding the last stamp used; entries are stamped, never cleared."""
    head = b[HEAD, loc]
    stamp = mark[0] + 1
    mark[0] = stamp
    w = b[INFO, SIZE] + 2
    count = 0
    s = head
    while True:
        for n in (s - w, s - 1, s + 1, s + w):
            if b[COLOR, n] == EMPTY and mark[n] != stamp:
                mark[n] = stamp
                count += 1
        s = b[NEXT, s]
        if s == head:
            break
    return count


@nb.njit(cache=True)
def is_eyeish(b, loc, color):
    """A single-point eye of `color` for playouts: every orthogonal neighbour is `color` or wall,
    and the opponent holds fewer than two diagonals (none when the point is on the edge)."""
    w = b[INFO, SIZE] + 2
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, n]
        if c != color and c != WALL:
            return False
    other = 3 - color
    bad = 0
    edge = 0
    for n in (loc - w - 1, loc - w + 1, loc + w - 1, loc + w + 1):
        c = b[COLOR, n]
        if c == other:
            bad += 1
        elif c == WALL:
            edge = 1
    return bad + edge < 2
