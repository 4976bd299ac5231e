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


__all__ = ["pp", "debugprint", "Variable"]
