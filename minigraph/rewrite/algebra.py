"""Canonical forms of products and sums: the work behind x*y/y -> x.

A product such as  -2 * x * y / (y * z**2)  is read into a coefficient and a table of factors with
their exponents: -2, {x: 1, y: 0, z: -2}. A sum such as  a - b + a - 3  into a constant and a table
of terms with their coefficients: -3, {a: 2, b: -1}. Equal factors (or terms) meet in one entry,
so x*y/y -> x, x - x -> 0, --x -> x, x*1 -> x, x + 0 -> x and x**a * x**b -> x**(a+b) all fall out.
fill(model, v) is read as v: `fit` (engine.py) puts the broadcast back where the shape needs it.

The graph is rebuilt from the table only when that removes nodes or cancels something, so these
rewrites cannot undo each other. The stable variant (stabilize phase) also knows that
exp(a)/(1 + exp(a)) = sigmoid(a), 1/(1 + exp(a)) = sigmoid(-a), exp(a)*sigmoid(-a) = sigmoid(a),
and distributes a product over a sum when a division then cancels: (a/s + b) * s -> a + b*s.
That is what keeps the gradient of the hand-written logistic cost finite: s = 0 divides nothing.
"""
from ..graph import Constant, as_variable
from ..ops.elemwise import neg, sigmoid
from .engine import scalar_name

# How each op's inputs enter the table: the weight of each input (0: ignored).
SUM = {"add": (1, 1), "sub": (1, -1), "neg": (-1,), "second": (0, 1)}
PRODUCT = {"mul": (1, 1), "true_div": (1, -1), "neg": (1,), "second": (0, 1)}


def key(v):
    """Structurally equal variables (same op on the same inputs) get the same key."""
    return (v.owner.op, tuple(map(id, v.owner.inputs)), v.index) if v.owner is not None else id(v)


def number(v):
    """The value of a one-element constant as a Python number, else None."""
    if isinstance(v, Constant) and v.data.size == 1 and v.data.dtype.kind in "iuf":
        return v.data.item()
    return None


def negated(v):
    """-v without a double negation, so that -(-z) is z again and equal graphs stay equal."""
    return v.owner.inputs[0] if scalar_name(v) == "neg" else neg(v)


class Table(dict):
    """key -> [variable, weight]; `met` records that two entries met (something cancelled)."""
    met = False

    def add(self, v, weight):
        if key(v) in self:
            self[key(v)][1] += weight
            self.met = True
        else:
            self[key(v)] = [v, weight]


def read(root, ops):
    """(constant, Table) of the sum (ops=SUM) or product (ops=PRODUCT) tree under `root`."""
    product = ops is PRODUCT
    const, table = (1 if product else 0), Table()

    def visit(v, w):
        nonlocal const
        name, c = scalar_name(v), number(v)
        if name in ops and v.dtype == root.dtype:       # other dtypes: a different arithmetic
            if product and name == "neg":
                const = -const
            for i, wi in zip(v.owner.inputs, ops[name]):
                if wi:
                    visit(i, w * wi)
        elif c is not None and not (product and w < 0 and c == 0):
            const = (const * c if w > 0 else const / c) if product else const + w * c
        elif product and name == "pow" and number(v.owner.inputs[1]) is not None:
            table.add(v.owner.inputs[0], w * number(v.owner.inputs[1]))
        else:
            table.add(v, w)
    visit(root, 1)
    return const, table


def build_product(coef, table):
    num, den = None, None
    for v, e in table.values():
        e = int(e) if float(e).is_integer() else e
        f = v if abs(e) == 1 else v ** abs(e)
        if e > 0:
            num = f if num is None else num * f
        elif e < 0:
            den = f if den is None else den * f
    num = as_variable(coef) if num is None else -num if coef == -1 else num if coef == 1 else coef * num
    return num if den is None else num / den


def build_sum(const, terms):
    """terms: [(variable, coefficient)]; positive terms first, then the subtracted ones."""
    out = None
    for v, c in sorted((t for t in terms if t[1] != 0), key=lambda t: t[1] < 0):
        t = v if abs(c) == 1 else abs(c) * v
        out = (t if c > 0 else -t) if out is None else (out + t if c > 0 else out - t)
    if out is None:
        return as_variable(const)
    return out if const == 0 else (out + const if const > 0 else out - (-const))


def size(v, leaves):
    """How many apply nodes compute v from the variables in `leaves` (a set of ids)."""
    count, stack, seen = 0, [v], set()
    while stack:
        v = stack.pop()
        if id(v) not in leaves and v.owner is not None and id(v.owner) not in seen:
            seen.add(id(v.owner))
            count += 1
            stack.extend(v.owner.inputs)
    return count


def canonical_sum(v):
    """a - b + b -> a, x - x -> 0, --x -> x, x + 0 -> x (float sums)"""
    if scalar_name(v) not in ("add", "sub", "neg") or v.dtype[:5] != "float":
        return None
    const, table = read(v, SUM)
    new, leaves = build_sum(const, table.values()), {id(t) for t, _ in table.values()}
    return new if size(new, leaves) < size(v, leaves) else None


def canonical_product(v, stable=False):
    """x*y/y -> x, x*1 -> x, x**a * x**b -> x**(a+b); distribute where a division cancels"""
    if scalar_name(v) not in ("mul", "true_div", "neg") or v.dtype[:5] != "float":
        return None
    coef, table = read(v, PRODUCT)
    changed = (stable and sigmoid_pairs(table)) or table.met
    for k, (f, e) in table.items():         # (a/s + b) * s -> a + b*s
        if e == 1 and scalar_name(f) in ("add", "sub") and f.dtype == v.dtype:
            const, terms = read(f, SUM)
            rest = {j: entry for j, entry in table.items() if j != k}
            if const == 0 and any(cancels(t, rest) for t, _ in terms.values()):
                rest = build_product(coef, rest)
                return build_sum(0, [(t * rest, c) for t, c in terms.values()])
    new, leaves = build_product(coef, table), {id(f) for f, _ in table.values()}
    return new if changed or size(new, leaves) < size(v, leaves) else None


def cancels(term, rest):
    """Does some factor of `term` cancel against a factor of the product `rest`?"""
    if scalar_name(term) not in ("mul", "true_div", "neg"):
        return False
    return any(k in rest and rest[k][1] * e < 0 for k, (_, e) in read(term, PRODUCT)[1].items())


def sigmoid_pairs(table):
    """exp(a) / (1 + exp(a)) -> sigmoid(a), exp(a) * sigmoid(-a) -> sigmoid(a), and what is left
    of 1 / (1 + exp(a)) -> sigmoid(-a). Returns whether anything changed."""
    def arg(v, name):
        return v.owner.inputs[0] if scalar_name(v) == name else None

    def one_plus_exp(v):
        if scalar_name(v) == "add":
            ones = [number(i) == 1 for i in v.owner.inputs]
            return arg(v.owner.inputs[ones[0]], "exp") if any(ones) else None

    changed = False
    for e in [e for e in table.values() if arg(e[0], "exp") is not None and e[1] > 0]:
        a = arg(e[0], "exp")
        for other in list(table.values()):
            b, c = one_plus_exp(other[0]), arg(other[0], "sigmoid")
            if e[1] > 0 and ((b is a and other[1] < 0) or (c is not None and other[1] > 0 and
                                                           (arg(a, "neg") is c or arg(c, "neg") is a))):
                n = min(e[1], abs(other[1]))
                e[1], other[1] = e[1] - n, other[1] + (n if other[1] < 0 else -n)
                table.add(sigmoid(a), n)
                changed = True
    for entry in list(table.values()):
        a = one_plus_exp(entry[0])
        if a is not None and entry[1] < 0:
            table.add(sigmoid(negated(a)), -entry[1])
            entry[1], changed = 0, True
    return changed
