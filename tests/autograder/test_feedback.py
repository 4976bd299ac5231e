"""Feedback content (issue 15): the student's own work, points per exercise, each check's message —
and no hidden-test text in any form, even when student hooks recorded and encoded everything."""
from __future__ import annotations

import html
import re

import nbformat
import pytest

from autograder import feedback, scoring
from autograder.settings import SAMPLE_SOURCE


@pytest.fixture(scope="module")
def written(graded):
    return feedback.generate(graded["settings"])


def page(graded, student, notebook):
    return (graded["settings"].feedback / student / "sample" / f"{notebook}.html").read_text()


def visible_text(body: str) -> str:
    """What a reader sees: tags and styles gone, entities decoded."""
    body = re.sub(r"<style.*?</style>|<script.*?</script>", "", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def test_every_graded_notebook_gets_feedback(graded, written):
    names = {(p.parent.parent.name, p.stem) for p in written}
    assert ("partial", "warmup") in names and ("encoded_leak", "bonus") in names


def test_students_own_work_is_shown_not_the_stub(graded, written):
    text = visible_text(page(graded, "partial", "warmup"))
    assert "return x * x" in text            # their square
    assert "def mean(xs):\n    return 0.0" in text   # their (wrong) mean, as they wrote it
    assert "raise NotImplementedError()" not in text and "YOUR CODE HERE" not in text
    blank = visible_text(page(graded, "partial", "bonus"))  # cube left blank: the stub is theirs there
    assert "raise NotImplementedError()" in blank


def test_plot_is_shown(graded, written):
    body = page(graded, "partial", "warmup")
    assert re.search(r'<img[^>]+src="data:image/png;base64,', body), "no plot image in the feedback"
    assert "plt.title('my square function')" in visible_text(body)


def test_failed_self_check_shows_its_own_message(graded, written):
    text = visible_text(page(graded, "partial", "warmup"))
    assert "AssertionError: mean([1, 2, 3]) should be 2.0, got 0.0" in text
    assert "square(3) looks right" in text
    assert "Hidden tests failed" not in text and "All tests passed" not in text


def test_score_table_and_check_messages(graded, written):
    text = visible_text(page(graded, "partial", "warmup"))
    assert "Score: 2 / 5" in text
    table = re.sub(r"\s+", " ", text[: text.index("Warm-up")])
    assert "test_square 2 / 2 2 of 2" in table and "test_mean 0 / 3 0 of 2" in table
    assert table.index("test_square") < table.index("test_mean")  # notebook order
    assert "Grader — test_mean: 0 / 3 points" in text
    assert ("✗ mean([2, 4, 9]): expected 5, got 0 (error 5); relative error 1 (allowed: rtol=1e-12, "
            "atol=1e-10). Hint: add the numbers up and divide by how many there are") in text
    assert "✓ square of an array of 5 numbers" in text
    bonus = visible_text(page(graded, "partial", "bonus"))
    assert "✗ cube(-3): running cube(-3) raised NotImplementedError. Hint: n * n * n" in bonus  # `code` rendered


def test_verdicts_are_not_duplicated_as_outputs(graded, written):
    text = visible_text(page(graded, "complete", "warmup"))
    assert text.count("✓ mean([2, 4, 9])") == 1 and "Grader: 3 / 3 points" not in text


def test_encoded_leak_finds_nothing(graded, written):
    """Hooks (settrace, audit hook, IPython events, In) recorded every executed cell and printed it
    base64/zlib encoded in the last cell. Decode every output: no hidden line may be there."""
    secrets = feedback.hidden_test_lines(SAMPLE_SOURCE / "sample")
    assert len(secrets) >= 6
    settings = graded["settings"]
    for notebook in ("warmup", "bonus"):
        graded_nb = nbformat.read(settings.autograded / "encoded_leak" / "sample" / f"{notebook}.ipynb",
                                  as_version=4)
        outputs = [feedback._text_of(o) for c in graded_nb.cells for o in c.get("outputs", [])
                   if not o.get("metadata", {}).get(scoring.VERDICT_MARK)]
        decoded = [t for out in outputs for t in feedback.decoded_texts(out)]
        decoded += feedback.decoded_texts(page(graded, "encoded_leak", notebook))
        # the recorder did work: its decoded dump holds the visible test cell it saw run
        probe = "assert _got == 9" if notebook == "warmup" else "assert cube(2) == 8"
        assert any(probe in t and "def _audit" in t for t in decoded), "the leak recorder captured nothing"
        for text in decoded:
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{notebook}: hidden line {leaked[0]!r} found in an output"
        assert "grade.value(" not in "".join(decoded)


def test_an_output_quoting_a_hidden_line_is_removed():
    from nbformat.v4 import new_code_cell, new_notebook, new_output
    secret = "grade.value('mean([2, 4, 9])', 'mean(_xs)', 5.0)"
    import base64
    import zlib
    cell = new_code_cell("print(blob)", outputs=[
        new_output("stream", name="stdout", text=base64.b64encode(zlib.compress(secret.encode())).decode()),
        new_output("stream", name="stdout", text="harmless")])
    nb = feedback.student_notebook(new_notebook(cells=[cell]), new_notebook(), {secret}, [], "t")
    texts = [o["text"] for o in nb.cells[1].outputs]
    assert texts == ["[output removed: it quoted hidden test code]\n", "harmless"]


def test_course_check_reports_missing_and_leaking_feedback(graded, monkeypatch):
    """`make course` fails when a submission's feedback is missing or would leak (course.write_feedback)."""
    from autograder import course, prepare
    settings = graded["settings"]
    subs = [s for s in prepare.discover(settings_submissions(), ["sample"]) if s.student in ("complete", "missing")]
    n, problems = course.write_feedback(settings, subs)
    assert n == 3 and problems == ["sample/warmup: no feedback was written for missing"]
    # a hidden line that the page does show (planted in the student's code, highlighted into <span>s):
    # the whole check fails, naming the file
    planted = "return x * x"  # complete's square; not a line of the release
    monkeypatch.setattr(feedback, "gradebook_hidden_lines", lambda s: {("sample", "warmup"): {planted}})
    n, problems = course.write_feedback(settings, [s for s in subs if s.student == "complete"])
    assert n == 0 and len(problems) == 1 and "complete/sample/warmup.ipynb would show hidden test text" in problems[0]


def settings_submissions():
    from autograder.settings import SAMPLE_SUBMISSIONS
    return SAMPLE_SUBMISSIONS
