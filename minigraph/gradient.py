"""Symbolic differentiation: `grad` walks the graph from the cost back to the inputs.

Reverse mode in four steps:
1. order the Apply nodes from inputs to cost (toposort);
2. seed d(cost)/d(cost) = 1;
3. visit the nodes in reverse: each op turns the gradients of its outputs into gradients of its
   inputs (the chain rule, written once per op in its `grad` method);
4. a variable used in several places receives the sum of the gradients flowing back to it.
The result is a new graph, so it can be printed, rewritten, compiled, or differentiated again.
"""
import warnings

import numpy as np

from .graph import (LATE_BOUND, Apply, Constant, Op, Variable, ancestors, as_variable, clone_replace,
                    graph_inputs, toposort)
from .ops.basic import Rebroadcast, lost_broadcast_axes, shape
from .ops.elemwise import cast, fill, zeros_like
from .ops.subtensor import getitem
from .perform import evaluate
from .types import TensorType


class DisconnectedInputError(ValueError):
    pass


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", known_grads=None):
    """d(cost)/d(wrt) for a scalar cost; `wrt` a variable or a list (then a list is returned).
    known_grads {variable: its gradient} seeds gradients as well as (or instead of, cost=None) a cost."""
    seeds = {}
    if cost is not None:
        cost = as_variable(cost)
        if cost.ndim != 0:
            raise TypeError(f"grad: the cost must be a scalar, but {cost} is {cost.ndim}-d ({cost.type}). "
                            f"Reduce it first, e.g. cost.sum() or cost.mean().")
        if not cost.type.is_float():
            raise TypeError(f"grad: the cost {cost} has integer dtype {cost.dtype}: it has no gradient")
        seeds[id(cost)] = (cost, as_variable(np.ones((), dtype=cost.dtype)))    # d cost / d cost = 1
    for var, g in (known_grads or {}).items():
        seeds[id(var)] = (var, as_variable(g))
    if not seeds:
        raise TypeError("grad: give a cost or known_grads")
    roots = [v for v, _ in seeds.values()]
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError("disconnected_inputs must be 'raise', 'warn' or 'ignore'")
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: can only differentiate with respect to variables, got {w!r}")
        if not w.type.is_float():
            raise TypeError(f"grad: {w} has integer dtype {w.dtype}; gradients exist only for float variables")

    stop = {id(v) for v in (consider_constant or [])}
    reachable = _depends_on(roots, wrt_list, stop)
    grads = {k: g for k, (_, g) in seeds.items()}
    for node in reversed(toposort(roots)):
        if not any(id(i) in reachable for i in node.inputs):
            continue                         # nothing below this node leads to a wrt
        output_grads = [grads.get(id(o)) for o in node.outputs]
        if all(g is None for g in output_grads):
            continue
        output_grads = [zeros_like(o) if g is None else g for o, g in zip(node.outputs, output_grads)]
        input_grads = node.op.grad(node.inputs, output_grads)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(f"{node.op}.grad returned {len(input_grads)} gradients for {len(node.inputs)} inputs")
        for inp, g in zip(node.inputs, input_grads):
            if g is None or id(inp) not in reachable or id(inp) in stop:
                continue
            g = as_variable(g)
            if g.ndim != inp.ndim:
                raise RuntimeError(f"{node.op}.grad gave a {g.ndim}-d gradient for {inp} ({inp.type})")
            if g.dtype != inp.dtype:
                g = cast(g, inp.dtype)
            lost = lost_broadcast_axes(inp.broadcastable, g)
            if lost:     # the op couldn't tell statically that these dims have size 1; they do
                g = Rebroadcast(lost)(g)
            grads[id(inp)] = g if id(inp) not in grads else grads[id(inp)] + g

    connected = ancestors(roots)
    results = []
    for w in wrt_list:
        if id(w) not in connected or id(w) in stop:
            message = (f"grad: the cost does not depend on {w.name or w} ({w.type}); "
                       f"pass disconnected_inputs='ignore' (or 'warn') to get zeros for it")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(message)
            if disconnected_inputs == "warn":
                warnings.warn(message, stacklevel=2)
        g = grads.get(id(w))
        if g is None:
            g = zeros_like(w)
        elif any(gb and not wb for gb, wb in zip(g.broadcastable, w.broadcastable)):
            g = fill(w, g)               # a size-1 gradient stretched to w's shape
        results.append(g)
    return results[0] if single else results


def _depends_on(roots, wrt_list, stop):
    """ids of the variables between a wrt variable and the roots (gradients flow only there)."""
    found = {id(w) for w in wrt_list} - stop
    for node in toposort(roots):
        if any(id(i) in found for i in node.inputs):
            found.update(id(o) for o in node.outputs if id(o) not in stop)
    return found


class JacobianRows(Op):
    """Row i is grad(expr[i], wrt); the loop over i runs when the graph is evaluated.

    minigraph has no symbolic loop (Theano's scan), so this op keeps the per-row gradient graph
    inside itself and evaluates it once per row with the NumPy reference backend.
    """

    def __init__(self, index, row, wrt, leaves):
        self.index, self.row, self.wrt, self.leaves = index, row, wrt, leaves

    __eq__ = object.__eq__          # each jacobian is its own op: never merge two of them
    __hash__ = object.__hash__

    def make_node(self, n, *leaves):
        out = TensorType(self.row.dtype, (False,) + self.row.broadcastable)
        return Apply(self, [n, *leaves], [out])

    def perform(self, node, inputs):
        n, *values = inputs
        bindings = dict(zip(self.leaves, values))
        rows = [evaluate([self.row], {**bindings, self.index: np.int64(i)})[0] for i in range(int(n))]
        if not rows:
            return [np.zeros((0,) + np.shape(bindings.get(self.wrt, ())), dtype=self.row.dtype)]
        return [np.stack(rows)]

    def grad(self, inputs, output_grads):
        raise NotImplementedError("the gradient of a jacobian is not supported; use hessian() for "
                                  "second derivatives of a scalar cost")

    def pp(self, node, args):
        return f"jacobian_rows({args[0]})"


def jacobian(expression, wrt, disconnected_inputs="raise"):
    """The matrix of partial derivatives d expression[i] / d wrt[j] (expression a vector)."""
    expression = as_variable(expression)
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    if expression.ndim == 0:
        result = grad(expression, wrt_list, disconnected_inputs=disconnected_inputs)
        return result[0] if single else result
    if expression.ndim != 1:
        raise TypeError(f"jacobian: expected a vector expression, got {expression.ndim}-d; flatten it first")
    results = []
    for w in wrt_list:
        i = Variable(TensorType("int64", ()), name="i")
        row = grad(getitem(expression, i), w, disconnected_inputs=disconnected_inputs)
        leaves = [v for v in graph_inputs([row]) if v is not i and not isinstance(v, Constant)]
        results.append(JacobianRows(i, row, w, leaves)(shape(expression)[0], *leaves))
    return results[0] if single else results


def hessian(cost, wrt, disconnected_inputs="raise"):
    """The matrix of second derivatives of a scalar cost with respect to a vector."""
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    results = [jacobian(grad(cost, w, disconnected_inputs=disconnected_inputs), w,
                        disconnected_inputs=disconnected_inputs) for w in wrt_list]
    return results[0] if single else results


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """v^T J: the vector-Jacobian product, the gradient of sum(f * v) (f and v may be lists)."""
    f_list, v_list = _listed(f), _listed(eval_points)
    if len(f_list) != len(v_list):
        raise ValueError(f"Lop: {len(f_list)} expression(s) but {len(v_list)} eval_points; give one per expression")
    known = {}
    for k, (fk, vk) in enumerate(zip(f_list, v_list)):
        fk, vk = as_variable(fk), as_variable(vk)
        if vk.ndim != fk.ndim:
            raise TypeError(f"Lop: eval_points[{k}] is {vk.ndim}-d but the expression {fk} is {fk.ndim}-d")
        known[fk] = vk if vk.dtype == fk.dtype else cast(vk, fk.dtype)
    return grad(None, wrt, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs,
                known_grads=known)


def Rop(f, wrt, eval_points, disconnected_outputs="raise"):
    """J v: the Jacobian-vector product (f, wrt and eval_points may be lists; then a list).

    Computed as the vector-Jacobian product of u -> u^T J (linear in a dummy u) with v: J v, which
    does not depend on u's value, so u is then taken to be zero."""
    single_f = not isinstance(f, (list, tuple))
    f_list, wrt_list, v_list = _listed(f), _listed(wrt), _listed(eval_points)
    if len(wrt_list) != len(v_list):
        raise ValueError(f"Rop: {len(wrt_list)} variable(s) in wrt but {len(v_list)} eval_points; give one each")
    f_list = [as_variable(fk) for fk in f_list]
    dummies = [Variable(TensorType(fk.dtype, fk.broadcastable), name=f"u{k}") for k, fk in enumerate(f_list)]
    vjp = Lop(f_list, wrt_list, dummies, disconnected_inputs="ignore")
    known = {}
    for k, (w, g, v) in enumerate(zip(wrt_list, vjp, v_list)):
        v = as_variable(v)
        if v.ndim != w.ndim:
            raise TypeError(f"Rop: eval_points[{k}] is {v.ndim}-d but wrt {w.name or w} is {w.ndim}-d")
        known[g] = v if v.dtype == g.dtype else cast(v, g.dtype)
    results = grad(None, dummies, disconnected_inputs="ignore", known_grads=known)
    if disconnected_outputs == "raise":
        for fk, r in zip(f_list, results):
            if not any(id(w) in ancestors([fk]) for w in wrt_list):
                raise DisconnectedInputError(f"Rop: {fk} does not depend on any of wrt; pass "
                                             f"disconnected_outputs='ignore' to get zeros")
    zeros = {u: zeros_like(fk) for u, fk in zip(dummies, f_list)}
    # + zeros_like(f): as in Theano (whose R_op gives each other input of f a zero tangent), J v's
    # graph uses everything f uses, so function([W, V, x], T.Rop(y, W, V)) does not find W unused.
    results = [r + z for r, z in zip(clone_replace(results, zeros), zeros.values())]
    return results[0] if single_f else results


def _listed(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


LATE_BOUND["grad"] = grad      # the Scan op's gradient (ops/scan.py) differentiates its body with this
