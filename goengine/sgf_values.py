"""KM and RU as SGF files write them: komi in the forms servers use (including KM x100), rule
set names in every usual spelling and KataGo's compact form, and the RU a file should carry for
a goengine rule set."""

from __future__ import annotations

import math
import re
from typing import Optional

from .rules import PRESETS, Rules


def parse_komi(text: str, size: int = 19) -> Optional[float]:
    """KM as a float, or None when it cannot be read. A comma decimal separator is accepted.

    Some servers write komi x100 (KM[750] for 7.5). A value is taken as x100 when it is written
    as a whole number (no decimal point), its magnitude is at least 50 and it is a multiple of
    25 (so the komi is a multiple of 0.25); or when its magnitude exceeds the number of points
    on the board, which no real komi does, and dividing gives a multiple of 0.25. So KM[750],
    KM[650], KM[50] read 7.5, 6.5, 0.5, while KGS's KM[-100.00] or KM[53.50] stay as written.
    """
    t = text.strip().replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    whole = re.fullmatch(r"[+-]?\d+", t) is not None
    if whole and abs(value) >= 50 and value % 25 == 0:
        return value / 100
    if abs(value) > size * size and (value / 100 * 4) == int(value / 100 * 4):
        return value / 100
    return value


# Preset names by the spellings seen in RU, compared lower-cased without spaces, "-" and "_".
_RULE_NAMES = {
    "japanese": "japanese", "jp": "japanese", "japan": "japanese",
    "chinese": "chinese", "cn": "chinese", "china": "chinese",
    "chineseogs": "chinese-ogs", "chinesekgs": "chinese-ogs",
    "aga": "aga", "bga": "aga",
    "nz": "new-zealand", "newzealand": "new-zealand",
    "korean": "korean", "kr": "korean", "korea": "korean",
    "tromptaylor": "tromp-taylor", "tt": "tromp-taylor",
}
# The names GUIs write and KataGo reads, per preset.
_SGF_RULE_NAMES = {
    "tromp-taylor": "Tromp-Taylor", "chinese": "Chinese", "chinese-ogs": "Chinese-OGS",
    "japanese": "Japanese", "korean": "Korean", "aga": "AGA", "new-zealand": "NZ",
}
_KATAGO_FORM = re.compile(
    r"(?:komi[-+.\d]+)?ko(?P<ko>SIMPLE|POSITIONAL|SITUATIONAL)scor(?:e|ing)(?P<score>AREA|TERRITORY)"
    r"(?:tax(?:NONE|SEKI|ALL))?sui(?P<sui>[01])(?:button[01])?(?:whb(?P<whb>N-1|N|0))?(?:fpok[01])?")
_WHB = {"0": "none", "N": "n", "N-1": "n-1", None: "none"}


def rules_from_sgf(text: Optional[str]) -> Rules:
    """The goengine rules for an RU value: a preset by any usual spelling ("Japanese", "NZ",
    "New Zealand", "Tromp-Taylor", ...), KataGo's compact form ("koPOSITIONALscoreAREAsui1..."),
    and chinese for anything else (the raw text stays in `SgfGame.rules_raw`)."""
    if not text:
        return PRESETS["chinese"]
    compact = re.sub(r"[\s_\-]", "", text).lower()
    if compact in _RULE_NAMES:
        return PRESETS[_RULE_NAMES[compact]]
    m = _KATAGO_FORM.fullmatch(text.strip())
    if m:
        rules = Rules(text.strip(), ko=m["ko"].lower(), scoring=m["score"].lower(), suicide=m["sui"] == "1",
                      handicap_bonus=_WHB[m["whb"]])
        return _matching_preset(rules) or rules
    return PRESETS["chinese"]


def _matching_preset(rules: Rules) -> Optional[Rules]:
    for preset in PRESETS.values():
        if preset.with_(name=rules.name, default_komi=rules.default_komi) == rules:
            return preset
    return None


def sgf_rules_name(rules: Rules) -> str:
    """RU for `rules`: the usual name of a preset (by name, or by matching fields), else
    KataGo's compact form, which KataGo and GUIs built on it read back."""
    preset = PRESETS.get(rules.name) or _matching_preset(rules)
    if preset is not None:
        return _SGF_RULE_NAMES.get(preset.name, preset.name)
    whb = {"none": "0", "n": "N", "n-1": "N-1"}[rules.handicap_bonus]
    return f"ko{rules.ko.upper()}score{rules.scoring.upper()}sui{int(rules.suicide)}whb{whb}"
