"""Tensor types: a dtype plus a broadcastable pattern, and the rules for combining them.

A dimension may broadcast (stretch from size 1) only where its pattern says True, as in
Theano. Python scalars are "weak": `x * 2` keeps x's dtype, like NumPy 2 (NEP 50).
"""
import numpy as np

from .config import config

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool", "complex64", "complex128")

_NDIM_NAMES = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor3", 4: "tensor4"}


class TensorType:
    """The type of a tensor variable: `TensorType('float64', (False, True))` is a column."""

    def __init__(self, dtype, broadcastable):
        dtype = np.dtype(dtype).name
        if dtype not in ALL_DTYPES:
            raise TypeError(f"unsupported dtype {dtype!r}; use one of {', '.join(ALL_DTYPES)}")
        self.dtype = dtype
        self.broadcastable = tuple(bool(b) for b in broadcastable)

    ndim = property(lambda self: len(self.broadcastable))

    def __eq__(self, other):
        return (isinstance(other, TensorType) and self.dtype == other.dtype
                and self.broadcastable == other.broadcastable)

    def __hash__(self):
        return hash((self.dtype, self.broadcastable))

    def __repr__(self):
        kind = _NDIM_NAMES.get(self.ndim, f"{self.ndim}d")
        if any(self.broadcastable) and self.ndim > 0:
            kind = "(" + ", ".join("1" if b else "?" for b in self.broadcastable) + ")"
        return f"TensorType({self.dtype}, {kind})"

    # The class of the variables `type(name)` makes. graph.py, which defines Variable and imports
    # this module, sets it: types.py stays the lowest floor.
    variable_class = None

    def __call__(self, name=None):
        return self.variable_class(self, name=name)

    def is_float(self):
        return self.dtype in FLOAT_DTYPES

    def filter(self, value, name="input", allow_downcast=False):
        """Convert `value` to an ndarray of this type or raise a TypeError that names `name`."""
        arr = np.asarray(value)
        if arr.dtype.kind == "O":
            raise TypeError(f"{name}: expected numbers of dtype {self.dtype}, got objects ({type(value).__name__})")
        if arr.ndim != self.ndim:
            raise TypeError(f"{name}: expected a {self.ndim}-d array ({self}), "
                            f"got a {arr.ndim}-d value of shape {arr.shape}")
        if arr.dtype.name != self.dtype:
            safe = np.can_cast(arr.dtype, self.dtype, casting="safe")
            # Python ints and floats given for a float input are fine (f(2, 3) must work).
            from_python = not isinstance(value, np.ndarray) and not isinstance(value, np.generic)
            if from_python and self.is_float() and arr.dtype.kind in "biuf":
                safe = True
            elif from_python and arr.dtype.kind in "biu" and self.dtype[:3] in ("int", "uin"):
                safe = bool(np.all(arr.astype(self.dtype) == arr))    # Python ints that fit
            if not (safe or allow_downcast):
                raise TypeError(f"{name}: expected dtype {self.dtype}, got {arr.dtype.name} "
                                f"(converting would lose precision; cast it first, e.g. "
                                f"value.astype('{self.dtype}'))")
            arr = arr.astype(self.dtype)
        for axis, (b, n) in enumerate(zip(self.broadcastable, arr.shape)):
            if b and n != 1:
                raise TypeError(f"{name}: dimension {axis} is broadcastable so it must have size 1, "
                                f"but the value has shape {arr.shape}")
        return arr


def upcast(strong, weak_kinds=()):
    """The dtype of an elementwise result.

    `strong` are the dtypes of tensors; `weak_kinds` the NumPy kinds ('b', 'i', 'f') of Python
    numbers in the expression, which never widen a tensor's dtype (x * 2 stays float32).
    """
    if not strong:
        return {"b": "bool", "i": "int64"}.get(max(weak_kinds, key="bif".index), config.floatX) \
            if weak_kinds else config.floatX
    dtype = np.result_type(*strong).name
    for kind in weak_kinds:
        if kind == "f" and np.dtype(dtype).kind in "biu":
            dtype = np.result_type(dtype, config.floatX).name
        elif kind == "i" and dtype == "bool":
            dtype = "int64"
    return dtype


def float_dtype(dtype):
    """The float dtype a float-valued op (exp, /, sigmoid...) returns for inputs of `dtype`."""
    return dtype if dtype in FLOAT_DTYPES else config.floatX


def tensor_type(dtype=None, ndim=0, broadcastable=None):
    dtype = config.floatX if dtype in (None, "floatX") else dtype
    if broadcastable is None:
        broadcastable = (False,) * ndim
    return TensorType(dtype, broadcastable)
