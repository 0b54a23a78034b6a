from .synchronizing import synchronize  # noqa: F401
