"""`theano.compile.nanguardmode`: `from minigraph.compile.nanguardmode import NanGuardMode`."""
from .mode import NanGuardError, NanGuardMode  # noqa: F401
