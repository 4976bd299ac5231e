"""A student's first minutes, in a real browser: JupyterLab on the student release, driven by headless
Chromium (Debian's /usr/bin/chromium, through Playwright; `playwright install` is never needed).

The student opens a notebook (the course's first, which the Binder badge opens, and act2_practice's
first), runs all cells, sees the given code's output and the run stop at the first exercise
(`raise NotImplementedError()`), runs its self-check (which fails: nothing is answered yet), types an
answer, sees the self-check pass, and presses Validate. JupyterLab runs with the nbgrader extensions students get on Binder
(binder/student_extensions.py) and in a private config dir, on a copy of the release. Screenshots go
to tests/e2e/output/. JupyterLab, its kernels and the browser are stopped whatever happens.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright import sync_api as playwright_api

from e2e_support import ROOT, first_student_notebook

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Known answers to the first exercise of the notebooks under test (by grade id): typing one in shows the
# self-check pass. A new first notebook needs its answer here.
ANSWERS = {
    "ex1_solution": "out1 = a + a ** 10\nf1 = function([a], out1)",                        # act2_practice/1
    "central_solution": "def central_difference(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)",  # act1/1
}
ERROR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason=f"{CHROMIUM} missing: `make e2e` installs Debian's chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def student_extensions():
    spec = importlib.util.spec_from_file_location("student_extensions", ROOT / "binder" / "student_extensions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Lab:
    """A JupyterLab server in its own process group, with private config, runtime and settings folders."""

    def __init__(self, root: Path, tmp: Path, log: Path):
        self.root, self.tmp, self.log_path = root, tmp, log
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        config = tmp / "jupyter-config"
        student_extensions().apply(config)
        page_config = config / "labconfig" / "page_config.json"
        data = json.loads(page_config.read_text())
        data["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] = True  # no news toast
        page_config.write_text(json.dumps(data))
        self.runtime = tmp / "runtime"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MINIGRAPH"))}
        env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(self.runtime),
                   JUPYTERLAB_SETTINGS_DIR=str(tmp / "lab-settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"), IPYTHONDIR=str(tmp / "ipython"),
                   MINIGRAPH_CACHE_DIR=str(tmp / "minigraph-cache"))
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={root}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
            + (["--allow-root"] if os.geteuid() == 0 else []),
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True)

    def api(self, path: str, method: str = "GET", timeout: float = 5):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
            return resp.status, (json.loads(body) if body else None)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if self.api("/api/status", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer in {timeout} s; see {self.log_path}")

    def kernel_pids(self) -> list[int]:
        """Kernels started by this server: their command line names a file in our runtime folder."""
        pids = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if str(self.runtime).encode() in (proc / "cmdline").read_bytes():
                        pids.append(int(proc.name))
                except OSError:
                    pass
        return pids

    def stop(self) -> None:
        try:
            self.api("/api/shutdown", method="POST")    # shuts its kernels down, then exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(timeout=10)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        for pid in self.kernel_pids():                 # a kernel the shutdown missed
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self.kernel_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.log.close()


@pytest.fixture(scope="module")
def lab(student_release, tmp_path_factory, e2e_output):
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "student"
    shutil.copytree(student_release, root)
    server = Lab(root, tmp, e2e_output / "jupyterlab.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
        assert server.proc.poll() is not None, "JupyterLab is still running"
        assert not server.kernel_pids(), "a kernel outlived JupyterLab"


@pytest.fixture
def page(e2e_output):
    with playwright_api.sync_playwright() as pw:
        # Playwright gives every launch a fresh, temporary user-data-dir.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def click_menu(page, menu: str, item: str) -> None:
    page.locator(f'.lm-MenuBar-item:has(.lm-MenuBar-itemLabel:text-is("{menu}"))').click()
    page.locator(f'.lm-Menu-item:has(.lm-Menu-itemLabel:text-is("{item}"))').click()


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """The notebook's kernel indicator says idle (busy while cells run or wait to run)."""
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]'
                 ).first.wait_for(timeout=timeout_ms)


def output_text(cell) -> str:
    outputs = cell.locator(".jp-OutputArea-output")
    return "\n".join(outputs.all_text_contents())  # offscreen cells have no innerText


def prompt(cell) -> str:
    return (cell.locator(".jp-InputArea-prompt").text_content() or "").strip()


@pytest.mark.parametrize("assignment", [None, "act2_practice"], ids=["binder-badge-notebook", "act2_practice"])
def test_student_runs_a_notebook_and_checks_an_answer(lab, page, e2e_output, assignment):
    notebook = first_student_notebook(lab.root, assignment)
    source = nbformat.read(notebook, as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in source.cells]
    solution = next(i for i, m in enumerate(meta) if m.get("solution"))
    check = next(i for i, m in enumerate(meta) if i > solution and m.get("grade"))
    answer = ANSWERS.get(meta[solution]["grade_id"])
    assert answer, f"no known answer to {notebook.name}'s exercise {meta[solution]['grade_id']!r}: add it to ANSWERS"
    shot = str(e2e_output / notebook.stem)
    print(f"\nnotebook: {notebook.relative_to(lab.root)}; first exercise: cell {solution}, its self-check: cell {check}")

    # 1. Open the notebook the way the Binder badge does (lab/tree/<path>), in a workspace of its own
    #    (the server is shared by the tests, and a workspace reopens what was open before).
    workspace = notebook.stem.replace("_", "-")
    page.goto(f"{lab.base}/lab/workspaces/{workspace}/tree/{notebook.relative_to(lab.root)}?token={lab.token}")
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    cells.nth(len(source.cells) - 1).wait_for(state="attached", timeout=120_000)
    assert cells.count() == len(source.cells)
    wait_idle(page)
    assert page.locator(".lm-MenuBar-item", has_text="Nbgrader").count() == 0, "instructor menu shown"
    validate = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar").get_by_text(
        "Validate", exact=True)
    assert validate.is_visible(), "the nbgrader Validate button is missing"

    # 2. Run → Run All Cells: the given code runs; the unanswered exercise raises NotImplementedError
    #    (in its own cell, or in the self-check when the stub is a function body) and the run stops.
    click_menu(page, "Run", "Run All Cells")
    cells.nth(solution).locator(ERROR).or_(cells.nth(check).locator(ERROR)).first.wait_for(timeout=180_000)
    wait_idle(page)
    assert "NotImplementedError" in output_text(cells.nth(solution)) + output_text(cells.nth(check))
    for i, cell in enumerate(source.cells[:solution]):
        if cell.cell_type != "code":
            continue
        assert prompt(cells.nth(i)).strip("[]:").isdigit(), f"cell {i} did not run: {prompt(cells.nth(i))!r}"
        assert cells.nth(i).locator(ERROR).count() == 0, f"given code in cell {i} failed:\n{output_text(cells.nth(i))}"
        if "print(" in cell.source:
            assert output_text(cells.nth(i)).strip(), f"cell {i} prints, but no output appeared"
        if "print(f(2, 3))" in cell.source:
            assert "5.0" in output_text(cells.nth(i)), "f(2, 3) should print 5.0"

    # 3. The self-check of the unanswered exercise fails, as it should.
    before = prompt(cells.nth(check))
    cells.nth(check).locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("([el, p]) => { const t = el.textContent.trim(); return t !== p && !t.includes('*'); }",
                           arg=[cells.nth(check).locator(".jp-InputArea-prompt").element_handle(), before])
    wait_idle(page)
    message = output_text(cells.nth(check))
    assert cells.nth(check).locator(ERROR).count() == 1, f"the self-check passed on no answer:\n{message}"
    assert any(e in message for e in ("NameError", "AssertionError", "NotImplementedError")), message
    cells.nth(solution).scroll_into_view_if_needed()
    page.screenshot(path=shot + "-1-unanswered.png")
    print(f"screenshot: {shot}-1-unanswered.png")

    # 4. Type an answer; the same self-check now passes.
    cells.nth(solution).locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(answer)
    page.keyboard.press("Shift+Enter")            # runs the answer, moves to the self-check
    wait_idle(page)
    before = prompt(cells.nth(check))
    page.keyboard.press("Shift+Enter")            # runs the self-check
    page.wait_for_function("([el, p]) => { const t = el.textContent.trim(); return t !== p && !t.includes('*'); }",
                           arg=[cells.nth(check).locator(".jp-InputArea-prompt").element_handle(), before])
    wait_idle(page)
    assert cells.nth(solution).locator(ERROR).count() == 0, output_text(cells.nth(solution))
    assert cells.nth(check).locator(ERROR).count() == 0, output_text(cells.nth(check))
    assert output_text(cells.nth(check)).strip(), "the self-check printed nothing"
    cells.nth(check).scroll_into_view_if_needed()
    page.screenshot(path=shot + "-2-answered.png")
    print(f"screenshot: {shot}-2-answered.png: {output_text(cells.nth(check)).strip()[:100]}")

    # 5. Validate (nbgrader, the one extension students keep): saves, runs the notebook, reports.
    validate.click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=180_000)
    report = dialog.inner_text()
    page.screenshot(path=shot + "-3-validate.png")
    print(f"screenshot: {shot}-3-validate.png")
    assert "Success!" not in report and "failed" in report.lower(), report   # later exercises are unanswered
    dialog.get_by_role("button", name="Ok").click()
    saved = nbformat.read(notebook, as_version=4)            # Validate saved the typed answer first
    assert answer.splitlines()[0] in saved.cells[solution].source


def test_instructor_pages_are_off(lab):
    """Formgrader (grades, hidden tests, the gradebook UI) is not served to students; Validate is."""
    with pytest.raises(urllib.error.HTTPError) as err:
        lab.api("/formgrader")
    assert err.value.code == 404
    assert lab.api("/nbgrader_version?version=0.9.6")[0] == 200          # what the Validate button asks first
