"""Theano's documentation on tensors (doc/library/tensor/basic.txt, nnet, nlinalg), run unchanged but
for the import lines: submodule imports, constructors as types, shapes, stacking, bitwise
operators, softmax of a vector. Each compiled snippet runs on the numpy and the numba backend."""
import traceback
import warnings

import numpy as np
import pytest

import minigraph as theano
import minigraph.tensor as T
from minigraph import config, function


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    saved = config.backend
    config.backend = request.param
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)     # a numba fallback would warn: none may happen
        yield request.param
    config.backend = saved


# --- submodules: the import lines of Theano scripts --------------------------------------------------
def test_submodule_imports_of_theano_scripts():
    from minigraph.tensor.nnet import binary_crossentropy, categorical_crossentropy, sigmoid, softmax
    from minigraph.tensor.nlinalg import det, matrix_inverse
    from minigraph.sandbox.linalg import cholesky
    from minigraph.sandbox.linalg import det as sandbox_det
    from minigraph.tensor.shared_randomstreams import RandomStreams
    from minigraph.sandbox.rng_mrg import MRG_RandomStreams
    assert MRG_RandomStreams is RandomStreams and sandbox_det is det
    x, y = T.dmatrix('x'), T.dvector('y')
    f = function([x, y], [sigmoid(x).sum(), softmax(x).sum(), det(matrix_inverse(x)), cholesky(x)[1, 1],
                          binary_crossentropy(sigmoid(y), y).sum(),
                          categorical_crossentropy(softmax(x), T.cast(y, 'int64')).sum()])
    m = np.array([[4.0, 2.0], [2.0, 3.0]])
    got = f(m, np.array([1.0, 0.0]))
    assert got[1] == pytest.approx(2.0) and got[2] == pytest.approx(1 / 8.0)
    assert got[3] == pytest.approx(np.linalg.cholesky(m)[1, 1])
    p = np.exp(m) / np.exp(m).sum(axis=1, keepdims=True)
    assert got[5] == pytest.approx(-np.log(p[0, 1]) - np.log(p[1, 0]))
    assert T.nnet.sigmoid is sigmoid and T.nlinalg.det is det


def test_signal_pool_and_conv_say_not_supported():
    from minigraph.tensor.signal import pool
    from minigraph.tensor.signal.conv import conv2d
    with pytest.raises(NotImplementedError, match="pool_2d is not supported by minigraph"):
        pool.pool_2d(T.tensor4(), ws=(2, 2), ignore_border=True)
    with pytest.raises(NotImplementedError, match="conv2d is not supported"):
        conv2d(T.tensor4(), T.tensor4())
    with pytest.raises(NotImplementedError, match="convolutions"):
        T.nnet.conv2d(T.tensor4(), T.tensor4())


def test_a_missing_name_says_not_supported_not_did_you_mean():
    with pytest.raises(AttributeError, match="minigraph.tensor has no 'roll': this part of Theano is not supported") as e:
        T.roll
    shown = "".join(traceback.format_exception(e.value))
    assert "not supported by minigraph" in shown and "Did you mean" not in shown
    with pytest.raises(AttributeError, match="minigraph has no 'sparse'"):
        theano.sparse
    with pytest.raises(AttributeError, match="variable x has no 'nonzero_values'"):
        T.dvector('x').nonzero_values()
    assert not hasattr(T.dvector('x'), 'get_value')        # hasattr still works (an AttributeError)
    assert T.row is not None and T.dvector('x').sum is not None


# --- types: T.dscalar is a type (doc/library/tensor/basic.txt, "All Fully-Typed Constructors") ------
def test_constructors_are_callable_types():
    x = T.dscalar('x')
    assert x.type == T.dscalar and x.type != T.fscalar
    assert T.dmatrix('m').type == T.TensorType('float64', (False, False))
    assert T.drow().type == T.TensorType('float64', (True, False))
    assert T.dmatrix(name='w').name == 'w'
    assert [T.tensor5().ndim, T.tensor6().ndim, T.tensor7().ndim, T.ltensor5().dtype] == [5, 6, 7, 'int64']
    assert T.matrix('z', dtype='int32').dtype == 'int32'


def test_plural_constructors_one_variable_per_letter():
    a, b, c, d = T.scalars('abcd')
    assert [v.name for v in (a, b, c, d)] == list('abcd')
    u, v = T.vectors('ab')
    assert (u.name, v.name, u.ndim) == ('a', 'b', 1)
    assert T.dscalars('x').name == 'x'                         # one letter: one variable, as in Theano
    assert [v.name for v in T.dmatrices('a', 'b')] == ['a', 'b']
    assert [v.name for v in T.dmatrices('weight bias')] == ['weight', 'bias']
    assert len(T.fvectors(3)) == 3


# --- shapes --------------------------------------------------------------------------------------------
def test_shape_vector_unpacks_and_sizes_build_tensors(backend):
    mu = T.dmatrix('mu')
    M, K = mu.shape
    x = T.dvector('x')
    f = function([mu, x], [M * K, T.zeros((x.shape[0], K)), T.alloc(0.5, x.shape[0]), T.arange(x.shape[0]),
                           T.reshape(mu, (M * K,)), T.eye(x.shape[0])])
    n, z, a, r, flat, eye = f(np.ones((2, 5)), np.ones(4))
    assert n == 10 and z.shape == (4, 5) and np.array_equal(a, [0.5] * 4) and np.array_equal(r, range(4))
    assert flat.shape == (10,) and np.array_equal(eye, np.eye(4))
    with pytest.raises(TypeError, match="cannot iterate over symbolic variable x.*only vectors of known length"):
        first, *rest = x


def test_stack_doc_examples(backend):
    a, b, c = T.scalar(), T.scalar(), T.scalar()
    x = T.stack([a, b, c])
    assert x.ndim == 1
    a, b, c = T.tensor4(), T.tensor4(), T.tensor4()
    x = T.stack([a, b, c])
    assert x.ndim == 5
    rval = x.eval(dict((t, np.zeros((2, 2, 2, 2))) for t in [a, b, c]))
    assert rval.shape == (3, 2, 2, 2, 2)
    x = T.stack([a, b, c], axis=3)
    rval = x.eval(dict((t, np.zeros((2, 2, 2, 2))) for t in [a, b, c]))
    assert (x.ndim, rval.shape) == (5, (2, 2, 2, 3, 2))
    x = T.stack([a, b, c], axis=-2)
    rval = x.eval(dict((t, np.zeros((2, 2, 2, 2))) for t in [a, b, c]))
    assert (x.ndim, rval.shape) == (5, (2, 2, 2, 3, 2))
    x0, x1, x2 = T.scalar(), T.scalar(), T.scalar()
    x = T.stack(x0, x1, x2)                                     # the old form
    assert x.ndim == 1
    assert np.array_equal(function([x0, x1, x2], x)(1, 2, 3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="axis 5 is out of range for a 5-d result"):
        T.stack([a, b], axis=5)


def test_concatenate_stacklists_and_pads(backend):
    x0, x1, x2 = T.fmatrix(), T.ftensor3(), T.fvector()
    x = T.concatenate([x0, x1[0], T.shape_padright(x2)], axis=1)
    assert x.ndim == 2
    from minigraph.tensor import matrices, scalars, stacklists
    a, b, c, d = scalars('abcd')
    X = stacklists([[a, b], [c, d]])
    f = function([a, b, c, d], X)
    assert np.array_equal(f(1, 2, 3, 4), [[1.0, 2.0], [3.0, 4.0]])
    a, b, c, d = matrices('abcd')
    X = stacklists([[a, b], [c, d]])
    f = function([a, b, c, d], X)
    x = np.ones((4, 4), 'float32')
    assert f(x, x, x, x).shape == (2, 2, 4, 4)
    tensor = T.tensor3()
    assert T.shape_padaxis(tensor, axis=0).broadcastable == (True, False, False, False)
    assert T.shape_padaxis(tensor, axis=1).broadcastable == (False, True, False, False)
    assert T.shape_padaxis(tensor, axis=-1).broadcastable == (False, False, False, True)
    assert T.shape_padleft(T.dvector(), 2).broadcastable == (True, True, False)
    u, v = T.dvectors('u', 'v')
    assert np.array_equal(function([u, v], T.join(0, u, v))([1.0], [2.0, 3.0]), [1.0, 2.0, 3.0])
    assert np.array_equal(function([u, v], T.concatenate([u, v], axis=-1))([1.0], [2.0]), [1.0, 2.0])


def test_specify_shape(backend):
    x = T.dmatrix('x')
    y = T.specify_shape(x, (2, None)) * 2
    f = function([x], y)
    assert np.array_equal(f(np.ones((2, 3))), 2 * np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"x has shape \(3, 3\), but its shape was specified as \(2, None\)"):
        f(np.ones((3, 3)))
    assert T.specify_shape(x, (1, 4)).broadcastable == (True, False)
    a, b = T.specify_shape(T.dvector('v'), (2,))           # a known length unpacks
    with pytest.raises(ValueError, match="x is 2-d but the shape"):
        T.specify_shape(x, (2,))


# --- doc/library/tensor/basic.txt, "Bitwise" --------------------------------------------------------
def test_bitwise_operators_on_integers(backend):
    a, b = T.ivectors('a', 'b')
    f = function([a, b], [a & b, a ^ 1, a | b, ~a, T.and_(a, b), T.bitwise_xor(a, b), T.bitwise_not(a)])
    av, bv = np.array([12, 5], 'int32'), np.array([10, 3], 'int32')
    got = f(av, bv)
    expected = [av & bv, av ^ 1, av | bv, ~av, av & bv, av ^ bv, ~av]
    for g, e in zip(got, expected):
        assert g.dtype == np.int32 and np.array_equal(g, e)
    x = T.dvector('x')
    f = function([x], [(x > 0) & (x < 2), (x > 0) | (x < -2), (x > 0) ^ (x < 2), ~(x > 0)])
    got = f(np.array([1.0, -1.0, 3.0]))
    assert [g.tolist() for g in got] == [[True, False, False], [True, False, True], [False, True, True],
                                         [False, True, False]]


# --- softmax of a vector is a 1xN row, as in Theano ----------------------------------------------------
def test_softmax_of_a_vector_is_a_row(backend):
    v = T.dvector('v')
    p = T.nnet.softmax(v)
    assert p.broadcastable == (True, False)
    y = T.lvector('y')
    f = function([v, y], [p, T.nnet.categorical_crossentropy(p, y), T.nnet.log_softmax(v)])
    probs, loss, logp = f(np.array([1.0, 2.0, 3.0]), np.array([2]))
    e = np.exp([1.0, 2.0, 3.0])
    assert probs.shape == (1, 3) and np.allclose(probs, [e / e.sum()])
    assert np.allclose(loss, [-np.log(e[2] / e.sum())]) and np.allclose(logp, np.log(probs))


def test_inv_is_the_elementwise_reciprocal():
    # doc/library/tensor/basic.txt: inv(a) returns 1/a
    x = T.dvector("x")
    np.testing.assert_allclose(theano.function([x], T.inv(x))(np.array([2.0, -4.0, 0.5])), [0.5, -0.25, 2.0])
    v = T.dvector("v")
    logistic = T.inv(1 + T.exp(-v))
    np.testing.assert_allclose(theano.function([v], logistic)(np.array([0.0])), [0.5])
