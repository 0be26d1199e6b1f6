"""The browser worker's adapter: plain values and buffers in, plain dicts out.

``static/worker.js`` calls these functions with keyword arguments named
exactly as in the page's messages (see ``static/protocol.js``). Pixel data
arrives as a buffer: ``bytes`` or a ``memoryview`` under CPython (as the
tests pass it), a JavaScript ``Uint8Array`` proxy in Pyodide (anything with
a ``to_py()`` method is converted). Arrays go back 1-D and C-contiguous, so
the worker copies each with a single ``getBuffer()``. This module never
imports ``js``: it runs, and is tested, under CPython too.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import warnings
import zlib

import numpy as np

from .cloud import CentreRecorder, colour_cloud
from . import images
from .metrics import scale_factor, ssimulacra2
from .options import DEFAULTS, PAGE_MAX_MEGAPIXELS, RANGES, IntRange, QuantizeOptions, too_many_pixels
from .quantize import QuantizedImage, expand_palette, quantize_image
from .target import compress_image


#: What a quantize request may set: the quantizer's options record.
_OPTION_NAMES = frozenset(field.name for field in dataclasses.fields(QuantizeOptions))


def _to_py(value):
    """A JavaScript value as Python sees it: a JsProxy (Pyodide) converted, anything else as it is."""
    return value.to_py() if hasattr(value, "to_py") else value


def _as_uint8(buffer) -> np.ndarray:
    """View a bytes-like object (or a JS Uint8Array proxy) as a 1-D uint8 array."""
    return np.frombuffer(_to_py(buffer), dtype=np.uint8)


def _palette(buffer) -> np.ndarray:
    """An RGBA palette from the page: 4 bytes per colour."""
    flat = _as_uint8(buffer)
    if flat.size % 4:
        raise ValueError(f"the palette must hold 4 bytes (RGBA) per colour; got {flat.size} bytes")
    return flat.reshape(-1, 4)


def _whole(value, name: str, minimum: int | None = 1) -> int:
    """`value` as an int (of at least `minimum`, unless None), or a ValueError that names it."""
    whole = not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
    if not whole or (minimum is not None and value < minimum):
        at_least = "" if minimum is None else f" of at least {minimum}"
        raise ValueError(f"{name} must be a whole number{at_least}, got {value!r}")
    return int(value)


def _check_indices(indices, palette):
    """Every index must name an entry of the palette (which must have one)."""
    if palette.shape[0] < 1 or int(indices.max()) >= palette.shape[0]:
        raise ValueError("an index points past the end of the palette")


def _check_size(width, height):
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive whole number of pixels, got {value!r}")
    if width * height > PAGE_MAX_MEGAPIXELS * 1e6:
        raise ValueError(too_many_pixels("the image", width, height, PAGE_MAX_MEGAPIXELS))


#: Most colours a quantize request may sample for the colour cloud.
CLOUD_MAX_SAMPLES = 20_000


def _with_alpha(palette) -> np.ndarray:
    """A palette as the page takes it: RGBA, an opaque one given alpha 255."""
    if palette.shape[1] == 4:
        return palette
    return np.column_stack([palette, np.full(palette.shape[0], 255, np.uint8)])


def _rgba(pixels, width, height) -> np.ndarray:
    """The page's RGBA bytes as a (height, width, 4) array, or a ValueError saying what was expected."""
    _check_size(width, height)
    flat = _as_uint8(pixels)
    if flat.size != width * height * 4:
        raise ValueError(
            f"expected {width}x{height}x4 = {width * height * 4} RGBA bytes, got {flat.size}"
        )
    return flat.reshape(height, width, 4)


def quantize(pixels, width, height, progress=None, cloud=0, **options) -> dict:
    """Quantize RGBA pixels from a canvas.

    Parameters
    ----------
    pixels : bytes-like of length ``width * height * 4``
        RGBA bytes, row by row (a canvas ``ImageData.data`` buffer).
    width, height : int
    progress : callable, optional
        ``progress(iterations_done, max_iter)`` after each K-means iteration
        (counted across the k-means++ restarts), then ``progress("dither",
        fraction)`` now and then while dithering.
    cloud : int, default=0
        How many of the image's pixels to sample for the page's colour
        cloud (:func:`kmeans.cloud.colour_cloud`), up to
        ``CLOUD_MAX_SAMPLES``; 0 adds nothing to the reply.
    **options
        Passed to :func:`kmeans.quantize_image`: any field of
        :class:`kmeans.options.QuantizeOptions` (``n_colors``, ``seed``,
        ``max_iter``, ...), with its defaults and ranges.

    Returns
    -------
    dict
        ``indices`` (uint8, one per pixel), ``palette`` (uint8 RGBA, 4 per
        colour), ``n_colors``, ``n_iter``, ``mse``, ``psnr`` (None when the
        copy is exact), ``seconds`` and ``warning`` (a message or None), and
        with `cloud` the ``cloud_*`` arrays of :func:`kmeans.cloud.colour_cloud`.
        The page asks for the score separately (:func:`score`), once the
        result is on screen.
    """
    started = time.perf_counter()
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}; the options are: {', '.join(sorted(_OPTION_NAMES))}")
    max_iter = options.get("max_iter", DEFAULTS.max_iter)
    cloud = _whole(cloud, "cloud", 0)
    if cloud > CLOUD_MAX_SAMPLES:
        raise ValueError(f"cloud must be from 0 to {CLOUD_MAX_SAMPLES} colours, got {cloud}")
    # An opaque RGBA image is fitted in RGB (quantize_image sees that alpha is all 255).
    image = _rgba(pixels, width, height)

    counter = None
    if progress is not None:
        iterations_done = 0

        def counter(n_iter):
            # Count iterations across restarts and levels, so the page's bar only moves forward.
            nonlocal iterations_done
            iterations_done += 1
            progress(iterations_done, max_iter)

    recorder = CentreRecorder() if cloud else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = quantize_image(image, **options, progress=counter, watch=recorder,
                                dither_progress=None if progress is None else lambda f: progress("dither", f))
    palette = _with_alpha(result.palette)
    extra = {}
    if cloud:
        space = options.get("colour_space", DEFAULTS.colour_space)
        extra = colour_cloud(image, palette, recorder, space, n_samples=cloud)
    return {
        **extra,
        "indices": np.ascontiguousarray(result.indices.reshape(-1)),
        "palette": np.ascontiguousarray(palette.reshape(-1)),
        "n_colors": int(result.n_colors),
        "n_iter": int(result.n_iter),
        "mse": float(result.mse),
        "psnr": None if result.mse == 0 else float(result.psnr),
        "seconds": time.perf_counter() - started,
        "warning": str(caught[0].message) if caught else None,
    }


def score(pixels, indices, palette, width, height) -> dict:
    """How alike a quantized image looks to the original: SSIMULACRA2 (:func:`kmeans.metrics.ssimulacra2`).

    Parameters
    ----------
    pixels : bytes-like of length ``width * height * 4``
        The original's RGBA bytes.
    indices, palette : bytes-like
        The result, as :func:`quantize` returned it (RGBA palette, 4 bytes per colour).
    width, height : int

    Returns
    -------
    dict
        ``ssimulacra2``; ``ssimulacra2_scale``, 1 or the factor the copies
        were shrunk by (big images); ``seconds``.
    """
    started = time.perf_counter()
    _check_size(width, height)
    original = _as_uint8(pixels)
    indices = _as_uint8(indices)
    palette = _palette(palette)
    if original.size != width * height * 4 or indices.size != width * height:
        raise ValueError(f"expected {width}x{height} pixels and as many indices")
    _check_indices(indices, palette)
    image = original.reshape(height, width, 4)
    result = expand_palette(palette, indices.reshape(height, width))
    if (image[..., 3] == 255).all() and (palette[:, 3] == 255).all():
        image, result = image[..., :3], result[..., :3]  # opaque: one background instead of two
    return {
        "ssimulacra2": float(ssimulacra2(image, result)),
        "ssimulacra2_scale": scale_factor(height, width),
        "seconds": time.perf_counter() - started,
    }


#: Megabytes of heap the worker's warm-up commits: enough for a 12-megapixel
#: photo's working arrays (about 270 MB of WebAssembly memory in all).
WARM_UP_MEGABYTES = 240
#: Committed one block per step: touching 8 MB takes a few milliseconds.
_WARM_UP_BLOCK_MEGABYTES = 8
#: Then a small fit per step, of images of these sizes (height, width): the first calls of each
#: function cost the most, so they come in growing images, each step about 50 ms at most.
WARM_UP_FITS = ((8, 16), (24, 64), (48, 128)) + ((96, 256),) * 6
_warm_up_blocks: list = []


def warm_up(step: int) -> dict:
    """One short step of the worker's warm-up, run while the page waits for an image.

    Two first-run costs of WebAssembly are paid here instead of on the
    user's first image. Memory the heap has never used is slow to touch the
    first time, and the engine moves hot functions to its optimizing compiler
    only after they have run for a while. The first steps commit
    ``WARM_UP_MEGABYTES`` of heap, one block per step, then free them all for
    NumPy to reuse; the next steps each quantize a small synthetic image
    (``WARM_UP_FITS``; the functions a photo's fit runs are the same
    whatever its size). Every step is short, well under a tenth of a second, because
    the worker answers a request only between steps: a photo chosen during
    the warm-up never waits long.

    Parameters
    ----------
    step : int
        0 for the first step, then 1, 2, ... until the reply says done.

    Returns
    -------
    dict
        ``done``: True after the last step.
    """
    step = _whole(step, "step", 0)
    n_blocks = WARM_UP_MEGABYTES // _WARM_UP_BLOCK_MEGABYTES
    if step < n_blocks:
        block = np.empty(_WARM_UP_BLOCK_MEGABYTES << 20, dtype=np.uint8)
        block.fill(0)  # touching the pages is the point: np.empty alone commits nothing
        _warm_up_blocks.append(block)
        return {"done": False}
    _warm_up_blocks.clear()
    fit = min(step - n_blocks, len(WARM_UP_FITS) - 1)
    height, width = WARM_UP_FITS[fit]
    y, x = np.mgrid[0:height, 0:width]
    image = np.full((height, width, 4), 255, dtype=np.uint8)
    image[..., 0] = x - fit
    image[..., 1] = y * 2 + fit
    image[..., 2] = (((x + y) * 7 + (x * y) % 13) >> 1) + fit * 16  # (uint8: these wrap around)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The K-means path only: dithering builds tables of 2**24 entries, too slow for one short step.
        quantize_image(image, DEFAULTS.n_colors, max_iter=8, n_init=1, dither=0.0, colour_space="rgb")
    return {"done": fit == len(WARM_UP_FITS) - 1}


def encode_png(indices, palette, width, height) -> dict:
    """Encode a quantized image (as :func:`quantize` returned it) as an indexed PNG.

    Parameters
    ----------
    indices : bytes-like of length ``width * height``
    palette : bytes-like of RGBA bytes, 4 per colour
    width, height : int

    Returns
    -------
    dict
        ``png``: the file's bytes as a uint8 array; ``bytes``: its length.
    """
    started = time.perf_counter()
    return _png_reply(images.encode_png(_quantized_for_png(indices, palette, width, height)), started)


def _png_reply(png: bytes, started: float) -> dict:
    """A finished PNG as :func:`encode_png` and :func:`png_parts` return it."""
    return {"png": np.frombuffer(png, dtype=np.uint8), "bytes": len(png), "seconds": time.perf_counter() - started}


def _quantized_for_png(indices, palette, width, height) -> QuantizedImage:
    """The page's indices and RGBA palette, checked, as the image :func:`kmeans.encode_png` writes."""
    _check_size(width, height)
    indices = _as_uint8(indices)
    palette = _palette(palette)
    if indices.size != width * height:
        raise ValueError(f"expected {width * height} indices, got {indices.size}")
    _check_indices(indices, palette)
    if (palette[:, 3] == 255).all():
        palette = palette[:, :3]  # no tRNS chunk for an opaque image
    return QuantizedImage(palette, indices.reshape(height, width), 0, 0.0)


#: Most bytes of scanlines a page photo's PNG has (8 bits a pixel, a filter byte a row).
_MAX_SCANLINE_BYTES = 2 * PAGE_MAX_MEGAPIXELS * 1_000_000


def expect(width, height) -> dict:
    """Get ready for a photo of `width` x `height` pixels, told as soon as it is chosen.

    The page reads the size from the file's header and sends it before it
    decodes the photo, so that the worker can start what the photo will
    need while the page decodes: ``helper`` says whether its PNG will be
    deflated in pieces (see :func:`png_parts`), which the worker shares with
    a helper worker (static/helper.js). A worker busy in Python cannot start
    one: a worker inside a worker starts only while its parent is idle.

    Parameters
    ----------
    width, height : int
        The photo's size, as its file's header gives it.

    Returns
    -------
    dict
        ``helper``: True above 4 megapixels (``images.PNG_TRIAL_MAX_PIXELS``).
    """
    _check_size(width, height)
    return {"helper": width * height > images.PNG_TRIAL_MAX_PIXELS}


def png_parts(indices, palette, width, height) -> dict:
    """:func:`encode_png` in parts, so that the worker can deflate a big image's scanlines in pieces.

    The worker (static/worker.js) deflates the pieces itself and hands some
    of them to a helper worker (static/helper.js), then joins them with
    :func:`finish_png`: the same file as :func:`encode_png`, to the byte.

    Parameters
    ----------
    indices : bytes-like of length ``width * height``
    palette : bytes-like of RGBA bytes, 4 per colour
    width, height : int

    Returns
    -------
    dict
        For an image of 4 megapixels or fewer (several layouts are tried, one
        compression each), or scanlines that make one piece: the whole PNG,
        ``png`` and ``bytes``, as :func:`encode_png`. Otherwise ``head`` (the
        file's bytes before its image data), ``scanlines`` (uint8),
        ``pieces`` (int32: where each piece starts in the scanlines),
        ``window`` and ``adler32`` (of the scanlines). Piece i runs from
        ``pieces[i]`` to the next start: :func:`deflate_pieces` makes any
        run of them, given the `window` bytes before the first.
    """
    started = time.perf_counter()
    quantized = _quantized_for_png(indices, palette, width, height)
    if quantized.indices.size <= images.PNG_TRIAL_MAX_PIXELS:
        return _png_reply(images.encode_png(quantized), started)
    parts = images.png_parts(quantized)
    scanlines = parts.scanlines.reshape(-1)
    if scanlines.size <= images.DEFLATE_PIECE:  # one piece: deflated here, as encode_png would
        zlib_stream = images.deflate(scanlines, parts.level, parts.mem_level, parts.strategy)
        return _png_reply(images.finish_png(parts.head, zlib_stream), started)
    return {
        "head": np.frombuffer(parts.head, dtype=np.uint8),
        "scanlines": scanlines,
        "pieces": np.arange(0, scanlines.size, images.DEFLATE_PIECE, dtype=np.int32),
        "window": images.DEFLATE_PIECE_WINDOW,
        "adler32": zlib.adler32(scanlines),
    }


def deflate_pieces(data, offset, starts, total, progress=None) -> dict:
    """Pieces of a big PNG's image data (see :func:`png_parts`), the last first.

    The worker asks for its pieces one at a time, from the front; its helper
    worker is lent a run of them from the back, and reports each piece as
    soon as it is made (`progress`), so the worker can stop making the ones
    the helper has done.

    Parameters
    ----------
    data : bytes-like
        The scanlines from `offset` to the end of the last piece asked for.
    offset : int
        Where `data` starts in the scanlines: ``window`` bytes (see
        :func:`png_parts`) before the first piece, or 0, so that the first
        piece has its whole window.
    starts : bytes-like of int32
        The pieces' starts in the scanlines, in order, one after the other.
    total : int
        The scanlines' length: the piece that ends there ends the stream.
    progress : callable, optional
        ``progress(i, deflated)`` after each piece (`i` indexes `starts`).

    Returns
    -------
    dict
        ``sizes`` (int32, each piece's length, in the order of `starts`)
        and, without `progress`, ``deflated``: the pieces' bytes one after
        the other.
    """
    data = _as_uint8(data)
    offset, total = _whole(offset, "offset", 0), _whole(total, "total", 0)
    if total > _MAX_SCANLINE_BYTES or offset > total:
        raise ValueError(f"total must be at most {_MAX_SCANLINE_BYTES} bytes of scanlines, and offset at most total")
    starts = _as_uint8(starts)
    if starts.size % 4:
        raise ValueError(f"starts must be int32 values, 4 bytes each; got {starts.size} bytes")
    starts = starts.view(np.int32)
    stop = offset + data.size
    if starts.size == 0:
        raise ValueError("starts must name at least one piece")
    bounds = np.append(starts, stop).astype(np.int64)
    if stop > total or (np.diff(bounds) <= 0).any() or (np.diff(bounds) > images.DEFLATE_PIECE).any():
        raise ValueError(f"the pieces must follow one another in the data, each 1 to {images.DEFLATE_PIECE} "
                         f"bytes, and end by total={total}")
    if offset != max(0, bounds[0] - images.DEFLATE_PIECE_WINDOW):
        # A shorter window would still make a valid stream, but not encode_png's bytes.
        raise ValueError(f"data must start {images.DEFLATE_PIECE_WINDOW} bytes before the first piece "
                         f"(or at 0): offset {max(0, int(bounds[0]) - images.DEFLATE_PIECE_WINDOW)}, not {offset}")
    pieces = [b""] * starts.size
    for i in reversed(range(starts.size)):
        start, end = int(bounds[i]), int(bounds[i + 1])
        before = max(offset, start - images.DEFLATE_PIECE_WINDOW)
        pieces[i] = images.deflate_piece(data[before - offset : end - offset], start - before, last=end == total)
        if progress is not None:
            progress(i, np.frombuffer(pieces[i], dtype=np.uint8))
    sizes = np.array([len(piece) for piece in pieces], dtype=np.int32)
    if progress is not None:
        return {"sizes": sizes}  # the pieces went out one by one
    return {"deflated": np.frombuffer(b"".join(pieces), dtype=np.uint8), "sizes": sizes}


def finish_png(head, deflated, adler32) -> dict:
    """The PNG from :func:`png_parts`'s `head` and the pieces of :func:`deflate_pieces`, joined in order.

    Parameters
    ----------
    head : bytes-like
        ``png_parts(...)["head"]``.
    deflated : bytes-like
        The pieces' bytes, one after the other.
    adler32 : int
        ``png_parts(...)["adler32"]``.

    Returns
    -------
    dict
        ``png`` and ``bytes``, as :func:`encode_png`.
    """
    head, deflated = _as_uint8(head), _as_uint8(deflated)
    adler32 = _whole(adler32, "adler32", 0)
    if adler32 > 0xFFFFFFFF:
        raise ValueError(f"adler32 must be a 32-bit checksum; got {adler32}")
    if head[:8].tobytes() != b"\x89PNG\r\n\x1a\n":
        raise ValueError("head must be the start of a PNG file, as png_parts returned it")
    png = images.finish_png(head.tobytes(), images.join_pieces([deflated.tobytes()], adler32))
    return {"png": np.frombuffer(png, dtype=np.uint8), "bytes": len(png)}


def compress(pixels, width, height, max_kb=None, min_quality=None, progress=None, **options) -> dict:
    """One image's whole job, as the page's batch runs it: quantize, score and encode, in one request.

    With a target (`max_kb`, `min_quality` or both) the palette size is
    searched for it by :func:`kmeans.compress_to_target`; without one the
    image is quantized to ``options["n_colors"]``, as :func:`quantize` does.

    Parameters
    ----------
    pixels : bytes-like of length ``width * height * 4``
        RGBA bytes, row by row.
    width, height : int
    max_kb : float, optional
        The PNG must be no bigger than this many KB (1 KB = 1024 bytes).
    min_quality : float, optional
        Its SSIMULACRA2 score must be at least this (at most 100).
    progress : callable, optional
        ``progress("trial", trials_done)`` after each palette size a target
        search tries.
    **options
        Any field of :class:`kmeans.options.QuantizeOptions`; with a target,
        ``n_colors`` is the first size tried.

    Returns
    -------
    dict
        ``indices``, ``palette`` (as :func:`quantize` gives them), ``png``
        (the file, uint8), ``bytes``, ``n_colors`` (colours in the palette),
        ``mse``, ``psnr``, ``ssimulacra2``, ``ssimulacra2_scale``, ``met``
        (True without a target), ``message`` (the target's outcome in one
        sentence, or None), ``trials`` (int32 pairs: each palette size tried
        and its PNG's bytes), ``warning`` and ``seconds``.
    """
    started = time.perf_counter()
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}; the options are: {', '.join(sorted(_OPTION_NAMES))}")
    image = _rgba(pixels, width, height)
    tried = itertools.count(1)
    report = None if progress is None else lambda _trial: progress("trial", next(tried))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = compress_image(image, options=QuantizeOptions(**options), max_kb=max_kb, min_quality=min_quality,
                               progress=report)
    quantized, png = found.quantized, found.png
    palette = _with_alpha(quantized.palette)
    return {
        "indices": np.ascontiguousarray(quantized.indices.reshape(-1)),
        "palette": np.ascontiguousarray(palette.reshape(-1)),
        "png": np.frombuffer(png, dtype=np.uint8),
        "bytes": len(png),
        "n_colors": int(quantized.n_colors),
        "mse": float(quantized.mse),
        "psnr": None if quantized.mse == 0 else float(quantized.psnr),
        "ssimulacra2": found.score,
        "ssimulacra2_scale": scale_factor(height, width),
        "met": bool(found.met),
        "message": found.message,
        "trials": np.array([(t.n_colors, t.n_bytes) for t in found.trials], dtype=np.int32).reshape(-1),
        "warning": str(caught[0].message) if caught else None,
        "seconds": time.perf_counter() - started,
    }


# -- the clustering explorer ----------------------------------------------------------------
#
# The page keeps the data (n_points x n_features float64, row-major) and sends it
# with every request, so nothing here holds state between calls. Data with more
# than two features is drawn on its first two principal components; the page
# passes the `projection` (the data's mean, then the two components, each
# n_features long) back so centroids can be projected the same way.


def _as_float64(buffer, name: str = "the data") -> np.ndarray:
    data = _to_py(buffer)
    if data is None:
        raise ValueError(f"{name} is missing")
    size = memoryview(data).nbytes
    if size % 8:
        raise ValueError(f"{name} must be float64 values, 8 bytes each; got {size} bytes")
    return np.frombuffer(data, dtype=np.float64)


def _rows(buffer, n_columns: int, name: str) -> np.ndarray:
    """Float64 values from the page as rows of `n_columns`, or a ValueError that names them."""
    flat = _as_float64(buffer, name)
    if flat.size % n_columns:
        raise ValueError(f"the {flat.size} values of {name} do not make rows of {n_columns}")
    return flat.reshape(-1, n_columns)


def _points(points, n_features) -> np.ndarray:
    n_features = _whole(n_features, "n_features")
    # Refused before reshaping: no values make rows of any width, however absurd.
    if _as_float64(points, "the points").size == 0:
        raise ValueError("there are no points; the data needs at least one")
    return _rows(points, n_features, "the points")


def _projection(X):
    """Mean and the first two principal axes of X (identity for 2-D data)."""
    n_features = X.shape[1]
    mean = X.mean(axis=0)
    if n_features == 2:
        return mean * 0.0, np.eye(2), 1.0
    # Rows of vt are the principal axes, by decreasing variance.
    _u, singular_values, vt = np.linalg.svd(X - mean, full_matrices=False)
    variance = singular_values**2
    explained = float(variance[:2].sum() / variance.sum()) if variance.sum() > 0 else 1.0
    if vt.shape[0] < 2:  # a single point has no second axis: any plane through it shows it
        vt = np.eye(n_features)
    return mean, vt[:2], explained


def _projection_rows(projection, n_features) -> np.ndarray:
    """The page's projection: the mean, then two axes, each n_features long."""
    rows = _rows(projection, n_features, "the projection")
    if rows.shape[0] != 3:
        raise ValueError(f"the projection must be 3 rows of {n_features} values (mean and two axes); "
                         f"got {rows.shape[0]} rows")
    return rows


def _project(X, projection, n_features):
    projection = _projection_rows(projection, n_features)
    return np.ascontiguousarray((X - projection[0]) @ projection[1:].T).reshape(-1)


def _dataset(X, truth=None) -> dict:
    mean, axes, explained = _projection(X)
    projection = np.vstack([mean, axes])
    return {
        "points": np.ascontiguousarray(X, dtype=np.float64).reshape(-1),
        "n_points": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "projection": np.ascontiguousarray(projection).reshape(-1),
        "points_2d": _project(X, projection.reshape(-1), X.shape[1]),
        "explained": explained,
        "truth": None if truth is None else np.ascontiguousarray(truth, dtype=np.int32),
    }


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def _standardised(X, standardise) -> np.ndarray:
    """`X` (validated), or with `standardise` each column as (x - mean) / std (constant: 0).

    Standardising gives every feature the same spread, so one measured in
    big units does not decide the distances alone.
    """
    if not _flag(standardise, "standardise"):
        return X
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    # Compared exactly: the mean of equal values may differ from them in the last bit, and
    # dividing that residue by a tiny std would turn a constant column into noise.
    constant = X.min(axis=0) == X.max(axis=0)
    std[constant | (std == 0)] = 1.0  # (std == 0 also when the squares underflow)
    Z = (X - mean) / std
    Z[:, constant] = 0.0
    return Z


def load_points(data, name, standardise=False) -> dict:
    """Parse a user's points file (.csv, .tsv, .txt, .npy) with :func:`kmeans.load_points`.

    Returns
    -------
    dict
        ``points`` (float64, row-major; standardised if asked, see
        :func:`points_dataset`), ``n_points``, ``n_features``, ``projection``
        and ``points_2d`` (what to draw), ``explained`` (the share of variance
        the drawing shows), ``truth`` (None).
    """
    from .datasets import load_points as _load_points

    X = _load_points(bytes(memoryview(_to_py(data))), name=str(name), min_features=2)
    return _dataset(_standardised(X, standardise))


def sample_points(kind="blobs", n_points=300, seed=0, standardise=False) -> dict:
    """A seeded toy data set (see :func:`kmeans.make_points`), with its generating groups as ``truth``."""
    from .datasets import make_points

    X, truth = make_points(kind, n_points=_whole(n_points, "n_points"), seed=_whole(seed, "seed", 0))
    return _dataset(_standardised(X, standardise), truth)


def points_dataset(points, n_features, standardise=False) -> dict:
    """The page's own points (edited, from a shared link) as a data set, like :func:`load_points`'s.

    With `standardise`, every column becomes (x - mean) / std (a constant
    column becomes 0). At least one point of at least two features.
    """
    from ._validation import check_data

    X = check_data(_points(points, n_features), name="the data")
    if X.shape[1] < 2:
        raise ValueError(
            f"the points need at least 2 features (columns) to be drawn; got {X.shape[1]}"
        )
    return _dataset(_standardised(X, standardise))


def init_centroids(points, n_features, k, init="random", seed=0, centroids_2d=None, projection=None) -> dict:
    """Initial centroids: ``"random"`` examples (the notebook), ``"k-means++"``, or ``"click"``.

    For ``"click"``, `centroids_2d` are the clicked positions in the drawn
    plane; they are lifted back to the data's space through `projection`.
    """
    X = _points(points, n_features)
    k = _k(k, X)
    choose = _explorer_init(init)
    centroids = choose(X, k, _whole(seed, "seed", 0), centroids_2d, projection)
    return _centroid_reply(centroids, projection, n_features)


def _k(k, X) -> int:
    """The page's K, from 1 to the number of points (check_n_clusters words K < 1 itself)."""
    from ._validation import check_n_clusters

    return check_n_clusters(_whole(k, "K", None), X.shape[0], name="K")


def _random_examples(X, k, seed, _centroids_2d, _projection):
    """The notebook's initialisation: k distinct random examples."""
    from .steps import kmeans_init_centroids

    return kmeans_init_centroids(X, k, rng=seed)


def _kmeans_plusplus(X, k, seed, _centroids_2d, _projection):
    from ._init import kmeans_plusplus

    return kmeans_plusplus(X, k, seed=seed)[0]


def _clicked(X, k, _seed, centroids_2d, projection):
    """Centroids placed by clicks on the drawing, lifted back to the data's space."""
    clicked = _rows(centroids_2d, 2, "the clicked centroids")
    if clicked.shape[0] != k:
        raise ValueError(f"place {k} centroids by clicking; {clicked.shape[0]} placed so far")
    lift = _projection_rows(projection, X.shape[1])
    return lift[0] + clicked @ lift[1:]


#: The explorer's initialisations (the page's #points-init), by name.
_EXPLORER_INITS = {"random": _random_examples, "k-means++": _kmeans_plusplus, "click": _clicked}


def _explorer_init(init):
    try:
        return _EXPLORER_INITS[init]
    except (KeyError, TypeError):
        names = ", ".join(map(repr, _EXPLORER_INITS))
        raise ValueError(f"Unknown init {init!r}; use {names}") from None


def _centroid_reply(centroids, projection, n_features, **extra) -> dict:
    reply = {"centroids": np.ascontiguousarray(centroids, dtype=np.float64).reshape(-1)}
    if projection is not None:
        reply["centroids_2d"] = _project(centroids, projection, n_features)
    reply.update(extra)
    return reply


# -- the explorer: the seeding, step by step --------------------------------------------------

#: Most values the seeding's reply may hold in ``weights`` (K rows of one value per point): 80 MB.
SEEDING_MAX_WEIGHTS = 10_000_000


def seeding(points, n_features, k, seed=0, projection=None) -> dict:
    """k-means++ as it happens: each centroid's candidates and the odds they were drawn with.

    The centroids are those of ``init_centroids(..., init="k-means++")``
    (:func:`kmeans.kmeans_plusplus` with the same seed).

    Returns
    -------
    dict
        ``centroids`` (and ``centroids_2d``); ``indices`` (int32, K), the
        row chosen for each; ``candidates`` (int32, K x ``n_trials``, row c
        the rows drawn for centroid c, padded with -1: centroid 0 is drawn
        alone); ``n_trials``; ``weights`` (float64, K x n_points, row c the
        squared distance D(x)^2 of each point to its nearest earlier
        centroid, which the draw for centroid c was proportional to; row 0
        all ones).
    """
    from ._init import kmeans_plusplus, local_trials

    X = _points(points, n_features)
    k = _k(k, X)
    if k * X.shape[0] > SEEDING_MAX_WEIGHTS:
        raise ValueError(
            f"showing the seeding of K={k} centroids among {X.shape[0]} points needs "
            f"{k * X.shape[0]} values; the limit is {SEEDING_MAX_WEIGHTS}: choose a smaller K"
        )
    n_trials = local_trials(k)
    candidates = np.full((k, n_trials), -1, dtype=np.int32)
    weights = np.empty((k, X.shape[0]), dtype=np.float64)

    def watch(c, _chosen, drawn, closest_sq_before):
        candidates[c, : drawn.size] = drawn
        weights[c] = closest_sq_before

    centroids, indices = kmeans_plusplus(X, k, seed=_whole(seed, "seed", 0), on_center=watch)
    return _centroid_reply(
        centroids, projection, n_features,
        indices=indices.astype(np.int32), candidates=candidates.reshape(-1), n_trials=n_trials,
        weights=weights.reshape(-1),
    )


# -- the explorer: one iteration, or half of one ---------------------------------------------


def _centroid_rows(centroids, n_features) -> np.ndarray:
    """The page's centroids as rows of `n_features` finite values; at least one."""
    from ._validation import check_data

    rows = _rows(centroids, n_features, "the centroids")
    if rows.shape[0] < 1:
        raise ValueError("there are no centroids to step from; choose them first")
    return check_data(rows, name="a centroid")


def _labels(buffer, n_points: int, k: int) -> np.ndarray:
    """The page's labels: one int32 per point (an Int32Array), each naming one of `k` centroids."""
    data = _to_py(buffer)
    if data is None:
        raise ValueError("the labels are missing")
    raw = _as_uint8(data)
    if raw.size != 4 * n_points:
        raise ValueError(f"expected one int32 label per point ({n_points}), got {raw.size} bytes")
    labels = raw.view(np.int32)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"a label is outside 0 to {k - 1}: each names one of the {k} centroids")
    return labels


def step(points, n_features, centroids, projection=None) -> dict:
    """One K-means iteration from `centroids`: assign every point, then move every centroid.

    Uses the notebook's :func:`kmeans.find_closest_centroids` and
    :func:`kmeans.compute_centroids`, so n steps give ``run_kmeans``'s
    ``history[n]``. :func:`assign` and :func:`update` are its two halves.

    Returns
    -------
    dict
        ``labels`` (int32), the new ``centroids`` (and ``centroids_2d``),
        ``inertia`` (of the labels against the new centroids) and
        ``converged`` (True when nothing moved: the previous centroids were
        already the means of their points).
    """
    from .steps import compute_centroids, find_closest_centroids

    X = _points(points, n_features)
    previous = _centroid_rows(centroids, n_features)
    labels = find_closest_centroids(X, previous)
    moved = compute_centroids(X, labels, previous.shape[0], previous_centroids=previous)
    inertia = float(((X - moved[labels]) ** 2).sum())
    return _centroid_reply(
        moved, projection, n_features,
        labels=labels.astype(np.int32), inertia=inertia, converged=bool(np.array_equal(moved, previous)),
    )


def assign(points, n_features, centroids, labels=None) -> dict:
    """Step 2 alone: give every point its closest centroid (:func:`kmeans.find_closest_centroids`).

    `labels`, the previous assignment (one int32 per point), only serves to
    tell which points changed.

    Returns
    -------
    dict
        ``labels`` (int32); ``changed``, how many points changed label (all
        of them without `labels`); ``changed_mask`` (uint8, 1 where a point
        changed); ``inertia``, the sum of squared distances of the points to
        their closest centroid; ``converged``: True when `labels` was given
        and no point changed, so the centroids are already the means of
        their points and K-means has finished.
    """
    from .steps import find_closest_centroids

    X = _points(points, n_features)
    current = _centroid_rows(centroids, n_features)
    new = find_closest_centroids(X, current)
    if labels is None:
        changed = np.ones(X.shape[0], dtype=bool)
    else:
        changed = new != _labels(labels, X.shape[0], current.shape[0])
    n_changed = int(np.count_nonzero(changed))
    return {
        "labels": new.astype(np.int32),
        "changed": n_changed,
        "changed_mask": changed.astype(np.uint8),
        "inertia": float(((X - current[new]) ** 2).sum()),
        "converged": labels is not None and n_changed == 0,
    }


def update(points, n_features, centroids, labels, projection=None) -> dict:
    """Step 3 alone: move each centroid to its points' mean (:func:`kmeans.compute_centroids`).

    A centroid without points stays where it is.

    Returns
    -------
    dict
        The new ``centroids`` (and ``centroids_2d``); ``inertia``, of the
        `labels` against the new centroids; ``moved``, the farthest any
        centroid moved.
    """
    from .steps import compute_centroids

    X = _points(points, n_features)
    previous = _centroid_rows(centroids, n_features)
    labels = _labels(labels, X.shape[0], previous.shape[0])
    moved = compute_centroids(X, labels, previous.shape[0], previous_centroids=previous)
    return _centroid_reply(
        moved, projection, n_features,
        inertia=float(((X - moved[labels]) ** 2).sum()),
        moved=float(np.sqrt(((moved - previous) ** 2).sum(axis=1)).max()),
    )


# -- the explorer: the code that just ran ----------------------------------------------------

#: The functions whose source the page shows, each with its module and the texts that mark
#: its lines that matter (found in the source as shipped, so they follow any edit).
_SOURCES = {
    "find_closest_centroids": ("steps", ("squared_distances = (", ".argmin(axis=1)")),
    "compute_centroids": ("steps", ("members = X[idx == j]", "members.mean(axis=0)")),
    "greedy_kmeans_plusplus": (
        "_init",
        ("first = int(_weighted_draw(", "candidates = _weighted_draw(",
         "best = int(np.argmin(potentials))"),
    ),
}


def source(name) -> dict:
    """The source of a function the explorer runs, as shipped, and the lines that matter in it.

    Returns
    -------
    dict
        ``name``; ``module``, its file (``"kmeans/steps.py"``); ``source``,
        the function's text; ``first_line``, the line of the file it starts
        on; ``highlight``, the 1-based numbers of the lines of ``source`` to
        highlight.
    """
    import importlib
    import inspect

    try:
        module_name, markers = _SOURCES[name]
    except (KeyError, TypeError):
        raise ValueError(f"no source to show for {name!r}; the page may ask for "
                         f"{', '.join(_SOURCES)}") from None
    function = getattr(importlib.import_module(f".{module_name}", __package__), name)
    lines, first_line = inspect.getsourcelines(function)
    highlight = []
    for marker in markers:
        found = [number for number, line in enumerate(lines, start=1) if marker in line]
        if not found:  # the function was edited: _SOURCES must follow
            raise RuntimeError(f"{marker!r} is no longer in the source of {name}")
        highlight.extend(found)
    return {
        "name": name,
        "module": function.__module__.replace(".", "/") + ".py",
        "source": "".join(lines),
        "first_line": int(first_line),
        "highlight": sorted(set(highlight)),
    }


# -- the explorer: comparing runs -------------------------------------------------------------

#: Most runs one restarts request makes.
RESTARTS_MAX_RUNS = 100


def restarts(points, n_features, k, init="random", seed=0, n_runs=10, max_iter=300) -> dict:
    """K-means from `n_runs` seeds, ``seed, seed + 1, ...``: how much the end depends on the start.

    Each run is what stepping on the page gives: the centroids of
    :func:`init_centroids` for that seed (``"random"`` or ``"k-means++"``),
    then :func:`kmeans.run_kmeans` until nothing changes (at most
    `max_iter` iterations).

    Returns
    -------
    dict
        ``seeds`` (uint32: seeds reach 4294967295, past int32), ``inertias``
        (float64, final inertia of each run), ``n_iter`` (int32, iterations
        that moved the centroids), ``best`` (index of the lowest inertia,
        the first of equal ones).
    """
    from .steps import run_kmeans

    if init == "click":
        raise ValueError("restarts need a random initialisation; choose 'random' or 'k-means++'")
    choose = _explorer_init(init)
    X = _points(points, n_features)
    k = _k(k, X)
    n_runs = IntRange(1, RESTARTS_MAX_RUNS).check(_whole(n_runs, "n_runs"), "n_runs")
    max_iter = RANGES["max_iter"].check(_whole(max_iter, "max_iter"), "max_iter")
    seeds = RANGES["seed"]
    first = seeds.check(_whole(seed, "seed", 0), "seed")
    if first + n_runs - 1 > seeds.maximum:
        raise ValueError(
            f"{n_runs} runs from seed {first} would need seeds up to {first + n_runs - 1}; "
            f"seeds go up to {seeds.maximum}, so start at {seeds.maximum - n_runs + 1} at most"
        )
    run_seeds = np.arange(first, first + n_runs, dtype=np.uint32)
    inertias = np.empty(n_runs, dtype=np.float64)
    n_iter = np.empty(n_runs, dtype=np.int32)
    for run, run_seed in enumerate(run_seeds.tolist()):
        initial = choose(X, k, run_seed, None, None)
        centroids, labels, history = run_kmeans(X, initial, max_iters=max_iter)
        inertias[run] = ((X - centroids[labels]) ** 2).sum()
        n_iter[run] = len(history) - 1  # history[0] is the start
    best = int(np.argmin(inertias))  # the first of equal inertias
    return {"seeds": run_seeds, "inertias": inertias, "n_iter": n_iter, "best": best}


#: The elbow's silhouettes use at most this many points, a seeded sample of bigger data: the
#: silhouette's time grows with the square of the points.
SILHOUETTE_MAX_POINTS = 2000


def elbow(points, n_features, k_max=10, seed=0) -> dict:
    """Final inertia of :class:`kmeans.KMeans` (k-means++) for K = 1 ... k_max, and its silhouette.

    Returns
    -------
    dict
        ``k`` (int32) and ``inertia`` (float64); ``silhouette_k`` (int32,
        K = 2 ... k_max, at most n_points - 1) and ``silhouette`` (float64,
        the mean silhouette of that fit's labels, :func:`kmeans.silhouette_score`;
        NaN where the points used hold one cluster only, or one per point);
        ``silhouette_sample``, how many points it used: all of them, or a
        sample drawn with `seed` above ``SILHOUETTE_MAX_POINTS``.
    """
    from .cluster import KMeans
    from .silhouette import silhouette_score

    X = _points(points, n_features)
    seed = _whole(seed, "seed", 0)
    ks = list(range(1, min(_whole(k_max, "k_max"), X.shape[0]) + 1))
    fits = [KMeans(k, random_state=seed).fit(X) for k in ks]
    sample = min(X.shape[0], SILHOUETTE_MAX_POINTS)
    silhouette_ks = [k for k in ks if 2 <= k <= X.shape[0] - 1]
    silhouettes = []
    for k in silhouette_ks:
        try:
            score = silhouette_score(X, fits[k - 1].labels_, sample_size=sample, seed=seed)
        except ValueError:  # the sample holds one cluster, or one per point: no silhouette
            score = np.nan
        silhouettes.append(score)
    return {
        "k": np.array(ks, dtype=np.int32),
        "inertia": np.array([fit.inertia_ for fit in fits], dtype=np.float64),
        "silhouette_k": np.array(silhouette_ks, dtype=np.int32),
        "silhouette": np.array(silhouettes, dtype=np.float64),
        "silhouette_sample": sample,
    }


def figure_png(points, n_features, labels, history, projection, k) -> dict:
    """The notebook's figure (points by cluster, centroid trails) as PNG bytes, drawn by matplotlib.

    `history` holds the centroids (k x n_features each) before the first
    iteration and after every one, concatenated.
    """
    import io

    from .figures import plot_clusters

    X = _points(points, n_features)
    k = _whole(k, "K")
    points_2d = _project(X, projection, n_features).reshape(-1, 2)
    steps = _rows(history, n_features, "the history")
    if steps.shape[0] % k:
        raise ValueError(f"history holds {steps.shape[0]} centroids, not a multiple of k={k}")
    trail = _project(steps, projection, n_features).reshape(-1, k, 2)
    labels = _labels(labels, X.shape[0], k)
    if trail.shape[0] == 0:
        raise ValueError("the history holds no centroids")
    figure = plot_clusters(points_2d, labels, trail[-1], list(trail))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = buffer.getvalue()
    return {"png": np.frombuffer(png, dtype=np.uint8), "bytes": len(png)}


# -- the one entry point the worker calls -----------------------------------------------------

#: The functions the page may call, by request type (static/protocol.js REQUEST).
FUNCTIONS = {
    "quantize": quantize,
    "compress": compress,
    "encode_png": encode_png,
    "expect": expect,
    "png_parts": png_parts,
    "deflate_pieces": deflate_pieces,
    "finish_png": finish_png,
    "score": score,
    "load_points": load_points,
    "sample_points": sample_points,
    "points_dataset": points_dataset,
    "init_centroids": init_centroids,
    "seeding": seeding,
    "step": step,
    "assign": assign,
    "update": update,
    "source": source,
    "restarts": restarts,
    "elbow": elbow,
    "figure_png": figure_png,
    "warm_up": warm_up,
}


def call(_function, **kwargs) -> dict:
    """Run ``FUNCTIONS[_function](**kwargs)`` and return ``{"result": ...}`` or ``{"error": ...}``.

    Errors come back as a value, ``{"name": "ValueError", "message": "..."}``,
    instead of an exception crossing into JavaScript: the message is the
    user-facing text, with no traceback to parse, and the worker never
    unwinds a Python exception through the JavaScript boundary (where rare
    WebAssembly traps were seen in Pyodide 0.27 with Chromium's stack
    switching).
    """
    try:
        function = FUNCTIONS[_function]
    except KeyError:
        return {"error": {"name": "ValueError", "message": f"unknown request type {_function!r}"}}
    if function is not warm_up:
        # A request during the warm-up gets the heap it has committed so far (see warm_up): the blocks,
        # freed, leave one free region for the request's arrays. Held, they made a 12 MP photo grow the
        # heap past them, to 398 MB instead of 276.
        _warm_up_blocks.clear()
    try:
        return {"result": function(**kwargs)}
    except Exception as error:  # every failure becomes a message for the page
        return {"error": {"name": type(error).__name__, "message": str(error)}}
