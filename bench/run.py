"""`make bench`: minigraph's numba backend against numpy, hand-written numba, JAX and PyTorch (CPU).

Every workload runs its systems interleaved (one call of each per round) so machine noise hits
all of them alike; the table gives medians and each system's ratio to the fastest *other*
system (below 1: faster than everything else). Results go to bench/results.{json,md}.
Not a test: nothing here fails; the targets are in issue 10 and the closing table.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

# OpenBLAS threads spin for about 0.1 s after each call before they sleep. Interleaved, the idle
# threads of one system's BLAS (numpy's, or the copy numba calls) took the cores from the next
# system: every BLAS-heavy workload ran up to 2x slower than measured alone. Sleep at once instead.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("MINIGRAPH_CACHE_DIR", os.path.join(tempfile.gettempdir(), "minigraph-bench-cache"))

import numba  # noqa: E402
from numba import njit  # noqa: E402

import minigraph.tensor as T  # noqa: E402
from minigraph import function, shared  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
except Exception:
    jax = None
try:
    import torch
    torch.set_default_dtype(torch.float64)
except Exception:             # not installed, or a broken install: benchmark without it
    torch = None


def interleaved(systems, rounds=15, min_time=0.05):
    """{name: median seconds per call}; each round times a batch of calls of every system."""
    for fn in systems.values():                 # warm up (compiles, caches, first-touch)
        fn()
    batch = {}
    for name, fn in systems.items():
        t, n = time.perf_counter(), 0
        while time.perf_counter() - t < min_time / 5:
            fn()
            n += 1
        batch[name] = max(1, n)
    samples = {name: [] for name in systems}
    for _ in range(rounds):
        for name, fn in systems.items():
            t = time.perf_counter()
            for _ in range(batch[name]):
                fn()
            samples[name].append((time.perf_counter() - t) / batch[name])
    return {name: float(np.median(s)) for name, s in samples.items()}


# --- a**2 + 2ab + b**2 ------------------------------------------------------------------------
@njit(cache=True)
def poly_numba(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = a[i] ** 2 + 2 * a[i] * b[i] + b[i] ** 2
    return out


def poly(n):
    rng = np.random.default_rng(0)
    a, b = rng.random(n), rng.random(n)
    va, vb = T.dvectors("a", "b")
    f = function([va, vb], va ** 2 + 2 * va * vb + vb ** 2, backend="numba")
    systems = {"minigraph": lambda: f(a, b), "numpy": lambda: a ** 2 + 2 * a * b + b ** 2,
               "numba (hand)": lambda: poly_numba(a, b)}
    if jax:
        jf = jax.jit(lambda a, b: a ** 2 + 2 * a * b + b ** 2)
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        systems["jax"] = lambda: jf(ja, jb).block_until_ready()
    if torch:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        systems["torch"] = lambda: ta ** 2 + 2 * ta * tb + tb ** 2
    return systems


# --- logistic regression: one training step (cost, gradients, updates) -------------------------
def logistic(N, D):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(N, D)), (rng.random(N) > 0.5).astype(float)
    w0 = rng.normal(size=D) * 0.01
    x, t = T.dmatrix("x"), T.dvector("y")
    w, b = shared(w0.copy(), name="w"), shared(0.0, name="b")
    p = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -t * T.log(p) - (1 - t) * T.log(1 - p)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, t], [p > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                     backend="numba")
    state = {"w": w0.copy(), "b": 0.0}

    def by_hand():
        p = 1 / (1 + np.exp(-(X @ state["w"]) - state["b"]))
        xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
        g = (p - y) / N
        state["w"] = state["w"] - 0.1 * (X.T @ g + 0.02 * state["w"])
        state["b"] = state["b"] - 0.1 * g.sum()
        return p > 0.5, xent

    systems = {"minigraph": lambda: train(X, y), "numpy (hand)": by_hand}
    if jax:
        def jcost(w, b, X, y):
            p = 1 / (1 + jnp.exp(-(X @ w) - b))
            xent = -y * jnp.log(p) - (1 - y) * jnp.log(1 - p)
            return xent.mean() + 0.01 * (w ** 2).sum(), (p, xent)

        @jax.jit
        def jstep(w, b, X, y):
            (_, (p, xent)), (gw, gb) = jax.value_and_grad(jcost, argnums=(0, 1), has_aux=True)(w, b, X, y)
            return p > 0.5, xent, w - 0.1 * gw, b - 0.1 * gb
        js = {"w": jnp.asarray(w0), "b": jnp.asarray(0.0)}
        jX, jy = jnp.asarray(X), jnp.asarray(y)

        def jax_step():
            pred, xent, js["w"], js["b"] = jstep(js["w"], js["b"], jX, jy)
            xent.block_until_ready()
        systems["jax"] = jax_step
    if torch:
        tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(0.0, requires_grad=True)
        tX, ty = torch.from_numpy(X), torch.from_numpy(y)

        def torch_step():
            p = 1 / (1 + torch.exp(-(tX @ tw) - tb))
            xent = -ty * torch.log(p) - (1 - ty) * torch.log(1 - p)
            cost = xent.mean() + 0.01 * (tw ** 2).sum()
            gw, gb = torch.autograd.grad(cost, [tw, tb])
            with torch.no_grad():
                tw.sub_(0.1 * gw)
                tb.sub_(0.1 * gb)
            return p > 0.5, xent
        systems["torch"] = torch_step
    return systems


# --- MLP with momentum --------------------------------------------------------------------------
def mlp(N, sizes, seed=2):
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = sizes
    X = rng.normal(size=(N, n_in))
    labels = rng.integers(0, max(n_out, 2), N)
    Y = (labels[:, None] == np.arange(n_out)).astype(float) if n_out > 1 else labels[:, None].astype(float)
    W1, W2 = rng.normal(size=(n_in, n_hid)) * 0.5, rng.normal(size=(n_hid, n_out)) * 0.5
    lr, mu = 0.1, 0.9
    x, yv = T.dmatrix("x"), T.dmatrix("y")
    params = [shared(W1.copy(), name="W1"), shared(np.zeros(n_hid), name="b1"),
              shared(W2.copy(), name="W2"), shared(np.zeros(n_out), name="b2")]
    vel = [shared(np.zeros_like(p.get_value())) for p in params]
    h = T.tanh(T.dot(x, params[0]) + params[1])
    z = T.dot(h, params[2]) + params[3]
    if n_out == 1:
        out = T.nnet.sigmoid(z)
        cost = T.nnet.binary_crossentropy(out, yv).mean()
    else:
        out = T.nnet.softmax(z)
        cost = -(yv * T.log(out)).sum(axis=1).mean()
    grads = T.grad(cost, params)
    updates = [(v, mu * v - lr * g) for v, g in zip(vel, grads)] + \
              [(p, p + mu * v - lr * g) for p, v, g in zip(params, vel, grads)]
    train = function([x, yv], cost, updates=updates, backend="numba")
    st = {"p": [W1.copy(), np.zeros(n_hid), W2.copy(), np.zeros(n_out)], "v": None}
    st["v"] = [np.zeros_like(p) for p in st["p"]]

    def by_hand():
        W1, b1, W2, b2 = st["p"]
        h = np.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        if n_out == 1:
            o = 1 / (1 + np.exp(-z))
            cost = -(Y * np.log(o) + (1 - Y) * np.log(1 - o)).mean()
            dz = (o - Y) / N
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            o = e / e.sum(axis=1, keepdims=True)
            cost = -(Y * np.log(o)).sum(axis=1).mean()
            dz = (o - Y) / N
        dh = (dz @ W2.T) * (1 - h * h)
        grads = [X.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
        st["v"] = [mu * v - lr * g for v, g in zip(st["v"], grads)]
        st["p"] = [p + v for p, v in zip(st["p"], st["v"])]
        return cost

    systems = {"minigraph": lambda: train(X, Y), "numpy (hand)": by_hand}
    if jax:
        def jcost(ps, X, Y):
            W1, b1, W2, b2 = ps
            h = jnp.tanh(X @ W1 + b1)
            z = h @ W2 + b2
            if n_out == 1:
                o = jax.nn.sigmoid(z)
                return -(Y * jnp.log(o) + (1 - Y) * jnp.log(1 - o)).mean()
            return -(Y * jax.nn.log_softmax(z)).sum(axis=1).mean()

        @jax.jit
        def jstep(ps, vs, X, Y):
            cost, gs = jax.value_and_grad(jcost)(ps, X, Y)
            vs = [mu * v - lr * g for v, g in zip(vs, gs)]
            return cost, [p + v for p, v in zip(ps, vs)], vs
        js = {"p": [jnp.asarray(a) for a in st["p"]], "v": [jnp.asarray(a) for a in st["v"]]}
        jX, jY = jnp.asarray(X), jnp.asarray(Y)

        def jax_step():
            cost, js["p"], js["v"] = jstep(js["p"], js["v"], jX, jY)
            cost.block_until_ready()
        systems["jax"] = jax_step
    if torch:
        tp = [torch.tensor(a, requires_grad=True) for a in st["p"]]
        tv = [torch.zeros_like(p) for p in tp]
        tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

        def torch_step():
            W1, b1, W2, b2 = tp
            h = torch.tanh(tX @ W1 + b1)
            z = h @ W2 + b2
            if n_out == 1:
                cost = torch.nn.functional.binary_cross_entropy(torch.sigmoid(z), tY)
            else:
                cost = -(tY * torch.log_softmax(z, dim=1)).sum(1).mean()
            gs = torch.autograd.grad(cost, tp)
            with torch.no_grad():
                for p, v, g in zip(tp, tv, gs):
                    v.mul_(mu).sub_(lr * g)
                    p.add_(v)
            return cost
        systems["torch"] = torch_step
    return systems


# --- compile time, cold and warm, each in a fresh process --------------------------------------
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


def compile_times():
    def run(code, env):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            raise RuntimeError(out.stderr)
        return float(out.stdout.split()[-1])

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MINIGRAPH_CACHE_DIR=os.path.join(tmp, "mg"), NUMBA_CACHE_DIR=os.path.join(tmp, "nb"))
        results["minigraph cold"] = run(COMPILE_MINIGRAPH, env)
        results["minigraph warm"] = run(COMPILE_MINIGRAPH, env)
        for module, source, call in [("hand_step", HAND_STEP, "m.step(np.ones((4, 784)), np.ones(4), np.zeros(784), 0.0)"),
                                     ("trivial", TRIVIAL, "m.one(1.0)")]:
            with open(os.path.join(tmp, module + ".py"), "w") as f:
                f.write(source)
            code = COMPILE_FILE.format(folder=tmp, module=module, call=call)
            results[f"{module} cold"] = run(code, env)
            results[f"{module} warm"] = run(code, env)
    return results


# The course's own workloads (bench/gpu.py runs the same ones on the GPU).
WORKLOADS = [("a**2+2ab+b**2, n=1e4", lambda: poly(10_000)),
             ("a**2+2ab+b**2, n=1e7", lambda: poly(10_000_000)),
             ("logreg step N=400 D=784", lambda: logistic(400, 784)),
             ("logreg step N=20000 D=784", lambda: logistic(20_000, 784)),
             ("MLP+momentum 2-4-1 N=1000", lambda: mlp(1000, (2, 4, 1))),
             ("MLP+momentum 64-100-10 N=1797", lambda: mlp(1797, (64, 100, 10)))]


def main():
    rows = []
    for title, make in WORKLOADS:
        times = interleaved(make(), rounds=7 if "1e7" in title or "20000" in title else 15)
        for name, t in times.items():
            others = [v for k, v in times.items() if k != name]
            rows.append({"workload": title, "system": name, "median_s": t, "ratio_to_fastest_other": t / min(others)})
        print(f"{title}: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in times.items()), flush=True)
    ct = compile_times()
    for name, t in ct.items():
        rows.append({"workload": "compile logreg train fn", "system": name, "median_s": t,
                     "ratio_to_fastest_other": None})
    summary = {"minigraph cold / hand cold": ct["minigraph cold"] / ct["hand_step cold"],
               "minigraph warm / hand warm": ct["minigraph warm"] / ct["hand_step warm"],
               "minigraph warm / trivial warm (numba's floor)": ct["minigraph warm"] / ct["trivial warm"]}
    info = {"numba": numba.__version__, "numpy": np.__version__, "cpus": os.cpu_count(),
            "jax": getattr(jax, "__version__", None), "torch": getattr(torch, "__version__", None)}
    lines = ["| workload | system | median | ratio to fastest other |", "|---|---|---|---|"]
    for r in rows:
        ratio = "" if r["ratio_to_fastest_other"] is None else f"{r['ratio_to_fastest_other']:.2f}"
        lines.append(f"| {r['workload']} | {r['system']} | {r['median_s'] * 1e3:.3f} ms | {ratio} |")
    lines += ["", *[f"- {k}: {v:.2f}" for k, v in summary.items()], "", f"versions: {info}"]
    text = "\n".join(lines)
    print(text)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "results.json"), "w") as f:
        json.dump({"rows": rows, "compile_ratios": summary, "versions": info}, f, indent=1)
    with open(os.path.join(here, "results.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
