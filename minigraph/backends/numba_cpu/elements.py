"""The scalar code of one elementwise node: its op's `kernel` template, with numba_math's
vectorizable exp, log, tanh... in place of the C library's, formatted with the element expressions
of its inputs. emit_elemwise.py writes it inside loops over arrays, rowblock.py once per row."""
import functools
import re

from .. import numba_math

# The C library's exp, log, tanh... in an op's `kernel` template become numba_math's
# vectorizable versions (a rewrite of the op's template, once per op, not of generated code).
_FAST_MATH = re.compile(r"(?<![\w.])(%s)\(" % "|".join(re.escape(k) for k in numba_math.REPLACES))


@functools.cache
def cpu_kernel(scalar_op):
    return _FAST_MATH.sub(lambda m: numba_math.REPLACES[m.group(1)] + "(", scalar_op.kernel)


def element_code(node, exprs):
    """The expression of node's output element, given its inputs' element expressions."""
    code = cpu_kernel(node.op.scalar_op).format(*exprs)
    dtype = node.outputs[0].dtype
    return code if dtype in ("float64", "int64", "bool") else f"{dtype}({code})"
