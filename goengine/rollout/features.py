"""The rollout policy's features: cheap local facts about each candidate move, in numba.

A candidate is an empty point where the player to move (the "mover") may play by the rules of
stones (not the simple-ko point, not suicide) and that is not the mover's own single-point eye
(`board.is_eyeish`); pass is never a candidate. Each candidate gets up to NUM_SLOTS feature ids
(int64, -1 where a slot is unused), indices into one weight vector of NUM_FEATURES entries.
The policy is a linear softmax: p(move) is proportional to exp(sum of its features' weights).

Neighbour states (3 bits), always from the mover's view; liberties are real liberties:

| state | point                   | state | point                      |
|-------|-------------------------|-------|----------------------------|
| 0     | empty                   | 4     | opponent stone, 1 liberty  |
| 1     | own stone, 1 liberty    | 5     | opponent stone, 2 liberties|
| 2     | own stone, 2 liberties  | 6     | opponent stone, 3 or more  |
| 3     | own stone, 3 or more    | 7     | off the board              |

Features (slot: id range, meaning):

| slot | feature     | ids                   | set when                                                   |
|------|-------------|-----------------------|------------------------------------------------------------|
| 0    | pattern     | PATTERN + hash        | always: the states of the 8 points around the candidate,   |
|      |             | (2**18 buckets)       | reduced to the least code over the 8 board symmetries      |
| 1    | response    | RESPONSE + hash       | the candidate lies in the 12-point diamond (Manhattan      |
|      |             | (2**18 buckets)       | distance 1 or 2) around the last move: the states of the   |
|      |             |                       | last move and its diamond plus the candidate's place in    |
|      |             |                       | it, least code over the 8 symmetries                       |
| 2    | save        | SAVE + 3*a + s (9)    | the candidate is the liberty of an own chain in atari;     |
|      |             |                       | a: liberties after the move 1, 2, 3+ (0..2); s: stones of  |
|      |             |                       | the largest such chain 1, 2-3, 4+ (0..2)                   |
| 3    | capture     | CAPTURE + 2*c + r (8) | the move captures: c: stones captured 1, 2, 3-5, 6+;       |
|      |             |                       | r: 1 when a captured chain touches an own chain in atari    |
| 4    | self-atari  | SELF_ATARI + s (4)    | no capture and one liberty after the move; s: stones of    |
|      |             |                       | the resulting chain 1, 2-3, 4-6, 7+                         |
| 5    | atari       | ATARI + s (3)         | the move takes an opponent chain from 2 liberties to 1 and |
|      |             |                       | is no self-atari; s: its stones 1, 2-3, 4+ (largest)       |
| 6    | last dist   | DIST_LAST + d - 2 (15)| d = dx + dy + max(dx, dy) to the last move, 2 <= d <= 16   |
| 7    | prev dist   | DIST_PREV + d - 2 (15)| the same to the move before it (the mover's own last move) |
| 8    | line        | LINE + k (5)          | k = distance to the nearest edge, 0..3, or 4 for 4+        |

"Liberties after the move" counts the empty neighbours of the candidate, the liberties of the
own chains it joins (other than itself) and the points of the opponent stones it captures that
touch the candidate or a chain it joins, capped at 3.

Chain liberties are cached per chain head for one call, stamped by a counter in
`cache[0, 0]` (loc 0 is never a head): `cache` is int64 [L, CACHE_COLS]: per head the stamp,
the liberty count up to 4 and up to 4 liberty locs; per loc (column STATE_COL) the point's
state for this call's mover.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..board import COLOR, EMPTY, EMPTY_LIST, HEAD, INFO, KO_COLOR, KO_LOC, NEXT, NUM_EMPTY, SIZE, STONES, WALL, is_eyeish

PATTERN_BITS = 18
RESPONSE_BITS = 18
PATTERN = 0
RESPONSE = PATTERN + (1 << PATTERN_BITS)
SAVE = RESPONSE + (1 << RESPONSE_BITS)
CAPTURE = SAVE + 9
SELF_ATARI = CAPTURE + 8
ATARI = SELF_ATARI + 4
DIST_LAST = ATARI + 3
DIST_PREV = DIST_LAST + 15
LINE = DIST_PREV + 15
NUM_FEATURES = LINE + 5
NUM_SLOTS = 9
FEATURE_VERSION = 1

S_PATTERN, S_RESPONSE, S_SAVE, S_CAPTURE, S_SELF_ATARI, S_ATARI, S_DIST_LAST, S_DIST_PREV, S_LINE = range(9)
CACHE_COLS = 7
STATE_COL = 6
OFF_BOARD = 7
# VIEW[colour - 1, state]: a state kept from Black's view as seen by that colour (own and
# opponent swap for White). candidate_features keeps states from the mover's view and reads
# them through VIEW[0], the identity; incremental.py keeps Black's view for both movers.
VIEW = np.array([[0, 1, 2, 3, 4, 5, 6, 7], [0, 4, 5, 6, 1, 2, 3, 7]], dtype=np.int64)


def _symmetries() -> list:
    """The 8 symmetries of the square as maps of (drow, dcol) offsets."""
    return [lambda r, c: (r, c), lambda r, c: (c, -r), lambda r, c: (-r, -c), lambda r, c: (-c, r),
            lambda r, c: (r, -c), lambda r, c: (-r, c), lambda r, c: (c, r), lambda r, c: (-c, -r)]


def _permutations(offsets: list[tuple[int, int]]) -> np.ndarray:
    """perm[s, i]: the index in `offsets` that offset i moves to under symmetry s."""
    index = {o: i for i, o in enumerate(offsets)}
    return np.array([[index[f(r, c)] for (r, c) in offsets] for f in _symmetries()], dtype=np.int64)


# The 3x3 neighbourhood, row by row without the centre: NW N NE W E SW S SE.
RING_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
RING_PERM = _permutations(RING_OFFSETS)
# The diamond around the last move: distance 1, then distance 2.
DIAMOND_OFFSETS = [(-1, 0), (0, -1), (0, 1), (1, 0),
                   (-2, 0), (-1, -1), (-1, 1), (0, -2), (0, 2), (1, -1), (1, 1), (2, 0)]
DIAMOND_PERM = _permutations(DIAMOND_OFFSETS)


def _half_tables(perm: np.ndarray) -> np.ndarray:
    """table[s, h, v]: where symmetry s moves the four 3-bit states packed in v, which sit at
    ring positions 4h..4h+3; OR-ing both halves gives the transformed 24-bit code."""
    v = np.arange(1 << 12, dtype=np.int64)
    table = np.zeros((8, 2, 1 << 12), np.int64)
    for s in range(8):
        for h in range(2):
            for j in range(4):
                table[s, h] |= ((v >> (3 * j)) & 7) << (3 * perm[s, 4 * h + j])
    return table


RING_HALVES = _half_tables(RING_PERM)
RING_DR = np.array([o[0] for o in RING_OFFSETS], dtype=np.int64)
RING_DC = np.array([o[1] for o in RING_OFFSETS], dtype=np.int64)
DIAMOND_DR = np.array([o[0] for o in DIAMOND_OFFSETS], dtype=np.int64)
DIAMOND_DC = np.array([o[1] for o in DIAMOND_OFFSETS], dtype=np.int64)


def new_cache(num_locs: int) -> np.ndarray:
    """Scratch for `candidate_features` (any contents are fine to start with)."""
    return np.zeros((num_locs, CACHE_COLS), np.int64)


@nb.njit(cache=True, inline="always")
def _hash(key, bits):
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


@nb.njit(cache=True)
def chain_liberties(b, head, cache):
    """Real liberties of the chain headed by `head`, capped at 4; their locs are in
    cache[head, 2:2 + count]. Cached until the stamp in cache[0, 0] changes."""
    stamp = cache[0, 0]
    if cache[head, 0] == stamp:
        return cache[head, 1]
    w = b[INFO, SIZE] + 2
    count = 0
    s = head
    while count < 4:
        for n in (s - w, s - 1, s + 1, s + w):
            if b[COLOR, n] == EMPTY:
                seen = False
                for k in range(count):
                    if cache[head, 2 + k] == n:
                        seen = True
                if not seen and count < 4:
                    cache[head, 2 + count] = n
                    count += 1
        s = b[NEXT, s]
        if s == head:
            break
    cache[head, 0] = stamp
    cache[head, 1] = count
    return count


@nb.njit(cache=True, inline="always")
def point_state(b, loc, color, cache):
    """The state (table above) of `loc` for the mover `color`."""
    c = b[COLOR, loc]
    if c == EMPTY:
        return 0
    if c == WALL:
        return OFF_BOARD
    libs = min(chain_liberties(b, b[HEAD, loc], cache), 3)
    return libs if c == color else 3 + libs


@nb.njit(cache=True)
def fill_states(b, color, cache):
    """cache[loc, STATE_COL] = point_state for every loc (stamps a new call first)."""
    cache[0, 0] += 1
    stamp = cache[0, 0]
    for loc in range(b.shape[1]):
        c = b[COLOR, loc]
        if c == EMPTY:
            cache[loc, STATE_COL] = 0
        elif c == WALL:
            cache[loc, STATE_COL] = OFF_BOARD
        else:
            head = b[HEAD, loc]
            libs = cache[head, 1] if cache[head, 0] == stamp else chain_liberties(b, head, cache)
            libs = min(libs, 3)
            cache[loc, STATE_COL] = libs if c == color else 3 + libs


@nb.njit(cache=True, inline="always")
def _state_at(cache, row, col, n, w):
    if row < 0 or row >= n or col < 0 or col >= n:
        return OFF_BOARD
    return cache[(row + 1) * w + col + 1, STATE_COL]


@nb.njit(cache=True)
def pattern_code(b, loc, cache):
    """The least 24-bit code of the candidate's 8 neighbour states (3 bits each, ring order
    NW N NE W E SW S SE from the low bits) over the 8 symmetries, from the states
    `fill_states` left in `cache`."""
    w = b[INFO, SIZE] + 2
    raw = np.int64(0)
    for i in range(8):
        raw |= cache[loc + RING_DR[i] * w + RING_DC[i], STATE_COL] << (3 * i)
    return _least_ring_code(raw)


@nb.njit(cache=True, inline="always")
def _least_ring_code(raw):
    """The least of a raw ring code's 8 symmetric images."""
    low = raw & 0xFFF
    high = raw >> 12
    best = raw
    for s in range(1, 8):
        code = RING_HALVES[s, 0, low] | RING_HALVES[s, 1, high]
        if code < best:
            best = code
    return best


@nb.njit(cache=True)
def _diamond_codes(b, last, cache, codes, view):
    """codes[s]: the diamond around `last` (centre state in the low 3 bits, the 12 diamond
    points above) under symmetry s, with the kept states read through `view` (a VIEW row)."""
    n = b[INFO, SIZE]
    w = n + 2
    row = last // w - 1
    col = last % w - 1
    centre = view[cache[last, STATE_COL]]
    states = np.empty(12, np.int64)
    for i in range(12):
        states[i] = view[_state_at(cache, row + DIAMOND_DR[i], col + DIAMOND_DC[i], n, w)]
    for s in range(8):
        code = centre
        for i in range(12):
            code |= states[i] << (3 + 3 * DIAMOND_PERM[s, i])
        codes[s] = code


@nb.njit(cache=True, inline="always")
def _response_feature(codes, slot):
    best = np.int64(1) << 62
    for s in range(8):
        key = codes[s] | (DIAMOND_PERM[s, slot] << 39)
        if key < best:
            best = key
    return RESPONSE + _hash(best, RESPONSE_BITS)


@nb.njit(cache=True, inline="always")
def _add_unique(arr, count, value, cap):
    for k in range(count):
        if arr[k] == value:
            return count
    if count < cap:
        arr[count] = value
        count += 1
    return count


@nb.njit(cache=True)
def _is_candidate(b, loc, color, w, cache):
    if loc == b[INFO, KO_LOC] and color == b[INFO, KO_COLOR]:
        return False
    has_empty = False
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        if b[COLOR, n] == EMPTY:
            has_empty = True
    if has_empty:
        return True
    if is_eyeish(b, loc, color):
        return False
    other = 3 - color
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, n]
        if c == other and chain_liberties(b, b[HEAD, n], cache) == 1:
            return True
        if c == color and chain_liberties(b, b[HEAD, n], cache) >= 2:
            return True
    return False


@nb.njit(cache=True, inline="always")
def _needs_tactics(cache, loc, w, view):
    """False when no tactical slot can be set: no orthogonal neighbour is an own chain in
    atari or an opponent chain with 1 or 2 liberties, and the move keeps two liberties (two
    empty neighbours, or an own neighbour chain with 3 or more). States read through `view`."""
    empties = 0
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        st = view[cache[n, STATE_COL]]
        if st == 1 or st == 4 or st == 5:
            return True
        if st == 0:
            empties += 1
        elif st == 3:
            empties += 2
    return empties < 2


@nb.njit(cache=True)
def _tactics(b, loc, color, w, cache, out, own, opp, libs):
    """Slots save, capture, self-atari and atari of `out` (a row of feats); own, opp (int64[4])
    and libs (int64[3]) are scratch."""
    other = 3 - color
    n_own = 0
    n_opp = 0
    n_libs = 0
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, n]
        if c == EMPTY:
            n_libs = _add_unique(libs, n_libs, n, 3)
        elif c == color:
            n_own = _add_unique(own, n_own, b[HEAD, n], 4)
        elif c == other:
            n_opp = _add_unique(opp, n_opp, b[HEAD, n], 4)
    captured = 0
    rescue = 0
    atari_size = 0
    for j in range(n_opp):
        h = opp[j]
        k = chain_liberties(b, h, cache)
        if k == 1:
            captured += b[STONES, h]
            # Captured stones next to the move or to a chain it joins become liberties.
            s = h
            while True:
                freed = False
                for m in (s - w, s - 1, s + 1, s + w):
                    if m == loc:
                        freed = True
                    elif b[COLOR, m] == color:
                        if chain_liberties(b, b[HEAD, m], cache) == 1:
                            rescue = 1
                        for i in range(n_own):
                            if own[i] == b[HEAD, m]:
                                freed = True
                if freed:
                    n_libs = _add_unique(libs, n_libs, s, 3)
                s = b[NEXT, s]
                if s == h:
                    break
        elif k == 2:
            atari_size = max(atari_size, b[STONES, h])
    saved_size = 0
    joined = 1
    for j in range(n_own):
        h = own[j]
        k = chain_liberties(b, h, cache)
        joined += b[STONES, h]
        if k == 1:
            saved_size = max(saved_size, b[STONES, h])
        if k >= 4:
            n_libs = 3
        else:
            for i in range(k):
                lib = cache[h, 2 + i]
                if lib != loc:
                    n_libs = _add_unique(libs, n_libs, lib, 3)
    after = min(n_libs, 3)
    if saved_size > 0:
        a = after - 1 if after > 0 else 0
        s = 0 if saved_size == 1 else (1 if saved_size <= 3 else 2)
        out[S_SAVE] = SAVE + 3 * a + s
    if captured > 0:
        c = 0 if captured == 1 else (1 if captured == 2 else (2 if captured <= 5 else 3))
        out[S_CAPTURE] = CAPTURE + 2 * c + rescue
    elif after <= 1:
        s = 0 if joined == 1 else (1 if joined <= 3 else (2 if joined <= 6 else 3))
        out[S_SELF_ATARI] = SELF_ATARI + s
    if atari_size > 0 and (captured > 0 or after >= 2):
        out[S_ATARI] = ATARI + (0 if atari_size == 1 else (1 if atari_size <= 3 else 2))


@nb.njit(cache=True)
def candidate_features(b, color, last_move, prev_move, cache, locs, feats):
    """Fill locs[k] (int64[>= N*N]) and feats[k, :] (int64[>= N*N, NUM_SLOTS], -1 for unused
    slots) for every candidate move of `color`, in the board's empty-list order.
    `last_move` / `prev_move`: locs of the last two moves (0 pass, -1 unknown). Returns the
    number of candidates."""
    fill_states(b, color, cache)
    n = b[INFO, SIZE]
    w = n + 2
    has_last = last_move > 0
    has_prev = prev_move > 0
    codes = np.empty(8, np.int64)
    own = np.empty(4, np.int64)
    opp = np.empty(4, np.int64)
    libs = np.empty(3, np.int64)
    last_row = 0
    last_col = 0
    prev_row = prev_move // w if has_prev else 0
    prev_col = prev_move % w if has_prev else 0
    if has_last:
        if b[COLOR, last_move] == EMPTY or b[COLOR, last_move] == WALL:
            has_last = False  # a move that was captured since (or a bad loc): no response
        else:
            _diamond_codes(b, last_move, cache, codes, VIEW[0])
            last_row = last_move // w
            last_col = last_move % w
    k = 0
    for i in range(b[INFO, NUM_EMPTY]):
        loc = b[EMPTY_LIST, i]
        if not _is_candidate(b, loc, color, w, cache):
            continue
        prow = loc // w
        pcol = loc - prow * w
        row = prow - 1
        col = pcol - 1
        out = feats[k]
        for j in range(NUM_SLOTS):
            out[j] = -1
        out[S_PATTERN] = PATTERN + _hash(pattern_code(b, loc, cache), PATTERN_BITS)
        if has_last:
            dr = prow - last_row
            dc = pcol - last_col
            ar = abs(dr)
            ac = abs(dc)
            if ar + ac <= 2:
                for slot in range(12):
                    if DIAMOND_DR[slot] == dr and DIAMOND_DC[slot] == dc:
                        out[S_RESPONSE] = _response_feature(codes, slot)
            d = ar + ac + max(ar, ac)
            if d <= 16:
                out[S_DIST_LAST] = DIST_LAST + d - 2
        if has_prev:
            ar = abs(prow - prev_row)
            ac = abs(pcol - prev_col)
            d = ar + ac + max(ar, ac)
            if 2 <= d <= 16:
                out[S_DIST_PREV] = DIST_PREV + d - 2
        if _needs_tactics(cache, loc, w, VIEW[0]):
            _tactics(b, loc, color, w, cache, out, own, opp, libs)
        edge = min(min(row, col), min(n - 1 - row, n - 1 - col))
        out[S_LINE] = LINE + min(edge, 4)
        locs[k] = loc
        k += 1
    return k


def feature_name(feature: int) -> str:
    """A readable name for a feature id (for tests and inspection)."""
    for name, start, count in (("pattern", PATTERN, 1 << PATTERN_BITS),
                               ("response", RESPONSE, 1 << RESPONSE_BITS), ("save", SAVE, 9),
                               ("capture", CAPTURE, 8), ("self_atari", SELF_ATARI, 4),
                               ("atari", ATARI, 3), ("dist_last", DIST_LAST, 15),
                               ("dist_prev", DIST_PREV, 15), ("line", LINE, 5)):
        if start <= feature < start + count:
            return f"{name}[{feature - start}]"
    raise ValueError(f"feature id {feature} out of range")


__all__ = ["CACHE_COLS", "NUM_FEATURES", "NUM_SLOTS", "candidate_features", "chain_liberties",
           "feature_name", "new_cache", "pattern_code", "point_state"]
