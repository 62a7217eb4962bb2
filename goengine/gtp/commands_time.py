"""Clocks: time_settings, time_left and kgs-time_settings (none, absolute, byoyomi, canadian)."""

from __future__ import annotations

from ..board import BLACK, WHITE
from . import args as A
from .engine import Engine
from .protocol import GtpError
from .timecontrol import MAX_COUNT, MAX_SECONDS, Clock, TimeSettings, gtp_time_settings


def _apply(engine: Engine, settings: TimeSettings) -> str:
    engine.time_settings = settings
    engine.clocks = {c: Clock.start(settings) for c in (BLACK, WHITE)}
    return ""


def _seconds(text: str, what: str) -> float:
    """A time in seconds, clamped to MAX_SECONDS (negative values are the caller's to judge)."""
    return min(A.number(text, what), MAX_SECONDS)


def _non_negative(text: str, what: str) -> float:
    value = _seconds(text, what)
    if value < 0:
        raise GtpError(f"{what} must not be negative, got {text!r}")
    return value


def _count(text: str, what: str) -> int:
    value = A.integer(text, what)
    if value < 0:
        raise GtpError(f"{what} must not be negative, got {text!r}")
    return min(value, MAX_COUNT)


def time_settings(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 3, usage="time_settings MAIN_TIME BYO_YOMI_TIME BYO_YOMI_STONES")
    main = _non_negative(args[0], "main time")
    byo = _non_negative(args[1], "byo-yomi time")
    stones = _count(args[2], "byo-yomi stones")
    return _apply(engine, gtp_time_settings(main, byo, stones))


def kgs_time_settings(engine: Engine, args: tuple) -> str:
    if not args:
        raise GtpError("expected a time system: none, absolute, byoyomi or canadian")
    kind = args[0].lower()
    rest = args[1:]
    if kind == "none":
        A.expect_count(rest, 0, usage="kgs-time_settings none")
        return _apply(engine, TimeSettings("none"))
    if kind == "absolute":
        A.expect_count(rest, 1, usage="kgs-time_settings absolute MAIN_TIME")
        main = _non_negative(rest[0], "main time")
        return _apply(engine, TimeSettings("absolute", main) if main > 0 else TimeSettings("none"))
    if kind in ("byoyomi", "canadian"):
        A.expect_count(rest, 3, usage=f"kgs-time_settings {kind} MAIN_TIME PERIOD_TIME "
                                      + ("PERIODS" if kind == "byoyomi" else "STONES"))
        main = _non_negative(rest[0], "main time")
        period = _non_negative(rest[1], "period time")
        count = _count(rest[2], "periods" if kind == "byoyomi" else "stones")
        if period <= 0 or count < 1:
            return _apply(engine, TimeSettings("absolute", main) if main > 0 else TimeSettings("none"))
        if kind == "byoyomi":
            return _apply(engine, TimeSettings("byoyomi", main, period, 1, count))
        return _apply(engine, TimeSettings("canadian", main, period, count, 1))
    raise GtpError(f"unknown time system {args[0]!r}: expected none, absolute, byoyomi or canadian")


def time_left(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 3, usage="time_left COLOR TIME STONES")
    color = A.colour(args[0])
    seconds = _seconds(args[1], "time")
    stones = _count(args[2], "stones")
    if not engine.time_settings.limited and seconds > 0:
        # A clock without announced settings: respect it as what it looks like.
        _apply(engine, TimeSettings("canadian", 0.0, seconds, stones, 1) if stones > 0
               else TimeSettings("absolute", seconds))
    engine.clocks[color].set_left(engine.time_settings, seconds, stones)
    return ""


COMMANDS = {
    "time_settings": time_settings,
    "time_left": time_left,
    "kgs-time_settings": kgs_time_settings,
}
