"""The explorer's teaching tools in headless Chromium: half-steps, history, k-means++ as it seeds,
regions, restarts, the silhouette, data sets, editing, homework links and the keyboard."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kmeans import KMeans, find_closest_centroids, kmeans_plusplus, make_points, run_kmeans, silhouette_score

from .conftest import RUN_TIMEOUT_MS
from .test_explorer import PLOT_MARGIN, centroids, download_bytes, explorer, wait_iteration  # noqa: F401

#: draw.js REGION_TINT and tab10, as scatter.js shades the regions.
REGION_TINT = 0.16
TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def blobs():
    return make_points("blobs", n_points=300, seed=0)[0]


def settled(page):
    page.wait_for_function("() => !['running'].includes(document.body.dataset.pointsState)", timeout=RUN_TIMEOUT_MS)


def phase(page):
    return page.get_attribute("body", "data-points-phase")


def labels(page):
    _name, csv = download_bytes(page, "#points-export-labels")
    return np.array([int(v) for v in csv.decode().split()[1:]])


def test_assign_changes_labels_and_update_moves_centroids(explorer):
    X = blobs()
    initial = centroids(explorer)
    assert phase(explorer) == "updated" and explorer.is_disabled("#points-update")
    explorer.click("#points-assign")
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'assigned'", timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    np.testing.assert_array_equal(centroids(explorer), initial)  # Assign moves no centroid
    np.testing.assert_array_equal(labels(explorer), find_closest_centroids(X, initial))
    assert "moved: 300" in explorer.text_content("#points-status")
    assert explorer.is_disabled("#points-assign") and not explorer.is_disabled("#points-update")
    # The code that just ran, read from the package as shipped, with its key line highlighted.
    explorer.wait_for_function("() => document.getElementById('points-code').dataset.function === 'find_closest_centroids'"
                               " && document.querySelector('#points-code .hl')")
    highlighted = explorer.eval_on_selector_all("#points-code .hl", "lines => lines.map(l => l.textContent)")
    assert any("argmin" in line for line in highlighted)
    assert "def find_closest_centroids(X, centroids):" in explorer.text_content("#points-code")

    explorer.click("#points-update")
    wait_iteration(explorer, 1)
    assert phase(explorer) == "updated"
    _c, _idx, history = run_kmeans(X, initial, max_iters=50)
    np.testing.assert_array_equal(centroids(explorer), history[1])
    np.testing.assert_array_equal(labels(explorer), find_closest_centroids(X, initial))  # Update relabels nothing
    explorer.wait_for_function("() => document.getElementById('points-code').dataset.function === 'compute_centroids'")
    explorer.wait_for_function("() => [...document.querySelectorAll('#points-code .hl')].some(l => /members.mean/.test(l.textContent))")

    # The second Assign rings the points that changed cluster and counts them.
    explorer.click("#points-assign")
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'assigned'", timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    moved = int((find_closest_centroids(X, history[1]) != find_closest_centroids(X, initial)).sum())
    assert moved > 0
    assert f"moved: {moved} (ringed)" in explorer.text_content("#points-status")


def test_back_and_history_restore_exactly_and_forward_again_is_run_kmeans(explorer):
    X = blobs()
    initial = centroids(explorer)
    _c, _idx, history = run_kmeans(X, initial, max_iters=50)
    for n in (1, 2, 3):
        explorer.click("#points-step")
        wait_iteration(explorer, n)
    np.testing.assert_array_equal(centroids(explorer), history[3])
    explorer.click("#points-back")  # to iteration 3's Assign: the centroids are still history[2]
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'assigned'")
    np.testing.assert_array_equal(centroids(explorer), history[2])
    assert explorer.get_attribute("body", "data-points-iteration") == "2"
    explorer.click("#points-back")
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'updated'")
    np.testing.assert_array_equal(centroids(explorer), history[2])
    # The slider goes anywhere in the stored history.
    explorer.fill("#points-history", "0")
    explorer.wait_for_function("() => document.body.dataset.pointsIteration === '0'")
    np.testing.assert_array_equal(centroids(explorer), history[0])
    assert explorer.get_attribute("#points-history", "max") == "6"
    # Forward again from the start, past the stored steps: still run_kmeans's history.
    for n in range(1, 6):
        explorer.click("#points-step")
        wait_iteration(explorer, n)
        np.testing.assert_array_equal(centroids(explorer), history[n])


def test_play_converges_where_run_kmeans_stops(explorer):
    X = blobs()
    initial = centroids(explorer)
    _c, _idx, history = run_kmeans(X, initial, max_iters=20)
    explorer.fill("#points-speed", "10")
    explorer.click("#points-play")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'done'", timeout=RUN_TIMEOUT_MS)
    n_iter = len(history) - 1
    assert explorer.get_attribute("body", "data-points-iteration") == str(n_iter)
    assert f"Converged after {n_iter} iterations" in explorer.text_content("#points-status")
    np.testing.assert_array_equal(centroids(explorer), history[-1])


def test_kmeans_plusplus_places_one_centre_per_step(explorer):
    X = blobs()
    explorer.select_option("#points-init", "k-means++")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'ready' && document.body.dataset.pointsSeeded === '0'",
                               timeout=RUN_TIMEOUT_MS)
    expected, _indices = kmeans_plusplus(X, 3, seed=5)
    for c in (1, 2, 3):
        explorer.click("#points-step")
        explorer.wait_for_function(f"() => document.body.dataset.pointsSeeded === '{c}'", timeout=RUN_TIMEOUT_MS)
        settled(explorer)
        np.testing.assert_array_equal(centroids(explorer), expected[:c])
        status = explorer.text_content("#points-status")
        assert f"centre {c} of 3" in status
        if c > 1:
            assert "candidates" in status and "D(x)²" in status
    assert explorer.get_attribute("body", "data-points-iteration") == "0"
    explorer.click("#points-step")
    wait_iteration(explorer, 1)
    _c, _idx, history = run_kmeans(X, expected, max_iters=5)
    np.testing.assert_array_equal(centroids(explorer), history[1])


def test_a_region_far_from_every_point_has_its_nearest_centroids_tint(explorer):
    X = blobs()
    placed = centroids(explorer)
    low, high = X.min(axis=0), X.max(axis=0)
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    width, height = 720 - 2 * PLOT_MARGIN, 540 - 2 * PLOT_MARGIN
    checked = 0
    for px, py in [(PLOT_MARGIN + 6, PLOT_MARGIN + 6), (720 - PLOT_MARGIN - 6, PLOT_MARGIN + 6),
                   (720 - PLOT_MARGIN - 6, 540 - PLOT_MARGIN - 6), (PLOT_MARGIN + 6, 540 - PLOT_MARGIN - 6)]:
        x = low[0] + (px - PLOT_MARGIN + 0.5) / width * (high[0] - low[0])
        y = high[1] - (py - PLOT_MARGIN + 0.5) / height * (high[1] - low[1])
        near = np.abs((X - [x, y]) / (high - low)).max(axis=1).min()
        if near < 0.03:
            continue  # a point may be drawn here
        distances = ((placed - [x, y]) ** 2).sum(axis=1)
        j = int(distances.argmin())
        if np.sort(distances)[1] - distances[j] < 1e-3:
            continue  # too close to a border to tell
        colour = TAB10[j]
        expected = [round(255 + (int(colour[i:i + 2], 16) - 255) * REGION_TINT) for i in (1, 3, 5)]
        pixel = explorer.evaluate(
            f"() => Array.from(document.getElementById('points-canvas').getContext('2d').getImageData({px}, {py}, 1, 1).data)")
        assert pixel[:3] == expected, (px, py, j)
        checked += 1
    assert checked >= 2
    explorer.uncheck("#points-voronoi")
    pixel = explorer.evaluate(
        f"() => Array.from(document.getElementById('points-canvas').getContext('2d').getImageData({PLOT_MARGIN + 6}, {PLOT_MARGIN + 6}, 1, 1).data)")
    assert pixel == [255, 255, 255, 255]


def test_restarts_list_each_seed_and_load_the_one_chosen(explorer):
    X = blobs()
    explorer.click("#points-restarts")
    explorer.wait_for_function("() => document.querySelectorAll('#points-restarts-list .restart').length === 10",
                               timeout=RUN_TIMEOUT_MS)
    runs = explorer.eval_on_selector_all(
        "#points-restarts-list .restart", "items => items.map(b => [Number(b.dataset.seed), Number(b.dataset.inertia), b.classList.contains('best')])")
    assert [seed for seed, _i, _b in runs] == list(range(5, 15))
    for seed, inertia, _best in runs:
        start = X[np.random.default_rng(seed).permutation(len(X))[:3]]
        final, idx, _history = run_kmeans(X, start, max_iters=20)
        assert inertia == pytest.approx(((X - final[idx]) ** 2).sum(), rel=1e-12)
    inertias = [inertia for _s, inertia, _b in runs]
    best = [seed for seed, _i, is_best in runs if is_best]
    assert best == [runs[int(np.argmin(inertias))][0]]
    worst = runs[int(np.argmax(inertias))][0]
    explorer.click(f"#points-restarts-list .restart[data-seed='{worst}']")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'done'", timeout=RUN_TIMEOUT_MS)
    assert explorer.input_value("#points-seed") == str(worst)
    start = X[np.random.default_rng(worst).permutation(len(X))[:3]]
    final, _idx, _history = run_kmeans(X, start, max_iters=20)
    np.testing.assert_array_equal(centroids(explorer), final)


def test_the_silhouette_matches_scikit_learn(explorer):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    X = blobs()
    explorer.wait_for_function("() => document.getElementById('points-silhouette').dataset.silhouette", timeout=RUN_TIMEOUT_MS)
    shown = json.loads(explorer.get_attribute("#points-silhouette", "data-silhouette"))
    assert shown["k"] == list(range(2, 11))
    for k, value in zip(shown["k"], shown["values"]):
        fitted = KMeans(k, random_state=5).fit(X).labels_
        assert value == pytest.approx(sklearn_metrics.silhouette_score(X, fitted), abs=1e-9)
        assert value == pytest.approx(silhouette_score(X, fitted), abs=1e-12)
    assert int(np.argmax(shown["values"])) + 2 == 3  # three groups: K=3 is best


@pytest.mark.parametrize("kind, label", [("rings", "two rings"), ("moons", "two moons"), ("smiley", "a smiley"),
                                         ("anisotropic", "stretched groups"), ("outliers", "groups with outliers")])
def test_the_data_sets_that_show_where_kmeans_fails(explorer, kind, label):
    explorer.select_option("#points-sample", kind)
    explorer.wait_for_function(f"() => document.getElementById('points-caption').textContent.includes('Sample ({label}): 300 points')",
                               timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    X, _truth = make_points(kind, n_points=300, seed=0)
    start = X[np.random.default_rng(5).permutation(len(X))[:3]]
    np.testing.assert_array_equal(centroids(explorer), start)


def test_standardise_scales_every_feature(explorer):
    X = blobs()
    explorer.check("#points-standardise")
    explorer.wait_for_function("() => /standardised/.test(document.getElementById('points-caption').textContent)",
                               timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    start = Z[np.random.default_rng(5).permutation(len(Z))[:3]]
    np.testing.assert_allclose(centroids(explorer), start, rtol=0, atol=1e-12)
    explorer.uncheck("#points-standardise")
    explorer.wait_for_function("() => !/standardised/.test(document.getElementById('points-caption').textContent)",
                               timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    np.testing.assert_array_equal(centroids(explorer), X[np.random.default_rng(5).permutation(len(X))[:3]])


def canvas_position(page, xy, low, high):
    """Where data point `xy` is drawn, relative to the canvas element (for click(position=...))."""
    box = page.locator("#points-canvas").bounding_box()
    px = PLOT_MARGIN + (xy[0] - low[0]) / (high[0] - low[0]) * (720 - 2 * PLOT_MARGIN)
    py = PLOT_MARGIN + (1 - (xy[1] - low[1]) / (high[1] - low[1])) * (540 - 2 * PLOT_MARGIN)
    return {"x": px * box["width"] / 720, "y": py * box["height"] / 540}


def test_edit_mode_adds_points_and_drags_centroids(explorer):
    X = blobs()
    low, high = X.min(axis=0), X.max(axis=0)
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    explorer.check("#points-edit")
    canvas = explorer.locator("#points-canvas")
    canvas.click(position=canvas_position(explorer, (7.0, 6.0), low, high))  # empty space, top right
    explorer.wait_for_function("() => /Your points: 301 points/.test(document.getElementById('points-caption').textContent)",
                               timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    assert explorer.input_value("#points-sample") == "file"
    before = centroids(explorer)
    # Drag centroid 0 to (1, 1).
    canvas.hover(position=canvas_position(explorer, before[0], low, high))
    explorer.mouse.down()
    box = canvas.bounding_box()
    target = canvas_position(explorer, (1.0, 1.0), low, high)
    explorer.mouse.move(box["x"] + target["x"], box["y"] + target["y"], steps=4)
    explorer.mouse.up()
    explorer.wait_for_function("() => /Centroid moved/.test(document.getElementById('points-status').textContent)",
                               timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    after = centroids(explorer)
    np.testing.assert_allclose(after[0], [1.0, 1.0], atol=0.05)
    np.testing.assert_array_equal(after[1:], before[1:])
    assert explorer.get_attribute("body", "data-points-iteration") == "0"
    # K-means then runs from the edited start on the edited points.
    explorer.uncheck("#points-edit")
    explorer.click("#points-step")
    wait_iteration(explorer, 1)
    edited = np.vstack([X, [[7.0, 6.0]]])
    _c, _idx, history = run_kmeans(edited, after, max_iters=1)
    np.testing.assert_allclose(centroids(explorer), history[1], atol=0.02)  # the added point is where the click landed


def test_a_shared_link_reopens_the_same_state_with_controls_hidden(explorer, page, site_url):
    X = blobs()
    initial = centroids(explorer)
    _c, _idx, history = run_kmeans(X, initial, max_iters=50)
    explorer.uncheck("#points-voronoi")
    for n in (1, 2):
        explorer.click("#points-step")
        wait_iteration(explorer, n)
    explorer.click("#points-assign")
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'assigned'", timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    explorer.click("#points-share")
    explorer.wait_for_function("() => document.getElementById('points-share-url').value.includes('#clusters?')")
    url = explorer.input_value("#points-share-url")
    assert url.startswith(site_url) and "step=5" in url and "regions=0" in url
    other = page.context.new_page()
    other.goto(url + "&hide=seed,init,tabs")
    other.wait_for_function("() => document.body.dataset.pointsIteration === '2' && document.body.dataset.pointsPhase === 'assigned'"
                            " && document.body.dataset.pointsState === 'paused'", timeout=90_000)
    np.testing.assert_array_equal(centroids(other), history[2])
    assert "Opened a shared link" in other.text_content("#points-status")
    assert not other.is_visible("#points-seed") and not other.is_visible("#points-init") and not other.is_visible("#tab-compress")
    assert other.is_visible("#points-k") and not other.is_checked("#points-voronoi")
    other.click("#points-update")
    other.wait_for_function("() => document.body.dataset.pointsIteration === '3'", timeout=RUN_TIMEOUT_MS)
    np.testing.assert_array_equal(centroids(other), history[3])
    other.close()


def test_a_link_with_clicked_points_and_centroids_reopens_them(explorer, page, site_url):
    csv = b"x,y\n0,0\n0,1\n1,0\n5,5\n5,6\n6,5\n10,0\n10,1\n"
    explorer.set_input_files("#points-input", files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": csv}])
    explorer.wait_for_function("() => /mine.csv/.test(document.getElementById('points-caption').textContent)", timeout=RUN_TIMEOUT_MS)
    explorer.select_option("#points-init", "click")
    explorer.fill("#points-k", "2")
    explorer.dispatch_event("#points-k", "change")
    explorer.wait_for_function("() => /Click on the plot to place 2/.test(document.getElementById('points-status').textContent)")
    box = explorer.locator("#points-canvas").bounding_box()
    for fx, fy in ((0.3, 0.3), (0.7, 0.7)):
        explorer.click("#points-canvas", position={"x": fx * box["width"], "y": fy * box["height"]})
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'ready' && !document.getElementById('points-step').disabled",
                               timeout=RUN_TIMEOUT_MS)
    explorer.click("#points-step")
    wait_iteration(explorer, 1)
    expected = centroids(explorer)
    explorer.click("#points-share")
    explorer.wait_for_function("() => document.getElementById('points-share-url').value.includes('data=points')")
    other = page.context.new_page()
    other.goto(explorer.input_value("#points-share-url"))
    other.wait_for_function("() => document.body.dataset.pointsIteration === '1' && document.body.dataset.pointsState === 'paused'",
                            timeout=90_000)
    np.testing.assert_array_equal(centroids(other), expected)
    assert "Shared points: 8 points" in other.text_content("#points-caption")
    other.close()


@pytest.mark.parametrize("hash, message", [
    ("#clusters?data=circles&k=3", "the link's data=circles is not one of: blobs"),
    ("#clusters?data=moons&k=abc", "the link's k=abc is not a whole number"),
    ("#clusters?data=points&pts=AAAA&d=2", "the link's pts= is cut short"),
    ("#clusters?data=blobs&init=magic", "the link's init=magic is not one of: random, k-means++, click"),
], ids=["data", "k", "points", "init"])
def test_a_broken_link_says_what_is_wrong_and_the_explorer_still_works(page, site_url, hash, message):
    page.goto(site_url + hash)
    page.wait_for_function("() => document.body.dataset.pointsState === 'error'", timeout=90_000)
    assert message in page.text_content("#points-status")
    page.click("#points-step")
    page.wait_for_function("() => document.body.dataset.pointsIteration === '1'", timeout=RUN_TIMEOUT_MS)


def test_keyboard_shortcuts(explorer):
    X = blobs()
    initial = centroids(explorer)
    _c, _idx, history = run_kmeans(X, initial, max_iters=50)
    explorer.locator("#points-caption").click()  # focus on the page, not on a control
    explorer.keyboard.press("a")
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'assigned'", timeout=RUN_TIMEOUT_MS)
    settled(explorer)
    explorer.keyboard.press("u")
    wait_iteration(explorer, 1)
    explorer.keyboard.press("ArrowRight")
    wait_iteration(explorer, 2)
    np.testing.assert_array_equal(centroids(explorer), history[2])
    explorer.keyboard.press("ArrowLeft")
    explorer.wait_for_function("() => document.body.dataset.pointsPhase === 'assigned'")
    assert explorer.get_attribute("body", "data-points-iteration") == "1"
    explorer.fill("#points-speed", "10")
    explorer.locator("#points-caption").click()
    explorer.keyboard.press("Space")
    explorer.wait_for_function("() => document.body.dataset.pointsState === 'done'", timeout=RUN_TIMEOUT_MS)
    np.testing.assert_array_equal(centroids(explorer), history[-1])
