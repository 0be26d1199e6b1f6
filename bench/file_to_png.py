"""File to PNG: the time from an image file to an indexed PNG, ours (defaults) against pngquant.

Run by hand (not in CI), after ``pip install -e '.[bench]'``:

    python bench/file_to_png.py            # the sample photo and a 12-megapixel one, K = 16
    python bench/file_to_png.py --k 16 64 --repeat 3

Every photo is first written as a PNG file. Then, alternating, so that both
see the same load on a shared machine:

- ours, in-process: ``load_image`` -> ``quantize_image`` (defaults: dithering,
  OKLab) -> ``encode_png`` -> the file written; the stages are timed too;
- ours, the CLI: ``python -m kmeans compress -k K`` as a user runs it (Python's
  start-up, the imports and the SSIMULACRA2 score it prints included);
- pngquant: ``pngquant K --speed 1`` (its best quality, default dithering).

A time is the best of ``--repeat`` runs. The ratio is ours / pngquant: below
1 means ours is faster.
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
sys.path.insert(0, str(REPO / "py"))
sys.path.insert(0, str(REPO / "bench"))
from kmeans import encode_png, load_image, quantize_image  # noqa: E402
from native import photos  # noqa: E402  (the same photos as the speed benchmark)


def ours_in_process(source: Path, target: Path, k: int) -> dict:
    start = time.perf_counter()
    image = load_image(source)
    decoded = time.perf_counter()
    result = quantize_image(image, k)
    quantized = time.perf_counter()
    target.write_bytes(encode_png(result))
    done = time.perf_counter()
    return {"total": done - start, "decode": decoded - start, "quantize": quantized - decoded,
            "encode": done - quantized}


def timed_command(command) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(REPO / "py")})
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, nargs="+", default=[16])
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing, the best counts (default 2)")
    parser.add_argument("--no-big", action="store_true", help="skip the 12-megapixel photo")
    args = parser.parse_args(argv)
    print("| photo | K | ours in-process (s) | decode · quantize · encode | ours CLI (s) | pngquant --speed 1 (s) "
          "| in-process / pngquant | CLI / pngquant | bytes ours · pngquant |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name, image in photos(not args.no_big):
            source = folder / "photo.png"
            Image.fromarray(image).save(source)
            for k in args.k:
                best, cli, peer = None, float("inf"), float("inf")
                ours_png, cli_png, peer_png = folder / "ours.png", folder / "cli.png", folder / "pngquant.png"
                for _ in range(args.repeat):
                    run = ours_in_process(source, ours_png, k)
                    best = run if best is None or run["total"] < best["total"] else best
                    # --overwrite: from the second run on the output exists, which the CLI otherwise skips.
                    cli = min(cli, timed_command([sys.executable, "-m", "kmeans", "compress", "-q", "--overwrite",
                                                  "-k", str(k), "-o", str(cli_png), str(source)]))
                    peer = min(peer, timed_command(["pngquant", str(k), "--speed", "1", "--force",
                                                    "--output", str(peer_png), str(source)]))
                stages = f"{best['decode']:.2f} · {best['quantize']:.2f} · {best['encode']:.2f}"
                print(f"| {name} | {k} | {best['total']:.2f} | {stages} | {cli:.2f} | {peer:.2f} | "
                      f"{best['total'] / peer:.2f} | {cli / peer:.2f} | "
                      f"{ours_png.stat().st_size:,} · {peer_png.stat().st_size:,} |", flush=True)


if __name__ == "__main__":
    main()
