"""Theano's compilation modes: `Mode`, `FAST_RUN`/`FAST_COMPILE`, `DebugMode`, `NanGuardMode`.

A mode says which rewrites run and how the rewritten graph is run. `function(..., mode=m)` takes
a mode object or its name ('FAST_RUN', 'FAST_COMPILE', 'DebugMode', 'DEBUG_MODE', 'NanGuardMode').
  DebugMode     runs the reference (numpy) backend and the numba backend on every call and raises
                when their outputs differ; the first node whose values differ is named.
  NanGuardMode  runs the graph node by node and names the first node that produced a NaN or Inf
                (or, with big_is_error, a value above 1e10 in magnitude).
"""
import numpy as np

from .. import backends
from ..config import config
from ..perform import reference_runner
from ..backends.thunk import Thunk

_OPTIMIZERS = {None: "FAST_COMPILE", "None": "FAST_COMPILE", "fast_compile": "FAST_COMPILE",
               "merge": "FAST_COMPILE", "fast_run": "FAST_RUN", "default": "FAST_RUN", "o4": "FAST_RUN"}


class Mode:
    """Which rewrites run (`optimizer`) and, for the special modes, how the graph runs.

    linker is accepted for Theano scripts ('vm', 'cvm', 'py', 'c'); minigraph's backend is chosen
    by `function(backend=...)`/`config.backend`, so it changes nothing here."""

    def __init__(self, linker=None, optimizer="default", excluded=()):
        if optimizer not in _OPTIMIZERS:
            raise ValueError(f"Mode: unknown optimizer {optimizer!r}; use one of "
                             f"{sorted(str(k) for k in _OPTIMIZERS)}")
        self.linker, self.optimizer, self.excluded = linker, optimizer, tuple(excluded)

    rewrites = property(lambda self: _OPTIMIZERS[self.optimizer])

    def excluding(self, *names):
        return type(self)(self.linker, self.optimizer, self.excluded + names)

    def including(self, *names):
        return type(self)(self.linker, self.optimizer, tuple(n for n in self.excluded if n not in names))

    def requiring(self, *names):
        return self

    def compile(self, backend_name, inputs, outputs, inplace):
        """The thunk that runs `outputs` (the rewritten graph)."""
        return backends.compile(backend_name, inputs, outputs, inplace)

    def __repr__(self):
        return f"{type(self).__name__}(linker={self.linker!r}, optimizer={self.optimizer!r})"


class DebugModeError(ValueError):
    pass


class NanGuardError(AssertionError, ValueError):
    """Theano's NanGuardMode raises an AssertionError; a ValueError is what minigraph raises for bad values."""


class DebugMode(Mode):
    """Every call runs on the numpy reference and on the numba backend, and compares.
    Theano's checks of its C code (check_c_code, check_py...) are accepted and mean nothing here."""

    def __init__(self, linker=None, optimizer="default", excluded=(), rtol=1e-5, atol=1e-8, **theano_checks):
        super().__init__(linker, optimizer, excluded)
        self.rtol, self.atol = rtol, atol

    def compile(self, backend_name, inputs, outputs, inplace):
        reference = backends.compile("numpy", inputs, outputs)
        compiled = backends.compile("numba", inputs, outputs)
        rtol, atol = self.rtol, self.atol

        def run(*values):
            expected = reference.run(*values)
            got = compiled.run(*[v.copy() if isinstance(v, np.ndarray) else v for v in values])
            for k, (e, g) in enumerate(zip(expected, got)):
                if np.shape(e) != np.shape(g) or not np.allclose(e, g, rtol=rtol, atol=atol, equal_nan=True):
                    raise DebugModeError(f"DebugMode: output {k} ({outputs[k]}) differs between the numpy "
                                     f"reference and {compiled.running}: {_first_difference(e, g)}")
            return expected
        return Thunk(run, compiled.source(), f"DebugMode (numpy vs {compiled.running})")


def _first_difference(e, g):
    if np.shape(e) != np.shape(g):
        return f"shape {np.shape(e)} vs {np.shape(g)}"
    bad = np.argwhere(~np.isclose(e, g, equal_nan=True))
    where = tuple(int(i) for i in bad[0]) if bad.size else ()
    return f"at index {where}: {np.asarray(e)[where]!r} vs {np.asarray(g)[where]!r}"


class NanGuardMode(Mode):
    """Runs the graph node by node and raises at the first node whose output has a NaN or an Inf."""

    def __init__(self, nan_is_error=True, inf_is_error=True, big_is_error=False, optimizer="default",
                 linker=None, excluded=()):
        super().__init__(linker, optimizer, excluded)
        self.nan_is_error, self.inf_is_error, self.big_is_error = nan_is_error, inf_is_error, big_is_error

    def excluding(self, *names):
        return NanGuardMode(self.nan_is_error, self.inf_is_error, self.big_is_error,
                            self.optimizer, self.linker, self.excluded + names)

    def _problem(self, value):
        value = np.asarray(value)
        if value.dtype.kind not in "fc":
            return None
        if self.nan_is_error and np.isnan(value).any():
            return "NaN"
        if self.inf_is_error and np.isinf(value).any():
            return "Inf"
        if self.big_is_error and (np.abs(value) > 1e10).any():
            return "a value above 1e10 in magnitude"
        return None

    def compile(self, backend_name, inputs, outputs, inplace):
        def check_inputs(variables, values):
            for v, x in zip(variables, values):
                problem = self._problem(x)
                if problem:
                    raise NanGuardError(f"NanGuardMode: input {v.name or v} contains {problem}")

        def check_node(node, args, results):
            for k, r in enumerate(results):
                problem = self._problem(r)
                if problem:
                    shown = ", ".join(f"{i.name or i} {np.shape(a)}" for i, a in zip(node.inputs, args))
                    raise NanGuardError(f"NanGuardMode: {node.op} produced {problem} in output {k} "
                                        f"(inputs: {shown}); the node was built at {node.site[0]}, "
                                        f"line {node.site[1]}")

        run = reference_runner(inputs, outputs, check_inputs, check_node)
        return Thunk(run, "(NanGuardMode runs the graph node by node, checking every value)", "NanGuardMode")


FAST_RUN = Mode("cvm", "fast_run")
FAST_COMPILE = Mode("py", "fast_compile")
_NAMED = {"FAST_RUN": FAST_RUN, "FAST_COMPILE": FAST_COMPILE, "DebugMode": DebugMode(),
          "DEBUG_MODE": DebugMode(), "NanGuardMode": NanGuardMode()}


def get_mode(mode):
    """A Mode object for `mode`: a Mode, one of its names, or None (config.mode)."""
    if mode is None:
        mode = config.mode
        if mode == "FAST_RUN" and str(config.optimizer).lower() in ("none", "fast_compile", "merge"):
            mode = "FAST_COMPILE"
    if isinstance(mode, Mode):
        return mode
    if mode not in _NAMED:
        raise ValueError(f"unknown mode {mode!r}; use one of {sorted(_NAMED)} or a Mode object")
    return _NAMED[mode]


def get_default_mode():
    return get_mode(None)

