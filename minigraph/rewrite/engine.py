"""The rewrite engine: patterns, the registry of rewrites by phase, and the loop that applies them.

A rewrite looks at one variable of the graph and returns an equivalent variable, or None when it
does not apply. Most rewrites are patterns, registered in one line:

    register("canonicalize", "exp_of_log", ("exp", ("log", "x")), lambda x: x, when=...)

A pattern is a string (a pattern variable: it matches any variable, and the same name used twice
must match the same variable), a number (matches a constant whose entries all equal it), or a
tuple (op, *argument patterns) where op is the name of an elementwise scalar op ("mul", "exp"...),
an Op class (matched with isinstance) or an Op instance (matched with ==). Symmetric ops such as
add and mul also match with their arguments swapped. The replacement is a function of the pattern
variables; `when` (optional) is a condition on them.
"""
import warnings

import numpy as np

from ..graph import Constant, as_variable, copy_node, toposort
from ..ops.basic import Rebroadcast, dimshuffle
from ..ops.elemwise import Elemwise, cast, second
from ..types import TensorType

PHASES = ("merge", "constant_folding", "canonicalize", "stabilize", "specialize", "fusion")
REWRITES = {phase: {} for phase in PHASES}       # phase -> {name: Rewrite}, in the order they run
MAX_PASSES = 50                                  # a phase that has not settled by then is cut off
SYMMETRIC = {"add", "mul", "maximum", "minimum", "eq", "neq", "and_", "or_"}


class RewriteError(TypeError):
    pass


class Rewrite:
    """One named rewrite. `fn(var)` for a plain rewrite; `fn(**bindings)` for a pattern one.
    A `whole_graph` rewrite (merge, fusion) instead maps the list of outputs to a new list."""

    def __init__(self, phase, name, fn, pattern=None, when=None, whole_graph=False):
        self.phase, self.name, self.fn = phase, name, fn
        self.pattern, self.when, self.whole_graph = pattern, when, whole_graph

    def __call__(self, var):
        if self.pattern is None:
            return self.fn(var)
        for b in match(self.pattern, var, {}):
            if self.when is None or self.when(**b):
                return self.fn(**b)
        return None

    def __repr__(self):
        what = show_pattern(self.pattern) if self.pattern is not None else (self.fn.__doc__ or "").split("\n")[0]
        return f"{self.phase}/{self.name}: {what}"


def register(phase, name, pattern, replacement=None, when=None, whole_graph=False):
    """Add a rewrite to `phase` (one of PHASES), run after the ones already there.

    register(phase, name, pattern, replacement, when=None)   a pattern rewrite (see module doc)
    register(phase, name, fn)                                fn(var) -> variable or None
    Used without `replacement` on a pattern, it is a decorator for the replacement function.
    """
    if phase not in REWRITES:
        raise ValueError(f"unknown phase {phase!r}; phases are {PHASES}")
    if callable(pattern) and not isinstance(pattern, (tuple, str)):
        rewrite = Rewrite(phase, name, pattern, whole_graph=whole_graph)
    elif replacement is None:
        return lambda fn: register(phase, name, pattern, fn, when) and fn
    else:
        rewrite = Rewrite(phase, name, replacement, pattern, when)
    REWRITES[phase][name] = rewrite
    return rewrite


def scalar_name(var):
    """'exp' for a variable computed by Elemwise(exp), else None."""
    node = var.owner
    return node.op.scalar_op.name if node is not None and isinstance(node.op, Elemwise) else None


def match(pattern, var, binding):
    """Yield each way `var` matches `pattern`, as {pattern variable: graph variable}."""
    if isinstance(pattern, str):
        if binding.get(pattern, var) is var:
            yield {**binding, pattern: var}
    elif isinstance(pattern, (int, float)):
        if isinstance(var, Constant) and var.data.size and np.all(var.data == pattern):
            yield binding
    elif var.owner is not None and len(pattern) - 1 == len(var.owner.inputs):
        (op, *args), node = pattern, var.owner
        if isinstance(op, str):
            ok = scalar_name(var) == op
        else:
            ok = isinstance(node.op, op) if isinstance(op, type) else node.op == op
        if not ok:
            return
        for inputs in [node.inputs, node.inputs[::-1]] if op in SYMMETRIC else [node.inputs]:
            yield from match_all(args, inputs, binding)


def match_all(patterns, variables, binding):
    """Yield each way the variables match the patterns, one by one."""
    if not patterns:
        yield binding
    else:
        for b in match(patterns[0], variables[0], binding):
            yield from match_all(patterns[1:], variables[1:], b)


def show_pattern(p):
    """('log', ('add', 1, 'x')) -> 'log(add(1, x))'"""
    if isinstance(p, tuple):
        op = p[0] if isinstance(p[0], str) else getattr(p[0], "__name__", str(p[0]))
        return f"{op}({', '.join(show_pattern(a) for a in p[1:])})"
    return str(p)


# --- keeping the type ------------------------------------------------------------------------
def fit(new, old, name="a rewrite"):
    """`new` made to have exactly old's type: add leading axes, broadcast with fill where `new`
    lost a dimension (x*y/y -> x when y is bigger than x), state broadcastability, cast the dtype."""
    if new.type == old.type:
        return new
    if new.ndim > old.ndim:
        raise RewriteError(f"rewrite {name} turned {old.type} into {new.type}")
    if isinstance(new, Constant):      # reshape the value itself rather than adding nodes
        data = np.asarray(new.data, dtype=old.dtype).reshape((1,) * (old.ndim - new.ndim) + new.data.shape)
        new = Constant(TensorType(old.dtype, [n == 1 for n in data.shape]), data)
    new = dimshuffle(new, ("x",) * (old.ndim - new.ndim) + tuple(range(new.ndim)))
    lost = [d for d in range(old.ndim) if new.broadcastable[d] and not old.broadcastable[d]]
    for donor in shape_donors(old) if lost else ():
        if any(not donor.broadcastable[d] for d in lost):
            new = second(donor, new)        # new, broadcast to the shape of a variable old used
            lost = [d for d in lost if new.broadcastable[d]]
            if not lost:
                break
    if lost:
        raise RewriteError(f"rewrite {name}: cannot restore the shape of {old} ({old.type})")
    extra = [d for d in range(old.ndim) if old.broadcastable[d] and not new.broadcastable[d]]
    if extra:
        new = Rebroadcast(extra)(new)
    return cast(new, old.dtype)


def shape_donors(var):
    """Variables at the bottom of the elementwise tree computing `var`: together they give its shape."""
    found, stack, seen = [], [var], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is not None and isinstance(v.owner.op, Elemwise):
            stack.extend(reversed(v.owner.inputs))
        elif v.ndim == var.ndim:
            found.append(v)
    return found


# --- applying rewrites -----------------------------------------------------------------------
def rebuild(node, inputs, memo, op=None):
    """A new node like `node` (or applying `op`) on `inputs`; memo maps its old outputs to the new."""
    memo.update(zip(map(id, node.outputs), copy_node(node, inputs, op).outputs))   # replacements keep types


def rewrite_pass(outputs, rewrites, log, merge=True):
    """One sweep over the graph in topological order: merge duplicate nodes and equal constants
    (when `merge`), and try `rewrites` on each node's outputs; the first one that applies wins.
    Returns (new outputs, whether anything changed). Never modifies existing nodes."""
    memo, nodes, constants, changed = {}, {}, {}, False

    def current(v):
        v = memo.get(id(v), v)
        if merge and isinstance(v, Constant):
            v = constants.setdefault(v.signature(), v)
        return v

    for node in toposort(outputs):
        inputs = [current(i) for i in node.inputs]
        key = (node.op, tuple(map(id, inputs)))
        if merge and key in nodes:                      # the same op on the same inputs: reuse it
            for old, first in zip(node.outputs, nodes[key]):
                memo[id(old)] = current(first)
            changed = True
            continue
        nodes[key] = node.outputs
        if any(a is not b for a, b in zip(inputs, node.inputs)):
            rebuild(node, inputs, memo)
        for old in node.outputs:
            var = current(old)
            for rewrite in rewrites:
                result = rewrite(var)
                if result is not None and result is not var:
                    memo[id(old)] = fit(as_variable(result), var, rewrite.name)
                    log.append(rewrite.name)
                    changed = True
                    break
    return [current(o) for o in outputs], changed


def optimize(outputs, mode="FAST_RUN", excluding=(), on_phase=None):
    """Run the phases in order; `excluding` names rewrites or whole phases to skip.
    on_phase(phase, outputs, fired) is called after each phase (that is how `trace` watches)."""
    if mode not in ("FAST_RUN", "FAST_COMPILE"):
        raise ValueError(f"unknown mode {mode!r}; use 'FAST_RUN' or 'FAST_COMPILE'")
    excluding = set(excluding)
    known = set(PHASES) | {name for phase in REWRITES.values() for name in phase}
    if excluding - known:
        raise ValueError(f"excluding: unknown rewrite(s) {sorted(excluding - known)}; "
                         f"known: {sorted(known)}")
    merge = "merge" not in excluding
    outputs = list(outputs)
    for phase in PHASES[:1] if mode == "FAST_COMPILE" else PHASES:
        if phase in excluding:
            continue
        active, log = [r for name, r in REWRITES[phase].items() if name not in excluding], []
        for _ in range(MAX_PASSES):                     # sweep until nothing changes
            outputs, changed = rewrite_pass(outputs, [r for r in active if not r.whole_graph], log, merge)
            if not changed:
                break
        else:
            warnings.warn(f"rewrites {sorted(set(log[-20:]))} were still changing the graph after "
                          f"{MAX_PASSES} passes; stopping there")
        for r in [r for r in active if r.whole_graph]:
            before, outputs = outputs, r.fn(outputs)
            log += [r.name] if any(a is not b for a, b in zip(before, outputs)) else []
        if on_phase:
            on_phase(phase, outputs, log)
    return outputs
