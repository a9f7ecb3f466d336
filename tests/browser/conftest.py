"""Real JupyterLab on 127.0.0.1 + Playwright driving Debian's Chromium (see docs/testing-in-a-browser.md).

Session-scoped: one server, one browser, one notebook whose kernel has the shared session
wired to the in-process fake API. Tests add cells to that notebook and run them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("NBCLAUDE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: A key-shaped secret the kernel has in its environment; it must never reach the page.
BROWSER_KEY = "sk-ant-test-BrowserTestSecret-9c1f2e7d0a"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """A JupyterLab server in a fresh root directory."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="nbclaude-lab-"))
        self.root = self.tmp / "root"
        self.root.mkdir()
        self.port = _free_port()
        self.token = "nbclaude-browser-test"
        self.url = f"http://127.0.0.1:{self.port}"
        settings = self.tmp / "settings"
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        notices = settings / "@jupyterlab" / "apputils-extension"
        notices.mkdir(parents=True)
        (notices / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false"})
        )
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
            "JUPYTER_DATA_DIR": str(self.tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
            "IPYTHONDIR": str(self.tmp / "ipython"),
            "ANTHROPIC_API_KEY": BROWSER_KEY,
            "NO_PROXY": "127.0.0.1,localhost",
        }
        for name in (
            "ANTHROPIC_AUTH_TOKEN",
            "ANTHROPIC_BASE_URL",
            "NBCLAUDE_OFFLINE",
            "NBCLAUDE_MODEL",
        ):
            env.pop(name, None)
        self.log = open(self.tmp / "server.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True",
                # Notebook 7 (the notebook package) is served by the same server at /notebooks/
                "--JupyterNotebookApp.expose_app_in_browser=True",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: see {self.tmp / 'server.log'}")
            try:
                req = urllib.request.Request(
                    f"{self.url}/api/status", headers={"Authorization": f"token {self.token}"}
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("JupyterLab did not start in time")

    def server_log(self) -> str:
        self.log.flush()
        return (self.tmp / "server.log").read_text(errors="replace")

    def close(self) -> None:
        try:
            req = urllib.request.Request(
                f"{self.url}/api/shutdown",
                method="POST",
                headers={"Authorization": f"token {self.token}"},
            )
            urllib.request.urlopen(req, timeout=5).close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api")
    pytest.importorskip("jupyterlab")
    server = Lab()
    try:
        yield server
    finally:
        server.close()


SETUP = """\
import json, os, nbclaude
from nbclaude.testing import FakeAnthropic, Text
fake = FakeAnthropic()
session = nbclaude.get_session()
session.client = nbclaude.Client(transport=fake)  # the key comes from ANTHROPIC_API_KEY
session.model = "claude-haiku-4-5"
def posts():
    return [r.json for r in fake.requests if r.method == "POST"]
print("ready", len(os.environ["ANTHROPIC_API_KEY"]))
"""


class Notebook:
    """One open notebook: add cells, run them, read their outputs."""

    def __init__(self, page: Any, lab: Lab) -> None:
        self.page = page
        self.lab = lab

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def add(self, code: str) -> int:
        """Append a code cell and start running it (does not wait)."""
        return int(
            self.page.evaluate(
                """(code) => {
                    const app = window.jupyterapp;
                    const notebook = app.shell.currentWidget.content;
                    const n = notebook.model.cells.length;
                    notebook.model.sharedModel.insertCell(n, {cell_type: "code", source: code});
                    notebook.activeCellIndex = n;
                    notebook.mode = "command";
                    app.commands.execute("notebook:run-cell");
                    return n;
                }""",
                code,
            )
        )

    def wait_done(self, index: int, timeout: float = 30.0) -> None:
        self.page.wait_for_function(
            """(i) => {
                const cell = document.querySelectorAll(".jp-Notebook .jp-Cell")[i];
                const prompt = cell && cell.querySelector(".jp-InputPrompt");
                return prompt && /\\[\\d+\\]/.test(prompt.textContent);
            }""",
            arg=index,
            timeout=timeout * 1000,
        )

    def run(self, code: str, timeout: float = 30.0) -> str:
        """Run a cell to the end and return its output text."""
        index = self.add(code)
        self.wait_done(index, timeout)
        return self.output(index)

    def output(self, index: int) -> str:
        return str(self.cell(index).locator(".jp-OutputArea").inner_text())

    def value(self, expr: str) -> Any:
        """Evaluate a Python expression in the kernel; its JSON comes back."""
        text = self.run(f"print('<<' + json.dumps({expr}) + '>>')")
        start, end = text.index("<<") + 2, text.rindex(">>")
        return json.loads(text[start:end])

    def widget(self, index: int) -> Any:
        return self.cell(index).locator(".nbc-root")


@pytest.fixture(scope="session")
def browser(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Traffic:
    """What the page did: dialogs, requests to other hosts, websocket frames."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.remote: list[str] = []
        self.frames: list[bytes] = []
        self.console_errors: list[str] = []


@pytest.fixture(scope="session")
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture(scope="session")
def notebook(lab: Lab, browser: Any, traffic: Traffic) -> Iterator[Notebook]:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(lab.root / "chat.ipynb"))
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith((lab.url, "data:", "blob:")):
            route.continue_()
        else:
            traffic.remote.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (traffic.dialogs.append(d.message), d.dismiss()))
    page.on(
        "console",
        lambda m: traffic.console_errors.append(m.text) if m.type == "error" else None,
    )

    def on_ws(ws: Any) -> None:
        def keep(payload: Any) -> None:
            traffic.frames.append(payload if isinstance(payload, bytes) else payload.encode())

        ws.on("framereceived", keep)
        ws.on("framesent", keep)

    page.on("websocket", on_ws)
    page.goto(f"{lab.url}/lab/tree/chat.ipynb?token={lab.token}&reset")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
            e => / \\| Idle$/.test(e.textContent) && !e.textContent.startsWith('No Kernel'))""",
        timeout=60_000,
    )
    book = Notebook(page, lab)
    out = book.run(SETUP, timeout=60)
    assert "ready" in out, out
    try:
        yield book
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "browser-server.log").write_text(lab.server_log())
        context.close()
