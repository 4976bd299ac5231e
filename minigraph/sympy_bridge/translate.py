"""The sympy bridge, part one: read a minigraph graph as a formula, and turn a formula into a graph.

    to_sympy(x ** 2 + y)                      x**2 + y   (input names become sympy symbols)
    to_sympy(T.dot(v, v), shapes={v: (3,)})   v_0**2 + v_1**2 + v_2**2
    from_sympy(sympy.sin(s) ** 2, [x])        a graph (symbols are matched to variables by name)

Tensors are written out element by element at a concrete size: a vector v of size 3 is the
symbols v_0, v_1, v_2 (sympy's `symarray` naming), and a tensor result is a sympy Array of the
same shape. Every op is then a line of NumPy on object arrays of sympy expressions, which is all
a small worked example needs. Sizes come from `shapes` ({variable or name: shape}), a shared
variable's value, or default to 3 per dimension (1 where the dimension broadcasts).
The formulas for each op are in `_SCALAR` (elementwise rows) and `_RULES` (op class -> rule).
"""
import functools

import numpy as np
import sympy
from sympy.logic.boolalg import Boolean

from ..graph import Constant, as_variable, graph_inputs, toposort
from ..ops import elemwise as E
from ..ops import linalg as L
from ..ops import shape as S
from ..ops.dot import Dot
from ..ops.nnet import Softmax
from ..ops.reduce import Reduce


class NotExpressible(TypeError):
    """The graph holds an op that the sympy bridge has no formula for."""


def _cannot(what):
    return NotExpressible(f"to_sympy: {what}; check the graph numerically instead, with "
                          f"minigraph.testing.check_gradient(cost, wrt, values)")


def _num(e):      # a boolean used as a number (x * (x > 0)) is 0 or 1, as in NumPy
    return sympy.Piecewise((1, e), (0, True)) if _is_bool(e) else e


def _cond(e):     # a number used as a condition is true when nonzero
    return e if _is_bool(e) else sympy.Ne(e, 0)


def _is_bool(e):  # sympy Symbols are Booleans too; here they are numbers
    return isinstance(e, Boolean) and not isinstance(e, sympy.Expr)


def _arith(fn):   # arithmetic sees booleans as 0 or 1
    return lambda *args: fn(*map(_num, args))


# A formula per row of elemwise.SCALAR_OPS; a test fails when a new row has none.
_SCALAR = {name: _arith(fn) for name, fn in {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "true_div": lambda a, b: a / b, "int_div": lambda a, b: sympy.floor(a / b), "mod": sympy.Mod,
    "pow": lambda a, b: a ** b, "maximum": sympy.Max, "minimum": sympy.Min, "neg": lambda a: -a,
    "abs": sympy.Abs, "sgn": sympy.sign, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
    "log1p": lambda a: sympy.log(1 + a), "expm1": lambda a: sympy.exp(a) - 1, "sqr": lambda a: a ** 2,
    "tanh": sympy.tanh, "sin": sympy.sin, "cos": sympy.cos, "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)),
    "softplus": lambda a: sympy.log(1 + sympy.exp(a)), "second": lambda a, b: b,   # frompyfunc broadcasts b
    "gt": sympy.Gt, "lt": sympy.Lt, "ge": sympy.Ge, "le": sympy.Le, "eq": sympy.Eq, "neq": sympy.Ne,
    "cast_int": lambda a: sympy.sign(a) * sympy.floor(sympy.Abs(a)),   # C casts truncate toward zero
}.items()}
_SCALAR.update(and_=lambda a, b: sympy.And(_cond(a), _cond(b)), or_=lambda a, b: sympy.Or(_cond(a), _cond(b)),
               xor=lambda a, b: sympy.Xor(_cond(a), _cond(b)),
               invert=lambda a: sympy.Not(_cond(a)), cast_bool=_cond, cast_float=_num, cast_complex=_num,
               switch=lambda c, a, b: sympy.Piecewise((_num(a), _cond(c)), (_num(b), True)))


def _scalar_fn(s):
    """The sympy function of a scalar op: its own `to_sympy`, a table row, or a Composite's inner graph."""
    fn = getattr(s, "to_sympy", None) or _SCALAR.get(s.name)
    if fn is None and s.name.startswith("cast_"):          # cast_float32 -> cast_float, cast_uint8 -> cast_int
        fn = _SCALAR["cast_" + s.out.rstrip("0123456789").replace("uint", "int")]
    if fn is None and hasattr(s, "nodes"):                  # a fused Composite: nodes[k] = (op, args, dtype)
        inner = [(_scalar_fn(op), args) for op, args, _ in s.nodes]

        def fn(*values):
            values = list(values)
            for f, args in inner:
                values.append(f(*[values[a] for a in args]))
            return values[-1]
    if fn is None:
        raise _cannot(f"no sympy formula for the elementwise op {s.name!r}")
    return fn


def _map(fn, *arrays):    # frompyfunc broadcasts like Elemwise, but returns a bare object for 0-d inputs
    return np.asarray(np.frompyfunc(fn, len(arrays), 1)(*arrays), dtype=object)


def _sympify(arr):
    # str() of a NumPy number is its shortest spelling: 0.1 -> 1/10 and 2.0 -> 2, so formulas read as
    # people write them and cancel exactly.
    to_number = lambda v: sympy.oo * np.sign(v) if np.isinf(v) else sympy.sympify(str(v), rational=True)
    return arr if arr.dtype == object else _map(to_number, arr)


def _concrete(arr):
    if not all(getattr(v, "is_Integer", False) for v in arr.flat):
        raise _cannot(f"an index or a shape depends on input values ({arr})")
    return np.array([int(v) for v in arr.flat], dtype="int64").reshape(arr.shape)


def _reduce(node, x):
    fn = {"max": sympy.Max, "min": sympy.Min, "prod": lambda a, b: a * b}.get(node.op.kind, lambda a, b: a + b)
    out = _map(_num, x)
    for axis in sorted(node.op.axis, reverse=True):      # reduce() takes one axis at a time for a Python function
        out = np.asarray(np.frompyfunc(fn, 2, 1).reduce(out, axis=axis), dtype=object)
    return np.asarray(out / int(np.prod([x.shape[a] for a in node.op.axis])) if node.op.kind == "mean" else out)


def _softmax(node, x):
    e = _map(sympy.exp, x)
    total = e.sum(axis=-1, keepdims=True)
    return _map(lambda a, t: a - sympy.log(t), x, total) if node.op.log else e / total


def _matrix(fn):    # linear algebra on sympy Matrices, back to an array shaped like the last input
    def rule(node, *args):
        out = fn(*map(sympy.Matrix, args))
        return np.array(out.tolist(), dtype=object).reshape(args[-1].shape) if out.is_Matrix else np.asarray(out)
    return rule


def _structural(n_data):
    # Ops that only move elements around run their own NumPy `perform` on the object arrays; their
    # other inputs (indices, shapes) must be numbers at the chosen size.
    return lambda node, *args: [_sympify(np.asarray(out)) for out in node.op.perform(
        node, list(args[:n_data]) + [_concrete(a) for a in args[n_data:]])]


_RULES = {
    Reduce: _reduce, Softmax: _softmax, S.Join: lambda node, *ts: np.concatenate(ts, axis=node.op.axis),
    Dot: lambda node, a, b: np.asarray(np.dot(_map(_num, a), _map(_num, b)), dtype=object),
    S.Alloc: lambda node, v, *shape: np.full([int(_concrete(s)) for s in shape], v[()], dtype=object),
    L.MatrixInverse: _matrix(lambda A: A.inv()), L.Det: _matrix(lambda A: A.det()),
    L.LogDet: _matrix(lambda A: sympy.log(A.det())), L.Solve: _matrix(lambda A, b: A.LUsolve(b)),
    **{op: _structural(n) for op, n in [(S.DimShuffle, 1), (S.Rebroadcast, 1), (S.Reshape, 1), (S.Subtensor, 1),
                                       (S.IncSubtensor, 2), (S.Tril, 1), (S.ExtractDiag, 1), (S.AllocDiag, 1),
                                       (S.Shape, 1), (S.ARange, 0)]},
}


class _Translator:
    """Graphs -> object arrays of sympy expressions, with one symbol per input element."""

    def __init__(self, shapes=None):
        self.shapes, self.env, self.names, self.inputs = dict(shapes or {}), {}, {}, []

    def __call__(self, x):
        if isinstance(x, (sympy.Basic, sympy.MatrixBase)):   # a formula already: equivalent() takes both
            # Graph inputs become real symbols; a plain Symbol('x') must name the same x.
            x = x.xreplace({s: sympy.Symbol(s.name, real=True) for s in x.free_symbols
                            if isinstance(s, sympy.Symbol) and s.is_real is None})
            return np.array(x.tolist() if hasattr(x, "tolist") else x, dtype=object)
        x = as_variable(x)
        for leaf in graph_inputs([x]):
            if id(leaf) not in self.env:
                self.env[id(leaf)] = self.leaf(leaf)
        for node in toposort([x]):
            if id(node.outputs[0]) not in self.env:
                self.env.update(zip(map(id, node.outputs), self.apply(node, [self.env[id(i)] for i in node.inputs])))
        return self.env[id(x)]

    def leaf(self, var):
        if isinstance(var, Constant):
            return _sympify(np.asarray(var.data))
        name = var.name or f"var{var.id}"
        if self.names.setdefault(name, var) is not var:
            raise ValueError(f"two different inputs are both named {name!r}; rename one so that the formula "
                             f"can tell them apart")
        shape = self.shapes.get(var, self.shapes.get(name))
        if shape is None:                          # a shared variable knows its shape
            shape = var.get_value().shape if hasattr(var, "get_value") else [1 if b else 3 for b in var.broadcastable]
        if len(shape) != var.ndim:
            raise ValueError(f"shapes[{name!r}] = {shape} has {len(shape)} dimensions, but {name} has {var.ndim}")
        kind = {"integer": True} if var.dtype.startswith(("int", "uint")) else {"real": True}
        syms = sympy.symarray(name, tuple(shape), **kind) if len(shape) else np.asarray(sympy.Symbol(name, **kind))
        self.inputs.append((var, syms))
        return syms

    def apply(self, node, args):
        if hasattr(node.op, "to_sympy"):           # any op may teach the bridge its own formula
            return [np.asarray(out, dtype=object) for out in node.op.to_sympy(node, *args)]
        if isinstance(node.op, E.Elemwise):
            return [_map(_scalar_fn(node.op.scalar_op), *args)]
        if type(node.op) not in _RULES:
            raise _cannot(f"no sympy formula for the op {node.op} (applied to {', '.join(map(repr, node.inputs))})")
        out = _RULES[type(node.op)](node, *args)
        return out if isinstance(out, list) else [out]


def _public(arr):
    return arr[()] if arr.ndim == 0 else sympy.Array(arr.tolist(), arr.shape)


def to_sympy(expr, shapes=None):
    """The formula a graph computes: a sympy expression for a scalar, a sympy Array for a tensor."""
    return _public(_Translator(shapes)(expr))


def from_sympy(expr, variables):
    """A minigraph graph computing a sympy formula. `variables`: the inputs ([x, y]) or a mapping
    {symbol or name: variable}; symbols match by name, and `v_1` means v[1] of a vector v."""
    by_name = {str(k): v for k, v in (variables.items() if isinstance(variables, dict)
                                      else ((v.name, v) for v in variables))}

    def symbol(s):
        base, *idx = s.name.split("_")
        for cut in range(len(idx), -1, -1):       # w_out_0_1 is w_out_0_1, else w_out_0[1], w_out[0, 1]...
            var = by_name.get("_".join([base] + idx[:cut]))
            if var is not None and all(i.isdigit() for i in idx[cut:]) and var.ndim == len(idx) - cut:
                return var[tuple(int(i) for i in idx[cut:])] if cut < len(idx) else var
        raise ValueError(f"from_sympy: no minigraph variable for the symbol {s.name!r} (known: {sorted(by_name)}); "
                         f"pass one, e.g. from_sympy(expr, {{'{s.name}': T.dscalar('{s.name}')}})")

    @functools.cache                             # a subexpression used twice is built once
    def build(e):
        return _build(e, build, symbol)

    if isinstance(expr, (sympy.NDimArray, sympy.MatrixBase)):
        arr = np.array(expr.tolist(), dtype=object)
        return S.reshape(S.stack([build(sympy.sympify(e)) for e in arr.flat]), arr.shape)
    return build(sympy.sympify(expr))


_FROM = {sympy.exp: E.exp, sympy.log: E.log, sympy.sin: E.sin, sympy.cos: E.cos, sympy.tanh: E.tanh,
         sympy.Abs: E.abs_, sympy.sign: E.sgn, sympy.Not: E.invert, sympy.Mod: E.mod, sympy.Max: E.maximum,
         sympy.Min: E.minimum, sympy.And: E.and_, sympy.Or: E.or_, sympy.floor: lambda a: E.int_div(a, 1),
         sympy.StrictGreaterThan: E.gt, sympy.StrictLessThan: E.lt, sympy.GreaterThan: E.ge,
         sympy.LessThan: E.le, sympy.Equality: E.eq, sympy.Unequality: E.neq, sympy.ITE: E.switch}
_NARY = {sympy.Max, sympy.Min, sympy.And, sympy.Or}


def _build(e, build, symbol):
    if e.is_Symbol:
        return symbol(e)
    if e.is_Integer or e in (sympy.true, sympy.false):
        return as_variable(int(e) if e.is_Integer else bool(e))
    if e.is_Number or e.is_NumberSymbol:
        return as_variable(float(e))
    if e.is_Add:              # x - y is stored as x + (-1)*y: write it back as a subtraction
        return functools.reduce(lambda out, t: out - build(-t) if t.could_extract_minus_sign() else out + build(t),
                                e.args[1:], build(e.args[0]))
    if e.is_Mul or e.is_Pow:
        num, den = sympy.fraction(e)      # x / y is stored as x * y**-1: write it back as a division
        if den != 1:
            return build(num) / build(den)
    if e.is_Mul:
        return -build(-e) if e.could_extract_minus_sign() else functools.reduce(E.mul, map(build, e.args))
    if e.is_Pow:
        return E.sqrt(build(e.base)) if e.exp == sympy.S.Half else build(e.base) ** build(e.exp)
    if e.func in _FROM:       # n-ary Max(a, b, c), And(...) become pairwise ops
        args = list(map(build, e.args))
        return functools.reduce(_FROM[e.func], args) if e.func in _NARY else _FROM[e.func](*args)
    if isinstance(e, sympy.Piecewise):      # nested switches; where no piece applies, nan
        return functools.reduce(lambda out, p: build(p.expr) if p.cond == sympy.true else
                                E.switch(build(p.cond), build(p.expr), out), reversed(e.args), as_variable(np.nan))
    raise NotExpressible(f"from_sympy: minigraph has no op for {type(e).__name__} (in {e}); it knows + - * / **, "
                         f"Piecewise and {', '.join(sorted(f.__name__ for f in _FROM))}")
