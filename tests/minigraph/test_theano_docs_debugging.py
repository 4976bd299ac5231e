"""Theano's documentation on debugging, run unchanged but for the import lines: test values
(doc/tutorial/debug_faq.txt), drawing graphs (doc/tutorial/printing_drawing.txt) and the config
settings scripts read (doc/library/config.txt)."""
import pickle
import re

import numpy
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T


@pytest.fixture(autouse=True)
def test_values_off_afterwards():
    saved = theano.config.compute_test_value
    yield
    theano.config.compute_test_value = saved


def _debug_faq_model(with_test_value):
    # doc/tutorial/debug_faq.txt, "Using Test Values"
    W1val = numpy.random.rand(2, 10, 10).astype(theano.config.floatX)
    W1 = theano.shared(W1val, 'W1')
    W2val = numpy.random.rand(15, 20).astype(theano.config.floatX)
    W2 = theano.shared(W2val, 'W2')
    x = T.matrix('x')
    if with_test_value:
        x.tag.test_value = numpy.random.rand(5, 10)
    func_of_W1 = W1.dimshuffle(2, 0, 1).flatten(2).T
    h1 = T.dot(x, func_of_W1)  # source of error: dot product of 5x10 with 20x10
    h2 = T.dot(h1, W2.T)
    f = theano.function([x], h2)
    f(numpy.random.rand(5, 10))


def test_debug_faq_without_test_values_fails_when_called():
    theano.config.compute_test_value = 'off'
    with pytest.raises(ValueError, match=r"dot: shapes \(5, 10\) \(x\) and \(20, 10\) .* are not aligned") as error:
        _debug_faq_model(with_test_value=False)
    assert "f(numpy.random.rand(5, 10))" in "".join(_frames(error))


def test_debug_faq_with_test_values_fails_at_the_line_that_builds_the_node():
    theano.config.compute_test_value = 'warn'
    with pytest.raises(ValueError, match=r"Dot fails on the test values \(x \(5, 10\), .* \(20, 10\)\)") as error:
        _debug_faq_model(with_test_value=True)
    line = next(k for k, text in enumerate(open(__file__), 1) if text.strip().startswith("h1 = T.dot(x, func_of_W1)"))
    assert re.search(rf"test_theano_docs_debugging.py, line {line}\b", str(error.value))
    assert "h1 = T.dot(x, func_of_W1)" in "".join(_frames(error))       # raised there, not at the call
    assert "f(numpy.random.rand(5, 10))" not in "".join(_frames(error))


def _frames(error):
    return [str(entry.statement) for entry in error.traceback if entry.path == __file__ or str(entry.path) == __file__]


def test_test_values_flow_through_the_graph_and_are_checked():
    theano.config.compute_test_value = 'raise'
    x = T.dmatrix('x')
    x.tag.test_value = np.ones((5, 10))
    W = theano.shared(np.ones((10, 3)), name='W')
    h = T.tanh(T.dot(x, W) + 1)
    assert h.tag.test_value.shape == (5, 3) and np.allclose(h.tag.test_value, np.tanh(11))
    with pytest.raises(TypeError, match=r"test value of y: expected a 2-d array"):
        T.dmatrix('y').tag.test_value = np.ones(3)
    v = T.dvector('v')
    with pytest.raises(ValueError, match=r"v has no test value, so .* \(built at .*test_theano_docs_debugging.py"):
        v * 2
    theano.config.compute_test_value = 'warn'
    with pytest.warns(UserWarning, match="v has no test value"):
        v * 2
    theano.config.compute_test_value = 'off'
    assert (v * 2).ndim == 1                                  # off: no check, no warning
    clone = pickle.loads(pickle.dumps(h))
    assert np.allclose(clone.tag.test_value, h.tag.test_value)


def test_printing_drawing_logistic_regression(tmp_path, capsys):
    # doc/tutorial/printing_drawing.txt (the training loop left out)
    rng = numpy.random
    N = 400
    feats = 784
    D = (rng.randn(N, feats).astype(theano.config.floatX),
         rng.randint(size=N, low=0, high=2).astype(theano.config.floatX))
    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared(rng.randn(feats).astype(theano.config.floatX), name="w")
    b = theano.shared(numpy.asarray(0., dtype=theano.config.floatX), name="b")
    x.tag.test_value = D[0]
    y.tag.test_value = D[1]
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # Probability of having a one
    prediction = p_1 > 0.5  # The prediction that is done: 0 or 1
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # Cross-entropy
    cost = xent.mean() + 0.01 * (w ** 2).sum()  # The cost to optimize
    gw, gb = T.grad(cost, [w, b])
    train = theano.function(inputs=[x, y], outputs=[prediction, xent], updates=[[w, w - 0.01 * gw], [b, b - 0.01 * gb]],
                            name="train")
    predict = theano.function(inputs=[x], outputs=prediction, name="predict")
    assert "x" in theano.printing.pprint(prediction) and "exp" in theano.printing.pprint(prediction)
    out = tmp_path / "logreg_pydotprint_predict.png"
    theano.printing.pydotprint(predict, outfile=str(out), var_with_name_simple=True)
    assert capsys.readouterr().out.strip() == f"The output file is available at {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    svg = tmp_path / "train.svg"
    theano.printing.pydotprint(train, outfile=str(svg), print_output_file=False)
    text = svg.read_text()
    # every node's op and the named inputs are drawn as text
    for node in train.maker.fgraph.toposort():
        assert str(node.op)[:8].replace("{", "") in text.replace("{", "")
    assert ">x<" in text.replace(" ", "") or "x" in text
    assert predict(D[0]).shape == (N,)


def test_config_settings_scripts_read():
    for name in ("floatX", "mode", "optimizer", "base_compiledir", "compute_test_value", "device"):
        getattr(theano.config, name)
    assert theano.config.compute_test_value == "off"
    with pytest.raises(AttributeError, match="config has no setting 'gcc__cxxflags': this Theano setting is not supported"):
        theano.config.gcc__cxxflags
    saved = theano.config.optimizer
    theano.config.optimizer = "None"                          # the default mode then skips the rewrites
    try:
        x = T.dscalar('x')
        assert "/" in theano.pp(theano.function([x], (x * 2) / 2))
    finally:
        theano.config.optimizer = saved
    assert theano.pp(theano.function([x], (x * 2) / 2)) == "x"
