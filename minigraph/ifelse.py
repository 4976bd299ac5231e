"""`theano.ifelse`: `from minigraph.ifelse import ifelse` (the op is in ops/ifelse.py)."""
from .ops.ifelse import IfElse, ifelse  # noqa: F401
