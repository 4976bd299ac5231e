"""`theano.tensor.shared_randomstreams`: the import path of RandomStreams."""
from ..random import RandomStreams  # noqa: F401
