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

import time
import warnings

import numpy as np

from . import __version__
from .images import encode_png as _encode_png
from .quantize import QuantizedImage, quantize_image

#: Largest image the page accepts, in megapixels. At this size the RGBA
#: input (100 MB) plus the quantizer's work arrays stay well inside the
#: browser's WebAssembly memory.
MAX_MEGAPIXELS = 25


def _as_uint8(buffer) -> np.ndarray:
    """View a bytes-like object (or a JS typed array proxy) as a 1-D uint8 array."""
    if hasattr(buffer, "to_py"):  # a JsProxy of a Uint8Array in Pyodide
        buffer = buffer.to_py()
    return np.frombuffer(buffer, dtype=np.uint8)


def _check_size(width, height):
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive whole number of pixels, got {value!r}")
    megapixels = width * height / 1e6
    if megapixels > MAX_MEGAPIXELS:
        raise ValueError(
            f"the image is {width}x{height} ({megapixels:.1f} megapixels); the limit is "
            f"{MAX_MEGAPIXELS} megapixels: scale it down first"
        )


def info() -> dict:
    """Versions, for the page's footer and the boot log."""
    return {"version": __version__, "numpy": np.__version__, "max_megapixels": MAX_MEGAPIXELS}


def quantize(pixels, width, height, n_colors=16, seed=0, max_iter=300, progress=None) -> dict:
    """Quantize RGBA pixels from a canvas.

    Parameters
    ----------
    pixels : bytes-like of length ``width * height * 4``
        RGBA bytes, row by row (a canvas ``ImageData.data`` buffer).
    width, height : int
    n_colors : int, default=16
    seed : int, default=0
    max_iter : int, default=300
    progress : callable, optional
        ``progress(n_iter, max_iter)`` after each K-means iteration.

    Returns
    -------
    dict
        ``indices`` (uint8, one per pixel), ``palette`` (uint8 RGBA, 4 per
        colour), ``n_colors``, ``n_iter``, ``mse``, ``psnr`` (None when the
        copy is exact), ``seconds`` and ``warning`` (a message or None).
    """
    started = time.perf_counter()
    _check_size(width, height)
    flat = _as_uint8(pixels)
    if flat.size != width * height * 4:
        raise ValueError(
            f"expected {width}x{height}x4 = {width * height * 4} RGBA bytes, got {flat.size}"
        )
    image = flat.reshape(height, width, 4)
    if (image[:, :, 3] == 255).all():
        image = image[:, :, :3]  # opaque: fit RGB only

    callback = None
    if progress is not None:
        def callback(n_iter, centers, inertia):
            if n_iter > 0:
                progress(n_iter, max_iter)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = quantize_image(image, n_colors, seed=seed, max_iter=max_iter, callback=callback)
    palette = result.palette
    if palette.shape[1] == 3:
        palette = np.column_stack([palette, np.full(palette.shape[0], 255, np.uint8)])
    return {
        "indices": np.ascontiguousarray(result.indices.reshape(-1)),
        "palette": np.ascontiguousarray(palette.reshape(-1)),
        "n_colors": int(result.n_colors),
        "n_iter": int(result.n_iter),
        "mse": float(result.mse),
        "psnr": None if result.mse == 0 else float(result.psnr),
        "seconds": time.perf_counter() - started,
        "warning": str(caught[0].message) if caught else None,
    }


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
    indices = _as_uint8(indices)
    palette = _as_uint8(palette).reshape(-1, 4)
    if indices.size != width * height:
        raise ValueError(f"expected {width * height} indices, got {indices.size}")
    if palette.shape[0] < 1 or int(indices.max()) >= palette.shape[0]:
        raise ValueError("an index points past the end of the palette")
    if (palette[:, 3] == 255).all():
        palette = palette[:, :3]  # no tRNS chunk for an opaque image
    quantized = QuantizedImage(palette, indices.reshape(height, width), 0, 0.0)
    png = _encode_png(quantized)
    return {
        "png": np.frombuffer(png, dtype=np.uint8),
        "bytes": len(png),
        "seconds": time.perf_counter() - started,
    }
