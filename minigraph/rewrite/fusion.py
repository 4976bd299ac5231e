"""Elementwise fusion: a tree of elementwise nodes becomes one node applying a Composite.

    exp(x) * y + 1:  three nodes, two temporary arrays  ->  one node, one loop, no temporaries.

A node is absorbed into the one that uses it only when that is its single use (and it is not an
output): a value needed twice is computed once, as before.
"""
from collections import Counter

from ..graph import toposort
from ..ops.composite import Composite
from ..ops.elemwise import Elemwise
from .engine import rebuild, register


def fuse(outputs):
    """Replace each tree of two or more elementwise nodes by one Composite node."""
    order = toposort(outputs)
    uses = Counter(id(i) for node in order for i in node.inputs)
    uses.update({id(o): 2 for o in outputs})            # an output must stay a variable of its own

    def absorbable(v):
        return v.owner is not None and isinstance(v.owner.op, Elemwise) and uses[id(v)] == 1

    trees, absorbed = {}, set()
    for node in reversed(order):                        # from the outputs down: find tree roots
        if not isinstance(node.op, Elemwise) or id(node) in absorbed:
            continue
        if not any(absorbable(i) for i in node.inputs):
            continue
        inputs, nodes = [], []

        def visit(v):
            """Reference to v inside the composite: ('in', k) or ('node', k)."""
            if not absorbable(v) and v is not root:
                if not any(v is i for i in inputs):
                    inputs.append(v)
                return ("in", next(k for k, i in enumerate(inputs) if i is v))
            absorbed.add(id(v.owner))
            args = [visit(i) for i in v.owner.inputs]
            op = v.owner.op.scalar_op
            if isinstance(op, Composite):               # inline an earlier composite
                start = len(nodes)
                for inner_op, inner_args, dtype in op.nodes:
                    refs = [args[a] if a < op.nin else ("node", start + a - op.nin) for a in inner_args]
                    nodes.append((inner_op, refs, dtype))
            else:
                nodes.append((op, args, v.dtype))
            return ("node", len(nodes) - 1)

        root = node.outputs[0]
        visit(root)
        n = len(inputs)
        composite = Composite(n, [(op, [k if kind == "in" else n + k for kind, k in refs], dtype)
                                  for op, refs, dtype in nodes])
        trees[id(node)] = (composite, inputs)
    if not trees:
        return outputs
    memo = {}                                           # then rebuild, from the inputs up
    for node in order:
        if id(node) in absorbed and id(node) not in trees:
            continue
        op, inputs = (Elemwise(trees[id(node)][0]), trees[id(node)][1]) if id(node) in trees \
            else (node.op, node.inputs)
        rebuild(node, [memo.get(id(i), i) for i in inputs], memo, op)
    return [memo.get(id(o), o) for o in outputs]


register("fusion", "elemwise_fusion", fuse, whole_graph=True)
