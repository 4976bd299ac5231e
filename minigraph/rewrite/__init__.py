"""Graph rewrites: what `function` does to a copy of the graph before a backend runs it.

Phases, in order, each run to a fixed point (FAST_COMPILE runs only the first):
  merge             the same op on the same inputs is computed once; equal constants become one
  constant_folding  what depends only on constants is computed at compile time
  canonicalize      one way to write each expression: x*y/y -> x, x - x -> 0, x**1 -> x ...
  stabilize         the same value without overflow: log(sigmoid(x)) -> -softplus(-x) ...
  specialize        faster ops for special cases: x**2 -> sqr(x), sum(a*b) -> dot(a, b)
  fusion            trees of elementwise ops -> one Composite elementwise node

    rewrite.REWRITES['stabilize']            the rewrites of a phase, in the order they are tried
    rewrite.trace(z)                         the graph after each phase, and what fired
    function(..., excluding=['log1p'])       switch a rewrite (or a whole phase) off by name
    rewrite.register('canonicalize', 'exp_log', ('exp', ('log', 'x')), lambda x: x)   add one
"""
from ..graph import clone_replace
from ..printing import pp
from . import fusion, rules, scan  # noqa: F401  (registering the rewrites)
from .engine import PHASES, REWRITES, Rewrite, RewriteError, match, optimize, register  # noqa: F401


class Trace(list):
    """[(phase, graph text, rewrites that fired)]; printed as a table."""

    def __repr__(self):
        width = max(len(p) for p, _, _ in self)
        lines = []
        for k, (phase, text, fired) in enumerate(self):
            if k and text == self[k - 1][1] and not fired:
                text = "(no change)"
            counts = {name: fired.count(name) for name in dict.fromkeys(fired)}
            note = "   [" + ", ".join(f"{n} x{c}" if c > 1 else n for n, c in counts.items()) + "]" if fired else ""
            lines.append(f"{phase:<{width}}  " + text.replace("\n", "\n" + " " * (width + 2)) + note)
        return "\n".join(lines)


def trace(outputs, mode="FAST_RUN", excluding=(), show=None):
    """Rewrite a copy of `outputs` as `function` would, recording the graph after each phase.

    show: how to print a graph (default `pp`; `debugprint` with file='str' also works).
    >>> rewrite.trace(x * y / y)
    before            ((x * y) / y)
    ...
    canonicalize      x   [canonical_product]
    """
    show = show or pp
    single = not isinstance(outputs, (list, tuple))
    outputs = clone_replace([outputs] if single else list(outputs))
    steps = Trace([("before", show(outputs[0] if single else outputs), [])])
    optimize(outputs, mode, excluding, on_phase=lambda phase, outs, fired: steps.append(
        (phase, show(outs[0] if single else outs), fired)))
    return steps
