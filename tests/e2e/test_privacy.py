"""Images never leave the device, the Content-Security-Policy holds, and user text is never HTML."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np
import pytest

from .conftest import REPO
from .helpers import compress_file, wait_booted, wait_offline, wait_state
from .test_compress_page import canvas_pixels, make_png

#: Records CSP violations (the init script runs before the page's own scripts, outside its CSP).
VIOLATIONS_JS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_a_whole_session_requests_only_the_sites_own_files(strict_context, dist, serve, tmp_path):
    site = serve(dist)
    requests, sockets, errors = [], [], []
    strict_context.on("request", lambda request: requests.append(request))
    strict_context.add_init_script(VIOLATIONS_JS)
    page = strict_context.new_page()
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(site.url)
    wait_booted(page)
    png = make_png(64, 48, seed=21)
    compress_file(page, "private.png", png, k=6)
    with page.expect_download() as download_info:
        page.click("#download")
    download_info.value.save_as(tmp_path / "out.png")
    wait_offline(page)  # the service worker's requests are part of the session

    # The worker's and the service worker's requests are recorded too.
    seen = {urlsplit(request.url).path for request in requests}
    assert {"/static/kmeans.zip", "/pyodide/pyodide.asm.wasm", "/sw.js"} <= seen
    for request in requests:
        parts = urlsplit(request.url)
        if parts.scheme in ("blob", "data"):
            continue  # the download link and decoded images stay in the browser
        assert f"{parts.scheme}://{parts.netloc}" == site.origin, request.url
        assert (request.method, request.post_data_buffer) == ("GET", None), request.url
    assert sockets == []

    # What the server saw, service worker included: GETs of the build's own files, no bodies, no queries.
    files = {"/"} | {
        "/" + path.relative_to(dist).as_posix() for path in dist.rglob("*") if path.is_file()
    }
    assert {"/sw.js", "/pyodide/pyodide.asm.wasm"} <= {path for _, path, _, _ in site.log}
    for method, path, body, status in site.log:
        assert (method, body) == ("GET", 0), path
        assert path in files, path  # no query string, nothing but the site's files
        assert status in (200, 304), path

    assert page.evaluate("() => window.cspViolations") == []
    assert errors == []


HOSTILE = '<img src=x onerror="window.pwned=1">'


def test_user_text_is_shown_as_text_never_as_html(strict_context, dist, serve):
    site = serve(dist)
    strict_context.add_init_script(VIOLATIONS_JS)
    page = strict_context.new_page()
    page.goto(site.url)
    wait_booted(page)

    name = HOSTILE + ".png"
    compress_file(page, name, make_png(40, 30, seed=2), k=3)
    assert page.text_content("#original-caption").startswith(name + ", 40×30")
    assert page.get_attribute("#download", "download") == HOSTILE + "-3colors.png"
    assert len(np.unique(canvas_pixels(page, "result").reshape(-1, 4), axis=0)) <= 3

    bad = "<b>notes</b>.txt"
    page.set_input_files(
        "#image-input", files=[{"name": bad, "mimeType": "text/plain", "buffer": b"<i>hi</i>"}]
    )
    assert wait_state(page, "error") == "error"
    assert f"“{bad}” is not an image" in page.text_content("#status")

    page.goto(f"{site.url}embed.html?src={HOSTILE}")  # a relative address that is not there
    assert wait_state(page, "error") == "error"
    assert "answered 404" in page.text_content("#status")

    for url in (site.url, site.url + "embed.html"):
        page.goto(url)
        assert page.evaluate("() => document.querySelectorAll('img, b, i').length") == 0
    assert page.evaluate("() => window.pwned") is None
    assert page.evaluate("() => window.cspViolations") == []


@pytest.mark.parametrize("path", sorted(p.name for p in (REPO / "static").glob("*.js")))
def test_scripts_never_build_html_from_strings(path):
    source = (REPO / "static" / path).read_text()
    assert not re.search(
        r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function",
        source,
    )


@pytest.mark.parametrize("page", ["index.html", "embed.html"])
def test_pages_have_a_strict_csp_and_no_inline_code(page):
    html = (REPO / page).read_text()
    policy = re.search(
        r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html
    ).group(1)
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["worker-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"\sstyle=", html), "inline style"
