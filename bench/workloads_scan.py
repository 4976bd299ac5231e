"""A recurrent network's training step through `theano.scan` (minigraph/ops/scan.py).

The model (chosen for the bench, issue #20): a tanh RNN over T=50 steps, batch 32, 16 inputs,
32 hidden units,
    h_0 = 0,   h_t = tanh(x_t W + h_{t-1} U + b),   loss = mean((h_T V - y)**2),
then the gradient of the loss with respect to W, U, b, V through all 50 steps (backpropagation
through time) and one SGD step (rate 0.1). Systems: minigraph (scan, T.grad, updates; numba
backend), the same by hand in numpy (forward loop, then the backward loop written out), JAX
(`lax.scan` + `value_and_grad` under `jit`) and PyTorch (a Python loop under autograd: the natural
way to write it there). Target: minigraph <= 1.0x JAX.
"""
import numpy as np

from common import Workload, jax, jnp, torch

import minigraph as theano
import minigraph.tensor as T
from minigraph import function, shared

RATE = 0.1


def rnn_data(steps, batch, n_in, n_hid, seed=3):
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(steps, batch, n_in)), "Y": rng.normal(size=(batch, 1)),
            "W": rng.normal(size=(n_in, n_hid)) * 0.3, "U": rng.normal(size=(n_hid, n_hid)) * 0.3,
            "b": np.zeros(n_hid), "V": rng.normal(size=(n_hid, 1)) * 0.3}


def rnn(steps=50, batch=32, n_in=16, n_hid=32, backend="numba"):
    d = rnn_data(steps, batch, n_in, n_hid)
    X, Y = d["X"], d["Y"]
    names = ["W", "U", "b", "V"]

    ps = [shared(d[k].copy(), name=k) for k in names]
    W, U, b, V = ps
    x, y = T.tensor3("x"), T.dmatrix("y")
    hs, _ = theano.scan(lambda x_t, h_prev, W, U, b: T.tanh(T.dot(x_t, W) + T.dot(h_prev, U) + b),
                        sequences=x, outputs_info=T.zeros((x.shape[1], n_hid)), non_sequences=[W, U, b])
    loss = T.mean((T.dot(hs[-1], V) - y) ** 2)
    grads = T.grad(loss, ps)
    train = function([x, y], loss, updates=[(p, p - RATE * g) for p, g in zip(ps, grads)], backend=backend)

    st = [d[k].copy() for k in names]

    def by_hand():
        W, U, b, V = st
        hs = [np.zeros((batch, n_hid))]
        for t in range(steps):
            hs.append(np.tanh(X[t] @ W + hs[-1] @ U + b))
        r = hs[-1] @ V - Y
        loss = np.mean(r ** 2)
        d_out = 2 * r / r.size
        gW, gU, gb, gV = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b), hs[-1].T @ d_out
        dh = d_out @ V.T
        for t in range(steps, 0, -1):           # hs[t] is h_t; step t read X[t - 1]
            da = dh * (1 - hs[t] ** 2)
            gW += X[t - 1].T @ da
            gU += hs[t - 1].T @ da
            gb += da.sum(axis=0)
            dh = da @ U.T
        st[:] = [p - RATE * g for p, g in zip(st, (gW, gU, gb, gV))]
        return loss

    work = Workload({"minigraph": lambda: train(X, Y), "numpy (hand)": by_hand},
                    {"minigraph": lambda: [p.get_value() for p in ps], "numpy (hand)": lambda: list(st)})
    if jax:
        def jloss(ps, X, Y):
            W, U, b, V = ps

            def step(h, x_t):
                h = jnp.tanh(x_t @ W + h @ U + b)
                return h, None
            h_last, _ = jax.lax.scan(step, jnp.zeros((X.shape[1], n_hid)), X)
            return jnp.mean((h_last @ V - Y) ** 2)

        @jax.jit
        def jstep(ps, X, Y):
            loss, gs = jax.value_and_grad(jloss)(ps, X, Y)
            return loss, [p - RATE * g for p, g in zip(ps, gs)]
        js = {"p": [jnp.asarray(d[k]) for k in names]}
        jX, jY = jnp.asarray(X), jnp.asarray(Y)

        def jax_step():
            loss, js["p"] = jstep(js["p"], jX, jY)
            return loss.block_until_ready()
        work.systems["jax"] = jax_step
        work.params["jax"] = lambda: list(js["p"])
    if torch:
        tp = [torch.tensor(d[k], requires_grad=True) for k in names]
        tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

        def torch_step():
            W, U, b, V = tp
            h = torch.zeros(batch, n_hid)
            for t in range(steps):
                h = torch.tanh(tX[t] @ W + h @ U + b)
            loss = torch.mean((h @ V - tY) ** 2)
            gs = torch.autograd.grad(loss, tp)
            with torch.no_grad():
                for p, g in zip(tp, gs):
                    p.sub_(RATE * g)
            return loss
        work.systems["torch"] = torch_step
        work.params["torch"] = lambda: list(tp)
    return work
