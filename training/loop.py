"""The AlphaGo Zero loop: self-play with the best network, train on the replay window, gate the
candidate against the best, promote it if it is better; generation after generation.

Every step ends by writing its results atomically and then `state.json`, so a restart with the
same run directory (after Ctrl-C or kill -9) continues from the last completed step:

    generation g:  selfplay (resumes: counts the games already recorded for g)
                -> train    (redone from the last saved training state if interrupted)
                -> gate     (resumes from the games the ledger holds for it)
                -> done     (summary line; best.json; g + 1 begins)

A restart first removes the temporary files of writes the crash interrupted and puts best.json
right from state.json (`rundir.py`); the run dir is locked while a loop runs on it.

Generation 0 is the randomly initialised network, which is the first best.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable, Optional

import numpy as np

from goengine.progress import Progress

from .config import RunConfig
from .rundir import RunDir

# The self-play bar's guess at a game's length, per board point, until the first game ends.
_GAME_LENGTH_GUESS = 0.8


def summary_line(generation: int, current: dict, best: str) -> str:
    """The one line a generation ends with."""
    seconds = current.get("selfplay_seconds", 0.0)
    rate = current.get("positions", 0) / seconds if seconds else 0.0
    wins, losses, draws = (current.get(k, 0) for k in ("gate_wins", "gate_losses", "gate_draws"))
    total = wins + losses + draws
    gate = "skipped"
    if total:
        gate = f"{wins}-{losses}" + (f"-{draws}" if draws else "") + f" ({100.0 * (wins + 0.5 * draws) / total:.0f}%)"
    verdict = "promoted" if current.get("promoted") else "kept best"
    resign = current.get("false_resign_rate")
    resign_text = f", false resignations {100.0 * resign:.0f}%" if resign is not None else ""
    nan = float("nan")
    return (f"gen {generation:3d} | self-play {current.get('games', 0)} games {current.get('positions', 0)} pos "
            f"({rate:.0f} pos/s{resign_text}) | train {current.get('train_steps', 0)} steps loss "
            f"{current.get('loss', nan):.3f} (policy {current.get('policy_loss', nan):.3f}, value "
            f"{current.get('value_loss', nan):.3f}) | gate {gate} {verdict} | best {best}")


def resolve_device(name: str) -> str:
    """goengine.nn.backends.resolve_device, imported when called: torch loads only when needed."""
    from goengine.nn.backends import resolve_device as device_of
    return device_of(name)


def selfplay_config_of(config: RunConfig, resign_threshold: Optional[float] = None):
    """The self-play settings of a run (`resign_threshold` replaces the preset's when given)."""
    from goengine.search import SearchConfig
    from selfplay.runner import SelfPlayConfig

    c, s = config.run, config.selfplay
    search = SearchConfig(num_simulations=s.visits, leaves_per_tree=s.leaves_per_tree,
                          c_init=s.c_init, fpu_reduction=s.fpu_reduction, dirichlet_noise=s.dirichlet_noise,
                          dirichlet_alpha=s.dirichlet_alpha or None, dirichlet_weight=s.dirichlet_weight,
                          gumbel=s.gumbel, gumbel_m=s.gumbel_m)
    return SelfPlayConfig(board_size=c.board_size, komi=c.komi, rules=c.rules, max_moves=c.max_moves or None,
                          parallel_games=s.parallel_games, search=search, full_search_prob=s.full_search_prob,
                          cheap_simulations=s.cheap_visits, temperature=s.temperature,
                          temperature_moves=s.temperature_moves,
                          resign_threshold=s.resign_threshold if resign_threshold is None else resign_threshold,
                          resign_consecutive=s.resign_consecutive, playthrough_fraction=s.playthrough_fraction,
                          allow_resign=s.allow_resign, pass_rule=s.pass_rule)


class TrainingLoop:
    def __init__(self, run_dir: str | os.PathLike, config: RunConfig, *, workers: Optional[int] = None,
                 log: Callable[[str], None] = print, progress: bool = True, in_process_selfplay: bool = False):
        self.dir = RunDir(run_dir)
        self.config = config
        self.log = log
        self.progress = progress
        self.workers = workers if workers is not None else config.selfplay.workers
        self.in_process_selfplay = in_process_selfplay
        self.device = resolve_device(config.run.device)
        self._stop = False
        self._tb = None
        self._pool = None  # the Ray actors that play self-play (executor "ray")

    # --- state -------------------------------------------------------------------------------

    def _initial_state(self) -> dict:
        return {"generation": 0, "phase": "done", "best": None, "latest": None, "history": []}

    def _save(self, state: dict) -> None:
        self.dir.write_state(state)

    def request_stop(self, *_args) -> None:
        """Finish the step in progress, then stop (the first Ctrl-C); a second one interrupts."""
        if self._stop:
            raise KeyboardInterrupt
        self._stop = True
        self.log("stopping after the current step (Ctrl-C again to interrupt now; a restart resumes)")

    # --- the loop ----------------------------------------------------------------------------

    def run(self, generations: Optional[int] = None) -> dict:
        """Run until `generations` generations are complete (counting those already in the run
        dir; None or 0: until stopped). Returns the final state."""
        self.dir.create()
        with self.dir.locked():
            try:
                self._start_executor()
                return self._run_locked(generations)
            finally:
                if self._pool is not None:
                    self._pool.shutdown()
                    self._pool = None

    def _start_executor(self) -> None:
        """With executor "ray": join the cluster and make the pool of self-play actors (kept
        from generation to generation, so an actor loads torch and the kernels once)."""
        r = self.config.run
        if r.executor != "ray" or self.in_process_selfplay:
            return
        from selfplay.ray_node import plan_nodes
        from selfplay.ray_pool import RayWorkerPool
        from selfplay.ray_session import connect

        from .models import net_config_of

        ray = connect(r.ray_address)
        resources = ray.cluster_resources()
        cpus, gpus = int(resources.get("CPU", 1)), int(resources.get("GPU", 0))
        net = net_config_of(self.config)
        # The driver's device says nothing of the nodes': a driver without a GPU may lead GPU nodes.
        planned = plan_nodes(r.ray_inference, r.device, cpus, gpus, r.ray_workers_per_node, net.in_planes,
                             net.feature_set)
        if planned is not None:
            node, count = planned
            self.workers = self.workers or count
            self._pool = RayWorkerPool(node=node)
            return
        if not self.workers:
            self.workers = max(1, cpus // r.ray_cpus_per_worker)
        self._pool = RayWorkerPool(cpus_per_worker=r.ray_cpus_per_worker)

    def _run_locked(self, generations: Optional[int]) -> dict:
        from .models import create_initial_model

        for path in self.dir.remove_stale_temps():
            self.log(f"removed {path}, the temporary file of a write that was interrupted")
        state = self.dir.read_state() or self._initial_state()
        if state.get("mode") == "async":
            raise ValueError(f"{self.dir.root} holds an asynchronous run; continue it with --async")
        if state["best"] is None:
            model_id = create_initial_model(self.dir, self.config)
            state.update(best=model_id, latest=model_id)
            self._save(state)
            self.dir.write_best(model_id)
            self.log(f"generation 0: initial network {model_id}")
        elif self.dir.read_best() != state["best"]:
            # A crash between state.json and best.json: the state is the record of what happened.
            self.log(f"best.json put right: {state['best']} (as state.json says)")
            self.dir.write_best(state["best"])
        target = generations if generations else self.config.run.generations
        self._use_trainer_threads()
        self.log(self._runtime_line())
        previous = signal.signal(signal.SIGINT, self.request_stop) if _main_thread() else None
        try:
            while not self._stop and (not target or state["generation"] < target or state["phase"] != "done"):
                try:
                    state = self._step(state)
                except _Interrupted:
                    break
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            if self._tb is not None:
                self._tb.close()
        return state

    def _step(self, state: dict) -> dict:
        if state["phase"] == "done":
            state = dict(state, generation=state["generation"] + 1, phase="selfplay",
                         current={"generation": state["generation"] + 1})
            self._save(state)
        g = state["generation"]
        phase = state["phase"]
        current = dict(state.get("current") or {"generation": g})
        if phase == "selfplay":
            threshold = state.get("resign_threshold", self.config.selfplay.resign_threshold)
            current.update(self._selfplay(g, state["best"], threshold))
            threshold = self._calibrate_resignation(g, threshold, current)
            state = dict(state, phase="train", current=current, resign_threshold=threshold)
        elif phase == "train":
            current.update(self._train(g, state))
            state = dict(state, phase="gate", latest=current["candidate"], current=current)
        elif phase == "gate":
            current.update(self._gate(g, state["best"], current["candidate"]))
            best = current["candidate"] if current["promoted"] else state["best"]
            self.log(summary_line(g, current, best))
            self._scalar("gating/win_rate", current.get("gate_win_rate", float("nan")), g)
            history = list(state.get("history", [])) + [dict(current, best=best)]
            state = dict(state, phase="done", best=best, history=history, current=None)
        self._save(state)
        if phase == "gate" and state["best"] != self.dir.read_best():
            self.dir.write_best(state["best"])  # after the state: see rundir.py
        return state

    # --- phases ------------------------------------------------------------------------------

    def _calibrate_resignation(self, g: int, threshold: float, current: dict) -> float:
        """The threshold for the next generation, from the played-out games of the last few."""
        s = self.config.selfplay
        if not (s.resign_calibration and s.allow_resign):
            return threshold
        from selfplay.records import RecordError, quarantine_chunk, read_chunk

        from .resign import PlayedOut, calibrate

        games = []
        for k in range(max(1, g - 2), g + 1):
            for p in self.dir.generation_chunks(k):
                try:
                    records = read_chunk(p)
                except RecordError as e:
                    quarantine_chunk(p, e, self.log)
                    continue
                games += [PlayedOut(np.asarray(r.root_values, np.float32), 1, r.winner)
                          for r in records if r.playthrough and not r.setup]
        c = self.config.run
        result = calibrate(games, threshold, s.resign_consecutive, c.board_size ** 2 // 4,
                           target=s.resign_false_target)
        current.update(resign_threshold=threshold, next_resign_threshold=result.threshold,
                       calibrated_false_rate=result.false_rate)
        if result.changed and result.threshold != threshold:
            self.log(f"gen {g}: resign threshold {threshold:+.3f} -> {result.threshold:+.3f} "
                     f"({100 * result.false_rate:.1f}% false among {result.resignations} would-be "
                     f"resignations in {result.games} played-out games)")
        self._scalar("selfplay/resign_threshold", result.threshold, g)
        return result.threshold

    def _selfplay_config(self, resign_threshold: Optional[float] = None):
        return selfplay_config_of(self.config, resign_threshold)

    def _selfplay(self, g: int, best: str, resign_threshold: Optional[float] = None) -> dict:
        from selfplay.records import count_games
        from selfplay.workers import run_selfplay

        s = self.config.selfplay
        have = count_games(self.dir.generation_chunks(g), report=self.log)
        need = s.games_per_generation - have
        # Games played in lockstep finish in bursts, so the bar counts positions (moves arrive
        # every second), against an estimate of the positions still to play: the mean length
        # of the games finished so far, a guess before the first ends. Games done ride along.
        guess = _GAME_LENGTH_GUESS * self.config.run.board_size ** 2
        bar = Progress(total=need * guess, desc=f"gen {g} self-play", unit="pos", enabled=self.progress)
        bar.set_fields(f"games {have}/{s.games_per_generation}")

        def show_moves(stats) -> None:
            length = stats.positions / stats.games if stats.games else guess
            bar.set_total(max(need * length, stats.moves_played))
            bar.update_to(stats.moves_played)

        def progress(stats) -> None:
            bar.set_fields(f"games {have + stats.games}/{s.games_per_generation}")
            show_moves(stats)

        seed = int(np.random.SeedSequence([self.config.run.seed, g]).generate_state(1)[0])
        model_path = str(self.dir.model_stem(best))
        kwargs = dict(config=self._selfplay_config(resign_threshold), num_games=need, model_path=model_path, model_id=best,
                      records_dir=self.dir.records, sgf_dir=self.dir.sgf(g), chunk_prefix=self.dir.chunk_prefix(g),
                      seed=seed, workers=self.workers, games_per_chunk=s.games_per_chunk,
                      progress=progress if self.progress else None, in_process=self.in_process_selfplay,
                      should_stop=lambda: self._stop, on_moves=show_moves if self.progress else None,
                      backend=self.config.run.backend, precision=self._precision(), pool=self._pool)
        if self._use_inference_server() and need > 0:
            from selfplay.inference import InferenceServer

            from .models import net_config_of
            workers = self.workers or max(1, os.cpu_count() or 1)
            net = net_config_of(self.config)
            max_batch = s.parallel_games * s.leaves_per_tree
            with InferenceServer(model_path, self.device, workers, max_batch, net.in_planes,
                                 self.config.run.board_size, net.feature_set) as server:
                stats = run_selfplay(**dict(kwargs, workers=workers, inference=server.client_args))
        else:
            if self._pool is not None and self._pool.node is not None:
                self._pool.reset_inference()
            stats = run_selfplay(**kwargs)
        bar.close()
        if stats.interrupted:
            raise _Interrupted
        self._scalar("selfplay/games_per_s", stats.games / max(stats.seconds, 1e-9), g)
        self._scalar("selfplay/positions_per_s", stats.positions / max(stats.seconds, 1e-9), g)
        self._scalar("selfplay/mean_game_length", stats.mean_length, g)
        self._scalar("selfplay/black_win_rate", stats.black_wins / max(stats.games, 1), g)
        if stats.would_resign:
            self._scalar("selfplay/resign_false_positive_rate", stats.false_positive_rate, g)
        games = count_games(self.dir.generation_chunks(g), report=self.log)
        out = {"games": games, "positions": stats.positions, "selfplay_seconds": stats.seconds,
               "false_resign_rate": stats.false_positive_rate if stats.would_resign else None}
        if self._pool is not None and self._pool.node is not None:
            out.update(self._node_inference(g))
        return out

    def _node_inference(self, g: int) -> dict:
        """The node actors' inference servers over this generation's self-play. A busy fraction
        well under 1 says the search processes leave the GPU waiting: more of them per GPU
        (run.ray_workers_per_node) would play faster."""
        t = self._pool.inference_totals()
        busy = t["busy_s"] / t["server_s"] if t["server_s"] else 0.0
        self.log(f"gen {g}: node inference servers evaluated {t['positions']} positions in {t['batches']} "
                 f"batches, busy {100 * busy:.0f}% of the time")
        self._scalar("selfplay/inference_busy_fraction", busy, g)
        return {"inference_positions": t["positions"], "inference_busy_fraction": busy}

    def _precision(self):
        """The arithmetic of the self-play and gating networks. auto: bf16 where the CPU computes
        it natively (AMX or AVX-512 BF16), which plays 3-5x the positions per second
        (benchmarks/selfplay_speed.py --precision bf16); self-play and gating need good moves
        fast, not logits exact to the last bit. Elsewhere the runtime's exact default."""
        from goengine.nn import resolve_backend
        from goengine.nn.backends import resolve_precision

        backend, device = resolve_backend(self.config.run.backend, self.device)
        return resolve_precision(self.config.run.precision, backend, device)

    def _use_trainer_threads(self) -> None:
        """run.threads, when set, caps the trainer's torch threads (0 leaves torch's default,
        one per physical core, and spares a run that never trains here the torch import)."""
        if self.config.run.threads and not self.device.startswith("cuda"):
            from .harness import use_cpu_threads
            use_cpu_threads(self.device, self.config.run.threads)

    def _runtime_line(self) -> str:
        """Where the networks run, said once at the start of a run."""
        from goengine.nn import resolve_backend
        from selfplay.workers import worker_threads

        if self._use_inference_server():
            return f"network runtime: torch on {self.device} (one inference process for the self-play workers)"
        if self._pool is not None:
            address = self.config.run.ray_address or "a private Ray on this machine"
            node = self._pool.node
            if node is not None:
                return (f"self-play on Ray ({address}): {self.workers} node actor(s), each one inference "
                        f"process on {node.device} fed by {node.workers} search process(es)")
            return (f"self-play on Ray ({address}): {self.workers} actor(s) x {self._pool.cpus_per_worker} CPU(s), "
                    f"network runtime {self.config.run.backend}")
        backend, device = resolve_backend(self.config.run.backend, self.device)
        workers = 1 if self.in_process_selfplay else (self.workers or max(1, os.cpu_count() or 1))
        trainer = f"; trainer {self.config.run.threads} thread(s)" if self.config.run.threads else ""
        return (f"network runtime: {backend} on {device} ({self._precision() or 'exact'}); self-play "
                f"{workers} worker(s) x {worker_threads(workers)} thread(s){trainer}")

    def _use_inference_server(self) -> bool:
        if self._pool is not None:
            return False  # each actor runs its own network
        mode = self.config.selfplay.inference_server
        if mode == "auto":
            return self.device.startswith("cuda") and not self.in_process_selfplay
        return mode in ("on", "true", "yes")

    def _train(self, g: int, state: dict) -> dict:
        from .models import train_generation, train_generation_distributed

        start = time.perf_counter()
        if self.config.training.processes > 1:
            result = train_generation_distributed(self.dir, self.config, generation=g, parent=state["latest"],
                                                  device=self.device)
        else:
            result = train_generation(self.dir, self.config, generation=g, parent=state["latest"],
                                      device=self.device, tb=self._writer(), progress=self.progress, report=self.log)
        result["train_seconds"] = time.perf_counter() - start
        return result

    def _gate(self, g: int, best: str, candidate: str) -> dict:
        from .gating import gate

        return gate(self.dir, self.config, best=best, candidate=candidate, generation=g, device=self.device,
                    backend=self.config.run.backend, precision=self._precision(),
                    progress=self.progress, log=self.log)

    # --- reporting ---------------------------------------------------------------------------

    def _scalars(self):
        if self._tb is None:
            from .harness import Scalars  # torch only once there is something to write
            self._tb = Scalars(self.dir.tensorboard)
        return self._tb

    def _writer(self):
        return self._scalars().writer

    def _scalar(self, name: str, value, step: int) -> None:
        prefix, key = name.split("/", 1)
        if value is not None:
            self._scalars().add(prefix, {key: value}, step)


class _Interrupted(Exception):
    """A step stopped early on request; its finished work is saved, the step is redone."""


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()
