"""Monte-Carlo tree search: numba kernels over preallocated trees, batched across games."""

from .batched import BatchedSearch, SearchResult
from .config import SearchConfig, rollout_search_config

__all__ = ["BatchedSearch", "SearchConfig", "SearchResult", "rollout_search_config"]
