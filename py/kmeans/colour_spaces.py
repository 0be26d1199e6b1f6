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

Three spaces exist: RGB (the identity), OKLab and libimagequant's
weighted gamma space. A space is added by writing its two maps and naming
it in ``COLOUR_SPACES``; the options record (:mod:`kmeans.options`)
accepts every name there.
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

# -- the sRGB transfer curve, as tables (exact and the same on every platform) --------------------
#
# pow() comes from the platform's maths library, whose last bit may differ between CPython and
# WebAssembly. The tables are rounded to float32 once, far above that noise, so every platform
# builds the same tables; after that only +, -, *, / and comparisons are used.


def _rounded(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def _srgb_to_linear(v):
    v = np.asarray(v, dtype=np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


#: Linear light of each sRGB value 0-255.
_LINEAR = _rounded(_srgb_to_linear(np.arange(256)))
#: Linear light half way between sRGB values n and n + 1 (n = 0..254): searched to round back.
_LINEAR_MIDPOINTS = _rounded(_srgb_to_linear(np.arange(255) + 0.5))


def _linear_lookup(colours) -> list[np.ndarray]:
    """Linear light of whole sRGB values (n, 3), channel by channel; other values are rounded first."""
    index = np.clip(np.rint(colours), 0, 255).astype(np.intp)
    return [_LINEAR[index[:, c]] for c in range(3)]


def _linear_to_srgb(linear) -> np.ndarray:
    """The whole sRGB value nearest (in sRGB) to each linear value."""
    return np.searchsorted(_LINEAR_MIDPOINTS, linear, side="right").astype(np.float64)


def _cbrt(x) -> np.ndarray:
    """Cube root of x >= 0 from basic arithmetic only (the same bits on every platform)."""
    x = np.asarray(x, dtype=np.float64)
    mantissa, exponent = np.frexp(x)  # x = mantissa * 2**exponent, mantissa in [0.5, 1)
    thirds, rest = np.divmod(exponent, 3)
    y = (0.5874010519681994 + 0.4125989480318006 * mantissa) * np.array(
        [1.0, 1.2599210498948732, 1.5874010519681994])[rest]
    y = np.ldexp(y, thirds)
    safe = np.where(y > 0, y, 1.0)
    for _ in range(3):  # Newton: the error squares each time, from 6e-3 to 2e-15 (a few ulps)
        safe = (2.0 * safe + x / (safe * safe)) / 3.0
    return np.where(x > 0, safe, 0.0)


# -- OKLab -------------------------------------------------------------------------------------------
# B. Ottosson, "A perceptual color space for image processing" (2020). Scaled by 255 so that
# distances are of the size of RGB's.

_LMS_FROM_LINEAR = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                             [0.2119034982, 0.6806995451, 0.1073969566],
                             [0.0883024619, 0.2817188376, 0.6299787005]])
_LAB_FROM_LMS = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                          [1.9779984951, -2.4285922050, 0.4505937099],
                          [0.0259040371, 0.7827717662, -0.8086757660]])
_LMS_FROM_LAB = np.array([[1.0, 0.3963377774, 0.2158037573],
                          [1.0, -0.1055613458, -0.0638541728],
                          [1.0, -0.0894841775, -1.2914855480]])
_LINEAR_FROM_LMS = np.array([[4.0767416621, -3.3077115913, 0.2309699292],
                             [-1.2684380046, 2.6097574011, -0.3413193965],
                             [-0.0041960863, -0.7034186147, 1.7076147010]])
_OKLAB_SCALE = 255.0


def _mix(matrix, columns):
    """matrix @ columns for 3 column vectors, term by term in a fixed order (no BLAS)."""
    return [matrix[i, 0] * columns[0] + matrix[i, 1] * columns[1] + matrix[i, 2] * columns[2]
            for i in range(3)]


def _with_alpha(colours, channels) -> np.ndarray:
    out = np.empty(colours.shape, dtype=np.float64, order="F")
    for c in range(3):
        out[:, c] = channels[c]
    if colours.shape[1] == 4:
        out[:, 3] = colours[:, 3]
    return out


def _oklab_from_srgb(colours):
    lms = _mix(_LMS_FROM_LINEAR, _linear_lookup(colours[:, :3]))
    lab = _mix(_LAB_FROM_LMS, [_cbrt(np.maximum(v, 0.0)) for v in lms])
    return _with_alpha(colours, [v * _OKLAB_SCALE for v in lab])


def _srgb_from_oklab(lab):
    lms_root = _mix(_LMS_FROM_LAB, [lab[:, c] / _OKLAB_SCALE for c in range(3)])
    linear = _mix(_LINEAR_FROM_LMS, [v * v * v for v in lms_root])
    return _with_alpha(lab, [_linear_to_srgb(v) for v in linear])


OKLAB = ColourSpace("oklab", _oklab_from_srgb, _srgb_from_oklab)


# -- libimagequant's space ----------------------------------------------------------------------------
# pngquant's: each channel taken to gamma 0.57 of linear light (about v**1.25 of the sRGB value) and
# weighted red 0.5, green 1, blue 0.45 (alpha passes through).

_LIQ_WEIGHTS = (0.5, 1.0, 0.45)
#: Each sRGB value in the internal gamma, times 255.
_LIQ_GAMMA = _rounded(255.0 * (np.arange(256) / 255.0) ** (0.57 / 0.4545))
_LIQ_MIDPOINTS = (_LIQ_GAMMA[:-1] + _LIQ_GAMMA[1:]) / 2


def _liq_from_srgb(colours):
    index = np.clip(np.rint(colours[:, :3]), 0, 255).astype(np.intp)
    return _with_alpha(colours, [_LIQ_GAMMA[index[:, c]] * _LIQ_WEIGHTS[c] for c in range(3)])


def _srgb_from_liq(fitted):
    return _with_alpha(fitted, [
        np.searchsorted(_LIQ_MIDPOINTS, fitted[:, c] / _LIQ_WEIGHTS[c], side="right").astype(np.float64)
        for c in range(3)
    ])


LIQ = ColourSpace("liq", _liq_from_srgb, _srgb_from_liq)


#: The spaces by name.
COLOUR_SPACES = {space.name: space for space in (RGB, OKLAB, LIQ)}


def colour_space(name: str) -> ColourSpace:
    """The space called `name`, or ValueError listing the accepted names."""
    try:
        return COLOUR_SPACES[name]
    except KeyError:
        raise ValueError(f"unknown colour space {name!r}; use one of: {', '.join(COLOUR_SPACES)}") from None
