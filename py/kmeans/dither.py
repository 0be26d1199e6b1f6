"""Dithering: give pixels palette entries whose errors average out, so gradients do not band.

Called by the quantizer's "assign pixels" stage (:func:`kmeans.quantize.assign_pixels`)
when the dithering strength is above 0.

A palette of K colours turns a smooth sky into K flat bands. *Error
diffusion* hides them: each pixel takes the palette entry nearest to its
colour plus the error its neighbours left, and passes its own error on to
the pixels not yet visited (Floyd and Steinberg's weights: 7/16 to the right,
3/16, 5/16 and 1/16 to the row below). A region between two palette colours
becomes a fine mix of both whose average is the region's colour.

Plain error diffusion also costs: it scatters specks over flat areas (which
compress badly) and makes edges ragged. So, as pngquant does:

- an *edge and noise map* lowers the diffusion where the image changes fast
  (an edge gets jagged; noise already hides banding), see :func:`diffusion_map`;
- errors smaller than ``TINY_ERROR`` (in 0-255 units) are not passed on, so
  that flat areas stay flat (and small);
- errors are clamped to ``MAX_ERROR`` per channel, so that one bad pixel does
  not leave a trail of specks.

How it runs fast in NumPy
-------------------------
A pixel's inputs come from its left neighbour and from three pixels of the
row above (up-left, up, up-right). So every pixel on one "wavefront"
``x + 2y = t`` depends only on earlier wavefronts: the W + 2H wavefronts are
visited in order, and each one is a handful of vectorised operations over
all its pixels. The errors are kept as whole numbers of 1/16 of a level
(``int16``), so every step is exact integer arithmetic or one IEEE rounding:
the result is the same to the bit in CPython and in Pyodide.

The nearest palette entry of each (rounded) target colour is kept in a table
indexed by colour, filled the first time a colour is met (exact nearest in
the fitting space, ties to the lower index).
"""

from __future__ import annotations

import numpy as np

from ._distances import nearest_two

#: Errors (per channel, 0-255 units) below this are not diffused: flat areas stay flat.
TINY_ERROR = 2.0

#: Largest error passed on, per channel: one outlier pixel cannot start a trail of specks.
MAX_ERROR = 48.0

#: How fast the diffusion falls with local contrast (the second difference of
#: the luma, 0-255 units): at a contrast of 255 / EDGE_GAIN it stops.
EDGE_GAIN = 6.0

#: With dithering, a pixel in texture weighs this much in the palette's fit, one in a smooth
#: area 1 (see :func:`importance`).
TEXTURE_WEIGHT = 0.33

#: Floyd-Steinberg weights in sixteenths: right, down-left, down, down-right.
_WEIGHTS = (7, 3, 5, 1)


def diffusion_map(rgb) -> np.ndarray:
    """How much error each pixel takes in, from 0 (an edge) to 1 (a smooth area).

    The local contrast is the larger of the horizontal and vertical second
    differences of the luma; the map falls with it (squared, so that mild
    texture keeps most of the dithering) and is then eroded over 3x3 pixels,
    so that both sides of an edge are spared.

    Parameters
    ----------
    rgb : ndarray of shape (height, width, 3), uint8 or float

    Returns
    -------
    ndarray of shape (height, width), float32
    """
    luma = (rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587)
            + rgb[..., 2] * np.float32(0.114)).astype(np.float32)
    padded = np.pad(luma, 1, mode="edge")
    centre = padded[1:-1, 1:-1]
    horizontal = np.abs(padded[1:-1, :-2] + padded[1:-1, 2:] - 2 * centre)
    vertical = np.abs(padded[:-2, 1:-1] + padded[2:, 1:-1] - 2 * centre)
    contrast = np.maximum(horizontal, vertical) * np.float32(EDGE_GAIN / 255.0)
    smooth = np.clip(np.float32(1.0) - contrast, 0.0, 1.0)
    smooth *= smooth
    # Erode: a pixel next to an edge gets that edge's (low) value too.
    padded = np.pad(smooth, 1, mode="edge")
    eroded = smooth.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            np.minimum(eroded, padded[dy : dy + smooth.shape[0], dx : dx + smooth.shape[1]], out=eroded)
    return eroded


def importance(smooth) -> np.ndarray:
    """How much each pixel should weigh in the palette's fit when the result is dithered.

    Error hides in texture (noise dithers itself), and dithering can smooth a
    gradient only between palette colours that surround it; so smooth areas,
    where banding shows, get weight 1 and textured ones ``TEXTURE_WEIGHT``,
    as pngquant weighs them. `smooth` is :func:`diffusion_map`'s result; its
    4th power keeps the full weight for truly smooth areas only.
    """
    smooth = smooth.astype(np.float64)
    smooth *= smooth
    smooth *= smooth
    return TEXTURE_WEIGHT + (1.0 - TEXTURE_WEIGHT) * smooth


class _NearestTable:
    """Nearest palette entry of 24-bit colours, computed once per colour met."""

    def __init__(self, palette_fit, to_fit):
        self.palette_fit = palette_fit
        self.to_fit = to_fit
        self.table = np.full(1 << 24, -1, dtype=np.int16)

    def fill(self, keys):
        """Compute the entries of `keys` (distinct or not) that are not known yet."""
        keys = np.unique(keys)
        colours = np.empty((keys.size, 3), dtype=np.float64, order="F")
        for c in range(3):
            colours[:, c] = (keys >> (8 * c)) & 0xFF
        labels, _best, _second = nearest_two(self.to_fit(colours), self.palette_fit)
        self.table[keys] = labels

    def __call__(self, keys):
        found = self.table[keys]
        missing = found < 0
        if missing.any():
            self.fill(keys[missing])
            found = self.table[keys]
        return found


def error_diffusion(rgb, palette, *, strength, palette_fit=None, to_fit=None, known=None, visible=None, gain=None):
    """Palette indices of `rgb` by Floyd-Steinberg error diffusion (see the module docstring).

    Parameters
    ----------
    rgb : ndarray of shape (height, width, 3), dtype uint8
    palette : ndarray of shape (n_colors, 3), dtype uint8
        sRGB entries; errors are measured and diffused in sRGB.
    strength : float
        0 to 1: the share of each error passed on.
    palette_fit : ndarray of shape (n_colors, 3), optional
        The palette in the fitting space, where "nearest" is measured (default: `palette`).
    to_fit : callable, optional
        Maps (n, 3) float64 sRGB colours into the fitting space (default: identity).
    known : tuple (keys, labels), optional
        Colours whose nearest entry is known already (24-bit keys, as
        :mod:`kmeans._distinct` packs them) and those entries: the table starts from them.
    visible : ndarray of shape (height, width), bool, optional
        Pixels to dither; the others (fully transparent) neither take nor pass on errors.
        Their index is left at 0 for the caller to replace.
    gain : ndarray of shape (height, width), float32, optional
        :func:`diffusion_map` of `rgb`, when the caller has it already.

    Returns
    -------
    indices : ndarray of shape (height, width), dtype uint8
    """
    height, width, _ = rgb.shape
    if palette_fit is None:
        palette_fit = palette.astype(np.float64)
    nearest = _NearestTable(np.asarray(palette_fit, dtype=np.float64), to_fit or (lambda colours: colours))
    if known is not None:
        keys, labels = known
        nearest.table[keys] = labels
    pixels = rgb.reshape(-1, 3)
    gain = (diffusion_map(rgb) if gain is None else gain.copy()).reshape(-1)
    visible_flat = None if visible is None else visible.reshape(-1)
    if visible_flat is not None:
        gain[~visible_flat] = 0.0
    # Error accumulators in 1/16 levels, with a padding column on each side and a row below.
    stride = width + 2
    errors = np.zeros(((height + 1) * stride, 3), dtype=np.int16)
    indices = np.zeros(height * width, dtype=np.uint8)
    palette_f = palette.astype(np.float32)
    passed = np.float32(strength)
    sixteenth = np.float32(1 / 16)
    rows = np.arange(height)
    for t in range(width + 2 * (height - 1)):
        # The pixels (x, y) with x + 2y = t, from the top row down.
        first, last = max(0, (t - width + 2) // 2), min(height - 1, t // 2)
        ys = rows[first : last + 1]
        at = t + ys * (width - 2)  # y * width + x
        here = at + 2 * ys + 1  # y * stride + x + 1
        wanted = errors[here].astype(np.float32)
        wanted *= (gain[at] * sixteenth)[:, None]
        wanted += pixels[at]
        np.clip(wanted, 0, 255, out=wanted)
        rounded = np.rint(wanted).astype(np.intp)
        keys = rounded[:, 0] | (rounded[:, 1] << 8) | (rounded[:, 2] << 16)
        chosen = nearest(keys)
        indices[at] = chosen
        error = wanted - palette_f[chosen]
        np.clip(error, -MAX_ERROR, MAX_ERROR, out=error)
        error[np.abs(error).max(axis=1) < TINY_ERROR] = 0.0
        if visible_flat is not None:
            error[~visible_flat[at]] = 0.0
        error *= passed
        for offset, weight in zip((1, stride - 1, stride, stride + 1), _WEIGHTS):
            errors[here + offset] += np.rint(error * np.float32(weight)).astype(np.int16)
    return indices.reshape(height, width)
