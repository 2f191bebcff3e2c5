"""A real JupyterLab in a real (headless) Chromium, for the browser tests and `make bench`.

    with JupyterLab(folder) as lab, Browser() as browser:
        page = browser.open_notebook(lab, "ch02_tokens_and_embeddings.ipynb")
        run_all_cells(page)

Chromium is Debian's (`/usr/bin/chromium`, or $LLM_LAB_CHROMIUM); Playwright only drives it, because
its own browser download cannot work offline. JupyterLab runs from this environment on 127.0.0.1,
a random free port and a random token, with its own config, data and runtime folders, so nothing
from the user's Jupyter set-up leaks in and nothing is written outside the temporary folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# Flags from ../shared/NOTES.md: without the background-networking ones, the closed network refuses
# Chromium's own connections at every start.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
INSTALL_HINT = ("Chromium not found: install Debian's package (`sudo apt-get install chromium`) or set "
                "LLM_LAB_CHROMIUM=/path/to/chromium to run the browser tests"
                + (f" (LLM_LAB_CHROMIUM={os.environ['LLM_LAB_CHROMIUM']} is not a file)"
                   if os.environ.get("LLM_LAB_CHROMIUM") else ""))


def chromium_path() -> str | None:
    """Debian's chromium, or $LLM_LAB_CHROMIUM; None when there is none."""
    env = os.environ.get("LLM_LAB_CHROMIUM")
    if env:  # named explicitly: that one or none, as .ci/run does
        return env if Path(env).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """`jupyter lab` on a folder, on loopback, until the `with` block ends."""

    def __init__(self, folder: Path, env: dict | None = None):
        self.folder, self.port, self.token = Path(folder), free_port(), secrets.token_hex(16)
        self.home = Path(tempfile.mkdtemp(prefix="llm-lab-jupyter-"))
        self.env = {**os.environ, **(env or {}),
                    "JUPYTER_CONFIG_DIR": str(self.home / "config"), "JUPYTER_DATA_DIR": str(self.home / "data"),
                    "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
                    "JUPYTERLAB_SETTINGS_DIR": str(self.home / "settings"),
                    "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces")}
        self.env.pop("JUPYTER_PATH", None)
        news = self.home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True)
        news.write_text('{"fetchNews": "false", "checkForUpdates": false}')  # no pop-up, no call home
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.folder}",
               "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run cells as a user would
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",  # no call home
               "--LabApp.news_url=None"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = open(self.home / "lab.log", "w")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited:\n{(self.home / 'lab.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not start in 90 s:\n{(self.home / 'lab.log').read_text()[-3000:]}")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


class Browser:
    """Headless Chromium driven by Playwright; records every request that leaves loopback or disk."""

    def __init__(self, executable: str | None = None):
        self.executable = executable or chromium_path()
        self.outside_requests: list[str] = []

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=self.executable, headless=True, args=CHROMIUM_FLAGS)
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.on("request", self._record)
        return self

    def _record(self, request):
        url = request.url
        if not url.startswith(("http://127.0.0.1", "file://", "data:", "blob:", "about:")):
            self.outside_requests.append(url)

    def __exit__(self, *exc):
        self.context.close()
        self.browser.close()
        self._pw.stop()

    def open_notebook(self, lab: JupyterLab, name: str):
        page = self.context.new_page()
        # ?reset: a fresh workspace, so the notebook opened before this one is not restored beside it
        page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
        page.wait_for_function(
            """name => { const app = window.jupyterapp; const w = app && app.shell.currentWidget;
                         return w && w.context && w.context.path.endsWith(name) && w.sessionContext &&
                                w.sessionContext.session && w.sessionContext.session.kernel &&
                                w.sessionContext.session.kernel.connectionStatus === 'connected' &&
                                w.sessionContext.session.kernel.status === 'idle'; }""",
            arg=name, timeout=120_000)
        return page


RUN_ALL = """async () => {
  const app = window.jupyterapp;
  await app.commands.execute('notebook:clear-all-cell-outputs');
  app.commands.execute('notebook:run-all-cells');  // resolves only when every cell has run
  return true;
}"""

# Done when every cell has run, or when the kernel is idle after an error (Run All stops there).
DONE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const kernel = w.sessionContext.session.kernel;
  const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return kernel.status === 'idle' && (failed || cells.every(c => c.model.executionCount !== null));
}"""

ERRORS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const out = [];
  w.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
      if (o.output_type === 'stream' && o.name === 'stderr' && /Glyph \\d+ .*missing from/.test(o.text))
        out.push(`cell ${i}: a figure is missing glyphs (tofu): ${o.text.slice(0, 200)}`);
    }
  });
  if (document.body.innerText.includes('Error displaying widget')) out.push('Error displaying widget');
  return out;
}"""


OUTPUTS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code').map(c => c.model.outputs.toJSON())"""


def cell_outputs(page) -> list[list[dict]]:
    """The outputs of every code cell as JupyterLab holds them (nbformat JSON), in order."""
    return page.evaluate(OUTPUTS)


def shut_down(page) -> None:
    """Stop the notebook's kernel (each keeps its models in memory) and close the page."""
    try:
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    finally:
        page.close()


def run_all_cells(page, timeout_s: float = 1800) -> float:
    """Clear outputs, run every cell as the Run All menu does, wait until all ran; returns seconds."""
    start = time.perf_counter()
    page.evaluate(RUN_ALL)
    page.wait_for_function(DONE, timeout=timeout_s * 1000, polling=500)
    return time.perf_counter() - start


def errors(page) -> list[str]:
    """Error outputs, figures with missing glyphs, and widgets that failed to display."""
    return page.evaluate(ERRORS)
