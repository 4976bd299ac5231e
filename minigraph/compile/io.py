"""Theano's input and output descriptions: `In` (a default value, a keyword name, borrow),
`Param` (its older spelling) and `Out` (borrow), and `f.maker.fgraph`, the compiled graph."""
from ..graph import Variable, toposort


class In:
    """An input of `function` with options: `function([x, In(y, value=1, name='y_by_name')], z)`.

    value    the default used when the call leaves this argument out (inputs with defaults come last)
    name     the keyword the call may use (default: the variable's name)
    update   an expression: after each call the default becomes its value (the function's internal
             state, read and set with f[variable] or f['name']); needs a value
    borrow, mutable   accepted: minigraph never copies nor overwrites an input
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=False, shared=False):
        if not isinstance(variable, Variable):
            raise TypeError(f"In: expected a symbolic variable, got {variable!r}")
        if update is not None and value is None:
            raise ValueError(f"In({variable.name or variable}, update=...): an input with an update needs "
                             f"a starting value (value=...)")
        self.variable, self.name, self.value, self.borrow = variable, name or variable.name, value, borrow
        self.update, self.allow_downcast = update, allow_downcast


def describe_inputs(inputs):
    """Every input spec as an In: a variable, an In, Theano's `(variable, default)` or
    `((variable, update), default)`."""
    described = []
    for k, spec in enumerate(inputs):
        if isinstance(spec, (list, tuple)) and len(spec) == 2 and not isinstance(spec[1], Variable):
            target, value = spec
            if isinstance(target, (list, tuple)) and len(target) == 2:
                spec = In(target[0], value=value, update=target[1])
            else:
                spec = In(target, value=value)
        described.append(spec if isinstance(spec, In) or not isinstance(spec, Variable) else In(spec))
    return described


def Param(variable, default=None, name=None, **options):
    """Theano's old name for In: `Param(y, default=1)`."""
    return In(variable, name=name, value=default, **options)


class Out:
    """An output of `function`; borrow=True lets the call return the function's own storage."""

    def __init__(self, variable, borrow=False):
        self.variable, self.borrow = variable, borrow


class FunctionGraph:
    """What `f.maker.fgraph` shows of a compiled function: its inputs (shared variables last), its
    rewritten outputs, and the Apply nodes in the order they run."""

    def __init__(self, inputs, outputs):
        self.inputs, self.outputs = list(inputs), list(outputs)

    def toposort(self):
        return toposort(self.outputs)

    apply_nodes = property(lambda self: set(self.toposort()))

    def __repr__(self):
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"


class FunctionMaker:
    """`f.maker`: the compiled graph (`fgraph`), the inputs and the mode, as in Theano."""

    def __init__(self, fgraph, inputs, mode):
        self.fgraph, self.inputs, self.mode = fgraph, inputs, mode
