"""Reductions over axes: sum, prod, max, min, mean."""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType, float_dtype
from .basic import dimshuffle, lost_broadcast_axes, shape
from .elemwise import cast, eq, fill


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a {ndim}-d tensor")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


class Reduce(Op):
    """Reduce over `axis` (a sorted tuple of dimensions) with one of sum/prod/max/min/mean."""

    __props__ = ("kind", "axis")
    _numpy = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "mean": np.mean}

    def __init__(self, kind, axis):
        self.kind, self.axis = kind, tuple(axis)

    def make_node(self, x):
        x = as_variable(x)
        dtype = x.dtype
        if self.kind in ("sum", "prod") and dtype in ("bool", "int8", "int16", "int32"):
            dtype = "int64"     # as NumPy does, so counting with sum(x > 0) doesn't overflow
        if self.kind == "mean":
            dtype = float_dtype(dtype)
        bcast = [b for d, b in enumerate(x.broadcastable) if d not in self.axis]
        return Apply(self, [x], [TensorType(dtype, bcast)])

    def perform(self, node, inputs):
        (x,) = inputs
        if self.kind in ("max", "min") and any(np.shape(x)[a] == 0 for a in self.axis):
            raise ValueError(f"{self.kind} of an empty dimension of {node.inputs[0]} (shape {np.shape(x)}); "
                             f"built at {node.site[0]}, line {node.site[1]}")
        return [np.asarray(self._numpy[self.kind](x, axis=self.axis), dtype=node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if not x.type.is_float():
            return [None]
        # Put the reduced axes back (as broadcastable) so gz lines up with x.
        order, k = [], 0
        for d in range(x.ndim):
            if d in self.axis:
                order.append("x")
            else:
                order.append(k)
                k += 1
        gz_full = dimshuffle(gz, order)
        out_full = dimshuffle(self(x), order)
        if self.kind == "sum":
            return [fill(x, gz_full)]
        if self.kind == "mean":
            return [fill(x, gz_full) / cast(axis_size(x, self.axis), x.dtype)]
        if self.kind == "prod":
            return [gz_full * out_full / x]
        return [gz_full * eq(x, out_full)]     # max/min: the gradient goes to the extreme entries

    def pp(self, node, args):
        axis = "" if len(self.axis) == node.inputs[0].ndim else f", axis={self.axis if len(self.axis) > 1 else self.axis[0]}"
        return f"{self.kind}({args[0]}{axis})"


def axis_size(x, axes):
    """The number of elements along `axes` of x, as a symbolic int64 scalar."""
    n = as_variable(np.int64(1))
    for a in axes:
        n = n * shape(x)[a]
    return n


def _reduce(kind, x, axis=None, keepdims=False):
    x = as_variable(x)
    axes = _normalize_axis(axis, x.ndim)
    out = Reduce(kind, axes)(x) if axes else x
    if keepdims:
        order, k = [], 0
        for d in range(x.ndim):
            if d in axes:
                order.append("x")
            else:
                order.append(k)
                k += 1
        out = dimshuffle(out, order)
    return out


def sum(x, axis=None, keepdims=False):
    return _reduce("sum", x, axis, keepdims)


def prod(x, axis=None, keepdims=False):
    return _reduce("prod", x, axis, keepdims)


def max(x, axis=None, keepdims=False):
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _reduce("min", x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    x = as_variable(x)
    if not _normalize_axis(axis, x.ndim):
        return cast(x, float_dtype(x.dtype))
    return _reduce("mean", x, axis, keepdims)


class Argmax(Op):
    """Index of the largest entry along one axis (None: of the flattened tensor). No gradient."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, x):
        x = as_variable(x)
        bcast = () if self.axis is None else [b for d, b in enumerate(x.broadcastable) if d != self.axis]
        return Apply(self, [x], [TensorType("int64", bcast)])

    def perform(self, node, inputs):
        return [np.asarray(np.argmax(inputs[0], axis=self.axis), dtype="int64")]

    def grad(self, inputs, output_grads):
        return [None]

    def pp(self, node, args):
        return f"argmax({args[0]}, axis={self.axis})"


def argmax(x, axis=None):
    x = as_variable(x)
    return Argmax(None if axis is None else _normalize_axis(axis, x.ndim)[0])(x)


def sum_to_pattern(g, broadcastable):
    """Sum g over the dimensions that are broadcastable in the target but not in g."""
    axes = lost_broadcast_axes(broadcastable, g)
    return sum(g, axis=axes, keepdims=True) if axes else g
