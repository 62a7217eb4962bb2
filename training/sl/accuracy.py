"""Move-prediction accuracy: how often the expert's move is the network's first choice (top-1)
or among its five highest logits (top-5), overall and by the move's number in the game.

Inputs per batch: logits float[B, A] (A = N*N + 1, pass last; raw network outputs, no
legality mask), targets int[B] (the expert's action; a pass is the pass action) and move
numbers int[B], 0-based as shards store them. Buckets use the 1-based move number: moves 1-30,
31-150 and 151 on. A position counts as a top-k hit when fewer than k actions have a logit
strictly above the target's, so ties go in the network's favour (they do not happen with
real logits). The report also gives the mean negative log-likelihood of the expert's move
(nats) and the same figures for pass moves alone.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

BUCKETS: tuple[tuple[str, int, Optional[int]], ...] = (("1-30", 1, 30), ("31-150", 31, 150), ("151+", 151, None))


def target_ranks(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """int64[B]: how many actions score strictly higher than the target (0 = top-1 hit)."""
    logits = np.asarray(logits, np.float64)
    chosen = logits[np.arange(logits.shape[0]), targets]
    return np.count_nonzero(logits > chosen[:, None], axis=1).astype(np.int64)


def log_likelihoods(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """float64[B]: log softmax(logits)[target]."""
    logits = np.asarray(logits, np.float64)
    peak = logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits - peak).sum(axis=1)) + peak[:, 0]
    return logits[np.arange(logits.shape[0]), targets] - log_z


class AccuracyCounter:
    """Running counts; `add` batches, then `report`."""

    def __init__(self, num_actions: int):
        self.num_actions = int(num_actions)
        self.pass_action = self.num_actions - 1
        # rows: all, each bucket, passes; columns: positions, top-1, top-5, sum of -log p
        self.table = np.zeros((len(BUCKETS) + 2, 4), np.float64)

    def add(self, logits: np.ndarray, targets: np.ndarray, move_numbers: np.ndarray) -> None:
        logits = np.asarray(logits)
        targets = np.asarray(targets, np.int64)
        if logits.shape != (targets.shape[0], self.num_actions):
            raise ValueError(f"logits of shape {logits.shape} for {targets.shape[0]} targets and "
                             f"{self.num_actions} actions")
        ranks = target_ranks(logits, targets)
        nll = -log_likelihoods(logits, targets)
        number = np.asarray(move_numbers, np.int64) + 1
        rows = [np.ones(targets.shape[0], bool)]
        for _, low, high in BUCKETS:
            rows.append((number >= low) & (number <= high if high is not None else True))
        rows.append(targets == self.pass_action)
        for r, mask in enumerate(rows):
            self.table[r] += (np.count_nonzero(mask), np.count_nonzero(mask & (ranks < 1)),
                              np.count_nonzero(mask & (ranks < 5)), nll[mask].sum())

    @staticmethod
    def _row(values: np.ndarray) -> dict[str, Any]:
        n = int(values[0])
        if n == 0:
            return {"positions": 0, "top1": None, "top5": None, "nll": None}
        return {"positions": n, "top1": values[1] / n, "top5": values[2] / n, "nll": values[3] / n}

    def report(self) -> dict[str, Any]:
        out = self._row(self.table[0])
        out["by_move_number"] = {name: self._row(self.table[1 + i]) for i, (name, _, _) in enumerate(BUCKETS)}
        out["passes"] = self._row(self.table[-1])
        return out


def format_report(report: dict[str, Any]) -> str:
    """One line: overall and per-bucket top-1 / top-5 in percent, and the value's error where
    the network has a value head."""
    def pct(row: dict[str, Any]) -> str:
        if not row["positions"]:
            return "-"
        return f"{100 * row['top1']:.1f}/{100 * row['top5']:.1f}"

    parts = [f"top1/top5 {pct(report)} % on {report['positions']} positions"]
    parts += [f"moves {name} {pct(row)}" for name, row in report["by_move_number"].items()]
    if "value_mse" in report:
        parts.append(f"value mse {report['value_mse']:.3f} (sign {100 * report['value_sign_acc']:.1f}%)")
    return ", ".join(parts)
