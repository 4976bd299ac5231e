"""`theano.sandbox`: the import paths Theano scripts use (`sandbox.linalg`, `sandbox.rng_mrg`)."""
from . import linalg, rng_mrg  # noqa: F401
