"""compile/ talks to a backend only through its Thunk: run, source(), running, storage. A backend
that keeps shared values in its own memory (the CUDA backend does, on the GPU) plugs in through
`storage`; here a stand-in keeps them in boxes, so the protocol is tested without a GPU."""
import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function, shared
from minigraph.backends.thunk import HOST, Thunk


class Box:
    """A value living 'elsewhere': SharedVariable only needs copy_to_host()."""

    def __init__(self, array):
        self.array, self.copies = np.array(array), 0

    def copy_to_host(self):
        self.copies += 1
        return self.array.copy()


class BoxStorage:
    keeps_values_elsewhere = True

    def __init__(self):
        self.reads = 0

    def read(self, s):
        if s.resident is None:
            self.reads += 1
            s.resident = Box(s.get_value(borrow=True))
        return s.resident.array

    def host_view(self, value):
        return value

    def write(self, s, value):
        s.store_resident(Box(value))

    def to_host(self, value):
        return np.asarray(value)


def test_every_backend_returns_a_thunk_with_source_and_running():
    x = T.dvector("x")
    # auto: numpy until hot, unless this process has compiled the same kernel already (numba did)
    for backend, running in [("numpy", {"numpy"}), ("auto", {"numpy", "numba"}), ("numba", {"numba"})]:
        f = function([x], x * 2, backend=backend)
        assert isinstance(f.thunk, Thunk) and f.thunk.running in running and f.thunk.storage is HOST
        assert isinstance(f.source(), str) and f.source()
        np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])


def test_values_kept_elsewhere_stay_there_until_read():
    x = T.dvector("x")
    w = shared(np.zeros(3), name="w")
    f = function([x], (w * x).sum(), updates=[(w, w + x)], backend="numpy")
    f.thunk.storage = storage = BoxStorage()
    for step in range(3):
        f(np.ones(3))
    assert storage.reads == 1                          # uploaded once, then updated in place
    assert w._host is None and isinstance(w.resident, Box) and w.resident.copies == 0
    np.testing.assert_array_equal(w.get_value(), [3, 3, 3])       # copied back when read, once
    assert w.resident.copies == 1 and w._host is not None
    w.set_value(np.full(3, 10.0))                       # a new host value: the resident copy is stale
    assert w.resident is None
    assert f(np.ones(3)) == 30 and storage.reads == 2


def test_a_bad_update_kept_elsewhere_changes_nothing():
    x = T.dvector("x")
    w = shared(np.zeros(3), name="w")
    f = function([x], [], updates=[(w, w + x)], backend="numpy")
    f.thunk.storage = BoxStorage()
    f(np.ones(3))
    with pytest.raises(ValueError, match="shapes do not match"):
        f(np.ones(4))
    np.testing.assert_array_equal(w.get_value(), [1, 1, 1])
