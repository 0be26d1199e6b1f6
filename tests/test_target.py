"""compress_to_target: the palette size searched for a size or quality target, met or missed."""

from __future__ import annotations

import numpy as np
import pytest
from kmeans import QuantizeOptions, encode_png, quantize_image, ssimulacra2
from kmeans.quantize import prepare_image, quantize_prepared
from kmeans.target import MAX_TRIALS, check_targets, compress_to_target


@pytest.fixture(scope="module")
def photo(china):
    """A 160 x 214 crop of china.jpg: big enough that K moves the PNG's size, small enough to be fast."""
    return np.ascontiguousarray(china[100:260:1, 200:414])


def _png_size(image, n_colors):
    return len(encode_png(quantize_image(image, n_colors)))


def test_a_size_target_is_met_with_most_of_the_budget_and_few_encodes(photo):
    budgets = [int(_png_size(photo, k) * 1.02) for k in (6, 24, 90)]  # between possible sizes
    encodes = []
    for budget in budgets:
        found = compress_to_target(photo, max_bytes=budget)
        assert found.met
        assert len(found.png) <= budget
        assert len(found.png) >= 0.75 * budget, (budget, found.trials)
        assert found.message.startswith(f"target met with {found.n_colors} colours")
        encodes.append(len(found.trials))
    assert np.mean(encodes) <= 5, encodes


def test_the_chosen_result_is_what_quantize_image_gives_at_that_size(photo):
    found = compress_to_target(photo, max_bytes=_png_size(photo, 20))
    expected = quantize_image(photo, found.n_colors)
    np.testing.assert_array_equal(found.quantized.palette, expected.palette)
    np.testing.assert_array_equal(found.quantized.indices, expected.indices)
    assert found.png == encode_png(expected)
    # Every trial's size is the size of that K's PNG.
    for trial in found.trials[:2]:
        assert trial.n_bytes == _png_size(photo, trial.n_colors)


def test_a_size_no_palette_can_meet_gives_the_smallest_output_and_says_by_how_much(photo):
    found = compress_to_target(photo, max_bytes=50)
    smallest = _png_size(photo, 1)  # about 100 bytes: the PNG's chunks alone
    assert not found.met
    assert found.n_colors == 1 and len(found.png) == smallest
    assert found.message == (f"target missed with 1 colour: {smallest:,} bytes, {smallest - 50:,} over "
                             f"the 50 asked for: this is the smallest output found")


def test_a_generous_budget_gives_every_colour_the_image_has():
    image = np.zeros((40, 40, 3), np.uint8)
    image[:, :20] = [200, 30, 30]
    image[20:, 20:] = [20, 30, 230]
    found = compress_to_target(image, max_bytes=1_000_000)
    assert found.met and found.quantized.n_colors == 3
    # Far below the budget, but with every colour: no second search without dithering.
    assert found.dither == 0.6 and len(found.trials) <= 2 and "without dithering" not in found.message
    assert len(found.trials) <= 2  # no search beyond the image's own 3 colours


def test_a_quality_target_gives_the_smallest_k_found_that_reaches_it(photo):
    found = compress_to_target(photo, min_quality=50)
    assert found.met and found.score >= 50
    distorted = found.quantized.to_array()
    assert found.score == ssimulacra2(photo, distorted)
    failing = [t for t in found.trials if t.score < 50]
    assert failing and max(t.n_colors for t in failing) < found.n_colors
    # The chosen K is within 10 % (plus one) of a K that misses: the search closed its bracket.
    assert found.n_colors <= max(t.n_colors for t in failing) * 1.1 + 1
    assert len(found.trials) <= MAX_TRIALS


def test_an_unreachable_quality_gives_the_best_score_and_says_how_far_short(photo):
    found = compress_to_target(photo, min_quality=99.5)
    assert not found.met
    assert found.n_colors == 256
    assert found.score == max(t.score for t in found.trials)
    assert f"{99.5 - found.score:.1f} short of the 99.5 asked for" in found.message


def test_with_both_targets_the_budget_wins(photo):
    budget = _png_size(photo, 8)
    found = compress_to_target(photo, max_bytes=budget, min_quality=90)
    assert len(found.png) <= budget
    assert not found.met
    assert "short of the 90 asked for" in found.message and f"within {budget:,}" in found.message
    reachable = compress_to_target(photo, max_bytes=10**7, min_quality=20)
    assert reachable.met and reachable.score >= 20


def test_transparent_images_keep_one_entry_for_the_transparent_pixels(photo):
    image = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    image[:40, :, 3] = 0
    found = compress_to_target(image, max_bytes=50)
    assert found.n_colors == 2  # one colour and the transparent entry: the smallest there is
    assert found.quantized.palette[-1].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(("targets", "message"), [
    ({}, "name a target"),
    ({"max_bytes": 0}, "above 0 bytes, got 0"),
    ({"max_bytes": -5}, "above 0 bytes, got -5"),
    ({"max_bytes": float("nan")}, "a number of bytes above 0, got nan"),
    ({"max_bytes": "10"}, "a number of bytes above 0, got '10'"),
    ({"min_quality": 101}, "SSIMULACRA2 score up to 100 (identical), got 101"),
    ({"min_quality": True}, "SSIMULACRA2 score up to 100, got True"),
])
def test_bad_targets_say_what_is_accepted(targets, message):
    with pytest.raises(ValueError, match="^.*" + message.replace("(", r"\(").replace(")", r"\)")):
        check_targets(**targets)


def test_prepared_images_refuse_options_they_were_not_prepared_for(small_photo):
    prepared = prepare_image(small_photo, colour_space="oklab", dithered=True)
    with pytest.raises(ValueError, match="prepared for colour_space='oklab' with dithering; got "
                                         "colour_space='rgb', dither=0.6"):
        quantize_prepared(prepared, QuantizeOptions(colour_space="rgb"))
    with pytest.raises(ValueError, match="with dithering; got colour_space='oklab', dither=0"):
        quantize_prepared(prepared, QuantizeOptions(dither=0.0))
    # Prepared once, quantized at two sizes: each equals quantize_image.
    for k in (4, 16):
        result = quantize_prepared(prepared, QuantizeOptions(n_colors=k))
        np.testing.assert_array_equal(result.indices, quantize_image(small_photo, k).indices)



def _best_fitting(photo, budget, dither):
    """The largest K whose PNG fits, with this dithering, found by trying every K from 1."""
    best = None
    for k in range(1, 17):
        quantized = quantize_image(photo, k, dither=dither)
        if len(encode_png(quantized)) > budget:
            break
        best = quantized
    return best


@pytest.mark.parametrize("budget", [2138, 2400, 2800])
def test_where_the_dithered_search_falls_short_the_better_looking_of_both_is_taken(photo, budget):
    # Dithered files jump in size from 2 colours to 3 (1 bit a pixel to 2, and noise to pack):
    # budgets from 2,138 to 2,800 bytes leave the dithered search well below them (at 2 colours).
    found = compress_to_target(photo, max_bytes=budget, options=QuantizeOptions(dither=0.6))
    dithered, plain = _best_fitting(photo, budget, 0.6), _best_fitting(photo, budget, 0.0)
    assert len(encode_png(dithered)) < 0.9 * budget
    looks = [ssimulacra2(photo, candidate.to_array()) for candidate in (dithered, plain)]
    expected = (dithered, plain)[int(looks[1] > looks[0])]
    assert found.met and len(found.png) <= budget
    np.testing.assert_array_equal(found.quantized.indices, expected.indices)
    assert found.dither == (0.6 if expected is dithered else 0.0)
    assert ("without dithering:" in found.message) == (expected is plain)
    # Both searches ran, and their trials are kept: first the dithered one, then the plain one.
    assert found.trials[0].n_colors == 16 and len(found.trials) > 4


def test_a_search_that_uses_the_budget_keeps_the_dithering(photo):
    budget = len(encode_png(quantize_image(photo, 20, dither=0.6))) + 1
    found = compress_to_target(photo, max_bytes=budget, options=QuantizeOptions(dither=0.6))
    assert found.met and len(found.png) >= 0.9 * budget
    assert found.dither == 0.6 and len(found.trials) <= MAX_TRIALS
    assert "without dithering" not in found.message


def test_a_budget_nothing_meets_gives_the_smallest_with_or_without_dithering(photo):
    found = compress_to_target(photo, max_bytes=90, options=QuantizeOptions(dither=1.0))
    assert not found.met and found.n_colors == 1  # one colour: nothing to dither, nothing smaller
    assert len(found.png) == len(encode_png(quantize_image(photo, 1)))
