"""Ops that move elements around without arithmetic: transpose, reshape, indexing, joining."""
import numpy as np

from ..graph import Apply, Constant, Op, Variable, as_variable
from ..types import TensorType, upcast

INT64_VECTOR = TensorType("int64", (False,))     # shapes and aranges


def _int_scalar(v):
    v = as_variable(np.int64(v) if isinstance(v, int) else v)
    if v.ndim != 0 or v.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"expected an integer scalar, got {v} of type {v.type}")
    return v


def _zeros_like(x):
    from .elemwise import zeros_like      # elemwise imports this module
    return zeros_like(x)


def _shuffle(x, order):
    """DimShuffle on a NumPy array: drop the axes not in `order` (size 1), permute, insert the 'x' axes."""
    kept = [d for d in order if d != "x"]
    y = np.transpose(np.reshape(x, [n for d, n in enumerate(np.shape(x)) if d in kept]),
                     np.argsort(np.argsort(kept)) if kept else ())
    return y.reshape([1 if d == "x" else np.shape(x)[d] for d in order])


class DimShuffle(Op):
    """Reorders dimensions; 'x' inserts a broadcastable one. `x.T`, `x[:, None]` and
    `x.dimshuffle(1, 0)` are all this op. Only broadcastable dimensions may be dropped."""

    __props__ = ("new_order",)

    def __init__(self, new_order):
        self.new_order = tuple(new_order)
        self.kept = [d for d in self.new_order if d != "x"]

    def make_node(self, x):
        x = as_variable(x)
        if sorted(self.kept) != sorted(set(self.kept)) or any(not 0 <= d < x.ndim for d in self.kept):
            raise ValueError(f"dimshuffle{self.new_order}: invalid order for a {x.ndim}-d input")
        for d in range(x.ndim):
            if d not in self.kept and not x.broadcastable[d]:
                raise ValueError(f"dimshuffle{self.new_order} drops dimension {d} of {x}, "
                                 f"which is not broadcastable ({x.type})")
        bcast = [True if d == "x" else x.broadcastable[d] for d in self.new_order]
        return Apply(self, [x], [TensorType(x.dtype, bcast)])

    def perform(self, node, inputs):
        return [_shuffle(inputs[0], self.new_order)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        # Drop the inserted axes, undo the permutation, reinsert the dropped (size-1) axes.
        gz = dimshuffle(gz, [i for i, d in enumerate(self.new_order) if d != "x"])
        return [dimshuffle(gz, [self.kept.index(d) if d in self.kept else "x" for d in range(x.ndim)])]

    def pp(self, node, args):
        if self.kept == sorted(self.kept):      # only adds broadcastable axes: printed as the value itself
            return args[0]
        return f"{args[0]}.T" if self.new_order == (1, 0) else f"{args[0]}.dimshuffle{self.new_order}"


def dimshuffle(x, order):
    order, x = tuple(order), as_variable(x)
    if order == tuple(range(x.ndim)):
        return x
    if isinstance(x, Constant):   # reshape the constant itself: no node for the graph to carry
        return Constant(TensorType(x.dtype, [d == "x" or x.broadcastable[d] for d in order]),
                        _shuffle(x.data, order), name=x.name, weak=x.weak)
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
        return Apply(self, [as_variable(x)], [INT64_VECTOR])

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
        if isinstance(shp, (list, tuple)):        # entries are ints or int scalars: stacked into a vector
            shp = [s if isinstance(s, Variable) else np.int64(s) for s in shp]
        shp = as_variable(shp)
        # A dimension is broadcastable when its size is the constant 1, in a constant shape or a stacked list.
        if isinstance(shp, Constant):
            sizes = list(shp.data)
        elif shp.owner is not None and isinstance(shp.owner.op, Join):
            sizes = [i.data.item() if isinstance(i, Constant) and i.data.size == 1 else None for i in shp.owner.inputs]
        else:
            sizes = [None] * self.ndim
        return Apply(self, [x, shp], [TensorType(x.dtype, [s == 1 for s in sizes])])

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
    x, shp = as_variable(x), newshape
    if ndim is None and isinstance(shp, (list, tuple)):
        ndim = len(shp)
    elif ndim is None:
        shp = as_variable(shp)
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
        inputs.append(_int_scalar(v))
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
        return [IncSubtensor(self.template)(_zeros_like(x), output_grads[0], *idx)] + [None] * len(idx)

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
        from .reduce import sum as sum_, sum_to_pattern
        (x, y, *idx), (gz,) = inputs, output_grads
        gy = Subtensor(self.template)(gz, *idx)
        gx = IncSubtensor(self.template, True)(gz, _zeros_like(gy), *idx) if self.set_instead_of_inc else gz
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


class Join(Op):
    """Concatenate tensors along `axis`."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, *tensors):
        tensors = [as_variable(t) for t in tensors]
        if len({t.ndim for t in tensors}) != 1:
            raise ValueError(f"concatenate: all inputs need the same number of dimensions, got "
                             f"{[t.ndim for t in tensors]}")
        bcast = [all(bs) for bs in zip(*[t.broadcastable for t in tensors])]
        if bcast:
            bcast[self.axis] = False
        return Apply(self, tensors, [TensorType(upcast([t.dtype for t in tensors]), bcast)])

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
            g = getitem(gz, (slice(None),) * self.axis + (slice(start, stop),))
            grads.append(g if t.type.is_float() else None)
            start = stop
        return grads

    def pp(self, node, args):
        return f"concatenate([{', '.join(args)}], axis={self.axis})"


def concatenate(tensors, axis=0):
    return Join(axis)(*tensors)


def stack(tensors, axis=0):
    tensors = [as_variable(t) for t in tensors]
    return Join(axis)(*[dimshuffle(t, list(range(axis)) + ["x"] + list(range(axis, t.ndim))) for t in tensors])


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
        return [inc_subtensor(getitem(_zeros_like(x), (k, k)), gz)]

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
    return AllocDiag()(x) if x.ndim == 1 else ExtractDiag()(x)


class ARange(Op):
    """Integers start, start+step, ... below stop (an int64 vector)."""

    def make_node(self, start, stop, step):
        return Apply(self, [_int_scalar(start), _int_scalar(stop), _int_scalar(step)], [INT64_VECTOR])

    def perform(self, node, inputs):
        return [np.arange(*[int(i) for i in inputs], dtype="int64")]

    def grad(self, inputs, output_grads):
        return [None, None, None]


def arange(start, stop=None, step=1):
    return ARange()(0, start, step) if stop is None else ARange()(start, stop, step)


class Alloc(Op):
    """A tensor of the given shape filled with a scalar value (`T.zeros`, `T.ones`, `T.alloc`)."""

    def make_node(self, value, *shape_):
        value, shape_ = as_variable(value), [_int_scalar(s) for s in shape_]
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
