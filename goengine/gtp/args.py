"""Reading command arguments: each helper raises GtpError naming what is wrong."""

from __future__ import annotations

import math
from typing import Sequence

from ..coords import PASS_LOC, loc_of_vertex
from ..game import parse_colour
from .protocol import GtpError


def expect_count(args: Sequence[str], low: int, high: int | None = None, usage: str = "") -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise GtpError(f"expected {wanted} arguments{': ' + usage if usage else ''}, got {len(args)}")


def colour(text: str) -> int:
    try:
        return parse_colour(text)
    except ValueError:
        raise GtpError(f"invalid color {text!r}") from None


def vertex(text: str, size: int) -> int:
    """A loc (PASS_LOC for pass)."""
    try:
        return loc_of_vertex(text, size)
    except ValueError as e:
        raise GtpError(f"invalid vertex: {e}") from None


def integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise GtpError(f"{what} must be an integer, got {text!r}") from None


def number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GtpError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise GtpError(f"{what} must be a finite number, got {text!r}")
    return value


def boolean(text: str, what: str) -> bool:
    low = text.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise GtpError(f"{what} must be true or false, got {text!r}")
