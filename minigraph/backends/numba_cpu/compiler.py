"""Compiling a graph with numba: generate the module, load it through the disk cache, and wrap
its kernel in a Thunk. Errors: the kernel checks shapes before its loops; on any failure the call
is rerun through the NumPy reference, which raises the same annotated error the numpy backend
gives. Where numba cannot handle an op (or fails to type the code), the function falls back to
the numpy backend with one warning."""
import functools
import warnings

import numba
import numpy as np

from ...config import config
from .. import numpy_ref
from ..thunk import Thunk
from . import runtime, tiering
from .cache import LOADED, cache_key, load
from .codegen import Unsupported, generate
from .direct import compiled_count, direct_entry
from .tiering import _FALLBACK, CANNOT, warn_fallback


class NumbaThunk(Thunk):
    """A thunk running a numba kernel; prepare(values) compiles (or loads from the disk cache)
    the kernel a call with `values` would run, without running it."""

    def __init__(self, run, source, prepare):
        super().__init__(run, source, "numba")
        self.prepare = prepare
        self.mirrors = []          # thunks that run this one's kernel and offer its direct entry too


def compile(inputs, outputs, inplace=None, tiered=False):
    """A Thunk running one njit kernel.

    inplace: {output position: input position} for updates the kernel may write into the
    input's storage (shared variables' values); it does so only where that is safe (see
    inplace.py). tiered: the `auto` backend (tiering.py): numpy until the function is hot.
    """
    runtime.configure()
    reference = functools.cache(lambda: numpy_ref.compile(inputs, outputs))
    try:
        source, const_values = generate(inputs, outputs, inplace or {})
    except Exception as why:
        if not (tiered or isinstance(why, Unsupported)):
            raise
        if tiered:                                 # warned only if the function gets hot
            return tiering.tiered(reference(), None, why, lambda: None, [])
        warn_fallback(why)
        return Thunk(reference().run, f"# numba backend fell back to numpy: {why}", CANNOT)
    key = cache_key(source, inputs)
    if tiered and not (key in LOADED and LOADED[key][0].signatures):     # not compiled in this process yet
        return tiering.tiered(reference(), source, key, lambda: compile(inputs, outputs, inplace), const_values)
    if config.debug:
        print(source)
    kernel, kernel_parallel = load(source, key)
    if kernel_parallel is not kernel and runtime.parallel_threads() == 1:
        kernel_parallel = kernel
    passthrough = [(k, i) for k, o in enumerate(outputs) if o.owner is None
                   for i in [next((j for j, v in enumerate(inputs) if v is o), None)]]

    seen = -1                                      # compiled versions the direct entry knows

    def run(*values):
        nonlocal kernel, seen
        if kernel is None:                         # numba failed to type it at the first call
            return reference().run(*values)
        # Non-contiguous arrays are copied, so numba compiles one version of the kernel, not
        # one per combination of memory layouts (each costs a compile of the whole graph).
        call, parallel_min = kernel, runtime.PARALLEL_MIN
        for v in values:
            if not v.flags.c_contiguous:
                values = [v if v.flags.c_contiguous else np.ascontiguousarray(v) for v in values]
            if v.size >= parallel_min:             # a large array: loops on all threads pay off
                call = kernel_parallel
        try:
            results = call(*values, *const_values)
        except (numba.core.errors.TypingError, numba.core.errors.LoweringError) as error:
            warnings.warn(_FALLBACK.format(str(error).splitlines()[0]), stacklevel=3)
            kernel, thunk.running = None, CANNOT
            return reference().run(*values)
        except Exception as error:                 # report it as the numpy backend would
            reference().run(*values)
            raise RuntimeError(f"numba backend: {error}") from error
        if not passthrough and compiled_count(kernel, kernel_parallel) != seen:
            seen = compiled_count(kernel, kernel_parallel)
            thunk.direct = direct_entry(kernel, kernel_parallel, const_values, parallel_min)
            for other in thunk.mirrors:            # the auto backend's thunk, once switched to this one
                other.direct = thunk.direct
        if passthrough:                            # outputs that are inputs or constants
            results = list(results)
            for k, i in passthrough:
                results.insert(k, outputs[k].data if i is None else values[i])
        return results

    def prepare(values):
        values = [v if v.flags.c_contiguous else np.ascontiguousarray(v) for v in values]
        call = kernel_parallel if any(v.size >= runtime.PARALLEL_MIN for v in values) else kernel
        call.compile(tuple(numba.typeof(v) for v in [*values, *const_values]))

    thunk = NumbaThunk(run, source, prepare)     # (run sets thunk.running when numba cannot type it)
    return thunk
