"""bench/gpu.py, and checks at sizes only a real GPU runs in reasonable time (skipped otherwise)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))


def test_bandwidth_measurement_runs_and_checks_its_result():
    import gpu
    result = gpu.bandwidth(40, repeats=1)
    assert set(result) == {"kernel", "function", "copy"} and all(v > 0 for v in result.values())


@pytest.mark.real_gpu
def test_benchmark_script_on_the_gpu():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gpu.py"), "--small"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "GB/s" in done.stdout and "of the copy" in done.stdout


@pytest.mark.real_gpu
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-4)])
def test_real_sizes_against_the_reference(dtype, rtol):
    rng = np.random.default_rng(3)
    x, w, v = T.matrix("x", dtype=dtype), T.matrix("w", dtype=dtype), T.vector("v", dtype=dtype)
    outs = [T.tanh(x) * v + 1, x.sum(axis=0), x.max(axis=1), (x * x).mean(), T.dot(x, w),
            T.nnet.softmax(x), T.nnet.log_softmax(x), x.T * 2]
    values = [rng.normal(size=(1531, 777)).astype(dtype), rng.normal(size=(777, 301)).astype(dtype),
              rng.normal(size=777).astype(dtype)]
    ref = function([x, w, v], outs, backend="numpy")(*values)
    got = function([x, w, v], outs, device="cuda")(*values)
    for r, g in zip(ref, got):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol)
