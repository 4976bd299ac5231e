"""Shared variables: graph inputs that carry their own value between calls."""
import numpy as np

from ..config import config
from ..graph import Variable, graph_inputs
from ..types import TensorType


class SharedVariable(Variable):
    """A variable with a value stored alongside it, read and written by compiled functions."""

    def __init__(self, type, value, name=None):
        super().__init__(type, name=name)
        self._host, self.resident = value, None

    # A backend that keeps values in its own memory (the CUDA backend, on the GPU) may leave the
    # newest value there: `resident` is then that copy, any object with `copy_to_host()`, and the
    # host copy `_host` is None until the value is read. Which memory that is, only the backend
    # knows (backends/numba_cuda.py, DeviceStorage); nothing in compile/ does.

    def get_value(self, borrow=False):
        """The current value (a copy unless borrow=True)."""
        if self._host is None:                  # a backend updated it in its memory: copy it back, once
            self._host = self.resident.copy_to_host()
        return self._host if borrow else self._host.copy()

    def set_value(self, value, borrow=False):
        """Replace the value; it must keep this variable's dtype and number of dimensions."""
        value = self.type.filter(value, name=f"set_value of shared variable {self.name or self}")
        self.store(value if borrow else np.array(value, copy=True))

    def store(self, value):
        """Make `value`, already checked against the type, the new value (no copy, no check):
        what a compiled function's update does."""
        self._host, self.resident = value, None

    def store_resident(self, value):
        """A backend's update that stays in the backend's memory (see `resident`)."""
        self._host, self.resident = None, value

    def clone(self):
        return self      # a shared variable stays itself in every copy of a graph

    def __getstate__(self):
        state = super().__getstate__()
        state["_host"], state["resident"] = self.get_value(borrow=True), None   # the value, on the host
        return state

    def __repr__(self):
        return self.name or f"<shared {self.type}>"


def shared(value, name=None, borrow=False, broadcastable=None, strict=False, allow_downcast=None):
    """A shared variable initialised with `value` (Python floats become config.floatX)."""
    if isinstance(value, Variable):
        raise TypeError("shared() takes a value (a number or array), not a symbolic variable")
    data = np.asarray(value)
    if isinstance(value, float):
        data = data.astype(config.floatX)
    if data.dtype.kind not in "biufc":
        raise TypeError(f"shared(): cannot store {type(value).__name__} values; expected numbers")
    if broadcastable is None:
        broadcastable = (False,) * data.ndim
    if len(broadcastable) != data.ndim:
        raise ValueError(f"shared(): broadcastable={broadcastable} has {len(broadcastable)} entries "
                         f"but the value is {data.ndim}-d")
    type_ = TensorType(data.dtype, broadcastable)
    data = type_.filter(data, name=f"shared variable {name or ''}".strip())
    return SharedVariable(type_, data if borrow else data.copy(), name=name)


def with_default_updates(outputs, updates, no_default_updates=False):
    """`updates` as pairs, plus `(v, v.default_update)` for each shared variable v the outputs or
    updates use that has one (a random variable's state), unless v is updated explicitly or
    excluded: no_default_updates=True excludes all, a list excludes those listed (Theano's rule)."""
    if no_default_updates is True:
        return updates
    pairs = list(updates.items()) if isinstance(updates, dict) else list(updates or [])
    if len(pairs) == 2 and isinstance(pairs[0], Variable):
        pairs = [tuple(pairs)]          # a single (shared, expression) pair
    excluded = {id(v) for v in (no_default_updates or [])} | {id(p[0]) for p in pairs if isinstance(p, (list, tuple))}
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    graph = [v for v in outputs + [p[1] for p in pairs if isinstance(p, (list, tuple))] if isinstance(v, Variable)]
    found = list(pairs)
    while graph:
        fresh = [v for v in graph_inputs(graph) if isinstance(v, SharedVariable) and id(v) not in excluded
                 and getattr(v, "default_update", None) is not None]
        excluded.update(id(v) for v in fresh)
        found += [(v, v.default_update) for v in fresh]
        graph = [v.default_update for v in fresh]      # an update may use further such variables
    return found if len(found) > len(pairs) else updates
