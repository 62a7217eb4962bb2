"""Reading folders and archives of SGF files: what is yielded, and what is skipped and why.

The archives are built here from hand-written files whose fate is known; the real KGS and
AlphaGo collections are read when GOENGINE_DATA points at the folder holding them.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path

import pytest
from sgfmill import sgf, sgf_moves

from goengine.board import COLOR
from goengine.coords import loc_of
from goengine.sgf import BOARD_SIZE, ILLEGAL_MOVE, NOT_SGF, PARSE_ERROR, replay
from goengine.sgf_archive import (BAD_ARCHIVE, FILTERED_OUT, NOT_SGF_FILE, WRONG_SIZE, ReadStats,
                                  iter_games)

GOOD_EVEN = b"(;SZ[19]KM[6.5]RU[Japanese];B[pd];W[dp];B[pp];W[dd])"
GOOD_HANDICAP = b"(;SZ[19]HA[2]KM[0.50]AB[dp]\n[pd];W[pp];B[dd];W[tt])"
FILES = {
    "games/a/even.sgf": GOOD_EVEN,
    "games/a/handicap.SGF": GOOD_HANDICAP,
    "games/b/two.sgf": b"(;SZ[19];B[aa])\n(;SZ[19];B[bb];W[cc])",
    "games/b/truncated.sgf": b"(;SZ[19];B[pd];W[dp];B[p",
    "games/b/illegal.sgf": b"(;SZ[19];B[pd];W[pd])",
    "games/c/small.sgf": b"(;SZ[13];B[dd];W[jj])",
    "games/c/huge.sgf": b"(;SZ[37];B[dd])",
    "games/c/comment.sgf": b"Notes on the game: black played well.",
    "games/notes.txt": b"Commentary, not a game.",
}
GOOD_NAMES = {"games/a/even.sgf", "games/a/handicap.SGF", "games/b/two.sgf#1", "games/b/two.sgf#2"}
EXPECTED_SKIPS = {PARSE_ERROR: 1, ILLEGAL_MOVE: 1, WRONG_SIZE: 1, BOARD_SIZE: 1, NOT_SGF: 1, NOT_SGF_FILE: 1}


def write_tree(root: Path) -> Path:
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root / "games"


def write_archive(path: Path, mode: str) -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def read_all(source, **kwargs):
    stats = ReadStats()
    games = list(iter_games(source, stats=stats, board_size=19, **kwargs))
    return games, stats


def member_names(games, prefix: str) -> set[str]:
    assert all(name.startswith(prefix) for name, _ in games)
    return {name[len(prefix):] for name, _ in games}


@pytest.mark.parametrize("file_name, mode", [("g.tar.gz", "w:gz"), ("g.tgz", "w:gz"), ("g.tar", "w")])
def test_archive_counts_good_bad_and_foreign_members(tmp_path, file_name, mode):
    archive = write_archive(tmp_path / file_name, mode)
    games, stats = read_all(archive)
    assert member_names(games, f"{archive}:") == GOOD_NAMES
    assert stats.read == 4
    assert dict(stats.skipped) == EXPECTED_SKIPS
    assert stats.total_skipped == 6
    assert "truncated.sgf: move 3" in stats.examples[PARSE_ERROR][0]
    assert "illegal.sgf: move 2" in stats.examples[ILLEGAL_MOVE][0]
    assert "4 games read, 6 skipped" in stats.summary()
    handicap = dict(games)[f"{archive}:games/a/handicap.SGF"]
    assert handicap.handicap == 2 and len(handicap.setup.stones) == 2


def test_folder_is_read_recursively_like_an_archive(tmp_path):
    folder = write_tree(tmp_path)
    games, stats = read_all(folder)
    assert member_names(games, f"{tmp_path}/") == GOOD_NAMES
    assert dict(stats.skipped) == EXPECTED_SKIPS


def test_a_list_of_sources_adds_up_and_a_single_file_works(tmp_path):
    folder = write_tree(tmp_path / "tree")
    archive = write_archive(tmp_path / "g.tar.gz", "w:gz")
    games, stats = read_all([folder, archive, folder / "a" / "even.sgf"])
    assert len(games) == 4 + 4 + 1 and stats.read == 9
    assert sum(stats.skipped.values()) == 12


def test_filter_and_select(tmp_path):
    archive = write_archive(tmp_path / "g.tar.gz", "w:gz")
    games, stats = read_all(archive, filter=lambda record: record.handicap == 0)
    assert len(games) == 3 and stats.skipped[FILTERED_OUT] == 1
    games, stats = read_all(archive, select=lambda name: ":games/a/" in name)
    assert member_names(games, f"{archive}:") == {"games/a/even.sgf", "games/a/handicap.SGF"}
    assert stats.unselected == 6 and dict(stats.skipped) == {NOT_SGF_FILE: 1}


def test_without_move_checks_illegal_games_are_yielded(tmp_path):
    archive = write_archive(tmp_path / "g.tar.gz", "w:gz")
    games, stats = read_all(archive, check_moves=False)
    assert f"{archive}:games/b/illegal.sgf" in dict(games)
    assert ILLEGAL_MOVE not in stats.skipped


def test_a_damaged_archive_is_counted_not_raised(tmp_path):
    files = {f"g/{i:03d}.sgf": GOOD_EVEN for i in range(200)}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    packed = gzip.compress(raw.getvalue())
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(packed[: len(packed) // 2])
    games, stats = read_all(damaged)
    assert 0 < len(games) < 200
    assert stats.skipped[BAD_ARCHIVE] == 1


# --- the real collections ---------------------------------------------------------------------

def sgfmill_final_colours(data: bytes) -> dict[tuple[int, int], int]:
    """The final position by sgfmill's own board, as {(row from the top, col): colour}."""
    game = sgf.Sgf_game.from_bytes(data)
    board, plays = sgf_moves.get_setup_and_moves(game)
    for colour, move in plays:
        if move is not None:
            board.play(move[0], move[1], colour)
    n = game.get_size()
    return {(n - 1 - row, col): {"b": 1, "w": 2}[colour] for colour, (row, col) in board.list_occupied_points()}


def test_500_sampled_kgs_games_replay_cleanly(data_root):
    kgs = data_root / "kgs-6d"
    archives = sorted(kgs.glob("train/*.tar.gz")) + sorted(kgs.glob("heldout/*.tar.gz"))
    if not archives:
        pytest.skip(f"no KGS archives under {kgs}")
    raw: dict[str, bytes] = {}

    def sample(name: str) -> bool:
        # Hash the member's name, not the archive's path, so the sample is the same wherever
        # the archives sit. One game in 32 spreads it over every archive and year.
        member = name.split(":", 1)[-1]
        return zlib.crc32(member.encode()) % 32 == 0

    stats = ReadStats()
    games = []
    for name, record in iter_games(archives, stats=stats, select=sample, check_moves=False):
        games.append((name, record))
        if len(games) == 500:
            break
    assert len(games) == 500, stats.summary()
    assert stats.total_skipped == 0, stats.examples
    by_archive: dict[str, set[str]] = {}
    for name, _ in games:
        archive, member = name.split(":", 1)
        by_archive.setdefault(archive, set()).add(member)
    for archive, members in by_archive.items():
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if member.name in members:
                    raw[f"{archive}:{member.name}"] = tar.extractfile(member).read()
    handicap_games = 0
    for name, record in games:
        game = replay(record)
        assert game.move_number == len(record.moves)  # a few archived games hold no moves
        if record.handicap >= 2 and record.setup.stones:  # some old KGS records say HA[9] and omit AB
            handicap_games += 1
            assert len(record.setup.stones) == record.handicap, name
        expected = sgfmill_final_colours(raw[name])
        n = record.size
        ours = {(r, c): int(game.board[COLOR, loc_of(r, c, n)]) for r in range(n) for c in range(n)
                if game.board[COLOR, loc_of(r, c, n)] != 0}
        assert ours == expected, name
    assert handicap_games > 50  # the sample reaches the HA + AB games too


def test_alphago_games_read_without_errors(data_root):
    archive = data_root / "alphago-games.tar.gz"
    if not archive.is_file():
        pytest.skip(f"{archive} is missing")
    stats = ReadStats()
    games = list(iter_games(archive, stats=stats))
    assert stats.read == len(games) == 216
    assert set(stats.skipped) <= {NOT_SGF_FILE}, stats.examples
    assert {record.size for _, record in games} == {19}


def test_members_and_files_over_the_size_limit_are_skipped_unread(tmp_path):
    from goengine.sgf import TOO_LARGE

    files = {"g/small.sgf": GOOD_EVEN, "g/big.sgf": GOOD_EVEN + b" " * 500}
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    folder = tmp_path / "folder"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    for source in (archive, folder):
        stats = ReadStats()
        games = list(iter_games(source, stats=stats, max_bytes=200))
        assert [Path(name).name for name, _ in games] == ["small.sgf"]
        assert dict(stats.skipped) == {TOO_LARGE: 1}
        assert "big.sgf" in stats.examples[TOO_LARGE][0] and "larger than" in stats.examples[TOO_LARGE][0]



def test_a_game_with_an_unreadable_charset_is_read_not_fatal(tmp_path):
    """One CA[rot13] game used to abort a whole `train-sl --build-only` with LookupError."""
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "a.sgf").write_bytes(b"(;CA[rot13]SZ[19];B[pd];W[dp])")
    (folder / "b.sgf").write_bytes(GOOD_EVEN)
    stats = ReadStats()
    assert len(list(iter_games(folder, stats=stats))) == 2 and stats.total_skipped == 0
