"""`theano.tensor.signal.conv`: not supported (minigraph has no convolution ops)."""


def conv2d(*args, **kwargs):
    raise NotImplementedError("theano.tensor.signal.conv.conv2d is not supported by minigraph "
                              "(no convolution ops)")
