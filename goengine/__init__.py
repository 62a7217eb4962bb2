"""goengine: a self-learning Go engine. The subpackages are the board and rules, features, search,
players, the shared model module (`goengine.nn`), SGF and GTP; see each module's docstring."""

from . import numba_cache as _numba_cache

# Before any kernel is compiled or loaded: the compiled-code cache is keyed by the project's
# source, so a change anywhere never leaves stale inlined code behind (numba_cache.py).
_numba_cache.configure()


def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0.1.0"
    try:
        return version("goengine")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0.1.0"


__version__ = _package_version()
