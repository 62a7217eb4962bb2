"""Ray, imported only when a command asks for the Ray executor: without Ray installed every
other path works as before, and asking for Ray says in one line how to get it.

Every call that waits on Ray has a timeout (`get`): a lost node or a hung actor then shows up
as an error the caller handles (restarting the actor) instead of a loop that waits forever.
"""

from __future__ import annotations

from typing import Any, Optional

INSTALL_HINT = "pip install -e '.[ray]'"
GET_TIMEOUT_S = 120.0  # for calls that answer at once; long work is waited on with ray.wait


class RayMissing(RuntimeError):
    """The Ray executor was asked for but Ray is not installed."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayMissing(f"the Ray executor needs Ray, which is not installed here: {INSTALL_HINT}") from None
    return ray


def connect(address: str = "", num_cpus: Optional[int] = None):
    """Join the cluster at `address` ("auto": the one `ray start` began on this machine;
    "host:port"), or with no address start a private Ray on this machine. Returns the module."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    # Actors import goengine as installed on their node (`pip install -e '.[ray]'` on each).
    if address:
        ray.init(address=address, log_to_driver=True)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=True)
    return ray


def get(ref: Any, timeout: float = GET_TIMEOUT_S) -> Any:
    return import_ray().get(ref, timeout=timeout)


def actor_errors() -> tuple[type, ...]:
    """The exceptions that mean an actor (or its node) is gone, or its call failed."""
    ray = import_ray()
    return (ray.exceptions.RayError,)


def on_this_node() -> dict:
    """Actor options that keep an actor on the driver's node (for bookkeeping that writes the
    run directory there)."""
    ray = import_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = ray.get_runtime_context().get_node_id()
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=False)}
