"""The rewrites, phase by phase, in the order they are tried. Each is a pattern and its replacement:
read the list to see what compiling does; add one with `register` (see engine.py)."""
import numpy as np

from ..graph import Constant, clone_replace, toposort
from ..ops.dot import dot
from ..ops.elemwise import exp, expm1, log1p, softplus, sigmoid, sqr, sqrt
from ..ops.nnet import Softmax, log_softmax
from ..ops.reduce import Reduce
from ..ops.basic import DimShuffle, Shape, dimshuffle, shape
from ..ops.elemwise import Elemwise
from ..ops.shape import Alloc
from . import algebra
from .algebra import negated, number
from .engine import register


# --- constant folding: compute now what depends only on constants -------------------------
def fold_constants(var):
    """op(constants) -> its value, computed once at compile time"""
    node = var.owner
    if node is None or not node.inputs or isinstance(node.op, Alloc):   # Alloc: don't bake big arrays in
        return None
    if not all(isinstance(i, Constant) for i in node.inputs):
        return None
    try:
        value = node.op.perform(node, [i.data for i in node.inputs])[var.index]
    except Exception:       # e.g. a shape error: leave it to run time, where it names the user's line
        return None
    return Constant(var.type, np.asarray(value, dtype=var.dtype))


register("constant_folding", "fold_constants", fold_constants)

# --- canonicalize: one way to write each expression, so equal things look equal ------------
register("canonicalize", "mul_one", ("mul", "x", 1), lambda x: x)
register("canonicalize", "add_zero", ("add", "x", 0), lambda x: x)
register("canonicalize", "pow_one", ("pow", "x", 1), lambda x: x)
register("canonicalize", "pow_zero", ("pow", "x", 0), lambda x: 1)
register("canonicalize", "canonical_sum", algebra.canonical_sum)
register("canonicalize", "canonical_product", algebra.canonical_product)

# --- stabilize: the same value, without overflow or cancellation -------------------------
register("stabilize", "inv_1_plus_exp", ("true_div", 1, ("add", 1, ("exp", "u"))),
         lambda u: sigmoid(negated(u)))                                   # 1/(1+exp(-z)) -> sigmoid(z)
register("stabilize", "one_minus_sigmoid", ("sub", 1, ("sigmoid", "x")), lambda x: sigmoid(negated(x)))
register("stabilize", "log_sigmoid", ("log", ("sigmoid", "x")), lambda x: -softplus(negated(x)))
register("stabilize", "log_1_plus_exp", ("log", ("add", 1, ("exp", "x"))), lambda x: softplus(x))
register("stabilize", "log1p", ("log", ("add", 1, "x")), lambda x: log1p(x))
register("stabilize", "expm1", ("sub", ("exp", "x"), 1), lambda x: expm1(x))
register("stabilize", "log_softmax", ("log", (Softmax(False), "x")), lambda x: log_softmax(x))
register("stabilize", "stable_product", lambda v: algebra.canonical_product(v, stable=True))


# --- specialize: faster ops for special cases --------------------------------------------
def integer_power(x, n):
    """x**n by repeated squaring: x**3 = sqr(x) * x, x**-2 = 1 / sqr(x)."""
    if n < 0:
        return 1 / integer_power(x, -n)
    if n == 1:
        return x
    half = sqr(integer_power(x, n // 2))
    return half * x if n % 2 else half


def small_int(c):
    n = number(c)
    return n is not None and float(n).is_integer() and 1 < abs(n) <= 4


register("specialize", "small_power", ("pow", "x", "n"), lambda x, n: integer_power(x, int(number(n))),
         when=lambda x, n: small_int(n) and x.dtype[:5] == "float")
register("specialize", "sqrt_power", ("pow", "x", 0.5), lambda x: sqrt(x))
register("specialize", "sum_mul_to_dot", (Reduce("sum", (0,)), ("mul", "a", "b")), lambda a, b: dot(a, b),
         when=lambda a, b: a.ndim == b.ndim == 1 and not (a.broadcastable[0] or b.broadcastable[0]))


def merge_dimshuffles(var):
    """dimshuffle(dimshuffle(x)) -> one dimshuffle of x (or x itself when they undo each other)"""
    if not isinstance(var.owner.op if var.owner else None, DimShuffle):
        return None
    inner = var.owner.inputs[0]
    if not isinstance(inner.owner.op if inner.owner else None, DimShuffle):
        return None
    first = inner.owner.op.new_order
    return dimshuffle(inner.owner.inputs[0], ["x" if d == "x" else first[d] for d in var.owner.op.new_order])


register("canonicalize", "merge_dimshuffles", merge_dimshuffles)


def shape_of_elemwise(var):
    """shape(elemwise(x, ...)) -> shape(x), for an input x of the output's rank broadcasting nowhere
    (all such inputs must agree, and the elementwise node still checks that they do where it is
    computed). It makes the cost's 1/N independent of the cost, so that the gradient's loop can run
    in row regions together with the forward product (numba_cpu/rowblock.py)."""
    node = var.owner
    if not isinstance(node.op if node else None, Shape):
        return None
    inner = node.inputs[0].owner
    if not isinstance(inner.op if inner else None, Elemwise) or any(inner.outputs[0].broadcastable):
        return None
    ndim = inner.outputs[0].ndim
    same = [i for i in inner.inputs if i.ndim == ndim and not any(i.broadcastable)]
    return shape(same[0]) if same and ndim else None


register("canonicalize", "shape_of_elemwise", shape_of_elemwise)


def share_softmax(outputs):
    """softmax(x) -> exp(log_softmax(x)) where log_softmax(x) is computed anyway: a cross-entropy's
    gradient needs softmax(x) next to the cost's log_softmax(x); one exp per element, fused into
    the gradient's loop, costs less than a second pass over the rows (0.3 ms of a 3.7 ms MLP step
    on 1797x10 scores)."""
    order = toposort(outputs)
    logs = {id(n.inputs[0]): n.outputs[0] for n in order if isinstance(n.op, Softmax) and n.op.log}
    replace = {n.outputs[0]: exp(logs[id(n.inputs[0])]) for n in order
               if isinstance(n.op, Softmax) and not n.op.log and id(n.inputs[0]) in logs}
    return clone_replace(outputs, replace) if replace else outputs


register("stabilize", "share_softmax", share_softmax, whole_graph=True)
