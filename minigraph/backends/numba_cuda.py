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
    everything else             the op's NumPy `perform` on the host, with explicit copies: indexing,
                                join, tril, diag, arange, argmax, alloc, linear algebra (small or
                                sequential work); float16, complex; bool max/min/dot

A value is a host array until a kernel needs it, then a device array (copied up once per call); a
host step copies its device inputs back. A kernel node whose inputs are all one-element host values
(shape arithmetic) runs on the host. Shapes are checked on the host before a launch, with the
reference's messages, so a kernel never fails. Shared variables stay on the device between calls.
"""
import builtins
import functools
import linecache
import math

import numba
import numpy as np
from numba import cuda

from ..graph import Constant, toposort
from ..ops.basic import DimShuffle, Rebroadcast, Shape
from ..ops.dot import Dot
from ..ops.elemwise import Elemwise, check_broadcast
from ..ops.nnet import Softmax
from ..ops.reduce import Reduce
from ..ops.shape import Reshape
from ..perform import annotate
from ..types import INT_DTYPES
from . import numba_common
from .numba_common import REDUCE_STEP, reduce_init
from .thunk import Thunk

STEPS = {}           # op class -> step(node, args) -> outputs; any other op runs `_host`
_KERNEL_STEPS = set()  # the steps that launch kernels: their inputs are on the device already


def register(op_class, launches_kernels=False):
    """Decorator: `@register(Dot, launches_kernels=True) def _dot(node, args)` runs Dot nodes."""
    def decorate(step):
        STEPS[op_class] = step
        if launches_kernels:
            _KERNEL_STEPS.add(step)
        return step
    return decorate

# Launch geometry. The CUDA simulator runs every thread as a Python thread: its tests shrink these.
BLOCK = 256          # threads per block of 1-d launches; a power of two (the tree reductions halve it)
TILE = 16            # the matrix product works on TILE x TILE tiles (TILE**2 threads a block)
MAX_BLOCKS = 1024    # blocks (or rows of blocks) of one launch; grid-stride loops do the rest
if numba.config.ENABLE_CUDASIM:
    BLOCK, TILE, MAX_BLOCKS = 8, 4, 4

GPU_DTYPES = ("bool", "float32", "float64") + INT_DTYPES

# What generated kernels see: the scalar helpers the `kernel` strings call (sigmoid, softplus,
# NaN-propagating max/min) are numba_common's, the CPU backend's, compiled as device functions.
_NAMESPACE = {"cuda": cuda, "math": math, "nb": numba,
              **{d: getattr(numba, d) for d in GPU_DTYPES if d != "bool"}}
_NAMESPACE.update({name: cuda.jit(device=True)(getattr(numba_common, name).py_func)
                   for name in ("sigmoid", "softplus", "nan_max", "nan_min")})


def gpu_available():
    """True when numba.cuda can run kernels here: a GPU, or the simulator (NUMBA_ENABLE_CUDASIM=1)."""
    return cuda.is_available()


@functools.cache                     # one compile per source, shared by every function of the process
def _kernel(source):
    return cuda.jit(_kernel_function(source))


@functools.cache
def _kernel_function(source):
    """The Python function `kernel` that a generated `source` defines, before numba compiles it."""
    name = f"<minigraph cuda kernel {_kernel_function.cache_info().currsize}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)   # readable tracebacks
    namespace = dict(_NAMESPACE)
    exec(builtins.compile(source, name, "exec"), namespace)
    return namespace["kernel"]


# --- Moving values: host <-> device, only where a step needs it --------------------------------
def on_device(x):
    return hasattr(x, "copy_to_host")


def to_device(x):
    return x if on_device(x) else cuda.to_device(contiguous(x))


def contiguous(x):
    if not on_device(x):
        return np.require(x, requirements="C")        # (np.ascontiguousarray makes 0-d arrays 1-d)
    if x.is_c_contiguous():
        return x
    return _launch_map(cuda.device_array(x.shape, dtype=x.dtype), [x], [[f"i{d}" for d in range(x.ndim)]], "a0")


def to_host(x):
    return contiguous(x).copy_to_host() if on_device(x) else x


def standin(x):
    """A host array of x's shape and dtype that costs no memory: the reference's checks run on it."""
    return np.broadcast_to(np.zeros((), dtype=x.dtype), x.shape)


class DeviceStorage:
    """Shared variables' values stay on the device between calls (device residency, all here):
    a value goes up at its first use, an update stays on the device as the variable's `resident`
    copy, and the host copy is made only when someone reads it (SharedVariable.get_value)."""

    keeps_values_elsewhere = True

    def read(self, s):
        if s.resident is None:                      # first use, or set_value replaced it
            s.resident = to_device(s.get_value(borrow=True))
        return s.resident

    def host_view(self, value):
        return standin(value)

    def write(self, s, value):
        s.store_resident(contiguous(to_device(value)))

    def to_host(self, value):
        return to_host(value)


STORAGE = DeviceStorage()


# --- Compiling: one step per node, chosen once; the thunk runs them in order -------------------
def compile(inputs, outputs):
    if not gpu_available():
        raise RuntimeError("device='cuda': numba.cuda finds no usable CUDA GPU here. Use device='cpu' (or "
                           "'auto', which picks the GPU only when there is one), or set NUMBA_ENABLE_CUDASIM=1 "
                           "before numba is imported to run the kernels in numba's CUDA simulator.")
    order = toposort(outputs)
    plan = [(node, _choose_step(node)) for node in order]
    fed_to_gpu = {id(i) for node, step in plan if step in _KERNEL_STEPS for i in node.inputs}
    constants = {id(v): (cuda.to_device(v.data) if id(v) in fed_to_gpu else v.data)
                 for v in [i for n in order for i in n.inputs] + list(outputs) if isinstance(v, Constant)}

    def thunk(*values):           # the run function of the CudaThunk
        storage = {**constants, **{id(v): x for v, x in zip(inputs, values)}}
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
                raise annotate(error, node, args) from error
            storage.update((id(o), r) for o, r in zip(node.outputs, results))
        return [storage[id(o)] for o in outputs]

    source = "\n".join(f"{node.op}: {'host (numpy)' if step is _host else step.__name__.strip('_')}"
                       for node, step in plan) or "(nothing to compute)"
    return CudaThunk(thunk, source, [node for node, _ in plan])


class CudaThunk(Thunk):
    """plan: the nodes in the order their steps run (source() says how each runs)."""

    def __init__(self, run, source, plan):
        super().__init__(run, source, "cuda", STORAGE)
        self.plan = plan


def _choose_step(node):
    step = STEPS.get(type(node.op), _host)
    dtypes = {v.dtype for v in node.inputs + node.outputs}
    no_kernel = (step in _KERNEL_STEPS and not dtypes <= set(GPU_DTYPES)) or (
        "bool" in dtypes and (step is _dot or getattr(node.op, "kind", None) in ("max", "min")))
    return _host if no_kernel else step


def _host(node, args):                              # any op: its NumPy reference, on the CPU
    return node.op.perform(node, [to_host(a) for a in args])


# --- Map kernels: elementwise ops, copies, broadcasting ----------------------------------------
# The kernel steps (_elemwise, _reduce, _dot, _softmax) get their inputs on the device already.
def _decode(flat, dims, pad):
    """Lines turning `flat` into indices i<d> over `dims` (sizes n<d>), last dimension fastest."""
    lines = [f"q = {flat}"]
    for d in reversed(dims[1:]):
        lines += [f"i{d} = q % n{d}", f"q //= n{d}"]
    return [pad + line for line in lines + [f"i{dims[0]} = q"]] if dims else []


def _at(index):
    return ", ".join(index) or "0"          # a 0-d array is passed to kernels as one element


def _map_source(ndim, indices, expr):
    """Source of `kernel(out, size, n1.., x0, x1..)` setting out[i] = expr(a0, a1..) for each index
    i of out, where ak = xk[indices[k]] (entries name out's index variables i0, i1.., or '0')."""
    sizes = "".join(f"n{d}, " for d in range(1, ndim))
    lines = [f"def kernel(out, size, {sizes}{', '.join(f'x{k}' for k in range(len(indices)))}):",
             "    for flat in range(cuda.grid(1), size, cuda.gridsize(1)):",
             *_decode("flat", list(range(ndim)), " " * 8),
             *[f"        a{k} = x{k}[{_at(index)}]" for k, index in enumerate(indices)],
             f"        out[{_at([f'i{d}' for d in range(ndim)])}] = {expr}"]
    return "\n".join(lines) + "\n"


def _launch_map(out, args, indices, expr):
    """out, with out[i] = expr(a0, a1..) for each index i: the kernel of `_map_source`."""
    if out.size:
        blocks = min(-(-out.size // BLOCK), MAX_BLOCKS)
        flat = [a.reshape((1,)) if a.ndim == 0 else a for a in [out] + args]
        _kernel(_map_source(out.ndim, indices, expr))[blocks, BLOCK](flat[0], out.size, *tuple(out.shape)[1:],
                                                                    *flat[1:])
    return out


@register(Elemwise, launches_kernels=True)
def _elemwise(node, args):
    check_broadcast(node, [tuple(a.shape) for a in args])          # the reference's error, before any launch
    var, patterns = node.outputs[0], [i.broadcastable for i in node.inputs]
    shape = tuple(next((a.shape[d] for a, p in zip(args, patterns) if not p[d]), 1) for d in range(var.ndim))
    out = cuda.device_array(shape, dtype=var.dtype)
    expr = node.op.scalar_op.kernel.format(*[f"a{k}" for k in range(len(args))])
    if var.ndim > 1 and not any(any(p) for p in patterns) and all(a.is_c_contiguous() for a in args):
        _launch_map(out.reshape(out.size), [a.reshape(out.size) for a in args], [["i0"]] * len(args), expr)
        return [out]                                         # same shapes, same layout: one flat loop
    indices = [["0" if b else f"i{d}" for d, b in enumerate(p)] for p in patterns]
    return [_launch_map(out, args, indices, expr)]


@register(DimShuffle)
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
    return [_launch_map(cuda.device_array(shape, x.dtype), [x], [index], "a0")]


# --- Shapes only: no data moves ----------------------------------------------------------------
@register(Shape)
def _shape(node, args):
    return [np.asarray(args[0].shape, dtype="int64")]


@register(Rebroadcast)
def _rebroadcast(node, args):
    node.op.perform(node, [standin(args[0])])               # raises where a dimension is not 1
    return [args[0]]


@register(Reshape)
def _reshape(node, args):
    x, shp = args
    (target,) = node.op.perform(node, [standin(x), to_host(shp)])   # the reference's checks and -1
    return [contiguous(x).reshape(target.shape)]


# --- Reductions and softmax: a grid-stride share per thread, then a tree per block -------------
def _rows_source(params, dtype, grid_axis, body):
    """Source of `kernel(params)`: the blocks along `grid_axis` take the rows (< m) in turn, each
    running `body` with its threads t and BLOCK elements of shared memory `cache`."""
    return "\n".join([f"def kernel({params}):", f"    cache = cuda.shared.array({BLOCK}, nb.{dtype})",
                      "    t = cuda.threadIdx.x",
                      f"    for row in range(cuda.blockIdx.{grid_axis}, m, cuda.gridDim.{grid_axis}):",
                      *["        " + line for line in body]]) + "\n"


def _block_reduce(kind, dtype, loop, element, decode=()):
    """Lines leaving, in every thread, acc = `kind` of `element` over `loop`: each thread reduces
    its share of the loop, then the block combines the threads' results in a tree in `cache`."""
    step = REDUCE_STEP[kind]
    return [f"acc = {reduce_init(kind, dtype)}", loop, *["    " + line for line in decode],
            f"    acc = {step.format(a='acc', x=element)}", "cache[t] = acc", "cuda.syncthreads()",
            f"s = {BLOCK // 2}", "while s > 0:", "    if t < s:",
            f"        cache[t] = {step.format(a='cache[t]', x='cache[t + s]')}", "    cuda.syncthreads()",
            "    s //= 2", "acc = cache[0]", "cuda.syncthreads()"]      # all have read it: cache is free


def _reduce_source(ndim, axes, kind, dtype, divide):
    """`kernel(x, out, m, r, count, n0..)`: out[row, block] = kind of x over the block's share of
    the r reduced elements of row `row` (one of m), divided by `count` when `divide`."""
    kept, element = [d for d in range(ndim) if d not in axes], f"x[{_at([f'i{d}' for d in range(ndim)])}]"
    loop = f"for j in range(cuda.blockIdx.x * {BLOCK} + t, r, {BLOCK} * cuda.gridDim.x):"
    return _rows_source(f"x, out, m, r, count, {''.join(f'n{d}, ' for d in range(ndim))}", dtype, "y", [
        *_decode("row", kept, ""), *_block_reduce(kind, dtype, loop, element, _decode("j", list(axes), "")),
        "if t == 0:", f"    out[row, cuda.blockIdx.x] = acc{' / count' if divide else ''}"])


@register(Reduce, launches_kernels=True)
def _reduce(node, args):
    (x,), kind, axes, var = args, node.op.kind, node.op.axis, node.outputs[0]
    if kind in ("max", "min") and any(x.shape[a] == 0 for a in axes):
        node.op.perform(node, [standin(x)])           # the reference's error
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
        source = _reduce_source(2, (1,), kind, var.dtype, divide=kind == "mean")   # mean steps as sum
        _kernel(source)[(1, min(m, MAX_BLOCKS)), BLOCK](partial, out, m, blocks, r, m, blocks)
        partial = out
    return [partial.reshape(kept_shape)]


def _softmax_source(dtype, log):
    """One block a row: the row's max, the sum of exps shifted by it, then each output."""
    final, loop = "x[row, c] - top - math.log(total)", f"for c in range(t, n, {BLOCK}):"
    return _rows_source("x, out, m, n", dtype, "x", [
        *_block_reduce("max", dtype, loop, f"{dtype}(x[row, c])"), "top = acc",
        *_block_reduce("sum", dtype, loop, "math.exp(x[row, c] - top)"), "total = acc",
        loop, f"    out[row, c] = {final if log else f'math.exp({final})'}"])


@register(Softmax, launches_kernels=True)
def _softmax(node, args):
    (x,), dtype = args, node.outputs[0].dtype
    x2 = x if x.ndim == 2 else contiguous(x).reshape((1, x.shape[0]))
    out = cuda.device_array(x2.shape, dtype=dtype)
    if out.size:
        _kernel(_softmax_source(dtype, node.op.log))[min(x2.shape[0], MAX_BLOCKS), BLOCK](x2, out, *x2.shape)
    return [out.reshape(x.shape)]


# --- Matrix product ----------------------------------------------------------------------------
def _dot_source(dtype):
    """`kernel(a, b, out, m, k, n)`: out = a @ b; each block computes one TILE x TILE tile of out,
    walking along k one pair of tiles at a time, both staged in shared memory."""
    return f"""\
def kernel(a, b, out, m, k, n):
    ta = cuda.shared.array(({TILE}, {TILE}), nb.{dtype})
    tb = cuda.shared.array(({TILE}, {TILE}), nb.{dtype})
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row, col = cuda.blockIdx.x * {TILE} + ty, cuda.blockIdx.y * {TILE} + tx
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


@register(Dot, launches_kernels=True)
def _dot(node, args):
    a, b = args
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

