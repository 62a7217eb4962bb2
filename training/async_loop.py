"""The asynchronous loop on a Ray cluster, as AlphaZero and KataGo run: self-play, training and
gating all at once, none waiting for another.

    self-play actors --records/*.npz--> trainer thread (driver) --models/*--> gatekeeper actor
          ^                                                                        |
          +---- coordinator actor (newest accepted network, jobs) <-- promote -----+

- Self-play actors (`selfplay.ray_pool.ContinuousSelfPlay`) play job after job (one chunk's
  games each) with the network the coordinator names; each job's attempt number comes from the
  records folder's AttemptBook, so no seed is ever played twice.
- The trainer (`async_trainer.TrainerThread`) trains candidate k+1 from candidate k on the
  replay window, `training.steps_per_generation` steps each, paced by the data recorded.
- The gatekeeper (`gatekeeper.Gatekeeper`) plays the newest candidate against the best when it
  is free (a candidate that arrives while a gate runs replaces any waiting one: the newest is
  the one worth gating); `gating.mode = "always"` promotes every candidate without games.
- A promotion is written to state.json, then best.json, then told to the coordinator, whose
  self-play actors take the new network at their next job.

The driver's thread alone writes `state.json` (atomically):

    {"mode": "async", "best", "best_version", "latest", "candidates", "train_steps",
     "pending_gate": {"generation", "candidate"} or null, "history": [...]}

so a restart after Ctrl-C or kill -9 continues from the last candidate written down, gates
the candidate that was waiting, and trains on. The run stops after `run.generations`
candidates (that many times `steps_per_generation` trainer steps; 0: until stopped), once
their gates are decided.
"""

from __future__ import annotations

import os
import queue
import signal
import time
from typing import Callable, Optional

from .config import RunConfig
from .loop import resolve_device, selfplay_config_of
from .rundir import RunDir

CHUNK_PREFIX_FORMAT = "gen{:06d}"  # chunks of the games of the v-th accepted network
GATE_TIMEOUT_S = 4 * 3600.0        # a gate running longer is taken for hung: a new gatekeeper resumes it
PING_EVERY_S = 10.0
REPORT_EVERY_S = 30.0


class AsyncLoop:
    def __init__(self, run_dir: str | os.PathLike, config: RunConfig, *, workers: Optional[int] = None,
                 log: Callable[[str], None] = print, progress: bool = True, cache_dir: Optional[str] = None):
        self.dir = RunDir(run_dir)
        self.config = config
        self.log = log
        self.progress = progress
        self.workers = workers if workers is not None else config.selfplay.workers
        self.cache_dir = cache_dir
        self.device = resolve_device(config.run.device)
        self._stop = False

    def request_stop(self, *_args) -> None:
        if self._stop:
            raise KeyboardInterrupt
        self._stop = True
        self.log("stopping: the candidate being trained is kept if it finishes first (Ctrl-C again to "
                 "interrupt now; a restart resumes)")

    def run(self, candidates: Optional[int] = None) -> dict:
        self.dir.create()
        with self.dir.locked():
            return self._run_locked(candidates or self.config.run.generations)

    # --- state ---------------------------------------------------------------------------------

    def _initial_state(self) -> dict:
        from .models import create_initial_model

        model_id = create_initial_model(self.dir, self.config)
        self.log(f"initial network {model_id}")
        return {"mode": "async", "best": model_id, "best_version": 0, "latest": model_id, "candidates": 0,
                "train_steps": 0, "pending_gate": None, "history": []}

    def _save(self, state: dict) -> None:
        self.dir.write_state(state)

    # --- the loop ------------------------------------------------------------------------------

    def _run_locked(self, target: int) -> dict:
        from selfplay.ray_session import connect

        for path in self.dir.remove_stale_temps():
            self.log(f"removed {path}, the temporary file of a write that was interrupted")
        state = self.dir.read_state()
        if state is not None and state.get("mode") != "async":
            raise ValueError(f"{self.dir.root} holds a generational run; continue it without --async")
        if state is None:
            state = self._initial_state()
            self._save(state)
        if self.dir.read_best() != state["best"]:
            self.dir.write_best(state["best"])
        ray = connect(self.config.run.ray_address)
        parts = _Parts(self, ray, state, target)
        previous = signal.signal(signal.SIGINT, self.request_stop) if _main_thread() else None
        try:
            parts.start()
            return self._drive(parts, state, target)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            parts.close()

    def _drive(self, parts: "_Parts", state: dict, target: int) -> dict:
        trainer_done = bool(target) and state["candidates"] >= target
        last_report = time.monotonic()
        while True:
            parts.selfplay.supervise(0.2)
            parts.ping_coordinator(state)
            for kind, *payload in parts.trainer_messages():
                if kind == "candidate":
                    state = self._on_candidate(parts, state, *payload)
                elif kind == "finished":
                    trainer_done = True
                elif kind == "error":
                    raise RuntimeError(f"the trainer failed:\n{payload[0]}")
            state = self._advance_gate(parts, state)
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                last_report = time.monotonic()
                self.log(self._report_line(parts, state))
            if self._stop:
                return self._keep_the_candidate_in_training(parts, state)
            if trainer_done and state["pending_gate"] is None and parts.gate_ref is None:
                return state

    def _keep_the_candidate_in_training(self, parts: "_Parts", state: dict) -> dict:
        """On a stop request: let the trainer finish the candidate it is training and write it
        down (waiting for its gate), so a restart need not train it again."""
        parts.trainer.stop()
        parts.trainer.join()
        for kind, *payload in parts.trainer_messages():
            if kind == "candidate":
                state = self._on_candidate(parts, state, *payload)
        return state

    def _on_candidate(self, parts: "_Parts", state: dict, k: int, result: dict) -> dict:
        candidate = result["candidate"]
        state = dict(state, latest=candidate, candidates=k, train_steps=result["total_train_steps"])
        entry = {"generation": k, "candidate": candidate, **{key: result.get(key) for key in (
            "train_steps", "loss", "policy_loss", "value_loss", "train_seconds")}}
        if self.config.gating.mode == "always":
            state = self._promote(parts, dict(state, history=state["history"] + [dict(entry, promoted=True)]), candidate)
            self.log(self._verdict_line(k, entry, {"promoted": True}, state))
            return state
        waiting = state.get("pending_gate")
        if waiting is not None and (parts.gate_job is None or parts.gate_job["generation"] != waiting["generation"]):
            self.log(f"candidate {waiting['generation']} not gated: candidate {k} is newer")
        state = dict(state, pending_gate={"generation": k, "candidate": candidate, "entry": entry})
        self._save(state)
        return state

    def _advance_gate(self, parts: "_Parts", state: dict) -> dict:
        if parts.gate_ref is None:
            if state.get("pending_gate") is not None:
                parts.submit_gate(state["pending_gate"], state["best"])
            return state
        verdict = parts.gate_verdict()
        if verdict is None:
            return state
        job = parts.gate_job
        parts.gate_ref = parts.gate_job = None
        entry = dict(job.get("entry") or {"generation": job["generation"], "candidate": job["candidate"]}, **verdict)
        pending = state.get("pending_gate")
        still_waiting = pending if pending is not None and pending["generation"] != job["generation"] else None
        state = dict(state, pending_gate=still_waiting, history=state["history"] + [entry])
        if verdict["promoted"]:
            state = self._promote(parts, state, job["candidate"])
        else:
            self._save(state)
        self.log(self._verdict_line(job["generation"], entry, verdict, state))
        return state

    def _promote(self, parts: "_Parts", state: dict, candidate: str) -> dict:
        state = dict(state, best=candidate, best_version=state["best_version"] + 1)
        self._save(state)
        self.dir.write_best(candidate)  # after the state: see rundir.py
        parts.announce_best(state)
        return state

    # --- reporting -----------------------------------------------------------------------------

    def _verdict_line(self, k: int, entry: dict, verdict: dict, state: dict) -> str:
        wins, losses, draws = (verdict.get(key, 0) for key in ("gate_wins", "gate_losses", "gate_draws"))
        gate = f"{wins}-{losses}" + (f"-{draws}" if draws else "") if wins + losses + draws else "skipped"
        loss = entry.get("loss")
        loss_text = f"{loss:.3f}" if isinstance(loss, float) else "n/a"
        return (f"candidate {k:3d} | train {entry.get('train_steps', 0)} steps loss {loss_text} | gate {gate} "
                f"{'promoted' if verdict.get('promoted') else 'kept best'} | best {state['best']} "
                f"(version {state['best_version']})")

    def _report_line(self, parts: "_Parts", state: dict) -> str:
        s = parts.selfplay.stats
        return (f"self-play {s.games} games {s.moves_played} moves ({s.restarts} actor restarts) | "
                f"{state['candidates']} candidates, {state['train_steps']} training steps | best {state['best']}")


class _Parts:
    """The actors and the trainer thread of one run of the asynchronous loop."""

    def __init__(self, loop: AsyncLoop, ray, state: dict, target: int):
        self.loop, self.ray, self.target = loop, ray, target
        self.config, self.dir = loop.config, loop.dir
        self.selfplay = None
        self.trainer = None
        self.coordinator = None
        self.gatekeeper = None
        self.gate_ref = self.gate_job = None
        self.gate_started = 0.0
        self.last_ping = 0.0
        self.trainer_out: queue.Queue = queue.Queue()
        self.state_at_start = state
        self.tb = None

    def start(self) -> None:
        from selfplay.ray_pool import ContinuousSelfPlay, WeightsShipper
        from selfplay.workers import WorkerJob

        from .async_trainer import TrainerThread, optional_writer

        r, s = self.config.run, self.config.selfplay
        state = self.state_at_start
        self.shipper = WeightsShipper()
        self._start_coordinator(state)
        gating = self.config.gating.mode != "always"
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        workers = self.loop.workers or max(1, (cpus - (1 if gating else 0)) // r.ray_cpus_per_worker)
        template = WorkerJob(worker_id=0, attempt=0, num_games=s.games_per_chunk, seed=0,
                             config=selfplay_config_of(self.config), model_path=None, model_id="",
                             records_dir=str(self.dir.records), sgf_dir=None, chunk_prefix="",
                             games_per_chunk=s.games_per_chunk, threads=r.ray_cpus_per_worker, backend=r.backend,
                             precision=r.precision)
        self.selfplay = ContinuousSelfPlay(self.coordinator, template, workers, r.ray_cpus_per_worker,
                                           cache_dir=self.loop.cache_dir, log=self.loop.log)
        self.selfplay.start()
        self.loop.log(f"asynchronous loop on Ray ({r.ray_address or 'a private Ray on this machine'}): {workers} "
                      f"self-play actor(s), trainer on {self.loop.device}, "
                      f"{'a gatekeeper actor' if gating else 'no gate (every candidate promoted)'}")
        self.tb = optional_writer(self.dir.tensorboard)
        self.trainer = TrainerThread(self.dir, self.config, parent=state["latest"], first=state["candidates"],
                                     last=self.target, train_steps=state["train_steps"], device=self.loop.device,
                                     out=self.trainer_out, tb=self.tb, log=self.loop.log)
        self.trainer.start()

    def trainer_messages(self) -> list[tuple]:
        from selfplay.workers import take_all
        return take_all(self.trainer_out)

    # --- coordinator ---------------------------------------------------------------------------

    def _start_coordinator(self, state: dict) -> None:
        from selfplay.ray_pool import coordinator_class
        from selfplay.ray_session import on_this_node

        best = state["best"]
        self.coordinator = coordinator_class().options(**on_this_node()).remote(
            str(self.dir.records), str(self.dir.root / "sgf"), self.config.run.seed, CHUNK_PREFIX_FORMAT,
            best, state["best_version"], [self.shipper.ref(str(self.dir.model_stem(best)))])
        if self.selfplay is not None:
            self.selfplay.coordinator = self.coordinator

    def ping_coordinator(self, state: dict) -> None:
        """A coordinator that no longer answers is replaced (with the best from the state)."""
        from selfplay.ray_session import actor_errors, get

        if time.monotonic() - self.last_ping < PING_EVERY_S:
            return
        self.last_ping = time.monotonic()
        try:
            get(self.coordinator.best.remote(), timeout=60)
        except actor_errors() as e:
            self.loop.log(f"the coordinator was lost ({type(e).__name__}); starting another")
            self._start_coordinator(state)
            self.selfplay.stop()  # they hold the old handle; new actors get the new one
            self.selfplay.start()

    def announce_best(self, state: dict) -> None:
        from selfplay.ray_session import actor_errors, get

        ref = [self.shipper.ref(str(self.dir.model_stem(state["best"])))]
        try:
            get(self.coordinator.set_best.remote(state["best"], state["best_version"], ref))
        except actor_errors():
            self.last_ping = 0.0  # the next ping replaces it, from the state just written

    # --- gatekeeper ----------------------------------------------------------------------------

    def submit_gate(self, job: dict, best: str) -> None:
        from .gatekeeper import gatekeeper_class

        if self.gatekeeper is None:
            self.gatekeeper = gatekeeper_class().remote(str(self.dir.root), self.config.to_dict(), self.loop.cache_dir)
        job = dict(job, best=best)
        self.gate_job = job
        self.gate_started = time.monotonic()
        self.gate_ref = self.gatekeeper.gate.remote(
            job["generation"], self.shipper.ref(str(self.dir.model_stem(job["candidate"]))),
            self.shipper.ref(str(self.dir.model_stem(best))))

    def gate_verdict(self) -> Optional[dict]:
        """The running gate's verdict, or None while it runs; a lost or hung gatekeeper is
        replaced and the gate resubmitted (it resumes from the ledger)."""
        from selfplay.ray_session import actor_errors, get

        ready, _ = self.ray.wait([self.gate_ref], timeout=0)
        if ready:
            try:
                return get(self.gate_ref)
            except actor_errors() as e:
                reason = f"{type(e).__name__}"
        elif time.monotonic() - self.gate_started > GATE_TIMEOUT_S:
            reason = f"no verdict in {GATE_TIMEOUT_S:.0f} s"
        else:
            return None
        self.loop.log(f"the gate of candidate {self.gate_job['generation']} failed ({reason}); a new "
                      f"gatekeeper resumes it")
        self._kill(self.gatekeeper)
        self.gatekeeper = None
        self.submit_gate(self.gate_job, self.gate_job["best"])
        return None

    # --- the end -------------------------------------------------------------------------------

    def _kill(self, actor) -> None:
        from selfplay.ray_session import actor_errors

        if actor is not None:
            try:
                self.ray.kill(actor, no_restart=True)
            except actor_errors():
                pass

    def close(self) -> None:
        from selfplay.resume import prune_unrecorded_sgf

        if self.trainer is not None:
            self.trainer.stop()
            self.trainer.join(timeout=600)  # a candidate being trained is finished and saved
        if self.selfplay is not None:
            self.selfplay.stop()
        self._kill(self.gatekeeper)
        self._kill(self.coordinator)
        state = self.dir.read_state() or {}
        for version in {state.get("best_version", 0), max(0, state.get("best_version", 0) - 1)}:
            prefix = CHUNK_PREFIX_FORMAT.format(version)
            prune_unrecorded_sgf(self.dir.records, self.dir.root / "sgf" / prefix, prefix)
        if self.tb is not None:
            self.tb.close()


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()
