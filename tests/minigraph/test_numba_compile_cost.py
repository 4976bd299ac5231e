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

import minigraph.tensor as T
from minigraph import function
from minigraph.backends import numba_math as M

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
    assert not [c for c in called if "numba_math" in c], f"{name} is called, not inlined: {called}"
    assert "zmm" in asm or "ymm" in asm, f"the loop over {name} is not vectorized"
    # the same numbers as the helper run as its own compiled function, element by element
    np.testing.assert_array_equal(got, [helper(v) for v in x])


def test_helpers_are_compiled_once_as_functions_of_their_own():
    x = T.dvector("x")
    f = function([x], [T.nnet.sigmoid(x) + T.nnet.sigmoid(2 * x), T.nnet.softplus(x)], backend="numba")
    v = np.linspace(-5, 5, 11)
    got = f(v)
    np.testing.assert_allclose(got[0], 1 / (1 + np.exp(-v)) + 1 / (1 + np.exp(-2 * v)), rtol=1e-15)
    np.testing.assert_allclose(got[1], np.logaddexp(0, v), rtol=1e-15)
    # numba's inline="always" would have retyped the body at each call site instead
    assert M.vsigmoid.signatures and M.vsoftplus.signatures


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
    x = T.dvector("x")
    f = function([x], T.exp(x) * 2 + 1, backend="numba")
    big = f(np.zeros(2_000_000))                        # 16 MB
    np.testing.assert_array_equal(big, 3.0)
    assert "hg" in _vm_flags(big.ctypes.data + big.nbytes // 2)
    small = f(np.zeros(1000))                           # 8 kB: from the heap, never advised
    np.testing.assert_array_equal(small, 3.0)
    assert "hg" not in (_vm_flags(small.ctypes.data) or [])


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
