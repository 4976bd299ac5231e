"""Elementwise operations: one table row per scalar function, one Op that maps it over tensors.

Each row of the table is the whole definition of a scalar op: its NumPy forward, its
derivative (next to the forward, micrograd-style), the expression a compiled kernel uses,
and how `pp` prints it. `Elemwise(scalar_op)` lifts a row to tensors with broadcasting.
"""
import numpy as np

from ..config import config
from ..graph import Apply, Op, as_variable
from ..types import TensorType, float_dtype, upcast
from .basic import dimshuffle, lost_broadcast_axes


class ScalarOp:
    """A scalar function of `nin` arguments.

    impl      NumPy implementation (applied to whole arrays)
    grad      (inputs, output, output_grad) -> one symbolic gradient (or None) per input
    kernel    format string for compiled backends, e.g. "math.exp({0})"
    symbol    infix symbol for printing (None: printed as a call `name(args)`)
    out       result dtype rule: 'upcast' (of inputs), 'float' (upcast, then at least float),
              'bool', or a fixed dtype name
    """

    def __init__(self, name, nin, impl, grad, kernel, symbol=None, precedence=100, out="upcast"):
        self.name, self.nin, self.impl, self.grad = name, nin, impl, grad
        self.kernel, self.symbol, self.precedence, self.out = kernel, symbol, precedence, out

    def output_dtype(self, strong_dtypes, weak_kinds):
        if self.out == "bool":
            return "bool"
        dtype = upcast(strong_dtypes, weak_kinds)
        if self.out == "float":
            return float_dtype(dtype)
        return dtype if self.out == "upcast" else self.out

    def __eq__(self, other):
        return isinstance(other, ScalarOp) and (self.name, self.out) == (other.name, other.out)

    def __hash__(self):
        return hash((self.name, self.out))

    def __repr__(self):
        return self.name

    def __reduce__(self):
        # The table's functions are lambdas, which pickle cannot store: a row pickles as its name.
        if type(self) is ScalarOp:
            return scalar_op_named, (self.name,)
        return super().__reduce__()


def scalar_op_named(name):
    """The table row called `name` (how a pickled graph finds its scalar ops again)."""
    if name not in SCALAR_OPS and name.startswith("cast_"):     # casts are made when first used
        target = name[len("cast_"):]
        cast(np.zeros((), dtype="int8" if target == "bool" else "bool"), target)
    return SCALAR_OPS[name]


class Elemwise(Op):
    """Applies a scalar op element by element, broadcasting by the inputs' patterns."""

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op):
        self.scalar_op = scalar_op

    def __str__(self):
        return f"Elemwise{{{self.scalar_op.name}}}"

    def make_node(self, *inputs):
        if len(inputs) != self.scalar_op.nin:
            raise TypeError(f"{self} takes {self.scalar_op.nin} inputs, got {len(inputs)}")
        inputs = [as_variable(i) for i in inputs]
        ndim = max(i.ndim for i in inputs)
        # Theano's rule: a tensor with fewer dimensions gains broadcastable ones on the left.
        inputs = [dimshuffle(i, ("x",) * (ndim - i.ndim) + tuple(range(i.ndim)))
                  if i.ndim < ndim else i for i in inputs]
        broadcastable = tuple(all(bs) for bs in zip(*[i.broadcastable for i in inputs])) if ndim else ()
        strong = [i.dtype for i in inputs if not getattr(i, "weak", False)]
        weak = [np.dtype(i.dtype).kind for i in inputs if getattr(i, "weak", False)]
        dtype = self.scalar_op.output_dtype(strong, weak)
        return Apply(self, inputs, [TensorType(dtype, broadcastable)])

    def perform(self, node, inputs):
        check_broadcast(node, [np.shape(v) for v in inputs])
        with np.errstate(all="ignore"):
            result = self.scalar_op.impl(*inputs)
        return [np.asarray(result, dtype=node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        out = self(*inputs)
        grads = self.scalar_op.grad(inputs, out, gz)
        result = []
        for inp, g in zip(inputs, grads):
            if g is None or not inp.type.is_float():
                result.append(None)
                continue
            # Where the input broadcast (size 1) and the output did not, sum the gradient back.
            # (`Variable.sum`, installed by tensor.py: Reduce's own gradient uses this module.)
            axes = lost_broadcast_axes(inp.broadcastable, g)
            result.append(g.sum(axis=axes, keepdims=True) if axes else g)
        return result

    def pp(self, node, args):
        s = self.scalar_op
        if hasattr(s, "pretty"):            # a fused Composite prints as its formula
            return s.pretty.format(*args)
        if s.symbol and len(args) == 2:
            return f"({args[0]} {s.symbol} {args[1]})"
        if s.symbol and len(args) == 1:
            return f"{s.symbol}{args[0]}"
        return f"{s.name}({', '.join(args)})"


class BroadcastError(ValueError):
    pass


def check_broadcast(node, shapes):
    """Raise a clear error where the shapes disagree with the inputs' broadcast patterns."""
    ndim = node.outputs[0].ndim
    for k, shape in enumerate(shapes):
        if len(shape) != ndim:
            raise BroadcastError(f"{node.op}: input {k} has {len(shape)} dimensions, expected {ndim}")
    for axis in range(ndim):
        sizes = {s[axis] for i, s in zip(node.inputs, shapes) if not i.broadcastable[axis]}
        stretched = [s[axis] for i, s in zip(node.inputs, shapes) if i.broadcastable[axis] and s[axis] != 1]
        if len(sizes) > 1 or stretched:
            shown = ", ".join(f"{i.name or f'input {k}'} {s} (pattern {_pattern(i)})"
                              for k, (i, s) in enumerate(zip(node.inputs, shapes)))
            raise BroadcastError(
                f"{node.op}: shapes do not match along dimension {axis}: {shown}. "
                f"A dimension broadcasts only where its pattern says 1 (e.g. a column made with "
                f"broadcastable=(False, True)). Built at {node.site[0]}, line {node.site[1]}.")


def _pattern(var):
    return "(" + ", ".join("1" if b else "?" for b in var.broadcastable) + ")"


# ---------------------------------------------------------------------------------------------
# The table. Each row is also the tensor-level function (`exp(x)` applies the Elemwise op);
# gradients call the other rows by name.
# ---------------------------------------------------------------------------------------------
def _sigmoid(x):
    # Stable for large |x|: never exponentiates a large positive number.
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def _softplus(x):
    return np.logaddexp(0, x)


def _int_div_grad(i, o, gz):
    return [None, None]


def _pow_grad(i, o, gz):
    x, y = i
    # d/dy x**y = log(x) x**y, taken as 0 where x == 0 so 0**y stays differentiable in x.
    return [gz * y * x ** (y - 1), gz * o * log(switch(eq(x, 0), 1, x))]


SCALAR_OPS = {}


def _scalar(name, nin, impl, grad, kernel, symbol=None, precedence=100, out="upcast"):
    op = ScalarOp(name, nin, impl, grad, kernel, symbol, precedence, out)
    SCALAR_OPS[name] = op
    return Elemwise(op)


add = _scalar("add", 2, np.add, lambda i, o, gz: [gz, gz], "({0} + {1})", "+", 10)
sub = _scalar("sub", 2, np.subtract, lambda i, o, gz: [gz, -gz], "({0} - {1})", "-", 10)
mul = _scalar("mul", 2, np.multiply, lambda i, o, gz: [gz * i[1], gz * i[0]], "({0} * {1})", "*", 20)
true_div = _scalar("true_div", 2, np.true_divide,
                   lambda i, o, gz: [gz / i[1], -gz * o / i[1]], "({0} / {1})", "/", 20, out="float")
int_div = _scalar("int_div", 2, np.floor_divide, _int_div_grad, "({0} // {1})", "//", 20)
mod = _scalar("mod", 2, np.mod, lambda i, o, gz: [gz, -gz * int_div(i[0], i[1])], "({0} % {1})", "%", 20)
pow = _scalar("pow", 2, np.power, _pow_grad, "({0} ** {1})", "**", 30)
maximum = _scalar("maximum", 2, np.maximum, lambda i, o, gz: [gz * ge(i[0], i[1]), gz * lt(i[0], i[1])],
                  "nan_max({0}, {1})")
minimum = _scalar("minimum", 2, np.minimum, lambda i, o, gz: [gz * le(i[0], i[1]), gz * gt(i[0], i[1])],
                  "nan_min({0}, {1})")
neg = _scalar("neg", 1, np.negative, lambda i, o, gz: [-gz], "(-{0})", "-", 40)
abs_ = _scalar("abs", 1, np.abs, lambda i, o, gz: [gz * sgn(i[0])], "abs({0})")
sgn = _scalar("sgn", 1, np.sign, lambda i, o, gz: [None], "(int({0} > 0) - int({0} < 0))")
exp = _scalar("exp", 1, np.exp, lambda i, o, gz: [gz * o], "math.exp({0})", out="float")
log = _scalar("log", 1, np.log, lambda i, o, gz: [gz / i[0]], "math.log({0})", out="float")
log1p = _scalar("log1p", 1, np.log1p, lambda i, o, gz: [gz / (1 + i[0])], "math.log1p({0})", out="float")
expm1 = _scalar("expm1", 1, np.expm1, lambda i, o, gz: [gz * (o + 1)], "math.expm1({0})", out="float")
sqrt = _scalar("sqrt", 1, np.sqrt, lambda i, o, gz: [gz * 0.5 / o], "math.sqrt({0})", out="float")
sqr = _scalar("sqr", 1, np.square, lambda i, o, gz: [gz * 2 * i[0]], "({0} * {0})")
tanh = _scalar("tanh", 1, np.tanh, lambda i, o, gz: [gz * (1 - o * o)], "math.tanh({0})", out="float")
sin = _scalar("sin", 1, np.sin, lambda i, o, gz: [gz * cos(i[0])], "math.sin({0})", out="float")
cos = _scalar("cos", 1, np.cos, lambda i, o, gz: [-gz * sin(i[0])], "math.cos({0})", out="float")
sigmoid = _scalar("sigmoid", 1, _sigmoid, lambda i, o, gz: [gz * o * (1 - o)],
                  "sigmoid({0})", out="float")
softplus = _scalar("softplus", 1, _softplus, lambda i, o, gz: [gz * sigmoid(i[0])],
                   "softplus({0})", out="float")
gt = _scalar("gt", 2, np.greater, lambda i, o, gz: [None, None], "({0} > {1})", ">", 5, out="bool")
lt = _scalar("lt", 2, np.less, lambda i, o, gz: [None, None], "({0} < {1})", "<", 5, out="bool")
ge = _scalar("ge", 2, np.greater_equal, lambda i, o, gz: [None, None], "({0} >= {1})", ">=", 5, out="bool")
le = _scalar("le", 2, np.less_equal, lambda i, o, gz: [None, None], "({0} <= {1})", "<=", 5, out="bool")
eq = _scalar("eq", 2, np.equal, lambda i, o, gz: [None, None], "({0} == {1})", "==", 5, out="bool")
neq = _scalar("neq", 2, np.not_equal, lambda i, o, gz: [None, None], "({0} != {1})", "!=", 5, out="bool")
# Bitwise on integers, logical on booleans (NumPy's and Theano's `& | ^ ~`); no gradient.
and_ = _scalar("and_", 2, np.bitwise_and, lambda i, o, gz: [None, None], "({0} & {1})", "&", 4)
or_ = _scalar("or_", 2, np.bitwise_or, lambda i, o, gz: [None, None], "({0} | {1})", "|", 3)
xor = _scalar("xor", 2, np.bitwise_xor, lambda i, o, gz: [None, None], "({0} ^ {1})", "^", 3)
invert = _scalar("invert", 1, np.invert, lambda i, o, gz: [None], "(~{0})", "~", 40)
switch = _scalar("switch", 3, np.where,
                 lambda i, o, gz: [None, switch(i[0], gz, 0), switch(i[0], 0, gz)],
                 "({1} if {0} else {2})")
# second(a, b) is b broadcast to the shape of a: how gradients of sums and `fill` are made.
second = _scalar("second", 2, lambda a, b: np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b))),
                 lambda i, o, gz: [None, gz], "{1}")


def _cast_grad(i, o, gz):
    return [cast(gz, i[0].dtype) if i[0].type.is_float() else None]


def cast(x, dtype):
    """x converted to `dtype` (a no-op when it already has it)."""
    x = as_variable(x)
    dtype = config.floatX if dtype == "floatX" else np.dtype(dtype).name
    if x.dtype == dtype:
        return x
    op = SCALAR_OPS.get(f"cast_{dtype}") or ScalarOp(
        f"cast_{dtype}", 1, lambda v, _d=dtype: np.asarray(v).astype(_d), _cast_grad,
        f"{dtype}({{0}})", out=dtype)
    SCALAR_OPS[op.name] = op
    return Elemwise(op)(x)


def fill(model, value):
    """`value` broadcast to the shape of `model` (Theano's `fill`)."""
    return second(model, value)


def zeros_like(x, dtype=None):
    x = as_variable(x)
    return fill(x, np.zeros((), dtype=dtype or x.dtype))


def ones_like(x, dtype=None):
    x = as_variable(x)
    return fill(x, np.ones((), dtype=dtype or x.dtype))
