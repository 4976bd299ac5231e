"""Row-wise softmax and log-softmax for generated kernels (emit_linalg.py), written as whole-array
passes: the rows' maxima, then every shifted exponential (one loop LLVM vectorizes), then each
row's sum. One loop per row doing all three, with rows of 10 scores (an MLP's classes), ran its
exponentials one at a time: 0.30 ms against 0.13 ms for these passes on 1797x10 (one core)."""
import math

import numpy as np
from numba import njit

from ..numba_math import vexp, vlog


@njit(error_model="numpy")
def softmax_rows_passes(x, log):
    """Softmax (or log-softmax) of each row of a C-contiguous matrix, shifted by the row's max so
    exp cannot overflow: for float64, the same values as runtime.softmax_rows (same sums, in the
    same order); for float32 the sums add the exponentials as stored, rounded to float32."""
    n, k = x.shape
    out, top = np.empty_like(x), np.empty(n)      # float64 maxima: x - max in float64, as before
    for r in range(n):
        m = -math.inf
        for c in range(k):
            m = max(m, x[r, c])
        top[r] = m
    for r in range(n):
        for c in range(k):
            out[r, c] = vexp(x[r, c] - top[r])
    for r in range(n):
        total = 0.0
        for c in range(k):
            total += out[r, c]
        if log:
            lse = top[r] + vlog(total)
            for c in range(k):
                out[r, c] = x[r, c] - lse
        else:
            for c in range(k):
                out[r, c] = out[r, c] / total
    return out


# Row regions (rowblock.py): X @ w and X.T @ g a few rows at a time, each row read from memory once.
# Four rows at a time: w (and the gradient's accumulator) is loaded once for four rows, and the
# four sums are independent chains of multiply-adds. `reassoc` lets LLVM split each sum into
# vector lanes (a different order of additions, as BLAS's own); nothing else is relaxed.
ROWS_AT_ONCE = 4          # rows_dot and rows_axpy below are unrolled for exactly this many


@njit(error_model="numpy", fastmath={"reassoc", "contract"}, cache=True)
def rows_dot(x, lo, hi, w, out):
    """out[r] = x[lo + r] @ w for the rows lo <= lo + r < hi (at most ROWS_AT_ONCE of them)."""
    d = x.shape[1]
    if hi - lo == 4:
        s0 = s1 = s2 = s3 = 0.0
        for j in range(d):
            wj = w[j]
            s0 += x[lo, j] * wj
            s1 += x[lo + 1, j] * wj
            s2 += x[lo + 2, j] * wj
            s3 += x[lo + 3, j] * wj
        out[0], out[1], out[2], out[3] = s0, s1, s2, s3
        return
    for r in range(hi - lo):
        s = 0.0
        for j in range(d):
            s += x[lo + r, j] * w[j]
        out[r] = s


@njit(error_model="numpy", fastmath={"contract"}, cache=True)
def rows_axpy(acc, x, lo, hi, g):
    """acc += x[lo:hi].T @ g[:hi - lo] (at most ROWS_AT_ONCE rows)."""
    d = x.shape[1]
    if hi - lo == 4:
        g0, g1, g2, g3 = g[0], g[1], g[2], g[3]
        for j in range(d):
            acc[j] += x[lo, j] * g0 + x[lo + 1, j] * g1 + x[lo + 2, j] * g2 + x[lo + 3, j] * g3
        return
    for r in range(hi - lo):
        gr = g[r]
        for j in range(d):
            acc[j] += x[lo + r, j] * gr
