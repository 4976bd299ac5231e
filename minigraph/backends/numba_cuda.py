"""The CUDA backend: every node of the graph is one numba.cuda kernel launch (or a host step).

    compile(inputs, outputs) -> thunk(*values) -> one value per output (device or host array)

    node                        how it runs
    Elemwise (fused Composite   one generated kernel: a grid-stride loop over the output, each input
      trees included)           read through its broadcast pattern; the arithmetic is the ops' own
                                `kernel` strings, the same ones the numba CPU backend compiles
    DimShuffle                  a view (reshape or 2-d transpose) where it can be, else a copy kernel
    Reduce                      per block a tree reduction in shared memory, then one more launch
                                that reduces the blocks' partial results
    Dot                         a tiled matrix product: TILE x TILE tiles staged in shared memory
    Softmax (and log)           one block per row: max, sum of exps, write; each a tree reduction
    Shape, Reshape, Rebroadcast only shapes are read, on the host; Reshape is a view
    everything else             on the host, with explicit copies: the op's NumPy `perform`.
                                That is indexing, join, tril, diag, arange, argmax, alloc, and the
                                linear algebra (inverse, cholesky, solve, det): small or sequential
                                work in the course, not worth a kernel. So are dtypes numba.cuda
                                has no math for (float16, complex) and bool max/min/dot.

A value is a host (NumPy) array until a kernel needs it and a device array afterwards (copied up
once per call, however many kernels read it); a host step copies its device inputs back. A kernel
node whose inputs are all one-element host values (shape arithmetic) runs on the host instead. Shapes are checked on the host before a launch, with the
reference backend's messages, so a kernel never fails. Shared variables stay on the device between
calls (`Transfers`, used by `Function.__call__`; the copy itself is held by the SharedVariable).
"""
import builtins
import linecache
import math

import numba
import numpy as np
from numba import cuda

from ..graph import Constant, toposort
from ..ops.elemwise import check_broadcast
from ..types import INT_DTYPES
from . import numba_cpu, numpy_ref

# Launch geometry. The CUDA simulator runs every thread as a Python thread: its tests shrink these.
BLOCK = 256          # threads per block of 1-d launches; a power of two (the tree reductions halve it)
TILE = 16            # the matrix product works on TILE x TILE tiles (TILE**2 threads a block)
MAX_BLOCKS = 1024    # blocks (or rows of blocks) of one launch; grid-stride loops do the rest
if numba.config.ENABLE_CUDASIM:
    BLOCK, TILE, MAX_BLOCKS = 8, 4, 4

GPU_DTYPES = ("bool", "float32", "float64") + INT_DTYPES

# What generated kernels see: the scalar helpers the `kernel` strings call (sigmoid, softplus,
# NaN-propagating max/min) are the numba CPU backend's own functions, compiled as device functions.
_NAMESPACE = {"cuda": cuda, "math": math, "nb": numba,
              **{d: getattr(numba, d) for d in GPU_DTYPES if d != "bool"}}
_NAMESPACE.update({name: cuda.jit(device=True)(getattr(numba_cpu, name).py_func)
                   for name in ("sigmoid", "softplus", "nan_max", "nan_min")})
_KERNELS = {}        # source -> compiled kernel, shared by every function of the process


def gpu_available():
    """True when numba.cuda can run kernels here: a GPU, or the simulator (NUMBA_ENABLE_CUDASIM=1)."""
    return cuda.is_available()


def _kernel(source):
    if source not in _KERNELS:
        name = f"<minigraph cuda kernel {len(_KERNELS)}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)   # readable tracebacks
        namespace = dict(_NAMESPACE)
        exec(builtins.compile(source, name, "exec"), namespace)
        _KERNELS[source] = cuda.jit(namespace["kernel"])
    return _KERNELS[source]


# ---------------------------------------------------------------------------------------------
# Moving values: host <-> device, only where a step needs it.
# ---------------------------------------------------------------------------------------------
def on_device(x):
    return hasattr(x, "copy_to_host")


def to_device(x):
    return x if on_device(x) else cuda.to_device(contiguous(x))


def contiguous(x):
    if not on_device(x):
        return np.require(x, requirements="C")        # (np.ascontiguousarray makes 0-d arrays 1-d)
    if x.is_c_contiguous():
        return x
    out = cuda.device_array(x.shape, dtype=x.dtype)
    return _launch_map(_map_source(x.ndim, [[f"i{d}" for d in range(x.ndim)]], "a0"), out, [x])


def to_host(x):
    return contiguous(x).copy_to_host() if on_device(x) else x


def standin(x):
    """A host array of x's shape and dtype that costs no memory: the reference's checks run on it."""
    return np.broadcast_to(np.zeros((), dtype=x.dtype), x.shape)


class Transfers:
    """How `Function.__call__` keeps shared variables on the device between calls."""

    @staticmethod
    def shared_value(s):
        if s.device_value is None:                  # first use, or set_value replaced it
            s.device_value = to_device(s.get_value(borrow=True))
        return s.device_value

    to_host, standin = staticmethod(to_host), staticmethod(standin)

    @staticmethod
    def store(s, value):
        s.set_device_value(contiguous(to_device(value)))


# ---------------------------------------------------------------------------------------------
# Compiling: one step per node, chosen once; the thunk runs them in order.
# ---------------------------------------------------------------------------------------------
def compile(inputs, outputs):
    if not gpu_available():
        raise RuntimeError("device='cuda': numba.cuda finds no usable CUDA GPU here. Use device='cpu' "
                           "(or 'auto', which picks the GPU only when there is one), or set "
                           "NUMBA_ENABLE_CUDASIM=1 before numba is imported to run the kernels in "
                           "numba's CUDA simulator.")
    order = toposort(outputs)
    plan = [(node, _choose_step(node)) for node in order]
    fed_to_gpu = {id(i) for node, step in plan if step in _KERNEL_STEPS for i in node.inputs}
    constants = {id(v): (cuda.to_device(v.data) if id(v) in fed_to_gpu else v.data)
                 for v in [i for n in order for i in n.inputs] + list(outputs) if isinstance(v, Constant)}

    def thunk(*values):
        storage = dict(constants)
        storage.update((id(v), x) for v, x in zip(inputs, values))
        for node, step in plan:
            args = [storage[id(i)] for i in node.inputs]
            if step in _KERNEL_STEPS:
                if all(not on_device(a) and np.size(a) <= 1 for a in args):
                    step = _host                  # shape arithmetic and the like: not worth a copy
                else:                             # each input is copied up once, whoever uses it
                    args = [to_device(a) for a in args]
                    storage.update((id(i), a) for i, a in zip(node.inputs, args))
            try:
                results = step(node, args)
            except Exception as error:
                raise numpy_ref.annotate(error, node, args) from error
            storage.update((id(o), r) for o, r in zip(node.outputs, results))
        return [storage[id(o)] for o in outputs]

    thunk.device, thunk.plan = Transfers, [node for node, _ in plan]
    thunk.source = "\n".join(f"{node.op}: {'host (numpy)' if step is _host else step.__name__.strip('_')}"
                             for node, step in plan) or "(nothing to compute)"
    return thunk


def _choose_step(node):
    step = _steps().get(type(node.op), _host)
    dtypes = {v.dtype for v in node.inputs + node.outputs}
    if step in _KERNEL_STEPS and not dtypes <= set(GPU_DTYPES):
        return _host
    if "bool" in dtypes and (step is _dot or getattr(node.op, "kind", None) in ("max", "min")):
        return _host
    return step


def _host(node, args):
    """Any op, on the CPU: its NumPy reference, with device inputs copied back first."""
    return node.op.perform(node, [to_host(a) for a in args])


def _steps():
    from ..ops import blas, elemwise, nnet, reduce, shape
    return {elemwise.Elemwise: _elemwise, shape.DimShuffle: _dimshuffle, reduce.Reduce: _reduce,
            blas.Dot: _dot, nnet.Softmax: _softmax, shape.Shape: _shape, shape.Reshape: _reshape,
            shape.Rebroadcast: _rebroadcast}


# ---------------------------------------------------------------------------------------------
# Map kernels: elementwise ops, copies, broadcasting.
# ---------------------------------------------------------------------------------------------
def _at(index):
    return ", ".join(index) or "0"          # a 0-d array is passed to kernels as one element


def _map_source(ndim, indices, expr):
    """Source of `kernel(out, n, s1.., x0, x1..)` setting out[i] = expr(a0, a1..) for each index i
    of out, where ak = xk[indices[k]] (entries name out's index variables i0, i1.., or '0')."""
    sizes = "".join(f"s{d}, " for d in range(1, ndim))
    lines = [f"def kernel(out, n, {sizes}{', '.join(f'x{k}' for k in range(len(indices)))}):",
             "    for flat in range(cuda.grid(1), n, cuda.gridsize(1)):",
             "        q = flat"]
    for d in range(ndim - 1, 0, -1):              # the flat index -> one index per dimension
        lines += [f"        i{d} = q % s{d}", f"        q //= s{d}"]
    lines += ["        i0 = q"] if ndim else []
    lines += [f"        a{k} = x{k}[{_at(index)}]" for k, index in enumerate(indices)]
    lines.append(f"        out[{_at([f'i{d}' for d in range(ndim)])}] = {expr}")
    return "\n".join(lines) + "\n"


def _launch_map(source, out, args):
    if out.size:
        blocks = min(-(-out.size // BLOCK), MAX_BLOCKS)
        flat = [a.reshape((1,)) if a.ndim == 0 else a for a in [out] + args]
        _kernel(source)[blocks, BLOCK](flat[0], out.size, *tuple(out.shape)[1:], *flat[1:])
    return out


def _elemwise(node, args):
    check_broadcast(node, [tuple(a.shape) for a in args])          # the reference's error, before any launch
    args = [to_device(a) for a in args]
    var, patterns = node.outputs[0], [i.broadcastable for i in node.inputs]
    shape = tuple(next((a.shape[d] for a, p in zip(args, patterns) if not p[d]), 1) for d in range(var.ndim))
    out = cuda.device_array(shape, dtype=var.dtype)
    scalar_op, names = node.op.scalar_op, [f"a{k}" for k in range(len(args))]
    expr = scalar_op.kernel_source(names) if hasattr(scalar_op, "kernel_source") \
        else scalar_op.kernel.format(*names)
    if var.ndim > 1 and not any(any(p) for p in patterns) and all(a.is_c_contiguous() for a in args):
        flat = [a.reshape(out.size) for a in args]          # same shapes, same layout: one flat loop
        _launch_map(_map_source(1, [["i0"]] * len(args), expr), out.reshape(out.size), flat)
        return [out]
    indices = [["0" if b else f"i{d}" for d, b in enumerate(p)] for p in patterns]
    return [_launch_map(_map_source(var.ndim, indices, expr), out, args)]


def _dimshuffle(node, args):
    (x,), order = args, node.op.new_order
    if not on_device(x):
        return node.op.perform(node, [x])
    kept = [d for d in order if d != "x"]
    shape = tuple(1 if d == "x" else x.shape[d] for d in order)
    if kept == sorted(kept) and x.is_c_contiguous():        # only size-1 dimensions come or go
        return [x.reshape(shape)]
    if order == (1, 0):
        return [x.T]
    index = [f"i{order.index(d)}" if d in order else "0" for d in range(x.ndim)]
    return [_launch_map(_map_source(len(order), [index], "a0"), cuda.device_array(shape, x.dtype), [x])]


# ---------------------------------------------------------------------------------------------
# Shapes only: no data moves.
# ---------------------------------------------------------------------------------------------
def _shape(node, args):
    return [np.asarray(args[0].shape, dtype="int64")]


def _rebroadcast(node, args):
    node.op.perform(node, [standin(args[0])])               # raises where a dimension is not 1
    return [args[0]]


def _reshape(node, args):
    x, shp = args
    (target,) = node.op.perform(node, [standin(x), to_host(shp)])   # the reference's checks and -1
    return [contiguous(x).reshape(target.shape)]


# ---------------------------------------------------------------------------------------------
# Reductions: grid-stride partial results per thread, a tree per block, then across blocks.
# ---------------------------------------------------------------------------------------------
_STEP = {"sum": "{a} + {b}", "mean": "{a} + {b}", "prod": "{a} * {b}",
         "max": "nan_max({a}, {b})", "min": "nan_min({a}, {b})"}


def _tree(cache, step, pad):
    """Lines reducing cache[0:BLOCK] into cache[0], every thread of the block taking part."""
    return [pad + line for line in [
        "cuda.syncthreads()", f"s = {BLOCK // 2}", "while s > 0:", "    if t < s:",
        f"        {cache}[t] = {step.format(a=f'{cache}[t]', b=f'{cache}[t + s]')}",
        "    cuda.syncthreads()", "    s //= 2"]]


def _decode(flat, dims, pad):
    """Lines turning `flat` into indices i<d> over `dims` (sizes n<d>), last dimension fastest."""
    if not dims:
        return []
    lines = [f"q = {flat}"]
    for d in reversed(dims[1:]):
        lines += [f"i{d} = q % n{d}", f"q //= n{d}"]
    return [pad + line for line in lines + [f"i{dims[0]} = q"]]


def _init(kind, dtype):
    if kind in ("sum", "mean", "prod"):
        value = "1" if kind == "prod" else "0"
    elif dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        value = str(info.min if kind == "max" else info.max)
    else:
        value = "-math.inf" if kind == "max" else "math.inf"
    return f"{dtype}({value})"


def _reduce_source(ndim, axes, kind, dtype, divide):
    """`kernel(x, out, m, r, count, n0..)`: out[row, block] = kind of x over the block's share of
    the r reduced elements of row `row` (one of m), divided by `count` when `divide`."""
    kept = [d for d in range(ndim) if d not in axes]
    step, element = _STEP[kind], f"x[{_at([f'i{d}' for d in range(ndim)])}]"
    lines = [f"def kernel(x, out, m, r, count, {''.join(f'n{d}, ' for d in range(ndim))}):",
             f"    cache = cuda.shared.array({BLOCK}, nb.{dtype})",
             "    t = cuda.threadIdx.x",
             "    for row in range(cuda.blockIdx.y, m, cuda.gridDim.y):",
             *_decode("row", kept, "        "),
             f"        acc = {_init(kind, dtype)}",
             f"        for j in range(cuda.blockIdx.x * {BLOCK} + t, r, {BLOCK} * cuda.gridDim.x):",
             *_decode("j", list(axes), "            "),
             f"            acc = {step.format(a='acc', b=element)}",
             "        cache[t] = acc",
             *_tree("cache", step, "        "),
             "        if t == 0:",
             f"            out[row, cuda.blockIdx.x] = cache[0]{' / count' if divide else ''}",
             "        cuda.syncthreads()"]        # cache is reused by the block's next row
    return "\n".join(lines) + "\n"


def _reduce(node, args):
    (x,), kind, axes, var = [to_device(args[0])], node.op.kind, node.op.axis, node.outputs[0]
    if kind in ("max", "min") and any(x.shape[a] == 0 for a in axes):
        node.op.perform(node, [np.empty(x.shape, x.dtype)])   # the reference's error (no data)
    kept_shape = tuple(n for d, n in enumerate(x.shape) if d not in axes)
    m, r = math.prod(kept_shape), math.prod(x.shape[a] for a in axes)
    if m == 0:
        return [cuda.device_array(kept_shape, dtype=var.dtype)]
    blocks = min(-(-r // BLOCK), MAX_BLOCKS) or 1
    partial = cuda.device_array((m, blocks), dtype=var.dtype)
    source = _reduce_source(x.ndim, axes, kind, var.dtype, divide=kind == "mean" and blocks == 1)
    _kernel(source)[(blocks, min(m, MAX_BLOCKS)), BLOCK](x, partial, m, r, r, *x.shape)
    if blocks > 1:                                   # across blocks: one block per row
        out = cuda.device_array((m, 1), dtype=var.dtype)
        kind = "sum" if kind == "mean" else kind
        source = _reduce_source(2, (1,), kind, var.dtype, divide=node.op.kind == "mean")
        _kernel(source)[(1, min(m, MAX_BLOCKS)), BLOCK](partial, out, m, blocks, r, m, blocks)
        partial = out
    return [partial.reshape(kept_shape)]


# ---------------------------------------------------------------------------------------------
# Matrix product and softmax.
# ---------------------------------------------------------------------------------------------
def _dot_source(dtype):
    """`kernel(a, b, out, m, k, n)`: out = a @ b; each block computes one TILE x TILE tile of out,
    walking along k one pair of tiles at a time, both staged in shared memory."""
    return f"""\
def kernel(a, b, out, m, k, n):
    ta = cuda.shared.array(({TILE}, {TILE}), nb.{dtype})
    tb = cuda.shared.array(({TILE}, {TILE}), nb.{dtype})
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.x * {TILE} + ty
    col = cuda.blockIdx.y * {TILE} + tx
    acc = {dtype}(0)
    for start in range(0, k, {TILE}):
        ta[ty, tx] = a[row, start + tx] if row < m and start + tx < k else 0
        tb[ty, tx] = b[start + ty, col] if start + ty < k and col < n else 0
        cuda.syncthreads()
        for j in range({TILE}):
            acc += ta[ty, j] * tb[j, tx]
        cuda.syncthreads()
    if row < m and col < n:
        out[row, col] = acc
"""


def _dot(node, args):
    a, b = [to_device(v) for v in args]
    sa, sb = tuple(a.shape), tuple(b.shape)        # (the simulator's shapes take no negative index)
    if sa[-1] != sb[0]:
        node.op.perform(node, [standin(a), standin(b)])     # the reference's error
    a2 = a if a.ndim == 2 else contiguous(a).reshape((1, a.shape[0]))
    b2 = b if b.ndim == 2 else contiguous(b).reshape((b.shape[0], 1))
    (m, k), n, dtype = a2.shape, b2.shape[1], node.outputs[0].dtype
    out = cuda.device_array((m, n), dtype=dtype)
    if m and n:
        grid = (-(-m // TILE), -(-n // TILE))
        if grid[1] > 65535:
            raise ValueError(f"dot: {n} columns is more than this kernel's grid covers ({65535 * TILE})")
        _kernel(_dot_source(dtype))[grid, (TILE, TILE)](a2, b2, out, m, k, n)
    return [out.reshape(sa[:-1] + sb[1:])]


def _softmax_source(dtype, log):
    final = "x[row, c] - top - math.log(total)"
    final = final if log else f"math.exp({final})"
    tree_max, tree_sum = ["\n".join(_tree("cache", _STEP[k], " " * 8)) for k in ("max", "sum")]
    return f"""\
def kernel(x, out, m, n):
    cache = cuda.shared.array({BLOCK}, nb.{dtype})
    t = cuda.threadIdx.x
    for row in range(cuda.blockIdx.x, m, cuda.gridDim.x):
        acc = {dtype}(-math.inf)
        for c in range(t, n, {BLOCK}):
            acc = nan_max(acc, {dtype}(x[row, c]))
        cache[t] = acc
{tree_max}
        top = cache[0]
        cuda.syncthreads()
        acc = {dtype}(0)
        for c in range(t, n, {BLOCK}):
            acc += math.exp(x[row, c] - top)
        cache[t] = acc
{tree_sum}
        total = cache[0]
        cuda.syncthreads()
        for c in range(t, n, {BLOCK}):
            out[row, c] = {final}
"""


def _softmax(node, args):
    x = to_device(args[0])
    x2 = x if x.ndim == 2 else contiguous(x).reshape((1, x.shape[0]))
    dtype = node.outputs[0].dtype
    out = cuda.device_array(x2.shape, dtype=dtype)
    if out.size:
        _kernel(_softmax_source(dtype, node.op.log))[min(x2.shape[0], MAX_BLOCKS), BLOCK](x2, out, *x2.shape)
    return [out.reshape(x.shape)]


_KERNEL_STEPS = (_elemwise, _reduce, _dot, _softmax)     # the steps that launch kernels on their inputs
