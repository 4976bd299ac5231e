"""Indexing: `x[1:3, ::2]`, `x[idx]` with integer arrays, and `set_subtensor` / `inc_subtensor`."""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType
from .basic import dimshuffle, int_scalar
from .elemwise import zeros_like
from .reduce import sum as sum_, sum_to_pattern


# --- indexing -----------------------------------------------------------------------------
# An index is stored as a template with one entry per indexed dimension: ('int', i),
# ('slice', start, stop, step) or ('array', '?'), where i or a bound is a Python int, None, or
# '?' meaning "the next symbolic input". That keeps constant indices in the op (so equal
# indexings merge) and symbolic ones as graph inputs (so they can be computed).

def _split_index(key):
    """The (template, symbolic inputs) of an indexing key without None entries."""
    template, inputs = [], []

    def part(v):
        if v is None or isinstance(v, (int, np.integer)):
            return None if v is None else int(v)
        inputs.append(int_scalar(v))
        return "?"

    for k in key:
        if isinstance(k, slice):
            template.append(("slice", part(k.start), part(k.stop), part(k.step)))
        elif isinstance(k, (int, np.integer)) or (getattr(k, "ndim", None) == 0 and not isinstance(k, np.ndarray)):
            template.append(("int", part(k)))
        else:
            arr = as_variable(k)
            if arr.dtype[:3] not in ("int", "uin"):
                raise TypeError(f"index arrays must be integers, got {arr.type}")
            template.append(("array", "?"))
            inputs.append(arr)
    return tuple(template), inputs


def _build_index(template, values):
    """The NumPy index that `template` stands for, `values` filling its '?' parts in order."""
    values, index = iter(values), []
    for kind, *parts in template:
        parts = [next(values) if p == "?" else p for p in parts]
        index.append(slice(*[None if p is None else int(p) for p in parts]) if kind == "slice"
                     else int(parts[0]) if kind == "int" else np.asarray(parts[0]))
    return tuple(index)


def _index_type(x, template, idx_inputs):
    """The broadcastable pattern of x[index], found by indexing two dummy arrays (sizes 5 and 7, 1
    where x broadcasts): an output dimension is broadcastable when it has size 1 in both."""
    kinds = [kind for kind, *parts in template for p in parts if p == "?"]     # one per symbolic input
    # A symbolic slice bound becomes an open bound; a symbolic int or index array, zeros.
    dummies = [None if kind == "slice" else np.zeros([1 if b else 2 for b in v.broadcastable], dtype="int64")
               for kind, v in zip(kinds, idx_inputs)]
    a, b = [np.zeros([1 if bc else n for bc in x.broadcastable])[_build_index(template, dummies)].shape for n in (5, 7)]
    return [m == n == 1 for m, n in zip(a, b)]


class Subtensor(Op):
    """x[index]: basic (ints, slices) and integer-array indexing, as NumPy does it."""

    __props__ = ("template",)

    def __init__(self, template):
        self.template = template

    def make_node(self, x, *idx_inputs):
        x = as_variable(x)
        if len(self.template) > x.ndim:
            raise IndexError(f"too many indices ({len(self.template)}) for {x} with {x.ndim} dimensions")
        return Apply(self, [x, *idx_inputs], [TensorType(x.dtype, _index_type(x, self.template, idx_inputs))])

    def perform(self, node, inputs):
        x, *idx = inputs
        try:
            return [np.asarray(x[_build_index(self.template, idx)])]
        except IndexError as e:
            raise IndexError(f"{node.inputs[0]}[...] with shape {np.shape(x)}: {e}; "
                             f"built at {node.site[0]}, line {node.site[1]}") from None

    def grad(self, inputs, output_grads):
        x, *idx = inputs
        return [IncSubtensor(self.template)(zeros_like(x), output_grads[0], *idx)] + [None] * len(idx)

    def pp(self, node, args):
        symbolic = iter(args[1:])

        def show(kind, parts):
            parts = ["" if p is None else str(next(symbolic) if p == "?" else p) for p in parts]
            if kind != "slice":
                return parts[0]
            start, stop, step = parts
            return f"{start}:{stop}" + (f":{step}" if step else "")
        return f"{args[0]}[{', '.join(show(kind, parts) for kind, *parts in self.template)}]"


class IncSubtensor(Op):
    """A copy of x with x[index] incremented by y (or set to y). Repeated indices add up."""

    __props__ = ("template", "set_instead_of_inc")

    def __init__(self, template, set_instead_of_inc=False):
        self.template, self.set_instead_of_inc = template, set_instead_of_inc

    def make_node(self, x, y, *idx_inputs):
        x, y = as_variable(x), as_variable(y)
        return Apply(self, [x, y, *idx_inputs], [x.type])

    def perform(self, node, inputs):
        x, y, *idx = inputs
        out, index = np.array(x, copy=True), _build_index(self.template, idx)
        if self.set_instead_of_inc:
            out[index] = y
        else:
            np.add.at(out, index, y)
        return [out]

    def grad(self, inputs, output_grads):
        (x, y, *idx), (gz,) = inputs, output_grads
        gy = Subtensor(self.template)(gz, *idx)
        gx = IncSubtensor(self.template, True)(gz, zeros_like(gy), *idx) if self.set_instead_of_inc else gz
        if gy.ndim > y.ndim:      # y was broadcast into the slot: sum its gradient back to y's shape
            gy = sum_(gy, axis=tuple(range(gy.ndim - y.ndim)))
        return [gx, sum_to_pattern(gy, y.broadcastable)] + [None] * len(idx)


def getitem(x, key):
    """`x[key]`: a Subtensor, then a dimshuffle for the None (newaxis) entries."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        i = key.index(Ellipsis)
        n_real = len([k for k in key if k is not None and k is not Ellipsis])
        key = key[:i] + (slice(None),) * (x.ndim - n_real) + key[i + 1:]
    template, inputs = _split_index([k for k in key if k is not None])
    everything = all(entry == ("slice", None, None, None) for entry in template)
    out = x if everything else Subtensor(template)(x, *inputs)
    if any(k is None for k in key):
        if any(kind == "array" for kind, *_ in template):
            raise IndexError("mixing None (newaxis) with integer-array indices is not supported; "
                             "index first, then use dimshuffle")
        # Each slice keeps the next dimension of `out` (an int index removed its own); None adds one.
        order, dims = [], iter(range(out.ndim))
        for k in key:
            if k is None or isinstance(k, slice):
                order.append("x" if k is None else next(dims))
        out = dimshuffle(out, order + list(dims))
    return out


def inc_subtensor(x_indexed, y, set_instead_of_inc=False):
    """A copy of the indexed tensor with x[index] += y (or = y); `x_indexed` is the expression x[index]."""
    node = x_indexed.owner
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError("set_subtensor/inc_subtensor take an indexed expression like x[1:3]")
    x, *idx = node.inputs
    return IncSubtensor(node.op.template, set_instead_of_inc)(x, y, *idx)


def set_subtensor(x_indexed, y):
    """A copy of the indexed tensor with x[index] = y."""
    return inc_subtensor(x_indexed, y, set_instead_of_inc=True)

