"""Backends turn a rewritten graph into a Thunk (backends/thunk.py): thunk.run(*input_values) ->
output values, thunk.source(), thunk.running, thunk.storage.

`numpy_ref` is the reference every other backend is tested against. `numba_cpu` compiles the
whole graph into one njit kernel; `auto` (the default) is numba_cpu once a function has run long
enough to pay for its compile, numpy before. `numba_cuda` runs on a GPU.
Each backend keeps a registry keyed by op type: numba_cpu's `@register(Op)` emitters (one
module per op family), numba_cuda's `@register(Op)` steps; numpy_ref needs none (op.perform).
"""
from . import numba_cpu, numpy_ref

BACKENDS = ("auto", "numba", "numpy", "cuda")


def gpu_available():
    """True when numba.cuda can run kernels here: a GPU, or the simulator (NUMBA_ENABLE_CUDASIM=1)."""
    from . import numba_cuda      # imports numba.cuda (heavy, and only some machines have a GPU)
    return numba_cuda.gpu_available()


def choose(device, backend):
    """The backend name for `device` ('cpu', 'cuda' or 'auto') and CPU `backend` (None: config's)."""
    if device not in ("cpu", "cuda", "auto"):
        raise ValueError(f"function: device must be 'cpu', 'cuda' or 'auto', got {device!r}")
    if device == "auto":
        device = "cuda" if gpu_available() else "cpu"
    return "cuda" if device == "cuda" else backend


def compile(name, inputs, outputs, inplace=None):
    """A Thunk running `outputs` from `inputs` on backend `name`. inplace: {output position:
    input position} of updates that may overwrite the input's storage, where the backend can."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {list(BACKENDS)}")
    if name == "numpy":
        return numpy_ref.compile(inputs, outputs)
    if name == "cuda":
        from . import numba_cuda  # imports numba.cuda: heavy, needed only for GPU functions
        return numba_cuda.compile(inputs, outputs)
    return numba_cpu.compile(inputs, outputs, inplace, tiered=name == "auto")
