"""`goengine match A B`: play a match with a progress bar and the running score (plain lines
every half minute when stderr is not a terminal), then print the result table; `--verbose`
prints a line per game as well.

Players are specs (`selfplay.players_spec`): random, rollout-mcts, a checkpoint path,
RUN:MODEL_ID, RUN:best, policy:NET, gtp:COMMAND, each optionally NAME=SPEC.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from goengine.progress import Progress
from goengine.runtime_options import add_runtime_arguments

from .match import GameResult, MatchConfig, MatchResult, default_ledger, format_elo, play_match
from .players_spec import PlayerSpecError, board_size_of, parse_player


def _pair(text: str) -> tuple[float, float]:
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected ELO0,ELO1, got {text!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers ELO0,ELO1, got {text!r}") from None


PLAYER_FORMS = """players:
  random                      uniform over legal moves that fill no own eye
  rollout-mcts                classical MCTS with random rollouts (no network)
  models/000012-b6c64         MCTS with a checkpoint (stem, .json or .safetensors)
  runs/quick:000012           MCTS with the run's model whose id starts with 000012
  runs/quick:best             MCTS with the run's best model (runs/quick/best.json)
  policy:NET                  a network's policy alone, greedy, averaged over the 8 symmetries (NET: any form above)
  gtp:COMMAND                 an external engine, e.g. "gtp:/usr/games/gnugo --mode gtp --level 10"
  SPEC@N                      a search player (rollout-mcts, a network) with N visits, e.g. rollout-mcts@2000
  NAME=SPEC                   any of these under the name NAME (used by the ledger and ratings)

example:
  goengine match runs/quick:000040 runs/quick:000030 --games 100 --visits 200 --sprt 0,35
  goengine match runs/quick:best "gnugo-l10=gtp:/usr/games/gnugo --mode gtp --level 10 --chinese-rules --capture-all-dead" --games 40
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = PLAYER_FORMS
    parser.add_argument("a", metavar="A", help="first player (plays Black in even games)")
    parser.add_argument("b", metavar="B", help="second player")
    parser.add_argument("--games", type=int, default=100, help="number of games (default 100)")
    parser.add_argument("--size", type=int, default=None,
                        help="board size (default: the size the networks were trained on, else 19)")
    parser.add_argument("--komi", type=float, default=7.5, help="komi (default 7.5)")
    parser.add_argument("--rules", default="chinese", help="rule set preset (default chinese)")
    parser.add_argument("--visits", type=int, default=200, help="search visits per move of internal players (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="match seed; game i uses a seed derived from it")
    parser.add_argument("--sgf-dir", default=None, help="save every game as SGF here")
    parser.add_argument("--sprt", type=_pair, default=None, metavar="ELO0,ELO1",
                        help="stop as soon as SPRT decides between A being ELO0 and ELO1 stronger")
    parser.add_argument("--alpha", type=float, default=0.05, help="SPRT false-H1 rate (default 0.05)")
    parser.add_argument("--beta", type=float, default=0.05, help="SPRT false-H0 rate (default 0.05)")
    parser.add_argument("--ledger", default=None,
                        help="JSONL ledger to append games to (default: the run's matches.jsonl when a player comes from a run)")
    parser.add_argument("--no-ledger", action="store_true", help="write no ledger")
    parser.add_argument("--openings", default="2", metavar="N|LO,HI|DIR",
                        help="random opening moves per game pair: up to N, or LO..HI; or a folder of SGF openings (default 2)")
    parser.add_argument("--parallel", type=int, default=0, help="concurrent games (default: automatic)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per move of an external engine (default 60)")
    parser.add_argument("--max-moves", type=int, default=None, help="move limit per game (default 3 N^2)")
    parser.add_argument("--no-resign", action="store_true", help="internal players never resign")
    parser.add_argument("--device", default="cpu", help="torch device for networks (default cpu)")
    add_runtime_arguments(parser)
    parser.add_argument("--verbose", action="store_true", help="print a line per game as it ends")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    parser.add_argument("--dead-stones", choices=("agree", "as-is"), default="agree",
                        help="at two passes: 'agree' (KGS: the players name the dead stones, and play "
                             "resumes to capture them when they disagree; the default) or 'as-is' (every "
                             "stone counts alive). Tromp-Taylor rules always count the board as it stands")


def _openings(text: str) -> dict:
    if Path(text).is_dir():
        return {"opening_sgf_dir": text}
    parts = text.replace(" ", "").split(",")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"--openings must be N, LO,HI or a folder, got {text!r}") from None
    lo, hi = (0, numbers[0]) if len(numbers) == 1 else tuple(numbers)
    return {"opening_moves": (lo, hi)}


def running_score(match: MatchResult) -> str:
    """A's wins-losses-draws, the Elo estimate with its 95% interval, and SPRT's LLR."""
    elo, lo, hi = match.elo
    sprt = f", LLR {match.sprt_llr:+.2f}" if match.sprt_llr is not None else ""
    return (f"{match.player_a} {match.wins}-{match.losses}-{match.draws}, "
            f"Elo {format_elo(elo)} [{format_elo(lo)}, {format_elo(hi)}]{sprt}")


def run(args: argparse.Namespace) -> int:
    try:
        spec_a, spec_b = parse_player(args.a), parse_player(args.b)
        size = args.size if args.size is not None else board_size_of([spec_a, spec_b])
        config = MatchConfig(games=args.games, size=size, komi=args.komi, rules=args.rules,
                             visits=args.visits, seed=args.seed, sgf_dir=args.sgf_dir, sprt=args.sprt,
                             alpha=args.alpha, beta=args.beta, move_timeout=args.timeout,
                             parallel=args.parallel, max_moves=args.max_moves,
                             allow_resign=not args.no_resign, device=args.device, backend=args.backend,
                             precision=args.precision,
                             dead_stones=args.dead_stones,
                             **_openings(args.openings))
    except (PlayerSpecError, ValueError) as e:
        print(f"goengine match: {e}", file=sys.stderr)
        return 2
    ledger = None if args.no_ledger else (args.ledger or default_ledger(spec_a, spec_b))
    start = time.perf_counter()
    bar = Progress(total=config.games, desc=f"{spec_a.name} vs {spec_b.name}", unit="game",
                   enabled=not args.no_progress)

    def progress(game: GameResult, match: MatchResult) -> None:
        bar.set_fields(running_score(match))
        if args.verbose:
            extra = "".join(f"  [{k}: {v}]" for k, v in game.engine_score.items())
            dead = f" ({game.dead_stones} stones)" if game.dead_stones else ""
            bar.write(f"game {len(match.games):>4}/{config.games} (#{game.index}): {game.black} (B) vs {game.white} "
                      f"(W): {game.result:<8} {game.reason}{dead}, {game.moves} moves{extra} | "
                      f"{running_score(match)}  {time.perf_counter() - start:.0f} s", file=sys.stdout)
        bar.update_to(len(match.games))

    with bar:
        result = play_match(spec_a, spec_b, config, progress=progress, ledger=ledger)
    print(result.table())
    if ledger is not None:
        print(f"ledger: {ledger}")
    return 0
