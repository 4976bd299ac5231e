"""The `auto` backend: a function runs on the numpy reference until its calls have taken
`config.jit_after` seconds in all (a tenth of that when its kernel is already in the disk cache),
then it is compiled and switches: a one-off evaluation never pays for a compile, a training loop
pays once (ski rental: never worse than twice the optimum).

Once hot, the function is compiled by a child process while its calls go on running on numpy;
the child leaves the kernel in the disk cache, and the next call loads it from there. numba's
compile takes seconds for a large graph (an SVI step of 200 lines: about 8 s) and holds the GIL:
in a thread of this process it stalled the calls it was meant to speed up. A kernel already in
the disk cache is loaded here at once (a fraction of a second)."""
import atexit
import functools
import json
import os
import subprocess
import sys
import time
import warnings

import numba
import numpy as np

from ...config import config
from ..thunk import Thunk
from . import runtime
from .cache import cache_folder, in_disk_cache, load, module_path, write_module

CANNOT = "numpy (numba cannot compile it)"        # what `running` says after a fallback
_FALLBACK = "numba backend: {}; this function runs on the numpy backend instead (slower, same results)"
_WARNED = set()


def warn_fallback(why, stacklevel=4):
    if str(why) not in _WARNED:                   # once per process, not once per function
        _WARNED.add(str(why))
        warnings.warn(_FALLBACK.format(why), stacklevel=stacklevel)


def tiered(slow, source, key, compile_now, const_values):
    """The auto backend's Thunk over `slow` (the numpy reference's). source None: numba cannot run
    this graph (key says why). compile_now() -> the numba thunk, once the kernel is in the cache."""
    in_cache = source is not None and in_disk_cache(key)
    budget = config.jit_after * (0.1 if in_cache else 1.0)
    spent, child = 0.0, None

    def switch(values):
        try:
            fast = compile_now()
            fast.prepare(values)                       # from the disk cache, where the child left it
            thunk.run, thunk.running = fast.run, "numba"   # later calls go straight to the kernel
            fast.mirrors.append(thunk)                     # and so may the caller, once fast has run
            thunk.direct = fast.direct
            return fast
        except Exception as why:                       # numba could not type it: numpy it stays
            thunk.running = CANNOT
            warn_fallback(f"{type(why).__name__}: {str(why).strip().splitlines()[0]}", stacklevel=4)

    def run(*values):
        nonlocal spent, child
        if child and child.poll() is not None:         # the child is done (or failed)
            child = False
            fast = switch(values)
            if fast is not None:
                return fast.run(*values)
        start = time.perf_counter()
        results = slow.run(*values)
        spent += time.perf_counter() - start
        if spent >= budget and child is None and (in_cache or not _busy()):    # hot (one child at a time)
            if source is None:
                child = False
                thunk.running = CANNOT
                warn_fallback(key, stacklevel=3)
            elif in_cache:                             # loading from the disk cache is quick: here
                child = False
                switch(values)
            else:
                write_module(source, key)              # the file the child compiles
                child = _compile_in_child(key, values, const_values)
        return results

    thunk = Thunk(run, source or f"# numba backend cannot compile this graph: {key}", "numpy")
    return thunk


_CHILDREN = []                                    # compiling children, stopped when this process exits


def _compile_in_child(key, values, const_values):
    """A process compiling kernel `key` for the types of `values` (the inputs, then the array
    constants) into the disk cache; the parent loads it from there when the child has exited."""
    kind = "kernel_parallel" if any(v.size >= runtime.PARALLEL_MIN for v in values) else "kernel"
    signature = json.dumps([[v.dtype.str, v.ndim] for v in [*values, *const_values]])
    code = ("from minigraph.backends.numba_cpu.tiering import compile_worker; "
            f"compile_worker({key!r}, {kind!r}, {signature!r})")
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, MINIGRAPH_CACHE_DIR=cache_folder(),
               PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    try:
        child = subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 preexec_fn=_lowest_priority if os.name == "posix" else None)
    except OSError:                                # no processes to spare (a grading sandbox): compile here
        return _Done()
    _stop_children_at_exit()
    _CHILDREN.append(child)
    return child


def _lowest_priority():
    """The calls the child is to speed up come first: on Linux it runs only on an idle core
    (SCHED_IDLE; with nice 19 alone it still slowed a training loop whose BLAS used both cores)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def _busy():
    _CHILDREN[:] = [child for child in _CHILDREN if child.poll() is None]
    return bool(_CHILDREN)


class _Done:
    def poll(self):
        return 0


def compile_worker(key, kind, signature):
    """In the child: compile `kind` of module mg_<key> for `signature`; numba caches it on disk."""
    with open(module_path(key)) as f:
        kernels = dict(zip(("kernel", "kernel_parallel"), load(f.read(), key)))
    types = [numba.types.Array(numba.from_dtype(np.dtype(dtype)), ndim, "C") for dtype, ndim in json.loads(signature)]
    kernels[kind].compile(tuple(types))


@functools.cache
def _stop_children_at_exit():
    atexit.register(_stop_children)


def _stop_children():
    for child in _CHILDREN:
        child.terminate()
    for child in _CHILDREN:             # reaped, so no process outlives its Popen object
        try:
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.kill()
