"""quantize_image: palette, indices, alpha, warnings, validation and error statistics."""

from __future__ import annotations

import functools
import math
import warnings

import kmeans._coarse_to_fine
import kmeans._distinct
import numpy as np
import pytest
from kmeans import KMeans, QuantizedImage
from kmeans import quantize_image as quantize_with_defaults

# These tests check the K-means engine, so they run plain K-means: RGB, no dithering. The
# defaults (OKLab, dithered) are tested in test_dither.py, test_options.py and the e2e tests.
quantize_image = functools.partial(quantize_with_defaults, colour_space="rgb", dither=0.0)


def _n_unique_colours(image):
    return np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0]


def _assert_nearest_palette_colour(image, result):
    """Every visible pixel got a palette colour at the smallest possible distance."""
    channels = min(image.shape[2], result.palette.shape[1])  # RGBA only when both have alpha
    flat = image.reshape(-1, image.shape[2])[:, :channels].astype(np.float64)
    palette = result.palette[:, :channels].astype(np.float64)
    indices = result.indices.reshape(-1)
    visible = np.ones(flat.shape[0], bool) if image.shape[2] == 3 else image[..., 3].reshape(-1) > 0
    candidates = np.arange(palette.shape[0])
    if image.shape[2] == 4 and not visible.all():
        candidates = candidates[:-1]  # the last entry is kept for fully transparent pixels
    distances = ((flat[visible, None, :] - palette[None, candidates, :]) ** 2).sum(axis=2)
    chosen = distances[np.arange(distances.shape[0]), indices[visible]]
    np.testing.assert_array_equal(chosen, distances.min(axis=1))


# -- the basic contract on a real photo -----------------------------------------------------

@pytest.mark.parametrize("n_colors", [1, 2, 16, 64, 256], ids=lambda k: f"k={k}")
def test_photo_palette_shape_dtype_and_indices(small_photo, n_colors):
    result = quantize_image(small_photo, n_colors, seed=0)
    assert isinstance(result, QuantizedImage)
    assert result.palette.dtype == np.uint8
    assert result.palette.shape[1] == 3
    assert 1 <= result.n_colors <= n_colors
    assert result.indices.shape == small_photo.shape[:2]
    assert result.indices.dtype == np.uint8
    assert result.indices.max() < result.n_colors
    # Every palette entry is used (unused ones are dropped).
    assert np.unique(result.indices).size == result.n_colors
    out = result.to_array()
    assert out.shape == small_photo.shape
    assert out.dtype == np.uint8
    assert _n_unique_colours(out) <= n_colors


def test_photo_sixteen_colours_quality(small_photo):
    result = quantize_image(small_photo, 16, seed=0)
    assert result.n_colors == 16
    assert result.n_iter >= 1
    assert 20 < result.psnr < 50


def test_full_photo(china):
    # 273,280 pixels and about 97,000 distinct colours: the large-image code paths.
    result = quantize_image(china, 16, seed=0)
    assert result.n_colors == 16
    assert result.indices.shape == china.shape[:2]
    out = result.to_array()
    assert _n_unique_colours(out) == 16
    assert result.sse == pytest.approx(float(((china.astype(np.float64) - out) ** 2).sum()),
                                       rel=1e-12)
    assert 25 < result.psnr < 40
    _assert_nearest_palette_colour(china[::4, ::4], QuantizedImage(
        result.palette, result.indices[::4, ::4], result.n_iter, 0.0))


def test_palette_sorted_by_use(small_photo):
    result = quantize_image(small_photo, 16, seed=0)
    usage = np.bincount(result.indices.reshape(-1), minlength=result.n_colors)
    assert (np.diff(usage) <= 0).all()


def test_every_pixel_gets_its_nearest_palette_colour(small_photo):
    result = quantize_image(small_photo, 16, seed=0)
    _assert_nearest_palette_colour(small_photo, result)


def test_same_seed_gives_identical_output(small_photo):
    first = quantize_image(small_photo, 16, seed=3)
    second = quantize_image(small_photo, 16, seed=3)
    np.testing.assert_array_equal(first.palette, second.palette)
    np.testing.assert_array_equal(first.indices, second.indices)
    assert (first.n_iter, first.sse) == (second.n_iter, second.sse)
    other = quantize_image(small_photo, 16, seed=4)
    assert not np.array_equal(first.palette, other.palette)


def test_fit_on_distinct_colours_equals_fit_on_all_pixels(small_photo):
    # K-means on the distinct colours weighted by count is K-means on the pixels:
    # from the same initial centers (and tol=0, so stopping does not depend on
    # the variance of either form) the centers agree.
    seen = []
    quantize_image(small_photo, 8, seed=0, tol=0, n_init=1,
                   callback=lambda n_iter, centers, inertia: seen.append((n_iter, centers.copy())))
    init, final = seen[0][1], seen[-1][1]
    assert seen[0][0] == 0
    pixels = small_photo.reshape(-1, 3).astype(np.float64)
    on_pixels = KMeans(8, init=init, tol=0).fit(pixels)
    np.testing.assert_allclose(on_pixels.cluster_centers_, final, rtol=0, atol=1e-9)
    assert on_pixels.n_iter_ == seen[-1][0]


def test_palette_is_the_rounded_centers(small_photo):
    seen = []
    result = quantize_image(small_photo, 8, seed=0, n_init=1,
                            callback=lambda n_iter, centers, inertia: seen.append(centers.copy()))
    expected = np.unique(np.clip(np.rint(seen[-1]), 0, 255).astype(np.uint8), axis=0)
    np.testing.assert_array_equal(np.unique(result.palette, axis=0), expected)


def test_callback_true_stops_early(small_photo):
    result = quantize_image(small_photo, 16, seed=0, n_init=1, callback=lambda n_iter, c, i: n_iter >= 2)
    assert result.n_iter == 2


def test_n_init_keeps_the_best(small_photo):
    one = quantize_image(small_photo, 8, seed=0, n_init=1)
    five = quantize_image(small_photo, 8, seed=0, n_init=5)
    # The best of five starts (the first of which is the single start) fits at
    # least as well, up to the rounding of the palette.
    assert five.sse <= one.sse * 1.02


@pytest.mark.parametrize("threshold", [1, 100], ids=["all-images", "tiny-threshold"])
def test_counting_path_equals_unique_path(small_photo, monkeypatch, threshold):
    expected = quantize_image(small_photo, 16, seed=0)
    monkeypatch.setattr(kmeans._distinct, "COUNTING_MIN_PIXELS", threshold)
    assert small_photo.shape[0] * small_photo.shape[1] >= threshold
    got = quantize_image(small_photo, 16, seed=0)
    np.testing.assert_array_equal(got.palette, expected.palette)
    np.testing.assert_array_equal(got.indices, expected.indices)
    assert (got.n_iter, got.sse) == (expected.n_iter, expected.sse)


@pytest.mark.parametrize("threshold, strip", [(1, 1 << 22), (1, 777), (1 << 40, 1 << 22)],
                         ids=["counting", "counting-in-strips", "sorting"])
@pytest.mark.parametrize("weighted", [False, True], ids=["counts", "weights"])
def test_distinct_colours_match_np_unique(monkeypatch, threshold, strip, weighted):
    monkeypatch.setattr(kmeans._distinct, "COUNTING_MIN_PIXELS", threshold)
    monkeypatch.setattr(kmeans._distinct, "STRIP_PIXELS", strip)
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 1 << 24, size=5000).astype(np.intp)
    keys[:2000] = keys[2000:4000]  # repeats
    keys[-1] = (1 << 24) - 1  # the largest key
    pixels = np.stack([(keys >> (8 * c)) & 0xFF for c in range(3)] + [np.full(keys.size, 255)], axis=1)
    pixel_weights = rng.random(keys.size) + 0.1 if weighted else None
    distinct = kmeans._distinct.count_colours(pixels.astype(np.uint8), 3, pixel_weights)
    expected, inverse, expected_counts = np.unique(keys, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(distinct.keys, expected)
    np.testing.assert_array_equal(distinct.colours, pixels[:, :3][np.unique(keys, return_index=True)[1]])
    if weighted:
        # Added in pixel order, however many strips: the same sums as one bincount, to the bit.
        np.testing.assert_array_equal(distinct.weights, np.bincount(inverse, weights=pixel_weights))
    else:
        np.testing.assert_array_equal(distinct.weights, expected_counts)
    values = (np.arange(expected.size) % 251).astype(np.uint8)
    np.testing.assert_array_equal(distinct.lookup(values), values[inverse])


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 1001])
def test_colour_keys_of_rgb_rows_are_their_packed_channels(rows):
    # Contiguous RGB rows are read 4 bytes every 3 (the next row's red masked off), the last row on
    # its own; strided rows and slices of a bigger array must give the same keys as packing.
    rng = np.random.default_rng(rows)
    image = rng.integers(0, 256, size=(rows + 4, 3), dtype=np.uint8)
    image[-3] = 255  # a white row, so that a key that kept a neighbour's byte would show
    for pixels in (image[:rows], image[2 : rows + 2], image[-rows:] if rows else image[:0],
                   np.asfortranarray(image[:rows]), image[: 2 * rows : 2] if rows else image[:0]):
        expected = kmeans._distinct.pack([pixels[:, c] for c in range(3)])
        got = kmeans._distinct.colour_keys(pixels, 3)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == np.intp


@pytest.mark.parametrize("dither", [0.0, 0.6])
@pytest.mark.parametrize("transparent", [False, True], ids=["opaque", "transparent"])
def test_a_big_image_in_strips_gives_the_same_result(small_photo, monkeypatch, dither, transparent):
    # A 100-megapixel photo is counted, looked up and scored a strip at a time; the result
    # is the one a single pass gives, to the bit.
    image = np.dstack([small_photo, np.full(small_photo.shape[:2], 255, np.uint8)])
    if transparent:
        image[::7, ::3, 3] = 0
    monkeypatch.setattr(kmeans._distinct, "COUNTING_MIN_PIXELS", 1)
    expected = quantize_image(image, 16, seed=0, dither=dither)
    monkeypatch.setattr(kmeans._distinct, "STRIP_PIXELS", 700)  # counting, lookup and error sum
    assert image.shape[0] * image.shape[1] > 5 * 700
    got = quantize_image(image, 16, seed=0, dither=dither)
    np.testing.assert_array_equal(got.palette, expected.palette)
    np.testing.assert_array_equal(got.indices, expected.indices)
    assert (got.n_iter, got.sse) == (expected.n_iter, expected.sse)
    assert got.sse == float(((got.to_array()[..., :3].astype(np.int64) - image[..., :3]) ** 2
                             * (image[..., 3:] > 0)).sum())


def test_counting_path_with_transparency(monkeypatch):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(30, 40, 4), dtype=np.uint8)
    image[..., 3] = np.where(rng.random((30, 40)) < 0.3, 0, 255)
    expected = quantize_image(image, 8, seed=0)
    monkeypatch.setattr(kmeans._distinct, "COUNTING_MIN_PIXELS", 1)
    got = quantize_image(image, 8, seed=0)
    np.testing.assert_array_equal(got.palette, expected.palette)
    np.testing.assert_array_equal(got.indices, expected.indices)


# -- error statistics -------------------------------------------------------------------------

def test_sse_mse_psnr_match_a_direct_computation(small_photo):
    result = quantize_image(small_photo, 16, seed=0)
    difference = small_photo.astype(np.float64) - result.to_array()
    sse = float((difference**2).sum())
    assert result.sse == pytest.approx(sse, rel=1e-12)
    assert result.mse == pytest.approx(sse / small_photo.size, rel=1e-12)
    psnr = 10 * math.log10(255**2 / (sse / small_photo.size))
    assert result.psnr == pytest.approx(psnr, rel=1e-12)


def test_exact_copy_has_zero_error_and_infinite_psnr():
    image = np.zeros((4, 4, 3), np.uint8)
    image[:2] = [10, 20, 30]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exactly n_colors distinct colours: no warning
        result = quantize_image(image, 2)
    assert result.sse == 0.0
    assert result.mse == 0.0
    assert result.psnr == math.inf
    assert result.n_iter == 0
    np.testing.assert_array_equal(result.to_array(), image)


def test_hand_checked_two_colour_image():
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[:, 1:] = [250, 10, 10]
    image[0, 0] = [2, 0, 0]  # the black cluster has mean (1, 0, 0)
    result = quantize_image(image, 2)
    np.testing.assert_array_equal(result.palette, [[250, 10, 10], [1, 0, 0]])
    np.testing.assert_array_equal(result.indices, [[1, 0, 0], [1, 0, 0]])
    assert result.sse == 2.0  # (2-1)^2 + (0-1)^2


# -- few colours --------------------------------------------------------------------------------

def test_fewer_distinct_colours_than_asked_warns_and_keeps_them():
    image = np.zeros((3, 3, 3), np.uint8)
    image[0] = [255, 0, 0]  # 3 pixels
    image[1, :2] = [0, 0, 255]  # 2 pixels
    # the other 4 pixels stay black
    with pytest.warns(UserWarning, match=r"only 3 distinct colours, fewer than the 16 asked for"):
        result = quantize_image(image, 16)
    np.testing.assert_array_equal(result.palette, [[0, 0, 0], [255, 0, 0], [0, 0, 255]])
    np.testing.assert_array_equal(result.to_array(), image)
    assert result.n_iter == 0


def test_a_single_distinct_colour_is_named_in_the_singular():
    image = np.full((2, 3, 3), 40, np.uint8)
    with pytest.warns(UserWarning, match=r"^the image has only 1 distinct colour, fewer than the 8 asked for; "):
        result = quantize_image(image, 8)
    np.testing.assert_array_equal(result.palette, [[40, 40, 40]])


# -- alpha ----------------------------------------------------------------------------------

def _half_transparent_red_half_blue(seed=0):
    rng = np.random.default_rng(seed)
    image = np.zeros((20, 20, 4), np.uint8)
    image[:10, :, 0] = 255  # fully transparent pixels with a hidden, bright red colour
    image[:10, :, 3] = 0
    image[10:, :, 2] = rng.choice([150, 170, 190, 210], size=(10, 20))
    image[10:, :, 3] = 255
    return image


def test_transparent_pixels_share_one_entry_and_do_not_pull_the_palette():
    image = _half_transparent_red_half_blue()
    result = quantize_image(image, 4)
    assert result.palette.shape == (4, 4)
    np.testing.assert_array_equal(result.palette[-1], [0, 0, 0, 0])
    assert (result.indices[:10] == 3).all()
    assert (result.indices[10:] != 3).all()
    # No red in the palette: the hidden colour of invisible pixels is ignored.
    assert (result.palette[:, :2] == 0).all()
    assert ((result.palette[:3, 2] >= 150) & (result.palette[:3, 2] <= 210)).all()
    assert (result.palette[:3, 3] == 255).all()
    _assert_nearest_palette_colour(image, result)
    out = result.to_array()
    np.testing.assert_array_equal(out[:10], 0)
    # Transparent pixels count as exact in the error.
    visible = image[10:].astype(np.float64)
    assert result.sse == pytest.approx(float(((visible - out[10:]) ** 2).sum()))


def test_transparent_pixels_with_enough_colours_keep_them_all():
    image = _half_transparent_red_half_blue()
    result = quantize_image(image, 5)  # 4 blues + the transparent entry
    assert result.sse == 0.0
    np.testing.assert_array_equal(result.to_array()[10:], image[10:])


def test_partial_alpha_gives_an_rgba_palette():
    image = np.zeros((8, 8, 4), np.uint8)
    image[..., 1] = 200
    image[:4, :, 3] = 128
    image[4:, :, 3] = 255
    image[0, 0] = [9, 9, 9, 0]  # one fully transparent pixel
    result = quantize_image(image, 3)
    assert result.palette.shape == (3, 4)
    assert {tuple(c) for c in result.palette.tolist()} == {
        (0, 200, 0, 128), (0, 200, 0, 255), (0, 0, 0, 0)}
    np.testing.assert_array_equal(result.to_array()[1:], image[1:])
    np.testing.assert_array_equal(result.to_array()[0, 0], [0, 0, 0, 0])


def test_partial_alpha_quantized_photo(small_photo):
    alpha = np.tile(np.linspace(1, 255, small_photo.shape[1]).astype(np.uint8),
                    (small_photo.shape[0], 1))
    image = np.dstack([small_photo, alpha])
    result = quantize_image(image, 16, seed=0)
    assert result.palette.shape[1] == 4
    assert result.n_colors <= 16
    assert result.to_array().shape == image.shape
    assert len({int(a) for a in result.palette[:, 3]}) > 1  # alpha is part of the fit
    _assert_nearest_palette_colour(image, result)


def test_opaque_rgba_gives_an_rgb_palette(small_photo):
    image = np.dstack([small_photo, np.full(small_photo.shape[:2], 255, np.uint8)])
    result = quantize_image(image, 8, seed=0)
    expected = quantize_image(small_photo, 8, seed=0)
    np.testing.assert_array_equal(result.palette, expected.palette)
    np.testing.assert_array_equal(result.indices, expected.indices)


@pytest.mark.parametrize("n_colors", [1, 16])
def test_a_fully_transparent_image_gets_one_transparent_entry(n_colors):
    image = np.zeros((4, 5, 4), np.uint8)
    image[..., :3] = [200, 10, 10]  # hidden colours: alpha 0 everywhere
    with pytest.warns(UserWarning, match=r"fully transparent: its palette is one transparent entry"):
        result = quantize_image(image, n_colors)
    assert result.palette.tolist() == [[0, 0, 0, 0]]
    assert result.indices.shape == (4, 5) and not result.indices.any()
    assert result.sse == 0.0 and result.n_iter == 0


def test_one_colour_with_transparency_is_refused():
    image = _half_transparent_red_half_blue()
    with pytest.raises(ValueError, match=r"n_colors=1 leaves no colour.*use n_colors >= 2"):
        quantize_image(image, 1)


# -- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n_colors, match",
    [(0, r"n_colors=0 is out of range"), (257, r"n_colors=257 is out of range"),
     (-3, r"n_colors=-3 is out of range"), ("a", r"whole number from 1 to 256, got 'a'"),
     (2.5, r"whole number"), (True, r"whole number")],
    ids=["zero", "257", "negative", "string", "float", "bool"],
)
def test_bad_n_colors(n_colors, match):
    with pytest.raises(ValueError, match=match):
        quantize_image(np.zeros((2, 2, 3), np.uint8), n_colors)


@pytest.mark.parametrize(
    "image, error, match",
    [(np.zeros((2, 2, 3), np.float64), TypeError, r"dtype uint8.*got float64"),
     (np.zeros((2, 2, 3), np.uint16), TypeError, r"got uint16"),
     (np.zeros((4, 4), np.uint8), ValueError, r"shape \(height, width, 3\).*got shape \(4, 4\)"),
     (np.zeros((4, 4, 2), np.uint8), ValueError, r"got shape \(4, 4, 2\)"),
     (np.zeros((1, 4, 4, 3), np.uint8), ValueError, r"got shape \(1, 4, 4, 3\)"),
     (np.zeros((0, 4, 3), np.uint8), ValueError, r"image is empty")],
    ids=["float", "uint16", "2-D", "2-channels", "4-D", "empty"],
)
def test_bad_image(image, error, match):
    with pytest.raises(error, match=match):
        quantize_image(image, 4)


def test_bad_max_iter():
    with pytest.raises(ValueError, match=r"max_iter must be an integer >= 1"):
        quantize_image(np.zeros((2, 2, 3), np.uint8), 2, max_iter=0)


@pytest.mark.parametrize("alpha", [False, True], ids=["rgb", "rgba"])
@pytest.mark.parametrize("levels", ["coarse", "coarse+middle"])
def test_coarse_to_fine_ends_at_an_exact_fixed_point(china, monkeypatch, levels, alpha):
    # With tol=0 the fit must stop only when Lloyd's algorithm on the pixels
    # would not move: every center is the mean of the pixels nearest to it,
    # whatever the coarser levels did on the way.
    monkeypatch.setattr(kmeans._coarse_to_fine, "COARSE_MIN_COLOURS", 1000)
    monkeypatch.setattr(kmeans._coarse_to_fine, "MIDDLE_MIN_COLOURS", 1000 if levels == "coarse+middle" else 10**9)
    image = np.ascontiguousarray(china[::2, ::2])
    if alpha:  # partly transparent everywhere: the fit runs on RGBA (4 channels)
        ramp = (np.arange(image.shape[1]) * 200 // image.shape[1] + 40).astype(np.uint8)
        image = np.dstack([image, np.broadcast_to(ramp, image.shape[:2])])
    seen = []
    result = quantize_image(image, 12, seed=1, tol=0, n_init=2,
                            callback=lambda n_iter, centers, inertia: seen.append(centers.copy()))
    centers = seen[-1]
    pixels = image.reshape(-1, image.shape[2]).astype(np.float64)
    labels = ((pixels[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
    means = np.array([pixels[labels == k].mean(axis=0) for k in range(12)])
    np.testing.assert_allclose(means, centers, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(
        np.unique(result.palette, axis=0), np.unique(np.clip(np.rint(centers), 0, 255), axis=0))
    _assert_nearest_palette_colour(image, result)


@pytest.mark.parametrize("channels", [3, 4])
def test_a_coarser_histogram_summed_from_finer_bins_is_the_same_to_the_bit(china, channels):
    # Pixel counts: whole colours and weights, so every sum is exact in any order.
    pixels = china.reshape(-1, 3)
    if channels == 4:
        pixels = np.column_stack([pixels, (np.arange(pixels.shape[0]) * 7 % 256).astype(np.uint8)])
    distinct = kmeans._distinct.count_colours(pixels, channels)
    middle = kmeans._coarse_to_fine.colour_histogram(distinct.colours, distinct.weights, 6)
    direct = kmeans._coarse_to_fine.colour_histogram(distinct.colours, distinct.weights, 5)
    summed, parent_of_bin = kmeans._coarse_to_fine.coarser_histogram(middle, 6, 5)
    for field in direct._fields:
        np.testing.assert_array_equal(getattr(summed, field), getattr(direct, field), err_msg=field)
    assert direct.means.shape[0] < middle.means.shape[0]
    # Every colour's middle bin lies in its coarse bin.
    np.testing.assert_array_equal(parent_of_bin[middle.bin_of_colour], direct.bin_of_colour)


@pytest.mark.parametrize("weights", ["counts", "fractions"])
def test_the_coarse_level_is_summed_from_the_middle_one_only_for_whole_weights(china, monkeypatch, weights):
    monkeypatch.setattr(kmeans._coarse_to_fine, "COARSE_MIN_COLOURS", 1000)
    monkeypatch.setattr(kmeans._coarse_to_fine, "MIDDLE_MIN_COLOURS", 1000)
    summed = []
    coarser = kmeans._coarse_to_fine.coarser_histogram
    monkeypatch.setattr(kmeans._coarse_to_fine, "coarser_histogram",
                        lambda *args: summed.append(True) or coarser(*args))
    distinct = kmeans._distinct.count_colours(china.reshape(-1, 3), 3)
    scale = 1.0 if weights == "counts" else 0.37  # fractional sums would round in another order
    fit = kmeans._coarse_to_fine.fit_colours(distinct.colours, distinct.weights * scale, 8,
                                             rng=np.random.default_rng(0), max_iter=300, tol=1e-4, n_init=2)
    assert summed == ([True] if weights == "counts" else [])
    assert fit.centers.shape == (8, 3)


def test_progress_is_called_after_every_iteration(small_photo):
    seen = []
    result = quantize_image(small_photo, 8, seed=0, n_init=1, progress=seen.append)
    assert seen == list(range(1, result.n_iter + 1))
    # Across restarts every run reports its own iterations.
    seen.clear()
    result = quantize_image(small_photo, 8, seed=0, n_init=3, progress=seen.append)
    assert seen.count(1) == 3 and len(seen) >= result.n_iter


@pytest.mark.parametrize("layout", ["rgb", "rgba as rgb", "rgba", "rgba strided"])
def test_keys_fast_paths_equal_packing_each_channel(layout):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(1000, 4), dtype=np.uint8)
    n_channels = {"rgb": 3, "rgba as rgb": 3, "rgba": 4, "rgba strided": 3}[layout]
    if layout == "rgb":
        pixels = np.ascontiguousarray(pixels[:, :3])
    if layout == "rgba strided":
        pixels = pixels[::2]
    keys = kmeans._distinct.colour_keys(pixels, n_channels)
    expected = kmeans._distinct.pack([pixels[:, c] for c in range(n_channels)])
    np.testing.assert_array_equal(keys, expected)
    assert keys.dtype == expected.dtype


@pytest.mark.parametrize("dither", [0.0, 0.6])
def test_a_photo_quantizes_the_same_whatever_the_blocks_its_rows_in_doubt_are_settled_in(china, monkeypatch, dither):
    # A photo's million colours are settled 65,536 at a time (kmeans._bounds.SETTLE_BLOCK_ROWS); a row's
    # result never depends on the others of its block. (The default, default-space fit goes here too.)
    from kmeans import _bounds

    image = np.ascontiguousarray(china[::2, ::2])
    expected = quantize_image(image, 48, seed=1, dither=dither)
    monkeypatch.setattr(_bounds, "SETTLE_BLOCK_ROWS", 101)
    got = quantize_image(image, 48, seed=1, dither=dither)
    assert np.array_equal(got.palette, expected.palette) and np.array_equal(got.indices, expected.indices)
    assert (got.n_iter, got.sse) == (expected.n_iter, expected.sse)


def test_auto_restarts_are_three_below_128_colours_and_one_from_there(china):
    image = np.ascontiguousarray(china[::3, ::3])
    for n_colors, restarts in ((16, 3), (127, 3), (128, 1), (200, 1)):
        auto = quantize_image(image, n_colors, seed=2)
        explicit = quantize_image(image, n_colors, seed=2, n_init=restarts)
        np.testing.assert_array_equal(auto.indices, explicit.indices)
        np.testing.assert_array_equal(auto.palette, explicit.palette)
        other = quantize_image(image, n_colors, seed=2, n_init=4 - restarts)  # 1 <-> 3
        assert not np.array_equal(auto.indices, other.indices), "the restarts should change this image"


@pytest.mark.parametrize("n_init", [0, -1, 1.5, "many", True])
def test_bad_n_init(small_photo, n_init):
    with pytest.raises(ValueError, match="n_init must be an integer >= 1"):
        quantize_image(small_photo, 4, n_init=n_init)


@pytest.mark.parametrize("channels", [3, 4])
def test_expand_palette_is_palette_indexed_by_indices(channels):
    """The gather that is fast in WebAssembly (whole RGBA words, or a channel at a time) gives palette[indices]."""
    from kmeans.quantize import expand_palette

    rng = np.random.default_rng(channels)
    palette = rng.integers(0, 256, (37, channels)).astype(np.uint8)
    for indices in (rng.integers(0, 37, (23, 31)).astype(np.uint8), rng.integers(0, 37, 50), np.zeros((0, 4), np.uint8)):
        expected = palette[indices]
        for given in (palette, np.asfortranarray(palette), palette[::-1][::-1]):
            got = expand_palette(given, indices)
            assert got.dtype == np.uint8 and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)
    floats = rng.random((5, channels))  # any other palette: a channel at a time
    indices = rng.integers(0, 5, (4, 6))
    np.testing.assert_array_equal(expand_palette(floats, indices), floats[indices])
    np.testing.assert_array_equal(expand_palette(palette, np.array(5)), palette[5])  # one index
    np.testing.assert_array_equal(expand_palette(palette[:, 0], indices), palette[:, 0][indices])  # 1-D
