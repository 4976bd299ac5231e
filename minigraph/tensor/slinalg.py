"""`theano.tensor.slinalg`: cholesky and solve (Theano kept the SciPy-backed ops here)."""
from ..ops.linalg import cholesky, solve  # noqa: F401
