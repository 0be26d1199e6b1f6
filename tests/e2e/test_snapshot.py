"""static/snapshot.js and the worker's boot from it: the first visit saves Python's core memory
snapshot in the build's offline cache, later visits start Python from it, and a snapshot that
cannot be restored never breaks the page (it boots afresh and saves a new one)."""

from __future__ import annotations

import numpy as np

from .conftest import RUN_TIMEOUT_MS
from .helpers import SNAPSHOT, build_hash, compress_file, saved_snapshot_size, wait_booted
from .test_compress_page import canvas_pixels, make_png

PUT_JS = """async ([name, key, text]) => {
    await (await caches.open(name)).put(key, new Response(text));
}"""

HEAD_JS = """async ([name, key]) => {
    const response = await (await caches.open(name)).match(key);
    return response ? Array.from(new Uint8Array(await response.arrayBuffer(), 0, 48)) : null;
}"""

# A snapshot whole by its checksum but of another Pyodide build: byte 16 is in the header Pyodide
# writes, the build id it checks when restoring.
OTHER_BUILD_JS = """async ([name, key]) => {
    const cache = await caches.open(name);
    const bytes = new Uint8Array(await (await cache.match(key)).arrayBuffer());
    bytes[16] ^= 0xff;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
    await cache.put(key, new Response(bytes, { headers: { 'X-Snapshot-SHA256': hex } }));
}"""


def collect_console(page) -> tuple[list[str], list[str]]:
    """The page's (and its workers') console errors and warnings, as they come."""
    errors, warnings = [], []
    kept = {"error": errors, "warning": warnings}
    page.on("console", lambda message: kept.get(message.type, []).append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors, warnings


class Visits:
    """One visitor's page on the built site: its console, and its snapshot's cache and key."""

    def __init__(self, context, dist, server):
        self.page = context.new_page()
        self.errors, self.warnings = collect_console(self.page)
        self.cache_key = [f"kmeans-{build_hash(dist)} /", server.url + SNAPSHOT]
        self.page.goto(server.url)
        wait_booted(self.page)

    def again(self) -> str:
        """Visit once more; return how Python started: "snapshot" or "files"."""
        self.page.reload()
        wait_booted(self.page)
        return self.page.evaluate("() => document.body.dataset.pythonStart")

    def saved_size(self, at_least=0) -> int:
        """Wait for a saved snapshot of more than ``at_least`` bytes; return its size."""
        return saved_snapshot_size(self.page, *self.cache_key, at_least=at_least)

    def compress(self, png, k) -> np.ndarray:
        """The result's pixels (after checking it has ``k`` colours)."""
        compress_file(self.page, "photo.png", png, k=k)
        pixels = canvas_pixels(self.page, "result")
        assert len(np.unique(pixels.reshape(-1, 4), axis=0)) == k
        return pixels


def test_a_return_visit_starts_python_from_the_first_visits_snapshot_with_the_same_results(
    strict_context, dist, serve
):
    visit = Visits(strict_context, dist, serve(dist))
    assert visit.page.evaluate("() => document.body.dataset.pythonStart") == "files"
    # The heap of a started runtime: tens of MB (20 MB in Pyodide 0.27.7), not a stub.
    assert visit.saved_size() > 10_000_000
    png = make_png(seed=11)
    first = visit.compress(png, k=5)

    assert visit.again() == "snapshot"
    assert np.array_equal(visit.compress(png, k=5), first)
    assert visit.errors == [] and visit.warnings == []


def test_a_damaged_snapshot_is_never_used_but_replaced_and_the_page_still_works(
    strict_context, dist, serve
):
    visit = Visits(strict_context, dist, serve(dist))
    visit.saved_size()
    # Damaged, as a disk or a bug might leave it.
    visit.page.evaluate(PUT_JS, [*visit.cache_key, "not a snapshot"])

    assert visit.again() == "files"
    assert any("snapshot is damaged" in text for text in visit.warnings), visit.warnings
    visit.compress(make_png(seed=12), k=3)
    # The damaged entry was replaced by a good one, which the next visit starts from.
    assert visit.saved_size(at_least=len("not a snapshot")) > 10_000_000
    assert visit.again() == "snapshot"
    assert visit.errors == []


def test_a_snapshot_that_pyodide_refuses_to_restore_falls_back_to_a_fresh_start(
    strict_context, dist, serve
):
    visit = Visits(strict_context, dist, serve(dist))
    visit.saved_size()
    head = visit.page.evaluate(HEAD_JS, visit.cache_key)  # Pyodide's: magic number, sizes, build id
    visit.page.evaluate(OTHER_BUILD_JS, visit.cache_key)
    assert visit.page.evaluate(HEAD_JS, visit.cache_key) != head

    assert visit.again() == "files"
    assert any("could not start from the saved snapshot" in text for text in visit.warnings), (
        visit.warnings
    )
    visit.compress(make_png(seed=13), k=4)
    # Replaced by a snapshot of this build again, which the next visit starts from.
    same_head = (
        "async ([name, key, head]) => JSON.stringify(await (%s)([name, key])) === JSON.stringify(head)"
    )
    visit.page.wait_for_function(
        same_head % HEAD_JS, arg=[*visit.cache_key, head], timeout=RUN_TIMEOUT_MS, polling=200
    )
    assert visit.again() == "snapshot"
    assert visit.errors == []
