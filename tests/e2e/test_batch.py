"""Many photos at once in the page: the batch list, its workers, targets, the zip, and the settings."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest
from kmeans import web

from .conftest import BOOT_TIMEOUT_MS, RUN_TIMEOUT_MS
from .helpers import wait_state
from .test_compress_page import canvas_pixels, make_png, png_pixels


def png_file(name, width=48, height=32, seed=0):
    return {"name": name, "mimeType": "image/png", "buffer": make_png(width, height, seed)}


def wait_batch(page, timeout=RUN_TIMEOUT_MS * 2):
    """Wait until every row of the batch has finished (done or error)."""
    page.wait_for_function("() => document.getElementById('batch').dataset.state === 'done'", timeout=timeout)


def rows(page):
    """Each row: its state, name, size, score and message texts, download name and whether it met its target."""
    return page.evaluate("""() => [...document.querySelectorAll('#batch-list .batch-item')].map((row) => ({
        state: row.dataset.state,
        name: row.querySelector('.batch-name').textContent,
        size: row.querySelector('.batch-size').textContent,
        score: row.querySelector('.batch-score').textContent,
        message: row.querySelector('.batch-message').textContent,
        download: row.querySelector('.batch-download').hidden ? null : row.querySelector('.batch-download').download,
        met: row.dataset.met ?? null,
    }))""")


def download_zip(page, tmp_path):
    with page.expect_download() as info:
        page.click("#download-all")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return info.value.suggested_filename, zipfile.ZipFile(path)


def test_good_files_finish_beside_bad_ones_and_zip_together(app, tmp_path):
    app.fill("#k", "8")
    files = [png_file("a.png", seed=1), {"name": "broken.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n nope"},
             png_file("b.png", 40, 40, seed=2), {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"},
             png_file("c.png", 30, 50, seed=3)]
    app.set_input_files("#image-input", files=files)
    wait_batch(app)
    found = rows(app)
    assert [row["state"] for row in found] == ["done", "error", "done", "error", "done"]
    assert found[1]["message"].startswith("“broken.png” could not be decoded: it is not an image or it is corrupt.")
    assert found[3]["message"].startswith("“notes.txt” is not an image (text/plain).")
    assert [row["download"] for row in found if row["state"] == "done"] == ["a-8colors.png", "b-8colors.png", "c-8colors.png"]
    for row in found[::2]:
        assert re.fullmatch(r"[\d.]+ (B|KB) → [\d.]+ (B|KB) \(.+\)", row["size"]), row["size"]
        assert re.fullmatch(r"-?\d+\.\d: \w[\w ]+", row["score"]), row["score"]
        assert row["message"] == "8 colours"
    assert app.text_content("#batch-summary").startswith("3 of 5 done · 2 failed · ")

    name, archive = download_zip(app, tmp_path)
    assert name == "photos-8colors.zip" and archive.testzip() is None
    assert archive.namelist() == ["a-8colors.png", "b-8colors.png", "c-8colors.png"]
    # Each output is what CPython makes of the same pixels, with the same settings.
    for entry, file in zip(archive.namelist(), files[::2]):
        pixels = png_pixels(file["buffer"])
        expected = web.compress(pixels.tobytes(), pixels.shape[1], pixels.shape[0], n_colors=8)
        assert archive.read(entry) == expected["png"].tobytes(), entry

    # Choosing a row shows it above: its original, its result, its numbers and its download.
    app.click(".batch-item:nth-child(3) .batch-name")
    app.wait_for_function("() => document.getElementById('download').download === 'b-8colors.png'")
    assert app.get_attribute(".batch-item:nth-child(3)", "aria-current") == "true"
    assert canvas_pixels(app, "original").shape == (40, 40, 4)
    result = png_pixels(archive.read("b-8colors.png"))
    np.testing.assert_array_equal(canvas_pixels(app, "result"), result)
    score = app.text_content(".batch-item:nth-child(3) .batch-score").split(":")[0]
    assert app.text_content("#stats [data-stat=ssimulacra2]").startswith(f"{score} of 100")
    # The palette's swatches light up the result's pixels, as after a run.
    app.click("#palette .swatch >> nth=0")
    assert "pixels (" in app.text_content("#status")


def test_one_file_looks_as_it_always_did(app):
    app.fill("#k", "4")
    app.set_input_files("#image-input", files=[png_file("one.png")])
    assert wait_state(app, "done", "error") == "done", app.text_content("#status")
    assert app.is_hidden("#batch")
    assert app.get_attribute("#download", "download") == "one-4colors.png"


def test_a_folder_gives_its_images_and_keeps_its_subfolders(app, tmp_path):
    folder = tmp_path / "trip"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "beach.png").write_bytes(make_png(40, 30, 4))
    (folder / "hills.png").write_bytes(make_png(30, 40, 5))
    (folder / "notes.txt").write_text("not a photo")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    app.fill("#k", "6")
    app.set_input_files("#folder-input", folder)
    wait_batch(app)
    found = rows(app)
    assert [row["name"] for row in found] == ["trip/day1/beach.png", "trip/hills.png"]  # in folder order
    assert all(row["state"] == "done" for row in found)
    assert app.text_content("#batch-summary").startswith("2 of 2 done · 2 files skipped (not images) · ")
    _, archive = download_zip(app, tmp_path)
    assert sorted(archive.namelist()) == ["trip/day1/beach-6colors.png", "trip/hills-6colors.png"]


@pytest.mark.parametrize(("content", "said"), [
    ({}, "The folder has no images."),  # an empty folder gives no files, so not even its name
    ({"readme.md": "nothing to see"}, "The folder “empty” has no images (only 1 other file)."),
])
def test_a_folder_without_images_says_so_and_keeps_the_photo(app, tmp_path, content, said):
    folder = tmp_path / "empty"
    folder.mkdir()
    for name, text in content.items():
        (folder / name).write_text(text)
    app.set_input_files("#folder-input", folder)
    assert wait_state(app, "error") == "error"
    assert app.text_content("#status") == f"Error: {said} Choose a folder with PNG, JPEG, WebP, GIF, AVIF or BMP files."
    assert app.is_hidden("#batch")
    assert canvas_pixels(app, "original").shape == (427, 640, 4)  # the sample photo is still there
    app.fill("#k", "3")
    app.click("#run")  # and the page still works
    assert wait_state(app, "done", "error") == "done", app.text_content("#status")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("#max-kb", "0", "No bigger than (KB) must be a number above 0 (or empty: no target); got “0”."),
    ("#max-kb", "-20", "No bigger than (KB) must be a number above 0 (or empty: no target); got “-20”."),
    ("#min-quality", "120", "Quality at least must be a number up to 100 (or empty: no target); got “120”."),
])
def test_a_bad_target_is_refused_before_any_work(app, field, value, message):
    app.fill(field, value)
    app.set_input_files("#image-input", files=[png_file("a.png"), png_file("b.png", seed=1)])
    assert wait_state(app, "error") == "error"
    assert app.text_content("#status") == f"Error: {message} Then choose the photos again."
    assert app.get_attribute(field, "aria-invalid") == "true"
    assert app.is_hidden("#batch")


def test_targets_in_a_batch_are_met_or_missed_by_a_stated_amount(app, tmp_path):
    app.fill("#max-kb", "1.5")
    photo = make_png(64, 48, 6)
    app.set_input_files("#image-input", files=[{"name": "p.png", "mimeType": "image/png", "buffer": photo},
                                                png_file("q.png", 64, 48, seed=7)])
    wait_batch(app)
    found = rows(app)
    assert [(row["state"], row["met"], row["download"]) for row in found] == [
        ("done", "true", "p-1.5kb.png"), ("done", "true", "q-1.5kb.png")]
    assert all(row["message"].startswith("Target met with ") and "within 1,536 (" in row["message"] for row in found)
    _, archive = download_zip(app, tmp_path)
    assert all(info.file_size <= 1536 for info in archive.infolist())
    pixels = png_pixels(photo)
    expected = web.compress(pixels.tobytes(), 64, 48, max_kb=1.5)
    assert archive.read("p-1.5kb.png") == expected["png"].tobytes()

    # A target no palette can meet: the smallest output is written, and the miss is said.
    app.click("#batch-clear")
    app.fill("#max-kb", "0.05")
    app.set_input_files("#image-input", files=[png_file("p.png", 64, 48, seed=6), png_file("q.png", 64, 48, seed=7)])
    wait_batch(app)
    for row in rows(app):
        assert row["state"] == "done" and row["met"] == "false" and row["download"].endswith("-0.05kb.png")
        assert re.fullmatch(r"Target missed with 1 colour: [\d,]+ bytes, [\d,]+ over the 51 asked for: "
                            r"this is the smallest output found\.", row["message"]), row["message"]


def test_cancel_one_then_all_and_the_page_goes_on(page, site_url):
    page.goto(site_url + "?workers=1&k=64&dither=1")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    page.set_input_files("#image-input", files=[png_file(f"p{i}.png", 320, 240, seed=i) for i in range(6)])
    page.click(".batch-item:nth-child(4) .batch-cancel")  # a queued one: never started
    assert page.get_attribute(".batch-item:nth-child(4)", "data-state") == "error"
    assert page.text_content(".batch-item:nth-child(4) .batch-message") == "Cancelled."
    page.wait_for_function("() => document.querySelector('.batch-item:nth-child(1)').dataset.state === 'running'")
    page.click("#cancel-all")
    wait_batch(page)
    states = [row["state"] for row in rows(page)]
    assert states.count("done") <= 1 and states.count("error") >= 5
    assert all(row["message"] == "Cancelled." for row in rows(page) if row["state"] == "error")
    assert re.search(r"cancelled", page.text_content("#batch-summary"))
    # The worker cancelled mid-photo restarts; new files still go through.
    page.fill("#k", "4")
    page.set_input_files("#image-input", files=[png_file("after1.png"), png_file("after2.png", seed=9)])
    wait_batch(page, timeout=BOOT_TIMEOUT_MS)
    assert [row["state"] for row in rows(page)][-2:] == ["done", "done"]


def test_workers_parameter_sets_the_pool_and_a_bad_one_is_said(page, site_url):
    page.goto(site_url + "?workers=2")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    page.fill("#k", "4")
    page.set_input_files("#image-input", files=[png_file(f"w{i}.png", seed=i) for i in range(4)])
    wait_batch(page, timeout=BOOT_TIMEOUT_MS)
    assert page.get_attribute("#batch", "data-workers") == "2"
    assert all(row["state"] == "done" for row in rows(page))
    page.goto(site_url + "?workers=lots")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert "The link's workers= must be a whole number from 1 to 16; got “lots”, so it is " in page.text_content("#status")


def test_five_hundred_files_keep_the_page_responsive_and_memory_bounded(app):
    app.fill("#k", "2")
    app.fill("#max-iter", "5")
    files = [png_file(f"tiny{i:03}.png", 8, 8, seed=i) for i in range(500)]
    app.set_input_files("#image-input", files=files)
    assert app.locator(".batch-item").count() == 500
    # While the batch runs the page answers: the other tab opens, and comes back.
    app.click("#tab-clusters")
    app.wait_for_function("() => !document.getElementById('clusters').hidden")
    app.click("#tab-compress")
    assert app.get_attribute("#batch", "data-state") == "running"
    wait_batch(app, timeout=600_000)
    assert app.text_content("#batch-summary").startswith("500 of 500 done · ")
    # Never more photos decoded at once than there are workers.
    assert int(app.get_attribute("#batch", "data-peak-decoded")) <= int(app.get_attribute("#batch", "data-workers"))


def test_settings_are_remembered_shared_and_reset(page, site_url):
    page.goto(site_url + "?k=24&dither=0.3&space=rgb&max-kb=100")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert [page.input_value(f"#{id}") for id in ("k", "dither", "colour-space", "max-kb", "min-quality")] == [
        "24", "0.3", "rgb", "100", ""]
    page.fill("#seed", "5")
    page.dispatch_event("#seed", "change")
    assert page.url == site_url + "?k=24&seed=5&dither=0.3&space=rgb&max-kb=100"

    # A later visit without the link remembers them, and shows them in the address to share.
    page.goto(site_url)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert page.input_value("#k") == "24" and page.input_value("#seed") == "5"
    assert page.url == site_url + "?k=24&seed=5&dither=0.3&space=rgb&max-kb=100"

    # A link with settings shows what its sender saw: the rest at their defaults, not what was remembered.
    page.goto(site_url + "?k=12")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert page.input_value("#k") == "12" and page.input_value("#seed") == "0" and page.input_value("#max-kb") == ""
    # A link's bad value is said, and not used.
    page.goto(site_url + "?k=999")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert page.text_content("#status").startswith(
        "The link's k= must be a whole number from 1 to 256; got “999”, so it was not used. Ready.")
    assert page.input_value("#k") == "16"
    # Opening links changed nothing that was remembered.
    page.goto(site_url)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert page.input_value("#k") == "24" and page.input_value("#seed") == "5"

    page.click("#reset-settings")
    assert [page.input_value(f"#{id}") for id in ("k", "seed", "dither", "colour-space", "max-kb")] == [
        "16", "0", "0.6", "oklab", ""]
    assert page.url == site_url
    assert page.evaluate("() => localStorage.getItem('kmeans-settings')") is None
    page.goto(site_url)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    assert page.input_value("#k") == "16"


def test_a_target_on_one_photo_shows_the_search_in_the_numbers(app):
    app.fill("#min-quality", "40")
    app.click("#run")  # the sample photo
    assert wait_state(app, "done", "error", timeout=RUN_TIMEOUT_MS * 2) == "done", app.text_content("#status")
    target = app.text_content("#stats [data-stat=target]")
    assert re.fullmatch(r"Target met with (\d+) colours: quality [\d.]+, at least 40, in \d trials", target), target
    colours = int(re.match(r"Target met with (\d+)", target).group(1))
    assert app.get_attribute("#download", "download") == "flower-q40.png"
    assert float(app.text_content("#stats [data-stat=ssimulacra2]").split(" ")[0]) >= 40
    assert len(app.query_selector_all("#palette .swatch")) == colours
    assert "clear the target to see it" in app.text_content("#colour-cloud-caption")


def test_cancel_takes_back_only_what_it_names_when_the_batch_shares_the_pages_worker(page, site_url):
    page.goto(site_url + "?workers=1&k=64&dither=1")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=BOOT_TIMEOUT_MS)
    # A run of the page's own (the sample photo), then a batch whose first photo waits behind it.
    page.click("#run")
    page.wait_for_function("() => document.body.dataset.state === 'running'")
    page.set_input_files("#image-input", files=[png_file("a.png", 320, 240, seed=1), png_file("b.png", 320, 240, seed=2)])
    page.click(".batch-item:nth-child(1) .batch-cancel")  # its request waits: it is never sent
    assert wait_state(page, "done", "error", timeout=RUN_TIMEOUT_MS * 2) == "done", page.text_content("#status")
    wait_batch(page)
    assert [(row["state"], row["message"]) for row in rows(page)] == [("error", "Cancelled."), ("done", "64 colours")]

    # Now the run waits behind a photo of the batch: Cancel takes back the run alone.
    page.click("#batch-clear")
    page.set_input_files("#image-input", files=[png_file("c.png", 320, 240, seed=3), png_file("d.png", 320, 240, seed=4)])
    page.wait_for_function("() => document.querySelector('.batch-item').dataset.state === 'running'")
    page.click("#run")
    assert page.get_attribute("body", "data-state") == "running"
    page.click("#cancel")
    assert page.get_attribute("body", "data-state") == "ready"  # nothing ran: no restart to wait for
    assert page.text_content("#status") == "Cancelled."
    wait_batch(page)
    assert [row["state"] for row in rows(page)] == ["done", "done"]
