"""Helpers for tests that run `goengine gtp` as a process: its command line, GNU Go's, and a
game between two GTP engines driven move by move."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from selfplay.gtp_client import GtpClient

ROOT = Path(__file__).resolve().parent.parent


def engine_argv(*extra: str) -> list[str]:
    return [sys.executable, "-m", "goengine.cli", "gtp", *extra]


def engine_env() -> dict[str, str]:
    """The environment for the engine process: the repository on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def find_gnugo() -> Optional[str]:
    configured = os.environ.get("GNUGO")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/games/gnugo", os.X_OK):
        return "/usr/games/gnugo"
    return shutil.which("gnugo")


def gnugo_argv(gnugo: str, level: int = 1) -> list[str]:
    return [gnugo, "--mode", "gtp", "--level", str(level), "--chinese-rules"]


@dataclass
class GameOutcome:
    moves: list[tuple[str, str]] = field(default_factory=list)  # (colour, vertex)
    resigned: Optional[str] = None  # the colour that resigned
    seconds: dict[str, float] = field(default_factory=lambda: {"black": 0.0, "white": 0.0})
    longest: dict[str, float] = field(default_factory=lambda: {"black": 0.0, "white": 0.0})


def play_game(black: GtpClient, white: GtpClient, size: int = 9, komi: float = 7.5, max_moves: int = 400,
              clocks: Optional[dict[str, float]] = None, genmove_timeout: float = 120.0) -> GameOutcome:
    """Play a game between two engines, each told the other's moves. With `clocks` (seconds
    of absolute time for some colours), those sides get time_settings and, before each of
    their moves, time_left with what their wall-clock time left them."""
    engines = {"black": black, "white": white}
    clocks = clocks or {}
    for colour, engine in engines.items():
        engine.boardsize(size)
        engine.clear_board()
        engine.komi(komi)
        if colour in clocks:
            engine.command("time_settings", int(clocks[colour]), 0, 0)
    outcome = GameOutcome()
    passes = 0
    colour = "black"
    while passes < 2 and len(outcome.moves) < max_moves:
        mover, other = engines[colour], engines["white" if colour == "black" else "black"]
        if colour in clocks:
            # GTP's time_left takes whole seconds.
            mover.command("time_left", colour, int(max(0.0, clocks[colour] - outcome.seconds[colour])), 0)
        started = time.monotonic()
        vertex = mover.genmove(colour, timeout=genmove_timeout)
        spent = time.monotonic() - started
        outcome.seconds[colour] += spent
        outcome.longest[colour] = max(outcome.longest[colour], spent)
        if vertex == "resign":
            outcome.resigned = colour
            break
        other.play(colour, vertex)
        outcome.moves.append((colour, vertex))
        passes = passes + 1 if vertex == "pass" else 0
        colour = "white" if colour == "black" else "black"
    return outcome


def winner_of(result: str) -> Optional[str]:
    """"B+3.5" -> "black", "W+R" -> "white", "0" -> None."""
    text = result.strip().upper()
    if text.startswith("B+"):
        return "black"
    if text.startswith("W+"):
        return "white"
    return None


def margin_of(result: str) -> Optional[float]:
    """Black's margin from a result string ("W+2.5" -> -2.5), None for resignations."""
    text = result.strip().upper()
    if text == "0":
        return 0.0
    try:
        value = float(text[2:])
    except ValueError:
        return None
    return value if text.startswith("B+") else -value
