"""Quality per byte: SSIMULACRA2 against PNG size, ours against pngquant and a Squoosh-like pipeline.

Run by hand (not in CI), after the tests' dependencies are installed (they
include ``ssimulacra2``, ``pngquant-cli``, ``imagequant`` and ``pyoxipng``):

    python bench/quality.py                       # the sample photos, K = 16 ... 256
    python bench/quality.py --big                 # and a 12-megapixel photo (slow)
    python bench/quality.py --figure .github/readme/quality.png

For every photo and K it writes each method's PNG, measures its bytes and its
SSIMULACRA2 (``kmeans.metrics`` at full resolution, which agrees with the
PyPI reference to 0.01), and prints the curves and a BD-rate table: how many
percent more (positive) or fewer (negative) bytes a method needs than the
reference for the same score (``../shared/quality.md``). The methods:

- ours: ``quantize_image`` with its defaults and ``encode_png``;
- plain K-means: ``dither=0, colour_space="rgb"`` (the notebook's result);
- pngquant: ``pngquant K --speed 1`` (its default Floyd-Steinberg dithering);
- Squoosh-like: libimagequant (``imagequant``, dithering 1.0), expanded back
  to RGBA and written by OxiPNG level 2, as Squoosh's "Reduce palette" does.

Outputs are kept in ``--out`` (default ``bench/out/quality``) to be looked at
side by side (``--zoom``).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "py"))
sys.path.insert(0, str(REPO / "bench"))
from kmeans import encode_png, quantize_image  # noqa: E402
from kmeans.metrics import ssimulacra2  # noqa: E402
from native import photos  # noqa: E402  (the same photos as the speed benchmark)

KS = (16, 32, 64, 128, 256)


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def ours(image, k, **options):
    return encode_png(quantize_image(image, k, **options))


def plain(image, k):
    return ours(image, k, dither=0.0, colour_space="rgb")


def pngquant(image, k):
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.png", Path(folder) / "out.png"
        Image.fromarray(image).save(source)
        subprocess.run(["pngquant", str(k), "--speed", "1", "--force", "--output", str(target), str(source)],
                       check=True, capture_output=True)
        return target.read_bytes()


def squoosh_like(image, k):
    import imagequant
    import oxipng

    quantized = imagequant.quantize_pil_image(Image.fromarray(image).convert("RGBA"), dithering_level=1.0,
                                              max_colors=k)
    buffer = io.BytesIO()
    quantized.convert("RGBA").save(buffer, format="PNG")
    return oxipng.optimize_from_memory(buffer.getvalue(), level=2)


METHODS = {"ours": ours, "plain K-means": plain, "pngquant": pngquant, "Squoosh-like": squoosh_like}


def bd_rate(curve, reference) -> float | None:
    """Percent more bytes `curve` needs than `reference` for the same score (None: no overlap).

    Each curve is [(bytes, score)]; log(bytes) is interpolated linearly as a function of the score
    on 50 points over the score range both cover, and the mean difference is returned as a percentage.
    """
    def sorted_curve(points):
        points = sorted(points, key=lambda p: p[1])
        return np.array([p[1] for p in points]), np.log([p[0] for p in points])

    s1, b1 = sorted_curve(curve)
    s2, b2 = sorted_curve(reference)
    low, high = max(s1.min(), s2.min()), min(s1.max(), s2.max())
    if not high > low:
        return None
    grid = np.linspace(low, high, 50)
    return float(np.expm1(np.mean(np.interp(grid, s1, b1) - np.interp(grid, s2, b2))) * 100)


def measure(name, image, out: Path, methods):
    rows = {}
    for method in methods:
        rows[method] = []
        for k in KS:
            started = time.perf_counter()
            png = METHODS[method](image, k)
            seconds = time.perf_counter() - started
            score = ssimulacra2(image, decode(png), max_pixels=image.shape[0] * image.shape[1])
            (out / f"{name}-{k}-{method.replace(' ', '_')}.png").write_bytes(png)
            rows[method].append({"k": k, "bytes": len(png), "score": score, "seconds": seconds})
            print(f"  {name} K={k:>3} {method:<14} {len(png):>10,} B  SSIMULACRA2 {score:6.1f}  {seconds:6.2f} s",
                  file=sys.stderr, flush=True)
    return rows


def report(results):
    for name, rows in results.items():
        print(f"\n### {name}\n")
        print("| K | " + " | ".join(f"{m}: bytes · SSIMULACRA2" for m in rows) + " |")
        print("| ---: | " + " | ".join("---" for _ in rows) + " |")
        for i, k in enumerate(KS):
            cells = [f"{rows[m][i]['bytes']:,} · {rows[m][i]['score']:.1f}" for m in rows]
            print(f"| {k} | " + " | ".join(cells) + " |")
    if "ours" not in next(iter(results.values())):
        return
    print("\n### BD-rate (bytes for the same SSIMULACRA2; negative = fewer)\n")
    others = [m for m in next(iter(results.values())) if m != "ours"]
    print("| photo | " + " | ".join(f"ours vs {m}" for m in others) + " |")
    print("| --- | " + " | ".join("---:" for _ in others) + " |")
    for name, rows in results.items():
        cells = []
        for m in others:
            rate = bd_rate([(r["bytes"], r["score"]) for r in rows["ours"]], [(r["bytes"], r["score"]) for r in rows[m]])
            cells.append("no overlap" if rate is None else f"{rate:+.1f} %")
        print(f"| {name} | " + " | ".join(cells) + " |")


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.2), squeeze=False)
    styles = {"ours": ("#1f6feb", "o"), "plain K-means": ("#8b949e", "s"), "pngquant": ("#d1242f", "^"),
              "Squoosh-like": ("#9a6700", "v")}
    for ax, (name, rows) in zip(axes[0], results.items()):
        for method, points in rows.items():
            colour, marker = styles.get(method, ("k", "."))
            ax.plot([p["bytes"] / 1024 for p in points], [p["score"] for p in points], marker=marker,
                    color=colour, label=method, linewidth=2 if method == "ours" else 1.2)
        ax.set_title(f"{name}, K = {KS[0]}…{KS[-1]}")
        ax.set_xlabel("PNG size (KiB)")
        ax.set_ylabel("SSIMULACRA2 (higher is better)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nfigure: {path}", file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", action="store_true", help="add the 12-megapixel photo (slow)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "quality")
    parser.add_argument("--figure", type=Path, help="write the curves as a PNG figure (matplotlib)")
    parser.add_argument("--json", type=Path, help="write every measurement as JSON")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {name: measure(name, image, args.out, args.methods) for name, image in photos(args.big)}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    report(results)
    if args.figure:
        figure(results, args.figure)


if __name__ == "__main__":
    main()
