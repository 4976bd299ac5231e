"""End to end: release → every sample submission (good and hostile) → parallel autograde → scores,
flags and report entries. All tests here share one graded batch (conftest.graded)."""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from autograder import feedback, report
from autograder.settings import SAMPLE_SOURCE

# Sample assignment: warmup (test_square 2, test_mean 3) + bonus (test_cube 1) = 6 points.
EXPECTED_TOTALS = {
    "complete": 6, "partial": 2, "blank": 0,
    "infinite_loop": 3,   # mean's cell times out; square and bonus still count
    "sigint_proof": 1,    # warmup killed, bonus is a different notebook
    "os_exit": 3,         # test_square ran before the kernel died
    "segfault": 1, "memory_bomb": 3, "huge_output": 6,
    "custom_exc": 4,      # a silenced exception still fails the test cell
    "fake_equality": 0, "monkeypatch": 3,
    "tampered": 4,        # edited test restored (fails), deleted test restored (passes), points reset
    "renamed": 1, "missing": 1, "corrupt": 1,
    "snoop": 6, "history_leak": 6,
    # issue 15: forgeries that scored while hidden tests ran in the kernel, now 0 on what they attack
    "noop_asserts": 0,    # np.testing/isclose/allclose no-ops + wrong answers; an int subclass equal to all
    "fake_array": 1,      # custom Op returning an agreeable ndarray subclass of zeros (bonus is honest)
    "input_transformer": 0,  # every checking cell rewritten to `pass`, blank answers
    "encoded_leak": 6,    # honest answers + hooks recording every cell (tests/autograder/test_feedback.py)
    "duplicate_cell": 6,  # a pasted copy of test_square is ignored and flagged, nothing lost
    "snapshot_forger": 0,  # the kernel's snapshot module answers True to everything: value checks fail
}


def notes(graded, student, notebook):
    info = graded["entries"][student]["notebooks"][notebook]
    return " | ".join(info["problems"] + info["flags"])


def test_every_sample_is_graded(graded):
    assert set(graded["entries"]) == set(EXPECTED_TOTALS), "a sample submission is missing from the batch"


@pytest.mark.parametrize("student", sorted(EXPECTED_TOTALS))
def test_total_score(graded, student):
    t = graded["totals"][(student, "sample")]
    assert t["max_score"] == 6
    assert t["score"] == EXPECTED_TOTALS[student], notes(graded, student, "warmup")


def test_scores_per_cell(graded):
    cells = {(r["student"], r["cell"]): r["score"] for r in graded["rows"]}
    assert cells[("partial", "test_square")] == 2
    assert cells[("partial", "test_mean")] == 0
    assert cells[("partial", "test_cube")] == 0
    assert cells[("tampered", "test_square")] == 0 and cells[("tampered", "test_mean")] == 3
    assert cells[("tampered", "test_cube")] == 1  # its points were set to 50 in the submission
    assert cells[("monkeypatch", "test_mean")] == 0 and cells[("monkeypatch", "test_square")] == 2
    assert not any(r["needs_manual_grade"] for r in graded["rows"])


def test_kernel_deaths_are_contained_with_a_reason(graded):
    assert "kernel died: exit code 3" in notes(graded, "os_exit", "warmup")
    assert "SIGSEGV" in notes(graded, "segfault", "warmup")
    assert "ignored the interrupt" in notes(graded, "sigint_proof", "warmup")
    assert "timed out" in notes(graded, "infinite_loop", "warmup") and "(mean)" not in notes(graded, "infinite_loop", "bonus")
    for student in ("os_exit", "segfault", "sigint_proof"):
        assert graded["entries"][student]["notebooks"]["bonus"]["status"] == "ok"


def test_missing_renamed_corrupt_are_reported(graded):
    assert "missing warmup.ipynb" in notes(graded, "missing", "warmup")
    assert "renamed?" in notes(graded, "renamed", "warmup") and "warmup (1).ipynb" in notes(graded, "renamed", "warmup")
    assert "corrupt warmup.ipynb" in notes(graded, "corrupt", "warmup")


def test_tampering_is_flagged(graded):
    warm = notes(graded, "tampered", "warmup")
    assert "test_square: locked cell was edited" in warm
    assert "test_mean: locked cell was deleted" in warm
    assert "test_cube: locked cell was edited" in notes(graded, "tampered", "bonus")
    assert "setup: locked cell was deleted" in notes(graded, "snoop", "warmup")
    assert notes(graded, "complete", "warmup") == "" and notes(graded, "complete", "bonus") == ""


def test_huge_output_is_truncated(graded):
    path = graded["settings"].autograded / "huge_output" / "sample" / "warmup.ipynb"
    # The kernel printed far more (see the sample); what is kept is one cell's cap plus the notebook's own text.
    assert path.stat().st_size < graded["settings"].max_output_bytes + 200_000
    assert "output truncated" in path.read_text()
    assert "output truncated" in notes(graded, "huge_output", "warmup")


def test_snoop_cannot_reach_gradebook_sources_or_other_students(graded):
    nb = nbformat.read(graded["settings"].autograded / "snoop" / "sample" / "warmup.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])  # outputs only: the source says LEAK too
    assert "attack finished" in text, "the attack cell did not run, so this test proves nothing"
    assert "LEAK-READ" not in text and "LEAK-WROTE" not in text
    assert graded["before"] == graded["after"], "a submission changed source notebooks or other submissions"
    # and the gradebook still holds everyone (checked against the expected totals above)
    assert len(graded["totals"]) == len(EXPECTED_TOTALS)


def test_release_has_no_solutions_hidden_tests_or_gradebook(graded):
    released = graded["settings"].release / "sample"
    secrets = feedback.hidden_test_lines(SAMPLE_SOURCE / "sample")
    assert secrets, "the sample has hidden tests"
    for f in released.rglob("*"):
        assert f.suffix not in (".db", ".sqlite")
        if f.suffix == ".ipynb":
            text = f.read_text()
            assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
            assert "return x * x" not in text
            assert not [s for s in secrets if s in text]


def test_feedback_has_no_hidden_test_text(graded):
    settings = graded["settings"]
    written = feedback.generate(settings)
    assert len(written) >= 2 * 15
    secrets = feedback.hidden_test_lines(SAMPLE_SOURCE / "sample")
    assert any("grade.value(" in s for s in secrets)
    import html
    for path in written:
        body = path.read_text()
        for s in secrets:
            assert s not in body and html.escape(s) not in body, f"{path} leaks {s!r}"
    partial = (settings.feedback / "partial" / "sample" / "warmup.html").read_text()
    assert "Score: 2 / 5" in partial
    # print(In) after the tests: the kernel's history never held hidden code, so the output is shown as is
    graded_nb = nbformat.read(settings.autograded / "history_leak" / "sample" / "bonus.ipynb", as_version=4)
    printed = graded_nb.cells[-1].outputs[0]["text"]
    assert "assert cube(2) == 8" in printed and "grade." not in printed and "HIDDEN" not in printed
    leak = (settings.feedback / "history_leak" / "sample" / "bonus.html").read_text()
    assert "output removed" not in leak


def test_export_csv_and_json(graded, tmp_path):
    csv_path, json_path = report.export(graded["settings"], tmp_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].split(",")[:5] == ["student", "assignment", "notebook", "cell", "score"]
    assert len(lines) == 1 + 3 * len(EXPECTED_TOTALS)
    data = json.loads(json_path.read_text())
    assert data["partial"]["sample"]["score"] == 2
    assert data["partial"]["sample"]["notebooks"]["warmup"]["cells"]["test_square"]["score"] == 2


def test_grade_table_mentions_every_student(graded):
    text = report.table(graded["rows"], list(graded["entries"].values()))
    for student in EXPECTED_TOTALS:
        assert re.search(rf"^{student}\s+sample\s+{EXPECTED_TOTALS[student]} / 6", text, re.M), text
