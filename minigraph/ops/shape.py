"""Ops that move elements around without arithmetic: reshape, joining, triangles, diagonals,
ranges and filled arrays. The lowest ones (dimshuffle, rebroadcast, shape) are in basic.py and
indexing in subtensor.py; both are re-exported here, their historical home."""
import numpy as np

from ..graph import LATE_BOUND, Apply, Constant, Op, Variable, as_variable
from ..types import TensorType, upcast
from .basic import INT64_VECTOR, DimShuffle, Rebroadcast, Shape, dimshuffle, int_scalar, shape  # noqa: F401
from .elemwise import zeros_like
from .reduce import sum as sum_
from .subtensor import (IncSubtensor, Subtensor, getitem, inc_subtensor, set_subtensor)  # noqa: F401


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
    tensors = [as_variable(t) for t in tensors]
    if tensors and not -tensors[0].ndim <= axis < max(tensors[0].ndim, 1):
        raise ValueError(f"concatenate: axis {axis} is out of range for {tensors[0].ndim}-d inputs")
    return Join(axis % tensors[0].ndim if tensors and tensors[0].ndim else axis)(*tensors)


def join(axis, *tensors):
    """Theano's `T.join(axis, a, b, ...)`: concatenate along `axis`."""
    return concatenate(tensors, axis)


def stack(*tensors, axis=0):
    """Stack along a new axis: `stack([a, b], axis=1)`, `stack(a, b, c)` (Theano's old form), or
    `stack([a, b], 1)`; a negative axis counts from the end of the result."""
    if len(tensors) == 2 and isinstance(tensors[0], (list, tuple)) and isinstance(tensors[1], int):
        tensors, axis = tensors[0], tensors[1]
    elif len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    tensors = [as_variable(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: nothing to stack")
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for a {ndim}-d result")
    axis %= ndim
    return Join(axis)(*[dimshuffle(t, list(range(axis)) + ["x"] + list(range(axis, t.ndim))) for t in tensors])


def stacklists(nested):
    """A tensor from nested lists of scalars (or tensors): `stacklists([[a, b], [c, d]])` is 2x2."""
    if isinstance(nested, (list, tuple)):
        return stack([stacklists(item) for item in nested])
    return as_variable(nested)


def shape_padleft(x, n_ones=1):
    """x with `n_ones` broadcastable dimensions added in front."""
    x = as_variable(x)
    return dimshuffle(x, ["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x, n_ones=1):
    """x with `n_ones` broadcastable dimensions added at the end."""
    x = as_variable(x)
    return dimshuffle(x, list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x, axis):
    x = as_variable(x)
    axis %= x.ndim + 1
    return dimshuffle(x, list(range(axis)) + ["x"] + list(range(axis, x.ndim)))


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
        return [inc_subtensor(getitem(zeros_like(x), (k, k)), gz)]

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
        return Apply(self, [int_scalar(start), int_scalar(stop), int_scalar(step)], [INT64_VECTOR])

    def perform(self, node, inputs):
        return [np.arange(*[int(i) for i in inputs], dtype="int64")]

    def grad(self, inputs, output_grads):
        return [None, None, None]


def arange(start, stop=None, step=1):
    return ARange()(0, start, step) if stop is None else ARange()(start, stop, step)


class Alloc(Op):
    """A tensor of the given shape filled with a scalar value (`T.zeros`, `T.ones`, `T.alloc`)."""

    def make_node(self, value, *shape_):
        value, shape_ = as_variable(value), [int_scalar(s) for s in shape_]
        bcast = [isinstance(s, Constant) and int(s.data) == 1 for s in shape_]
        return Apply(self, [value, *shape_], [TensorType(value.dtype, bcast)])

    def perform(self, node, inputs):
        value, *shp = inputs
        return [np.full([int(s) for s in shp], value, dtype=node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        return [sum_(output_grads[0])] + [None] * (len(inputs) - 1)

    def pp(self, node, args):
        return f"alloc({', '.join(args)})"


def alloc(value, *shape_):
    return Alloc()(value, *shape_)


LATE_BOUND["stack"] = stack      # as_variable([x, y]) (graph.py) stacks a list holding variables
