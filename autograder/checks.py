"""Grader side of the grading protocol (GRADING_PROTOCOL.md): hidden tests run HERE, not in the kernel.

A graded cell's hidden part is plain Python executed in the grader's process with `np`, `math`,
`rng` (= np.random.default_rng) and `grade`, a recorder:

    grade.value("f1 on 7 random numbers", "f1(_v)", _v + _v ** 10, _v=_v, rtol=1e-12, hint="...")
    grade.true("out1 is a minigraph expression", "isinstance(out1, theano.Variable)")
    grade.graph("dsquare comes from T.grad", "dsquare", from_grad=True, uses=["exp"], forbids=["sigmoid"])
    grade.raises("a wrong shape is refused", "f(np.ones(3))", "ValueError")

Each call records one Check: what the student is told (description, hint), the kernel code (run in a
snapshot of the student's kernel, with the keyword inputs bound as names) and the comparison spec
(expected value, tolerances). Only `kind`, `code` and encoded `inputs` ever go to a worker (`wire`);
the spec stays here and `judge` compares the values the snapshot handed back.
"""
from __future__ import annotations

import hashlib
import math
import textwrap
from dataclasses import dataclass, field

import numpy as np

from .kernel_snapshot import CodecError, Other, decode, encode

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
DEFAULT_RTOL, DEFAULT_ATOL = 1e-7, 1e-10
_OPTIONS = {"value": {"rtol", "atol", "shape", "dtype", "hint", "inputs", "equal_nan"},
            "true": {"hint", "inputs"}, "raises": {"hint", "inputs"},
            "graph": {"uses", "forbids", "from_grad", "is_graph", "ndim", "dtype", "hint", "inputs"}}


class AuthoringError(ValueError):
    """A graded cell that cannot be graded as written (the course author's mistake, not the student's)."""


@dataclass
class Check:
    kind: str                  # value | true | graph | raises
    description: str
    code: str                  # run in the student's kernel snapshot; its last expression is handed over
    inputs: dict               # name -> encoded value (plain data)
    spec: dict = field(default_factory=dict)   # grader-only: expected value, tolerances, ...
    hint: str = ""

    def wire(self) -> dict:
        """What a worker and the kernel snapshot get: no expected value, no tolerance, no hint."""
        return {"kind": self.kind, "code": self.code, "inputs": self.inputs}


@dataclass
class Verdict:
    passed: bool
    message: str   # "✓ desc" or "✗ desc: why. Hint: ..."


class Recorder:
    """`grade` in a hidden part: each method records one Check."""

    def __init__(self):
        self.checks: list[Check] = []

    def _add(self, kind, description, code, options, spec):
        if not isinstance(description, str) or not description.strip():
            raise AuthoringError(f"grade.{kind}: the first argument is the description shown to the student")
        if not isinstance(code, str) or not code.strip():
            raise AuthoringError(f"grade.{kind}({description!r}): the second argument is kernel code (a string)")
        try:
            compile(code, "<check>", "exec")
        except SyntaxError as exc:
            raise AuthoringError(f"grade.{kind}({description!r}): kernel code does not parse: {exc}") from None
        inputs = dict(options.pop("inputs", None) or {})
        for name in [k for k in options if k not in _OPTIONS[kind]]:
            if not name.isidentifier():
                raise AuthoringError(f"grade.{kind}({description!r}): input name {name!r} is not a Python name")
            inputs[name] = options.pop(name)
        try:
            encoded = {name: encode(value) for name, value in inputs.items()}
        except CodecError as exc:
            raise AuthoringError(f"grade.{kind}({description!r}): an input cannot be sent: {exc}") from None
        bad = [n for n, e in encoded.items() if _has_other(e)]
        if bad:
            raise AuthoringError(f"grade.{kind}({description!r}): input {bad[0]!r} is not plain data "
                                 "(numbers, strings, numpy arrays, lists/tuples/dicts of those)")
        hint = options.pop("hint", None) or ""
        spec.update(options)
        self.checks.append(Check(kind, description.strip(), code, encoded, spec, hint))

    def value(self, description, code, expected, **options):
        try:
            expected_plain = decode(encode(expected))
        except CodecError as exc:
            raise AuthoringError(f"grade.value({description!r}): the expected value is too large: {exc}") from None
        if _has_other(encode(expected)):
            raise AuthoringError(f"grade.value({description!r}): the expected value is not plain data")
        self._add("value", description, code, options, {"expected": expected_plain})

    def true(self, description, code, **options):
        self._add("true", description, code, options, {})

    def graph(self, description, code, **options):
        if not {"uses", "forbids", "from_grad", "is_graph", "ndim", "dtype"} & set(options):
            options["is_graph"] = True
        self._add("graph", description, code, options, {})

    def raises(self, description, code, exception, **options):
        self._add("raises", description, code, options, {"exception": str(exception)})


def _has_other(enc) -> bool:
    if enc["t"] == "other":
        return True
    if enc["t"] in ("list", "tuple"):
        return any(_has_other(e) for e in enc["items"])
    if enc["t"] == "dict":
        return any(_has_other(e) for _, e in enc["items"])
    return False


# ---------------------------------------------------------------- splitting and running hidden parts

def split_cell(source: str) -> tuple[str, str]:
    """(visible, hidden) parts of a graded cell. `visible` is exactly what nbgrader's release keeps
    (lines outside the markers, marker lines removed); `hidden` is the dedented inside."""
    visible, hidden, inside = [], [], False
    for line in source.split("\n"):
        if BEGIN in line:
            if inside:
                raise AuthoringError("nested ### BEGIN HIDDEN TESTS")
            inside = True
        elif END in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    if inside:
        raise AuthoringError("### BEGIN HIDDEN TESTS without ### END HIDDEN TESTS")
    return "\n".join(visible), textwrap.dedent("\n".join(hidden))


_CACHE: dict[str, list[Check]] = {}


def record_checks(hidden: str, where: str = "graded cell") -> list[Check]:
    """Run a hidden part in a fresh namespace and return its checks. Cached: the hidden part of a
    notebook is the same for every submission (and must be deterministic: seed its `rng`)."""
    key = hashlib.sha256(hidden.encode()).hexdigest()
    if key not in _CACHE:
        recorder = Recorder()
        namespace = {"np": np, "math": math, "rng": np.random.default_rng, "grade": recorder,
                     "__name__": "hidden_tests"}
        try:
            exec(compile(hidden, f"<hidden tests of {where}>", "exec"), namespace)
        except AuthoringError as exc:
            raise AuthoringError(f"{where}: {exc}") from None
        except Exception as exc:
            raise AuthoringError(f"{where}: its hidden tests raised {type(exc).__name__}: {exc} (they run in "
                                 "the grader, with only np, math, rng and grade defined)") from None
        if not recorder.checks:
            raise AuthoringError(f"{where}: its hidden tests record no checks (call grade.value / grade.true / "
                                 "grade.graph / grade.raises between ### BEGIN HIDDEN TESTS and ### END HIDDEN TESTS)")
        _CACHE[key] = recorder.checks
    return _CACHE[key]


def validate_graded_cell(grade_id: str, source: str) -> list[Check]:
    """For course/build_notebooks.py's check(): a graded cell must have a hidden part recording checks.
    Raises AuthoringError naming the cell; returns the checks."""
    try:
        _, hidden = split_cell(source)
    except AuthoringError as exc:
        raise AuthoringError(f"graded cell {grade_id!r}: {exc}") from None
    if not hidden.strip():
        raise AuthoringError(f"graded cell {grade_id!r} has no ### BEGIN HIDDEN TESTS part: points come only "
                             "from the grader's checks")
    return record_checks(hidden, f"graded cell {grade_id!r}")


# ---------------------------------------------------------------- judging handed-over values

def judge(checks: list[Check], replies: list | None, missing_reason: str = "") -> list[Verdict]:
    """One Verdict per check. `replies`: what the snapshot sent back, one {"ok", "value"|"error"} per
    check, or None when there is no snapshot (then every check fails with `missing_reason`)."""
    verdicts = []
    for i, check in enumerate(checks):
        reply = replies[i] if replies is not None and i < len(replies) else None
        if reply is None:
            why = missing_reason or "the grader got no answer for this check"
            verdicts.append(_fail(check, why))
            continue
        if not isinstance(reply, dict) or not reply.get("ok"):
            err = reply.get("error", "no value") if isinstance(reply, dict) else "malformed reply"
            verdicts.append(_fail(check, f"running `{_short_code(check.code)}` raised {_clip(str(err), 160)}"))
            continue
        try:
            got = decode(reply.get("value"))
        except (CodecError, ValueError, TypeError) as exc:
            verdicts.append(_fail(check, f"the value handed over could not be read ({_clip(str(exc), 80)})"))
            continue
        why = _COMPARE[check.kind](check.spec, got)
        verdicts.append(Verdict(True, f"✓ {check.description}") if why is None else _fail(check, why))
    return verdicts


def _fail(check: Check, why: str) -> Verdict:
    hint = f" Hint: {check.hint}" if check.hint else ""
    return Verdict(False, f"✗ {check.description}: {why}.{hint}")


def _short_code(code: str) -> str:
    lines = [ln for ln in code.strip().splitlines() if ln.strip()]
    return _clip(lines[-1].strip() if lines else "", 60)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _is_number(x) -> bool:
    return type(x) in (int, float) or (isinstance(x, np.ndarray) and x.dtype.kind in "biufc")


def _describe(x) -> str:
    if isinstance(x, Other):
        return f"a {x.type_name} object"
    if isinstance(x, np.ndarray):
        return f"shape {x.shape} {x.dtype}"
    if type(x) in (list, tuple, dict):
        return f"a {type(x).__name__} of {len(x)}"
    if isinstance(x, str):
        return f"the string {_clip(repr(x), 40)}"
    return f"{type(x).__name__} {_fmt(x)}"


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.4g}"
    return _clip(repr(v), 40)


def _values(a: np.ndarray) -> str:
    flat = a.reshape(-1)
    shown = ", ".join(_fmt(v) for v in flat[:6])
    return "[" + shown + (", …" if flat.size > 6 else "") + "]" if a.ndim else shown


def _compare_value(spec: dict, got, path: str = "") -> str | None:
    exp = spec["expected"]
    where = f"{path}: " if path else ""
    if type(exp) in (list, tuple) and not _numeric_sequence(exp):
        if type(got) not in (list, tuple) or len(got) != len(exp):
            return f"{where}expected a {type(exp).__name__} of {len(exp)}, got {_describe(got)}"
        for i, (e, g) in enumerate(zip(exp, got)):
            why = _compare_value({**spec, "expected": e}, g, f"{path}[{i}]" if path else f"item {i}")
            if why:
                return why
        return None
    if type(exp) is dict:
        if type(got) is not dict or set(got) != set(exp):
            return f"{where}expected a dict with keys {sorted(exp)}, got {_describe(got)}"
        for k in sorted(exp):
            why = _compare_value({**spec, "expected": exp[k]}, got[k], f"{path}[{k!r}]" if path else f"[{k!r}]")
            if why:
                return why
        return None
    if type(exp) in (str, type(None)) or type(exp) is bool:
        if type(got) is type(exp) and got == exp:
            return None
        if type(exp) is bool and isinstance(got, np.ndarray) and got.shape == () and got.dtype == bool \
                and bool(got) == exp:
            return None
        return f"{where}expected {_describe(exp)}, got {_describe(got)}"
    return _compare_numbers(spec, exp, got, where)


def _numeric_sequence(x) -> bool:
    try:
        a = np.asarray(x)
    except Exception:
        return False
    return a.dtype.kind in "biufc"


def _compare_numbers(spec, exp, got, where) -> str | None:
    e = np.asarray(exp)
    if type(got) in (list, tuple) and _numeric_sequence(got):
        got = np.asarray(got)
    if not _is_number(got) and not (isinstance(got, np.ndarray) and got.dtype.kind in "biufc"):
        return f"{where}expected numbers ({_describe(e)}), got {_describe(got)}"
    g = np.asarray(got)
    want_shape = tuple(spec["shape"]) if spec.get("shape") is not None else e.shape
    if g.shape != want_shape:
        return f"{where}expected shape {want_shape} {e.dtype}, got shape {g.shape} {g.dtype}"
    if spec.get("dtype") is not None and np.dtype(spec["dtype"]) != g.dtype:
        return f"{where}expected dtype {np.dtype(spec['dtype'])}, got {g.dtype}"
    if e.shape != g.shape:  # shape= given explicitly and expected broadcasts
        e = np.broadcast_to(e, g.shape)
    rtol = spec.get("rtol", DEFAULT_RTOL)
    atol = spec.get("atol", DEFAULT_ATOL)
    eq_nan = spec.get("equal_nan", False)
    with np.errstate(all="ignore"):
        ok = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=eq_nan)
        if ok.all():
            return None
        err = np.abs(g.astype(complex if g.dtype.kind == "c" or e.dtype.kind == "c" else float) - e)
        err = np.where(np.isnan(err), np.inf, err)
        err = np.where(ok, 0, err)
        worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        n_bad = int((~ok).sum())
        at = f" at index {tuple(int(i) for i in worst) if len(worst) != 1 else int(worst[0])}" if err.ndim else ""
        rel = err[worst] / max(abs(e[worst]), 1e-300) if e[worst] != 0 else math.inf
    if g.ndim == 0:
        msg = f"{where}expected {_fmt(e[()])}, got {_fmt(g[()])} (error {_fmt(err[()])})"
    else:
        msg = (f"{where}expected {_describe(e)}, got {_describe(g)}; max abs error {_fmt(err[worst])}{at} "
               f"(expected {_fmt(e[worst])}, got {_fmt(g[worst])})")
    if g.size > 1:
        msg += f"; {n_bad} of {g.size} values wrong; got {_values(g)}, expected {_values(e)}"
    if math.isfinite(rel):
        msg += f"; relative error {_fmt(rel)} (allowed: rtol={rtol:g}, atol={atol:g})"
    return msg


def _compare_true(spec: dict, got) -> str | None:
    if got is True or (isinstance(got, np.ndarray) and got.shape == () and got.dtype == bool and bool(got)):
        return None
    if got is False or (isinstance(got, np.ndarray) and got.shape == () and got.dtype == bool):
        return "it is False"
    return f"expected True or False, got {_describe(got)}"


def _compare_graph(spec: dict, got) -> str | None:
    if type(got) is not dict or "is_graph" not in got:
        return f"the kernel could not describe it as a graph (got {_describe(got)})"
    if not got.get("is_graph"):
        return "it is not a minigraph expression (a symbolic Variable)"
    ops = [str(o) for o in got.get("ops", []) if isinstance(o, str)]
    lower = {o.lower() for o in ops}
    listed = ", ".join(ops[:12]) + (", …" if len(ops) > 12 else "") or "no operations"
    missing = [o for o in spec.get("uses", []) if o.lower() not in lower]
    if missing:
        return f"the graph does not use {', '.join(missing)} (it uses: {listed})"
    present = [o for o in spec.get("forbids", []) if o.lower() in lower]
    if present:
        return f"the graph uses {', '.join(present)}, which this exercise rules out"
    if "from_grad" in spec and bool(got.get("from_grad")) != bool(spec["from_grad"]):
        return "it was not built by T.grad" if spec["from_grad"] else "it was built by T.grad, which this exercise rules out"
    if spec.get("ndim") is not None and got.get("ndim") != spec["ndim"]:
        return f"expected a {spec['ndim']}-dimensional expression, got {got.get('ndim')}-dimensional"
    if spec.get("dtype") is not None and str(got.get("dtype")) != str(spec["dtype"]):
        return f"expected dtype {spec['dtype']}, got {got.get('dtype')}"
    return None


def _compare_raises(spec: dict, got) -> str | None:
    if type(got) is not dict or not isinstance(got.get("raised"), list):
        return "the kernel's answer was malformed"
    if not got["raised"]:
        return f"expected {spec['exception']}, but nothing was raised"
    if spec["exception"] not in got["raised"]:
        return f"expected {spec['exception']}, got {got['raised'][0]}: {_clip(str(got.get('message', '')), 80)}"
    return None


_COMPARE = {"value": _compare_value, "true": _compare_true, "graph": _compare_graph, "raises": _compare_raises}


def cell_points(verdicts: list[Verdict], points: float) -> float:
    """All checks pass -> the cell's points, else 0."""
    return float(points) if verdicts and all(v.passed for v in verdicts) else 0.0
