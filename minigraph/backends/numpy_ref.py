"""The reference backend: run each Apply node's NumPy `perform`, in topological order
(minigraph/perform.py, a core module, does the running; this makes a Thunk of it)."""
from ..perform import annotate, evaluate, reference_runner  # noqa: F401  (annotate, evaluate: old home)
from .thunk import Thunk


def compile(inputs, outputs):
    return Thunk(reference_runner(inputs, outputs), "(the numpy backend runs the graph node by node)", "numpy")
