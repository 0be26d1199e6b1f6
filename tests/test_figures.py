"""Figures (matplotlib, imported lazily) and the lightness of ``import kmeans``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from kmeans import make_points, run_kmeans
from kmeans.figures import CLUSTER_COLORS, plot_clusters, plot_palette
from matplotlib.figure import Figure

from .support import needs_processes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(k=3):
    X, _ = make_points("blobs", n_points=120, seed=0)
    centroids, idx, history = run_kmeans(X, X[:k], max_iters=10)
    return X, idx, centroids, history


def test_plot_clusters_with_history(tmp_path):
    X, idx, centroids, history = _run(3)
    fig = plot_clusters(X, idx, centroids, history)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # one trail per centroid
    for j, line in enumerate(ax.lines):
        np.testing.assert_array_equal(line.get_xdata(), [step[j, 0] for step in history])
        np.testing.assert_array_equal(line.get_ydata(), [step[j, 1] for step in history])
    assert ax.get_title() == f"K-means, k=3, {len(history) - 1} iterations"
    points, centers = ax.collections
    assert points.get_offsets().shape == (120, 2)
    np.testing.assert_array_equal(centers.get_offsets(), centroids)
    path = tmp_path / "clusters.png"
    fig.savefig(path)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000


@pytest.mark.parametrize("k", [1, 5], ids=["k=1", "k=5"])
def test_trail_count_equals_k(k):
    X, idx, centroids, history = _run(k)
    assert len(history) >= 2  # the centroids moved at least once
    assert len(plot_clusters(X, idx, centroids, history).axes[0].lines) == k


def test_plot_clusters_without_history_and_with_title():
    X, idx, centroids, _ = _run(3)
    ax = plot_clusters(X, idx, centroids).axes[0]
    assert len(ax.lines) == 0
    assert ax.get_title() == "K-means, k=3"
    ax = plot_clusters(X, idx, centroids, title="mine").axes[0]
    assert ax.get_title() == "mine"


def test_points_are_coloured_by_cluster():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    ax = plot_clusters(X, [0, 0, 11], [[0.5, 0.5], [5, 5]]).axes[0]
    colours = ax.collections[0].get_facecolors()[:, :3]
    from matplotlib.colors import to_rgb

    np.testing.assert_allclose(colours[0], to_rgb(CLUSTER_COLORS[0]))
    np.testing.assert_allclose(colours[2], to_rgb(CLUSTER_COLORS[1]))  # 11 wraps to 1


@pytest.mark.parametrize("n_colors, rows", [(3, 1), (16, 1), (40, 3)], ids=["3", "16", "40"])
def test_plot_palette(tmp_path, n_colors, rows):
    palette = np.random.default_rng(n_colors).integers(0, 256, size=(n_colors, 3), dtype=np.uint8)
    fig = plot_palette(palette)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == n_colors
    assert ax.get_ylim() == (0, rows)
    assert ax.texts[0].get_text() == "#{:02x}{:02x}{:02x}".format(*palette[0])
    assert ax.get_title() == f"{n_colors} colours"
    path = tmp_path / "palette.png"
    fig.savefig(path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert path.stat().st_size > 500


def test_plot_palette_rgba_and_svg(tmp_path):
    fig = plot_palette([[255, 255, 255, 255], [0, 0, 0, 0]], title="alpha")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["#ffffff", "#000000"]
    assert [t.get_color() for t in ax.texts] == ["black", "white"]  # readable on the swatch
    path = tmp_path / "palette.svg"
    fig.savefig(path)
    assert b"<svg" in path.read_bytes()[:500]


@needs_processes
def test_import_kmeans_does_not_import_matplotlib_or_pillow():
    code = "import kmeans, sys; print('matplotlib' in sys.modules, 'PIL' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]
