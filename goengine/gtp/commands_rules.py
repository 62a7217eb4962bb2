"""Rule sets: kgs-rules, kata-set-rules, kata-get-rules.

A change of rules replays the game so far under the new rules (ko and suicide rules decide
which moves were legal); it is refused, changing nothing, when a move would be illegal.
Komi follows the new rules' default unless it was set (by --komi, komi or loadsgf).
"""

from __future__ import annotations

import json

from ..rules import PRESETS, Rules, get_rules, rules_from_katago
from ..sgf import SgfError, read_sgf, replay, write_sgf
from . import args as A
from .engine import Engine
from .protocol import GtpError

# KGS's names for its rule sets.
_KGS_RULES = {"japanese": "japanese", "chinese": "chinese-ogs", "aga": "aga", "new_zealand": "new-zealand"}


def set_rules(engine: Engine, rules: Rules) -> None:
    game = engine.game
    if game.moves or game.history_len > 1:
        komi = engine.komi
        try:
            record = read_sgf(write_sgf(game))
            replayed = replay(record, rules=rules)
        except SgfError as e:
            raise GtpError(f"the game so far is not legal under {rules.name} rules: {e}") from None
        replayed.komi = komi if engine.komi_set is not None else rules.default_komi
        engine.rules = rules
        engine.set_game(replayed)
        return
    engine.rules = rules
    engine.clear_board()


def kgs_rules(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="kgs-rules japanese|chinese|aga|new_zealand")
    name = _KGS_RULES.get(args[0].lower())
    if name is None:
        raise GtpError(f"unknown rules {args[0]!r}: expected one of {', '.join(_KGS_RULES)}")
    set_rules(engine, get_rules(name))
    return ""


def kata_set_rules(engine: Engine, args: tuple) -> str:
    """A preset name, or KataGo's JSON rules object (which may hold spaces: the arguments are
    joined again), e.g. `kata-set-rules {"ko":"SIMPLE","scoring":"AREA","suicide":false}`."""
    text = " ".join(args)
    if not text.lstrip().startswith("{"):
        A.expect_count(args, 1, usage="kata-set-rules " + "|".join(PRESETS) + " or a JSON rules object")
    try:
        rules = rules_from_katago(text)
    except ValueError as e:
        raise GtpError(str(e)) from None
    set_rules(engine, rules)
    return ""


def kata_get_rules(engine: Engine, args: tuple) -> str:
    """The rules as KataGo describes them, in JSON."""
    A.expect_count(args, 0, usage="kata-get-rules")
    rules = engine.rules
    bonus = {"none": "0", "n": "N", "n-1": "N-1"}[rules.handicap_bonus]
    return json.dumps({"name": rules.name, "ko": rules.ko.upper(), "scoring": rules.scoring.upper(),
                       "suicide": rules.suicide, "tax": "NONE", "whiteHandicapBonus": bonus,
                       "hasButton": False, "komi": engine.komi})


COMMANDS = {
    "kgs-rules": kgs_rules,
    "kata-set-rules": kata_set_rules,
    "kata-get-rules": kata_get_rules,
}
