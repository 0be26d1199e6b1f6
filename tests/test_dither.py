"""kmeans.dither: error diffusion, and the quantizer's dithered output."""

from __future__ import annotations

import numpy as np
import pytest
from kmeans import dither, quantize_image
from kmeans.metrics import ssimulacra2


def gradient(height=48, width=160):
    """A smooth horizontal grey-blue ramp: the image that bands worst."""
    ramp = np.linspace(30, 220, width)
    image = np.empty((height, width, 3), np.uint8)
    image[...] = np.stack([ramp, ramp, np.full(width, 180.0)], axis=1).astype(np.uint8)
    return image


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_strength_zero_gives_every_pixel_its_nearest_entry(small_photo, space):
    from kmeans.colour_spaces import colour_space

    zero = quantize_image(small_photo, 16, dither=0.0, colour_space=space)
    to_fit = colour_space(space).to_fit
    pixels = to_fit(small_photo.reshape(-1, 3).astype(np.float64))
    entries = to_fit(zero.palette.astype(np.float64))
    nearest = ((pixels[:, None, :] - entries[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    np.testing.assert_array_equal(zero.indices.reshape(-1), nearest)
    assert zero.sse == ((small_photo.astype(np.int64) - zero.to_array()) ** 2).sum()


def test_the_defaults_dither_in_oklab_and_plain_kmeans_is_one_option_away(small_photo):
    default = quantize_image(small_photo, 16)
    assert default.indices.tolist() == quantize_image(small_photo, 16, dither=0.6, colour_space="oklab").indices.tolist()
    plain = quantize_image(small_photo, 16, dither=0.0, colour_space="rgb")
    assert default.indices.tolist() != plain.indices.tolist()


@pytest.mark.parametrize("n_colors", [2, 16, 64])
def test_dithered_indices_index_the_palette_and_the_sse_is_measured(small_photo, n_colors):
    result = quantize_image(small_photo, n_colors, dither=0.8)
    assert result.indices.max() < result.n_colors
    expected = ((small_photo.astype(np.int64) - result.to_array().astype(np.int64)) ** 2).sum()
    assert result.sse == expected


def test_a_flat_area_between_two_entries_dithers_to_its_mean():
    image = np.full((40, 60, 3), 100, np.uint8)
    palette = np.array([[80, 80, 80], [120, 120, 120]], np.uint8)
    indices = dither.error_diffusion(image, palette, strength=1.0)
    assert set(np.unique(indices)) == {0, 1}
    mean = palette[indices].astype(float).mean()
    assert mean == pytest.approx(100, abs=1.0)


def test_tiny_errors_are_not_diffused():
    # One level from an entry: below TINY_ERROR, so the area stays that entry, with no specks.
    image = np.full((20, 30, 3), 81, np.uint8)
    palette = np.array([[80, 80, 80], [120, 120, 120]], np.uint8)
    assert (dither.error_diffusion(image, palette, strength=1.0) == 0).all()


def test_dithering_removes_banding_on_a_gradient():
    image = gradient()
    plain = quantize_image(image, 4, dither=0.0)
    dithered = quantize_image(image, 4, dither=1.0)
    assert ssimulacra2(image, dithered.to_array()) > ssimulacra2(image, plain.to_array()) + 10
    # Averaged over columns, the dithered ramp follows the original far better.
    column_error = lambda result: np.abs(result.to_array().mean(axis=0) - image.mean(axis=0)).mean()
    assert column_error(dithered) < 0.5 * column_error(plain)


def test_edges_take_less_dithering_than_smooth_areas():
    image = gradient()
    image[:, 80:] //= 4  # a hard edge in the middle
    gain = dither.diffusion_map(image)
    assert gain[:, 78:82].max() < 0.2  # both sides of it
    assert gain[:, 10:60].min() > 0.9


def test_transparent_pixels_keep_the_transparent_entry():
    image = np.dstack([gradient(), np.full((48, 160), 255, np.uint8)])
    image[:10, :, 3] = 0
    result = quantize_image(image, 5, dither=1.0)
    transparent = result.n_colors - 1
    assert result.palette[transparent].tolist() == [0, 0, 0, 0]
    assert (result.indices[:10] == transparent).all()
    assert (result.indices[10:] != transparent).all()


def test_an_opaque_rgba_image_dithers_as_its_rgb_pixels(small_photo):
    # The page sends canvas pixels (RGBA, alpha 255): the dithering reads them in place.
    rgba = np.dstack([small_photo, np.full(small_photo.shape[:2], 255, np.uint8)])
    from_rgba, from_rgb = quantize_image(rgba, 12), quantize_image(small_photo, 12)
    np.testing.assert_array_equal(from_rgba.indices, from_rgb.indices)
    np.testing.assert_array_equal(from_rgba.palette, from_rgb.palette)
    assert from_rgba.sse == from_rgb.sse


def test_a_given_diffusion_map_is_left_as_it_was():
    image = gradient()
    gain = dither.diffusion_map(image)
    before = gain.copy()
    visible = np.ones(image.shape[:2], bool)
    visible[:5] = False
    palette = np.array([[30, 30, 180], [220, 220, 180]], np.uint8)
    dither.error_diffusion(image, palette, strength=1.0, visible=visible, gain=gain)
    np.testing.assert_array_equal(gain, before)


def test_the_same_result_every_time_and_in_every_colour_space(small_photo):
    for space in ("rgb", "oklab", "liq"):
        first = quantize_image(small_photo, 12, dither=0.7, colour_space=space)
        again = quantize_image(small_photo, 12, dither=0.7, colour_space=space)
        np.testing.assert_array_equal(first.indices, again.indices)
        assert first.indices.max() < first.n_colors


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "strong"])
def test_strength_outside_zero_to_one_is_refused(small_photo, value):
    with pytest.raises(ValueError, match=r"dither"):
        quantize_image(small_photo, 8, dither=value)


@pytest.mark.parametrize(("block_bits", "n_entries"), [(3, 16), (4, 16), (5, 16), (4, 64), (3, 256), (4, 256)])
def test_the_nearest_table_is_exact_for_known_colours_and_cell_centred_for_others(monkeypatch, block_bits, n_entries):
    # The table fills cells in blocks as targets miss; how big a block is changes only the speed, and so
    # does comparing a block's cells with only the entries that can be nearest to them (from 32 entries
    # on): every answer is the image's own colour's exact entry, or the entry nearest the cell's centre.
    from kmeans.colour_spaces import OKLAB

    monkeypatch.setattr(dither._NearestTable, "BLOCK_BITS", block_bits)
    rng = np.random.default_rng(7)
    palette_fit = OKLAB.to_fit(rng.integers(0, 256, (n_entries, 3)).astype(np.float64))

    def nearest(colours):
        distances = ((OKLAB.to_fit(colours)[:, None, :] - palette_fit[None]) ** 2).sum(axis=2)
        return distances.argmin(axis=1)

    key_of = np.array([1, 1 << 8, 1 << 16])  # a colour's 24-bit key, as kmeans._distinct packs it
    known_colours = rng.integers(0, 256, (400, 3))
    known_keys = known_colours @ key_of
    known_labels = nearest(known_colours.astype(np.float64))
    table = dither._NearestTable(palette_fit, OKLAB.to_fit, (known_keys, known_labels))
    targets = np.concatenate([rng.integers(0, 256, (3000, 3)), known_colours[:300]])
    centres = (targets >> 1) * 2 + 0.5  # the centre of each 7-bit cell
    labels = dict(zip(known_keys.tolist(), known_labels.tolist()))
    expected = [labels.get(key, label) for key, label in
                zip((targets @ key_of).tolist(), nearest(centres.astype(np.float64)))]
    for _ in range(2):  # the second time, from the colours met the first time
        found = table(targets.T.astype(np.float32))
        np.testing.assert_array_equal(found, expected)
