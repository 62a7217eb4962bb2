"""The gatekeeper of the asynchronous loop: a Ray actor that plays a candidate against the best
with the gating code of the generational loop (`gating.gate`: same match, same ledger, same
resume), from weights shipped through the object store, so it may run on any node.

A gate keeps its fixed match id, so a gatekeeper killed in the middle is replaced and the new
one resumes from the games the ledger holds: no game counts twice.
"""

from __future__ import annotations

from typing import Optional

from .config import RunConfig
from .gating import gate
from .rundir import RunDir


class Gatekeeper:
    def __init__(self, run_root: str, config: dict, cache_dir: Optional[str] = None):
        self.run_dir = RunDir(run_root)
        self.config = RunConfig.from_dict(config)
        self.cache_dir = cache_dir

    def gate(self, generation: int, candidate, best) -> dict:
        """`candidate`, `best`: ShippedWeights. Returns gating.gate's verdict."""
        from .loop import resolve_device

        r = self.config.run
        return gate(self.run_dir, self.config, best=best.model_id, candidate=candidate.model_id,
                    generation=generation, device=resolve_device(r.device), backend=r.backend,
                    precision=r.precision, progress=False,
                    candidate_stem=candidate.materialize(self.cache_dir), best_stem=best.materialize(self.cache_dir))


def gatekeeper_class(cpus: int = 1):
    from selfplay.ray_session import import_ray
    return import_ray().remote(num_cpus=cpus, max_restarts=0)(Gatekeeper)
