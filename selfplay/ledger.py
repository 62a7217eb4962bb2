"""The match ledger: one JSON object per finished game, one line each, in a JSONL file.

Record keys (written by `selfplay.match`):

| key          | meaning                                                                  |
|--------------|--------------------------------------------------------------------------|
| time         | ISO 8601 UTC time the game finished                                      |
| match        | id of the match the game belongs to                                      |
| game         | index of the game in its match (0-based)                                 |
| black, white | player names                                                             |
| result       | SGF result: "B+3.5", "W+R" (resignation), "B+F" (forfeit), "0" (draw)    |
| winner       | name of the winner, or null for a draw                                   |
| score        | Black's area minus White's (komi included) by our own scoring, or null   |
|              | when the game ended by resignation or forfeit                            |
| engine_score | {engine name: its final_score text}, for external engines that gave one  |
| size, komi, rules, visits | the match settings (a player named `...@N` searched N visits) |
| moves        | moves played (opening included)                                          |
| seed         | the game's seed                                                          |
| reason       | "score", "score, dead stones agreed", "score after cleanup", "move      |
|              | limit", "resign", or "forfeit: <why>"                                    |
| dead_stones  | stones taken off as dead by agreement before counting                    |
| sgf          | path of the game's SGF file, or null                                     |
| moves_hash   | 16 hex digits of the moves' sha1 (`selfplay.match.moves_hash`): equal for |
|              | games that repeat each other move for move                               |

Appends are atomic per line: the file is opened with O_APPEND and each record goes out in a single
write() followed by fsync, under an exclusive flock, so concurrent writers interleave whole lines and a crash leaves at most
one broken line, at the end. Before appending, a file whose last byte is not a newline (a crash
mid-write) gets one, so the broken fragment never swallows the next record. The reader skips and
counts lines that are not JSON objects. A game is identified by its (match, game) pair:
`unique_games` keeps the first record of each, so a game recorded twice is counted once.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

def append_records(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> None:
    """Append records, one line each, in one write() call."""
    lines = "".join(json.dumps(r, sort_keys=True, allow_nan=False) + "\n" for r in records)
    if not lines:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        # The lock makes "look at the last byte, then write" one step among writers: without it
        # a writer could see another's line half-written and add a needless newline.
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        data = lines.encode("utf-8")
        if size > 0:
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    data = b"\n" + data
        written = os.write(fd, data)
        if written != len(data):  # a short write to a regular file means the disk is full
            raise OSError(f"short write to {path}: {written} of {len(data)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def append_record(path: str | os.PathLike, record: dict[str, Any]) -> None:
    append_records(path, [record])


@dataclass
class Ledger:
    """The records of a ledger file, and how many lines were skipped as malformed."""
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0


def read_ledger(path: str | os.PathLike) -> Ledger:
    """All well-formed records; a missing file is an empty ledger."""
    ledger = Ledger()
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return ledger
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            ledger.skipped += 1
            continue
        if isinstance(record, dict):
            ledger.records.append(record)
        else:
            ledger.skipped += 1
    return ledger


def unique_games(records: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The records with each (match, game) pair once (the first), and how many were dropped.
    Records without both keys are kept as they are."""
    seen: set[tuple[str, int]] = set()
    kept, dropped = [], 0
    for r in records:
        key = (r.get("match"), r.get("game"))
        if isinstance(key[0], str) and isinstance(key[1], int):
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
        kept.append(r)
    return kept, dropped
