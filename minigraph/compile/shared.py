"""Shared variables: graph inputs that carry their own value between calls."""
import numpy as np

from ..config import config
from ..graph import Variable
from ..types import TensorType


class SharedVariable(Variable):
    """A variable with a value stored alongside it, read and written by compiled functions."""

    def __init__(self, type, value, name=None):
        super().__init__(type, name=name)
        self._value = value

    # A function running on a GPU keeps the value there between calls (backends/numba_cuda.py):
    # `device_value` is that copy; the host copy is refreshed from it only when read.
    device_value, _host = None, None

    @property
    def _value(self):
        if self._host is None:                  # a GPU function updated it: copy it back, once
            self._host = self.device_value.copy_to_host()
        return self._host

    @_value.setter
    def _value(self, value):                    # a new host value: the device copy is out of date
        self._host, self.device_value = value, None

    def set_device_value(self, array):
        """A GPU function's update: the new value stays on the device until it is read."""
        self._host, self.device_value = None, array

    def get_value(self, borrow=False):
        """The current value (a copy unless borrow=True)."""
        return self._value if borrow else self._value.copy()

    def set_value(self, value, borrow=False):
        """Replace the value; it must keep this variable's dtype and number of dimensions."""
        value = self.type.filter(value, name=f"set_value of shared variable {self.name or self}")
        self._value = value if borrow else np.array(value, copy=True)

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
