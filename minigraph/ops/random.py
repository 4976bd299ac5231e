"""Random draws inside a graph: `RandomDraw(kind)(state, size, a, b) -> (new state, sample)`.

The state is a uint64 vector [key, counter] held by a shared variable (compile/random_streams.py
makes one per random variable and updates it after every call). A draw is a pure function of the
state: element j of draw number `counter` is a hash (splitmix64) of (key, counter, j), so the
numpy reference and the numba backend (which compiles these same functions) give the same numbers,
and a graph that uses a sample three times sees one draw. Samples are constants for `grad`.
"""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType
from .basic import Shape
from .shape import stack

STATE_TYPE = TensorType("uint64", (False,))
KINDS = ("uniform", "normal", "binomial", "random_integers")

# splitmix64's constants; every operand is a uint64 so that numba, too, keeps uint64 arithmetic.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def uniform01(state, n, stream):
    """n floats in [0, 1) for draw `state` = [key, counter], independent for each `stream`."""
    head = _mix((state[0:1] * _GAMMA) ^ np.uint64(stream))     # 1-element arrays: wrap without a warning
    head = _mix(head ^ (state[1:2] * _M2))
    j = np.arange(1, n + 1).astype(np.uint64)
    return (_mix(head + j * _GAMMA) >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def draw_uniform(state, shape, low, high):
    u = uniform01(state, _count(shape), 0).reshape(shape)
    return low + (high - low) * u


def draw_normal(state, shape, avg, std):
    n = _count(shape)          # Box-Muller: two uniforms per normal
    u1, u2 = uniform01(state, n, 0), uniform01(state, n, 1)
    z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
    return avg + std * z.reshape(shape)


def draw_binomial(state, shape, trials, p):
    """Number of successes in `trials` Bernoulli(p) trials (trials <= 1000 per element)."""
    n = _count(shape)
    trials = np.zeros(shape) + trials             # broadcast to the sample's shape
    p = np.zeros(shape) + p
    most = int(trials.max()) if n else 0
    if most > 1000:
        raise ValueError("RandomStreams.binomial: n above 1000 trials is not supported")
    count = np.zeros(shape)
    for k in range(most):
        count += ((uniform01(state, n, 2 + k).reshape(shape) < p) & (k < trials)) * 1.0
    return count


def draw_random_integers(state, shape, low, high):
    u = uniform01(state, _count(shape), 0).reshape(shape)
    return np.floor(low + (high - low + 1.0) * u)


def _count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


DRAWS = {"uniform": draw_uniform, "normal": draw_normal, "binomial": draw_binomial,
         "random_integers": draw_random_integers}


def next_state(state):
    new = state.copy()
    new[1] += np.uint64(1)
    return new


class RandomDraw(Op):
    """One draw of `kind` with parameters (a, b): (low, high), (avg, std), (n, p) or (low, high)."""

    __props__ = ("kind", "dtype", "broadcastable")

    def __init__(self, kind, dtype, broadcastable):
        if kind not in KINDS:
            raise ValueError(f"RandomDraw: unknown distribution {kind!r}; expected one of {KINDS}")
        self.kind, self.dtype, self.broadcastable = kind, np.dtype(dtype).name, tuple(broadcastable)

    def make_node(self, state, size, a, b):
        state, size, a, b = map(as_variable, (state, size, a, b))
        if state.type != STATE_TYPE:
            raise TypeError(f"random {self.kind}: the state must be a uint64 vector, got {state.type}")
        if size.ndim != 1 or size.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"random {self.kind}: size must be an integer vector, got {size.type}")
        for name, p in (("first parameter", a), ("second parameter", b)):
            if p.ndim > len(self.broadcastable):
                raise TypeError(f"random {self.kind}: the {name} is {p.ndim}-d but the sample is "
                                f"{len(self.broadcastable)}-d")
        return Apply(self, [state, size, a, b], [STATE_TYPE, TensorType(self.dtype, self.broadcastable)])

    def perform(self, node, inputs):
        state, size, a, b = inputs
        shape = tuple(int(s) for s in size)
        if len(shape) != len(self.broadcastable) or any(s < 0 for s in shape):
            raise ValueError(f"random {self.kind}: size {shape} is not a valid "
                             f"{len(self.broadcastable)}-d shape")
        sample = np.broadcast_to(DRAWS[self.kind](state, shape, a, b), shape)
        return [next_state(state), np.ascontiguousarray(sample.astype(self.dtype))]

    def grad(self, inputs, output_grads):
        return [None] * 4            # a sample is a constant: no gradient flows to its parameters

    def pp(self, node, args):
        return f"random_{self.kind}(size={args[1]}, {args[2]}, {args[3]})"


def static_length(size):
    """The number of entries of an integer vector known from its graph (a shape), or None."""
    if size.owner is not None and isinstance(size.owner.op, Shape):
        return size.owner.inputs[0].ndim
    return None


def size_vector(size, ndim, what):
    """(int64 vector variable, ndim, broadcastable) from a tuple/list of ints or scalars or a vector."""
    if isinstance(size, (list, tuple)):
        bcast = tuple(isinstance(s, (int, np.integer)) and s == 1 for s in size)
        if not size:
            return as_variable(np.zeros(0, dtype="int64")), 0, ()
        entries = [as_variable(np.int64(s)) if isinstance(s, (int, np.integer)) else as_variable(s) for s in size]
        return stack(entries), len(size), bcast
    size = as_variable(size)
    if size.ndim != 1:
        raise TypeError(f"{what}: size must be a tuple of ints or an integer vector, got {size.type}")
    known = static_length(size)
    if ndim is None:
        ndim = known
    if ndim is None:
        raise TypeError(f"{what}: cannot tell how many dimensions size={size} has; pass ndim=...")
    return size, ndim, (False,) * ndim

