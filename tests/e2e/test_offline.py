"""The service worker (sw.js, registered by offline.js): after one visit the page loads, compresses and
downloads with the server gone; a new build replaces the old cache and never mixes with it.

These tests start their own servers (they stop one mid-test) and enforce the pages' CSP."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
import time

import numpy as np
import pytest
from kmeans import steps
from PIL import Image

from .conftest import REPO, RUN_TIMEOUT_MS, build
from .helpers import SNAPSHOT, build_hash, cache_contents, compress_file, saved_snapshot_size, wait_booted, wait_offline
from .test_compress_page import canvas_pixels, make_png


def precached_paths(dist) -> set[str]:
    """The files sw.js caches at install, as written by build.py."""
    text = (dist / "sw.js").read_text()
    return set(json.loads(re.search(r"const PRECACHE = (\{.*?\});", text, re.DOTALL).group(1)))


def collect_errors(page) -> list[str]:
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_after_one_visit_the_page_works_with_the_network_off(strict_context, dist, serve, tmp_path):
    server = serve(dist)
    page = strict_context.new_page()
    errors = collect_errors(page)
    page.goto(server.url)
    wait_booted(page)
    wait_offline(page)
    assert page.text_content("#offline-status") == "Ready to work offline"

    name = f"kmeans-{build_hash(dist)} /"
    saved_snapshot_size(page, name, server.url + SNAPSHOT)  # kept beside the build's files
    caches = cache_contents(page)
    assert list(caches) == [name]
    cached = {url.removeprefix(server.url) for url in caches[name]}
    assert cached == precached_paths(dist) | {SNAPSHOT}
    # NumPy boots the page: cached although nothing was run online. The download is written with zlib,
    # so Pillow, like matplotlib (which needs it for the figure), is cached on first use only.
    assert any(path.startswith("pyodide/numpy-") for path in cached)
    assert not any(path.startswith(("pyodide/pillow-", "pyodide/matplotlib-")) for path in cached)

    server.stop()
    strict_context.set_offline(True)
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.reload()
    wait_booted(page)
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")

    png = make_png(80, 60, seed=7)
    compress_file(page, "offline.png", png, k=4)
    result = canvas_pixels(page, "result")
    assert len(np.unique(result.reshape(-1, 4), axis=0)) <= 4
    with page.expect_download() as download_info:
        page.click("#download")
    path = tmp_path / "offline.png"
    download_info.value.save_as(path)
    with Image.open(path) as saved:
        assert (saved.format, saved.mode, saved.size) == ("PNG", "P", (80, 60))
        assert np.array_equal(np.asarray(saved.convert("RGBA")), result)

    from_network = [
        r.url for r in responses if r.url.startswith(server.origin) and not r.from_service_worker
    ]
    assert from_network == []
    assert any(r.url.endswith("pyodide.asm.wasm") for r in responses)
    assert errors == []


# -- a new build --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """Builds "a" and "b" of the working tree (NumPy only), differing in one meta tag."""
    cache = build.cache_dir()
    if not build.runtime_is_cached(cache, log=lambda message: None):
        pytest.skip("needs the Pyodide cache: run python build.py once")
    root = tmp_path_factory.mktemp("builds")
    builds = {}
    for label in ("a", "b"):
        repo = root / f"repo-{label}"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO / "static", repo / "static", ignore=ignore)
        shutil.copytree(REPO / "py" / "kmeans", repo / "py" / "kmeans", ignore=ignore)
        for page in REPO.glob("*.html"):
            shutil.copyfile(page, repo / page.name)
        index = repo / "index.html"
        index.write_text(
            index.read_text().replace(
                "<head>", f'<head>\n  <meta name="build" content="{label}">', 1
            )
        )
        builds[label] = build.build(
            root / f"dist-{label}",
            repo=repo,
            cache=cache,
            packages=build.OFFLINE_PACKAGES,
            log=lambda m: None,
        )
    # b is deployed later: its files are newer (Last-Modified revalidation must not answer 304).
    later = time.time() + 60
    for path in builds["b"].out.rglob("*"):
        os.utime(path, (later, later))
    return builds


def point(link, target):
    """Atomically make ``link`` a symlink to ``target`` (a deploy)."""
    tmp = link.with_name(link.name + ".new")
    tmp.symlink_to(target)
    os.replace(tmp, link)


UPDATE_JS = """async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    const found = new Promise((resolve) => registration.addEventListener('updatefound', () => resolve(registration.installing), {once: true}));
    await registration.update();
    const worker = await Promise.race([found, new Promise((resolve) => setTimeout(resolve, 30000, null))]);
    if (!worker) return 'no update found';
    return new Promise((resolve) => {
        const settled = () => ['installed', 'redundant'].includes(worker.state) && resolve(worker.state);
        worker.addEventListener('statechange', settled);
        settled();
    });
}"""

DIGESTS_JS = """async (name) => {
    const cache = await caches.open(name);
    const out = {};
    for (const request of await cache.keys()) {
        const body = await (await cache.match(request)).arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
        out[request.url] = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    }
    return out;
}"""


def test_a_new_build_replaces_the_old_cache_and_never_mixes_files(
    strict_context, two_builds, serve, tmp_path
):
    a, b = two_builds["a"], two_builds["b"]
    site = tmp_path / "site"
    point(site, a.out)
    # A deploy caught half way: b's service worker beside a's files.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for entry in a.out.iterdir():
        if entry.name != "sw.js":
            (mixed / entry.name).symlink_to(entry)
    shutil.copy2(b.out / "sw.js", mixed / "sw.js")  # with b's (later) modification time

    server = serve(site)
    page = strict_context.new_page()
    errors = collect_errors(page)
    page.goto(server.url)
    wait_booted(page)
    wait_offline(page)
    cache_a, cache_b = f"kmeans-{a.build_hash} /", f"kmeans-{b.build_hash} /"
    assert list(cache_contents(page)) == [cache_a]

    point(site, mixed)
    assert page.evaluate(UPDATE_JS) == "redundant"  # a file failed its sha256: nothing is mixed
    assert list(cache_contents(page)) == [cache_a]
    assert page.text_content("#offline-status") == "Ready to work offline"

    point(site, b.out)
    page.reload()
    wait_booted(page)
    assert page.get_attribute("meta[name=build]", "content") == "a"  # still served from a's cache
    wait_offline(page, "update")
    assert page.text_content("#offline-status") == "Update available — reload"
    with page.expect_navigation():
        page.click("#offline-status button")
    wait_booted(page)
    assert page.get_attribute("meta[name=build]", "content") == "b"
    wait_offline(page)

    saved_snapshot_size(page, cache_b, server.url + SNAPSHOT)  # b's own, made by b's first boot
    caches = cache_contents(page)
    assert list(caches) == [cache_b]  # a's cache went, a's snapshot with it
    digests = page.evaluate(DIGESTS_JS, cache_b)
    del digests[server.url + SNAPSHOT]
    assert {url.removeprefix(server.url) for url in digests} == precached_paths(b.out)
    for url, digest in digests.items():
        assert (
            digest
            == hashlib.sha256((b.out / url.removeprefix(server.url)).read_bytes()).hexdigest()
        ), url
    assert errors == []


def test_the_standard_library_ships_as_bytecode_of_pyodides_own_python(dist):
    # Every other browser test boots from this zip; here: it holds bytecode only, of Python 3.12, as
    # unchecked-hash pycs (never compared with a source, which is not shipped).
    import zipfile

    with zipfile.ZipFile(dist / "pyodide" / "python_stdlib.zip") as stdlib:
        names = stdlib.namelist()
        header = stdlib.read("json/__init__.pyc")[:8]
    assert sum(name.endswith(".pyc") for name in names) > 400
    assert not [name for name in names if name.endswith(".py")]
    assert header[:4] == (3531).to_bytes(2, "little") + b"\r\n"  # Python 3.12's magic number
    assert header[4:8] == (1).to_bytes(4, "little")  # hash-based, source not checked


@pytest.mark.parametrize(("package", "at_least"), [("numpy", 140), ("matplotlib", 100), ("pillow", 20),
                                                  ("fonttools", 200), ("pyparsing", 5)])
def test_packages_ship_as_bytecode_only_without_what_nothing_runs_and_with_their_own_hash_in_the_lock(
        dist, package, at_least):
    # Pyodide unpacks a wheel a file at a time: NumPy on every start (every other browser test boots
    # from it), matplotlib and its dependencies for the explorer's figure.
    import zipfile

    lock = json.loads((dist / "pyodide" / "pyodide-lock.json").read_text())
    entry = lock["packages"][package]
    wheel = dist / "pyodide" / entry["file_name"]
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == entry["sha256"]  # what loadPackage checks
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        header = archive.read(min(name for name in names if name.endswith(".pyc")))[:8]
    assert header == (3531).to_bytes(2, "little") + b"\r\n" + (1).to_bytes(4, "little")  # 3.12, unchecked hash
    assert sum(name.endswith(".pyc") for name in names) > at_least
    assert not [name for name in names if name.endswith((".py", ".pyi", ".h", ".c", ".pxd", ".a"))
                or "__pycache__" in name]
    assert any(name.endswith(".dist-info/METADATA") for name in names)  # still an installed distribution


def test_numpy_keeps_the_extensions_the_page_runs_but_not_its_test_extensions(dist):
    import zipfile

    entry = json.loads((dist / "pyodide" / "pyodide-lock.json").read_text())["packages"]["numpy"]
    with zipfile.ZipFile(dist / "pyodide" / entry["file_name"]) as archive:
        names = set(archive.namelist())
    assert not [name for name in names if "umath_tests." in name or "rational_tests." in name]
    so = "cpython-312-wasm32-emscripten.so"
    assert {f"numpy/_core/_multiarray_umath.{so}", f"numpy/_core/_multiarray_tests.{so}",
            f"numpy/random/_generator.{so}", f"numpy/linalg/_umath_linalg.{so}", "numpy/__init__.pyc",
            "numpy/linalg/_linalg.pyc", "numpy/testing/__init__.pyc", "numpy/f2py/__init__.pyc"} <= names


# Run by Node.js on the site's own Pyodide files: the shipped NumPy, whole, as other code imports it.
SHIPPED_NUMPY_JS = r"""
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { loadPyodide } = require(process.argv[2] + "/pyodide.js");
const pyodide = await loadPyodide({ indexURL: process.argv[2] + "/" });
await pyodide.loadPackage("numpy", { messageCallback: () => {} });
console.log(pyodide.runPython(`
from numpy import *  # what SciPy does: every name of numpy.__all__, submodules loaded lazily included
import numpy
missing = [name for name in numpy.__all__ if not hasattr(numpy, name)]
str(missing) if missing else "ok " + str(int(numpy.linalg.det(numpy.eye(3)))) + numpy.f2py.__name__
`));
"""


def test_the_shipped_numpy_imports_whole(dist, tmp_path):
    import shutil
    import subprocess

    script = tmp_path / "numpy_whole.mjs"
    script.write_text(SHIPPED_NUMPY_JS)
    done = subprocess.run([shutil.which("node"), str(script), str(dist / "pyodide")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "ok 1numpy.f2py"


def test_the_kmeans_package_ships_with_bytecode_and_the_page_imports_it(app, dist):
    import zipfile

    with zipfile.ZipFile(dist / "static" / "kmeans.zip") as archive:
        names = set(archive.namelist())
        header = archive.read("kmeans/__pycache__/web.cpython-312.pyc")[:8]
    sources = {name for name in names if name.endswith(".py")}
    assert sources == {f"kmeans/{path.relative_to(REPO / 'py' / 'kmeans').as_posix()}"
                       for path in (REPO / "py" / "kmeans").rglob("*.py")}
    for source in sources:  # the sources stay (tracebacks, the explorer's code pane), each with its pyc
        folder, _, module = source.rpartition("/")
        assert f"{folder}/__pycache__/{module[:-3]}.cpython-312.pyc" in names, source
    assert header == (3531).to_bytes(2, "little") + b"\r\n" + (1).to_bytes(4, "little")
    # With the bytecode beside it, the explorer's code pane still reads the shipped source.
    app.click("#tab-clusters")
    app.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=RUN_TIMEOUT_MS)
    app.click("#points-assign")
    app.wait_for_function("() => document.getElementById('points-code').dataset.function === 'find_closest_centroids'"
                          " && document.querySelector('#points-code .hl')", timeout=RUN_TIMEOUT_MS)
    expected = inspect.getsource(steps.find_closest_centroids)
    assert expected.splitlines()[0] in app.text_content("#points-code")
    assert app.text_content("#points-code").count("\n") >= expected.count("\n") - 1
