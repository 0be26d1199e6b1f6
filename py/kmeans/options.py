"""The quantizer's options, with their defaults and accepted ranges: their one record in Python.

:func:`kmeans.quantize_image`, :mod:`kmeans.web` (the page's requests) and
the command line all take their defaults and limits from here. The page's
copy is ``static/protocol.js`` (``QUANTIZE_OPTIONS``, ``PAGE_MAX_MEGAPIXELS``);
``tests/test_options.py`` checks that the two agree.

Examples
--------
>>> QuantizeOptions(n_colors=128).checked()
QuantizeOptions(n_colors=128, seed=0, max_iter=300, tol=0.0001, n_init=1, colour_space='oklab', dither=0.6)
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from ._validation import check_positive_int
from .colour_spaces import COLOUR_SPACES, colour_space

#: A palette image holds at most this many colours.
MAX_PALETTE_SIZE = 256

#: Largest image the page (and the embed) accepts, in megapixels. The
#: quantizer counts, looks up and scores a big photo a strip at a time, so at
#: this size the RGBA input (400 MB) and its work arrays stay under about
#: 1.3 GB of the browser's WebAssembly memory (of 4 GB at most).
PAGE_MAX_MEGAPIXELS = 100

#: Largest image file :func:`kmeans.load_image` (and so the CLI) decodes by
#: default, in megapixels: below the 179 megapixels at which Pillow refuses
#: a file as a possible decompression bomb. An RGB image of this size takes
#: 450 MB as an array; the quantizer needs about twice as much again.
FILE_MAX_MEGAPIXELS = 150


def too_many_pixels(name: str, width: int, height: int, max_megapixels: float) -> str:
    """The message for an image over the size limit: its size, the limit, and the size to scale it to.

    Examples
    --------
    >>> too_many_pixels("photo.jpg", 12000, 9000, 100)
    'photo.jpg is 12000x9000 (108.0 megapixels); the limit is 100 megapixels: scale it down first, to at most 11547x8660 (the same shape)'
    """
    scale = math.sqrt(max_megapixels * 1e6 / (width * height))
    fit_width, fit_height = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    while fit_width * fit_height > max_megapixels * 1e6:  # (rounding)
        fit_width, fit_height = fit_width - 1, max(1, math.floor(height * (fit_width - 1) / width))
    return (f"{name} is {width}x{height} ({width * height / 1e6:.1f} megapixels); the limit is "
            f"{max_megapixels:g} megapixels: scale it down first, to at most {fit_width}x{fit_height} "
            f"(the same shape)")


#: n_init="auto": this many k-means++ restarts below `AUTO_ONE_RUN_FROM` colours, one from there on
#: (with many clusters the runs differ little, while each restart costs more).
AUTO_RESTARTS = 3
AUTO_ONE_RUN_FROM = 128


@dataclasses.dataclass(frozen=True)
class IntRange:
    """The whole numbers from `minimum` to `maximum`, both included."""

    minimum: int
    maximum: int

    def check(self, value, name: str) -> int:
        """Return `value` as an int in the range, or raise ValueError naming `name` and the range."""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a whole number from {self.minimum} to {self.maximum}, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{name}={value} is out of range: use {self.minimum} to {self.maximum}")
        return int(value)


@dataclasses.dataclass(frozen=True)
class FloatRange:
    """The numbers from `minimum` to `maximum`, both included."""

    minimum: float
    maximum: float

    def check(self, value, name: str) -> float:
        """Return `value` as a float in the range, or raise ValueError naming `name` and the range."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a number from {self.minimum:g} to {self.maximum:g}, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{name}={value:g} is out of range: use {self.minimum:g} to {self.maximum:g}")
        return float(value)


#: Accepted values of the numeric options.
RANGES = {
    "n_colors": IntRange(1, MAX_PALETTE_SIZE),
    "max_iter": IntRange(1, 10_000),
    "seed": IntRange(0, 2**32 - 1),
    "n_init": IntRange(1, 100),
    "dither": FloatRange(0.0, 1.0),
}

def check_n_colors(n_colors) -> int:
    """Return `n_colors` as an int in 1..256, or raise ValueError."""
    bounds = RANGES["n_colors"]
    if isinstance(n_colors, bool) or not isinstance(n_colors, (int, np.integer)):
        raise ValueError(f"n_colors must be a whole number from {bounds.minimum} to {bounds.maximum}, got {n_colors!r}")
    if not bounds.minimum <= n_colors <= bounds.maximum:
        raise ValueError(
            f"n_colors={n_colors} is out of range: a palette image holds {bounds.minimum} to "
            f"{bounds.maximum} colours"
        )
    return int(n_colors)


@dataclasses.dataclass(frozen=True)
class QuantizeOptions:
    """What :func:`kmeans.quantize_image` can be told, with its defaults.

    Attributes
    ----------
    n_colors : int, default=16
        Palette size, 1 to 256.
    seed : int, numpy.random.Generator or None, default=0
        Seed of the k-means++ initialisation (an int: 0 to 2**32 - 1).
    max_iter : int, default=300
        Maximum number of Lloyd iterations per level, 1 to 10,000.
    tol : float, default=1e-4
        Relative tolerance, as for :class:`kmeans.KMeans`.
    n_init : "auto" or int, default="auto"
        k-means++ restarts (1 to 100); "auto" is ``AUTO_RESTARTS`` below
        ``AUTO_ONE_RUN_FROM`` colours and 1 from there on.
    colour_space : str, default="oklab"
        The space the palette is fitted in: a name in
        :data:`kmeans.colour_spaces.COLOUR_SPACES`.
    dither : float, default=0.6
        Strength of the error diffusion, 0 (none: every pixel its nearest
        palette colour) to 1 (see :mod:`kmeans.dither`).

    Notes
    -----
    The defaults of `colour_space` and `dither` were chosen by measurement
    (``bench/quality.py``: the fewest bytes for the same SSIMULACRA2). Plain
    K-means, the notebook's result, is ``colour_space="rgb", dither=0``.
    """

    n_colors: int = 16
    seed: object = 0
    max_iter: int = 300
    tol: float = 1e-4
    n_init: object = "auto"
    colour_space: str = "oklab"
    dither: float = 0.6

    def checked(self) -> QuantizeOptions:
        """These options validated, with "auto" resolved; raise ValueError or TypeError naming the bad one."""
        n_colors = check_n_colors(self.n_colors)
        check_positive_int(self.max_iter, "max_iter")
        max_iter = RANGES["max_iter"].check(self.max_iter, "max_iter")
        if not (self.seed is None or isinstance(self.seed, np.random.Generator)):
            if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
                raise TypeError(f"seed must be None, a non-negative int or a numpy Generator, got {self.seed!r}")
            RANGES["seed"].check(self.seed, "seed")
        if not isinstance(self.tol, numbers.Real) or not np.isfinite(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        n_init = self.n_init
        if isinstance(n_init, str) and n_init == "auto":
            n_init = AUTO_RESTARTS if n_colors < AUTO_ONE_RUN_FROM else 1
        check_positive_int(n_init, "n_init")
        n_init = RANGES["n_init"].check(n_init, "n_init")
        colour_space(self.colour_space)  # raises for an unknown name
        dither = RANGES["dither"].check(self.dither, "dither")
        return dataclasses.replace(self, n_colors=n_colors, max_iter=max_iter, n_init=n_init, dither=dither)


#: The defaults, as one record.
DEFAULTS = QuantizeOptions()


def page_options() -> dict:
    """The page's options record, as ``static/protocol.js`` must hold it.

    Returns
    -------
    dict
        ``QUANTIZE_OPTIONS``: for each option the page shows, its default and
        range; ``PAGE_MAX_MEGAPIXELS``.
    """
    return {
        "QUANTIZE_OPTIONS": {
            name: {"default": getattr(DEFAULTS, name), "min": RANGES[name].minimum, "max": RANGES[name].maximum}
            for name in ("n_colors", "max_iter", "seed", "dither")
        },
        "COLOUR_SPACES": {"default": DEFAULTS.colour_space, "names": list(COLOUR_SPACES)},
        "PAGE_MAX_MEGAPIXELS": PAGE_MAX_MEGAPIXELS,
    }
