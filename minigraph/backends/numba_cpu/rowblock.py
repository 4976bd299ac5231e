"""Row regions: a forward product X @ w, the elementwise work on its rows, and the gradient's
product X.T @ g, run together a few rows at a time, so the big matrix X is read from memory once.

    t = X @ w;  g = f(t, y, ...) elementwise;  X.T @ g        (a logistic-regression step)
    ->  for each group of 4 rows i:  t_i = X_i @ w;  g_i = f(t_i, y_i, ...);  acc += X_i.T @ g_i

Both products are matrix-vector products bound by memory bandwidth: done one after the other
they read X twice (numpy, JAX and PyTorch all do). Here the four rows are still in the L1 cache
when the second product reads them (rows.py: rows_dot, rows_axpy), and f runs on scalars, with
no temporary arrays. Measured on this 2-core machine, N=20000 D=784, one thread, interleaved: the
core loop 9.8-10.5 ms against 11.1-12.7 ms for blocks of 40 rows through BLAS (this module's
previous form) and 8.1-9.8 ms for numpy's X @ w alone, about one read of X; the whole logistic-
regression step 13.8 ms against 14.6 ms, and its cold compile 1.0-1.1x the hand-written step's
instead of 1.5-1.6x (numba's np.dot is costly to compile).

`schedule(ctx)` is ctx.order with each such region replaced by one `Region` step, which
codegen.generate emits in place of the nodes it runs.
"""
from ...graph import Constant
from ...ops.basic import DimShuffle
from ...ops.dot import Dot
from ...ops.elemwise import Elemwise
from .rows import ROWS_AT_ONCE



def _transpose_of(var):
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == (1, 0):
        return node.inputs[0]
    return None


def _is_row_vector(var):
    return var.ndim == 1 and not var.broadcastable[0]


class Region:
    """forward: the node X @ w; nodes: elementwise nodes on its rows, in order; backward: X.T @ g."""

    def __init__(self, forward, nodes, backward):
        self.forward, self.nodes, self.backward = forward, nodes, backward

    def emit(self, ctx):
        x_var, w_var = self.forward.inputs
        t_var, g_var, out = self.forward.outputs[0], self.backward.inputs[1], self.backward.outputs[0]
        inside = {id(n) for n in self.nodes} | {id(self.backward)}
        computed = [t_var] + [n.outputs[0] for n in self.nodes]
        # Values the rest of the kernel reads: written row by row into full arrays.
        needed = [v for v in computed if id(v) in ctx.outputs or
                  any(id(u) not in inside for u in ctx.users.get(id(v), []))]
        x, w = ctx.array(x_var), ctx.array(w_var)
        n, d = f"{x}.shape[0]", f"{x}.shape[1]"
        ctx.emit(f"if {d} != {w}.shape[0]: {ctx.fail(self.forward)}")
        # Vectors of N rows read in the region but computed before it: their lengths must be N.
        computed_ids, checked = {id(v) for v in computed}, set()
        for node in self.nodes:
            for i in node.inputs:
                if _is_row_vector(i) and id(i) not in computed_ids and id(i) not in checked:
                    checked.add(id(i))
                    ctx.emit(f"if {ctx.val(i).shape[0]} != {n}: {ctx.fail(self.backward)}")
        lo, hi, r, row = ctx.fresh("lo"), ctx.fresh("hi"), ctx.fresh("r"), ctx.fresh("row")
        acc, sums, grads = ctx.fresh("o"), ctx.fresh("dots"), ctx.fresh("grads")
        full = {id(v): ctx.fresh("o") for v in needed}
        dtype = _np(out.dtype)
        ctx.emit(f"{acc} = np.empty(({d},), dtype={dtype})",   # not np.zeros: one compile less (0.3 s cold)
                 *ctx.copy_lines(lambda i: f"{acc}[{i[0]}]", lambda i: "0", [d]),
                 f"{sums} = np.empty(({ROWS_AT_ONCE},), dtype={dtype})",
                 f"{grads} = np.empty(({ROWS_AT_ONCE},), dtype={dtype})",
                 *[f"{full[id(v)]} = np.empty(({n},), dtype={_np(v.dtype)})" for v in needed])
        body, names = ctx.scalar_lines(self.nodes, {id(t_var): f"{sums}[{r}]"}, row)
        ctx.emit(f"for {lo} in range(0, {n}, {ROWS_AT_ONCE}):",
                 f"    {hi} = min({lo} + {ROWS_AT_ONCE}, {n})",
                 f"    rows_dot({x}, {lo}, {hi}, {w}, {sums})",
                 f"    for {r} in range({hi} - {lo}):",
                 f"        {row} = {lo} + {r}",
                 *["        " + line for line in body],
                 *[f"        {full[id(v)]}[{row}] = {names[id(v)]}" for v in needed],
                 f"        {grads}[{r}] = {names[id(g_var)]}",
                 f"    rows_axpy({acc}, {x}, {lo}, {hi}, {grads})")
        for v in needed:
            ctx._array_val(v, full[id(v)], flat=True)
        ctx._array_val(out, acc, flat=True)
        ctx.serial_only = True    # a serial loop: no kernel_parallel to compile


def _np(dtype):
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def _find(ctx, k, backward):
    """The region ending at ctx.order[k] (a product X.T @ g), or None."""
    x_var, g_var = _transpose_of(backward.inputs[0]), backward.inputs[1]
    dtype = backward.outputs[0].dtype
    known = ctx.vals.get(id(x_var)) if x_var is not None else None     # X: a kernel input (C-contiguous)
    if known is None or not known.flat or known.array is None or x_var.ndim != 2 or any(x_var.broadcastable) or not _is_row_vector(g_var) \
            or dtype not in ("float32", "float64") or x_var.dtype != dtype or g_var.dtype != dtype:
        return None
    order = ctx.order
    start = next((j for j in range(k) if isinstance(order[j].op, Dot) and order[j].inputs[0] is x_var
                  and order[j].inputs[1].ndim == 1 and order[j].inputs[1].dtype == dtype), None)
    if start is None:
        return None
    forward = order[start]
    after_forward = {id(forward.outputs[0])}          # values that depend on the forward product
    nodes = []
    for node in order[start + 1:k]:
        reads = [i for i in node.inputs if id(i) in after_forward]
        if not reads:
            continue
        out = node.outputs[0]
        after_forward.update(id(o) for o in node.outputs)
        rowwise = isinstance(node.op, Elemwise) and _is_row_vector(out) and id(out) not in ctx.inplace and \
            all(id(i) in after_forward or i.ndim == 0 or all(i.broadcastable) or _is_row_vector(i)
                for i in node.inputs)
        if rowwise:
            nodes.append(node)
    members = {id(forward.outputs[0])} | {id(n.outputs[0]) for n in nodes}
    # Every value the region reads must be its own or independent of the forward product (a node
    # that is not rowwise but depends on it, a mean over the rows say, cannot run inside a block).
    for node in nodes + [backward]:
        for i in node.inputs:
            if id(i) in after_forward and id(i) not in members:
                return None
    if id(g_var) not in members or isinstance(g_var, Constant):
        return None
    if any(i is forward.inputs[1] for n in nodes for i in n.inputs):   # w read by rows (N == D): whole
        return None
    return Region(forward, nodes, backward)


def schedule(ctx):
    """ctx.order as steps: nodes, and Regions in place of the nodes they run. Within a region's
    span, nodes independent of the forward product go before it, the others after it."""
    order, steps, k = ctx.order, list(ctx.order), 0
    for k in range(len(order) - 1, -1, -1):
        node = order[k]
        if not isinstance(node.op, Dot) or node not in steps:
            continue
        region = _find(ctx, k, node)
        if region is None or any(n not in steps for n in [region.forward] + region.nodes):
            continue
        first, last = steps.index(region.forward), steps.index(node)
        span = steps[first:last + 1]
        taken = {id(n) for n in [region.forward, node] + region.nodes}
        depends = {id(o) for n in [region.forward] + region.nodes for o in n.outputs}
        before, later = [], []
        for n in span:
            if id(n) in taken:
                continue
            if any(id(i) in depends for i in n.inputs):
                depends.update(id(o) for o in n.outputs)
                later.append(n)
            else:
                before.append(n)
        steps[first:last + 1] = before + [region] + later
    return steps
