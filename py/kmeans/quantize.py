"""Colour quantization: K-means picks a palette, every pixel gets an index.

A true-colour pixel takes 24 bits (red, green and blue bytes). If we choose
a *palette* (in vector-quantization terms a *codebook*) of K colours, every
pixel can instead store the index of its palette entry: 16 colours need 4
bits per pixel, 256 colours need 8. K-means is a natural way to choose the
palette: the centers of K clusters of the pixels' colours are the K colours
that make the summed squared error of the image smallest (at a local
optimum). Writing the indices and the palette as an indexed PNG then gives
a much smaller file that looks nearly the same.

The stages
----------
:func:`quantize_image` runs five stages, each a function below:

1. :func:`split_alpha`: which pixels are fitted, in RGB or RGBA;
2. count distinct colours (:func:`kmeans._distinct.count_colours`);
3. fit, coarse to fine, in the fitting space
   (:mod:`kmeans.colour_spaces`, :func:`kmeans._coarse_to_fine.fit_colours`);
4. :func:`round_palette`: the fitted centers rounded into an sRGB palette,
   and every distinct colour its nearest entry;
5. :func:`assign_pixels`: every pixel its entry, and :func:`finish_palette`:
   entries sorted by use, the transparent one added.

What is exact and what is not
-----------------------------
K-means on the pixels is the same problem as K-means on the image's
*distinct* colours, each weighted by how many pixels have it: the objective,
every assignment and every weighted mean are identical. So the fit runs on
the distinct colours (a photo of 12 million pixels typically has under a
million) with their counts as `sample_weight`, which changes nothing but
the speed. Coarser colour histograms only choose where that fit starts:
it ends at a fixed point of Lloyd's algorithm on the pixels themselves (to
the tolerance `tol`, as scikit-learn's does). Two things are
approximations: a palette holds whole numbers, so the fitted centers are
rounded to the nearest integer, and every pixel then gets its nearest
palette colour (which can differ from its cluster when a rounded center
moved across a boundary).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._coarse_to_fine import Fit, fit_colours
from ._distances import assign_labels, own_distances
from ._distinct import count_colours, strips
from ._validation import as_rng, count_of
from . import colour_spaces, dither as dithering
from .options import DEFAULTS, QuantizeOptions


@dataclasses.dataclass
class QuantizedImage:
    """An image as a palette and one palette index per pixel.

    Attributes
    ----------
    palette : ndarray of shape (n_colors, 3) or (n_colors, 4), dtype uint8
        RGB colours, or RGBA when the image has transparency. Sorted by how
        many pixels use each colour, most used first.
    indices : ndarray of shape (height, width), dtype uint8
        Palette index of each pixel.
    n_iter : int
        Lloyd iterations of the fit (0 when the image had few enough colours
        to keep them all).
    sse : float
        Sum over all pixels and channels of the squared difference between
        the original and the quantized image (fully transparent pixels count
        as exact).
    """

    palette: np.ndarray
    indices: np.ndarray
    n_iter: int
    sse: float

    @property
    def n_colors(self) -> int:
        """Number of palette entries."""
        return self.palette.shape[0]

    @property
    def mse(self) -> float:
        """Mean squared error per channel value, on the 0-255 scale."""
        return self.sse / (self.indices.size * self.palette.shape[1])

    @property
    def psnr(self) -> float:
        """Peak signal-to-noise ratio in dB (infinite for an exact copy)."""
        return math.inf if self.mse == 0 else 10 * math.log10(255.0**2 / self.mse)

    def to_array(self) -> np.ndarray:
        """The quantized image, shape (height, width, 3 or 4), dtype uint8."""
        return expand_palette(self.palette, self.indices)


def expand_palette(palette, indices) -> np.ndarray:
    """``palette[indices]``, gathered in a way that is fast in WebAssembly too.

    Row by row, as indexing gathers, NumPy in WebAssembly copies element by
    element: for 12 megapixels in Pyodide, 455 ms with RGBA entries, where
    gathering each entry as one 32-bit word takes 28 ms (and RGB entries a
    channel at a time 110 ms against 415). The same values.

    Parameters
    ----------
    palette : ndarray of shape (n_colors, n_channels)
    indices : ndarray of integers, any shape

    Returns
    -------
    ndarray of shape ``indices.shape + (n_channels,)``, the palette's dtype
    """
    palette, indices = np.asarray(palette), np.asarray(indices)
    if palette.ndim != 2:
        return palette[indices]
    if palette.dtype == np.uint8 and palette.shape[1] == 4:
        words = np.ascontiguousarray(palette).view(np.uint32).reshape(-1)
        return words[indices.reshape(-1)].view(np.uint8).reshape(indices.shape + (4,))
    expanded = np.empty(indices.shape + palette.shape[1:], dtype=palette.dtype)
    for c in range(palette.shape[1]):
        expanded[..., c] = palette[:, c][indices]
    return expanded


def check_image(image) -> np.ndarray:
    """Return `image` as a (height, width, 3|4) uint8 array, or raise ValueError/TypeError."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"image must have dtype uint8 (values 0-255), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(
            f"image must have shape (height, width, 3) for RGB or (height, width, 4) for RGBA, "
            f"got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    return image


# -- stage 1: alpha ----------------------------------------------------------------------------


class Alpha(NamedTuple):
    """How an image's alpha shapes the fit: see :func:`split_alpha`."""

    #: ndarray of shape (n_visible, 3 or 4), uint8: the pixels the palette is fitted to.
    pixels: np.ndarray
    #: ndarray of shape (n_pixels,), bool, or None when every pixel is visible.
    visible: np.ndarray | None
    #: 3 (RGB) or 4 (RGBA, when some pixels are partly transparent).
    fit_channels: int
    #: Channels of the palette: 4 when the image has any transparency.
    out_channels: int


def split_alpha(image) -> Alpha:
    """Leave fully transparent pixels out of the fit; fit RGBA only when alpha varies.

    Fully transparent pixels would pull the palette towards a colour nobody
    sees; they share one transparent palette entry instead. Partly
    transparent pixels are fitted on RGBA values, so that each palette entry
    carries its own alpha, as an indexed PNG requires.
    """
    height, width, n_channels = image.shape
    flat = image.reshape(-1, n_channels)
    alpha = flat[:, 3] if n_channels == 4 else None
    if alpha is not None and alpha.min() == 255:
        alpha = None  # opaque: one pass instead of three
    partly_transparent = alpha is not None and bool(((alpha > 0) & (alpha < 255)).any())
    visible = None if alpha is None else alpha > 0
    if visible is not None and visible.all():
        visible = None  # nothing to leave out
    fit_channels = 4 if partly_transparent else 3
    out_channels = 4 if (partly_transparent or visible is not None) else 3
    pixels = flat if visible is None else flat[visible]
    return Alpha(pixels, visible, fit_channels, out_channels)


# -- stages 4 and 5: the palette ----------------------------------------------------------------------


def round_palette(fit: Fit, colours, colours_fit, space: colour_spaces.ColourSpace):
    """Round the fitted centers into a palette; give every distinct colour its nearest entry.

    Parameters
    ----------
    fit : Fit
        The centers in the fitting space (and, after a coarse-to-fine fit,
        the colours' labels and the bounds that go with them).
    colours : ndarray of shape (n_colours, n_channels)
        The distinct colours in sRGB (whole numbers).
    colours_fit : ndarray of shape (n_colours, n_channels)
        The same colours in the fitting space.
    space : kmeans.colour_spaces.ColourSpace

    Returns
    -------
    palette : ndarray of shape (n_entries, n_channels), float64
        Whole sRGB values, sorted, without repeats.
    labels : ndarray of shape (n_colours,), dtype intp
        Each colour's nearest entry in the fitting space (ties go to the
        lower index; exact, so the same on every platform).
    sq_errors : ndarray of shape (n_colours,)
        Each colour's squared sRGB error against its entry.

    Notes
    -----
    After a coarse-to-fine fit the bounds of its last E-step carry over:
    rounding moves each center a little (at most sqrt(3)/2 in RGB), so only
    colours near a boundary are compared with every palette entry.
    """
    rounded = np.clip(np.rint(space.from_fit(fit.centers)), 0, 255)
    palette, inverse = np.unique(rounded, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    palette_fit = space.to_fit(palette)
    if fit.assigner is None:
        labels = np.empty(colours.shape[0], dtype=np.intp)
        assign_labels(colours_fit, palette_fit, labels, np.empty(colours.shape[0]))
    else:
        labels = inverse[fit.labels]
        fit.assigner.replace_centers(palette_fit, labels, relabel=inverse)
    # Whole numbers: the squared errors are exact, whatever the order of the sums.
    return palette, labels, own_distances(colours, palette, labels)


def finish_palette(palette, labels, weights, alpha: Alpha):
    """Drop unused entries, sort by use (most used first), add alpha and the transparent entry.

    Returns
    -------
    palette : ndarray of shape (n_colors, 3 or 4), uint8
    rank : ndarray of shape (n_entries,), dtype intp
        The new index of each entry of the input palette.
    """
    # Ties by colour (the input is sorted), so the order is deterministic.
    usage = np.bincount(labels, weights=weights, minlength=palette.shape[0])
    order = np.lexsort((np.arange(palette.shape[0]), -usage))
    order = order[usage[order] > 0]
    rank = np.empty(palette.shape[0], dtype=np.intp)
    rank[order] = np.arange(order.size)
    palette = palette[order].astype(np.uint8)
    if alpha.out_channels == 4 and alpha.fit_channels == 3:
        palette = np.column_stack([palette, np.full(palette.shape[0], 255, np.uint8)])
    if alpha.visible is not None:
        palette = np.vstack([palette, np.zeros((1, 4), np.uint8)])
    return palette, rank


# -- stage 5: the pixels (finish_palette above sorts the entries first) -----------------------------------------------------------------------


def assign_pixels(colour_indices, lookup, alpha: Alpha, n_pixels: int, transparent_index: int):
    """Every pixel's palette index without dithering: its colour's entry (or the transparent one).

    Parameters
    ----------
    colour_indices : ndarray of shape (n_colours,), dtype uint8
        The final palette index of each distinct colour.
    lookup : callable
        :attr:`kmeans._distinct.DistinctColours.lookup` of the visible pixels.
    alpha : Alpha
    n_pixels : int
    transparent_index : int
        The transparent entry, for fully transparent pixels.
    """
    visible_indices = lookup(colour_indices)
    if alpha.visible is None:
        return visible_indices
    indices = np.full(n_pixels, transparent_index, dtype=np.uint8)
    indices[alpha.visible] = visible_indices
    return indices


def dither_pixels(image, palette, keys, colour_indices, alpha: Alpha, space, strength: float, smooth=None,
                  progress=None):
    """Every pixel's palette index by error diffusion (:func:`kmeans.dither.error_diffusion`).

    The nearest entries of the image's own colours (their `keys`) are known
    already (`colour_indices`), which starts the dithering's table. Nearest is
    measured in the fitting space, errors in sRGB.

    Returns
    -------
    indices : ndarray of shape (n_pixels,), dtype uint8
    sse : float
        The squared sRGB error of the dithered pixels.
    """
    entries = palette[:, :3] if alpha.visible is None else palette[:-1, :3]
    visible = None if alpha.visible is None else alpha.visible.reshape(image.shape[:2])
    indices = dithering.error_diffusion(
        image, entries, strength=strength, palette_fit=space.to_fit(entries.astype(np.float64)),
        to_fit=space.to_fit, known=(keys, colour_indices), visible=visible, gain=smooth, progress=progress,
    ).reshape(-1)
    if alpha.visible is not None:
        indices[~alpha.visible] = palette.shape[0] - 1
    # Channel by channel and a strip of rows at a time, in int16: no (n_pixels, 3) int32 copy of a big photo.
    sse = 0
    flat_rgb = image.reshape(-1, image.shape[2])  # a view
    for start, stop in strips(indices.size):
        for c in range(3):
            difference = flat_rgb[start:stop, c].astype(np.int16) - palette[:, c].astype(np.int16)[indices[start:stop]]
            if alpha.visible is not None:
                difference[~alpha.visible[start:stop]] = 0
            sse += int(np.einsum("i,i->", difference, difference, dtype=np.int64))
    return indices, float(sse)


# -- the pipeline ------------------------------------------------------------------------------


def quantize_image(
    image,
    n_colors: int = DEFAULTS.n_colors,
    *,
    seed=DEFAULTS.seed,
    max_iter: int = DEFAULTS.max_iter,
    tol: float = DEFAULTS.tol,
    n_init=DEFAULTS.n_init,
    colour_space: str = DEFAULTS.colour_space,
    dither: float = DEFAULTS.dither,
    callback: Callable | None = None,
    progress: Callable | None = None,
    dither_progress: Callable | None = None,
    watch: Callable | None = None,
) -> QuantizedImage:
    """Reduce an image to at most `n_colors` colours chosen by K-means.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
        RGB or RGBA pixels.
    n_colors : int, default=16
        Palette size, 1 to 256. When the image has fully transparent pixels,
        one entry is the transparent colour (0, 0, 0, 0); a wholly transparent
        image gets that entry alone.
    seed : int, numpy.random.Generator or None, default=0
        Seed for the k-means++ initialisation.
    max_iter : int, default=300
        Maximum number of Lloyd iterations (per level of the fit).
    tol : float, default=1e-4
        Relative tolerance, as for :class:`kmeans.KMeans`.
    n_init : "auto" or int, default="auto"
        Number of k-means++ restarts; the best is kept. The restarts run on
        small colour histograms, so they are cheap, and a better start makes
        the exact phase converge sooner. "auto" means 3 below 128 colours and
        1 from 128 on: with many clusters the runs differ little while each
        restart costs more.
    colour_space : str, default="oklab"
        The space the palette is fitted in (see :mod:`kmeans.colour_spaces`);
        "rgb" fits the raw values.
    dither : float, default=0.6
        Strength of the error diffusion, 0 to 1 (see :mod:`kmeans.dither`).
        0 gives every pixel its nearest palette colour. With dithering on, the
        fit weighs smooth areas more than textured ones
        (:func:`kmeans.dither.importance`). Images with partly transparent
        pixels are not dithered. ``colour_space="rgb", dither=0`` is plain
        K-means on the pixels, the notebook's result.
    callback : callable, optional
        Passed to :meth:`kmeans.KMeans.fit`: ``callback(0, centers, None)``
        at the start, then ``callback(n_iter, centers, inertia)`` after each
        iteration; return True to stop early.
    progress : callable, optional
        ``progress(n_iter)`` after each iteration of every phase. Cheaper than
        `callback` for a progress bar: nothing extra is computed for it.
    dither_progress : callable, optional
        ``dither_progress(fraction)`` now and then while dithering (0 to 1).
    watch : callable, optional
        ``watch(n_iter, centers)`` at the start of each K-means run and after
        every iteration of every phase, with the centres in the fitting space
        (a view: copy what you keep), then once more as ``watch(None,
        centers)`` with the centres the fit kept (the best restart's). Like
        `progress`, it costs no extra pass over the colours; the page's colour
        cloud draws the centres moving.

    Returns
    -------
    QuantizedImage
        Palette, per-pixel indices and error statistics.

    Warns
    -----
    UserWarning
        If the image has fewer distinct colours than `n_colors`: the palette
        then holds exactly those colours.

    Notes
    -----
    The defaults and accepted ranges are those of
    :class:`kmeans.options.QuantizeOptions`. Alpha is kept (see
    :func:`split_alpha`). The fit is exact K-means on the image's pixels
    (see the module docstring); the palette is the fitted centers rounded to
    whole numbers, and each pixel is given its nearest palette colour.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> image[:, 1:] = [250, 10, 10]
    >>> result = quantize_image(image, 2)
    >>> result.palette.tolist(), result.indices.tolist()
    ([[250, 10, 10], [0, 0, 0]], [[1, 0, 0], [1, 0, 0]])
    """
    image = check_image(image)
    options = QuantizeOptions(n_colors, seed, max_iter, tol, n_init, colour_space, dither).checked()
    prepared = prepare_image(image, colour_space=options.colour_space, dithered=options.dither > 0)
    return quantize_prepared(prepared, options, callback=callback, progress=progress,
                             dither_progress=dither_progress, watch=watch)


@dataclasses.dataclass
class PreparedImage:
    """What every palette size of one image shares: see :func:`prepare_image`.

    Attributes
    ----------
    image : ndarray of shape (height, width, 3 or 4), dtype uint8
    alpha : Alpha
    space : kmeans.colour_spaces.ColourSpace
    asked_dither : bool
        Whether it was prepared for dithered results (``dither > 0``).
    dithered : bool
        Whether results are dithered: asked for, and the image has no partly
        transparent pixels.
    smooth : ndarray or None
        The diffusion map (:func:`kmeans.dither.diffusion_map`) when dithered.
    distinct : kmeans._distinct.DistinctColours or None
        The visible pixels' distinct colours and their weights (None when
        no pixel is visible).
    colours_fit : ndarray of shape (n_colours, n_channels) or None
        The distinct colours in the fitting space.
    """

    image: np.ndarray
    alpha: Alpha
    space: colour_spaces.ColourSpace
    asked_dither: bool
    dithered: bool
    smooth: np.ndarray | None
    distinct: object
    colours_fit: np.ndarray


def prepare_image(image, *, colour_space: str = DEFAULTS.colour_space, dithered: bool = True) -> PreparedImage:
    """Stages 1 and 2 of :func:`quantize_image`, which do not depend on the palette size.

    A search over palette sizes (:mod:`kmeans.target`) prepares an image
    once and calls :func:`quantize_prepared` for each size it tries.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
    colour_space : str, default="oklab"
    dithered : bool, default=True
        Whether the results will be dithered (``dither > 0``): dithered fits
        weigh smooth areas more, so their colour counts differ.
    """
    image = check_image(image)
    space = colour_spaces.colour_space(colour_space)
    alpha = split_alpha(image)
    asked_dither, dithered = dithered, dithered and alpha.fit_channels == 3 and alpha.pixels.shape[0] > 0
    smooth = pixel_weights = None
    if dithered:
        # Dithered results weigh smooth areas more in the fit (see kmeans.dither.importance),
        # computed a strip at a time by the counting: a weight per pixel is 8 bytes.
        smooth = dithering.diffusion_map(image[..., :3])
        visible_smooth = smooth.reshape(-1) if alpha.visible is None else smooth.reshape(-1)[alpha.visible]

        def pixel_weights(start, stop):
            return dithering.importance(visible_smooth[start:stop])
    if alpha.pixels.shape[0] == 0:  # fully transparent: no colours to count
        return PreparedImage(image, alpha, space, asked_dither, False, None, None, None)
    distinct = count_colours(alpha.pixels, alpha.fit_channels, pixel_weights)
    return PreparedImage(image, alpha, space, asked_dither, dithered, smooth, distinct,
                         space.to_fit(distinct.colours))


def quantize_prepared(
    prepared: PreparedImage,
    options: QuantizeOptions,
    *,
    callback: Callable | None = None,
    progress: Callable | None = None,
    dither_progress: Callable | None = None,
    watch: Callable | None = None,
) -> QuantizedImage:
    """Stages 3 to 5 of :func:`quantize_image` on an image made ready by :func:`prepare_image`.

    `options` must name the colour space the image was prepared for, and a
    dither strength above 0 exactly when it was prepared ``dithered``. The other arguments are
    those of :func:`quantize_image`, which this is the second half of: the
    result is the same.
    """
    options = options.checked()
    image, alpha, space, distinct = prepared.image, prepared.alpha, prepared.space, prepared.distinct
    if options.colour_space != space.name or (options.dither > 0) != prepared.asked_dither:
        raise ValueError(
            f"the image was prepared for colour_space={space.name!r} "
            f"{'with' if prepared.asked_dither else 'without'} dithering; got colour_space={options.colour_space!r}, "
            f"dither={options.dither:g}"
        )
    height, width, _channels = image.shape
    if alpha.pixels.shape[0] == 0:
        # Nothing visible: one transparent entry, as pngquant writes (any K; an exact copy).
        warnings.warn("the image is fully transparent: its palette is one transparent entry", UserWarning,
                      stacklevel=3)
        return QuantizedImage(np.zeros((1, 4), np.uint8), np.zeros((height, width), np.uint8), 0, 0.0)
    n_fit = options.n_colors - 1 if alpha.visible is not None else options.n_colors
    if n_fit < 1:
        raise ValueError(
            "n_colors=1 leaves no colour for the visible pixels once one palette entry is "
            "reserved for transparency; use n_colors >= 2"
        )
    n_distinct = distinct.colours.shape[0]
    if n_distinct <= n_fit:
        if n_distinct < n_fit:
            warnings.warn(
                f"the image has only {count_of(n_distinct, 'distinct colour')}, fewer than the "
                f"{options.n_colors} asked for; the palette keeps all of them",
                UserWarning,
                stacklevel=3,
            )
        fit = Fit(prepared.colours_fit, 0)
    else:
        fit = fit_colours(
            prepared.colours_fit, distinct.weights, n_fit, rng=as_rng(options.seed), max_iter=options.max_iter,
            tol=options.tol, n_init=options.n_init, callback=_with_progress(callback, progress, watch),
            callback_inertia=callback is not None,
            srgb=None if space is colour_spaces.RGB else distinct.colours,
        )

    if watch is not None:
        watch(None, fit.centers)
    palette, labels, sq_errors = round_palette(fit, distinct.colours, prepared.colours_fit, space)
    palette, rank = finish_palette(palette, labels, distinct.weights, alpha)
    colour_indices = rank[labels].astype(np.uint8)
    n_iter = fit.n_iter
    colours_sse = None if prepared.dithered else float((sq_errors * distinct.weights).sum())
    # The fit's labels and bounds and the colours' labels and errors (about 70 MB for a million
    # colours) go before the pass over the pixels: held, they made the dithering of a 12 MP photo
    # grow the heap.
    del fit, labels, sq_errors
    if prepared.dithered:
        indices, sse = dither_pixels(image, palette, distinct.keys, colour_indices, alpha, space, options.dither,
                                     prepared.smooth, dither_progress)
    else:
        indices = assign_pixels(colour_indices, distinct.lookup, alpha, height * width,
                                transparent_index=palette.shape[0] - 1)
        sse = colours_sse
    return QuantizedImage(palette, indices.reshape(height, width), n_iter, sse)


def _with_progress(callback, progress, watch=None):
    """One callback for the fit that serves `callback`, `progress` and `watch`."""
    if progress is None and watch is None:
        return callback

    def all_of_them(n_iter, centers, inertia):
        if n_iter > 0 and progress is not None:
            progress(n_iter)
        if watch is not None:
            watch(n_iter, centers)
        return callback(n_iter, centers, inertia) if callback is not None else None

    return all_of_them
