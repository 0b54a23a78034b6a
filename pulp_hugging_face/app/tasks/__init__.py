from .retention import add_pulled, dispatch_eviction, evict  # noqa: F401
from .synchronizing import synchronize  # noqa: F401
