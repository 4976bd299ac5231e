"""Running a graph node by node with each op's NumPy `perform`: what the graph means.

This is core (it needs only graph.py): the numpy reference backend wraps it in a Thunk, the
jacobian op evaluates its per-row graph with it, and the other backends rerun a failing call
through it to raise the reference's error.
"""
from .graph import Constant, toposort


def reference_runner(inputs, outputs, watch_inputs=None, watch_node=None):
    """run(*input_values) -> output values, computed by each node's `perform` in topological order.

    watch_inputs(inputs, values) and watch_node(node, args, results) see every value as it is made
    (NanGuardMode raises from them); both are optional."""
    order = toposort(outputs)
    constants = {id(v): v.data for node in order for v in node.inputs if isinstance(v, Constant)}
    constants.update({id(v): v.data for v in outputs if isinstance(v, Constant)})

    def run(*values):
        if watch_inputs is not None:
            watch_inputs(inputs, values)
        storage = dict(constants)
        storage.update((id(v), x) for v, x in zip(inputs, values))
        for node in order:
            args = [storage[id(i)] for i in node.inputs]
            try:
                results = node.op.perform(node, args)
            except Exception as error:
                raise annotate(error, node, args) from error
            if watch_node is not None:
                watch_node(node, args, results)
            storage.update((id(o), r) for o, r in zip(node.outputs, results))
        return [storage[id(o)] for o in outputs]

    return run


def evaluate(outputs, bindings):
    """Values of `outputs` given {variable: value} for the free variables they need."""
    inputs = list(bindings)
    return reference_runner(inputs, outputs)(*[bindings[v] for v in inputs])


def annotate(error, node, args):
    """The same kind of error, saying which op failed, on what shapes, built where."""
    message = str(error)
    if "built at" not in message.lower():
        shapes = ", ".join(str(getattr(a, "shape", "?")) for a in args)
        message = (f"{node.op} failed on inputs of shape {shapes}: {message} "
                   f"(built at {node.site[0]}, line {node.site[1]})")
    try:
        return type(error)(message)
    except Exception:
        return RuntimeError(message)
