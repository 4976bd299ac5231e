"""`theano.scan`: loops in graphs. The op is ops/scan.py; this module turns the user's step
function into its body.

    results, updates = scan(fn, sequences=X, outputs_info=h0, non_sequences=W, n_steps=None)

fn receives, in order: one row of each sequence (one per tap for dict(input=x, taps=[...])),
the previous values of each output with an initial value (one per tap), then the
non-sequences. It returns its outputs (one per outputs_info entry; None there means an output
that is not fed back), optionally with a dict of shared-variable updates and an `until(condition)`
that ends the loop after the first step where the condition holds.

Everything else the body uses is found in its graph, as in Theano: free inputs and shared
variables become non-sequences; shared variables with updates (fn's dict, or a random
variable's state) are carried from step to step, and `updates` maps each to its final value.
"""
from .compile.shared import SharedVariable
from .graph import Constant, Variable, as_variable, clone_replace, graph_inputs
from .ops.basic import dimshuffle, int_scalar, shape
from .ops.elemwise import cast, minimum, sub
from .ops.scan import Scan
from .ops.subtensor import getitem


class MissingInputError(ValueError):
    """scan(strict=True) found a variable the step function uses without receiving it (Theano's name)."""


class until:
    """Theano's `scan_module.until(condition)`: returned with the step's outputs, it ends the loop
    after the first step where the condition holds (n_steps is then the most steps)."""

    def __init__(self, condition):
        self.condition = as_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"scan_module.until: the condition must be a scalar, got {self.condition.type}")


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _row_variable(x, name):
    return Variable(x.type.__class__(x.dtype, x.broadcastable[1:]), name=name)


def _sequences(sequences, go_backwards):
    """[(outer slice per tap, placeholder)] and the number of steps the sequences allow."""
    slices, lengths = [], []
    for k, seq in enumerate(_as_list(sequences)):
        taps = [0]
        if isinstance(seq, dict):
            taps, seq = list(seq.get("taps", [0])), seq["input"]
        seq = as_variable(seq)
        if seq.ndim == 0:
            raise TypeError(f"scan: sequence {k} ({seq}) is a scalar; sequences are iterated over their first axis")
        if go_backwards:
            seq = getitem(seq, slice(None, None, -1))
        lo, hi = min(taps), max(taps)
        length = sub(shape(seq)[0], hi - lo) if hi != lo else shape(seq)[0]
        lengths.append(length)
        for tap in taps:
            slices.append((seq, tap - lo, _row_variable(seq, f"{seq.name or 'seq'}[t{tap:+d}]")))
    return slices, lengths


def _fn_results(raw):
    """(outputs, updates, until condition or None) from what the step function returned."""
    if isinstance(raw, until):
        return [], [], raw.condition
    if isinstance(raw, (list, tuple)) and any(isinstance(r, until) for r in raw):
        condition = next(r for r in raw if isinstance(r, until)).condition
        rest = [r for r in raw if not isinstance(r, until)]
        outputs, updates, _ = _fn_results(rest[0] if len(rest) == 1 else rest)
        return outputs, updates, condition
    return _plain_results(raw) + (None,)


def _plain_results(raw):
    if isinstance(raw, dict):
        return [], list(raw.items())
    if isinstance(raw, (list, tuple)) and raw and isinstance(raw[-1], dict):
        return _as_list(raw[0] if len(raw) == 2 else list(raw[:-1])), list(raw[-1].items())
    if isinstance(raw, (list, tuple)) and len(raw) == 2 and isinstance(raw[0], dict):
        return _as_list(raw[1]), list(raw[0].items())
    return _as_list(raw), []


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, strict=False,
         profile=False, allow_gc=None, return_list=False, **unsupported):
    """Theano's scan: see the module docstring. Returns (outputs, updates). strict=True: every
    variable the body uses must be a sequence, an output or a non-sequence (else MissingInputError).
    mode, profile and allow_gc are accepted and change nothing here."""
    if unsupported:
        raise TypeError(f"scan: argument(s) {', '.join(unsupported)} are not supported by minigraph")
    slices, lengths = _sequences(sequences, go_backwards)
    if n_steps is not None:
        lengths.append(cast(int_scalar(n_steps), "int64"))
    if not lengths:
        raise ValueError("scan: give sequences or n_steps, so the number of steps is known")
    steps = lengths[0]
    for length in lengths[1:]:
        steps = minimum(steps, length)

    infos = _as_list(outputs_info)
    recurrent = []          # (output position, taps, init buffer, placeholders)
    for k, info in enumerate(infos):
        if info is None:
            continue
        taps, init = [-1], info
        if isinstance(info, dict):
            if "initial" not in info or info["initial"] is None:
                continue
            init, taps = info["initial"], list(info.get("taps", [-1]))
        if any(t >= 0 for t in taps):
            raise ValueError(f"scan: outputs_info[{k}] taps {taps} must be negative (previous steps)")
        init = as_variable(init)
        if taps == [-1]:
            buffer = dimshuffle(init, ["x"] + list(range(init.ndim)))
            ph = [Variable(init.type, name=f"{init.name or 'out'}[t-1]")]
        else:
            buffer = getitem(init, slice(min(taps), None))
            ph = [_row_variable(init, f"{init.name or 'out'}[t{t:+d}]") for t in taps]
        recurrent.append((k, taps, buffer, ph))

    non_sequences = [as_variable(v) if not isinstance(v, Variable) else v for v in _as_list(non_sequences)]
    seq_ph = [ph for _, _, ph in slices]
    rec_ph = [p for *_, ph in recurrent for p in ph]
    raw = fn(*seq_ph, *rec_ph, *non_sequences)
    outputs, explicit, condition = _fn_results(raw)
    conditions = [] if condition is None else [condition]
    outputs = [as_variable(o) for o in outputs]
    rec_positions = [k for k, *_ in recurrent]
    if infos and len(outputs) != len(infos):
        raise ValueError(f"scan: the step function returned {len(outputs)} output(s) but outputs_info has "
                         f"{len(infos)} entries (use None for an output that is not fed back)")
    for (k, taps, buffer, ph) in recurrent:
        o = outputs[k]
        if o.ndim != ph[0].ndim:
            raise TypeError(f"scan: output {k} of the step function is {o.ndim}-d but its initial value "
                            f"(outputs_info[{k}]) gives {ph[0].ndim}-d steps")
        if o.dtype != ph[0].dtype:
            outputs[k] = cast(o, ph[0].dtype)
    rec_outs = [outputs[k] for k in rec_positions]
    nit_outs = [o for k, o in enumerate(outputs) if k not in rec_positions]

    # the rest of the body's leaves: shared variables with updates are carried; others are non-sequences
    updates = [(s, as_variable(u)) for s, u in explicit]
    updates = [(s, cast(u, s.dtype) if isinstance(s, Variable) and u.dtype != s.dtype else u) for s, u in updates]
    updated = {id(s) for s, _ in updates}
    placeholders = {id(p) for p in seq_ph + rec_ph}
    leaves = graph_inputs(rec_outs + nit_outs + [u for _, u in updates] + conditions)
    for v in leaves:
        if isinstance(v, SharedVariable) and id(v) not in updated and getattr(v, "default_update", None) is not None:
            updates.append((v, v.default_update))
            updated.add(id(v))
    leaves = graph_inputs(rec_outs + nit_outs + [u for _, u in updates] + conditions)
    extra = [v for v in leaves if id(v) not in placeholders and not isinstance(v, Constant)
             and id(v) not in updated and all(v is not n for n in non_sequences)]
    if strict and extra:
        names = ", ".join(f"{v.name or v} ({v.type})" for v in extra)
        raise MissingInputError(f"scan(strict=True): the step function uses {names} without receiving "
                                f"it; pass it in non_sequences (and as an argument of the step function)")
    nonseqs = non_sequences + extra
    for s, _ in updates:
        if not isinstance(s, SharedVariable):
            raise TypeError(f"scan: the step function's updates must be for shared variables, not {s}")
    nonseq_ph = [Variable(v.type, name=v.name) for v in nonseqs]
    state_ph = [Variable(s.type, name=s.name) for s, _ in updates]
    replace = dict(zip(nonseqs, nonseq_ph))
    replace.update((s, p) for (s, _), p in zip(updates, state_ph))
    body = clone_replace(rec_outs + nit_outs + [u for _, u in updates] + conditions, replace)
    op = Scan(seq_ph + rec_ph + nonseq_ph + state_ph, body, n_seqs=len(slices),
              rec_taps=[taps for _, taps, *_ in recurrent], n_nitsot=len(nit_outs),
              n_nonseqs=len(nonseqs), n_states=len(updates), truncate_gradient=truncate_gradient,
              until=bool(conditions))
    outer_seqs = [getitem(seq, slice(start, None)) if start else seq for seq, start, _ in slices]
    outer_seqs = [getitem(s, slice(None, steps)) for s in outer_seqs]
    results = op(steps, *outer_seqs, *[b for _, _, b, _ in recurrent], *nonseqs, *[s for s, _ in updates])
    results = results if isinstance(results, list) else [results]
    n_out = len(rec_outs) + len(nit_outs)
    stacked = iter(results[:len(rec_outs)])
    per_step = iter(results[len(rec_outs):n_out])
    ordered = [next(stacked) if k in rec_positions else next(per_step) for k in range(n_out)]
    for o in ordered:
        o.name = name and f"{name}.out"
    final_updates = {s: results[n_out + 2 * i] for i, (s, _) in enumerate(updates)}
    if return_list or len(ordered) != 1:
        return ordered, final_updates
    return ordered[0], final_updates



def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None, name=None):
    """theano.map: fn applied to each row of the sequences; returns (outputs, updates)."""
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """theano.reduce: the last value of a scan's outputs; returns (outputs, updates)."""
    outputs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info, non_sequences=non_sequences,
                            go_backwards=go_backwards, mode=mode, name=name, return_list=True)
    last = [getitem(o, -1) for o in outputs]
    return (last[0] if len(last) == 1 else last), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
