"""Backends turn a rewritten graph into one callable: thunk(*input_values) -> output values.

`numpy_ref` is the reference every other backend is tested against. `numba_cpu` compiles the
whole graph into one njit kernel; `auto` (the default) is numba_cpu once a function has run long
enough to pay for its compile, numpy before. `numba_cuda` runs on a GPU.
"""
import importlib

BACKENDS = ("auto", "numba", "numpy", "cuda")


def compile(name, inputs, outputs, inplace=None):
    """A thunk running `outputs` from `inputs` on backend `name`. inplace: {output position:
    input position} of updates that may overwrite the input's storage, where the backend can."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {list(BACKENDS)}")
    if name == "numpy":
        return importlib.import_module(f"{__name__}.numpy_ref").compile(inputs, outputs)
    if name == "cuda":
        return importlib.import_module(f"{__name__}.numba_cuda").compile(inputs, outputs)
    return importlib.import_module(f"{__name__}.numba_cpu").compile(inputs, outputs, inplace,
                                                                   tiered=name == "auto")
