"""Act 2, notebooks 4 and 5: the two models (logistic regression, the MLP)."""
from build_notebooks import check, code, md, solution
from _notebooks.common import GRADING_NOTE, HOW_TO, IMPORTS

TRAINING_IMPORTS = code("""
    import os
    import matplotlib.pyplot as plt
    from tqdm import tqdm

    GRADING = "NBGRADER_EXECUTION" in os.environ   # set by the autograder: train for fewer steps
""")

# ---------------------------------------------------------------------------------------------------------
LOGREG = [
    md(r"""
        # Act 2 · 4 — Logistic regression, written once, trained twice

        Logistic regression is a linear classifier that outputs probabilities. With weights $w$ and bias $b$,
        the probability that an input row $x$ belongs to class 1 is

        $$ P(Y = 1 \mid x, w, b) = s(x \cdot w + b) = \frac{1}{1 + e^{-(x\cdot w + b)}} , $$

        and the predicted class is 1 when that probability exceeds one half. Training minimises the
        cross-entropy (the negative log-likelihood of the labels $y \in \{0, 1\}$),

        $$ \ell(x, y) = -y \log s(x\cdot w + b) - (1 - y) \log\big(1 - s(x\cdot w + b)\big) , $$

        averaged over the data, plus a small penalty $\lambda \lVert w \rVert^2$ that keeps the weights
        modest (a Gaussian prior on $w$, if you like).

        The point of this notebook: you write the model **once**, as a graph; `T.grad` derives the update; and
        the same few lines train on random data and on a real medical data set.
    """),
    HOW_TO,
    IMPORTS,
    TRAINING_IMPORTS,
    GRADING_NOTE,
    md("""
        ## 1. Exercise 1 — the model as a graph (3 points)

        Write `logistic_regression(x, y, w, b, l2)`. The arguments are minigraph variables: `x` a matrix (one
        example per row), `y` a vector of 0/1 labels, `w` and `b` shared variables. Return four expressions:

        * `p_1` — the probability of class 1 for each row (a vector),
        * `prediction` — `p_1 > 0.5`,
        * `obj` — the cross-entropy of each row (a vector),
        * `cost` — the mean of `obj` plus `l2` times the sum of the squared weights (a scalar).
    """),
    solution("model_solution", """
        def logistic_regression(x, y, w, b, l2=0.01):
            ### BEGIN SOLUTION
            p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
            prediction = p_1 > 0.5
            obj = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
            cost = obj.mean() + l2 * (w ** 2).sum()
            ### END SOLUTION
            return p_1, prediction, obj, cost
    """),
    check("model_check", 3, """
        # Self-check for exercise 1: three examples, three features, weights we know, and l2 = 0.3
        _x, _y = T.matrix('x_check'), T.vector('y_check')
        _w, _b = shared(np.array([0.5, -1.0, 2.0]), name='w_check'), shared(0.1, name='b_check')
        _outs = logistic_regression(_x, _y, _w, _b, 0.3)
        assert isinstance(_outs, tuple) and len(_outs) == 4 and all(isinstance(o, theano.Variable) for o in _outs), (
            "logistic_regression should return four minigraph expressions (p_1, prediction, obj, cost), got "
            f"{[type(o).__name__ for o in _outs] if isinstance(_outs, tuple) else type(_outs).__name__}.")
        _X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [-1.0, 2.0, 0.0]])
        _Y = np.array([1.0, 0.0, 1.0])
        _p, _pred, _obj, _cost = function([_x, _y], list(_outs), on_unused_input='ignore')(_X, _Y)
        _p_want = 1 / (1 + np.exp(-(_X @ [0.5, -1.0, 2.0] + 0.1)))
        np.testing.assert_allclose(_p, _p_want, rtol=1e-10, err_msg=(
            "\\np_1 is wrong. For the first row x·w + b = 0.5 + 0.1 = 0.6, so p_1 should be s(0.6) ≈ 0.646.\\n"
            "Hint: the matrix product of x and w gives one score per row; add b, then apply the logistic function."))
        np.testing.assert_array_equal(np.asarray(_pred, dtype=float), (_p_want > 0.5).astype(float),
                                      err_msg="\\nprediction should be p_1 > 0.5 (1 where the probability exceeds one half).")
        _obj_want = -_Y * np.log(_p_want) - (1 - _Y) * np.log(1 - _p_want)
        np.testing.assert_allclose(_obj, _obj_want, rtol=1e-10, err_msg=(
            "\\nobj should hold one cross-entropy per row: -y log(p_1) - (1 - y) log(1 - p_1)."))
        np.testing.assert_allclose(_cost, _obj_want.mean() + 0.3 * (0.25 + 1 + 4), rtol=1e-10, err_msg=(
            "\\ncost should be the mean cross-entropy plus l2 times the sum of the squared weights; here (l2 = 0.3) "
            f"that is {_obj_want.mean():.4f} + 0.3 · 5.25.\\nHint: use the argument `l2`, not a fixed number."))
        print("Exercise 1 passes: p_1 =", np.round(_p, 3), " cost =", float(_cost))
        ### BEGIN HIDDEN TESTS
        _r = rng(7)
        _X, _Y = _r.normal(size=(11, 5)), _r.integers(0, 2, size=11).astype(float)
        _w0, _b0 = _r.normal(size=5) * 0.5, -0.3
        _pw = 1 / (1 + np.exp(-(_X @ _w0 + _b0)))
        _ow = -_Y * np.log(_pw) - (1 - _Y) * np.log(1 - _pw)
        _run = ("_xs, _ys = T.matrix('xs'), T.vector('ys')\\n"
                "_ws, _bs = shared(_w0, name='ws'), shared(_b0, name='bs')\\n"
                "_outs = logistic_regression(_xs, _ys, _ws, _bs, _l2)\\n")
        for _l2 in (0.0, 0.5):
            _in = dict(_X=_X, _Y=_Y, _w0=_w0, _b0=_b0, _l2=_l2)
            grade.true(f"four expressions: vectors p_1, obj and a scalar cost (l2 = {_l2})",
                       _run + "[o.ndim for o in _outs] == [1, 1, 1, 0]", **_in)
            for _k, (_name, _want) in enumerate((("p_1", _pw), ("prediction", (_pw > 0.5).astype(float)),
                                                ("obj", _ow), ("cost", _ow.mean() + _l2 * np.sum(_w0 ** 2)))):
                grade.value(f"{_name} on 11 random rows, 5 features (l2 = {_l2})",
                            _run + f"np.asarray(function([_xs, _ys], _outs[{_k}], on_unused_input='ignore')(_X, _Y),"
                            " dtype=float)", _want, rtol=1e-10, **_in,
                            hint="the cost adds l2 times the sum of the squared weights" if _name == "cost" else None)
        _gw = _X.T @ (_pw - _Y) / 11 + 2 * 0.1 * _w0
        grade.value("T.grad of your cost with respect to w (l2 = 0.1)",
                    _run + "function([_xs, _ys], T.grad(_outs[3], _ws))(_X, _Y)", _gw, rtol=1e-9,
                    **dict(_X=_X, _Y=_Y, _w0=_w0, _b0=_b0, _l2=0.1))
        ### END HIDDEN TESTS
    """),
    md(r"""
        ## 2. Exercise 2 — let `T.grad` derive the update (3 points)

        Gradient descent moves each parameter a small step against its gradient:
        $w \leftarrow w - \eta\, \partial \text{cost} / \partial w$, and the same for $b$.
        You never write the derivative: `T.grad` of the cost with respect to the list of `w` and `b` returns both
        gradients as graphs.

        Write `make_trainer(x, y, w, b, learning_rate, l2)`. It builds the model with your
        `logistic_regression`, and returns two compiled functions:

        * `train(X, Y)` — returns the current `cost` and updates `w` and `b` by one gradient step;
        * `predict(X)` — returns the `prediction`.
    """),
    solution("trainer_solution", """
        def make_trainer(x, y, w, b, learning_rate=0.1, l2=0.01):
            ### BEGIN SOLUTION
            p_1, prediction, obj, cost = logistic_regression(x, y, w, b, l2)
            gw, gb = T.grad(cost, [w, b])
            train = function([x, y], cost, updates=[(w, w - learning_rate * gw), (b, b - learning_rate * gb)])
            predict = function([x], prediction)
            ### END SOLUTION
            return train, predict
    """),
    check("trainer_check", 3, """
        # Self-check for exercise 2: one step of gradient descent (learning rate 0.25, l2 = 0.05), compared with
        # the gradient worked out by hand
        _x, _y = T.matrix('x_check'), T.vector('y_check')
        _w0, _b0 = np.array([0.5, -1.0, 2.0]), 0.1
        _w, _b = shared(_w0.copy(), name='w_check'), shared(_b0, name='b_check')
        _train, _predict = make_trainer(_x, _y, _w, _b, learning_rate=0.25, l2=0.05)
        assert isinstance(_train, theano.Function) and isinstance(_predict, theano.Function), (
            "make_trainer should return two compiled minigraph functions (train, predict).")
        _X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [-1.0, 2.0, 0.0]])
        _Y = np.array([1.0, 0.0, 1.0])
        _cost = _train(_X, _Y)
        _p = 1 / (1 + np.exp(-(_X @ _w0 + _b0)))
        _cost_want = np.mean(-_Y * np.log(_p) - (1 - _Y) * np.log(1 - _p)) + 0.05 * np.sum(_w0 ** 2)
        np.testing.assert_allclose(_cost, _cost_want, rtol=1e-10, err_msg=(
            "\\ntrain(X, Y) should return the cost (with l2 = 0.05) before the step.\\n"
            "Hint: pass `l2` on to logistic_regression; the cost is the output, the step goes in the updates."))
        # by hand: d cost / d w = X^T (p - y) / N + 2 l2 w,  d cost / d b = mean(p - y)
        _gw, _gb = _X.T @ (_p - _Y) / 3 + 2 * 0.05 * _w0, np.mean(_p - _Y)
        np.testing.assert_allclose(_w.get_value(), _w0 - 0.25 * _gw, rtol=1e-10, err_msg=(
            "\\nafter one call of train (learning rate 0.25), w should have moved to w - 0.25 · ∂cost/∂w.\\n"
            "Hint: use the arguments `learning_rate` and `l2`, not fixed numbers, and let T.grad give both gradients."))
        np.testing.assert_allclose(_b.get_value(), _b0 - 0.25 * _gb, rtol=1e-10,
                                   err_msg="\\nafter one call of train, b should have moved to b - 0.25 · ∂cost/∂b.")
        np.testing.assert_array_equal(np.asarray(_predict(_X), dtype=float),
                                      ((_X @ _w.get_value() + _b.get_value()) > 0).astype(float),
                                      err_msg="\\npredict(X) should return the thresholded prediction.")
        print("Exercise 2 passes: one step of gradient descent is exactly right.")
        ### BEGIN HIDDEN TESTS
        _r = rng(8)
        _X, _Y = _r.normal(size=(20, 4)), _r.integers(0, 2, size=20).astype(float)
        _w0 = _r.normal(size=4) * 0.3
        for _lr, _l2 in ((0.3, 0.05), (0.07, 0.0)):
            _wv, _bv, _costs = _w0.copy(), 0.0, []
            for _ in range(5):
                _p = 1 / (1 + np.exp(-(_X @ _wv + _bv)))
                _costs.append(np.mean(-_Y * np.log(_p) - (1 - _Y) * np.log(1 - _p)) + _l2 * np.sum(_wv ** 2))
                _wv, _bv = _wv - _lr * (_X.T @ (_p - _Y) / 20 + 2 * _l2 * _wv), _bv - _lr * np.mean(_p - _Y)
            _run = ("_xs, _ys = T.matrix('xs'), T.vector('ys')\\n"
                    "_ws, _bs = shared(_w0.copy(), name='ws'), shared(0.0, name='bs')\\n"
                    "_train, _predict = make_trainer(_xs, _ys, _ws, _bs, learning_rate=_lr, l2=_l2)\\n"
                    "_costs = [float(_train(_X, _Y)) for _ in range(5)]\\n")
            _in = dict(_X=_X, _Y=_Y, _w0=_w0, _lr=_lr, _l2=_l2)
            grade.value(f"the costs train returns over 5 steps (learning rate {_lr}, l2 {_l2})", _run + "_costs",
                        np.array(_costs), rtol=1e-9, **_in, hint="train returns the cost before each step")
            grade.value(f"w after 5 steps (learning rate {_lr}, l2 {_l2})", _run + "_ws.get_value()", _wv,
                        rtol=1e-9, **_in, hint="use the arguments learning_rate and l2, not fixed numbers")
            grade.value(f"b after 5 steps (learning rate {_lr}, l2 {_l2})", _run + "float(_bs.get_value())", float(_bv),
                        rtol=1e-9, **_in)
            grade.value(f"predict after 5 steps (learning rate {_lr}, l2 {_l2})",
                        _run + "np.asarray(_predict(_X), dtype=float)", ((_X @ _wv + _bv) > 0).astype(float), **_in)
        ### END HIDDEN TESTS
    """),
    md("""
        ## 3. The tutorial's experiment: 400 random examples, 784 features (1 point)

        The data below is pure noise: random inputs with random labels. With 784 features and only 400
        examples, a linear model can nevertheless fit every training label — a reminder that training
        accuracy alone says little (section 4 measures accuracy on held-out data).
    """),
    code("""
        rng = np.random.default_rng(42)
        N, feats = 400, 784
        D = (rng.normal(size=(N, feats)), rng.integers(0, 2, size=N).astype(float))
        x, y = T.matrix('x'), T.vector('y')
    """),
    md(r"""
        **Where to start?** The tutorial draws the initial weights from a standard normal. Then a score
        $x\cdot w$ is a sum of 784 random terms, typically about $\pm 28$ and sometimes beyond $\pm 40$. In
        64-bit floating point $s(40)$ is exactly `1.0`, so $1 - s$ is `0` and $\log(1 - s) = -\infty$:
    """),
    code("""
        for score in (10.0, 30.0, 40.0):
            p = float(1 / (1 + np.exp(-score)))
            with np.errstate(divide="ignore"):
                print(f"s({score:g}) = {p!r:<20}  1 - s = {1 - p:.3g}   log(1 - s) = {np.log(1 - p)}")
    """),
    md(r"""
        The formula is right; its *evaluation* is not. When `function` compiles a graph, minigraph first
        **rewrites** it: among other things it recognises $\log\big(1 - s(z)\big)$ and replaces it by the
        equivalent $-\mathrm{softplus}(z) = -\log(1 + e^{z})$, computed without ever forming $1 - s$.
        (Act 1, notebook 3 is about these rewrites.) Compare your cost at the tutorial's starting point, compiled
        as written (`excluding=['stabilize']` switches that group of rewrites off) and rewritten:
    """),
    code("""
        w_tutorial = shared(rng.normal(size=feats), name='w_tutorial')
        tutorial_cost = logistic_regression(x, y, w_tutorial, shared(0.0), 0.01)[3]
        print("as written:", function([x, y], tutorial_cost, excluding=['stabilize'])(D[0], D[1]))
        print("rewritten: ", function([x, y], tutorial_cost)(D[0], D[1]))
    """),
    md("""
        Whether the rewrite catches your cost depends on how you wrote it (it knows the usual forms). To train
        the same way however you wrote it, we start from weights a hundred times smaller, where nothing
        overflows.
    """),
    code("""
        w = shared(rng.normal(size=feats) * 0.01, name='w')
        b = shared(0.0, name='b')
        train, predict = make_trainer(x, y, w, b, learning_rate=0.1, l2=0.01)

        steps = 1000 if GRADING else 10000
        costs = [float(train(D[0], D[1])) for _ in tqdm(range(steps), desc="training", mininterval=1)]
        train_accuracy = np.mean(predict(D[0]) == D[1])
        print(f"cost {costs[0]:.3f} -> {costs[-1]:.3f};  training accuracy {train_accuracy:.1%}")
    """),
    code("""
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.semilogx(np.arange(1, len(costs) + 1), costs)
        ax.set_xlabel("step"); ax.set_ylabel("cost"); ax.set_title("Training on random data")
        plt.show()
    """),
    check("random_data_check", 1, """
        # Self-check: the model fits the training labels
        _acc = float(np.mean(np.asarray(predict(D[0]), dtype=float) == D[1]))
        assert _acc > 0.95, (
            f"training accuracy on the random data should be close to 100%, got {_acc:.1%}.\\n"
            "Hint: check that train() updates both w and b, with a minus sign (descent, not ascent).")
        print(f"training accuracy {_acc:.1%}")
        ### BEGIN HIDDEN TESTS
        grade.true("training accuracy on the random data above 95%",
                   "float(np.mean(np.asarray(predict(D[0]), dtype=float) == D[1])) > 0.95",
                   hint="train() must update both w and b, downhill")
        ### END HIDDEN TESTS
    """),
    md("""
        ## 4. Real data: breast-cancer biopsies (2 points)

        scikit-learn ships the Wisconsin diagnostic breast-cancer data: 569 biopsies, 30 measurements each
        (cell radius, texture, ...), labelled malignant (0) or benign (1). We keep 169 biopsies aside and never
        train on them; accuracy on those is an honest estimate of how the model does on new patients.

        The measurements live on very different scales (areas in the hundreds, smoothness around 0.1), so we
        standardise each feature with the mean and spread of the training part.
    """),
    code("""
        from sklearn.datasets import load_breast_cancer

        cancer = load_breast_cancer()
        order = np.random.default_rng(0).permutation(len(cancer.target))
        train_idx, test_idx = order[:400], order[400:]
        mean, std = cancer.data[train_idx].mean(axis=0), cancer.data[train_idx].std(axis=0)
        X_train, X_test = (cancer.data[train_idx] - mean) / std, (cancer.data[test_idx] - mean) / std
        Y_train, Y_test = cancer.target[train_idx].astype(float), cancer.target[test_idx].astype(float)
        print(X_train.shape, X_test.shape)
    """),
    md("""
        The same `make_trainer`, new shared variables, a new data set:
    """),
    code("""
        w_bc = shared(np.zeros(X_train.shape[1]), name='w_bc')
        b_bc = shared(0.0, name='b_bc')
        train_bc, predict_bc = make_trainer(x, y, w_bc, b_bc, learning_rate=0.1, l2=0.01)

        history = []   # (step, training cost, held-out accuracy)
        for step in tqdm(range(300 if GRADING else 1000), desc="breast cancer", mininterval=1):
            cost_now = float(train_bc(X_train, Y_train))
            if step % 10 == 0:
                history.append((step, cost_now, np.mean(predict_bc(X_test) == Y_test)))
        test_accuracy = np.mean(predict_bc(X_test) == Y_test)
        print(f"held-out accuracy: {test_accuracy:.1%}")
    """),
    code("""
        steps_seen, cost_seen, acc_seen = zip(*history)
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
        left.plot(steps_seen, cost_seen); left.set_title("training cost"); left.set_xlabel("step")
        right.plot(steps_seen, acc_seen); right.set_title("held-out accuracy"); right.set_xlabel("step")
        right.set_ylim(0.8, 1.0)
        plt.show()
    """),
    check("cancer_check", 2, """
        # Self-check: accuracy on biopsies the model never saw
        _acc = float(np.mean(np.asarray(predict_bc(X_test), dtype=float) == Y_test))
        assert _acc > 0.9, (
            f"held-out accuracy should be above 90% (a linear model reaches about 97%), got {_acc:.1%}.\\n"
            "Hint: if exercises 1 and 2 pass, check that you did not change the data preparation above.")
        print(f"held-out accuracy {_acc:.1%}")
        ### BEGIN HIDDEN TESTS
        grade.true("held-out accuracy on the biopsies above 90%",
                   "float(np.mean(np.asarray(predict_bc(X_test), dtype=float) == Y_test)) > 0.9")
        ### END HIDDEN TESTS
    """),
    md("""
        ## What to remember

        * A model is a function that builds a graph; `T.grad` turns its cost into update rules; `function` with
          `updates` turns those into a training step.
        * Once written, the model moves between data sets unchanged — this is the "rapid prototyping" of the
          course title.
        * A correct formula can still be evaluated badly (`log(1 - s)` at large scores); keep an eye out for
          `inf` and `nan`.
    """),
]

# ---------------------------------------------------------------------------------------------------------
MLP = [
    md(r"""
        # Act 2 · 5 — A small neural network: the multi-layer perceptron

        A layer of a neural network is logistic regression with many outputs at once: a weight *matrix* $W$,
        a bias *vector* $b$, and an element-wise non-linearity $\sigma$:

        $$ \text{layer}(x) = \sigma(W x + b) . $$

        Stacking layers gives a multi-layer perceptron (MLP). Here the examples are the **columns** of `x`
        (shape: features × examples), so $Wx$ is one matrix product for the whole batch.

        You will write the layer, the network, its squared-error cost and gradient descent **with momentum**,
        then train a tiny network on a two-cluster toy problem (and watch its decision boundary form) and a
        larger one on handwritten digits.
    """),
    HOW_TO,
    IMPORTS,
    TRAINING_IMPORTS,
    GRADING_NOTE,
    md("""
        ## 1. Exercise 1 — a layer (2 points)

        The constructor is written for you: it stores `W` and `b` as shared variables. The bias is stored as a
        column (shape `(n_output, 1)`) marked *broadcastable* along its second axis, so that `W x + b` adds it to
        every column (every example). Write `output(x)`: the linear part $Wx + b$, then the activation, unless
        the activation is `None`.
    """),
    solution("layer_solution", """
        class Layer(object):
            def __init__(self, W_init, b_init, activation):
                n_output, n_input = W_init.shape
                self.W = theano.shared(value=W_init.astype(theano.config.floatX), name='W', borrow=True)
                self.b = theano.shared(value=b_init.reshape(-1, 1).astype(theano.config.floatX), name='b',
                                       borrow=True, broadcastable=(False, True))
                self.activation = activation
                self.params = [self.W, self.b]

            def output(self, x):
                ### BEGIN SOLUTION
                lin_output = T.dot(self.W, x) + self.b
                return lin_output if self.activation is None else self.activation(lin_output)
                ### END SOLUTION
    """),
    check("layer_check", 2, """
        # Self-check for exercise 1: a layer with 2 inputs and 3 outputs, on 4 examples (columns)
        _W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        _bias = np.array([0.1, 0.2, 0.3])
        _X = np.array([[1.0, 0.0, -1.0, 0.5], [0.0, 1.0, 2.0, -0.5]])
        _x = T.matrix('x_check')
        for _act, _np_act in ((None, lambda z: z), (T.nnet.sigmoid, lambda z: 1 / (1 + np.exp(-z)))):
            _out = Layer(_W, _bias, _act).output(_x)
            assert isinstance(_out, theano.Variable), (
                f"Layer.output should return a minigraph expression, got {type(_out).__name__}.")
            _got = function([_x], _out)(_X)
            np.testing.assert_allclose(_got, _np_act(_W @ _X + _bias[:, None]), rtol=1e-10, err_msg=(
                f"\\nLayer.output is wrong with activation={getattr(_act, '__name__', _act)}.\\n"
                "Hint: W times x (a matrix product), plus the bias column, which broadcasts over the examples; "
                "then the activation, unless it is None."))
        print("Layer.output passes: shape", _got.shape)
        ### BEGIN HIDDEN TESTS
        _r = rng(9)
        _W, _bias, _X = _r.normal(size=(5, 3)), _r.normal(size=5), _r.normal(size=(3, 7))
        _in = dict(_W=_W, _bias=_bias, _X=_X)
        _lin = _W @ _X + _bias[:, None]
        grade.value("a tanh layer, 3 inputs -> 5 outputs, on 7 examples",
                    "_xs = T.matrix('xs')\\nfunction([_xs], Layer(_W, _bias, T.tanh).output(_xs))(_X)", np.tanh(_lin),
                    rtol=1e-10, **_in)
        grade.value("the same layer without activation (None)",
                    "_xs = T.matrix('xs')\\nfunction([_xs], Layer(_W, _bias, None).output(_xs))(_X)", _lin,
                    rtol=1e-10, **_in)
        _s = 1 / (1 + np.exp(-_lin))
        grade.value("T.grad of the sum of a sigmoid layer's output with respect to x",
                    "_xs = T.matrix('xs')\\n"
                    "function([_xs], T.grad(Layer(_W, _bias, T.nnet.sigmoid).output(_xs).sum(), _xs))(_X)",
                    _W.T @ (_s * (1 - _s)), rtol=1e-9, **_in)
        ### END HIDDEN TESTS
    """),
    md("""
        ## 2. Exercise 2 — the network and its cost (2 points)

        `MLP` keeps a list of layers and all their parameters. Write
        * `output(x)`: feed `x` through the layers in order (the output of one is the input of the next);
        * `squared_error(x, y)`: the sum over all entries of `(output(x) - y) ** 2`.
    """),
    solution("mlp_solution", """
        class MLP(object):
            def __init__(self, W_init, b_init, activations):
                self.layers = []
                for W, b, activation in zip(W_init, b_init, activations):
                    self.layers.append(Layer(W, b, activation))
                self.params = []
                for layer in self.layers:
                    self.params += layer.params

            def output(self, x):
                ### BEGIN SOLUTION
                for each in self.layers:
                    x = each.output(x)
                return x
                ### END SOLUTION

            def squared_error(self, x, y):
                ### BEGIN SOLUTION
                return T.sum((self.output(x) - y) ** 2)
                ### END SOLUTION
    """),
    check("mlp_check", 2, """
        # Self-check for exercise 2: a 2-3-1 network
        _rng = np.random.default_rng(10)
        _Ws = [_rng.normal(size=(3, 2)), _rng.normal(size=(1, 3))]
        _bs = [_rng.normal(size=3), _rng.normal(size=1)]
        _net = MLP(_Ws, _bs, [T.nnet.sigmoid, T.nnet.sigmoid])
        _x, _t = T.matrix('x_check'), T.vector('t_check')
        _X, _target = _rng.normal(size=(2, 5)), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
        _sig = lambda z: 1 / (1 + np.exp(-z))
        _want = _sig(_Ws[1] @ _sig(_Ws[0] @ _X + _bs[0][:, None]) + _bs[1][:, None])
        _out = _net.output(_x)
        assert isinstance(_out, theano.Variable), f"MLP.output should return a minigraph expression, got {type(_out).__name__}."
        np.testing.assert_allclose(function([_x], _out)(_X), _want, rtol=1e-10, err_msg=(
            "\\nMLP.output should apply the layers one after the other.\\n"
            "Hint: feed the output of each layer to the next one, in order, and return the last output."))
        _err = _net.squared_error(_x, _t)
        assert isinstance(_err, theano.Variable) and _err.ndim == 0, (
            "squared_error should return a scalar minigraph expression (sum over every entry).")
        np.testing.assert_allclose(function([_x, _t], _err)(_X, _target), np.sum((_want - _target) ** 2), rtol=1e-10,
                                   err_msg="\\nsquared_error should be the sum over every entry of (output - y)².")
        print("MLP.output and MLP.squared_error pass.")
        ### BEGIN HIDDEN TESTS
        _r = rng(10)
        _Ws = [_r.normal(size=(4, 3)), _r.normal(size=(5, 4)), _r.normal(size=(2, 5))]
        _bs = [_r.normal(size=4), _r.normal(size=5), _r.normal(size=2)]
        _X, _Yt = _r.normal(size=(3, 6)), _r.normal(size=(2, 6))
        _h = _Ws[1] @ np.tanh(_Ws[0] @ _X + _bs[0][:, None]) + _bs[1][:, None]
        _o = 1 / (1 + np.exp(-(_Ws[2] @ _h + _bs[2][:, None])))
        _in = dict(_W0=_Ws[0], _W1=_Ws[1], _W2=_Ws[2], _b0=_bs[0], _b1=_bs[1], _b2=_bs[2], _X=_X, _Yt=_Yt)
        _net = ("_net = MLP([_W0, _W1, _W2], [_b0, _b1, _b2], [T.tanh, None, T.nnet.sigmoid])\\n"
                "_xs, _ys = T.matrix('xs'), T.matrix('ys')\\n")
        grade.value("MLP.output of a 3-4-5-2 network (tanh, none, sigmoid) on 6 examples",
                    _net + "function([_xs], _net.output(_xs))(_X)", _o, rtol=1e-10, **_in,
                    hint="each layer's output is the next layer's input")
        grade.value("MLP.squared_error of that network against a 2x6 target",
                    _net + "function([_xs, _ys], _net.squared_error(_xs, _ys))(_X, _Yt)", np.sum((_o - _Yt) ** 2),
                    rtol=1e-10, **_in)
        grade.true("the network keeps its six parameters in order",
                   _net + "len(_net.params) == 6 and _net.params[0] is _net.layers[0].W "
                   "and _net.params[5] is _net.layers[2].b", **_in)
        ### END HIDDEN TESTS
    """),
    md(r"""
        ## 3. Exercise 3 — gradient descent with momentum (3 points)

        Plain gradient descent zig-zags in narrow valleys. *Momentum* smooths the steps: each parameter $p$ gets
        a velocity $v$ (a shared variable of the same shape, starting at zero) that is a moving average of the
        gradients — the running average of notebook 3:

        $$ p \leftarrow p - \eta\, v, \qquad v \leftarrow \mu\, v + (1 - \mu)\, \frac{\partial\, \text{cost}}{\partial p} . $$

        Both updates happen at once, so the step on $p$ uses the velocity from *before* the call.

        Write `gradient_updates_momentum(cost, params, learning_rate, momentum)`: it returns the list of
        `(shared variable, new value)` pairs — two per parameter — for `function(..., updates=...)`.
        Give each velocity the parameter's `broadcastable` pattern (the bias is broadcastable).
    """),
    solution("momentum_solution", """
        def gradient_updates_momentum(cost, params, learning_rate, momentum):
            updates = []
            ### BEGIN SOLUTION
            for param in params:
                param_update = theano.shared(param.get_value() * 0., broadcastable=param.broadcastable)
                updates.append((param, param - learning_rate * param_update))
                updates.append((param_update, momentum * param_update + (1. - momentum) * T.grad(cost, param)))
            ### END SOLUTION
            return updates
    """),
    check("momentum_check", 3, """
        # Self-check for exercise 3: minimise p0^2 + 3 p1^2 from (1, -2) for three steps
        _p = shared(np.array([1.0, -2.0]), name='p_check')
        _cost = T.sum(_p ** 2 * np.array([1.0, 3.0]))
        _updates = gradient_updates_momentum(_cost, [_p], 0.1, 0.9)
        assert isinstance(_updates, list) and len(_updates) == 2, (
            f"with one parameter there should be two update pairs (the parameter and its velocity), got "
            f"{len(_updates) if isinstance(_updates, list) else type(_updates).__name__}.")
        _step = function([], _cost, updates=_updates)
        _pv, _vv = np.array([1.0, -2.0]), np.zeros(2)
        for _k in range(3):
            _step()
            _pv, _vv = _pv - 0.1 * _vv, 0.9 * _vv + 0.1 * (2 * np.array([1.0, 3.0]) * _pv)
            np.testing.assert_allclose(_p.get_value(), _pv, rtol=1e-10, err_msg=(
                f"\\nafter {_k + 1} step(s) the parameter should be {_pv}.\\n"
                "Hint: p ← p − η·v uses the velocity from BEFORE the call (all updates are applied together), and\\n"
                "v ← μ·v + (1 − μ)·∂cost/∂p, with η the learning rate and μ the momentum."))
        # A parameter that broadcasts, like the layers' bias column (shape (n, 1), broadcastable along axis 1)
        _col = shared(np.array([[1.0], [-2.0]]), name='bias_check', broadcastable=(False, True))
        _bcost = T.sum((_col * np.ones((2, 3))) ** 2)
        try:
            _bstep = function([], _bcost, updates=gradient_updates_momentum(_bcost, [_col], 0.1, 0.9))
        except TypeError as _err:
            raise AssertionError(
                "gradient_updates_momentum fails for a broadcastable parameter such as a layer's bias column:\\n"
                f"  {_err}\\nHint: the fix is not in the update expression: create each velocity with the same "
                "broadcastable pattern as its parameter (see the exercise text).") from None
        _bstep(); _bstep()
        np.testing.assert_allclose(_col.get_value(), [[0.94], [-1.88]], rtol=1e-10,
                                   err_msg="\\ntwo momentum steps on a bias column went wrong.")
        print("momentum updates follow the formula:", _p.get_value())
        ### BEGIN HIDDEN TESTS
        _r = rng(11)
        _W0, _b0, _X = _r.normal(size=(3, 2)), _r.normal(size=3), _r.normal(size=(2, 4))
        _Wv, _bv = _W0.copy(), _b0.reshape(-1, 1).copy()
        _vel = [np.zeros_like(_Wv), np.zeros_like(_bv)]
        for _ in range(3):
            _h = np.tanh(_Wv @ _X + _bv)
            _dz = 2 * _h * (1 - _h ** 2)
            _g = [_dz @ _X.T, _dz.sum(axis=1, keepdims=True)]
            _Wv, _bv = _Wv - 0.05 * _vel[0], _bv - 0.05 * _vel[1]
            _vel = [0.5 * _vel[0] + 0.5 * _g[0], 0.5 * _vel[1] + 0.5 * _g[1]]
        _run = ("_layer = Layer(_W0, _b0, T.tanh)\\n_xs = T.matrix('xs')\\n"
                "_c = T.sum(_layer.output(_xs) ** 2)\\n"
                "_ups = gradient_updates_momentum(_c, _layer.params, 0.05, 0.5)\\n"
                "_f = function([_xs], _c, updates=_ups)\\n"
                "for _ in range(3):\\n    _f(_X)\\n")
        _in = dict(_W0=_W0, _b0=_b0, _X=_X)
        grade.true("two update pairs per parameter, each for a shared variable",
                   _run + "len(_ups) == 4 and all(isinstance(s, theano.SharedVariable) for s, _ in _ups)", **_in)
        grade.value("a layer's W after 3 momentum steps (learning rate 0.05, momentum 0.5)",
                    _run + "_layer.W.get_value()", _Wv, rtol=1e-9, **_in,
                    hint="p ← p − η v with the old velocity; v ← μ v + (1 − μ) ∂cost/∂p")
        grade.value("its bias column after the same steps", _run + "_layer.b.get_value()", _bv, rtol=1e-9, **_in,
                    hint="the velocity of the bias has the bias's broadcastable pattern")
        ### END HIDDEN TESTS
    """),
    md("""
        ## 4. Two clusters in the plane (1 point)

        A thousand points from two overlapping Gaussian clusters, labelled by cluster. The network has 2 inputs,
        4 hidden units and 1 output, all sigmoid; learning rate 0.01, momentum 0.9. The clusters overlap, so even
        the best boundary misclassifies some points (around 15%).
    """),
    code("""
        rng = np.random.default_rng(0)
        N = 1000
        labels = rng.integers(0, 2, N)
        means = np.array([[-1, 1], [-1, 1]])
        spreads = rng.random((2, 2)) + 1
        X = np.vstack([rng.normal(size=N) * spreads[0, labels] + means[0, labels],
                       rng.normal(size=N) * spreads[1, labels] + means[1, labels]])
        Y = labels.astype(float)

        layer_sizes = [X.shape[0], X.shape[0] * 2, 1]
        W_init = [rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
        b_init = [np.ones(n_out) for n_out in layer_sizes[1:]]
        mlp = MLP(W_init, b_init, [T.nnet.sigmoid, T.nnet.sigmoid])

        mlp_input, mlp_target = T.matrix('mlp_input'), T.vector('mlp_target')
        cost = mlp.squared_error(mlp_input, mlp_target)
        train = function([mlp_input, mlp_target], cost,
                         updates=gradient_updates_momentum(cost, mlp.params, 0.01, 0.9))
        mlp_output = function([mlp_input], mlp.output(mlp_input))
    """),
    md("""
        We train and take a snapshot of the decision boundary (where the output crosses 0.5) now and then.
    """),
    code("""
        xs, ys = np.meshgrid(np.linspace(-5, 5, 120), np.linspace(-5, 5, 120))
        grid = np.vstack([xs.ravel(), ys.ravel()])
        total = 200 if GRADING else 1000
        snapshots_at = {0, 10, 40, total}
        snapshots, toy_costs = {}, []
        for step in tqdm(range(total + 1), desc="two clusters", mininterval=1):
            if step in snapshots_at:
                snapshots[step] = mlp_output(grid).reshape(xs.shape)
            if step < total:
                toy_costs.append(float(train(X, Y)))
        toy_accuracy = np.mean((mlp_output(X)[0] > 0.5) == Y)
        print(f"training accuracy {toy_accuracy:.1%}")
    """),
    code("""
        fig, axes = plt.subplots(1, len(snapshots), figsize=(3 * len(snapshots), 3), sharey=True)
        for ax, (step, out) in zip(axes, sorted(snapshots.items())):
            ax.contourf(xs, ys, out, levels=[0, 0.5, 1], colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
            ax.contour(xs, ys, out, levels=[0.5], colors="k", linewidths=1)
            ax.scatter(X[0], X[1], c=Y, cmap="coolwarm", s=3)
            ax.set_title(f"after {step} steps"); ax.set_xlim(-5, 5); ax.set_ylim(-5, 5)
        plt.tight_layout(); plt.show()
    """),
    check("toy_check", 1, """
        # Self-check: the network separates the clusters about as well as possible
        _acc = float(np.mean((np.asarray(mlp_output(X))[0] > 0.5) == Y))
        assert _acc > 0.75, (
            f"training accuracy on the two clusters should be around 80-85%, got {_acc:.1%}.\\n"
            "Hint: if exercises 1-3 pass, make sure the cells above ran in order.")
        print(f"two-cluster accuracy {_acc:.1%}")
        ### BEGIN HIDDEN TESTS
        grade.true("training accuracy on the two clusters above 75%",
                   "float(np.mean((np.asarray(mlp_output(X))[0] > 0.5) == Y)) > 0.75")
        ### END HIDDEN TESTS
    """),
    md(r"""
        ## 5. A larger network: handwritten digits (2 points)

        scikit-learn's digits: 1797 images of 8×8 pixels, ten classes. The network is 64 → 32 → 10 with a
        `tanh` hidden layer and a **softmax** output (ten probabilities that sum to one). The classes are
        coded one-hot (a column with a single 1), and the cost is still your `squared_error`.

        Your `Layer` accepts any function as its activation. minigraph's softmax normalises each *row*, while our
        examples are columns, so the activation transposes around it. Training uses mini-batches of 50 examples:
        many cheap, noisy steps instead of a few exact ones.
    """),
    code("""
        from sklearn.datasets import load_digits

        digits = load_digits()
        images, classes = digits.data / 16.0, digits.target
        order = np.random.default_rng(1).permutation(len(classes))
        train_idx, test_idx = order[:1300], order[1300:]
        one_hot = np.eye(10)[classes]

        def softmax_columns(z):
            return T.nnet.softmax(z.T).T

        sizes = [64, 32, 10]
        init = np.random.default_rng(2)
        net = MLP([init.normal(size=(n_out, n_in)) / np.sqrt(n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])],
                  [np.zeros(n_out) for n_out in sizes[1:]],
                  [T.tanh, softmax_columns])
        images_in, targets = T.matrix('images'), T.matrix('targets')
        digit_cost = net.squared_error(images_in, targets)
        train_digits = function([images_in, targets], digit_cost,
                                updates=gradient_updates_momentum(digit_cost, net.params, 0.05, 0.9))
        classify = function([images_in], T.argmax(net.output(images_in), axis=0))
    """),
    code("""
        epochs, batch = (12 if GRADING else 20), 50
        digit_accuracy = []
        for epoch in tqdm(range(epochs), desc="digits", mininterval=1):
            shuffled = init.permutation(train_idx)
            for start in range(0, len(shuffled), batch):
                idx = shuffled[start:start + batch]
                train_digits(images[idx].T, one_hot[idx].T)
            digit_accuracy.append(np.mean(classify(images[test_idx].T) == classes[test_idx]))
        print(f"held-out accuracy after {epochs} epochs: {digit_accuracy[-1]:.1%}")
    """),
    code("""
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={"width_ratios": [1, 2]})
        left.plot(np.arange(1, epochs + 1), digit_accuracy, marker="o")
        left.set_xlabel("epoch"); left.set_title("held-out accuracy")
        sample = test_idx[:12]
        guesses = classify(images[sample].T)
        right.imshow(np.hstack([images[i].reshape(8, 8) for i in sample]), cmap="gray_r")
        right.set_xticks(np.arange(12) * 8 + 3.5, [str(g) for g in guesses]); right.set_yticks([])
        right.set_title("held-out digits and the network's guesses")
        plt.tight_layout(); plt.show()
    """),
    check("digits_check", 2, """
        # Self-check: the digit classifier on images it was not trained on
        _acc = float(np.mean(np.asarray(classify(images[test_idx].T)) == classes[test_idx]))
        assert _acc > 0.85, (
            f"held-out accuracy on the digits should be above 85% (about 95% is typical here), got {_acc:.1%}.\\n"
            "Hint: if the toy problem works, check gradient_updates_momentum with a matrix parameter.")
        print(f"digits accuracy {_acc:.1%}")
        ### BEGIN HIDDEN TESTS
        grade.true("held-out accuracy on the digits above 85%",
                   "float(np.mean(np.asarray(classify(images[test_idx].T)) == classes[test_idx])) > 0.85")
        ### END HIDDEN TESTS
    """),
    md("""
        ## What to remember

        * A network is a Python object that builds a graph; the graph does not care how it was organised.
        * `T.grad(cost, param)` gives every parameter's gradient however deep the network — you wrote no
          derivative in this notebook.
        * Optimisers such as momentum are just more shared variables and more update pairs.
    """),
]
