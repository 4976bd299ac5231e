"""Grading protocol v2 (issue 15): hidden checks run in the grader against snapshots of a dead kernel.

Unit tests of the recorder, comparisons, messages and codec (no kernel), then what the shared graded
batch (conftest.graded) shows: each forgery scores 0 on what it attacks, next to honest students.
"""
from __future__ import annotations

import numpy as np
import pytest
from nbgrader.preprocessors import ClearHiddenTests
from nbformat.v4 import new_code_cell, new_notebook

from autograder import checks, kernel_snapshot, scoring
from autograder.kernel_snapshot import decode, encode, run_check

CELL = """# self-check
assert f(2) == 4, "f(2) should be 4"
### BEGIN HIDDEN TESTS
_v = rng(1).normal(size=7)
grade.value("f on 7 random numbers", "f(_v)", _v ** 2, _v=_v, rtol=1e-12, hint="square it")
grade.true("f returns an ndarray", "type(f(_v)) is np.ndarray", _v=_v)
grade.raises("f refuses a string", "f('x')", "TypeError")
### END HIDDEN TESTS"""


def run_all(cs, namespace):
    """What a snapshot child does, here in-process: one reply per check."""
    return [run_check(c.wire(), dict(namespace)) for c in cs]


def test_visible_part_is_exactly_what_nbgrader_releases():
    visible, hidden = checks.split_cell(CELL)
    nb = new_notebook(cells=[new_code_cell(CELL)])
    nb.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "ex", "locked": True, "points": 1,
                                        "schema_version": 3, "solution": False, "task": False}
    released, _ = ClearHiddenTests().preprocess(nb, {})
    assert visible == released.cells[0].source
    assert "grade.value" in hidden and "grade.value" not in visible and not hidden.startswith(" ")


def test_wire_carries_no_expected_value_tolerance_or_hint():
    cs = checks.validate_graded_cell("ex", CELL)
    assert [c.kind for c in cs] == ["value", "true", "raises"]
    wire = repr([c.wire() for c in cs])
    assert "1e-12" not in wire and "square it" not in wire and "expected" not in wire
    assert set(cs[0].wire()) == {"kind", "code", "inputs"}


def test_honest_and_wrong_answers():
    cs = checks.validate_graded_cell("ex", CELL)
    ok = checks.judge(cs, run_all(cs, {"np": np, "f": lambda v: np.asarray(v) ** 2}))
    assert [v.passed for v in ok] == [True, True, True]
    assert ok[0].message == "✓ f on 7 random numbers"
    bad = checks.judge(cs, run_all(cs, {"np": np, "f": lambda v: np.asarray(v, float) * 2}))
    assert [v.passed for v in bad] == [False, True, False]
    msg = bad[0].message
    assert msg.startswith("✗ f on 7 random numbers: expected shape (7,) float64, got shape (7,) float64; max abs error")
    assert "at index" in msg and "Hint: square it" in msg and "values wrong" in msg
    assert bad[2].message == "✗ f refuses a string: expected TypeError, got ValueError: could not convert string to float: 'x'."
    assert checks.cell_points(ok, 3) == 3 and checks.cell_points(bad, 3) == 0


def test_messages_for_missing_names_shapes_and_scalars():
    cs = checks.validate_graded_cell("ex", CELL)
    missing = checks.judge(cs, run_all(cs, {"np": np}))
    assert "raised NameError: name 'f' is not defined" in missing[0].message
    shape = checks.judge(cs, run_all(cs, {"np": np, "f": lambda v: np.zeros(3)}))
    assert "expected shape (7,) float64, got shape (3,) float64" in shape[0].message
    rec = checks.Recorder()
    rec.value("mean", "m", 5.0, rtol=1e-12, hint="add and divide")
    verdict = checks.judge(rec.checks, [run_check(rec.checks[0].wire(), {"m": 0.0})])[0]
    assert verdict.message.startswith("✗ mean: expected 5, got 0 (error 5)") and verdict.message.endswith(
        "Hint: add and divide")
    gone = checks.judge(rec.checks, None, "the notebook did not reach this cell")[0]
    assert gone.message == "✗ mean: the notebook did not reach this cell. Hint: add and divide"


def test_fakes_hand_over_only_plain_data():
    class Anything:
        def __eq__(self, other):
            return True

    class Agreeable(np.ndarray):
        def __eq__(self, other):
            return True

        def __array_ufunc__(self, *a, **k):
            return True

    rec = checks.Recorder()
    rec.value("x", "x", 2.25)
    rec.value("arr", "a", np.arange(3.0))
    for fake in ({"x": Anything(), "a": np.zeros(3).view(Agreeable)},):
        verdicts = checks.judge(rec.checks, [run_check(c.wire(), fake) for c in rec.checks])
        assert not verdicts[0].passed and "got a " in verdicts[0].message and "Anything object" in verdicts[0].message
        assert not verdicts[1].passed and "got [0, 0, 0]" in verdicts[1].message
    # the plain data of the subclass crossed, as a plain ndarray
    assert type(decode(encode(np.ones(2).view(Agreeable)))) is np.ndarray


def test_builtins_are_restored_in_the_snapshot():
    import builtins
    saved = builtins.isinstance
    try:
        builtins.isinstance = lambda *a: True
        rec = checks.Recorder()
        rec.true("is a float", "isinstance(v, float)")
        reply = run_check(rec.checks[0].wire(), {"v": "a string"})  # restores the builtins first
    finally:
        builtins.isinstance = saved
    assert not checks.judge(rec.checks, [reply])[0].passed


def test_codec_refuses_pickles_objects_and_huge_values():
    with pytest.raises(ValueError):  # an object array would need pickle
        decode({"t": "nd", "npy": encode(np.arange(2))["npy"][:8] + "AAAA"})
    assert encode(np.array([object()], dtype=object))["t"] == "other"
    with pytest.raises(kernel_snapshot.CodecError):
        encode(np.zeros(kernel_snapshot.MAX_VALUE_BYTES // 8 + 1))
    nested = {"a": [1, 2.5, "s", None, True, (np.float64(3), np.arange(4).reshape(2, 2))]}
    back = decode(encode(nested))
    assert back["a"][:5] == [1, 2.5, "s", None, True] and np.array_equal(back["a"][5][1], np.arange(4).reshape(2, 2))
    assert back["a"][5][0].shape == ()  # a numpy scalar stays 0-d


def test_authoring_errors_name_the_cell():
    with pytest.raises(checks.AuthoringError, match="'ex9' has no ### BEGIN HIDDEN TESTS"):
        checks.validate_graded_cell("ex9", "assert f(1) == 1")
    with pytest.raises(checks.AuthoringError, match="'ex9'.*record no checks"):
        checks.validate_graded_cell("ex9", "### BEGIN HIDDEN TESTS\n_x = 1\n### END HIDDEN TESTS")
    with pytest.raises(checks.AuthoringError, match="'ex9'.*raised NameError"):
        checks.validate_graded_cell("ex9", "### BEGIN HIDDEN TESTS\nassert f(1) == 1\n### END HIDDEN TESTS")
    with pytest.raises(checks.AuthoringError, match="input 'w' is not plain data"):
        checks.Recorder().value("d", "f(w)", 1.0, w=object())


def test_split_notebook_never_sends_hidden_code_to_the_kernel():
    nb = new_notebook(cells=[new_code_cell(CELL), new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\nnope(\n")])
    for cell, gid in zip(nb.cells, ("good", "broken")):
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "points": 1,
                                     "schema_version": 3, "solution": False, "task": False}
    specs, problems = scoring.split_notebook(nb)
    assert len(specs["good"]) == 3 and specs["broken"] is None
    assert "grade." not in nb.cells[0].source and nb.cells[1].source == "x = 1"
    assert problems and "broken" in problems[0]


# ---------------------------------------------------------------- the graded batch

def cells(graded):
    return {(r["student"], r["cell"]): r["score"] for r in graded["rows"]}


def messages(graded, student, notebook, gid):
    return [c["message"] for c in graded["entries"][student]["notebooks"][notebook]["checks"][gid]["checks"]]


def test_honest_student_full_marks_with_a_verdict_per_check(graded):
    got = cells(graded)
    assert [got[("complete", g)] for g in ("test_square", "test_mean", "test_cube")] == [2, 3, 1]
    assert messages(graded, "complete", "warmup", "test_mean") == ["✓ mean([2, 4, 9])", "✓ mean of 100 random numbers"]


@pytest.mark.parametrize("student,attacked", [
    ("noop_asserts", ("test_square", "test_mean", "test_cube")),   # np.testing etc. no-ops, wrong answers
    ("fake_array", ("test_square", "test_mean")),                  # custom Op, agreeable ndarray subclass
    ("input_transformer", ("test_square", "test_mean", "test_cube")),  # checks rewritten to `pass`
    ("fake_equality", ("test_square", "test_mean", "test_cube")),
    ("monkeypatch", ("test_mean",)),
    ("custom_exc", ("test_square",)),
    ("snapshot_forger", ("test_square", "test_mean", "test_cube")),  # the snapshot module replaced
])
def test_forgeries_score_zero_on_what_they_attack(graded, student, attacked):
    got = cells(graded)
    for gid in attacked:
        assert got[(student, gid)] == 0, (student, gid)
    assert graded["totals"][(student, "sample")]["score"] == sum(
        got[("complete", g)] for g in ("test_square", "test_mean", "test_cube") if g not in attacked)


def test_forgeries_are_told_what_was_wrong(graded):
    fake = messages(graded, "fake_array", "warmup", "test_square")
    assert fake[0].startswith("✗ square(-1.5): expected 2.25, got 0") and "Hint: multiply x by itself" in fake[0]
    transformed = messages(graded, "input_transformer", "warmup", "test_mean")
    assert "snapshot never arrived" in transformed[0]
    sly = messages(graded, "noop_asserts", "bonus", "test_cube")
    assert "Sly object" in sly[0]
    forged = messages(graded, "snapshot_forger", "bonus", "test_cube")
    assert forged[0] == "✗ cube(-3): expected numbers (shape () int64), got bool True. Hint: n * n * n"
    assert forged[1] == "✓ cube(-3) is a Python int"  # a boolean check alone can be forged: see README


def test_the_fake_array_forgery_fooled_checks_inside_the_kernel(graded):
    """Else the test above proves nothing: in the kernel, the forged values pass numpy comparisons."""
    import nbformat
    nb = nbformat.read(graded["settings"].autograded / "fake_array" / "sample" / "warmup.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "forged: square(3) == 9 -> True ; np.isclose(mean([1.0]), 1.0) -> True" in text


def test_kernel_death_keeps_snapshots_taken_before_it(graded):
    assert cells(graded)[("os_exit", "test_square")] == 2
    assert "did not reach this cell" in messages(graded, "os_exit", "warmup", "test_mean")[0]


def test_pasted_test_cell_costs_nothing_and_is_flagged(graded):
    assert graded["totals"][("duplicate_cell", "sample")]["score"] == 6
    flags = graded["entries"]["duplicate_cell"]["notebooks"]["warmup"]["flags"]
    assert any("test_square: a copy of this cell" in f and "ignored" in f for f in flags)
    assert not any(r["needs_manual_grade"] for r in graded["rows"])


def test_instructor_graded_notebook_carries_the_verdicts(graded):
    import nbformat
    nb = nbformat.read(graded["settings"].autograded / "partial" / "sample" / "warmup.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_mean")
    verdict = [o for o in cell.outputs if o.get("metadata", {}).get(scoring.VERDICT_MARK)]
    assert verdict and verdict[0]["data"]["text/plain"].startswith("Grader: 0 / 3 points\n✗ mean([2, 4, 9])")
    assert "grade.value" not in cell.source  # the graded copy holds the visible part only
