"""What generated kernels call at run time, besides numba_common's scalar helpers and numba_math's
vectorizable functions: every generated module imports its names from here (see codegen.HEADER).
Also the process-wide numba settings, applied when the first kernel is compiled (`configure`)."""
import functools
import math
import os
import re
import sys
import warnings

import numba
import numpy as np
import llvmlite.binding as llvm
from llvmlite import ir
from numba import njit
from numba.extending import intrinsic

from ...ops.linalg import positive_logdet
from ..numba_math import vexp, vlog

HUGEPAGES = sys.platform.startswith("linux")
# Calls with an input this large run the parallel kernel. Measured on 2 cores, a**2 + 2ab + b**2:
# 1e4 elements, no gain (thread start-up eats it); 1e5, 2.4x faster; 1e6, 2.9x; 1e7, 1.6x.
PARALLEL_MIN = 1 << 16



def quiet_performance_warnings():
    """np.dot on a strided view inside a kernel is correct, only slower: not worth a warning to a
    student. The filter matches only our generated modules (mg_<hash>), so the user's own numba
    code keeps its warnings. Set again at each load, because pytest (and warnings.catch_warnings)
    restore the filters they found, and numba warns when it compiles, at a kernel's first call."""
    warnings.filterwarnings("ignore", category=numba.NumbaPerformanceWarning, module=r"(.*[/\\])?mg_[0-9a-f]{20}$")


@functools.cache
def configure():
    """Settings for this process's kernels, made once, before the first kernel is compiled or run
    (not at import: importing minigraph must not change how the user's own numba code behaves)."""
    # Idle OpenMP threads sleep instead of spinning, so they leave the cores to numpy's BLAS
    # threads. Read when numba's threading layer starts: at the first parallel kernel, after this.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # LLVM's loop vectorizer, choosing how many vector iterations to interleave, took 3 s for a
    # loop over softplus(c[i, 0]) and never finished (> 20 min) for tanh(softplus(sigmoid(c[i, 0])))
    # in a 2-d loop: a math helper of an operand that is constant along the inner loop. Without
    # interleaving the same loops compile in 0.2-0.8 s, and the vectorized loops run as fast
    # (tanh 2.8-3.3 ns/element either way). Process-wide, like numba's own LLVM settings.
    llvm.set_option("", "-force-vector-interleave=1")


@functools.cache
def parallel_threads():
    """Threads for the parallel kernels: MINIGRAPH_NUM_THREADS (default: all cores). Asked only
    for a kernel that has a parallel version: it starts numba's threading layer (10 ms, a third of
    what minigraph adds to a warm-cache start)."""
    if os.environ.get("MINIGRAPH_NUM_THREADS"):
        numba.set_num_threads(max(1, min(int(os.environ["MINIGRAPH_NUM_THREADS"]),
                                         numba.config.NUMBA_NUM_THREADS)))
    return numba.get_num_threads()


_BLAS_CALL = re.compile(r"np\.dot\(|np\.linalg\.|logdet\(")


def calls_blas(source):
    """Whether a generated module calls BLAS or LAPACK (emit_linalg.py's np.dot, np.linalg, logdet)."""
    return _BLAS_CALL.search(source) is not None


@functools.cache
def match_blas_threads():
    """numba's np.dot and LAPACK calls go to scipy's OpenBLAS, a second library next to numpy's,
    which numba loads at its first compile. A notebook's `threadpool_limits(1)` (SVI 2 has one)
    runs before that and never reaches it: its kernels then ran BLAS on two threads that fought
    for the cores, the SVI GP step in 15-40 ms instead of 3.6 ms (numpy: 8.6 ms). So when the
    first kernel is loaded, scipy's BLAS gets numpy's BLAS thread count (about 10 ms, once)."""
    try:           # lazy: scipy.linalg takes 0.3 s to import (numba imports it anyway, at its first compile)
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba calls)
        from threadpoolctl import threadpool_info, threadpool_limits     # comes with scikit-learn
    except ImportError:
        return
    numpy_blas = [pool["num_threads"] for pool in threadpool_info()
                  if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]
    if numpy_blas:
        threadpool_limits(limits=min(numpy_blas), user_api="blas")


@intrinsic
def hugepages(typingctx, array):
    """Ask Linux for 2 MiB pages for a large new array, as numpy does for its own: the first
    write into an 80 MB array otherwise takes 20,000 page faults, which cost more than the loop.
    madvise(MADV_HUGEPAGE) on the array's whole pages when it has 4 MiB or more.
    An intrinsic, not an njit function: one of those is compiled per array type a kernel makes,
    about 0.07 s each in a cold compile; this is written straight into the kernel."""
    def codegen(context, builder, sig, args):
        intp = context.get_value_type(numba.types.intp)
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        address = builder.ptrtoint(ary.data, intp)
        nbytes = builder.mul(ary.nitems, ary.itemsize)
        page = ir.Constant(intp, ~4095)
        start = builder.and_(builder.add(address, ir.Constant(intp, 4095)), page)
        end = builder.and_(builder.add(address, nbytes), page)
        with builder.if_then(builder.icmp_signed(">=", nbytes, ir.Constant(intp, 1 << 22))):
            fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(8).as_pointer(), intp, ir.IntType(32)])
            fn = builder.module.globals.get("madvise") or ir.Function(builder.module, fnty, "madvise")
            builder.call(fn, [builder.inttoptr(start, ir.IntType(8).as_pointer()), builder.sub(end, start),
                              ir.Constant(ir.IntType(32), 14)])
        return context.get_dummy_value()
    return numba.types.none(array), codegen


@njit(error_model="numpy")
def softmax_rows(x, log):
    """Softmax (or log-softmax) of each row, shifted by the row's max so exp cannot overflow."""
    out = np.empty_like(x)
    for r in range(x.shape[0]):
        m = -math.inf
        for c in range(x.shape[1]):
            m = max(m, x[r, c])
        total = 0.0
        for c in range(x.shape[1]):
            total += vexp(x[r, c] - m)
        lse = m + vlog(total)
        for c in range(x.shape[1]):
            out[r, c] = x[r, c] - lse if log else vexp(x[r, c] - m) / total
    return out


logdet = njit(positive_logdet)       # the op's own NumPy code (ops/linalg.py), compiled
