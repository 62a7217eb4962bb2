"""Self-play across worker processes (or Ray actors, `ray_pool.py`).

W workers (default: one per core) each load their own copy of the model on the CPU, play
their share of games in lockstep (`runner.py`) and write record chunks (atomically) plus one
SGF per game. The parent shows progress, restarts a worker that dies (the games it had in flight
are lost, its written chunks are kept), and puts a timeout on every wait. With an inference
server (a GPU machine), workers send their leaf batches to one process that owns the device.

Nothing is played twice, nothing counted twice:
- A worker's seed derives from the run's seed, the worker's number and its attempt, and the
  attempts are counted on disk (`{chunk_prefix}-attempts.json` beside the chunks), so a worker
  started again, in this call or after a restart of the whole program, never replays a seed.
- Workers die with their parent (`lifeline.py`): a parent killed alone (the out-of-memory
  killer) leaves no worker writing records for a restarted parent to count.
- SGF files of games whose record chunk was never written (a worker killed in between) are
  removed, so the SGF folder holds exactly the recorded games.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .lifeline import die_with_parent
from .records import PlayedGame, RecordError, chunk_game_count, quarantine_chunk, write_chunk
from .resume import AttemptBook, prune_unrecorded_sgf
from .runner import SelfPlayConfig, SelfPlayRunner

HEARTBEAT_TIMEOUT_S = 600.0  # a worker silent for this long is considered hung and restarted
MAX_RESTARTS = 5


@dataclass(frozen=True)
class WorkerJob:
    worker_id: int
    attempt: int
    num_games: int
    seed: int
    config: SelfPlayConfig
    model_path: Optional[str]       # checkpoint stem; None: uniform evaluator (tests)
    model_id: str
    records_dir: str
    sgf_dir: Optional[str]
    chunk_prefix: str
    games_per_chunk: int
    threads: int = 1
    inference: Optional[dict] = None  # connection details of an inference server
    backend: str = "auto"           # network runtime on the CPU (goengine.nn.backends)
    precision: Optional[str] = None  # None: the runtime's exact default; "auto", "fp32" or "bf16"
    # One of the search processes that share a node actor's job (ray_node.py); they write under
    # the job's worker number and attempt, so the lane keeps their chunk names apart.
    lane: Optional[int] = None


@dataclass
class SelfPlayStats:
    games: int = 0
    positions: int = 0
    seconds: float = 0.0
    black_wins: int = 0
    resigned: int = 0
    playthrough: int = 0
    would_resign: int = 0
    false_resignations: int = 0
    restarts: int = 0
    mean_length: float = 0.0
    interrupted: bool = False
    moves_played: int = 0           # running count of moves, including unfinished games

    @property
    def false_positive_rate(self) -> float:
        """Of the playthrough games in which a player would have resigned, the share that player
        went on to win (AlphaGo Zero kept this under 5%)."""
        return self.false_resignations / self.would_resign if self.would_resign else 0.0


def worker_threads(workers: int, cores: Optional[int] = None) -> int:
    """Network threads per worker so that W workers on C cores never oversubscribe them: the
    cores split evenly (one each when W = C), at least one."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def _build_evaluator(job: WorkerJob):
    import goengine.nn  # noqa: F401  (sets OpenMP's spin policy before torch loads)
    import torch

    torch.set_num_threads(max(1, job.threads))
    if job.inference is not None:
        from .inference import RemoteEvaluator
        return RemoteEvaluator(**job.inference)
    if job.model_path is None:
        from goengine.evaluator import UniformEvaluator
        return UniformEvaluator(job.config.board_size, "agz")
    from goengine.nn import load_evaluator
    return load_evaluator(job.model_path, backend=job.backend, device="cpu", threads=job.threads,
                          precision=job.precision)


def _write_sgf(record: PlayedGame, path: Path) -> None:
    from goengine.sgf import write_sgf

    from .record_replay import game_of_record
    game = game_of_record(record)
    write_sgf(game, path, black=record.model_id, white=record.model_id,
              result=_result_string(record), comment=f"seed {record.seed}")


def _result_string(record: PlayedGame) -> str:
    if record.resigned:
        return ("W" if record.resigned == 1 else "B") + "+R"
    if record.result == 0:
        return "0"
    return ("B+" if record.result > 0 else "W+") + f"{abs(record.score):g}"


def worker_process(job: WorkerJob, messages, parent_pid: Optional[int] = None) -> None:
    """Entry point of a worker process. Ctrl-C reaches the whole process group; the parent
    decides what it means, so workers ignore it. The worker ends when its parent does."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_main(job, messages)


def worker_main(job: WorkerJob, messages) -> None:
    """Play `job.num_games`, writing chunks and reporting each game on `messages`."""
    try:
        evaluator = _build_evaluator(job)
        runner = SelfPlayRunner(job.config, evaluator, job.model_id, seed=job.seed)
        pending: list[PlayedGame] = []
        chunk_index = [0]

        def flush() -> None:
            if pending:
                lane = "" if job.lane is None else f"l{job.lane}"
                name = (f"{job.chunk_prefix}-{time.time_ns()}-w{job.worker_id:02d}a{job.attempt}"
                        f"c{chunk_index[0]:04d}{lane}.npz")
                write_chunk(Path(job.records_dir) / name, pending)
                chunk_index[0] += 1
                messages.put(("chunk", job.worker_id, len(pending)))
                pending.clear()

        def on_game(record: PlayedGame) -> None:
            pending.append(record)
            if job.sgf_dir is not None:
                name = f"{job.chunk_prefix}-w{job.worker_id:02d}a{job.attempt}-{record.seed:019d}.sgf"
                try:
                    _write_sgf(record, Path(job.sgf_dir) / name)
                except Exception as e:  # an SGF is for people; never lose the record over it
                    messages.put(("log", job.worker_id, f"could not write SGF: {e}"))
            messages.put(("game", job.worker_id, _summary(record)))
            if len(pending) >= job.games_per_chunk:
                flush()

        moves = {"count": 0, "sent": time.monotonic()}

        def on_moves(n: int) -> None:
            # A running count of moves, at most once a second: games in lockstep finish in
            # bursts, so finished games alone make a poor speedometer.
            moves["count"] += n
            if time.monotonic() - moves["sent"] >= 1.0:
                messages.put(("moves", job.worker_id, moves["count"]))
                moves["count"], moves["sent"] = 0, time.monotonic()

        runner.play(job.num_games, on_game=on_game, on_moves=on_moves)
        flush()
        messages.put(("done", job.worker_id, None))
    except Exception:
        messages.put(("error", job.worker_id, traceback.format_exc()))
        raise


def _summary(record: PlayedGame) -> dict:
    return {"moves": record.num_moves, "result": record.result, "resigned": record.resigned,
            "playthrough": record.playthrough, "would_resign": record.would_resign}


def worker_seed(seed: int, worker_id: int, attempt: int) -> int:
    """The seed of one start of one worker: distinct for every (worker, attempt) of a run."""
    entropy = np.random.SeedSequence(seed).entropy
    return int(np.random.SeedSequence([entropy, worker_id, attempt]).generate_state(1)[0])


class ProcessPool:
    """Self-play workers as processes on this machine; `run_selfplay`'s default pool.

    A pool starts workers (`launch`), hands over what they said (`poll`), says whether one still
    runs (`alive`), ends one (`stop`) and ends those still playing (`stop_all`). `run_selfplay`
    keeps the books (shares, attempts, restarts); a pool only runs workers, so the same books
    serve processes here and Ray actors on a cluster (`ray_pool.py`)."""

    def __init__(self):
        self.ctx = mp.get_context("spawn")
        self.procs: dict[int, mp.Process] = {}
        # One queue per worker process, replaced when the worker is: a process killed while its
        # queue's feeder thread holds the queue's write lock leaves that lock taken for good, and
        # a shared queue would then silence every other worker (and the replacement) too.
        self.queues: dict[int, Any] = {}

    def threads(self, workers: int) -> int:
        return worker_threads(workers)

    def launch(self, job: WorkerJob) -> None:
        w = job.worker_id
        self.queues[w] = self.ctx.Queue()
        self.procs[w] = self.ctx.Process(target=worker_process, args=(job, self.queues[w], os.getpid()), daemon=True)
        self.procs[w].start()

    def _drain(self, w: int) -> list[tuple]:
        return take_all(self.queues[w])

    def poll(self, wait_s: float) -> list[tuple]:
        """Every worker's messages so far; sleeps `wait_s` first when there are none."""
        out = [m for w in list(self.queues) for m in self._drain(w)]
        if not out:
            time.sleep(wait_s)
        return out

    def alive(self, worker_id: int) -> bool:
        return self.procs[worker_id].is_alive()

    def stop(self, worker_id: int) -> tuple[list[tuple], Optional[str]]:
        """End the worker; returns what it said before it ended and how it ended."""
        p = self.procs[worker_id]
        if p.is_alive():
            p.kill()
        p.join(timeout=5)
        return self._drain(worker_id), (f"exit code {p.exitcode}" if p.exitcode is not None else None)

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.is_alive():
                p.terminate()
        for p in self.procs.values():
            p.join(timeout=10)


def run_selfplay(*, config: SelfPlayConfig, num_games: int, model_path: Optional[str], model_id: str,
                 records_dir: str | os.PathLike, sgf_dir: Optional[str | os.PathLike], chunk_prefix: str,
                 seed: int, workers: int = 0, games_per_chunk: int = 16,
                 progress: Optional[Callable[[SelfPlayStats], None]] = None,
                 inference: Optional[Callable[[int], dict]] = None, in_process: bool = False,
                 should_stop: Optional[Callable[[], bool]] = None,
                 on_moves: Optional[Callable[[SelfPlayStats], None]] = None,
                 backend: str = "auto", precision: Optional[str] = None, pool=None) -> SelfPlayStats:
    """Play `num_games` games across workers and return the statistics. Records go to
    `records_dir` as chunks named `{chunk_prefix}-...npz`. `inference(worker_id)`, when given,
    returns the connection of that worker to an inference server (inference.py). When
    `should_stop()` turns true the workers are stopped (chunks already written are kept) and
    the statistics so far are returned with `interrupted` set. `pool` runs the workers (default:
    processes on this machine, `ProcessPool`; `ray_pool.RayWorkerPool` for a Ray cluster); a
    pool passed in outlives the call, so its idle workers serve the next one."""
    Path(records_dir).mkdir(parents=True, exist_ok=True)
    if sgf_dir is not None:
        Path(sgf_dir).mkdir(parents=True, exist_ok=True)
    workers = workers or max(1, os.cpu_count() or 1)
    workers = max(1, min(workers, num_games))
    shares = [num_games // workers + (1 if i < num_games % workers else 0) for i in range(workers)]
    stats = SelfPlayStats()
    start = time.perf_counter()
    if num_games <= 0:
        return stats
    remaining = list(shares)
    restarts = [0] * workers
    attempt_book = AttemptBook(Path(records_dir), chunk_prefix)
    prune_unrecorded_sgf(records_dir, sgf_dir, chunk_prefix)
    pool = pool if pool is not None else (None if in_process else ProcessPool())
    threads = pool.threads(workers) if pool is not None else worker_threads(workers)

    attempt_of: dict[int, int] = {}

    def job_for(w: int) -> WorkerJob:
        attempt = attempt_book.next(w)
        attempt_of[w] = attempt
        return WorkerJob(worker_id=w, attempt=attempt, num_games=remaining[w], seed=worker_seed(seed, w, attempt),
                         config=config, model_path=model_path, model_id=model_id, records_dir=str(records_dir),
                         sgf_dir=None if sgf_dir is None else str(sgf_dir), chunk_prefix=chunk_prefix,
                         games_per_chunk=games_per_chunk, threads=threads,
                         inference=inference(w) if inference is not None else None, backend=backend,
                         precision=precision)

    if in_process:
        messages = queue.Queue()
        for w in range(workers):
            worker_main(job_for(w), messages)
        _drain(messages, stats, remaining, lambda w: None)
        stats.seconds = time.perf_counter() - start
        return stats

    last_heard: dict[int, float] = {}

    # What is on disk decides how many games a replacement worker still owes: a worker killed
    # after writing a chunk but before its "chunk" message left the process did write those games.
    existing = {p.name for p in Path(records_dir).glob(f"{chunk_prefix}-*.npz")}

    def games_on_disk(names: set[str]) -> int:
        """Games in the chunks `names` that this call's workers wrote."""
        total = 0
        for p in (Path(records_dir) / name for name in sorted(names)):
            if p.name not in existing:
                try:
                    total += chunk_game_count(p)
                except RecordError as e:
                    quarantine_chunk(p, e)
        return total

    launched: set[int] = set()
    # Chunks on disk when a worker was given up for dead, per (worker, attempt): a worker that
    # is only presumed dead (an actor Ray reports lost while its process still runs for a
    # moment, a node cut off from the cluster) may write another chunk after its games were
    # counted; such chunks are set aside at the end, so the count stays exact.
    given_up: dict[tuple[int, int], set[str]] = {}

    def give_up(w: int) -> set[str]:
        """Worker w's chunks now on disk, which are all of its chunks that will count."""
        counted = {p.name for p in Path(records_dir).glob(f"{chunk_prefix}-*-w{w:02d}a*c*.npz")}
        given_up[(w, attempt_of[w])] = counted
        return counted

    def fence() -> None:
        for (w, attempt), counted in given_up.items():
            for p in Path(records_dir).glob(f"{chunk_prefix}-*-w{w:02d}a{attempt}c*.npz"):
                if p.name not in counted:
                    quarantine_chunk(p, RecordError(f"{p.name}: written after its worker was given up for dead"))

    def launch(w: int) -> None:
        pool.launch(job_for(w))
        launched.add(w)
        last_heard[w] = time.monotonic()

    for w in range(workers):
        if remaining[w] > 0:
            launch(w)
    done: set[int] = {w for w in range(workers) if remaining[w] == 0}
    errors: dict[int, str] = {}
    def handle(kind: str, w: int, payload) -> None:
        last_heard[w] = time.monotonic()
        if kind == "game":
            _count_game(stats, payload)
            if progress is not None:
                stats.seconds = time.perf_counter() - start
                progress(stats)
        elif kind == "chunk":
            # Only games on disk count towards a worker's share: a worker that dies after
            # finishing a game but before writing its chunk plays it again.
            remaining[w] -= payload
        elif kind == "moves":
            stats.moves_played += payload
            if on_moves is not None:
                on_moves(stats)
        elif kind == "done":
            done.add(w)
        elif kind == "error":
            errors[w] = payload
        elif kind == "log":
            print(f"worker {w}: {payload}", flush=True)

    try:
        while len(done) < workers:
            if should_stop is not None and should_stop():
                stats.interrupted = True
                break
            for message in pool.poll(0.05):
                handle(*message)
            for w in sorted(launched - done):
                silent = time.monotonic() - last_heard.get(w, time.monotonic())
                if pool.alive(w) and silent <= HEARTBEAT_TIMEOUT_S:
                    continue
                last_words, ending = pool.stop(w)
                for message in last_words:  # it may have finished after all
                    handle(*message)
                if w in done:
                    continue
                remaining[w] = shares[w] - games_on_disk(give_up(w))
                if remaining[w] <= 0:
                    done.add(w)
                    continue
                restarts[w] += 1
                stats.restarts += 1
                reason = errors.pop(w, ending or "no progress")
                print(f"self-play worker {w} died ({reason.strip().splitlines()[-1]}); restarting "
                      f"with {remaining[w]} games left", flush=True)
                if restarts[w] > MAX_RESTARTS:
                    raise RuntimeError(f"self-play worker {w} failed {restarts[w]} times:\n{reason}")
                launch(w)
    finally:
        pool.stop_all()
        fence()
        prune_unrecorded_sgf(records_dir, sgf_dir, chunk_prefix)  # games of workers that died
    stats.seconds = time.perf_counter() - start
    return stats


def _count_game(stats: SelfPlayStats, summary: dict) -> None:
    stats.games += 1
    stats.positions += summary["moves"]
    stats.mean_length = stats.positions / stats.games
    stats.black_wins += summary["result"] > 0
    stats.resigned += summary["resigned"] != 0
    stats.playthrough += summary["playthrough"]
    if summary["would_resign"]:
        stats.would_resign += 1
        winner = 1 if summary["result"] > 0 else 2 if summary["result"] < 0 else 0
        stats.false_resignations += winner == summary["would_resign"]


def take_all(q) -> list:
    """Everything waiting in queue `q` now, without waiting."""
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def _drain(messages, stats: SelfPlayStats, remaining: list[int], on_error) -> None:
    while True:
        try:
            kind, w, payload = messages.get_nowait()
        except queue.Empty:
            return
        if kind == "game":
            _count_game(stats, payload)
        elif kind == "chunk":
            remaining[w] -= payload
        elif kind == "error":
            raise RuntimeError(payload)
