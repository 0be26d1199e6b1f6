"""kmeans.web, the worker's adapter, under CPython (buffers in, plain dicts out)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from kmeans import KMeans, images, kmeans_plusplus, make_points, quantize_image, run_kmeans, silhouette_score, web
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
        ((b"", 12000, 9000), r"12000x9000 \(108\.0 megapixels\); the limit is 100 megapixels: scale it down "
                             r"first, to at most 11547x8660"),
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



def gradient_rgba(height=48, width=64):
    """A photo-like image for the target searches: smooth ramps, so PNG size grows with K."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height),
                      np.full_like(x, 255)], axis=-1)
    return image.astype(np.uint8)


def test_compress_without_a_target_is_quantize_score_and_encode_in_one():
    image = rgba_image()
    reply = web.compress(image.tobytes(), 30, 20, n_colors=6, seed=3)
    quantized = web.quantize(image.tobytes(), 30, 20, n_colors=6, seed=3)
    np.testing.assert_array_equal(reply["indices"], quantized["indices"])
    np.testing.assert_array_equal(reply["palette"], quantized["palette"])
    encoded = web.encode_png(quantized["indices"].tobytes(), quantized["palette"].tobytes(), 30, 20)
    assert reply["png"].tobytes() == encoded["png"].tobytes() and reply["bytes"] == encoded["bytes"]
    scored = web.score(image.tobytes(), quantized["indices"].tobytes(), quantized["palette"].tobytes(), 30, 20)
    assert reply["ssimulacra2"] == scored["ssimulacra2"]
    assert reply["met"] is True and reply["message"] is None and reply["trials"].size == 0
    assert reply["n_colors"] == 6 and reply["mse"] == pytest.approx(quantized["mse"])


def test_compress_to_a_size_searches_k_and_reports_each_trial():
    image = gradient_rgba()
    said = []
    reply = web.compress(image.tobytes(), 64, 48, max_kb=1.5, progress=lambda *step: said.append(step))
    trials = reply["trials"].reshape(-1, 2)
    assert reply["bytes"] <= 1.5 * 1024 and reply["met"] is True
    assert said == [("trial", n) for n in range(1, len(trials) + 1)]
    assert trials[0, 0] == 16  # the page's K is the first guess
    assert reply["bytes"] in trials[:, 1]
    assert reply["message"].startswith(f"target met with {reply['n_colors']} colours: {reply['bytes']:,} bytes")
    decoded = np.asarray(Image.open(io.BytesIO(reply["png"].tobytes())).convert("RGBA"))
    np.testing.assert_array_equal(decoded.reshape(-1, 4), reply["palette"].reshape(-1, 4)[reply["indices"]])


def test_compress_says_by_how_much_a_target_is_missed():
    image = gradient_rgba()
    reply = web.compress(image.tobytes(), 64, 48, max_kb=0.05)  # 51 bytes: less than any PNG
    assert reply["met"] is False and reply["n_colors"] == 1
    over = reply["bytes"] - 51
    assert reply["message"] == (f"target missed with 1 colour: {reply['bytes']:,} bytes, {over:,} over the 51 asked "
                                "for: this is the smallest output found")
    quality = web.compress(image.tobytes(), 64, 48, min_quality=60, dither=0)
    assert quality["met"] is True and quality["ssimulacra2"] >= 60



@pytest.mark.parametrize("transparent", [False, True])
def test_compress_reports_the_score_the_score_request_gives(transparent):
    image = gradient_rgba()
    if transparent:
        image[:10, :20, 3] = 0
    for targets in ({"min_quality": 30}, {"max_kb": 1.0}, {}):
        reply = web.compress(image.tobytes(), 64, 48, **targets)
        scored = web.score(image.tobytes(), reply["indices"].tobytes(), reply["palette"].tobytes(), 64, 48)
        assert reply["ssimulacra2"] == pytest.approx(scored["ssimulacra2"], abs=1e-9), targets

@pytest.mark.parametrize(("targets", "message"), [
    ({"max_kb": 0}, "the size target must be a number of KB above 0, got 0"),
    ({"max_kb": -5}, "the size target must be a number of KB above 0, got -5"),
    ({"max_kb": float("inf")}, "the size target must be a number of KB above 0, got inf"),
    ({"max_kb": "200"}, "the size target must be a number of KB above 0, got '200'"),
    ({"max_kb": True}, "the size target must be a number of KB above 0, got True"),
    ({"min_quality": 101}, "the quality target must be a SSIMULACRA2 score up to 100 (identical), got 101"),
    ({"max_kb": 10, "n_clusters": 4}, "unknown option 'n_clusters'"),
])
def test_compress_refuses_bad_targets_saying_what_is_accepted(targets, message):
    reply = web.call(_function="compress", pixels=rgba_image().tobytes(), width=30, height=20, **targets)
    assert reply["error"]["name"] == "ValueError"
    assert reply["error"]["message"].startswith(message)

def test_png_parts_pieces_and_finish_make_the_encode_png_file(monkeypatch):
    """The worker's path for a big image: parts, each piece deflated on its own (here or in the
    helper worker), joined: the same file as encode_png."""
    monkeypatch.setattr(images, "PNG_TRIAL_MAX_PIXELS", 20_000)
    monkeypatch.setattr(images, "DEFLATE_PIECE", 1 << 13)
    rng = np.random.default_rng(4)
    width, height = 310, 205
    indices = rng.integers(0, 12, width * height, dtype=np.uint8)
    indices[: width * 50] = 3  # runs, so pieces reach back into the window
    palette = np.column_stack([rng.integers(0, 256, (12, 3)), np.full(12, 255)]).astype(np.uint8).reshape(-1)
    parts = web.png_parts(indices.tobytes(), palette.tobytes(), width, height)
    scanlines, starts = parts["scanlines"], [int(start) for start in parts["pieces"]]
    assert starts == list(range(0, scanlines.size, images.DEFLATE_PIECE)) and len(starts) > 3
    pieces = []
    half = len(starts) // 2
    for start, stop in zip(starts[:half], starts[1 : half + 1]):  # the worker's half, one at a time
        before = max(0, start - images.DEFLATE_PIECE_WINDOW)
        reply = web.call("deflate_pieces", data=scanlines[before:stop].tobytes(), offset=before,
                         starts=np.array([start], dtype=np.int32).tobytes(), total=scanlines.size)
        pieces.append(reply["result"]["deflated"].tobytes())
    # The helper's half in one request, from its end, each piece reported as it is made.
    offset = max(0, starts[half] - images.DEFLATE_PIECE_WINDOW)
    reported = {}
    reply = web.call("deflate_pieces", data=scanlines[offset:].tobytes(), offset=offset,
                     starts=np.array(starts[half:], dtype=np.int32).tobytes(), total=scanlines.size,
                     progress=lambda i, deflated: reported.setdefault(i, deflated.tobytes()))
    assert list(reported) == list(range(len(starts) - half))[::-1]  # the last first
    assert reply["result"]["sizes"].tolist() == [len(reported[i]) for i in sorted(reported)]
    pieces += [reported[i] for i in sorted(reported)]
    finished = web.finish_png(parts["head"].tobytes(), b"".join(pieces), parts["adler32"])
    whole = web.encode_png(indices.tobytes(), palette.tobytes(), width, height)
    assert finished["png"].tobytes() == whole["png"].tobytes() and finished["bytes"] == whole["bytes"]


def test_expect_says_whether_a_photo_needs_the_helper():
    assert web.expect(4000, 3000) == {"helper": True}
    assert web.expect(2000, 2000) == {"helper": False}  # 4 MP: its PNG tries several layouts, whole
    assert web.expect(2001, 2000) == {"helper": True}
    reply = web.call("expect", width=0, height=3000)
    assert "width" in reply["error"]["message"]


def test_png_parts_gives_a_small_image_whole():
    rng = np.random.default_rng(5)
    indices = rng.integers(0, 4, 60 * 40, dtype=np.uint8).tobytes()
    palette = np.column_stack([rng.integers(0, 256, (4, 3)), np.full(4, 255)]).astype(np.uint8).tobytes()
    parts = web.png_parts(indices, palette, 60, 40)
    assert set(parts) == {"png", "bytes", "seconds"}
    assert parts["png"].tobytes() == web.encode_png(indices, palette, 60, 40)["png"].tobytes()


def test_png_parts_gives_a_big_image_of_one_piece_whole(monkeypatch):
    monkeypatch.setattr(images, "PNG_TRIAL_MAX_PIXELS", 1_000)
    rng = np.random.default_rng(6)
    indices = rng.integers(0, 4, 80 * 50, dtype=np.uint8).tobytes()
    palette = np.column_stack([rng.integers(0, 256, (4, 3)), np.full(4, 255)]).astype(np.uint8).tobytes()
    parts = web.png_parts(indices, palette, 80, 50)
    assert set(parts) == {"png", "bytes", "seconds"}  # 1,050 bytes of scanlines: one piece
    assert parts["png"].tobytes() == web.encode_png(indices, palette, 80, 50)["png"].tobytes()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"offset": -1, "starts": [0], "total": 5}, "offset"),
    ({"offset": 0, "starts": [0], "total": 2**20, "size": (1 << 19) + 1}, "each 1 to 524288 bytes"),
    ({"offset": 10, "starts": [40000], "total": 40005}, "data must start 32768 bytes before the first piece"),
    ({"offset": 2**70, "starts": [0], "total": 5}, "total must be at most"),
    ({"offset": 0, "starts": [0, 0], "total": 5}, "the pieces must follow one another"),
])
def test_deflate_pieces_refuses_what_would_not_make_encode_pngs_bytes(kwargs, message):
    starts = np.array(kwargs.pop("starts"), dtype=np.int32).tobytes()
    data = bytes(kwargs.pop("size", kwargs["total"] - min(max(kwargs["offset"], 0), kwargs["total"])))
    reply = web.call("deflate_pieces", data=data, starts=starts, **kwargs)
    assert message in reply["error"]["message"]


def test_finish_png_refuses_what_is_not_a_png_head():
    reply = web.call("finish_png", head=b"GIF89a..", deflated=b"", adler32=1)
    assert "start of a PNG file" in reply["error"]["message"]
    reply = web.call("finish_png", head=b"\x89PNG\r\n\x1a\n", deflated=b"", adler32=2**32)
    assert "32-bit checksum" in reply["error"]["message"]


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


def test_warm_up_commits_memory_in_steps_then_frees_it_and_fits_growing_images(monkeypatch):
    monkeypatch.setattr(web, "WARM_UP_MEGABYTES", 3 * web._WARM_UP_BLOCK_MEGABYTES)
    replies = [web.call("warm_up", step=step) for step in range(3)]
    assert replies == [{"result": {"done": False}}] * 3
    assert len(web._warm_up_blocks) == 3
    assert all(block.size == web._WARM_UP_BLOCK_MEGABYTES << 20 for block in web._warm_up_blocks)
    seen = []
    real = web.quantize_image
    monkeypatch.setattr(web, "quantize_image", lambda image, n_colors, **kw: seen.append(
        (image.shape, n_colors, kw, real(image, n_colors, **kw))))
    fits = [web.call("warm_up", step=3 + i) for i in range(len(web.WARM_UP_FITS))]
    assert web._warm_up_blocks == []
    assert fits == [{"result": {"done": False}}] * (len(web.WARM_UP_FITS) - 1) + [{"result": {"done": True}}]
    # One small fit a step, K-means only (no dithering, whose tables are big), on images that grow, each
    # with more colours than K so that the whole fit runs.
    assert [shape[:2] for shape, *_ in seen] == list(web.WARM_UP_FITS)
    assert all(n_colors == 16 and kw["dither"] == 0 and result.n_colors == 16 and result.n_iter > 0
               for _shape, n_colors, kw, result in seen)
    assert [shape[0] * shape[1] for shape, *_ in seen] == sorted(shape[0] * shape[1] for shape, *_ in seen)
    assert max(shape[0] * shape[1] for shape, *_ in seen) <= 1 << 15  # small: each step is short


def test_a_request_during_the_warm_up_gets_the_memory_it_committed(monkeypatch):
    monkeypatch.setattr(web, "WARM_UP_MEGABYTES", 4 * web._WARM_UP_BLOCK_MEGABYTES)
    for step in range(2):
        web.call("warm_up", step=step)
    assert len(web._warm_up_blocks) == 2
    pixels = np.full(6 * 4 * 4, 200, dtype=np.uint8)
    reply = web.call("quantize", pixels=pixels, width=6, height=4, n_colors=2)
    assert "result" in reply and web._warm_up_blocks == []  # freed before the request ran
    # The warm-up then goes on where it was: it commits the blocks it had not, and frees them all.
    assert [web.call("warm_up", step=step)["result"]["done"] for step in (2, 3)] == [False, False]
    assert len(web._warm_up_blocks) == 2
    web.call("warm_up", step=4)
    assert web._warm_up_blocks == []


# -- the explorer's newer requests -----------------------------------------------------------

def _three_d(n=120, seed=3):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 0.6, size=(n // 3, 3)) for c in ([0, 0, 0], [4, 1, 0], [1, 4, 2])])
    return web.points_dataset(X.tobytes(), 3)


@pytest.mark.parametrize("seed, k", [(0, 1), (0, 3), (7, 5), (11, 8), (2, 20)])
def test_seeding_shows_the_kmeans_plusplus_centroids(seed, k):
    data = web.sample_points("unequal", 200, 1)
    X = data["points"].reshape(-1, 2)
    reply = web.seeding(data["points"], 2, k, seed=seed, projection=data["projection"])
    centers, indices = kmeans_plusplus(X, k, seed=seed)
    assert reply["indices"].dtype == np.int32 and reply["indices"].tolist() == indices.tolist()
    np.testing.assert_array_equal(reply["centroids"], centers.reshape(-1))
    init = web.init_centroids(data["points"], 2, k, "k-means++", seed, projection=data["projection"])
    np.testing.assert_array_equal(reply["centroids"], init["centroids"])
    np.testing.assert_array_equal(reply["centroids_2d"], init["centroids_2d"])

    n_trials = reply["n_trials"]
    assert n_trials == 2 + int(np.log(k))
    candidates = reply["candidates"].reshape(k, n_trials)
    weights = reply["weights"].reshape(k, X.shape[0])
    assert candidates.dtype == np.int32 and weights.dtype == np.float64
    assert candidates[0].tolist() == [indices[0]] + [-1] * (n_trials - 1)
    np.testing.assert_array_equal(weights[0], 1.0)
    for c in range(1, k):
        assert indices[c] in candidates[c] and (candidates[c] >= 0).all()
        # Row c: each point's squared distance to its nearest earlier centroid.
        nearest = ((X[:, None, :] - X[indices[:c]][None, :, :]) ** 2).sum(axis=2).min(axis=1)
        np.testing.assert_allclose(weights[c], nearest, rtol=1e-12, atol=1e-12)
        assert (weights[c][candidates[c]] > 0).all()  # a drawn row is never an earlier centroid


def test_watching_the_seeding_changes_nothing():
    X = np.random.default_rng(0).normal(size=(500, 3))
    calls = []
    watched = kmeans_plusplus(X, 9, seed=4, on_center=lambda *args: calls.append(args))
    plain = kmeans_plusplus(X, 9, seed=4)
    for a, b in zip(watched, plain):
        np.testing.assert_array_equal(a, b)
    assert [call[0] for call in calls] == list(range(9))
    assert [call[1] for call in calls] == plain[1].tolist()


def test_seeding_refuses_a_reply_too_big(monkeypatch):
    monkeypatch.setattr(web, "SEEDING_MAX_WEIGHTS", 100)
    data = web.sample_points("blobs", 60, 0)
    with pytest.raises(ValueError, match=r"K=2 centroids among 60 points needs 120 values; the limit is 100"):
        web.seeding(data["points"], 2, 2)


def _half_steps(points, n_features, centroids, projection=None, labels_as=bytes):
    """Alternate assign and update until assign says converged: the centroids after each update, the last assign."""
    trail, labels = [], None
    while True:
        assigned = web.assign(points, n_features, centroids, labels)
        if assigned["converged"]:
            return trail, assigned
        labels = labels_as(assigned["labels"].tobytes())
        updated = web.update(points, n_features, centroids, labels, projection)
        centroids = updated["centroids"]
        trail.append(updated)
        assert len(trail) < 100


@pytest.mark.parametrize("init, seed, labels_as", [("random", 5, bytes), ("random", 0, memoryview),
                                                   ("k-means++", 3, bytes)])
def test_assign_and_update_reproduce_run_kmeans(init, seed, labels_as):
    data = web.sample_points("unequal", 300, 2)
    X = data["points"].reshape(-1, 2)
    start = web.init_centroids(data["points"], 2, 4, init, seed)["centroids"]
    centroids, idx, history = run_kmeans(X, start.reshape(4, 2), max_iters=300)
    trail, last = _half_steps(data["points"], 2, start, data["projection"], labels_as)
    # One update per round of run_kmeans, bit for bit, and converged where it breaks.
    assert len(trail) == len(history) - 1
    for updated, expected in zip(trail, history[1:]):
        np.testing.assert_array_equal(updated["centroids"].reshape(4, 2), expected)
    np.testing.assert_array_equal(last["labels"], idx)
    assert last["changed"] == 0 and not last["changed_mask"].any()
    assert last["inertia"] == pytest.approx(((X - centroids[idx]) ** 2).sum(), rel=1e-12)
    assert trail[-1]["inertia"] == last["inertia"]
    assert trail[-1]["moved"] > 0


def test_assign_and_update_in_three_dimensions():
    data = _three_d()
    X = data["points"].reshape(-1, 3)
    start = web.init_centroids(data["points"], 3, 3, "random", 1)["centroids"]
    _c, _idx, history = run_kmeans(X, start.reshape(3, 3), max_iters=300)
    trail, _last = _half_steps(data["points"], 3, start, data["projection"])
    np.testing.assert_array_equal(trail[-1]["centroids"].reshape(3, 3), history[-1])
    assert trail[-1]["centroids_2d"].shape == (6,)


def test_assign_reports_what_changed():
    data = web.sample_points("blobs", 300, 0)
    X = data["points"].reshape(-1, 2)
    centroids = np.array([[2.0, 5.0], [6.0, 3.0], [3.0, 1.0]])
    first = web.assign(data["points"], 2, centroids.tobytes())
    assert first["labels"].dtype == np.int32 and first["changed_mask"].dtype == np.uint8
    assert first["changed"] == 300 and first["changed_mask"].all() and not first["converged"]
    assert first["inertia"] == pytest.approx(((X - centroids[first["labels"]]) ** 2).sum())
    previous = first["labels"].copy()
    previous[:7] = (previous[:7] + 1) % 3
    again = web.assign(data["points"], 2, centroids.tobytes(), previous.tobytes())
    assert again["changed"] == 7 and again["changed_mask"].tolist() == [1] * 7 + [0] * 293
    assert not again["converged"]


def test_update_moves_centroids_to_the_means():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [10.0, 4.0]])
    centroids = np.array([[1.0, 1.0], [9.0, 2.0], [50.0, 50.0]])  # the third gets no points
    labels = np.array([0, 0, 1, 1], dtype=np.int32)
    reply = web.update(X.tobytes(), 2, centroids.tobytes(), labels.tobytes())
    np.testing.assert_array_equal(reply["centroids"].reshape(3, 2), [[1, 0], [10, 2], [50, 50]])
    assert reply["moved"] == pytest.approx(1.0)
    assert reply["inertia"] == pytest.approx(1 + 1 + 4 + 4)
    assert "centroids_2d" not in reply  # no projection given


@pytest.mark.parametrize(
    "labels, message",
    [(None, r"the labels are missing"),
     (np.zeros(3, np.int32).tobytes(), r"expected one int32 label per point \(4\), got 12 bytes"),
     (np.array([0, 1, 2, 1], np.int32).tobytes(), r"a label is outside 0 to 1: each names one of the 2 centroids"),
     (np.array([0, -1, 0, 1], np.int32).tobytes(), r"a label is outside 0 to 1")],
    ids=["missing", "too-short", "too-big", "negative"],
)
def test_labels_are_checked(labels, message):
    X = np.arange(8.0).reshape(4, 2)
    centroids = np.array([[0.0, 0.0], [5.0, 5.0]])
    with pytest.raises(ValueError, match=message):
        web.update(X.tobytes(), 2, centroids.tobytes(), labels)
    if labels is not None:
        with pytest.raises(ValueError, match=message):
            web.assign(X.tobytes(), 2, centroids.tobytes(), labels)
        with pytest.raises(ValueError, match=message):
            web.figure_png(X.tobytes(), 2, labels, centroids.tobytes(), np.array([0, 0, 1, 0, 0, 1.0]), 2)


def test_half_steps_refuse_bad_centroids():
    X = np.arange(8.0).reshape(4, 2).tobytes()
    with pytest.raises(ValueError, match=r"there are no centroids to step from"):
        web.assign(X, 2, b"")
    with pytest.raises(ValueError, match=r"a centroid contains NaN or infinity \(first at row 0, column 0: nan\)"):
        web.update(X, 2, np.array([np.nan, 0.0]).tobytes(), np.zeros(4, np.int32).tobytes())


@pytest.mark.parametrize("name", sorted(web._SOURCES))
def test_source_is_the_shipped_function_with_its_marked_lines(name):
    import importlib
    import inspect

    module_name, markers = web._SOURCES[name]
    function = getattr(importlib.import_module(f"kmeans.{module_name}"), name)
    reply = web.call("source", name=name)["result"]
    assert reply["name"] == name and reply["module"] == f"kmeans/{module_name}.py"
    assert reply["source"] == inspect.getsource(function)
    assert reply["source"].startswith(f"def {name}(")
    file_lines = Path(inspect.getsourcefile(function)).read_text().splitlines()
    assert file_lines[reply["first_line"] - 1].startswith(f"def {name}(")
    assert isinstance(reply["highlight"], list) and reply["highlight"] == sorted(reply["highlight"])
    lines = reply["source"].splitlines()
    highlighted = [lines[number - 1] for number in reply["highlight"]]
    for marker in markers:  # every marker is still in the source, on a highlighted line
        assert any(marker in line for line in highlighted), marker
    assert all(any(marker in line for marker in markers) for line in highlighted)


def test_source_highlights_the_lines_that_do_the_work():
    lines = {name: [line.strip() for line in web.source(name)["source"].splitlines()] for name in web._SOURCES}
    marked = {name: [lines[name][n - 1] for n in web.source(name)["highlight"]] for name in web._SOURCES}
    assert marked["find_closest_centroids"] == [
        "squared_distances = (differences**2).sum(axis=2)  # shape (m, k)", "return squared_distances.argmin(axis=1)"]
    assert marked["compute_centroids"] == [
        "members = X[idx == j]", "centroids[j] = members.mean(axis=0) if len(members) else fallback[j]"]
    assert len(marked["greedy_kmeans_plusplus"]) == 3


def test_source_refuses_other_names_and_notices_a_lost_marker(monkeypatch):
    with pytest.raises(ValueError, match=r"no source to show for 'run_kmeans'; the page may ask for "
                                         r"find_closest_centroids, compute_centroids, greedy_kmeans_plusplus"):
        web.source("run_kmeans")
    monkeypatch.setitem(web._SOURCES, "compute_centroids", ("steps", ("members = X[idx == j]", "np.median(")))
    with pytest.raises(RuntimeError, match=r"'np.median\(' is no longer in the source of compute_centroids"):
        web.source("compute_centroids")


@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_restarts_are_runs_of_run_kmeans(init):
    data = web.sample_points("unequal", 200, 3)
    X = data["points"].reshape(-1, 2)
    reply = web.restarts(data["points"], 2, 4, init, seed=10, n_runs=6, max_iter=50)
    assert reply["seeds"].tolist() == list(range(10, 16))
    assert reply["inertias"].dtype == np.float64 and reply["n_iter"].dtype == np.int32
    for run, seed in enumerate(range(10, 16)):
        start = web.init_centroids(data["points"], 2, 4, init, seed)["centroids"].reshape(4, 2)
        centroids, idx, history = run_kmeans(X, start, max_iters=50)
        assert reply["inertias"][run] == ((X - centroids[idx]) ** 2).sum()
        assert reply["n_iter"][run] == len(history) - 1
    assert reply["best"] == int(np.argmin(reply["inertias"]))
    assert reply["inertias"][reply["best"]] == reply["inertias"].min()


def test_restarts_take_seeds_up_to_the_last_one():
    data = web.sample_points("blobs", 30, 0)
    reply = web.restarts(data["points"], 2, 3, seed=2**32 - 2, n_runs=2)
    assert reply["seeds"].tolist() == [2**32 - 2, 2**32 - 1]


@pytest.mark.parametrize(
    "changes, message",
    [({"init": "click"}, r"^restarts need a random initialisation; choose 'random' or 'k-means\+\+'$"),
     ({"init": "best"}, r"Unknown init 'best'"),
     ({"n_runs": 0}, r"n_runs must be a whole number of at least 1, got 0"),
     ({"n_runs": 101}, r"n_runs=101 is out of range: use 1 to 100"),
     ({"max_iter": 10_001}, r"max_iter=10001 is out of range: use 1 to 10000"),
     ({"seed": 2**32}, r"seed=4294967296 is out of range: use 0 to 4294967295"),
     ({"seed": 2**32 - 5, "n_runs": 10},
      r"10 runs from seed 4294967291 would need seeds up to 4294967300; seeds go up to 4294967295, "
      r"so start at 4294967286 at most"),
     ({"k": 31}, r"K=31 is more than the data has points")],
)
def test_restarts_refuse_bad_requests(changes, message):
    data = web.sample_points("blobs", 30, 0)
    with pytest.raises(ValueError, match=message):
        web.restarts(data["points"], 2, **{"k": 3, **changes})


def test_elbow_has_the_silhouette_of_each_fit():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    data = web.sample_points("blobs", 300, 0)
    X = data["points"].reshape(-1, 2)
    reply = web.elbow(data["points"], 2, 8, 4)
    assert reply["silhouette_k"].dtype == np.int32 and reply["silhouette_k"].tolist() == list(range(2, 9))
    assert reply["silhouette_sample"] == 300
    for k, value in zip(reply["silhouette_k"], reply["silhouette"]):
        labels = KMeans(int(k), random_state=4).fit(X).labels_
        assert value == pytest.approx(sklearn_metrics.silhouette_score(X, labels), rel=0, abs=1e-9)
    assert int(reply["silhouette_k"][np.argmax(reply["silhouette"])]) == 3  # the blobs' own K


def test_elbow_silhouette_stops_at_n_points_minus_one_and_samples_big_data(monkeypatch):
    few = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]])
    reply = web.elbow(few.tobytes(), 2, 10, 0)
    assert reply["k"].tolist() == [1, 2, 3, 4] and reply["silhouette_k"].tolist() == [2, 3]
    monkeypatch.setattr(web, "SILHOUETTE_MAX_POINTS", 100)
    data = web.sample_points("blobs", 300, 0)
    X = data["points"].reshape(-1, 2)
    reply = web.elbow(data["points"], 2, 4, 6)
    assert reply["silhouette_sample"] == 100
    for k, value in zip(reply["silhouette_k"], reply["silhouette"]):
        labels = KMeans(int(k), random_state=6).fit(X).labels_
        assert value == silhouette_score(X, labels, sample_size=100, seed=6)


def test_points_dataset_is_the_dataset_of_the_points():
    data = web.sample_points("blobs", 300, 0)
    again = web.points_dataset(data["points"], 2)
    assert set(again) == set(data) and again["truth"] is None
    for key in ("points", "projection", "points_2d"):
        np.testing.assert_array_equal(again[key], data[key])
    assert again["n_points"] == 300 and again["n_features"] == 2 and again["explained"] == 1.0
    wide = _three_d()
    assert wide["n_features"] == 3 and wide["points_2d"].shape == (240,)


def test_standardise_gives_every_column_mean_0_and_spread_1():
    X = np.column_stack([np.linspace(0, 1000, 50), np.linspace(-1, 1, 50) ** 3, np.full(50, 0.1)])
    reply = web.points_dataset(X.tobytes(), 3, standardise=True)
    Z = reply["points"].reshape(-1, 3)
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1, rtol=1e-12)
    assert (Z[:, 2] == 0).all()  # a constant column stays 0, not rounding noise
    np.testing.assert_array_equal(web.points_dataset(X.tobytes(), 3)["points"], X.reshape(-1))


def test_sample_and_load_points_standardise_too():
    data = web.sample_points("anisotropic", 200, 1, standardise=True)
    X, truth = make_points("anisotropic", n_points=200, seed=1)
    np.testing.assert_allclose(data["points"].reshape(-1, 2), (X - X.mean(axis=0)) / X.std(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(data["truth"], truth)
    loaded = web.load_points(b"x,y\n1,10\n2,20\n3,30\n", "p.csv", standardise=True)
    z = np.sqrt(1.5)  # (1 - 2) / std([1, 2, 3])
    np.testing.assert_allclose(loaded["points"].reshape(-1, 2), [[-z, -z], [0, 0], [z, z]], rtol=1e-12)


def test_one_point_of_many_features_can_be_drawn():
    # Regression: a single row of 3 columns had no second principal axis, so its projection was refused.
    reply = web.load_points(b"1,2,3\n", "one.csv")
    assert reply["projection"].shape == (9,) and reply["points_2d"].tolist() == [0.0, 0.0]
    one = web.points_dataset(np.array([1.0, 2.0, 3.0]).tobytes(), 3, standardise=True)
    assert one["points"].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "args, message",
    [((b"", 2**70), r"there are no points; the data needs at least one"),
     ((np.arange(4.0).tobytes(), 1), r"the points need at least 2 features \(columns\) to be drawn; got 1"),
     ((np.array([1.0, np.inf]).tobytes(), 2), r"the data contains NaN or infinity"),
     ((np.arange(4.0).tobytes(), 2, "yes"), r"standardise must be true or false, got 'yes'")],
    ids=["empty", "one-feature", "infinite", "standardise-not-a-flag"],
)
def test_points_dataset_refuses_bad_points(args, message):
    with pytest.raises(ValueError, match=message):
        web.points_dataset(*args)
