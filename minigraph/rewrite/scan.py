"""Scan rewrites. `unused_scan_outputs`: a loop's per-step outputs that nothing reads are not
computed. The gradient of a scan returns one for every sequence (d cost / d x_t), wanted or not:
in a tanh RNN's training step the gradient with respect to the inputs was a matrix product per
backward step that no one used. (Recurrent outputs stay: the next step reads them.)"""
from ..graph import copy_node, toposort
from ..ops.scan import Scan
from .engine import register


def unused_scan_outputs(outputs):
    """Rebuild each scan whose per-step outputs are partly unread without them (and what reads
    its other outputs, on the new node)."""
    nodes = toposort(outputs)
    read = {id(o) for o in outputs} | {id(i) for node in nodes for i in node.inputs}
    memo = {}
    for node in nodes:
        inputs = [memo.get(id(i), i) for i in node.inputs]
        op = node.op
        dropped = [k for k in range(op.n_rec, op.n_rec + op.n_nitsot)
                   if id(node.outputs[k]) not in read] if isinstance(op, Scan) else []
        if dropped:
            smaller = Scan(op.inner_inputs, [o for k, o in enumerate(op.inner_outputs) if k not in dropped],
                           op.n_seqs, op.rec_taps, op.n_nitsot - len(dropped), op.n_nonseqs, op.n_states,
                           op.truncate_gradient, op.until)
            made = smaller(*inputs)
            made = iter(made if isinstance(made, list) else [made])
            memo.update((id(old), next(made)) for k, old in enumerate(node.outputs) if k not in dropped)
        elif any(a is not b for a, b in zip(inputs, node.inputs)):
            memo.update(zip(map(id, node.outputs), copy_node(node, inputs).outputs))
    return [memo.get(id(o), o) for o in outputs]


register("specialize", "unused_scan_outputs", unused_scan_outputs, whole_graph=True)
