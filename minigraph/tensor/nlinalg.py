"""`theano.tensor.nlinalg`: matrix_inverse, det and the other dense linear algebra minigraph has."""
from functools import reduce as _reduce

from ..ops.dot import dot
from ..ops.linalg import cholesky, det, logdet, matrix_inverse, solve  # noqa: F401
from ..ops.shape import diag as _diag

diag = extract_diag = alloc_diag = _diag


def trace(x):
    """The sum of the diagonal of a matrix."""
    return _diag(x).sum()


def matrix_dot(*matrices):
    """dot(dot(a, b), c) ... for any number of matrices."""
    return _reduce(dot, matrices)
