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
