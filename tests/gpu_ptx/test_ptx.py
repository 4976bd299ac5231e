"""Every kernel the CUDA backend generates for the course's graphs compiles to PTX for real GPUs.

The simulator (tests/gpu) runs kernels as Python, so it can't see what only the CUDA compiler
rejects: failed type inference, functions device code lacks, non-constant shared-memory sizes.
Here each graph runs once on a stand-in device (host arrays posing as device arrays) that records
every launch's kernel source and argument types, as numba.cuda would type them, instead of
running it; each recorded kernel is then compiled with numba.cuda.compile_ptx, which needs
libNVVM but no GPU or driver. The stand-in results are zeros: only shapes and dtypes matter.
"""
import contextlib
from types import SimpleNamespace

import numba
import numpy as np
import pytest
from numba import types

import minigraph.tensor as T
from minigraph import function, shared
from minigraph.backends import numba_cuda
from minigraph.ops.elemwise import SCALAR_OPS, Elemwise

ARCHS = [(8, 0), (9, 0)]            # compute capabilities: A100, H100


def compile_ptx(source, argtypes, cc=(8, 0)):
    """The PTX of a generated kernel for compute capability `cc`, given its argument types (numba
    types). It needs libNVVM but no GPU or driver, so it checks, where the simulator can't, that a
    kernel compiles for real hardware. (Test-only: it lived in minigraph/backends/numba_cuda.py.)"""
    # Even in compile_ptx, numba compiles what a kernel calls (the backend's device functions, and
    # builtins it implements with @overload: max, min, int()...) for the current device's compute
    # capability: with no GPU here, that device is stood in by one of capability `cc`, as on a real
    # such GPU. numba has no argument for this, so its lookup is patched for the call.
    from numba.cuda import dispatcher
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dispatcher, "get_current_device", lambda: SimpleNamespace(compute_capability=cc))
        return numba.cuda.compile_ptx(numba_cuda._kernel_function(source), tuple(argtypes), cc=cc)[0]


@pytest.fixture(scope="module", autouse=True)
def libnvvm():
    if numba.config.ENABLE_CUDASIM:
        pytest.skip("NUMBA_ENABLE_CUDASIM=1: the simulator has no compiler; run tests/gpu_ptx in a "
                    "pytest process of its own, without it")
    from numba.cuda.cudadrv import nvvm
    if not nvvm.is_available():
        pytest.skip("libNVVM not found: `pip install -e .[dev]` installs it (nvidia-cuda-nvcc-cu12), "
                    "or set CUDA_HOME to a CUDA toolkit")


class StandIn(np.ndarray):
    """Host memory posing as a numba.cuda device array: all the backend uses of one."""

    def copy_to_host(self):
        return np.array(self)

    def is_c_contiguous(self):
        return self.flags.c_contiguous


def numba_type(arg):
    """The type numba.cuda gives a launch argument (for arrays, DeviceNDArray._numba_type_)."""
    if not isinstance(arg, np.ndarray):
        return numba.typeof(arg)
    broadcast = 0 in arg.strides
    layout = ("C" if arg.flags.c_contiguous and not broadcast else
              "F" if arg.flags.f_contiguous and not broadcast else "A")
    return types.Array(numba.from_dtype(arg.dtype), arg.ndim, layout)


class Recorder:
    """Stands in for numba_cuda._kernel(source): `[grid, block](*args)` records, runs nothing."""

    def __init__(self, launches, source):
        self.launches, self.source = launches, source

    def __getitem__(self, geometry):                 # launches: a dict used as an ordered set
        return lambda *args: self.launches.setdefault((self.source, tuple(map(numba_type, args))), None)


@contextlib.contextmanager
def stand_in_device():
    """Yields the (source, argument types) of each distinct kernel launch of the graphs run inside."""
    launches = {}
    device = SimpleNamespace(is_available=lambda: True, to_device=lambda a: np.array(a).view(StandIn),
                             device_array=lambda shape, dtype: np.zeros(shape, dtype).view(StandIn))
    with pytest.MonkeyPatch.context() as patch:          # host-side calls only: kernels see numba.cuda
        patch.setattr(numba_cuda, "cuda", device)
        patch.setattr(numba_cuda, "_kernel", lambda source: Recorder(launches, source))
        yield launches


def run(inputs, outputs, values, updates=None):
    """Compile the graph for the GPU and call it once; its plan (one line per node: how it runs)."""
    f = function(inputs, outputs, updates=updates, device="cuda", on_unused_input="ignore")
    f(*values)
    return f.source()


def assert_compiles(launches, plan, expected_steps):
    """Each launched kernel compiles to PTX for each of ARCHS; `expected_steps` (kinds of kernel)
    must be in the plan, so a silent fallback to the host can't pass the test."""
    assert launches, f"no kernel launched:\n{plan}"
    missing = [step for step in expected_steps if step not in plan]
    assert not missing, f"{missing} did not run on the device:\n{plan}"
    failures = []
    for (kernel, argtypes) in launches:
        for cc in ARCHS:
            try:
                ptx = compile_ptx(kernel, argtypes, cc=cc)
                assert ".entry" in ptx and f".target sm_{cc[0]}{cc[1]}" in ptx, ptx[:500]
            except Exception as error:             # collect them all: one bug often breaks many kernels
                failures.append(f"--- sm_{cc[0]}{cc[1]}, argument types {argtypes}:\n{kernel}"
                                f"{type(error).__name__}: {str(error)[:2000]}")
                break
    assert not failures, f"{len(failures)} of {len(launches)} kernels don't compile:\n" + "\n".join(failures)


RNG = np.random.default_rng(0)
F64, F32 = "float64", "float32"


# --- elementwise: every op, broadcasting, fusion, casts, copies ---------------------------------
def _operands(name, nin, dtype):
    """A matrix, a row and a column (so every op broadcasts)."""
    dtype = "bool" if name in {"and_", "or_", "xor", "invert"} else dtype
    kinds = [T.matrix("m", dtype=dtype), T.row("r", dtype=dtype), T.col("c", dtype=dtype)][:nin]
    values = [np.ones(s, dtype=dtype) for s in [(3, 5), (1, 5), (3, 1)][:nin]]
    if name == "switch":
        kinds[0], values[0] = T.matrix("m", dtype="bool"), np.ones((3, 5), dtype="bool")
    return kinds, values


@pytest.mark.parametrize("dtype", [F64, F32, "int64"])
def test_every_elementwise_op_with_broadcasting(dtype):
    with stand_in_device() as launches:
        plans = [run(inputs, Elemwise(op)(*inputs), values)
                 for name, op in sorted(SCALAR_OPS.items()) if not name.startswith("cast_")
                 for inputs, values in [_operands(name, op.nin, dtype)]]
    assert_compiles(launches, "\n".join(plans), ["elemwise"])


def test_fused_trees_casts_and_copies():
    x, v, c, s = T.matrix("x"), T.vector("v"), T.col("c"), T.scalar("s")
    i, t = T.matrix("i", dtype="int32"), T.tensor(ndim=3, name="t", dtype=F32)
    fused = T.exp(-x) * v + T.log1p(c * c) / (s + 2) - T.nnet.sigmoid(x * s) + T.nnet.softplus(v - x)
    y = x * 2                                     # computed on the device, then moved around
    outs = [fused, x + x, T.tanh(t) * 2 + 1, i * 3 + 1, i / 2, T.switch(x > 0, x, 0 * x),
            *[T.cast(x * 3, d) for d in ["float32", "int8", "int64", "bool"]],
            y.T + 0, (y.T).reshape((-1,)), t.dimshuffle(2, 0, 1) * 1, t.dimshuffle(1, "x", 0, 2) + 0]
    with stand_in_device() as launches:
        plan = run([x, v, c, s, i, t], outs, [np.ones((3, 5)), np.ones(5), np.ones((3, 1)), np.float64(2),
                                              np.ones((3, 5), "int32"), np.ones((2, 3, 4), F32)])
    assert_compiles(launches, plan, ["elemwise", "dimshuffle"])


# --- reductions: each kind over each axis, in one pass and in two ---------------------------------
@pytest.mark.parametrize("dtype", [F64, F32, "int32", "bool"])
def test_reductions(dtype):
    x = T.tensor(ndim=3, name="x", dtype=dtype)
    kinds = ["sum", "mean"] if dtype == "bool" else ["sum", "prod", "max", "min", "mean"]
    outs = [getattr(x, kind)(axis=axis) for kind in kinds for axis in [None, 0, 1, 2, (0, 2), (1, 2)]]
    with stand_in_device() as launches:           # the last axis longer than a block: two passes
        plan = run([x], outs, [np.ones((2, 3, 2 * numba_cuda.BLOCK + 5), dtype)])
    assert_compiles(launches, plan, ["reduce"])


# --- dot, softmax -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [F64, F32, "int64"])
def test_dot_of_vectors_and_matrices(dtype):
    a, b, u, w = T.matrix("a", dtype), T.matrix("b", dtype), T.vector("u", dtype), T.vector("w", dtype)
    outs = [T.dot(a, b), T.dot(u, b), T.dot(a, w), T.dot(u, w), T.dot((a + 1).T, a)]
    with stand_in_device() as launches:
        plan = run([a, b, u, w], outs, [np.ones((5, 7), dtype), np.ones((7, 3), dtype),
                                        np.ones(7, dtype), np.ones(7, dtype)])
    assert_compiles(launches, plan, ["dot"])


def test_dot_of_mixed_dtypes():
    x, w = T.matrix("x"), T.matrix("w", dtype=F32)
    with stand_in_device() as launches:
        plan = run([x, w], T.dot(x, w), [np.ones((5, 3)), np.ones((3, 2), F32)])
    assert_compiles(launches, plan, ["dot"])


@pytest.mark.parametrize("dtype", [F64, F32])
def test_softmax_and_log_softmax(dtype):
    x, v = T.matrix("x", dtype=dtype), T.vector("v", dtype=dtype)
    outs = [T.nnet.softmax(x), T.nnet.log_softmax(x), T.nnet.softmax(v), T.nnet.log_softmax(v * 2)]
    with stand_in_device() as launches:
        plan = run([x, v], outs, [np.ones((3, 11), dtype), np.ones(13, dtype)])
    assert_compiles(launches, plan, ["softmax"])


# --- the course's training functions ------------------------------------------------------------
def test_logistic_regression_training():
    x, y = T.matrix("x"), T.vector("y")
    w, b = shared(np.zeros(5), name="w"), shared(0.0, name="b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = T.nnet.binary_crossentropy(p, y).mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    with stand_in_device() as launches:
        plan = run([x, y], [cost, p > 0.5], [np.ones((13, 5)), np.ones(13)],
                   updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)])
    assert_compiles(launches, plan, ["elemwise", "dot", "reduce"])


def test_mlp_with_momentum():
    """Act 2's network: examples are the columns of x, biases broadcast along them, sigmoid layers."""
    x, target = T.matrix("x"), T.vector("target")
    params, out = [], x
    for n_in, n_out in [(2, 4), (4, 1)]:
        W = shared(RNG.normal(size=(n_out, n_in)), name="W")
        b = shared(np.ones((n_out, 1)), name="b", broadcastable=(False, True))
        params += [W, b]
        out = T.nnet.sigmoid(T.dot(W, out) + b)
    cost = T.sum((out - target) ** 2)
    updates = []
    for p in params:
        velocity = shared(p.get_value() * 0.0, broadcastable=p.broadcastable)
        updates += [(p, p - 0.01 * velocity), (velocity, 0.9 * velocity + 0.1 * T.grad(cost, p))]
    with stand_in_device() as launches:
        plan = run([x, target], cost, [np.ones((2, 1000)), np.ones(1000)], updates=updates)
    assert_compiles(launches, plan, ["elemwise", "dot", "reduce"])
