"""A student's feedback page in a real browser (headless Chromium, Debian's /usr/bin/chromium through
Playwright): the sample's partial submission is graded for real (sandboxed, as root), its feedback
HTML is opened from disk, and what a student sees is checked — the score table with the points per
exercise, the grader's message for the failed exercise, their own answer, and their plot drawn.
Screenshot: tests/e2e/output/feedback_partial_warmup.png.
"""
from __future__ import annotations

import os
import shutil

import pytest
from playwright import sync_api as playwright_api

from autograder import feedback, prepare, release, runner
from autograder.settings import SAMPLE_SOURCE, SAMPLE_SUBMISSIONS, Settings
from e2e_support import OUTPUT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason=f"{CHROMIUM} missing: `make e2e` installs Debian's chromium")


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback")
    for p in [base, *base.parents]:  # world-traversable, like a checkout: only the jail protects
        if str(p).startswith("/tmp/") and p != p.parent:
            os.chmod(p, 0o755)
    settings = Settings.from_config(source=SAMPLE_SOURCE, build=base / "build", release=base / "release",
                                    jobs=1, cell_timeout=30, notebook_timeout=120)
    release.release(settings, ["sample"])
    shutil.copytree(SAMPLE_SUBMISSIONS / "partial", base / "subs" / "partial")
    runner.grade(settings, prepare.discover(base / "subs", ["sample"]))
    written = feedback.generate(settings)
    page = settings.feedback / "partial" / "sample" / "warmup.html"
    assert page in written
    return page


def test_feedback_page_shows_scores_and_plot(feedback_page):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.goto(feedback_page.as_uri())
            page.wait_for_load_state("load")
            # the score table: a header row and one row per exercise, in notebook order
            table = page.locator("table").first
            table.wait_for(state="visible")
            rows = [[c.strip() for c in r.locator("th, td").all_inner_texts()] for r in table.locator("tr").all()]
            assert rows == [["exercise", "points", "checks passed"], ["test_square", "2 / 2", "2 of 2"],
                            ["test_mean", "0 / 3", "0 of 2"]], rows
            assert page.get_by_text("Score: 2 / 5").is_visible()
            # the grader's message for the failed exercise, and the self-check's own message
            assert page.get_by_text("✗ mean([2, 4, 9]): expected 5, got 0", exact=False).is_visible()
            assert page.get_by_text("mean([1, 2, 3]) should be 2.0, got 0.0", exact=False).first.is_visible()
            # the plot: an image that actually decoded, with a real size
            image = page.locator("img[src^='data:image/png']").first
            image.scroll_into_view_if_needed()
            assert image.is_visible()
            width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            assert width > 100 and height > 100, (width, height)
            text = page.locator("body").inner_text()
            assert "return 0.0" in text and "NotImplementedError" not in text and "grade.value" not in text
            page.screenshot(path=str(OUTPUT / "feedback_partial_warmup.png"), full_page=True)
        finally:
            browser.close()
