"""`theano.tensor.nnet`: `from minigraph.tensor.nnet import sigmoid, softmax, binary_crossentropy`."""
from ..ops.elemwise import sigmoid, softplus  # noqa: F401
from ..ops.nnet import (binary_crossentropy, categorical_crossentropy, log_softmax,  # noqa: F401
                         softmax)
from ..ops.elemwise import ge as _ge, switch as _switch


def relu(x, alpha=0):
    """max(x, 0), or x * alpha where x < 0 (a leaky relu), as Theano's `T.nnet.relu`."""
    return _switch(_ge(x, 0), x, x * alpha)


def ultra_fast_sigmoid(x):
    return sigmoid(x)     # Theano's approximations; here the exact sigmoid


hard_sigmoid = ultra_fast_sigmoid


def conv2d(*args, **kwargs):
    raise NotImplementedError("minigraph does not support convolutions (theano.tensor.nnet.conv2d); "
                              "write the network with T.dot, or use a library built for CNNs")
