"""`ifelse(cond, then_branch, else_branch)`: Theano's lazy conditional (`from theano.ifelse import ifelse`).

Unlike `switch`, which computes both sides elementwise, only the chosen branch is computed. The
branches are kept as inner graphs over the variables they read (the node's inputs after the
condition), so no backend computes a branch before the condition is known: the node's `perform`
runs the chosen one.
"""
import numpy as np

from ..graph import Apply, Constant, Op, as_variable, clone_replace, graph_inputs, late_bound
from ..perform import reference_runner
from ..types import TensorType
from .elemwise import zeros_like


class IfElse(Op):
    """inputs: [condition, *free variables of both branches]; outputs: one per branch output."""

    def __init__(self, inner_inputs, then_outputs, else_outputs, name=None):
        self.inner_inputs, self.then_outputs, self.else_outputs = inner_inputs, then_outputs, else_outputs
        self.name = name
        self._runners = {}

    # Each ifelse is its own op (it carries its branches): equal only to itself.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __getstate__(self):
        return dict(self.__dict__, _runners={})

    def make_node(self, condition, *free):
        types = [TensorType(t.dtype, [a and b for a, b in zip(t.broadcastable, e.broadcastable)])
                 for t, e in zip((o.type for o in self.then_outputs), (o.type for o in self.else_outputs))]
        return Apply(self, [condition, *free], types)

    def perform(self, node, inputs):
        condition, *free = inputs
        branch = bool(np.asarray(condition).item())
        if branch not in self._runners:
            outputs = self.then_outputs if branch else self.else_outputs
            self._runners[branch] = reference_runner(self.inner_inputs, outputs)
        results = self._runners[branch](*free)
        return [np.asarray(r, dtype=o.dtype) for r, o in zip(results, node.outputs)]

    def grad(self, inputs, output_grads):
        """d/dv of the chosen branch, itself an ifelse: the other branch's gradient is not computed."""
        condition, *free = inputs
        grad = late_bound("grad")      # gradient.py, a floor above the ops, sets it
        outs = self(condition, *free)
        outs = outs if isinstance(outs, list) else [outs]
        seeds = [zeros_like(o) if g is None else g for o, g in zip(outs, output_grads)]
        floats = [k for k, v in enumerate(free) if v.type.is_float()]
        if not floats:
            return [None] * len(inputs)
        wrt = [self.inner_inputs[k] for k in floats]
        sides = []
        for outputs in (self.then_outputs, self.else_outputs):
            known = {o: g for o, g in zip(outputs, seeds) if o.type.is_float()}
            gs = grad(None, wrt, known_grads=known, disconnected_inputs="ignore")
            gs = [zeros_like(w) if g is None else g for g, w in zip(gs, wrt)]
            sides.append(clone_replace(gs, dict(zip(self.inner_inputs, free))))
        chosen = ifelse(condition, sides[0], sides[1])
        chosen = chosen if isinstance(chosen, list) else [chosen]
        result = [None] * len(inputs)
        for k, g in zip(floats, chosen):
            result[1 + k] = g
        return result

    def pp(self, node, args):
        return f"ifelse({args[0]}, ...)"

    def __str__(self):
        return f"IfElse{{{self.name}}}" if self.name else "IfElse"


def ifelse(condition, then_branch, else_branch, name=None):
    """then_branch if the scalar `condition` is true, else else_branch; only that one is computed.
    Both branches are a variable or lists of the same length, of matching dtypes and ranks."""
    single = not isinstance(then_branch, (list, tuple))
    then_list = [as_variable(then_branch)] if single else [as_variable(v) for v in then_branch]
    else_list = [as_variable(else_branch)] if single else [as_variable(v) for v in else_branch]
    condition = as_variable(condition)
    if condition.ndim != 0:
        raise TypeError(f"ifelse: the condition must be a scalar, got {condition} ({condition.type}); "
                        f"use T.switch for an elementwise choice")
    if len(then_list) != len(else_list):
        raise ValueError(f"ifelse: the branches have {len(then_list)} and {len(else_list)} outputs")
    for k, (t, e) in enumerate(zip(then_list, else_list)):
        if t.dtype != e.dtype or t.ndim != e.ndim:
            raise TypeError(f"ifelse: output {k} is {t.type} in the then branch but {e.type} in the else "
                            f"branch; both must have the same dtype and number of dimensions (cast one)")
    free = [v for v in graph_inputs(then_list + else_list) if not isinstance(v, Constant)]
    inner = [v.type(v.name) for v in free]
    replace = dict(zip(free, inner))
    then_inner, else_inner = clone_replace(then_list, replace), clone_replace(else_list, replace)
    out = IfElse(inner, then_inner, else_inner, name)(condition, *free)
    return out if not single else (out[0] if isinstance(out, list) else out)
