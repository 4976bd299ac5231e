"""The sympy bridge, by its public name: read a minigraph graph as a formula, turn a formula into a graph.

    to_sympy(x ** 2 + y)                      x**2 + y   (input names become sympy symbols)
    to_sympy(T.dot(v, v), shapes={v: (3,)})   v_0**2 + v_1**2 + v_2**2
    from_sympy(sympy.sin(s) ** 2, [x])        a graph (symbols are matched to variables by name)
    check_grad(cost, x)      T.grad(cost, x) against sympy.diff: symbolically, else at random points
    equivalent(a, b)         the same function? (so that any correct form of an answer earns the points)
    show(T.grad(x ** 2, x))  displays 2x in a notebook

The code is in minigraph/sympy_bridge/ (translate.py, checks.py); check_grad is the symbolic mode
of the one gradient checker, minigraph.gradcheck.check.
"""
from .gradcheck import check
from .sympy_bridge.checks import Formula, Report, assert_equivalent, equivalent, show  # noqa: F401
from .sympy_bridge.translate import NotExpressible, from_sympy, to_sympy  # noqa: F401


def check_grad(cost, wrt, shapes=None, n_points=6, rng=None):
    """Check T.grad(cost, wrt) against sympy.diff of the cost's formula, for inputs `wrt`.

    Each gradient is shown beside sympy's and compared symbolically (the difference simplifies
    to 0), or else by evaluating minigraph's compiled gradient and sympy's formula at random points.
    Returns the report; raises AssertionError with it on a mismatch. `shapes`: see to_sympy.
    """
    return check(cost, wrt, mode="symbolic", shapes=shapes, n_points=n_points, rng=rng)
