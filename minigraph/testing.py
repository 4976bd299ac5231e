"""Is this gradient right? A numeric check for notebooks and tests.

    check_gradient(cost, [W, b], {x: X, W: W0, b: b0})      # T.grad(cost, [W, b]) at that point
    check_gradient(cost, W, values, grads=my_dW)             # or a gradient you derived by hand

Each entry of the analytic gradient is compared with central differences
(f(w + eps) - f(w - eps)) / 2 eps, by its relative error

    rel_error = |analytic - numeric| / max(|analytic| + |numeric|, 1e-8)

About 1e-7 or less: right. 1e-2 or more: wrong. An entry passes when its relative error is at most
`rtol`, or its absolute error at most `atol` (by default 1e-8 |cost|, at least 1e-8): a gradient
that is truly 0 is measured as rounding noise, whose *relative* error can be anything.
"""
import numpy as np

from .compile.function import function
from .gradient import grad, numeric_grad
from .graph import Constant, Variable, clone_replace, graph_inputs


def rel_error(a, b):
    """Relative error per element, the classic measure of a gradient check."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)


class GradientCheck:
    """Per input: the analytic and numeric gradients and their relative errors. True when all pass."""

    def __init__(self, names, analytic, numeric, rtol, atol):
        self.names, self.analytic, self.numeric, self.rtol, self.atol = names, analytic, numeric, rtol, atol
        self.rel_error = [rel_error(a, n) for a, n in zip(analytic, numeric)]
        self.passed = [(r <= rtol) | (np.abs(a - n) <= atol) for r, a, n in zip(self.rel_error, analytic, numeric)]
        self.ok = all(p.all() for p in self.passed)

    def __bool__(self):
        return self.ok

    def __repr__(self):
        worst = max((float(r.max()) for r in self.rel_error if r.size), default=0.0)
        lines = [f"check_gradient: {'OK' if self.ok else 'WRONG GRADIENT'} - worst relative error "
                 f"{worst:.2g} (rtol {self.rtol:g}, atol {self.atol:g})"]
        for name, a, n, r, p in zip(self.names, self.analytic, self.numeric, self.rel_error, self.passed):
            at = np.unravel_index(np.argmax(r), r.shape) if r.size else ()
            lines.append(f"  {name}: shape {a.shape}, max relative error {r.max() if r.size else 0:.2g}"
                         f" at {tuple(map(int, at))}" + ("" if p.all() else f", {int((~p).sum())} entries wrong:"))
            if not p.all():         # the worst wrong entries, with both values, so the bug can be found
                lines.append(f"    {'index':<12}{'analytic':>14}{'numeric':>14}{'rel error':>12}")
                for flat in np.argsort(np.where(p, -1.0, r), axis=None)[::-1][:min(5, int((~p).sum()))]:
                    idx = np.unravel_index(flat, r.shape)
                    lines.append(f"    {str(tuple(map(int, idx))):<12}{a[idx]:>14.6g}{n[idx]:>14.6g}{r[idx]:>12.2g}")
        return "\n".join(lines)


def check_gradient(cost, wrt, values=None, grads=None, eps=None, rtol=None, atol=None, raise_on_failure=True):
    """Compare the gradient of the scalar `cost` with respect to `wrt` with central differences.

    values: {input variable: value} for every input of the graph (shared variables default to their
            current value). grads: the symbolic gradients to check; default T.grad(cost, wrt).
    Returns a GradientCheck (print it for the report); on a wrong gradient raises AssertionError
    with that report, unless raise_on_failure=False.
    """
    wrt = [wrt] if isinstance(wrt, Variable) else list(wrt)
    for w in wrt:
        if w.owner is not None:
            raise TypeError(f"check_gradient: {w} is computed by {w.owner.op}; check gradients with respect to inputs")
    grads = grad(cost, wrt) if grads is None else ([grads] if isinstance(grads, Variable) else list(grads))
    if len(grads) != len(wrt):
        raise ValueError(f"check_gradient: {len(grads)} gradients given for {len(wrt)} variables")
    leaves = [v for v in graph_inputs([cost, *grads, *wrt]) if not isinstance(v, Constant)]
    arrays = []
    for v in leaves:           # values may be keyed by variable or by name
        value = (values or {}).get(v, (values or {}).get(v.name))
        if value is None and hasattr(v, "get_value"):
            value = v.get_value()
        if value is None:
            raise ValueError(f"check_gradient: no value for the input {v.name or v}; "
                             f"pass values={{{v.name or 'x'}: ...}}")
        arrays.append(np.array(value, dtype=v.dtype))
    # Fresh inputs stand for every leaf, shared variables included, so any of them can be nudged.
    fresh = [v.type(v.name) for v in leaves]
    replace = dict(zip(leaves, fresh))
    cost_fn = function(fresh, clone_replace([cost], replace)[0], on_unused_input="ignore")
    grad_fn = function(fresh, clone_replace(grads, replace), on_unused_input="ignore")
    low = any(v.dtype in ("float16", "float32") for v in [cost, *wrt])
    eps = eps or (1e-3 if low else 1e-6)
    rtol = rtol if rtol is not None else (1e-2 if low else 1e-5)
    # Rounding the cost (about 1e-16 |cost| in float64) turns into noise of 1e-16 |cost| / eps.
    atol = atol if atol is not None else (1e-3 if low else 1e-8) * max(1.0, abs(float(cost_fn(*arrays))))
    positions = [leaves.index(w) for w in wrt]

    def f(*wrt_values):
        args = list(arrays)
        for k, value in zip(positions, wrt_values):
            args[k] = value
        return cost_fn(*args)

    analytic = [np.asarray(g, dtype=float) for g in grad_fn(*arrays)]
    numeric = numeric_grad(f, [arrays[k] for k in positions], eps)
    report = GradientCheck([w.name or f"input {k}" for k, w in enumerate(wrt)], analytic, numeric, rtol, atol)
    if raise_on_failure and not report.ok:
        raise AssertionError(repr(report))
    return report


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
