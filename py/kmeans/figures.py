"""The notebook's figures, drawn with matplotlib.

matplotlib is imported only inside these functions, so ``import kmeans``
stays light (the browser loads matplotlib only when a figure is asked for).
Figures are built with :class:`matplotlib.figure.Figure` directly, not
pyplot, so they need no GUI backend: save them with ``fig.savefig(path)``
(PNG or SVG by the extension).
"""

from __future__ import annotations

import numpy as np

#: Colours of clusters 0, 1, 2, ... (matplotlib's tab10, repeated).
CLUSTER_COLORS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]


def _new_figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def plot_clusters(X, labels, centroids, history=None, *, title=None):
    """Points coloured by cluster, the centroids, and each centroid's trail.

    Parameters
    ----------
    X : array-like of shape (m, 2 or more)
        Only the first two columns are drawn.
    labels : array-like of shape (m,)
    centroids : array-like of shape (k, 2 or more)
    history : list of array-like of shape (k, 2 or more), optional
        Centroids at every iteration (as returned by
        :func:`kmeans.run_kmeans`); each centroid's path is drawn as a line
        with a marker at every step.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    centroids = np.asarray(centroids, dtype=float)
    fig = _new_figure(6, 5)
    ax = fig.add_subplot()
    colors = [CLUSTER_COLORS[label % len(CLUSTER_COLORS)] for label in labels]
    ax.scatter(X[:, 0], X[:, 1], c=colors, s=14, alpha=0.7, linewidths=0)
    if history is not None and len(history) > 1:
        trail = np.asarray(history, dtype=float)  # (n_steps, k, d)
        for j in range(trail.shape[1]):
            ax.plot(trail[:, j, 0], trail[:, j, 1], "-o", color="black", markersize=3, linewidth=1)
    ax.scatter(centroids[:, 0], centroids[:, 1], marker="X", s=140, c="black",
               edgecolors="white", linewidths=1.5, zorder=3)
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    iterations = f"{len(history) - 1} iterations" if history is not None else None
    ax.set_title(title or f"K-means, k={len(centroids)}" + (f", {iterations}" if iterations else ""))
    return fig


def plot_palette(palette, *, title=None):
    """The palette as a row of swatches labelled with their hex codes.

    Parameters
    ----------
    palette : array-like of shape (n_colors, 3 or 4), values 0-255

    Returns
    -------
    matplotlib.figure.Figure
    """
    palette = np.asarray(palette, dtype=np.uint8)
    n_colors = palette.shape[0]
    columns = min(n_colors, 16)
    rows = -(-n_colors // columns)
    fig = _new_figure(columns * 0.8 + 0.4, rows * 0.9 + 0.5)
    ax = fig.add_subplot()
    for index, colour in enumerate(palette):
        row, column = divmod(index, columns)
        rgb = colour[:3] / 255
        ax.add_patch(_rectangle(column, rows - 1 - row, rgb))
        luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
        ax.text(column + 0.45, rows - 1 - row + 0.45, "#{:02x}{:02x}{:02x}".format(*colour[:3]),
                ha="center", va="center", fontsize=6, color="black" if luminance > 0.5 else "white")
    ax.set_xlim(0, columns)
    ax.set_ylim(0, rows)
    ax.set_axis_off()
    ax.set_title(title or f"{n_colors} colours")
    return fig


def _rectangle(x, y, rgb):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 0.9, 0.9, facecolor=rgb, edgecolor="#888888", linewidth=0.5)
