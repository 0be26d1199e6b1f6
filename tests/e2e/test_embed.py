"""embed.html in an <iframe> on another site, with an image from a third origin (CORS), CSP enforced."""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pytest
from kmeans import web
from PIL import Image

from .conftest import BOOT_TIMEOUT_MS
from .helpers import wait_state
from .test_compress_page import canvas_pixels, make_png, png_pixels


@pytest.fixture
def images(tmp_path):
    """A folder with one test photo, to be served as another site."""
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "photo.png").write_bytes(make_png(72, 48, seed=12))
    return folder


def test_the_pages_snippet_embeds_a_cors_image_that_compresses_in_the_frame(
    strict_context, dist, serve, images
):
    site = serve(dist)
    blog = serve(
        images, headers={"Access-Control-Allow-Origin": "*"}
    )  # the blog, also hosting the image
    photo = blog.url + "photo.png"

    page = strict_context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site.url)
    page.fill("#k", "5")
    page.click(".embed-help summary")
    page.fill("#embed-src", photo)
    snippet = page.input_value("#embed-code")
    address = f"{site.url}embed.html?{urlencode({'src': photo, 'k': 5})}"
    assert snippet == (
        f'<iframe src="{address.replace("&", "&amp;")}" title="K-means image compression" '
        'width="720" height="400" loading="lazy" style="border: 0; max-width: 100%;"></iframe>'
    )

    post = f'<!doctype html><title>My post</title><link rel="icon" href="data:,">\n<h1>My post</h1>\n{snippet}\n'
    (images / "post.html").write_text(post)
    with page.expect_event(
        "framenavigated", lambda frame: "/embed.html?" in frame.url
    ) as navigated:
        page.goto(blog.url + "post.html")
    frame = navigated.value
    requested.clear()  # (the full page, visited above, boots Python itself)
    assert wait_state(frame, "ready", "error") == "ready", frame.text_content("#status")
    assert frame.text_content("#original-caption") == "photo.png, 72×48"
    assert frame.input_value("#k") == "5"
    # The full page opens with the embed's settings.
    assert frame.evaluate("() => document.getElementById('full-page').href") == site.url + "?k=5"

    # A reader who never presses Run downloads nothing of Python: no worker, no Pyodide file.
    frame.wait_for_timeout(500)
    assert frame.page.workers == [] and not [url for url in requested if "/pyodide/" in url], requested
    frame.click("#run")  # Python loads only now
    assert wait_state(frame, "done", "error", timeout=BOOT_TIMEOUT_MS) == "done", (
        frame.text_content("#status")
    )
    original = png_pixels((images / "photo.png").read_bytes())
    assert np.array_equal(canvas_pixels(frame, "original"), original)
    expected = web.quantize(original.tobytes(), 72, 48, n_colors=5, seed=0, max_iter=300)
    expected_image = expected["palette"].reshape(-1, 4)[expected["indices"]].reshape(original.shape)
    assert np.array_equal(canvas_pixels(frame, "result"), expected_image)
    assert frame.text_content("#result-caption") == "5 colours"
    assert frame.text_content("#status").startswith("Done: 5 colours, PSNR ")
    assert errors == []


def closed_url(serve, tmp_path):
    server = serve(tmp_path)
    server.stop()
    return server.url + "photo.png"


@pytest.mark.parametrize(
    "where, message",
    [
        ("no-cors", "the server of {src} does not allow other sites to read it (CORS)"),
        ("closed", "{src} could not be reached"),
        ("missing", "the server of {src} answered 404"),
        ("script", "“javascript:alert(1)” is not an http or https address"),
    ],
    ids=["no-cors", "unreachable", "404", "javascript-url"],
)
def test_an_image_that_cannot_be_read_gives_a_clear_message(
    strict_context, dist, serve, images, tmp_path, where, message
):
    site = serve(dist)
    src = {
        "no-cors": lambda: serve(images).url + "photo.png",
        "closed": lambda: closed_url(serve, tmp_path),
        "missing": lambda: (
            serve(images, headers={"Access-Control-Allow-Origin": "*"}).url + "nope.png"
        ),
        "script": lambda: "javascript:alert(1)",
    }[where]()
    page = strict_context.new_page()
    page.goto(f"{site.url}embed.html?{urlencode({'src': src, 'k': 4})}")
    assert wait_state(page, "ready", "error") == "error"
    assert message.format(src=src) in page.text_content("#status")
    assert page.is_disabled("#run")
    assert page.evaluate("() => document.querySelectorAll('img, script:not([src])').length") == 0


def test_without_src_the_embed_shows_the_sample_and_refuses_a_bad_k(strict_context, dist, serve):
    site = serve(dist)
    page = strict_context.new_page()
    page.goto(site.url + "embed.html?k=0")
    assert wait_state(page, "ready", "error") == "ready"
    assert page.text_content("#original-caption") == "flower.jpg, 640×427"
    # The link's bad K is said at once, and not used: the embed keeps its default.
    assert "The link's k= must be a whole number from 1 to 256; got “0”, so it was not used." in page.text_content(
        "#status"
    )
    assert page.input_value("#k") == "16"
    page.fill("#k", "0")  # a bad K typed in is refused when Run is pressed
    page.click("#run")
    assert wait_state(page, "error") == "error"
    assert "Colours (K) must be a whole number from 1 to 256; got “0”" in page.text_content(
        "#status"
    )
    assert page.evaluate("() => document.getElementById('result').width") == 0


def test_the_embed_takes_a_dither_parameter_and_refuses_a_bad_one(strict_context, dist, serve):
    site = serve(dist)
    page = strict_context.new_page()
    page.goto(site.url + "embed.html?k=6&dither=0.3")
    assert wait_state(page, "ready", "error") == "ready"
    assert page.input_value("#dither") == "0.3" and page.text_content("#dither-value") == "0.30"
    page.goto(site.url + "embed.html?k=6&dither=strong")
    assert wait_state(page, "ready", "error") == "ready"
    status = page.text_content("#status")
    assert "The link's dither= must be a number from 0 to 1; got “strong”, so it was not used." in status
    assert page.input_value("#dither") == "0.6"


def test_the_embed_takes_the_full_pages_settings_and_targets(strict_context, dist, serve):
    site = serve(dist)
    page = strict_context.new_page()
    page.goto(site.url + "embed.html?k=12&dither=0&seed=3&space=rgb&max-kb=20&min-quality=500")
    assert wait_state(page, "ready", "error") == "ready"
    status = page.text_content("#status")
    assert "Press Run to compress it to no bigger than 20 KB." in status
    assert "The link's min-quality= must be a number up to 100 (or empty: no target); got “500”" in status
    # "Open the full page" carries the same settings (the bad one left out).
    link = page.get_attribute("#full-page", "href")
    assert link == site.url + "?k=12&seed=3&dither=0&space=rgb&max-kb=20"
    page.fill("#k", "9")  # and with K as the reader changed it
    page.dispatch_event("#k", "change")
    assert page.get_attribute("#full-page", "href") == site.url + "?k=9&seed=3&dither=0&space=rgb&max-kb=20"
    page.fill("#k", "12")
    page.dispatch_event("#k", "change")
    page.click("#run")
    assert wait_state(page, "done", "error", timeout=BOOT_TIMEOUT_MS) == "done", page.text_content("#status")
    done = page.text_content("#status")
    assert done.startswith("Done: Target met with ") and "within 20,480" in done
    # The result is what CPython makes of the same photo with the same settings.
    photo = np.asarray(Image.open(dist / "static" / "samples" / "flower.jpg").convert("RGBA"))
    expected = web.compress(photo.tobytes(), 640, 427, n_colors=12, dither=0, seed=3, colour_space="rgb", max_kb=20)
    colours = page.evaluate("""() => {
        const canvas = document.getElementById('result');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        return new Set(new Uint32Array(data.buffer)).size;
    }""")
    assert colours == expected["n_colors"]
    assert f"with {expected['n_colors']} colours: {expected['bytes']:,} bytes" in done
