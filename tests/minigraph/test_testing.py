"""minigraph.testing.check_gradient: right gradients pass, wrong ones fail with a readable table."""
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph.graph import Apply, Op, as_variable
from minigraph.testing import check_gradient, rel_error

rng = np.random.default_rng(0)
x = T.dmatrix("x")
y = T.ivector("y")
X, Y = rng.normal(size=(5, 3)), np.array([0, 1, 2, 3, 0], dtype="int32")


def logistic_regression():
    W = theano.shared(rng.normal(size=(3, 4)), name="W")
    b = theano.shared(np.zeros(4), name="b")
    p = T.nnet.softmax(T.dot(x, W) + b)
    return T.nnet.categorical_crossentropy(p, y).mean(), W, b


def test_rel_error_is_the_classic_formula():
    np.testing.assert_allclose(rel_error([1.0, 0.0, -2.0], [1.1, 0.0, -2.0]), [0.1 / 2.1, 0.0, 0.0])


def test_right_gradients_pass_with_a_per_input_report():
    cost, W, b = logistic_regression()
    report = check_gradient(cost, [W, b], {x: X, y: Y})
    assert report and max(r.max() for r in report.rel_error) < 1e-6
    assert [r.shape for r in report.rel_error] == [(3, 4), (4,)]
    text = repr(report)
    assert text.startswith("check_gradient: OK") and "W: shape (3, 4)" in text and "b: shape (4,)" in text


def test_mlp_with_values_given_by_name_and_a_float32_graph():
    W1 = T.dmatrix("W1")
    cost = T.sum(T.nnet.sigmoid(T.tanh(T.dot(x, W1))) ** 2)
    assert check_gradient(cost, [x, W1], {"x": X, "W1": rng.normal(size=(3, 2))})
    v = T.fvector("v")
    assert check_gradient(T.sum(T.exp(v) * v), v, {v: np.float32([0.1, -0.5, 1.0])})


def test_a_wrong_hand_derived_gradient_fails_with_the_worst_entries():
    cost, W, b = logistic_regression()
    wrong = T.grad(cost, W) * 1.01          # off by 1%: a typical slip when deriving by hand
    with pytest.raises(AssertionError) as info:
        check_gradient(cost, W, {x: X, y: Y}, grads=wrong)
    text = str(info.value)
    assert "WRONG GRADIENT" in text and "12 entries wrong" in text
    assert "analytic" in text and "numeric" in text and "rel error" in text
    report = check_gradient(cost, W, {x: X, y: Y}, grads=wrong, raise_on_failure=False)
    assert not report and np.all(report.rel_error[0] > 1e-3)


class WrongSquare(Op):
    """x ** 2 whose gradient says 3x (should be 2x): the bug check_gradient is for."""

    def make_node(self, a):
        a = as_variable(a)
        return Apply(self, [a], [a.type])

    def perform(self, node, inputs):
        return [inputs[0] ** 2]

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 3 * inputs[0]]


def test_an_op_with_a_wrong_gradient_is_caught():
    v = T.dvector("v")
    with pytest.raises(AssertionError, match=r"v: shape \(3,\), max relative error 0.2"):
        check_gradient(WrongSquare()(v).sum(), v, {v: [1.0, -2.0, 0.5]})
    assert check_gradient((v ** 2).sum(), v, {v: [1.0, -2.0, 0.5]})


def test_a_true_zero_gradient_measured_as_rounding_noise_passes():
    v = T.dvector("v")
    cost = (T.cos(v) ** 2 + T.sin(v) ** 2).sum() * 1e7 + (v ** 2).sum()   # d/dv of the first term: 0
    report = check_gradient(cost, v, {v: rng.uniform(size=4)})
    assert report
    noisy = check_gradient(cost, v, {v: rng.uniform(size=4)}, grads=2 * v, atol=0, raise_on_failure=False)
    assert not noisy          # without the absolute tolerance, the noise would fail a right gradient


def test_clear_errors_for_missing_values_and_non_inputs():
    cost, W, b = logistic_regression()
    with pytest.raises(ValueError, match="no value for the input x"):
        check_gradient(cost, W, {y: Y})
    with pytest.raises(TypeError, match="with respect to inputs"):
        check_gradient(cost, T.dot(x, W), {x: X, y: Y})
