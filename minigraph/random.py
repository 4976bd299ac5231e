"""Theano's `RandomStreams`: random variables inside graphs, with a state updated at every call.

    srng = RandomStreams(seed=234)
    u = srng.uniform((2, 2))             # a variable; u.rng is its state (a shared variable)
    f = function([], u)                  # each call draws anew: f applies u.rng's default update

Each random variable owns a state [key, counter] (ops/random.py draws from it); its shared
variable's `default_update` is the advanced state, which `function` applies unless the update is
given explicitly or `no_default_updates` is set. `srng.seed(s)` reseeds every state in order.
`rng.get_value()` returns a `RandomStateArray`, which also has numpy.random.RandomState's
`seed`, `get_state` and `set_state`, as the Theano tutorial uses them.
"""
import numpy as np

from .compile.shared import SharedVariable
from .config import config
from .graph import as_variable
from .ops.elemwise import add, mul
from .ops.basic import shape
from .ops.random import STATE_TYPE, RandomDraw, size_vector


def _key(seed):
    """A 64-bit key for a user's seed (any int)."""
    return np.random.SeedSequence(int(seed) % (1 << 63)).generate_state(1, dtype=np.uint64)[0]


class RandomStateArray(np.ndarray):
    """A generator state [key, counter] with the RandomState methods the Theano tutorial calls."""

    def seed(self, seed=None):
        self[0], self[1] = _key(0 if seed is None else seed), 0

    def get_state(self):
        return np.array(self, dtype=np.uint64)

    def set_state(self, state):
        self[...] = np.asarray(state, dtype=np.uint64)


class RandomStateVariable(SharedVariable):
    """The shared variable holding one random variable's state."""

    def get_value(self, borrow=False):
        return super().get_value(borrow).view(RandomStateArray)

    def set_value(self, value, borrow=False):
        super().set_value(np.asarray(value, dtype=np.uint64).view(np.ndarray), borrow)


class RandomStreams:
    """A factory of random variables whose states are seeded from one seed (Theano's API)."""

    def __init__(self, seed=None, **_ignored):      # MRG_RandomStreams' extra arguments (use_cuda)
        self.default_instance_seed = 0 if seed is None else int(seed)
        self.state_updates = []                      # [(state variable, its update)]
        self.gen_seedgen = np.random.RandomState(self.default_instance_seed)

    def seed(self, seed=None):
        """Reseed every random variable made so far (in creation order) from `seed`."""
        self.gen_seedgen = np.random.RandomState(self.default_instance_seed if seed is None else int(seed))
        for state, _ in self.state_updates:
            state.set_value(self._fresh_state())

    @property
    def rstate(self):
        """The state of the generator that seeds new random variables (MRG_RandomStreams' name)."""
        return self.gen_seedgen.get_state()

    @rstate.setter
    def rstate(self, state):
        self.gen_seedgen.set_state(state)

    def updates(self):
        return list(self.state_updates)

    def _fresh_state(self):
        return np.array([_key(self.gen_seedgen.randint(2 ** 30)), 0], dtype=np.uint64)

    def _draw(self, kind, size, a, b, ndim, dtype):
        what = f"RandomStreams.{kind}"
        a, b = as_variable(a), as_variable(b)
        if size is None:                     # the parameters' broadcast shape, as in Theano
            if ndim is None:
                ndim = max(a.ndim, b.ndim)
            size = shape(add(mul(a, 0), mul(b, 0))) if ndim else ()
        size, ndim, bcast = size_vector(size, ndim, what)
        state = RandomStateVariable(STATE_TYPE, self._fresh_state(), name=f"rng_{kind}")
        new_state, sample = RandomDraw(kind, dtype, bcast)(state, size, a, b)
        state.default_update = new_state
        sample.rng, sample.update = state, (state, new_state)
        self.state_updates.append((state, new_state))
        return sample

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, **_ignored):
        """Uniform on [low, high); `nstreams` (MRG's) is accepted and ignored."""
        return self._draw("uniform", size, low, high, ndim, dtype or config.floatX)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, **_ignored):
        return self._draw("normal", size, avg, std, ndim, dtype or config.floatX)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", **_ignored):
        return self._draw("binomial", size, n, p, ndim, dtype)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high], both ends included."""
        return self._draw("random_integers", size, low, high, ndim, dtype)

    def __getattr__(self, name):
        raise AttributeError(f"RandomStreams.{name} is not supported by minigraph; it has uniform, normal, "
                             f"binomial, random_integers, seed and updates")
