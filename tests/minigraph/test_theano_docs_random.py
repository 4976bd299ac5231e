"""Theano's doc/tutorial/examples.txt, "Using Random Numbers" (and doc/library/tensor/
shared_randomstreams.txt), run as written but for the import lines, on the numpy and numba
backends. Theano's generator is not ours, so where the documentation prints draws the tests check
what it says of them (equal, different, nearly zero), plus the distributions' moments."""
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph.tensor.shared_randomstreams import RandomStreams
from theano_doc_snippets import backend, run  # noqa: F401  (backend: a fixture)

SETUP = '''
    from theano.tensor.shared_randomstreams import RandomStreams
    from theano import function
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2,2))
    rv_n = srng.normal((2,2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)    #Not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
'''


def test_draws_change_at_every_call_unless_no_default_updates(backend):
    _, ns = run(SETUP)
    f_val0, f_val1 = ns["f"](), ns["f"]()
    g_val0, g_val1 = ns["g"](), ns["g"]()
    assert f_val0.shape == (2, 2) and np.all((0 <= f_val0) & (f_val0 < 1))
    assert not np.allclose(f_val0, f_val1)
    assert np.array_equal(g_val0, g_val1) and not np.allclose(g_val0, f_val0)
    np.testing.assert_allclose(ns["nearly_zeros"](), np.zeros((2, 2)), atol=1e-15)


def test_seeding_one_variable_and_all_of_them(backend):
    _, ns = run(SETUP)
    run('''
        rng_val = rv_u.rng.get_value(borrow=True)   # Get the rng for rv_u
        rng_val.seed(89234)                         # seeds the generator
        rv_u.rng.set_value(rng_val, borrow=True)    # Assign back seeded rng
        a = f()
        rng_val.seed(89234)
        rv_u.rng.set_value(rng_val, borrow=True)
        b = f()
        srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
        c = f()
        srng.seed(902340)
        d = f()
    ''', ns)
    assert np.array_equal(ns["a"], ns["b"]) and np.array_equal(ns["c"], ns["d"])
    assert not np.allclose(ns["a"], ns["c"])


def test_sharing_streams_between_functions(backend):
    _, ns = run(SETUP)
    printed, _ = run('''
        state_after_v0 = rv_u.rng.get_value().get_state()
        print(nearly_zeros())       # this affects rv_u's generator
        v1 = f()
        rng = rv_u.rng.get_value(borrow=True)
        rng.set_state(state_after_v0)
        rv_u.rng.set_value(rng, borrow=True)
        v2 = f()             # v2 != v1
        v3 = f()             # v3 == v1
    ''', ns)
    assert printed.split() == ["[[0.", "0.]", "[0.", "0.]]"]
    assert not np.allclose(ns["v2"], ns["v1"]) and np.array_equal(ns["v3"], ns["v1"])


def test_copying_random_state_between_graphs(backend):
    _, ns = run('''
        import theano
        import numpy
        import theano.tensor as T
        from theano.sandbox.rng_mrg import MRG_RandomStreams
        from theano.tensor.shared_randomstreams import RandomStreams
        class Graph():
            def __init__(self, seed=123):
                self.rng = RandomStreams(seed)
                self.y = self.rng.uniform(size=(1,))
        g1 = Graph(seed=123)
        f1 = theano.function([], g1.y)
        g2 = Graph(seed=987)
        f2 = theano.function([], g2.y)
        before = f1(), f2()
        def copy_random_state(g1, g2):
            if isinstance(g1.rng, MRG_RandomStreams):
                g2.rng.rstate = g1.rng.rstate
            for (su1, su2) in zip(g1.rng.state_updates, g2.rng.state_updates):
                su2[0].set_value(su1[0].get_value())
        copy_random_state(g1, g2)
        after = f1(), f2()
    ''')
    (a1, a2), (b1, b2) = ns["before"], ns["after"]
    assert a1.shape == (1,) and a1 != a2          # out of sync, then in sync
    assert b1 == b2


def test_moments_of_each_distribution(backend):
    srng = RandomStreams(seed=7)
    n = 200_000
    u, z = srng.uniform((n,), low=-1.0, high=3.0), srng.normal((n,), avg=2.0, std=0.5)
    b, k = srng.binomial((n,), n=5, p=0.3), srng.random_integers((n,), low=2, high=4)
    uv, zv, bv, kv = theano.function([], [u, z, b, k])()
    assert -1 <= uv.min() and uv.max() < 3 and abs(uv.mean() - 1) < 0.02 and abs(uv.var() - 16 / 12) < 0.02
    assert abs(zv.mean() - 2) < 0.01 and abs(zv.std() - 0.5) < 0.01
    assert bv.dtype == np.int64 and set(np.unique(bv)) <= set(range(6)) and abs(bv.mean() - 1.5) < 0.02
    assert set(np.unique(kv)) == {2, 3, 4}


def test_numba_draws_the_numpy_reference_numbers():
    srng = RandomStreams(seed=3)
    mu = T.dvector("mu")
    x = srng.normal(size=mu.shape, avg=mu) + srng.binomial(size=(4,), p=0.5)
    state = [s.get_value() for s, _ in srng.updates()]
    ref = theano.function([mu], x, backend="numpy")([0, 1, 2, 3.0])
    for (s, _), v in zip(srng.updates(), state):
        s.set_value(v)
    assert np.array_equal(theano.function([mu], x, backend="numba")([0, 1, 2, 3.0]), ref)


def test_gradients_treat_samples_as_constants_and_dropout_trains():
    srng = RandomStreams(seed=1)
    x, w = T.dmatrix("x"), theano.shared(np.ones(3), name="w")
    mask = srng.binomial(size=x.shape, p=0.5, dtype="float64")
    cost = ((x * mask).dot(w) ** 2).sum()
    gw = T.grad(cost, w)
    step = theano.function([x], [cost, gw, mask], updates=[(w, w - 0.01 * gw)], backend="numpy")
    xv = np.arange(12.0).reshape(4, 3)
    c, g, m = step(xv)
    np.testing.assert_allclose(g, 2 * ((xv * m) @ np.ones(3)) @ (xv * m))   # the mask as a constant
    masks = [step(xv)[2] for _ in range(5)]
    assert len({m.tobytes() for m in masks}) > 1          # a new dropout mask at each step


def test_no_default_updates_as_a_list_and_explicit_updates_win():
    srng = RandomStreams(seed=11)
    a, b = srng.uniform((3,)), srng.uniform((3,))
    f = theano.function([], [a, b], no_default_updates=[a.rng])
    (a0, b0), (a1, b1) = f(), f()
    assert np.array_equal(a0, a1) and not np.array_equal(b0, b1)
    g = theano.function([], a, updates=[a.update])       # the (state, new state) pair, given explicitly
    assert not np.array_equal(g(), g())
    with pytest.raises(AttributeError, match="RandomStreams.multinomial is not supported"):
        srng.multinomial((3,), pvals=[0.5, 0.5])
