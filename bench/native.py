"""Native benchmark: our quantizer against scikit-learn, Pillow and libimagequant.

Run by hand (not in CI):

    python bench/native.py                 # K = 16, 64, 256 on the sample photos and a 12 MP one
    python bench/native.py --k 16 --quick  # skip the slow scikit-learn runs on raw pixels

For every photo and K it prints a Markdown table: time, speed ratio to
scikit-learn's KMeans(n_init=1) on the pixels, SSE ratio to the best known
(the lowest SSE any method reached, scikit-learn n_init=10 included), PSNR
and the size of the indexed PNG. Every method's SSE is measured the same way:
the squared RGB error over all pixels of the image it outputs. A time is the
best of `--repeat` runs (default 3; 1 on the 12-megapixel photo), so that no
method pays for first-call costs that a user running it repeatedly would not.

Needs scikit-learn (a test dependency). libimagequant is timed in-process
through the `imagequant` package (``pip install imagequant``) and, with its
file I/O, through the `pngquant` command (Debian package pngquant), each when
installed.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))
from kmeans import encode_png, quantize_image
from kmeans._distinct import count_colours
from kmeans.quantize import QuantizedImage


def photos(big: bool):
    """(name, RGB uint8 array) for the benchmark photos."""
    from sklearn.datasets import load_sample_image

    china = load_sample_image("china.jpg")
    yield "china.jpg 640x427", china
    yield "flower.jpg 640x427", load_sample_image("flower.jpg")
    if big:
        # 12 megapixels by upscaling with a smooth filter: many distinct colours, like a real photo.
        upscaled = Image.fromarray(china).resize((4000, 3000), Image.LANCZOS)
        buffer = io.BytesIO()
        upscaled.save(buffer, format="JPEG", quality=92)
        yield "china 4000x3000 (12 MP)", np.asarray(Image.open(buffer).convert("RGB"))


def sse(original, output) -> float:
    diff = original.astype(np.int64) - output.astype(np.int64)
    return float((diff * diff).sum())


#: Runs per timing, the best of which counts: set for each photo by benchmark().
RUNS = {"repeat": 1}


def timed(function):
    """Best time of RUNS["repeat"] runs of `function`, and the last run's result."""
    best = math.inf
    for _ in range(RUNS["repeat"]):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def png_size(palette, indices) -> int:
    return len(encode_png(QuantizedImage(palette, indices, 0, 0.0)))


def run_ours(image, k):
    # Plain K-means (RGB, no dithering): this benchmark compares K-means engines by SSE.
    seconds, result = timed(lambda: quantize_image(image, k, seed=0, dither=0.0, colour_space="rgb"))
    return seconds, result.palette, result.indices


def run_sklearn_pixels(image, k, n_init):
    from sklearn.cluster import KMeans

    pixels = image.reshape(-1, 3).astype(np.float64)
    seconds, model = timed(lambda: KMeans(k, n_init=n_init, random_state=0).fit(pixels))
    palette = np.clip(np.rint(model.cluster_centers_), 0, 255).astype(np.uint8)
    return seconds, palette, model.labels_.reshape(image.shape[:2]).astype(np.uint8)


def run_sklearn_weighted(image, k, n_init):
    """scikit-learn on the distinct colours with counts as weights: the same objective, faster."""
    from sklearn.cluster import KMeans

    def fit():
        colours, counts, lookup, _keys = count_colours(image.reshape(-1, 3), 3)
        model = KMeans(k, n_init=n_init, random_state=0).fit(colours, sample_weight=counts)
        return model, lookup(model.labels_.astype(np.uint8))

    seconds, (model, labels) = timed(fit)
    palette = np.clip(np.rint(model.cluster_centers_), 0, 255).astype(np.uint8)
    return seconds, palette, labels.reshape(image.shape[:2])


def run_pillow(image, k, method):
    picture = Image.fromarray(image)
    seconds, quantized = timed(lambda: picture.quantize(k, method=method, dither=Image.Dither.NONE))
    palette = np.array(quantized.getpalette()[: 3 * k], dtype=np.uint8).reshape(-1, 3)
    return seconds, palette, np.asarray(quantized)


def run_pngquant(image, k, speed):
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "in.png")
        target = os.path.join(folder, "out.png")
        Image.fromarray(image).save(source, compress_level=1)
        command = ["pngquant", "--force", "--nofs", "--speed", str(speed), "--output", target, str(k), source]
        seconds, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True))
        quantized = Image.open(target)
        quantized.load()
    palette = np.array(quantized.getpalette(), dtype=np.uint8).reshape(-1, 3)
    return seconds, palette, np.asarray(quantized)


def run_libimagequant(image, k, speed):
    """libimagequant in this process (the `imagequant` package), no dithering: no file I/O timed."""
    from imagequant import ffi, lib

    height, width, _ = image.shape
    rgba = np.dstack([image, np.full((height, width), 255, np.uint8)]).tobytes()

    def quantize():
        attr = lib.liq_attr_create()
        lib.liq_set_max_colors(attr, k)
        lib.liq_set_speed(attr, speed)
        liq_image = lib.liq_image_create_rgba(attr, rgba, width, height, 0)
        result = ffi.new("liq_result**")
        if lib.liq_image_quantize(liq_image, attr, result) != lib.LIQ_OK:
            raise RuntimeError("libimagequant failed")
        lib.liq_set_dithering_level(result[0], 0.0)
        indices = ffi.new("char[]", width * height)
        lib.liq_write_remapped_image(result[0], liq_image, indices, width * height)
        palette = lib.liq_get_palette(result[0])
        colours = [[palette.entries[i].r, palette.entries[i].g, palette.entries[i].b] for i in range(palette.count)]
        out = np.frombuffer(ffi.buffer(indices, width * height), np.uint8).reshape(height, width).copy()
        lib.liq_result_destroy(result[0])
        lib.liq_image_destroy(liq_image)
        lib.liq_attr_destroy(attr)
        return np.array(colours, dtype=np.uint8), out

    seconds, (palette, indices) = timed(quantize)
    return seconds, palette, indices


def has_imagequant() -> bool:
    try:
        import imagequant  # noqa: F401
    except ImportError:
        return False
    return True


def methods(quick: bool, big_image: bool, k: int):
    yield "ours (kmeans.quantize_image)", run_ours
    if not quick and not (big_image and k > 16):
        yield "scikit-learn KMeans n_init=1 (pixels)", lambda im, k: run_sklearn_pixels(im, k, 1)
    yield "scikit-learn KMeans n_init=1 (weighted colours)", lambda im, k: run_sklearn_weighted(im, k, 1)
    yield "scikit-learn KMeans n_init=10 (weighted colours)", lambda im, k: run_sklearn_weighted(im, k, 10)
    yield "Pillow median cut", lambda im, k: run_pillow(im, k, Image.Quantize.MEDIANCUT)
    yield "Pillow fast octree", lambda im, k: run_pillow(im, k, Image.Quantize.FASTOCTREE)
    if has_imagequant():
        yield "libimagequant --speed 1, in-process (imagequant)", lambda im, k: run_libimagequant(im, k, 1)
    if shutil.which("pngquant"):
        yield "pngquant --speed 1 --nofs", lambda im, k: run_pngquant(im, k, 1)
        yield "pngquant --speed 4 --nofs (default)", lambda im, k: run_pngquant(im, k, 4)


def benchmark(name, image, k, quick, repeat):
    RUNS["repeat"] = repeat if image.size <= 5e6 * 3 else 1
    rows = []
    for method, run in methods(quick, image.size > 5e6, k):
        seconds, palette, indices = run(image, k)
        output = palette[indices]
        error = sse(image, output)
        mse = error / image.size
        rows.append({
            "method": method, "seconds": seconds, "sse": error,
            "psnr": math.inf if mse == 0 else 10 * math.log10(255**2 / mse),
            "png": png_size(palette, indices), "colours": len(palette),
        })
        print(f"  {method}: {seconds:.2f} s", file=sys.stderr, flush=True)
    best = min(row["sse"] for row in rows)
    reference = next((row for row in rows if "n_init=1 (pixels)" in row["method"]), None)
    print(f"\n### {name}, K={k}\n")
    print("| method | time (s) | speed vs sklearn n_init=1 | SSE / best known | PSNR (dB) | PNG bytes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        speed = f"{reference['seconds'] / row['seconds']:.1f}x" if reference else "–"
        print(f"| {row['method']} | {row['seconds']:.3f} | {speed} | {row['sse'] / best:.4f} | "
              f"{row['psnr']:.2f} | {row['png']:,} |")
    sys.stdout.flush()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--quick", action="store_true", help="skip scikit-learn on raw pixels")
    parser.add_argument("--no-big", action="store_true", help="skip the 12-megapixel photo")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per timing, the best counts (default 3; always 1 on the 12 MP photo)")
    args = parser.parse_args(argv)
    print("Threads: scikit-learn uses", os.cpu_count(), "cores; ours is single-threaded NumPy.")
    for name, image in photos(not args.no_big):
        for k in args.k:
            print(f"{name} K={k}", file=sys.stderr, flush=True)
            benchmark(name, image, k, args.quick, args.repeat)


if __name__ == "__main__":
    main()
