"""kmeans.options: the quantizer's one record of defaults and ranges, and the page's copy of it.

``static/protocol.js`` is read by Node.js (which the build needs anyway, for
``npm``), so what is compared is what the page really imports.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from kmeans import options, quantize_image, web
from kmeans.__main__ import build_parser
from kmeans.options import DEFAULTS, RANGES, QuantizeOptions

from .support import IN_PYODIDE

PROTOCOL_JS = Path(__file__).resolve().parents[1] / "static" / "protocol.js"


@pytest.fixture(scope="module")
def protocol():
    """The exports of static/protocol.js, as JSON."""
    if IN_PYODIDE:
        pytest.skip("reads static/protocol.js with Node.js, a process: WebAssembly has none")
    node = shutil.which("node")
    assert node, "Node.js is needed to read static/protocol.js (it comes with npm, which the build needs)"
    script = (
        f"import({json.dumps(PROTOCOL_JS.as_uri())})"
        ".then((m) => process.stdout.write(JSON.stringify(m)))"
    )
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_page_requests_exactly_the_functions_of_kmeans_web(protocol):
    assert sorted(protocol["REQUEST"].values()) == sorted(web.FUNCTIONS)


def test_the_page_has_the_python_defaults_and_ranges(protocol):
    expected = options.page_options()
    assert protocol["QUANTIZE_OPTIONS"] == expected["QUANTIZE_OPTIONS"]
    assert protocol["PAGE_MAX_MEGAPIXELS"] == expected["PAGE_MAX_MEGAPIXELS"] == options.PAGE_MAX_MEGAPIXELS
    assert protocol["COLOUR_SPACES"] == expected["COLOUR_SPACES"]
    assert expected["COLOUR_SPACES"]["names"] == ["rgb", "oklab", "liq"]
    assert expected["QUANTIZE_OPTIONS"]["n_colors"] == {"default": 16, "min": 1, "max": 256}


def test_boot_stages_each_have_a_label_and_end_ready(protocol):
    stages = protocol["BOOT_STAGES"]
    assert [entry["stage"] for entry in stages][-1] == "ready"
    assert all(entry["label"] for entry in stages[:-1])


def test_quantize_image_web_and_cli_take_their_defaults_from_the_record():
    signature = inspect.signature(quantize_image).parameters
    for name in ("n_colors", "seed", "max_iter", "tol", "n_init", "colour_space", "dither"):
        assert signature[name].default == getattr(DEFAULTS, name), name
    image = np.random.default_rng(0).integers(0, 256, size=(12, 10, 4), dtype=np.uint8)
    image[..., 3] = 255
    reply = web.quantize(image.tobytes(), 10, 12)  # no options: the record's defaults
    expected = quantize_image(image[..., :3])
    assert reply["n_colors"] == expected.n_colors == DEFAULTS.n_colors
    np.testing.assert_array_equal(reply["indices"], expected.indices.reshape(-1))
    args = build_parser().parse_args(["compress", "x.png"])
    assert (args.colors, args.seed, args.max_iter) == (DEFAULTS.n_colors, DEFAULTS.seed, DEFAULTS.max_iter)


def test_checked_resolves_auto_restarts_by_palette_size():
    assert QuantizeOptions(n_colors=127).checked().n_init == options.AUTO_RESTARTS
    assert QuantizeOptions(n_colors=128).checked().n_init == 1
    assert QuantizeOptions(n_colors=8, n_init=5).checked().n_init == 5


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"n_colors": 0}, r"n_colors=0 is out of range: a palette image holds 1 to 256 colours"),
        ({"n_colors": 2.5}, r"n_colors must be a whole number from 1 to 256, got 2.5"),
        ({"max_iter": 0}, r"max_iter must be an integer >= 1, got 0"),
        ({"max_iter": 10_001}, r"max_iter=10001 is out of range: use 1 to 10000"),
        ({"seed": 2**32}, r"seed=4294967296 is out of range: use 0 to 4294967295"),
        ({"seed": -1}, r"seed=-1 is out of range: use 0 to 4294967295"),
        ({"tol": -1.0}, r"tol must be a finite number >= 0, got -1.0"),
        ({"n_init": 101}, r"n_init=101 is out of range: use 1 to 100"),
        ({"colour_space": "cmyk"}, r"unknown colour space 'cmyk'; use one of: rgb, oklab, liq"),
        ({"dither": 1.5}, r"dither=1.5 is out of range: use 0 to 1"),
        ({"dither": -0.5}, r"dither=-0.5 is out of range: use 0 to 1"),
        ({"dither": "lots"}, r"dither must be a number from 0 to 1, got 'lots'"),
    ],
)
def test_bad_options_are_refused_with_the_accepted_range(changes, message):
    with pytest.raises(ValueError, match=message):
        QuantizeOptions(**changes).checked()
    with pytest.raises(ValueError, match=message):
        quantize_image(np.zeros((2, 2, 3), np.uint8), **{"n_colors": 2, **changes})


def test_the_page_may_set_only_known_options():
    with pytest.raises(ValueError, match=r"unknown option 'strength'; the options are: colour_space, dither, max_iter"):
        web.quantize(b"\0" * 16, 2, 2, strength=0.5)
    assert web.call("quantize", pixels=b"\0" * 16, width=2, height=2, n_colors=0)["error"]["message"] == (
        "n_colors=0 is out of range: a palette image holds 1 to 256 colours"
    )


def test_a_seed_must_be_a_whole_number_or_a_generator():
    with pytest.raises(TypeError, match=r"seed must be None, a non-negative int or a numpy Generator, got 1.5"):
        QuantizeOptions(seed=1.5).checked()
    assert QuantizeOptions(seed=np.random.default_rng(3)).checked().n_init == 3
    assert QuantizeOptions(seed=None).checked().seed is None


def test_the_ranges_cover_the_defaults():
    for name, bounds in RANGES.items():
        default = getattr(DEFAULTS, name)
        if isinstance(default, int):
            assert bounds.minimum <= default <= bounds.maximum, name


@pytest.mark.parametrize("width, height", [(12000, 9000), (100_000, 1_500), (3, 40_000_000), (10_001, 10_001)])
def test_the_size_limit_message_names_a_size_that_fits(width, height):
    message = options.too_many_pixels("photo.jpg", width, height, 100)
    assert message.startswith(f"photo.jpg is {width}x{height} ({width * height / 1e6:.1f} megapixels); "
                              "the limit is 100 megapixels: scale it down first, to at most ")
    fit_width, fit_height = (int(v) for v in message.split("to at most ")[1].split()[0].split("x"))
    assert fit_width * fit_height <= 100e6
    # The same shape, and as big as fits: one more pixel each way would not.
    assert abs(fit_width / fit_height - width / height) <= width / height / min(fit_width, fit_height) + 1e-9
    assert (fit_width + 1) * (fit_height + 1) > 100e6


def test_the_page_says_the_size_limit_as_python_does():
    if IN_PYODIDE:
        pytest.skip("runs the page's module with Node.js, a process: WebAssembly has none")
    node = shutil.which("node")
    images = (Path(__file__).resolve().parents[1] / "static" / "images.js").as_uri()
    sizes = [(12000, 9000), (100_000, 1_500), (10_001, 10_001), (4000, 30_000)]
    script = (f"const m = await import({json.dumps(images)});"
              f"process.stdout.write(JSON.stringify({json.dumps(sizes)}.map(([w, h]) => m.tooManyPixels('x', w, h, 100))));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    said = json.loads(out.stdout)
    # The page writes sizes with a multiplication sign.
    assert said == [re.sub(r"(\d)x(\d)", r"\1×\2", options.too_many_pixels("x", w, h, 100)) for w, h in sizes]
