"""The engine's results, bit for bit: palettes, indices, iterations and KMeans fits.

``tests/golden/results.json`` was written by ``tests/golden/make_golden.py``
from the code before the engine was split into modules; any refactoring must
leave every value here unchanged. Regenerate it only for a change that is
meant to change results.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import make_golden  # noqa: E402

RESULTS = json.loads((GOLDEN / "results.json").read_text())


@pytest.fixture(scope="module")
def photos():
    return make_golden.photos()


@pytest.mark.parametrize("case", sorted(RESULTS["quantize"]))
def test_quantize_image_is_unchanged(case, photos):
    name, n_colors = case.rsplit("/", 1)
    expected = RESULTS["quantize"][case]
    got = make_golden.quantize_record(photos[name], int(n_colors))
    assert got["palette"] == expected["palette"]
    assert got["n_iter"] == expected["n_iter"]
    assert got["indices_sha256"] == expected["indices_sha256"]
    assert got["sse"] == expected["sse"]


@pytest.mark.parametrize("case", sorted(RESULTS["kmeans"]))
def test_kmeans_is_unchanged(case):
    got = make_golden.kmeans_record()[case]
    expected = RESULTS["kmeans"][case]
    assert got == expected
    assert np.isfinite([float.fromhex(v) for v in got["cluster_centers"]]).all()


def test_the_golden_file_covers_every_size():
    cases = set(RESULTS["quantize"])
    for name in ("china", "flower", "china-rgba"):
        assert {f"{name}/{k}" for k in make_golden.N_COLORS} <= cases
    assert {f"china-large/{k}" for k in make_golden.LARGE_N_COLORS} <= cases
