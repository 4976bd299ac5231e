"""One SVI step of the categorical-latent GP notebook (course/svi/2_categorical_latent_gp.ipynb,
built by course/_notebooks/svi.py, sections 3-4) on its real data, against the same step in JAX.

The step, as in the notebook: one reparameterised sample of q(X) and q(U) from three noise matrices,
the ARD squared-exponential kernel, the sparse-GP conditional with `matrix_inverse`, the softmax
log-likelihood of the visible entries, the two closed-form KL terms (with `logdet`), the gradient of
the ELBO with respect to all eight parameter arrays and the notebook's RMSprop update (svi_models.rmsprop:
rate 0.05, rate_max 0.3, grow 0.05). Data: the Wisconsin biopsy table (683 rows, 9 attributes, 10
categories), the notebook's imputation split (seed 0) and its initial values (Q=3, M=20).
The exercise functions are the notebook's reference solutions, read from its source cells.

Systems: minigraph (numba backend) and JAX (`jax.value_and_grad` of the same ELBO under `jit`).
`svi_gp()` checks in its setup that both give the same ELBO as a plain numpy forward pass at the
same parameters and noise, and the same parameters after that first step. Target: <= 1.0x JAX.
"""
import json
import os
import sys

import numpy as np

from common import ROOT, Workload, jax, jnp

import minigraph.tensor as T
from minigraph import function, shared

sys.path.insert(0, os.path.join(ROOT, "course", "svi"))
import svi_models as svi  # noqa: E402  (the notebook's data and optimiser)

Q, M, JITTER, K = 3, 20, 1e-6, 10
RMSPROP = dict(rate=0.05, rate_max=0.3, grow=0.05, gamma=0.9, rate_min=1e-5, delta=1e-8)
NAMES = ("m", "s", "Z", "mu", "L", "log_ard", "log_sf2", "b")     # the notebook's order (gp.values())


def notebook_data(rows=None):
    """The notebook's data, masks and initial values; `rows` keeps only the first rows (tests)."""
    Y, _ = svi.wisconsin()
    if rows:
        Y = Y[:rows]
    N, D = Y.shape
    observed, _, _ = svi.imputation_split(N, D, test_frac=0.2, hide_frac=0.5, seed=0)
    Y_onehot, visible = svi.one_hot(Y, K), observed.astype(float)
    rng = np.random.default_rng(0)                      # initial_values(observed, seed=0) of the notebook
    centred = Y_onehot * np.repeat(visible, K, axis=1)
    centred = centred - centred.mean(axis=0)
    m0 = np.linalg.svd(centred, full_matrices=False)[0][:, :Q]
    m0 = m0 / m0.std(axis=0)
    freq = svi.multinomial_probs(Y, observed)[0]
    b0 = np.log(freq) - np.log(freq).mean(axis=1, keepdims=True)
    init = dict(m=m0, s=np.full((N, Q), np.log(0.1)), Z=m0[rng.choice(N, M, replace=False)],
                mu=np.zeros((M, D * K)), L=0.1 * np.eye(M), log_ard=np.zeros(Q), log_sf2=np.log(4.0),
                b=b0.reshape(-1))
    noise_rng = np.random.default_rng(1)
    noise = (noise_rng.standard_normal((N, Q)), noise_rng.standard_normal((M, D * K)),
             noise_rng.standard_normal((N, D * K)))
    return Y_onehot, visible, init, noise


# --- the notebook's model in minigraph -----------------------------------------------------------
SOURCE_NOTEBOOK = os.path.join(ROOT, "course", "svi", "2_categorical_latent_gp.ipynb")
SOLVED = ("ard_se_kernel", "sparse_gp_conditional", "categorical_loglik")


def notebook_solutions(path=SOURCE_NOTEBOOK, names=SOLVED):
    """The exercise functions as the instructor's source notebook solves them, run from its cells:
    the bench times the notebook's own graph, and no answer is copied into bench/ (a public folder)."""
    with open(path) as f:
        cells = json.load(f)["cells"]
    namespace = {"T": T, "np": np}
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and any(f"def {name}(" in source for name in names):
            exec(compile(source, path, "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    if missing:
        raise RuntimeError(f"{path}: no cell defines {', '.join(missing)} (the SVI GP row needs the course sources)")
    return [namespace[name] for name in names]


def minigraph_step(init, n_cols, backend):
    """(step function, {name: shared}) exactly as the notebook builds gp_step."""
    ard_se_kernel, sparse_gp_conditional, categorical_loglik = notebook_solutions()
    gp = {name: shared(np.array(init[name], copy=True), name=name) for name in NAMES}
    m, s, Z, mu, L, b = gp["m"], gp["s"], gp["Z"], gp["mu"], gp["L"], gp["b"]
    ard, sf2 = T.exp(gp["log_ard"]), T.exp(gp["log_sf2"])
    eps_NQ, eps_MK, eps_NK = T.matrix("eps_NQ"), T.matrix("eps_MK"), T.matrix("eps_NK")
    Y_sym, mask_sym = T.matrix("Y"), T.matrix("mask")
    X = m + T.exp(s) * eps_NQ
    C = T.tril(L)
    U = mu + T.dot(C, eps_MK)
    Kmm = ard_se_kernel(Z, Z, ard, sf2) + JITTER * T.eye(M)
    Kmn = ard_se_kernel(Z, X, ard, sf2)
    F = sparse_gp_conditional(Kmm, Kmn, sf2, U, eps_NK) + b
    log_lik = categorical_loglik(F, Y_sym, mask_sym, K)
    KL_X = 0.5 * T.sum(m ** 2 + T.exp(2 * s) - 1 - 2 * s)
    KmmInv = T.matrix_inverse(Kmm)
    KL_U = 0.5 * (n_cols * T.sum(KmmInv * T.dot(C, C.T)) + T.sum(mu * T.dot(KmmInv, mu)) - M * n_cols
                  + n_cols * T.logdet(Kmm) - n_cols * T.sum(T.log(T.diag(C) ** 2)))
    elbo = log_lik - KL_X - KL_U
    params = list(gp.values())
    updates = svi.rmsprop(params, T.grad(elbo, params), **RMSPROP)
    step = function([eps_NQ, eps_MK, eps_NK, Y_sym, mask_sym], elbo, updates=updates, backend=backend)
    return step, gp


# --- the same ELBO written once for any numpy-like module: plain numpy (forward only, the setup's
# independent check) and jax.numpy (the JAX system, differentiated by jax.value_and_grad) ---------
def array_elbo(xp, log_softmax, p, eps_NQ, eps_MK, eps_NK, Y, mask):
    n_cols = p["mu"].shape[1]
    ard, sf2 = xp.exp(p["log_ard"]), xp.exp(p["log_sf2"])

    def kern(A, B):
        return sf2 * xp.exp(-0.5 * (((A[:, None, :] - B[None, :, :]) / ard) ** 2).sum(axis=2))
    X = p["m"] + xp.exp(p["s"]) * eps_NQ
    C = xp.tril(p["L"])
    U = p["mu"] + C @ eps_MK
    Kmm = kern(p["Z"], p["Z"]) + JITTER * xp.eye(M)
    Kmn = kern(p["Z"], X)
    KmmInv = xp.linalg.inv(Kmm)
    A = KmmInv @ Kmn
    F = A.T @ U + xp.sqrt(sf2 - (Kmn * A).sum(axis=0))[:, None] * eps_NK + p["b"]
    logp = log_softmax(F.reshape(-1, K))
    log_lik = ((Y.reshape(-1, K) * logp).sum(axis=1) * mask.reshape(-1)).sum()
    KL_X = 0.5 * xp.sum(p["m"] ** 2 + xp.exp(2 * p["s"]) - 1 - 2 * p["s"])
    KL_U = 0.5 * (n_cols * xp.sum(KmmInv * (C @ C.T)) + xp.sum(p["mu"] * (KmmInv @ p["mu"])) - M * n_cols
                  + n_cols * xp.linalg.slogdet(Kmm)[1] - n_cols * xp.sum(xp.log(xp.diag(C) ** 2)))
    return log_lik - KL_X - KL_U


def _numpy_log_softmax(F):
    shifted = F - F.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def numpy_elbo(p, noise, Y, mask):
    return array_elbo(np, _numpy_log_softmax, p, *noise, Y, mask)


# --- the same step in JAX -----------------------------------------------------------------------
def jax_step_fn():
    def elbo(p, eps_NQ, eps_MK, eps_NK, Y, mask):
        return array_elbo(jnp, lambda F: jax.nn.log_softmax(F, axis=1), p, eps_NQ, eps_MK, eps_NK, Y, mask)

    o = RMSPROP

    @jax.jit
    def step(p, r, g_prev, lr, eps_NQ, eps_MK, eps_NK, Y, mask):
        value, g = jax.value_and_grad(elbo)(p, eps_NQ, eps_MK, eps_NK, Y, mask)
        r_new = {k: (1 - o["gamma"]) * g[k] ** 2 + o["gamma"] * r[k] for k in p}
        lr_new = {k: jnp.clip(jnp.where(g[k] * g_prev[k] > 0, lr[k] * (1 + o["grow"]), lr[k] * (1 - o["grow"])),
                              o["rate_min"], o["rate_max"]) for k in p}
        p_new = {k: p[k] + lr[k] / (jnp.sqrt(r_new[k]) + o["delta"]) * g[k] for k in p}
        return value, p_new, r_new, g, lr_new
    return step


def svi_gp(rows=None, backend="numba", check=True):
    """The Workload; `rows` shrinks the data (tests). The setup's first step is the check."""
    Y, mask, init, noise = notebook_data(rows)
    step, gp = minigraph_step(init, mask.shape[1] * K, backend)
    systems = {"minigraph": lambda: step(*noise, Y, mask)}
    params = {"minigraph": lambda: [gp[k].get_value() for k in NAMES]}
    if jax:
        f = jax_step_fn()
        js = {"p": {k: jnp.asarray(v) for k, v in init.items()}}
        js["r"] = {k: jnp.zeros_like(v) for k, v in js["p"].items()}
        js["g"] = {k: jnp.zeros_like(v) for k, v in js["p"].items()}
        js["lr"] = {k: jnp.full_like(v, RMSPROP["rate"]) for k, v in js["p"].items()}
        jnoise, jY, jmask = [jnp.asarray(e) for e in noise], jnp.asarray(Y), jnp.asarray(mask)

        def jax_step():
            value, js["p"], js["r"], js["g"], js["lr"] = f(js["p"], js["r"], js["g"], js["lr"], *jnoise, jY, jmask)
            return value.block_until_ready()
        systems["jax"] = jax_step
        params["jax"] = lambda: [js["p"][k] for k in NAMES]
    work = Workload(systems, params)
    if check:
        check_same_step(work, numpy_elbo(init, noise, Y, mask))
    return work


def check_same_step(work, expected_elbo):
    """One step of every system: the same ELBO (the numpy forward pass's) and the same new parameters.
    A bench that times two different computations fails here, before any timing."""
    values = {name: float(np.asarray(step())) for name, step in work.systems.items()}
    for name, value in values.items():
        if not np.isclose(value, expected_elbo, rtol=1e-9, atol=0):
            raise AssertionError(f"SVI GP step: {name}'s ELBO {value!r} != numpy's {expected_elbo!r} "
                                 "at the same parameters and noise")
    if "jax" in work.params:
        for k, a, b in zip(NAMES, work.params["minigraph"](), work.params["jax"]()):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-10,
                                       err_msg=f"SVI GP step: parameter {k} after one step, minigraph vs JAX")
