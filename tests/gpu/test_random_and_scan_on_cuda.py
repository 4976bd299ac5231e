"""Random streams and scan on the CUDA backend (#18): both run their NumPy reference on the host
(the elementwise work around them runs in kernels), so the CUDA function gives the numpy
backend's numbers, draws included, and its shared variables' updates."""
import numpy as np

import minigraph as theano
import minigraph.tensor as T
from minigraph.random import RandomStreams


def test_dropout_rnn_step_with_bptt_matches_the_numpy_backend():
    srng = RandomStreams(5)
    X = T.dmatrix("X")
    W = theano.shared(np.ones((2, 2)) * 0.5, name="W")
    mask = srng.binomial(size=X.shape, p=0.5, dtype="float64")
    H, _ = theano.scan(lambda x_t, h: T.tanh(T.dot(h, W) + x_t), sequences=X * mask, outputs_info=T.zeros((2,)))
    g = T.grad((H ** 2).sum(), W)
    states = [s.get_value() for s, _ in srng.updates()]
    results = {}
    for device, backend in (("cuda", None), ("cpu", "numpy")):
        for (s, _), v in zip(srng.updates(), states):
            s.set_value(v)
        W.set_value(np.ones((2, 2)) * 0.5)
        f = theano.function([X], [H, g, mask], updates=[(W, W - 0.1 * g)], device=device, backend=backend)
        xs = np.arange(8.0).reshape(4, 2) / 8
        results[device] = f(xs) + [W.get_value()] + f(xs)
        if device == "cuda":
            assert "Scan: host (numpy)" in f.source() and "RandomDraw{binomial" in f.source()
    for a, b in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert not np.array_equal(results["cuda"][2], results["cuda"][6])      # the mask is drawn anew
