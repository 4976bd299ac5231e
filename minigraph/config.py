"""Global settings, read once from the environment and changeable at run time.

`minigraph.config.floatX = 'float32'` works as in Theano: new float variables and shared
variables created afterwards use it.
"""
import os


class _Config:
    def __init__(self):
        self.floatX = os.environ.get("MINIGRAPH_FLOATX", "float64")
        # 'cpu' runs the CPU backend; 'cuda' the GPU one; 'auto' picks the GPU when present.
        self.device = os.environ.get("MINIGRAPH_DEVICE", "cpu")
        # 'FAST_RUN' applies every rewrite phase; 'FAST_COMPILE' only merges duplicates.
        self.mode = os.environ.get("MINIGRAPH_MODE", "FAST_RUN")
        # Which backend runs compiled graphs on the CPU: 'auto' (numba once a function is hot),
        # 'numba' (compile every function at once) or 'numpy' (the reference).
        self.backend = os.environ.get("MINIGRAPH_BACKEND", "auto")
        # 'auto': seconds a function runs on numpy before it is compiled with numba.
        self.jit_after = float(os.environ.get("MINIGRAPH_JIT_AFTER", "1.0"))
        self.debug = os.environ.get("MINIGRAPH_DEBUG", "") not in ("", "0")

    def __repr__(self):
        return "config(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


config = _Config()
