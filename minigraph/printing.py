"""Showing graphs to people: `pp` as a formula, `debugprint` as an indented tree."""
import sys

from .graph import Constant, Variable


def _compiled(obj):
    """A compiled Function (duck-typed: printing is a floor below compile/): it has the rewritten
    graph it runs, outputs first, then the updates."""
    return not isinstance(obj, (Variable, list, tuple)) and hasattr(obj, "graph") and hasattr(obj, "n_outputs")


def pp(obj):
    """A graph as one readable formula: pp(x + y) == '(x + y)'."""
    if _compiled(obj):
        return "\n".join(pp(o) for o in obj.graph[:obj.n_outputs])
    if isinstance(obj, (list, tuple)):
        return "\n".join(pp(o) for o in obj)
    memo = {}

    def show(v):
        if id(v) in memo:
            return memo[id(v)]
        if v.owner is None:
            text = repr(v) if isinstance(v, Constant) or v.name else f"<{v.type}>"
        else:
            args = [show(i) for i in v.owner.inputs]
            printer = getattr(v.owner.op, "pp", None)
            text = printer(v.owner, args) if printer else f"{v.owner.op}({', '.join(args)})"
            if len(v.owner.outputs) > 1:
                text += f".{v.index}"
        memo[id(v)] = text
        return text

    return show(obj)


pprint = pp      # Theano's name: theano.printing.pprint(prediction)


def debugprint(obj, file=None):
    """Print the graph as a tree; a node seen before is shown by its id only.

    file=None prints to stdout; file='str' returns the text instead.
    """
    outputs = obj.graph if _compiled(obj) else (list(obj) if isinstance(obj, (list, tuple)) else [obj])
    ids, lines = {}, []

    def label(key):
        if key not in ids:
            n = len(ids)
            ids[key] = "".join(chr(65 + d) for d in _digits(n))
        return ids[key]

    def walk(v, depth):
        prefix = " |" * depth if depth else ""
        name = f" '{v.name}'" if v.name and v.owner is not None else ""
        if v.owner is None:
            text = repr(v) if (v.name or isinstance(v, Constant)) else f"<{v.type}>"
            lines.append(f"{prefix}{text} [id {label(id(v))}]")
            return
        node = v.owner
        seen = id(node) in ids
        out = f".{v.index}" if len(node.outputs) > 1 else ""
        lines.append(f"{prefix}{node.op}{out} [id {label(id(node))}]{name}" + (" (seen above)" if seen else ""))
        if not seen:
            for i in node.inputs:
                walk(i, depth + 1)

    for o in outputs:
        walk(o, 0)
    text = "\n".join(lines)
    if file == "str":
        return text
    print(text, file=file or sys.stdout)


def _digits(n):
    # 0 -> A, 25 -> Z, 26 -> BA ... (spreadsheet-like ids, as Theano prints them)
    digits = []
    while True:
        digits.append(n % 26)
        n //= 26
        if n == 0:
            return list(reversed(digits))


def _layers(outputs):
    """Graph items (variables and Apply nodes) by depth from the inputs: what pydotprint draws in rows."""
    depth, order = {}, []

    def visit(v):
        if id(v) in depth:
            return depth[id(v)]
        if v.owner is None:
            depth[id(v)] = 0
        else:
            node = v.owner
            if id(node) not in depth:
                depth[id(node)] = 1 + max([visit(i) for i in node.inputs], default=0)
                order.append(node)
            depth[id(v)] = depth[id(node)] + 1
        order.append(v)
        return depth[id(v)]

    for o in outputs:
        visit(o)
    rows = {}
    for item in dict((id(x), x) for x in order).values():
        rows.setdefault(depth[id(item)], []).append(item)
    return rows


def pydotprint(fct, outfile=None, format="png", var_with_name_simple=False, print_output_file=True, **options):
    """Draw the graph of a compiled function or of variables to `outfile` (PNG, SVG or PDF, from its
    extension or `format`), with matplotlib: no graphviz needed. Boxes are Apply nodes, ellipses
    variables (green: inputs, blue: outputs, grey: constants). Returns the file's path."""
    import matplotlib    # noqa: PLC0415  (heavy, and only drawing needs it)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt    # noqa: PLC0415

    outputs = fct.graph[:fct.n_outputs] if _compiled(fct) else (list(fct) if isinstance(fct, (list, tuple)) else [fct])
    outfile = outfile or f"minigraph.pydotprint.{format}"
    rows = _layers(outputs)
    width = max(len(r) for r in rows.values())
    fig, ax = plt.subplots(figsize=(max(4, 2.6 * width), max(3, 1.1 * len(rows))))
    where, out_ids = {}, {id(o) for o in outputs}
    for level, items in rows.items():
        for k, item in enumerate(items):
            xy = ((k + 1) / (len(items) + 1), 1 - (level + 0.5) / len(rows))
            where[id(item)] = xy
            if isinstance(item, Variable):
                text = repr(item) if (item.name or isinstance(item, Constant)) else str(item.type)
                if not var_with_name_simple and item.name and item.owner is None:
                    text = f"{item.name} {item.type}"
                color = ("lightgrey" if isinstance(item, Constant) else "palegreen" if item.owner is None
                         else "lightblue" if id(item) in out_ids else "white")
                box = dict(boxstyle="round,pad=0.4", fc=color, ec="black")
            else:
                text, box = str(item.op), dict(boxstyle="square,pad=0.4", fc="khaki", ec="black")
            ax.text(*xy, text, ha="center", va="center", fontsize=8, bbox=box, zorder=2)
    for items in rows.values():
        for item in items:
            if isinstance(item, Variable) and item.owner is not None:
                _arrow(ax, where[id(item.owner)], where[id(item)])
            elif not isinstance(item, Variable):
                for i in item.inputs:
                    _arrow(ax, where[id(i)], where[id(item)])
    ax.set_axis_off()
    fig.savefig(outfile, format=outfile.rsplit(".", 1)[-1] if "." in outfile else format, bbox_inches="tight")
    plt.close(fig)
    if print_output_file:
        print(f"The output file is available at {outfile}")
    return outfile


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, zorder=1,
                arrowprops=dict(arrowstyle="->", color="dimgray", shrinkA=12, shrinkB=12))


__all__ = ["pp", "pprint", "debugprint", "pydotprint", "Variable"]
