"""The match ledger: whole-line appends, a crash mid-line, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing

from selfplay.ledger import append_record, append_records, read_ledger


def test_round_trip_and_missing_file(tmp_path):
    path = tmp_path / "sub" / "ledger.jsonl"
    assert read_ledger(path).records == []
    append_record(path, {"black": "a", "white": "b", "winner": "a"})
    append_records(path, [{"game": 1}, {"game": 2}])
    ledger = read_ledger(path)
    assert [r.get("game") for r in ledger.records] == [None, 1, 2]
    assert ledger.skipped == 0
    assert path.read_text().count("\n") == 3


def test_survives_a_truncated_last_line(tmp_path):
    path = tmp_path / "ledger.jsonl"
    append_records(path, [{"game": i} for i in range(3)])
    with open(path, "ab") as f:
        f.write(b'{"game": 3, "black": "ran')  # the writer died mid-line
    ledger = read_ledger(path)
    assert [r["game"] for r in ledger.records] == [0, 1, 2]
    assert ledger.skipped == 1
    # The next append must not be glued to the broken fragment.
    append_record(path, {"game": 4})
    ledger = read_ledger(path)
    assert [r["game"] for r in ledger.records] == [0, 1, 2, 4]
    assert ledger.skipped == 1


def _writer(path, worker, count):
    for i in range(count):
        append_record(path, {"worker": worker, "i": i, "pad": "x" * 3000})


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 100)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    ledger = read_ledger(path)
    assert ledger.skipped == 0
    assert sorted((r["worker"], r["i"]) for r in ledger.records) == [(w, i) for w in range(4) for i in range(100)]
    for line in open(path):
        json.loads(line)
