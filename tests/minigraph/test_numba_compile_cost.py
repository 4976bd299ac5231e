"""What keeps the numba backend's compile time down must not cost run time or change results:
the math helpers are compiled once per process (not retyped at every call site) yet still inlined
and vectorized by LLVM; `hugepages` (an intrinsic written into the kernel) still advises the
kernel's large arrays; 0-d results made without np.full hold the same values. Also: the BLAS
the kernels call keeps the thread limit a notebook set before it was loaded."""
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba import njit
from numba.core import event

import minigraph as theano
import minigraph.tensor as T
from minigraph import function
from minigraph import shared as theano_shared
from minigraph.backends import numba_math as M
from minigraph.backends.numba_cpu.cache import LOADED

HELPERS = ["vexp", "vexpm1", "vlog", "vlog1p", "vtanh", "vsigmoid", "vsoftplus"]


@pytest.mark.parametrize("name", HELPERS)
def test_helper_is_inlined_into_a_loop_that_vectorizes(name):
    helper = getattr(M, name)

    @njit(error_model="numpy")
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = helper(x[i])
        return out

    x = np.linspace(-3.0, 3.0, 64)
    got = apply(x)
    llvm, asm = (next(iter(d.values())) for d in (apply.inspect_llvm(), apply.inspect_asm()))
    called = set(re.findall(r'call [^@]*@"?([\w.]+)', llvm))
    assert not [c for c in called if "minigraph.math" in c], f"{name} is called, not inlined: {called}"
    assert "zmm" in asm or "ymm" in asm, f"the loop over {name} is not vectorized"
    # The same formula in Python (numpy float64 scalars, the same operations) to within a few units
    # in the last place: LLVM may fuse a multiply and an add (one rounding, not two) where Python can't.
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 709.8, -746.0, 40.0, 1e300])
    values = np.concatenate([x, special])
    got = apply(values)
    for v, g in zip(values, got):
        want = M.python_value(name, v)
        close = g == want or abs(g - want) <= 4 * np.spacing(abs(want)) or (np.isnan(g) and np.isnan(want))
        assert close, f"{name}({v!r}): {g!r} compiled, {want!r} in Python"
    # and the SIMD loop gives each element exactly what the scalar code gives it alone
    np.testing.assert_array_equal(got, [apply(values[i:i + 1])[0] for i in range(values.size)])


class _Compiled:
    """Names of the functions numba compiles while the block runs (numba's compile events)."""

    def __enter__(self):
        self.names, self._listener = [], event.RecordingListener()
        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc):
        event.unregister("numba:compile", self._listener)
        self.names = [e.data["dispatcher"].py_func.__qualname__ for _, e in self._listener.buffer
                      if e.is_start and "dispatcher" in e.data]


def test_kernels_compile_no_function_for_the_math_helpers(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAPH_CACHE_DIR", str(tmp_path))      # compiled now, not loaded from disk
    x = T.dvector("x")
    f = function([x], [T.nnet.sigmoid(x) + T.nnet.sigmoid(2 * x) * T.tanh(x), T.nnet.softplus(x) + T.log1p(x ** 2)],
                 backend="numba")
    v = np.linspace(-5, 5, 11)
    with _Compiled() as compiled:
        got = f(v)
    np.testing.assert_allclose(got[0], 1 / (1 + np.exp(-v)) + 1 / (1 + np.exp(-2 * v)) * np.tanh(v), rtol=1e-14)
    np.testing.assert_allclose(got[1], np.logaddexp(0, v) + np.log1p(v ** 2), rtol=1e-14)
    assert "kernel" in compiled.names                    # the kernel itself was compiled, just now
    # the helpers are instructions written into the kernel, not functions numba compiles (0.15-0.3 s each)
    assert not {"vsigmoid", "vsoftplus", "vtanh", "vlog1p", "vexp", "vlog"} & set(compiled.names), compiled.names


def test_array_to_slice_assignment_is_not_in_generated_kernels(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAPH_CACHE_DIR", str(tmp_path))
    # numba compiles a shape-mismatch message formatter for `a[lo:hi] = b` (2.7 s cold): the row
    # blocks, scan histories, scatters and filled arrays are written as loops instead.
    def formatter_in(dispatcher):
        return "raise_with_shape_context" in "".join(dispatcher.inspect_llvm().values())

    @njit
    def slice_assignment(a, b):               # the pattern avoided: the detector must see it here
        a[1:3] = b
        return a
    slice_assignment(np.zeros(4), np.ones(2))
    assert formatter_in(slice_assignment)

    before = set(LOADED)
    X, y, m, rows, idx = T.dmatrix("X"), T.dvector("y"), T.dmatrix("m"), T.dmatrix("rows"), T.lvector("idx")
    w = theano_shared(np.zeros(5))
    p = T.nnet.sigmoid(T.dot(X, w))
    g = T.grad(T.nnet.binary_crossentropy(p, y).mean(), w)
    f = function([X, y, m, rows, idx], [p > 0.5, T.set_subtensor(m[1:3], rows), T.inc_subtensor(m[idx], rows[:1]),
                                       T.alloc(1.5, m.shape[0], 2)],
                 updates=[(w, w - 0.1 * g)], backend="numba")
    seq, h0 = T.dtensor3("seq"), T.dmatrix("h0")
    hs, _ = theano.scan(lambda x_t, h: T.tanh(x_t + h), sequences=seq, outputs_info=h0)
    looped = function([seq, h0], [hs, T.grad(hs[-1].sum(), h0)], backend="numba")
    rng = np.random.default_rng(0)
    f(rng.normal(size=(6, 5)), (rng.uniform(size=6) > 0.5) * 1.0, rng.normal(size=(4, 3)), rng.normal(size=(2, 3)),
      np.array([0, 3]))
    assert "for lo" in f.source()                     # X @ w and X.T @ g ran in row blocks
    looped(rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 3)))       # scan histories, forward and back
    kernels = [LOADED[k][0] for k in set(LOADED) - before]
    assert len(kernels) >= 3 and all(k.signatures for k in kernels)
    assert not [k for k in kernels if formatter_in(k)]



def _vm_flags(address):
    """The VmFlags of the mapping holding `address` (Linux's /proc/self/smaps)."""
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", head):
                low, high = (int(h, 16) for h in head.split("-"))
                inside = low <= address < high
            elif inside and line.startswith("VmFlags"):
                return line.split()[1:]
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise(MADV_HUGEPAGE) is Linux's")
def test_large_new_arrays_are_advised_huge_pages_small_ones_are_not():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            if "[never]" in f.read():
                pytest.skip("transparent huge pages are off on this machine")
    except OSError:
        pytest.skip("no transparent huge pages on this machine")
    # In a new process: in this one, numpy may already have advised the heap's mapping (glibc
    # serves large arrays from the heap once its mmap threshold has grown), and a small array
    # there would carry the flag whatever the kernel did.
    code = textwrap.dedent("""
        import numpy as np
        import minigraph.tensor as T
        from minigraph import function
        from test_numba_compile_cost import _vm_flags
        x = T.dvector("x")
        f = function([x], T.exp(x) * 2 + 1, backend="numba")
        big = f(np.zeros(2_000_000))                        # 16 MB
        assert (big == 3.0).all()
        print("hg" in _vm_flags(big.ctypes.data + big.nbytes // 2))
        small = f(np.zeros(1000))                           # 8 kB: from the heap, never advised
        assert (small == 3.0).all()
        print("hg" in (_vm_flags(small.ctypes.data) or []))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"], "big advised, small not: " + out.stdout


def test_zero_d_results_are_filled_as_the_reference_fills_them():
    x = T.dvector("x")
    outputs = [x.shape[0], x[2], x.sum() * 2, T.cast(x[1], "int32")]
    fast, reference = (function([x], outputs, backend=b) for b in ("numba", "numpy"))
    v = np.array([1.5, -2.0, 7.25])
    for got, want in zip(fast(v), reference(v)):
        assert np.asarray(got).dtype == np.asarray(want).dtype and np.ndim(got) == np.ndim(want) == 0
        assert got == want


def test_blas_that_kernels_call_gets_the_thread_limit_set_before_it_was_loaded(tmp_path):
    """A notebook limits BLAS to one thread before numba has loaded scipy's OpenBLAS (the one its
    np.dot calls): the first kernel brings that library to the same limit (numpy's stays)."""
    pytest.importorskip("threadpoolctl")
    code = textwrap.dedent("""
        import sys, numpy as np
        from threadpoolctl import threadpool_info, threadpool_limits
        threadpool_limits(1)
        assert "scipy.linalg" not in sys.modules
        import minigraph.tensor as T
        from minigraph import function
        a, b = T.dmatrix("a"), T.dmatrix("b")
        f = function([a, b], T.dot(a, b), backend="numba")
        x = np.arange(6.0).reshape(2, 3)
        assert np.array_equal(f(x, x.T), x @ x.T)
        print(sorted((pool["filepath"].split("/")[-2], pool["num_threads"]) for pool in threadpool_info()
                     if pool["user_api"] == "blas"))
    """)
    env = dict(os.environ, MINIGRAPH_CACHE_DIR=str(tmp_path / "mg"), NUMBA_CACHE_DIR=str(tmp_path / "nb"),
               OPENBLAS_NUM_THREADS="")
    env.pop("OPENBLAS_NUM_THREADS")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    pools = eval(out.stdout.strip().splitlines()[-1])
    assert any("scipy" in name and "numpy" not in name for name, _ in pools), pools   # scipy's was loaded
    assert all(threads == 1 for _, threads in pools), pools


def test_math_of_an_operand_constant_along_the_inner_loop_compiles_quickly(tmp_path):
    # Found by the random-expression test: LLVM's choice of an interleave count never finished for
    # this loop (runtime.configure turns interleaving off). In a new process, with a time limit, so
    # a regression fails instead of hanging the suite.
    code = textwrap.dedent("""
        import numpy as np, minigraph.tensor as T
        from minigraph import function
        c, r = T.dcol("c"), T.drow("r")
        f = function([c, r], T.tanh(T.nnet.softplus(T.nnet.sigmoid(c) * 0.5) * 0.5) - r, backend="numba")
        cv, rv = np.linspace(-2, 2, 3)[:, None], np.linspace(0, 1, 4)[None, :]
        want = np.tanh(np.logaddexp(0, 0.5 / (1 + np.exp(-cv))) * 0.5) - rv
        assert np.allclose(f(cv, rv), want, rtol=1e-14)
        print("ok")
    """)
    env = dict(os.environ, MINIGRAPH_CACHE_DIR=str(tmp_path))
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the kernel took over 2 minutes to compile (LLVM's loop interleaving again?)")
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
