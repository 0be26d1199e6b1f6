"""The spaces a palette can be fitted in: each maps colours into it and back.

Called by :func:`kmeans.quantize.quantize_image`: the distinct colours go
into the fitting space with :meth:`ColourSpace.to_fit`, K-means runs there,
and its centers come back with :meth:`ColourSpace.from_fit` to be rounded
into an sRGB palette. The map is applied per distinct colour (and to the
palette), never per pixel, so a space costs little.

K-means is exact in the fitting space: the palette is a fixed point of
Lloyd's algorithm on the image's pixels *as mapped there*, and every colour
gets the palette entry nearest to it *there*. The error the page and the CLI
report (MSE, PSNR) is always measured in sRGB.

Only RGB, the identity, exists today. A space is added by writing its two
maps and naming it in ``COLOUR_SPACES``; the options record
(:mod:`kmeans.options`) accepts every name there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColourSpace:
    """A fitting space for colours.

    Attributes
    ----------
    name : str
    to_fit : callable
        ``(n, n_channels) float64 sRGB values 0-255 -> (n, n_channels) float64`` in the space,
        column-major. A fourth (alpha) channel passes through unchanged.
    from_fit : callable
        The inverse, back to (unrounded) sRGB values.
    """

    name: str
    to_fit: Callable[[np.ndarray], np.ndarray]
    from_fit: Callable[[np.ndarray], np.ndarray]


def _identity(colours: np.ndarray) -> np.ndarray:
    return colours


#: Plain RGB: the fit sees the sRGB values as they are.
RGB = ColourSpace("rgb", _identity, _identity)

#: The spaces by name.
COLOUR_SPACES = {space.name: space for space in (RGB,)}


def colour_space(name: str) -> ColourSpace:
    """The space called `name`, or ValueError listing the accepted names."""
    try:
        return COLOUR_SPACES[name]
    except KeyError:
        raise ValueError(f"unknown colour space {name!r}; use one of: {', '.join(COLOUR_SPACES)}") from None
