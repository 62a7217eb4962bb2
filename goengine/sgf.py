"""SGF game records: read what servers and GUIs write into a `SgfGame`, replay it through a
`GameState`, and write games back.

Parsing uses sgfmill's grammar (`sgf_grammar`), which keeps raw bytes; everything above it is
interpreted here so that odd files read the same way everywhere:

- Points are locs (`coords.py`). A pass is read from `B[]`, or from `B[tt]` on boards up to
  19x19, and always written as `B[]`. Point lists may be compressed (`AB[aa:cc]`) and values may
  be separated by whitespace (`AB[dd]\\n[pd]`).
- Komi: `parse_komi` below. KM written x100 (`KM[750]`) is divided back; a missing or
  unreadable KM is not an error and gives the rules' default (0.5 in a handicap game).
- Rules: RU is kept as read (`rules_raw`) and mapped to a preset (`rules_from_sgf`); anything
  unrecognised maps to chinese.
- Text is decoded with the CA charset (ISO-8859-1 when absent, as the SGF spec says); bytes that
  are invalid in it are decoded as ISO-8859-1 instead, so a mislabelled file never fails. A CA
  that names no text encoding a file's ASCII structure can be in (an unknown name, rot13, base64,
  zlib, UTF-16) is read as UTF-8, with that ISO-8859-1 fallback, and a warning in the log.
- Size: a file (or archive member, or bytes) larger than `MAX_SGF_BYTES` is refused ("file too
  large") without being read past the limit; a path that is not a regular file (a device, a
  pipe) is refused before it is opened for reading.
- The main line is the first variation at every branch. Its events are `Move`s and `Setup`s
  (AB/AW/AE/PL in any node after the root); the root's own setup is `SgfGame.setup`.

Every problem with a file raises `SgfError` (a ValueError) naming the file, the move number
where known, and a `reason` from `REASONS` that archive readers count by.
"""

from __future__ import annotations

import codecs
import functools
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Optional, Union

from sgfmill import sgf, sgf_grammar, sgf_properties

from .atomic import atomic_write_bytes
from .board import BLACK, EMPTY, WHITE
from .coords import MAX_SIZE, MIN_SIZE, PASS_LOC, all_locs, loc_of, loc_of_sgf_point, sgf_point_of_loc
from .game import GameState, IllegalMove, Move
from .rules import Rules, get_rules
from .sgf_values import parse_komi, rules_from_sgf, sgf_rules_name  # part of this module's API

NOT_SGF = "not SGF"
PARSE_ERROR = "parse error"
BAD_VALUE = "bad property value"
BOARD_SIZE = "unsupported board size"
ILLEGAL_MOVE = "illegal move"
SEVERAL_GAMES = "several games in one file"
TOO_LARGE = "file too large"
REASONS = (NOT_SGF, PARSE_ERROR, BAD_VALUE, BOARD_SIZE, ILLEGAL_MOVE, SEVERAL_GAMES, TOO_LARGE)
# A game with every variation and comment a teacher could write is well under a megabyte; the
# largest collections in one file (thousands of games) stay below this.
MAX_SGF_BYTES = 32 * 1024 * 1024

log = logging.getLogger(__name__)


class SgfError(ValueError):
    """A file that cannot be read or replayed. `name` is the file, `move_number` the 1-based
    number of the move concerned (None when the problem is not at a move), `reason` one of
    `REASONS`."""

    def __init__(self, detail: str, *, name: str, reason: str, move_number: Optional[int] = None):
        where = f"{name}: move {move_number}" if move_number is not None else name
        super().__init__(f"{where}: {detail}")
        self.name = name
        self.reason = reason
        self.move_number = move_number
        self.detail = detail


@dataclass(frozen=True)
class Setup:
    """Stones placed without playing: (loc, colour) pairs, EMPTY for AE; `to_play` from PL."""
    stones: tuple[tuple[int, int], ...] = ()
    to_play: Optional[int] = None

    def as_dict(self) -> dict[int, int]:
        return dict(self.stones)


Event = Union[Move, Setup]


@dataclass
class SgfGame:
    """One game as an SGF file holds it. Colours are BLACK/WHITE, points locs."""
    size: int = 19
    komi: float = 7.5
    rules: Rules = field(default_factory=lambda: get_rules("chinese"))
    rules_raw: Optional[str] = None  # RU as written
    komi_raw: Optional[str] = None  # KM as written; None when absent
    handicap: int = 0  # HA
    result: Optional[str] = None  # RE, e.g. "B+R", "W+3.5", "0", "Void"
    black: Optional[str] = None  # PB
    white: Optional[str] = None  # PW
    black_rank: Optional[str] = None  # BR
    white_rank: Optional[str] = None  # WR
    date: Optional[str] = None  # DT
    setup: Setup = field(default_factory=Setup)  # the root's AB/AW/AE/PL
    events: list[Event] = field(default_factory=list)  # the main line after the root setup
    properties: dict[str, list[str]] = field(default_factory=dict)  # other root properties, decoded
    name: str = "<sgf>"

    @property
    def moves(self) -> list[Move]:
        return [e for e in self.events if isinstance(e, Move)]

    @property
    def winner(self) -> Optional[int]:
        """BLACK or WHITE from RE ("B+..." / "W+..."), else None (draw, void, unknown)."""
        text = (self.result or "").strip().upper()
        if text.startswith("B+"):
            return BLACK
        if text.startswith("W+"):
            return WHITE
        return None


# --- reading ----------------------------------------------------------------------------------

class _Decoder:
    """Raw property values to Python values, with the file's name for error messages."""

    def __init__(self, name: str, charset: str, size: int):
        self.name = name
        self.charset = charset
        self.size = size

    def text(self, raw: bytes, simple: bool = True) -> str:
        """A SimpleText value (line breaks become spaces) or, with simple=False, a Text value."""
        value = sgf_grammar.simpletext_value(raw) if simple else sgf_grammar.text_value(raw)
        try:
            return value.decode(self.charset)
        except UnicodeDecodeError:
            return value.decode("iso-8859-1")

    def move_loc(self, raw: bytes, move_number: int) -> int:
        loc = _point_table(self.size).get(raw)
        if loc is not None:
            return loc
        point = raw.decode("ascii", "replace").strip()
        try:
            return loc_of_sgf_point(point, self.size)
        except ValueError as e:
            raise SgfError(str(e), name=self.name, reason=BAD_VALUE, move_number=move_number) from None

    def point_list(self, ident: str, raws: list[bytes], move_number: int) -> list[int]:
        locs = []
        for raw in raws:
            text = raw.decode("ascii", "replace").strip()
            if text == "":
                continue  # an empty list is written as a single empty value
            first, _, last = text.partition(":")
            try:
                a = self._setup_point(first)
                b = self._setup_point(last) if last else a
            except ValueError as e:
                raise SgfError(f"{ident}: {e}", name=self.name, reason=BAD_VALUE,
                               move_number=move_number) from None
            (r0, c0), (r1, c1) = a, b
            locs += [loc_of(r, c, self.size) for r in range(min(r0, r1), max(r0, r1) + 1)
                     for c in range(min(c0, c1), max(c0, c1) + 1)]
        return locs

    def _setup_point(self, text: str) -> tuple[int, int]:
        loc = loc_of_sgf_point(text, self.size) if text not in ("", "tt") else PASS_LOC
        if loc == PASS_LOC:
            raise ValueError(f"{text!r} is not a point on a {self.size}x{self.size} board")
        w = self.size + 2
        return loc // w - 1, loc % w - 1


@functools.lru_cache(maxsize=None)
def _point_table(size: int) -> dict[bytes, int]:
    """Raw move values to locs for the common, well-formed case: every point and both passes."""
    table = {sgf_point_of_loc(loc, size).encode("ascii"): loc for loc in all_locs(size)}
    table[b""] = PASS_LOC
    if size <= 19:
        table[b"tt"] = PASS_LOC
    return table


def _colour(raw: bytes, decoder: _Decoder, move_number: int) -> int:
    text = raw.decode("ascii", "replace").strip().upper()
    if text in ("B", "1"):
        return BLACK
    if text in ("W", "2"):
        return WHITE
    raise SgfError(f"PL[{text}] is not a colour", name=decoder.name, reason=BAD_VALUE, move_number=move_number)


_SETUP_IDENTS = frozenset(("AB", "AW", "AE", "PL"))


def _node_setup(props: dict[str, list[bytes]], decoder: _Decoder, move_number: int) -> Optional[Setup]:
    if _SETUP_IDENTS.isdisjoint(props):
        return None
    stones: dict[int, int] = {}
    for ident, colour in (("AE", EMPTY), ("AB", BLACK), ("AW", WHITE)):
        for loc in decoder.point_list(ident, props.get(ident, []), move_number):
            stones[loc] = colour
    to_play = _colour(props["PL"][0], decoder, move_number) if "PL" in props else None
    return Setup(tuple(stones.items()), to_play)


def _node_move(props: dict[str, list[bytes]], decoder: _Decoder, move_number: int) -> Optional[Move]:
    has_b, has_w = "B" in props, "W" in props
    if not (has_b or has_w):
        return None
    if has_b and has_w:
        raise SgfError("a node holds both a black and a white move", name=decoder.name, reason=BAD_VALUE,
                       move_number=move_number)
    ident = "B" if has_b else "W"
    values = props[ident]
    if len(values) != 1:
        raise SgfError(f"{ident} has {len(values)} values", name=decoder.name, reason=BAD_VALUE,
                       move_number=move_number)
    return Move(BLACK if has_b else WHITE, decoder.move_loc(values[0], move_number))


def _board_size(root: dict[str, list[bytes]], name: str) -> int:
    if "SZ" not in root:
        return 19
    text = root["SZ"][0].decode("ascii", "replace").strip()
    cols, _, rows = text.partition(":")
    try:
        size, other = int(cols), int(rows) if rows else int(cols)
    except ValueError:
        raise SgfError(f"SZ[{text}] is not a board size", name=name, reason=BAD_VALUE) from None
    if size != other:
        raise SgfError(f"rectangular board {text} is not supported", name=name, reason=BOARD_SIZE)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SgfError(f"board size {size} is not supported ({MIN_SIZE} to {MAX_SIZE})", name=name,
                       reason=BOARD_SIZE)
    return size


def _readable_charset(name: str) -> bool:
    """Whether `name` is a text encoding in which the file's ASCII structure reads as ASCII."""
    try:
        if not codecs.lookup(name)._is_text_encoding:  # rot13, base64, hex, zlib, uu, bz2, quopri
            return False
        return b"(;FF[4]SZ[19])".decode(name) == "(;FF[4]SZ[19])"  # UTF-16 and EBCDIC do not
    except (LookupError, ValueError, UnicodeDecodeError):  # an unknown name, or one with a NUL
        return False


def _charset(root: dict[str, list[bytes]], name: str) -> str:
    if "CA" not in root:
        return "iso-8859-1"
    written = root["CA"][0].decode("ascii", "replace").strip()
    if not written:
        return "iso-8859-1"
    try:
        charset = sgf_properties.normalise_charset_name(written)
    except (LookupError, ValueError):
        charset = written
    if _readable_charset(charset):
        return charset
    log.warning("%s: CA[%s] is not a character set an SGF file can be written in; reading it as "
                "UTF-8 (ISO-8859-1 where that fails)", name, written[:40])
    return "utf-8"


_INTERPRETED = {"SZ", "KM", "RU", "HA", "RE", "PB", "PW", "BR", "WR", "DT", "AB", "AW", "AE", "PL", "B", "W"}
_SIMPLE = {"RU": "rules_raw", "RE": "result", "PB": "black", "PW": "white", "BR": "black_rank",
           "WR": "white_rank", "DT": "date"}


def _record_from_tree(tree: sgf_grammar.Coarse_game_tree, name: str) -> SgfGame:
    nodes = list(sgf_grammar.main_sequence_iter(tree))
    root = nodes[0]
    size = _board_size(root, name)
    decoder = _Decoder(name, _charset(root, name), size)
    record = SgfGame(size=size, name=name)
    for ident, attr in _SIMPLE.items():
        if ident in root:
            setattr(record, attr, decoder.text(root[ident][0]).strip())
    record.rules = rules_from_sgf(record.rules_raw)
    if "HA" in root:
        try:
            record.handicap = max(0, int(decoder.text(root["HA"][0]).strip() or 0))
        except ValueError:
            record.handicap = 0
    komi = None
    if "KM" in root:
        record.komi_raw = decoder.text(root["KM"][0])
        komi = parse_komi(record.komi_raw, size)
    if komi is None:
        komi = 0.5 if record.handicap >= 2 else record.rules.default_komi
    record.komi = komi
    record.properties = {k: [decoder.text(v, simple=False) for v in vs] for k, vs in root.items() if k not in _INTERPRETED}
    record.setup = _node_setup(root, decoder, 1) or Setup()
    moves = 0
    for i, props in enumerate(nodes):
        if i > 0:
            setup = _node_setup(props, decoder, moves + 1)
            if setup is not None:
                record.events.append(setup)
        move = _node_move(props, decoder, moves + 1)
        if move is not None:
            record.events.append(move)
            moves += 1
    return record


def _moves_before(data: bytes) -> int:
    """How many B/W properties the tokeniser got through: where a broken file stops making sense."""
    tokens, _ = sgf_grammar.tokenise(data)
    return sum(1 for (kind, token), (next_kind, _) in zip(tokens, tokens[1:])
               if kind == "I" and token in (b"B", b"W") and next_kind == "V")


def too_large(size: int, name: str, max_bytes: int = MAX_SGF_BYTES) -> SgfError:
    return SgfError(f"{size if size > max_bytes else 'more than ' + str(max_bytes)} bytes: larger than "
                    f"the {max_bytes // (1024 * 1024)} MiB an SGF file may have", name=name, reason=TOO_LARGE)


def _load(source: Union[str, os.PathLike, bytes], name: Optional[str], max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "<bytes>"
        if len(source) > max_bytes:
            raise too_large(len(source), name, max_bytes)
        return bytes(source), name
    name = name or os.fspath(source)
    info = os.stat(source)
    if not stat.S_ISREG(info.st_mode):  # /dev/zero has no end; opening a pipe waits for a writer
        raise SgfError("not a regular file", name=name, reason=NOT_SGF)
    if info.st_size > max_bytes:
        raise too_large(info.st_size, name, max_bytes)
    with open(source, "rb") as f:
        data = f.read(max_bytes + 1)  # the file may have grown since
    if len(data) > max_bytes:
        raise too_large(len(data), name, max_bytes)
    return data, name


def read_sgf_collection(source: Union[str, os.PathLike, bytes], name: Optional[str] = None,
                        max_bytes: int = MAX_SGF_BYTES) -> list[SgfGame]:
    """Every game in an SGF file (a path) or in SGF bytes, at most `max_bytes` long. Raises
    SgfError."""
    data, name = _load(source, name, max_bytes)
    try:
        trees = sgf_grammar.parse_sgf_collection(data)
    except ValueError as e:
        if "no SGF data found" in str(e):
            raise SgfError("no SGF data found", name=name, reason=NOT_SGF) from None
        done = _moves_before(data)
        raise SgfError(f"corrupt or truncated SGF after move {done}: {e}", name=name, reason=PARSE_ERROR,
                       move_number=done + 1) from None
    if len(trees) == 1:
        return [_record_from_tree(trees[0], name)]
    return [_record_from_tree(tree, f"{name}#{i + 1}") for i, tree in enumerate(trees)]


def read_sgf(source: Union[str, os.PathLike, bytes], name: Optional[str] = None,
             max_bytes: int = MAX_SGF_BYTES) -> SgfGame:
    """The game in an SGF file (a path) or in SGF bytes; `name` labels errors (default: the
    path). Raises SgfError, also when the file holds several games (see `read_sgf_collection`)."""
    records = read_sgf_collection(source, name, max_bytes)
    if len(records) > 1:
        raise SgfError(f"the file holds {len(records)} games; read it with read_sgf_collection",
                       name=records[0].name.rsplit("#", 1)[0], reason=SEVERAL_GAMES)
    return records[0]


# --- replaying --------------------------------------------------------------------------------

def replay_rules(record: SgfGame) -> Rules:
    """The rules `replay` checks moves with: the record's rules with simple ko. Servers differ
    in the superko they enforce (KGS: positional under Chinese, situational under AGA/NZ, none
    under Japanese), and a game the server accepted must replay, so only the simple-ko ban is
    checked; suicide stays as the record's rules say (legal under NZ and Tromp-Taylor only)."""
    return record.rules.with_(ko="simple")


def replay(record: SgfGame, max_moves: Optional[int] = None, *, rules: Union[Rules, str, None] = None) -> GameState:
    """Replay the root setup and the main line (up to `max_moves` moves) into a GameState.

    `rules` defaults to `replay_rules(record)`; pass `record.rules` to enforce superko too.
    Black-only root setup in a game with HA >= 2 goes in as handicap stones. Raises SgfError
    (reason ILLEGAL_MOVE) naming the file and the move number on the first illegal move."""
    game = GameState(record.size, komi=record.komi, rules=replay_rules(record) if rules is None else rules)
    root = record.setup.as_dict()
    if root:
        black_only = all(c == BLACK for c in root.values())
        if record.handicap >= 2 and black_only:
            game.place_handicap(root)
            if record.setup.to_play not in (None, WHITE):
                game.setup_stones({}, record.setup.to_play)
        else:
            game.setup_stones(root, record.setup.to_play)
    elif record.setup.to_play is not None:
        game.setup_stones({}, record.setup.to_play)
    if game.handicap == 0:
        game.handicap = record.handicap  # handicap stones played as moves
    limit = len(record.events) if max_moves is None else max_moves
    for event in record.events:
        if isinstance(event, Setup):
            if game.move_number >= limit:
                break
            game.setup_stones(event.as_dict(), event.to_play)
            continue
        if game.move_number >= limit:
            break
        try:
            game.play(event.loc, event.color)
        except IllegalMove as e:
            raise SgfError(str(e), name=record.name, reason=ILLEGAL_MOVE, move_number=game.move_number + 1) from None
    return game


# --- writing ----------------------------------------------------------------------------------

_STRUCTURAL = {"FF", "GM", "CA", "SZ", "KM", "RU", "HA", "AB", "AW", "AE", "PL", "B", "W"}


def _text_value(value: object) -> bytes:
    return sgf_grammar.escape_text(str(value).encode("utf-8"))


def _setup_props(node: sgf.Tree_node, stones: dict[int, int], to_play: Optional[int], size: int) -> None:
    for ident, colour in (("AB", BLACK), ("AW", WHITE), ("AE", EMPTY)):
        points = sorted(sgf_point_of_loc(loc, size) for loc, c in stones.items() if c == colour)
        if points:
            node.set_raw_list(ident, [p.encode("ascii") for p in points])
    if to_play is not None:
        node.set_raw("PL", b"B" if to_play == BLACK else b"W")


def _format_komi(komi: float) -> str:
    return f"{komi:g}"


def write_sgf(game: GameState, path: Union[str, os.PathLike, None] = None, *, black: str = "Black",
              white: str = "White", result: Optional[str] = None, comment: Optional[str] = None,
              **properties: object) -> bytes:
    """The game as SGF bytes (UTF-8), also written atomically to `path` when given.

    The root holds SZ, KM, RU (`sgf_rules_name`), HA with the handicap stones as AB, PB/PW, RE
    and C; setup before the first move joins the root, later setup gets nodes of its own. RE is
    `result`, or "B+R"/"W+R" for a resigned game, else absent. `properties` adds root
    properties by SGF identifier (DT="2024-05-01", BR="3d", ...); a list value gives several
    values. Structural identifiers (SZ, KM, B, AB, ...) are refused."""
    for ident in properties:
        if not re.fullmatch(r"[A-Z]{1,8}", ident) or ident in _STRUCTURAL:
            raise ValueError(f"cannot set SGF property {ident!r} through write_sgf")
    size = game.size
    sgf_game = sgf.Sgf_game(size)
    root = sgf_game.get_root()
    root.set_raw("KM", _format_komi(game.komi).encode("ascii"))
    root.set_raw("RU", _text_value(sgf_rules_name(game.rules)))
    if game.handicap:
        root.set_raw("HA", str(game.handicap).encode("ascii"))
    root.set_raw("PB", _text_value(black))
    root.set_raw("PW", _text_value(white))
    if result is None and game.resigned is not None:
        result = game.result_string()
    if result is not None:
        root.set_raw("RE", _text_value(result))
    if comment is not None:
        root.set_raw("C", _text_value(comment))
    for ident, value in properties.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        root.set_raw_list(ident, [_text_value(v) for v in values])

    events = game.events
    first_move = next((i for i, (kind, _) in enumerate(events) if kind == "move"), len(events))
    root_stones: dict[int, int] = {}
    root_to_play: Optional[int] = None
    for _, (stones, to_play) in events[:first_move]:
        root_stones.update(stones)
        root_to_play = to_play if to_play is not None else root_to_play
    _setup_props(root, root_stones, root_to_play, size)
    node = root
    for kind, payload in events[first_move:]:
        if kind == "resume":
            # Not an SGF event: a note on the pass that ended the first phase.
            node.set_raw("C", _text_value("the players disagreed about dead stones: play resumed"))
            continue
        node = node.new_child()
        if kind == "move":
            node.set_raw("B" if payload.color == BLACK else "W", sgf_point_of_loc(payload.loc, size).encode("ascii"))
        else:
            stones, to_play = payload
            _setup_props(node, stones, to_play, size)
    data = sgf_game.serialise()
    if path is not None:
        atomic_write_bytes(path, data, make_parents=False)
    return data
