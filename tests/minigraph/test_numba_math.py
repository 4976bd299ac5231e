"""numba_math's vectorizable exp, log, tanh... against numpy: within a few units in the last place
over the whole range, the same special values (0, ±inf, NaN, subnormals, overflow), and really
turned into SIMD code by LLVM (the reason they exist)."""
import numpy as np
import pytest
from numba import njit

from minigraph.backends import numba_math as M

FUNCTIONS = {  # name: (ours, numpy's, a wide sample of its domain)
    "exp": (M.vexp, np.exp, lambda r: r.uniform(-750, 720, 20000)),
    "expm1": (M.vexpm1, np.expm1, lambda r: np.concatenate([r.uniform(-60, 720, 10000), r.normal(0, 1e-3, 10000)])),
    "log": (M.vlog, np.log, lambda r: 10.0 ** r.uniform(-320, 308, 20000)),
    "log1p": (M.vlog1p, np.log1p, lambda r: np.concatenate([r.uniform(-1, 5, 10000), r.normal(0, 1e-9, 10000)])),
    "tanh": (M.vtanh, np.tanh, lambda r: np.concatenate([r.normal(0, 5, 10000), r.normal(0, 1e-6, 10000)])),
    "sigmoid": (M.vsigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda r: r.normal(0, 30, 20000)),
    "softplus": (M.vsoftplus, lambda x: np.logaddexp(0, x), lambda r: r.normal(0, 30, 20000)),
}
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, -1e-310, 709.78, 709.8,
                    -745.1, -746.0, 1e-20, -1e-20, 20.0, -20.0, 0.5, 0.3465, -0.3466, 40.0, 1e300])


def _loop(fn):
    @njit(error_model="numpy")
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = fn(x[i])
        return out
    return apply


@pytest.mark.parametrize("name", FUNCTIONS)
def test_within_a_few_ulp_of_numpy(name):
    ours, reference, sample = FUNCTIONS[name]
    x = sample(np.random.default_rng(0))
    with np.errstate(all="ignore"):
        want = reference(x)
    got = _loop(ours)(x)
    finite = np.isfinite(want) & (want != 0)
    ulps = np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))
    assert ulps.max() <= 4, f"{name}: {ulps.max():.1f} ulp at x={x[finite][ulps.argmax()]!r}"
    np.testing.assert_array_equal(got[~finite], want[~finite])       # inf, -inf, 0 exactly


@pytest.mark.parametrize("name", FUNCTIONS)
def test_special_values_match_numpy(name):
    ours, reference, _ = FUNCTIONS[name]
    with np.errstate(all="ignore"):
        want = reference(SPECIAL)
    got = _loop(ours)(SPECIAL)
    # sigmoid(-745.1) is 4.9e-324: numpy's 1/(1 + e^745.1) rounds it to 0; ours keeps it.
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-323, equal_nan=True)


def test_loops_over_them_are_vectorized():
    apply = _loop(M.vtanh)
    apply(np.ones(8))
    asm = next(iter(apply.inspect_asm().values()))
    assert "zmm" in asm or "ymm" in asm, "LLVM did not vectorize the loop (no SIMD registers)"
    assert "tanh" not in asm.replace("vtanh", ""), "the C library's tanh is still called"
