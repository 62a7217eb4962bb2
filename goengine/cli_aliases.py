"""Old spellings of command-line flags: still accepted, so that no command a user wrote breaks,
but no longer shown in --help (every command spells a concept one way: --size, --batch-size,
--visits)."""

from __future__ import annotations

import argparse


def add_alias(parser, old: str, dest: str, **kwargs) -> None:
    """Accept `old` for the flag whose value lands in `dest` (the flag's own default stands when
    `old` is not given)."""
    parser.add_argument(old, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)
