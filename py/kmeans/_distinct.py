"""An image's distinct colours and how many pixels have each: the quantizer's first stage.

Called by :func:`kmeans.quantize.quantize_image`. K-means on the pixels is
the same problem as K-means on the distinct colours weighted by their
counts, so everything after this stage works on (usually far) fewer rows.

A colour is handled as one integer *key* (channel c in bits 8c to 8c+7, the
byte order of an RGBA pixel read as a little-endian 32-bit integer).
:func:`distinct_colours` returns the sorted distinct keys, their counts, and
a function that spreads one value per distinct colour back to every pixel.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np

#: Images with fewer pixels than this sort their colour keys to find the
#: distinct colours; larger ones use a counting pass over all 2**24 RGB
#: values, which is linear in the pixels but always touches a 128 MiB table.
COUNTING_MIN_PIXELS = 1 << 21


def pack(channels) -> np.ndarray:
    """Pack 3 or 4 uint8 channel planes (each shape (n,)) into one integer key per pixel.

    Three channels give intp keys (24 bits fit even in WebAssembly's 32-bit
    intp), which np.bincount and indexing take without a cast; four give uint32.
    """
    key = np.zeros(channels[0].shape, dtype=np.intp if len(channels) <= 3 else np.uint32)
    for c, plane in enumerate(channels):
        key |= plane.astype(key.dtype) << (8 * c)
    return key


def colour_keys(pixels, n_channels) -> np.ndarray:
    """Colour keys of the first `n_channels` of each row of `pixels` (shape (n, 3 or 4), uint8).

    On a little-endian machine (every platform we run on, WebAssembly
    included) a pixel's four RGBA bytes already are its key: for contiguous
    RGBA rows one view and one mask do instead of shifting each channel.
    RGB rows (made contiguous first) are read the same way, 4 bytes every 3
    (a row and the next row's red, masked off), the last row on its own.
    Equal to :func:`pack`.
    """
    if sys.byteorder == "little" and n_channels <= 3:
        if pixels.shape[1] == 3:
            return _rgb_keys(np.ascontiguousarray(pixels))
        if pixels.flags.c_contiguous:
            keys = pixels.view(np.int32).reshape(-1) & 0xFFFFFF
            return keys.astype(np.intp, copy=False)
    if pixels.shape[1] == 4 and n_channels == 4 and pixels.flags.c_contiguous and sys.byteorder == "little":
        return pixels.view(np.uint32).reshape(-1)
    return pack([pixels[:, c] for c in range(n_channels)])


def _rgb_keys(pixels) -> np.ndarray:
    """:func:`colour_keys` of C-contiguous RGB rows, little-endian.

    Copying the rows into 4-byte rows first went element by element: for a
    12-megapixel photo 0.11-0.13 s natively, where these unaligned reads take 0.03 s.
    """
    n = pixels.shape[0]
    keys = np.empty(n, dtype=np.intp)
    if n == 0:
        return keys
    # Row i's bytes and row i + 1's first one, as one 32-bit word: never past the last row's bytes.
    words = np.ndarray((n - 1,), dtype="<u4", buffer=pixels.reshape(-1), strides=(3,))
    np.bitwise_and(words, 0xFFFFFF, out=keys[:-1], casting="unsafe")
    red, green, blue = (int(value) for value in pixels[-1])
    keys[-1] = red | green << 8 | blue << 16
    return keys


def unpack(keys, n_channels) -> np.ndarray:
    """Inverse of :func:`pack`: keys (n,) -> float64 colours (n, n_channels), column-major."""
    colours = np.empty((keys.size, n_channels), dtype=np.float64, order="F")
    for c in range(n_channels):
        colours[:, c] = (keys >> (8 * c)) & 0xFF
    return colours


class DistinctColours(NamedTuple):
    """The distinct colours of some pixels: see :func:`count_colours`."""

    #: ndarray of shape (n_colours, n_channels), float64, column-major: the colours, by key.
    colours: np.ndarray
    #: ndarray of shape (n_colours,), float64: how many pixels have each.
    weights: np.ndarray
    #: ``lookup(values)``: one value per colour (shape (n_colours,)) -> one per pixel.
    lookup: object
    #: ndarray of shape (n_colours,): each colour's key (see :func:`pack`), sorted.
    keys: np.ndarray


def count_colours(pixels, n_channels, pixel_weights=None) -> DistinctColours:
    """The distinct colours of `pixels` (shape (n, 3 or 4), uint8), counting `n_channels` of them.

    Parameters
    ----------
    pixels : ndarray of shape (n, 3 or 4), dtype uint8
    n_channels : int
        3 (the colour) or 4 (colour and alpha).
    pixel_weights : ndarray of shape (n,), or callable, optional
        Weights (each above 0) that replace the counts: each colour weighs
        the sum of its pixels' weights. A callable ``pixel_weights(start,
        stop)`` gives those of ``pixels[start:stop]``, so that a big image's
        weights are made a strip at a time.

    Notes
    -----
    Big images (from ``COUNTING_MIN_PIXELS``, 24-bit keys) are counted a
    strip at a time (four ``STRIP_PIXELS``, or a quarter of one with
    weights) into one table of all 2**24 colours, and the lookup makes their
    keys again a strip at a time: no array of one key or weight per pixel of
    a 100-megapixel photo is ever whole, which is what lets the page take
    it. Weights are added by ``np.add.at`` in pixel order, so their sums are
    those of one ``np.bincount`` over the whole image, to the bit.
    """
    weigh = pixel_weights
    if pixel_weights is not None and not callable(pixel_weights):
        def weigh(start, stop):
            return pixel_weights[start:stop]
    if n_channels == 3 and pixels.shape[0] >= COUNTING_MIN_PIXELS:
        return _count_in_strips(pixels, weigh)
    keys = colour_keys(pixels, n_channels)
    distinct, counts, lookup = distinct_colours(keys, 8 * n_channels)
    weights = counts.astype(np.float64)
    if weigh is not None:
        position = lookup(np.arange(distinct.size, dtype=np.int32))
        weights = np.bincount(position, weights=weigh(0, pixels.shape[0]), minlength=distinct.size)
    return DistinctColours(unpack(distinct, n_channels), weights, lookup, distinct)


#: Pixels per strip of the lookup and the quantizer's error sum (16 MB of keys in WebAssembly); the
#: counting pass takes four at a time.
STRIP_PIXELS = 1 << 22


def strips(n_pixels, size=None):
    """(start, stop) of each strip of `size` pixels (default ``STRIP_PIXELS``)."""
    size = size or STRIP_PIXELS
    for start in range(0, n_pixels, size):
        yield start, min(n_pixels, start + size)


def _count_in_strips(pixels, weigh) -> DistinctColours:
    """:func:`count_colours` by a counting pass over all 2**24 RGB values (linear in the pixels)."""
    # Counts come in quadruple strips, so up to 16 MP in one np.bincount: each strip's count makes a
    # table of its own (64 MB in WebAssembly) to add, more than the strip's keys take (a 12 MP
    # photo's counting peaks at 112 MB instead of 144, and takes 42 ms instead of 55 in Pyodide).
    table = None
    for start, stop in strips(pixels.shape[0], 4 * STRIP_PIXELS):
        keys = colour_keys(pixels[start:stop], 3)
        if table is None:
            table = np.bincount(keys, minlength=1 << 24)
        else:
            table += np.bincount(keys, minlength=1 << 24)  # whole counts: exact in any order, and twice as fast
    del keys  # (up to 64 MB)
    distinct = np.flatnonzero(table > 0).astype(np.uint32)  # a bool scan is faster than an int one
    if weigh is None:
        weights = table[distinct].astype(np.float64)
    else:
        # The count table, no longer needed, becomes each colour's row (a table of weights by colour
        # would take 128 MB, twice as much). Weights are added in pixel order by np.add.at, which
        # gives the sums of one bincount over the whole image, to the bit; they come in quarter
        # strips, as making them takes float64 temporaries, 8 bytes a pixel each.
        table[distinct] = np.arange(distinct.size)
        weights = np.zeros(distinct.size)
        for start, stop in strips(pixels.shape[0], max(1, STRIP_PIXELS // 4)):
            np.add.at(weights, table[colour_keys(pixels[start:stop], 3)], weigh(start, stop))
    del table  # 64 MB, free before the fit and the dithering (lookup makes its own, of bytes)

    def lookup(table_values):
        # Only the entries of distinct keys are ever written or read: no initialising.
        values = np.empty(1 << 24, dtype=table_values.dtype)
        values[distinct] = table_values
        spread = np.empty(pixels.shape[0], dtype=table_values.dtype)
        for start, stop in strips(pixels.shape[0]):
            spread[start:stop] = values[colour_keys(pixels[start:stop], 3)]
        return spread

    return DistinctColours(unpack(distinct, 3), weights, lookup, distinct)


def distinct_colours(keys, n_bits):
    """Distinct keys (sorted), their counts, and a function mapping per-key values to every pixel.

    24-bit keys never need np.unique's argsort: a plain sort of the keys
    finds them, and the per-pixel mapping is then one lookup in a table
    indexed by colour. (Big images take :func:`count_colours`'s counting
    pass instead.)
    """
    if n_bits == 24:
        ordered = np.sort(keys.astype(np.uint32))  # sorting 4-byte keys is faster than 8-byte ones
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        distinct = ordered[starts]
        return distinct, np.diff(starts, append=ordered.size), _table_lookup(keys, distinct)
    distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return distinct, counts, lambda table_values: table_values[inverse.reshape(-1)]


def _table_lookup(keys, distinct):
    """A function mapping per-colour values (one per entry of `distinct`) to per-key values.

    The values go into a table indexed by 24-bit colour, which `keys` then
    index: only the entries of distinct colours are written or read, so the
    table needs no initialising.
    """

    def lookup(table_values):
        values = np.empty(1 << 24, dtype=table_values.dtype)
        values[distinct] = table_values
        return values[keys]

    return lookup
