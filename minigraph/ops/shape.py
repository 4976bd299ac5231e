"""Ops that move elements around without arithmetic: transpose, reshape, indexing, joining."""
import numpy as np

from ..graph import Apply, Constant, Op, as_variable
from ..types import TensorType


def _lvector_type():
    return TensorType("int64", (False,))


def _int_scalar(v):
    v = as_variable(v)
    if v.ndim != 0 or v.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"expected an integer scalar, got {v} of type {v.type}")
    return v


class DimShuffle(Op):
    """Reorders dimensions; 'x' inserts a broadcastable one. `x.T`, `x[:, None]` and
    `x.dimshuffle(1, 0)` are all this op. Only broadcastable dimensions may be dropped."""

    __props__ = ("new_order",)

    def __init__(self, new_order):
        self.new_order = tuple(new_order)

    def make_node(self, x):
        x = as_variable(x)
        kept = [d for d in self.new_order if d != "x"]
        if sorted(kept) != sorted(set(kept)) or any(not 0 <= d < x.ndim for d in kept):
            raise ValueError(f"dimshuffle{self.new_order}: invalid order for a {x.ndim}-d input")
        for d in range(x.ndim):
            if d not in kept and not x.broadcastable[d]:
                raise ValueError(f"dimshuffle{self.new_order} drops dimension {d} of {x}, "
                                 f"which is not broadcastable ({x.type})")
        bcast = [True if d == "x" else x.broadcastable[d] for d in self.new_order]
        return Apply(self, [x], [TensorType(x.dtype, bcast)])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = [d for d in self.new_order if d != "x"]
        dropped = tuple(d for d in range(x.ndim) if d not in kept)
        y = np.transpose(x.reshape([n for d, n in enumerate(x.shape) if d not in dropped]),
                         np.argsort(np.argsort(kept))) if dropped else np.transpose(x, kept)
        return [y.reshape([1 if d == "x" else x.shape[d] for d in self.new_order])]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        kept = [d for d in self.new_order if d != "x"]
        # Drop the inserted axes, undo the permutation, reinsert the dropped (size-1) axes.
        gz = dimshuffle(gz, [i for i, d in enumerate(self.new_order) if d != "x"])
        inverse = [kept.index(d) if d in kept else "x" for d in range(x.ndim)]
        return [dimshuffle(gz, inverse)]

    def pp(self, node, args):
        kept = [d for d in self.new_order if d != "x"]
        if kept == sorted(kept):      # only adds broadcastable axes: printed as the value itself
            return args[0]
        if self.new_order == (1, 0):
            return f"{args[0]}.T"
        return f"{args[0]}.dimshuffle{self.new_order}"


def dimshuffle(x, order):
    order = tuple(order)
    x = as_variable(x)
    if order == tuple(range(x.ndim)):
        return x
    if isinstance(x, Constant):   # reshape the constant itself: no node for the graph to carry
        kept = [d for d in order if d != "x"]
        data = np.transpose(x.data.reshape([n for d, n in enumerate(x.data.shape) if d in kept]),
                            np.argsort(np.argsort(kept)) if kept else ())
        data = data.reshape([1 if d == "x" else x.data.shape[d] for d in order])
        out = Constant(TensorType(x.dtype, [d == "x" or x.broadcastable[d] for d in order]), data,
                       name=x.name, weak=x.weak)
        return out
    return DimShuffle(order)(x)


class Rebroadcast(Op):
    """Declares dimensions `axes` broadcastable; checks at run time that they have size 1."""

    __props__ = ("axes",)

    def __init__(self, axes):
        self.axes = tuple(sorted(axes))

    def make_node(self, x):
        x = as_variable(x)
        bcast = [b or d in self.axes for d, b in enumerate(x.broadcastable)]
        return Apply(self, [x], [TensorType(x.dtype, bcast)])

    def perform(self, node, inputs):
        (x,) = inputs
        for d in self.axes:
            if x.shape[d] != 1:
                raise ValueError(f"addbroadcast: dimension {d} of {node.inputs[0]} has size {x.shape[d]}, "
                                 f"not 1; built at {node.site[0]}, line {node.site[1]}")
        return [x]

    def grad(self, inputs, output_grads):
        return [output_grads[0]]


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    def make_node(self, x):
        return Apply(self, [as_variable(x)], [_lvector_type()])

    def perform(self, node, inputs):
        return [np.asarray(np.shape(inputs[0]), dtype="int64")]

    def grad(self, inputs, output_grads):
        return [None]

    def pp(self, node, args):
        return f"{args[0]}.shape"


def shape(x):
    return Shape()(x)


class Reshape(Op):
    """Reshape to a shape given as an int vector (a -1 entry is inferred)."""

    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = ndim

    def make_node(self, x, shp):
        x = as_variable(x)
        static = None
        if isinstance(shp, (list, tuple)):
            static = [int(s.data) if isinstance(s, Constant) else (s if isinstance(s, int) else None) for s in shp]
            shp = as_variable([as_variable(s) if not isinstance(s, int) else as_variable(np.int64(s))
                               for s in shp]) if any(not isinstance(s, int) for s in shp) \
                else as_variable(np.asarray(shp, dtype="int64"))
        shp = as_variable(shp)
        if isinstance(shp, Constant):
            static = [int(s) for s in shp.data]
        elif shp.owner is not None and isinstance(shp.owner.op, Join) and static is None:
            static = [int(i.data.item()) if isinstance(i, Constant) and i.data.size == 1 else None
                      for i in shp.owner.inputs]
        bcast = [s == 1 for s in static] if static else [False] * self.ndim
        return Apply(self, [x, shp], [TensorType(x.dtype, bcast)])

    def perform(self, node, inputs):
        x, shp = inputs
        try:
            return [np.reshape(x, tuple(int(s) for s in shp))]
        except ValueError:
            raise ValueError(f"reshape: cannot reshape {node.inputs[0]} of shape {np.shape(x)} "
                             f"to {tuple(shp)}; built at {node.site[0]}, line {node.site[1]}") from None

    def grad(self, inputs, output_grads):
        x, _ = inputs
        return [reshape(output_grads[0], shape(x), ndim=x.ndim), None]

    def pp(self, node, args):
        return f"reshape({args[0]}, {args[1]})"


def reshape(x, newshape, ndim=None):
    x = as_variable(x)
    if ndim is None:
        if isinstance(newshape, (list, tuple)):
            ndim = len(newshape)
        else:
            shp = as_variable(newshape)
            if isinstance(shp, Constant):
                ndim = shp.data.size
            elif shp.owner is not None and isinstance(shp.owner.op, Shape):
                ndim = shp.owner.inputs[0].ndim
            else:
                raise ValueError("reshape: pass ndim= when the new shape is symbolic")
    return Reshape(ndim)(x, newshape)


def flatten(x, ndim=1):
    x = as_variable(x)
    if ndim == 1:
        return reshape(x, (-1,))
    return reshape(x, [shape(x)[i] for i in range(ndim - 1)] + [-1])


# --- indexing -----------------------------------------------------------------------------
# An index is stored as a template: each entry is ('int', v), ('slice', a, b, c) or
# ('array',), where an int/bound is a Python int, None, or '?' meaning "the next symbolic
# input". That keeps constant indices in the op (so equal indexings merge) and symbolic ones
# as graph inputs (so they can be computed).

def _split_index(key):
    if not isinstance(key, tuple):
        key = (key,)
    template, inputs = [], []

    def part(v):
        if v is None or isinstance(v, (int, np.integer)):
            return None if v is None else int(v)
        inputs.append(_int_scalar(v))
        return "?"

    for k in key:
        if isinstance(k, slice):
            template.append(("slice", part(k.start), part(k.stop), part(k.step)))
        elif isinstance(k, (int, np.integer)) or (hasattr(k, "ndim") and k.ndim == 0 and not isinstance(k, np.ndarray)):
            template.append(("int", part(k)))
        else:
            arr = as_variable(k)
            if arr.dtype[:3] not in ("int", "uin"):
                raise TypeError(f"index arrays must be integers, got {arr.type}")
            template.append(("array",))
            inputs.append(arr)
    return tuple(template), inputs


def _build_index(template, values):
    values = iter(values)
    out = []
    for entry in template:
        pick = [next(values) if p == "?" else p for p in entry[1:]] if entry[0] != "array" else [next(values)]
        if entry[0] == "slice":
            out.append(slice(*[None if p is None else int(p) for p in pick]))
        elif entry[0] == "int":
            out.append(int(pick[0]))
        else:
            out.append(np.asarray(pick[0]))
    return tuple(out)


def _index_type(x, template, idx_inputs):
    """Infer the output pattern by indexing a small dummy array (sizes 1 where broadcastable)."""
    def dummy_value(var):
        return np.zeros([1 if b else 2 for b in var.broadcastable], dtype="int64")
    dummies = [dummy_value(v) if v.ndim else 0 for v in idx_inputs]
    safe = []
    for entry in template:   # symbolic slice bounds become open bounds for the dummy
        safe.append(("slice", *[None if p == "?" else p for p in entry[1:]]) if entry[0] == "slice" else entry)
    out_a = np.zeros([1 if b else 5 for b in x.broadcastable])[_build_index(tuple(safe), dummies)]
    out_b = np.zeros([1 if b else 7 for b in x.broadcastable])[_build_index(tuple(safe), dummies)]
    return [a == 1 and b == 1 for a, b in zip(out_a.shape, out_b.shape)]


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
        return [IncSubtensor(self.template)(zeros_like_(x), output_grads[0], *idx)] + [None] * len(idx)

    def pp(self, node, args):
        it = iter(args[1:])
        parts = []
        for entry in self.template:
            if entry[0] == "slice":
                a, b, c = [("" if p is None else str(next(it) if p == "?" else p)) for p in entry[1:]]
                parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
            elif entry[0] == "int":
                parts.append(str(next(it) if entry[1] == "?" else entry[1]))
            else:
                parts.append(next(it))
        return f"{args[0]}[{', '.join(parts)}]"


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
        out = np.array(x, copy=True)
        index = _build_index(self.template, idx)
        if self.set_instead_of_inc:
            out[index] = y
        else:
            np.add.at(out, index, y)
        return [out]

    def grad(self, inputs, output_grads):
        x, y, *idx = inputs
        (gz,) = output_grads
        sub = Subtensor(self.template)
        gx = IncSubtensor(self.template, True)(gz, zeros_like_(sub(gz, *idx)), *idx) \
            if self.set_instead_of_inc else gz
        from .reduce import sum_to_pattern
        gy = sub(gz, *idx)
        # y may have been broadcast into the slot: sum its gradient back to y's shape.
        if gy.ndim > y.ndim:
            from .reduce import sum as sum_
            gy = sum_(gy, axis=tuple(range(gy.ndim - y.ndim)))
        return [gx, sum_to_pattern(gy, y.broadcastable)] + [None] * len(idx)


def zeros_like_(x):
    from .elemwise import zeros_like
    return zeros_like(x)


def getitem(x, key):
    """`x[key]`: None (newaxis) entries become a dimshuffle after the indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis for k in key):
        i = key.index(Ellipsis)
        n_real = len([k for k in key if k is not None and k is not Ellipsis])
        key = key[:i] + (slice(None),) * (x.ndim - n_real) + key[i + 1:]
    real = tuple(k for k in key if k is not None)
    if len(real) == 0 or all(isinstance(k, slice) and k == slice(None) for k in real):
        out = x
    else:
        template, inputs = _split_index(real)
        out = Subtensor(template)(x, *inputs)
    if any(k is None for k in key):
        if any(e[0] == "array" for e in _split_index(real)[0]):
            raise IndexError("mixing None (newaxis) with integer-array indices is not supported; "
                             "index first, then use dimshuffle")
        # Walk the key, tracking which output dimension of the indexing each entry maps to.
        order, out_dim = [], 0
        for k in key:
            if k is None:
                order.append("x")
            elif isinstance(k, slice):
                order.append(out_dim)
                out_dim += 1
            # an integer index removes its dimension: nothing to add
        order += list(range(out_dim, out.ndim))
        out = dimshuffle(out, order)
    return out


def set_subtensor(x_indexed, y):
    """A copy of the indexed tensor with x[index] = y; `x_indexed` is the expression x[index]."""
    return _inc_or_set(x_indexed, y, True)


def inc_subtensor(x_indexed, y):
    """A copy of the indexed tensor with x[index] += y."""
    return _inc_or_set(x_indexed, y, False)


def _inc_or_set(x_indexed, y, set_):
    node = x_indexed.owner
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError("set_subtensor/inc_subtensor take an indexed expression like x[1:3]")
    x, *idx = node.inputs
    return IncSubtensor(node.op.template, set_)(x, y, *idx)


class Join(Op):
    """Concatenate tensors along `axis`."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, *tensors):
        tensors = [as_variable(t) for t in tensors]
        ndims = {t.ndim for t in tensors}
        if len(ndims) != 1:
            raise ValueError(f"concatenate: all inputs need the same number of dimensions, got "
                             f"{[t.ndim for t in tensors]}")
        from ..types import upcast
        dtype = upcast([t.dtype for t in tensors])
        bcast = [all(bs) for bs in zip(*[t.broadcastable for t in tensors])]
        if bcast:
            bcast[self.axis] = False
        return Apply(self, tensors, [TensorType(dtype, bcast)])

    def perform(self, node, inputs):
        try:
            return [np.concatenate(inputs, axis=self.axis).astype(node.outputs[0].dtype)]
        except ValueError:
            raise ValueError(f"concatenate along axis {self.axis}: shapes {[np.shape(i) for i in inputs]} "
                             f"don't fit; built at {node.site[0]}, line {node.site[1]}") from None

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        grads, start = [], as_variable(np.int64(0))
        for t in inputs:
            stop = start + shape(t)[self.axis]
            key = (slice(None),) * self.axis + (slice(start, stop),)
            g = getitem(gz, key)
            grads.append(g if t.type.is_float() else None)
            start = stop
        return grads

    def pp(self, node, args):
        return f"concatenate([{', '.join(args)}], axis={self.axis})"


def concatenate(tensors, axis=0):
    return Join(axis)(*tensors)


def stack(tensors, axis=0):
    tensors = [as_variable(t) for t in tensors]
    expanded = [dimshuffle(t, list(range(axis)) + ["x"] + list(range(axis, t.ndim))) for t in tensors]
    return Join(axis)(*expanded)


class Tril(Op):
    """Lower (or, with lower=False, upper) triangle of a matrix, zeros elsewhere."""

    __props__ = ("k", "lower")

    def __init__(self, k=0, lower=True):
        self.k, self.lower = k, lower

    def make_node(self, x):
        x = as_variable(x)
        if x.ndim != 2:
            raise ValueError(f"tril/triu needs a matrix, got {x} of type {x.type}")
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        return [(np.tril if self.lower else np.triu)(inputs[0], self.k)]

    def grad(self, inputs, output_grads):
        return [Tril(self.k, self.lower)(output_grads[0])]

    def pp(self, node, args):
        return f"{'tril' if self.lower else 'triu'}({args[0]})"


def tril(x, k=0):
    return Tril(k, True)(x)


def triu(x, k=0):
    return Tril(k, False)(x)


class ExtractDiag(Op):
    """The diagonal of a matrix, as a vector."""

    def make_node(self, x):
        x = as_variable(x)
        if x.ndim != 2:
            raise ValueError(f"diag of a {x.ndim}-d tensor: expected a matrix or a vector")
        return Apply(self, [x], [TensorType(x.dtype, (False,))])

    def perform(self, node, inputs):
        return [np.diagonal(inputs[0]).copy()]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        k = arange(shape(gz)[0])
        return [inc_subtensor(getitem(zeros_like_(x), (k, k)), gz)]

    def pp(self, node, args):
        return f"diag({args[0]})"


class AllocDiag(Op):
    """A square matrix with the vector on its diagonal."""

    def make_node(self, v):
        v = as_variable(v)
        return Apply(self, [v], [TensorType(v.dtype, (False, False))])

    def perform(self, node, inputs):
        return [np.diag(inputs[0])]

    def grad(self, inputs, output_grads):
        return [ExtractDiag()(output_grads[0])]

    def pp(self, node, args):
        return f"diag({args[0]})"


def diag(x):
    """Like numpy.diag: the diagonal of a matrix, or a diagonal matrix from a vector."""
    x = as_variable(x)
    if x.ndim == 1:
        return AllocDiag()(x)
    return ExtractDiag()(x)


class ARange(Op):
    """Integers start, start+step, ... below stop (an int64 vector)."""

    def make_node(self, start, stop, step):
        start, stop, step = _int_scalar(start), _int_scalar(stop), _int_scalar(step)
        return Apply(self, [start, stop, step], [_lvector_type()])

    def perform(self, node, inputs):
        return [np.arange(*[int(i) for i in inputs], dtype="int64")]

    def grad(self, inputs, output_grads):
        return [None, None, None]


def arange(start, stop=None, step=1):
    if stop is None:
        start, stop = 0, start
    return ARange()(np.int64(start) if isinstance(start, int) else start,
                    np.int64(stop) if isinstance(stop, int) else stop,
                    np.int64(step) if isinstance(step, int) else step)


class Alloc(Op):
    """A tensor of the given shape filled with a scalar value (`T.zeros`, `T.ones`, `T.alloc`)."""

    def make_node(self, value, *shape_):
        value = as_variable(value)
        shape_ = [_int_scalar(np.int64(s) if isinstance(s, int) else s) for s in shape_]
        bcast = [isinstance(s, Constant) and int(s.data) == 1 for s in shape_]
        return Apply(self, [value, *shape_], [TensorType(value.dtype, bcast)])

    def perform(self, node, inputs):
        value, *shp = inputs
        return [np.full([int(s) for s in shp], value, dtype=node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        from .reduce import sum as sum_
        return [sum_(output_grads[0])] + [None] * (len(inputs) - 1)

    def pp(self, node, args):
        return f"alloc({', '.join(args)})"


def alloc(value, *shape_):
    return Alloc()(value, *shape_)
