"""Random draws (ops/random.py) in generated kernels: the op's own NumPy functions, compiled by
numba, so both backends draw the same numbers from the same state."""
import types

from numba import njit

from ...ops import random as random_ops
from ...ops.random import RandomDraw
from .codegen import Unsupported, np_dtype, register


def _compiled_family():
    """njit copies of ops/random.py's functions that call each other's compiled copies."""
    names = ["_mix", "_count", "uniform01", "next_state", *[f.__name__ for f in random_ops.DRAWS.values()]]
    scope = dict(vars(random_ops))
    for name in names:
        f = getattr(random_ops, name)
        scope[name] = njit(types.FunctionType(f.__code__, scope, name))
    return {kind: scope[f.__name__] for kind, f in random_ops.DRAWS.items()}, scope["next_state"]


RANDOM_DRAWS, random_next_state = _compiled_family()
# the names generated modules import (codegen.HEADER)
RANDOM_DRAWS_uniform, RANDOM_DRAWS_normal = RANDOM_DRAWS["uniform"], RANDOM_DRAWS["normal"]
RANDOM_DRAWS_binomial, RANDOM_DRAWS_random_integers = RANDOM_DRAWS["binomial"], RANDOM_DRAWS["random_integers"]


@register(RandomDraw)
def emit_random_draw(ctx, node):
    (state, size, a, b), (new_state, sample) = node.inputs, node.outputs
    if sample.ndim == 0:
        raise Unsupported("a 0-d random draw")
    st, sz = ctx.array(state), ctx.array(size)
    params = [ctx.array(p) + ("[()]" if p.ndim == 0 else "") for p in (a, b)]
    shape = "".join(f"{sz}[{d}], " for d in range(sample.ndim))
    ctx.assign(new_state, f"random_next_state({st})", new=True)
    ctx.assign(sample, f"np.ascontiguousarray(RANDOM_DRAWS_{node.op.kind}({st}, ({shape}), {params[0]}, {params[1]})"
                       f".astype({np_dtype(sample.dtype)}))", new=True)
