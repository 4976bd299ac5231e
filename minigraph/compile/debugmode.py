"""`theano.compile.debugmode`: `from minigraph.compile.debugmode import DebugMode`."""
from .mode import DebugMode, DebugModeError  # noqa: F401
