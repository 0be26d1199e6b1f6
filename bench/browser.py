"""Browser benchmark: the page's start-up, and ours against scikit-learn inside Pyodide.

Run by hand (not in CI), after the tests' dependencies are installed:

    python bench/browser.py                  # 12 MP, K=16, two photos (china, flower)
    python bench/browser.py --photos china   # one of them
    python bench/browser.py --size 2000x1500 --k 16 64

It builds dist/ with scikit-learn added (into a temporary folder), serves it
on localhost, and in headless Chromium measures:

- the page's time from navigation to data-state=ready, cold (new profile)
  and warm (same profile, second visit), and the bytes of the first visit;
- on each photo's pixels: the page itself, as a user meets it (the photo
  chosen once the worker has warmed up, then again, and in a new page as
  soon as it is ready, while the worker still warms up), timed from the
  pixels sent to the worker to the result drawn (the page's
  ``kmeans:quantize`` performance measure); ``kmeans.web.quantize`` plus drawing in a fresh
  Pyodide with no warm-up; and scikit-learn's ``KMeans(n_init=1)`` on the
  pixels in a fresh Pyodide. Each with its SSE, its ratio to the best
  known (scikit-learn n_init=10 on the weighted distinct colours, run
  natively), and, for the fresh runs, the peak WebAssembly memory.

Pyodide's heap size is read from ``pyodide._module.HEAPU8`` (a private API,
used here only to measure).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "py"))
import build

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Runs in the page: boot a fresh Pyodide, decode the photo, run one method, report numbers.
RUN_IN_PAGE = """
async ({method, k, packages, photo}) => {
  const base = new URL('../../pyodide/', location.href).href;
  const { loadPyodide } = await import(base + 'pyodide.mjs');
  const pyodide = await loadPyodide({ indexURL: base });
  await pyodide.loadPackage(packages);
  const zip = await (await fetch(new URL('../kmeans.zip', location.href))).arrayBuffer();
  pyodide.unpackArchive(zip, 'zip');
  const bitmap = await createImageBitmap(await (await fetch(photo)).blob());
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0);
  const pixels = new Uint8Array(context.getImageData(0, 0, bitmap.width, bitmap.height).data.buffer);
  const heapBefore = pyodide._module.HEAPU8.length;
  pyodide.globals.set('pixels_js', pixels);
  pyodide.globals.set('width', bitmap.width);
  pyodide.globals.set('height', bitmap.height);
  pyodide.globals.set('k', k);
  const started = performance.now();
  let reply;
  if (method === 'ours') {
    reply = pyodide.runPython(`
from kmeans import web
import numpy as np, time
t = time.perf_counter()
r = web.quantize(pixels_js, width, height, n_colors=k, seed=0, dither=0.0, colour_space="rgb")
palette = r["palette"].reshape(-1, 4)
indices = r["indices"]
python_seconds = time.perf_counter() - t
sse = r["mse"] * width * height * 3  # mse is per RGB channel value
{"indices": indices, "palette": r["palette"], "sse": sse, "python_seconds": python_seconds, "n_iter": r["n_iter"]}
`);
    // Draw the result as the page does: one 32-bit copy per pixel, then putImageData.
    const result = reply.toJs({ dict_converter: Object.fromEntries });
    const drawStart = performance.now();
    const colours = new Uint32Array(result.palette.buffer, result.palette.byteOffset, result.palette.length / 4);
    const out = new Uint32Array(bitmap.width * bitmap.height);
    for (let i = 0; i < out.length; i++) out[i] = colours[result.indices[i]];
    context.putImageData(new ImageData(new Uint8ClampedArray(out.buffer), bitmap.width, bitmap.height), 0, 0);
    const total = (performance.now() - started) / 1000;
    return { seconds: total, draw_seconds: (performance.now() - drawStart) / 1000, python_seconds: result.python_seconds,
             sse: result.sse, n_iter: result.n_iter, heap_before: heapBefore, heap_after: pyodide._module.HEAPU8.length };
  }
  reply = pyodide.runPython(`
from sklearn.cluster import KMeans
import numpy as np, time
X = np.frombuffer(pixels_js.to_py(), dtype=np.uint8).reshape(-1, 4)[:, :3].astype(np.float64)
t = time.perf_counter()
model = KMeans(k, n_init=1, random_state=0).fit(X)
seconds = time.perf_counter() - t
palette = np.clip(np.rint(model.cluster_centers_), 0, 255)
sse = float(((palette[model.labels_] - X) ** 2).sum())
{"sse": sse, "python_seconds": seconds, "n_iter": int(model.n_iter_)}
`);
  const result = reply.toJs({ dict_converter: Object.fromEntries });
  return { seconds: (performance.now() - started) / 1000, python_seconds: result.python_seconds, sse: result.sse,
           n_iter: result.n_iter, heap_before: heapBefore, heap_after: pyodide._module.HEAPU8.length };
}
"""


#: scikit-learn's two sample photos (640x427), upscaled: a scene (1.4 M distinct colours at 12 MP) and a
#: close-up (0.7 M), which converge differently.
PHOTOS = ("china", "flower")


def make_photo(width, height, name="china") -> bytes:
    """A sample photo upscaled to width x height, as a PNG (lossless, so every decoder agrees)."""
    from sklearn.datasets import load_sample_image

    picture = Image.fromarray(load_sample_image(f"{name}.jpg")).resize((width, height), Image.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=92)  # JPEG artefacts: realistic distinct colours
    buffer = io.BytesIO(_png(Image.open(buffer).convert("RGB")))
    return buffer.getvalue()


def _png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def best_known_sse(png: bytes, k: int) -> float:
    """scikit-learn n_init=10 on the weighted distinct colours (natively): the reference SSE."""
    from kmeans._distinct import count_colours
    from sklearn.cluster import KMeans

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts, _lookup, _keys = count_colours(np.ascontiguousarray(pixels[:, :3]), 3)
    model = KMeans(k, n_init=10, random_state=0).fit(colours, sample_weight=counts)
    palette = np.clip(np.rint(model.cluster_centers_), 0, 255)
    return float((((palette[model.labels_] - colours) ** 2).sum(axis=1) * counts).sum())


def serve(root):
    server = build.make_server(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def time_to_ready(playwright, url, profile):
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS,
        bypass_csp=True,  # Playwright's wait_for_function evaluates strings
    )
    results = []
    for _visit in range(2):
        page = context.new_page()
        sizes = []
        page.on("requestfinished", lambda request, sizes=sizes: sizes.append(request.sizes()["responseBodySize"]))
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function("document.body.dataset.state === 'ready'", timeout=120_000)
        results.append((time.perf_counter() - started, sum(sizes)))
        page.close()
    context.close()
    return results


# Runs in the page after a run: the SSE between the original and the result canvases (opaque photo).
CANVAS_SSE = """
() => {
  const read = (id) => {
    const canvas = document.getElementById(id);
    return canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  };
  const original = read('original'), result = read('result');
  let sse = 0;
  for (let i = 0; i < original.length; i++) {
    if ((i & 3) === 3) continue;
    const d = original[i] - result[i];
    sse += d * d;
  }
  return sse;
}
"""


# Runs in the page before a photo is chosen: the times of its change event and of data-state=done
# (Playwright's own transfer of the file into the page comes before the change event, so is left out).
MARK_CHOSEN_AND_DONE = """
() => {
  document.body.dataset.state = 'waiting';
  document.getElementById('image-input').addEventListener(
    'change', () => {
      window.benchChosen = performance.now();
      window.benchWarmWhenChosen = document.body.dataset.warm === 'true';
    }, { once: true, capture: true });
  const observer = new MutationObserver(() => {
    if (document.body.dataset.state === 'done') { window.benchDone = performance.now(); observer.disconnect(); }
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
}
"""


def run_page(playwright, url, k, png, runs=2, defaults=False, wait_for_warm_up=True):
    """The page as a user meets it: wait for the warm-up, choose the photo, read the page's own measure.

    With `defaults`, the page's default dithering and colour space; else plain K-means. A row's
    ``done_seconds`` runs from the file chosen (the input's change event) to the PNG ready (decode,
    score and PNG included). Without `wait_for_warm_up` the photo is chosen as soon as the page is
    ready, while the worker still warms up.
    """
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=120_000)
    if wait_for_warm_up:
        page.wait_for_function("() => document.body.dataset.warm === 'true'", timeout=120_000)
    warm = time.perf_counter() - started
    page.fill("#k", str(k))
    if not defaults:
        # Plain K-means (RGB, no dithering), the engine this benchmark compares with scikit-learn.
        page.fill("#dither", "0")
        page.click(".advanced summary")  # the colour space is among the advanced settings
        page.select_option("#colour-space", "rgb")
    rows = []
    for run in range(runs):
        page.evaluate(MARK_CHOSEN_AND_DONE)
        page.set_input_files("#image-input", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png}])
        page.wait_for_function("() => document.body.dataset.state === 'done'", timeout=300_000)
        done = page.evaluate("() => (window.benchDone - window.benchChosen) / 1000")
        seconds = page.evaluate("() => performance.getEntriesByName('kmeans:quantize').at(-1).duration") / 1000
        rows.append({"seconds": seconds, "done_seconds": done, "sse": page.evaluate(CANVAS_SSE),
                     "n_iter": int(re.search(r"Iterations\s*(\d+)", page.text_content("#stats")).group(1)),
                     "warm_seconds": warm, "warm_when_chosen": page.evaluate("() => window.benchWarmWhenChosen")})
    browser.close()
    return rows


def _median_row(rows):
    """The row of median time among `rows` (an odd count gives a row that was measured)."""
    return sorted(rows, key=lambda row: row["seconds"])[(len(rows) - 1) // 2]


def run_method(playwright, url, method, k, photo="photo.png"):
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(bypass_csp=True)
    page.goto(url + "static/bench/blank.txt")
    packages = ["numpy"] if method == "ours" else ["numpy", "scikit-learn"]
    result = page.evaluate(RUN_IN_PAGE, {"method": method, "k": k, "packages": packages, "photo": photo})
    browser.close()
    return result


def page_defaults(playwright, url, k, png, width, height):
    """The page with its defaults against the same work natively (file to PNG, in-process)."""
    from kmeans import encode_png, load_image, quantize_image

    started = time.perf_counter()
    native_png = encode_png(quantize_image(load_image(png), k))
    native = time.perf_counter() - started
    rows = run_page(playwright, url, k, png, defaults=True)
    print(f"### {width}x{height} ({width * height / 1e6:.1f} MP), K={k}, defaults (dithering, OKLab)\n")
    print("| | pixels to result drawn (s) | file chosen to PNG ready (s) | / native file to PNG |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| native, in-process (load_image, quantize_image, encode_png) | – | {native:.2f} | 1.00 |")
    for name, row in zip(("the page, first photo after the warm-up", "the page, the photo again"), rows):
        print(f"| {name} | {row['seconds']:.2f} | {row['done_seconds']:.2f} | {row['done_seconds'] / native:.2f} |")
    print(f"\n(native PNG {len(native_png):,} bytes)\n")


def main(argv=None):
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="4000x3000", help="photo size WIDTHxHEIGHT (default 12 MP)")
    parser.add_argument("--k", type=int, nargs="+", default=[16])
    parser.add_argument("--photos", nargs="+", choices=PHOTOS, default=list(PHOTOS))
    parser.add_argument("--again", type=int, default=5, help="runs of the same photo after the first (median)")
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--defaults", action="store_true",
                        help="only the page with its defaults (dithering, OKLab), against the same run natively")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "dist"
        build.build(out, repo=REPO, packages=[*build.DEFAULT_PACKAGES, "scikit-learn"], log=lambda *a, **k: None)
        bench = out / "static" / "bench"
        bench.mkdir()
        (bench / "blank.txt").write_text("benchmark page\n")
        photos = {name: make_photo(width, height, name) for name in args.photos}
        for name, png in photos.items():
            (bench / f"{name}.png").write_bytes(png)
        server, url = serve(out)
        try:
            with sync_playwright() as playwright:
                (cold, cold_bytes), (warm, warm_bytes) = time_to_ready(playwright, url, str(Path(folder) / "profile"))
                print(f"Page start: ready in {cold:.2f} s cold ({cold_bytes / 1e6:.1f} MB transferred), "
                      f"{warm:.2f} s on a repeat visit ({warm_bytes / 1e6:.1f} MB transferred)\n")
                for (photo, png), k in itertools.product(photos.items(), args.k):
                    if args.defaults:
                        page_defaults(playwright, url, k, png, width, height)
                        continue
                    best = best_known_sse(png, k)
                    runs = run_page(playwright, url, k, png, runs=1 + args.again)
                    early = run_page(playwright, url, k, png, runs=1, wait_for_warm_up=False)[0]
                    rows = [
                        ("ours: the page, first photo after the warm-up", runs[0]),
                        (f"ours: the page, the photo again (median of {args.again})", _median_row(runs[1:])),
                        ("ours: the page, photo chosen at ready" + ("" if early["warm_when_chosen"] else
                                                                    " (warm-up not finished)"), early),
                        ("ours: kmeans.web.quantize + draw, fresh Pyodide, no warm-up",
                         run_method(playwright, url, "ours", k, f"{photo}.png")),
                    ]
                    if not args.skip_sklearn:
                        rows.append(("scikit-learn KMeans(n_init=1) in Pyodide",
                                     run_method(playwright, url, "sklearn", k, f"{photo}.png")))
                    print(f"### {photo}, {width}x{height} ({width * height / 1e6:.1f} MP), K={k}, in Chromium + Pyodide\n")
                    reference = rows[-1][1] if not args.skip_sklearn else None
                    print(f"(the page was warm {runs[0]['warm_seconds']:.1f} s after navigation)\n")
                    print("| method | time (s) | speed vs scikit-learn | iterations | SSE / best known | peak wasm memory (MB) |")
                    print("| --- | ---: | ---: | ---: | ---: | ---: |")
                    for name, row in rows:
                        speed = f"{reference['seconds'] / row['seconds']:.1f}x" if reference else "–"
                        heap = f"{row['heap_after'] / 2**20:.0f}" if "heap_after" in row else "–"
                        print(f"| {name} | {row['seconds']:.2f} | {speed} | {row['n_iter']} | "
                              f"{row['sse'] / best:.4f} | {heap} |")
                    print("\n" + json.dumps({name: row for name, row in rows}) + "\n")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
