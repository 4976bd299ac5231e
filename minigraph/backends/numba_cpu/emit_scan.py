"""Scan (ops/scan.py) in generated kernels: the body is generated and compiled as a kernel of its
own (its module loaded by key), and the outer kernel runs the loop, calling it once per step.
A body numba cannot compile makes the whole function fall back to numpy, as any other op does."""
from ...ops.scan import Scan
from .cache import cache_key, load
from .codegen import Unsupported, generate, np_dtype, register


def _row(array, index, ndim, dtype):
    """Code for row `index` of `array` as the body kernel takes it (a 0-d array for a scalar)."""
    return f"np.full((), {array}[{index}], dtype={np_dtype(dtype)})" if ndim == 0 else f"{array}[{index}]"


def _contiguous(name, ndim):
    return name if ndim == 0 else f"np.ascontiguousarray({name})"     # (which makes a 0-d array 1-d)


def _store(ctx, node, target, index, value, ndim):
    """Lines for `target[index] = value` (a row of ndim dimensions, checked against the row's
    shape): loops, not numba's array-to-row assignment (see Context.copy_lines)."""
    if ndim == 0:
        return [f"{target}[{index}] = {value}[()]"]
    row = ctx.fresh("row")
    mismatch = " or ".join(f"{row}.shape[{d}] != {target}.shape[{d + 1}]" for d in range(ndim))
    return [f"{row} = {value}", f"if {mismatch}: {ctx.fail(node)}",
            *ctx.copy_lines(lambda i: f"{target}[{', '.join([index, *i])}]", lambda i: f"{row}[{', '.join(i)}]",
                            [f"{row}.shape[{d}]" for d in range(ndim)])]


@register(Scan)
def emit_scan(ctx, node):
    op = node.op
    if any(o.owner is None and not any(o is i for i in op.inner_inputs) for o in op.inner_outputs):
        raise Unsupported("a scan body that returns a constant")
    body_source, body_consts = generate(op.inner_inputs, op.inner_outputs, driver=False)   # njit code calls it
    key = cache_key(body_source, op.inner_inputs)
    load(body_source, key)            # writes module mg_<key>; the outer module loads it by key
    body = f"scan_body_{key}"
    line = f"{body} = load_written('{key}')"
    if line not in ctx.module_lines:
        ctx.module_lines += ["from minigraph.backends.numba_cpu.cache import load_written"] * (not ctx.module_lines)
        ctx.module_lines.append(line)
    consts = []
    for data in body_consts:
        consts.append(f"c{len(ctx.consts)}")
        ctx.consts.append((consts[-1], data))

    n_steps, *outer = node.inputs
    seqs, rest = outer[:op.n_seqs], outer[op.n_seqs:]
    inits, rest = rest[:op.n_rec], rest[op.n_rec:]
    nonseqs, states = rest[:op.n_nonseqs], rest[op.n_nonseqs:]
    n, t = ctx.fresh("n"), ctx.fresh("t")
    ctx.emit(f"{n} = max(0, int({ctx.array(n_steps)}[()]))")
    seq_names = []
    for s in seqs:
        name = ctx.fresh("seq")
        ctx.emit(f"{name} = np.ascontiguousarray({ctx.array(s)})",
                 f"if {name}.shape[0] < {n}: {ctx.fail(node)}")
        seq_names.append(name)
    hists = []
    for init, taps in zip(inits, op.rec_taps):
        h, a, depth = ctx.fresh("hist"), ctx.array(init), -min(taps)
        ctx.emit(f"{h} = np.empty(({a}.shape[0] + {n},) + {a}.shape[1:], dtype={np_dtype(init.dtype)})",
                 *ctx.copy_lines(lambda i: f"{h}[{', '.join(i)}]", lambda i: f"{a}[{', '.join(i)}]",
                                 [f"{a}.shape[{d}]" for d in range(init.ndim)]),
                 f"{h}_start = {a}.shape[0]")
        if depth > 1:
            ctx.emit(f"if {h}_start < {depth}: {ctx.fail(node)}")
        hists.append(h)
    nonseq_names = []                   # loop-invariant: made contiguous once, not at every step
    for v in nonseqs:
        name = ctx.fresh("nonseq")
        ctx.emit(f"{name} = {_contiguous(ctx.array(v), v.ndim)}")
        nonseq_names.append(name)
    state_names, befores = [], []
    for s in states:
        name, before = ctx.fresh("state"), ctx.fresh("before")
        ctx.emit(f"{name} = {_contiguous(ctx.array(s), s.ndim)}",
                 f"{before} = np.empty(({n},) + {name}.shape, dtype={np_dtype(s.dtype)})")
        state_names.append(name)
        befores.append(before)
    n_out = op.n_rec + op.n_nitsot
    per_step = []
    for o in op.inner_outputs[op.n_rec:n_out]:
        name = ctx.fresh("ys")
        ctx.emit(f"{name} = np.empty(({', '.join(['0'] * (o.ndim + 1))},), dtype={np_dtype(o.dtype)})")
        per_step.append(name)

    args = [_row(s, t, v.ndim - 1, v.dtype) for s, v in zip(seq_names, seqs)]
    for h, init, taps in zip(hists, inits, op.rec_taps):
        args += [_row(h, f"{h}_start + {t} + ({d})", init.ndim - 1, init.dtype) for d in taps]
    args += nonseq_names + state_names + consts
    r = ctx.fresh("r")
    lines = [f"{r} = {body}({', '.join(args)})"]
    # what each body output is: an element of the body kernel's result, or (returned unchanged) an argument
    results, owned = [], 0
    for o in op.inner_outputs:
        if o.owner is None:
            results.append(args[next(i for i, v in enumerate(op.inner_inputs) if v is o)])
        else:
            results.append(f"{r}[{owned}]")
            owned += 1
    for k, (h, o) in enumerate(zip(hists, op.inner_outputs)):
        lines += _store(ctx, node, h, f"{h}_start + {t}", results[k], o.ndim)
    for k, (name, o) in enumerate(zip(per_step, op.inner_outputs[op.n_rec:n_out])):
        lines += [f"if {t} == 0:", f"    {name} = np.empty(({n},) + {results[op.n_rec + k]}.shape, dtype={np_dtype(o.dtype)})",
                  *_store(ctx, node, name, t, results[op.n_rec + k], o.ndim)]
    for k, (name, before, s) in enumerate(zip(state_names, befores, states)):
        lines += [*_store(ctx, node, before, t, name, s.ndim), f"{name} = {results[n_out + k]}"]
    done = ctx.fresh("done")            # the steps run: n, or fewer when the body's `until` holds
    if op.until:
        lines += [f"if {results[-1]}[()]:", f"    {done} = {t} + 1", "    break"]
    ctx.emit(f"{done} = {n}", f"for {t} in range({n}):", *["    " + line for line in lines])

    outs = node.outputs
    for h, out in zip(hists, outs[:op.n_rec]):
        ctx.assign(out, f"{h}[{h}_start:{h}_start + {done}]", new=True)
    for name, out in zip(per_step, outs[op.n_rec:n_out]):
        ctx.assign(out, f"{name}[:{done}]", new=True)
    for k, (name, before) in enumerate(zip(state_names, befores)):
        ctx.assign(outs[n_out + 2 * k], f"{name}.copy()", new=True)
        ctx.assign(outs[n_out + 2 * k + 1], f"{before}[:{done}]", new=True)
