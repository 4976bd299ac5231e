"""What both numba backends compile: the scalar helpers the ops' `kernel` strings call (the CUDA
backend makes device functions of them) and how each kind of reduction starts and steps."""
import math

import numpy as np
from numba import njit

from ..types import INT_DTYPES


@njit(inline="always", error_model="numpy")
def sigmoid(x):                  # exp of a negative number only: no overflow
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@njit(inline="always", error_model="numpy")
def softplus(x):                 # log(1 + exp(x)) without overflow, as np.logaddexp(0, x)
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


@njit(inline="always")
def nan_max(acc, x):             # max that propagates NaN, as np.max
    return x if (x > acc or x != x) else acc


@njit(inline="always")
def nan_min(acc, x):
    return x if (x < acc or x != x) else acc


REDUCE_STEP = {"sum": "{a} + {x}", "mean": "{a} + {x}", "prod": "{a} * {x}",
               "max": "nan_max({a}, {x})", "min": "nan_min({a}, {x})"}


def reduce_init(kind, dtype):
    """Code for a reduction's starting value in `dtype`: the identity of its step."""
    if kind not in ("max", "min"):
        return f"{dtype}({1 if kind == 'prod' else 0})"
    if dtype in INT_DTYPES:
        return f"{dtype}({np.iinfo(dtype).min if kind == 'max' else np.iinfo(dtype).max})"
    return f"{dtype}({'-' if kind == 'max' else ''}math.inf)"
