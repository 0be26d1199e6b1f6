"""Compress to a target: "no bigger than N bytes", "at least quality Q", or both.

Instead of a palette size, the user names what they want of the result, and
:func:`compress_to_target` searches the palette size K for it:

- ``max_bytes`` alone: the largest K whose PNG fits (the best look the budget buys);
- ``min_quality`` alone: the smallest K whose SSIMULACRA2 score reaches it (the smallest file);
- both: the smallest K that reaches the quality, if its PNG fits; otherwise
  the budget wins, and the result is the largest K that fits.

The dithering strength is searched where it helps, for a size alone.
Dithering's noise costs bytes, and its cost jumps with the bits a pixel
takes (2 colours: 1 bit, 3 or 4: 2 bits): a small budget can leave the best
dithered file far below it. So when no dithered size fits the budget, or the
best one uses less than :data:`CLOSE_ENOUGH` of it, the search runs again
without dithering (at most another :data:`MAX_TRIALS` trials), and the
result that looks better (SSIMULACRA2) among those that fit is taken, or the
smaller when neither fits.

A PNG's size and score grow with K, roughly in a straight line against
log2(K) (each doubling of the palette adds about one bit a pixel). So the
search guesses the next K by interpolating on that line between the trials
that bracket the target, not by halving [1, 256], and stops as soon as the
bracket closes or the file is close enough to the budget. The image's colour
counts and its diffusion map are made once for all trials
(:func:`kmeans.quantize.prepare_image`).

The search always returns the best result it found, and says whether it met
the target and by how much it missed.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

from ._validation import count_of
from .images import encode_png
from .metrics import ssimulacra2
from .options import DEFAULTS, MAX_PALETTE_SIZE, QuantizeOptions
from .quantize import QuantizedImage, prepare_image, quantize_image, quantize_prepared

#: One KB, as the page and the CLI count sizes (``max_kb``).
KB = 1024

#: The search stops once a fitting file uses this much of the byte budget.
CLOSE_ENOUGH = 0.9

#: A quality search stops once the K that passes is at most this factor above one that does not:
#: scores are noisy from one K to the next, so a closer search buys a few bytes for many encodes.
CLOSE_K = 1.1

#: A score's first step from one trial: this many SSIMULACRA2 points per doubling of K (measured on the
#: sample photos: 17 to 21).
POINTS_PER_DOUBLING = 18

#: At most this many palette sizes are tried.
MAX_TRIALS = 8


@dataclasses.dataclass
class Trial:
    """One palette size tried: its PNG's size and (when a quality was asked for) its score."""

    n_colors: int
    n_bytes: int
    score: float | None


@dataclasses.dataclass
class TargetResult:
    """What :func:`compress_to_target` found.

    Attributes
    ----------
    quantized : QuantizedImage
        The chosen result.
    png : bytes
        Its PNG.
    score : float or None
        Its SSIMULACRA2 score (None when no quality was asked for).
    n_colors : int
        The palette size asked for in the chosen trial (the palette can hold
        fewer colours when the image has fewer).
    met : bool
        Whether the chosen result meets every target given.
    trials : list of Trial
        Every palette size tried, in order (with the options' dithering,
        then, when that could not fit the budget, without).
    message : str or None
        One sentence for the user: the target, and met or missed by how much
        (None without a target: :func:`compress_image`).
    dither : float
        The dithering strength of the chosen result: the options', or 0 when
        only a result without dithering fitted the budget (or came closer).
    """

    quantized: QuantizedImage
    png: bytes
    score: float | None
    n_colors: int
    met: bool
    trials: list
    message: str | None
    dither: float = DEFAULTS.dither


def compress_image(image, *, options: QuantizeOptions = DEFAULTS, max_kb=None, min_quality=None, score=True,
                   progress=None) -> TargetResult:
    """One image to an indexed PNG: quantized to ``options.n_colors``, or K searched for a target.

    What :func:`kmeans.files.compress_file` (the CLI) and :func:`kmeans.web.compress` (the page's batch)
    both do with an image.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
    options : QuantizeOptions, default=DEFAULTS
    max_kb : float, optional
        The PNG must be no bigger than this many KB (:data:`KB` bytes each).
    min_quality : float, optional
        Its SSIMULACRA2 score must be at least this (at most 100).
    score : bool, default=True
        Score the result (SSIMULACRA2) when the search has not already.
    progress : callable, optional
        ``progress(trial)`` after each palette size a target search tries.

    Returns
    -------
    TargetResult
        Without a target: ``met`` True, no ``trials``, ``message`` None.
    """
    if max_kb is None and min_quality is None:
        quantized = quantize_image(image, **dataclasses.asdict(options))
        found = TargetResult(quantized, encode_png(quantized), None, options.n_colors, True, [], None, options.dither)
    else:
        if max_kb is not None and (isinstance(max_kb, bool) or not isinstance(max_kb, (int, float))
                                   or not max_kb > 0 or max_kb == math.inf):
            raise ValueError(f"the size target must be a number of KB above 0, got {max_kb!r}")
        found = compress_to_target(image, max_bytes=None if max_kb is None else max_kb * KB,
                                   min_quality=min_quality, options=options, progress=progress)
    if score and found.score is None:
        found.score = _score(image, found.quantized)
    return found


def check_targets(max_bytes=None, min_quality=None):
    """Return the targets as (int or None, float or None), or raise ValueError saying what is accepted."""
    if max_bytes is None and min_quality is None:
        raise ValueError("name a target: a largest file size (max_bytes) or a lowest quality (min_quality)")
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, float)) or not math.isfinite(max_bytes):
            raise ValueError(f"the size target must be a number of bytes above 0, got {max_bytes!r}")
        if max_bytes <= 0:
            raise ValueError(f"the size target must be above 0 bytes, got {max_bytes:g}")
        max_bytes = int(max_bytes)
    if min_quality is not None:
        if isinstance(min_quality, bool) or not isinstance(min_quality, (int, float)) or not math.isfinite(
                min_quality):
            raise ValueError(f"the quality target must be a SSIMULACRA2 score up to 100, got {min_quality!r}")
        if not min_quality <= 100:
            raise ValueError(f"the quality target must be a SSIMULACRA2 score up to 100 (identical), "
                             f"got {min_quality:g}")
        min_quality = float(min_quality)
    return max_bytes, min_quality


def compress_to_target(image, *, max_bytes=None, min_quality=None, options: QuantizeOptions = DEFAULTS,
                       progress=None) -> TargetResult:
    """Search the palette size for the best PNG that meets a size or quality target.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
    max_bytes : int, optional
        The PNG must be no bigger than this many bytes.
    min_quality : float, optional
        Its SSIMULACRA2 score must be at least this (at most 100).
    options : QuantizeOptions, default=DEFAULTS
        Every option but the palette size, which is searched; its
        `n_colors` is the first size tried.
    progress : callable, optional
        ``progress(trial)`` after each trial, with the :class:`Trial`.

    Returns
    -------
    TargetResult
        The best result found, met or not: when no size meets the target,
        the one that comes closest (the smallest file for a size target, the
        best score for a quality target).

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 64, axis=0).repeat(3, axis=2)
    >>> found = compress_to_target(ramp, max_bytes=2000)
    >>> len(found.png) <= 2000, found.met
    (True, True)
    """
    max_bytes, min_quality = check_targets(max_bytes, min_quality)
    options = options.checked()
    prepared = prepare_image(image, colour_space=options.colour_space, dithered=options.dither > 0)
    lowest = 2 if prepared.alpha.visible is not None else 1  # one entry is the transparent one
    results: dict[int, tuple] = {}  # K -> (quantized, png, Trial): every trial, reused by both searches
    order: list[Trial] = []

    def measure(n_colors) -> Trial:
        if n_colors not in results:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "only n distinct colours": the search copes
                quantized = quantize_prepared(prepared, dataclasses.replace(options, n_colors=n_colors))
            png = encode_png(quantized)
            score = None if min_quality is None else _score(prepared.image, quantized)
            trial = Trial(n_colors, len(png), score)
            results[n_colors] = (quantized, png, trial)
            order.append(trial)
            if progress is not None:
                progress(trial)
        return results[n_colors][2]

    # More entries than the image has colours change nothing: the largest K worth trying.
    n_distinct = 0 if prepared.distinct is None else prepared.distinct.colours.shape[0]
    useful = max(lowest, min(MAX_PALETTE_SIZE, n_distinct + lowest - 1))
    start = min(max(options.n_colors, lowest), useful)
    if min_quality is not None:
        # The smallest K whose score reaches the quality.
        _, reached = _boundary(lambda k: measure(k).score, min_quality, start, lowest, scale=None,
                               highest=useful)
        start = reached[0] if reached else useful
    if max_bytes is not None and (min_quality is None or measure(start).n_bytes > max_bytes):
        # The largest K whose PNG fits (below the quality's K, when that one did not fit).
        highest = start if min_quality is not None else useful
        _boundary(lambda k: measure(k).n_bytes, max_bytes + 1, start, lowest, scale=max_bytes,
                  highest=highest, known={t.n_colors: t.n_bytes for t in order})
    found = _choose(order, results, max_bytes, min_quality)
    found.dither = options.dither
    # A size alone, dithered, that fell short of the budget, and not because every colour the image has
    # fits (then no search without dithering can do better).
    if (min_quality is None and options.dither > 0 and not CLOSE_ENOUGH * max_bytes <= len(found.png) <= max_bytes
            and not (found.met and found.n_colors >= useful)):
        found = _without_dithering(image, found, prepared, max_bytes, options, progress)
    return found


def _without_dithering(image, dithered: TargetResult, prepared, max_bytes, options, progress) -> TargetResult:
    """The size search again without dithering; the better looking of the two that fit, else the smaller."""
    plain = compress_to_target(image, max_bytes=max_bytes, options=dataclasses.replace(options, dither=0.0),
                               progress=progress)
    plain.trials = dithered.trials + plain.trials
    if dithered.met and plain.met:
        for found in (dithered, plain):
            found.score = _score(prepared.image, found.quantized)
        better = plain.score > dithered.score
    else:
        better = plain.met or len(plain.png) < len(dithered.png)
    if not better:
        dithered.trials = plain.trials
        return dithered
    plain.message = plain.message.replace(":", ", without dithering:", 1)
    return plain


def _score(image, quantized) -> float:
    """SSIMULACRA2 of a result against its image (in RGB when the result is opaque, even if the image has alpha)."""
    distorted = quantized.to_array()
    return float(ssimulacra2(image[..., : distorted.shape[2]], distorted))


def _boundary(value, goal, start, lowest, *, scale, highest=MAX_PALETTE_SIZE, known=None):
    """Where a value that grows with K crosses `goal`, searched from K = `start`.

    Returns
    -------
    below, above : (K, value) or None
        The largest K tried whose value is under `goal`, and the smallest K
        tried whose value is at or over it. With `scale` (a size target), the
        search also stops once `below` reaches ``CLOSE_ENOUGH * scale``.
    """
    points = dict(known or {})
    k = start if start not in points else None
    while True:
        below = max(((k_, v) for k_, v in points.items() if v < goal), default=None)
        above = min(((k_, v) for k_, v in points.items() if v >= goal), default=None)
        if k is None:
            if below and above and above[0] - below[0] <= 1:
                break  # the bracket is closed
            if (above and above[0] <= lowest) or (below and below[0] >= highest):
                break  # even the smallest palette is over, or the largest under
            if below and above and below[0] > above[0]:
                break  # not monotonic here: the trials so far are the answer
            if scale is not None and below and below[1] >= CLOSE_ENOUGH * scale:
                break  # fits, and uses most of the budget
            if scale is None and below and above and above[0] <= below[0] * CLOSE_K:
                break  # a score: the K that passes is within a few percent of the smallest that would
            if len(points) >= MAX_TRIALS:
                break
            if len(points) == MAX_TRIALS - 1 and above is None:
                k = highest  # the last trial: is the goal within reach at all?
            else:
                k = _next_k(points, below, above, goal, lowest, highest, scale is not None)
            if k in points:
                break
        points[k] = value(k)
        k = None
    return below, above


def _next_k(points, below, above, goal, lowest, highest, is_size) -> int:
    """The next K to try: on the straight line through the bracket's ends in (log2 K, value).

    With one end only, the line through the two nearest trials on that side,
    aimed a little past the goal so that the next trial likely closes the
    bracket; with one trial only, for a size the line through it and (K = 1,
    0 bytes) (a 1-colour PNG is nearly empty), for a score a line of slope
    ``POINTS_PER_DOUBLING``.
    """
    if below and above:
        (k0, v0), (k1, v1) = below, above
        if v1 == v0:
            guess = math.sqrt(k0 * k1)
        else:
            x = math.log2(k0) + (goal - v0) * (math.log2(k1) - math.log2(k0)) / (v1 - v0)
            guess = 2 ** x
        return int(min(max(round(guess), k0 + 1), k1 - 1))
    known, value = below or above
    side = sorted((k for k in points if (k <= known if below else k >= known)), reverse=bool(below))[:2]
    aim = goal * (1.05 if below else 0.95) if is_size else goal + (2 if below else -2)
    slope = None
    if len(side) == 2:
        (ka, va), (kb, vb) = (side[0], points[side[0]]), (side[1], points[side[1]])
        slope = (va - vb) / (math.log2(ka) - math.log2(kb))
    if slope is not None and slope > 0:
        guess = known * 2 ** min(max((aim - value) / slope, -4), 4)
    elif is_size and value > 0 and known > 1:
        guess = 2 ** (math.log2(known) * goal / value)
    elif is_size:
        guess = known * 4 if below else known / 4
    else:
        guess = known * 2 ** min(max((aim - value) / POINTS_PER_DOUBLING, -4), 4)
    if below:
        # Near the top, try the top itself: if even that is under the goal, the search is over.
        return int(highest if guess >= 0.7 * highest else min(max(round(guess), known + 1), highest))
    return int(max(min(round(guess), known - 1), lowest))


def _choose(order, results, max_bytes, min_quality) -> TargetResult:
    """The best trial, and a sentence on whether it met the target."""

    def good(trial):  # meets the quality (when asked) and the size (when asked)
        return ((min_quality is None or trial.score >= min_quality)
                and (max_bytes is None or trial.n_bytes <= max_bytes))

    passing = [trial for trial in order if good(trial)]
    fitting = [trial for trial in order if max_bytes is not None and trial.n_bytes <= max_bytes]
    if passing and min_quality is not None:
        chosen = min(passing, key=lambda t: (t.n_bytes, t.n_colors))  # the smallest file that reaches it
    elif passing:
        chosen = max(passing, key=lambda t: (t.n_colors, -t.n_bytes))  # size alone: the largest K that fits
    elif fitting:
        chosen = max(fitting, key=lambda t: t.score)  # both asked for, the quality missed: the budget wins
    elif max_bytes is not None:
        chosen = min(order, key=lambda t: (t.n_bytes, t.n_colors))  # nothing fits: the smallest possible output
    else:
        chosen = max(order, key=lambda t: (t.score, -t.n_bytes))  # the quality missed: the best score there is
    quantized, png, _ = results[chosen.n_colors]
    met = good(chosen)
    return TargetResult(quantized, png, chosen.score, chosen.n_colors, met, list(order),
                        describe(chosen, met, max_bytes, min_quality))


def describe(chosen: Trial, met: bool, max_bytes, min_quality) -> str:
    """The user's sentence: what was asked, what was found, and by how much it missed."""
    parts = []
    if max_bytes is not None:
        if chosen.n_bytes <= max_bytes:
            parts.append(f"{chosen.n_bytes:,} bytes, within {max_bytes:,} ({chosen.n_bytes / max_bytes:.0%})")
        else:
            parts.append(f"{chosen.n_bytes:,} bytes, {chosen.n_bytes - max_bytes:,} over the {max_bytes:,} asked "
                         f"for: this is the smallest output found")
    if min_quality is not None:
        if chosen.score >= min_quality:
            parts.append(f"quality {chosen.score:.1f}, at least {min_quality:g}")
        else:
            parts.append(f"quality {chosen.score:.1f}, {min_quality - chosen.score:.1f} short of the "
                         f"{min_quality:g} asked for")
    verdict = "target met" if met else "target missed"
    return f"{verdict} with {count_of(chosen.n_colors, 'colour')}: {'; '.join(parts)}"
