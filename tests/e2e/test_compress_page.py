"""The compression page in headless Chromium, against dist/ served on localhost."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from kmeans import web
from kmeans.options import PAGE_MAX_MEGAPIXELS
from PIL import Image

from .conftest import BOOT_TIMEOUT_MS, RUN_TIMEOUT_MS

DONE_OR_ERROR = "['done', 'error'].includes(document.body.dataset.state)"


def make_png(width=96, height=64, seed=3) -> bytes:
    """A seeded test image: smooth gradients plus noise, so K-means has work to do."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], axis=-1)
    image = np.clip(image + rng.normal(0, 18, image.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def png_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def canvas_pixels(page, canvas_id) -> np.ndarray:
    """RGBA pixels of a canvas, shape (height, width, 4)."""
    width, height, data = page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            return [canvas.width, canvas.height, Array.from(pixels)];
        }""",
        canvas_id,
    )
    return np.array(data, dtype=np.uint8).reshape(height, width, 4)


def canvas_digest(page, canvas_id) -> str:
    """SHA-256 of a canvas's RGBA bytes, computed in the page (a big canvas never crosses over)."""
    return page.evaluate(
        """async (id) => {
            const canvas = document.getElementById(id);
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const hash = await crypto.subtle.digest('SHA-256', data);
            return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, '0')).join('');
        }""",
        canvas_id,
    )


def choose_file(page, name, data, mime="image/png"):
    page.set_input_files("#image-input", files=[{"name": name, "mimeType": mime, "buffer": data}])


def record_states(page):
    """Log every value data-state takes from now on, in window.stateLog."""
    page.evaluate(
        """() => {
            window.stateLog = [];
            window.stateObserver?.disconnect();
            window.stateObserver = new MutationObserver(() => window.stateLog.push(document.body.dataset.state));
            window.stateObserver.observe(document.body, {attributes: true, attributeFilter: ['data-state']});
        }"""
    )


def compress(page, name, data, *, k=8, seed=0, max_iter=300, timeout=RUN_TIMEOUT_MS):
    page.fill("#k", str(k))
    page.fill("#seed", str(seed))
    page.fill("#max-iter", str(max_iter))
    record_states(page)
    choose_file(page, name, data)  # choosing an image starts a run
    # Decoding is asynchronous: wait for this run to start, then to end.
    page.wait_for_function(
        "() => window.stateLog.includes('running') && " + DONE_OR_ERROR, timeout=timeout
    )
    assert page.get_attribute("body", "data-state") == "done", page.text_content("#status")


def test_first_visit_shows_the_sample_and_is_ready(app):
    assert "Ready" in app.text_content("#status")
    size = app.evaluate("[document.getElementById('original').width, document.getElementById('original').height]")
    assert size == [640, 427]  # the bundled sample photo
    assert app.is_disabled("#cancel") and app.is_enabled("#run")
    # After "ready" the worker warms up in steps, then says so; the page stays usable throughout.
    app.wait_for_function("() => document.body.dataset.warm === 'true'", timeout=60_000)
    assert app.get_attribute("body", "data-state") == "ready"


def test_python_boots_once_in_the_worker_the_first_script_started(page, site_url):
    """start.js starts the worker before the page's modules have loaded; the page takes it over."""
    workers = []
    page.on("worker", lambda worker: workers.append(worker.url))
    page.goto(site_url)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    # One worker: had the page's client not taken the early one over, there would be two booting.
    assert [url.rsplit("/", 1)[-1] for url in workers] == ["worker.js"]
    assert len(page.workers) == 1
    scripts = page.evaluate("""() => performance.getEntriesByType('resource')
        .filter((entry) => entry.initiatorType === 'script' || entry.initiatorType === 'other' || entry.initiatorType === 'link')
        .map((entry) => entry.name.split('/').pop())""")
    assert {"start.js", "early-worker.js", "app.js"} <= set(scripts)
    # And it works: the sample photo compresses.
    page.click("#run")
    page.wait_for_function("() => " + DONE_OR_ERROR, timeout=RUN_TIMEOUT_MS)
    assert page.get_attribute("body", "data-state") == "done", page.text_content("#status")


def test_result_matches_cpython_pixel_for_pixel(app):
    png = make_png()
    compress(app, "test.png", png, k=8, seed=5)

    original = canvas_pixels(app, "original")
    assert np.array_equal(original, png_pixels(png)), "the page decoded the PNG differently"

    expected = web.quantize(original.tobytes(), original.shape[1], original.shape[0], n_colors=8, seed=5)
    palette = expected["palette"].reshape(-1, 4)
    expected_image = palette[expected["indices"]].reshape(original.shape)
    result = canvas_pixels(app, "result")
    assert result.shape == original.shape
    assert len(np.unique(result.reshape(-1, 4), axis=0)) <= 8
    assert np.array_equal(result, expected_image), "Pyodide and CPython disagree on some pixel"

    swatches = app.eval_on_selector_all("#palette .swatch", "nodes => nodes.map(n => n.dataset.colour)")
    assert swatches == ["#%02x%02x%02x" % tuple(colour[:3]) for colour in palette]
    assert app.text_content("#stats [data-stat=iterations]") == str(expected["n_iter"])
    assert app.text_content("#stats [data-stat=psnr]") == f"{expected['psnr']:.2f} dB"


def test_many_colours_match_cpython(app):
    """From 32 clusters on, centers are ranked by a matrix product (no BLAS in Pyodide) and
    near-ties rechecked exactly: the labels must still be CPython's, bit for bit."""
    from kmeans import _distances

    k = 64
    assert k >= _distances.EXPANDED_MIN_CLUSTERS
    png = make_png(300, 200, seed=8)
    compress(app, "many.png", png, k=k, seed=1)
    original = png_pixels(png)
    expected = web.quantize(original.tobytes(), 300, 200, n_colors=k, seed=1)
    expected_image = expected["palette"].reshape(-1, 4)[expected["indices"]].reshape(original.shape)
    assert np.array_equal(canvas_pixels(app, "result"), expected_image)


def test_download_is_a_small_palette_png(app, tmp_path):
    compress(app, "holiday photo.png", make_png(120, 80, seed=9), k=8)
    with app.expect_download() as download_info:
        app.click("#download")
    download = download_info.value
    assert download.suggested_filename == "holiday photo-8colors.png"
    path = tmp_path / "out.png"
    download.save_as(path)
    with Image.open(path) as saved:
        assert saved.format == "PNG" and saved.mode == "P"
        assert saved.size == (120, 80)
        assert len(saved.getcolors()) <= 8
        assert len(saved.getpalette()) // 3 <= 8
        # 8 colours fit in 4 bits per pixel: the IHDR bit depth byte says so.
    assert path.read_bytes()[24] == 4
    rgba = np.asarray(Image.open(path).convert("RGBA"))
    assert np.array_equal(rgba, canvas_pixels(app, "result"))
    size_text = app.text_content("#stats [data-stat=compressed-size]")
    assert f"{path.stat().st_size / 1024:.1f} KB" in size_text


def test_the_png_is_offered_before_the_score_is_computed(app):
    """After the result is drawn the PNG comes first (its size and the download), then the score."""
    app.evaluate(
        """() => {
            window.statusLog = [];
            const status = document.getElementById('status');
            new MutationObserver(() => window.statusLog.push({
                text: status.textContent,
                download: document.getElementById('download').getAttribute('download'),
                size: document.querySelector('#stats [data-stat=compressed-size]')?.textContent ?? null,
                score: document.querySelector('#stats [data-stat=ssimulacra2]')?.textContent ?? null,
            })).observe(status, {childList: true, characterData: true, subtree: true});
        }"""
    )
    compress(app, "order.png", make_png(120, 80, seed=4), k=8)
    log = app.evaluate("() => window.statusLog")
    texts = [entry["text"] for entry in log]
    writing = next(i for i, text in enumerate(texts) if text.startswith("Writing the PNG"))
    scoring = next(i for i, text in enumerate(texts) if text.startswith("Scoring how alike"))
    assert writing < scoring, texts
    # While the score is computed, the PNG can already be downloaded and its size is shown.
    assert log[scoring]["download"] == "order-8colors.png"
    assert log[scoring]["size"] and "KB" in log[scoring]["size"]
    assert log[scoring]["score"] is None
    stats = app.eval_on_selector_all("#stats dd", "nodes => nodes.map(n => n.dataset.stat)")
    assert stats.index("compressed-size") < stats.index("ssimulacra2")


def test_progress_is_reported_during_a_run(app):
    app.evaluate(
        """() => {
            window.progressSeen = [];
            const bar = document.getElementById('progress');
            new MutationObserver(() => window.progressSeen.push(bar.value))
                .observe(bar, {attributes: true});
        }"""
    )
    compress(app, "big.png", make_png(600, 400, seed=1), k=32, max_iter=1000)
    seen = app.evaluate("window.progressSeen")
    during = [value for value in seen if 0 < value < 1]
    assert len(during) >= 3, seen
    assert during == sorted(during)


def test_cancel_returns_to_ready_and_the_next_run_completes(app):
    app.fill("#k", "128")
    app.fill("#max-iter", "1000")
    choose_file(app, "large.png", make_png(800, 600, seed=2))
    app.wait_for_function("() => document.body.dataset.state === 'running'", timeout=RUN_TIMEOUT_MS)
    app.wait_for_function("() => /iteration/.test(document.getElementById('status').textContent)", timeout=RUN_TIMEOUT_MS)
    app.click("#cancel")
    assert app.get_attribute("body", "data-state") == "loading"
    assert "Cancelled" in app.text_content("#status")
    app.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=RUN_TIMEOUT_MS)
    compress(app, "small.png", make_png(), k=4)
    assert len(np.unique(canvas_pixels(app, "result").reshape(-1, 4), axis=0)) <= 4


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("corrupt.png", b"\x89PNG\r\n\x1a\nthis is not really a png", "could not be decoded"),
        ("notes.txt", b"hello", "not an image"),
        ("empty.png", b"", "empty"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="20"/></svg>',
         "is an SVG drawing (shapes, not pixels), which cannot be compressed here: export it as a PNG first"),
    ],
    ids=["corrupt", "not-an-image", "empty", "svg"],
)
def test_bad_file_shows_an_error_and_a_good_file_works_after(app, name, data, message):
    compress(app, "first.png", make_png(), k=6)
    before = canvas_pixels(app, "result")
    mime = {".txt": "text/plain", ".svg": "image/svg+xml"}.get(name[name.rindex("."):], "image/png")
    choose_file(app, name, data, mime)
    app.wait_for_function("() => document.body.dataset.state === 'error'", timeout=RUN_TIMEOUT_MS)
    status = app.text_content("#status")
    assert message in status and name in status
    # Nothing the user had is lost: the previous result is still drawn.
    assert np.array_equal(canvas_pixels(app, "result"), before)
    compress(app, "second.png", make_png(seed=11), k=6)


def test_k_out_of_range_is_refused_with_a_message(app):
    app.fill("#k", "300")
    app.click("#run")
    app.wait_for_function("() => document.body.dataset.state === 'error'", timeout=RUN_TIMEOUT_MS)
    assert "Colours (K) must be a whole number from 1 to 256; got “300”" in app.text_content("#status")
    app.fill("#k", "4")
    app.click("#run")
    app.wait_for_function("() => " + DONE_OR_ERROR, timeout=RUN_TIMEOUT_MS)
    assert app.get_attribute("body", "data-state") == "done"


def test_an_image_over_the_size_limit_is_refused(app):
    # A PNG of a uniform colour compresses to a few KB whatever its size.
    buffer = io.BytesIO()
    Image.new("RGB", (12000, 9000), (10, 20, 30)).save(buffer, format="PNG")
    choose_file(app, "huge.png", buffer.getvalue())
    app.wait_for_function("() => document.body.dataset.state === 'error'", timeout=RUN_TIMEOUT_MS)
    status = app.text_content("#status")
    assert (f"“huge.png” is 12000×9000 (108.0 megapixels); the limit is {PAGE_MAX_MEGAPIXELS} megapixels: "
            "scale it down first, to at most 11547×8660 (the same shape).") in status
    # The photo on screen stays, and the page still runs.
    assert app.evaluate("() => document.getElementById('original').width") == 640
    app.click("#run")
    app.wait_for_function("() => " + DONE_OR_ERROR, timeout=RUN_TIMEOUT_MS)
    assert app.get_attribute("body", "data-state") == "done"


def big_photo(width, height, seed=0) -> bytes:
    """A photo-sized picture with many colours that still makes a PNG of a few MB: gradients
    under soft blotches (noise upscaled 32 times), as a phone photo of a sky might be."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    blotches = rng.random((height // 32 + 2, width // 32 + 2, 3), dtype=np.float32)
    soft = np.asarray(Image.fromarray((blotches * 255).astype(np.uint8)).resize(
        (width, height), Image.BILINEAR), dtype=np.float32)
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[..., 0] = np.clip(255 * x * 0.7 + soft[..., 0] * 0.3, 0, 255)
    image[..., 1] = np.clip(255 * y * 0.7 + soft[..., 1] * 0.3, 0, 255)
    image[..., 2] = np.clip(255 * (1 - x * y) * 0.6 + soft[..., 2] * 0.4, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def test_a_60_megapixel_photo_compresses_as_cpython_does(app):
    """Phones shoot 48 to 200 megapixels: the page reads a big photo in slices, and the quantizer counts,
    looks up and scores it a strip at a time, so 60 megapixels fit in the worker's memory."""
    width, height = 9000, 6667
    png = big_photo(width, height)
    compress(app, "phone.png", png, k=16, seed=0, timeout=300_000)
    assert "16 colours" in app.text_content("#status")
    assert app.evaluate("() => [document.getElementById('result').width, document.getElementById('result').height]") \
        == [width, height]
    original = png_pixels(png)
    expected = web.quantize(original.tobytes(), width, height, n_colors=16, seed=0)
    del original
    palette = expected["palette"].reshape(-1, 4)
    digest = canvas_digest(app, "result")
    assert digest == hashlib.sha256(palette[expected["indices"]].tobytes()).hexdigest()
    # The download is that image as an indexed PNG.
    with app.expect_download() as download:
        app.click("#download")
    assert download.value.suggested_filename == "phone-16colors.png"
    with Image.open(download.value.path()) as downloaded:
        assert downloaded.mode == "P" and downloaded.size == (width, height)
        assert hashlib.sha256(downloaded.convert("RGBA").tobytes()).hexdigest() == digest


def test_a_big_photos_png_is_deflated_with_the_helper_worker_to_cpythons_bytes(app):
    """Above 4 megapixels the PNG's image data is deflated in pieces, the second half by a helper worker
    (static/helper.js), which starts when such a photo is chosen (on two cores: once it is quantized): the
    file is CPython's to the byte."""
    from kmeans import images

    width, height = 3000, 2700
    assert width * height > images.PNG_TRIAL_MAX_PIXELS
    png = big_photo(width, height, seed=2)
    original = png_pixels(png)
    expected = web.quantize(original.tobytes(), width, height, n_colors=16, seed=0)  # the defaults: dithered
    expected_png = web.encode_png(expected["indices"], expected["palette"], width, height)["png"].tobytes()
    del original
    pieces = []
    for run in range(2):  # the first run starts the helper; by the second it has surely booted
        if run:
            record_states(app)
            app.click("#run")
            app.wait_for_function("() => window.stateLog.includes('running') && " + DONE_OR_ERROR,
                                  timeout=RUN_TIMEOUT_MS)
        else:
            compress(app, "sky.png", png, k=16, seed=0, timeout=RUN_TIMEOUT_MS)
        assert app.get_attribute("body", "data-state") == "done", app.text_content("#status")
        pieces.append(app.get_attribute("#download", "data-pieces"))
        with app.expect_download() as download:
            app.click("#download")
        assert open(download.value.path(), "rb").read() == expected_png
    helped, total = (int(part) for part in pieces[1].split("/"))
    scanlines = height * (-(-width * images.png_bits(16) // 8) + 1)  # a filter byte and 4 bits a pixel
    assert total == -(-scanlines // images.DEFLATE_PIECE) == 8
    assert 1 <= helped < total, pieces  # the helper made some pieces, the worker the first ones


def test_a_photo_is_announced_to_the_worker_only_for_a_run_that_may_need_the_helper(app):
    # The announcement (kmeans.web.expect) starts the PNG's helper worker for a big photo on three or
    # more cores; a run with a size target writes its PNG in its one request and never uses it.
    app.evaluate(
        """() => {
            window.posted = [];
            const post = Worker.prototype.postMessage;
            Worker.prototype.postMessage = function (message, ...rest) {
                window.posted.push(message.type);
                return post.call(this, message, ...rest);
            };
        }"""
    )
    app.fill("#max-kb", "20")
    compress(app, "target.png", make_png(seed=5))
    posted = app.evaluate("() => window.posted.splice(0)")
    assert "compress" in posted and "expect" not in posted, posted
    app.fill("#max-kb", "")
    compress(app, "plain.png", make_png(seed=6))
    posted = app.evaluate("() => window.posted.splice(0)")
    assert "expect" in posted and "quantize" in posted, posted


def test_a_large_image_matches_cpython(app):
    """Over 2**21 pixels the quantizer counts colours with np.bincount (gh: uint32 keys failed in wasm32)."""
    from kmeans import _coarse_to_fine, _distinct

    width, height = 1800, 1200
    assert width * height >= _distinct.COUNTING_MIN_PIXELS
    png = make_png(width, height, seed=4)
    # ... and with this many colours the fit goes through all three levels (coarse, middle, exact).
    assert len(np.unique(png_pixels(png).reshape(-1, 4), axis=0)) > _coarse_to_fine.MIDDLE_MIN_COLOURS
    compress(app, "large.png", png, k=16, seed=2)
    expected = web.quantize(png_pixels(png).tobytes(), width, height, n_colors=16, seed=2)
    expected_rgba = expected["palette"].reshape(-1, 4)[expected["indices"]].tobytes()
    digest = canvas_digest(app, "result")
    assert digest == hashlib.sha256(expected_rgba).hexdigest()


def test_plain_kmeans_on_the_page_matches_cpython(app):
    """Dithering 0 in RGB, one option away from the defaults: the notebook's K-means, bit for bit."""
    app.fill("#dither", "0")
    app.click(".advanced summary")
    app.select_option("#colour-space", "rgb")
    png = make_png(160, 100, seed=6)
    compress(app, "plain.png", png, k=12, seed=3)
    original = png_pixels(png)
    expected = web.quantize(original.tobytes(), 160, 100, n_colors=12, seed=3, dither=0.0, colour_space="rgb")
    expected_image = expected["palette"].reshape(-1, 4)[expected["indices"]].reshape(original.shape)
    assert np.array_equal(canvas_pixels(app, "result"), expected_image)
    dithered = web.quantize(original.tobytes(), 160, 100, n_colors=12, seed=3)
    assert not np.array_equal(dithered["indices"], expected["indices"])
    assert app.text_content("#dither-value") == "off"


def test_the_compare_view_zooms_splits_and_shows_the_score(app):
    png = make_png(200, 120, seed=7)
    compress(app, "compare.png", png, k=8, seed=0)
    compare = app.locator("#compare")
    assert compare.is_visible() and app.locator("#side-by-side").is_hidden()
    # Both layers hold the images at their own size; "fit" never enlarges.
    sizes = app.evaluate("""() => ['compare-original', 'compare-result'].map((id) => {
        const canvas = document.getElementById(id); return [canvas.width, canvas.height]; })""")
    assert sizes == [[200, 120], [200, 120]]
    assert float(compare.get_attribute("data-zoom")) == 1.0
    assert np.array_equal(canvas_pixels(app, "compare-result"), canvas_pixels(app, "result"))
    app.select_option("#compare-zoom", "4")
    assert compare.get_attribute("data-zoom") == "4"
    app.fill("#compare-split", "25")
    assert compare.get_attribute("data-split") == "25"
    # Dragging the image (away from the line) pans it.
    box = app.locator("#compare .compare-viewport").bounding_box()
    app.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + 40)
    app.mouse.down()
    app.mouse.move(box["x"] + box["width"] * 0.7 - 150, box["y"] + 20, steps=4)
    app.mouse.up()
    assert compare.get_attribute("data-pan") != "0,0"
    pixels = png_pixels(png).tobytes()
    expected = web.quantize(pixels, 200, 120, n_colors=8, seed=0)
    scored = web.score(pixels, expected["indices"].tobytes(), expected["palette"].tobytes(), 200, 120)
    score = app.text_content("#stats [data-stat=ssimulacra2]")
    assert score.startswith(f"{scored['ssimulacra2']:.1f} of 100: ") and "(SSIMULACRA2)" in score
    app.click("input[value='side']")
    assert app.locator("#side-by-side").is_visible() and compare.is_hidden()


def test_a_new_image_opens_centred_in_the_compare_view_at_any_zoom(app):
    compress(app, "first.png", make_png(200, 120, seed=7), k=8, seed=0)
    app.select_option("#compare-zoom", "4")
    compress(app, "second.png", make_png(300, 180, seed=8), k=8, seed=0)
    compare = app.locator("#compare")
    assert compare.get_attribute("data-zoom") == "4"
    box = app.locator("#compare .compare-viewport").bounding_box()
    # The middle of the 1200 x 720 view of the image is the middle of the viewport, not its top-left corner.
    left, top = (int(v) for v in compare.get_attribute("data-pan").split(","))
    assert abs(left - round((box["width"] - 1200) / 2)) <= 1 and abs(top - round((box["height"] - 720) / 2)) <= 1
    assert left < 0 and top < 0


def test_a_run_again_on_the_same_image_replaces_every_pixel_of_the_last_result(app):
    """The result canvases keep their size (and memory) between runs on one image: nothing of the
    first result may show through the second, not even where the image is see-through."""
    rng = np.random.default_rng(11)
    rgba = rng.integers(0, 256, (90, 150, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(np.arange(150) < 50, 0, np.where(np.arange(150) < 100, 128, 255))[None, :]
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    compress(app, "glass.png", buffer.getvalue(), k=12, seed=0)
    first = canvas_pixels(app, "result")
    app.fill("#k", "3")
    record_states(app)
    app.click("#run")
    app.wait_for_function("() => window.stateLog.includes('running') && " + DONE_OR_ERROR, timeout=RUN_TIMEOUT_MS)
    assert app.get_attribute("body", "data-state") == "done", app.text_content("#status")
    expected = web.quantize(rgba.tobytes(), 150, 90, n_colors=3, seed=0)
    expected_image = expected["palette"].reshape(-1, 4)[expected["indices"]].reshape(rgba.shape)
    assert not np.array_equal(first, expected_image)
    for canvas in ("result", "compare-result"):
        got = canvas_pixels(app, canvas).astype(int)
        # Drawn over the first result, a half see-through pixel would come out 3/4 opaque and mixed.
        assert np.array_equal(got[..., 3], expected_image[..., 3]), canvas
        visible = expected_image[..., 3] > 0
        assert np.array_equal(got[:, 100:], expected_image[:, 100:]), canvas  # the opaque third, exactly
        # A canvas keeps see-through pixels premultiplied, so their colours come back rounded.
        assert np.abs(got[visible][:, :3] - expected_image[visible][:, :3]).max() <= 3, canvas


def test_the_compare_view_paints_the_original_left_of_the_line_and_the_result_right(app):
    png = make_png(200, 120, seed=7)
    compress(app, "compare.png", png, k=8, seed=0)
    app.fill("#compare-split", "50")
    # The view is one canvas the size of the viewport, painted on the next frame from the full-size images.
    width, height, pan, data = app.evaluate(
        """async () => {
            await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
            const canvas = document.querySelector('#compare .compare-display');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            return [canvas.width, canvas.height, document.getElementById('compare').dataset.pan, Array.from(pixels)];
        }"""
    )
    shown = np.array(data, dtype=np.uint8).reshape(height, width, 4)
    box = app.locator("#compare .compare-viewport").bounding_box()
    assert (width, height) == (round(box["width"]), round(box["height"]))  # the viewport's size, not the image's
    assert app.get_attribute("#compare", "data-zoom") == "1"  # 200 x 120 fits: shown at its own size
    left, top = (int(v) for v in pan.split(","))
    line = round(width * 0.5)
    original, result = png_pixels(png), canvas_pixels(app, "result")
    image = shown[top : top + 120, left : left + 200]
    cut = line - left
    assert 0 < cut < 200
    assert np.array_equal(image[:, : cut - 1], original[:, : cut - 1])
    assert np.array_equal(image[:, cut + 1 :], result[:, cut + 1 :])
    assert not np.array_equal(original[:, cut + 1 :], result[:, cut + 1 :])


def test_a_fully_transparent_image_gives_one_transparent_entry(app, tmp_path):
    image = np.zeros((30, 40, 4), np.uint8)
    image[..., :3] = np.random.default_rng(1).integers(0, 256, (30, 40, 3))  # hidden: alpha 0 everywhere
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    compress(app, "nothing.png", buffer.getvalue(), k=16)
    assert app.text_content("#result-caption") == "1 colour"
    assert app.text_content("#stats [data-stat=psnr]") == "lossless"
    status = app.text_content("#status")
    assert status.startswith("Done: 1 colour in ")
    assert status.endswith("Note: the image is fully transparent: its palette is one transparent entry.")
    with app.expect_download() as download_info:
        app.click("#download")
    path = tmp_path / "out.png"
    download_info.value.save_as(path)
    with Image.open(path) as saved:
        assert saved.mode == "P" and saved.size == (40, 30)
        assert saved.getcolors() == [(1200, 0)]
        assert not np.asarray(saved.convert("RGBA"))[..., 3].any()


def test_sizes_and_counts_are_said_in_words(app):
    words = app.evaluate(
        """async () => {
            const m = await import('./static/compress.js');
            return [m.sizeChange(1000, 250), m.sizeChange(100, 120), m.sizeChange(5, 5), m.countOf(1, 'colour'),
                    m.countOf(2, 'colour'), m.describePsnr(null), m.describePsnr(31.256)];
        }"""
    )
    assert words == ["4.0× smaller", "1.2× larger", "the same size", "1 colour", "2 colours", "lossless", "31.26 dB"]


def test_the_web_app_manifest_is_served_parsed_and_installable(app, site_url):
    # Chromium's own reading of the manifest, as it decides whether the page installs as an app.
    cdp = app.context.new_cdp_session(app)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == site_url + "static/manifest.webmanifest"
    assert manifest["errors"] == []
    parsed = json.loads(manifest["data"])
    assert parsed["name"] == "K-means in your browser" and parsed["display"] == "standalone"
    assert parsed["start_url"] == "../" and parsed["scope"] == "../"  # relative: works under a sub-path
    for icon in parsed["icons"]:
        response = app.request.get(site_url + "static/" + icon["src"])
        assert response.ok and response.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(response.body())).size
            assert f"{width}x{height}" == icon["sizes"]
    assert "image/*" in parsed["file_handlers"][0]["accept"]
    served = app.request.get(manifest["url"])
    assert served.headers["content-type"] == "application/manifest+json"
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # The test's browser context is off the record, which alone keeps any page from installing.
    assert [error["errorId"] for error in errors if error["errorId"] != "in-incognito"] == []


def test_the_colour_cloud_shows_the_run_and_a_swatch_lights_up_its_pixels(app):
    png = make_png()
    compress(app, "cloud.png", png, k=8, seed=5)
    original = png_pixels(png)
    expected = web.quantize(original.tobytes(), 96, 64, n_colors=8, seed=5, cloud=2500)
    # The cloud holds the run's own frames: as many as CPython records, ending on the kept centres.
    app.wait_for_function("() => document.getElementById('colour-cloud').dataset.frames !== '0'")
    frames = int(app.get_attribute("#colour-cloud", "data-frames"))
    assert frames == expected["cloud_frame_iter"].size > 1
    assert app.get_attribute("#colour-cloud", "data-points") == "2500"
    app.wait_for_function(f"() => document.getElementById('colour-cloud').dataset.frame === '{frames - 1}'", timeout=10_000)
    assert f"iteration {expected['n_iter']} (frame {frames} of {frames}" in app.text_content("#colour-cloud-caption")
    before = canvas_pixels(app, "colour-cloud")
    app.fill("#colour-cloud-frame", "0")
    assert app.get_attribute("#colour-cloud", "data-frame") == "0"
    assert "at iteration 0" in app.text_content("#colour-cloud-caption")
    assert not np.array_equal(canvas_pixels(app, "colour-cloud"), before)  # the centres moved back
    box = app.locator("#colour-cloud").bounding_box()
    app.mouse.move(box["x"] + 100, box["y"] + 100)
    app.mouse.down()
    app.mouse.move(box["x"] + 180, box["y"] + 120, steps=4)
    app.mouse.up()
    assert float(app.get_attribute("#colour-cloud", "data-yaw")) != -0.6
    app.select_option("#colour-cloud-space", "fit")
    assert "the fitting space (oklab)" in app.text_content("#colour-cloud-caption")

    # Choosing a swatch keeps that entry's pixels and fades every other; choosing it again restores.
    palette = expected["palette"].reshape(-1, 4)
    indices = expected["indices"].reshape(64, 96)
    result = canvas_pixels(app, "result")
    app.click("#palette .swatch >> nth=2")
    assert app.get_attribute("#palette .swatch >> nth=2", "aria-pressed") == "true"
    lit = canvas_pixels(app, "result")
    mine = indices == 2
    assert mine.any() and (~mine).any()
    assert np.array_equal(lit[mine], result[mine])
    assert (lit[~mine][:, :3].astype(int) >= 188).all()  # faded towards light grey
    assert f"{int(mine.sum()):,} pixels" in app.text_content("#status")
    app.keyboard.press("Enter")  # the swatch is a button: the keyboard chooses it too
    assert app.get_attribute("#palette .swatch >> nth=2", "aria-pressed") == "false"
    assert np.array_equal(canvas_pixels(app, "result"), result)
    assert np.array_equal(result.reshape(-1, 4), palette[indices.reshape(-1)])
