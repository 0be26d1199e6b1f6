"""Helpers for the tests that run with the Content-Security-Policy enforced (offline, embed, privacy,
sub-path). Under the CSP, wait_for_function must be given a function ("() => ..."), never a bare
expression (Playwright would eval it)."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import BOOT_TIMEOUT_MS, RUN_TIMEOUT_MS


def wait_state(target, *states, timeout=RUN_TIMEOUT_MS):
    """Wait until body[data-state] of a page or frame is one of ``states``; return it."""
    target.wait_for_function(
        "(states) => states.includes(document.body.dataset.state)",
        arg=list(states),
        timeout=timeout,
    )
    return target.evaluate("() => document.body.dataset.state")


def wait_booted(page):
    """Wait for the full page to be ready (only Pyodide's boot gets the long timeout)."""
    assert wait_state(page, "ready", "error", timeout=BOOT_TIMEOUT_MS) == "ready", (
        page.text_content("#status")
    )


def wait_offline(page, state="ready", timeout=RUN_TIMEOUT_MS):
    """Wait until #offline-status says ``state`` (ready | update | failed)."""
    page.wait_for_function(
        "(state) => document.getElementById('offline-status').dataset.offline === state",
        arg=state,
        timeout=timeout,
    )


def compress_file(page, name, data, *, k, mime="image/png"):
    """Choose a file on the full page (that starts a run) and wait until it is done."""
    page.fill("#k", str(k))
    page.set_input_files("#image-input", files=[{"name": name, "mimeType": mime, "buffer": data}])
    state = wait_state(page, "done", "error")
    assert state == "done", page.text_content("#status")


def build_hash(dist: Path) -> str:
    """The build hash written into dist/static/config.js."""
    config = (dist / "static" / "config.js").read_text()
    return re.search(r'BUILD_HASH = "([0-9a-f]+)"', config).group(1)


CACHES_JS = """async () => {
    const out = {};
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        out[name] = (await cache.keys()).map((request) => request.url);
    }
    return out;
}"""


def cache_contents(page) -> dict[str, list[str]]:
    """Every Cache Storage cache of the page's origin: name -> cached URLs."""
    return page.evaluate(CACHES_JS)


def distinct_colours(target, canvas_id) -> int:
    """How many distinct RGBA values a canvas holds, counted in the page (cheap on big canvases)."""
    return target.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            return new Set(new Uint32Array(data.buffer)).size;
        }""",
        canvas_id,
    )


# static/snapshot.js: the key of the Python snapshot in the build's offline cache, relative to the site root.
SNAPSHOT = "pyodide-core-snapshot"


def saved_snapshot_size(page, name, key, at_least=0):
    """Wait until the cache holds a snapshot of more than ``at_least`` bytes; return its size."""
    size = page.wait_for_function(
        """async ([name, key, atLeast]) => {
            const response = await (await caches.open(name)).match(key);
            const size = response === undefined ? 0 : (await response.arrayBuffer()).byteLength;
            return size > atLeast && size;
        }""",
        arg=[name, key, at_least],
        timeout=RUN_TIMEOUT_MS,
        polling=200,
    )
    return size.json_value()
