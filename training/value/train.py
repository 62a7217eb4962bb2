"""Fitting the value network: mean squared error between its tanh output and the outcome, Adam,
each batch under random board symmetries; reported as MSE and sign accuracy (the share of
decided positions where the predicted value has the sign of the outcome).

With a validation set (positions split off the training games, never the held-out ones), the
network is scored on it every `log_every` steps and the best weights are kept: one position per
game makes data scarce, and the network starts memorising outcomes long before the loss on
its own batches shows it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np
import torch

from goengine.nn import NetConfig, build_network
from goengine.symmetry import NUM_SYMMETRIES, apply_features

from ..harness import make_optimizer
from .generate import ValuePositions


@dataclass(frozen=True)
class ValueTrainConfig:
    steps: int = 2000
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    blocks: int = 6
    channels: int = 32
    seed: int = 0
    log_every: int = 200

    def as_dict(self) -> dict:
        return asdict(self)


def value_net_config(config: ValueTrainConfig, feature_set: str, num_planes: int, size: int) -> NetConfig:
    return NetConfig(kind="value", blocks=config.blocks, channels=config.channels, in_planes=num_planes,
                     feature_set=feature_set, board_sizes=(size,))


def predict(model: torch.nn.Module, features: np.ndarray, device: str = "cpu", batch_size: int = 512) -> np.ndarray:
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(features[start:start + batch_size])).to(device).float()
            out.append(model(x).value.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def value_metrics(values: np.ndarray, outcome: np.ndarray) -> dict:
    decided = outcome != 0
    return {"positions": int(len(outcome)),
            "mse": float(np.mean((values - outcome) ** 2)) if len(outcome) else float("nan"),
            "sign_accuracy": float(np.mean(np.sign(values[decided]) == outcome[decided])) if decided.any() else float("nan")}


def train_value_net(train: ValuePositions, config: ValueTrainConfig, net_config: NetConfig, device: str = "cpu",
                    model: Optional[torch.nn.Module] = None, log: Optional[Callable[[str], None]] = print,
                    validation: Optional[ValuePositions] = None) -> tuple[torch.nn.Module, list[dict]]:
    """Fit a ValueNet on `train`; returns (model in eval mode, history of mean losses and, with
    `validation`, its MSE; the weights returned are those of the best validation MSE)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = build_network(net_config) if model is None else model
    model.to(device).train()
    optimiser = make_optimizer(model, "adam", config.learning_rate, weight_decay=config.weight_decay)
    history = []
    best_mse, best_state = float("inf"), None
    running, seen = 0.0, 0
    started = time.monotonic()
    batch = min(config.batch_size, len(train))
    for step in range(1, config.steps + 1):
        index = rng.integers(0, len(train), size=batch)
        x = apply_features(train.features[index], int(rng.integers(NUM_SYMMETRIES)))
        z = torch.from_numpy(train.outcome[index]).to(device)
        v = model(torch.from_numpy(x).to(device).float()).value
        loss = torch.mean((v - z) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        running += float(loss.detach())
        seen += 1
        if step % config.log_every == 0 or step == config.steps:
            entry = {"step": step, "mse": running / seen}
            if validation is not None and len(validation):
                entry["validation_mse"] = value_metrics(predict(model, validation.features, device),
                                                        validation.outcome)["mse"]
                if entry["validation_mse"] < best_mse:
                    best_mse = entry["validation_mse"]
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                model.train()
            history.append(entry)
            if log is not None:
                extra = f", validation MSE {entry['validation_mse']:.4f}" if "validation_mse" in entry else ""
                log(f"step {step}: train batch MSE {running / seen:.4f}{extra} ({time.monotonic() - started:.0f} s)")
            running, seen = 0.0, 0
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, history
