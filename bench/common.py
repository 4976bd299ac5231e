"""What every bench module shares: the optional peers (JAX, PyTorch), the Workload record and the
interleaved timer.

Importing this module sets the environment the timings need (before numpy loads its BLAS), so the
bench modules import it first.
"""
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field

# OpenBLAS threads spin for about 0.1 s after each call before they sleep. Interleaved, the idle
# threads of one system's BLAS (numpy's, or the copy numba calls) took the cores from the next
# system: every BLAS-heavy workload ran up to 2x slower than measured alone. Sleep at once instead.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
# The same for OpenMP (PyTorch's threads, numba's omp layer): spinning after a step, they slowed
# whichever system ran next in the rotation by 1.2-1.3x (measured on the logreg row).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# BENCH_THREADS=n (make bench THREADS=n) gives every system n threads: numpy's BLAS, numba's parallel
# loops (minigraph's and the hand-written ones), XLA and PyTorch. Set before they load. On this shared
# 2-core machine, 2-thread BLAS/OpenMP steps ran 10-50x slower whenever another process held a core
# (torch's logreg N=400 step: 52 ms with 2 threads, 1.1 ms with 1); one thread each measures the code,
# not the scheduler. The course notebooks themselves run with one BLAS thread (threadpool_limits(1)).
THREADS = os.environ.get("BENCH_THREADS", "")
if THREADS:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "MINIGRAPH_NUM_THREADS"):
        os.environ[var] = THREADS
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen="
                               + ("false" if THREADS == "1" else "true")).strip()
    # XLA's CPU runtime still ran a logreg N=20000 step on two threads with one allowed (1.7 s of CPU
    # per second of wall time): the whole process gets THREADS cores, so no system takes more.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:int(THREADS)])

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("MINIGRAPH_CACHE_DIR", os.path.join(tempfile.gettempdir(), "minigraph-bench-cache"))

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
except Exception:             # not installed (make bench without PEERS=1), or a broken install
    jax = jnp = None
try:
    import torch
    torch.set_default_dtype(torch.float64)
    if THREADS:
        torch.set_num_threads(int(THREADS))
except Exception:
    torch = None

PEERS = ("jax", "torch")


def installed(system):
    """False for a peer (JAX, PyTorch) this Python cannot import; True for everything else."""
    return {"jax": jax is not None, "torch": torch is not None}.get(system, True)


@dataclass
class Workload:
    """One row family of the table.

    systems: {name: step()}: one call is one step (forward, gradient, update); it returns the step's
             outputs, so the tests can check that every system computes the same thing.
    params:  {name: () -> list of arrays}: the system's parameters now (after its updates); the
             tests compare them after the same number of steps.
    """
    systems: dict
    params: dict = field(default_factory=dict)


def as_numpy(value):
    """An output of any system as a numpy array (JAX and torch arrays included)."""
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def interleaved(systems, rounds=15, min_time=0.05, samples=None):
    """{name: median seconds per call}; each round times a batch of calls of every system in turn,
    so machine noise hits all of them alike. `systems` is a Workload or a {name: step} dict.
    `samples`, a dict, receives {name: [seconds per call in each round]} (for per-round ratios)."""
    systems = getattr(systems, "systems", systems)
    for fn in systems.values():                 # warm up (compiles, caches, first-touch)
        fn()
    batch = {}
    for name, fn in systems.items():
        t, n = time.perf_counter(), 0
        while time.perf_counter() - t < min_time / 5:
            fn()
            n += 1
        batch[name] = max(1, n)
    per_round = {name: [] for name in systems}
    for _ in range(rounds):
        for name, fn in systems.items():
            t = time.perf_counter()
            for _ in range(batch[name]):
                fn()
            per_round[name].append((time.perf_counter() - t) / batch[name])
    if samples is not None:
        samples.update(per_round)
    return {name: float(np.median(s)) for name, s in per_round.items()}
