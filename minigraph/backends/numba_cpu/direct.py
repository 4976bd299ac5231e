"""The quick way into a compiled kernel (Thunk.direct): numba's own argument check, done in C, in
place of ours in Python.

A call through Function and the thunk checks each argument's type, dtype, rank and memory layout
in Python before numba's dispatcher checks them again. For a small call that doubled its cost
(a**2 + 2ab + b**2 on 1e4 elements: 5.6 us against 3.9 us for the same loop hand-written in numba).
`direct` hands the arguments straight to a copy of the kernel's dispatcher that holds only the
versions already compiled and may not compile more: an argument of any other type (a list, a
float32 array, a transposed view) makes it raise TypeError at once, and the caller then takes the
checked way, which converts, copies or reports the argument as before.
"""
import numba


def strict_copy(dispatcher):
    """A dispatcher with `dispatcher`'s compiled versions that never compiles another: numba would
    otherwise compile (seconds) a version for any new argument type, e.g. a non-contiguous view."""
    if not dispatcher.overloads:                 # nothing compiled yet: every call goes the checked way
        return _not_compiled
    strict = numba.njit(dispatcher.py_func)
    for compiled in dispatcher.overloads.values():
        strict.add_overload(compiled)
    strict.disable_compile()
    return strict


def _not_compiled(*values):
    raise TypeError("this version of the kernel is not compiled yet")


def direct_entry(kernel, kernel_parallel, const_values, parallel_min):
    """direct(*values) -> the kernel's results, for values of a type it was compiled for; None for
    a split kernel's Python entry (driver.py), whose parts check their own arguments."""
    if not isinstance(kernel, numba.core.dispatcher.Dispatcher):
        return None
    strict = strict_copy(kernel)
    if kernel_parallel is kernel:
        if not const_values:
            return strict                        # no Python frame at all between the caller and numba
        return lambda *values: strict(*values, *const_values)
    strict_parallel = strict_copy(kernel_parallel)
    if const_values:
        strict_serial = strict
        strict = lambda *values: strict_serial(*values, *const_values)              # noqa: E731
        strict_parallel_alone = strict_parallel
        strict_parallel = lambda *values: strict_parallel_alone(*values, *const_values)  # noqa: E731

    def direct(*values):
        for v in values:                         # the same choice of kernel as the thunk's run
            if v.size >= parallel_min:
                return strict_parallel(*values)
        return strict(*values)
    return direct


def compiled_count(kernel, kernel_parallel):
    """Changes when numba compiles another version: the direct entry is then rebuilt to include it."""
    return len(kernel.overloads) + (0 if kernel_parallel is kernel else len(kernel_parallel.overloads))
