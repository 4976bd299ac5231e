"""Emitters for ops that move elements around: shapes, filled arrays, indexing (gathers and
scatters as explicit loops), reshape, join, argmax, triangles, diagonals and ranges."""
from ...ops.basic import Rebroadcast, Shape
from ...ops.reduce import Argmax
from ...ops.shape import Alloc, AllocDiag, ARange, ExtractDiag, Join, Reshape, Tril
from ...ops.specify_shape import SpecifyShape
from ...ops.subtensor import IncSubtensor, Subtensor
from .codegen import Unsupported, Val, literal, np_dtype, register, simple


@register(Tril)
def emit_tril(ctx, node):
    """An element expression (no numpy call: np.tril's numba implementation compiled in 1.7 s,
    and np.triu's beside it), computed in its consumer's loop where that is possible."""
    (x,), out, k = node.inputs, node.outputs[0], node.op.k
    v, zero, keep = ctx.val(x), literal(0, out.dtype), "<=" if node.op.lower else ">="

    def elem(idx):
        lines, value = v.elem(idx)
        return lines, f"({value} if {idx[1]} - {idx[0]} {keep} {k} else {zero})"
    ctx.vals[id(out)] = Val(v.shape, elem, None, False)


register(ExtractDiag)(simple("np.diag({0}).copy()"))
register(AllocDiag)(simple("np.diag({0})"))
register(ARange)(simple("np.arange({0}[()], {1}[()], {2}[()]).astype(np.int64)"))


@register(Shape)
def emit_shape(ctx, node):
    x, o = node.inputs[0], ctx.fresh("o")
    ctx.emit(f"{o} = np.empty(({x.ndim},), dtype=np.int64)",
             *[f"{o}[{d}] = {n}" for d, n in enumerate(ctx.val(x).shape)])
    ctx._array_val(node.outputs[0], o)


@register(Alloc)
def emit_alloc(ctx, node):
    value, *shp = [ctx.array(i) for i in node.inputs]
    out, o = node.outputs[0], ctx.fresh("o")
    # np.empty and loops, not np.full: every distinct numpy call is one more compile (0.1 s cold)
    ctx.emit(f"{o} = np.empty(({''.join(f'{s}[()], ' for s in shp)}), dtype={np_dtype(out.dtype)})",
             *ctx.copy_lines(lambda i: f"{o}[{', '.join(i) or '()'}]", lambda i: f"{value}[()]",
                             [f"{o}.shape[{d}]" for d in range(out.ndim)]))
    ctx._array_val(out, o, flat=True)


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
    returns (t, [names of the positions], number of trailing whole dimensions) for the loop body."""
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
    return t, where, x.ndim - len(names)


@register(Subtensor)
def emit_subtensor(ctx, node):
    (x, *idx), out = node.inputs, node.outputs[0]
    if any(e[0] == "array" for e in node.op.template):      # gather: one loop, no fancy indexing
        name, xa = ctx.fresh("o"), ctx.array(x)
        dims = "".join(f"{xa}.shape[{d}], " for d in range(len(idx), x.ndim))
        t, where, rest = _array_positions(ctx, node, x, idx, lambda n: ctx.emit(
            f"{name} = np.empty(({n}, {dims}), dtype={np_dtype(out.dtype)})"))
        ctx.emit(*["    " + line for line in ctx.copy_lines(
            lambda i: f"{name}[{', '.join([t, *i])}]", lambda i: f"{xa}[{', '.join([*where, *i])}]",
            [f"{xa}.shape[{d}]" for d in range(len(idx), x.ndim)])])
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
        if y.ndim > x.ndim - len(idx) + 1:
            raise Unsupported("an increment with more dimensions than one row per index")
        per_row = y.ndim == x.ndim - len(idx) + 1       # y's first dimension runs along the indices
        t, where, rest = _array_positions(ctx, node, x, idx, lambda n: ctx.emit(
            f"if {ya}.shape[0] != 1 and {ya}.shape[0] != {n}: {ctx.fail(node)}") if per_row else None)
        row = [f"({t} if {ya}.shape[0] != 1 else 0)"] if per_row else []
        ctx.emit(*["    " + line for line in _update_lines(ctx, node, name, where, rest, ya, y, row, op)])
    else:
        parts = _index_parts(ctx, node, x, idx)
        region = x.ndim - sum(entry[0] == "int" for entry in node.op.template)
        if region == 0:                      # one element
            ctx.emit(f"{name}[{', '.join(parts) or '()'}] {op} {ya}[()]")
        elif y.ndim > region:
            raise Unsupported("an increment with more dimensions than the region it updates")
        else:
            view = ctx.fresh("view")
            ctx.emit(f"{view} = {name}[{', '.join(parts)}]")
            ctx.emit(*_update_lines(ctx, node, view, [], region, ya, y, [], op))
    ctx._array_val(out, name)


def _update_lines(ctx, node, base, lead, rank, ya, y, y_lead, op):
    """Lines for `base[lead..., i...] op ya[y_lead..., j...]` over base's `rank` trailing
    dimensions, y broadcasting as in numpy (its extent-1 dimensions are read at 0): explicit
    loops, never `view[...] = array` (see Context.copy_lines)."""
    first = len(lead)                        # base's first looped dimension
    extents = [f"{base}.shape[{first + d}]" for d in range(rank)]
    lines, steps = [], {}
    for d in range(len(y_lead), y.ndim):
        k = rank - (y.ndim - d)              # the looped dimension y's dimension d runs along
        steps[d] = ctx.fresh("s")
        lines += [f"{steps[d]} = 0 if {ya}.shape[{d}] == 1 else 1",
                  f"if {ya}.shape[{d}] != 1 and {ya}.shape[{d}] != {extents[k]}: {ctx.fail(node)}"]
    *heads, body = ctx.copy_lines(
        lambda i: f"{base}[{', '.join([*lead, *i]) or '()'}]",
        lambda i: f"{ya}[{', '.join([*y_lead, *[f'{i[rank - (y.ndim - d)]} * {steps[d]}' for d in steps]]) or '()'}]",
        extents)
    lhs, rhs = body.strip().split(" = ", 1)
    return lines + heads + ["    " * rank + f"{lhs} {op} {rhs}"]


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
