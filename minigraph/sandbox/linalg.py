"""`theano.sandbox.linalg`: matrix_inverse, cholesky, det (kept here by older Theano scripts)."""
from ..tensor.nlinalg import cholesky, det, logdet, matrix_inverse, solve, trace  # noqa: F401
