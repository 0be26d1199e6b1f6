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

from ._distances import EXPANDED_MIN_CLUSTERS, nearest_two
from ._selects import larger, smaller

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

#: Wavefronts between two progress reports.
_PROGRESS_EVERY = 256

#: Floyd-Steinberg weights in sixteenths: right, down-left, down, down-right.
_WEIGHTS = (7, 3, 5, 1)


def diffusion_map(rgb) -> np.ndarray:
    """How much error each pixel takes in, from 0 (an edge) to 1 (a smooth area).

    The local contrast is the larger of the horizontal and vertical second
    differences of the luma; the map falls with it (squared, so that mild
    texture keeps most of the dithering) and is then eroded over 3x3 pixels,
    so that both sides of an edge are spared. Beyond the image's edges its
    border pixels repeat.

    Parameters
    ----------
    rgb : ndarray of shape (height, width, 3), uint8 or float

    Returns
    -------
    ndarray of shape (height, width), float32

    Notes
    -----
    The map is made in bands of rows that fit in the processor's cache (each
    band reads two rows beyond it on either side): a dozen passes over a
    whole 12-megapixel photo would each go to main memory.
    """
    height, width = rgb.shape[:2]
    eroded = np.empty((height, width), dtype=np.float32)
    rows = max(1, _BAND_PIXELS // width)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        # The smoothness of rows top - 1 .. bottom (those in the image), from the luma of one more row each side.
        first, last = max(0, top - 1), min(height, bottom + 1)
        luma = _luma(rgb[np.clip(np.arange(first - 1, last + 1), 0, height - 1)])
        smooth = _smoothness(np.pad(luma, ((0, 0), (1, 1)), mode="edge"))
        # Erode: a pixel next to an edge gets that edge's (low) value too (rows, then columns).
        band = smooth[np.clip(np.arange(top - 1, bottom + 1), 0, height - 1) - first]
        across = smaller(smaller(band[:-2], band[1:-1]), band[2:])
        across = np.pad(across, ((0, 0), (1, 1)), mode="edge")
        eroded[top:bottom] = smaller(smaller(across[:, :-2], across[:, 1:-1]), across[:, 2:])
    return eroded


#: Pixels per band of :func:`diffusion_map` (about 1 MB of float32 per array).
_BAND_PIXELS = 1 << 18


def _luma(rgb) -> np.ndarray:
    """Rec. 601 luma of (rows, width, 3) sRGB values, float32."""
    return (rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587)
            + rgb[..., 2] * np.float32(0.114)).astype(np.float32)


def _smoothness(padded) -> np.ndarray:
    """1 minus the contrast, squared, of the inner pixels of `padded` (luma with a border of one pixel)."""
    centre = padded[1:-1, 1:-1]
    horizontal = np.abs(padded[1:-1, :-2] + padded[1:-1, 2:] - 2 * centre)
    vertical = np.abs(padded[:-2, 1:-1] + padded[2:, 1:-1] - 2 * centre)
    contrast = larger(horizontal, vertical) * np.float32(EDGE_GAIN / 255.0)
    smooth = np.clip(np.float32(1.0) - contrast, 0.0, 1.0)
    smooth *= smooth
    return smooth


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


#: Bits per channel of the cells whose entry a target colour that is not one of the image's own
#: takes: the entry nearest to the centre of its cell (128 levels per channel).
CELL_BITS = 7


class _NearestTable:
    """Palette entry of every 24-bit target colour: exact for the image's own colours, else its cell's.

    Each pixel's target is its colour plus the error it received. Where no
    error arrived (flat areas, tiny errors) the target is the pixel's own
    colour, whose exact nearest entry the quantizer knows. Other targets take
    the entry nearest to the centre of their ``CELL_BITS``-bit cell: at most
    half a cell off (one level per channel), which the diffusion carries on
    like any other error. Cells are filled when first met, a block at a
    time, the cells of the image's own colours all at once at the start; a
    target met once keeps its cell's entry in the colour table, so that the
    next time it takes one lookup. Both tables hold exact nearest entries
    (the explicit distance arithmetic), so they are the same on every
    platform.
    """

    def __init__(self, palette_fit, to_fit, known=None):
        self.palette_fit = palette_fit
        self.to_fit = to_fit
        self.exact = np.full(1 << 24, -1, dtype=np.int16)
        self.cells = np.full(1 << (3 * CELL_BITS), -1, dtype=np.int16)
        if known is not None:
            keys, labels = known
            self.exact[keys] = labels
            self._fill(np.unique(self._cell_of_keys(np.asarray(keys, dtype=np.intp))))

    @staticmethod
    def _cell_of_keys(keys):
        shift = 8 - CELL_BITS
        mask = (1 << CELL_BITS) - 1
        return (((keys >> shift) & mask) | (((keys >> (8 + shift)) & mask) << CELL_BITS)
                | (((keys >> (16 + shift)) & mask) << (2 * CELL_BITS)))

    def _fill(self, cells):
        """Compute the entries of `cells` (distinct cell numbers)."""
        shift = 8 - CELL_BITS
        mask = (1 << CELL_BITS) - 1
        centres = np.empty((cells.size, 3), dtype=np.float64, order="F")
        for c in range(3):
            centres[:, c] = ((cells >> (c * CELL_BITS)) & mask) * (1 << shift) + ((1 << shift) - 1) / 2
        fitted = self.to_fit(centres)
        # With many entries, where finding the nearest costs most (at K=256, half the dithering), each
        # block's worth of cells (a block's are consecutive) is compared only with the entries that
        # can be nearest to one of them: a third of them, typically.
        pruned = self.palette_fit.shape[0] >= EXPANDED_MIN_CLUSTERS
        step = 1 << (3 * self.BLOCK_BITS) if pruned else 1 << 15
        for start in range(0, cells.size, step):
            points = fitted[start : start + step]
            candidates = self._candidates(points) if pruned else np.arange(self.palette_fit.shape[0])
            labels, _best, _second = nearest_two(points, self.palette_fit[candidates])
            self.cells[cells[start : start + step]] = candidates[labels]

    def _candidates(self, points):
        """The entries that may be nearest to one of `points`, in order (so ties still go to the lower).

        A block of cells lies in a small box of the fitting space. An entry
        farther from every point of that box than another entry is from the
        box's farthest corner can be nobody's nearest. The margin covers the
        rounding of these sums and of the exact distances that compare the rest.
        """
        low, high = points.min(axis=0), points.max(axis=0)
        palette = self.palette_fit
        outside = np.maximum(np.maximum(low - palette, palette - high), 0.0)
        reach = np.maximum(np.abs(palette - low), np.abs(palette - high))
        farthest_sq = (reach * reach).sum(axis=1)
        return np.flatnonzero((outside * outside).sum(axis=1) <= farthest_sq.min() * (1 + 1e-6))

    #: A miss fills the whole block of (2**BLOCK_BITS)**3 cells around it: far fewer, bigger fills.
    #: 16**3 cells: a 12 MP photo then fills about 1.2 M cells in 270 fills, where blocks of 8**3
    #: filled 1 M in 1,250 and dithered 10-13% slower in Pyodide (each fill costs some 60 NumPy calls).
    BLOCK_BITS = 4

    @classmethod
    def _blocks_around(cls, cells):
        """The distinct cells of the blocks that hold `cells`."""
        low = (1 << cls.BLOCK_BITS) - 1
        corners = np.unique(cells & ~(low | (low << CELL_BITS) | (low << (2 * CELL_BITS))))
        steps = np.arange(1 << cls.BLOCK_BITS)
        offsets = (steps[:, None, None] | (steps[None, :, None] << CELL_BITS)
                   | (steps[None, None, :] << (2 * CELL_BITS))).reshape(-1)
        return (corners[:, None] + offsets[None, :]).reshape(-1)  # a block never crosses a channel's edge

    #: A rounded colour's key, red + 256 green + 65536 blue: whole numbers below 2**24, so the
    #: float32 products and sums are exact in any order.
    _KEY = np.array([1, 1 << 8, 1 << 16], dtype=np.float32)

    def __call__(self, rounded):
        """Entries of targets, given as whole sRGB values in (3, n) float32 planes."""
        keys = (self._KEY @ rounded).astype(np.intp)
        found = self.exact[keys]
        missing = np.flatnonzero(found < 0)
        if missing.size:
            keys = keys[missing]
            cells = self._cell_of_keys(keys)
            entries = self.cells[cells]
            if (entries < 0).any():
                block = self._blocks_around(cells[entries < 0])
                self._fill(block[self.cells[block] < 0])  # blocks may overlap cells filled before
                entries = self.cells[cells]
            found[missing] = entries
            self.exact[keys] = entries  # a colour met once is met again: next time one lookup
        return found


def error_diffusion(rgb, palette, *, strength, palette_fit=None, to_fit=None, known=None, visible=None, gain=None,
                    progress=None):
    """Palette indices of `rgb` by Floyd-Steinberg error diffusion (see the module docstring).

    Parameters
    ----------
    rgb : ndarray of shape (height, width, 3 or 4), dtype uint8
        The pixels (a fourth channel, alpha, is not read).
    palette : ndarray of shape (n_colors, 3), dtype uint8
        sRGB entries; errors are measured and diffused in sRGB.
    strength : float
        0 to 1: the share of each error passed on.
    palette_fit : ndarray of shape (n_colors, 3), optional
        The palette in the fitting space, where "nearest" is measured (default: `palette`).
    to_fit : callable, optional
        Maps (n, 3) float64 sRGB colours into the fitting space (default: identity).
    known : tuple (keys, labels), optional
        Colours whose nearest entry is known (24-bit keys, as
        :mod:`kmeans._distinct` packs them) and those entries.
    visible : ndarray of shape (height, width), bool, optional
        Pixels to dither; the others (fully transparent) neither take nor pass on errors.
        Their index is left at 0 for the caller to replace.
    gain : ndarray of shape (height, width), float32, optional
        :func:`diffusion_map` of `rgb`, when the caller has it already.
    progress : callable, optional
        ``progress(fraction)`` now and then (0 to 1): dithering a big photo takes seconds.

    Returns
    -------
    indices : ndarray of shape (height, width), dtype uint8

    Notes
    -----
    Wavefront t holds one pixel per row, (t - 2y, y), and a pixel passes its
    error on to wavefronts t + 1 (right, down-left), t + 2 (down) and t + 3
    (down-right). So the errors waiting for a pixel live in a ring of four
    wavefronts indexed by row, and every read and write is a plain slice.
    """
    height, width, _ = rgb.shape
    if palette_fit is None:
        palette_fit = palette.astype(np.float64)
    nearest = _NearestTable(np.asarray(palette_fit, dtype=np.float64), to_fit or (lambda colours: colours), known)
    # Channels first: every step below works on contiguous rows of one channel.
    planes = np.ascontiguousarray(rgb).reshape(height * width, -1).T[:3]  # (3, n_pixels), a view
    gain = (diffusion_map(rgb) if gain is None else np.asarray(gain, dtype=np.float32)).reshape(-1)
    passed = np.float32(strength)
    if visible is not None:
        gain = np.where(visible.reshape(-1), gain, np.float32(0.0))  # (the caller's map stays as it was)
        passed = np.where(visible.reshape(-1), passed, np.float32(0.0)).astype(np.float32)
    waiting = np.zeros((4, 3, height + 1), dtype=np.float32)  # errors for wavefronts t .. t + 3, by row
    indices = np.zeros(height * width, dtype=np.uint8)
    # The entries channel after channel in one flat array (entry i's channel c at c * n_colors + i):
    # a wavefront's chosen entries are then one 1-D gather, in WebAssembly about three times faster
    # than indexing the columns of a (3, n_colors) array.
    flat_entries = np.ascontiguousarray(palette.T, dtype=np.float32).reshape(-1)
    channel_offsets = (np.arange(3) * palette.shape[0])[:, None]
    weights = np.array([w / 16 for w in _WEIGHTS], dtype=np.float32)[:, None, None]
    stride = width - 2  # between the pixels of one wavefront, in the flat image
    wavefronts = width + 2 * (height - 1)
    for t in range(wavefronts):
        if progress is not None and t % _PROGRESS_EVERY == 0:
            progress(t / wavefronts)
        # The pixels (x, y) with x + 2y = t, y from `first` to `last`; x falls by 2 per row.
        first, last = max(0, (t - width + 2) // 2), min(height - 1, t // 2)
        if first > last:
            continue  # (only for an image one pixel wide)
        start = t + first * stride
        at = slice(start, start + 1) if first == last else slice(start, start + (last - first) * stride + 1, stride)
        ring = waiting[t % 4]
        wanted = ring[:, first : last + 1] * gain[at]
        ring[:, first : last + 1] = 0.0
        wanted += planes[:, at]
        # Clipped with two ufuncs and gathered by indexing, not np.clip and np.take: the same values,
        # and in WebAssembly each call of those costs twice as much, ten thousand times a photo.
        np.minimum(np.maximum(wanted, 0, out=wanted), 255, out=wanted)
        chosen = nearest(np.rint(wanted))
        indices[at] = chosen
        error = wanted - flat_entries[chosen + channel_offsets]
        np.minimum(np.maximum(error, -MAX_ERROR, out=error), MAX_ERROR, out=error)
        size = np.abs(error)
        largest = np.maximum(size[0], size[1])
        np.maximum(largest, size[2], out=largest)
        error *= passed if visible is None else passed[at]
        error *= largest >= TINY_ERROR  # times 1 or 0, exactly: a tiny error is not passed on
        shares = error[None] * weights  # right, down-left, down, down-right
        # The first pixel may be on the right edge (x = width - 1), the last on the left (x = 0).
        right_ok = 1 if t - 2 * first == width - 1 else 0
        left_ok = last - first + 1 - (1 if t - 2 * last == 0 else 0)
        waiting[(t + 1) % 4][:, first + right_ok : last + 1] += shares[0, :, right_ok:]
        waiting[(t + 1) % 4][:, first + 1 : first + 1 + left_ok] += shares[1, :, :left_ok]
        waiting[(t + 2) % 4][:, first + 1 : last + 2] += shares[2]
        waiting[(t + 3) % 4][:, first + 1 + right_ok : last + 2] += shares[3, :, right_ok:]
    return indices.reshape(height, width)
