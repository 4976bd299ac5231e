"""The sympy bridge, part two: checks that use formulas.

    symbolic_check(cost, x)  T.grad(cost, x) against sympy.diff: symbolically, else at random points
                             (minigraph.gradcheck.check's symbolic mode; minigraph.symbolic.check_grad)
    equivalent(a, b)         the same function? (so that any correct form of an answer earns the points)
    show(T.grad(x ** 2, x))  displays 2x in a notebook
"""
import itertools

import numpy as np
import sympy

from ..compile.function import function
from ..gradient import grad
from ..graph import Variable, as_variable, clone_replace
from ..printing import pp
from .translate import NotExpressible, _map, _num, _public, _Translator


class Report:
    """The outcome of a check: true or false, with a readable reason (print it, or look at it)."""
    def __init__(self, ok, text):
        self.ok, self.text = ok, text
    __bool__ = lambda self: self.ok
    __repr__ = lambda self: self.text


def _is_zero(d):
    """True when cheap rewrites turn d into 0. False means 'not shown', not 'nonzero'."""
    d, size = _num(d), sympy.count_ops(_num(d))
    if d == 0 or size > 400:                 # expand and simplify can take minutes on big formulas
        return d == 0
    for step in [sympy.expand, sympy.cancel, lambda e: sympy.cancel(e.rewrite(sympy.exp))] + \
            ([sympy.simplify] if size <= 40 else []):
        try:
            if step(d) == 0:
                return True
        except Exception:                    # e.g. cancel() of a Piecewise: this step proves nothing
            pass
    return False


def _diff(expr, s):
    """d expr / d s where it exists, as minigraph defines gradients: floor, mod and sign are flat
    almost everywhere, so the derivatives sympy leaves for them (of floor, DiracDelta) are 0."""
    d = sympy.diff(expr.replace(sympy.Mod, lambda p, q: p - q * sympy.floor(p / q)), s)
    d = d.replace(lambda e: isinstance(e, sympy.Derivative) and e.expr.has(sympy.floor), lambda e: 0)
    return d.replace(sympy.DiracDelta, lambda *a: 0).doit()


def _formula_values(arr):
    def value(e, subs):                      # nan where sympy can't make a real number of it
        try:
            v = complex(_num(e).xreplace(subs).evalf())
        except (TypeError, ValueError):
            return np.nan
        return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else np.nan
    return lambda values, subs: _map(lambda e: value(e, subs), arr).astype(float)


def _graph_values(output, inputs):
    """Values of the compiled graph itself (the real computation, not its formula)."""
    fresh = [v.type(v.name) for v, _ in inputs]        # shared variables become inputs too
    fn = function(fresh, clone_replace([output], {v: f for (v, _), f in zip(inputs, fresh)})[0],
                  on_unused_input="ignore")
    return lambda values, subs: np.asarray(fn(*[values[id(v)].astype(v.dtype) for v, _ in inputs]), dtype=float)


def _compare(left, right, inputs, n_points, rng, tol):
    """Evaluate both sides at random points, half positive (where log and sqrt are defined), half of
    mixed sign; skip entries where a side isn't finite. -> (entries compared, first disagreement)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    compared = 0
    for k in range(n_points):
        values, subs = {}, {}
        for var, syms in inputs:
            v = rng.uniform(0.5, 1.5, syms.shape) * (1 if 2 * k < n_points else rng.choice([-1, 1], syms.shape))
            values[id(var)] = np.rint(3 * v) if var.dtype.startswith(("int", "uint")) else v
            subs.update(zip(syms.flat, map(sympy.Float, values[id(var)].flat)))
        a, b = left(values, subs), right(values, subs)
        both = np.isfinite(a) & np.isfinite(b)
        compared += int(both.sum())
        bad = np.argwhere(both & ~np.isclose(a, b, rtol=tol, atol=tol))
        if len(bad):
            idx = tuple(int(i) for i in bad[0])
            at = ", ".join(f"{s} = {float(x):.4g}" for s, x in subs.items())
            return compared, f"at {at}, entry {idx}: {a[idx]:.6g} vs {b[idx]:.6g}"
    return compared, None if compared else "no random point where both sides are finite"


def _side_by_side(left, right, titles):
    pretty = lambda x, wrap=False: x if isinstance(x, str) else sympy.pretty(_public(x), wrap_line=wrap)
    l, r = [titles[0], *pretty(left).splitlines()], [titles[1], *pretty(right).splitlines()]
    width = max(map(len, l)) + 4
    if width + max(map(len, r)) > 100:      # too wide side by side: one above the other
        return "\n".join(f"    {s}" for s in [titles[0] + ":", *pretty(left, True).splitlines(),
                                              titles[1] + ":", *pretty(right, True).splitlines()])
    return "\n".join(f"    {a:<{width}}{b}".rstrip() for a, b in itertools.zip_longest(l, r, fillvalue=""))


def symbolic_check(cost, wrt, shapes=None, n_points=6, rng=None, raise_on_failure=True):
    """Check T.grad(cost, wrt) against sympy.diff of the cost's formula, for inputs `wrt`.

    Each gradient is shown beside sympy's and compared symbolically (the difference simplifies
    to 0), or else by evaluating minigraph's compiled gradient and sympy's formula at random points.
    Returns the report; raises AssertionError with it on a mismatch (unless raise_on_failure=False).
    `shapes`: see to_sympy.
    """
    wrt = [wrt] if isinstance(wrt, Variable) else list(wrt)
    for w in wrt:
        if w.owner is not None:
            raise TypeError(f"check_grad: {w} is computed by {w.owner.op}; differentiate with respect to inputs")
    tr = _Translator(shapes)
    c, ws = tr(cost)[()], [tr(w) for w in wrt]          # first, so that an op sympy lacks is named early
    grads = grad(cost, wrt, disconnected_inputs="ignore")
    tol = 1e-3 if "float32" in [as_variable(cost).dtype] + [w.dtype for w in wrt] else 1e-6
    lines, ok = [], True
    for w, syms, g in zip(wrt, ws, grads):
        expected = _map(lambda s: _diff(c, s), syms)
        try:
            got = tr(g)
        except NotExpressible:                # still checked by value, and shown as pp prints it
            got = pp(g)
        if not isinstance(got, str) and all(_is_zero(a - b) for a, b in zip(got.flat, expected.flat)):
            verdict = "equal symbolically"
        else:
            n, bad = _compare(_graph_values(g, tr.inputs), _formula_values(expected), tr.inputs, n_points, rng, tol)
            verdict = f"WRONG ({bad}; minigraph vs sympy)" if bad else f"equal in value ({n} entries at random points)"
            ok = ok and not bad
        lines += [f"d cost / d {w.name or 'input'}: {verdict}",
                  _side_by_side(got, expected, ("minigraph T.grad", "sympy.diff"))]
    if not ok and raise_on_failure:
        raise AssertionError("check_grad found a wrong gradient:\n" + "\n".join(lines))
    return Report(ok, "\n".join(lines))


def equivalent(a, b, shapes=None, n_points=6, rng=None):
    """Do a and b (minigraph graphs or sympy formulas) compute the same function of the same inputs
    (matched by name)? Symbolically when the difference simplifies to 0, else by value at random
    points. Returns a Report, true or false; when false it shows the difference and where."""
    ta, tb = _Translator(shapes), _Translator(shapes)
    A, B = ta(a), tb(b)
    both = _side_by_side(A, B, ("answer", "expected"))
    if A.shape != B.shape:
        return Report(False, f"not equivalent: the answer has shape {A.shape}, the expected {B.shape}\n{both}")
    if all(_is_zero(x - y) for x, y in zip(A.flat, B.flat)):
        return Report(True, f"equivalent (symbolically)\n{both}")
    inputs = list({str(s.flat[0]): (v, s) for v, s in ta.inputs + tb.inputs}.values())
    n, bad = _compare(_formula_values(A), _formula_values(B), inputs, n_points, rng, 1e-8)
    if not bad:
        return Report(True, f"equivalent (equal in value, {n} entries at random points)\n{both}")
    diff = _public(_map(lambda x, y: sympy.expand(_num(x) - _num(y)), A, B))
    return Report(False, f"not equivalent ({bad}; answer vs expected)\n{both}\n"
                         f"    answer - expected = {sympy.pretty(diff)}")


def assert_equivalent(a, b, **kwargs):
    """equivalent(a, b), raising AssertionError with the explanation when they differ."""
    result = equivalent(a, b, **kwargs)
    if not result:
        raise AssertionError(result.text)


class Formula:
    """A formula that a notebook displays as LaTeX (and print shows as text)."""
    def __init__(self, expr, name=None):
        self.expr, self.lhs = expr, f"{name} = " if name else ""
    _repr_latex_ = lambda self: f"$\\displaystyle {self.lhs}{sympy.latex(self.expr)}$"
    __repr__ = lambda self: self.lhs + sympy.sstr(self.expr)


def show(expr, name=None, shapes=None, simplify=True):
    """A graph (or a gradient) as a displayed formula: show(T.grad(x ** 2, x)) shows 2x.
    `name` is a LaTeX left-hand side, e.g. r"\\frac{d}{dx} x^2". simplify is skipped on big formulas."""
    tidy = lambda e: sympy.simplify(e) if simplify and sympy.count_ops(e) <= 60 else e
    return Formula(_public(_map(tidy, _Translator(shapes)(expr))), name)
