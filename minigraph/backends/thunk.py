"""What every backend makes of a graph: a Thunk, and where values live between calls (Storage).

    thunk = backend.compile(inputs, outputs)       inputs: the function's inputs, then its shared variables
    thunk.run(*values) -> output values            (thunk(*values) too)
    thunk.source()      the code the backend generated, or how it runs the graph
    thunk.running       which backend runs the calls now ("numpy", "numba", "cuda", or
                        "numpy (numba cannot compile it)"); the auto backend changes it once hot
    thunk.storage       how shared variables' values are read and written, and brought to the host
    thunk.direct        None, or a quicker entry a backend offers once compiled: direct(*input values)
                        -> the outputs' tuple, for inputs already of the compiled types; it raises
                        (TypeError) on anything else, and the caller then goes the checked way

`compile/function.py` talks to a backend only through these, so it knows nothing about GPUs.
"""


class HostStorage:
    """Values are numpy arrays in host memory: what every CPU backend uses."""

    keeps_values_elsewhere = False

    def read(self, shared):
        """The value of a shared variable, as the thunk takes it (never copied)."""
        return shared.get_value(borrow=True)

    def host_view(self, value):
        """A host array of value's shape and dtype (its entries may be anything): for checks."""
        return value

    def write(self, shared, value):
        """Store an update's value (already checked against the variable's type)."""
        shared.store(value)

    def to_host(self, value):
        return value


HOST = HostStorage()


class Thunk:
    """A compiled graph: see the module docstring. `run` may be replaced by the backend (the
    auto backend does, once it has compiled the function); callers always go through `run`."""

    direct = None

    def __init__(self, run, source, running, storage=HOST):
        self.run, self._source, self.running, self.storage = run, source, running, storage

    def __call__(self, *values):
        return self.run(*values)

    def source(self):
        return self._source

    def __repr__(self):
        return f"<Thunk running on {self.running}>"
