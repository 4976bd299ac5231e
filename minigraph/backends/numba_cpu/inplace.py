"""In-place updates: when an update may overwrite its shared variable's storage instead of
writing a new array. Decided from what the code generator recorded while it wrote each update's
element expression (which arrays it reads, at which index), after everything else is emitted."""
from ...ops.basic import DimShuffle, Rebroadcast
from ...ops.shape import Reshape
from ...ops.subtensor import Subtensor

VIEWS = (DimShuffle, Subtensor, Reshape, Rebroadcast)   # results that may share an input's memory


def may_write_inplace(ctx, out):
    """An update that nothing else reads, of the same type as the shared variable it replaces."""
    target = ctx.inplace.get(id(out))
    return target is not None and not ctx.users.get(id(out)) and out.type == target.type


def may_alias(var, target):
    return var is target or (var.owner is not None and isinstance(var.owner.op, VIEWS)
                             and may_alias(var.owner.inputs[0], target))


def inplace_epilogue(ctx, outputs):
    """Write the pending updates, after everything else is computed (all shape checks passed, so
    a failing call still changes nothing). An update overwrites its shared variable's storage
    when that is safe: no output may alias that storage, its loop reads the variable only at the
    index it writes, and every other pending loop that reads the old value runs before it.
    The others get a new array, as any output does."""
    loops = {}
    for out, shape, elem in ctx.pending:
        target = ctx.inplace[id(out)]
        name = ctx.vals[id(target)].array
        idx = [f"i_{d}" for d in range(len(shape))]
        with ctx.recording() as reads:
            elem(idx)
        with ctx.recording() as own:              # how the loop writes: the target at idx
            ctx.vals[id(target)].elem(idx)
        used = {array for array, _ in reads}
        reads_elsewhere = any(array == name and at != own[0][1] for array, at in reads)
        safe = (not reads_elsewhere and name not in ctx.bases(used - {name})
                and not any(may_alias(o, target) for o in outputs))
        loops[id(out)] = (out, shape, elem, name, ctx.bases(used), safe)   # a view reads its base too
    waiting = [entry for entry in loops.values() if entry[5]]
    for out, shape, elem, *_ in loops.values():           # new arrays first: they read old values
        if not loops[id(out)][5]:
            ctx.array(out)
    while waiting:
        # one whose variable no other waiting loop still reads; on a cycle, the first gets a new array
        free = [e for e in waiting if not any(e[3] in other[4] for other in waiting if other is not e)]
        out, shape, elem, name, _, _ = (free or waiting)[0]
        waiting.remove((free or waiting)[0])
        if free:
            ctx.loop(name, shape, elem, out.dtype, into=True, flat=ctx.vals[id(out)].flat)
            ctx._array_val(out, name, flat=True)
        else:
            ctx.array(out)
