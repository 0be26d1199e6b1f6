"""Write tests/golden/results.json: the engine's outputs, to be kept bit for bit.

Run by hand, only when a change is *meant* to change results (and say so in
the commit): ``python tests/golden/make_golden.py``. ``tests/test_golden.py``
compares the package against the file on every test run.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "py"))

#: Palette sizes of every photo.
N_COLORS = (2, 16, 64, 256)
#: The large photo (counting pass, middle level) is run at fewer sizes: it is slow.
LARGE_N_COLORS = (16, 64)


#: scikit-learn's two sample photos as decoded here, kept as PNG: a JPEG's pixels depend on the
#: decoder (Pillow in Pyodide decodes china.jpg a little differently), a PNG's do not.
SAMPLES = ("china", "flower")


def write_samples() -> None:
    """Write tests/golden/SAMPLE.png from scikit-learn's JPEGs (only with a new scikit-learn's photos)."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    for name in SAMPLES:
        Image.fromarray(load_sample_image(f"{name}.jpg")).save(HERE / f"{name}.png", optimize=True)


def sample(name: str) -> np.ndarray:
    """One of SAMPLES, as the RGB pixels the results were made from."""
    from PIL import Image

    with Image.open(HERE / f"{name}.png") as picture:
        return np.asarray(picture.convert("RGB"))


def photos() -> dict[str, np.ndarray]:
    """The photos, by name: scikit-learn's two samples (the page's sample is its flower), an RGBA one, a large one."""
    china = sample("china")
    # RGBA: a fully transparent band, partly transparent gradient rows, the rest opaque.
    rgba = np.dstack([china[100:300, 100:400], np.full((200, 300), 255, np.uint8)])
    rgba[:40, :, 3] = 0
    rgba[40:80, :, 3] = np.linspace(1, 254, 300).astype(np.uint8)
    # 1920 x 1281 (2.5 megapixels, over 131,072 colours): the big-photo path.
    rng = np.random.default_rng(7)
    large = np.repeat(np.repeat(china, 3, axis=0), 3, axis=1).astype(np.int16)
    large += rng.integers(-6, 7, size=large.shape, dtype=np.int16)
    large = np.clip(large, 0, 255).astype(np.uint8)
    return {
        "china": china,
        "flower": sample("flower"),
        "china-rgba": rgba,
        "china-large": large,
    }


def quantize_record(image, n_colors) -> dict:
    import warnings

    from kmeans import quantize_image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Plain K-means: the results that must never change.
        result = quantize_image(image, n_colors, seed=0, dither=0.0, colour_space="rgb")
    return {
        "palette": result.palette.tolist(),
        "indices_sha256": hashlib.sha256(np.ascontiguousarray(result.indices).tobytes()).hexdigest(),
        "n_iter": int(result.n_iter),
        "sse": float(result.sse).hex(),
    }


def kmeans_record() -> dict:
    from kmeans import KMeans, make_points

    X, _truth = make_points("blobs", n_points=300, seed=0)
    init = X[[0, 1, 2]] + 0.5
    records = {}
    for name, model in {
        "given-init": KMeans(3, init=init, n_init=1),
        "k-means++": KMeans(3, random_state=0),
        "random-n_init-10": KMeans(5, init="random", random_state=1),
    }.items():
        model.fit(X)
        records[name] = {
            "cluster_centers": [float(v).hex() for v in model.cluster_centers_.ravel()],
            "labels": model.labels_.tolist(),
            "n_iter": int(model.n_iter_),
            "inertia": float(model.inertia_).hex(),
        }
    return records


def main() -> None:
    if not all((HERE / f"{name}.png").is_file() for name in SAMPLES):
        write_samples()
    results = {"quantize": {}, "kmeans": kmeans_record()}
    for name, image in photos().items():
        for n_colors in LARGE_N_COLORS if name == "china-large" else N_COLORS:
            results["quantize"][f"{name}/{n_colors}"] = quantize_record(image, n_colors)
            print(name, n_colors, results["quantize"][f"{name}/{n_colors}"]["n_iter"])
    (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
