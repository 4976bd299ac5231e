"""Backends turn a rewritten graph into one callable: thunk(*input_values) -> output values.

Every backend implements `compile(inputs, outputs)`; `numpy_ref` is the reference the others
are tested against.
"""
import importlib

_BACKENDS = {"numpy": "numpy_ref", "numba": "numba_cpu", "cuda": "numba_cuda"}


def get_backend(name):
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {sorted(_BACKENDS)}")
    return importlib.import_module(f"{__name__}.{_BACKENDS[name]}")
