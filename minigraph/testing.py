"""Is this gradient right? And how was this expression built? Helpers for notebooks, tests and graders.

    check_gradient(cost, [W, b], {x: X, W: W0, b: b0})      # T.grad(cost, [W, b]) at that point
    check_gradient(cost, W, values, grads=my_dW)             # or a gradient you derived by hand
    graph_summary(answer)                                    # {'is_graph', 'ops', 'from_grad', ...}

check_gradient is a thin wrapper over minigraph.gradcheck.check (numeric mode), where the method
and the report are described; minigraph.symbolic.check_grad is its symbolic mode.
"""
import numpy as np

from .gradcheck import GradientCheck, check, rel_error  # noqa: F401  (GradientCheck, rel_error: public here)
from .graph import Constant, Variable


def check_gradient(cost, wrt, values=None, grads=None, eps=None, rtol=None, atol=None, raise_on_failure=True):
    """Compare the gradient of the scalar `cost` with respect to `wrt` with central differences.

    values: {input variable: value} for every input of the graph (shared variables default to their
            current value). grads: the symbolic gradients to check; default T.grad(cost, wrt).
    Returns a GradientCheck (print it for the report); on a wrong gradient raises AssertionError
    with that report, unless raise_on_failure=False.
    """
    return check(cost, wrt, values, grads, mode="numeric", eps=eps, rtol=rtol, atol=atol,
                 raise_on_failure=raise_on_failure)


# ---------------------------------------------------------------------------------------------------------
# Graph inspection: how an expression was built (which ops, whether T.grad made it), as plain data.
# The course's grader asks for these facts about a student's answer; they are plain dicts/lists/bools so
# they can cross a process boundary as JSON.
# ---------------------------------------------------------------------------------------------------------
def op_name(op):
    """A short, stable name for an op: 'exp', 'mul', 'sigmoid' (element-wise ops by their scalar op),
    'sum'/'mean'/... (reductions by their kind), else the class name in lower case ('dot', 'softmax')."""
    scalar = getattr(op, "scalar_op", None)
    if scalar is not None and getattr(scalar, "name", None):
        return str(scalar.name)
    kind = getattr(op, "kind", None)
    if isinstance(kind, str):
        return kind
    return type(op).__name__.lower()


def _apply_nodes(var):
    """Every apply node the computation of `var` needs, each once (iterative: deep graphs are fine)."""
    seen, stack, nodes = set(), [var], []
    while stack:
        v = stack.pop()
        node = getattr(v, "owner", None)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(node.inputs)
    return nodes


def _leaves(var):
    leaves, seen = [], set()
    for node in [None, *_apply_nodes(var)]:
        for v in ([var] if node is None else node.inputs):
            if v.owner is None and id(v) not in seen:
                seen.add(id(v))
                leaves.append(v)
    return leaves


def ops_in(var):
    """Sorted names of the ops in the graph of `var` (see op_name); [] for a leaf."""
    return sorted({op_name(node.op) for node in _apply_nodes(var)})


def uses(var, *op_names):
    """True when the graph of `var` contains every op named (e.g. uses(s, 'exp'))."""
    found = set(ops_in(var))
    return all(name in found for name in op_names)


def came_from_grad(var):
    """True when `var` was built by T.grad (or contains a gradient built by it).

    T.grad seeds the chain rule with d cost / d cost = 1, a 0-d float constant made from a NumPy array
    (folded to shape (1,) or (1, 1) where a reduction's gradient broadcasts it), and every gradient it
    returns is computed from that seed. A Python number written in a formula
    (`1.0 + x`) makes a *weak* constant, so it is never mistaken for the seed; only an explicit
    T.constant(1.0) in a hand-written formula would be."""
    for leaf in _leaves(var):
        data = getattr(leaf, "data", None)
        if (isinstance(leaf, Constant) and not leaf.weak and data is not None and data.size == 1
                and data.dtype.kind == "f" and float(data.reshape(())) == 1.0):
            return True
    return False


def graph_summary(var):
    """Plain facts about an answer, for a grader: {'is_graph', 'ops', 'from_grad', 'ndim', 'dtype'}.

    Anything that is not a minigraph Variable gives is_graph False (and ops [], from_grad False,
    ndim/dtype of the value when it has them, else None)."""
    if not isinstance(var, Variable):
        ndim, dtype = getattr(var, "ndim", None), getattr(var, "dtype", None)
        return {"is_graph": False, "ops": [], "from_grad": False,
                "ndim": int(ndim) if isinstance(ndim, (int, np.integer)) else None,
                "dtype": str(dtype) if dtype is not None else None,
                "type": type(var).__name__}
    return {"is_graph": True, "ops": ops_in(var), "from_grad": came_from_grad(var),
            "ndim": int(var.ndim), "dtype": str(var.dtype), "type": type(var).__name__}
