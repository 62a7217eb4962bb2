"""The extensions KataGo, Leela Zero and GoGui users expect: get_komi, clear_cache,
kata-get-param / kata-set-param / kata-list-params, lz-setoption, kata-raw-nn, and GoGui's
analysis menu (gogui-analyze_commands with the gogui-ownership, gogui-policy and
gogui-winrates boards it lists) and gogui-interrupt.

Parameters (kata-*-param; lz-setoption takes `name NAME value VALUE` with Leela Zero's names):
| KataGo name      | Leela Zero name        | meaning                                         |
|------------------|------------------------|-------------------------------------------------|
| maxVisits        | visits                 | visits per move                                 |
| maxPlayouts      | playouts               | the same (the search has no separate playouts)  |
| maxTime          | maximum time (seconds) | seconds per move, 0: none                       |
| numSearchThreads | threads                | threads for the network (torch)                 |
"""

from __future__ import annotations

import numpy as np

from ..board import BLACK
from ..evaluator import outputs_in_orientation
from ..features.state import encode_state
from ..symmetry import NUM_SYMMETRIES, apply_features, invert_points, invert_policy
from . import args as A
from .engine import Engine
from .protocol import GtpError

_LZ_NAMES = {"visits": "maxVisits", "playouts": "maxPlayouts", "maximum time (seconds)": "maxTime",
             "threads": "numSearchThreads"}
PARAMS = ("maxVisits", "maxPlayouts", "maxTime", "numSearchThreads")


def get_komi(engine: Engine, args: tuple) -> str:
    return f"{engine.komi:g}"


def clear_cache(engine: Engine, args: tuple) -> str:
    engine.forget_search()  # no evaluation cache: the tree is what a search remembers
    return ""


def _get(engine: Engine, name: str) -> str:
    options = engine.options
    if name in ("maxVisits", "maxPlayouts"):
        return str(options.visits if options.visits is not None else engine.searcher().default_visits)
    if name == "maxTime":
        return f"{options.time_per_move or 0:g}"
    if name == "numSearchThreads":
        return str(options.threads or 1)
    raise GtpError(f"unknown parameter {name!r}; known: {', '.join(PARAMS)}")


def _set(engine: Engine, name: str, text: str) -> None:
    if name in ("maxVisits", "maxPlayouts"):
        visits = A.integer(text, name)
        if visits < 1:
            raise GtpError(f"{name} must be at least 1")
        engine.update_options(visits=visits)
    elif name == "maxTime":
        seconds = A.number(text, name)
        if seconds < 0:
            raise GtpError("maxTime must be at least 0")
        engine.update_options(time_per_move=seconds if seconds > 0 else None)
    elif name == "numSearchThreads":
        threads = A.integer(text, name)
        if threads < 1:
            raise GtpError("numSearchThreads must be at least 1")
        engine.update_options(threads=threads)
        if engine.evaluator is not None:
            import torch

            torch.set_num_threads(threads)
    else:
        raise GtpError(f"unknown parameter {name!r}; known: {', '.join(PARAMS)}")


def kata_get_param(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="kata-get-param NAME")
    return _get(engine, args[0])


def kata_set_param(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 2, usage="kata-set-param NAME VALUE")
    _set(engine, args[0], args[1])
    return ""


def kata_list_params(engine: Engine, args: tuple) -> str:
    return " ".join(PARAMS)


def lz_setoption(engine: Engine, args: tuple) -> str:
    words = [a.lower() for a in args]
    if len(words) < 4 or words[0] != "name" or "value" not in words[2:]:
        raise GtpError("expected: lz-setoption name NAME value VALUE")
    at = words.index("value", 2)
    name = " ".join(words[1:at])
    if name not in _LZ_NAMES or at + 2 != len(words):
        raise GtpError(f"unknown option {name!r}; known: {', '.join(_LZ_NAMES)}")
    _set(engine, _LZ_NAMES[name], args[at + 1])
    return ""


def _network(engine: Engine):
    engine.wait_ready()
    evaluator = engine.evaluator
    if evaluator is None or getattr(evaluator, "evaluate_outputs", None) is None:
        raise GtpError("this command needs a network (start with --model)")
    return evaluator


def _rows(values: np.ndarray, size: int, fmt: str = "{:.6f}") -> list[str]:
    return [" ".join("NAN" if not np.isfinite(v) else fmt.format(v) for v in values[r * size:(r + 1) * size])
            for r in range(size)]


def kata_raw_nn(engine: Engine, args: tuple) -> str:
    """The network's raw outputs at the current position under one symmetry (0-7) or each of
    them (`all`), in KataGo's layout: whiteWin/whiteLoss/noResult, whiteLead (with a score
    head), the policy as N rows (NAN where illegal) and policyPass, whiteOwnership rows."""
    A.expect_count(args, 1, usage="kata-raw-nn SYMMETRY|all")
    if args[0].lower() == "all":
        symmetries = list(range(NUM_SYMMETRIES))
    else:
        k = A.integer(args[0], "symmetry")
        if not 0 <= k < NUM_SYMMETRIES:
            raise GtpError(f"symmetry must be 0 to {NUM_SYMMETRIES - 1} or all")
        symmetries = [k]
    evaluator = _network(engine)
    game = engine.game
    size = game.size
    features = encode_state(game, evaluator.feature_set)[None]
    legal = game.legal_mask()
    white = game.to_play != BLACK
    blocks = []
    for k in symmetries:
        out = outputs_in_orientation(evaluator, apply_features(features, k), "none")  # k is the only turn
        logits = invert_policy(out.policy_logits, k, size)[0].astype(np.float64)
        z = np.where(legal, logits, -np.inf)
        policy = np.exp(z - z.max())
        policy /= policy.sum()
        win = (float(out.value[0]) + 1.0) / 2.0  # side to move
        white_win = 1.0 - win if not white else win
        lines = [f"symmetry {k}", f"whiteWin {white_win:.6f}", f"whiteLoss {1.0 - white_win:.6f}", "noResult 0"]
        if out.score is not None:
            lead = float(out.score[0])
            lines.append(f"whiteLead {lead if white else -lead:.6f}")
        lines.append("policy")
        lines += _rows(np.where(legal[:-1], policy[:-1], np.nan), size)
        lines.append(f"policyPass {policy[-1]:.6f}")
        if out.ownership is not None:
            own = invert_points(out.ownership, k, size)[0].astype(np.float64)
            lines.append("whiteOwnership")
            lines += _rows(own if white else -own, size)
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


# GoGui's analysis menu: type/label/command. dboard commands answer N rows of numbers, the top
# row first.
ANALYZE_COMMANDS = (
    "dboard/Ownership (+1 Black)/gogui-ownership",
    "dboard/Policy/gogui-policy",
    "dboard/Win rate of each move/gogui-winrates",
    "string/Score estimate/final_score",
    "string/Show board/showboard",
)


def gogui_analyze_commands(engine: Engine, args: tuple) -> str:
    return "\n".join(ANALYZE_COMMANDS)


def gogui_ownership(engine: Engine, args: tuple) -> str:
    from ..analysis.estimates import root_estimate

    engine.wait_ready()
    estimate = root_estimate(engine.game, engine.evaluator, engine.options.ownership_playouts, engine.options.seed)
    return "\n" + "\n".join(_rows(estimate.ownership, engine.game.size, "{:.2f}"))


def gogui_policy(engine: Engine, args: tuple) -> str:
    """The network's move probabilities; without a network, the search's visit shares."""
    game = engine.game
    if engine.evaluator is None:
        return gogui_winrates(engine, args, shares=True)
    evaluator = _network(engine)
    logits, _ = evaluator.evaluate(encode_state(game, evaluator.feature_set)[None])
    legal = game.legal_mask()
    z = np.where(legal, logits[0].astype(np.float64), -np.inf)
    policy = np.exp(z - z.max())
    policy /= policy.sum()
    return "\n" + "\n".join(_rows(np.where(legal[:-1], policy[:-1], 0.0), game.size, "{:.3f}"))


def gogui_winrates(engine: Engine, args: tuple, shares: bool = False) -> str:
    """A short search (at most 200 visits); each searched move's win rate for the side to
    move (or its share of the visits), 0 elsewhere."""
    searcher = engine.searcher()
    game = engine.game
    if not searcher.can_search(game):
        raise GtpError("the game is too long to search")
    result = searcher.search(game, visits=min(200, searcher.default_visits))
    n = game.size * game.size
    visits = result.visit_counts[:n].astype(np.float64)
    if shares:
        values = visits / max(1.0, visits.sum())
    else:
        values = np.where(visits > 0, (np.nan_to_num(result.q[:n]) + 1.0) / 2.0, 0.0)
    return "\n" + "\n".join(_rows(values, game.size, "{:.2f}"))


def gogui_interrupt(engine: Engine, args: tuple) -> str:
    """Listed so that GoGui interrupts analysis by sending a `# interrupt` line: any input
    ends a streaming command."""
    return ""


COMMANDS = {
    "get_komi": get_komi,
    "clear_cache": clear_cache,
    "kata-get-param": kata_get_param,
    "kata-set-param": kata_set_param,
    "kata-list-params": kata_list_params,
    "lz-setoption": lz_setoption,
    "kata-raw-nn": kata_raw_nn,
    "gogui-analyze_commands": gogui_analyze_commands,
    "gogui-ownership": gogui_ownership,
    "gogui-policy": gogui_policy,
    "gogui-winrates": gogui_winrates,
    "gogui-interrupt": gogui_interrupt,
}
