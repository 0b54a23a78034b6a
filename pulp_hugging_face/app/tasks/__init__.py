from .retention import (  # noqa: F401
    add_pulled,
    dispatch_eviction,
    dispatch_freeing,
    evict,
    free_evicted,
)
from .synchronizing import synchronize  # noqa: F401
