"""`goengine bundle-network`: turn a trained checkpoint into a network that ships with the
package (goengine/networks/): fp16 weights, the checkpoint JSON, and a model card.

    goengine bundle-network --model RUN/models/000040-b6c64 --name 9x9 --notes notes.md

The weights are stored in fp16 (half the bytes; every runtime computes in fp32 or bf16 from
them, and the fp16 rounding moves logits by about 1e-3). The JSON keeps the source's model id,
parent, step and training config, and records the source weights' sha256. The card is a
generated table (architecture, sizes, steps, parent, the weights' sha256) followed by the
notes file: how the network was trained (commands, data, hours) and the ladder results that
measured it, with their commands. Tests check that the card names the weights it sits beside.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CARD_SHA_LABEL = "weights sha256"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="the checkpoint to bundle (stem, .json or .safetensors)")
    parser.add_argument("--name", required=True, help="the bundled name, e.g. 9x9 (players call it bundled:NAME)")
    parser.add_argument("--notes", default=None,
                        help="markdown appended to the card: training commands, data, hours, ladder results")
    parser.add_argument("--out", default=None,
                        help="folder (default: where the index reads, $GOENGINE_NETWORKS_DIR or the package's "
                             "goengine/networks)")
    parser.add_argument("--silence-value", action="store_true",
                        help="zero the value head's output layer, so the value is 0 for every position: for a "
                             "network whose value head did not learn (the search then follows the policy)")


def describe(config) -> str:
    parts = [f"{'PolicyValueNet' if config.kind == 'policy_value' else config.kind} {config.tag}"]
    if config.global_pooling:
        parts.append(f"global pooling every {config.global_pooling} blocks")
    heads = [h for h, on in (("ownership", config.ownership), ("score", config.score)) if on]
    if heads:
        parts.append(" and ".join(heads) + (" heads" if len(heads) > 1 else " head"))
    parts.append(f"{config.feature_set} features v{config.feature_version} ({config.in_planes} planes)")
    return ", ".join(parts)


def card_text(name: str, meta: dict, config, weights_name: str, notes: str) -> str:
    train = meta.get("train_config") or {}
    rows = [("name", f"`{name}` (players: `bundled:{name}`)"),
            ("model id", meta.get("model_id") or "-"),
            ("architecture", describe(config)),
            ("board sizes", ", ".join(f"{s}x{s}" for s in config.board_sizes)),
            ("training steps", str(meta.get("step", 0))),
            ("parent", meta.get("parent_model_id") or "-"),
            ("weights", f"`{weights_name}`, fp16"),
            (CARD_SHA_LABEL, f"`{meta['weights_sha256']}`"),
            ("converted from", f"fp32 weights sha256 `{(meta.get('extra') or {}).get('source_weights_sha256', '-')}`")]
    if (meta.get("extra") or {}).get("value_silenced"):
        rows.append(("value head", "silenced: its output layer is zeroed, the value is 0 everywhere and the search "
                                   "follows the policy (the trained value head did not predict outcomes)"))
    run = train.get("run") if isinstance(train, dict) else None
    if isinstance(run, dict):
        rows.append(("rules", f"{run.get('rules')}, komi {run.get('komi')}"))
    lines = [f"# Bundled network `{name}`", "", "| field | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", notes.strip(), ""] if notes.strip() else [""]
    return "\n".join(lines)


def silence_value(net) -> None:
    """Zero the value head's last layer: tanh(0) = 0 for every position. A value head that
    learned nothing answers noise, and the search, which trusts it, then prefers whichever move
    the noise favours; a value of 0 says "unknown" and leaves the choice to the policy."""
    import torch

    head = getattr(net, "value", None)
    if head is None or not hasattr(head, "out"):
        raise ValueError("this network has no value head to silence")
    with torch.no_grad():
        head.out.weight.zero_()
        head.out.bias.zero_()


def bundle(model: str | Path, name: str, out: Path, notes: str = "", silence: bool = False) -> Path:
    """Write out/NAME.safetensors, NAME.json and NAME.md; returns the card's path. `silence`:
    the value head's output is zeroed (`silence_value`) and the card says so."""
    from goengine.atomic import atomic_write_text
    from goengine.nn import load_checkpoint, save_checkpoint

    if not name or any(c in name for c in "/\\:= ") or name.startswith("."):
        raise ValueError(f"a bundled name is a plain word like 9x9, got {name!r}")
    net, config, meta = load_checkpoint(model)
    extra = dict(meta.get("extra") or {}, source_weights_sha256=meta["weights_sha256"], precision="fp16")
    if silence:
        silence_value(net)
        extra["value_silenced"] = True
    stem = Path(out) / name
    weights_file = stem.with_name(name + ".safetensors")
    previous = weights_file.read_bytes() if weights_file.is_file() else None
    save_checkpoint(stem, net.half(), config, step=meta.get("step", 0), model_id=meta.get("model_id"),
                    parent_model_id=meta.get("parent_model_id"), train_config=meta.get("train_config"),
                    extra=extra)
    if previous is not None:
        _keep_identical_weights(stem, weights_file, previous)
    _, _, written = load_checkpoint(stem)  # read back: the sha256 and shapes check out
    card = stem.with_name(name + ".md")
    atomic_write_text(card, card_text(name, written, config, stem.name + ".safetensors", notes))
    return card


def _keep_identical_weights(stem: Path, weights_file: Path, previous: bytes) -> None:
    """Put the earlier weights file back when it holds the same tensors: safetensors writes
    its header's metadata in no fixed order, and a new card for the same weights should not
    add a megabyte to the repository's history."""
    from safetensors.torch import load

    from goengine.atomic import atomic_write_bytes, atomic_write_json
    from goengine.nn import read_checkpoint_meta
    from goengine.nn.checkpoint import file_sha256

    old, new = load(previous), load(weights_file.read_bytes())
    if old.keys() != new.keys() or any(old[k].dtype != new[k].dtype or not old[k].equal(new[k]) for k in old):
        return
    atomic_write_bytes(weights_file, previous)
    meta = read_checkpoint_meta(stem)
    meta["weights_sha256"] = file_sha256(weights_file)
    atomic_write_json(stem.with_name(stem.name + ".json"), meta)


def run(args: argparse.Namespace) -> int:
    from goengine.networks import networks_dir
    from goengine.nn import CheckpointError

    try:
        notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
        card = bundle(args.model, args.name, Path(args.out) if args.out else networks_dir(), notes,
                      silence=args.silence_value)
    except (OSError, ValueError, CheckpointError) as e:
        print(f"goengine bundle-network: {e}", file=sys.stderr)
        return 2
    print(f"wrote {card} and its weights")
    return 0
