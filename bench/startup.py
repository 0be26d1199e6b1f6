"""Start-up: our page against a bare Pyodide + NumPy page, from the same files, in one run.

Run by hand (not in CI), after the tests' dependencies are installed:

    python bench/startup.py               # 5 repeat visits each, after a first visit
    python bench/startup.py --visits 7

It builds dist/ into a temporary folder and adds ``bare/``: a page whose module
worker only runs ``loadPyodide(); loadPackage('numpy'); import numpy`` from
the site's own ``pyodide/`` files (so it gets the same compiled standard
library and NumPy), and sets ``data-state=ready`` when done. It also adds
``shipped/``, the same bare page on Pyodide's files as Pyodide ships them
(sources only, as a build with ``compile_stdlib=False`` copies them): the
boot issue 12 measured (1.95 s), against which its 0.6x target means "about
1.2 s here". Each page gets its
own persistent profile (HTTP cache and V8's code cache live between visits, as
for a returning visitor); the first visit is timed apart, then repeat visits
alternate between the two pages. Times run from navigation to
``data-state=ready``. Issue 12's targets: a repeat visit at most 0.6x the bare page,
a first visit at most 1.0x; both are given against each bare page.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
import build
from browser import CHROMIUM_ARGS

BARE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>bare</title><script type="module" src="bare.js"></script></head>
<body data-state="loading"></body></html>
"""
BARE_JS = """
const worker = new Worker(new URL("./bare-worker.js", import.meta.url), { type: "module" });
worker.onmessage = (event) => { document.body.dataset.state = event.data; };
"""
BARE_WORKER_JS = """
const base = new URL("../pyodide/", import.meta.url).href;
const { loadPyodide } = await import(base + "pyodide.mjs");
const pyodide = await loadPyodide({ indexURL: base });
await pyodide.loadPackage("numpy", { messageCallback: () => {} });
pyodide.runPython("import numpy");
postMessage("ready");
"""


def add_bare_page(folder: Path, pyodide: str) -> None:
    """The bare page in `folder` of the site, booting from the site's folder `pyodide`."""
    folder.mkdir()
    (folder / "index.html").write_text(BARE_HTML)
    (folder / "bare.js").write_text(BARE_JS)
    (folder / "bare-worker.js").write_text(BARE_WORKER_JS.replace("../pyodide/", f"../{pyodide}/"))


def visit(playwright, profile: Path, url: str) -> tuple[float, int]:
    """Seconds from navigation to data-state=ready, and the response bytes, in a persistent profile."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
    try:
        page = context.new_page()
        sizes: list[int] = []
        page.on("requestfinished", lambda request: sizes.append(request.sizes()["responseBodySize"]))
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=120_000, polling=20)
        return time.perf_counter() - started, sum(sizes)
    finally:
        context.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=5)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        site = temp / "site"
        build.build(site, repo=REPO, log=lambda *a, **k: None)
        add_bare_page(site / "bare", "pyodide")
        # The bare page again, on the files as Pyodide ships them (from a build that compiles nothing).
        shipped = temp / "shipped-site"
        build.build(shipped, repo=REPO, compile_stdlib=False, log=lambda *a, **k: None)
        shutil.copytree(shipped / "pyodide", site / "shipped-pyodide")
        add_bare_page(site / "shipped", "shipped-pyodide")
        server = build.make_server(site, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        root = f"http://127.0.0.1:{server.server_address[1]}/"
        pages = {"shipped": root + "shipped/", "bare": root + "bare/", "ours": root}
        first, repeat = {}, {name: [] for name in pages}
        with sync_playwright() as playwright:
            for name, url in pages.items():
                first[name] = visit(playwright, temp / f"profile-{name}", url)
            for _ in range(args.visits):
                for name, url in pages.items():
                    repeat[name].append(visit(playwright, temp / f"profile-{name}", url)[0])
        server.shutdown()
    print(f"{'page':>7} {'first visit':>12} {'MB':>6} {'repeat (median)':>16} {'range':>14}")
    for name in pages:
        seconds, sent = first[name]
        times = repeat[name]
        print(f"{name:>7} {seconds:>11.2f}s {sent / 1e6:>6.1f} {statistics.median(times):>15.2f}s "
              f"{min(times):>6.2f}–{max(times):.2f}s")
    for bare in ("shipped", "bare"):
        ratio_first = first["ours"][0] / first[bare][0]
        ratio_repeat = statistics.median(repeat["ours"]) / statistics.median(repeat[bare])
        print(f"ours / {bare}: first visit {ratio_first:.2f}x (target <= 1.0), "
              f"repeat {ratio_repeat:.2f}x (target <= 0.6)")


if __name__ == "__main__":
    main()
