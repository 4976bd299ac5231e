"""NumPy functions given minigraph variables: a clear error that names the T function to use.

    np.exp(v)        SymbolicNumpyError: np.exp was called on the minigraph variable `v` (a symbol,
                     not numbers): use T.exp(v) to build the graph
    np.sum(v)        ... use T.sum(v) ...

A variable holds no numbers until a compiled function runs, so NumPy cannot compute with it.
One case is not a mistake: `array * v` (an operator with the array on the left) reaches NumPy
first, which calls np.multiply(array, v); that builds the graph, as v.__rmul__(array) would.
tensor.py installs these on Variable (`install`), like the other operator methods.
"""
import numpy as np

from .ops.elemwise import SCALAR_OPS


class SymbolicNumpyError(TypeError):
    """A NumPy function was called on a minigraph variable (a symbol, not numbers)."""


# ufunc -> the T function building the same graph: every table row whose NumPy forward is a
# ufunc (np.add -> T.add, np.exp -> T.exp...), and the bitwise spellings of the logical ops.
UFUNCS = {op.impl: name for name, op in SCALAR_OPS.items() if isinstance(op.impl, np.ufunc)}
UFUNCS.update({np.logical_not: "invert", np.logical_and: "and_", np.logical_or: "or_", np.logical_xor: "xor",
               np.matmul: "dot"})

# array function -> its T equivalent (the same name unless given)
FUNCTIONS = {np.sum: "sum", np.prod: "prod", np.max: "max", np.min: "min", np.mean: "mean",
             np.argmax: "argmax", np.dot: "dot", np.outer: "outer", np.concatenate: "concatenate",
             np.stack: "stack", np.reshape: "reshape", np.transpose: "transpose", np.diag: "diag",
             np.tril: "tril", np.triu: "triu", np.where: "switch", np.clip: "clip",
             np.zeros_like: "zeros_like", np.ones_like: "ones_like", np.shape: "shape",
             np.linalg.inv: "matrix_inverse", np.linalg.det: "det", np.linalg.solve: "solve",
             np.linalg.cholesky: "cholesky", np.linalg.slogdet: "logdet"}

# An operator with a NumPy value on the left: `array OP v` -> the variable's reflected operator.
_REFLECTED = {np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__",
              np.true_divide: "__rtruediv__", np.floor_divide: "__rfloordiv__", np.remainder: "__rmod__",
              np.power: "__rpow__", np.matmul: "__rmatmul__", np.bitwise_and: "__rand__",
              np.bitwise_or: "__ror__", np.bitwise_xor: "__rxor__", np.less: "__gt__", np.greater: "__lt__",
              np.less_equal: "__ge__", np.greater_equal: "__le__"}


def _shown(value, variable_class):
    if isinstance(value, variable_class):
        return value.name or repr(value)
    if isinstance(value, np.ndarray) and value.size > 1:
        return f"<array of shape {value.shape}>"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v, variable_class) for v in value) + "]"
    return repr(value.item() if isinstance(value, (np.ndarray, np.generic)) else value)


def _error(qualname, t_name, args, variable_class):
    var = next((a for a in args if isinstance(a, variable_class)), None)
    if var is None:      # inside a list, e.g. np.concatenate([u, v])
        var = next(v for a in args if isinstance(a, (list, tuple)) for v in a if isinstance(v, variable_class))
    what = (f"{qualname} was called on the minigraph variable `{_shown(var, variable_class)}` "
            f"(a symbol, not numbers)")
    if t_name is None:
        return SymbolicNumpyError(f"{what}; minigraph has no T equivalent of {qualname}: build the graph "
                                  f"with T functions, or compile it with function(...) and apply "
                                  f"{qualname} to the numbers it returns")
    shown = ", ".join(_shown(a, variable_class) for a in args)
    return SymbolicNumpyError(f"{what}: use T.{t_name}({shown}) to build the graph")


def install(variable_class):
    """Set Variable.__array_ufunc__ and __array_function__."""
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        reflected = _REFLECTED.get(ufunc)
        if (reflected and method == "__call__" and not kwargs and len(inputs) == 2
                and inputs[1] is self and not isinstance(inputs[0], variable_class)):
            return getattr(self, reflected)(inputs[0])         # `array * v`: the graph, as v.__rmul__
        if ufunc in (np.equal, np.not_equal) and method == "__call__" and len(inputs) == 2 and inputs[1] is self:
            return ufunc is np.not_equal    # `array == v`: an identity test, as for any Python object
        name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        raise _error(name, UFUNCS.get(ufunc) if method == "__call__" else None, inputs, variable_class)

    def __array_function__(self, func, types, args, kwargs):
        module = getattr(func, "__module__", "numpy") or "numpy"
        qualname = ("np.linalg." if "linalg" in module else "np.") + func.__name__
        raise _error(qualname, FUNCTIONS.get(func), args, variable_class)

    variable_class.__array_ufunc__ = __array_ufunc__
    variable_class.__array_function__ = __array_function__
