"""The Scan op: a loop whose body is a graph (Theano's `scan`; the user's function is in scan_module.py).

Outer inputs, in this order:
    n_steps                      an integer scalar
    sequences      (n_seqs)      step t reads row t
    recurrent inits (per taps)   a buffer whose last rows are the previous values (taps -1, -2, ...)
    non-sequences  (n_nonseqs)   the same value at every step
    state inits    (n_states)    shared variables updated inside the loop (random states, `{k: k + 1}`)
The body's inputs are placeholders in that order (one per tap for a recurrent output); its
outputs are: the recurrent outputs' new values, the per-step outputs ("nit-sot"), the states' new
values. The op's outputs: each recurrent and per-step output stacked over the steps, then for
each state its final value and its value before each step (the gradient replays the draws).

The gradient (backpropagation through time) is another Scan running backwards over the steps:
its body is the gradient of the forward body, carrying d cost/d h(t-1) from step to step and
summing the non-sequences' gradients.
"""
import numpy as np

from ..graph import Apply, Op, Variable, as_variable, clone_replace, late_bound, toposort
from ..perform import reference_runner
from ..types import TensorType
from .basic import dimshuffle, int_scalar, shape
from .elemwise import cast, ge, mul, sub, zeros_like
from .reduce import sum as sum_
from .shape import arange, concatenate
from .subtensor import getitem


class Scan(Op):
    """A loop; see the module docstring for the order of inputs and outputs."""

    def __init__(self, inner_inputs, inner_outputs, n_seqs, rec_taps, n_nitsot, n_nonseqs, n_states,
                 truncate_gradient=-1, until=False):
        self.inner_inputs, self.inner_outputs = list(inner_inputs), list(inner_outputs)
        self.n_seqs, self.rec_taps, self.n_nitsot = n_seqs, [list(t) for t in rec_taps], n_nitsot
        self.n_nonseqs, self.n_states, self.truncate_gradient = n_nonseqs, n_states, truncate_gradient
        self.n_rec = len(self.rec_taps)
        self.until = until              # the body's last output is a condition: stop after a step where it holds
        self._run = None

    __eq__ = object.__eq__          # each loop is its own op: two are never merged
    __hash__ = object.__hash__

    def __getstate__(self):
        return {**self.__dict__, "_run": None}     # the compiled body is rebuilt after unpickling

    def make_node(self, n_steps, *outer):
        outer = [as_variable(v) for v in outer]
        n_rec, n_states = self.n_rec, self.n_states
        if len(outer) != self.n_seqs + n_rec + self.n_nonseqs + n_states:
            raise TypeError(f"Scan: expected {self.n_seqs + n_rec + self.n_nonseqs + n_states} inputs, got {len(outer)}")
        outs = self.inner_outputs
        types = [TensorType(o.dtype, (False,) + o.broadcastable) for o in outs[:n_rec + self.n_nitsot]]
        for s in outer[len(outer) - n_states:]:
            types += [s.type, TensorType(s.dtype, (False,) + s.broadcastable)]
        self.node = Apply(self, [int_scalar(n_steps)] + outer, types)     # the gradient needs its outputs
        return self.node

    def perform(self, node, inputs):
        if self._run is None:
            self._run = reference_runner(self.inner_inputs, self.inner_outputs)
        n, rest = int(inputs[0]), inputs[1:]
        seqs, rest = rest[:self.n_seqs], rest[self.n_seqs:]
        inits, rest = rest[:self.n_rec], rest[self.n_rec:]
        nonseqs, states = rest[:self.n_nonseqs], list(rest[self.n_nonseqs:])
        for k, s in enumerate(seqs):
            if len(s) < n:
                raise ValueError(f"scan: sequence {k} has {len(s)} entries but the loop runs {n} steps")
        history = [list(b) for b in inits]
        per_step = [[] for _ in range(self.n_nitsot)]
        states_before = [[] for _ in states]
        out_types = [o.type for o in self.inner_outputs]
        for t in range(n):
            taps = [h[len(h) + d] for h, taps in zip(history, self.rec_taps) for d in taps]
            for k, s in enumerate(states):
                states_before[k].append(s)
            results = self._run(*[s[t] for s in seqs], *taps, *nonseqs, *states)
            results = [np.asarray(r, dtype=ty.dtype) for r, ty in zip(results, out_types)]
            for h, r in zip(history, results):
                h.append(r)
            for p, r in zip(per_step, results[self.n_rec:]):
                p.append(r)
            states = results[self.n_rec + self.n_nitsot:self.n_rec + self.n_nitsot + self.n_states]
            if self.until and results[-1]:
                break
        outputs = [_stacked(h[len(b):], b.shape[1:], o.dtype)
                   for h, b, o in zip(history, inits, self.inner_outputs)]
        outputs += [_stacked(p, (0,) * o.ndim, o.dtype) for p, o in zip(per_step, self.inner_outputs[self.n_rec:])]
        for s, before in zip(states, states_before):
            outputs += [s, _stacked(before, s.shape, s.dtype)]
        return outputs

    def pp(self, node, args):
        return f"scan(n_steps={args[0]}, {', '.join(args[1:])})"

    def grad(self, inputs, output_grads):
        return scan_grad(self, inputs, output_grads)


def _stacked(rows, row_shape, dtype):
    if rows:
        return np.stack(rows)
    return np.zeros((0,) + tuple(row_shape), dtype=dtype)


def _reversed(x):
    return getitem(x, slice(None, None, -1))


def scan_grad(op, inputs, output_grads):
    """Backpropagation through time: see the module docstring."""
    grad = late_bound("grad")
    if any(taps != [-1] for taps in op.rec_taps):
        raise NotImplementedError("the gradient of a scan whose outputs use taps other than [-1] "
                                  "(dict(initial=..., taps=[-2, -1])) is not supported")
    n_steps, rest = inputs[0], inputs[1:]
    seqs, rest = rest[:op.n_seqs], rest[op.n_seqs:]
    inits, rest = rest[:op.n_rec], rest[op.n_rec:]
    nonseqs = rest[:op.n_nonseqs]
    ph = op.inner_inputs
    seq_ph, rec_ph = ph[:op.n_seqs], ph[op.n_seqs:op.n_seqs + op.n_rec]
    nonseq_ph, state_ph = ph[op.n_seqs + op.n_rec:op.n_seqs + op.n_rec + op.n_nonseqs], ph[len(ph) - op.n_states:]
    n_out = op.n_rec + op.n_nitsot

    node_outputs = _forward_outputs(op, inputs)
    rec_out, state_hist = node_outputs[:op.n_rec], node_outputs[n_out + 1::2]
    if op.until:          # the steps run, which may be fewer than n_steps
        n_steps = shape(node_outputs[0])[0]
        seqs = [getitem(s, slice(None, n_steps)) for s in seqs]
    floats = lambda vs: [v for v in vs if v.type.is_float()]          # noqa: E731
    # the body of the backward loop: new placeholders for what flows backwards
    g_rec_ph = [Variable(o.type, name="g_" + str(k)) for k, o in enumerate(op.inner_outputs[:op.n_rec])]
    g_nit_ph = [Variable(o.type, name="g_y") for o in op.inner_outputs[op.n_rec:n_out]]
    carry_ph = [Variable(p.type, name="carry") for p in rec_ph]
    acc_ph = [Variable(p.type, name="acc") for p in nonseq_ph]
    truncate = op.truncate_gradient is not None and op.truncate_gradient > 0
    mask_ph = Variable(TensorType("float64", ()), name="mask") if truncate else None
    totals = [g + c for g, c in zip(g_rec_ph, carry_ph)]
    terms = [(o, t) for o, t in zip(op.inner_outputs[:op.n_rec], totals)]
    terms += list(zip(op.inner_outputs[op.n_rec:n_out], g_nit_ph))
    terms = [(o, t) for o, t in terms if o.type.is_float()]
    cost = None
    for o, t in terms:
        term = sum_(mul(o, t))
        cost = term if cost is None else cost + term
    if cost is None:
        return [None] * len(inputs)
    if truncate:
        cost = mul(cost, mask_ph)
    n_rec_f, n_non_f = len(floats(rec_ph)), len(floats(nonseq_ph))
    g = grad(cost, floats(rec_ph) + floats(nonseq_ph) + floats(seq_ph), disconnected_inputs="ignore")
    g_rec_f, g_non, g_seq = g[:n_rec_f], g[n_rec_f:n_rec_f + n_non_f], g[n_rec_f + n_non_f:]
    g_rec_f = iter(g_rec_f)         # an integer recurrent output carries no gradient: its carry stays 0
    g_rec = [next(g_rec_f) if p.type.is_float() else c for p, c in zip(rec_ph, carry_ph)]
    float_nonseq = [p for p in nonseq_ph if p.type.is_float()]
    new_acc = [a + g_non[float_nonseq.index(p)] if p in float_nonseq else a for a, p in zip(acc_ph, nonseq_ph)]
    # The forward loop stored its outputs: the backward body reads them instead of computing them
    # again (a tanh RNN's backward step lost two of its six matrix products and its tanh).
    stored = [(k, o) for k, o in enumerate(op.inner_outputs[:n_out]) if o.owner is not None]
    out_ph = [Variable(o.type, name="out_" + str(k)) for k, o in stored]
    body_out = g_rec + new_acc + g_seq
    body_out = clone_replace(body_out, _same_values(body_out, {o: p for (_, o), p in zip(stored, out_ph)}))
    body_in = seq_ph + rec_ph + g_rec_ph + g_nit_ph + state_ph + ([mask_ph] if truncate else []) + out_ph \
        + carry_ph + acc_ph + nonseq_ph
    backward = Scan(body_in, body_out,
                    n_seqs=op.n_seqs + 2 * op.n_rec + op.n_nitsot + op.n_states + truncate + len(out_ph),
                    rec_taps=[[-1]] * (op.n_rec + op.n_nonseqs), n_nitsot=len(g_seq), n_nonseqs=op.n_nonseqs,
                    n_states=0)
    rev_seqs = [_reversed(s) for s in seqs]
    prev = [_reversed(concatenate([i, getitem(h, slice(None, -1))])) for i, h in zip(inits, rec_out)]
    rev_g = [_reversed(g) for g in output_grads[:n_out]]
    rev_states = [_reversed(h) for h in state_hist]
    mask = []
    if truncate:
        steps = arange(n_steps)
        mask = [_reversed(cast(ge(steps, sub(n_steps, op.truncate_gradient)), "float64"))]
    carry0 = [zeros_like(i) for i in inits]
    acc0 = [dimshuffle(zeros_like(v), ["x"] + list(range(v.ndim))) for v in nonseqs]
    rev_outputs = [_reversed(node_outputs[k]) for k, _ in stored]
    results = backward(n_steps, *rev_seqs, *prev, *rev_g, *rev_states, *mask, *rev_outputs, *carry0, *acc0, *nonseqs)
    results = results if isinstance(results, list) else [results]
    last = lambda h: dimshuffle(getitem(h, -1), ["x"] + list(range(h.ndim - 1)))    # noqa: E731
    g_inits = [last(h) for h in results[:op.n_rec]]
    g_nonseqs = [getitem(h, -1) if v.type.is_float() else None
                 for h, v in zip(results[op.n_rec:op.n_rec + op.n_nonseqs], nonseqs)]
    g_seq_iter = iter(results[op.n_rec + op.n_nonseqs:])
    g_seqs = [_reversed(next(g_seq_iter)) if p.type.is_float() else None for p in seq_ph]
    return [None] + g_seqs + g_inits + g_nonseqs + [None] * op.n_states


def _same_values(outputs, replace):
    """`replace` {output: placeholder}, extended to every variable of the graph computing `outputs`
    made by the same op from the same inputs as one of those outputs: an op's gradient often
    rebuilds its output (tanh's is gz * (1 - tanh(x)**2) with a new tanh node)."""
    made = {(id(o.owner.op), tuple(map(id, o.owner.inputs)), o.owner.outputs.index(o)): p for o, p in replace.items()}
    extended = dict(replace)
    for node in toposort(outputs):
        for k, v in enumerate(node.outputs):
            p = made.get((id(node.op), tuple(map(id, node.inputs)), k))
            if p is not None and v.type == p.type:
                extended[v] = p
    return extended


def _forward_outputs(op, inputs):
    """The outputs of the forward node (the gradient needs the stacked states)."""
    return op.node.outputs if getattr(op, "node", None) is not None and op.node.inputs == list(inputs) \
        else op.make_node(*inputs).outputs
