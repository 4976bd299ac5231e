"""Which elementwise values a reduction computes inside its own loop (emit_elemwise.py): cheap
arithmetic is inlined (no temporary array); exp, log, softplus... are stored first, by a loop LLVM
vectorizes, because the sum's chain of additions keeps an inlined loop scalar. Same numbers
either way as the numpy reference."""
import numpy as np

import minigraph.tensor as T
from minigraph import function


def kernel_body(f):
    return f.source().split("def kernel(")[1].split("@njit")[0]


def test_math_before_a_sum_is_stored_and_arithmetic_is_inlined():
    x, y = T.dmatrices("x", "y")
    rng = np.random.default_rng(0)
    values = [rng.random((300, 1)) + 0.5, rng.random((300, 1))]
    cases = [(T.nnet.binary_crossentropy(T.nnet.sigmoid(x), y).mean(), True),
             (T.log(x).sum(), True),
             (((x - y) ** 2).sum(), False)]
    for expr, stored in cases:
        fast, ref = (function([x, y], expr, backend=b, on_unused_input="ignore") for b in ("numba", "numpy"))
        body = kernel_body(fast)
        assert ("np.empty((n" in body) == stored, body
        np.testing.assert_allclose(fast(*values), ref(*values), rtol=1e-12)
