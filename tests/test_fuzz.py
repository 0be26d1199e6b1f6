"""Fuzzing the edges a user reaches: random bytes and values into every entry point.

What a user can hand the package (a file's bytes, a request from the page,
an image) must give a result or a ValueError/TypeError whose message says
what was wrong: never another exception, a NumPy warning (pyproject turns
RuntimeWarning into an error) or a crash. The sizes drawn stay small, so
every example is quick; a size that is too big is drawn as a number and
must be refused before any work is done.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kmeans import encode_png, load_image, load_points, quantize_image, web
from PIL import Image

FUZZ = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])

#: What the page may send where a number belongs: numbers of any size, and things that are not numbers.
values = st.one_of(
    st.integers(-(2**40), 2**40), st.floats(allow_nan=True, allow_infinity=True), st.none(),
    st.booleans(), st.text(max_size=4),
)
buffers = st.binary(max_size=1024)


def _checked(call):
    """Run `call`; a ValueError or TypeError must carry a message. Returns the result or None."""
    try:
        return call()
    except (ValueError, TypeError) as error:
        assert str(error).strip(), f"{type(error).__name__} without a message"
        return None


@FUZZ
@given(data=buffers, name=st.sampled_from(["points.csv", "points.tsv", "points.txt", "points.npy", "x.json", ""]))
def test_load_points_takes_any_bytes(data, name):
    X = _checked(lambda: load_points(data, name=name or None))
    if X is not None:
        assert X.ndim == 2 and X.dtype == np.float64 and np.isfinite(X).all()


def _image_bytes(draw_bytes, prefix):
    """Random bytes that start like a real image file, so decoders get past the first check."""
    return prefix + draw_bytes


@FUZZ
@given(data=buffers, prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM"]))
def test_load_image_takes_any_bytes(data, prefix):
    image = _checked(lambda: load_image(_image_bytes(data, prefix)))
    if image is not None:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (3, 4)


@st.composite
def sized(draw, *names):
    """width, height and buffers of the right sizes (``pixels`` RGBA, ``indices`` one per pixel), half the time."""
    if draw(st.booleans()):
        return {"width": draw(values), "height": draw(values), **{name: draw(buffers) for name in names}}
    width, height = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    sizes = {"pixels": 4 * width * height, "indices": width * height, "palette": 4 * draw(st.integers(0, 8))}
    return {"width": width, "height": height,
            **{name: draw(st.binary(min_size=sizes[name], max_size=sizes[name])) for name in names}}


@st.composite
def explorer(draw, *names):
    """``points`` and ``n_features``, and the named arguments of matching sizes, half the time.

    The other half, anything (random bytes and values). `names` may include
    ``centroids``, ``labels`` (int32, one per point, in range), ``k`` and
    ``projection``. Coordinates include repeats, so ties and duplicate
    points come up.
    """
    if draw(st.booleans()):
        buffered = {name: draw(buffers) for name in ("points", *names) if name != "k"}
        return {"n_features": draw(values), **buffered, **({"k": draw(values)} if "k" in names else {})}
    n_features, n_points = draw(st.sampled_from([2, 3, 4, 1])), draw(st.integers(1, 16))
    k = draw(st.integers(1, n_points))
    coordinate = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, 1.0, -2.5]))

    def floats(size):
        return np.array(draw(st.lists(coordinate, min_size=size, max_size=size)), dtype=np.float64).tobytes()

    sizes = {"centroids": k * n_features, "projection": 3 * n_features}
    made = {"points": floats(n_points * n_features), "n_features": n_features}
    for name in names:
        if name == "k":
            made["k"] = k
        elif name == "labels":
            made["labels"] = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n_points, max_size=n_points)),
                                      dtype=np.int32).tobytes()
        else:
            made[name] = floats(sizes[name])
    return made


def _with(base, **more):
    return st.tuples(base, st.fixed_dictionaries(more)).map(lambda parts: {**parts[0], **parts[1]})


#: For every request of the page, the keyword arguments it may arrive with.
REQUESTS = {
    "quantize": _with(sized("pixels"), n_colors=st.one_of(st.integers(0, 300), values), dither=values),
    "compress": _with(sized("pixels"), n_colors=st.one_of(st.integers(1, 40), values),
                      max_kb=st.one_of(st.none(), st.floats(0.0, 4.0), values),
                      min_quality=st.one_of(st.none(), st.floats(-50.0, 100.0), values)),
    "encode_png": sized("indices", "palette"),
    "expect": st.fixed_dictionaries({"width": values, "height": values}),
    "png_parts": sized("indices", "palette"),
    "deflate_pieces": st.fixed_dictionaries({
        "data": buffers, "offset": st.one_of(st.integers(-5, 40), values),
        "starts": st.one_of(buffers, st.lists(st.integers(-5, 2000), min_size=0, max_size=4).map(
            lambda starts: np.array(starts, dtype=np.int32).tobytes())),
        "total": st.one_of(st.integers(-5, 3000), values)}),
    "finish_png": st.fixed_dictionaries({
        "head": st.one_of(buffers, st.binary(max_size=64).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail)),
        "deflated": buffers, "adler32": st.one_of(st.integers(-5, 2**33), values)}),
    "score": sized("pixels", "indices", "palette"),
    "load_points": st.fixed_dictionaries({"data": buffers, "name": st.text(max_size=12)}),
    "sample_points": st.fixed_dictionaries({"kind": st.text(max_size=8), "n_points": values, "seed": values}),
    "init_centroids": st.fixed_dictionaries({"points": buffers, "n_features": values, "k": values,
                                             "init": st.sampled_from(["random", "k-means++", "clicked", "x"]),
                                             "seed": values, "centroids_2d": buffers, "projection": buffers}),
    "step": st.fixed_dictionaries({"points": buffers, "n_features": values, "centroids": buffers,
                                   "projection": buffers}),
    "elbow": _with(explorer(), k_max=st.one_of(st.integers(1, 12), values), seed=values),
    "points_dataset": _with(explorer(), standardise=st.one_of(st.booleans(), values)),
    "seeding": _with(explorer("k", "projection"), seed=values),
    # The previous labels as made, none (the first assignment) or any bytes.
    "assign": st.tuples(explorer("centroids", "labels"), st.one_of(st.just("as made"), st.none(), buffers)).map(
        lambda parts: parts[0] if parts[1] == "as made" else {**parts[0], "labels": parts[1]}),
    "update": explorer("centroids", "labels", "projection"),
    "source": st.fixed_dictionaries({"name": st.one_of(st.sampled_from(["find_closest_centroids", "compute_centroids",
                                                                        "greedy_kmeans_plusplus"]),
                                                       st.text(max_size=12), values)}),
    "restarts": _with(explorer("k"), init=st.sampled_from(["random", "k-means++", "click", "x"]), seed=values,
                      n_runs=st.one_of(st.integers(0, 101), values), max_iter=st.one_of(st.integers(0, 30), values)),
    "figure_png": st.fixed_dictionaries({"points": buffers, "n_features": values, "labels": buffers,
                                         "history": buffers, "projection": buffers, "k": values}),
    # (A valid step commits 8 MB or runs a small fit: only steps to refuse are drawn.)
    "warm_up": st.fixed_dictionaries({"step": st.one_of(
        st.integers(max_value=-1), st.none(), st.booleans(), st.text(max_size=4),
        st.floats(allow_nan=True).filter(lambda v: not (v == v and v >= 0 and float(v).is_integer())))}),
}


#: Words of NumPy's and Python's own errors: a message to a user must say what was wrong in our terms.
INTERNALS = ("cannot reshape", "buffer size must be", "not supported between instances", "invalid literal",
             "object has no attribute", "argument must be", "unsupported operand", "index out of bounds")


def test_every_request_type_is_fuzzed():
    assert sorted(REQUESTS) == sorted(web.FUNCTIONS)


@pytest.mark.parametrize("request_type", sorted(REQUESTS))
def test_a_request_gives_a_result_or_a_clear_error(request_type):
    @FUZZ
    @given(kwargs=REQUESTS[request_type])
    def run(kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a NumPy warning would reach the page's console
            reply = web.call(request_type, **kwargs)
        if "error" in reply:
            assert reply["error"]["name"] in ("ValueError", "TypeError"), reply["error"]
            message = reply["error"]["message"]
            assert message.strip()
            assert not any(phrase in message for phrase in INTERNALS), message
        else:
            assert set(reply) == {"result"}

    run()


@st.composite
def images(draw):
    """A small image in one of the modes a user's file may have, as Pillow writes it to PNG."""
    mode = draw(st.sampled_from(["L", "LA", "P", "RGB", "RGBA", "I;16"]))
    width, height = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    levels = draw(st.integers(1, 256))  # few levels: few colours, and exact copies
    if mode == "I;16":
        picture = Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    else:
        channels = {"L": 1, "LA": 2, "P": 1, "RGB": 3, "RGBA": 4}[mode]
        pixels = (rng.integers(0, levels, (height, width, channels)) * (255 // max(levels - 1, 1))).astype(np.uint8)
        picture = Image.fromarray(pixels[..., 0] if channels == 1 else pixels,
                                  mode={"L": "L", "LA": "LA", "P": "L", "RGB": "RGB", "RGBA": "RGBA"}[mode])
        if mode == "P":
            picture = picture.convert("P")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


@FUZZ
@given(png=images(), n_colors=st.integers(1, 300), dither=st.sampled_from([0.0, 0.6, 1.0]))
def test_any_small_image_quantizes_to_a_readable_png(png, n_colors, dither):
    image = load_image(png)
    if n_colors > 256:
        with pytest.raises(ValueError, match=r"n_colors"):
            quantize_image(image, n_colors)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "fewer distinct colours than n_colors" is expected
        result = _checked(lambda: quantize_image(image, n_colors, dither=dither))
    if result is None:  # only n_colors=1 with transparency, which leaves no visible colour
        assert n_colors == 1 and image.shape[2] == 4
        return
    assert result.indices.shape == image.shape[:2]
    assert int(result.indices.max()) < result.n_colors <= n_colors
    with Image.open(io.BytesIO(encode_png(result))) as decoded:
        assert decoded.mode == "P" and decoded.size == (image.shape[1], image.shape[0])
        back = np.asarray(decoded.convert("RGBA"))
    np.testing.assert_array_equal(back[..., : result.palette.shape[1]], result.to_array())
