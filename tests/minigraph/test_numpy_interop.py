"""NumPy functions called on a minigraph variable fail with an error naming the T function to use;
an operator with an array on the left (`array * v`) still builds the graph."""
import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function
from minigraph.numpy_interop import SymbolicNumpyError
from minigraph.ops.elemwise import SCALAR_OPS

UFUNC_ROWS = sorted((name, op) for name, op in SCALAR_OPS.items() if isinstance(op.impl, np.ufunc))


def test_every_table_row_with_a_numpy_ufunc_is_covered():
    names = {name for name, _ in UFUNC_ROWS}
    assert {"add", "exp", "log", "pow", "tanh", "maximum", "eq", "and_", "invert"} <= names
    assert len(UFUNC_ROWS) >= 25


@pytest.mark.parametrize("name,op", UFUNC_ROWS, ids=[name for name, _ in UFUNC_ROWS])
def test_a_ufunc_on_a_variable_names_its_T_equivalent(name, op):
    v = T.dvector("v")
    args = [v] + [2.5] * (op.nin - 1)
    with pytest.raises(SymbolicNumpyError) as error:
        op.impl(*args)
    message = str(error.value)
    shown = ", ".join(["v"] + ["2.5"] * (op.nin - 1))
    assert f"np.{op.impl.__name__} was called on the minigraph variable `v` (a symbol, not numbers)" in message
    assert f"use T.{name}({shown}) to build the graph" in message
    assert callable(getattr(T, name))        # the advice is a real T function
    assert isinstance(error.value, TypeError)


def test_the_examples_of_the_issue():
    a, v = T.dscalar("a"), T.dvector("v")
    with pytest.raises(TypeError, match=r"np\.exp was called on the minigraph variable `v` .*use T\.exp\(v\)"):
        np.exp(v)
    with pytest.raises(TypeError, match=r"np\.power .* `a` .*use T\.pow\(a, 10\)"):
        np.power(a, 10)


@pytest.mark.parametrize("call,advice", [
    (lambda v: np.sum(v), "T.sum(v)"), (lambda v: np.mean(v, axis=0), "T.mean(v)"),
    (lambda v: np.dot(v, v), "T.dot(v, v)"), (lambda v: np.max(v), "T.max(v)"),
    (lambda v: np.concatenate([v, v]), "T.concatenate([v, v])"), (lambda v: np.where(v > 0, v, 0), "T.switch"),
    (lambda v: np.linalg.det(v), "T.det(v)"),
])
def test_array_functions_name_their_T_equivalent(call, advice):
    with pytest.raises(SymbolicNumpyError, match="use " + advice.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        call(T.dvector("v"))


def test_a_function_minigraph_lacks_says_so():
    with pytest.raises(SymbolicNumpyError, match=r"np\.arctan .*no T equivalent of np\.arctan"):
        np.arctan(T.dvector("v"))
    with pytest.raises(SymbolicNumpyError, match=r"np\.add\.reduce .*no T equivalent"):
        np.add.reduce(T.dvector("v"))


def test_operators_with_an_array_on_the_left_still_build_the_graph():
    v = T.dvector("v")
    arr = np.array([1.0, 2.0, 3.0])
    outs = [arr * v, arr + v, arr - v, arr / v, arr ** v, np.float64(2.0) * v, arr < v, arr >= v]
    f = function([v], outs)
    x = np.array([2.0, 0.5, 4.0])
    for got, want in zip(f(x), [arr * x, arr + x, arr - x, arr / x, arr ** x, 2 * x, arr < x, arr >= x]):
        np.testing.assert_allclose(got, want)
    assert (arr == v) is False and (arr != v) is True and (v == arr) is False    # identity, as before
