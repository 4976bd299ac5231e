"""A student's first minutes, in a real browser: JupyterLab on the student release, driven by headless
Chromium (Debian's /usr/bin/chromium, through Playwright; `playwright install` is never needed).

The student opens the first notebook of act2_practice (the one the Binder badge opens), runs all
cells, sees the given code's output and the exercise stop at `raise NotImplementedError()`, runs the
self-check (which fails: nothing is answered yet), types an answer, sees the self-check pass, and
presses Validate. JupyterLab runs with the nbgrader extensions students get on Binder
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
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, first_student_notebook

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Known answers for the first exercise of the notebook under test: typing one shows the self-check pass.
ANSWERS = {"ex1_solution": "out1 = a + a ** 10\nf1 = function([a], out1)"}

playwright_api = pytest.importorskip("playwright.sync_api")
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
        self.log.close()


@pytest.fixture
def lab(student_release, tmp_path, e2e_output):
    root = tmp_path / "student"
    shutil.copytree(student_release, root)
    server = Lab(root, tmp_path, e2e_output / "jupyterlab.log")
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
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=timeout_ms)


def output_text(cell) -> str:
    outputs = cell.locator(".jp-OutputArea-output")
    return "\n".join(outputs.all_text_contents())  # offscreen cells have no innerText


def test_student_runs_first_notebook_and_checks_an_answer(lab, page, e2e_output):
    notebook = first_student_notebook(lab.root)
    source = nbformat.read(notebook, as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in source.cells]
    solution = next(i for i, m in enumerate(meta) if m.get("solution"))
    check = next(i for i, m in enumerate(meta) if i > solution and m.get("grade"))
    shot = e2e_output / f"{notebook.stem}"
    print(f"\nnotebook: {notebook.relative_to(lab.root)}; first exercise: cell {solution}, its self-check: cell {check}")

    # 1. Open the notebook the way the Binder badge does (lab/tree/<path>).
    page.goto(f"{lab.base}/lab/tree/{notebook.relative_to(lab.root)}?token={lab.token}")
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    cells.nth(len(source.cells) - 1).wait_for(state="attached", timeout=120_000)
    assert cells.count() == len(source.cells)
    wait_idle(page)
    assert page.locator(".lm-MenuBar-item", has_text="Nbgrader").count() == 0, "instructor menu shown"
    validate = page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True)
    assert validate.is_visible(), "the nbgrader Validate button is missing"

    # 2. Run → Run All Cells: the given code runs, then the unanswered exercise stops the run.
    click_menu(page, "Run", "Run All Cells")
    cells.nth(solution).locator(".jp-OutputArea-output", has_text="NotImplementedError").wait_for(timeout=180_000)
    wait_idle(page)
    for i, cell in enumerate(source.cells[:solution]):
        if cell.cell_type != "code":
            continue
        prompt = cells.nth(i).locator(".jp-InputArea-prompt").text_content()
        assert prompt.strip("[]: ").isdigit(), f"cell {i} did not run: prompt {prompt!r}"
        text = output_text(cells.nth(i))
        assert "Error" not in text, f"given code in cell {i} failed:\n{text}"
        if "print(" in cell.source:
            assert text.strip(), f"cell {i} prints, but no output appeared"
        if "print(f(2, 3))" in cell.source:
            assert "5.0" in text, f"f(2, 3) should print 5.0, the page shows {text!r}"

    # 3. The self-check of the unanswered exercise fails, as it should.
    cells.nth(check).locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Shift+Enter")
    failed = cells.nth(check).locator(".jp-OutputArea-output", has_text="Error")
    failed.wait_for(timeout=60_000)
    wait_idle(page)
    message = output_text(cells.nth(check))
    assert any(e in message for e in ("NameError", "AssertionError", "NotImplementedError")), message
    cells.nth(solution).scroll_into_view_if_needed()
    page.screenshot(path=str(shot) + "-1-unanswered.png")
    print(f"screenshot: {shot}-1-unanswered.png")

    # 4. Type an answer; the same self-check now passes.
    answer = ANSWERS.get(meta[solution].get("grade_id"))
    if answer is None:
        pytest.fail(f"no known answer for exercise {meta[solution].get('grade_id')!r}: add it to ANSWERS")
    cells.nth(solution).locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(answer)
    page.keyboard.press("Shift+Enter")            # runs the answer, moves to the self-check
    wait_idle(page)
    page.keyboard.press("Shift+Enter")            # runs the self-check
    cells.nth(check).locator(".jp-OutputArea-output", has_text="passes").wait_for(timeout=60_000)
    assert "Error" not in output_text(cells.nth(check)), output_text(cells.nth(check))
    cells.nth(check).scroll_into_view_if_needed()
    page.screenshot(path=str(shot) + "-2-answered.png")
    print(f"screenshot: {shot}-2-answered.png")

    # 5. Validate (nbgrader, the one extension students keep): saves, runs the notebook, reports.
    validate.click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=180_000)
    report = dialog.inner_text()
    page.screenshot(path=str(shot) + "-3-validate.png")
    print(f"screenshot: {shot}-3-validate.png")
    assert "Success!" not in report and ("NotImplementedError" in report or "failed" in report.lower()), report
    dialog.get_by_role("button", name="Ok").click()
    saved = nbformat.read(notebook, as_version=4)            # Validate saved the typed answer first
    assert answer.splitlines()[0] in saved.cells[solution].source
