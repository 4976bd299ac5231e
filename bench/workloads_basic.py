"""The course's first workloads: a**2 + 2ab + b**2, a logistic-regression step, an MLP step with
momentum. Each returns a common.Workload: minigraph (numba backend), the same step by hand in numpy
(and hand-written numba for the polynomial), and JAX / PyTorch when they are installed.
Every system's step returns the same outputs in the same order; `params` reads the updated weights."""
import numpy as np
from numba import njit

from common import Workload, jax, jnp, torch

import minigraph.tensor as T
from minigraph import function, shared


# --- a**2 + 2ab + b**2 ------------------------------------------------------------------------
@njit(cache=True)
def poly_numba(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = a[i] ** 2 + 2 * a[i] * b[i] + b[i] ** 2
    return out


def poly(n, backend="numba"):
    rng = np.random.default_rng(0)
    a, b = rng.random(n), rng.random(n)
    va, vb = T.dvectors("a", "b")
    f = function([va, vb], va ** 2 + 2 * va * vb + vb ** 2, backend=backend)
    systems = {"minigraph": lambda: f(a, b), "numpy (hand)": lambda: a ** 2 + 2 * a * b + b ** 2,
               "numba (hand)": lambda: poly_numba(a, b)}
    if jax:
        jf = jax.jit(lambda a, b: a ** 2 + 2 * a * b + b ** 2)
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        systems["jax"] = lambda: jf(ja, jb).block_until_ready()
    if torch:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        systems["torch"] = lambda: ta ** 2 + 2 * ta * tb + tb ** 2
    return Workload(systems)


# --- logistic regression: one training step (cost, gradients, updates) -------------------------
def logistic(N, D, backend="numba"):
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
                     backend=backend)
    state = {"w": w0.copy(), "b": 0.0}

    def by_hand():
        p = 1 / (1 + np.exp(-(X @ state["w"]) - state["b"]))
        xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
        g = (p - y) / N
        state["w"] = state["w"] - 0.1 * (X.T @ g + 0.02 * state["w"])
        state["b"] = state["b"] - 0.1 * g.sum()
        return p > 0.5, xent

    work = Workload({"minigraph": lambda: train(X, y), "numpy (hand)": by_hand},
                    {"minigraph": lambda: [w.get_value(), b.get_value()],
                     "numpy (hand)": lambda: [state["w"], state["b"]]})
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
            return pred, xent.block_until_ready()
        work.systems["jax"] = jax_step
        work.params["jax"] = lambda: [js["w"], js["b"]]
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
        work.systems["torch"] = torch_step
        work.params["torch"] = lambda: [tw, tb]
    return work


# --- MLP with momentum --------------------------------------------------------------------------
def mlp(N, sizes, seed=2, backend="numba"):
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
    train = function([x, yv], cost, updates=updates, backend=backend)
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

    work = Workload({"minigraph": lambda: train(X, Y), "numpy (hand)": by_hand},
                    {"minigraph": lambda: [p.get_value() for p in params + vel],
                     "numpy (hand)": lambda: st["p"] + st["v"]})
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
            return cost.block_until_ready()
        work.systems["jax"] = jax_step
        work.params["jax"] = lambda: js["p"] + js["v"]
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
        work.systems["torch"] = torch_step
        work.params["torch"] = lambda: tp + tv
    return work
