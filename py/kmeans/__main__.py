"""Command line: ``kmeans compress`` (images) and ``kmeans cluster`` (points).

Run ``python -m kmeans --help``. A user's mistake (a missing or corrupt file,
K out of range, a ragged CSV) prints one line saying what was wrong; it never
prints a traceback. The exit status is one of :data:`EXIT_CODES`.

``compress`` runs the files on parallel processes (``-j``), each through
:func:`kmeans.files.compress_file`, and prints their lines in input order.
"""

from __future__ import annotations

import argparse
import io
import itertools
import math
import os
import sys
import time

import numpy as np

from . import __version__
from .cluster import KMeans
from .datasets import ACCEPTED_POINT_FILES, load_points
from .colour_spaces import COLOUR_SPACES
from .files import (  # noqa: F401  (size_change: the CLI's words, imported from here by its tests)
    USER_ERRORS, collect_images, compress_file, count_of, describe_error, output_name, size_change, write_atomically,
)
from .images import ACCEPTED_FORMATS
from .options import AUTO_ONE_RUN_FROM, AUTO_RESTARTS, DEFAULTS, RANGES, QuantizeOptions

#: The exit statuses of ``kmeans``.
EXIT_CODES = {
    "ok": 0,  # every file written (or skipped: its output existed)
    "some failed": 1,  # some files failed, the others were written
    "error": 2,  # a mistake on the command line, or every file failed
    "target missed": 3,  # --strict: some result missed its --max-kb or --min-quality target
    "interrupted": 130,  # Ctrl-C: the files finished so far are written, no partial file is left
}


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
        help="output file (one image) or folder (default: beside each input, as NAME-Kcolors.png, e.g. photo-16colors.png)",
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
    compress.add_argument("--max-kb", type=float, metavar="N",
                          help="target: the PNG no bigger than N KB (1 KB = 1024 bytes); K is searched")
    compress.add_argument("--min-quality", type=float, metavar="Q",
                          help="target: a SSIMULACRA2 score of at least Q (up to 100); K is searched. "
                               "With --max-kb too, the size wins")
    compress.add_argument("--strict", action="store_true",
                          help="a missed target exits with status 3 and its file is not written")
    compress.add_argument("--keep", action="store_true",
                          help="with --strict: write the best result found even when it misses")
    compress.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                          help="files compressed at once, on N processes (default: one per core)")
    compress.add_argument("-r", "--recursive", action="store_true",
                          help="read folders inside folders; with -o the folder structure is mirrored")
    compress.add_argument("--overwrite", action="store_true",
                          help="replace existing outputs (default: skip files whose output exists)")
    compress.add_argument("-q", "--quiet", action="store_true", help="print only errors (no progress bar)")

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


def _output_path(source, sub_folder, args, several):
    name = output_name(source, args.colors, max_kb=args.max_kb, min_quality=args.min_quality)
    if args.output is None:
        return os.path.join(os.path.dirname(source), name)
    if several or os.path.isdir(args.output) or args.output.endswith(os.sep):
        return os.path.join(args.output, sub_folder, name)
    return args.output


def run_compress(args) -> int:
    """Compress every image named on the command line; return the exit status (see EXIT_CODES)."""
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
    if args.max_kb is not None and not (math.isfinite(args.max_kb) and args.max_kb > 0):
        raise UserError(f"--max-kb {args.max_kb:g}: the size target must be a number of KB above 0, e.g. --max-kb 200")
    if args.min_quality is not None and not (math.isfinite(args.min_quality) and args.min_quality <= 100):
        raise UserError(f"--min-quality {args.min_quality:g}: the quality target is a SSIMULACRA2 score up to 100 "
                        f"(identical), e.g. --min-quality 70")
    try:
        options.checked()  # a bad option fails once, before any file is read
    except ValueError as error:
        raise UserError(_as_flags(str(error))) from None
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"-j {args.jobs}: the number of parallel jobs must be 1 or more")
    if args.keep and not args.strict:
        raise UserError("--keep goes with --strict: without --strict a result that misses its target is kept anyway")
    try:
        files = collect_images(args.images, recursive=args.recursive)
    except ValueError as error:
        raise UserError(str(error)) from None
    several = len(files) > 1
    if args.output and several and os.path.isfile(args.output):
        raise UserError(f"-o {args.output} is a file, but several images need an output folder")
    jobs = [
        (source, _output_path(source, sub_folder, args, several)) for source, sub_folder in files
    ]
    settings = dict(options=options, max_kb=args.max_kb, min_quality=args.min_quality, overwrite=args.overwrite,
                    keep_missed=not args.strict or args.keep)
    progress = Progress(len(jobs), enabled=not args.quiet and sys.stderr.isatty())
    counts = dict.fromkeys(("written", "skipped", "missed", "failed"), 0)
    missed = 0  # results that missed their target, kept or not
    try:
        for number, result in enumerate(_results(jobs, settings, _n_jobs(args.jobs, len(jobs))), start=1):
            counts[result.status] += 1
            missed += result.target_met is False
            prefix = f"[{number}/{len(jobs)}] " if several else ""
            progress.clear()
            if result.status == "failed":
                print(f"kmeans: {prefix}{result.line()}", file=sys.stderr)
            elif not args.quiet:
                print(prefix + result.line(), flush=True)
            progress.update(number)
    except KeyboardInterrupt:
        progress.clear()
        print(f"kmeans: interrupted: {counts['written']} of {len(jobs)} written, no partial file left",
              file=sys.stderr)
        return EXIT_CODES["interrupted"]
    progress.clear()
    if counts["failed"]:
        if several:
            print(f"kmeans: {counts['failed']} of {len(jobs)} images failed", file=sys.stderr)
        return EXIT_CODES["some failed"] if counts["failed"] < len(jobs) else EXIT_CODES["error"]
    if args.strict and missed:
        return EXIT_CODES["target missed"]
    return EXIT_CODES["ok"]


def _n_jobs(asked, n_files) -> int:
    """Processes to run: as asked, else one per core; never more than files, and 1 where there are no processes."""
    if sys.platform == "emscripten":
        return 1
    return max(1, min(asked or os.cpu_count() or 1, n_files))


def _results(jobs, settings, n_jobs):
    """:func:`compress_file` of each job, yielded in the jobs' order, run on `n_jobs` processes."""
    if n_jobs == 1:
        for source, target in jobs:
            yield compress_file(source, target, **settings)
        return
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(n_jobs)
    try:
        # A window of a few jobs a process: bounded memory, and every process kept busy.
        window, futures = 2 * n_jobs, []
        pending = iter(jobs)
        for source, target in itertools.islice(pending, window):
            futures.append(pool.submit(compress_file, source, target, **settings))
        while futures:
            result = futures.pop(0).result()
            for source, target in itertools.islice(pending, 1):
                futures.append(pool.submit(compress_file, source, target, **settings))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Progress:
    """A one-line progress bar on the terminal: done/total, files a second, time left."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.started, self.shown = total, enabled and total > 1, time.monotonic(), False

    def update(self, done: int) -> None:
        if not self.enabled or done >= self.total:
            return
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else 0.0
        width = 24
        filled = round(width * done / self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}  "
                         f"{rate:.2f} files/s  ETA {int(left) // 60}:{int(left) % 60:02d} ")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


def _as_flags(message: str) -> str:
    """An options error in the words of the command line: ``max_iter`` -> ``--max-iter``."""
    for name, flag in (("max_iter", "--max-iter"), ("n_init", "--n-init"), ("seed", "--seed"), ("dither", "--dither")):
        message = message.replace(name, flag)
    return message


# -- cluster ------------------------------------------------------------------------------

def run_cluster(args) -> int:
    """Cluster a points file and print the result; return the exit status."""
    X = load_points(args.points)
    _check_cluster_args(args, n_points=X.shape[0])
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


def _check_cluster_args(args, n_points: int) -> None:
    """Refuse a K, --n-init or --max-iter out of range, in the command line's words."""
    if not 1 <= args.clusters <= n_points:
        raise UserError(f"-k {args.clusters} is out of range: {args.points} has {count_of(n_points, 'point')}, "
                        f"so use -k 1 to {n_points}")
    for flag, value in (("--n-init", args.n_init), ("--max-iter", args.max_iter)):
        if value is not None and value < 1:
            raise UserError(f"{flag} {value} is out of range: use 1 or more")


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
    drawn = io.BytesIO()
    figure.savefig(drawn, format=extension[1:])
    write_atomically(path, drawn.getvalue())  # whole or not at all; a failure names `path`


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
        print(f"kmeans: error: {describe_error(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
