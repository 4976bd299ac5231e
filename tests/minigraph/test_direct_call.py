"""The quick call path (Thunk.direct): once a numba kernel is compiled, a call whose arguments
already have the compiled types goes straight to numba's dispatcher; every other call takes the
checked way and behaves exactly as before."""
import time

import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph import function, shared
from minigraph.backends import numba_cpu


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """One cache for the module: the same small kernels are compiled once, not once per test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINIGRAPH_CACHE_DIR", str(tmp_path_factory.mktemp("direct_call_cache")))
        yield


def poly(backend="numba"):
    a, b = T.dvectors("a", "b")
    return function([a, b], a ** 2 + 2 * a * b + b ** 2, backend=backend)


def refuse_checked_way(f, monkeypatch):
    """Make the checked path fail loudly, so a passing call proves it went the direct way."""
    def checked(*values):
        raise AssertionError("took the checked path")
    monkeypatch.setattr(f.thunk, "run", checked)


def test_calls_with_compiled_types_skip_the_checked_path(monkeypatch):
    f = poly()
    a, b = np.arange(5.0), np.linspace(0, 1, 5)
    np.testing.assert_array_equal(f(a, b), (a + b) ** 2)     # the first call compiles (checked way)
    assert f.thunk.direct is not None
    refuse_checked_way(f, monkeypatch)
    np.testing.assert_array_equal(f(a, b), (a + b) ** 2)
    np.testing.assert_array_equal(f(b, a), (a + b) ** 2)


def test_other_arguments_take_the_checked_path_and_never_compile_another_version():
    f = poly()
    a, b = np.arange(6.0), np.ones(6)
    f(a, b)
    kernel, _ = numba_cpu._LOADED[next(reversed(numba_cpu._LOADED))]
    compiled = len(kernel.overloads)
    strided = np.arange(12.0)[::2]                           # not contiguous: copied, not compiled for
    np.testing.assert_allclose(f(strided, b), (strided + 1) ** 2)
    np.testing.assert_allclose(f([0.0, 1, 2, 3, 4, 5], b), (a + 1) ** 2)        # a list is converted
    np.testing.assert_allclose(f(np.float32(2) * np.ones(6, np.float32), b), np.full(6, 9.0))
    np.testing.assert_allclose(f(b=b, a=a), (a + 1) ** 2)   # keywords
    assert len(kernel.overloads) == compiled


def test_bad_arguments_get_the_same_clear_errors_as_before():
    f, ref = poly(), poly("numpy")
    a = np.arange(4.0)
    f(a, a)
    for args in [(a, np.ones(3)), (a,), (a, a, a), (np.ones((2, 2)), a), (a, np.array(["x"] * 4))]:
        with pytest.raises(Exception) as got:
            f(*args)
        with pytest.raises(Exception) as expected:
            ref(*args)
        assert type(got.value) in (type(expected.value), RuntimeError)
        assert str(expected.value).splitlines()[0].split(":")[0] in str(got.value) or \
            "minigraph node" in str(got.value)


def test_functions_with_state_or_copied_outputs_keep_the_checked_path(monkeypatch):
    x = T.dvector("x")
    acc = shared(np.zeros(3), name="acc")
    step = function([x], x.sum(), updates=[(acc, acc + x)], backend="numba")
    same = function([x], x, backend="numba")                  # the output is the input: copied
    r = T.drow("r")
    row = function([r], r * 1, backend="numba")
    for f in (step, same):
        assert not f._direct_ok
    assert not row._direct_ok                                 # a broadcastable dimension to check
    v = np.ones(3)
    step(v)
    step(v)
    np.testing.assert_array_equal(acc.get_value(), [2.0, 2.0, 2.0])
    out = same(v)
    assert out is not v and np.array_equal(out, v)


def test_the_auto_backend_offers_the_direct_entry_once_switched(monkeypatch):
    monkeypatch.setattr(theano.config, "jit_after", 0.0)
    f = poly(backend=None)
    a = np.arange(3.0)
    seen = []
    for _ in range(400):                          # compiled by a child, then loaded here
        np.testing.assert_array_equal(f(a, a), 4 * a ** 2)
        seen.append(f.thunk.running)
        if f.thunk.direct is not None:
            break
        time.sleep(0.05)
    assert f.thunk.running == "numba" and f.thunk.direct is not None, seen[-3:]
    refuse_checked_way(f, monkeypatch)
    np.testing.assert_array_equal(f(a, a), 4 * a ** 2)
