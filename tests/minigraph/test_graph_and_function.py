"""Types, broadcasting, grad, function/shared semantics, printing and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigraph as theano
import minigraph.tensor as T
from minigraph import function, pp, shared
from minigraph.gradient import DisconnectedInputError


# --- types and constructors ---------------------------------------------------------------------
def test_typed_and_plural_constructors():
    assert (T.dscalar().dtype, T.dscalar().ndim) == ("float64", 0)
    assert (T.fvector().dtype, T.iscalar().dtype, T.lvector().dtype) == ("float32", "int32", "int64")
    assert T.dmatrix("m").type == theano.types.TensorType("float64", (False, False))
    assert T.tensor3().ndim == 3 and T.row().broadcastable == (True, False) and T.col().broadcastable == (False, True)
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name) == ("a", "b")
    assert [v.name for v in T.fscalars("p q")] == ["p", "q"]


def test_floatx_and_weak_python_scalars():
    old = theano.config.floatX
    try:
        theano.config.floatX = "float32"
        x = T.vector("x")
        assert x.dtype == "float32"
        assert (x * 2).dtype == "float32" and (x * 2.5).dtype == "float32"   # Python numbers are weak
        assert (T.bvector() * 2.5).dtype == "float32"     # int8 fits in float32
        assert shared(1.5).dtype == "float32"
    finally:
        theano.config.floatX = old
    assert (T.ivector() + T.lvector()).dtype == "int64"
    assert (T.ivector() / 2).dtype == "float64"
    assert (T.fvector() + T.dvector()).dtype == "float64"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=3), st.lists(st.booleans(), min_size=1, max_size=3),
       st.integers(0, 2**31 - 1))
def test_broadcasting_follows_patterns(pattern_a, pattern_b, seed):
    rng = np.random.default_rng(seed)
    ndim = max(len(pattern_a), len(pattern_b))
    a = T.tensor("float64", pattern_a, name="a")
    b = T.tensor("float64", pattern_b, name="b")
    full = rng.integers(2, 4, size=ndim)

    def value(pattern):
        shape = [1 if p else n for p, n in zip(pattern, full[ndim - len(pattern):])]
        return rng.normal(size=shape)

    av, bv = value(pattern_a), value(pattern_b)
    out = a * b + a
    assert out.broadcastable == tuple(
        all(p) for p in zip(*[[True] * (ndim - len(q)) + list(q) for q in (pattern_a, pattern_b)]))
    np.testing.assert_allclose(function([a, b], out)(av, bv), av * bv + av)
    ga, gb = function([a, b], T.grad(out.sum(), [a, b]))(av, bv)
    assert ga.shape == av.shape and gb.shape == bv.shape
    out_shape = np.broadcast_shapes(av.shape, bv.shape)
    np.testing.assert_allclose(gb, sum_to_shape(np.broadcast_to(av, out_shape), bv.shape))
    np.testing.assert_allclose(ga, sum_to_shape(np.broadcast_to(bv + 1, out_shape), av.shape))


def sum_to_shape(arr, shape):
    """Sum a broadcast array back to `shape` (what a gradient must do)."""
    arr = arr.sum(axis=tuple(range(arr.ndim - len(shape))))
    return arr.sum(axis=tuple(d for d, n in enumerate(shape) if n == 1), keepdims=True)


def test_non_broadcastable_size_one_is_an_error_that_names_things():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = function([x, y], x + y)
    with pytest.raises(ValueError) as err:
        f(np.ones((3, 2)), np.ones((1, 2)))
    message = str(err.value)
    assert "x (3, 2)" in message and "y (1, 2)" in message and "dimension 0" in message
    assert "test_graph_and_function.py" in message      # where the user built the node


# --- grad ---------------------------------------------------------------------------------------
def test_grad_builds_a_graph_that_can_be_differentiated_again():
    x = T.dscalar("x")
    y = x ** 3
    d1 = T.grad(y, x)
    d2 = T.grad(d1, x)
    f = function([x], [d1, d2])
    np.testing.assert_allclose(f(2.0), [12.0, 12.0])


def test_grad_errors():
    x, z = T.dvectors("x", "z")
    with pytest.raises(TypeError, match="must be a scalar"):
        T.grad(x * 2, x)
    with pytest.raises(DisconnectedInputError, match="does not depend on z"):
        T.grad(x.sum(), [x, z])
    with pytest.warns(UserWarning, match="does not depend on z"):
        gz = T.grad(x.sum(), z, disconnected_inputs="warn")
    np.testing.assert_array_equal(function([z], gz)([1.0, 2.0]), [0, 0])
    gx, gz = T.grad(x.sum(), [x, z], disconnected_inputs="ignore")
    with pytest.raises(TypeError, match="integer"):
        T.grad(x.sum(), T.lvector("i"))


def test_grad_consider_constant():
    x = T.dscalar("x")
    y = x * x
    g = T.grad(y * x, x, consider_constant=[y])
    assert function([x], g)(3.0) == 9.0


def test_jacobian_and_hessian():
    x = T.dvector("x")
    y = x ** 2 * T.sum(x)
    J = theano.jacobian(y, x)
    xv = np.array([1.0, 2.0, 3.0])
    expected = np.diag(2 * xv * xv.sum()) + np.outer(xv ** 2, np.ones(3))
    np.testing.assert_allclose(function([x], J)(xv), expected)
    H = theano.hessian(T.sum(x ** 3) + x[0] * x[1], x)
    np.testing.assert_allclose(function([x], H)(xv), np.diag(6 * xv) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]))


def test_shared_gradient_and_updates_apply_after_all_outputs():
    w = shared(np.array([1.0, 2.0]), name="w")
    c = shared(0.0, name="c")
    x = T.dvector("x")
    cost = T.sum((w * x) ** 2)
    gw = T.grad(cost, w)
    # Both outputs see the old w; both updates use the old values.
    f = function([x], [cost, w * 1], updates=[(w, w - 0.1 * gw), (c, c + w.sum())])
    cost_value, w_seen = f([1.0, 1.0])
    assert cost_value == 5.0
    np.testing.assert_allclose(w_seen, [1.0, 2.0])
    np.testing.assert_allclose(w.get_value(), [1.0 - 0.2, 2.0 - 0.4])
    assert c.get_value() == 3.0


def test_updates_as_dict_and_givens():
    s = shared(np.zeros(2), name="s")
    x, y = T.dvectors("x", "y")
    f = function([x], s, updates={s: s + x})
    f([1.0, 2.0])
    np.testing.assert_allclose(s.get_value(), [1, 2])
    data = shared(np.array([3.0, 4.0]), name="data")
    g = function([], (y * 2).sum(), givens={y: data})
    assert g() == 14.0


def test_get_value_borrow_and_set_value_checks():
    w = shared(np.zeros(3), name="w")
    copy = w.get_value()
    copy[0] = 5
    assert w.get_value()[0] == 0
    with pytest.raises(TypeError, match="w.*1-d.*2-d"):
        w.set_value(np.zeros((2, 2)))
    b = shared(np.zeros((3, 1)), name="b", broadcastable=(False, True))
    with pytest.raises(TypeError, match="broadcastable"):
        b.set_value(np.zeros((3, 2)))


def test_failing_call_changes_no_shared_variable():
    w = shared(np.ones(3), name="w")
    k = shared(0.0, name="k")
    x = T.dvector("x")
    f = function([x], T.dot(w, x), updates=[(k, k + 1), (w, w * x)])
    with pytest.raises(ValueError, match="dot"):
        f(np.ones(4))
    assert k.get_value() == 0.0
    np.testing.assert_allclose(w.get_value(), np.ones(3))


def test_call_errors_name_the_input():
    x = T.dvector("x")
    i = T.iscalar("i")
    f = function([x, i], x * i)
    with pytest.raises(TypeError, match=r"takes 2 argument\(s\) \(x, i\), got 1"):
        f([1.0])
    with pytest.raises(TypeError, match=r"argument 0 \(x\): expected a 1-d array"):
        f(np.ones((2, 2)), 1)
    with pytest.raises(TypeError, match=r"argument 1 \(i\): expected dtype int32, got float64"):
        f([1.0], 1.5)
    with pytest.raises(TypeError, match="argument 0"):
        f("abc", 1)


def test_function_errors():
    x, y = T.dscalars("x", "y")
    s = shared(0.0, name="s")
    with pytest.raises(TypeError, match="outputs need y"):
        function([x], x + y)
    with pytest.raises(TypeError, match="shared variable"):
        function([s], s * 2)
    with pytest.raises(TypeError, match="bad update for shared variable s: .*1-d"):
        function([x], x, updates=[(s, T.dvector() * 2)])
    with pytest.raises(TypeError, match="bad update for shared variable s: .*dtype int64"):
        function([x], x, updates=[(s, T.lscalar() * 2)])
    with pytest.raises(TypeError, match="updates can only change shared variables"):
        function([x], x, updates=[(y, x)])
    with pytest.raises(ValueError, match=r"input 1 \(y\) is not used"):     # Theano's default
        function([x, y], x)
    with pytest.warns(UserWarning, match="not used"):
        function([x, y], x, on_unused_input="warn")
    with pytest.raises(TypeError, match="need y"):
        (x + y).eval({x: 1.0})


def test_eval_caches_its_function():
    x = T.dscalar("x")
    z = x * 2
    assert z.eval({x: 1.0}) == 2.0
    assert z.eval({x: 4.0}) == 8.0
    assert len(z._eval_cache) == 1


def test_numpy_values_on_the_left_build_graphs():
    x = T.dvector("x")
    for expr in (np.ones(2) * x, np.float64(3.0) + x, np.array([1.0, 2.0]) - x):
        assert isinstance(expr, theano.Variable)
    np.testing.assert_allclose((np.array([1.0, 2.0]) - x).eval({x: [1.0, 1.0]}), [0.0, 1.0])


def test_symbolic_truth_value_is_a_clear_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="switch"):
        if x > 0:
            pass


# --- printing -----------------------------------------------------------------------------------
def test_pp_and_debugprint():
    x, y = T.dscalars("x", "y")
    assert pp(x + y) == "(x + y)"
    assert pp(T.exp(-x) * 2) == "(exp(-x) * 2)"
    assert pp(T.dmatrix("m").T) == "m.T"
    text = theano.debugprint((x + y) * (x + y), file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Elemwise{mul} [id A]")
    assert lines[1] == " |Elemwise{add} [id B]" and " |x [id C]" in lines[2]
    assert sum("id B" in line for line in lines) == 1    # the same node twice: shown once
