"""Linear algebra with gradients: inverse, Cholesky, solve, determinant, log-determinant."""
import numpy as np

from ..graph import Apply, Op, as_variable
from ..types import TensorType, float_dtype
from .dot import dot, outer
from .shape import AllocDiag, ExtractDiag, tril


def _square(op, a):
    a = as_variable(a)
    if a.ndim != 2:
        raise TypeError(f"{op}: expected a square matrix, got {a} ({a.type})")
    return a


def _check_square(node, a):
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{node.op}: matrix {node.inputs[0]} must be square, got shape {a.shape}; "
                         f"built at {node.site[0]}, line {node.site[1]}")


def positive_logdet(a):
    """log det a where det a > 0, else NaN. Written once: numba's CPU backend compiles this same
    function for its kernels (backends/numba_cpu/runtime.py)."""
    sign, value = np.linalg.slogdet(a)
    return value if sign > 0 else np.nan


class SquareMatrixOp(Op):
    """An op on one square matrix: the type inference and the square check, written once.
    A subclass gives `compute(a)` (NumPy) and `out_ndim` (2: a matrix, 0: a number)."""

    out_ndim = 2

    def make_node(self, a):
        a = _square(self, a)
        return Apply(self, [a], [TensorType(float_dtype(a.dtype), (False,) * self.out_ndim)])

    def perform(self, node, inputs):
        _check_square(node, inputs[0])
        return [np.asarray(self.compute(inputs[0]), dtype=node.outputs[0].dtype)]


class MatrixInverse(SquareMatrixOp):
    compute = staticmethod(np.linalg.inv)

    def grad(self, inputs, output_grads):
        inv = self(inputs[0])                 # d(A^-1) = -A^-1 dA A^-1
        return [-dot(dot(inv.T, output_grads[0]), inv.T)]


class Cholesky(SquareMatrixOp):
    """Lower-triangular L with L L^T = A, for a symmetric positive-definite A."""

    compute = staticmethod(np.linalg.cholesky)

    def perform(self, node, inputs):
        try:
            return super().perform(node, inputs)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(f"cholesky: {node.inputs[0]} is not positive definite; "
                                        f"built at {node.site[0]}, line {node.site[1]}") from None

    def grad(self, inputs, output_grads):
        # For A = L L^T: Abar = sym(L^-T Phi(L^T Lbar) L^-1), Phi = lower triangle, halved diagonal.
        L, gL = self(inputs[0]), output_grads[0]
        P = tril(dot(L.T, gL))
        P = P - 0.5 * AllocDiag()(ExtractDiag()(P))
        Linv = MatrixInverse()(L)
        S = dot(dot(Linv.T, P), Linv)
        return [0.5 * (S + S.T)]


class Solve(Op):
    """x with A x = b, for b a vector or a matrix."""

    def make_node(self, a, b):
        a, b = _square(self, a), as_variable(b)
        dtype = float_dtype(np.result_type(a.dtype, b.dtype).name)
        return Apply(self, [a, b], [TensorType(dtype, b.broadcastable)])

    def perform(self, node, inputs):
        a, b = inputs
        _check_square(node, a)
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"solve: A has shape {a.shape} but b has shape {b.shape}; "
                             f"built at {node.site[0]}, line {node.site[1]}")
        return [np.linalg.solve(a, b).astype(node.outputs[0].dtype)]

    def grad(self, inputs, output_grads):
        (a, b), (gz,) = inputs, output_grads
        x = self(a, b)
        gb = Solve()(a.T, gz)
        ga = -outer(gb, x) if x.ndim == 1 else -dot(gb, x.T)
        return [ga, gb]


class Det(SquareMatrixOp):
    out_ndim = 0
    compute = staticmethod(np.linalg.det)

    def grad(self, inputs, output_grads):
        a = inputs[0]
        return [output_grads[0] * self(a) * MatrixInverse()(a).T]


class LogDet(SquareMatrixOp):
    """log|det A| for a matrix with positive determinant (e.g. a covariance); NaN otherwise."""

    out_ndim = 0
    compute = staticmethod(positive_logdet)

    def grad(self, inputs, output_grads):
        return [output_grads[0] * MatrixInverse()(inputs[0]).T]


def matrix_inverse(a):
    return MatrixInverse()(a)


def cholesky(a):
    return Cholesky()(a)


def solve(a, b):
    return Solve()(a, b)


def det(a):
    return Det()(a)


def logdet(a):
    return LogDet()(a)
