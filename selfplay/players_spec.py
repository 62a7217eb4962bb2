"""Player specs: the text a user writes to name a match player, parsed into a `PlayerSpec`.

| spec                                      | player                                              |
|-------------------------------------------|-----------------------------------------------------|
| `random`                                  | uniform over legal moves that fill no own eye       |
| `rollout-mcts`                            | classical MCTS: uniform priors, random rollouts     |
| `models/000012-b6c64` (stem, .json or     | MCTS with that network                              |
| .safetensors)                             |                                                     |
| `runs/quick:000012`                       | MCTS with the checkpoint in runs/quick/models/      |
|                                           | whose id starts with 000012                         |
| `runs/quick:best`                         | MCTS with the checkpoint runs/quick/best.json names |
|                                           | (selfplay.rundir)                                   |
| `bundled:NAME`                            | MCTS with the network shipped in the package        |
|                                           | (goengine/networks/NAME), e.g. `bundled:9x9`        |
| `policy:NET`                              | the network's policy alone, greedy, averaged over   |
|                                           | the 8 board symmetries (NET: any network form above)|
| `gtp:COMMAND`                             | an external engine over GTP; COMMAND is split as a  |
|                                           | shell would (shlex)                                 |
| `SPEC@N`                                  | a search player (`rollout-mcts` or a network) with  |
|                                           | N visits a move, whatever the match's --visits      |
| `NAME=SPEC`                               | any of the above, under the name NAME (no `=`, `:`, |
|                                           | `/` or spaces in NAME)                              |

A player's name is what the match table, the ledger and the ratings call it: the model id for
networks, `policy:<model id>` for policy players, the program's base name plus its arguments
(without `--mode gtp`) for external engines. Networks are loaded only when a match starts
(`PlayerSpec.load_evaluator`), so parsing never imports torch. Komi, rules and board size come
from the match configuration; so do visits, unless the spec ends in `@N`. A ladder needs that:
the rollout search is only worth rating at thousands of visits, a network on a CPU at hundreds.
A player with its own visits is named with the suffix (`rollout-mcts@2000`), since it is a
different player from the same program at other visits.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from goengine.coords import DEFAULT_SIZE
from goengine.evaluator import Evaluator
from goengine.networks import checkpoint_board_sizes
from goengine.players import Player, PlayerConfig, PolicyPlayer, RandomPlayer, ResignRule, SearchPlayer
from goengine.search import SearchConfig, rollout_search_config

from .rundir import MODELS_DIR, RunDir, RunDirError, checkpoint_stem

KINDS = ("random", "rollout", "mcts", "policy", "gtp", "player")
_NAME_OVERRIDE = re.compile(r"^([^=:/\s]+)=(.+)$", re.DOTALL)
_VISITS_SUFFIX = re.compile(r"^(.+)@(\d+)$", re.DOTALL)


class PlayerSpecError(ValueError):
    """A spec that names no player: a missing checkpoint, an ambiguous model id, bad syntax."""


@dataclass(frozen=True, eq=False)
class PlayerSpec:
    """A match player before it is built.

    kind: one of KINDS. "mcts" and "policy" use `evaluator`, or load `checkpoint` when it is
    None; "rollout" searches without a network; "gtp" runs `command`; "player" is a ready
    `goengine.players.Player`.
    `search` overrides the match's search settings for this player (visits included);
    `visits`, when set, overrides only the number of visits (the `SPEC@N` form).
    `run_dir` is the training run the player came from (the default place of the ledger)."""
    name: str
    kind: str
    evaluator: Optional[Evaluator] = None
    checkpoint: Optional[Path] = None
    command: tuple[str, ...] = ()
    search: Optional[SearchConfig] = None
    player: Any = None
    run_dir: Optional[Path] = None
    visits: Optional[int] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PlayerSpecError(f"unknown player kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.visits is not None and self.kind not in ("rollout", "mcts"):
            raise PlayerSpecError(f"{self.name}: @N visits apply to search players only "
                                  f"(rollout-mcts or a network), not to {self.kind} players")
        if self.visits is not None and self.visits < 1:
            raise PlayerSpecError(f"{self.name}: visits must be at least 1")
        if self.kind in ("mcts", "policy") and self.evaluator is None and self.checkpoint is None:
            raise PlayerSpecError(f"a {self.kind} player needs an evaluator or a checkpoint")
        if self.kind == "gtp" and not self.command:
            raise PlayerSpecError("a gtp player needs a command")
        if self.kind == "player" and not isinstance(self.player, Player):
            raise PlayerSpecError("a 'player' spec needs a goengine.players.Player")

    @property
    def external(self) -> bool:
        return self.kind == "gtp"

    def load_evaluator(self, device: str = "cpu", backend: str = "auto", precision: Optional[str] = None,
                       log=None, seed: int = 0) -> Optional[Evaluator]:
        """The network to play with (loaded from the checkpoint on first need, on the runtime
        `backend` names: goengine.nn.backends), or None."""
        if self.evaluator is not None or self.checkpoint is None:
            return self.evaluator
        from goengine.nn import load_evaluator  # torch only when a network actually plays
        # A policy player makes one network call a move, so averaging the 8 symmetries costs
        # little and removes the orientation bias of a single call (+1.4 points of top-1 on
        # the 19x19 held-out games). A search sees each leaf in a random orientation, so its
        # many calls do not share one bias: 9x9, 200 visits, against the same network in one
        # orientation, 103-57 over 160 distinct games. (An orientation fixed by a hash of the
        # position, which would keep games replayable, scored only 68-64.)
        symmetry = "average" if self.kind == "policy" else "random"
        return load_evaluator(self.checkpoint, backend=backend, device=device, precision=precision,
                              symmetry=symmetry, seed=seed, log=log)


# --- constructors for callers that already hold objects ------------------------------------------

def random_player(name: str = "random") -> PlayerSpec:
    return PlayerSpec(name=name, kind="random")


def rollout_player(name: str = "rollout-mcts", search: Optional[SearchConfig] = None) -> PlayerSpec:
    return PlayerSpec(name=name, kind="rollout", search=search)


def network_player(evaluator: Evaluator, name: str, search: Optional[SearchConfig] = None) -> PlayerSpec:
    """MCTS with an evaluator that is already built (the training loop's gating uses this)."""
    return PlayerSpec(name=name, kind="mcts", evaluator=evaluator, search=search)


def policy_player(evaluator: Evaluator, name: str) -> PlayerSpec:
    return PlayerSpec(name=name, kind="policy", evaluator=evaluator)


def gtp_player(command: str | list[str] | tuple[str, ...], name: Optional[str] = None) -> PlayerSpec:
    argv = tuple(shlex.split(command)) if isinstance(command, str) else tuple(command)
    if not argv:
        raise PlayerSpecError("empty GTP engine command")
    return PlayerSpec(name=name or default_gtp_name(argv), kind="gtp", command=argv)


def object_player(player: Player, name: Optional[str] = None) -> PlayerSpec:
    return PlayerSpec(name=name or getattr(player, "name", "player"), kind="player", player=player)


def default_gtp_name(argv: tuple[str, ...] | list[str]) -> str:
    """The program's base name and its arguments, without the `--mode gtp` every engine needs."""
    args = list(argv[1:])
    for i in range(len(args) - 1):
        if args[i] == "--mode" and args[i + 1] == "gtp":
            del args[i:i + 2]
            break
    return " ".join([os.path.basename(argv[0]), *args])


def as_spec(player: Any, base_dir: str | os.PathLike | None = None) -> PlayerSpec:
    """A PlayerSpec from a spec string, a PlayerSpec, an Evaluator (MCTS with it) or a Player."""
    if isinstance(player, PlayerSpec):
        return player
    if isinstance(player, str):
        return parse_player(player, base_dir)
    if isinstance(player, Player):
        return object_player(player)
    if isinstance(player, Evaluator):
        return network_player(player, getattr(player, "name", None) or "mcts")
    raise PlayerSpecError(f"cannot make a match player of {type(player).__name__}")


def board_size_of(specs: list[PlayerSpec]) -> int:
    """The board size the network players were trained on, when their checkpoints name one
    size between them; else goengine's default size."""
    sizes = {sizes[0] for spec in specs if spec.checkpoint is not None
             for sizes in [checkpoint_board_sizes(spec.checkpoint)] if len(sizes) == 1}
    return sizes.pop() if len(sizes) == 1 else DEFAULT_SIZE


# --- building -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlayerSettings:
    """What every match player needs to know of the match. `resign`: the rule of our search
    players (ResignRule(below=None): never resign)."""
    size: int
    komi: float
    max_moves: int
    search: SearchConfig
    resign: ResignRule = ResignRule(below=-0.95)
    move_timeout: float = 60.0
    setup_timeout: float = 30.0
    quit_grace: float = 1.0
    engine_score: bool = True
    device: str = "cpu"
    backend: str = "auto"           # the runtime of networks (goengine.nn.backends)
    precision: Optional[str] = None  # None: the runtime's exact default; "auto", "fp32" or "bf16"
    log: Optional[Callable[[str], None]] = None  # hears which runtime a network runs on
    seed: int = 0                   # seeds the orientations a network player's search draws


def build_player(spec: PlayerSpec, settings: PlayerSettings, num_slots: int) -> Player:
    """The player `spec` names, for up to `num_slots` concurrent games (a ready player keeps its
    own `num_slots`)."""
    if spec.kind == "random":
        return RandomPlayer(name=spec.name)
    if spec.kind == "gtp":
        from .gtp_player import GtpPlayer
        return GtpPlayer(spec.name, spec.command, settings, num_slots)
    if spec.kind == "player":
        return spec.player
    search = spec.search if spec.search is not None else settings.search
    if spec.visits is not None:
        search = search.with_(num_simulations=spec.visits)
    common = dict(play=PlayerConfig(resign=settings.resign), num_slots=num_slots, max_moves=settings.max_moves,
                  name=spec.name)
    if spec.kind == "rollout":
        return SearchPlayer(rollout_search_config(search.num_simulations), settings.size, None, **common)
    evaluator = spec.load_evaluator(settings.device, settings.backend, settings.precision, log=settings.log,
                                    seed=settings.seed)
    if evaluator.board_size is not None and evaluator.board_size != settings.size:
        raise ValueError(f"{spec.name} plays {evaluator.board_size}x{evaluator.board_size}, "
                         f"the match is {settings.size}x{settings.size}")
    if spec.kind == "policy":
        return PolicyPlayer(evaluator, spec.name)
    return SearchPlayer(search, settings.size, evaluator, **common)


# --- parsing ------------------------------------------------------------------------------------

def parse_player(text: str, base_dir: str | os.PathLike | None = None) -> PlayerSpec:
    """Parse one spec (see the module docstring). Relative paths are taken from `base_dir`
    (default: the working directory). Raises PlayerSpecError naming what is wrong."""
    text = text.strip()
    if not text:
        raise PlayerSpecError("empty player spec")
    override = _NAME_OVERRIDE.match(text)
    if override:
        spec = parse_player(override.group(2), base_dir)
        return dataclasses.replace(spec, name=override.group(1))
    suffix = _VISITS_SUFFIX.match(text) if not text.startswith("gtp:") else None
    if suffix:
        spec = parse_player(suffix.group(1), base_dir)
        visits = int(suffix.group(2))
        return dataclasses.replace(spec, name=f"{spec.name}@{visits}", visits=visits)  # checked there
    if text == "random":
        return random_player()
    if text in ("rollout-mcts", "rollout"):
        return rollout_player()
    if text.startswith("gtp:"):
        return gtp_player(text[4:])
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if text.startswith("policy:"):
        inner = _network(text[7:], base)
        return PlayerSpec(name=f"policy:{inner.name}", kind="policy", checkpoint=inner.checkpoint,
                          run_dir=inner.run_dir)
    return _network(text, base)


def _network(text: str, base: Path) -> PlayerSpec:
    if text.startswith("bundled:"):
        from goengine.networks import bundled
        try:
            network = bundled(text[len("bundled:"):])
        except ValueError as e:
            raise PlayerSpecError(str(e)) from None
        return PlayerSpec(name=text, kind="mcts", checkpoint=network.stem)
    run_part, sep, key = text.rpartition(":")
    if sep and run_part and "/" not in key and (base / run_part).is_dir():
        run_dir = (base / run_part)
        try:
            checkpoint = RunDir(run_dir).find_model(key)
        except RunDirError as e:
            raise PlayerSpecError(str(e)) from None
    else:
        checkpoint = resolve_checkpoint(base / text)
        models = checkpoint.parent
        run_dir = models.parent if models.name == MODELS_DIR else None
    return PlayerSpec(name=model_name(checkpoint), kind="mcts", checkpoint=checkpoint, run_dir=run_dir)


def resolve_checkpoint(path: Path) -> Path:
    """The stem of a checkpoint given as a stem, a .json or a .safetensors path."""
    stem = checkpoint_stem(path)
    if stem is None:
        stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
        raise PlayerSpecError(f"no checkpoint at {stem} (expected {stem.name}.json beside the weights); "
                              f"not a built-in player either (random, rollout-mcts, policy:..., gtp:...)")
    return stem


def model_name(checkpoint: Path) -> str:
    """The model id the checkpoint's JSON records, else the file's stem."""
    try:
        meta = json.loads(checkpoint.with_name(checkpoint.name + ".json").read_text(encoding="utf-8"))
        model_id = meta.get("model_id") if isinstance(meta, dict) else None
    except (OSError, json.JSONDecodeError):
        model_id = None
    return str(model_id) if model_id else checkpoint.name
