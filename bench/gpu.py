"""GPU benchmark: `make bench`'s workloads with minigraph running on the GPU, and the memory
bandwidth an elementwise kernel achieves against a device-to-device copy of the same bytes,
both measured in this run, on this card.

    python bench/gpu.py              needs a CUDA GPU (numba.cuda.is_available())
    python bench/gpu.py --small      tiny sizes: checks the script itself (the tests run it so)

Bandwidth: `out = a * b + c` on float64 vectors of n elements reads 3n and writes n elements:
32n bytes. A device-to-device copy of a 16n-byte buffer also moves 32n bytes (read + write).
"kernel" times the generated kernel alone on preallocated arrays; "function" times the compiled
minigraph function (updating a shared variable, so nothing crosses PCIe), allocation and Python
dispatch included. Not a test: nothing here fails except a wrong result.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import run as cpu_bench  # noqa: E402  (make bench: its workloads and its interleaved timer)
except Exception as error:   # e.g. a broken optional torch/jax install: the bandwidth part still runs
    cpu_bench, why = None, f"{type(error).__name__}: {error}"

import minigraph  # noqa: E402
from minigraph import function, shared  # noqa: E402
from minigraph.backends import numba_cuda  # noqa: E402
from numba import cuda  # noqa: E402


def _seconds(call, repeats):
    call()                                       # compile and warm up
    cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def bandwidth(n, repeats=20):
    """{'kernel', 'function', 'copy'}: GB/s moving the same 32n bytes, and the check that it is right."""
    rng = np.random.default_rng(0)
    a, b, c = (shared(rng.random(n), name=k) for k in "abc")
    out = shared(np.zeros(n), name="out")
    f = function([], [], updates=[(out, a * b + c)], device="cuda")
    f()
    np.testing.assert_allclose(out.get_value(), a.get_value() * b.get_value() + c.get_value(), rtol=1e-15)

    (node,) = f.thunk.plan                       # the fused elementwise node: its kernel, launched bare
    expr = node.op.scalar_op.kernel_source(["a0", "a1", "a2"])
    kernel = numba_cuda._kernel(numba_cuda._map_source(1, [["i0"]] * 3, expr))
    args = [Transfers.read(s) for s in (a, b, c)]
    dest = cuda.device_array(n)
    blocks = min(-(-n // numba_cuda.BLOCK), numba_cuda.MAX_BLOCKS)

    src, dst = cuda.to_device(rng.random(2 * n)), cuda.device_array(2 * n)
    moved = 32 * n / 1e9
    return {"kernel": moved / _seconds(lambda: kernel[blocks, numba_cuda.BLOCK](dest, n, *args), repeats),
            "function": moved / _seconds(f, repeats),
            "copy": moved / _seconds(lambda: dst.copy_to_device(src), repeats)}


Transfers = numba_cuda.STORAGE

# The course workloads of issue 10; the scan and SVI rows have not been tried on the GPU backend.
WORKLOADS = [w for w in cpu_bench.WORKLOADS[:6] if "1e4" not in w[0] and "N=400 " not in w[0]] if cpu_bench else []
SMALL = [("a**2+2ab+b**2, n=100", lambda: cpu_bench.poly(100)),
         ("logreg step N=20 D=7", lambda: cpu_bench.logistic(20, 7))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes, to check the script")
    args = parser.parse_args(argv)
    if not numba_cuda.gpu_available():
        sys.exit("bench/gpu.py: numba.cuda finds no GPU here (see README: GPU tests and benchmark)")
    name = "CUDA simulator" if numba_cuda.numba.config.ENABLE_CUDASIM else cuda.get_current_device().name
    print(f"device: {name}; BLOCK={numba_cuda.BLOCK}, MAX_BLOCKS={numba_cuda.MAX_BLOCKS}\n")
    n = 1000 if args.small else 50_000_000
    gbs = bandwidth(n, repeats=2 if args.small else 20)
    print(f"elementwise a*b+c, float64, n={n:,} ({32 * n / 1e9:.3g} GB moved per call)")
    for what in ("kernel", "function", "copy"):
        print(f"  {what:<9} {gbs[what]:9.1f} GB/s   {gbs[what] / gbs['copy']:6.1%} of the copy")
    print()
    if cpu_bench is None:
        sys.exit(f"bench/run.py did not import ({why}): no workload timings")
    minigraph.config.device = "cuda"             # the workloads' minigraph functions now run on the GPU
    for label, make in SMALL if args.small else WORKLOADS:
        times = cpu_bench.interleaved(make(), rounds=2 if args.small else 15)
        print(f"{label}: " + ", ".join(f"{k} {v * 1e3:.3g} ms" for k, v in times.items()))
    return gbs


if __name__ == "__main__":
    main()
