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
    RGBA rows one view and one mask do instead of shifting each channel, and
    RGB rows are first copied into 4-byte rows. Equal to :func:`pack`.
    """
    if sys.byteorder == "little" and n_channels <= 3:
        if pixels.shape[1] == 3:
            rows = np.zeros((pixels.shape[0], 4), dtype=np.uint8)
            rows[:, :3] = pixels
            return rows.view(np.int32).reshape(-1).astype(np.intp, copy=False)
        if pixels.flags.c_contiguous:
            keys = pixels.view(np.int32).reshape(-1) & 0xFFFFFF
            return keys.astype(np.intp, copy=False)
    if pixels.shape[1] == 4 and n_channels == 4 and pixels.flags.c_contiguous and sys.byteorder == "little":
        return pixels.view(np.uint32).reshape(-1)
    return pack([pixels[:, c] for c in range(n_channels)])


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

    `pixel_weights` (shape (n,), each above 0), when given, replace the
    counts: each colour weighs the sum of its pixels' weights.
    """
    keys = colour_keys(pixels, n_channels)
    if pixel_weights is not None and n_channels == 3 and keys.size >= COUNTING_MIN_PIXELS:
        # One counting pass with the weights gives the colours too: every weight is above 0.
        table = np.bincount(keys, weights=pixel_weights, minlength=1 << 24)
        distinct = np.flatnonzero(table > 0).astype(np.uint32)
        weights = table[distinct]
        return DistinctColours(unpack(distinct, n_channels), weights, _table_lookup(keys, distinct, table), distinct)
    distinct, counts, lookup = distinct_colours(keys, 8 * n_channels)
    weights = counts.astype(np.float64)
    if pixel_weights is not None:
        position = lookup(np.arange(distinct.size, dtype=np.int32))
        weights = np.bincount(position, weights=pixel_weights, minlength=distinct.size)
    return DistinctColours(unpack(distinct, n_channels), weights, lookup, distinct)


def distinct_colours(keys, n_bits):
    """Distinct keys (sorted), their counts, and a function mapping per-key values to every pixel.

    24-bit keys never need np.unique's argsort: big images take a counting
    pass (np.bincount, linear time), smaller ones a plain sort of the keys.
    The per-pixel mapping is then one lookup in a table indexed by colour.
    """
    if n_bits == 24 and keys.size >= COUNTING_MIN_PIXELS:
        table = np.bincount(keys, minlength=1 << 24)
        distinct = np.flatnonzero(table > 0).astype(np.uint32)  # a bool scan is faster than an int one
        counts = table[distinct]
        # Only the entries of distinct keys are ever read, so the count table's
        # memory (no longer needed) holds the values: no new table to allocate.
        return distinct, counts, _table_lookup(keys, distinct, table)
    if n_bits == 24:
        ordered = np.sort(keys.astype(np.uint32))  # sorting 4-byte keys is faster than 8-byte ones
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        distinct = ordered[starts]
        return distinct, np.diff(starts, append=ordered.size), _table_lookup(keys, distinct)
    distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return distinct, counts, lambda table_values: table_values[inverse.reshape(-1)]


def _table_lookup(keys, distinct, spare=None):
    """A function mapping per-colour values (one per entry of `distinct`) to per-key values.

    The values go into a table indexed by 24-bit colour, which `keys` then
    index: only the entries of distinct colours are written or read, so the
    table needs no initialising. `spare`, an array of at least 2**24 entries
    that is no longer needed, holds the table when its items are big enough.
    """

    def lookup(table_values):
        if spare is not None and table_values.dtype.itemsize <= spare.dtype.itemsize:
            values = spare.view(table_values.dtype)[: 1 << 24]
        else:
            values = np.empty(1 << 24, dtype=table_values.dtype)
        values[distinct] = table_values
        return values[keys]

    return lookup
