"""Rule sets as frozen values, with presets under the names GUIs and servers use.

| name          | ko          | scoring   | multi-stone suicide | white's handicap bonus | komi |
|---------------|-------------|-----------|---------------------|------------------------|------|
| tromp-taylor  | positional  | area      | legal               | none                   | 7.5  |
| chinese       | simple      | area      | illegal             | n                      | 7.5  |
| chinese-ogs   | positional  | area      | illegal             | n                      | 7.5  |
| japanese      | simple      | territory | illegal             | none                   | 6.5  |
| korean        | simple      | territory | illegal             | none                   | 6.5  |
| aga           | situational | area      | illegal             | n-1                    | 7.5  |
| new-zealand   | situational | area      | legal               | none                   | 7.0  |

Single-stone suicide is illegal under every rule set. Under simple ko, long cycles (triple ko)
are legal; the game's move limit ends them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

KO_SIMPLE = 0
KO_POSITIONAL = 1
KO_SITUATIONAL = 2
_KO_NAMES = {"simple": KO_SIMPLE, "positional": KO_POSITIONAL, "situational": KO_SITUATIONAL}
_SCORINGS = ("area", "territory")
_BONUSES = ("none", "n", "n-1")


@dataclass(frozen=True)
class Rules:
    name: str
    ko: str = "positional"
    scoring: str = "area"
    suicide: bool = False
    handicap_bonus: str = "none"
    default_komi: float = 7.5

    def __post_init__(self) -> None:
        if self.ko not in _KO_NAMES:
            raise ValueError(f"ko rule must be one of {sorted(_KO_NAMES)}, got {self.ko!r}")
        if self.scoring not in _SCORINGS:
            raise ValueError(f"scoring must be one of {_SCORINGS}, got {self.scoring!r}")
        if self.handicap_bonus not in _BONUSES:
            raise ValueError(f"handicap_bonus must be one of {_BONUSES}, got {self.handicap_bonus!r}")

    @property
    def ko_code(self) -> int:
        """The ko rule as the integer the numba kernels take."""
        return _KO_NAMES[self.ko]

    def white_bonus(self, handicap_stones: int) -> int:
        """Points white receives for black's handicap stones."""
        if handicap_stones < 2 or self.handicap_bonus == "none":
            return 0
        return handicap_stones if self.handicap_bonus == "n" else handicap_stones - 1

    def with_(self, **changes) -> "Rules":
        return replace(self, **changes)


PRESETS: dict[str, Rules] = {
    r.name: r
    for r in (
        Rules("tromp-taylor", ko="positional", scoring="area", suicide=True, handicap_bonus="none", default_komi=7.5),
        Rules("chinese", ko="simple", scoring="area", suicide=False, handicap_bonus="n", default_komi=7.5),
        Rules("chinese-ogs", ko="positional", scoring="area", suicide=False, handicap_bonus="n", default_komi=7.5),
        Rules("japanese", ko="simple", scoring="territory", suicide=False, handicap_bonus="none", default_komi=6.5),
        Rules("korean", ko="simple", scoring="territory", suicide=False, handicap_bonus="none", default_komi=6.5),
        Rules("aga", ko="situational", scoring="area", suicide=False, handicap_bonus="n-1", default_komi=7.5),
        Rules("new-zealand", ko="situational", scoring="area", suicide=True, handicap_bonus="none", default_komi=7.0),
    )
}
_ALIASES = {"tromp_taylor": "tromp-taylor", "tt": "tromp-taylor", "cn": "chinese", "jp": "japanese",
            "chinese-kgs": "chinese-ogs", "bga": "aga", "nz": "new-zealand", "new_zealand": "new-zealand"}


def get_rules(name: str) -> Rules:
    """A preset by name (case-insensitive, with the common aliases)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in PRESETS:
        raise ValueError(f"unknown rules {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[key]


# KataGo's rules fields (kata-set-rules JSON, the analysis engine's "rules" object) -> ours.
_KATA_KO = {"SIMPLE": "simple", "POSITIONAL": "positional", "SITUATIONAL": "situational", "SPIGHT": "simple"}
_KATA_SCORING = {"AREA": "area", "TERRITORY": "territory"}
_KATA_BONUS = {"0": "none", "N": "n", "N-1": "n-1"}
_KATA_NAMES = {"stone_scoring": "chinese", "stone-scoring": "chinese", "new zealand": "new-zealand",
               "chinese_ogs": "chinese-ogs", "chinese_kgs": "chinese-ogs"}


def rules_from_katago(value: "str | dict") -> Rules:
    """A preset name (ours or KataGo's spelling: "new zealand", "stone_scoring") or KataGo's
    JSON rules object: `ko` SIMPLE|POSITIONAL|SITUATIONAL, `scoring` AREA|TERRITORY,
    `suicide` bool, `whiteHandicapBonus` "0"|"N"|"N-1", `tax` NONE|SEKI|ALL (territory
    scoring here gives no points in seki, so SEKI and NONE read alike), `hasButton` (no
    button here: refused when true), optionally `komi`. Raises ValueError naming the field."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            import json

            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"rules: not valid JSON: {e}") from None
        else:
            return get_rules(_KATA_NAMES.get(text.lower(), text))
    if not isinstance(value, dict):
        raise ValueError("rules must be a preset name or a JSON object")
    known = {"ko", "scoring", "suicide", "multiStoneSuicideLegal", "tax", "hasButton", "whiteHandicapBonus",
             "komi", "friendlyPassOk", "name"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"rules: unknown field {unknown[0]!r}")

    def pick(field: str, table: dict, default: str) -> str:
        raw = value.get(field, default)
        key = str(raw).upper()
        if key not in table:
            raise ValueError(f"rules: {field} must be one of {', '.join(table)}, got {raw!r}")
        return table[key]

    ko = pick("ko", _KATA_KO, "POSITIONAL")
    scoring = pick("scoring", _KATA_SCORING, "AREA")
    bonus = pick("whiteHandicapBonus", _KATA_BONUS, "0")
    tax = str(value.get("tax", "NONE")).upper()
    if tax not in ("NONE", "SEKI", "ALL"):
        raise ValueError(f"rules: tax must be NONE, SEKI or ALL, got {value.get('tax')!r}")
    if tax == "ALL":
        raise ValueError("rules: tax ALL (group tax) is not supported")
    if value.get("hasButton"):
        raise ValueError("rules: button Go (hasButton) is not supported")
    suicide = value.get("suicide", value.get("multiStoneSuicideLegal", False))
    if not isinstance(suicide, bool):
        raise ValueError(f"rules: suicide must be true or false, got {suicide!r}")
    komi = value.get("komi", 7.5 if scoring == "area" else 6.5)
    if isinstance(komi, bool) or not isinstance(komi, (int, float)):
        raise ValueError(f"rules: komi must be a number, got {komi!r}")
    for preset in PRESETS.values():  # a known rule set keeps its name
        if (preset.ko, preset.scoring, preset.suicide, preset.handicap_bonus) == (ko, scoring, suicide, bonus):
            return preset.with_(default_komi=float(komi)) if "komi" in value else preset
    return Rules("custom", ko=ko, scoring=scoring, suicide=suicide, handicap_bonus=bonus, default_komi=float(komi))
