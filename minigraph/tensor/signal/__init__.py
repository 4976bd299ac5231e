"""`theano.tensor.signal`: the import paths exist, but pooling and convolution are not supported."""
from . import conv, pool  # noqa: F401
