"""Act 2 — practice: the notebooks of course/act2_practice/, as data for course/build_notebooks.py."""
from build_notebooks import check, code, md, solution
from _notebooks.common import HOW_TO, IMPORTS

# ---------------------------------------------------------------------------------------------------------
FIRST_STEPS = [
    md("""
        # Act 2 · 1 — First steps: symbols now, numbers later

        In NumPy every line computes a number right away. In minigraph (a small library that speaks the
        dialect of Theano) you first *describe* a computation with symbols, then *compile* the description
        into a function, and only then feed it numbers. The description is a graph, and because it is a graph
        the library can inspect it, simplify it and — the point of this course — differentiate it for you.

        In this notebook you will:
        1. declare symbolic variables and combine them,
        2. compile an expression with `function` and call it,
        3. look at an expression with `eval` and `pp`,
        4. write two element-wise expressions of your own (exercises 1 and 2),
        5. compute several outputs from one compiled function.
    """),
    HOW_TO,
    IMPORTS,
    md("""
        ## 1. Declaring symbols

        `T.dscalar('x')` makes a *symbolic* scalar of type float64 ("d" is for double) named `x`. It has a type
        and a name, but no value. Adding two symbols does not add anything yet: it records that an addition
        should happen.
    """),
    code("""
        x = T.dscalar('x')
        y = T.dscalar('y')
        z = x + y
        print("z is", z, "of type", z.type)
        print("it is computed by the node", z.owner, "from", z.owner.inputs)
    """),
    md("""
        `z.owner` is the node that produces `z`: the operation *add* applied to the inputs `x` and `y`.
        Following `owner` links backwards from any expression leads to the symbols it was built from.

        ## 2. Compiling and calling

        `function(inputs, output)` turns the graph into a Python callable. The list of inputs fixes the order of
        the arguments. Python ints and floats are accepted; the result comes back as a NumPy array (here a 0-d one).
    """),
    code("""
        f = function([x, y], z)
        print(f(2, 3))
        print(f(16.3, 12.1))
    """),
    md("""
        ## 3. Two quick ways to look at a graph

        * `z.eval({x: 16.3, y: 12.1})` compiles and runs in one go — handy while debugging.
        * `pp(z)` ("pretty print") writes the graph back as a formula.
    """),
    code("""
        print(z.eval({x: 16.3, y: 12.1}))
        print(pp(z))
    """),
    md("""
        ## 4. Exercise 1 — vectors work the same way (1 point)

        `T.vector('a')` is a symbolic 1-d array of floats. Arithmetic on vectors is element-wise, just as in NumPy.

        Build `out1`, the expression $a + a^{10}$, and compile it into `f1` (one input: `a`).
    """),
    code("""
        a = T.vector('a')
        b = T.vector('b')
    """),
    solution("ex1_solution", """
        ### BEGIN SOLUTION
        out1 = a + a ** 10
        f1 = function([a], out1)
        ### END SOLUTION
    """),
    check("ex1_check", 1, """
        # Self-check for exercise 1
        assert isinstance(out1, theano.Variable), (
            f"`out1` should be a minigraph expression built from the symbol `a`, but it is a {type(out1).__name__}.\\n"
            "Hint: combine the symbol `a` itself with + and the power operator, not numbers or NumPy arrays.")
        assert isinstance(f1, theano.Function), (
            f"`f1` should be a compiled function (what `function` returns), but it is a {type(f1).__name__}.")
        got = f1([0.0, 1.0, 2.0])
        np.testing.assert_allclose(got, [0.0, 2.0, 1026.0], err_msg=(
            "\\nf1([0, 1, 2]) should be [0 + 0¹⁰, 1 + 1¹⁰, 2 + 2¹⁰] = [0, 2, 1026].\\n"
            "Hint: in Python `**` is the power operator (`^` is not); check that you compiled `out1` itself."))
        print("Exercise 1 passes:", got)
        ### BEGIN HIDDEN TESTS
        _v = rng(1).normal(size=7)
        grade.graph("out1 is a minigraph expression", "out1", is_graph=True,
                    hint="build out1 from the symbol a, not from numbers")
        grade.true("out1 is a float64 vector", "out1.ndim == 1 and out1.dtype == 'float64'")
        grade.value("f1 on 7 random numbers", "f1(_v)", _v + _v ** 10, _v=_v, rtol=1e-12,
                    hint="`**` is the power operator")
        grade.value("out1 compiled afresh, on the same numbers", "function([a], out1)(_v)", _v + _v ** 10,
                    _v=_v, rtol=1e-12)
        ### END HIDDEN TESTS
    """),
    md("""
        ## 5. Exercise 2 — a polynomial in two vectors (2 points)

        Using the symbols `a` and `b` from above, build `out2` $= a^2 + 2ab + b^2$ (element-wise) and compile it
        into `f2`, a function of `a` and `b` in that order. Then try `f2([1, 2], [4, 5])`: what do you expect?
    """),
    solution("ex2_solution", """
        ### BEGIN SOLUTION
        out2 = a ** 2 + 2 * a * b + b ** 2
        f2 = function([a, b], out2)
        ### END SOLUTION
    """),
    check("ex2_check", 2, """
        # Self-check for exercise 2
        assert isinstance(out2, theano.Variable), (
            f"`out2` should be a minigraph expression of `a` and `b`, but it is a {type(out2).__name__}.\\n"
            "Hint: write the formula with the symbols `a` and `b` themselves.")
        assert isinstance(f2, theano.Function), f"`f2` should be a compiled function, got {type(f2).__name__}."
        got = f2([1, 2], [4, 5])
        np.testing.assert_allclose(got, [25.0, 49.0], err_msg=(
            "\\nf2([1, 2], [4, 5]) should be [1² + 2·1·4 + 4², 2² + 2·2·5 + 5²] = [25, 49].\\n"
            "Hint: the inputs of `function` must be a and b in this order, and every operation is element-wise."))
        print("Exercise 2 passes:", got)
        ### BEGIN HIDDEN TESTS
        _r = rng(2)
        _u, _w = _r.normal(size=5), _r.normal(size=5)
        grade.graph("out2 is a minigraph expression", "out2", is_graph=True)
        grade.value("f2 on two random vectors", "f2(_u, _w)", (_u + _w) ** 2, _u=_u, _w=_w, rtol=1e-12,
                    hint="a² + 2ab + b², element-wise, with the inputs in the order a, b")
        grade.value("out2 compiled afresh", "function([a, b], out2)(_u, _w)", (_u + _w) ** 2, _u=_u, _w=_w,
                    rtol=1e-12)
        grade.value("d/da of the sum of out2 (T.grad of your graph)",
                    "function([a, b], T.grad(out2.sum(), a))(_u, _w)", 2 * (_u + _w), _u=_u, _w=_w, rtol=1e-10)
        grade.value("d/db of the sum of out2 (T.grad of your graph)",
                    "function([a, b], T.grad(out2.sum(), b))(_u, _w)", 2 * (_u + _w), _u=_u, _w=_w, rtol=1e-10)
        ### END HIDDEN TESTS
    """),
    md("""
        Look at what you built: `pp` shows the formula, and it is still a graph — nothing was computed until
        you called `f2`.
    """),
    code("""
        print(pp(out2))
    """),
    md("""
        ## 6. Exercise 3 — several outputs at once (2 points)

        A compiled function may return a list of outputs, computed together (shared parts only once).
        For two matrices `A` and `B`, build
        * `diff` $= A - B$,
        * `abs_diff` $= |A - B|$ (Python's `abs` works on symbols),
        * `diff_squared` $= (A - B)^2$,

        and compile `f_diffs`, a function of `A` and `B` that returns `[diff, abs_diff, diff_squared]`.
    """),
    code("""
        A, B = T.dmatrices('A', 'B')
    """),
    solution("ex3_solution", """
        ### BEGIN SOLUTION
        diff = A - B
        abs_diff = abs(diff)
        diff_squared = diff ** 2
        f_diffs = function([A, B], [diff, abs_diff, diff_squared])
        ### END SOLUTION
    """),
    check("ex3_check", 2, """
        # Self-check for exercise 3
        for _name in ("diff", "abs_diff", "diff_squared", "f_diffs"):
            assert _name in globals(), (
                f"`{_name}` is not defined yet: fill in the exercise cell above and run it (Shift+Enter).")
        for _name in ("diff", "abs_diff", "diff_squared"):
            assert isinstance(globals()[_name], theano.Variable), (
                f"`{_name}` should be a minigraph expression of A and B, got {type(globals()[_name]).__name__}.")
        assert isinstance(f_diffs, theano.Function), f"`f_diffs` should come from `function`, got {type(f_diffs).__name__}."
        got = f_diffs([[1, 1], [1, 1]], [[0, 1], [2, 3]])
        assert isinstance(got, list) and len(got) == 3, (
            f"f_diffs should return a list of three arrays, got {type(got).__name__} "
            f"{'of length ' + str(len(got)) if isinstance(got, list) else ''}.\\n"
            "Hint: give `function` the three outputs together as one list, in the order diff, abs_diff, diff_squared.")
        for _got, _want, _what in zip(got, ([[1, 0], [-1, -2]], [[1, 0], [1, 2]], [[1, 0], [1, 4]]),
                                      ("diff", "abs_diff", "diff_squared")):
            np.testing.assert_allclose(_got, _want, err_msg=f"\\nthe output for `{_what}` is wrong "
                                       "(inputs A=[[1, 1], [1, 1]], B=[[0, 1], [2, 3]]).")
        print("Exercise 3 passes.")
        ### BEGIN HIDDEN TESTS
        _r = rng(3)
        _P, _Q = _r.normal(size=(3, 4)), _r.normal(size=(3, 4))
        for _k, (_name, _want) in enumerate((("diff", _P - _Q), ("abs_diff", np.abs(_P - _Q)),
                                             ("diff_squared", (_P - _Q) ** 2))):
            grade.true(f"{_name} is a matrix expression",
                       f"isinstance({_name}, theano.Variable) and {_name}.ndim == 2")
            grade.value(f"output {_k + 1} of f_diffs ({_name}) on random 3x4 matrices", f"f_diffs(_P, _Q)[{_k}]",
                        _want, _P=_P, _Q=_Q, rtol=1e-12)
            grade.value(f"{_name} compiled afresh", f"function([A, B], {_name})(_P, _Q)", _want, _P=_P, _Q=_Q,
                        rtol=1e-12)
        ### END HIDDEN TESTS
    """),
    md("""
        ## What to remember

        * Symbols (`T.dscalar`, `T.vector`, `T.dmatrices`) have a type but no value.
        * Operators on symbols build a graph; `pp` prints it, `.owner` walks it.
        * `function(inputs, outputs)` compiles; calling the result computes.

        Next: a function you will reuse all through the course, the logistic sigmoid.
    """),
]

# ---------------------------------------------------------------------------------------------------------
LOGISTIC = [
    md(r"""
        # Act 2 · 2 — The logistic function

        The logistic (sigmoid) function squashes any real number into $(0, 1)$:

        $$ s(x) = \frac{1}{1 + e^{-x}} $$

        It turns a score into a probability, and it is the building block of logistic regression (notebook 4)
        and of the neural network in notebook 5. Here you write it once as a minigraph expression, apply it to
        matrices, let `T.grad` find its slope, and plot both.
    """),
    HOW_TO,
    IMPORTS,
    code("""
        import matplotlib.pyplot as plt
    """),
    md("""
        ## 1. From NumPy to minigraph

        Here is the NumPy version. Moving it to minigraph mostly means replacing `np.` by `T.`: minigraph
        mirrors NumPy's names (`T.exp`, `T.log`, `T.sum`, ...), but builds a graph instead of computing.
    """),
    code("""
        def logistic_np(v):
            return 1 / (1 + np.exp(-v))

        logistic_np(np.array([-2.0, 0.0, 2.0]))
    """),
    md("""
        ### Exercise 1 (2 points)

        Write `logistic(v)`: given a minigraph variable `v` (of any shape), return the expression $s(v)$.
        Use `T.exp`; do not use `T.nnet.sigmoid` (that would be the answer ready-made).
    """),
    solution("logistic_solution", """
        def logistic(v):
            ### BEGIN SOLUTION
            return 1 / (1 + T.exp(-v))
            ### END SOLUTION
    """),
    md("""
        Because every operation inside is element-wise, the same Python function works for scalars, vectors and
        matrices. Let's use it on a matrix:
    """),
    code("""
        x = T.dmatrix('x')
        s = logistic(x)
        logistic_fn = function([x], s)
        logistic_fn([[0, 1], [-1, -2]])
    """),
    check("logistic_check", 2, """
        # Self-check for exercise 1
        _x = T.dmatrix('x_check')
        _s = logistic(_x)
        assert isinstance(_s, theano.Variable), (
            f"logistic(x) should return a minigraph expression, but it returned a {type(_s).__name__}.\\n"
            "Hint: build 1 / (1 + e^(-v)) from the symbol `v` with T.exp — not with np.exp, which needs numbers.")
        _got = function([_x], _s)([[0, 1], [-1, -2]])
        _want = np.array([[0.5, 0.73105858], [0.26894142, 0.11920292]])
        np.testing.assert_allclose(_got, _want, rtol=1e-6, err_msg=(
            "\\nlogistic on [[0, 1], [-1, -2]] gave the wrong numbers. s(0) must be 0.5 and s(1) ≈ 0.731.\\n"
            "Hint: mind the sign: e^(-x), not e^(x)."))
        assert not any("sigmoid" in str(_n.op) for _n in theano.graph.toposort([_s])), (
            "logistic uses T.nnet.sigmoid, the answer ready-made: write the formula with T.exp instead.")
        print("logistic works on matrices:\\n", _got)
        ### BEGIN HIDDEN TESTS
        _r = rng(4)
        for _kind, _val in (("dscalar", 0.3), ("dvector", _r.normal(size=6) * 3),
                            ("dtensor3", _r.normal(size=(2, 3, 4)))):
            grade.value(f"logistic on a {_kind} of shape {np.shape(_val)}",
                        f"_sym = T.{_kind}('c')\\nfunction([_sym], logistic(_sym))(_val)",
                        1 / (1 + np.exp(-_val)), _val=_val, rtol=1e-12, hint="s(v) = 1 / (1 + e^(-v))")
        grade.graph("logistic is written with T.exp, not T.nnet.sigmoid", "logistic(T.dmatrix('m'))",
                    forbids=["sigmoid"], is_graph=True, hint="the exercise asks for the formula, not T.nnet.sigmoid")
        _g = _r.normal(size=(3, 4))
        grade.value("the gradient of sum(logistic(v)) (T.grad of your graph)",
                    "_m = T.dmatrix('m')\\nfunction([_m], T.grad(logistic(_m).sum(), _m))(_g)",
                    np.exp(-_g) / (1 + np.exp(-_g)) ** 2, _g=_g, rtol=1e-9)
        ### END HIDDEN TESTS
    """),
    md(r"""
        ## 2. The slope, for free

        `T.grad(cost, v)` needs a *scalar* cost. To get the slope of an element-wise function at many points at
        once, differentiate the **sum**: since element $i$ of the sum only depends on $v_i$,
        $\partial \big(\sum_j s(v_j)\big) / \partial v_i = s'(v_i)$.

        ### Exercise 2 (2 points)

        For the vector `v` below, build `slope`, the gradient of the sum of `logistic(v)` with respect to `v`,
        and compile `slope_fn` (one input, `v`). Let `T.grad` do the calculus: no derivative written by hand.
    """),
    code("""
        v = T.dvector('v')
    """),
    solution("slope_solution", """
        ### BEGIN SOLUTION
        slope = T.grad(logistic(v).sum(), v)
        slope_fn = function([v], slope)
        ### END SOLUTION
    """),
    check("slope_check", 2, """
        # Self-check for exercise 2
        assert isinstance(slope, theano.Variable), (
            f"`slope` should be a minigraph expression (what T.grad returns), got {type(slope).__name__}.")
        assert isinstance(slope_fn, theano.Function), f"`slope_fn` should come from `function`, got {type(slope_fn).__name__}."
        _pts = np.array([-2.0, 0.0, 3.0])
        _got = slope_fn(_pts)
        _sp = 1 / (1 + np.exp(-_pts))
        np.testing.assert_allclose(_got, _sp * (1 - _sp), rtol=1e-8, err_msg=(
            "\\nThe slope of the logistic function is s(x)(1 - s(x)); at x = 0 it is 0.25.\\n"
            "Hint: T.grad wants a scalar cost, so differentiate the sum of the logistic of v with respect to v."))
        print("slope at", _pts, "is", _got)
        ### BEGIN HIDDEN TESTS
        _pts = np.linspace(-8, 8, 41)
        _sp = 1 / (1 + np.exp(-_pts))
        grade.true("slope is a vector expression", "isinstance(slope, theano.Variable) and slope.ndim == 1")
        grade.value("slope_fn on 41 points from -8 to 8", "slope_fn(_pts)", _sp * (1 - _sp), _pts=_pts,
                    rtol=1e-8, atol=1e-15, hint="s'(x) = s(x)(1 - s(x))")
        grade.value("slope compiled afresh", "function([v], slope)(_pts)", _sp * (1 - _sp), _pts=_pts,
                    rtol=1e-8, atol=1e-15)
        grade.graph("slope comes from T.grad", "slope", from_grad=True,
                    hint="the exercise asks T.grad for the slope; do not write the derivative by hand")
        ### END HIDDEN TESTS
    """),
    md("""
        ## 3. Look at it

        The function rises from 0 to 1; its slope peaks at 0.25 in the middle and fades on both sides. That fading
        is worth remembering: when a sigmoid unit is far from zero it barely learns ("saturation").
    """),
    code("""
        grid = np.linspace(-7, 7, 281)
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot(grid, logistic_fn(grid[None, :])[0], label="s(x)")
        ax.plot(grid, slope_fn(grid), label="s'(x) from T.grad")
        ax.axhline(0.5, color="gray", lw=0.5); ax.axvline(0, color="gray", lw=0.5)
        ax.set_xlabel("x"); ax.legend(); ax.set_title("The logistic function and its derivative")
        plt.show()
    """),
    md(r"""
        ## 4. One function, many graphs

        The same numbers can come from different graphs. For example $s(x) = \tfrac12\big(1 + \tanh(x/2)\big)$.
        Compare the two on a few points: the values agree to rounding, though the graphs differ.
    """),
    code(r"""
        via_tanh = 0.5 * (1 + T.tanh(x / 2))
        both = function([x], [s, via_tanh])
        direct, other = both([[-3.0, 0.0, 3.0]])
        print(direct, other, "max difference:", np.max(np.abs(direct - other)))
        print(pp(s)); print(pp(via_tanh))
    """),
    md("""
        ## What to remember

        * Going from NumPy to minigraph is often just `np.` → `T.`; the result is a graph, not numbers.
        * Element-wise graphs work on any shape.
        * `T.grad` needs a scalar; summing first gives the element-wise derivative of an element-wise function.
    """),
]

# ---------------------------------------------------------------------------------------------------------
SHARED = [
    md("""
        # Act 2 · 3 — Shared variables and updates: functions with a memory

        The functions so far were pure: same inputs, same outputs. Training a model needs *state* — the weights —
        that lives between calls and changes a little at each one. minigraph provides it with **shared
        variables**: symbols that carry a value of their own, which any number of compiled functions can read
        and, through **updates**, overwrite.
    """),
    HOW_TO,
    IMPORTS,
    code("""
        import matplotlib.pyplot as plt
    """),
    md("""
        ## 1. The accumulator

        `shared(0)` creates a shared variable holding the integer 0. The function below adds its argument to the
        state: `updates=[(state, state + inc)]` says "after computing the outputs, store `state + inc` in `state`".
    """),
    code("""
        state = shared(0)
        inc = T.iscalar('inc')
        accumulator = function([inc], state, updates=[(state, state + inc)])
        print("initial state:", state.get_value())
    """),
    code("""
        print("accumulator(1) returned", accumulator(1), "and the state is now", state.get_value())
        print("accumulator(300) returned", accumulator(300), "and the state is now", state.get_value())
    """),
    md("""
        Notice the order: the output is the state **before** the update. A call computes every output from the
        current values first, and only then writes all the updates.

        `get_value()` reads the state, `set_value()` replaces it from outside any function:
    """),
    code("""
        state.set_value(-1)
        print("accumulator(3) returned", accumulator(3), "and the state is now", state.get_value())
    """),
    md("""
        ## 2. Exercise 1 — a second function on the same state (2 points)

        Any function can use the same shared variable. Compile `decrementor`: it takes `inc` too, returns
        `state`, and updates the state to `state - inc`.
    """),
    solution("decrementor_solution", """
        ### BEGIN SOLUTION
        decrementor = function([inc], state, updates=[(state, state - inc)])
        ### END SOLUTION
    """),
    check("decrementor_check", 2, """
        # Self-check for exercise 1
        assert isinstance(decrementor, theano.Function), (
            f"`decrementor` should be a compiled minigraph function, got {type(decrementor).__name__}.")
        state.set_value(10)
        _out = decrementor(3)
        assert int(state.get_value()) != 10, (
            "decrementor(3) left the accumulator's `state` at 10: it must update that same shared variable "
            "`state` — a new shared variable of its own would not be the accumulator's state.\\n"
            "Hint: the update pairs name the shared variable to overwrite and its new value.")
        assert int(state.get_value()) == 7, (
            f"after decrementor(3) from 10 the state should be 10 - 3 = 7, but it is {state.get_value()}.\\n"
            "Hint: the new value subtracts `inc` from the state.")
        assert isinstance(_out, np.ndarray) and _out.shape == () and int(_out) == 10, (
            f"with the state at 10, decrementor(3) should return the old state 10, but returned {_out!r}.\\n"
            "Hint: the output is the state itself; the subtraction belongs in the updates, which are applied "
            "after the outputs are computed.")
        accumulator(5)
        assert int(state.get_value()) == 12, (
            f"accumulator(5) after decrementor should give 7 + 5 = 12, got {state.get_value()}.")
        state.set_value(0)
        print("decrementor shares the accumulator's state.")
        ### BEGIN HIDDEN TESTS
        for _start, _step in ((0, 1), (-4, 9), (1000, 999)):
            grade.value(f"decrementor({_step}) from a state of {_start}: returned value, then the state",
                        "state.set_value(_start)\\n_out = decrementor(_step)\\n[int(_out), int(state.get_value())]",
                        np.array([_start, _start - _step]), _start=_start, _step=_step,
                        hint="return the state before the call; update it to state - inc")
        grade.true("the state stays an integer", "state.set_value(5)\\ndecrementor(2)\\n"
                   "state.get_value().dtype.kind == 'i'")
        grade.value("decrementor and accumulator share one state (set 2, accumulator(5), decrementor(3))",
                    "state.set_value(2)\\naccumulator(5)\\ndecrementor(3)\\nint(state.get_value())", 4)
        ### END HIDDEN TESTS
    """),
    md("""
        ## 3. All updates happen at once

        Because every update is computed from the values *before* the call, two shared variables can swap their
        values in a single call — no temporary needed:
    """),
    code("""
        left, right = shared(1.0, name='left'), shared(2.0, name='right')
        swap = function([], [], updates=[(left, right), (right, left)])
        swap()
        print("left =", left.get_value(), " right =", right.get_value())
    """),
    md(r"""
        ## 4. Exercise 2 — a running average (2 points)

        An *exponential moving average* follows a noisy signal smoothly. With decay $\beta = 0.9$, each new
        sample $x_t$ moves the average a tenth of the way towards it:

        $$ m_t = \beta\, m_{t-1} + (1 - \beta)\, x_t . $$

        (Keep this formula in mind: the *momentum* of notebook 5 is exactly this, applied to gradients.)

        Using the shared variable `average` and the input `sample` below, compile `track`: it returns the
        current `average` and updates it with the formula above (use the Python variable `beta`).
    """),
    code("""
        beta = 0.9
        average = shared(0.0, name='average')
        sample = T.dscalar('sample')
    """),
    solution("ema_solution", """
        ### BEGIN SOLUTION
        track = function([sample], average, updates=[(average, beta * average + (1 - beta) * sample)])
        ### END SOLUTION
    """),
    check("ema_check", 2, """
        # Self-check for exercise 2
        assert isinstance(track, theano.Function), f"`track` should be a compiled function, got {type(track).__name__}."
        average.set_value(0.0)
        _first = track(10.0)
        assert isinstance(_first, np.ndarray) and float(_first) == 0.0, (
            f"starting from 0, track(10) should return the old average 0.0, got {_first!r}.")
        np.testing.assert_allclose(average.get_value(), 1.0, err_msg=(
            "\\nafter track(10) from 0 the average should be 0.9 · 0 + 0.1 · 10 = 1.0.\\n"
            "Hint: the update of `average` is m_t = β m_(t-1) + (1 - β) x_t, with β the Python variable `beta`."))
        track(10.0)
        np.testing.assert_allclose(average.get_value(), 1.9, err_msg="\\na second track(10) should give 0.9 * 1 + 1 = 1.9.")
        average.set_value(0.0)
        print("track follows the formula.")
        ### BEGIN HIDDEN TESTS
        _xs = rng(5).normal(size=40)
        _m, _returned = 0.5, []
        for _x in _xs:
            _returned.append(_m)
            _m = 0.9 * _m + 0.1 * _x
        grade.value("track on 40 random samples from an average of 0.5: the values it returns",
                    "average.set_value(0.5)\\n[float(track(_x)) for _x in _xs]", np.array(_returned), _xs=_xs, rtol=1e-12,
                    hint="track returns the average before the update")
        grade.value("the average after those 40 samples",
                    "average.set_value(0.5)\\nfor _x in _xs:\\n    track(_x)\\nfloat(average.get_value())", float(_m),
                    _xs=_xs, rtol=1e-12, hint="m_t = β m_(t-1) + (1 - β) x_t")
        ### END HIDDEN TESTS
    """),
    md(r"""
        Here is `track` on a noisy signal. The average lags behind the jumps a little and smooths out the noise:
        a larger $\beta$ means a smoother but slower average.
    """),
    code("""
        rng = np.random.default_rng(0)
        signal = np.where(np.arange(200) < 100, 1.0, 3.0) + rng.normal(scale=0.5, size=200)
        average.set_value(0.0)
        smoothed = [track(value) for value in signal]
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot(signal, ".", ms=3, alpha=0.5, label="samples")
        ax.plot(smoothed, label="moving average (before each update)")
        ax.set_xlabel("step"); ax.legend(loc="upper left"); ax.set_title("An exponential moving average kept in a shared variable")
        plt.show()
    """),
    md("""
        ## What to remember

        * `shared(value)` is a symbol with a value; read it with `get_value()`, write it with `set_value()`.
        * `updates=[(shared_var, new_expression), ...]` writes new values **after** the outputs are computed,
          all at once.
        * Many functions can use one shared variable. In the next notebook the shared variables are a model's
          weights and the update is a gradient step.
    """),
]

from _notebooks.act2_models import LOGREG, MLP  # noqa: E402  (the two longer notebooks live in their own file)

NOTEBOOKS = {
    "1_first_steps": FIRST_STEPS,
    "2_logistic_function": LOGISTIC,
    "3_shared_variables": SHARED,
    "4_logistic_regression": LOGREG,
    "5_mlp": MLP,
}
