"""The `T` namespace of the tutorial: `import minigraph.tensor as T`.

Constructors (`T.dscalar('x')`, `T.dmatrices('a', 'b')`), the math functions, and the Python
operators on variables (`x + y`, `x[1:]`, `x.T`, `x.sum(axis=0)`), all building graphs.
"""
import builtins

import numpy as np

from ..config import config
from ..gradcheck import verify_grad  # noqa: F401
from ..gradient import Lop, Rop, grad, hessian, jacobian  # noqa: F401
from ..graph import Constant, Variable, as_variable
from ..ops import nnet as _nnet
from ..ops.dot import dot, outer  # noqa: F401
from ..ops.elemwise import (abs_, add, and_, cast, cos, eq, exp, expm1, fill, ge, gt, int_div,  # noqa: F401
                           invert, le, log, log1p, lt, maximum, minimum, mod, mul, neg, neq,
                           ones_like, or_, pow, second, sgn, sin, sqr, sqrt, sub, switch, tanh,
                           true_div, xor, zeros_like)
from ..ops.linalg import cholesky, det, logdet, matrix_inverse, solve  # noqa: F401
from ..ops.reduce import argmax, max, mean, min, prod, sum  # noqa: F401
from ..ops.basic import Shape as _Shape
from ..ops.shape import (alloc, arange, concatenate, diag, dimshuffle, flatten, getitem,  # noqa: F401
                        inc_subtensor, join, Rebroadcast, reshape, set_subtensor, shape, shape_padaxis,
                        shape_padleft, shape_padright, stack, stacklists, tril, triu)
from ..ops.shape import Join as _Join
from ..ops.specify_shape import SpecifyShape as _SpecifyShape, specify_shape  # noqa: F401
from ..types import TensorType
from .. import numpy_interop
from .missing import not_supported
from . import nlinalg, nnet, shared_randomstreams  # noqa: F401  (T.nnet.sigmoid; from minigraph.tensor.nnet import ...)

TensorVariable = Variable
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert     # Theano's aliases
TensorConstant = Constant
abs = abs_


# --- constructors -----------------------------------------------------------------------------
def tensor(dtype=None, broadcastable=None, name=None, ndim=None, shape=None):
    """A symbolic input. `T.tensor('float64', (False, True))` is a column."""
    if broadcastable is None:
        if shape is not None:
            broadcastable = tuple(s == 1 for s in shape)
        else:
            broadcastable = (False,) * (ndim or 0)
    return Variable(TensorType(config.floatX if dtype in (None, "floatX") else dtype, broadcastable), name=name)


def _make_constructor(ndim, broadcastable=None):
    pattern = (False,) * ndim if broadcastable is None else broadcastable

    def constructor(name=None, dtype=None):
        return tensor(dtype, pattern, name=name)
    return constructor


def _make_plural(single):
    def plural(*names, dtype=None):
        # Theano's rule: an int makes that many unnamed variables; one string of one letter makes
        # one variable, a longer one a variable per letter (T.dscalars('abc')). minigraph also
        # splits 'a b' and 'a, b' at the separators.
        make = single if dtype is None else (lambda n=None: single(n, dtype=dtype))
        if len(names) == 1 and isinstance(names[0], int):
            return [make() for _ in range(names[0])]
        if len(names) == 1 and isinstance(names[0], str):
            text = names[0]
            if " " in text or "," in text:
                return [make(n) for n in text.replace(",", " ").split()]
            return make(text) if len(text) == 1 else [make(letter) for letter in text]
        if len(names) == 1 and isinstance(names[0], (list, tuple)):
            names = names[0]
        return [make(n) for n in names]
    return plural


# T.dmatrix is a type (x.type == T.dmatrix), and calling it makes a variable: T.dmatrix('x').
# The prefixless T.matrix is a function of (name, dtype), its dtype config.floatX when called.
_KINDS = {"scalar": 0, "vector": 1, "matrix": 2, "tensor3": 3, "tensor4": 4, "tensor5": 5, "tensor6": 6,
          "tensor7": 7, "row": (True, False), "col": (False, True)}
_PREFIXES = {"": None, "b": "int8", "w": "int16", "i": "int32", "l": "int64",
             "f": "float32", "d": "float64", "c": "complex64", "z": "complex128"}
for _prefix, _dtype in _PREFIXES.items():
    for _kind, _shape in _KINDS.items():
        _pattern = _shape if isinstance(_shape, tuple) else (False,) * _shape
        if _dtype is None:
            _single = _make_constructor(len(_pattern), _pattern)
            _single.__name__ = _kind
        else:
            _single = TensorType(_dtype, _pattern)
        globals()[_prefix + _kind] = _single
        _plural_name = _prefix + ("matrices" if _kind == "matrix" else _kind + "s")
        globals()[_plural_name] = _make_plural(_single if _dtype is None else
                                               (lambda n=None, dtype=None, _t=_single: _t(n)))


def constant(x, name=None, dtype=None):
    data = np.asarray(x, dtype=dtype)
    return as_variable(data, name=name)


def as_tensor_variable(x, name=None):
    return as_variable(x, name=name)


def zeros(shape_, dtype=None):
    shape_ = [shape_] if isinstance(shape_, int) else list(shape_)
    return alloc(np.zeros((), dtype=dtype or config.floatX), *shape_)


def ones(shape_, dtype=None):
    shape_ = [shape_] if isinstance(shape_, int) else list(shape_)
    return alloc(np.ones((), dtype=dtype or config.floatX), *shape_)


def eye(n, dtype=None):
    return diag(ones([n], dtype=dtype))


def transpose(x, axes=None):
    x = as_variable(x)
    return dimshuffle(x, tuple(reversed(range(x.ndim))) if axes is None else axes)


def addbroadcast(x, *axes):
    """Mark dimensions of x as broadcastable (checked when the graph runs)."""
    return Rebroadcast(axes)(x)


def log_softmax(x):
    return _nnet.log_softmax(x)


def clip(x, lo, hi):
    return minimum(maximum(x, lo), hi)


def inv(x):
    """1 / x element by element (Theano's `T.inv`); a float result even for integer x."""
    return true_div(1.0, x)


def sigmoid(x):
    return _nnet.sigmoid(x)


def softplus(x):
    return _nnet.softplus(x)


def softmax(x):
    return _nnet.softmax(x)



# --- operators on variables ---------------------------------------------------------------------
# Attached here rather than in graph.py so the graph module stays free of op imports.
def _binary(fn, reflected=False):
    if reflected:
        return lambda self, other: fn(other, self)
    return lambda self, other: fn(self, other)


_OPERATORS = {
    "__add__": _binary(add), "__radd__": _binary(add, True),
    "__sub__": _binary(sub), "__rsub__": _binary(sub, True),
    "__mul__": _binary(mul), "__rmul__": _binary(mul, True),
    "__truediv__": _binary(true_div), "__rtruediv__": _binary(true_div, True),
    "__floordiv__": _binary(int_div), "__rfloordiv__": _binary(int_div, True),
    "__mod__": _binary(mod), "__rmod__": _binary(mod, True),
    "__pow__": _binary(pow), "__rpow__": _binary(pow, True),
    "__gt__": _binary(gt), "__lt__": _binary(lt), "__ge__": _binary(ge), "__le__": _binary(le),
    "__and__": _binary(and_), "__rand__": _binary(and_, True),
    "__or__": _binary(or_), "__ror__": _binary(or_, True),
    "__xor__": _binary(xor), "__rxor__": _binary(xor, True),
    "__neg__": neg, "__abs__": abs_, "__invert__": invert,
    "__pos__": lambda self: self,
    "__getitem__": getitem,
    "__matmul__": _binary(dot), "__rmatmul__": _binary(dot, True),
}
def _as_method(fn):
    # Ops are callables but not functions: wrap them so Python binds `self` as the first input.
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


for _name, _fn in _OPERATORS.items():
    setattr(Variable, _name, _as_method(_fn))


def _bool(self):
    raise TypeError(f"the truth value of symbolic variable {self} is unknown until the graph runs; "
                    f"use T.switch(cond, a, b) for a symbolic if, or compare the computed values")


def static_length(v):
    """The length of vector `v` when the graph tells it (a shape, a stack of scalars, a constant),
    else None."""
    v = as_variable(v)
    if v.ndim != 1:
        return None
    if isinstance(v, Constant):
        return len(v.data)
    if v.broadcastable[0]:
        return 1
    node = v.owner
    if node is not None and isinstance(node.op, _Shape):
        return node.inputs[0].ndim
    if node is not None and isinstance(node.op, _Join):
        lengths = [static_length(i) for i in node.inputs]
        return None if None in lengths else builtins.sum(lengths)
    if node is not None and isinstance(node.op, _SpecifyShape):
        return node.op.shape[0]
    return None


def _iter(self):
    # `M, K = mu.shape`: a shape vector's length is its tensor's ndim, known when the graph is built.
    n = static_length(self) if self.ndim == 1 else None
    if n is None:
        raise TypeError(f"cannot iterate over symbolic variable {self}: its length is unknown until the graph "
                        f"runs (only vectors of known length, such as x.shape, can be unpacked)")
    return iter([getitem(self, k) for k in range(n)])


def _missing_attribute(self, name):
    # (no repr of self here: it reads attributes, which may be what is missing)
    raise not_supported(f"variable {self.__dict__.get('name') or '(unnamed)'}", name)


def __getattr__(name):       # T.<name> that minigraph lacks
    raise not_supported("minigraph.tensor", name)


Variable.__bool__ = _bool
Variable.__iter__ = _iter
Variable.__getattr__ = _missing_attribute
Variable.T = property(lambda self: transpose(self))
Variable.shape = property(lambda self: shape(self))
Variable.size = property(lambda self: prod(shape(self)))
_METHODS = {"sum": sum, "mean": mean, "max": max, "min": min, "prod": prod, "dot": dot,
            "reshape": lambda self, *s, **kw: reshape(self, s[0] if len(s) == 1 else s, **kw),
            "flatten": flatten, "dimshuffle": lambda self, *order: dimshuffle(
                self, order[0] if len(order) == 1 and isinstance(order[0], (list, tuple)) else order),
            "astype": cast, "exp": exp, "log": log, "sqrt": sqrt, "transpose": transpose,
            "clip": clip, "argmax": argmax}
for _name, _fn in _METHODS.items():
    setattr(Variable, _name, _as_method(_fn))
numpy_interop.install(Variable)       # np.exp(x) names T.exp; array * x still builds the graph
