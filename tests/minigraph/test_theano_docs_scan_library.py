"""Theano's doc/library/scan.txt (the reference's guide to scan), run as written but for the
import lines, on the numpy and numba backends, with the outputs the documentation states."""
import numpy as np
import pytest

from theano_doc_snippets import assert_prints, backend, run  # noqa: F401  (backend: a fixture)


def test_accumulation_into_a_scalar_without_a_downcast(backend):
    printed, _ = run('''
        import numpy as np
        import theano
        import theano.tensor as T
        up_to = T.iscalar("up_to")
        def accumulate_by_adding(arange_val, sum_to_date):
            return sum_to_date + arange_val
        seq = T.arange(up_to)
        outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
        scan_result, scan_updates = theano.scan(fn=accumulate_by_adding,
                                                outputs_info=outputs_info,
                                                sequences=seq)
        triangular_sequence = theano.function(inputs=[up_to], outputs=scan_result)
        some_num = 15
        print(triangular_sequence(some_num))
        print([n * (n + 1) // 2 for n in range(some_num)])
    ''')
    assert_prints(printed, "[  0   1   3   6  10  15  21  28  36  45  55  66  78  91 105]" * 2)


def test_set_value_at_positions(backend):
    printed, _ = run('''
        import numpy
        import theano
        import theano.tensor as T
        location = T.imatrix("location")
        values = T.vector("values")
        output_model = T.matrix("output_model")
        def set_value_at_position(a_location, a_value, output_model):
            zeros = T.zeros_like(output_model)
            zeros_subtensor = zeros[a_location[0], a_location[1]]
            return T.set_subtensor(zeros_subtensor, a_value)
        result, updates = theano.scan(fn=set_value_at_position,
                                      outputs_info=None,
                                      sequences=[location, values],
                                      non_sequences=output_model)
        assign_values_at_positions = theano.function(inputs=[location, values, output_model], outputs=result)
        test_locations = numpy.asarray([[1, 1], [2, 3]], dtype=numpy.int32)
        test_values = numpy.asarray([42, 50], dtype=numpy.float32)
        test_output_model = numpy.zeros((5, 5), dtype=numpy.float32)
        print(assign_values_at_positions(test_locations, test_values, test_output_model))
    ''')
    expected = np.zeros((2, 5, 5))
    expected[0, 1, 1], expected[1, 2, 3] = 42, 50
    assert_prints(printed, str(expected.tolist()))


def test_updates_dictionary_of_a_shared_counter(backend):
    printed, ns = run('''
        import theano
        a = theano.shared(1)
        values, updates = theano.scan(lambda: {a: a+1}, n_steps=10)
        b = a + 1
        c = updates[a] + 1
        f = theano.function([], [b, c], updates=updates)
        print(a.get_value())
    ''')
    assert printed.split() == ["1"]
    f, a = ns["f"], ns["a"]
    # "b will be 2, c will be 12, while a.value is 11 ... b will become 12, c will be 22 and a.value 21"
    assert [int(v) for v in f()] == [2, 12] and a.get_value() == 11
    assert [int(v) for v in f()] == [12, 22] and a.get_value() == 21


GIBBS_SETUP = '''
    import theano
    import numpy
    W_values = numpy.random.random((2, 2))
    bvis_values = numpy.random.random((2,))
    bhid_values = numpy.random.random((2,))
    import theano
    from theano import tensor as T
    W = theano.shared(W_values)
    bvis = theano.shared(bvis_values)
    bhid = theano.shared(bhid_values)
    trng = T.shared_randomstreams.RandomStreams(1234)
    sample = theano.tensor.vector()
'''


def test_gibbs_sampling_with_shared_variables_found_or_passed(backend):
    _, ns = run(GIBBS_SETUP + '''
    def OneStep(vsample) :
        hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(theano.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean,
                             dtype=theano.config.floatX)
    values, updates = theano.scan(OneStep, outputs_info=sample, n_steps=10)
    gibbs10 = theano.function([sample], values[-1], updates=updates)

    def OneStep(vsample, W, bvis, bhid):
        hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(theano.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean,
                         dtype=theano.config.floatX)
    values, updates = theano.scan(fn=OneStep, outputs_info=sample, non_sequences=[W, bvis, bhid],
                                  n_steps=10, strict=True)
    gibbs10_strict = theano.function([sample], values[-1], updates=updates)
    ''')
    for f in (ns["gibbs10"], ns["gibbs10_strict"]):
        draws = np.array([f(np.array([1.0, 0.0])) for _ in range(40)])
        assert draws.shape == (40, 2) and set(np.unique(draws)) <= {0.0, 1.0}
        assert len({tuple(d) for d in draws}) > 1        # the updates advance the chain's random states


def test_strict_scan_names_the_variable_not_passed(backend):
    _, ns = run(GIBBS_SETUP)
    with pytest.raises(ValueError, match=r"strict=True\): the step function uses .*float64, matrix"):
        run('''
        def OneStep(vsample) :
            hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
            return hmean
        values, updates = theano.scan(OneStep, outputs_info=sample, n_steps=10, strict=True)
        ''', ns)


def test_rnn_with_several_taps_and_two_outputs(backend):
    _, ns = run('''
      import theano
      from theano import tensor as T
      def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2,  W_feedback, W_out):

        x_t = T.tanh(theano.dot(x_tm1, W) + \\
                     theano.dot(u_t,   W_in_1) + \\
                     theano.dot(u_tm4, W_in_2) + \\
                     theano.dot(y_tm1, W_feedback))
        y_t = theano.dot(x_tm3, W_out)

        return [x_t, y_t]
      W = T.matrix()
      W_in_1 = T.matrix()
      W_in_2 = T.matrix()
      W_feedback = T.matrix()
      W_out = T.matrix()

      u = T.matrix() # it is a sequence of vectors
      x0 = T.matrix() # initial state of x has to be a matrix, since
                      # it has to cover x[-3]
      y0 = T.vector() # y0 is just a vector since scan has only to provide
                      # y[-1]
      ([x_vals, y_vals], updates) = theano.scan(fn=oneStep,
                                                sequences=dict(input=u, taps=[-4,-0]),
                                                outputs_info=[dict(initial=x0, taps=[-3,-1]), y0],
                                                non_sequences=[W, W_in_1, W_in_2, W_feedback, W_out],
                                                strict=True)
      f = theano.function([u, x0, y0, W, W_in_1, W_in_2, W_feedback, W_out], [x_vals, y_vals])
    ''')
    rng = np.random.default_rng(4)
    uv, x0, y0 = rng.normal(size=(9, 2)), rng.normal(size=(3, 3)), rng.normal(size=4)
    w, w1, w2, wf, wo = (0.5 * rng.normal(size=s) for s in [(3, 3), (2, 3), (2, 3), (4, 3), (3, 4)])
    xs, ys, y = list(x0), [], y0
    for t in range(4, 9):           # "scan will consider uvals[0] as u[-4], and will start from uvals[4]"
        x_t = np.tanh(xs[-1] @ w + uv[t] @ w1 + uv[t - 4] @ w2 + y @ wf)
        y = xs[-3] @ wo
        xs.append(x_t)
        ys.append(y)
    got_x, got_y = ns["f"](uv, x0, y0, w, w1, w2, wf, wo)
    np.testing.assert_allclose(got_x, np.array(xs[3:]), rtol=1e-12)
    np.testing.assert_allclose(got_y, np.array(ys), rtol=1e-12)


def test_conditional_ending_with_until(backend):
    printed, _ = run('''
        import theano
        from theano import tensor as T
        def power_of_2(previous_power, max_value):
            return previous_power*2, theano.scan_module.until(previous_power*2 > max_value)

        max_value = T.scalar()
        values, _ = theano.scan(power_of_2,
                                outputs_info = T.constant(1.),
                                non_sequences = max_value,
                                n_steps = 1024)

        f = theano.function([max_value], values)

        print(f(45))
    ''')
    assert_prints(printed, "[  2.   4.   8.  16.  32.  64.]")
