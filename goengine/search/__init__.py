"""Monte-Carlo tree search: numba kernels over preallocated trees, batched across games."""

from .batched import BatchedSearch, SearchResult
from .config import SearchConfig

__all__ = ["BatchedSearch", "SearchConfig", "SearchResult"]
