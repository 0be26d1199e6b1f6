"""kmeans.web, the worker's adapter, under CPython (buffers in, plain dicts out)."""

from __future__ import annotations

import io

import kmeans._coarse_to_fine
import kmeans._distinct
import numpy as np
import pytest
from kmeans import make_points, quantize_image, run_kmeans, web
from kmeans.metrics import ssimulacra2
from PIL import Image


def rgba_image(height=20, width=30, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(height, width, 4), dtype=np.uint8)
    image[..., 3] = 255
    return image


def test_quantize_takes_bytes_and_matches_quantize_image():
    image = rgba_image()
    reply = web.quantize(image.tobytes(), 30, 20, n_colors=6, seed=3)
    expected = quantize_image(image[..., :3], 6, seed=3)
    assert reply["indices"].dtype == np.uint8 and reply["indices"].shape == (600,)
    assert reply["indices"].flags.c_contiguous and reply["palette"].flags.c_contiguous
    palette = reply["palette"].reshape(-1, 4)
    np.testing.assert_array_equal(palette[:, :3], expected.palette)
    assert (palette[:, 3] == 255).all()
    np.testing.assert_array_equal(reply["indices"], expected.indices.reshape(-1))
    assert reply["n_colors"] == 6 and reply["n_iter"] == expected.n_iter
    assert reply["psnr"] == pytest.approx(expected.psnr)
    scored = web.score(image.tobytes(), reply["indices"].tobytes(), reply["palette"].tobytes(), 30, 20)
    assert scored["ssimulacra2"] == ssimulacra2(image[..., :3], expected.to_array())
    assert scored["ssimulacra2_scale"] == 1


def test_score_refuses_a_mismatched_result():
    with pytest.raises(ValueError, match="expected 2x2 pixels and as many indices"):
        web.score(b"\0" * 16, b"\0" * 3, b"\0\0\0\xff", 2, 2)
    with pytest.raises(ValueError, match="an index points past the end of the palette"):
        web.score(b"\0" * 16, b"\1" * 4, b"\0\0\0\xff", 2, 2)


def test_quantize_dithers_in_the_colour_space_asked_for():
    image = rgba_image(40, 60)
    reply = web.quantize(image.tobytes(), 60, 40, n_colors=8, dither=0.8, colour_space="oklab")
    expected = quantize_image(image[..., :3], 8, dither=0.8, colour_space="oklab")
    np.testing.assert_array_equal(reply["indices"], expected.indices.reshape(-1))
    assert reply["mse"] == pytest.approx(expected.mse)


def test_quantize_reports_progress_each_iteration_then_the_dithering():
    calls = []
    reply = web.quantize(rgba_image().tobytes(), 30, 20, n_colors=4, progress=lambda i, m: calls.append((i, m)))
    fit = [call for call in calls if call[0] != "dither"]
    dither = [fraction for phase, fraction in calls if phase == "dither"]
    # One call per iteration of every restart, counted across them, so the bar only moves forward.
    assert [i for i, _ in fit] == list(range(1, len(fit) + 1))
    assert len(fit) >= reply["n_iter"] and all(m == 300 for _, m in fit)
    # Then the dithering, from 0 on, after the fit.
    assert calls[-len(dither):] == [("dither", f) for f in dither] and dither[0] == 0.0
    assert all(0 <= f < 1 for f in dither) and dither == sorted(dither)


def test_quantize_keeps_transparency():
    image = rgba_image()
    image[:5, :, 3] = 0
    reply = web.quantize(image.tobytes(), 30, 20, n_colors=4)
    palette = reply["palette"].reshape(-1, 4)
    indices = reply["indices"].reshape(20, 30)
    assert (palette[indices[:5], 3] == 0).all() and (palette[indices[5:], 3] == 255).all()


@pytest.mark.parametrize(
    "args, message",
    [
        ((b"\0" * 10, 2, 2), "expected 2x2x4 = 16 RGBA bytes, got 10"),
        ((b"", 6000, 5000), "30.0 megapixels"),
        ((b"", 0, 5), "width must be a positive"),
    ],
    ids=["wrong-length", "too-large", "zero-width"],
)
def test_quantize_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        web.quantize(*args)


def test_quantize_warns_through_the_reply():
    image = np.zeros((4, 4, 4), dtype=np.uint8)
    image[..., 3] = 255
    image[:2, :, 0] = 200
    reply = web.quantize(image.tobytes(), 4, 4, n_colors=16)
    assert reply["n_colors"] == 2 and "only 2 distinct colours" in reply["warning"]


def test_encode_png_round_trips():
    image = rgba_image()
    reply = web.quantize(image.tobytes(), 30, 20, n_colors=5)
    png = web.encode_png(reply["indices"].tobytes(), reply["palette"].tobytes(), 30, 20)
    assert png["bytes"] == len(png["png"])
    decoded = Image.open(io.BytesIO(png["png"].tobytes()))
    assert decoded.mode == "P" and decoded.size == (30, 20)
    palette = reply["palette"].reshape(-1, 4)
    np.testing.assert_array_equal(np.asarray(decoded.convert("RGBA")), palette[reply["indices"]].reshape(20, 30, 4))


def test_encode_png_refuses_an_index_past_the_palette():
    with pytest.raises(ValueError, match="past the end of the palette"):
        web.encode_png(bytes([0, 3]), bytes([0, 0, 0, 255] * 2), 2, 1)


def test_sample_points_and_projection_of_2d_data():
    data = web.sample_points("blobs", 300, 0)
    X, truth = make_points("blobs", n_points=300, seed=0)
    np.testing.assert_array_equal(data["points"].reshape(-1, 2), X)
    np.testing.assert_array_equal(data["points_2d"].reshape(-1, 2), X)  # 2-D data is drawn as is
    np.testing.assert_array_equal(data["truth"], truth)
    assert data["explained"] == 1.0 and data["n_features"] == 2


def test_load_points_projects_wide_data_on_principal_components():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3)) * [10.0, 1.0, 0.1]
    data = web.load_points(np.savetxt(buffer := io.BytesIO(), X, delimiter=",") or buffer.getvalue(), "wide.csv")
    assert data["n_points"] == 100 and data["n_features"] == 3
    assert 0.98 < data["explained"] < 1.0
    points_2d = data["points_2d"].reshape(-1, 2)
    # The first component carries the widest spread, and projections are centred.
    assert points_2d[:, 0].std() > 5 * points_2d[:, 1].std()
    np.testing.assert_allclose(points_2d.mean(axis=0), 0, atol=1e-9)


def test_load_points_rejects_one_column():
    with pytest.raises(ValueError, match="at least 2 are needed"):
        web.load_points(b"1\n2\n3\n", "one.csv")


def test_steps_reproduce_run_kmeans():
    data = web.sample_points("blobs", 300, 0)
    init = web.init_centroids(data["points"], 2, 3, "random", 5, projection=data["projection"])
    X = data["points"].reshape(-1, 2)
    _c, _idx, history = run_kmeans(X, init["centroids"].reshape(3, 2), max_iters=50)
    centroids = init["centroids"]
    for n in range(1, len(history)):
        reply = web.step(data["points"], 2, centroids, data["projection"])
        assert not reply["converged"]
        centroids = reply["centroids"]
        np.testing.assert_array_equal(centroids.reshape(3, 2), history[n])
    final = web.step(data["points"], 2, centroids, data["projection"])
    assert final["converged"]
    assert final["inertia"] == pytest.approx(((X - history[-1][final["labels"]]) ** 2).sum())


def test_click_init_lifts_positions_through_the_projection():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 4))
    data = web.load_points(np.save(buffer := io.BytesIO(), X) or buffer.getvalue(), "x.npy")
    clicked = np.array([[0.5, -0.5], [-1.0, 1.0]])
    reply = web.init_centroids(data["points"], 4, 2, "click", centroids_2d=clicked.tobytes(), projection=data["projection"])
    assert reply["centroids"].size == 8
    np.testing.assert_allclose(reply["centroids_2d"].reshape(-1, 2), clicked, atol=1e-12)


@pytest.mark.parametrize("k, message", [(0, "K=0 should be >= 1"), (301, "K=301 is more than the data has points: it has 300, so K must be 1 to 300")])
def test_init_refuses_k_out_of_range(k, message):
    data = web.sample_points("blobs", 300, 0)
    with pytest.raises(ValueError, match=message):
        web.init_centroids(data["points"], 2, k, "random", 0)


def test_elbow_decreases():
    data = web.sample_points("blobs", 300, 0)
    reply = web.elbow(data["points"], 2, 10, 0)
    assert reply["k"].tolist() == list(range(1, 11))
    assert (np.diff(reply["inertia"]) <= 1e-9).all()
    assert reply["inertia"][2] < 0.2 * reply["inertia"][1]  # the elbow at K=3


def test_figure_png_is_a_png():
    data = web.sample_points("blobs", 300, 0)
    init = web.init_centroids(data["points"], 2, 3, "random", 5)
    step = web.step(data["points"], 2, init["centroids"], data["projection"])
    history = np.concatenate([init["centroids"], step["centroids"]])
    reply = web.figure_png(data["points"], 2, step["labels"].tobytes(), history.tobytes(), data["projection"], 3)
    assert reply["png"][:8].tobytes() == b"\x89PNG\r\n\x1a\n" and reply["bytes"] > 10_000


def test_call_returns_results_and_errors_as_values():
    data = web.sample_points("blobs", 300, 0)
    ok = web.call("init_centroids", points=data["points"].tobytes(), n_features=2, k=3, init="random", seed=5)
    assert set(ok) == {"result"} and ok["result"]["centroids"].shape == (6,)
    failed = web.call("load_points", data=b"1\n2\n", name="one.csv")
    assert failed == {"error": {"name": "ValueError", "message": "one.csv: the data has 1 column; at least 2 are needed"}}
    unknown = web.call("rm_rf", x=1)
    assert unknown["error"]["message"] == "unknown request type 'rm_rf'"


def test_warm_up_commits_memory_in_steps_then_frees_it(monkeypatch):
    monkeypatch.setattr(web, "WARM_UP_MEGABYTES", 3 * web._WARM_UP_BLOCK_MEGABYTES)
    replies = [web.call("warm_up", step=step) for step in range(3)]
    assert replies == [{"result": {"done": False}}] * 3
    assert len(web._warm_up_blocks) == 3
    assert all(block.size == web._WARM_UP_BLOCK_MEGABYTES << 20 for block in web._warm_up_blocks)
    seen = []
    monkeypatch.setattr(web, "quantize_image", lambda image, n_colors, **kw: seen.append((image, n_colors)))
    assert web.call("warm_up", step=3) == {"result": {"done": True}}
    assert web._warm_up_blocks == []
    # The last step goes through the big-photo path: at least 2**21 pixels, many colours.
    (image, n_colors), = seen
    assert image.shape[0] * image.shape[1] >= kmeans._distinct.COUNTING_MIN_PIXELS and n_colors == 16
    distinct = np.unique(image.reshape(-1, 4), axis=0).shape[0]
    assert distinct > kmeans._coarse_to_fine.MIDDLE_MIN_COLOURS
