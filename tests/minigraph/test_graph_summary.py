"""minigraph.testing's graph inspection (graph_summary, ops_in, uses, came_from_grad): what a grader
learns about how an answer was built, as plain data."""
import json

import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph.testing import came_from_grad, graph_summary, op_name, ops_in, uses

x = T.dscalar("x")
v = T.dvector("v")


def test_ops_in_names_elementwise_reductions_and_other_ops():
    expr = T.dot(T.dmatrix("m"), v).sum() + T.exp(-v).mean()
    assert ops_in(expr) == ["add", "dot", "exp", "mean", "neg", "sum"]
    assert ops_in(v) == []
    assert op_name(T.nnet.softmax(T.dmatrix("a")).owner.op) == "softmax"
    assert uses(expr, "exp", "dot") and not uses(expr, "exp", "sigmoid")


@pytest.mark.parametrize("logistic", [
    lambda v: 1 / (1 + T.exp(-v)),
    lambda v: T.exp(v) / (1 + T.exp(v)),
    lambda v: (1 + T.exp(-v)) ** -1,
], ids=["one-over", "exp-ratio", "power"])
def test_logistic_forms_written_with_exp_do_not_use_sigmoid(logistic):
    s = logistic(v)
    assert uses(s, "exp") and not uses(s, "sigmoid")
    assert uses(T.nnet.sigmoid(v), "sigmoid") and not uses(T.nnet.sigmoid(v), "exp")


def test_came_from_grad_tells_T_grad_from_a_formula_written_by_hand():
    square = x ** 2
    assert came_from_grad(T.grad(square, x))
    assert came_from_grad(T.grad(T.sin(x) * x, x) * 3)            # a gradient inside a bigger formula
    assert came_from_grad(T.grad((1 / (1 + T.exp(-v))).sum(), v))
    for by_hand in (2 * x, 2.0 * x, x + x, T.exp(x) * (1.0 + x), T.exp(x) + x * T.exp(x),
                    2 * x * T.cos(x ** 2), x ** 2 * 1.0 + 1):
        assert not came_from_grad(by_hand), theano.pp(by_hand)


def test_graph_summary_is_plain_data():
    s = graph_summary(T.grad(x ** 2, x))
    assert s == {"is_graph": True, "ops": ["mul", "pow", "sub"], "from_grad": True, "ndim": 0,
                 "dtype": "float64", "type": "Variable"}
    assert json.loads(json.dumps(s)) == s
    hand = graph_summary(2 * v)
    assert hand["from_grad"] is False and hand["ndim"] == 1 and hand["ops"] == ["mul"]


def test_graph_summary_of_something_that_is_not_a_graph():
    assert graph_summary(np.zeros((2, 3))) == {"is_graph": False, "ops": [], "from_grad": False, "ndim": 2,
                                               "dtype": "float64", "type": "ndarray"}
    assert graph_summary(None)["is_graph"] is False and graph_summary(None)["ndim"] is None
    compiled = theano.function([x], x * 2)
    assert graph_summary(compiled)["is_graph"] is False


def test_a_deep_graph_is_walked_without_recursion():
    deep = v
    for _ in range(3000):
        deep = deep * 1.5 + deep
    assert ops_in(deep) == ["add", "mul"]
    assert not came_from_grad(deep)
