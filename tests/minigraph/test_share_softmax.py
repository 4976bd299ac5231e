"""The share_softmax rewrite: softmax(x) next to log_softmax(x) becomes exp(log_softmax(x)), so a
cross-entropy step computes the row-wise softmax pass once. Checked by structure (one Softmax node
left) and by value against the same function compiled without the rewrite, on both backends."""
import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function
from minigraph.graph import toposort
from minigraph.ops.nnet import Softmax


def softmaxes(f):
    return sorted(node.op.log for node in toposort(f.graph) if isinstance(node.op, Softmax))


def cross_entropy_and_grad():
    z, y = T.dmatrices("z", "y")
    cost = -(y * T.log(T.nnet.softmax(z))).sum(axis=1).mean()
    return [z, y], [cost, T.grad(cost, z)]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_cross_entropy_gradient_computes_one_softmax(backend):
    inputs, outputs = cross_entropy_and_grad()
    f = function(inputs, outputs, backend=backend)
    plain = function(inputs, outputs, backend=backend, excluding=["share_softmax"])
    assert softmaxes(f) == [True], "softmax and log_softmax of the same scores should share one pass"
    assert softmaxes(plain) == [False, True]
    rng = np.random.default_rng(0)
    z = rng.normal(size=(37, 10)) * 30          # large scores: exp(log_softmax) must not overflow
    y = np.eye(10)[rng.integers(0, 10, 37)]
    for got, want in zip(f(z, y), plain(z, y)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(f(z, y)[1], (probs - y) / 37, rtol=1e-10, atol=1e-15)


def test_a_softmax_alone_is_left_as_it_is():
    z = T.dmatrix("z")
    f = function([z], T.nnet.softmax(z) * 2)
    assert softmaxes(f) == [False]
    np.testing.assert_allclose(f(np.zeros((2, 4))), np.full((2, 4), 0.5))


@pytest.mark.parametrize("shape", [(1797, 10), (1, 1), (3, 1), (0, 4), (2, 300)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_passes_equal_the_one_loop_version(shape, log):
    """numba_cpu/rows.py (what kernels call) against runtime.softmax_rows (what they called)."""
    from minigraph.backends.numba_cpu.rows import softmax_rows_passes
    from minigraph.backends.numba_cpu.runtime import softmax_rows
    x = np.random.default_rng(1).normal(size=shape) * 50
    if x.size:
        x[0, 0] = 800.0                          # exp would overflow without the shift
    np.testing.assert_array_equal(softmax_rows_passes(x, log), softmax_rows(x, log))
    x32 = x.astype(np.float32)
    got = softmax_rows_passes(x32, log)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, softmax_rows(x32, log), rtol=1e-6, atol=1e-12)   # (x - lse cancels near 0)
