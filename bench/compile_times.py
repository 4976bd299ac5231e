"""Compile time of the logistic-regression training function, each run in a fresh process:
minigraph (numba backend) against the same step hand-written as one njit function, and a trivial
njit function (numba's own floor). Importing numpy and numba is outside every timing.

cold: MINIGRAPH_CACHE_DIR and NUMBA_CACHE_DIR both empty; warm: the next process, caches present.
The processes run without PYTHONDONTWRITEBYTECODE (our shells export it; with it every process
compiled minigraph's ~60 modules from source, +0.1 s each: last session's "regression"), after one
untimed run that writes the .pyc files, as any user has them. One run varies by +-30% on this
machine, so the result is the median of `rounds` interleaved rounds (mg cold, mg warm, hand cold,
hand warm, trivial cold, trivial warm).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from common import ROOT

COMPILE_MINIGRAPH = """
import time, numpy as np, numba
t = time.perf_counter()
import minigraph.tensor as T
from minigraph import function, shared
x, y = T.dmatrix('x'), T.dvector('y')
w, b = shared(np.zeros(784), name='w'), shared(0.0, name='b')
p = 1 / (1 + T.exp(-T.dot(x, w) - b))
xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
cost = xent.mean() + 0.01 * (w ** 2).sum()
gw, gb = T.grad(cost, [w, b])
f = function([x, y], [p > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], backend='numba')
f(np.ones((4, 784)), np.ones(4))
print(time.perf_counter() - t)
"""
HAND_STEP = '''
import numpy as np
from numba import njit
@njit(cache=True)
def step(X, y, w, b):
    z = X @ w
    n = X.shape[0]
    g = np.empty(n)
    xent = np.empty(n)
    for i in range(n):
        p = 1 / (1 + np.exp(-z[i] - b))
        xent[i] = -y[i] * np.log(p) - (1 - y[i]) * np.log(1 - p)
        g[i] = (p - y[i]) / n
    return z > 0, xent, w - 0.1 * (X.T @ g + 0.02 * w), b - 0.1 * g.sum()
'''
TRIVIAL = "from numba import njit\n@njit(cache=True)\ndef one(x):\n    return x + 1\n"
COMPILE_FILE = """
import sys, time, numpy as np, numba
sys.path.insert(0, {folder!r})
t = time.perf_counter()
import {module} as m
{call}
print(time.perf_counter() - t)
"""
ROWS = ("compile logreg step, cold", "compile logreg step, warm")


def _run(code, env):
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"compile-time process failed:\n{out.stderr}")
    return float(out.stdout.split()[-1])


def compile_env(tmp):
    """The subprocesses' environment: own caches under tmp, .pyc files allowed, minigraph from ROOT."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(MINIGRAPH_CACHE_DIR=os.path.join(tmp, "mg"), NUMBA_CACHE_DIR=os.path.join(tmp, "nb"),
               MINIGRAPH_BACKEND="numba", PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def compile_times(rounds=3):
    """{row: {system: median seconds}} for ROWS, plus the raw samples under "samples"."""
    samples = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = compile_env(tmp)
        programs = {"minigraph": COMPILE_MINIGRAPH}
        for system, module, source, call in [
                ("numba (hand)", "hand_step", HAND_STEP, "m.step(np.ones((4, 784)), np.ones(4), np.zeros(784), 0.0)"),
                ("trivial njit", "trivial", TRIVIAL, "m.one(1.0)")]:
            with open(os.path.join(tmp, module + ".py"), "w") as f:
                f.write(source)
            programs[system] = COMPILE_FILE.format(folder=tmp, module=module, call=call)

        def empty_caches():
            for sub in ("mg", "nb"):
                shutil.rmtree(os.path.join(tmp, sub), ignore_errors=True)
        for code in programs.values():          # untimed: writes the .pyc files of minigraph and the modules
            empty_caches()
            _run(code, env)
        for _ in range(rounds):
            for system, code in programs.items():
                empty_caches()
                samples.setdefault((ROWS[0], system), []).append(_run(code, env))
                samples.setdefault((ROWS[1], system), []).append(_run(code, env))
    result = {row: {} for row in ROWS}
    for (row, system), values in samples.items():
        result[row][system] = float(np.median(values))
    result["samples"] = {f"{row} / {system}": values for (row, system), values in samples.items()}
    return result
