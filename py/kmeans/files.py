"""Image files in, indexed PNGs out: one file at a time, for the CLI and for any scheduler.

:func:`compress_file` is the whole job for one file: decode, quantize (to a
palette size, or to a size or quality target), score, write. It never
raises for a bad file: the :class:`FileResult` it returns says what went
wrong, so that a batch (the CLI's processes, a Dask bag, Ray tasks) carries
on with the other files. It writes through a temporary name and a rename,
so an interrupted run never leaves half a PNG under the output's name.

:func:`collect_images` turns the command line's files and folders into the
list of inputs, each with the sub-folder it came from, so that outputs can
mirror the folder structure.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time
import warnings

from ._validation import count_of  # noqa: F401  (the CLI's words, read from here too)
from .images import load_image
from .metrics import scale_factor
from .options import DEFAULTS, QuantizeOptions
from .target import KB, compress_image  # noqa: F401  (KB: the size unit of max_kb, also read from here)

#: Extensions picked up when a folder is given.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")

#: The exceptions that mean a user's mistake or a bad file (reported in words, never as a traceback).
USER_ERRORS = (ValueError, TypeError, OSError)

#: What a file must look like to be taken for one of our own outputs when a folder is read again.
_OUR_OUTPUT = re.compile(r"-(\d+colors|\d+kb|q\d+(\.\d+)?|\d+kb-q\d+(\.\d+)?)\.png$", re.IGNORECASE)


@dataclasses.dataclass
class FileResult:
    """What :func:`compress_file` did with one file.

    Attributes
    ----------
    source, output : str
    status : str
        "written", "skipped" (the output existed), "missed" (a target was
        missed and the result not kept) or "failed".
    error : str or None
        Why it failed, in the user's words.
    bytes_before, bytes_after : int
    n_colors, n_iter : int
    psnr : float
    score : float or None
        SSIMULACRA2 of the result (None when not scored).
    scale : int
        The factor the score was computed at (1: full size).
    target : str or None
        The target search's sentence (:attr:`kmeans.target.TargetResult.message`).
    target_met : bool or None
    trials : int
        Palette sizes tried (1 without a target).
    seconds : float
    notes : list of str
        Warnings worth passing on ("only 3 distinct colours", ...).
    """

    source: str
    output: str
    status: str = "failed"
    error: str | None = None
    bytes_before: int = 0
    bytes_after: int = 0
    n_colors: int = 0
    n_iter: int = 0
    psnr: float = 0.0
    score: float | None = None
    scale: int = 1
    target: str | None = None
    target_met: bool | None = None
    trials: int = 0
    seconds: float = 0.0
    notes: list = dataclasses.field(default_factory=list)

    def line(self) -> str:
        """The CLI's line for this file."""
        if self.status == "failed":
            # Most errors name the file already ("a.png is empty (0 bytes); ..."): once is enough.
            named = self.error.startswith((f"{self.source} ", f"{self.source}:"))
            return self.error if named else f"{self.source}: {self.error}"
        if self.status == "skipped":
            return f"{self.source} -> {self.output}: skipped, the output exists (--overwrite replaces it)"
        scaled = f" at 1/{self.scale} size" if self.scale > 1 else ""
        quality = "" if self.score is None else f", SSIMULACRA2 {self.score:.1f}{scaled}"
        target = "" if self.target is None else f"; {self.target} ({count_of(self.trials, 'trial')})"
        kept = "" if self.status != "missed" else "; not written (--strict; --keep writes it anyway)"
        notes = "".join(f" ({note})" for note in self.notes)
        return (
            f"{self.source} -> {self.output}: {self.bytes_before:,} -> {self.bytes_after:,} bytes "
            f"({size_change(self.bytes_before, self.bytes_after)}), {count_of(self.n_colors, 'colour')}, "
            f"{'lossless' if math.isinf(self.psnr) else f'PSNR {self.psnr:.1f} dB'}{quality}, "
            f"{count_of(self.n_iter, 'iteration')}, {self.seconds:.2f} s{target}{kept}{notes}"
        )


def size_change(before: int, after: int) -> str:
    """How a file's size changed: ``3.2x smaller``, ``1.2x larger`` or ``the same size``."""
    if after < before:
        return f"{before / after:.1f}x smaller"
    if after > before:
        return f"{after / before:.1f}x larger"
    return "the same size"


def output_name(path: str, n_colors: int = DEFAULTS.n_colors, *, max_kb=None, min_quality=None) -> str:
    """The output's file name: ``photo.jpg`` -> ``photo-16colors.png``; with targets ``photo-200kb.png``,
    ``photo-q70.png`` or ``photo-200kb-q70.png``.

    Examples
    --------
    >>> output_name("holiday/photo.jpg"), output_name("a.png", max_kb=200), output_name("a.png", min_quality=62.5)
    ('photo-16colors.png', 'a-200kb.png', 'a-q62.5.png')
    """
    stem = os.path.splitext(os.path.basename(path))[0]
    parts = []
    if max_kb is not None:
        parts.append(f"{max_kb:g}kb")
    if min_quality is not None:
        parts.append(f"q{min_quality:g}")
    return f"{stem}-{'-'.join(parts) if parts else f'{n_colors}colors'}.png"


def collect_images(paths, *, recursive: bool = False):
    """The image files named by `paths` (files and folders), each with the sub-folder it was found in.

    Parameters
    ----------
    paths : list of str
    recursive : bool, default=False
        Also read the folders inside folders.

    Returns
    -------
    list of (str, str)
        ``(file, sub_folder)``: `sub_folder` is the file's folder relative
        to the folder named on the command line ("" for files named
        directly, and for files at a named folder's top). In a folder, only
        files with an image extension are taken, in name order, and never
        our own outputs (``*-16colors.png`` ...), so that a second run does
        not compress the first run's results.

    Raises
    ------
    ValueError
        A path that does not exist, or a folder that holds no image.
    """
    found = []
    for path in paths:
        if os.path.isdir(path):
            before = len(found)
            for folder, folders, names in os.walk(path):
                folders.sort()
                if not recursive:
                    folders.clear()
                relative = os.path.relpath(folder, path)
                for name in sorted(names):
                    if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS and not _OUR_OUTPUT.search(name):
                        found.append((os.path.join(folder, name), "" if relative == "." else relative))
            if len(found) == before:
                where = "or its sub-folders " if recursive else ""
                hint = "" if recursive else " (--recursive also reads its sub-folders)"
                raise ValueError(f"folder {path} {where}holds no image files "
                                 f"({', '.join(IMAGE_EXTENSIONS)}){hint}")
        elif os.path.exists(path):
            found.append((path, ""))
        else:
            raise ValueError(f"{path}: no such file or folder")
    return found


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary name in the same folder and a rename.

    An interruption (Ctrl-C, a full disk) leaves either the old file or the
    new one under `path`, never half of one, and no temporary file behind.
    """
    folder = os.path.dirname(path) or "."
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            # The user named `path`, not the temporary file: the message names it.
            raise WriteError(error.errno, error.strerror or str(error), path) from None
        raise


class WriteError(OSError):
    """A file could not be written; ``filename`` is the path the caller asked for."""


def compress_file(source, output=None, *, options: QuantizeOptions = DEFAULTS, max_kb=None, min_quality=None,
                  overwrite: bool = True, keep_missed: bool = True, score: bool = True) -> FileResult:
    """Compress one image file to an indexed PNG; report what happened instead of raising.

    Parameters
    ----------
    source : str or os.PathLike
        The image file.
    output : str or os.PathLike, optional
        Where to write the PNG (default: beside the source, named by
        :func:`output_name`). Its folder is created if needed.
    options : QuantizeOptions, default=DEFAULTS
        The quantizer's options; with a target, `n_colors` is only where the
        search starts.
    max_kb : float, optional
        The PNG must be no bigger than this many KB (1 KB = 1024 bytes).
    min_quality : float, optional
        Its SSIMULACRA2 score must be at least this.
    overwrite : bool, default=True
        Replace an existing output; when False, skip the file.
    keep_missed : bool, default=True
        Write the result even when it misses a target (the best found).
    score : bool, default=True
        Compute the SSIMULACRA2 score (a target of quality always does).

    Returns
    -------
    FileResult
        ``status`` "written", "skipped", "missed" or "failed" (with ``error``).

    Examples
    --------
    The function a scheduler maps over files (see the README's "Millions of
    photos"): ``compress_file("in/a.jpg", "out/a.png", max_kb=200)``.
    """
    source = os.fspath(source)
    started = time.perf_counter()
    if output is None:
        output = os.path.join(os.path.dirname(source), output_name(source, options.n_colors, max_kb=max_kb,
                                                                    min_quality=min_quality))
    output = os.fspath(output)
    result = FileResult(source, output)
    if not overwrite and os.path.exists(output):
        result.status = "skipped"
        return result
    try:
        result.bytes_before = os.path.getsize(source)
        image = load_image(source)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = compress_image(image, options=options, max_kb=max_kb, min_quality=min_quality, score=score)
        quantized, png = found.quantized, found.png
        result.notes = [str(warning.message) for warning in caught]
        if found.message is not None:
            result.target, result.target_met = found.message, found.met
        result.trials = len(found.trials) or 1  # without a target: the one encode
        result.score = found.score
        result.n_colors, result.n_iter, result.psnr = quantized.n_colors, quantized.n_iter, quantized.psnr
        result.bytes_after = len(png)
        result.scale = scale_factor(*image.shape[:2])
        if result.target_met is False and not keep_missed:
            result.status = "missed"
        else:
            os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
            write_atomically(output, png)
            result.status = "written"
    except USER_ERRORS as error:
        result.status, result.error = "failed", describe_error(error)
    result.seconds = time.perf_counter() - started
    return result


def describe_error(error: BaseException) -> str:
    """An exception from reading or writing a file, in the user's words."""
    if isinstance(error, WriteError):
        return f"{error.filename} cannot be written ({error.strerror[:1].lower()}{error.strerror[1:]})"
    if isinstance(error, FileNotFoundError):
        return f"{error.filename}: no such file"
    if isinstance(error, IsADirectoryError):
        return f"{error.filename} is a folder, not a file"
    if isinstance(error, PermissionError):
        return f"{error.filename}: permission denied"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)
