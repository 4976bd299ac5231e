"""Emitters for ops that move elements around: shapes, filled arrays, indexing (gathers and
scatters as explicit loops), reshape, join, argmax, triangles, diagonals and ranges."""
from ...ops.basic import Rebroadcast, Shape
from ...ops.reduce import Argmax
from ...ops.shape import Alloc, AllocDiag, ARange, ExtractDiag, Join, Reshape, Tril
from ...ops.specify_shape import SpecifyShape
from ...ops.subtensor import IncSubtensor, Subtensor
from .codegen import Unsupported, np_dtype, register, simple

register(Tril)(simple("np.tril({0}, {k}) if {lower} else np.triu({0}, {k})"))
register(ExtractDiag)(simple("np.diag({0}).copy()"))
register(AllocDiag)(simple("np.diag({0})"))
register(ARange)(simple("np.arange({0}[()], {1}[()], {2}[()]).astype(np.int64)"))


@register(Shape)
def emit_shape(ctx, node):
    x, o = node.inputs[0], ctx.fresh("o")
    ctx.emit(f"{o} = np.empty({x.ndim}, dtype=np.int64)",
             *[f"{o}[{d}] = {n}" for d, n in enumerate(ctx.val(x).shape)])
    ctx._array_val(node.outputs[0], o)


@register(Alloc)
def emit_alloc(ctx, node):
    value, *shp = [ctx.array(i) for i in node.inputs]
    dims = "".join(f"{s}[()], " for s in shp)
    ctx.assign(node.outputs[0], f"np.full(({dims}), {value}[()], dtype={np_dtype(node.outputs[0].dtype)})", new=True)


@register(Rebroadcast)
def emit_rebroadcast(ctx, node):
    v = ctx.val(node.inputs[0])
    for d in node.op.axes:
        ctx.emit(f"if {v.shape[d]} != 1: {ctx.fail(node)}")
    ctx._array_val(node.outputs[0], ctx.array(node.inputs[0]))


def _index_parts(ctx, node, x, idx):
    """numba index expressions for a template of ints and slices (bounds checked)."""
    v, symbolic, parts = ctx.val(x), iter(ctx.array(i) + "[()]" for i in idx), []
    for d, entry in enumerate(node.op.template):
        got = [None if p is None else (next(symbolic) if p == "?" else str(p)) for p in entry[1:]]
        if entry[0] == "int":
            i = ctx.fresh("k")
            ctx.emit(f"{i} = {got[0]}", f"if {i} < -{v.shape[d]} or {i} >= {v.shape[d]}: {ctx.fail(node)}")
            parts.append(i)
        else:
            parts.append(":".join("" if p is None else p for p in got))
    return parts


def _array_positions(ctx, node, x, idx, before_loop=lambda n: None):
    """Open a loop over x[a0, a1, ...] for 1-d integer arrays of one length n: emits the checks,
    `before_loop(n)`, then `for t in range(n):` with the checked positions a0[t], a1[t]...;
    returns (t, "a0[t], a1[t], :, ...", number of trailing `:` dimensions) for the loop body."""
    if {e[0] for e in node.op.template} != {"array"} or any(i.ndim != 1 for i in idx):
        raise Unsupported("integer-array indexing mixed with slices, or with index arrays that are not vectors")
    xa, names, n, t = ctx.array(x), [ctx.array(i) for i in idx], ctx.fresh("n"), ctx.fresh("t")
    ctx.emit(f"{n} = {names[0]}.shape[0]", *[f"if {a}.shape[0] != {n}: {ctx.fail(node)}" for a in names[1:]])
    before_loop(n)
    ctx.emit(f"for {t} in range({n}):")
    where = []
    for d, a in enumerate(names):
        j = ctx.fresh("j")
        ctx.emit(f"    {j} = {a}[{t}]", f"    if {j} < -{xa}.shape[{d}] or {j} >= {xa}.shape[{d}]: {ctx.fail(node)}")
        where.append(j)
    rest = x.ndim - len(names)
    return t, ", ".join(where) + ", :" * rest, rest


@register(Subtensor)
def emit_subtensor(ctx, node):
    (x, *idx), out = node.inputs, node.outputs[0]
    if any(e[0] == "array" for e in node.op.template):      # gather: one loop, no fancy indexing
        name, xa = ctx.fresh("o"), ctx.array(x)
        dims = "".join(f"{xa}.shape[{d}], " for d in range(len(idx), x.ndim))
        t, where, rest = _array_positions(ctx, node, x, idx, lambda n: ctx.emit(
            f"{name} = np.empty(({n}, {dims}), dtype={np_dtype(out.dtype)})"))
        ctx.emit(f"    {name}[{t}{', :' * rest}] = {xa}[{where}]")
        ctx._array_val(out, name)
        return
    parts = _index_parts(ctx, node, x, idx)
    xa = ctx.array(x)
    ctx.assign(out, f"{xa}[{', '.join(parts)}]", scalar=out.ndim == 0, reads=[xa])


@register(IncSubtensor)
def emit_inc_subtensor(ctx, node):
    (x, y, *idx), out = node.inputs, node.outputs[0]
    name, ya, op = ctx.fresh("o"), ctx.array(y), "=" if node.op.set_instead_of_inc else "+="
    ctx.emit(f"{name} = {ctx.array(x)}.copy()")
    if any(e[0] == "array" for e in node.op.template):      # repeated positions add up, as np.add.at
        t, where, rest = _array_positions(ctx, node, x, idx)
        if y.ndim not in (0, rest + 1):
            raise Unsupported("an increment that is not one row per index")
        row = f"{ya}[()]" if y.ndim == 0 else f"{ya}[{'0' if y.broadcastable[0] else t}{', :' * rest}]"
        ctx.emit(f"    {name}[{where}] {op} {row}")
    else:
        parts = _index_parts(ctx, node, x, idx)
        ctx.emit(f"{name}[{', '.join(parts) or '()'}] {op} {ya + '[()]' if y.ndim == 0 else ya}")
    ctx._array_val(out, name)


@register(Reshape)
def emit_reshape(ctx, node):
    x, shp = ctx.array(node.inputs[0]), ctx.array(node.inputs[1])
    dims = "".join(f"{shp}[{d}], " for d in range(node.op.ndim))
    ctx.assign(node.outputs[0], f"np.ascontiguousarray({x}).reshape(({dims}))", reads=[x])


@register(Join)
def emit_join(ctx, node):
    names = "".join(ctx.array_as(i, node.outputs[0].dtype) + ", " for i in node.inputs)
    ctx.assign(node.outputs[0], f"np.concatenate(({names}), axis={node.op.axis})", new=True)


@register(Argmax)
def emit_argmax(ctx, node):
    x, axis = ctx.array(node.inputs[0]), node.op.axis
    ctx.assign(node.outputs[0], f"np.argmax({x})" if axis is None else f"np.argmax({x}, axis={axis})",
               scalar=axis is None, reads=[x])


@register(SpecifyShape)
def emit_specify_shape(ctx, node):
    v = ctx.val(node.inputs[0])
    for d, size in enumerate(node.op.shape):
        if size is not None:
            ctx.emit(f"if {v.shape[d]} != {size}: {ctx.fail(node)}")
    ctx._array_val(node.outputs[0], ctx.array(node.inputs[0]))
