"""An external engine as a match player: one GTP process per slot, asked for its moves on
threads so that it thinks while the players of this process compute.

At the end of a game the engine names its dead stones (`final_status_list dead`), is asked for
`kgs-genmove_cleanup` in the cleanup phase where it has that command, and gives its own
`final_score` beside ours.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Sequence

from goengine.coords import loc_of_vertex, vertex_of_loc
from goengine.game import GameState, colour_name
from goengine.players import Decision, Player

from .gtp_client import GtpClient, GtpClientError, GtpEngineDied, GtpError, GtpTimeout
from .players_spec import PlayerSettings


class GtpPlayer(Player):
    """An external engine, one process per slot. A crash, a timeout, a failure reply or an
    illegal move forfeits the game; the process is then discarded and the slot's next game
    starts a fresh one. A program that cannot be started at all raises OSError (a setup error,
    not a forfeit)."""
    external = True

    def __init__(self, name: str, command: Sequence[str], settings: PlayerSettings, num_slots: int):
        self.name = name
        self.num_slots = num_slots
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

    def _forfeit(self, slot: int, reason: str) -> Decision:
        self._discard(slot)
        return Decision(forfeit=reason)

    def _sync(self, client: GtpClient, slot: int, game: GameState) -> None:
        for move in game.moves[self.synced[slot]:]:
            client.play(colour_name(move.color), vertex_of_loc(move.loc, game.size))
            self.synced[slot] += 1

    def _genmove(self, slot: int, game: GameState) -> Decision:
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
            return Decision(resign=True)
        try:
            loc = loc_of_vertex(text, game.size)
        except ValueError:
            return self._forfeit(slot, f"unreadable move {text!r}")
        if not game.is_legal(loc):
            return self._forfeit(slot, f"illegal move {text} ({game.illegal_reason(loc, game.to_play)})")
        self.synced[slot] += 1
        return Decision(loc)

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
