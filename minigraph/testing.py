"""Is this gradient right? A numeric check for notebooks and tests.

    check_gradient(cost, [W, b], {x: X, W: W0, b: b0})      # T.grad(cost, [W, b]) at that point
    check_gradient(cost, W, values, grads=my_dW)             # or a gradient you derived by hand

A thin wrapper over minigraph.gradcheck.check (numeric mode), where the method and the report are
described; minigraph.symbolic.check_grad is its symbolic mode.
"""
from .gradcheck import GradientCheck, check, rel_error  # noqa: F401  (GradientCheck, rel_error: public here)


def check_gradient(cost, wrt, values=None, grads=None, eps=None, rtol=None, atol=None, raise_on_failure=True):
    """Compare the gradient of the scalar `cost` with respect to `wrt` with central differences.

    values: {input variable: value} for every input of the graph (shared variables default to their
            current value). grads: the symbolic gradients to check; default T.grad(cost, wrt).
    Returns a GradientCheck (print it for the report); on a wrong gradient raises AssertionError
    with that report, unless raise_on_failure=False.
    """
    return check(cost, wrt, values, grads, mode="numeric", eps=eps, rtol=rtol, atol=atol,
                 raise_on_failure=raise_on_failure)
