"""Every op: value against NumPy, gradient against central differences (verify_grad)."""
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph import function, verify_grad

rng = np.random.default_rng(0)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def anyreal(*shape):
    return rng.normal(size=shape)


# (name, minigraph function, numpy reference, input generator list)
UNARY = [
    ("neg", lambda x: -x, np.negative, anyreal),
    ("abs", abs, np.abs, anyreal),
    ("exp", T.exp, np.exp, anyreal),
    ("log", T.log, np.log, positive),
    ("log1p", T.log1p, np.log1p, positive),
    ("expm1", T.expm1, np.expm1, anyreal),
    ("sqrt", T.sqrt, np.sqrt, positive),
    ("sqr", T.sqr, np.square, anyreal),
    ("tanh", T.tanh, np.tanh, anyreal),
    ("sin", T.sin, np.sin, anyreal),
    ("cos", T.cos, np.cos, anyreal),
    ("sigmoid", T.nnet.sigmoid, lambda x: 1 / (1 + np.exp(-x)), anyreal),
    ("softplus", T.nnet.softplus, lambda x: np.log1p(np.exp(x)), anyreal),
]

BINARY = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("true_div", lambda a, b: a / b, np.divide),
    ("pow", lambda a, b: a ** b, np.power),
    ("maximum", T.maximum, np.maximum),
    ("minimum", T.minimum, np.minimum),
]


@pytest.mark.parametrize("name,fn,ref,gen", UNARY, ids=[u[0] for u in UNARY])
def test_unary_value_and_grad(name, fn, ref, gen):
    x = T.dmatrix("x")
    value = gen(3, 4)
    np.testing.assert_allclose(function([x], fn(x))(value), ref(value), rtol=1e-12)
    verify_grad(fn, [value])


@pytest.mark.parametrize("name,fn,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_value_and_grad_with_broadcasting(name, fn, ref):
    a = T.dmatrix("a")
    b = T.row("b")               # broadcasts along the rows
    av, bv = positive(3, 4), positive(1, 4)
    np.testing.assert_allclose(function([a, b], fn(a, b))(av, bv), ref(av, bv), rtol=1e-12)
    verify_grad(fn, [av, bv])
    ga, gb = T.grad(fn(a, b).sum(), [a, b])
    assert gb.broadcastable == (True, False)     # the gradient of a row is a row


def test_comparisons_and_switch():
    a, b = T.dvectors("a", "b")
    av, bv = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    f = function([a, b], [a > b, a < b, a >= b, a <= b, T.eq(a, b), T.neq(a, b)])
    for got, want in zip(f(av, bv), [av > bv, av < bv, av >= bv, av <= bv, av == bv, av != bv]):
        assert got.dtype == bool
        np.testing.assert_array_equal(got, want)
    s = T.switch(a > b, a, 10 * b)
    np.testing.assert_allclose(function([a, b], s)(av, bv), np.where(av > bv, av, 10 * bv))
    verify_grad(lambda a, b: T.switch(a > b, a * a, b * 3), [av + 0.1, bv])


def test_int_div_and_mod():
    i, j = T.lvectors("i", "j")
    f = function([i, j], [i // j, i % j])
    q, r = f([7, -7, 9], [2, 2, 4])
    np.testing.assert_array_equal(q, [3, -4, 2])
    np.testing.assert_array_equal(r, [1, 1, 1])
    assert q.dtype == np.int64


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(kind, axis, keepdims):
    x = T.dmatrix("x")
    value = positive(3, 4)
    out = getattr(T, kind)(x, axis=axis, keepdims=keepdims)
    want = getattr(np, kind)(value, axis=axis, keepdims=keepdims)
    got = function([x], out)(value)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)
    verify_grad(lambda x: getattr(T, kind)(x, axis=axis, keepdims=keepdims), [value])


def test_method_forms():
    x = T.dmatrix("x")
    value = anyreal(2, 3)
    f = function([x], [x.sum(axis=0), x.mean(), x.T, x.reshape((3, 2)), x.dimshuffle(1, 0), x.flatten()])
    for got, want in zip(f(value), [value.sum(0), value.mean(), value.T, value.reshape(3, 2), value.T,
                                    value.ravel()]):
        np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2))])
def test_dot(shapes):
    values = [anyreal(*s) for s in shapes]
    vars_ = [T.tensor("float64", (False,) * len(s)) for s in shapes]
    np.testing.assert_allclose(function(vars_, T.dot(*vars_))(*values), np.dot(*values))
    verify_grad(T.dot, values)


def test_indexing_and_slicing():
    x = T.dmatrix("x")
    i = T.lscalar("i")
    idx = T.lvector("idx")
    value = anyreal(4, 5)
    cases = [
        (x[1], value[1]), (x[:, 2], value[:, 2]), (x[1:3], value[1:3]), (x[::-1, 1:], value[::-1, 1:]),
        (x[:, None], value[:, None]), (x[None, :, :], value[None]), (x[-1, -2], value[-1, -2]),
    ]
    f = function([x], [c[0] for c in cases])
    for got, (_, want) in zip(f(value), cases):
        np.testing.assert_allclose(got, want)
    assert x[:, None].broadcastable == (False, True, False)
    # symbolic bounds and integer-array (advanced) indexing
    g = function([x, i, idx], [x[i:i + 2], x[idx], x[idx, i]])
    a, b, c = g(value, 1, [3, 0, 3])
    np.testing.assert_allclose(a, value[1:3])
    np.testing.assert_allclose(b, value[[3, 0, 3]])
    np.testing.assert_allclose(c, value[[3, 0, 3], 1])
    verify_grad(lambda x: x[1:3, ::2] * 2, [value])
    # repeated indices accumulate their gradients
    grad = function([x, idx], T.grad(x[idx].sum(), x))(value, [3, 0, 3])
    expected = np.zeros_like(value)
    expected[3] = 2
    expected[0] = 1
    np.testing.assert_allclose(grad, expected)


def test_set_and_inc_subtensor():
    x = T.dvector("x")
    value = np.arange(5.0)
    f = function([x], [T.set_subtensor(x[1:3], 0), T.inc_subtensor(x[::2], 10)])
    a, b = f(value)
    np.testing.assert_allclose(a, [0, 0, 0, 3, 4])
    np.testing.assert_allclose(b, [10, 1, 12, 3, 14])
    verify_grad(lambda x: T.set_subtensor(x[1:3], x[3:5] ** 2), [anyreal(5)])


def test_shape_reshape_concatenate_stack():
    x, y = T.dmatrices("x", "y")
    xv, yv = anyreal(2, 3), anyreal(4, 3)
    f = function([x, y], [x.shape, T.concatenate([x, y], axis=0), T.stack([x, x], axis=1),
                          T.reshape(x, (3, 1, 2)), T.flatten(y)])
    shp, cat, st, rs, fl = f(xv, yv)
    np.testing.assert_array_equal(shp, [2, 3])
    np.testing.assert_allclose(cat, np.concatenate([xv, yv]))
    np.testing.assert_allclose(st, np.stack([xv, xv], axis=1))
    np.testing.assert_allclose(rs, xv.reshape(3, 1, 2))
    assert T.reshape(x, (3, 1, 2)).broadcastable == (False, True, False)
    np.testing.assert_allclose(fl, yv.ravel())
    verify_grad(lambda a, b: T.concatenate([a, b * 2], axis=0), [xv, yv])
    verify_grad(lambda a: T.reshape(a, (3, 2)) ** 2, [xv])
    verify_grad(lambda a: T.stack([a, a * 3]), [xv])


def test_tril_diag_cast_zeros_ones():
    x = T.dmatrix("x")
    v = T.dvector("v")
    xv, vv = anyreal(3, 3), anyreal(3)
    f = function([x, v], [T.tril(x), T.triu(x), T.diag(x), T.diag(v), T.cast(x, "int64"),
                          T.zeros_like(x), T.ones_like(v), T.zeros((2, 3)), T.ones(4), T.eye(3)])
    out = f(xv, vv)
    for got, want in zip(out, [np.tril(xv), np.triu(xv), np.diag(xv), np.diag(vv), xv.astype("int64"),
                               np.zeros((3, 3)), np.ones(3), np.zeros((2, 3)), np.ones(4), np.eye(3)]):
        np.testing.assert_allclose(got, want)
        assert got.dtype == want.dtype
    verify_grad(T.tril, [xv])
    verify_grad(T.diag, [xv])
    verify_grad(T.diag, [vv])


def test_softmax_log_softmax_and_losses():
    x = T.dmatrix("x")
    y = T.lvector("y")
    xv = anyreal(3, 4) * 3
    e = np.exp(xv - xv.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    f = function([x, y], [T.nnet.softmax(x), T.nnet.log_softmax(x),
                          T.nnet.categorical_crossentropy(T.nnet.softmax(x), y)])
    a, b, c = f(xv, [0, 3, 1])
    np.testing.assert_allclose(a, sm)
    np.testing.assert_allclose(b, np.log(sm))
    np.testing.assert_allclose(c, -np.log(sm[[0, 1, 2], [0, 3, 1]]))
    verify_grad(T.nnet.softmax, [xv])
    verify_grad(T.nnet.log_softmax, [xv])
    # stable for huge inputs
    assert np.all(np.isfinite(function([x], T.nnet.softmax(x))(np.array([[1000.0, -1000.0]]))))


def spd(n):
    a = anyreal(n, n)
    return a @ a.T + n * np.eye(n)


@pytest.mark.parametrize("name", ["matrix_inverse", "cholesky", "det", "logdet"])
def test_linalg(name):
    a = T.dmatrix("a")
    av = spd(3)
    ref = {"matrix_inverse": np.linalg.inv, "cholesky": np.linalg.cholesky, "det": np.linalg.det,
           "logdet": lambda m: np.linalg.slogdet(m)[1]}[name]
    fn = getattr(theano.linalg, name)
    np.testing.assert_allclose(function([a], fn(a))(av), ref(av))
    # symmetric inputs for cholesky: differentiate through (A + A^T)/2
    verify_grad(lambda m: fn((m + m.T) / 2), [av])


def test_solve():
    a, b = T.dmatrix("a"), T.dvector("b")
    av, bv = spd(3), anyreal(3)
    np.testing.assert_allclose(function([a, b], theano.linalg.solve(a, b))(av, bv), np.linalg.solve(av, bv))
    verify_grad(theano.linalg.solve, [av, bv])
    verify_grad(theano.linalg.solve, [av, anyreal(3, 2)])


def test_argmax_clip_addbroadcast_alloc():
    x = T.dmatrix("x")
    xv = anyreal(3, 4)
    col = T.addbroadcast(x[:, :1], 1)
    assert col.broadcastable == (False, True)
    f = function([x], [T.argmax(x, axis=1), x.argmax(), T.clip(x, -0.5, 0.5), x + col,
                       T.alloc(2.0, 2, 3)])
    am, am_all, clipped, shifted, filled = f(xv)
    np.testing.assert_array_equal(am, xv.argmax(1))
    assert am_all == xv.argmax()
    np.testing.assert_allclose(clipped, np.clip(xv, -0.5, 0.5))
    np.testing.assert_allclose(shifted, xv + xv[:, :1])
    np.testing.assert_allclose(filled, np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="addbroadcast: dimension 1 of .* has size 4"):
        function([x], T.addbroadcast(x, 1))(xv)
    verify_grad(lambda x: x + T.addbroadcast(x[:, :1], 1) ** 2, [xv])
    verify_grad(lambda s: T.alloc(s, 2, 3) * T.arange(3), [np.array(1.5)])
    verify_grad(lambda x: T.clip(x, -0.5, 0.5) * x, [xv])


def test_inc_subtensor_gradients():
    verify_grad(lambda x, y: T.inc_subtensor(x[1:3], y), [anyreal(5), anyreal(2)])
    verify_grad(lambda x, y: T.set_subtensor(x[::2], y * 3), [anyreal(5), anyreal(3)])
    verify_grad(lambda x, y: T.inc_subtensor(x[:, 1], y), [anyreal(3, 4), anyreal(3)])
