"""Emitter for the lazy conditional (ops/ifelse.py): both branches are written inline, each
under its side of one `if`, so the compiled kernel computes only the chosen branch."""
from ...graph import toposort
from ...ops.ifelse import IfElse
from .codegen import Unsupported, emitter_for, np_dtype, register


def _branch(ctx, node, inner_outputs, results):
    """The lines computing `inner_outputs` from the node's inputs, ending with results[k] = copy."""
    saved = ctx.lines
    ctx.lines = []
    try:
        order = toposort(inner_outputs)
        for inner in order:
            for i in inner.inputs:
                ctx.users.setdefault(id(i), []).append(inner)
        # A new list (generate() is walking the old one), so that a failed check inside a branch
        # names its node (ctx.fail).
        ctx.order = ctx.order + order
        for inner in order:
            emitter = emitter_for(inner.op)
            if emitter is None:
                raise Unsupported(f"no numba code for {inner.op} (in an ifelse branch)")
            emitter(ctx, inner)
        for name, out, var in zip(results, node.outputs, inner_outputs):
            # A new C-contiguous array of the output's dtype: both sides of the `if` give numba
            # the same type, and the result never shares an input's memory.
            ctx.emit(f"{name} = {ctx.array(var)}.astype({np_dtype(out.dtype)})")
        return ctx.lines
    finally:
        ctx.lines = saved


@register(IfElse)
def emit_ifelse(ctx, node):
    condition, *free = node.inputs
    cond = ctx.array(condition)
    for outer, inner in zip(free, node.op.inner_inputs):
        ctx.array(outer)                                 # computed before the `if`: both sides read it
        ctx.vals[id(inner)] = ctx.vals[id(outer)]
    results = [ctx.fresh("o") for _ in node.outputs]
    then_lines = _branch(ctx, node, node.op.then_outputs, results)
    else_lines = _branch(ctx, node, node.op.else_outputs, results)
    ctx.emit(f"if {cond}[()]:", *["    " + line for line in then_lines],
             "else:", *["    " + line for line in else_lines])
    for name, out in zip(results, node.outputs):
        ctx._array_val(out, name, flat=True)
