"""Students' answers, right and wrong, graded by the course's own checks (issue #16).

Each row is one student of one notebook: some solution cells replaced by what a student would write, and
the points each graded cell must then get. Right answers written differently earn full points; the likely
mistakes (the slide's literals, T.grad where it is forbidden or missing, T.nnet.sigmoid where the formula
is asked for, a new shared variable, a velocity without the bias's broadcastable pattern) lose the cell's
points, and the grader's message says why in words a student can act on.

Graded with tests/course/course_harness.py: the same checks (autograder.checks) and the same kernel-side
evaluation (autograder.kernel_snapshot.run_check) as the autograder, without kernels or sandbox, so the
whole table runs in a minute. The autograder path itself is tested on the solutions and releases in
test_act*.py / test_svi.py.
"""
from __future__ import annotations

import pytest

from course_grading import COURSE
from course_harness import run_in_subprocess

# notebook, {solution grade id: replacement cell}, {graded cell: (points, text its failure message must hold)}
STUDENTS = {
    "act2 logistic: three right forms": ("act2_practice/2_logistic_function", {
        "logistic_solution": "def logistic(v):\n    return T.exp(v) / (1 + T.exp(v))",
        "slope_solution": "slope = T.grad(T.sum(logistic(v)), v)\nslope_fn = function([v], slope)",
    }, {"logistic_check": (2, None), "slope_check": (2, None)}),
    "act2 logistic: power and tanh forms": ("act2_practice/2_logistic_function", {
        "logistic_solution": "def logistic(v):\n    return 0.5 * (1 + T.tanh(v / 2)) if v.ndim == 0 else (1 + T.exp(-v)) ** -1",
    }, {"logistic_check": (2, None), "slope_check": (2, None)}),
    "act2 logistic: Theano's T.inv": ("act2_practice/2_logistic_function", {
        "logistic_solution": "def logistic(v):\n    return T.inv(1 + T.exp(-v))",
    }, {"logistic_check": (2, None), "slope_check": (2, None)}),
    "act2 logistic: sigmoid ready-made, slope by hand": ("act2_practice/2_logistic_function", {
        "logistic_solution": "def logistic(v):\n    return T.nnet.sigmoid(v)",
        "slope_solution": "s = 1 / (1 + T.exp(-v))\nslope = s * (1 - s)\nslope_fn = function([v], slope)",
    }, {"logistic_check": (0, "sigmoid, which this exercise rules out"),
        "slope_check": (0, "it was not built by T.grad")}),
    "act2 logistic: np.exp on a symbol": ("act2_practice/2_logistic_function", {
        "logistic_solution": "def logistic(v):\n    return 1 / (1 + np.exp(-v))",
    }, {"logistic_check": (0, "raised")}),
    "act2 first steps: other right forms, a wrong polynomial, blank ex3": ("act2_practice/1_first_steps", {
        "ex1_solution": "out1 = a ** 10 + a\nf1 = function([a], out1)",
        "ex2_solution": "out2 = a ** 2 + a * b + b ** 2\nf2 = function([a, b], out2)",
        "ex3_solution": "# YOUR CODE HERE\nraise NotImplementedError()",
    }, {"ex1_check": (1, None), "ex2_check": (0, "f2 on two random vectors: expected shape (5,)"),
        "ex3_check": (0, "NameError")}),
    "act2 first steps: (a + b)² and abs via T.abs_": ("act2_practice/1_first_steps", {
        "ex2_solution": "out2 = (a + b) ** 2\nf2 = function([a, b], out2)",
        "ex3_solution": "diff = A - B\nabs_diff = abs(A - B)\ndiff_squared = (A - B) * (A - B)\n"
                        "f_diffs = function([A, B], [diff, abs_diff, diff_squared])",
    }, {"ex2_check": (2, None), "ex3_check": (2, None)}),
    "act2 shared: a new shared variable; the average with beta swapped": ("act2_practice/3_shared_variables", {
        "decrementor_solution": "mine = shared(0)\ndecrementor = function([inc], mine, updates=[(mine, mine - inc)])",
        "ema_solution": "track = function([sample], average, updates=[(average, (1 - beta) * average + beta * sample)])",
    }, {"decrementor_check": (0, "decrementor("), "ema_check": (0, "the average after those 40 samples")}),
    "act2 shared: right answers written differently": ("act2_practice/3_shared_variables", {
        "decrementor_solution": "decrementor = function([inc], state, updates=[(state, state + (-inc))])",
        "ema_solution": "track = function([sample], average,\n"
                        "                 updates=[(average, average + (1 - beta) * (sample - average))])",
    }, {"decrementor_check": (2, None), "ema_check": (2, None)}),
    "act2 logistic regression: the slide's literals": ("act2_practice/4_logistic_regression", {
        "model_solution": "def logistic_regression(x, y, w, b, l2=0.01):\n"
                          "    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))\n    prediction = p_1 > 0.5\n"
                          "    obj = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)\n"
                          "    cost = obj.mean() + 0.01 * (w ** 2).sum()\n    return p_1, prediction, obj, cost",
        "trainer_solution": "def make_trainer(x, y, w, b, learning_rate=0.1, l2=0.01):\n"
                            "    p_1, prediction, obj, cost = logistic_regression(x, y, w, b, l2)\n"
                            "    gw, gb = T.grad(cost, [w, b])\n"
                            "    train = function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])\n"
                            "    predict = function([x], prediction)\n    return train, predict",
    }, {"model_check": (0, "cost on 11 random rows"), "trainer_check": (0, "after 5 steps")}),
    "act2 logistic regression: sigmoid, T.mean and a dict of updates": ("act2_practice/4_logistic_regression", {
        "model_solution": "def logistic_regression(x, y, w, b, l2=0.01):\n"
                          "    p_1 = T.nnet.sigmoid(T.dot(x, w) + b)\n    prediction = p_1 > 0.5\n"
                          "    obj = -(y * T.log(p_1) + (1 - y) * T.log(1 - p_1))\n"
                          "    cost = T.mean(obj) + l2 * T.sum(w * w)\n    return p_1, prediction, obj, cost",
        "trainer_solution": "def make_trainer(x, y, w, b, learning_rate=0.1, l2=0.01):\n"
                            "    cost = logistic_regression(x, y, w, b, l2)[3]\n"
                            "    updates = [(p, p - learning_rate * T.grad(cost, p)) for p in (w, b)]\n"
                            "    train = function([x, y], cost, updates=updates)\n"
                            "    predict = function([x], logistic_regression(x, y, w, b, l2)[1], on_unused_input='ignore')\n"
                            "    return train, predict",
    }, {"model_check": (3, None), "trainer_check": (3, None), "random_data_check": (1, None),
        "cancer_check": (2, None)}),
    "act2 mlp: a velocity without the bias's broadcastable pattern": ("act2_practice/5_mlp", {
        "momentum_solution": "def gradient_updates_momentum(cost, params, learning_rate, momentum):\n"
                             "    updates = []\n    for param in params:\n"
                             "        velocity = theano.shared(param.get_value() * 0.)\n"
                             "        updates.append((param, param - learning_rate * velocity))\n"
                             "        updates.append((velocity, momentum * velocity + (1. - momentum) * T.grad(cost, param)))\n"
                             "    return updates",
    }, {"layer_check": (2, None), "mlp_check": (2, None), "momentum_check": (0, "broadcastable pattern")}),
    "act2 mlp: right answers written differently": ("act2_practice/5_mlp", {
        "layer_solution": "class Layer(object):\n    def __init__(self, W_init, b_init, activation):\n"
                          "        self.W = theano.shared(value=W_init.astype(theano.config.floatX), name='W', borrow=True)\n"
                          "        self.b = theano.shared(value=b_init.reshape(-1, 1).astype(theano.config.floatX), name='b',\n"
                          "                               borrow=True, broadcastable=(False, True))\n"
                          "        self.activation = activation\n        self.params = [self.W, self.b]\n\n"
                          "    def output(self, x):\n        z = self.W.dot(x) + self.b\n"
                          "        if self.activation:\n            z = self.activation(z)\n        return z",
        "momentum_solution": "def gradient_updates_momentum(cost, params, learning_rate, momentum):\n"
                             "    grads = T.grad(cost, params)\n    updates = []\n"
                             "    for p, g in zip(params, grads):\n"
                             "        v = theano.shared(np.zeros_like(p.get_value()), broadcastable=p.broadcastable)\n"
                             "        updates += [(p, p - learning_rate * v), (v, momentum * v + (1 - momentum) * g)]\n"
                             "    return updates",
    }, {"layer_check": (2, None), "mlp_check": (2, None), "momentum_check": (3, None), "toy_check": (1, None),
        "digits_check": (2, None)}),
    "act1 three ways: 2x by hand, a central difference without brackets": ("act1_theory/1_three_ways", {
        "central_solution": "def central_difference(f, x, h):\n    return (f(x + h) - f(x - h)) / 2 * h",
        "square_solution": "square = x ** 2\ndsquare = 2 * x",
    }, {"central_check": (0, None), "square_check": (0, "it was not built by T.grad")}),
    "act1 three ways: right answers written differently": ("act1_theory/1_three_ways", {
        "central_solution": "def central_difference(f, x, h):\n    return 0.5 * (f(x + h) - f(x - h)) / h",
        "square_solution": "square = x * x\ndsquare = T.grad(x * x, x)",
        "three_ways_solution": "g = T.sin(3 * x) * T.exp(-0.5 * x ** 2)\ndg = T.grad(g, wrt=x)\n"
                               "dg_fn = theano.function([x], dg)",
    }, {"central_check": (2, None), "square_check": (2, None), "three_ways_check": (2, None)}),
    "act1 how it works: T.grad where it is forbidden; counting paths": ("act1_theory/2_how_minigraph_works", {
        "predict_solution": "predicted_h = T.grad(h, x)\npredicted_k = T.grad(k, x)",
        "count_solution": "def count_apply_nodes(v):\n    if v.owner is None:\n        return 0\n"
                          "    return 1 + sum(count_apply_nodes(i) for i in v.owner.inputs)",
    }, {"predict_h_check": (0, "built by T.grad, which this exercise rules out"),
        "predict_k_check": (0, "built by T.grad, which this exercise rules out"), "count_check": (0, None)}),
    "act1 how it works: predictions written differently": ("act1_theory/2_how_minigraph_works", {
        "predict_solution": "predicted_h = T.exp(x) * (1 + x)\npredicted_k = T.cos(x ** 2) * (x + x)",
    }, {"predict_h_check": (1, None), "predict_k_check": (1, None)}),
    "act1 rewrites: cos first, ones by arithmetic": ("act1_theory/3_graph_rewrites", {
        "pythagoras_solution": "pythagoras = rewrite.register('canonicalize', 'pythagoras',\n"
                               "    ('add', ('pow', ('cos', 'v'), 2), ('pow', ('sin', 'v'), 2)), lambda v: v * 0 + 1)",
    }, {"pythagoras_check": (2, None)}),
    "act1 rewrites: two pattern variables": ("act1_theory/3_graph_rewrites", {
        "pythagoras_solution": "pythagoras = rewrite.register('canonicalize', 'pythagoras',\n"
                               "    ('add', ('pow', ('sin', 'u'), 2), ('pow', ('cos', 'v'), 2)), lambda u, v: T.ones_like(v))",
    }, {"pythagoras_check": (0, "and not on sin²(a) + cos²(b)")}),
    "svi 1: the local ELBO without its KL; AdaDelta with the old E[g²]": ("svi/1_svi_logistic_regression", {
        "ex5_local": "def local_elbo(mu, L, eps_rows, X, y, n_total):\n    C = T.tril(L)\n"
                     "    sd = T.sqrt(T.sum(T.dot(X, C) ** 2, axis=1))\n"
                     "    z = T.dot(X, mu).dimshuffle(0, 'x') + sd.dimshuffle(0, 'x') * eps_rows\n"
                     "    return n_total / X.shape[0] * T.sum(T.mean(-T.nnet.softplus(-z * y.dimshuffle(0, 'x')), axis=1))",
        "ex4_adadelta": "def adadelta(params, grads, rho=0.95, eps=1e-6):\n    updates = []\n"
                        "    for p, g in zip(params, grads):\n"
                        "        eg2 = shared(np.zeros(p.get_value().shape))\n        edx2 = shared(np.zeros(p.get_value().shape))\n"
                        "        step = T.sqrt(edx2 + eps) / T.sqrt(eg2 + eps) * g\n"
                        "        updates += [(eg2, rho * eg2 + (1 - rho) * g ** 2), (edx2, rho * edx2 + (1 - rho) * step ** 2),"
                        " (p, p + step)]\n    return updates",
    }, {"ex5_check": (0, "local_elbo with 5 draws"), "ex4_check": (0, "after 5 AdaDelta steps"),
        "ex1_check": (2, None), "ex2_check": (2, None), "ex3_check": (3, None)}),
    "svi 1: right answers written differently": ("svi/1_svi_logistic_regression", {
        "ex2_kl": "def gaussian_kl(mu, L):\n    C = T.tril(L)\n    S = T.dot(C, C.T)\n"
                  "    return 0.5 * (T.sum(T.diag(S)) + T.dot(mu, mu) - mu.shape[0]) - T.sum(T.log(abs(T.diag(C))))",
        "ex5_local": "def local_elbo(mu, L, eps_rows, X, y, n_total):\n    XC = T.dot(X, T.tril(L))\n"
                     "    z = T.dot(X, mu)[:, None] + T.sqrt((XC * XC).sum(axis=1))[:, None] * eps_rows\n"
                     "    ll = T.log(T.nnet.sigmoid(z * y[:, None]))\n"
                     "    return ll.mean(axis=1).sum() * n_total / X.shape[0] - gaussian_kl(mu, L)",
    }, {"ex2_check": (2, None), "ex5_check": (3, None)}),
}


@pytest.fixture(scope="module")
def graded():
    return {}


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_answer_variant(student, graded):
    notebook, replace, expected = STUDENTS[student]
    result = run_in_subprocess(COURSE / f"{notebook}.ipynb", replace)
    for grade_id, (points, message) in expected.items():
        got = result[grade_id]
        assert got["points"] == points, (f"{student}: {grade_id} got {got['points']}/{got['max']}, expected {points};"
                                         f" checks said: {got['verdicts']}")
        if points == 0:
            failed = [m for m in got["verdicts"] if m.startswith("✗")]
            assert failed, f"{student}: {grade_id} scored 0 without a failed check"
            if message:
                assert any(message in m for m in failed), (
                    f"{student}: {grade_id}: no failure message mentions {message!r}: {failed}")
