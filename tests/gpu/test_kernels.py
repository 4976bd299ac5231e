"""Each CUDA kernel against the NumPy reference backend, on tiny shapes that don't divide the block.

The `geometry` fixture shrinks the launch geometry (4 or 8 threads a block, 2 or 4 tiles, 2-3
blocks a grid), so every test also runs grid-stride loops, partial tiles and two-pass reductions.
"""
import numba
import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function
from minigraph.ops.composite import Composite
from minigraph.ops.elemwise import SCALAR_OPS, Elemwise

SIMULATED = bool(numba.config.ENABLE_CUDASIM)

RNG = np.random.default_rng(0)


def compare(inputs, outputs, values, step, rtol=1e-12, **kw):
    """Run the graph on the reference and on the GPU; same shapes, dtypes and values.
    `step`: the GPU step that must have run (so a silent host fallback can't pass the test)."""
    ref = function(inputs, outputs, backend="numpy", on_unused_input="ignore", **kw)
    gpu = function(inputs, outputs, device="cuda", on_unused_input="ignore", **kw)
    assert gpu.backend_name == "cuda" and step in gpu.source(), gpu.source()
    expected, got = ref(*values), gpu(*values)
    if not isinstance(outputs, (list, tuple)):
        expected, got = [expected], [got]
    for e, g in zip(expected, got):
        assert isinstance(g, np.ndarray) and g.shape == e.shape and g.dtype == e.dtype, (g, e)
        if e.dtype.kind in "biu":
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-14, equal_nan=True)
    return gpu


# --- elementwise ------------------------------------------------------------------------------
BOOL_OPS = {"and_", "or_", "xor", "invert"}


def _operands(name, nin):
    """A matrix, a row and a column (so every op broadcasts), in a domain where the op is defined."""
    if name in BOOL_OPS:
        dtype, make = "bool", lambda shape: RNG.random(shape) < 0.5
    else:
        dtype, make = "float64", lambda shape: RNG.uniform(0.5, 2.0, shape)
    kinds = [T.matrix("m", dtype=dtype), T.row("r", dtype=dtype), T.col("c", dtype=dtype)][:nin]
    values = [make(s) for s in [(3, 5), (1, 5), (3, 1)][:nin]]
    if name == "switch":
        kinds[0], values[0] = T.matrix("m", dtype="bool"), RNG.random((3, 5)) < 0.5
    return kinds, values


@pytest.mark.parametrize("name", [n for n in sorted(SCALAR_OPS) if not n.startswith("cast_")])
def test_every_elementwise_op_with_broadcasting(name, geometry):
    op = SCALAR_OPS[name]
    inputs, values = _operands(name, op.nin)
    compare(inputs, Elemwise(op)(*inputs), values, "elemwise")


@pytest.mark.parametrize("dtype", ["float32", "int8", "int64", "bool"])
def test_casts(dtype, geometry):
    x = T.vector("x")
    compare([x], T.cast(x * 3, dtype), [np.array([-2.5, 0.0, 1.25, 7.75, 100.5])], "elemwise")


def test_fused_tree_is_one_kernel_with_every_pattern(geometry):
    x, v, c, s = T.matrix("x"), T.vector("v"), T.col("c"), T.scalar("s")
    z = T.exp(-x) * v + T.log1p(c * c) / (s + 2) - T.nnet.sigmoid(x * s) + T.nnet.softplus(v - x)
    gpu = compare([x, v, c, s], z, [RNG.normal(size=(5, 7)), RNG.normal(size=7),
                                     RNG.normal(size=(5, 1)), np.float64(0.3)], "elemwise")
    fused = [n for n in gpu.thunk.plan if isinstance(getattr(n.op, "scalar_op", None), Composite)]
    assert len(fused) == 1, gpu.source()


def test_grid_stride_covers_more_elements_than_threads(geometry):
    block, _, max_blocks = geometry
    x = T.vector("x")
    n = 5 * block * max_blocks + 3                # each thread loops five or six times
    compare([x], T.sqrt(x) + 1, [RNG.random(n)], "elemwise")


def test_scalars_and_empty_arrays(geometry):
    a, b, m = T.scalar("a"), T.scalar("b"), T.matrix("m")
    compare([a, b, m], [a * b + 1, T.exp(m) + a], [np.float64(2.0), np.float64(-3.0), np.zeros((0, 3))],
            "elemwise")


def test_stable_helpers_at_extremes(geometry):
    x = T.vector("x")
    values = np.array([-800.0, -40.0, -1e-3, 0.0, 2e-3, 35.0, 800.0, np.nan, np.inf, -np.inf])
    compare([x], [T.nnet.sigmoid(x), T.nnet.softplus(x)], [values], "elemwise")


def test_float32_stays_float32(geometry):
    x, y = T.matrix("x", dtype="float32"), T.row("y", dtype="float32")
    compare([x, y], T.tanh(x) * y + 2, [RNG.random((4, 3), dtype=np.float32),
                                        RNG.random((1, 3), dtype=np.float32)], "elemwise", rtol=1e-6)


# --- dimshuffle, reshape ------------------------------------------------------------------------
def test_transposes_permutations_and_reshapes_of_device_values(geometry):
    x, t = T.matrix("x"), T.tensor(ndim=3, name="t")
    y = x * 2                                     # computed on the device, then moved around
    u = t + 1
    outs = [y.T + 0, (y.T).reshape((-1,)), u.dimshuffle(2, 0, 1) * 1, u.dimshuffle(1, "x", 0, 2) + 0,
            T.addbroadcast(y[:1], 0).dimshuffle(1) + 0, y.reshape((5, 3)) + 0]
    compare([x, t], outs, [RNG.normal(size=(3, 5)), RNG.normal(size=(2, 3, 4))], "dimshuffle")


# --- reductions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2), (1, 2)])
def test_reductions_over_any_axes(axis, geometry):
    x = T.tensor(ndim=3, name="x")
    outs = [x.sum(axis=axis), x.prod(axis=axis), x.max(axis=axis), x.min(axis=axis), x.mean(axis=axis)]
    compare([x], outs, [RNG.uniform(0.8, 1.2, (2, 3, 5))], "reduce")


def test_integer_and_boolean_sums(geometry):
    i, b = T.matrix("i", dtype="int32"), T.matrix("b", dtype="bool")
    compare([i, b], [i.sum(axis=1), i.max(axis=0), b.sum(), b.sum(axis=0), i.mean()],
            [RNG.integers(-50, 50, (3, 11), dtype=np.int32), RNG.random((3, 11)) < 0.3], "reduce")


def test_reductions_of_nan_and_empty(geometry):
    x, e = T.vector("x"), T.matrix("e")
    values = np.array([1.0, 2.0, np.nan, 4.0, 0.5, 7.0, 3.0, 2.0, 1.0])
    compare([x, e], [x.max(), x.min(), x.sum(), e.sum(axis=0), e.prod(axis=0), e.sum(axis=1)],
            [values, np.zeros((0, 3))], "reduce")


def test_reduction_of_an_elementwise_result(geometry):
    y, p = T.vector("y"), T.vector("p")
    compare([y, p], ((y - p) ** 2).mean(), [RNG.random(37), RNG.random(37)], "reduce")


# --- dot ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((1, 1), (1, 1)), ((9, 2), (2, 6)),
                                    ((4, 0), (0, 3)), ((7,), (7, 3)), ((5, 7), (7,)), ((6,), (6,))])
def test_tiled_dot(shapes, geometry):
    a, b = [T.tensor(ndim=len(s), name=n) for s, n in zip(shapes, "ab")]
    compare([a, b], T.dot(a, b), [RNG.normal(size=s) for s in shapes], "dot")


def test_dot_of_transposed_device_values_and_mixed_dtypes(geometry):
    x, w, i = T.matrix("x"), T.matrix("w", dtype="float32"), T.matrix("i", dtype="int64")
    y = x + 1
    compare([x, w, i], [T.dot(y.T, y), T.dot(x, w), T.dot(i, i.T)],
            [RNG.normal(size=(5, 3)), RNG.normal(size=(3, 2)).astype("float32"),
             RNG.integers(-9, 9, (3, 5))], "dot")


# --- softmax ------------------------------------------------------------------------------------
def test_softmax_and_log_softmax_rows(geometry):
    x, v = T.matrix("x"), T.vector("v")
    big = RNG.normal(size=(3, 11)) * 30 + 1000    # exp would overflow without the max shift
    compare([x, v], [T.nnet.softmax(x), T.nnet.log_softmax(x), T.nnet.softmax(v), T.nnet.log_softmax(v * 2)],
            [big, RNG.normal(size=13)], "softmax")
