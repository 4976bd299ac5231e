"""Act 1 — theory: the notebooks of course/act1_theory/, as data for course/build_notebooks.py."""
from build_notebooks import check, code, md, solution
from _notebooks.common import HOW_TO, IMPORTS

# ---------------------------------------------------------------------------------------------------------
THREE_WAYS = [
    md(r"""
        # Act 1 · 1 — Three ways to differentiate

        Every gradient-based method needs derivatives, and a computer can produce them in three quite different
        ways:

        | | what it works on | what it returns | exact? |
        |---|---|---|---|
        | **symbolic** (sympy, a CAS) | a formula | a formula | yes |
        | **numerical** (finite differences) | a function you can evaluate | a number | no: an approximation |
        | **automatic** (AD) | the elementary operations of a program | numbers | yes, to rounding |

        minigraph — like Theano — sits between the first and the third: it applies the chain rule to the
        elementary operations of a *graph*, as AD does, but its result is again a graph (a formula), as in
        symbolic differentiation, which it can then simplify, print and compile.

        In this notebook you compute one derivative all three ways, see why finite differences can never be very
        accurate, and meet `T.grad`.
    """),
    HOW_TO,
    IMPORTS,
    code("""
        import sympy
        import matplotlib.pyplot as plt
        from minigraph import symbolic
    """),
    md(r"""
        ## 1. Symbolic: rules applied to a formula

        A computer algebra system such as sympy knows the rules of calculus (product rule, chain rule, the
        derivative of $\sin$, ...) and rewrites a formula into the formula of its derivative. Our running example
        is $f(x) = x^2 \sin x$.
    """),
    code("""
        xs = sympy.Symbol('x')
        f_formula = xs ** 2 * sympy.sin(xs)
        df_formula = sympy.diff(f_formula, xs)
        df_formula
    """),
    code("""
        exact = float(df_formula.subs(xs, 1))
        print("f'(1) =", exact)
    """),
    md(r"""
        Formulas can grow quickly under differentiation ("expression swell"): the derivative of a product of
        $n$ factors has $n$ terms, and repeated sub-expressions are written out again and again. Keeping the
        result as a *graph*, where a repeated piece is stored once, avoids that.

        ## 2. Numerical: evaluate nearby and divide

        The definition of the derivative suggests an approximation: pick a small step $h$ and compute the
        *forward difference* $\big(f(x + h) - f(x)\big) / h$. Its error shrinks in proportion to $h$.
        The *central difference* looks both ways and does better, with an error in proportion to $h^2$:

        $$ f'(x) \approx \frac{f(x + h) - f(x - h)}{2h} . $$
    """),
    code("""
        def f_numpy(t):
            return t ** 2 * np.sin(t)

        def forward_difference(f, x, h):
            return (f(x + h) - f(x)) / h
    """),
    md("""
        ### Exercise 1 (2 points)

        Write `central_difference(f, x, h)` with NumPy. It should also work when `x` is an array (then it
        returns one estimate per entry).
    """),
    solution("central_solution", """
        def central_difference(f, x, h):
            ### BEGIN SOLUTION
            return (f(x + h) - f(x - h)) / (2 * h)
            ### END SOLUTION
    """),
    check("central_check", 2, """
        # Self-check for exercise 1
        _got = central_difference(lambda t: t ** 3, 1.0, 0.1)
        assert isinstance(_got, (float, np.floating)), (
            f"central_difference(f, 1.0, 0.1) should return a number, got {type(_got).__name__}.")
        np.testing.assert_allclose(_got, 3.01, rtol=1e-12, err_msg=(
            "\\nFor f(t) = t³ at x = 1 with h = 0.1 the central difference is (1.1³ - 0.9³) / 0.2 = 3.01.\\n"
            "Hint: the formula above divides by 2h — in Python that needs brackets around the whole denominator."))
        np.testing.assert_allclose(central_difference(np.sin, 1.0, 1e-5), np.cos(1.0), rtol=1e-9,
                                   err_msg="\\nFor sin at 1 with h = 1e-5 the estimate should match cos(1) to ~10 digits.")
        print("central_difference passes:", _got)
        ### BEGIN HIDDEN TESTS
        _pts = np.array([-2.0, 0.5, 3.0])
        grade.value("central_difference(np.exp, [-2, 0.5, 3], 1e-4): one estimate per point",
                    "np.asarray(central_difference(np.exp, _pts, 1e-4), dtype=float)",
                    (np.exp(_pts + 1e-4) - np.exp(_pts - 1e-4)) / 2e-4, _pts=_pts, rtol=1e-9, shape=(3,),
                    hint="use NumPy operations that work on arrays as well as numbers")
        for _h in (1e-2, 5e-3, 0.3):
            grade.value(f"central_difference of a cubic at x = 1.5 with h = {_h}",
                        "float(central_difference(lambda t: t ** 3 - 2 * t, 1.5, _h))",
                        ((1.5 + _h) ** 3 - 2 * (1.5 + _h) - (1.5 - _h) ** 3 + 2 * (1.5 - _h)) / (2 * _h), _h=_h,
                        rtol=1e-10, hint="[f(x + h) - f(x - h)] / 2h")
        ### END HIDDEN TESTS
    """),
    md(r"""
        ### How small should $h$ be?

        Smaller is not always better. Two errors compete:
        * the **truncation** error of the formula, about $h$ (forward) or $h^2$ (central), which falls as $h$ falls;
        * the **round-off** error: $f(x+h)$ and $f(x)$ agree in most of their digits, so their difference keeps
          only a few correct ones, and dividing by a tiny $h$ magnifies what is left — about
          $\varepsilon / h$ with $\varepsilon \approx 10^{-16}$.

        On a log-log plot the error is a "V": the right arm is truncation, the left arm round-off.
    """),
    code("""
        steps = np.logspace(-16, -1, 61)
        forward_err = [abs(forward_difference(f_numpy, 1.0, h) - exact) for h in steps]
        central_err = [abs(central_difference(f_numpy, 1.0, h) - exact) for h in steps]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.loglog(steps, np.maximum(forward_err, 1e-17), ".-", label="forward difference")
        ax.loglog(steps, np.maximum(central_err, 1e-17), ".-", label="central difference")
        ax.set_xlabel("step h"); ax.set_ylabel("|error| at x = 1")
        ax.set_title("Finite differences: truncation (right) vs round-off (left)")
        ax.legend(); plt.show()
        print(f"best forward error {min(forward_err):.1e} at h = {steps[np.argmin(forward_err)]:.0e}")
        print(f"best central error {min(central_err):.1e} at h = {steps[np.argmin(central_err)]:.0e}")
    """),
    md(r"""
        Even at the best $h$, a finite difference keeps only about half (forward) or two thirds (central) of
        the 16 digits of a float — and it costs one or two extra function evaluations *per input*. For a model
        with a million weights that is a million evaluations per gradient. Finite differences are still very
        useful: as a **check** of a gradient computed another way (`theano.verify_grad` does exactly that).

        ## 3. Automatic, minigraph style

        In minigraph you build $f$ as a graph and ask `T.grad` for the graph of its derivative. No step size, no
        approximation: the chain rule is applied to each operation, and the result is exact up to rounding.
    """),
    code("""
        x = T.dscalar('x')
        f = x ** 2 * T.sin(x)
        df = T.grad(f, x)
        auto = float(df.eval({x: 1.0}))
        print("T.grad gives f'(1) =", auto, "   difference from sympy:", auto - exact)
    """),
    md(r"""
        ## 4. Exercise 2 — the derivative of $x^2$ (2 points)

        Using the scalar `x` above, build `square` $= x^2$ and `dsquare`, its derivative — obtained with `T.grad`,
        not worked out by hand (the point is to let the library do the calculus).
    """),
    solution("square_solution", """
        ### BEGIN SOLUTION
        square = x ** 2
        dsquare = T.grad(square, x)
        ### END SOLUTION
    """),
    check("square_check", 2, """
        # Self-check for exercise 2
        assert isinstance(dsquare, theano.Variable), (
            f"`dsquare` should be a minigraph expression (what T.grad returns), got {type(dsquare).__name__}.\\n"
            "Hint: T.grad takes the cost and the variable to differentiate with respect to.")
        _f = function([x], dsquare)
        for _at, _want in ((3.0, 6.0), (-1.5, -3.0)):
            np.testing.assert_allclose(_f(_at), _want, err_msg=(
                f"\\nthe derivative of x² at {_at} should be 2 · {_at} = {_want}.\\n"
                "Hint: differentiate `square` with respect to `x`."))
        print("dsquare passes: d(x²)/dx at 3 is", _f(3.0))
        ### BEGIN HIDDEN TESTS
        grade.true("square is a scalar expression", "isinstance(square, theano.Variable) and square.ndim == 0")
        grade.value("square at 1.7", "float(function([x], square)(1.7))", 1.7 ** 2, rtol=1e-12)
        for _at in (-2.5, 0.0, 4.0):
            grade.value(f"dsquare at {_at}", "float(function([x], dsquare)(_at))", 2 * _at, _at=_at, rtol=1e-12)
        grade.graph("dsquare comes from T.grad", "dsquare", from_grad=True,
                    hint="the exercise asks T.grad for the derivative: 2x written by hand is right but not the method")
        ### END HIDDEN TESTS
    """),
    md("""
        What does the gradient graph look like? `pp` prints it exactly as `T.grad` built it: the chain rule,
        applied mechanically, leaves multiplications by one and a power of one in it. When the graph is
        *compiled*, minigraph rewrites it into a tidier equivalent (notebook 3 is about these rewrites), and the
        sympy bridge `symbolic.show` displays it as mathematics.
    """),
    code("""
        print("as built by T.grad:  ", pp(dsquare))
        print("after compilation:   ", pp(function([x], dsquare)))
        symbolic.show(dsquare, name=r"\\frac{d}{dx} x^2")
    """),
    md(r"""
        ## 5. Exercise 3 — one derivative, three ways (2 points)

        Take $g(x) = e^{-x^2/2} \sin(3x)$. Build it with minigraph as `g` (a function of the scalar `x`), let
        `T.grad` differentiate it into `dg`, and compile `dg` into the function `dg_fn` (its one input is `x`).
        The cell after the check compares your `dg_fn` with sympy and with your central difference.
    """),
    solution("three_ways_solution", """
        ### BEGIN SOLUTION
        g = T.exp(-x ** 2 / 2) * T.sin(3 * x)
        dg = T.grad(g, x)
        dg_fn = function([x], dg)
        ### END SOLUTION
    """),
    check("three_ways_check", 2, """
        # Self-check for exercise 3
        assert isinstance(g, theano.Variable) and isinstance(dg, theano.Variable), (
            "`g` and `dg` should be minigraph expressions of the scalar `x`.")
        _pts = [-1.0, 0.0, 0.4, 2.0]
        _gv = [float(function([x], g)(p)) for p in _pts]
        np.testing.assert_allclose(_gv, [np.exp(-p ** 2 / 2) * np.sin(3 * p) for p in _pts], rtol=1e-12, err_msg=(
            "\\n`g` does not compute e^(-x²/2) sin(3x).\\n"
            "Hint: minigraph has T.exp and T.sin; the exponent is minus x squared over two."))
        _want = [np.exp(-p ** 2 / 2) * (3 * np.cos(3 * p) - p * np.sin(3 * p)) for p in _pts]
        np.testing.assert_allclose([float(dg_fn(p)) for p in _pts], _want, rtol=1e-10, err_msg=(
            "\\n`dg_fn` does not compute the derivative of g.\\n"
            "Hint: differentiate g with respect to x with T.grad, then compile that gradient (one input, x)."))
        print("g and its gradient pass.")
        ### BEGIN HIDDEN TESTS
        _pts = np.array([-1.7, -0.2, 0.0, 0.9, 2.5])
        _gv = np.exp(-_pts ** 2 / 2) * np.sin(3 * _pts)
        _dgv = np.exp(-_pts ** 2 / 2) * (3 * np.cos(3 * _pts) - _pts * np.sin(3 * _pts))
        grade.value("g at five points", "np.array([float(function([x], g)(p)) for p in _pts])", _gv, _pts=_pts,
                    rtol=1e-12)
        grade.value("dg_fn at five points", "np.array([float(dg_fn(p)) for p in _pts])", _dgv, _pts=_pts,
                    rtol=1e-10, hint="g'(x) = e^(-x²/2) (3 cos 3x - x sin 3x)")
        grade.value("dg compiled afresh", "np.array([float(function([x], dg)(p)) for p in _pts])", _dgv, _pts=_pts,
                    rtol=1e-10)
        grade.graph("dg comes from T.grad", "dg", from_grad=True, hint="the exercise asks T.grad for dg")
        ### END HIDDEN TESTS
    """),
    code("""
        t = sympy.Symbol('x')
        dg_formula = sympy.diff(sympy.exp(-t ** 2 / 2) * sympy.sin(3 * t), t)
        g_numpy = lambda v: np.exp(-v ** 2 / 2) * np.sin(3 * v)
        print(f"{'x':>5} {'sympy':>22} {'T.grad':>22} {'central, h=1e-5':>22}")
        for point in (-1.0, 0.4, 2.0):
            print(f"{point:5.1f} {float(dg_formula.subs(t, point)):22.16f} {float(dg_fn(point)):22.16f} "
                  f"{central_difference(g_numpy, point, 1e-5):22.16f}")
    """),
    md("""
        ## What to remember

        * Symbolic differentiation returns formulas, numerical differentiation approximate numbers, automatic
          differentiation exact numbers; minigraph's `T.grad` returns a graph built by the chain rule.
        * Finite differences lose about half the digits and cost an evaluation per input: use them to *check*
          gradients, not to train.
        * `pp` shows a graph as built; compiling rewrites it; `symbolic.show` displays it as mathematics.
    """),
]

# ---------------------------------------------------------------------------------------------------------
HOW_IT_WORKS = [
    md("""
        # Act 1 · 2 — How minigraph works: graphs, and `grad` walking them backwards

        Behind every expression you build is a graph made of three kinds of node:

        * **variable** nodes hold a type (and, for constants and shared variables, a value) — drawn red below;
        * **op** nodes describe an operation (add, power, exp, ...) independently of any data — drawn green;
        * **apply** nodes record one use of an op on particular input variables, producing output variables —
          drawn blue.

        `T.grad` needs nothing more than this structure: it walks from the output back to the inputs, and at
        each apply node asks the op for its local derivative (the chain rule).
    """),
    HOW_TO,
    IMPORTS,
    code("""
        import matplotlib.pyplot as plt
        from minigraph import debugprint, symbolic
        from minigraph.graph import toposort
    """),
    md("""
        ## 1. Anatomy of `x ** 2`
    """),
    code("""
        x = T.dscalar('x')
        z = x ** 2
        node = z.owner
        print("z.owner        (apply):    ", node)
        print("z.owner.op     (op):       ", node.op)
        print("z.owner.inputs (variables):", node.inputs, "  outputs:", node.outputs)
        print("x.owner:", x.owner, " (x is a leaf: nobody computes it)")
    """),
    md("""
        `debugprint` shows the same thing as an indented tree, outputs first:
    """),
    code("""
        debugprint(z)
    """),
    md("""
        ## 2. Drawing a graph

        The function below lays out a graph in rows: inputs at the top, each apply node one row below the
        lowest of its inputs, its outputs one row lower still. Each apply node's op is drawn beside it.
    """),
    code("""
        def draw_graph(outputs, ax=None, title=None):
            outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
            nodes = toposort(outputs)
            level, order = {}, []            # id -> row; variables in the order they are met
            def place_var(v, row):
                if id(v) not in level:
                    order.append(v)
                level[id(v)] = max(level.get(id(v), 0), row)
            for n in nodes:
                for i in n.inputs:
                    place_var(i, 0 if i.owner is None else level[id(i)])
                level[id(n)] = max(level[id(i)] for i in n.inputs) + 1
                for o in n.outputs:
                    place_var(o, level[id(n)] + 1)
            rows = {}
            for item in order + nodes:
                rows.setdefault(level[id(item)], []).append(item)
            pos = {id(item): (k - (len(items) - 1) / 2, -row) for row, items in rows.items() for k, item in enumerate(items)}
            ax = ax or plt.subplots(figsize=(1.8 * max(len(v) for v in rows.values()) + 2, 1.1 * len(rows) + 0.5))[1]
            arrow = dict(arrowstyle="->", color="gray", shrinkA=12, shrinkB=12)
            for n in nodes:
                for v in n.inputs:
                    ax.annotate("", pos[id(n)], pos[id(v)], arrowprops=arrow)
                for v in n.outputs:
                    ax.annotate("", pos[id(v)], pos[id(n)], arrowprops=arrow)
                px, py = pos[id(n)]
                op = str(n.op).replace("Elemwise{", "").rstrip("}")
                ax.plot([px, px + 0.45], [py, py], ":", color="green")
                ax.text(px + 0.45, py, op, ha="left", va="center", color="white", fontsize=8,
                        bbox=dict(boxstyle="round", fc="seagreen"))
                ax.text(px, py, "apply", ha="center", va="center", color="white", fontsize=8,
                        bbox=dict(boxstyle="square", fc="royalblue"))
            for v in order:
                label = v.name or (repr(v) if v.owner is None else "out" if any(v is o for o in outputs) else "")
                ax.text(*pos[id(v)], label or " ", ha="center", va="center", fontsize=9,
                        bbox=dict(boxstyle="ellipse", fc="#f4b6b0", ec="firebrick"))
            xs = [p[0] for p in pos.values()]; ys = [p[1] for p in pos.values()]
            ax.set_xlim(min(xs) - 0.8, max(xs) + 1.4); ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
            ax.axis("off")
            if title:
                ax.set_title(title)
            return ax

        draw_graph(z, title="z = x ** 2")
        plt.show()
    """),
    md("""
        ## 3. Exercise 1 — walk a graph yourself (2 points)

        Write `count_apply_nodes(v)`: the number of **distinct** apply nodes that the computation of `v` needs.
        Start at `v.owner`, follow each input's `.owner`, and stop at leaves (`owner is None`). A node reached
        along two paths counts once — keep a set of the nodes you have seen (`id(node)` works as a key).
    """),
    solution("count_solution", """
        def count_apply_nodes(v):
            ### BEGIN SOLUTION
            seen, stack = set(), [v]
            while stack:
                var = stack.pop()
                if var.owner is None or id(var.owner) in seen:
                    continue
                seen.add(id(var.owner))
                stack.extend(var.owner.inputs)
            return len(seen)
            ### END SOLUTION
    """),
    check("count_check", 2, """
        # Self-check for exercise 1
        _x, _y = T.dscalars('x_check', 'y_check')
        for _expr, _n, _why in ((_x ** 2, 1, "x ** 2 is one apply node (pow)"),
                                (_x * _y + _x, 2, "x * y + x: mul, then add"),
                                (T.exp(_x * _y) * (_x * _y), 4, "the two `x * y` are different nodes: 3 mul + exp"),
                                (_x, 0, "a leaf needs no computation")):
            _got = count_apply_nodes(_expr)
            assert isinstance(_got, (int, np.integer)) and _got == _n, (
                f"count_apply_nodes({pp(_expr)}) should be {_n} ({_why}), got {_got!r}.\\n"
                "Hint: follow .owner and .inputs from the output; skip leaves (owner is None).")
        _s = _x * _y
        _shared_expr = T.exp(_s) + _s
        _got = count_apply_nodes(_shared_expr)
        assert _got == 3, (
            f"in exp(s) + s with s = x * y built once, the node for s is reached twice but is one node: expected 3, "
            f"got {_got}.\\nHint: remember the nodes you have already counted (a set of id(node)).")
        print("count_apply_nodes passes.")
        ### BEGIN HIDDEN TESTS
        grade.value("a chain reusing each step twice, 20 times (2²⁰ paths, 40 nodes)",
                    "_v = T.dvector('v')\\n_deep = _v\\nfor _ in range(20):\\n    _deep = _deep * 2 + _deep\\n"
                    "int(count_apply_nodes(_deep))", 40, hint="count each node once: remember the ones seen")
        grade.value("((v²).sum() + exp(v).mean())² built once: pow, sum, exp, mean, add, pow",
                    "_v = T.dvector('v')\\nint(count_apply_nodes(((_v ** 2).sum() + T.exp(_v).mean()) ** 2))", 6)
        grade.value("two outputs of one node share it: exp(s) * s + s with s = x * y",
                    "_x, _y = T.dscalars('x', 'y')\\n_s = _x * _y\\nint(count_apply_nodes(T.exp(_s) * _s + _s))", 4)
        grade.value("a leaf", "int(count_apply_nodes(T.dmatrix('m')))", 0)
        ### END HIDDEN TESTS
    """),
    md("""
        ## 4. `grad`, step by step

        `T.grad(cost, x)` works in four steps:
        1. order the apply nodes from inputs to cost;
        2. seed: the derivative of the cost with respect to itself is 1;
        3. visit the nodes **in reverse**; each op turns the gradient arriving at its output into gradients for
           its inputs (its `grad` method is the local chain rule);
        4. a variable used in several places adds up the gradients arriving from each use.

        The function below does exactly this for scalar graphs and prints every step. Watch `x` receive two
        contributions in $c = x^2 y + x$, one through the power and one directly:
    """),
    code("""
        def walk_grad(cost, wrt):
            grads = {id(cost): T.constant(1.0)}                       # step 2
            for n in reversed(toposort([cost])):                      # steps 1 and 3
                upstream = grads.get(id(n.outputs[0]))
                if upstream is None:
                    continue
                print(f"at {pp(n.outputs[0])}   (op {n.op}, gradient arriving: {pp(upstream)})")
                for inp, g in zip(n.inputs, n.op.grad(n.inputs, [upstream])):
                    if g is None or isinstance(inp, theano.Constant):
                        continue
                    print(f"    -> towards {pp(inp)}: {pp(g)}")
                    grads[id(inp)] = g if id(inp) not in grads else grads[id(inp)] + g   # step 4
            return grads[id(wrt)]

        y = T.dscalar('y')
        c = x ** 2 * y + x
        by_hand = walk_grad(c, x)
        print("\\nour walk:", by_hand.eval({x: 3.0, y: 2.0}), "   T.grad:", T.grad(c, x).eval({x: 3.0, y: 2.0}),
              "   by calculus 2xy + 1 =", 2 * 3.0 * 2.0 + 1)
    """),
    md(r"""
        ## 5. Exercise 2 — predict the gradient (1 + 1 points)

        Before asking `T.grad`, work the derivative out on paper and write it as a minigraph expression of `x`:

        * `predicted_h` — the derivative of $h(x) = x\, e^{x}$ (product rule);
        * `predicted_k` — the derivative of $k(x) = \sin(x^2)$ (chain rule).

        Write them with `T.exp`, `T.sin`, `T.cos` and arithmetic — not with `T.grad`. The check compares them
        with `T.grad`, both as formulas (through sympy) and by value.
    """),
    code("""
        h = x * T.exp(x)
        k = T.sin(x ** 2)
    """),
    solution("predict_solution", """
        ### BEGIN SOLUTION
        predicted_h = T.exp(x) + x * T.exp(x)
        predicted_k = 2 * x * T.cos(x ** 2)
        ### END SOLUTION
    """),
    check("predict_h_check", 1, """
        # Self-check for exercise 2, part h
        assert isinstance(predicted_h, theano.Variable), (
            f"`predicted_h` should be a minigraph expression of x, got {type(predicted_h).__name__}.")
        _report = symbolic.equivalent(predicted_h, T.grad(h, x))
        assert _report, f"predicted_h is not the derivative of x * exp(x).\\n{_report}\\nHint: (uv)' = u'v + uv'."
        print("predicted_h is right:", pp(predicted_h))
        ### BEGIN HIDDEN TESTS
        _pts = np.array([-2.0, 0.0, 1.3, 3.1])
        grade.value("predicted_h at four points", "np.array([float(function([x], predicted_h)(p)) for p in _pts])",
                    np.exp(_pts) * (1 + _pts), _pts=_pts, rtol=1e-12, hint="(uv)' = u'v + uv'")
        grade.graph("predicted_h is worked out by hand, without T.grad", "predicted_h", from_grad=False,
                    is_graph=True, hint="the exercise asks you to predict the gradient: T.grad is not allowed here")
        ### END HIDDEN TESTS
    """),
    check("predict_k_check", 1, """
        # Self-check for exercise 2, part k
        assert isinstance(predicted_k, theano.Variable), (
            f"`predicted_k` should be a minigraph expression of x, got {type(predicted_k).__name__}.")
        _report = symbolic.equivalent(predicted_k, T.grad(k, x))
        assert _report, (f"predicted_k is not the derivative of sin(x ** 2).\\n{_report}\\n"
                         "Hint: the outer derivative cos(x ** 2) times the inner derivative 2x.")
        print("predicted_k is right:", pp(predicted_k))
        ### BEGIN HIDDEN TESTS
        _pts = np.array([-2.0, 0.0, 1.3, 3.1])
        grade.value("predicted_k at four points", "np.array([float(function([x], predicted_k)(p)) for p in _pts])",
                    2 * _pts * np.cos(_pts ** 2), _pts=_pts, rtol=1e-12, hint="outer derivative times inner derivative")
        grade.graph("predicted_k is worked out by hand, without T.grad", "predicted_k", from_grad=False,
                    is_graph=True, hint="the exercise asks you to predict the gradient: T.grad is not allowed here")
        ### END HIDDEN TESTS
    """),
    md("""
        Here is what `T.grad` actually built for $k$, next to the graph that runs after compilation. The raw
        gradient carries every intermediate step of the chain rule; the compiled one has been simplified and its
        element-wise operations fused into one node.
    """),
    code("""
        dk = T.grad(k, x)
        compiled = function([x], dk)
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 6), gridspec_kw={"width_ratios": [2, 1]})
        draw_graph(dk, ax=left, title="T.grad(sin(x ** 2), x), as built")
        draw_graph(compiled.graph[:compiled.n_outputs], ax=right, title="after compilation")
        plt.tight_layout(); plt.show()
        print(pp(dk)); print(pp(compiled))
    """),
    md("""
        ## What to remember

        * A graph has variable, op and apply nodes; `.owner`, `.op` and `.inputs` walk it.
        * `T.grad` is a walk from the output back to the inputs, one local chain rule per apply node, adding up
          the contributions that reach a variable used several times.
        * The gradient is itself a graph — it can be printed, drawn, compiled, or differentiated again.
    """),
]

# ---------------------------------------------------------------------------------------------------------
REWRITES = [
    md("""
        # Act 1 · 3 — Graph rewrites: what `function` does before it runs anything

        A graph as you wrote it — or as `T.grad` produced it — is rarely the best way to compute its value.
        Before compiling, `function` works on a copy of the graph in phases, each replacing patterns by
        equivalent ones:

        | phase | what it does | example |
        |---|---|---|
        | merge | computes identical sub-graphs once | two separate `x + y` become one |
        | constant folding | computes what depends only on constants | `2.0 ** 10` → `1024.0` |
        | canonicalize | one standard form per expression | `x * y / y` → `x` |
        | stabilize | same value, without overflow or cancellation | `log(1 - sigmoid(z))` → `-softplus(z)` |
        | specialize | faster special cases | `x ** 2` → `sqr(x)` |
        | fusion | chains of element-wise ops become one loop | `exp(a) * b + c` → one node |

        `rewrite.trace(expr)` shows the graph after each phase and the rewrites that fired.
    """),
    HOW_TO,
    IMPORTS,
    code("""
        import matplotlib.pyplot as plt
        from minigraph import debugprint, rewrite
        from minigraph.graph import toposort
    """),
    md("""
        ## 1. `x * y / y` → `x`
    """),
    code("""
        x, y = T.dscalars('x', 'y')
        rewrite.trace(x * y / y)
    """),
    md("""
        The rewritten function no longer divides at all. Note what that means at `y = 0`: the formula as
        written is `0 / 0`, not a number, but the compiled function returns `x`. Like Theano, minigraph's
        algebraic rewrites assume the value you divide by is not zero. (`mode="FAST_COMPILE"` runs only the
        merge phase, so the graph is computed as written.)
    """),
    code("""
        print("compiled:  ", function([x, y], x * y / y)(2.0, 0.0))
        print("as written:", function([x, y], x * y / y, mode="FAST_COMPILE")(2.0, 0.0))
    """),
    md("""
        ## 2. Merging duplicates

        Here `x + y` is built twice, as two separate apply nodes. Merging finds apply nodes with the same op on
        the same inputs and keeps one; fusion then folds the element-wise chain into a single node. The trace
        below counts apply nodes after each phase.
    """),
    code("""
        first, second = x + y, x + y
        twice = first * T.exp(second)
        rewrite.trace(twice, show=lambda v: f"{len(toposort([v]))} apply nodes: {pp(v)}")
    """),
    code("""
        debugprint(function([x, y], twice))
    """),
    md("""
        ## 3. Constant folding

        Whatever depends only on constants is computed once, at compile time:
    """),
    code("""
        rewrite.trace(x * (T.constant(2.0) ** 10))
    """),
    md(r"""
        ## 4. Stability: $\log s(x)$ at $x = -800$

        The log of the logistic function appears in every classification cost. Written directly,
        $s(-800) = 1/(1 + e^{800})$: $e^{800}$ overflows to infinity, $s$ becomes exactly 0, and the log is
        $-\infty$ — although the true value is simply about $-800$. The *stabilize* phase rewrites the graph
        into $-\mathrm{softplus}(-x) = -\log(1 + e^{-x})$, which minigraph computes without overflow.
    """),
    code("""
        log_s = T.log(1 / (1 + T.exp(-x)))
        stable = function([x], log_s)
        naive = function([x], log_s, excluding=["stabilize"])
        print(f"{'x':>6} {'as written':>14} {'rewritten':>14}")
        for value in (-800.0, -40.0, 0.0, 40.0, 800.0):
            print(f"{value:6g} {float(naive(value)):14.6g} {float(stable(value)):14.6g}")
        rewrite.trace(log_s)
    """),
    code("""
        grid = np.linspace(-900, 10, 400)
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot(grid, [float(stable(v)) for v in grid], lw=3, label="rewritten")
        ax.plot(grid, [float(naive(v)) for v in grid], "--", label="as written (-inf below about -745)")
        ax.set_xlabel("x"); ax.set_ylabel("log s(x)"); ax.legend(); plt.show()
    """),
    md("""
        The same rewrite is what lets the tutorial's logistic regression start from large random weights: its
        cost holds $\\log\\big(1 - s(z)\\big)$ with scores $z$ in the tens.
    """),
    code("""
        rng = np.random.default_rng(42)
        X, labels = rng.normal(size=(400, 784)), rng.integers(0, 2, size=400).astype(float)
        xm, yv = T.matrix('x'), T.vector('y')
        w, b = shared(rng.normal(size=784), name='w'), shared(0.0, name='b')
        p_1 = 1 / (1 + T.exp(-T.dot(xm, w) - b))
        cost = (-yv * T.log(p_1) - (1 - yv) * T.log(1 - p_1)).mean() + 0.01 * (w ** 2).sum()
        print("cost at the tutorial's starting point, as written:",
              function([xm, yv], cost, excluding=["stabilize"])(X, labels))
        print("                                        rewritten:", function([xm, yv], cost)(X, labels))
    """),
    md(r"""
        ## 5. Exercise — a rewrite of your own (2 points)

        A rewrite is a **pattern** and a **replacement**. A pattern is a nested tuple `(op name, argument
        patterns...)`; a string inside it is a pattern variable that matches any sub-graph, and the same name
        used twice must match the *same* variable. For example

        ```python
        rewrite.register("canonicalize", "exp_of_log", ("exp", ("log", "v")), lambda v: v)
        ```

        would turn $e^{\log v}$ into $v$. (Use it only where $v > 0$!)

        Register a rewrite named `"pythagoras"` in the `"canonicalize"` phase that turns
        $\sin^2 v + \cos^2 v$ into ones of the same shape as $v$ (`T.ones_like(v)`). In minigraph the square is
        the op `"pow"` with the exponent `2`. Keep what `register` returns in `pythagoras`.
    """),
    solution("pythagoras_solution", """
        ### BEGIN SOLUTION
        sin2_plus_cos2 = ("add", ("pow", ("sin", "v"), 2), ("pow", ("cos", "v"), 2))
        pythagoras = rewrite.register("canonicalize", "pythagoras", sin2_plus_cos2, lambda v: T.ones_like(v))
        ### END SOLUTION
    """),
    code("""
        a = T.dvector('a')
        identity = T.sin(a) ** 2 + T.cos(a) ** 2
        rewrite.trace(identity)
    """),
    check("pythagoras_check", 2, """
        # Self-check: the rewrite fires and gives the right values
        assert isinstance(pythagoras, rewrite.Rewrite), (
            f"`pythagoras` should be what rewrite.register returns, got {type(pythagoras).__name__}.")
        _a = T.dvector('a_check')
        _steps = rewrite.trace(T.sin(_a) ** 2 + T.cos(_a) ** 2)
        _fired = [name for _, _, names in _steps for name in names]
        assert "pythagoras" in _fired, (
            f"the rewrite did not fire on sin(a)**2 + cos(a)**2; rewrites that fired: {_fired}.\\n"
            "Hint: nest the pattern like the formula: an add of two pows, each of a sin (or a cos) of the same "
            "pattern variable, with the exponent 2; register it in the canonicalize phase.")
        _out = function([_a], T.sin(_a) ** 2 + T.cos(_a) ** 2)(np.array([0.3, -2.0, 5.0]))
        np.testing.assert_allclose(_out, np.ones(3), err_msg=(
            "\\nafter the rewrite the function should return ones shaped like the input.\\n"
            "Hint: the replacement is a function of the matched variable that returns ones of its shape."))
        print("your rewrite fires:", _steps[-1][1])
        ### BEGIN HIDDEN TESTS
        _fired = "[n for _, _, names in rewrite.trace({}, show=lambda v: '') for n in names]"
        grade.true("the rewrite fires on sin²(a) + cos²(a)",
                   "_a = T.dvector('a')\\n'pythagoras' in " + _fired.format("T.sin(_a) ** 2 + T.cos(_a) ** 2"))
        grade.true("and not on sin²(a) + cos²(b)",
                   "_a, _b = T.dvector('a'), T.dvector('b')\\n'pythagoras' not in "
                   + _fired.format("T.sin(_a) ** 2 + T.cos(_b) ** 2"), hint="the same pattern variable twice")
        _vals = np.arange(6.0).reshape(2, 3) * 1.7
        grade.value("cos²(m) + sin²(m) on a 2x3 matrix is exactly ones (the rewrite, not rounding)",
                    "_m = T.dmatrix('m')\\nfunction([_m], T.cos(_m) ** 2 + T.sin(_m) ** 2)(_vals)", np.ones((2, 3)),
                    _vals=_vals, rtol=0, atol=0, shape=(2, 3))
        ### END HIDDEN TESTS
    """),
    md("""
        ## 6. After the rewrites: code for the CPU, or for the GPU

        The rewritten graph is finally handed to a **backend** that turns it into code. On the CPU minigraph
        generates a numba function per fused node; with `device='cuda'` it generates CUDA kernels instead — the
        slides' "symbolic equations compiled to run efficiently on CPU and GPU". The graph, its rewrites and its
        gradient are the same; only the last step differs.

        The cell below compiles the stabilised $\\log s(v)$ of section 4 (and its sum) for the GPU, runs it on
        five numbers, compares with the CPU, and prints the kernel minigraph generated for the element-wise part:
        one thread per element, `cuda.grid(1)` its index, a grid-stride loop so any size fits.

        **No GPU here?** Then it runs in numba's *CUDA simulator*, which executes each GPU thread as ordinary
        Python — the same kernel code, so the same numbers, only slowly (hence a tiny input). The simulator must
        be switched on (`NUMBA_ENABLE_CUDASIM=1`) before numba is first imported, and this notebook's kernel has
        imported numba long ago (the CPU backend uses it), so the demonstration runs in a fresh Python process.
    """),
    code(r'''
        import os, subprocess, sys

        GPU_DEMO = r"""
        import os
        import numpy as np
        import minigraph.tensor as T
        from minigraph import function
        from minigraph.backends import numba_cuda

        kernels = []                          # each kernel source the CUDA backend generates, in order
        _compile = numba_cuda._kernel
        def _recording(source):
            if source not in kernels:
                kernels.append(source)
            return _compile(source)
        numba_cuda._kernel = _recording       # a peek into the backend, for this demonstration only

        v = T.dvector('v')
        log_s = T.log(1 / (1 + T.exp(-v)))
        on_gpu = function([v], [log_s, log_s.sum()], device='cuda')
        on_cpu = function([v], [log_s, log_s.sum()], device='cpu')
        values = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])    # a tiny input: the simulator runs kernels as Python
        print("backend:", on_gpu.backend_name, "(numba.cuda simulator)" if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else "(GPU)")
        for name, f in (("GPU", on_gpu), ("CPU", on_cpu)):
            elementwise, total = f(values)
            print(f"{name}: log s(v) = {np.array2string(np.asarray(elementwise), precision=6, max_line_width=200)}, sum = {float(total):.6g}")
        print("\nwhat runs where:\n" + on_gpu.source())
        print(f"\n{len(kernels)} kernels generated; the element-wise one:\n")
        print(next(k for k in kernels if "softplus" in k or "log" in k))
        """

        def has_gpu():
            try:
                from numba import cuda
                return cuda.is_available()
            except Exception:            # no driver, no toolkit: no GPU for numba
                return False

        env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0" if has_gpu() else "1")
        run = subprocess.run([sys.executable, "-c", GPU_DEMO], env=env, capture_output=True, text=True, timeout=300)
        print(run.stdout or run.stderr[-3000:])
    '''),
    md("""
        ## What to remember

        * `function` never runs your graph as written: it merges, folds, simplifies, stabilises, specialises and
          fuses a copy first. `rewrite.trace` shows each step.
        * Rewrites change *how* a value is computed, not *what* is computed — except where they assume things
          (such as `y ≠ 0` in `x * y / y`).
        * Stability rewrites turn formulas that overflow into ones that do not; that is why the tutorial's
          logistic regression trains from large random weights.
        * You can add rewrites: a pattern and a replacement.
        * The rewritten graph becomes numba code for the CPU or CUDA kernels for the GPU (`device='cuda'`);
          your code does not change.
    """),
]

NOTEBOOKS = {
    "1_three_ways": THREE_WAYS,
    "2_how_minigraph_works": HOW_IT_WORKS,
    "3_graph_rewrites": REWRITES,
}
