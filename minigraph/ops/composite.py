"""Composite: a small graph of scalar ops applied as ONE elementwise op (what fusion makes).

    exp(x) * y + 1   becomes   Elemwise(Composite)(x, y, 1)   with the inner graph
    nodes = [(exp, (0,)), (mul, (3, 1)), (add, (4, 2))]

Argument k < nin is input k of the composite; k >= nin is the result of nodes[k - nin]; the last
node is the result. A compiled backend turns the whole thing into one loop with no temporaries.
"""
import numpy as np

from .elemwise import Elemwise, ScalarOp


class Composite(ScalarOp):
    """nodes: a tuple of (scalar_op, argument indices, result dtype), in evaluation order.

    For backends:
      kernel_source(arg_names) -> str   one expression computing the result from the argument
          names, e.g. kernel_source(['a', 'b', 'c']) == '((math.exp(a) * b) + c)', written with the inner ops' `kernel` format strings (so it uses `math.*`
          and the helpers `sigmoid` / `softplus` exactly as single ops do);
      kernel   the same, as a format string with {0}, {1}... like any table row's kernel;
      nodes    the inner graph itself, to generate something else.
    The inner graph is a tree (fusion only absorbs nodes used once), so no subexpression
    is written twice except by ops whose own kernel repeats an argument (sqr).
    """

    def __init__(self, nin, nodes):
        self.nodes = tuple((op, tuple(args), dtype) for op, args, dtype in nodes)
        kernels, texts = [f"{{{k}}}" for k in range(nin)], [f"{{{k}}}" for k in range(nin)]
        for op, args, _ in self.nodes:
            kernels.append(op.kernel.format(*[kernels[a] for a in args]))
            texts.append(Elemwise(op).pp(None, [texts[a] for a in args]))
        self.pretty = texts[-1]          # how pp prints it: the formula itself
        name = "composite{" + self.pretty.format(*[f"i{k}" for k in range(nin)]) + "}"
        super().__init__(name, nin, self.evaluate, self.no_grad, kernels[-1], out=self.nodes[-1][2])

    def evaluate(self, *values):
        """The NumPy reference: run the inner ops in order on whole arrays."""
        values = list(values)
        for op, args, dtype in self.nodes:
            values.append(np.asarray(op.impl(*[values[a] for a in args]), dtype=dtype))
        return values[-1]

    def kernel_source(self, arg_names):
        return self.kernel.format(*arg_names)

    @staticmethod
    def no_grad(inputs, output, output_grad):
        raise NotImplementedError("fused composites appear only in compiled graphs; take the "
                                  "gradient of the graph you built instead")

    def __eq__(self, other):
        return isinstance(other, Composite) and self.nodes == other.nodes

    def __hash__(self):
        return hash(self.nodes)
