"""Theano's documentation on compiling functions, run unchanged but for the import lines, with the
outputs the documentation states: In/Param/Out, internal state, copying, modes, ifelse, pickling.
Each test runs on the numpy reference backend and on the numba backend."""
import pickle
import warnings

import numpy
import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph import config, function


@pytest.fixture(params=["numpy", "numba"], autouse=True)
def backend(request):
    saved = config.backend
    config.backend = request.param
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)     # a numba fallback would warn: none may happen
        yield request.param
    config.backend = saved


def running(f):
    return f.thunk.running


# --- doc/tutorial/examples.txt: "Setting a Default Value for an Argument" -------------------------
def test_examples_default_values(backend):
    from minigraph import In
    x, y = T.dscalars('x', 'y')
    z = x + y
    f = function([x, In(y, value=1)], z)
    assert f(33) == 34.0 and f(33, 2) == 35.0
    assert running(f) == backend

    x, y, w = T.dscalars('x', 'y', 'w')
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name='w_by_name')], z)
    assert [f(33), f(33, 2), f(33, 0, 1), f(33, w_by_name=1), f(33, w_by_name=1, y=0)] == [68.0, 70.0, 33.0, 34.0, 33.0]


def test_defaults_must_come_last_and_a_name_is_given_once():
    from minigraph import In, Param
    x, y = T.dscalars('x', 'y')
    with pytest.raises(TypeError, match=r"input 1 \(y\) has no default value but comes after input 0"):
        function([In(x, value=1), y], x + y)
    f = function([x, Param(y, default=5)], x * y)     # Theano's older spelling
    assert f(2) == 10.0
    with pytest.raises(TypeError, match="argument 'x' given twice"):
        f(1, x=2)
    with pytest.raises(TypeError, match="unknown keyword argument 'z'"):
        f(1, z=2)


# --- doc/library/compile/io.txt: In(update=...) keeps an internal state ----------------------------
def test_io_internal_state():
    from minigraph.compile.io import In
    u, x, s = T.scalars('u', 'x', 's')
    inc = function([u, In(x, value=3), In(s, update=(s + x * u), value=10.0)], [])
    assert inc(5) == []         # update s with 10+3*5
    assert inc[s] == 25.0
    inc(3, 4)                   # update s with 25 + 3*4
    assert inc[s] == 37.0
    assert inc[x] == 3.0        # the override value of 4 was only temporary
    inc(3, 4, 7)                # update s with 7 + 3*4
    assert inc[s] == 19.0
    inc[s] = 10
    assert inc[s] == 10.0

    a, b, c = T.scalars('xys')  # set the internal names of graph nodes
    fn = function([a, b, ((c, c + a + b), 10.0)], [])
    assert fn['s'] == 10.0
    fn(1, 2)
    assert fn['s'] == 13.0
    fn['s'] = 99.0
    fn(1, 0)
    assert fn['s'] == 100.0


def test_out_borrow_and_in_borrow_are_accepted():
    from minigraph import In, Out
    x = T.dvector('x')
    f = function([In(x, borrow=True)], Out(x, borrow=True))
    g = function([x], x)
    v = np.arange(3.0)
    assert f(v) is v               # borrow: the function's own storage
    assert g(v) is not v and np.array_equal(g(v), v)


# --- doc/tutorial/examples.txt: "Copying functions" ----------------------------------------------
def test_examples_copying_functions():
    state = theano.shared(0)
    inc = T.iscalar('inc')
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    assert accumulator(10) == 0 and state.get_value() == 10
    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    # (Theano 0.9 printed [array(0)] here: a list around the one output; minigraph keeps the output)
    assert new_accumulator(100) == 0
    assert new_state.get_value() == 100
    assert state.get_value() == 10          # the state of the first function is left untouched
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == 10
    assert state.get_value() == 10
    private = accumulator.copy(share_memory=False)
    private(5)
    assert state.get_value() == 10


def test_maker_fgraph_shows_the_compiled_graph():
    x = T.dvector('x')
    W = theano.shared(np.ones(3), name='W')
    f = function([x], T.exp(x * W).sum())
    fgraph = f.maker.fgraph
    assert fgraph.inputs == [x, W]
    names = [str(node.op) for node in fgraph.toposort()]
    assert names[-1].startswith("Reduce{sum") and len(fgraph.apply_nodes) == len(names)


def test_on_unused_input_is_raise_by_default_as_in_theano():
    x, y = T.dscalars('x', 'y')
    with pytest.raises(ValueError, match=r"input 1 \(y\) is not used .*on_unused_input='warn'"):
        function([x, y], x * 2)
    assert function([x, y], x * 2, on_unused_input='ignore')(1, 2) == 2.0
    with pytest.raises(ValueError, match="on_unused_input must be"):
        function([x], x, on_unused_input='rais')


# --- doc/tutorial/conditions.txt: lazy ifelse against switch ---------------------------------------
def test_conditions_ifelse_vs_switch(backend):
    from minigraph.ifelse import ifelse
    a, b = T.scalars('a', 'b')
    x, y = T.matrices('x', 'y')
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = theano.function([a, b, x, y], z_switch, mode=theano.Mode(linker='vm'))
    f_lazyifelse = theano.function([a, b, x, y], z_lazy, mode=theano.Mode(linker='vm'))
    val1, val2 = 0., 1.
    big_mat1, big_mat2 = numpy.ones((100, 10)), numpy.ones((100, 10)) * 2
    assert f_switch(val1, val2, big_mat1, big_mat2) == f_lazyifelse(val1, val2, big_mat1, big_mat2) == 1.0
    assert f_lazyifelse(val2, val1, big_mat1, big_mat2) == 2.0
    assert running(f_lazyifelse) == backend
    if backend == "numba":          # the kernel computes the chosen branch only: one `if` holds both
        assert "if " in f_lazyifelse.source() and "else:" in f_lazyifelse.source()


def test_ifelse_is_lazy_the_other_branch_never_runs(backend):
    """The unchosen branch would fail (a shape mismatch): computing it would raise."""
    from minigraph.ifelse import ifelse
    c = T.iscalar('c')
    v, w = T.dvectors('v', 'w')
    f = function([c, v, w], ifelse(c, v * 2, v + w))
    assert np.array_equal(f(1, np.ones(3), np.ones(2)), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError):
        f(0, np.ones(3), np.ones(2))


def test_ifelse_gradient_is_the_chosen_branchs(backend):
    from minigraph.ifelse import ifelse
    a, b = T.dscalars('a', 'b')
    x, y = T.dmatrices('x', 'y')
    cost = ifelse(a < b, (x ** 2).sum() * a, (y * 3).sum())
    f = function([a, b, x, y], T.grad(cost, [x, y, a]))
    gx, gy, ga = f(2.0, 3.0, np.ones((2, 2)), np.ones((2, 2)))
    assert np.array_equal(gx, 4 * np.ones((2, 2))) and np.array_equal(gy, np.zeros((2, 2))) and ga == 4.0
    gx, gy, ga = f(3.0, 2.0, np.ones((2, 2)), np.ones((2, 2)))
    assert np.array_equal(gx, np.zeros((2, 2))) and np.array_equal(gy, 3 * np.ones((2, 2))) and ga == 0.0


def test_ifelse_errors_name_the_problem():
    from minigraph.ifelse import ifelse
    x = T.dvector('x')
    with pytest.raises(TypeError, match="condition must be a scalar.*T.switch"):
        ifelse(x > 0, x, x)
    with pytest.raises(TypeError, match="output 0 is .*float64.*int64"):
        ifelse(x.sum() > 0, x, T.lvector('i'))


# --- doc/library/compile/mode.txt, debugmode.txt -----------------------------------------------------
def test_modes_by_name_and_object():
    x = T.dscalar('x')
    fast = function([x], (x * 2) / 2, mode='FAST_RUN')
    slow = function([x], (x * 2) / 2, mode=theano.compile.mode.FAST_COMPILE)
    assert fast(3) == slow(3) == 3.0
    assert theano.pp(fast) == "x" and "/" in theano.pp(slow)      # FAST_COMPILE does not simplify
    assert function([x], x * 2, mode=theano.Mode(optimizer=None))(2) == 4.0
    with pytest.raises(ValueError, match="unknown mode 'FAST'"):
        function([x], x, mode='FAST')


def test_debugmode_doc_example():
    from minigraph.compile.debugmode import DebugMode
    x = T.dscalar('x')
    f = theano.function([x], 10 * x, mode='DebugMode')
    assert [f(5), f(0), f(7)] == [50.0, 0.0, 70.0]
    f = theano.function([x], 10 * x, mode=DebugMode(check_c_code=False))
    assert f(5) == 50.0 and "numpy vs numba" in f.thunk.running


def test_debugmode_catches_a_backend_that_disagrees(monkeypatch):
    """A deliberately wrong numba emitter: DebugMode names the output that differs."""
    from minigraph.backends.numba_cpu import codegen
    from minigraph.compile.debugmode import DebugModeError
    from minigraph.ops.specify_shape import SpecifyShape
    honest = codegen.EMITTERS[SpecifyShape]

    def wrong(ctx, node):
        ctx.assign(node.outputs[0], f"{ctx.array(node.inputs[0])} + 1", new=True)
    monkeypatch.setitem(codegen.EMITTERS, SpecifyShape, wrong)
    x = T.dvector('x')
    f = function([x], T.specify_shape(x, (3,)) * 7, mode='DebugMode')
    with pytest.raises(DebugModeError, match="output 0 .* differs between the numpy reference and numba"):
        f(np.array([1.0, 2.0, 3.0]))
    monkeypatch.setitem(codegen.EMITTERS, SpecifyShape, honest)
    g = function([x], T.specify_shape(x, (3,)) * 5, mode='DebugMode')
    assert np.array_equal(g(np.array([1.0, 2.0, 3.0])), [5.0, 10.0, 15.0])


# --- doc/library/compile/nanguardmode.txt ----------------------------------------------------------
def test_nanguardmode_doc_example():
    from minigraph.compile.nanguardmode import NanGuardMode
    x = T.matrix()
    w = theano.shared(numpy.random.randn(5, 7).astype(theano.config.floatX))
    y = T.dot(x, w)
    fun = theano.function([x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True))
    assert fun(np.ones((3, 5))).shape == (3, 7)
    with np.errstate(over="ignore"):
        infa = numpy.tile((numpy.asarray(100.) ** 1000000).astype(theano.config.floatX), (3, 5))
    with pytest.raises(AssertionError, match="contains Inf"):
        fun(infa)


def test_nanguardmode_names_the_node_that_made_the_nan():
    from minigraph.compile.nanguardmode import NanGuardMode
    x = T.dvector('x')
    y = T.log(x) * x                                       # log(0) * 0 = nan
    f = function([x], y.sum(), mode=NanGuardMode())
    assert f(np.array([1.0, 2.0])) == pytest.approx(2 * np.log(2))
    with pytest.raises(AssertionError, match=r"Elemwise\{log\} produced Inf .*test_theano_docs_functions.py, line"):
        f(np.array([0.0, 2.0]))                            # log(0) = -inf comes first
    g = function([x], y.sum(), mode=NanGuardMode(inf_is_error=False))    # (sum(log(x) * x) runs as a dot)
    with pytest.raises(AssertionError, match=r"Dot produced NaN in output 0 \(inputs: Elemwise\{log\}.*, line"):
        with np.errstate(invalid="ignore"):
            g(np.array([0.0, 2.0]))


# --- doc/tutorial/loading_and_saving.txt: pickle functions, graphs and shared variables --------------
def test_pickling_a_model_and_its_compiled_function(tmp_path, backend):
    rng = np.random.default_rng(0)
    x, y = T.dmatrix('x'), T.dvector('y')
    w = theano.shared(rng.normal(size=3), name='w')
    b = theano.shared(0.0, name='b')
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = T.nnet.binary_crossentropy(p, y).mean()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    X, Y = rng.normal(size=(8, 3)), (rng.random(8) > 0.5).astype(float)
    train(X, Y)
    with open(tmp_path / 'obj.save', 'wb') as f:
        pickle.dump((train, w, p, x), f, protocol=pickle.HIGHEST_PROTOCOL)
    with open(tmp_path / 'obj.save', 'rb') as f:
        train2, w2, p2, x2 = pickle.load(f)
    assert np.array_equal(w2.get_value(), w.get_value()) and w2 is not w
    expected = train(X, Y)                 # the original goes on from the same state as the copy
    assert train2(X, Y) == pytest.approx(expected)
    assert np.allclose(w2.get_value(), w.get_value())             # the copy updates its own w
    assert running(train2) == backend
    predict = function([x2], p2)           # the unpickled graph is a graph (on its own x and w): it compiles
    assert np.allclose(predict(X), function([x], p)(X))
