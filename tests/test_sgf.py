"""SGF reading, replaying and writing, on hand-written files.

Expected points are given as GTP vertices (SGF "dd" is D16 on 19x19: column d, fourth row from
the top), so the SGF point parser is checked against the independent vertex parser.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goengine.board import BLACK, COLOR, EMPTY, WHITE
from goengine.coords import PASS_LOC, loc_of_vertex
from goengine.game import GameState, Move
from goengine.rules import PRESETS, Rules
from goengine.sgf import (BAD_VALUE, BOARD_SIZE, ILLEGAL_MOVE, NOT_SGF, PARSE_ERROR, SEVERAL_GAMES, SgfGame,
                          Setup, SgfError, parse_komi, read_sgf, read_sgf_collection, replay, replay_rules,
                          rules_from_sgf, sgf_rules_name, write_sgf)


def v(vertex: str, size: int = 19) -> int:
    return loc_of_vertex(vertex, size)


def stones_of(game: GameState, colour: int) -> set[str]:
    from goengine.coords import all_locs, vertex_of_loc
    return {vertex_of_loc(loc, game.size) for loc in all_locs(game.size) if game.board[COLOR, loc] == colour}


KGS_LIKE = (b"(;GM[1]FF[4]CA[UTF-8]AP[CGoban:3]ST[2]\n"
            b"RU[Japanese]SZ[19]HA[3]KM[0.50]TM[300]OT[5x30 byo-yomi]\n"
            b"PW[whiteguy]PB[blackguy]WR[7d]BR[6d]DT[2015-02-23]PC[The KGS Go Server]RE[W+Resign]\n"
            b"AB[pd]\n[dp]\n  [pp]\n"
            b";W[dd]C[hello];B[pj];W[];B[tt]TW[aa])\n")


# --- root properties ----------------------------------------------------------------------------

def test_root_properties_of_a_kgs_style_handicap_game():
    record = read_sgf(KGS_LIKE, name="kgs.sgf")
    assert record.name == "kgs.sgf"
    assert record.size == 19
    assert record.komi == 0.5 and record.komi_raw == "0.50"
    assert record.rules_raw == "Japanese" and record.rules == PRESETS["japanese"]
    assert record.handicap == 3
    assert record.result == "W+Resign" and record.winner == WHITE
    assert (record.black, record.black_rank, record.white, record.white_rank) == ("blackguy", "6d", "whiteguy", "7d")
    assert record.date == "2015-02-23"
    assert record.properties["PC"] == ["The KGS Go Server"]
    # Whitespace between the values of AB must not drop stones.
    assert set(record.setup.as_dict().items()) == {(v("Q16"), BLACK), (v("D4"), BLACK), (v("Q4"), BLACK)}
    assert record.moves == [Move(WHITE, v("D16")), Move(BLACK, v("Q10")), Move(WHITE, PASS_LOC), Move(BLACK, PASS_LOC)]


def test_handicap_game_replays_with_white_to_move():
    game = replay(read_sgf(KGS_LIKE))
    assert game.handicap == 3
    assert stones_of(game, BLACK) == {"Q16", "D4", "Q4", "Q10"}
    assert stones_of(game, WHITE) == {"D16"}
    assert game.move_number == 4 and game.consecutive_passes == 2
    first = replay(read_sgf(KGS_LIKE), max_moves=0)
    assert first.to_play == WHITE and stones_of(first, BLACK) == {"Q16", "D4", "Q4"}


@pytest.mark.parametrize("text, expected", [
    ("7.5", 7.5), ("6.50", 6.5), ("0.50", 0.5), ("0", 0.0), ("-3.5", -3.5),
    ("750", 7.5), ("650", 6.5), ("50", 0.5), ("-650", -6.5), ("375", 3.75),
    ("-100.00", -100.0), ("53.50", 53.5), ("30.50", 30.5), ("7", 7.0), ("6,5", 6.5),
    ("750.00", 7.5),  # more than the 361 points of the board: only the x100 reading makes sense
    ("", None), ("seven", None), ("nan", None),
])
def test_parse_komi(text, expected):
    assert parse_komi(text, 19) == expected


def test_komi_x100_in_a_file_and_defaults_when_missing_or_unreadable():
    assert read_sgf(b"(;SZ[19]KM[750];B[dd])").komi == 7.5
    assert read_sgf(b"(;SZ[19]RU[Japanese];B[dd])").komi == PRESETS["japanese"].default_komi
    assert read_sgf(b"(;SZ[19]RU[Chinese]KM[];B[dd])").komi == PRESETS["chinese"].default_komi
    unreadable = read_sgf(b"(;SZ[19]RU[AGA]KM[abc];B[dd])")
    assert unreadable.komi == PRESETS["aga"].default_komi and unreadable.komi_raw == "abc"
    assert read_sgf(b"(;SZ[19]HA[2]AB[dd][pp];W[pd])").komi == 0.5
    assert read_sgf(b"(;SZ[19];B[dd])").komi_raw is None


@pytest.mark.parametrize("raw, preset", [
    ("Japanese", "japanese"), ("Chinese", "chinese"), ("AGA", "aga"), ("NZ", "new-zealand"),
    ("New Zealand", "new-zealand"), ("Korean", "korean"), ("Tromp-Taylor", "tromp-taylor"),
    ("tromp_taylor", "tromp-taylor"), ("chinese-kgs", "chinese-ogs"), ("BGA", "aga"),
    ("koPOSITIONALscoreAREAtaxNONEsui1", "tromp-taylor"), ("koSIMPLEscoreTERRITORYsui0", "japanese"),
])
def test_rules_names_map_to_presets(raw, preset):
    record = read_sgf(f"(;SZ[19]RU[{raw}];B[dd])".encode())
    assert record.rules_raw == raw
    assert record.rules.name == preset
    assert (record.rules.ko, record.rules.scoring, record.rules.suicide) == (
        PRESETS[preset].ko, PRESETS[preset].scoring, PRESETS[preset].suicide)


def test_unknown_rules_fall_back_to_chinese_and_keep_the_raw_value():
    record = read_sgf(b"(;SZ[19]RU[Ing goe];B[dd])")
    assert record.rules == PRESETS["chinese"] and record.rules_raw == "Ing goe"
    assert read_sgf(b"(;SZ[19];B[dd])").rules_raw is None


def test_katago_compact_rules_that_match_no_preset():
    rules = rules_from_sgf("koSITUATIONALscoreTERRITORYsui1whbN-1")
    assert (rules.ko, rules.scoring, rules.suicide, rules.handicap_bonus) == ("situational", "territory", True, "n-1")


# --- moves, passes, setup ---------------------------------------------------------------------

def test_both_pass_forms_on_19x19():
    record = read_sgf(b"(;SZ[19];B[dd];W[];B[tt];W[ pd ])")
    assert [m.loc for m in record.moves] == [v("D16"), PASS_LOC, PASS_LOC, v("Q16")]


def test_tt_is_a_point_on_boards_above_19():
    record = read_sgf(b"(;SZ[25];B[tt];W[];B[yy];W[aa])")
    assert [m.loc for m in record.moves] == [v("U6", 25), PASS_LOC, v("Z1", 25), v("A25", 25)]
    game = replay(record)
    assert stones_of(game, BLACK) == {"U6", "Z1"} and stones_of(game, WHITE) == {"A25"}


def test_a_13x13_game_with_a_capture():
    # White's B13 stone (ba) is captured by black A13 (aa) after C13 (ca) and B12 (bb).
    record = read_sgf(b"(;GM[1]SZ[13]KM[6.5];B[ca];W[ba];B[bb];W[jj];B[aa])")
    assert record.size == 13
    game = replay(record)
    assert stones_of(game, BLACK) == {"C13", "B12", "A13"}
    assert stones_of(game, WHITE) == {"K4"}
    assert game.captures == (1, 0)


def test_setup_in_root_and_later_nodes_with_ae_and_pl():
    text = (b"(;SZ[9]AB[aa:bb]AW[ee]PL[W]"
            b";W[cc]"
            b";AE[aa][ee]AW[ii]PL[W]"  # a later setup node: removes two stones, adds one
            b";W[gg];B[hh])")
    record = read_sgf(text)
    assert set(record.setup.as_dict().items()) == {
        (v("A9", 9), BLACK), (v("B9", 9), BLACK), (v("A8", 9), BLACK), (v("B8", 9), BLACK), (v("E5", 9), WHITE)}
    assert record.setup.to_play == WHITE
    assert record.events[0] == Move(WHITE, v("C7", 9))
    later = record.events[1]
    assert isinstance(later, Setup) and later.to_play == WHITE
    assert later.as_dict() == {v("A9", 9): EMPTY, v("E5", 9): EMPTY, v("J1", 9): WHITE}
    game = replay(record)
    assert stones_of(game, BLACK) == {"B9", "A8", "B8", "H2"}
    assert stones_of(game, WHITE) == {"C7", "J1", "G3"}
    before = replay(record, max_moves=1)
    assert stones_of(before, WHITE) == {"C7", "E5"}


def test_lower_case_property_names_of_old_files():
    record = read_sgf(b"(;SiZe[9]AddBlack[cc];White[gg])")
    assert record.size == 9 and record.setup.as_dict() == {v("C7", 9): BLACK}
    assert record.moves == [Move(WHITE, v("G3", 9))]


def test_variations_follow_the_first_branch():
    record = read_sgf(b"(;SZ[19];B[dd](;W[pp];B[pd])(;W[dp]))")
    assert [m.loc for m in record.moves] == [v("D16"), v("Q4"), v("Q16")]


def test_text_decoding_with_and_without_a_charset():
    latin = "Jérôme".encode("latin-1")
    assert read_sgf(b"(;CA[UTF-8]PB[" + latin + b"];B[dd])").black == "Jérôme"  # mislabelled bytes
    assert read_sgf(b"(;PB[" + latin + b"];B[dd])").black == "Jérôme"  # no CA: ISO-8859-1
    assert read_sgf(b"(;CA[UTF-8]PB[" + "李昌镐".encode() + b"];B[dd])").black == "李昌镐"
    assert read_sgf(b"(;CA[GB2312]PW[" + "李昌镐".encode("gb2312") + b"];B[dd])").white == "李昌镐"
    assert read_sgf(b"(;PB[a\\]b\\\\c];B[dd])").black == "a]b\\c"


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "zlib", "uu", "bz2", "quopri", "utf-16",
                                     "no-such-charset", "utf\x008"])
def test_a_charset_that_cannot_be_read_falls_back_to_utf8_with_a_warning(charset, caplog):
    """CA[rot13] (or any codec that is not a text encoding) used to raise LookupError, which
    GTP answered with '? internal error' and which aborted a whole dataset build."""
    data = b"(;GM[1]FF[4]CA[" + charset.encode() + b"]SZ[9]PB[" + "Jérôme".encode() + b"]PW[" + \
        "Jérôme".encode("latin-1") + b"];B[cc])"
    with caplog.at_level("WARNING", logger="goengine.sgf"):
        record = read_sgf(data, name="odd.sgf")
    assert record.black == "Jérôme" and record.white == "Jérôme"  # UTF-8, else ISO-8859-1
    assert [m.loc for m in record.moves] == [loc_of_vertex("C7", 9)]
    assert any("odd.sgf" in r.getMessage() and "UTF-8" in r.getMessage() for r in caplog.records)


def test_files_over_the_size_limit_are_refused_unread(tmp_path, monkeypatch):
    from goengine import sgf as sgf_module

    big = tmp_path / "big.sgf"
    with open(big, "wb") as f:
        f.write(b"(;SZ[9];B[cc])")
        f.truncate(sgf_module.MAX_SGF_BYTES + 1)  # sparse: nothing written past the game
    with pytest.raises(SgfError, match="larger than the 32 MiB") as info:
        read_sgf(big)
    assert info.value.reason == sgf_module.TOO_LARGE
    opened = []
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(SgfError, match="not a regular file"):
        read_sgf("/dev/zero")  # refused before it is opened: no end to read to
    assert not opened
    monkeypatch.undo()
    with pytest.raises(SgfError, match="larger than"):
        read_sgf(b"(;SZ[9])" + b" " * 100, max_bytes=50)


# --- errors -----------------------------------------------------------------------------------

def error_of(data: bytes, name: str = "game.sgf", **replay_args) -> SgfError:
    with pytest.raises(SgfError) as info:
        replay(read_sgf(data, name=name), **replay_args)
    return info.value


def test_occupied_point_names_file_and_move():
    e = error_of(b"(;SZ[19];B[dd];W[pp];B[pd];W[dd])", name="occupied.sgf")
    assert (e.reason, e.move_number, e.name) == (ILLEGAL_MOVE, 4, "occupied.sgf")
    assert "occupied.sgf" in str(e) and "move 4" in str(e) and "occupied" in str(e)
    assert isinstance(e, ValueError)


def test_suicide_names_file_and_move():
    # White's corner point A9 (aa) with black on B9 and A8: single-stone suicide.
    e = error_of(b"(;SZ[9];B[ba];W[ee];B[ab];W[aa])", name="suicide.sgf")
    assert (e.reason, e.move_number) == (ILLEGAL_MOVE, 4)
    assert "suicide.sgf: move 4" in str(e) and "suicide" in str(e)


def test_immediate_ko_recapture_names_file_and_move():
    # Black B9, A8, B7; White C9, B8, C7, D8. Black C8 (cb) takes B8 (bb); White retaking at B8 is ko.
    text = b"(;SZ[9]AB[ba][ab][bc]AW[ca][bb][cc][db];B[cb];W[bb])"
    e = error_of(text, name="ko.sgf")
    assert (e.reason, e.move_number) == (ILLEGAL_MOVE, 2)
    assert "ko.sgf: move 2" in str(e) and "ko" in str(e).split("move 2", 1)[1]
    # After a ko threat exchange the recapture is legal.
    game = replay(read_sgf(b"(;SZ[9]AB[ba][ab][bc]AW[ca][bb][cc][db];B[cb];W[hh];B[gg];W[bb])"))
    assert game.board[COLOR, v("B8", 9)] == WHITE and game.board[COLOR, v("C8", 9)] == EMPTY


def test_multi_stone_suicide_follows_the_records_rules():
    # White A9+B9 (aa, ba) against black C9, B8, A8: White B9 removes both white stones.
    body = b"SZ[9]AB[ca][bb][ab]AW[aa];W[ba])"
    game = replay(read_sgf(b"(;RU[NZ]" + body))
    assert game.board[COLOR, v("A9", 9)] == EMPTY and game.board[COLOR, v("B9", 9)] == EMPTY
    e = error_of(b"(;RU[Japanese]" + body)
    assert (e.reason, e.move_number) == (ILLEGAL_MOVE, 1)


def test_superko_is_not_enforced_by_default_but_can_be():
    # Black takes the ko, both pass, White retakes: simple ko allows it, but the position is the
    # one right after the setup, which positional superko (the record's Tromp-Taylor) forbids.
    record = read_sgf(b"(;RU[Tromp-Taylor]SZ[9]AB[ba][ab][bc]AW[ca][bb][cc][db];B[cb];W[];B[];W[bb])")
    assert replay_rules(record).ko == "simple" and replay_rules(record).suicide
    assert replay(record).board[COLOR, v("B8", 9)] == WHITE
    with pytest.raises(SgfError) as info:
        replay(record, rules=record.rules)
    assert info.value.move_number == 4 and info.value.reason == ILLEGAL_MOVE


@pytest.mark.parametrize("data, reason, move_number", [
    (b"(;SZ[19];B[dd];W[pp];B[", PARSE_ERROR, 3),
    (b"(;SZ[19];B[dd];W[pp];B[pd]", PARSE_ERROR, 4),
    (b"(;SZ[19];B[dd];W[pp];B[pd]!!;W[dp])", PARSE_ERROR, 4),
    (b"(;SZ[19];B[dd];W[zz])", BAD_VALUE, 2),
    (b"(;SZ[19];B[dd];W[d])", BAD_VALUE, 2),
    (b"(;SZ[19];B[dd];W[pp]B[pd])", BAD_VALUE, 2),
    (b"(;SZ[19];B[dd];AB[zz];W[pp])", BAD_VALUE, 2),
    (b"(;SZ[19];B[dd];PL[X];W[pp])", BAD_VALUE, 2),
])
def test_corrupt_files_name_file_and_move(data, reason, move_number):
    with pytest.raises(SgfError) as info:
        read_sgf(data, name="broken.sgf")
    e = info.value
    assert (e.reason, e.move_number) == (reason, move_number)
    assert str(e).startswith(f"broken.sgf: move {move_number}: ")


@pytest.mark.parametrize("data, reason", [
    (b"", NOT_SGF), (b"Commentary on game 3, by a professional.", NOT_SGF),
    (b"(;SZ[26];B[dd])", BOARD_SIZE), (b"(;SZ[19:13];B[dd])", BOARD_SIZE), (b"(;SZ[1];B[aa])", BOARD_SIZE),
    (b"(;SZ[big];B[dd])", BAD_VALUE), (b"(;SZ[9];B[aa])(;SZ[9];B[bb])", SEVERAL_GAMES),
])
def test_files_that_are_not_one_readable_game(data, reason):
    with pytest.raises(SgfError) as info:
        read_sgf(data, name="odd.sgf")
    assert info.value.reason == reason and str(info.value).startswith("odd.sgf: ")


def test_a_collection_reads_as_several_games():
    records = read_sgf_collection(b"(;SZ[9];B[aa])\n(;SZ[13];W[bb];B[cc])", name="two.sgf")
    assert [(r.name, r.size, len(r.moves)) for r in records] == [("two.sgf#1", 9, 1), ("two.sgf#2", 13, 2)]


def test_reading_a_path_names_errors_by_the_path(tmp_path):
    path = tmp_path / "bad.sgf"
    path.write_bytes(b"(;SZ[19];B[dd];W[dd])")
    with pytest.raises(SgfError, match="bad.sgf: move 2"):
        replay(read_sgf(path))
    path.write_bytes(b"(;SZ[19];B[dd];W[pp])")
    assert read_sgf(str(path)).name == str(path)


def test_every_truncation_is_an_error():
    text = KGS_LIKE.rstrip()
    for cut in range(len(text)):
        with pytest.raises(SgfError):
            read_sgf(text[:cut], name="cut.sgf")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(KGS_LIKE) - 1), st.binary(min_size=1, max_size=3))
def test_damaged_files_raise_sgf_error_or_read(position, junk):
    data = KGS_LIKE[:position] + junk + KGS_LIKE[position + len(junk):]
    try:
        replay(read_sgf(data, name="damaged.sgf"))
    except SgfError as e:
        assert str(e).startswith("damaged.sgf")


# --- writing ----------------------------------------------------------------------------------

def played_game() -> GameState:
    game = GameState(9, komi=5.5, rules="aga")
    game.place_handicap([v("C3", 9), v("G7", 9)])
    for vertex in ["E5", "E6", "pass", "D6", "F6", "E7", "D5"]:
        game.play(v(vertex, 9) if vertex != "pass" else PASS_LOC)
    game.setup_stones({v("A1", 9): WHITE, v("C3", 9): EMPTY}, to_play=BLACK)
    game.play(v("J9", 9))
    game.play(PASS_LOC)
    game.play(PASS_LOC)
    return game


def test_round_trip_keeps_setup_moves_and_root(tmp_path):
    game = played_game()
    path = tmp_path / "out.sgf"
    data = write_sgf(game, path, black="Bob [3k]", white="Wan", result="B+2.5", comment="a test",
                     DT="2024-05-01", BR="3k", PC=["here"])
    assert path.read_bytes() == data
    assert b"[tt]" not in data and b"W[]" in data and b"B[]" in data
    record = read_sgf(path)
    assert (record.size, record.komi, record.handicap, record.result) == (9, 5.5, 2, "B+2.5")
    assert (record.rules_raw, record.rules.name) == ("AGA", "aga")
    assert (record.black, record.white, record.date, record.black_rank) == ("Bob [3k]", "Wan", "2024-05-01", "3k")
    assert record.properties["C"] == ["a test"] and record.properties["PC"] == ["here"]
    assert set(record.setup.as_dict().items()) == {(v("C3", 9), BLACK), (v("G7", 9), BLACK)}
    assert record.setup.to_play == WHITE
    def comparable(event):
        return event if isinstance(event, Move) else (event.as_dict(), event.to_play)
    expected = [payload if kind == "move" else (payload[0], payload[1]) for kind, payload in game._events[1:]]
    assert [comparable(e) for e in record.events] == expected
    again = replay(record, rules=game.rules)
    assert (again.board == game.board).all()
    assert again.to_play == game.to_play and again.handicap == 2


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_round_trip_of_every_rules_preset(name):
    game = GameState(19, komi=6.5, rules=name)
    game.play(v("Q16"))
    record = read_sgf(write_sgf(game))
    assert record.rules == PRESETS[name]
    assert record.komi == 6.5


def test_round_trip_of_custom_rules_uses_katagos_compact_form():
    rules = Rules("house", ko="situational", scoring="territory", suicide=True, handicap_bonus="n")
    game = GameState(9, komi=0, rules=rules)
    text = sgf_rules_name(rules)
    assert text == "koSITUATIONALscoreTERRITORYsui1whbN"
    back = read_sgf(write_sgf(game)).rules
    assert (back.ko, back.scoring, back.suicide, back.handicap_bonus) == ("situational", "territory", True, "n")


def test_resigned_game_result_and_large_board_round_trip():
    game = GameState(25, komi=7.5)
    for vertex in ["Z25", "A1", "M13"]:
        game.play(v(vertex, 25))
    game.resign()
    record = read_sgf(write_sgf(game))
    assert record.result == "B+R"  # white, to move, resigned
    assert [m.loc for m in record.moves] == [v("Z25", 25), v("A1", 25), v("M13", 25)]


def test_write_refuses_structural_properties_and_leaves_no_temporary_files(tmp_path):
    game = GameState(9)
    with pytest.raises(ValueError):
        write_sgf(game, black="x", SZ="13")
    path = tmp_path / "game.sgf"
    path.write_bytes(b"old")
    write_sgf(game, path)
    assert path.read_bytes().startswith(b"(;") and os.listdir(tmp_path) == ["game.sgf"]


def test_write_to_a_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(OSError):
        write_sgf(GameState(9), tmp_path / "missing" / "game.sgf")
    assert os.listdir(tmp_path) == []


def test_game_record_defaults_are_independent():
    a, b = SgfGame(), SgfGame()
    a.events.append(Move(BLACK, PASS_LOC))
    assert b.events == []
