"""Bundled networks: the bundling tool writes fp16 weights that load and a card that names
them; every network shipped in the package loads, plays its board size and refuses others."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import torch

from goengine.game import GameState
from goengine.networks import bundled, bundled_for_size, bundled_networks
from goengine.nn import NetConfig, build_network, load_checkpoint, load_evaluator, save_checkpoint
from selfplay.match import MatchConfig
from selfplay.players_spec import PlayerSpecError, parse_player
from selfplay.players_spec import PlayerSettings, build_player
from training.bundle import CARD_SHA_LABEL, bundle


def _card_sha(card_text: str) -> str:
    match = re.search(rf"\| {CARD_SHA_LABEL} \| `([0-9a-f]{{64}})` \|", card_text)
    assert match, "the card names no weights sha256"
    return match.group(1)


def _file_sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bundling_writes_fp16_weights_that_load_and_a_card_that_names_them(tmp_path):
    config = NetConfig(kind="policy_value", blocks=2, channels=16, board_sizes=(9,), ownership=True,
                       global_pooling=2)
    torch.manual_seed(0)
    model = build_network(config)
    for p in model.parameters():
        p.data.normal_(0, 0.1)
    source = tmp_path / "run" / "000007-b2c16"
    save_checkpoint(source, model, config, step=1234, model_id="000007-b2c16", parent_model_id="000006-b2c16")
    out = tmp_path / "networks"
    card = bundle(source, "9x9", out, notes="## How it was trained\n\ngoengine train ...\n")

    weights = out / "9x9.safetensors"
    _, _, meta = load_checkpoint(out / "9x9")
    text = card.read_text()
    assert _card_sha(text) == meta["weights_sha256"] == _file_sha(weights)
    assert "000006-b2c16" in text and "1234" in text and "goengine train" in text
    assert weights.stat().st_size < 0.6 * (tmp_path / "run" / "000007-b2c16.safetensors").stat().st_size
    from safetensors import safe_open
    with safe_open(str(weights), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} >= {torch.float16}

    x = (np.random.default_rng(0).random((8, 18, 9, 9)) < 0.3).astype(np.uint8)
    a = load_evaluator(source, backend="torch", device="cpu").evaluate(x)
    b = load_evaluator(out / "9x9", backend="torch", device="cpu").evaluate(x)
    assert np.abs(a[0] - b[0]).max() < 0.05 and np.abs(a[1] - b[1]).max() < 0.02
    assert (a[0].argmax(1) == b[0].argmax(1)).mean() >= 0.75

    assert set(bundled_networks(out)) == {"9x9"}
    assert bundled_for_size(9, out).name == "9x9" and bundled_for_size(19, out) is None
    with pytest.raises(ValueError, match="no bundled network 'nope'"):
        bundled("nope", out)


def test_a_bundled_name_must_be_a_plain_word(tmp_path):
    config = NetConfig(kind="policy_value", blocks=1, channels=8, board_sizes=(9,))
    save_checkpoint(tmp_path / "net", build_network(config), config)
    for bad in ("../9x9", "a b", "x=y", ".hidden"):
        with pytest.raises(ValueError, match="plain word"):
            bundle(tmp_path / "net", bad, tmp_path / "out")


def test_an_unknown_bundled_player_is_a_clear_error():
    with pytest.raises(PlayerSpecError, match="no bundled network"):
        parse_player("bundled:no-such-network")


SHIPPED = sorted(bundled_networks().values(), key=lambda n: n.name)


@pytest.mark.skipif(not SHIPPED, reason="no network is bundled yet")
@pytest.mark.parametrize("network", SHIPPED, ids=[n.name for n in SHIPPED])
def test_every_shipped_network_loads_plays_its_size_and_refuses_others(network):
    text = network.card.read_text()
    weights = network.stem.with_name(network.stem.name + ".safetensors")
    _, _, meta = load_checkpoint(network.stem)  # checks the sha256 against the JSON
    assert _card_sha(text) == meta["weights_sha256"] == _file_sha(weights)
    size = network.board_sizes[0]
    spec = parse_player(f"bundled:{network.name}")
    settings = PlayerSettings(size=size, komi=7.5, max_moves=2 * size * size,
                              search=MatchConfig().search.with_(num_simulations=16))
    side = build_player(spec, settings, 1)
    game = GameState(size, komi=7.5, rules="chinese")
    side.start_game(0, game, seed=0)
    for _ in range(4):
        reply = side.begin([0], [game])()[0]
        assert not reply.resign and reply.forfeit is None
        assert game.is_legal(reply.loc), f"illegal move {reply.loc}"
        game.play(reply.loc)
    other = 19 if size != 19 else 9
    with pytest.raises(ValueError, match=f"plays {size}x{size}"):
        build_player(spec, PlayerSettings(size=other, komi=7.5, max_moves=10, search=settings.search), 1)


def test_a_silenced_value_head_answers_zero_and_leaves_the_policy_alone(tmp_path):
    config = NetConfig(kind="policy_value", blocks=2, channels=16, board_sizes=(9,), global_pooling=2)
    torch.manual_seed(1)
    model = build_network(config)
    for p in model.parameters():
        p.data.normal_(0, 0.1)
    save_checkpoint(tmp_path / "net", model, config)
    card = bundle(tmp_path / "net", "quiet", tmp_path / "out", silence=True)
    x = (np.random.default_rng(1).random((8, 18, 9, 9)) < 0.3).astype(np.uint8)
    before = load_evaluator(tmp_path / "net", backend="torch", device="cpu").evaluate(x)
    after = load_evaluator(tmp_path / "out" / "quiet", backend="torch", device="cpu").evaluate(x)
    assert np.abs(before[1]).max() > 0.01 and np.all(after[1] == 0.0)
    assert np.abs(before[0] - after[0]).max() < 0.05
    assert "silenced" in card.read_text()
    policy_only = NetConfig(kind="policy", blocks=2, channels=16, board_sizes=(9,))
    save_checkpoint(tmp_path / "policy", build_network(policy_only), policy_only)
    with pytest.raises(ValueError, match="no value head"):
        bundle(tmp_path / "policy", "p", tmp_path / "out", silence=True)


def test_bundling_the_same_weights_again_keeps_the_weights_file(tmp_path):
    config = NetConfig(kind="policy_value", blocks=2, channels=16, board_sizes=(9,))
    torch.manual_seed(2)
    save_checkpoint(tmp_path / "net", build_network(config), config)
    out = tmp_path / "out"
    bundle(tmp_path / "net", "n", out, notes="first")
    first = (out / "n.safetensors").read_bytes()
    for attempt in range(3):
        card = bundle(tmp_path / "net", "n", out, notes=f"card {attempt}")
        assert (out / "n.safetensors").read_bytes() == first
        assert _card_sha(card.read_text()) == _file_sha(out / "n.safetensors")
    load_checkpoint(out / "n")
