"""A long kernel is compiled as parts (numba_cpu/split.py): the same bits as the one-function
kernel, the same errors as the numpy backend, the same in-place updates, serial and parallel."""
import ast
import os
import sys

import numpy as np
import pytest

import minigraph.tensor as T
from minigraph import function, shared
from minigraph.backends import numba_cpu
from minigraph.backends.numba_cpu import split


def _error_of(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return info.value


def _step(backend, blas=True):
    """A logistic-regression step with an ifelse and in-place updates of two shared variables;
    without BLAS (no np.dot) the kernel has a parallel version."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = shared(np.zeros(5), name="w"), shared(0.0, name="b")
    p = T.nnet.sigmoid((T.dot(x, w) if blas else (x * w).sum(axis=1)) + b)
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    from minigraph.ifelse import ifelse
    big = ifelse(T.gt(cost, 0.5), T.tanh(x).sum(axis=0), T.exp(-x).max(axis=0))
    f = function([x, y], [p > 0.5, xent, big, x.shape[0] * 2],
                 updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], backend=backend)
    return f, w, b


def _run(f, w, b, X, y):
    outs = [f(X, y) for _ in range(3)]
    return outs, w.get_value().copy(), np.asarray(b.get_value()).copy()


def _same_bits(a, b):
    for u, v in zip(a, b):
        if isinstance(u, (list, tuple)):
            _same_bits(u, v)
        else:
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
            assert np.asarray(u).dtype == np.asarray(v).dtype


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.filterwarnings("error::numba.NumbaPerformanceWarning")   # e.g. a part marked parallel without prange
def test_split_kernel_gives_the_bits_of_the_single_kernel_and_the_reference(monkeypatch, parallel):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), (rng.random(40) > 0.5).astype(float)
    if parallel:
        monkeypatch.setattr(numba_cpu.runtime, "PARALLEL_MIN", 1)     # every call runs kernel_parallel
    monkeypatch.setattr(split, "PART_LINES", 10 ** 6)
    whole_f, *whole_wb = _step("numba", blas=not parallel)
    assert "def p0_kernel" not in whole_f.source()
    whole = _run(whole_f, *whole_wb, X, y)
    monkeypatch.setattr(split, "PART_LINES", 6)
    monkeypatch.setattr(split, "SPLIT_ABOVE", 0)
    parts_f, *parts_wb = _step("numba", blas=not parallel)
    source = parts_f.source()
    assert "def p0_kernel(" in source and "def p3_kernel(" in source and source.count("p1_kernel(") == 2
    assert ("def p3_kernel_parallel(" in source) == parallel
    ast.parse(source)
    parts = _run(parts_f, *parts_wb, X, y)
    _same_bits(whole, parts)
    reference = _run(*_step("numpy", blas=not parallel), X, y)
    for got, want in zip(parts[0], reference[0]):
        for u, v in zip(got, want):
            np.testing.assert_allclose(u, v, rtol=1e-12)
    np.testing.assert_allclose(parts[1], reference[1], rtol=1e-12)


def test_split_kernel_raises_the_numpy_backends_error_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(split, "PART_LINES", 3)
    monkeypatch.setattr(split, "SPLIT_ABOVE", 0)
    u, q = T.dvector("u"), T.dmatrix("q")
    acc = shared(np.zeros(3), name="acc")
    outputs, updates = [T.dot(q, u).sum(), u + u[::-1]], [(acc, acc + (u * 2)[:3])]
    ref = function([u, q], outputs, updates=updates, backend="numpy")
    fast = function([u, q], outputs, updates=updates, backend="numba")
    assert "def p1_kernel(" in fast.source()
    _same_bits(ref(np.ones(3), np.ones((2, 3))), fast(np.ones(3), np.ones((2, 3))))
    before = acc.get_value().copy()
    for bad in [(np.ones(4), np.ones((2, 3))), (np.ones(3), np.ones((2, 5)))]:
        ref_err, fast_err = _error_of(ref, *bad), _error_of(fast, *bad)
        assert type(ref_err) is type(fast_err) and str(ref_err) == str(fast_err)
        assert "test_numba_split.py" in str(fast_err)             # still points at the user's line
    np.testing.assert_array_equal(acc.get_value(), before)       # a failed call updates nothing


def test_parts_pass_exactly_what_later_code_reads(monkeypatch):
    monkeypatch.setattr(split, "SPLIT_ABOVE", 0)
    lines = ["a = x + 1", "b = a * 2", "c = 0", "for i in range(3):", "    c += i", "d = b + c", "e = d * x"]
    source = split.function_source("kernel", ["x"], lines, ["e", "a"], False, part_lines=2)
    tree = ast.parse(source)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert list(functions) == ["p0_kernel", "p1_kernel", "p2_kernel", "p3_kernel", "kernel"]
    assert [a.arg for a in functions["p0_kernel"].args.args] == ["x"]
    assert ast.unparse(functions["p0_kernel"].body[-1]) == "return (a, b)"
    assert [a.arg for a in functions["p2_kernel"].args.args] == ["c"]      # c += i reads c
    namespace = {"njit": lambda **flags: (lambda fn: fn)}
    exec(source, namespace)
    assert namespace["kernel"](2) == (((3 * 2) + 3) * 2, 3)


def test_only_a_long_body_is_split():
    lines = [f"a{k} = x + {k}" for k in range(split.SPLIT_ABOVE)]
    assert "p0_kernel" not in split.function_source("kernel", ["x"], lines, ["a0"], False)
    longer = split.function_source("kernel", ["x"], lines + ["b = a1 + a2"], ["b"], False)
    assert "def p0_kernel(" in longer and longer.count("def ") == len(lines) // split.PART_LINES + 2


# --- the entry of a split kernel is plain Python (driver.py) ---------------------------------------
def _split_everything(monkeypatch):
    monkeypatch.setattr(split, "PART_LINES", 6)
    monkeypatch.setattr(split, "SPLIT_ABOVE", 0)


def _entry_of(f):
    """The kernel numba_cpu loaded for Function f (cache.LOADED, found by its module's source)."""
    from minigraph.backends.numba_cpu import cache
    for key, (kernel, _) in cache.LOADED.items():
        path = sys.modules[f"mg_{key}"].__file__        # (other tests load from other cache folders)
        if os.path.exists(path) and open(path).read() == f.source():
            return key, kernel
    raise AssertionError("the function's kernel was not loaded")


def test_a_split_kernel_is_entered_from_python_and_its_parts_are_compiled_once(monkeypatch):
    from minigraph.backends.numba_cpu.driver import Driver
    _split_everything(monkeypatch)
    f, w, b = _step("numba")
    source = f.source()
    assert "\n\ndef kernel(" in source and "p3_kernel(" in source      # no decorator on the entry
    X, y = np.ones((6, 5)), np.zeros(6)
    f(X, y)
    key, kernel = _entry_of(f)
    assert isinstance(kernel, Driver) and kernel.signatures        # the last part is compiled
    assert f.thunk.direct is None                                  # the checked way into a Driver
    parts = [getattr(sys.modules[f"mg_{key}"], name) for name in dir(sys.modules[f"mg_{key}"])
             if name.startswith("p") and name.endswith("_kernel")]
    assert len(parts) >= 4 and all(len(p.signatures) == 1 for p in parts)
    from minigraph.backends.numba_cpu.cache import in_disk_cache
    assert in_disk_cache(key)


def test_the_auto_backend_compiles_a_split_kernel_in_its_child(monkeypatch):
    """The child compiles the parts with Driver.compile (numba's typing of the entry, no run), the
    parent then switches to them; the numbers are the reference's throughout."""
    import time
    import minigraph
    _split_everything(monkeypatch)
    monkeypatch.setattr(minigraph.config, "jit_after", 0.0)
    x, y = T.dmatrix("x"), T.dvector("y")
    cost = (T.tanh(T.dot(x, T.exp(y[:5]))) ** 2).sum() + T.log1p(y ** 2).mean()
    outputs = [cost, T.grad(cost, y)]
    ref, auto = (function([x, y], outputs, backend=b) for b in ("numpy", "auto"))
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(4, 5)), rng.normal(size=9)
    start = time.monotonic()
    while auto.thunk.running == "numpy":
        for got, want in zip(auto(X, Y), ref(X, Y)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        time.sleep(0.01)                           # the compiling child runs only on an idle core
        assert time.monotonic() - start < 300, "the function never switched to numba"
    assert auto.thunk.running == "numba" and "def p1_kernel(" in auto.source()
    for got, want in zip(auto(X, Y), ref(X, Y)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_long_scan_body_keeps_an_njit_entry(monkeypatch):
    """The outer kernel (njit) calls the scan body's kernel: a Python entry there would not compile."""
    import warnings
    import minigraph
    _split_everything(monkeypatch)
    h0, xs, W = T.dvector("h0"), T.dmatrix("xs"), T.dmatrix("W")
    hs, _ = minigraph.scan(lambda x_t, h: T.tanh(T.dot(W, h) + x_t) * T.nnet.sigmoid(x_t).sum(),
                           sequences=xs, outputs_info=h0)
    outputs = [hs[-1], T.grad(hs[-1].sum(), W)]
    rng = np.random.default_rng(3)
    values = [rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=(3, 3)) * 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # no fall back to numpy
        fast = function([h0, xs, W], outputs, backend="numba")
        got = fast(*values)
    for g, want in zip(got, function([h0, xs, W], outputs, backend="numpy")(*values)):
        np.testing.assert_allclose(g, want, rtol=1e-12)
    from minigraph.backends.numba_cpu import cache
    from numba.core.dispatcher import Dispatcher
    split_bodies = [kernel for key, (kernel, _) in cache.LOADED.items()
                    if "scan_body" not in open(sys.modules[f"mg_{key}"].__file__).read()
                    and "def p0_kernel(" in open(sys.modules[f"mg_{key}"].__file__).read()
                    and f"scan_body_{key}" in fast.source()]
    assert split_bodies and all(isinstance(k, Dispatcher) for k in split_bodies)   # split, njit entry
