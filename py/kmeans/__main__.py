"""Command line: ``kmeans compress`` (images) and ``kmeans cluster`` (points).

Run ``python -m kmeans --help``. A user's mistake (a missing or corrupt file,
K out of range, a ragged CSV) prints one line saying what was wrong and exits
with status 2 (1 when some files of a batch failed); it never prints a
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
import warnings

import numpy as np

from . import __version__
from .cluster import KMeans
from .datasets import ACCEPTED_POINT_FILES, load_points
from .images import ACCEPTED_FORMATS, load_image, save_png
from .colour_spaces import COLOUR_SPACES
from .metrics import scale_factor, ssimulacra2
from .options import AUTO_ONE_RUN_FROM, AUTO_RESTARTS, DEFAULTS, RANGES, QuantizeOptions
from .quantize import quantize_image

#: Extensions picked up when a folder is given to ``compress``.
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"}

USER_ERRORS = (ValueError, TypeError, OSError)


class UserError(Exception):
    """A mistake in the command line or the input; printed without a traceback."""


def _k_value(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be a whole number, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``kmeans`` command."""
    parser = argparse.ArgumentParser(
        prog="kmeans",
        description="K-means clustering and K-means image compression (pure NumPy).",
    )
    parser.add_argument("--version", action="version", version=f"kmeans {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    compress = commands.add_parser(
        "compress",
        help="reduce images to K colours and write indexed PNGs",
        description=f"Reduce images to K colours and write indexed PNGs. Reads {ACCEPTED_FORMATS}.",
    )
    compress.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    n_colors, max_iter = RANGES["n_colors"], RANGES["max_iter"]
    compress.add_argument("-k", "--colors", type=_k_value, default=DEFAULTS.n_colors,
                          help=f"palette size, {n_colors.minimum}-{n_colors.maximum} (default {DEFAULTS.n_colors})")
    compress.add_argument(
        "-o", "--output",
        help="output file (one image) or folder (default: beside each input, as NAME-KcolorS.png)",
    )
    compress.add_argument("--seed", type=int, default=DEFAULTS.seed, help=f"random seed (default {DEFAULTS.seed})")
    compress.add_argument("--max-iter", type=int, default=DEFAULTS.max_iter,
                          help=f"maximum K-means iterations, {max_iter.minimum}-{max_iter.maximum} "
                               f"(default {DEFAULTS.max_iter})")
    compress.add_argument("--n-init", type=int, default=None,
                          help=f"k-means++ restarts, best kept (default: {AUTO_RESTARTS} below "
                               f"{AUTO_ONE_RUN_FROM} colours, else 1)")
    compress.add_argument("--dither", type=float, default=DEFAULTS.dither, metavar="STRENGTH",
                          help=f"error diffusion strength, 0 (off) to 1 (default {DEFAULTS.dither:g})")
    compress.add_argument("--colour-space", "--color-space", dest="colour_space", default=DEFAULTS.colour_space,
                          choices=list(COLOUR_SPACES), metavar="NAME",
                          help=f"space the palette is fitted in: {', '.join(COLOUR_SPACES)} "
                               f"(default {DEFAULTS.colour_space})")
    compress.add_argument("-q", "--quiet", action="store_true", help="print only errors")

    cluster = commands.add_parser(
        "cluster",
        help="cluster a table of points",
        description=f"Cluster the rows of a table of points: {ACCEPTED_POINT_FILES}.",
    )
    cluster.add_argument("points", metavar="POINTS", help="a .csv, .tsv, .txt or .npy file")
    cluster.add_argument("-k", "--clusters", type=_k_value, default=3, help="number of clusters (default 3)")
    cluster.add_argument("--init", choices=["k-means++", "random"], default="k-means++")
    cluster.add_argument("--n-init", type=int, default=None, help="restarts (default: 1 for k-means++, 10 for random)")
    cluster.add_argument("--max-iter", type=int, default=300)
    cluster.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    cluster.add_argument("--plot", metavar="FIG", help="write the notebook-style figure (.png or .svg)")
    cluster.add_argument("--labels", metavar="OUT.csv", help="write each point's cluster label as CSV")
    return parser


# -- compress -----------------------------------------------------------------------------

def _collect_images(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(
                os.path.join(path, name) for name in os.listdir(path)
                if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
            )
            if not found:
                raise UserError(f"folder {path} holds no image files ({', '.join(sorted(IMAGE_EXTENSIONS))})")
            files.extend(found)
        elif os.path.exists(path):
            files.append(path)
        else:
            raise UserError(f"{path}: no such file or folder")
    return files


def output_name(path: str, n_colors: int) -> str:
    """``photo.jpg`` -> ``photo-16colors.png``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return f"{stem}-{n_colors}colors.png"


def count_of(count: int, word: str) -> str:
    """``1 colour``, ``16 colours``."""
    return f"{count} {word if count == 1 else word + 's'}"


def size_change(before: int, after: int) -> str:
    """How a file's size changed: ``3.2x smaller``, ``1.2x larger`` or ``the same size``."""
    if after < before:
        return f"{before / after:.1f}x smaller"
    if after > before:
        return f"{after / before:.1f}x larger"
    return "the same size"


def _output_path(source, output, n_colors, several):
    if output is None:
        return os.path.join(os.path.dirname(source), output_name(source, n_colors))
    if several or os.path.isdir(output) or output.endswith(os.sep):
        os.makedirs(output, exist_ok=True)
        return os.path.join(output, output_name(source, n_colors))
    return output


def _compress_one(source, target, options: QuantizeOptions):
    started = time.perf_counter()
    image = load_image(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = quantize_image(image, **dataclasses.asdict(options))
    size_after = save_png(result, target)
    seconds = time.perf_counter() - started
    size_before = os.path.getsize(source)
    notes = "".join(f" ({warning.message})" for warning in caught)
    distorted = result.to_array()  # RGB when the image was opaque, even if the file had alpha
    score = ssimulacra2(image[..., : distorted.shape[2]], distorted)
    factor = scale_factor(*image.shape[:2])
    scaled = f" at 1/{factor} size" if factor > 1 else ""
    return (
        f"{source} -> {target}: {size_before:,} -> {size_after:,} bytes "
        f"({size_change(size_before, size_after)}), {count_of(result.n_colors, 'colour')}, "
        f"{'lossless' if math.isinf(result.psnr) else f'PSNR {result.psnr:.1f} dB'}, "
        f"SSIMULACRA2 {score:.1f}{scaled}, {count_of(result.n_iter, 'iteration')}, "
        f"{seconds:.2f} s{notes}"
    )


def run_compress(args) -> int:
    """Compress every image named on the command line; return the exit status."""
    bounds = RANGES["n_colors"]
    if not bounds.minimum <= args.colors <= bounds.maximum:
        raise UserError(
            f"-k {args.colors} is out of range: a palette image holds {bounds.minimum} to {bounds.maximum} colours"
        )
    options = QuantizeOptions(
        n_colors=args.colors, seed=args.seed, max_iter=args.max_iter,
        n_init=DEFAULTS.n_init if args.n_init is None else args.n_init,
        dither=args.dither, colour_space=args.colour_space,
    )
    try:
        options.checked()  # a bad option fails once, before any file is read
    except ValueError as error:
        raise UserError(_as_flags(str(error))) from None
    files = _collect_images(args.images)
    several = len(files) > 1
    if args.output and several and os.path.isfile(args.output):
        raise UserError(f"-o {args.output} is a file, but several images need an output folder")
    failures = 0
    for number, source in enumerate(files, start=1):
        prefix = f"[{number}/{len(files)}] " if several else ""
        try:
            line = _compress_one(source, _output_path(source, args.output, args.colors, several), options)
        except USER_ERRORS as error:
            failures += 1
            print(f"kmeans: {prefix}{_describe(error)}", file=sys.stderr)
            continue
        if not args.quiet:
            print(prefix + line, flush=True)
    if failures:
        if several:
            print(f"kmeans: {failures} of {len(files)} images failed", file=sys.stderr)
        return 1 if failures < len(files) else 2
    return 0


def _as_flags(message: str) -> str:
    """An options error in the words of the command line: ``max_iter`` -> ``--max-iter``."""
    for name, flag in (("max_iter", "--max-iter"), ("n_init", "--n-init"), ("seed", "--seed"), ("dither", "--dither")):
        message = message.replace(name, flag)
    return message


# -- cluster ------------------------------------------------------------------------------

def run_cluster(args) -> int:
    """Cluster a points file and print the result; return the exit status."""
    X = load_points(args.points)
    if args.plot and os.path.splitext(args.plot)[1].lower() not in (".png", ".svg", ".pdf"):
        raise UserError(f"--plot {args.plot}: use a .png, .svg or .pdf file name")
    if args.plot and X.shape[1] < 2:
        raise UserError(f"--plot draws the first 2 columns, but {args.points} has only 1")
    model, history = _fit_with_history(X, args)
    counts = np.bincount(model.labels_, minlength=args.clusters)
    print(f"{count_of(X.shape[0], 'point')}, {count_of(X.shape[1], 'feature')}, k={args.clusters}")
    print(f"inertia {model.inertia_:.6g}, {count_of(model.n_iter_, 'iteration')}")
    print("centers:")
    for index, (center, count) in enumerate(zip(model.cluster_centers_, counts)):
        coordinates = ", ".join(f"{value:.6g}" for value in center)
        print(f"  {index}: [{coordinates}]  ({count_of(count, 'point')})")
    if args.labels:
        np.savetxt(args.labels, model.labels_, fmt="%d", header="label", comments="")
        print(f"labels written to {args.labels}")
    if args.plot:
        _write_plot(X, model, history, args.plot)
        print(f"figure written to {args.plot}")
    return 0


def _fit_with_history(X, args):
    """Fit KMeans, keeping the centers of every iteration of the winning run."""
    n_init = "auto" if args.n_init is None else args.n_init
    model = KMeans(args.clusters, init=args.init, n_init=n_init, max_iter=args.max_iter,
                   random_state=args.seed)
    runs = []

    def remember(n_iter, centers, inertia):
        if n_iter == 0:
            runs.append([])
        runs[-1].append(centers.copy())

    model.fit(X, callback=remember)
    # The kept run is the one that ended exactly on the fitted centers.
    history = next(run for run in runs if np.array_equal(run[-1], model.cluster_centers_))
    return model, history


def _write_plot(X, model, history, path):
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".png", ".svg", ".pdf"):
        raise UserError(f"--plot {path}: use a .png, .svg or .pdf file name")
    try:
        from .figures import plot_clusters
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'kmeans-web[plot]'") from None
    figure = plot_clusters(X, model.labels_, model.cluster_centers_, history)
    figure.savefig(path)


def _describe(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return f"{error.filename}: no such file"
    if isinstance(error, IsADirectoryError):
        return f"{error.filename} is a folder, not a file"
    if isinstance(error, PermissionError):
        return f"{error.filename}: permission denied"
    return str(error)


def main(argv=None) -> int:
    """Entry point of ``python -m kmeans`` and the ``kmeans`` script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "compress":
            return run_compress(args)
        return run_cluster(args)
    except UserError as error:
        print(f"kmeans: error: {error}", file=sys.stderr)
        return 2
    except USER_ERRORS as error:
        print(f"kmeans: error: {_describe(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
