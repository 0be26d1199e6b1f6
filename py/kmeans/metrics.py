"""How good a quantized image looks: SSIMULACRA2, in NumPy.

Called by the page's worker (:mod:`kmeans.web`), the CLI and the quality
benchmark. MSE and PSNR reward the palette that is closest on average;
people see banding, specks and lost edges. SSIMULACRA2 (Cloudinary, for the
JPEG XL work) compares two images the way the eye does: in the XYB colour
space, at six scales, with SSIM maps plus maps of artifacts (edges the
original does not have) and lost detail. Roughly: 90 and above is visually
lossless, 70 high quality, 50 medium, 30 low; very coarse palettes score
below 0.

This is a port of the Python reference (PyPI ``ssimulacra2``, which needs
SciPy for its Gaussian blur); ``tests/test_metrics.py`` checks that the two
agree on real photos. Big images are scored on a copy shrunk by a whole
factor (see :func:`ssimulacra2`), which the caller is told.
"""

from __future__ import annotations

import math

import numpy as np

_NUM_SCALES = 6
_C2 = 0.0009

_OPSIN = np.array([[0.30, 1.0 - 0.078 - 0.30, 0.078],
                   [0.23, 1.0 - 0.078 - 0.23, 0.078],
                   [0.24342268924547819, 0.20476744424496821, 1.0 - 0.24342268924547819 - 0.20476744424496821]])
_OPSIN_BIAS = 0.0037930732552754493

#: The reference's weights: per channel, per scale, per norm, (SSIM, artifact, detail lost).
_WEIGHTS = np.array([
    0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0, 0.0, 0.0004371155730107379,
    0.0, 1.1041726426657346, 0.00066284834129271, 0.00015231632783718752, 0.0, 0.0016406437456599754,
    0.0, 1.8422455520539298, 11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653,
    0.0, 1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833, 0.0,
    0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053, 0.0004550992113792063, 0.0,
    0.0, 0.0013648766163243398, 0.0, 0.0, 0.0, 0.0, 0.0, 7.466890328078848, 0.0, 17.445833984131262,
    0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296, 1.027889937768264,
    225.20515300849274, 0.0, 0.0, 19.213238186143016, 0.0011401524586618361, 0.001237755635509985,
    176.39317598450694, 0.0, 0.0, 24.43300999870476, 0.28520802612117757, 0.0004485436923833408, 0.0,
    0.0, 0.0, 34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0008680556573291698, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0005313191874358747, 0.0,
    0.00016533814161379112, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0004179171803251336, 0.0017290828234722833,
    0.0, 0.0020827005846636437, 0.0, 0.0, 8.826982764996862, 23.19243343998926, 0.0,
    95.1080498811086, 0.9863978034400682, 0.9834382792465353, 0.0012286405048278493,
    171.2667255897307, 0.9807858872435379, 0.0, 0.0, 0.0, 0.0005130064588990679, 0.0,
    0.00010854057858411537,
])

#: Images with more pixels than this are scored on a copy shrunk by a whole factor: about
#: 640 x 480, so that scoring costs a fraction of a compression however big the photo.
MAX_SCORED_PIXELS = 320_000

#: The Gaussian blur of the reference: sigma 1.5, 11 taps.
_SIGMA = 1.5
_RADIUS = 5


def _kernel() -> np.ndarray:
    x = np.arange(-_RADIUS, _RADIUS + 1, dtype=np.float64)
    phi = np.exp(-0.5 / (_SIGMA * _SIGMA) * x * x)
    return phi / phi.sum()


_KERNEL = _kernel()


def _blur(planes) -> np.ndarray:
    """The reference's blur of (n, rows, columns) planes: zero beyond the first and last rows,
    mirrored beyond the first and last columns.

    The kernel is symmetric, so each pair of taps is added before it is weighted.
    """
    n, height, width = planes.shape
    rows = np.zeros((n, height + 2 * _RADIUS, width), dtype=planes.dtype)
    rows[:, _RADIUS : _RADIUS + height] = planes
    kernel = _KERNEL.astype(planes.dtype)
    vertical = kernel[_RADIUS] * planes
    pair = np.empty_like(vertical)
    for k in range(_RADIUS):
        np.add(rows[:, k : k + height], rows[:, 2 * _RADIUS - k : 2 * _RADIUS - k + height], out=pair)
        pair *= kernel[k]
        vertical += pair
    columns = np.pad(vertical, ((0, 0), (0, 0), (_RADIUS, _RADIUS)), mode="symmetric")
    out = kernel[_RADIUS] * vertical
    for k in range(_RADIUS):
        np.add(columns[:, :, k : k + width], columns[:, :, 2 * _RADIUS - k : 2 * _RADIUS - k + width], out=pair)
        pair *= kernel[k]
        out += pair
    return out


def _linear(srgb) -> np.ndarray:
    """sRGB (height, width, 3) -> linear light as planes (3, height, width)."""
    rgb = np.ascontiguousarray(np.moveaxis(np.asarray(srgb, dtype=np.float64), 2, 0)) / 255.0
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _positive_xyb(linear) -> np.ndarray:
    """Linear RGB planes -> XYB planes, shifted and scaled to positive values as SSIMULACRA2 does."""
    mixed = [np.cbrt(np.maximum(
        _OPSIN[i, 0] * linear[0] + _OPSIN[i, 1] * linear[1] + _OPSIN[i, 2] * linear[2]
        + _OPSIN_BIAS, 0.0)) - np.cbrt(_OPSIN_BIAS) for i in range(3)]
    x = 0.5 * (mixed[0] - mixed[1])
    y = 0.5 * (mixed[0] + mixed[1])
    xyb = np.stack([x * 14.0 + 0.42, y + 0.01, (mixed[2] - y) + 0.55])
    # Transposed (columns first), as the reference computes it: its blur treats the two axes
    # differently at the borders, so this decides which borders are padded with zeros.
    return np.ascontiguousarray(xyb.transpose(0, 2, 1))


def _downsample(planes) -> np.ndarray:
    """Means of 2x2 blocks (of the pixels there are, at odd edges)."""
    n, height, width = planes.shape
    padded = np.zeros((n, height + height % 2, width + width % 2))
    padded[:, :height, :width] = planes
    counts = np.zeros(padded.shape[1:])
    counts[:height, :width] = 1.0
    sums = padded.reshape(n, padded.shape[1] // 2, 2, padded.shape[2] // 2, 2).sum(axis=(2, 4))
    blocks = counts.reshape(counts.shape[0] // 2, 2, counts.shape[1] // 2, 2).sum(axis=(1, 3))
    return sums / blocks


def _norms(values) -> tuple[np.ndarray, np.ndarray]:
    """Per plane: the mean, and the 4-norm (mean of the 4th powers, to the 1/4)."""
    squared = values * values
    return values.mean(axis=(1, 2)), (squared * squared).mean(axis=(1, 2)) ** 0.25


def _score(original_srgb, distorted_srgb) -> float:
    linear1, linear2 = _linear(original_srgb), _linear(distorted_srgb)
    total = 0.0
    # parts[channel][scale] = (ssim mean, ssim 4-norm, artifact mean, artifact 4-norm, lost mean, lost 4-norm)
    parts = [[] for _ in range(3)]
    for scale in range(_NUM_SCALES):
        if scale:
            linear1, linear2 = _downsample(linear1), _downsample(linear2)
        if linear1.shape[1] < 8 or linear1.shape[2] < 8:
            break
        img1, img2 = _positive_xyb(linear1).astype(np.float32), _positive_xyb(linear2).astype(np.float32)
        # The five blurs of a scale as one, over 15 stacked planes.
        blurred = _blur(np.concatenate([img1, img2, img1 * img1, img2 * img2, img1 * img2]))
        mu1, mu2, sigma11, sigma22, sigma12 = (blurred[3 * i : 3 * i + 3] for i in range(5))
        num_m = 1.0 - (mu1 - mu2) * (mu1 - mu2)
        num_s = 2.0 * (sigma12 - mu1 * mu2) + _C2
        denom_s = (sigma11 - mu1 * mu1) + (sigma22 - mu2 * mu2) + _C2
        ssim = np.maximum(1.0 - num_m * num_s / denom_s, 0.0)
        ratio = (1.0 + np.abs(img2 - mu2)) / (1.0 + np.abs(img1 - mu1)) - 1.0
        ssim_mean, ssim_norm = _norms(ssim)
        artifact_mean, artifact_norm = _norms(np.maximum(ratio, 0.0))
        lost_mean, lost_norm = _norms(np.maximum(-ratio, 0.0))
        for c in range(3):
            parts[c].append(((ssim_mean[c], artifact_mean[c], lost_mean[c]),
                             (ssim_norm[c], artifact_norm[c], lost_norm[c])))
    i = 0
    for c in range(3):
        for by_norm in parts[c]:
            for values in by_norm:
                for value in values:
                    total += _WEIGHTS[i] * abs(value)
                    i += 1
    total *= 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total**2 + 6.248496625763138e-05 * total**3
    return 100.0 - 10.0 * math.pow(total, 0.6276336467831387) if total > 0 else 100.0


def scale_factor(height: int, width: int, max_pixels: int = MAX_SCORED_PIXELS) -> int:
    """The whole factor :func:`ssimulacra2` shrinks an image of this size by (1: not at all).

    Examples
    --------
    >>> scale_factor(427, 640), scale_factor(3000, 4000)
    (1, 7)
    """
    factor = 1
    while (height // factor) * (width // factor) > max_pixels:
        factor += 1
    return factor


def _shrink(image, factor) -> np.ndarray:
    """Means of factor x factor blocks (in sRGB values), the edge remainder dropped."""
    if factor == 1:
        return image
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    image = image[:height, :width]
    if image.dtype == np.uint8:
        # Whole sums, without a float64 copy of a big image (the same means to the bit): first the
        # factor columns of each block (strided views, added whole), then its factor rows.
        columns = image[:, 0::factor].astype(np.uint16 if factor * 255 <= 0xFFFF else np.uint32)
        for j in range(1, factor):
            columns += image[:, j::factor]
        sums = columns[0::factor].astype(np.uint32)
        for i in range(1, factor):
            sums += columns[i::factor]
        return sums / float(factor * factor)
    blocks = image.reshape(height // factor, factor, width // factor, factor, image.shape[2])
    return blocks.mean(axis=(1, 3))


def _blend(image, background) -> np.ndarray:
    if image.shape[2] == 3:
        return image
    rgb = np.asarray(image[..., :3], dtype=np.float64)
    alpha = image[..., 3:4].astype(np.float64) / 255.0
    return rgb * alpha + (1.0 - alpha) * (background * 255.0)


def ssimulacra2(original, distorted, *, max_pixels: int = MAX_SCORED_PIXELS) -> float:
    """SSIMULACRA2 score of `distorted` against `original` (higher is better, 100 = identical).

    Parameters
    ----------
    original, distorted : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
        The same size. With alpha, both are blended on a dark and on a light
        background and the lower score is returned, as the reference does.
    max_pixels : int, default=320,000
        Larger images are scored on copies shrunk by :func:`scale_factor`
        (block means), which costs a fraction of the time; a shrunk copy
        hides fine dithering a little, so the score is then a bit kinder.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> image = np.random.default_rng(0).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    >>> ssimulacra2(image, image)
    100.0
    """
    original, distorted = np.asarray(original), np.asarray(distorted)
    if original.shape != distorted.shape or original.ndim != 3 or original.shape[2] not in (3, 4):
        raise ValueError(
            f"ssimulacra2 compares two images of the same shape (height, width, 3 or 4); "
            f"got {original.shape} and {distorted.shape}"
        )
    factor = scale_factor(original.shape[0], original.shape[1], max_pixels)
    backgrounds = (0.1, 0.9) if original.shape[2] == 4 else (0.5,)
    scores = []
    for background in backgrounds:
        a = _shrink(_blend(original, background), factor)
        b = _shrink(_blend(distorted, background), factor)
        scores.append(_score(a, b))
    return min(scores)
