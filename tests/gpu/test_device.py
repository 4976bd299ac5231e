"""The GPU backend as a whole: choosing the device, shared variables that stay on it, host
fallbacks with explicit copies, and errors raised on the host before any kernel runs."""
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph import function, shared
from minigraph.backends import numba_cuda

RNG = np.random.default_rng(1)


@pytest.fixture(autouse=True)
def small(monkeypatch):
    monkeypatch.setattr(numba_cuda, "BLOCK", 8)
    monkeypatch.setattr(numba_cuda, "TILE", 4)
    monkeypatch.setattr(numba_cuda, "MAX_BLOCKS", 2)


# --- choosing the device ------------------------------------------------------------------------
def test_device_argument_config_and_auto(monkeypatch):
    x = T.vector("x")
    assert function([x], x * 2, device="cuda").backend_name == "cuda"
    assert function([x], x * 2, device="cpu").backend_name == theano.config.backend
    monkeypatch.setattr(theano.config, "device", "cuda")
    f = function([x], x * 2)
    assert f.backend_name == "cuda"
    np.testing.assert_array_equal(f([1.0, 2.0, 3.0]), [2.0, 4.0, 6.0])
    monkeypatch.setattr(theano.config, "device", "auto")
    assert function([x], x * 2).backend_name == "cuda"           # the simulator counts as a GPU
    monkeypatch.setattr(numba_cuda, "gpu_available", lambda: False)
    assert function([x], x * 2).backend_name == theano.config.backend
    with pytest.raises(RuntimeError, match="no usable CUDA GPU.*device='cpu'"):
        function([x], x * 2, device="cuda")
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda' or 'auto'"):
        function([x], x * 2, device="gpu0")


# --- shared variables live on the device ----------------------------------------------------------
def _logistic_regression(device):
    x, y = T.matrix("x"), T.vector("y")
    w, b = shared(np.zeros(5), name="w"), shared(0.0, name="b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = T.nnet.binary_crossentropy(p, y).mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, y], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)], device=device)
    return train, w, b


def test_training_matches_the_reference_and_stays_on_the_device(monkeypatch):
    data = RNG.normal(size=(13, 5)), (RNG.random(13) < 0.5).astype(float)
    ref, w_ref, b_ref = _logistic_regression("cpu")
    gpu, w, b = _logistic_regression("cuda")
    uploads = []
    real_to_device = numba_cuda.cuda.to_device
    monkeypatch.setattr(numba_cuda.cuda, "to_device", lambda a, *r, **k: uploads.append(a.shape) or
                        real_to_device(a, *r, **k))
    for step in range(4):
        uploads.clear()
        np.testing.assert_allclose(gpu(*data), ref(*data), rtol=1e-12)
        # Only the explicit inputs travel, once each; w went up on the first call and stays there.
        # (The one-element values are shape arithmetic done on the host: the mean's count.)
        big = sorted(shape for shape in uploads if np.prod(shape) > 1)
        assert big == sorted([(13, 5), (13,)] + ([(5,)] if step == 0 else [])), uploads
        assert w.resident is not None and w._host is None      # the host copy is stale, not synced
    np.testing.assert_allclose(w.get_value(), w_ref.get_value(), rtol=1e-12)
    assert isinstance(w.get_value(), np.ndarray) and w._host is not None and w.resident is not None
    np.testing.assert_allclose(b.get_value(), b_ref.get_value(), rtol=1e-12)
    w.set_value(np.ones(5))                                        # invalidates the device copy
    assert w.resident is None
    ref_w = w_ref.get_value()
    w_ref.set_value(np.ones(5))
    np.testing.assert_allclose(gpu(*data), ref(*data), rtol=1e-12)
    assert not np.allclose(w.get_value(), ref_w)


def test_outputs_are_computed_before_any_update():
    a, b = shared(np.arange(3.0), name="a"), shared(np.arange(3.0) + 10, name="b")
    swap = function([], [a * 1, b.sum()], updates=[(a, b), (b, a * 2)], device="cuda")
    old_a, total = swap()
    np.testing.assert_array_equal(old_a, [0, 1, 2])
    assert total == 33
    np.testing.assert_array_equal(a.get_value(), [10, 11, 12])
    np.testing.assert_array_equal(b.get_value(), [0, 2, 4])
    swap()
    np.testing.assert_array_equal(a.get_value(), [0, 2, 4])
    np.testing.assert_array_equal(b.get_value(), [20, 22, 24])


def test_cpu_and_gpu_functions_share_a_variable():
    s = shared(np.ones(4), name="s")
    on_gpu = function([], [], updates=[(s, s * 2)], device="cuda")
    on_cpu = function([], [], updates=[(s, s + 1)], device="cpu")
    on_gpu()                       # 2   (on the device only)
    on_cpu()                       # 3   (reads the device copy back, writes the host)
    on_gpu()                       # 6   (uploads the new host value)
    np.testing.assert_array_equal(s.get_value(), [6, 6, 6, 6])


def test_a_failing_call_changes_nothing():
    x = T.vector("x")
    s = shared(np.arange(4.0), name="s")
    f = function([x], (s + x).sum(), updates=[(s, s + x)], device="cuda")
    f(np.ones(4))
    with pytest.raises(ValueError, match="shapes do not match"):
        f(np.ones(3))
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3, 4])


# --- errors: named and raised before any launch, as the reference raises them --------------------
@pytest.mark.parametrize("make, values", [
    (lambda: ([T.matrix("a"), T.matrix("b")], lambda a, b: a + b), [np.ones((2, 3)), np.ones((3, 3))]),
    (lambda: ([T.matrix("a"), T.matrix("b")], lambda a, b: T.dot(a, b)), [np.ones((2, 3)), np.ones((2, 3))]),
    (lambda: ([T.matrix("a")], lambda a: a.max(axis=0)), [np.ones((0, 3))]),
    (lambda: ([T.matrix("a")], lambda a: T.addbroadcast(a, 0) * 2), [np.ones((2, 3))]),
    (lambda: ([T.matrix("a")], lambda a: (a * 2).reshape((4, 4))), [np.ones((2, 3))]),
])
def test_errors_match_the_reference(make, values, monkeypatch):
    inputs, build = make()
    out = build(*inputs)
    messages = []
    for device in ("cpu", "cuda"):
        f = function(inputs, out, device=device, backend="numpy")
        with pytest.raises(Exception) as info:
            f(*values)
        messages.append((type(info.value), str(info.value)))
    assert messages[0] == messages[1]
    assert "line" in messages[1][1]                     # names where the node was built


# --- host fallbacks ------------------------------------------------------------------------------
def test_host_ops_in_a_gaussian_process_graph():
    """The SVI-GP's kernel matrix runs on the GPU; cholesky, inverse, tril, indexing on the host."""
    x, z = T.matrix("x"), T.vector("z")
    sq = (x ** 2).sum(axis=1)
    k = T.exp(-0.5 * (sq.dimshuffle(0, "x") + sq.dimshuffle("x", 0) - 2 * T.dot(x, x.T))) + 1e-3 * T.eye(6)
    chol = T.cholesky(k)
    outs = [chol, T.matrix_inverse(k), T.tril(k), k[1:4, ::2], T.argmax(k, axis=1),
            T.dot(T.matrix_inverse(chol), z).sum(), T.concatenate([z, z * 2]), T.logdet(k)]
    values = [RNG.normal(size=(6, 2)), RNG.normal(size=6)]
    ref = function([x, z], outs, backend="numpy")(*values)
    gpu = function([x, z], outs, device="cuda")
    for r, g in zip(ref, gpu(*values)):
        assert g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12)
    source = gpu.source()
    assert "Cholesky: host" in source and "dot" in source and "reduce" in source


def test_outputs_that_are_inputs_or_constants():
    x = T.vector("x")
    f = function([x], [x, T.constant(np.arange(3.0)), x * 0 + 1], device="cuda")
    value = np.ones(2)
    got = f(value)
    assert got[0] is not value and np.array_equal(got[0], value)
    np.testing.assert_array_equal(got[1], [0, 1, 2])
    np.testing.assert_array_equal(got[2], [1, 1])
