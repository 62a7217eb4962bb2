"""Bradley-Terry (Elo) ratings of every player in a match ledger, by maximum likelihood.

Model. Player i with rating r_i (Elo points) scores against player j with probability
P(i beats j) = 1 / (1 + 10^((r_j - r_i) / 400)). A draw counts half a win for each side (no
separate draw model: Go with fractional komi has none). The log-likelihood of pair (i, j) with
n games of which i scored S points is S log P + (n - S) log(1 - P).

Prior. A player who won (or lost) every game would have an infinite rating, so each pair of
players that met also gets `prior_draws` virtual draws (default 1). With n real games this pulls
the pair's score towards 50% by a factor n / (n + prior_draws), and decides nothing once the
real games are many.

Fit and intervals. Ratings are the maximiser of the penalised log-likelihood, with the anchor
player held at the anchor rating; Newton steps with backtracking. The 95% interval of each
rating is +/- 1.96 standard errors from the inverse of the observed information (the negative
Hessian) over the free ratings: an interval relative to the anchor, which itself has none.
Players with no chain of games to the anchor get no rating.

Plot. Players whose names start with a generation number ("000012-b6c64") are drawn by
generation with error bars; the others (random, rollout-mcts, GNU Go...) as horizontal lines.
"""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from goengine.atomic import atomic_write_path

from .match_stats import Z95

_C = math.log(10.0) / 400.0  # logistic slope of an Elo point
GENERATION = re.compile(r"^(\d+)-")


@dataclass(frozen=True)
class PlayerRating:
    name: str
    games: int
    points: float                  # wins + draws / 2
    rating: Optional[float]        # None: not connected to the anchor
    ci95: Optional[float]          # half-width of the 95% interval; 0 for the anchor

    @property
    def generation(self) -> Optional[int]:
        m = GENERATION.match(self.name)
        return int(m.group(1)) if m else None


@dataclass
class RatingTable:
    """Rated players by rating (best first), then the unrated ones."""
    ratings: list[PlayerRating]
    anchor: str
    anchor_elo: float
    prior_draws: float
    games: int
    skipped: int = 0                            # results that could not be used (self-play)
    pairs: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)  # (a, b) -> (games, a's points)

    def get(self, name: str) -> PlayerRating:
        for r in self.ratings:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def unconnected(self) -> list[str]:
        return [r.name for r in self.ratings if r.rating is None]

    def format(self) -> str:
        width = max([len(r.name) for r in self.ratings] + [6])
        lines = [f"{'player':<{width}}  {'games':>6}  {'score':>6}  {'rating':>7}  {'+/- 95%':>8}"]
        for r in self.ratings:
            score = f"{100 * r.points / r.games:5.1f}%" if r.games else "     -"
            if r.rating is None:
                lines.append(f"{r.name:<{width}}  {r.games:>6}  {score:>6}  {'-':>7}  {'-':>8}  not connected to the anchor")
            else:
                ci = "anchor" if r.name == self.anchor else f"{r.ci95:.0f}"
                lines.append(f"{r.name:<{width}}  {r.games:>6}  {score:>6}  {r.rating:>7.0f}  {ci:>8}")
        lines.append(f"anchor: {self.anchor} = {self.anchor_elo:g}; {self.games} games; "
                     f"prior: {self.prior_draws:g} virtual draw(s) per pair that met"
                     + (f"; {self.skipped} game(s) of a player against itself ignored" if self.skipped else ""))
        if self.unconnected:
            lines.append(f"no rating for {', '.join(self.unconnected)}: no chain of games links them to "
                         f"{self.anchor}")
        return "\n".join(lines)

    def format_pairs(self) -> str:
        lines = []
        for (a, b), (n, pts) in sorted(self.pairs.items()):
            lines.append(f"{a} vs {b}: {n} games, {a} scored {pts:g} ({100 * pts / n:.0f}%)")
        return "\n".join(lines)


def results_from_ledger(records: Iterable[dict[str, Any]], visits: Optional[int] = None) -> list[tuple[str, str, float]]:
    """(black, white, Black's points) for each ledger record (optionally only at `visits`)."""
    out = []
    for r in records:
        if visits is not None and r.get("visits") != visits:
            continue
        black, white, winner = r.get("black"), r.get("white"), r.get("winner")
        if not isinstance(black, str) or not isinstance(white, str):
            continue
        points = 0.5 if winner is None else 1.0 if winner == black else 0.0
        out.append((black, white, points))
    return out


def _component(anchor: str, neighbours: dict[str, set[str]]) -> set[str]:
    seen, frontier = {anchor}, [anchor]
    while frontier:
        p = frontier.pop()
        for q in neighbours[p]:
            if q not in seen:
                seen.add(q)
                frontier.append(q)
    return seen


def fit_ratings(results: Iterable[tuple[str, str, float]], anchor: Optional[str] = None,
                anchor_elo: float = 0.0, prior_draws: float = 1.0) -> RatingTable:
    """Fit ratings to (player, opponent, player's points) results. `anchor` defaults to
    "random" when it played, else the player with the most games."""
    games: dict[str, int] = defaultdict(int)
    points: dict[str, float] = defaultdict(float)
    pairs: dict[tuple[str, str], list[float]] = {}
    neighbours: dict[str, set[str]] = defaultdict(set)
    total = skipped = 0
    for a, b, pts in results:
        if a == b:
            skipped += 1
            continue
        total += 1
        games[a] += 1
        games[b] += 1
        points[a] += pts
        points[b] += 1.0 - pts
        key, p = ((a, b), pts) if a < b else ((b, a), 1.0 - pts)
        pair = pairs.setdefault(key, [0, 0.0])
        pair[0] += 1
        pair[1] += p
        neighbours[a].add(b)
        neighbours[b].add(a)
    if not games:
        raise ValueError("no games to rate")
    if anchor is None:
        anchor = "random" if "random" in games else max(sorted(games), key=lambda n: games[n])
    if anchor not in games:
        raise ValueError(f"anchor {anchor!r} played no game; players: {', '.join(sorted(games))}")
    connected = _component(anchor, neighbours)
    free = sorted(connected - {anchor})
    index = {name: i for i, name in enumerate(free)}
    ratings, ses = _newton(anchor, anchor_elo, free, index, pairs, connected, prior_draws)
    rows = []
    for name in sorted(games):
        if name == anchor:
            rows.append(PlayerRating(name, games[name], points[name], anchor_elo, 0.0))
        elif name in index:
            i = index[name]
            rows.append(PlayerRating(name, games[name], points[name], float(ratings[i]), float(Z95 * ses[i])))
        else:
            rows.append(PlayerRating(name, games[name], points[name], None, None))
    rows.sort(key=lambda r: (r.rating is None, -(r.rating or 0.0), r.name))
    return RatingTable(rows, anchor, anchor_elo, prior_draws, total, skipped,
                       {k: (int(v[0]), float(v[1])) for k, v in pairs.items()})


def _newton(anchor, anchor_elo, free, index, pairs, connected, prior_draws):
    """Maximise the penalised log-likelihood over the free ratings (Elo, anchor fixed)."""
    m = len(free)
    terms = []  # (i, j, n, S) with -1 for the anchor; S is i's points, prior included
    for (a, b), (n, s) in pairs.items():
        if a not in connected:
            continue
        terms.append((index.get(a, -1), index.get(b, -1), n + prior_draws, s + 0.5 * prior_draws))
    if m == 0:
        return np.zeros(0), np.zeros(0)
    ii = np.array([t[0] for t in terms])
    jj = np.array([t[1] for t in terms])
    nn = np.array([t[2] for t in terms], np.float64)
    ss = np.array([t[3] for t in terms], np.float64)

    def full(r: np.ndarray) -> np.ndarray:
        return np.append(r, anchor_elo)  # index -1 is the anchor

    def loglik(r: np.ndarray) -> float:
        f = full(r)
        d = _C * (f[ii] - f[jj])
        # log P = -log(1 + e^-d), log(1-P) = -log(1 + e^d)
        return float(np.sum(-ss * np.logaddexp(0.0, -d) - (nn - ss) * np.logaddexp(0.0, d)))

    def derivatives(r: np.ndarray):
        f = full(r)
        p = 1.0 / (1.0 + np.exp(-_C * (f[ii] - f[jj])))
        g_pair = _C * (ss - nn * p)
        w = _C * _C * nn * p * (1.0 - p)
        grad = np.zeros(m + 1)
        info = np.zeros((m + 1, m + 1))
        np.add.at(grad, ii, g_pair)
        np.add.at(grad, jj, -g_pair)
        np.add.at(info, (ii, ii), w)
        np.add.at(info, (jj, jj), w)
        np.add.at(info, (ii, jj), -w)
        np.add.at(info, (jj, ii), -w)
        return grad[:m], info[:m, :m]

    r = np.full(m, float(anchor_elo))
    current = loglik(r)
    for _ in range(200):
        grad, info = derivatives(r)
        step = np.linalg.solve(info, grad)
        t = 1.0
        while t > 1e-8 and loglik(r + t * step) < current - 1e-12:
            t *= 0.5
        if t <= 1e-8:
            break  # no step improves: at the maximum to rounding
        r = r + t * step
        current = loglik(r)
        if np.max(np.abs(t * step)) < 1e-7:
            break
    _, info = derivatives(r)
    cov = np.linalg.inv(info)
    return r, np.sqrt(np.maximum(np.diag(cov), 0.0))


def plot_ratings(table: RatingTable, path: str | os.PathLike, title: Optional[str] = None) -> Path:
    """Elo by generation (error bars: 95%) with the other players as horizontal lines; PNG."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    rated = [r for r in table.ratings if r.rating is not None]
    gens = sorted((r for r in rated if r.generation is not None), key=lambda r: r.generation)
    others = [r for r in rated if r.generation is None]
    fig = Figure(figsize=(8, 5), dpi=120)
    ax = fig.subplots()
    if gens:
        ax.errorbar([r.generation for r in gens], [r.rating for r in gens], yerr=[r.ci95 for r in gens],
                    fmt="o-", capsize=3, color="tab:blue", label="networks by generation")
        ax.set_xlabel("generation")
    else:
        ax.set_xticks([])
    colours = ["tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:gray", "tab:olive", "tab:cyan"]
    for k, r in enumerate(others):
        colour = colours[k % len(colours)]
        ax.axhline(r.rating, linestyle="--", color=colour, linewidth=1)
        if r.ci95:
            ax.axhspan(r.rating - r.ci95, r.rating + r.ci95, color=colour, alpha=0.08)
        ax.annotate(f"{r.name} ({r.rating:.0f})", xy=(0.01 + 0.25 * (k % 4), r.rating), xycoords=("axes fraction", "data"),
                    va="bottom", fontsize=8, color=colour)
    ax.set_ylabel(f"Elo ({table.anchor} = {table.anchor_elo:g})")
    ax.set_title(title or "Bradley-Terry ratings")
    ax.grid(True, alpha=0.3)
    if gens:
        ax.legend(loc="lower right", fontsize=8)
    return atomic_write_path(path, lambda tmp: fig.savefig(tmp, format="png", bbox_inches="tight"))


def parse_anchor(text: str) -> tuple[str, float]:
    """"NAME=ELO" (NAME may contain spaces and '='; the last '=' splits)."""
    name, sep, value = text.rpartition("=")
    if not sep or not name.strip():
        raise ValueError(f"--anchor must be NAME=ELO, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise ValueError(f"--anchor must be NAME=ELO with a number, got {text!r}") from None


def rate_ledgers(paths: Sequence[str | os.PathLike], anchor: Optional[str] = None, anchor_elo: float = 0.0,
                 prior_draws: float = 1.0, visits: Optional[int] = None) -> tuple[RatingTable, int, int]:
    """Ratings from ledger files; also returns how many malformed lines were skipped and how
    many records repeated a game already read (same match and game index: counted once)."""
    from .ledger import read_ledger, unique_games
    records, skipped = [], 0
    for p in paths:
        ledger = read_ledger(p)
        records.extend(ledger.records)
        skipped += ledger.skipped
    records, repeated = unique_games(records)
    return fit_ratings(results_from_ledger(records, visits), anchor, anchor_elo, prior_draws), skipped, repeated
