"""scan beyond the documentation's examples: its errors name what is wrong, go_backwards,
several outputs, taps on sequences, an RNN trained by BPTT, pickling, and the numba backend's
loop giving the numpy reference's numbers."""
import pickle

import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph.random import RandomStreams


def test_errors_say_what_is_wrong():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="give sequences or n_steps"):
        theano.scan(lambda h: h * 2, outputs_info=x)
    with pytest.raises(ValueError, match="returned 1 output\\(s\\) but outputs_info has 2"):
        theano.scan(lambda h, g: h * 2, outputs_info=[x, x], n_steps=3)
    with pytest.raises(TypeError, match="output 0 of the step function is 0-d but its initial value"):
        theano.scan(lambda h: h.sum(), outputs_info=x, n_steps=3)
    with pytest.raises(TypeError, match="until: the condition must be a scalar"):
        theano.scan_module.until(x > 0)
    with pytest.raises(TypeError, match="scalar; sequences are iterated"):
        theano.scan(lambda v: v, sequences=x.sum())
    xs = T.dmatrix("xs")
    out, _ = theano.scan(lambda v: v * 2, sequences=xs, n_steps=5)
    # 5 steps asked, 3 rows given: the loop runs min(5, 3) steps, as in Theano
    assert theano.function([xs], out)(np.ones((3, 2))).shape == (3, 2)


def test_go_backwards_several_outputs_and_sequence_taps():
    x = T.dvector("x")
    (run, diff), _ = theano.scan(lambda prev, cur, acc: [acc + cur, cur - prev],
                                 sequences=dict(input=x, taps=[-1, 0]), outputs_info=[np.float64(0), None])
    back, _ = theano.scan(lambda v, acc: acc + v, sequences=x, outputs_info=np.float64(0), go_backwards=True)
    for backend in ("numpy", "numba"):
        f = theano.function([x], [run, diff, back], backend=backend)
        r, d, b = f(np.array([1.0, 4, 9, 16]))
        np.testing.assert_allclose(r, [4, 13, 29])
        np.testing.assert_allclose(d, [3, 5, 7])
        np.testing.assert_allclose(b, [16, 25, 29, 30])


def test_an_rnn_trains_by_bptt_and_the_numba_loop_matches_numpy():
    rng = np.random.default_rng(1)
    W = theano.shared(0.3 * rng.normal(size=(4, 4)), name="W")
    U = theano.shared(0.3 * rng.normal(size=(1, 4)), name="U")
    v = theano.shared(0.3 * rng.normal(size=4), name="v")
    xs, target = T.dmatrix("xs"), T.dvector("target")
    H, _ = theano.scan(lambda x_t, h: T.tanh(T.dot(h, W) + T.dot(x_t, U)), sequences=xs, outputs_info=T.zeros((4,)))
    cost = ((T.dot(H, v) - target) ** 2).mean()
    params = [W, U, v]
    grads = T.grad(cost, params)
    start = [p.get_value() for p in params]
    data = np.sin(np.linspace(0, 6, 20))[:, None], np.cos(np.linspace(0, 6, 20))
    losses = {}
    for backend in ("numpy", "numba"):
        for p, s in zip(params, start):
            p.set_value(s)
        train = theano.function([xs, target], cost, updates=[(p, p - 0.2 * g) for p, g in zip(params, grads)],
                                backend=backend)
        losses[backend] = [float(train(*data)) for _ in range(60)]
    assert losses["numpy"][-1] < 0.5 * losses["numpy"][0]
    np.testing.assert_allclose(losses["numba"], losses["numpy"], rtol=1e-9)
    assert "scan_body_" in train.source()       # the loop really is in the numba kernel


def test_random_draws_inside_scan_advance_the_state_and_pickle():
    srng = RandomStreams(3)
    noise, updates = theano.scan(lambda: srng.normal((2,)), n_steps=4)
    f = theano.function([], noise, updates=updates)
    a, b = f(), f()
    assert a.shape == (4, 2) and len({r.tobytes() for r in a}) == 4 and not np.array_equal(a, b)
    g = pickle.loads(pickle.dumps(f))
    assert g().shape == (4, 2)


def test_map_reduce_foldl_foldr():
    x = T.dvector("x")
    squares, _ = theano.map(lambda v: v ** 2, x)
    total, _ = theano.reduce(lambda v, acc: acc + v, x, np.float64(0))
    left, _ = theano.foldl(lambda v, acc: acc * 10 + v, x, np.float64(0))
    right, _ = theano.foldr(lambda v, acc: acc * 10 + v, x, np.float64(0))
    f = theano.function([x], [squares, total, left, right], backend="numpy")
    s, t, lft, rgt = f(np.array([1.0, 2, 3]))
    np.testing.assert_allclose(s, [1, 4, 9])
    assert (t, lft, rgt) == (6, 123, 321)


def test_a_body_returning_its_input_unchanged_compiles_with_numba():
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    (rows, doubled), _ = theano.scan(lambda x, h: [x, h * 2], sequences=X, outputs_info=[None, h0])
    f = theano.function([X, h0], [rows, doubled], backend="numba")
    assert "scan_body_" in f.source()
    r, d = f(np.arange(6.0).reshape(3, 2), np.ones(2))
    np.testing.assert_array_equal(r, np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(d, [[2, 2], [4, 4], [8, 8]])


def test_binomial_with_too_many_trials_says_so():
    draw = RandomStreams(1).binomial((2,), n=5000, p=0.5)
    with pytest.raises(ValueError, match="n above 1000 trials is not supported"):
        theano.function([], draw, backend="numpy")()


def test_until_stops_the_loop_and_the_gradient_runs_over_the_steps_done():
    x, limit = T.dscalar("x"), T.dscalar("limit")
    powers, _ = theano.scan(lambda p, x: (p * x, theano.scan_module.until(p * x > limit)),
                            outputs_info=T.constant(1.0), non_sequences=x, n_steps=50)
    cost = powers.sum()
    for backend in ("numpy", "numba"):
        f = theano.function([x, limit], [powers, T.grad(cost, x)], backend=backend)
        values, g = f(1.5, 10.0)
        np.testing.assert_allclose(values, 1.5 ** np.arange(1, 7))       # 1.5**6 = 11.4 > 10: stop
        np.testing.assert_allclose(g, sum(k * 1.5 ** (k - 1) for k in range(1, 7)))
        assert len(f(1.5, 1e9)[0]) == 50                                  # n_steps is the most


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid", "exp"])
def test_the_backward_loop_reads_the_forward_outputs_instead_of_recomputing_them(nonlinearity):
    from minigraph.ops.scan import Scan
    # (each one's gradient is written with its output: tanh' = 1 - tanh^2, exp' = exp)
    f = {"tanh": T.tanh, "sigmoid": T.nnet.sigmoid, "exp": T.exp}[nonlinearity]
    x, h0, W, U = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U")
    hs, _ = theano.scan(lambda x_t, h, W, U: f(T.dot(x_t, W) + T.dot(h, U)), sequences=x, outputs_info=h0,
                        non_sequences=[W, U])
    cost = (hs[-1] ** 2).sum() + hs.mean()
    grads = T.grad(cost, [W, U, h0])
    backward = [n.op for n in theano.graph.toposort(grads) if isinstance(n.op, Scan) and n.op is not hs.owner.op]
    assert len(backward) == 1
    body_ops = [str(n.op) for n in theano.graph.toposort(backward[0].inner_outputs)]
    assert not [o for o in body_ops if nonlinearity in o], body_ops
    # the forward step's products x_t W and h U are not made again (only the gradient's own
    # products: dh U', x_t' da, h' da and da W')
    assert not [n for n in theano.graph.toposort(backward[0].inner_outputs)
                if n.op.__class__.__name__ == "Dot" and n.inputs[1] in backward[0].inner_inputs[-2:]], body_ops
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)) * 0.2,
              rng.normal(size=(4, 4)) * 0.2]
    for backend in ("numpy", "numba"):
        got = theano.function([x, h0, W, U], grads, backend=backend)(*values)
        cost_of = theano.function([x, h0, W, U], cost, backend="numpy")
        for k, g in zip([2, 3, 1], got):             # central differences, element by element
            numeric = np.zeros_like(values[k])
            for i in np.ndindex(values[k].shape):
                up, down = [v.copy() for v in values], [v.copy() for v in values]
                up[k][i] += 1e-6
                down[k][i] -= 1e-6
                numeric[i] = (cost_of(*up) - cost_of(*down)) / 2e-6
            np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7)


def test_per_step_outputs_nothing_reads_are_not_computed():
    from minigraph.ops.scan import Scan
    x, h0, W = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W")
    hs, _ = theano.scan(lambda x_t, h, W: T.tanh(x_t + T.dot(h, W)), sequences=x, outputs_info=h0, non_sequences=W)
    cost = (hs[-1] ** 2).sum()
    rng = np.random.default_rng(1)
    values = [rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * 0.3]

    def loops(f):
        return [n.op for n in theano.graph.toposort(f.graph) if isinstance(n.op, Scan)]
    only_w = theano.function([x, h0, W], T.grad(cost, W), backend="numpy")
    with_x = theano.function([x, h0, W], T.grad(cost, [W, x]), backend="numpy")
    # the backward loop's d cost / d x_t: dropped where only W's gradient is asked for, kept for x's
    assert sorted(op.n_nitsot for op in loops(only_w)) == [0, 0]
    assert sorted(op.n_nitsot for op in loops(with_x)) == [0, 1]
    unrewritten = theano.function([x, h0, W], T.grad(cost, [W, x]), backend="numpy", excluding=["unused_scan_outputs"])
    for backend in ("numpy", "numba"):
        f = theano.function([x, h0, W], T.grad(cost, W), backend=backend)
        np.testing.assert_allclose(f(*values), unrewritten(*values)[0], rtol=1e-12)
        g_w, g_x = theano.function([x, h0, W], T.grad(cost, [W, x]), backend=backend)(*values)
        np.testing.assert_allclose(g_x, unrewritten(*values)[1], rtol=1e-12)
