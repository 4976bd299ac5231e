"""Shared variables: graph inputs that carry their own value between calls."""
import numpy as np

from ..config import config
from ..graph import Variable
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
