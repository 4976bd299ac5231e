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
        # Theano's test values: 'off', 'ignore', 'warn' or 'raise' (graph.py computes them as
        # nodes are built, so a shape error shows at the line that built the node).
        self.compute_test_value = os.environ.get("MINIGRAPH_COMPUTE_TEST_VALUE", "off")
        # Read by Theano scripts; 'None'/'fast_compile' here makes the default mode FAST_COMPILE.
        self.optimizer = os.environ.get("MINIGRAPH_OPTIMIZER", "fast_run")
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        # Where the numba backend keeps its generated modules (backends/numba_cpu/cache.py).
        self.base_compiledir = os.environ.get("MINIGRAPH_CACHE_DIR") or os.path.join(xdg, "minigraph")
        self.compiledir = self.base_compiledir
        self.exception_verbosity = "low"
        self.warn_float64 = "ignore"
        self.cast_policy = "numpy+floatX"
        self.print_active_device = False

    def __getattr__(self, name):
        # only reached for a setting that does not exist
        raise AttributeError(f"minigraph.config has no setting {name!r}: this Theano setting is not "
                             f"supported by minigraph (settings: {', '.join(sorted(vars(self)))})")

    def __repr__(self):
        return "config(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


config = _Config()
