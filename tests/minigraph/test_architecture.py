"""minigraph's floors, checked from its source with `ast`: no import loop, imports only downwards
(or within a floor), no import inside a function except of a heavy optional dependency, no file
over 400 lines. minigraph/ARCHITECTURE.md describes the floors."""
import ast
import pathlib
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "minigraph"
MAX_LINES = 400

# Module name prefix -> floor; a module imports only from its own floor or lower ones.
FLOORS = {
    "minigraph.config": 0, "minigraph.types": 0, "minigraph.graph": 0, "minigraph.perform": 0,
    "minigraph.ops": 1,
    "minigraph.rewrite": 2, "minigraph.gradient": 2, "minigraph.printing": 2,
    "minigraph.backends": 3,
    "minigraph.compile": 4,
    "minigraph.tensor": 5, "minigraph.numpy_interop": 5, "minigraph.gradcheck": 5, "minigraph.testing": 5,
    "minigraph.symbolic": 5, "minigraph.sympy_bridge": 5, "minigraph.sandbox": 5, "minigraph.ifelse": 5, "minigraph": 5,
}
# Imports allowed inside functions: heavy dependencies only some uses need (numba.cuda; sympy; matplotlib
# for printing.pydotprint; scipy's BLAS and threadpoolctl when the first numba kernel is loaded).
LAZY_ALLOWED = ("minigraph.backends.numba_cuda", "minigraph.sympy_bridge", "numba.cuda", "sympy", "matplotlib",
                "matplotlib.pyplot", "scipy.linalg.cython_blas", "threadpoolctl")


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def floor(module):
    return FLOORS[max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len)]


def imports(module):
    """[(imported minigraph module or other top-level name, line, inside a function?)]"""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([child.module] if child.module else []))
                targets = [f"{base}.{a.name}" for a in child.names if f"{base}.{a.name}" in MODULES]
                if len(targets) < len(child.names):          # names that are not submodules
                    targets.append(base)
                found.extend((t, child.lineno, inside) for t in targets)
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return found


GRAPH = {m: sorted({t for t, _, _ in imports(m) if t in MODULES and t != m}) for m in MODULES}


def test_the_module_list_is_complete_and_every_module_has_a_floor():
    assert {"minigraph.graph", "minigraph.backends.numba_cpu.codegen", "minigraph.ops.elemwise"} <= set(MODULES)
    for m in MODULES:
        floor(m)          # a KeyError names a module with no floor


def test_no_import_loop():
    """Depth-first search for a cycle in the import graph (function-level imports included)."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in GRAPH[m]:
            if state.get(t) == "open":
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import loop: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in MODULES:
        if m not in state:
            visit(m)


def test_imports_go_down_the_floors():
    upward = [f"{m} (floor {floor(m)}) imports {t} (floor {floor(t)})"
              for m in MODULES for t in GRAPH[m] if floor(t) > floor(m)]
    assert not upward, "\n".join(upward)


def test_imports_inside_functions_are_heavy_optional_dependencies_with_a_reason():
    bad = []
    for m, path in MODULES.items():
        lines = path.read_text().splitlines()
        for target, line, inside in imports(m):
            if not inside:
                continue
            allowed = any(target == a or target.startswith(a + ".") for a in LAZY_ALLOWED)
            commented = "#" in lines[line - 1] or lines[line - 2].strip().startswith("#")
            if not (allowed and commented):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} inside a function"
                           + ("" if allowed else " (not a heavy optional dependency)")
                           + ("" if commented else " (no comment saying why)"))
    assert not bad, "\n".join(bad)


def test_no_file_over_400_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in MODULES.values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"


# --- the checks themselves: each catches what it is for ---------------------------------------
def test_the_loop_finder_and_the_lazy_import_scan_see_what_they_look_for(tmp_path, monkeypatch):
    pkg = tmp_path / "minigraph"
    (pkg / "ops").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "ops" / "__init__.py").write_text("")
    (pkg / "graph.py").write_text("from .ops import elemwise\n")
    (pkg / "ops" / "elemwise.py").write_text("def f():\n    from ..graph import Variable\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    modules = {module_name(p): p for p in sorted(pkg.rglob("*.py"))}
    monkeypatch.setattr(sys.modules[__name__], "MODULES", modules)
    assert imports("minigraph.graph") == [("minigraph.ops.elemwise", 1, False)]
    assert imports("minigraph.ops.elemwise") == [("minigraph.graph", 2, True)]
    graph = {m: sorted({t for t, _, _ in imports(m) if t in modules and t != m}) for m in modules}
    monkeypatch.setattr(sys.modules[__name__], "GRAPH", graph)
    with pytest.raises(pytest.fail.Exception, match="import loop: minigraph.graph -> minigraph.ops.elemwise"):
        test_no_import_loop()
    with pytest.raises(AssertionError, match=r"minigraph.graph \(floor 0\) imports minigraph.ops.elemwise"):
        test_imports_go_down_the_floors()
    with pytest.raises(AssertionError, match="elemwise.py:2 imports minigraph.graph inside a function"):
        test_imports_inside_functions_are_heavy_optional_dependencies_with_a_reason()
