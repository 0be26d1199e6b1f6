"""The clustering explorer (#clusters) in headless Chromium."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from kmeans import make_points, run_kmeans
from PIL import Image

from .conftest import RUN_TIMEOUT_MS

#: The plot's margin in canvas pixels (draw.js PLOT_MARGIN).
PLOT_MARGIN = 28


@pytest.fixture
def explorer(app):
    app.click("#tab-clusters")
    app.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=RUN_TIMEOUT_MS)
    assert app.is_visible("#points-canvas") and not app.is_visible("#result")
    return app


def centroids(page):
    values = json.loads(page.get_attribute("#points-centroids", "data-centroids"))
    return np.array(values).reshape(-1, 2)


def wait_iteration(page, n):
    page.wait_for_function(
        f"() => document.body.dataset.pointsIteration === '{n}' && document.body.dataset.pointsState !== 'running'",
        timeout=RUN_TIMEOUT_MS,
    )


def download_bytes(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_the_sample_converges_to_its_three_groups(explorer):
    explorer.select_option("#points-init", "k-means++")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=RUN_TIMEOUT_MS)
    explorer.fill("#points-speed", "10")
    explorer.click("#points-play")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'done'", timeout=RUN_TIMEOUT_MS)
    assert "Converged" in explorer.text_content("#points-status")
    name, csv = download_bytes(explorer, "#points-export-labels")
    assert name == "labels.csv"
    lines = csv.decode().split()
    assert lines[0] == "label"
    labels = np.array([int(v) for v in lines[1:]])
    _X, truth = make_points("blobs", n_points=300, seed=0)
    assert labels.shape == truth.shape
    # The same partition up to renaming: each found cluster is exactly one generating group.
    pairs = set(zip(labels.tolist(), truth.tolist()))
    assert len(pairs) == 3 and len({a for a, _ in pairs}) == 3 and len({b for _, b in pairs}) == 3


def test_step_does_one_iteration_like_run_kmeans(explorer):
    initial = centroids(explorer)
    assert explorer.get_attribute("body", "data-points-iteration") == "0"
    X, _truth = make_points("blobs", n_points=300, seed=0)
    _c, _idx, history = run_kmeans(X, initial, max_iters=50)
    assert len(history) > 4, "seed 5 should take several iterations"
    for n in (1, 2, 3):
        explorer.click("#points-step")
        wait_iteration(explorer, n)
        assert explorer.get_attribute("body", "data-points-state") == "paused"
        np.testing.assert_array_equal(centroids(explorer), history[n])
        assert explorer.text_content("#points-iteration-label") == str(n)


def test_click_to_place_uses_the_clicked_positions(explorer):
    X, _truth = make_points("blobs", n_points=300, seed=0)
    explorer.select_option("#points-init", "click")
    explorer.wait_for_function("() => /Click on the plot/.test(document.getElementById('points-status').textContent)")
    assert explorer.is_disabled("#points-step")
    # Where data coordinates land on the canvas (draw.js plotBounds and plotScale).
    low, high = X.min(axis=0), X.max(axis=0)
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    box = explorer.locator("#points-canvas").bounding_box()
    scale_x, scale_y = box["width"] / 720, box["height"] / 540
    targets = np.array([[1.0, 1.0], [4.0, 5.5], [7.0, 0.5]])
    for x, y in targets:
        px = PLOT_MARGIN + (x - low[0]) / (high[0] - low[0]) * (720 - 2 * PLOT_MARGIN)
        py = PLOT_MARGIN + (1 - (y - low[1]) / (high[1] - low[1])) * (540 - 2 * PLOT_MARGIN)
        explorer.click("#points-canvas", position={"x": px * scale_x, "y": py * scale_y})
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'ready' && !document.getElementById('points-step').disabled")
    placed = centroids(explorer)
    # Within a pixel or so of each click (a canvas pixel is about 0.015 data units here).
    np.testing.assert_allclose(placed, targets, atol=0.05)
    explorer.click("#points-step")
    wait_iteration(explorer, 1)
    _c, _idx, history = run_kmeans(X, placed, max_iters=1)
    np.testing.assert_array_equal(centroids(explorer), history[1])


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("ragged.csv", b"x,y\n1,2\n3,4,5\n", "line 3 has 3 values"),
        ("words.csv", b"x,y\n1,2\n3,abc\n", "'abc' is not a number"),
        ("nan.csv", b"1,2\nnan,4\n", "NaN"),
        ("empty.csv", b"", "empty"),
        ("one-column.csv", b"1\n2\n3\n", "at least 2 are needed"),
    ],
    ids=["ragged", "non-numeric", "nan", "empty", "one-column"],
)
def test_a_bad_file_shows_an_error_and_keeps_the_data(explorer, name, content, message):
    explorer.click("#points-step")
    wait_iteration(explorer, 1)
    before = centroids(explorer)
    explorer.set_input_files("#points-input", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'error'", timeout=RUN_TIMEOUT_MS)
    status = explorer.text_content("#points-status")
    assert message in status and name in status
    assert "Sample (three groups): 300 points" in explorer.text_content("#points-caption")
    np.testing.assert_array_equal(centroids(explorer), before)
    explorer.click("#points-step")  # the view is still usable with the previous data
    wait_iteration(explorer, 2)


def test_fewer_points_than_k_is_refused(explorer):
    explorer.set_input_files("#points-input", files=[{"name": "three.csv", "mimeType": "text/csv", "buffer": b"0,0\n1,1\n5,5\n"}])
    explorer.wait_for_function("() => /three.csv/.test(document.getElementById('points-caption').textContent)", timeout=RUN_TIMEOUT_MS)
    explorer.fill("#points-k", "5")
    explorer.dispatch_event("#points-k", "change")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'error'", timeout=RUN_TIMEOUT_MS)
    assert "K=5 is more than the 3 points" in explorer.text_content("#points-status")


def test_wide_data_is_drawn_on_principal_components(explorer):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.3, size=(50, 4)) for c in (0, 3, 6)])
    csv = "\n".join(",".join(f"{v:.6f}" for v in row) for row in X).encode()
    explorer.set_input_files("#points-input", files=[{"name": "wide.csv", "mimeType": "text/csv", "buffer": csv}])
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=RUN_TIMEOUT_MS)
    explorer.wait_for_function("() => /wide.csv/.test(document.getElementById('points-caption').textContent)")
    caption = explorer.text_content("#points-caption")
    assert "150 points in 4-D" in caption and "first two principal components" in caption
    values = json.loads(explorer.get_attribute("#points-centroids", "data-centroids"))
    assert len(values) == 3 * 4  # the centroids live in the data's 4-D space


def test_figure_export_is_a_png(explorer):
    for n in (1, 2):
        explorer.click("#points-step")
        wait_iteration(explorer, n)
    name, png = download_bytes(explorer, "#points-export-figure")
    assert name == "kmeans-clusters.png"
    with Image.open(io.BytesIO(png)) as figure:
        assert figure.format == "PNG" and figure.size == (600, 500)
        colours = figure.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 10  # a real drawing, not a blank image
