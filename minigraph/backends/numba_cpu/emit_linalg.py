"""Emitters for the ops numba runs through BLAS or LAPACK (dot, inverse, Cholesky, solve,
determinants) and for softmax, a row-wise helper in runtime.py."""
from ...ops.dot import Dot
from ...ops.linalg import Cholesky, Det, LogDet, MatrixInverse, Solve
from ...ops.nnet import Softmax
from .codegen import Unsupported, register, simple

register(MatrixInverse)(simple("np.linalg.inv({0}).astype({dtype})", blas=True))
register(Cholesky)(simple("np.linalg.cholesky({0}).astype({dtype})", blas=True))
register(Solve)(simple("np.linalg.solve({0}, {1}).astype({dtype})", blas=True))
register(Det)(simple("np.linalg.det({0})", scalar=True, blas=True))
register(LogDet)(simple("logdet({0})", scalar=True, blas=True))


@register(Dot)
def emit_dot(ctx, node):
    (a, b), out = node.inputs, node.outputs[0]
    if out.dtype not in ("float32", "float64"):
        raise Unsupported(f"dot of {a.dtype} and {b.dtype} (numba's BLAS dot takes floats)")
    names = [ctx.array_as(var, out.dtype) for var in (a, b)]
    ctx.emit(f"if {ctx.val(a).shape[-1]} != {ctx.val(b).shape[0]}: {ctx.fail(node)}")
    ctx.serial_only = True
    ctx.assign(out, f"np.dot({names[0]}, {names[1]})", scalar=out.ndim == 0, new=True)


@register(Softmax)
def emit_softmax(ctx, node):
    (x,), out = node.inputs, node.outputs[0]
    rows = f"np.ascontiguousarray({ctx.array_as(x, out.dtype)})" + (".reshape((1, -1))" if x.ndim == 1 else "")
    ctx.assign(out, f"softmax_rows_passes({rows}, {node.op.log})" + (".reshape(-1)" if x.ndim == 1 else ""), new=True)
