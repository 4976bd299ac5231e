"""The graph: variables, ops, and the apply nodes that connect them.

    x ──┐
        ├─ Apply(op=add) ──> z        z.owner is the Apply; Apply.inputs == [x, y]
    y ──┘

A Variable holds no value (except a Constant, or a SharedVariable in compile/shared.py);
it records its type and which Apply produced it. An Op is a stateless description of a
computation; applying it to variables makes an Apply node and its output variables.
"""
import itertools
import os
import sys
import warnings

import numpy as np

from .config import config
from .types import TensorType

_ids = itertools.count()

# What the core needs from higher floors, which fill it in when they are imported (the core
# imports nothing above it; `import minigraph` imports every floor, so these are always set):
#   "function"  compile.function: used by Variable.eval     (set by compile/function.py)
#   "stack"     ops.shape.stack: a list of variables as one  (set by ops/shape.py)
#   "grad"      gradient.grad: Scan's gradient differentiates its body (set by gradient.py)
# Operator methods (x + y, x.sum()) are installed on Variable by tensor.py the same way.
LATE_BOUND = {}


def late_bound(name):
    try:
        return LATE_BOUND[name]
    except KeyError:
        raise RuntimeError(f"minigraph.graph needs {name!r}, which a higher floor of minigraph provides "
                           f"when it is imported: `import minigraph` first") from None
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


_INSIDE = {}     # a code object's file name -> whether it is one of minigraph's own files


def user_site():
    """(file, line) of the first stack frame outside minigraph: where the user built a node.
    (File names are looked up once: os.path.abspath on every frame of every node took 40% of a
    warm-cache `function` call, 25 ms for a logistic-regression step.)"""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = _INSIDE.get(filename)
        if inside is None:
            inside = _INSIDE[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR)
        if not inside:
            return filename, frame.f_lineno
        frame = frame.f_back
    return "<unknown>", 0


class Variable:
    """A symbolic tensor: a type, an optional name, and the Apply node that computes it."""

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.id = next(_ids)
        self.site = user_site()

    dtype = property(lambda self: self.type.dtype)
    ndim = property(lambda self: self.type.ndim)
    broadcastable = property(lambda self: self.type.broadcastable)

    def clone(self):
        """A fresh variable of the same type and name with no owner."""
        return type(self)(self.type, name=self.name)

    def __repr__(self):
        if self.name:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.out"
        return f"<{self.type}>"

    def eval(self, inputs_to_values=None):
        """Compile (once, cached) and run the graph that computes this variable."""
        function = late_bound("function")
        inputs_to_values = dict(inputs_to_values or {})
        inputs = tuple(sorted(inputs_to_values, key=lambda v: v.id))
        cache = self.__dict__.setdefault("_eval_cache", {})
        if inputs not in cache:
            cache[inputs] = function(list(inputs), self, on_unused_input="ignore")
        return cache[inputs](*[inputs_to_values[v] for v in inputs])

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_eval_cache", None)      # compiled functions: made again on the next eval
        return state

    # Variables are dictionary keys and graph nodes, so equality is identity;
    # the symbolic comparisons live in T.eq / T.neq.
    __hash__ = object.__hash__


class Constant(Variable):
    """A variable with a fixed value. `weak` marks one made from a Python number."""

    def __init__(self, type, data, name=None, weak=False):
        super().__init__(type, name=name)
        self.data = data
        self.weak = weak

    def signature(self):
        """Equal constants (same type and value) merge into one."""
        return (self.type, self.weak, self.data.shape, self.data.tobytes())

    def clone(self):
        return Constant(self.type, self.data, self.name, self.weak)

    def __repr__(self):
        if self.name:
            return self.name
        if self.data.size == 1:
            value = self.data.item()
            return repr(int(value)) if float(value).is_integer() and self.data.dtype.kind in "biu" else repr(value)
        return f"Constant{{{np.array2string(self.data, threshold=6)}}}"


def as_variable(x, name=None):
    """Wrap Python numbers and arrays as Constants; pass variables through."""
    if isinstance(x, Variable):
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        return late_bound("stack")([as_variable(e) for e in x])
    weak = isinstance(x, (bool, int, float)) and not isinstance(x, np.generic)
    data = np.asarray(x)
    if weak and data.dtype.kind == "f":
        data = data.astype(config.floatX)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"cannot use {type(x).__name__} {x!r} in a graph: expected a number, "
                        f"an array of numbers or a minigraph variable")
    return Constant(TensorType(data.dtype, (d == 1 for d in data.shape)), data, name=name, weak=weak)


class Apply:
    """One application of an op to input variables, producing output variables."""

    def __init__(self, op, inputs, output_types):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = [Variable(t, owner=self, index=i) for i, t in enumerate(output_types)]
        self.site = user_site()

    def __repr__(self):
        return f"{self.op}({', '.join(map(repr, self.inputs))})"


TensorType.variable_class = Variable     # what `TensorType(...)(name)` makes (types.py can't import us)


class Op:
    """Base class of all operations.

    A subclass lists the attributes that make two instances equal in `__props__`
    (equal ops on equal inputs compute the same thing, which is what merging relies on) and
    defines:
      make_node(*inputs) -> Apply       type inference and static checks
      perform(node, inputs) -> [arrays]  the NumPy reference implementation
      grad(inputs, output_grads) -> [variables or None]   None: no gradient flows there
    """

    __props__ = ()

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __call__(self, *inputs):
        node = self.make_node(*inputs)
        if config.compute_test_value != "off":
            compute_test_values(node)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def grad(self, inputs, output_grads):
        raise NotImplementedError(f"{self} has no gradient")

    def __str__(self):
        props = ", ".join(str(p) for p in self._props())
        return f"{type(self).__name__}{{{props}}}" if props else type(self).__name__

    __repr__ = __str__


# --- test values (Theano's `x.tag.test_value`, config.compute_test_value) --------------------------
class Tag:
    """`var.tag`: free-form notes on a variable; `test_value` is checked against its type."""

    def __init__(self, variable):
        object.__setattr__(self, "_variable", variable)

    def __setattr__(self, name, value):
        if name == "test_value":
            v = self._variable
            value = v.type.filter(value, name=f"test value of {v.name or v}", allow_downcast=True)
        object.__setattr__(self, name, value)

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)


Variable.tag = property(lambda self: self.__dict__.setdefault("_tag", Tag(self)))
_NO_VALUE = object()


def test_value(var):
    """The value a variable has for test values: a constant's, a shared variable's, or its tag's."""
    if isinstance(var, Constant):
        return var.data
    if hasattr(var, "get_value"):
        return var.get_value(borrow=True)
    return getattr(var.__dict__.get("_tag"), "test_value", _NO_VALUE)


def compute_test_values(node):
    """Run `node` on its inputs' test values now, so a shape error names the line that built it."""
    values = [test_value(i) for i in node.inputs]
    missing = [i for i, v in zip(node.inputs, values) if v is _NO_VALUE]
    if missing:
        mode, name = config.compute_test_value, missing[0].name or str(missing[0])
        message = (f"{name} has no test value, so {node.op} (built at {node.site[0]}, line {node.site[1]}) "
                   f"cannot be checked; set {name}.tag.test_value = ... (config.compute_test_value={mode!r})")
        if mode == "raise":
            raise ValueError(message)
        if mode == "warn":       # shown at the user's line that built the node
            warnings.warn_explicit(message, UserWarning, node.site[0], node.site[1])
        return
    try:
        results = node.op.perform(node, values)
    except Exception as error:
        shapes = ", ".join(f"{i.name or i} {np.shape(v)}" for i, v in zip(node.inputs, values))
        where = "" if "built at" in str(error).lower() else f" (built at {node.site[0]}, line {node.site[1]})"
        raise ValueError(f"{node.op} fails on the test values ({shapes}): {error}{where}") from error
    for out, value in zip(node.outputs, results):
        out.tag.test_value = value


def toposort(outputs):
    """Apply nodes needed for `outputs`, each after the nodes computing its inputs."""
    order, seen = [], set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            var, expanded = stack.pop()
            node = var.owner
            if node is None or id(node) in seen:
                continue
            if expanded:
                seen.add(id(node))
                order.append(node)
            else:
                stack.append((var, True))
                stack.extend((inp, False) for inp in reversed(node.inputs)
                             if inp.owner is not None and id(inp.owner) not in seen)
    return order


def graph_inputs(outputs):
    """Variables with no owner that `outputs` depend on (constants included), in first-seen order."""
    found, seen = [], set()
    for node in toposort(outputs):
        for inp in node.inputs:
            if inp.owner is None and id(inp) not in seen:
                seen.add(id(inp))
                found.append(inp)
    for out in outputs:
        if out.owner is None and id(out) not in seen:
            seen.add(id(out))
            found.append(out)
    return found


def ancestors(outputs):
    """Every variable that `outputs` depend on, themselves included."""
    result, stack = set(), list(outputs)
    while stack:
        v = stack.pop()
        if id(v) in result:
            continue
        result.add(id(v))
        if v.owner is not None:
            stack.extend(v.owner.inputs)
    return result


def clone_replace(outputs, replace=None):
    """Copy the graph computing `outputs`, substituting variables by `replace` {old: new}.

    Leaves (inputs, shared variables, constants) are kept as they are unless replaced;
    every Apply node is rebuilt so the copy can be rewritten without touching the original.
    """
    memo = {id(k): v for k, v in (replace or {}).items()}
    for node in toposort(outputs):
        if all(id(o) in memo for o in node.outputs):
            continue
        inputs = [memo.get(id(i), i) for i in node.inputs]
        # an input changed: let the op infer (and check) the types again
        new = copy_node(node, inputs, infer_types=any(a is not b for a, b in zip(inputs, node.inputs)))
        memo.update(zip(map(id, node.outputs), new.outputs))
    return [memo.get(id(o), o) for o in outputs]


def copy_node(node, inputs, op=None, infer_types=False):
    """A new Apply like `node` (or applying `op`) on `inputs`, keeping node's site and output names.

    infer_types=False keeps the old output types (a rewrite's replacement must have them);
    True asks the op again (its inputs changed type). clone_replace and the rewrite engine
    both copy nodes with this."""
    op = op or node.op
    new = op.make_node(*inputs) if infer_types else Apply(op, inputs, [o.type for o in node.outputs])
    new.site = node.site
    for old, out in zip(node.outputs, new.outputs):
        out.name, out.site = old.name, old.site
    return new
