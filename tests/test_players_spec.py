"""Player specs: built-ins, checkpoint paths, run model ids, the best pointer, GTP commands."""

from __future__ import annotations

import json

import pytest

from goengine.evaluator import RandomEvaluator
from selfplay.match import default_ledger
from selfplay.players_spec import PlayerSpecError, as_spec, parse_player
from selfplay.rundir import RunDir


def _checkpoint(folder, model_id):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{model_id}.json").write_text(json.dumps({"model_id": model_id, "format_version": 1}))
    (folder / f"{model_id}.safetensors").write_bytes(b"")


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "runs" / "quick"
    for model_id in ("000011-b6c64", "000012-b6c64", "000120-b6c64"):
        _checkpoint(run / "models", model_id)
    RunDir(run).write_best("000012-b6c64")
    return run


def test_builtins_and_gtp():
    assert parse_player("random").kind == "random"
    spec = parse_player("rollout-mcts")
    assert (spec.kind, spec.name) == ("rollout", "rollout-mcts")
    gtp = parse_player("gtp:/usr/games/gnugo --mode gtp --level 10 --komi '7.5'")
    assert gtp.kind == "gtp" and gtp.external
    assert gtp.command == ("/usr/games/gnugo", "--mode", "gtp", "--level", "10", "--komi", "7.5")
    assert gtp.name == "gnugo --level 10 --komi 7.5"
    named = parse_player("gnugo-l10=gtp:/usr/games/gnugo --mode gtp --level 10")
    assert named.name == "gnugo-l10" and named.command[-1] == "10"


def test_run_models_and_best(run_dir, tmp_path):
    spec = parse_player("runs/quick:000012", base_dir=tmp_path)
    assert spec.kind == "mcts" and spec.name == "000012-b6c64"
    assert spec.checkpoint == run_dir / "models" / "000012-b6c64"
    assert spec.run_dir == run_dir
    best = parse_player("runs/quick:best", base_dir=tmp_path)
    assert best.checkpoint == run_dir / "models" / "000012-b6c64"
    policy = parse_player("policy:runs/quick:best", base_dir=tmp_path)
    assert policy.kind == "policy" and policy.name == "policy:000012-b6c64"
    with pytest.raises(PlayerSpecError, match="ambiguous"):
        parse_player("runs/quick:00001", base_dir=tmp_path)
    with pytest.raises(PlayerSpecError, match="no model"):
        parse_player("runs/quick:000099", base_dir=tmp_path)
    assert default_ledger(spec, parse_player("random")) == run_dir / "matches.jsonl"


def test_checkpoint_paths_in_every_form(run_dir):
    for text in ("models/000011-b6c64", "models/000011-b6c64.json", "models/000011-b6c64.safetensors"):
        spec = parse_player(text, base_dir=run_dir)
        assert spec.checkpoint == run_dir / "models" / "000011-b6c64"
        assert spec.name == "000011-b6c64"
    with pytest.raises(PlayerSpecError, match="no checkpoint"):
        parse_player("models/nothing-here", base_dir=run_dir)


def test_best_pointer_by_model_id_only(run_dir, tmp_path):
    (run_dir / "best.json").write_text(json.dumps({"model_id": "000120-b6c64"}))
    assert parse_player("runs/quick:best", base_dir=tmp_path).name == "000120-b6c64"
    (run_dir / "best.json").unlink()
    with pytest.raises(PlayerSpecError, match="no best model"):
        parse_player("runs/quick:best", base_dir=tmp_path)


def test_best_pointer_of_an_older_run_loads_from_anywhere(run_dir, tmp_path, monkeypatch):
    """Older runs wrote best.json's path relative to the trainer's working directory; the model
    id still finds the checkpoint from any other directory."""
    (run_dir / "best.json").write_text(json.dumps({"model_id": "000012-b6c64",
                                                   "path": "runs/quick/models/000012-b6c64"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert parse_player("../runs/quick:best").checkpoint.resolve() == run_dir / "models" / "000012-b6c64"
    assert json.loads((run_dir / "best.json").read_text())["path"] == "runs/quick/models/000012-b6c64"
    RunDir(run_dir).write_best("000120-b6c64")
    assert json.loads((run_dir / "best.json").read_text())["path"] == "models/000120-b6c64"
    assert parse_player("../runs/quick:best").name == "000120-b6c64"


def test_an_older_runs_gating_ledger_joins_the_runs_ledger(run_dir):
    from selfplay.ledger import append_records, read_ledger

    games = [{"match": "gate000001-a-vs-b", "game": i, "black": "a", "white": "b", "winner": "a"} for i in range(3)]
    append_records(run_dir / "ledger.jsonl", games)
    append_records(run_dir / "matches.jsonl", games[:1])
    assert RunDir(run_dir).adopt_legacy_ledger() == 2
    assert read_ledger(run_dir / "matches.jsonl").records == games
    assert not (run_dir / "ledger.jsonl").exists() and RunDir(run_dir).adopt_legacy_ledger() == 0


def test_objects_become_specs():
    evaluator = RandomEvaluator(9)
    spec = as_spec(evaluator)
    assert spec.kind == "mcts" and spec.load_evaluator() is evaluator
    with pytest.raises(PlayerSpecError):
        as_spec(42)


def test_visits_suffix_names_a_different_player(run_dir, tmp_path):
    rollout = parse_player("rollout-mcts@2000")
    assert (rollout.kind, rollout.name, rollout.visits) == ("rollout", "rollout-mcts@2000", 2000)
    net = parse_player("runs/quick:best@200", base_dir=tmp_path)
    assert (net.kind, net.name, net.visits) == ("mcts", "000012-b6c64@200", 200)
    assert net.checkpoint == run_dir / "models" / "000012-b6c64"
    renamed = parse_player("mcts-2k=rollout-mcts@2000")
    assert (renamed.name, renamed.visits) == ("mcts-2k", 2000)
    assert parse_player("rollout-mcts").visits is None
    # A GTP command may end in @N of its own; it is passed through untouched.
    assert parse_player("gtp:engine --book x@5").command == ("engine", "--book", "x@5")
    for bad, why in (("random@5", "search players only"), ("policy:runs/quick:best@5", "search players only"),
                     ("rollout-mcts@0", "at least 1")):
        with pytest.raises(PlayerSpecError, match=why):
            parse_player(bad, base_dir=tmp_path)


def test_visits_suffix_reaches_the_search():
    from selfplay.players_spec import PlayerSettings, build_player
    from goengine.search import SearchConfig
    settings = PlayerSettings(size=5, komi=0.5, max_moves=75, search=SearchConfig(num_simulations=64))
    assert build_player(parse_player("rollout-mcts@7"), settings, 1).config.num_simulations == 7
    assert build_player(parse_player("rollout-mcts"), settings, 1).config.num_simulations == 64


def test_a_policy_player_averages_the_symmetries_and_a_search_player_does_not(tmp_path):
    import torch

    from goengine.nn import NetConfig, build_network, save_checkpoint

    config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=8, value_hidden=8, in_planes=18,
                       feature_set="agz", board_sizes=(9,))
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "pv", build_network(config).eval(), config)
    policy = parse_player("policy:pv", base_dir=tmp_path).load_evaluator(backend="torch")
    search = parse_player("pv", base_dir=tmp_path).load_evaluator(backend="torch")
    assert policy.symmetry == "average" and search.symmetry == "random"
