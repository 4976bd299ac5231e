"""Old name of ops/dot.py (it only ever held Dot); kept so `minigraph.ops.blas` imports still work."""
from .dot import Dot, dot, outer  # noqa: F401
