"""Neural-network helpers: sigmoid, softplus, softmax, log-softmax and the usual losses."""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType, float_dtype
from .basic import dimshuffle, shape
from .elemwise import exp, log, sigmoid, softplus  # noqa: F401  (sigmoid, softplus: re-exported as T.nnet.*)
from .reduce import sum
from .shape import arange
from .subtensor import getitem


class Softmax(Op):
    """softmax along the last axis (each row of a matrix sums to one)."""

    __props__ = ("log",)

    def __init__(self, log=False):
        self.log = log

    def make_node(self, x):
        x = as_variable(x)
        if x.ndim not in (1, 2):
            raise TypeError(f"softmax expects a vector or a matrix, got {x} ({x.type})")
        return Apply(self, [x], [TensorType(float_dtype(x.dtype), x.broadcastable)])

    def perform(self, node, inputs):
        (x,) = inputs
        shifted = x - np.max(x, axis=-1, keepdims=True)   # no overflow for large inputs
        logsum = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
        out = shifted - logsum if self.log else np.exp(shifted - logsum)
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        out = self(x)
        if self.log:
            return [gz - exp(out) * sum(gz, axis=-1, keepdims=True)]
        return [(gz - sum(gz * out, axis=-1, keepdims=True)) * out]

    def pp(self, node, args):
        return f"{'log_softmax' if self.log else 'softmax'}({args[0]})"


def _as_rows(x):
    # Theano's softmax of a vector is a 1xN row (the vector as one row of a batch).
    x = as_variable(x)
    return dimshuffle(x, ("x", 0)) if x.ndim == 1 else x


def softmax(x):
    return Softmax(False)(_as_rows(x))


def log_softmax(x):
    return Softmax(True)(_as_rows(x))


def categorical_crossentropy(coding_dist, true_dist):
    """-log p[true class] per row; `true_dist` is an int vector of classes or a one-hot matrix."""
    coding_dist, true_dist = as_variable(coding_dist), as_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -sum(true_dist * log(coding_dist), axis=-1)
    rows = arange(shape(coding_dist)[0])
    return -log(getitem(coding_dist, (rows, true_dist)))


def binary_crossentropy(output, target):
    return -(target * log(output) + (1 - target) * log(1 - output))
