"""What the browser tests and benchmarks/bench_browser.py share: Debian's Chromium driven by
Playwright for Python, a static file server for the built site, and JupyterLab on
127.0.0.1 in a throwaway folder.

Playwright's own browser download cannot work here (no internet), so the tests drive
/usr/bin/chromium (``apt-get install chromium``; .ci/run installs it). Without it the
tests skip, saying how to enable them; under CI (CI=true) they fail instead.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("OPTIM_COURSE_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
ENABLE_HINT = ("install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) and Playwright for "
               "Python (`pip install -r requirements.txt`; do not run `playwright install`), or set "
               "OPTIM_COURSE_CHROMIUM to a Chromium binary")
SCREENSHOTS = REPO / "screenshots"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip (fail under CI=true, where the browser tests must run) with how to enable them."""
    message = f"browser tests need Chromium and Playwright: {reason}; to run them, {ENABLE_HINT}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_browser() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"{CHROMIUM} not found")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is not installed")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright ``Browser``), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port); yield its base URL, ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def is_local(url: str) -> bool:
    """Whether ``url`` stays on this machine (127.0.0.1, or a file or data URL)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in {"file", "data", "blob", "about"} or parts.hostname == "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# JupyterLab's own settings for the run: every cell stays in the page (no virtual
# scrolling), and no news or update checks (no internet).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


@contextlib.contextmanager
def jupyterlab(notebooks: list[Path], timeout: float = 120.0) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 with no token, in a temporary folder holding copies of
    ``notebooks``, its own settings and config; yield its base URL (ending in '/').
    Stopped (and the folder removed) at the end."""
    with tempfile.TemporaryDirectory(prefix="optim-lab-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        for notebook in notebooks:
            shutil.copy(notebook, root / notebook.name)
        settings = Path(tmp) / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(Path(tmp) / "config"),
            "JUPYTER_RUNTIME_DIR": str(Path(tmp) / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(Path(tmp) / "workspaces"),
            "IPYTHONDIR": str(Path(tmp) / "ipython"),
        }
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
            "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.allow_root=True",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        log_file = Path(tmp) / "lab.log"
        with open(log_file, "w") as log:
            process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log_file.read_text()[-4000:]}")
                try:
                    with urllib.request.urlopen(url + "api/status", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"JupyterLab did not start in {timeout} s:\n{log_file.read_text()[-4000:]}")
                    time.sleep(0.25)
            yield url
        finally:
            # SIGTERM: the server shuts its kernels down before it exits.
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _label(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}(\s|$)")


class LabNotebook:
    """A notebook open in JupyterLab in a Playwright page, driven as a person would."""

    def __init__(self, page: Any, lab_url: str, name: str) -> None:
        self.page = page
        page.goto(f"{lab_url}lab/tree/{name}", wait_until="domcontentloaded")
        self.panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        self.panel.locator(".jp-Cell").first.wait_for(timeout=60_000)
        self.wait_for_idle_kernel(timeout=60_000)

    # The status bar's kernel item reads "Python 3 (ipykernel) | Idle" once the kernel has
    # started and has no work ("No Kernel | Initializing" before).
    _KERNEL_IDLE = """() => {
        const item = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
            .find(element => (element.title || '').startsWith('Change kernel'));
        const text = item ? item.textContent.trim() : '';
        return !text.startsWith('No Kernel') && text.endsWith('| Idle');
    }"""

    def wait_for_idle_kernel(self, timeout: float = 60_000) -> None:
        self.page.wait_for_function(self._KERNEL_IDLE, timeout=timeout)

    def run_all(self, timeout: float = 300_000) -> None:
        """Run ▸ Run All Cells from the menu bar, then wait until every code cell has run.

        Raises AssertionError with the traceback if a cell fails (the cells below it
        then never run)."""
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                    .map(prompt => prompt.textContent.trim());
                const failed = [...panel.querySelectorAll(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
                    .some(output => output.textContent.includes('Traceback'));
                return failed || (prompts.length > 0 && prompts.every(text => /^\\[\\d+\\]:$/.test(text)));
            }""",
            timeout=timeout,
        )
        self.wait_for_idle_kernel(timeout=timeout)
        errors = self.error_outputs()
        assert not errors, "a cell failed under Run All Cells:\n" + "\n".join(errors)[-4000:]

    def error_outputs(self) -> list[str]:
        """The text of every error output (a traceback) in the notebook."""
        return self.panel.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).filter(has_text="Traceback").all_inner_texts()

    def explorer_cell(self, slider_label: str) -> Any:
        """The first code cell whose output has a slider labelled ``slider_label`` (the
        label's first word, as in "lr" for "lr η")."""
        cell = self.panel.locator(".jp-CodeCell").filter(
            has=self.page.locator(".widget-slider .widget-label", has_text=_label(slider_label))).first
        cell.scroll_into_view_if_needed()
        return cell

    @staticmethod
    def slider_handle(cell: Any, slider_label: str) -> Any:
        """The handle a person drags, or focuses and moves with the arrow keys."""
        slider = cell.locator(".widget-slider").filter(
            has=cell.page.locator(".widget-label", has_text=_label(slider_label))).first
        return slider.locator(".noUi-handle").first

    @staticmethod
    def figure(cell: Any) -> Any:
        """The explorer's figure: the last image in the cell's outputs."""
        return cell.locator(".jp-OutputArea-output img").last
