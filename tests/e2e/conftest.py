"""Fixtures for the end-to-end tests: the built site served on localhost, and Chromium.

The tests run against ``dist/`` (or ``$KMEANS_DIST``), which ``python build.py
test`` builds first. Chromium is ``$KMEANS_CHROMIUM``, else Debian's
``/usr/bin/chromium``, else Playwright's own (``python -m playwright install
chromium``).
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import sys
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
import build

DIST = Path(os.environ.get("KMEANS_DIST", REPO / "dist"))

#: Flags for Chromium on a machine with no network and no display, as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Only Pyodide's boot may take this long; everything else uses RUN_TIMEOUT.
BOOT_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 60_000


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def _chromium_path() -> str | None:
    configured = os.environ.get("KMEANS_CHROMIUM")
    if configured:
        return configured
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium where it exists (pytest-playwright hook)."""
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS, "headless": True}
    path = _chromium_path()
    if path:
        args["executable_path"] = path
    elif not build.playwright_chromium_installed():
        pytest.fail(
            "No Chromium for the browser tests: install Chromium (apt-get install chromium), "
            "set KMEANS_CHROMIUM, or run python -m playwright install chromium"
        )
    return args


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Every test runs under the pages' Content-Security-Policy. Playwright evaluates a bare string
    # *expression* given to wait_for_function with eval, which the CSP forbids, so the tests pass
    # functions instead: "() => ...".
    return {
        **browser_context_args,
        "accept_downloads": True,
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def strict_context(browser, browser_context_args):
    """A fresh browser context that enforces the pages' Content-Security-Policy (closed after the test)."""
    context = browser.new_context(**{**browser_context_args, "bypass_csp": False})
    yield context
    context.close()


def _sources(package_zip: bytes) -> dict[str, bytes]:
    """The entries of a package zip but its ``__pycache__`` ones."""
    with zipfile.ZipFile(io.BytesIO(package_zip)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if "/__pycache__/" not in name}


@pytest.fixture(scope="session")
def dist() -> Path:
    """The built site; fails if it is missing or older than py/kmeans."""
    if not (DIST / "index.html").is_file():
        pytest.fail(f"{DIST} is not built: run python build.py (or python build.py test)")
    shipped = _sources((DIST / "static" / "kmeans.zip").read_bytes())  # its bytecode aside
    if shipped != _sources(build.zip_package(REPO / "py" / "kmeans")):
        pytest.fail(f"{DIST} is stale (py/kmeans changed since): run python build.py")
    return DIST


@pytest.fixture(scope="session")
def site_url(dist):
    """Serve dist/ on a free localhost port for the whole session."""
    server = build.make_server(dist, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class PageWatch:
    """Everything a page did that a test may want to check afterwards."""

    def __init__(self, page, origin):
        self.origin = origin
        self.requests = []
        self.console_errors = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def foreign_requests(self):
        """Requests that left the page's origin (data: and blob: URLs stay on the device)."""
        foreign = []
        for request in self.requests:
            parts = urlsplit(request.url)
            if parts.scheme in ("data", "blob"):
                continue
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                foreign.append(request.url)
        return foreign


@pytest.fixture
def app(page, site_url):
    """The page, loaded and booted to data-state=ready; checks console and network on teardown."""
    parts = urlsplit(site_url)
    watch = PageWatch(page, f"{parts.scheme}://{parts.netloc}")
    page.goto(site_url)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    page.watch = watch
    yield page
    assert watch.foreign_requests() == [], "requests left localhost"
    assert watch.console_errors == [], "the console showed errors"


class Server:
    """A static server of a folder on a free port of 127.0.0.1, recording every request it gets.

    ``headers`` are added to every response (e.g. ``Access-Control-Allow-Origin``); ``log`` holds
    ``(method, path, request body length, status)`` tuples; ``sent`` counts the body bytes sent.
    """

    def __init__(self, root, base="/", headers=None):
        self.log = []
        self.sent = 0
        outer = self

        class Handler(build.StaticHandler):
            def send_response(self, code, message=None):
                length = int(self.headers.get("Content-Length") or 0) if self.headers else 0
                outer.log.append((self.command, self.path, length, code))
                super().send_response(code, message)

            def end_headers(self):
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                super().end_headers()

            def copyfile(self, source, outputfile):
                outer.sent += os.fstat(source.fileno()).st_size
                super().copyfile(source, outputfile)

        handler = functools.partial(Handler, directory=str(root), base=build.normalize_base(base))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.origin + build.normalize_base(base)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.running = True

    def stop(self):
        """Stop answering: later requests to this origin fail like a network that is off."""
        if self.running:
            self.running = False
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)


@pytest.fixture
def serve():
    """Start servers with ``serve(root, base="/", headers=None) -> Server``; all stop after the test."""
    servers = []

    def start(root, base="/", headers=None):
        server = Server(root, base, headers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
