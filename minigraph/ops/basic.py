"""The ops every other op family builds on: reordering dimensions, declaring them broadcastable,
reading a shape. They need only the core, so elemwise, reduce and the rest can all use them."""
import numpy as np

from ..graph import Apply, Constant, Op, as_variable
from ..types import TensorType

INT64_VECTOR = TensorType("int64", (False,))     # shapes and aranges


def int_scalar(v):
    v = as_variable(np.int64(v) if isinstance(v, int) else v)
    if v.ndim != 0 or v.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"expected an integer scalar, got {v} of type {v.type}")
    return v


def lost_broadcast_axes(broadcastable, var):
    """Dimensions broadcastable in `broadcastable` but not in var's type (a gradient that was
    stretched there must be summed back, or stated to have size 1)."""
    return [d for d, (b, vb) in enumerate(zip(broadcastable, var.broadcastable)) if b and not vb]


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


