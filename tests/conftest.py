"""Shared fixtures of the unit tests: tiny hand-checkable sets and a small real photo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import settings

# Property tests: reproducible (derandomize), no example database written into
# the working tree, no per-example deadline (first calls warm up NumPy).
settings.register_profile("unit", derandomize=True, database=None, deadline=None)
settings.load_profile("unit")


@pytest.fixture
def six_points():
    """scikit-learn's 6-point set: two columns of three points, at x=1 and x=10."""
    return np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=np.float64)


@pytest.fixture(scope="session")
def china():
    """sklearn's china.jpg (427 x 640 x 3, uint8), shipped with scikit-learn (no network)."""
    from sklearn.datasets import load_sample_image

    image = load_sample_image("china.jpg")
    image.setflags(write=False)  # shared by every test: nobody may modify it
    return image


@pytest.fixture(scope="session")
def small_photo(china):
    """china.jpg downsampled 8x to 54 x 80 pixels: a real photo, fast to quantize."""
    image = np.ascontiguousarray(china[::8, ::8])
    image.setflags(write=False)
    return image


@pytest.fixture(scope="session")
def china_pixels(china):
    """20,000 pixels of china.jpg drawn without replacement (seed 0), as float64 RGB rows."""
    pixels = china.reshape(-1, 3)
    rows = np.random.default_rng(0).choice(pixels.shape[0], 20_000, replace=False)
    X = pixels[rows].astype(np.float64)
    X.setflags(write=False)
    return X


def encode(image: np.ndarray, format: str = "PNG", **options) -> bytes:
    """Bytes of `image` (H, W[, C] uint8) saved by Pillow in `format`."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format, **options)
    return buffer.getvalue()


@pytest.fixture(name="encode")
def encode_fixture():
    """The :func:`encode` helper, for tests that build image files."""
    return encode


@pytest.fixture
def photo_files(tmp_path, small_photo):
    """Two small image files (a PNG and a JPEG of the photo) in a folder of their own."""
    folder = tmp_path / "photos"
    folder.mkdir()
    png = folder / "a.png"
    png.write_bytes(encode(small_photo, "PNG"))
    jpeg = folder / "b.jpg"
    jpeg.write_bytes(encode(small_photo, "JPEG", quality=90))
    return png, jpeg
