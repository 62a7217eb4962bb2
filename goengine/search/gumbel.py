"""Gumbel root search (Danihelka et al., "Policy improvement by planning with Gumbel", 2022).

At the root: sample g(a) ~ Gumbel(0, 1), keep the m actions with the largest g(a) + logit(a),
and split the simulation budget over log2(m) phases of sequential halving; after each phase the
better half by g(a) + logit(a) + sigma(q(a)) survives. The move played is the last survivor and
the policy target is softmax(logit + sigma(completed q)), which improves on the prior even with
a handful of simulations. Below the root the search is deterministic (kernels.py).

sigma(q) = (c_visit + max_b N(b)) * c_scale * q, with the completed q-values rescaled to [0, 1]
by their minimum and maximum over the legal actions (as MuZero normalises values), so that small
differences between good moves still outweigh the Gumbel noise.
The phase bookkeeping runs here in numpy; the kernels follow the plan this writes:
plan = [number of planned simulations, cursor, action, action, ...].
"""

from __future__ import annotations

import math

import numpy as np

from .config import SearchConfig


class GumbelRoot:
    def __init__(self, config: SearchConfig, num_actions: int, rng: np.random.Generator):
        self.config = config
        self.num_actions = num_actions
        self.rng = rng
        self.chosen = -1

    def _sigma(self, visits: np.ndarray) -> float:
        return (self.config.gumbel_c_visit + float(visits.max(initial=0))) * self.config.gumbel_c_scale

    def start(self, stats, remaining: int) -> None:
        visits, q, prior, value = stats
        self.value = value
        legal = np.flatnonzero(prior > 0)
        self.logits = np.full(self.num_actions, -np.inf)
        self.logits[legal] = np.log(prior[legal])
        self.gumbel = self.rng.gumbel(size=self.num_actions)
        m = max(1, min(self.config.gumbel_m, len(legal), max(remaining, 1)))
        score = self.gumbel + self.logits
        self.survivors = list(legal[np.argsort(-score[legal], kind="stable")[:m]])
        self.budget = max(remaining, 0)
        self.phases = max(1, math.ceil(math.log2(m))) if m > 1 else 1
        self.phase = 0
        self.used = 0
        self.chosen = int(self.survivors[0]) if self.survivors else self.num_actions - 1

    def write_plan(self, plan: np.ndarray) -> None:
        left = self.budget - self.used
        if left <= 0 or not self.survivors:
            plan[0] = -2
            return
        phases_left = max(1, self.phases - self.phase)
        per_action = max(1, left // (phases_left * len(self.survivors)))
        if phases_left == 1 or len(self.survivors) == 1:
            per_action = max(1, math.ceil(left / len(self.survivors)))
        actions = [a for _ in range(per_action) for a in self.survivors][:left]
        actions = actions[: plan.shape[0] - 2]
        plan[0] = len(actions)
        plan[1] = 0
        plan[2:2 + len(actions)] = actions
        self.used += len(actions)

    def next_phase(self, stats, plan: np.ndarray) -> bool:
        """After a phase: halve the survivors and plan the next phase. False when done."""
        visits, q, prior, value = stats
        self.value = value
        if not self.survivors:  # a root without a move (a finished game): nothing to halve
            plan[0] = -2
            return False
        scores = self._scores(visits, q)
        order = sorted(self.survivors, key=lambda a: -scores[a])
        self.chosen = int(order[0])
        self.phase += 1
        if self.used >= self.budget or len(self.survivors) <= 1:
            plan[0] = -2
            return False
        self.survivors = order[: max(1, math.ceil(len(order) / 2))]
        self.write_plan(plan)
        return plan[0] != -2

    def _scores(self, visits: np.ndarray, q: np.ndarray) -> np.ndarray:
        legal = np.isfinite(self.logits)
        completed = self._completed(visits, q, np.where(legal, np.exp(self.logits), 0.0), self.value)
        return self.gumbel + self.logits + self._sigma(visits) * _rescale(completed, legal)

    @staticmethod
    def _completed(visits, q, prior, value) -> np.ndarray:
        """Q for visited actions, v_mix (the value mixed with the prior-weighted visited Q)
        elsewhere."""
        visited = visits > 0
        total = visits.sum()
        v_mix = value
        if visited.any():
            p_vis = prior[visited].sum()
            if p_vis > 0:
                v_mix = (value + total * float((prior[visited] * q[visited]).sum()) / p_vis) / (1.0 + total)
        return np.where(visited, np.nan_to_num(q), v_mix)

    def policy_target(self, visits: np.ndarray, q: np.ndarray, prior: np.ndarray, value: float) -> np.ndarray:
        """softmax(logits + sigma(completed q)) over the legal actions."""
        legal = prior > 0
        out = np.zeros(self.num_actions, np.float32)
        if not legal.any():
            return out
        completed = self._completed(visits, q, prior, value)
        z = np.log(np.where(legal, prior, 1.0)) + self._sigma(visits) * _rescale(completed, legal)
        z = np.where(legal, z, -np.inf)
        z -= z.max()
        e = np.exp(z)
        out[:] = e / e.sum()
        return out


def _rescale(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Min-max rescaling to [0, 1] over the masked entries (all 0.5 when they are equal)."""
    lo = values[mask].min()
    hi = values[mask].max()
    if hi - lo < 1e-9:
        return np.where(mask, 0.5, 0.0)
    return np.where(mask, (values - lo) / (hi - lo), 0.0)
