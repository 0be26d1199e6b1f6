"""kmeans.cloud: the colour cloud's sample and the centres as the fit moved them."""

from __future__ import annotations

import numpy as np
import pytest
from kmeans import colour_spaces, quantize_image, web
from kmeans.cloud import MAX_FRAMES, CentreRecorder, colour_cloud


def photo(height=60, width=80, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 4), np.uint8)
    image[..., 0] = (x * 3) % 256
    image[..., 1] = (y * 4) % 256
    image[..., 2] = rng.integers(0, 256, size=(height, width))
    image[..., 3] = 255
    return image


def test_watching_the_fit_changes_nothing_and_sees_every_iteration():
    image = photo()
    seen = []
    watched = quantize_image(image, 8, watch=lambda n_iter, centers: seen.append((n_iter, centers.copy())))
    plain = quantize_image(image, 8)
    np.testing.assert_array_equal(watched.indices, plain.indices)
    np.testing.assert_array_equal(watched.palette, plain.palette)
    assert seen[0][0] == 0 and all(centers.shape == (8, 3) for _n, centers in seen)
    # Every iteration is reported once; the count only goes back to 0 when a restart begins;
    # last come the centres kept: the end of the best restart.
    iterations = [n for n, _c in seen]
    assert iterations[-1] is None and iterations[:-1].count(0) == 3  # n_init="auto": 3 restarts below 128 colours
    ends = [i for i in range(len(seen) - 1) if iterations[i + 1] in (0, None)]
    assert any(np.array_equal(seen[i][1], seen[-1][1]) and iterations[i] == plain.n_iter for i in ends)


@pytest.mark.parametrize("space", ["rgb", "oklab", "liq"])
def test_the_last_frame_rounds_to_the_palette(space):
    image = photo()
    recorder = CentreRecorder()
    result = quantize_image(image, 6, colour_space=space, dither=0.0, watch=recorder)
    palette = np.column_stack([result.palette, np.full(6, 255, np.uint8)])
    cloud = colour_cloud(image, palette, recorder, space, n_samples=500)
    last = cloud["cloud_frames_rgb"].reshape(-1, 6, 3)[-1]
    assert cloud["cloud_frame_iter"][-1] == result.n_iter
    # The palette is these centres rounded to whole sRGB values (to the one nearest in the space).
    rounded = np.array(sorted(map(tuple, np.clip(np.round(last), 0, 255).tolist())))
    np.testing.assert_allclose(rounded, np.array(sorted(map(tuple, result.palette.tolist()))), atol=1)
    rgb = colour_spaces.colour_space(space).from_fit(cloud["cloud_frames_fit"].reshape(-1, 3))
    np.testing.assert_array_equal(rgb, cloud["cloud_frames_rgb"].reshape(-1, 3))
    assert cloud["cloud_space"] == space


def test_each_sampled_colour_is_labelled_with_its_nearest_palette_entry():
    image = photo()
    recorder = CentreRecorder()
    result = quantize_image(image, 5, colour_space="rgb", dither=0.0, watch=recorder)
    palette = np.column_stack([result.palette, np.full(5, 255, np.uint8)])
    cloud = colour_cloud(image, palette, recorder, "rgb", n_samples=300, seed=4)
    rgb = cloud["cloud_rgb"].reshape(-1, 3).astype(float)
    assert rgb.shape == (300, 3) and cloud["cloud_labels"].shape == (300,)
    distances = ((rgb[:, None] - result.palette[None].astype(float)) ** 2).sum(axis=2)
    np.testing.assert_array_equal(cloud["cloud_labels"], distances.argmin(axis=1))
    # Every sampled colour is one of the image's pixels.
    pixels = {tuple(p) for p in image[..., :3].reshape(-1, 3).tolist()}
    assert all(tuple(c) in pixels for c in rgb.astype(int).tolist())
    again = colour_cloud(image, palette, recorder, "rgb", n_samples=300, seed=4)
    np.testing.assert_array_equal(again["cloud_rgb"], cloud["cloud_rgb"])


def test_runs_are_numbered_and_long_fits_keep_their_last_frame():
    recorder = CentreRecorder()
    for n in [0, 1, 2, 0, 1, 0, 1, 2, 3, 4, 5]:
        recorder(n, np.full((2, 3), float(n)))
    cloud = colour_cloud(photo(4, 4), np.zeros((2, 4), np.uint8) + 255, recorder, "rgb", n_samples=10)
    assert cloud["cloud_frame_run"].tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2]
    long = CentreRecorder()
    for n in range(MAX_FRAMES * 3):
        long(n, np.full((2, 3), float(n)))
    thinned = colour_cloud(photo(4, 4), np.zeros((2, 4), np.uint8) + 255, long, "rgb", n_samples=10)
    assert thinned["cloud_frame_iter"].size == MAX_FRAMES
    assert thinned["cloud_frame_iter"][0] == 0 and thinned["cloud_frame_iter"][-1] == MAX_FRAMES * 3 - 1
    assert thinned["cloud_frames_fit"].reshape(MAX_FRAMES, 2, 3)[-1, 0, 0] == MAX_FRAMES * 3 - 1


def test_transparent_pixels_are_not_sampled_and_the_transparent_entry_is_no_ones_nearest():
    image = photo(20, 20)
    image[:10, :, 3] = 0
    recorder = CentreRecorder()
    reply = web.quantize(image.tobytes(), 20, 20, cloud=400, n_colors=4, dither=0.0)
    palette = reply["palette"].reshape(-1, 4)
    assert palette[-1, 3] == 0
    assert (reply["cloud_labels"] < palette.shape[0] - 1).all()
    visible = {tuple(p) for p in image[10:, :, :3].reshape(-1, 3).tolist()}
    assert all(tuple(c) in visible for c in reply["cloud_rgb"].reshape(-1, 3).tolist())
    del recorder


def test_the_quantize_request_adds_the_cloud_only_when_asked():
    image = photo()
    plain = web.quantize(image.tobytes(), 80, 60, n_colors=8)
    clouded = web.quantize(image.tobytes(), 80, 60, n_colors=8, cloud=1000)
    assert not any(key.startswith("cloud") for key in plain)
    np.testing.assert_array_equal(plain["indices"], clouded["indices"])
    assert clouded["cloud_rgb"].size == 3000 and clouded["cloud_labels"].dtype == np.uint8
    k = clouded["cloud_frames_fit"].size // 3 // clouded["cloud_frame_iter"].size
    assert k == 8
    for bad, message in [(-1, "cloud must be a whole number of at least 0"),
                         (web.CLOUD_MAX_SAMPLES + 1, "cloud must be from 0 to"), (2.5, "whole number")]:
        with pytest.raises(ValueError, match=message):
            web.quantize(image.tobytes(), 80, 60, n_colors=8, cloud=bad)


def test_a_mostly_transparent_image_still_gives_a_full_sample_of_visible_colours():
    image = photo(40, 50)
    image[..., 3] = 0
    image[5:7, 10:14, 3] = 255  # 8 visible pixels of 2000
    palette = np.array([[0, 0, 0, 255], [255, 255, 255, 255], [0, 0, 0, 0]], np.uint8)
    cloud = colour_cloud(image, palette, CentreRecorder(), "rgb", n_samples=300)
    visible = {tuple(p) for p in image[5:7, 10:14, :3].reshape(-1, 3).tolist()}
    rgb = cloud["cloud_rgb"].reshape(-1, 3).tolist()
    assert len(rgb) == 300 and all(tuple(c) in visible for c in rgb)
    assert (cloud["cloud_labels"] < 2).all()
