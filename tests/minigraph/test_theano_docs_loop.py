"""Theano's doc/tutorial/loop.txt (the scan chapter), each example run as written but for the
import lines, on the numpy and numba backends; the printed numbers are the documented ones."""
import numpy as np

from theano_doc_snippets import assert_prints, backend, run  # noqa: F401  (backend: a fixture)


def test_tanh_of_x_dot_w_plus_b_elementwise(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      X = T.matrix("X")
      W = T.matrix("W")
      b_sym = T.vector("b_sym")
      results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym), sequences=X)
      compute_elementwise = theano.function(inputs=[X, W, b_sym], outputs=results)
      x = np.eye(2, dtype=theano.config.floatX)
      w = np.ones((2, 2), dtype=theano.config.floatX)
      b = np.ones((2), dtype=theano.config.floatX)
      b[1] = 2
      print(compute_elementwise(x, w, b))
      print(np.tanh(x.dot(w) + b))
    ''')
    assert_prints(printed, "[[ 0.96402758  0.99505475] [ 0.96402758  0.99505475]]" * 2)


def test_sequence_with_a_reversed_sequence_and_a_recurrence(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      X = T.vector("X")
      W = T.matrix("W")
      b_sym = T.vector("b_sym")
      U = T.matrix("U")
      Y = T.matrix("Y")
      V = T.matrix("V")
      P = T.matrix("P")
      results, updates = theano.scan(lambda y, p, x_tm1: T.tanh(T.dot(x_tm1, W) + T.dot(y, U) + T.dot(p, V)),
                sequences=[Y, P[::-1]], outputs_info=[X])
      compute_seq = theano.function(inputs=[X, W, Y, U, P, V], outputs=results)
      x = np.zeros((2), dtype=theano.config.floatX)
      x[1] = 1
      w = np.ones((2, 2), dtype=theano.config.floatX)
      y = np.ones((5, 2), dtype=theano.config.floatX)
      y[0, :] = -3
      u = np.ones((2, 2), dtype=theano.config.floatX)
      p = np.ones((5, 2), dtype=theano.config.floatX)
      p[0, :] = 3
      v = np.ones((2, 2), dtype=theano.config.floatX)
      print(compute_seq(x, w, y, u, p, v))
    ''')
    assert_prints(printed, """[[-0.99505475 -0.99505475] [ 0.96471973  0.96471973] [ 0.99998585  0.99998585]
                               [ 0.99998771  0.99998771] [ 1.          1.        ]]""")


def test_norms_of_lines_and_columns(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      X = T.matrix("X")
      results, updates = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X])
      compute_norm_lines = theano.function(inputs=[X], outputs=results)
      x = np.diag(np.arange(1, 6, dtype=theano.config.floatX), 1)
      print(compute_norm_lines(x))
      results, updates = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X.T])
      compute_norm_cols = theano.function(inputs=[X], outputs=results)
      print(compute_norm_cols(x))
    ''')
    assert_prints(printed, "[ 1.  2.  3.  4.  5.  0.] [ 0.  1.  2.  3.  4.  5.]")


def test_trace_by_two_index_sequences_and_a_float32_accumulator(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      floatX = "float32"
      X = T.matrix("X")
      results, updates = theano.scan(lambda i, j, t_f: T.cast(X[i, j] + t_f, floatX),
                        sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])],
                        outputs_info=np.asarray(0., dtype=floatX))
      result = results[-1]
      compute_trace = theano.function(inputs=[X], outputs=result)
      x = np.eye(5, dtype=theano.config.floatX)
      x[0] = np.arange(5, dtype=theano.config.floatX)
      print(compute_trace(x))
      print(np.diagonal(x).sum())
    ''')
    assert_prints(printed, "4.0 4.0")


def test_two_taps_recurrence(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      X = T.matrix("X")
      W = T.matrix("W")
      b_sym = T.vector("b_sym")
      U = T.matrix("U")
      V = T.matrix("V")
      n_sym = T.iscalar("n_sym")
      results, updates = theano.scan(lambda x_tm2, x_tm1: T.dot(x_tm2, U) + T.dot(x_tm1, V) + T.tanh(T.dot(x_tm1, W) + b_sym),
                          n_steps=n_sym, outputs_info=[dict(initial=X, taps=[-2, -1])])
      compute_seq2 = theano.function(inputs=[X, U, V, W, b_sym, n_sym], outputs=results)
      x = np.zeros((2, 2), dtype=theano.config.floatX)
      x[1, 1] = 1
      w = 0.5 * np.ones((2, 2), dtype=theano.config.floatX)
      u = 0.5 * (np.ones((2, 2), dtype=theano.config.floatX) - np.eye(2, dtype=theano.config.floatX))
      v = 0.5 * np.ones((2, 2), dtype=theano.config.floatX)
      n = 10
      b = np.ones((2), dtype=theano.config.floatX)
      print(compute_seq2(x, u, v, w, b, n))
    ''')
    assert_prints(printed, """[[  1.40514825   1.40514825] [  2.88898899   2.38898899] [  4.34018291   4.34018291]
        [  6.53463142   6.78463142] [  9.82972243   9.82972243] [ 14.22203814  14.09703814]
        [ 20.07439936  20.07439936] [ 28.12291843  28.18541843] [ 39.1913681   39.1913681 ]
        [ 54.28407732  54.25282732]]""")


def test_jacobian_by_scan_over_indices(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      v = T.vector()
      A = T.matrix()
      y = T.tanh(T.dot(v, A))
      results, updates = theano.scan(lambda i: T.grad(y[i], v), sequences=[T.arange(y.shape[0])])
      compute_jac_t = theano.function([A, v], results, allow_input_downcast=True) # shape (d_out, d_in)
      x = np.eye(5, dtype=theano.config.floatX)[0]
      w = np.eye(5, 3, dtype=theano.config.floatX)
      w[2] = np.ones((3), dtype=theano.config.floatX)
      print(compute_jac_t(w, x))
    ''')
    assert_prints(printed, """[[ 0.41997434  0.          0.41997434  0.          0.        ]
                               [ 0.          1.          1.          0.          0.        ]
                               [ 0.          0.          1.          0.          0.        ]]""")


def test_accumulating_the_number_of_steps_in_a_shared_variable(backend):
    printed, ns = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      k = theano.shared(0)
      n_sym = T.iscalar("n_sym")
      results, updates = theano.scan(lambda:{k:(k + 1)}, n_steps=n_sym)
      accumulator = theano.function([n_sym], [], updates=updates, allow_input_downcast=True)
      print(k.get_value())
      accumulator(5)
      print(k.get_value())
    ''')
    assert printed.split() == ["0", "5"]
    ns["accumulator"](3)
    assert ns["k"].get_value() == 8


def test_binomial_noise_drawn_anew_at_every_step(backend):
    printed, ns = run('''
      import theano
      import theano.tensor as T
      import numpy as np
      X = T.matrix("X")
      W = T.matrix("W")
      b_sym = T.vector("b_sym")
      trng = T.shared_randomstreams.RandomStreams(1234)
      d=trng.binomial(size=W[1].shape)
      results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym) * d, sequences=X)
      compute_with_bnoise = theano.function(inputs=[X, W, b_sym], outputs=results,
                                updates=updates, allow_input_downcast=True)
      x = np.eye(10, 2, dtype=theano.config.floatX)
      w = np.ones((2, 2), dtype=theano.config.floatX)
      b = np.ones((2), dtype=theano.config.floatX)
      print(compute_with_bnoise(x, w, b))
    ''')
    # Theano's generator differs from ours, so the documented zeros fall elsewhere: each entry is
    # the noiseless value (tanh(2) in rows 0-1, tanh(1) after) or 0, and the masks differ by row.
    got = np.array([float(t) for t in printed.replace("[", " ").replace("]", " ").split()]).reshape(10, 2)
    clean = np.tanh(np.eye(10, 2) @ np.ones((2, 2)) + 1)
    assert np.all(np.isclose(got, clean, atol=1e-6) | (got == 0))
    masks = {tuple(row) for row in (got != 0)}
    assert len(masks) >= 3, f"the binomial noise is the same at every step: {got}"
    again = ns["compute_with_bnoise"](np.eye(10, 2), np.ones((2, 2)), np.ones(2))
    assert not np.array_equal(again != 0, got != 0), "the updates did not advance the noise's state"


def test_power_by_repeated_multiplication(backend):
    printed, _ = run('''
      import theano
      import theano.tensor as T
      k = T.iscalar("k")
      A = T.vector("A")
      def inner_fct(prior_result, B):
          return prior_result * B
      result, updates = theano.scan(fn=inner_fct,
                                  outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
      final_result = result[-1]
      power = theano.function(inputs=[A, k], outputs=final_result,
                            updates=updates)
      print(power(range(10), 2))
    ''')
    assert_prints(printed, "[  0.   1.   4.   9.  16.  25.  36.  49.  64.  81.]")


def test_polynomial(backend):
    printed, _ = run('''
      import numpy
      import theano
      import theano.tensor as T
      coefficients = theano.tensor.vector("coefficients")
      x = T.scalar("x")
      max_coefficients_supported = 10000
      full_range=theano.tensor.arange(max_coefficients_supported)
      components, updates = theano.scan(fn=lambda coeff, power, free_var:
                                         coeff * (free_var ** power),
                                      outputs_info=None,
                                      sequences=[coefficients, full_range],
                                      non_sequences=x)
      polynomial = components.sum()
      calculate_polynomial = theano.function(inputs=[coefficients, x],
                                           outputs=polynomial)
      test_coeff = numpy.asarray([1, 0, 2], dtype=numpy.float32)
      print(calculate_polynomial(test_coeff, 3))
    ''')
    assert_prints(printed, "19.0")
