"""One gradient checker, with a numeric and a symbolic mode: `check(cost, wrt, ...)`.

    check(cost, [W, b], {x: X, W: W0, b: b0})          T.grad(cost, [W, b]) against central differences
    check(cost, W, values, grads=my_dW)                 or a gradient you derived by hand
    check(cost, x, mode="symbolic")                     against sympy.diff of the cost's formula

The public names are thin wrappers: `minigraph.testing.check_gradient` (numeric),
`minigraph.symbolic.check_grad` (symbolic) and `minigraph.verify_grad` (Theano's: a function and
a point, its output projected on a random direction, numeric).

Numeric mode: each entry of the analytic gradient is compared with central differences
(f(w + eps) - f(w - eps)) / 2 eps, by its relative error

    rel_error = |analytic - numeric| / max(|analytic| + |numeric|, 1e-8)

About 1e-7 or less: right. 1e-2 or more: wrong. An entry passes when its relative error is at most
`rtol`, or its absolute error at most `atol` (by default 1e-8 |cost|, at least 1e-8): a gradient
that is truly 0 is measured as rounding noise, whose *relative* error can be anything.
"""
import numpy as np

from .compile.function import function
from .gradient import grad
from .graph import Constant, Variable, as_variable, clone_replace, graph_inputs
from .ops.reduce import sum as sum_
from .types import TensorType


def numeric_grad(f, values, eps):
    """Central differences of the scalar function f(*values) with respect to each array."""
    grads = []
    for k, v in enumerate(values):
        g = np.zeros_like(v, dtype="float64")
        for idx in np.ndindex(*v.shape):
            shifted = [x.copy() for x in values]
            shifted[k][idx] = v[idx] + eps
            up = float(f(*shifted))
            shifted[k][idx] = v[idx] - eps
            down = float(f(*shifted))
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


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


def check(cost, wrt, values=None, grads=None, mode="numeric", eps=None, rtol=None, atol=None,
          raise_on_failure=True, shapes=None, n_points=6, rng=None):
    """Is the gradient of the scalar `cost` with respect to the inputs `wrt` right?

    mode="numeric": each entry against central differences at one point.
        values: {input variable (or its name): value} for every input of the graph (shared
        variables default to their current value). grads: the symbolic gradients to check;
        default T.grad(cost, wrt). Returns a GradientCheck (print it for the report).
    mode="symbolic": T.grad against sympy.diff of the cost's formula (needs sympy), symbolically,
        else by value at `n_points` random points; sizes from `shapes` (see minigraph.symbolic).
        Returns a Report.
    On a wrong gradient raises AssertionError with the report, unless raise_on_failure=False.
    """
    if mode == "symbolic":
        from .sympy_bridge.checks import symbolic_check     # imports sympy: heavy, only for this mode
        return symbolic_check(cost, wrt, shapes=shapes, n_points=n_points, rng=rng, raise_on_failure=raise_on_failure)
    if mode != "numeric":
        raise ValueError(f"check: mode must be 'numeric' or 'symbolic', got {mode!r}")
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


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None):
    """Check grad() of `fun` at the point `pt` (a list of arrays) against central differences.

    The output of fun is projected onto a random direction to make a scalar cost, so every
    output element takes part. Raises AssertionError naming the input and the worst entry.
    Theano's tolerance: an entry is wrong where |symbolic - numeric| > abs_tol + rel_tol |numeric|.
    """
    rng = rng if rng is not None else np.random.default_rng(42)
    pt = [np.array(p, dtype="float64" if np.asarray(p).dtype.kind in "iub" else np.asarray(p).dtype) for p in pt]
    low_precision = any(p.dtype in (np.float16, np.float32) for p in pt)
    eps = eps or (1e-3 if low_precision else 1e-6)
    abs_tol = abs_tol if abs_tol is not None else (1e-2 if low_precision else 1e-6)
    rel_tol = rel_tol if rel_tol is not None else (1e-2 if low_precision else 1e-5)
    inputs = [TensorType(p.dtype, [n == 1 for n in p.shape])(f"input{k}") for k, p in enumerate(pt)]
    out = as_variable(fun(*inputs))
    out_value = function(inputs, out)(*pt)
    for _ in range(n_tests):
        projection = as_variable(rng.normal(size=np.shape(out_value)).astype(out.dtype))
        cost = sum_(out * projection)
        report = check(cost, inputs, dict(zip(inputs, pt)), eps=eps, raise_on_failure=False,
                       grads=grad(cost, inputs, disconnected_inputs="ignore"))
        for k, (s, n) in enumerate(zip(report.analytic, report.numeric)):
            err = np.abs(s - n)
            tol = abs_tol + rel_tol * np.abs(n)
            if np.any(err > tol):
                idx = np.unravel_index(np.argmax(err - tol), err.shape) if err.ndim else ()
                raise AssertionError(
                    f"verify_grad: gradient of input {k} (shape {pt[k].shape}) is wrong at index {idx}: "
                    f"symbolic {np.asarray(s)[idx]:.6g}, finite differences {np.asarray(n)[idx]:.6g} "
                    f"(max abs error {err.max():.3g})")
