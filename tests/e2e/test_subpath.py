"""dist/ served under a sub-path, as GitHub Pages serves a project site (https://USER.github.io/REPO/)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .conftest import BOOT_TIMEOUT_MS
from .helpers import compress_file, distinct_colours, wait_booted, wait_offline, wait_state
from .test_compress_page import canvas_pixels, make_png


def test_the_site_works_under_a_sub_path(strict_context, dist, serve, tmp_path):
    site = serve(dist, base="/kmeans-web/")
    errors = []
    page = strict_context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(site.url)
    wait_booted(page)
    wait_offline(page)
    assert (
        page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
        == site.url
    )

    compress_file(page, "sub.png", make_png(50, 40, seed=8), k=5)
    with page.expect_download() as download_info:
        page.click("#download")
    download_info.value.save_as(tmp_path / "sub.png")
    with Image.open(tmp_path / "sub.png") as saved:
        assert np.array_equal(np.asarray(saved.convert("RGBA")), canvas_pixels(page, "result"))

    page.click(".embed-help summary")
    assert f'src="{site.url}embed.html?k=5"' in page.input_value("#embed-code")

    page.goto(site.url + "embed.html?k=3")
    assert wait_state(page, "ready", "error") == "ready", page.text_content("#status")
    assert page.evaluate("() => document.getElementById('full-page').href") == site.url + "?k=3"
    page.click("#run")
    assert wait_state(page, "done", "error", timeout=BOOT_TIMEOUT_MS) == "done", page.text_content(
        "#status"
    )
    assert distinct_colours(page, "result") == 3
    assert page.evaluate("() => document.getElementById('result').width") == 640

    paths = [path for _, path, _, _ in site.log]
    assert all(path.startswith("/kmeans-web/") for path in paths), paths
    assert [entry for entry in site.log if entry[3] >= 400] == []
    assert errors == []
