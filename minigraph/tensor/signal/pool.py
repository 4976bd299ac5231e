"""`theano.tensor.signal.pool`: not supported (minigraph has no pooling ops)."""


def _unsupported(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"theano.tensor.signal.pool.{name} is not supported by minigraph "
                                  f"(no pooling ops); for small inputs, write it with reshape and T.max")
    fn.__name__ = name
    return fn


pool_2d = _unsupported("pool_2d")
max_pool_2d_same_size = _unsupported("max_pool_2d_same_size")
Pool = _unsupported("Pool")
