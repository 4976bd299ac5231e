"""The matrix product `Dot` (vectors and matrices, as numpy.dot) and `outer`, built on it."""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType, upcast
from .basic import dimshuffle


class Dot(Op):
    """dot(a, b) for a, b vectors or matrices, as numpy.dot. Scalars go through `*` instead."""

    def make_node(self, a, b):
        a, b = as_variable(a), as_variable(b)
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise TypeError(f"dot: expected vectors or matrices, got {a} ({a.type}) and {b} ({b.type})")
        bcast = list(a.broadcastable[:-1]) + list(b.broadcastable[1:] if b.ndim == 2 else [])
        dtype = upcast([a.dtype, b.dtype])
        return Apply(self, [a, b], [TensorType(dtype, bcast)])

    def perform(self, node, inputs):
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            na, nb = node.inputs
            raise ValueError(f"dot: shapes {a.shape} ({na.name or 'first'}) and {b.shape} "
                             f"({nb.name or 'second'}) are not aligned: {a.shape[-1]} != {b.shape[0]}; "
                             f"built at {node.site[0]}, line {node.site[1]}")
        return [np.asarray(np.dot(a, b), dtype=node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        (a, b), (gz,) = inputs, output_grads
        if a.ndim == 1 and b.ndim == 1:          # inner product -> scalar
            ga, gb = gz * b, gz * a
        elif a.ndim == 2 and b.ndim == 1:        # matrix @ vector
            ga, gb = outer(gz, b), dot(a.T, gz)
        elif a.ndim == 1 and b.ndim == 2:        # vector @ matrix
            ga, gb = dot(b, gz), outer(a, gz)
        else:
            ga, gb = dot(gz, b.T), dot(a.T, gz)
        return [ga if a.type.is_float() else None, gb if b.type.is_float() else None]

    def pp(self, node, args):
        return f"dot({args[0]}, {args[1]})"


def dot(a, b):
    a, b = as_variable(a), as_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return Dot()(a, b)


def outer(u, v):
    return dot(dimshuffle(u, (0, "x")), dimshuffle(v, ("x", 0)))
