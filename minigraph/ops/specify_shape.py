"""`specify_shape(x, (3, None))`: x, with its shape stated; a value of another shape is an error
when the graph runs. A dimension stated as 1 becomes broadcastable."""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType


class SpecifyShape(Op):
    __props__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def make_node(self, x):
        x = as_variable(x)
        if len(self.shape) != x.ndim:
            raise ValueError(f"specify_shape: {x} is {x.ndim}-d but the shape {self.shape} has "
                             f"{len(self.shape)} entries")
        bcast = [b or s == 1 for b, s in zip(x.broadcastable, self.shape)]
        return Apply(self, [x], [TensorType(x.dtype, bcast)])

    def perform(self, node, inputs):
        (x,) = inputs
        if any(s is not None and s != n for s, n in zip(self.shape, np.shape(x))):
            raise ValueError(f"specify_shape: {node.inputs[0]} has shape {np.shape(x)}, but its shape was "
                             f"specified as {self.shape}")
        return [x]

    def grad(self, inputs, output_grads):
        return [output_grads[0]]

    def pp(self, node, args):
        return f"specify_shape({args[0]}, {self.shape})"


def specify_shape(x, shape):
    try:
        shape = [None if s is None else int(s) for s in shape]
    except TypeError:
        raise TypeError(f"specify_shape: give the shape as ints (or None for any size), got {shape!r}; "
                        f"symbolic sizes are not supported") from None
    return SpecifyShape(shape)(x)
