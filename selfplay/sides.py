"""Match sides: how each kind of player picks moves in the games of a match where it is to move.

A side serves up to P concurrent games, in slots 0..P-1. At each step of a match, `begin(slots,
games)` gets the slots where this side is to move (with their `GameState`s) and returns a
callable that yields one `Reply` per slot, in order. Internal sides do their work inside that
callable: one batched search (one network call per search step) or one network call for all
the slots. External engines (GTP, one process per slot) send their genmove requests at once on
threads, so they think while the internal side computes.

Every game is reproducible from its seed alone: `start_game(slot, game, seed)` reseeds the
slot's random generators (a search tree's rollout generator included) and clears its tree, so
the moves of a game do not depend on which slot it runs in or on the other games beside it.
(Gumbel root search draws from one generator shared by all trees and is the exception.)

The end of a game (KGS's procedure, run by the match): after two passes each side says which
stones it holds dead (`dead_stones`); an external engine through `final_status_list dead`, an
internal player by the rollout estimate the GTP engine's own `final_status_list` uses. When they
differ, play resumes (`GameState.resumed`: the cleanup phase): an external engine is asked for
`kgs-genmove_cleanup` where it has it, a search player may not pass while the estimate still
sees dead opponent stones, and a policy player captures them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from goengine.board import EMPTY, is_eyeish
from goengine.coords import PASS_LOC, action_of_loc, loc_of_action, loc_of_vertex, vertex_of_loc
from goengine.evaluator import Evaluator
from goengine.features.state import encode_state
from goengine.game import GameState, colour_name
from goengine.stone_status import StoneStatus, end_of_game_status
from goengine.players import masked_policy
from goengine.rng import new_rng
from goengine.search import BatchedSearch, SearchConfig, rollout_search_config
from goengine.search.choice import choose_action

from .gtp_client import GtpClient, GtpClientError, GtpEngineDied, GtpError, GtpTimeout
from .players_spec import PlayerSpec


@dataclass(frozen=True)
class Reply:
    """A side's answer for one game: a move (PASS_LOC to pass), a resignation, or a forfeit
    (the player could not give a legal move: crash, timeout, illegal move) with its reason."""
    loc: int = PASS_LOC
    resign: bool = False
    forfeit: Optional[str] = None


@dataclass(frozen=True)
class SideSettings:
    """What every side needs to know of the match."""
    size: int
    komi: float
    max_moves: int
    search: SearchConfig
    allow_resign: bool = True
    resign_consecutive: int = 2
    move_timeout: float = 60.0
    setup_timeout: float = 30.0
    quit_grace: float = 1.0
    engine_score: bool = True
    device: str = "cpu"
    backend: str = "auto"           # the runtime of networks (goengine.nn.backends)
    precision: Optional[str] = None  # None: the runtime's exact default; "fp32" or "bf16"
    log: Optional[Callable[[str], None]] = None  # hears which runtime a network runs on


# Random playouts per estimate of which stones are dead (as the GTP engine's default).
DEAD_STONE_PLAYOUTS = 400


def estimated_status(game: GameState) -> StoneStatus:
    """Alive, dead and unsettled stones by the rollout ownership estimate (deterministic: the
    GTP engine's end-of-game estimate, without a network)."""
    return end_of_game_status(game, None, DEAD_STONE_PLAYOUTS)


def opponent_dead_stones(game: GameState) -> list[int]:
    """Stones of the opponent of the side to move that the estimate holds dead."""
    opponent = 3 - game.to_play
    return [loc for loc in estimated_status(game).dead if game.stone_at(loc) == opponent]


class Side:
    """The interface; the base class plays nothing."""
    external = False

    def __init__(self, name: str):
        self.name = name

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        pass

    def dead_stones(self, slot: int, game: GameState) -> Optional[frozenset[int]]:
        """The stones (locs) this player holds dead now that two passes ended the game, or None
        when it cannot say (an internal player: when the estimate cannot call a chain)."""
        status = estimated_status(game)
        return None if status.unsettled else frozenset(status.dead)

    def begin(self, slots: Sequence[int], games: Sequence[GameState]) -> Callable[[], list[Reply]]:
        raise NotImplementedError

    def end_game(self, slot: int, game: GameState, scored: bool) -> Optional[str]:
        """Called when a game in `slot` ends; an external engine's own verdict (final_score)
        when the game was scored and the engine gives one, else None."""
        return None

    def close(self) -> None:
        pass


def random_move(game: GameState, rng: np.random.Generator) -> int:
    """Uniform over legal board moves that do not fill the mover's own eye; PASS_LOC when none."""
    mask = game.legal_mask()
    candidates = [int(a) for a in np.flatnonzero(mask[:-1])
                  if not is_eyeish(game.board, loc_of_action(int(a), game.size), game.to_play)]
    if not candidates:
        return PASS_LOC
    return loc_of_action(candidates[int(rng.integers(len(candidates)))], game.size)


class RandomSide(Side):
    def __init__(self, name: str, num_slots: int):
        super().__init__(name)
        self.rngs = [np.random.default_rng(0) for _ in range(num_slots)]

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        self.rngs[slot] = np.random.default_rng(seed)

    def begin(self, slots, games):
        return lambda: [Reply(random_move(g, self.rngs[s])) for s, g in zip(slots, games)]


class SearchSide(Side):
    """MCTS with a network, or with rollouts alone when `evaluator` is None: one BatchedSearch
    with a tree per slot, searched together, with tree reuse across the moves of a game."""

    def __init__(self, name: str, evaluator: Optional[Evaluator], search: SearchConfig,
                 settings: SideSettings, num_slots: int):
        super().__init__(name)
        if evaluator is None:
            search = rollout_search_config(search.num_simulations, resign_threshold=search.resign_threshold)
        self.config = search
        self.settings = settings
        self.search = BatchedSearch(search, settings.size, num_slots, evaluator,
                                    max_moves=settings.max_moves, seed=0)
        self.searched = [-1] * num_slots  # moves the game had at the slot's last search; -1: none
        self.low_values = [0] * num_slots
        self.rngs = [np.random.default_rng(0) for _ in range(num_slots)]
        self.min_resign_move = settings.size * settings.size // 4

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        self.search.reset(slot)
        self.search.rngs[slot] = new_rng(seed)
        self.rngs[slot] = np.random.default_rng(seed)
        self.searched[slot] = -1
        self.low_values[slot] = 0

    def _sync(self, slot: int, game: GameState) -> bool:
        """Walk the slot's tree down the moves played since its last search."""
        done = self.searched[slot]
        if done < 0:
            return False
        for move in game.moves[done:]:
            if not self.search.advance(slot, game.action_of(move.loc)):
                return False
        return True

    def begin(self, slots, games):
        return lambda: self._decide(list(slots), list(games))

    def _decide(self, slots: list[int], games: list[GameState]) -> list[Reply]:
        allowed: list[Optional[np.ndarray]] = []
        for slot, game in zip(slots, games):
            self.search.set_root(slot, game, reuse=self._sync(slot, game))
            allowed.append(self._cleanup_moves(game) if game.resumed else None)
        results = self.search.search(slots, noise=[False] * len(slots), allowed=allowed)
        replies = []
        c = self.config
        for slot, game, result in zip(slots, games, results):
            self.searched[slot] = len(game.moves)
            temperature = c.temperature if game.move_number < c.temperature_moves else 0.0
            action = choose_action(result, temperature, self.rngs[slot], c.use_lcb, c.lcb_min_visit_fraction)
            if game.resumed:
                replies.append(Reply(loc_of_action(action, game.size)))  # no resigning in cleanup
                continue
            if self.settings.allow_resign and result.root_value < c.resign_threshold:
                self.low_values[slot] += 1
            else:
                self.low_values[slot] = 0
            if (self.settings.allow_resign and self.low_values[slot] >= self.settings.resign_consecutive
                    and game.move_number >= self.min_resign_move):
                replies.append(Reply(resign=True))
            else:
                replies.append(Reply(loc_of_action(action, game.size)))
        return replies

    @staticmethod
    def _cleanup_moves(game: GameState) -> Optional[np.ndarray]:
        """No passing while the opponent has dead stones on the board (None: no restriction)."""
        if not opponent_dead_stones(game):
            return None
        mask = game.legal_mask()
        mask[-1] = False
        return mask if mask.any() else None


class PolicySide(Side):
    """The network's most probable legal move; one network call for all slots."""

    def __init__(self, name: str, evaluator: Evaluator):
        super().__init__(name)
        self.evaluator = evaluator

    def begin(self, slots, games):
        return lambda: self._decide(list(slots), list(games))

    def _decide(self, slots: list[int], games: list[GameState]) -> list[Reply]:
        features = np.stack([encode_state(g, self.evaluator.feature_set) for g in games])
        logits, _ = self.evaluator.evaluate(features)
        replies = []
        for i, (slot, game) in enumerate(zip(slots, games)):
            mask = game.legal_mask()
            if game.resumed:
                mask = _capturing_moves(game, mask)
            replies.append(Reply(loc_of_action(int(np.argmax(masked_policy(logits[i], mask))), game.size)))
        return replies


def _capturing_moves(game: GameState, legal: np.ndarray) -> np.ndarray:
    """Cleanup for a player without a search: while the estimate sees dead opponent stones,
    only the legal liberties of those chains (or, when none is legal, any legal move that fills
    no own eye); otherwise every legal move, pass included."""
    dead = opponent_dead_stones(game)
    if not dead:
        return legal
    size = game.size
    width = size + 2
    mask = np.zeros_like(legal)
    for loc in dead:
        for nb in (loc - 1, loc + 1, loc - width, loc + width):
            if game.stone_at(nb) == EMPTY and legal[action_of_loc(nb, size)]:
                mask[action_of_loc(nb, size)] = True
    if not mask.any():
        for action in np.flatnonzero(legal[:-1]):
            mask[action] = not is_eyeish(game.board, loc_of_action(int(action), size), game.to_play)
    if not mask.any():
        mask[-1] = True
    return mask


class ObjectSide(Side):
    """A ready player object (goengine.players), asked one game at a time."""

    def __init__(self, name: str, player):
        super().__init__(name)
        self.player = player

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        if hasattr(self.player, "new_game"):
            self.player.new_game()

    def dead_stones(self, slot: int, game: GameState) -> Optional[frozenset[int]]:
        """The player's own `dead_stones(game)` when it has one, else the rollout estimate."""
        if hasattr(self.player, "dead_stones"):
            dead = self.player.dead_stones(game)
            return None if dead is None else frozenset(dead)
        return super().dead_stones(slot, game)

    def begin(self, slots, games):
        def decide() -> list[Reply]:
            replies = []
            for game in games:
                decision = self.player.decide(game)
                replies.append(Reply(resign=True) if decision.resign else Reply(decision.loc))
            return replies
        return decide


class GtpSide(Side):
    """An external engine, one process per slot. A crash, a timeout, a failure reply or an
    illegal move forfeits the game; the process is then discarded and the slot's next game
    starts a fresh one. A program that cannot be started at all raises OSError (a setup error,
    not a forfeit)."""
    external = True

    def __init__(self, name: str, command: Sequence[str], settings: SideSettings, num_slots: int):
        super().__init__(name)
        self.command = list(command)
        self.settings = settings
        self.clients: list[Optional[GtpClient]] = [None] * num_slots
        self.synced = [0] * num_slots  # moves of the slot's game the engine has on its board
        self.failed: list[Optional[str]] = [None] * num_slots
        self.pool = ThreadPoolExecutor(max_workers=max(1, num_slots), thread_name_prefix=f"gtp-{name}")

    def _discard(self, slot: int) -> None:
        client, self.clients[slot] = self.clients[slot], None
        if client is not None:
            client.close()

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        s = self.settings
        self.synced[slot] = 0
        self.failed[slot] = None
        client = self.clients[slot]
        if client is not None and not client.alive:
            self._discard(slot)
            client = None
        try:
            if client is None:
                client = GtpClient(self.command, timeout=s.setup_timeout, quit_grace=s.quit_grace)
                self.clients[slot] = client
            client.boardsize(s.size)
            client.clear_board()
            client.komi(s.komi)
            if "set_random_seed" in client.list_commands():
                client.set_random_seed(seed % (2 ** 31))
        except GtpClientError as e:
            self.failed[slot] = f"engine failed to set up the game: {_first_line(e)}"
            self._discard(slot)

    def begin(self, slots, games):
        futures = [self.pool.submit(self._genmove, s, g) for s, g in zip(slots, games)]
        return lambda: [f.result() for f in futures]

    def _forfeit(self, slot: int, reason: str) -> Reply:
        self._discard(slot)
        return Reply(forfeit=reason)

    def _sync(self, client: GtpClient, slot: int, game: GameState) -> None:
        for move in game.moves[self.synced[slot]:]:
            client.play(colour_name(move.color), vertex_of_loc(move.loc, game.size))
            self.synced[slot] += 1

    def _genmove(self, slot: int, game: GameState) -> Reply:
        if self.failed[slot] is not None:
            return self._forfeit(slot, self.failed[slot])
        client = self.clients[slot]
        if client is None:
            return self._forfeit(slot, "engine is not running")
        timeout = self.settings.move_timeout
        try:
            self._sync(client, slot, game)
            if game.resumed and self._has_cleanup(client):
                text = client.genmove_cleanup(colour_name(game.to_play), timeout=timeout)
            else:
                text = client.genmove(colour_name(game.to_play), timeout=timeout)
        except GtpTimeout:
            return self._forfeit(slot, f"timeout: no reply within {timeout:g} s")
        except GtpEngineDied as e:
            return self._forfeit(slot, f"engine died: {_first_line(e)}")
        except GtpError as e:
            return self._forfeit(slot, f"engine error: {_first_line(e)}")
        except GtpClientError as e:
            return self._forfeit(slot, f"protocol error: {_first_line(e)}")
        if text == "resign":
            return Reply(resign=True)
        try:
            loc = loc_of_vertex(text, game.size)
        except ValueError:
            return self._forfeit(slot, f"unreadable move {text!r}")
        if not game.is_legal(loc):
            return self._forfeit(slot, f"illegal move {text} ({game.illegal_reason(loc, game.to_play)})")
        self.synced[slot] += 1
        return Reply(loc)

    @staticmethod
    def _has_cleanup(client: GtpClient) -> bool:
        return "kgs-genmove_cleanup" in client.list_commands()

    def dead_stones(self, slot: int, game: GameState) -> Optional[frozenset[int]]:
        """The engine's `final_status_list dead`; None when it has no answer."""
        client = self.clients[slot]
        if self.failed[slot] is not None or client is None or not client.alive:
            return None
        try:
            self._sync(client, slot, game)
            return frozenset(loc_of_vertex(v, game.size)
                             for v in client.final_status_list("dead", timeout=self.settings.setup_timeout))
        except (GtpClientError, ValueError):
            if not client.alive:
                self._discard(slot)
            return None

    def end_game(self, slot: int, game: GameState, scored: bool) -> Optional[str]:
        client = self.clients[slot]
        if not (scored and self.settings.engine_score and client is not None and client.alive):
            return None
        try:
            self._sync(client, slot, game)
            return client.final_score(timeout=self.settings.setup_timeout)
        except GtpClientError:
            if not client.alive:
                self._discard(slot)
            return None

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for slot in range(len(self.clients)):
            self._discard(slot)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def make_side(spec: PlayerSpec, settings: SideSettings, num_slots: int) -> Side:
    """Build the side that plays `spec` in up to `num_slots` concurrent games."""
    if spec.kind == "random":
        return RandomSide(spec.name, num_slots)
    if spec.kind == "gtp":
        return GtpSide(spec.name, spec.command, settings, num_slots)
    if spec.kind == "player":
        return ObjectSide(spec.name, spec.player)
    search = spec.search if spec.search is not None else settings.search
    if spec.visits is not None:
        search = search.with_(num_simulations=spec.visits)
    if spec.kind == "rollout":
        return SearchSide(spec.name, None, search, settings, num_slots)
    evaluator = spec.load_evaluator(settings.device, settings.backend, settings.precision, log=settings.log)
    if evaluator.board_size is not None and evaluator.board_size != settings.size:
        raise ValueError(f"{spec.name} plays {evaluator.board_size}x{evaluator.board_size}, "
                         f"the match is {settings.size}x{settings.size}")
    if spec.kind == "policy":
        return PolicySide(spec.name, evaluator)
    return SearchSide(spec.name, evaluator, search, settings, num_slots)
