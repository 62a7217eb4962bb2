"""The GTP (version 2) wire format, apart from any command: parsing lines into commands and
formatting replies.

A command line is `[id] name [args...]`: `id` an unsigned integer, `name` matched without
regard to case (GUIs send `play B d4` as well as `PLAY black D4`), arguments split on spaces.
Before parsing, control characters other than tab and newline are dropped, tabs become spaces,
and everything from `#` on is a comment; a line left empty is ignored (no reply at all).

A reply is `=[id] text` (success) or `?[id] message` (failure), ended by one empty line. The
text may span several lines, but never holds an empty line itself (that would end the reply
early), so `success` and `failure` drop empty lines from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class GtpError(Exception):
    """Raised by a command handler to answer `? message`; the engine's state is unchanged."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Command:
    id: Optional[int]
    name: str  # lower-case; "" when the line held only an id
    args: tuple[str, ...]


def clean_line(raw: str) -> str:
    """The line without comment, control characters and surrounding space."""
    text = raw.replace("\t", " ")
    text = _CONTROL.sub("", text.replace("\r", "").replace("\n", ""))
    hash_at = text.find("#")
    if hash_at >= 0:
        text = text[:hash_at]
    return text.strip()


def parse_command(raw: str) -> Optional[Command]:
    """The command on one input line, or None for a line that is empty or only a comment."""
    tokens = clean_line(raw).split()
    if not tokens:
        return None
    command_id: Optional[int] = None
    if tokens[0].isdigit() and tokens[0].isascii():
        command_id = int(tokens[0])
        tokens = tokens[1:]
    if not tokens:
        return Command(command_id, "", ())
    return Command(command_id, tokens[0].lower(), tuple(tokens[1:]))


def _body(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    return "\n".join(line for line in lines if line.strip())


def _prefix(mark: str, command_id: Optional[int]) -> str:
    return mark + ("" if command_id is None else str(command_id))


def success(command_id: Optional[int], text: str = "") -> str:
    """`=[id] text` and the closing empty line. A text that starts with a newline (a board
    diagram) begins on the line after the `=`."""
    head = _prefix("=", command_id)
    body = _body(text)
    if not body:
        return head + "\n\n"
    separator = "\n" if text.startswith("\n") else " "
    return f"{head}{separator}{body}\n\n"


def failure(command_id: Optional[int], message: str) -> str:
    body = _body(message) or "failed"
    return f"{_prefix('?', command_id)} {body}\n\n"


def stream_header(command_id: Optional[int]) -> str:
    """The first line of a streamed reply (analysis): `=[id]` alone on its line."""
    return _prefix("=", command_id) + "\n"
