"""The CLI on every core: ``kmeans compress -j 2`` against ``-j 1`` on the same photos, in one run.

Run by hand (not in CI):

    python bench/cli_jobs.py                  # 40 photos (crops of the two samples), -j 1 and -j 2
    python bench/cli_jobs.py --photos 24 --jobs 1 2 4

The photos are 40 different 480x320 crops of the sample photos, written as
JPEGs. Each run is the real command (``python -m kmeans compress DIR -o OUT
-q --overwrite``), timed from start to exit; the runs alternate, so both see
the same load. Reported: each time (best of ``--repeat``) and the speed-up
over ``-j 1`` (issue target: at least 1.7x for -j 2 on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def make_photos(folder: Path, count: int) -> None:
    from sklearn.datasets import load_sample_image

    samples = [load_sample_image("china.jpg"), load_sample_image("flower.jpg")]
    for index in range(count):
        image = samples[index % 2]
        top, left = (index * 7) % 100, (index * 11) % 160
        Image.fromarray(image[top : top + 320, left : left + 480]).save(folder / f"p{index:03d}.jpg", quality=90)


def run(folder: Path, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kmeans", "compress", str(folder), "-o", str(out), "-q", "--overwrite",
                    "-j", str(jobs)], check=True, env={**os.environ, "PYTHONPATH": str(REPO / "py")})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "photos"
        folder.mkdir()
        make_photos(folder, args.photos)
        best = {jobs: float("inf") for jobs in args.jobs}
        for _ in range(args.repeat):
            for jobs in args.jobs:
                best[jobs] = min(best[jobs], run(folder, Path(work) / f"out{jobs}", jobs))
        print(f"{args.photos} photos, {os.cpu_count()} cores")
        for jobs in args.jobs:
            print(f"-j {jobs}: {best[jobs]:.1f} s, {args.photos / best[jobs]:.2f} photos/s, "
                  f"{best[args.jobs[0]] / best[jobs]:.2f}x -j {args.jobs[0]}")


if __name__ == "__main__":
    main()
