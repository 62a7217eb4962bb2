"""Gating: the candidate plays the best network with the match code `goengine match` uses
(alternating colours, no noise, lockstep batched search) and is promoted when it wins at least
`threshold` of the games (winrate), when SPRT(elo0, elo1) accepts it (sprt), or always
(AlphaZero's choice).

A gate has a fixed match id (`gate{generation:06d}-{candidate}-vs-{best}`), and an interrupted
gate resumes from the games its ledger holds: each game is counted once, however often the gate
is started."""

from __future__ import annotations

from typing import Callable, Optional

from .config import RunConfig
from .rundir import RunDir


def gate_match_id(generation: int, candidate: str, best: str) -> str:
    return f"gate{generation:06d}-{candidate}-vs-{best}"


def gate(run_dir: RunDir, config: RunConfig, *, best: str, candidate: str, generation: int, device: str,
         backend: str = "auto", precision=None, progress: bool = True, log: Callable[[str], None] = print,
         candidate_stem: Optional[str] = None, best_stem: Optional[str] = None) -> dict:
    """Play the gate; the checkpoints are the run dir's unless `candidate_stem`/`best_stem`
    name copies (a gatekeeper on a node that does not see the run dir's models)."""
    g = config.gating
    if g.mode == "always" or best == candidate:
        return {"promoted": True, "gate_wins": 0, "gate_losses": 0, "gate_draws": 0}
    from goengine.game import move_limit
    from goengine.progress import Progress
    from goengine.search import SearchConfig
    from selfplay.match import MatchConfig, play_match

    r, s = config.run, config.selfplay
    search = SearchConfig(num_simulations=g.visits, leaves_per_tree=s.leaves_per_tree, c_init=s.c_init,
                          fpu_reduction=s.fpu_reduction, gumbel=s.gumbel, gumbel_m=s.gumbel_m)
    match_config = MatchConfig(games=g.games, size=r.board_size, komi=r.komi, rules=r.rules, visits=g.visits,
                               seed=r.seed * 1000 + generation, sgf_dir=str(run_dir.root / "sgf" / f"gate{generation:06d}"),
                               sprt=(g.sprt_elo0, g.sprt_elo1) if g.mode == "sprt" else None,
                               parallel=g.parallel_games, search=search, device=device, backend=backend, precision=precision,
                               announce_backend=False, allow_resign=g.allow_resign,
                               max_moves=r.max_moves or move_limit(r.board_size),
                               match_id=gate_match_id(generation, candidate, best))
    bar = Progress(total=g.games, desc=f"gen {generation} gate", unit="game", enabled=progress)

    def on_game(game, match) -> None:
        bar.set_fields(f"{candidate} {match.wins}-{match.losses}" + (f"-{match.draws}" if match.draws else ""))
        bar.update_to(len(match.games))  # resumed games included

    run_dir.adopt_legacy_ledger()  # gates of an older run, recorded in ledger.jsonl, count as played
    candidate_stem = candidate_stem or str(run_dir.model_stem(candidate))
    best_stem = best_stem or str(run_dir.model_stem(best))
    result = play_match(f"{candidate}={candidate_stem}", f"{best}={best_stem}",
                        match_config, progress=on_game, ledger=run_dir.ledger, resume=True)
    bar.close()
    played = result.wins + result.losses + result.draws
    win_rate = (result.wins + 0.5 * result.draws) / played if played else 0.0
    if g.mode == "sprt":
        promoted = getattr(result, "sprt_decision", None) == "H1"
    else:
        promoted = win_rate >= g.threshold
    return {"promoted": bool(promoted), "gate_wins": result.wins, "gate_losses": result.losses,
            "gate_draws": result.draws, "gate_win_rate": win_rate}
