"""A slow, obviously correct Go game for checking the fast board against.

Nothing here is shared with `goengine`: a position is a tuple of N*N colours (0 empty, 1 black,
2 white) in row-major order from the top-left, so a point is the same integer as a goengine
action, and a pass is None. Chains and liberties come from flood fills; positions are compared
as whole tuples, so no hashing is involved.

Rules, straight from their definitions:
- a move places a stone, removes the opponent chains left without liberties, then removes its
  own chain if that has no liberties (suicide);
- suicide of a single stone is always illegal, of several stones only where `suicide` is allowed;
- simple ko: a move may not recreate the position from just before the opponent's last move
  (when that move was a stone, not a pass);
- positional superko: a move may not recreate any earlier position;
- situational superko: a move may not recreate an earlier position with the same player to move
  (every position after a move, pass or setup is recorded with the player to move next);
- Tromp-Taylor area score: stones plus empty regions that reach only one colour.
"""

from __future__ import annotations

EMPTY, BLACK, WHITE = 0, 1, 2


class ReferenceBoard:
    def __init__(self, size: int, position: tuple[int, ...] | None = None):
        self.size = size
        self.position = tuple(position) if position is not None else (EMPTY,) * (size * size)
        self._neighbours = [self._points_next_to(p) for p in range(size * size)]
        self._cache_position: tuple[int, ...] | None = None
        self._cache: dict[int, frozenset[int]] = {}

    def _points_next_to(self, p: int) -> tuple[int, ...]:
        row, col = divmod(p, self.size)
        out = []
        for r, c in ((row - 1, col), (row, col - 1), (row, col + 1), (row + 1, col)):
            if 0 <= r < self.size and 0 <= c < self.size:
                out.append(r * self.size + c)
        return tuple(out)

    def neighbours(self, p: int) -> tuple[int, ...]:
        return self._neighbours[p]

    def chain(self, position: tuple[int, ...], p: int) -> set[int]:
        colour = position[p]
        members, frontier = {p}, [p]
        while frontier:
            q = frontier.pop()
            for n in self._neighbours[q]:
                if position[n] == colour and n not in members:
                    members.add(n)
                    frontier.append(n)
        return members

    def liberties(self, position: tuple[int, ...], chain: set[int]) -> set[int]:
        return {n for q in chain for n in self._neighbours[q] if position[n] == EMPTY}

    def chains(self) -> list[tuple[set[int], set[int]]]:
        """Every chain of the current position with its liberties."""
        seen: set[int] = set()
        out = []
        for p, colour in enumerate(self.position):
            if colour != EMPTY and p not in seen:
                members = self.chain(self.position, p)
                seen |= members
                out.append((members, self.liberties(self.position, members)))
        return out

    def _chain_here(self, p: int) -> frozenset[int]:
        """The chain through the stone `p` of the current position (flood fills are cached
        until the position changes)."""
        if self._cache_position is not self.position:
            self._cache_position, self._cache = self.position, {}
        found = self._cache.get(p)
        if found is None:
            found = frozenset(self.chain(self.position, p))
            for q in found:
                self._cache[q] = found
        return found

    def after(self, p: int, colour: int) -> tuple[tuple[int, ...], set[int], set[int]]:
        """The position after `colour` places a stone on the empty point `p`, with the opponent
        stones captured and the own stones lost to suicide. Placing a stone does not change
        which stones the other chains hold; it joins `p` with the own chains next to it."""
        assert self.position[p] == EMPTY
        grid = list(self.position)
        grid[p] = colour
        captured: set[int] = set()
        own = {p}
        for n in self._neighbours[p]:
            if grid[n] == colour:
                own |= self._chain_here(n)
            elif grid[n] == 3 - colour and n not in captured:
                enemy = self._chain_here(n)
                if not any(grid[m] == EMPTY for q in enemy for m in self._neighbours[q]):
                    captured |= enemy
        for q in captured:
            grid[q] = EMPTY
        suicided: set[int] = set()
        if not any(grid[m] == EMPTY for q in own for m in self._neighbours[q]):
            suicided = own
            for q in own:
                grid[q] = EMPTY
        return tuple(grid), captured, suicided

    def is_eye_like(self, p: int, colour: int) -> bool:
        """The playout eye: an empty point whose neighbours are all `colour`, with at most one
        opponent stone on its diagonals in the centre and none on the edge."""
        size = self.size
        if self.position[p] != EMPTY or any(self.position[n] != colour for n in self._neighbours[p]):
            return False
        row, col = divmod(p, size)
        diagonals = [(r, c) for r in (row - 1, row + 1) for c in (col - 1, col + 1)]
        on_board = [r * size + c for r, c in diagonals if 0 <= r < size and 0 <= c < size]
        opponents = sum(1 for q in on_board if self.position[q] == 3 - colour)
        return opponents == 0 if len(on_board) < 4 else opponents <= 1

    def area_score(self) -> int:
        """Black's stones and black-only regions minus White's (Tromp-Taylor, no komi)."""
        score = 0
        seen: set[int] = set()
        for p, colour in enumerate(self.position):
            if colour == BLACK:
                score += 1
            elif colour == WHITE:
                score -= 1
            elif p not in seen:
                region = self.chain(self.position, p)
                seen |= region
                reaches = {self.position[n] for q in region for n in self._neighbours[q]} - {EMPTY}
                if reaches == {BLACK}:
                    score += len(region)
                elif reaches == {WHITE}:
                    score -= len(region)
        return score


class ReferenceGame:
    """A game under one ko rule ("simple", "positional", "situational") and suicide setting."""

    def __init__(self, size: int, ko: str, suicide: bool, position: tuple[int, ...] | None = None,
                 to_play: int = BLACK):
        assert ko in ("simple", "positional", "situational")
        self.board = ReferenceBoard(size, position)
        self.ko = ko
        self.suicide = suicide
        self.to_play = to_play
        self.prisoners = {BLACK: 0, WHITE: 0}  # stones each colour has taken off the board
        self.situations = {(self.board.position, to_play)}
        self.positions = {self.board.position}
        # (colour, point, position before it) of the last stone played
        self.before_last_stone: tuple[int, int, tuple[int, ...]] | None = None
        self.last_was_pass = False

    @property
    def position(self) -> tuple[int, ...]:
        return self.board.position

    def outcome(self, p: int | None, colour: int):
        """(legal, new position, captured, suicided) of `colour` playing `p`."""
        if p is None:
            return True, self.position, set(), set()
        if self.position[p] != EMPTY:
            return False, None, set(), set()
        new, captured, suicided = self.board.after(p, colour)
        if suicided and (not self.suicide or len(suicided) == 1):
            return False, new, captured, suicided
        if self.ko == "simple":
            if new == self.simple_ko_position(colour):
                return False, new, captured, suicided
        elif self.ko == "positional":
            if new in self.positions:
                return False, new, captured, suicided
        elif (new, 3 - colour) in self.situations:
            return False, new, captured, suicided
        return True, new, captured, suicided

    def simple_ko_position(self, colour: int) -> tuple[int, ...] | None:
        """The position `colour` may not recreate under simple ko, if there is one."""
        last = self.before_last_stone
        if last is None or self.last_was_pass or last[0] != 3 - colour:
            return None
        return last[2]

    def is_legal(self, p: int | None, colour: int) -> bool:
        return self.outcome(p, colour)[0]

    def legal_points(self, colour: int) -> list[int]:
        return [p for p in range(len(self.position)) if self.is_legal(p, colour)]

    def play(self, p: int | None, colour: int) -> tuple[set[int], set[int]]:
        """Play a legal move; returns (captured, suicided) points."""
        legal, new, captured, suicided = self.outcome(p, colour)
        assert legal, f"illegal move {p} for {colour}"
        if p is None:
            self.last_was_pass = True
        else:
            self.before_last_stone = (colour, p, self.position)
            self.last_was_pass = False
        self.board.position = new
        self.prisoners[colour] += len(captured)
        self.prisoners[3 - colour] += len(suicided)
        self.to_play = 3 - colour
        self.positions.add(new)
        self.situations.add((new, self.to_play))
        return captured, suicided
