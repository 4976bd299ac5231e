"""Running a snippet of Theano's documentation as written, but for its import lines, and reading
the numbers it prints. Each test module names the doc file its snippets come from."""
import contextlib
import io
import re
import textwrap
import warnings

import numpy as np
import pytest

import minigraph
from minigraph.backends.numba_cpu import tiering

IMPORTS = [("import theano.tensor as T", "import minigraph.tensor as T"),
           ("import theano", "import minigraph as theano"),
           ("from theano.", "from minigraph."), ("from theano import", "from minigraph import")]


def run(snippet, namespace=None):
    """Exec the snippet (its imports pointed at minigraph); returns (printed text, namespace)."""
    code = textwrap.dedent(snippet)
    for theirs, ours in IMPORTS:
        code = code.replace(theirs, ours)
    namespace = {} if namespace is None else namespace
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<theano doc snippet>", "exec"), namespace)
    return out.getvalue(), namespace


def numbers(text):
    return np.array([float(x) for x in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def assert_prints(printed, documented, atol=1e-6):
    got, want = numbers(printed), numbers(documented)
    assert got.shape == want.shape, f"printed {printed!r}, documented {documented!r}"
    np.testing.assert_allclose(got, want, atol=atol, rtol=1e-6)


@pytest.fixture(params=["numpy", "numba"])
def backend(request, monkeypatch):
    """Every snippet runs on the numpy reference and on the numba backend."""
    saved = minigraph.config.backend, minigraph.config.floatX
    minigraph.config.backend = request.param
    with warnings.catch_warnings():
        if request.param == "numba":     # a fallback to numpy would be a silent pass: make it an error
            warnings.filterwarnings("error", message="numba backend")
            monkeypatch.setattr(tiering, "_WARNED", set())      # (it warns once per process otherwise)
        yield request.param
    minigraph.config.backend, minigraph.config.floatX = saved
