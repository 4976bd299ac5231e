"""Theano's doc/tutorial/gradients.txt: the Jacobian and Hessian by scan, Rop, Lop and the
Hessian times a vector, run as written but for the import lines, on the numpy and numba
backends; plus BPTT through scan checked against finite differences."""
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from theano_doc_snippets import assert_prints, backend, run  # noqa: F401  (backend: a fixture)

HEADER = '''
    import theano
    import theano.tensor as T
'''


def test_jacobian_by_scan(backend):
    printed, _ = run(HEADER + '''
    x = T.dvector('x')
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x : T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x])
    f = theano.function([x], J, updates=updates)
    print(f([4, 4]))
    ''')
    assert_prints(printed, "[[ 8.,  0.], [ 0.,  8.]]")


def test_hessian_by_scan(backend):
    printed, _ = run(HEADER + '''
    x = T.dvector('x')
    y = x ** 2
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = theano.scan(lambda i, gy,x : T.grad(gy[i], x), sequences=T.arange(gy.shape[0]), non_sequences=[gy, x])
    f = theano.function([x], H, updates=updates)
    print(f([4, 4]))
    ''')
    assert_prints(printed, "[[ 2.,  0.], [ 0.,  2.]]")


def test_rop(backend):
    printed, _ = run(HEADER + '''
    W = T.dmatrix('W')
    V = T.dmatrix('V')
    x = T.dvector('x')
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = theano.function([W, V, x], JV)
    print(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0,1]))
    ''')
    assert_prints(printed, "[ 2.,  2.]")


def test_lop(backend):
    printed, _ = run(HEADER + '''
    W = T.dmatrix('W')
    v = T.dvector('v')
    x = T.dvector('x')
    y = T.dot(x, W)
    VJ = T.Lop(y, W, v)
    f = theano.function([v,x], VJ)
    print(f([2, 2], [0, 1]))
    ''')
    assert_prints(printed, "[[ 0.,  0.], [ 2.,  2.]]")


def test_hessian_times_a_vector_both_ways(backend):
    printed, _ = run(HEADER + '''
    x = T.dvector('x')
    v = T.dvector('v')
    y = T.sum(x ** 2)
    gy = T.grad(y, x)
    vH = T.grad(T.sum(gy * v), x)
    f = theano.function([x, v], vH)
    print(f([4, 4], [2, 2]))
    Hv = T.Rop(gy, x, v)
    f = theano.function([x, v], Hv)
    print(f([4, 4], [2, 2]))
    ''')
    assert_prints(printed, "[ 4.,  4.] [ 4.,  4.]")


def test_rop_of_a_nonlinear_function_is_the_jacobian_times_v():
    x, v = T.dvectors("x", "v")
    y = T.tanh(x) * x.sum()
    jv = theano.function([x, v], T.Rop(y, x, v))
    xv, vv = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    eps = 1e-6
    numeric = (np.tanh(xv + eps * vv) * (xv + eps * vv).sum() - np.tanh(xv - eps * vv) * (xv - eps * vv).sum()) / (2 * eps)
    np.testing.assert_allclose(jv(xv, vv), numeric, rtol=1e-6)


def test_rop_and_lop_say_what_is_wrong():
    x, v = T.dvector("x"), T.dmatrix("v")
    with pytest.raises(TypeError, match="eval_points\\[0\\] is 2-d but wrt x is 1-d"):
        T.Rop(x * 2, x, v)
    with pytest.raises(TypeError, match="eval_points\\[0\\] is 2-d"):
        T.Lop(x * 2, x, v)


def _rnn_cost(xs, h0, w, u):
    h, cost = h0, 0.0
    for x_t in xs:
        h = np.tanh(h @ w + x_t @ u)
        cost += (h ** 2).sum()
    return cost


@pytest.mark.parametrize("truncate", [-1, 2])
def test_backpropagation_through_time_matches_finite_differences(backend, truncate):
    X, W, U = T.dmatrix("X"), T.dmatrix("W"), T.dmatrix("U")
    h0 = T.dvector("h0")
    H, _ = theano.scan(lambda x_t, h, W, U: T.tanh(T.dot(h, W) + T.dot(x_t, U)),
                       sequences=X, outputs_info=h0, non_sequences=[W, U], truncate_gradient=truncate)
    cost = (H ** 2).sum()
    grads = theano.function([X, h0, W, U], T.grad(cost, [X, h0, W, U]))
    rng = np.random.default_rng(0)
    xs, hv, wv, uv = rng.normal(size=(6, 2)), rng.normal(size=3), 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(2, 3))
    got = grads(xs, hv, wv, uv)
    if truncate > 0:
        # only the last `truncate` steps pass gradients back: X's earlier rows and h0 get none
        assert np.all(got[0][:-truncate] == 0) and np.all(got[1] == 0) and np.any(got[0][-truncate:] != 0)
        return
    for k, value in enumerate([xs, hv, wv, uv]):
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            d = np.zeros_like(value)
            d[i] = 1e-6
            args = [xs, hv, wv, uv]
            plus, minus = list(args), list(args)
            plus[k], minus[k] = value + d, value - d
            numeric[i] = (_rnn_cost(*plus) - _rnn_cost(*minus)) / 2e-6
        np.testing.assert_allclose(got[k], numeric, rtol=1e-5, atol=1e-7)
