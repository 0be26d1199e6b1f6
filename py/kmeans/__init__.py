"""K-means clustering and K-means image compression in pure NumPy.

Two faces over one engine:

- the teaching functions of the classic notebook, one per step of the
  algorithm (:func:`kmeans_init_centroids`, :func:`find_closest_centroids`,
  :func:`compute_centroids`, :func:`run_kmeans`), in :mod:`kmeans.steps`;
- a scikit-learn style estimator, :class:`KMeans`, and image compression,
  :func:`quantize_image`, built for speed and bounded memory.

:func:`silhouette_score` (and :func:`silhouette_samples`) tells how well
a clustering separates the data, for comparing numbers of clusters.

:func:`compress_to_target` searches the palette size for a file size or a
quality; :func:`compress_file` is the whole job for one image file, the
function a batch maps over its files.

Pillow (image files) and matplotlib (figures) are imported only by the
functions that need them.
"""

from ._init import kmeans_plusplus
from .cluster import KMeans
from .datasets import load_points, make_points
from .files import FileResult, compress_file
from .images import encode_png, load_image, png_bits, save_png
from .metrics import ssimulacra2
from .options import QuantizeOptions
from .quantize import QuantizedImage, quantize_image
from .silhouette import silhouette_samples, silhouette_score
from .steps import compute_centroids, find_closest_centroids, kmeans_init_centroids, run_kmeans
from .target import TargetResult, compress_to_target

__version__ = "0.1.0"

__all__ = [
    "FileResult",
    "KMeans",
    "QuantizeOptions",
    "QuantizedImage",
    "TargetResult",
    "compress_file",
    "compress_to_target",
    "compute_centroids",
    "encode_png",
    "find_closest_centroids",
    "kmeans_init_centroids",
    "kmeans_plusplus",
    "load_image",
    "load_points",
    "make_points",
    "png_bits",
    "quantize_image",
    "run_kmeans",
    "save_png",
    "silhouette_samples",
    "silhouette_score",
    "ssimulacra2",
]
