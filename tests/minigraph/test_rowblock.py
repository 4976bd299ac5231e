"""Row regions (numba_cpu/rowblock.py): X @ w, its rowwise work and X.T @ g run 4 rows at a time.
The numba kernel must give the numpy reference's numbers whatever the number of rows (many groups,
a partial last one, fewer than a group, none at all) and dtype, reject a wrong-length vector as the reference does, and leave
alone a graph whose gradient needs a whole-column value. Also the rewrite that makes the step
blockable: shape(elementwise(x, ...)) -> shape(x)."""
import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function, rewrite, shared
from minigraph.graph import toposort
from minigraph.ops.basic import Shape


def logistic_step(backend, N, D, centred=False, seed=1):
    """One training step of logistic regression (bench/run.py's) and its data."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, D)), (rng.random(N) > 0.5).astype(float)
    x, t = T.dmatrix("x"), T.dvector("y")
    w, b = shared(rng.normal(size=D) * 0.1, name="w"), shared(0.0, name="b")
    p = 1 / (1 + T.exp(-T.dot(x, w) - b))
    if centred:                       # the gradient then needs the mean over all rows first
        p = 0.5 * p + 0.25 * p.mean()
    xent = -t * T.log(p) - (1 - t) * T.log(1 - p)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, t], [p > 0.5, xent, gw], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                     backend=backend)
    return train, X, y, (w, b)


def run_steps(backend, N, D, **kw):
    train, X, y, (w, b) = logistic_step(backend, N, D, **kw)
    outs = [train(X, y) for _ in range(3)]
    return train, outs, w.get_value(), b.get_value()


# (N, D): many groups of 4 rows with a partial last one; fewer rows than one group; no rows at all
@pytest.mark.parametrize("N, D", [(3001, 784), (200, 30), (3, 5), (6, 1), (0, 5)])
def test_blocked_step_gives_the_reference_numbers(N, D):
    ref, ref_outs, ref_w, ref_b = run_steps("numpy", N, D)
    fast, outs, w, b = run_steps("numba", N, D)
    assert "rows_dot(v0, " in fast.source() and "rows_axpy(" in fast.source(), "the gradient's product did not run in the row region"
    for ref_step, step in zip(ref_outs, outs):
        for r, o in zip(ref_step, step):
            assert r.shape == o.shape and r.dtype == o.dtype
            np.testing.assert_allclose(o, r, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(w, ref_w, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b, ref_b, rtol=1e-10, atol=1e-13)
    if N:                             # and the step really learns something
        assert np.abs(w - logistic_step("numpy", N, D)[3][0].get_value()).max() > 1e-4


@pytest.mark.parametrize("rows", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_row_helpers_match_numpy_for_every_group_size(rows, dtype):
    from minigraph.backends.numba_cpu.rows import rows_axpy, rows_dot
    rng = np.random.default_rng(rows)
    x, w = rng.normal(size=(9, 37)).astype(dtype), rng.normal(size=37).astype(dtype)
    sums, acc, g = np.full(4, np.nan, dtype), np.ones(37, dtype), rng.normal(size=4).astype(dtype)
    rows_dot(x, 2, 2 + rows, w, sums)
    rows_axpy(acc, x, 2, 2 + rows, g)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(sums[:rows], x[2:2 + rows] @ w, rtol=tol, atol=tol)
    assert np.isnan(sums[rows:]).all()                  # nothing written past the group
    np.testing.assert_allclose(acc, 1 + x[2:2 + rows].T @ g[:rows], rtol=tol, atol=tol)


def test_a_float32_step_stays_float32():
    rng = np.random.default_rng(5)
    x, t = T.fmatrix("x"), T.fvector("t")
    w = shared(rng.normal(size=50).astype("float32"), name="w")
    p = T.nnet.sigmoid(T.dot(x, w))
    g = T.grad(T.nnet.binary_crossentropy(p, t).mean(), w)
    X, y = rng.normal(size=(1001, 50)).astype("float32"), (rng.random(1001) > 0.5).astype("float32")
    fast, ref = (function([x, t], [g, p], backend=b) for b in ("numba", "numpy"))
    assert "rows_axpy(" in fast.source()
    for got, want in zip(fast(X, y), ref(X, y)):
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-5)


def test_a_row_input_computed_before_the_region_is_read_per_row():
    """g reads exp(y) * 2, a value the kernel may leave lazy (no array) until a loop reads it."""
    rng = np.random.default_rng(6)
    x, w, y = T.dmatrix("x"), T.dvector("w"), T.dvector("y")
    g = T.tanh(T.dot(x, w)) * (T.exp(y) * 2) - y
    values = [rng.normal(size=(103, 20)), rng.normal(size=20), rng.normal(size=103)]
    fast, ref = (function([x, w, y], [T.dot(x.T, g), g], backend=b) for b in ("numba", "numpy"))
    assert "rows_axpy(" in fast.source()
    for got, want in zip(fast(*values), ref(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_wrong_length_targets_raise_as_the_reference_does():
    messages = []
    for backend in ("numpy", "numba"):
        train, X, y, _ = logistic_step(backend, 3001, 784)
        with pytest.raises(ValueError) as error:
            train(X, y[:-1])
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert "3000" in messages[1] and "3001" in messages[1]


def test_a_gradient_needing_a_column_mean_is_not_blocked():
    ref, ref_outs, ref_w, _ = run_steps("numpy", 3001, 784, centred=True)
    fast, outs, w, _ = run_steps("numba", 3001, 784, centred=True)
    assert "rows_dot(" not in fast.source()
    for ref_step, step in zip(ref_outs, outs):
        for r, o in zip(ref_step, step):
            np.testing.assert_allclose(o, r, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(w, ref_w, rtol=1e-9, atol=1e-12)


def shapes_of(outputs):
    return [node.inputs[0] for node in toposort(outputs) if isinstance(node.op, Shape)]


def test_shape_of_elementwise_reads_an_unbroadcast_input():
    x, y = T.dvectors("x", "y")
    z = T.exp(x) * y
    steps = rewrite.trace(z.shape)
    assert any("shape_of_elemwise" in fired for _, _, fired in steps)
    f = function([x, y], z.shape)
    assert [v.name for v in shapes_of(f.graph)] in (["x"], ["y"])
    np.testing.assert_array_equal(f(np.ones(4), np.ones(4)), [4])
    with pytest.raises(ValueError):          # the sizes still have to agree where z is computed
        function([x, y], [z, z.shape])(np.ones(4), np.ones(3))


def test_shape_of_a_broadcast_elementwise_is_left_alone():
    row, col = T.drow("r"), T.dcol("c")
    z = row + col                             # every input broadcasts somewhere: no donor
    f = function([row, col], z.shape)
    assert shapes_of(f.graph) and all(v.owner is not None for v in shapes_of(f.graph))
    np.testing.assert_array_equal(f(np.ones((1, 5)), np.ones((3, 1))), [3, 5])
    m = T.dmatrix("m")
    g = function([m, row], (m * row).shape)   # m broadcasts nowhere: its shape is the result's
    assert [v.name for v in shapes_of(g.graph)] == ["m"]
    np.testing.assert_array_equal(g(np.ones((3, 5)), np.ones((1, 5))), [3, 5])


def test_a_square_step_reading_w_per_row_is_not_blocked():
    """With N == D, g may read w elementwise next to the rows: w must not be cut into blocks."""
    rng = np.random.default_rng(3)
    x, w = T.dmatrix("x"), T.dvector("w")
    g = T.tanh(T.dot(x, w)) * w
    values = [rng.normal(size=(900, 900)), rng.normal(size=900)]
    fast, ref = (function([x, w], [T.dot(x.T, g), g], backend=b) for b in ("numba", "numpy"))
    assert "rows_dot(" not in fast.source()
    for got, want in zip(fast(*values), ref(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_x_t_x_w_runs_in_one_pass():
    """g may be the forward product itself: X.T @ (X @ w)."""
    rng = np.random.default_rng(4)
    x, w = T.dmatrix("x"), T.dvector("w")
    fast, ref = (function([x, w], T.dot(x.T, T.dot(x, w)), backend=b) for b in ("numba", "numpy"))
    values = [rng.normal(size=(2001, 700)), rng.normal(size=700)]
    assert "rows_dot(v0, " in fast.source() and "rows_axpy(" in fast.source()
    np.testing.assert_allclose(fast(*values), ref(*values), rtol=1e-10, atol=1e-10)
