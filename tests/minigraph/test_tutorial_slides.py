"""The tutorial's code slides, run as written (Python 3 print), with their printed results checked."""
import numpy as np

import minigraph as theano
import minigraph.tensor as T
from minigraph import function, pp, shared


def test_x_plus_y_slide(capsys):
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    f = function([x, y], z)
    assert isinstance(f(2, 3), np.ndarray) and f(2, 3).shape == ()
    assert f(2, 3) == 5.0
    np.testing.assert_allclose(f(16.3, 12.1), 28.4)
    np.testing.assert_allclose(z.eval({x: 16.3, y: 12.1}), 28.4)
    print(pp(z))
    assert capsys.readouterr().out == "(x + y)\n"


def test_grad_of_x_squared_slide():
    x = T.scalar('x')
    f = x ** 2
    df_dx = T.grad(f, [x])  # results in 2x
    assert df_dx[0].eval({x: 3.0}) == 6.0


def test_exercise_1_and_2(capsys):
    a = T.vector()  # declare variable
    b = T.vector()  # declare variable
    out = a ** 2 + 2 * a * b + b ** 2  # build symbolic expression
    f = theano.function([a, b], out)  # compile function
    print(f([1, 2], [4, 5]))  # prints [ 25. 49.]
    assert capsys.readouterr().out.split() == ["[25.", "49.]"]


def test_logistic_function_and_matrix_example():
    x = T.dmatrix('x')
    s = 1 / (1 + T.exp(-x))
    logistic = function([x], s)
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]),
                               [[0.5, 0.73105858], [0.26894142, 0.11920292]], rtol=1e-7)
    a, b = T.dmatrices('a', 'b')
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff ** 2
    f = function([a, b], [diff, abs_diff, diff_squared])
    d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(d, [[1, 0], [-1, -2]])
    np.testing.assert_array_equal(ad, [[1, 0], [1, 2]])
    np.testing.assert_array_equal(d2, [[1, 0], [1, 4]])


def test_accumulator_slide():
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    # A second function shares the same state.
    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == 301
    assert state.get_value() == 299
    state.set_value(-1)
    assert accumulator(3) == -1 and state.get_value() == 2


def test_logistic_regression_slide():
    rng = np.random.RandomState(0)
    N, feats = 400, 784
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = 300
    x = T.matrix("x")
    y = T.vector("y")
    # The slide starts from w = randn(784); with |x.w| in the hundreds, 1 - p_1 rounds to 0 and the
    # cost is only finite once the stabilizing rewrites run (tests/minigraph/test_rewrite*.py check
    # that version). Here: the same code from small weights, on the plain graph.
    w = theano.shared(rng.randn(784) * 0.01, name="w")
    b = theano.shared(0., name="b")
    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))   # Probability that target = 1
    prediction = p_1 > 0.5                     # The prediction thresholded
    obj = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # Cross-entropy loss function
    cost = obj.mean() + 0.01 * (w ** 2).sum()  # The cost to minimize
    gw, gb = T.grad(cost, [w, b])              # Compute the gradient of the cost
    train = theano.function(inputs=[x, y], outputs=[prediction, obj],
                            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)
    cost_of = theano.function(inputs=[x, y], outputs=cost)
    costs = [cost_of(D[0], D[1])]
    for i in range(training_steps):
        pred, err = train(D[0], D[1])
        if i % 50 == 0:
            costs.append(cost_of(D[0], D[1]))
    costs.append(cost_of(D[0], D[1]))
    assert all(np.isfinite(costs))
    assert np.all(np.diff(costs) < 0), costs          # the cost goes down at every checkpoint
    assert costs[-1] < 0.5 * costs[0]
    accuracy = np.mean(predict(D[0]) == D[1])
    assert accuracy > 0.95


class Layer(object):
    def __init__(self, W_init, b_init, activation):
        n_output, n_input = W_init.shape
        self.W = theano.shared(value=W_init.astype(theano.config.floatX),
                               name='W',
                               borrow=True)
        self.b = theano.shared(value=b_init.reshape(-1, 1).astype(theano.config.floatX),
                               name='b',
                               borrow=True,
                               broadcastable=(False, True))
        self.activation = activation
        self.params = [self.W, self.b]

    def output(self, x):
        lin_output = T.dot(self.W, x) + self.b
        return (lin_output if self.activation is None else self.activation(lin_output))


class MLP(object):
    def __init__(self, W_init, b_init, activations):
        self.layers = []
        for W, b, activation in zip(W_init, b_init, activations):
            self.layers.append(Layer(W, b, activation))
        self.params = []
        for layer in self.layers:
            self.params += layer.params

    def output(self, x):
        for layer in self.layers:
            x = layer.output(x)
        return x

    def squared_error(self, x, y):
        return T.sum((self.output(x) - y) ** 2)


def gradient_updates_momentum(cost, params, learning_rate, momentum):
    updates = []
    for param in params:
        param_update = theano.shared(param.get_value() * 0., broadcastable=param.broadcastable)
        updates.append((param, param - learning_rate * param_update))
        updates.append((param_update, momentum * param_update + (1. - momentum) * T.grad(cost, param)))
    return updates


def test_mlp_slide_trains_on_two_clusters():
    np.random.seed(0)
    N = 1000
    y = np.random.randint(0, 2, N)
    means = np.array([[-1, 1], [-1, 1]])
    covariances = np.random.random_sample((2, 2)) + 1
    X = np.vstack([np.random.randn(N) * covariances[0, y] + means[0, y],
                   np.random.randn(N) * covariances[1, y] + means[1, y]]).astype(theano.config.floatX)
    y = y.astype(theano.config.floatX)
    layer_sizes = [X.shape[0], X.shape[0] * 2, 1]
    W_init, b_init, activations = [], [], []
    for n_input, n_output in zip(layer_sizes[:-1], layer_sizes[1:]):
        W_init.append(np.random.randn(n_output, n_input))
        b_init.append(np.ones(n_output))
        activations.append(T.nnet.sigmoid)
    mlp = MLP(W_init, b_init, activations)
    mlp_input = T.matrix('mlp_input')
    mlp_target = T.vector('mlp_target')
    learning_rate, momentum = 0.01, 0.9
    cost = mlp.squared_error(mlp_input, mlp_target)
    train = theano.function([mlp_input, mlp_target], cost,
                            updates=gradient_updates_momentum(cost, mlp.params, learning_rate, momentum))
    mlp_output = theano.function([mlp_input], mlp.output(mlp_input))
    costs = [float(train(X, y)) for _ in range(400)]
    accuracy = np.mean((mlp_output(X) > .5) == y)
    assert costs[-1] < 0.6 * costs[0], (costs[0], costs[-1])
    assert accuracy > 0.8, accuracy   # the two clusters overlap: ~85% is the best possible
