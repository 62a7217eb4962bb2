"""Streams of game records from folders and archives of SGF files, read without unpacking.

`iter_games(source)` yields (name, SgfGame) pairs from:
- an .sgf file;
- a folder, walked recursively in sorted order;
- a .tar, .tar.gz, .tgz, .tar.bz2 or .tar.xz archive, read as a stream (members are never
  written to disk), whose end is checked so that a truncated archive is reported, not taken
  for a shorter one;
- a list or tuple of any of these.

A name is the file's path, or "<archive path>:<member name>" for an archive member, with
"#k" appended for the k-th game of a file holding several. Files whose names do not end in
.sgf are skipped (counted, not read), and so are files and members larger than
`goengine.sgf.MAX_SGF_BYTES` (`max_bytes`; counted as "file too large", never read whole). Every game that is not yielded is counted in a
`ReadStats` under a reason: the `goengine.sgf.REASONS` of `SgfError`, plus the ones below.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import tarfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Union

from .sgf import MAX_SGF_BYTES, TOO_LARGE, SgfGame, SgfError, read_sgf_collection, replay, too_large

NOT_SGF_FILE = "not an .sgf file"
WRONG_SIZE = "wrong board size"
FILTERED_OUT = "filtered out"
BAD_ARCHIVE = "unreadable archive"
UNREADABLE_FILE = "unreadable file"

Source = Union[str, os.PathLike]
_ARCHIVE_ENDINGS = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_EXAMPLES_PER_REASON = 5


@dataclass
class ReadStats:
    """Counts of one pass over sources: games yielded, and games (or files) skipped by reason,
    with the first few messages of each reason for a look at what went wrong."""
    read: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    unselected: int = 0  # files passed over by `select`: neither read nor counted as skipped

    def skip(self, reason: str, message: str) -> None:
        self.skipped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < _EXAMPLES_PER_REASON:
            shown.append(message)

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        parts = [f"{self.read} games read", f"{self.total_skipped} skipped"]
        parts += [f"{reason}: {count}" for reason, count in self.skipped.most_common()]
        return ", ".join(parts)


def _is_archive(path: str) -> bool:
    return path.lower().endswith(_ARCHIVE_ENDINGS)


def _is_sgf_name(name: str) -> bool:
    return name.lower().endswith(".sgf")


def _iter_files(source: Source, stats: ReadStats, select: Optional[Callable[[str], bool]],
                max_bytes: int = MAX_SGF_BYTES) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every .sgf file under `source`; other files are counted as skipped."""
    path = os.fspath(source)
    if os.path.isdir(path):
        for folder, subfolders, files in os.walk(path):
            subfolders.sort()
            for file_name in sorted(files):
                yield from _iter_files(os.path.join(folder, file_name), stats, select, max_bytes)
    elif _is_archive(path):
        yield from _iter_archive(path, stats, select, max_bytes)
    elif not _is_sgf_name(path):
        stats.skip(NOT_SGF_FILE, path)
    elif select is None or select(path):
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe would block, a device never end
                stats.skip(UNREADABLE_FILE, f"{path}: not a regular file")
                return
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
        except OSError as e:
            stats.skip(UNREADABLE_FILE, f"{path}: {e}")
            return
        if len(data) > max_bytes:
            stats.skip(TOO_LARGE, str(too_large(len(data), path, max_bytes)))
            return
        yield path, data
    else:
        stats.unselected += 1


class _TailKeepingReader:
    """A forward-only reader that remembers the last bytes it handed out, so the block where
    tarfile stopped can be looked at afterwards."""

    def __init__(self, raw, keep: int = 1 << 16):
        self.raw = raw
        self.keep = keep
        self.tail = b""
        self.end = 0  # bytes handed out so far

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.end += len(data)
        self.tail = (self.tail + data)[-self.keep:]
        return data

    def block_at(self, position: int) -> bytes:
        start = self.end - len(self.tail)
        return self.tail[position - start:position - start + tarfile.BLOCKSIZE] if position >= start else b""

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


_DECOMPRESSORS = ((b"\x1f\x8b", gzip.GzipFile), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ", lzma.LZMAFile))


def _open_decompressed(raw):
    """`raw` (a binary file) decompressed by the format its first bytes name."""
    magic = raw.read(6)
    raw.seek(0)
    for prefix, opener in _DECOMPRESSORS:
        if magic.startswith(prefix):
            return opener(fileobj=raw) if opener is gzip.GzipFile else opener(raw)
    return raw


def _iter_archive(path: str, stats: ReadStats, select: Optional[Callable[[str], bool]],
                  max_bytes: int = MAX_SGF_BYTES) -> Iterator[tuple[str, bytes]]:
    try:
        with open(path, "rb") as raw, _open_decompressed(raw) as stream:
            reader = _TailKeepingReader(stream)
            # "r|": a forward-only stream, so the archive is decompressed once, in order.
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = f"{path}:{member.name}"
                    if not _is_sgf_name(member.name):
                        stats.skip(NOT_SGF_FILE, name)
                        continue
                    if select is not None and not select(name):
                        stats.unselected += 1
                        continue
                    if member.size > max_bytes:  # tarfile skips the member's data unread
                        stats.skip(TOO_LARGE, str(too_large(member.size, name, max_bytes)))
                        continue
                    handle = tar.extractfile(member)
                    yield name, handle.read() if handle is not None else b""
                # tarfile ends quietly on a missing, short or garbled header as well as on the
                # zero block that marks the end of an archive; only the last is a whole archive.
                if reader.block_at(tar.offset) != bytes(tarfile.BLOCKSIZE):
                    raise tarfile.ReadError(f"damaged or truncated after {tar.offset} bytes")
            reader.drain()  # to the end, so that the decompressor checks its checksum
    except (tarfile.TarError, EOFError, zlib.error, OSError, lzma.LZMAError) as e:
        # What was read before the damage has been yielded; the rest of the archive is lost.
        stats.skip(BAD_ARCHIVE, f"{path}: {e}")


def iter_games(source: Union[Source, Iterable[Source]], *, filter: Optional[Callable[[SgfGame], bool]] = None,
               stats: Optional[ReadStats] = None, board_size: Optional[int] = None, check_moves: bool = True,
               select: Optional[Callable[[str], bool]] = None,
               max_bytes: int = MAX_SGF_BYTES) -> Iterator[tuple[str, SgfGame]]:
    """Yield (name, SgfGame) for every readable game in `source`, skipping the rest.

    filter      -- keep a game only where filter(record) is true (else "filtered out").
    stats       -- a ReadStats to count into; pass one to see what was skipped and why.
    board_size  -- keep only games of this size (else "wrong board size").
    check_moves -- replay each game and skip those with an illegal move (costs a replay).
    select      -- called with each .sgf file's name before it is read; False passes the file
                   over unread (for sampling), counted in `stats.unselected`.
    max_bytes   -- files and archive members larger than this are skipped ("file too large").
    """
    stats = ReadStats() if stats is None else stats
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    for one in sources:
        for name, data in _iter_files(one, stats, select, max_bytes):
            try:
                records = read_sgf_collection(data, name, max_bytes)
            except SgfError as e:
                stats.skip(e.reason, str(e))
                continue
            for record in records:
                if board_size is not None and record.size != board_size:
                    stats.skip(WRONG_SIZE, f"{record.name}: {record.size}x{record.size}")
                    continue
                if check_moves:
                    try:
                        replay(record)
                    except SgfError as e:
                        stats.skip(e.reason, str(e))
                        continue
                if filter is not None and not filter(record):
                    stats.skip(FILTERED_OUT, record.name)
                    continue
                stats.read += 1
                yield record.name, record
