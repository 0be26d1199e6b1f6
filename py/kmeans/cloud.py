"""The colour cloud: a sample of an image's colours, and the K-means centres as the fit moved them.

The page draws these as a 3-D scatter, in RGB or in the space the palette
was fitted in (see :mod:`kmeans.colour_spaces`): every sampled colour in the
palette colour it is nearest to, and the centres moving from one iteration
to the next. The centres come from the fit itself (:func:`kmeans.quantize_image`'s
``watch``), so watching costs no extra pass over the pixels; only the small
sample is measured against the palette.
"""

from __future__ import annotations

import numpy as np

from . import colour_spaces

#: Most frames a cloud keeps; a longer fit keeps frames spread evenly over it (always its last).
MAX_FRAMES = 240


class CentreRecorder:
    """Keeps the centres a fit reports: pass it as ``quantize_image(..., watch=recorder)``.

    Attributes
    ----------
    frames : list of ndarray of shape (n_clusters, n_channels)
        A copy of the centres, in the fitting space, at each report.
    iterations : list of int
        The fit's iteration count at each report (0: a K-means run starts).
    kept : ndarray of shape (n_clusters, n_channels) or None
        The centres the fit kept, reported last as ``watch(None, centers)``.
    """

    def __init__(self):
        self.frames = []
        self.iterations = []
        self.kept = None

    def __call__(self, n_iter, centers):
        if n_iter is None:
            self.kept = np.array(centers, dtype=np.float64)
            return
        self.frames.append(np.array(centers, dtype=np.float64))
        self.iterations.append(int(n_iter))

    def in_order(self):
        """The frames and their iteration counts, the run that ended on the kept centres last.

        Restarts run one after another and the best is kept, which need not
        be the last; moving its frames to the end makes an animation end on
        the palette. Without a kept run among them, the kept centres are one
        more frame at the end.
        """
        frames, iterations = list(self.frames), list(self.iterations)
        runs = _runs(iterations)
        if self.kept is None:
            return frames, iterations
        ends = [i for i in range(len(frames)) if i + 1 == len(frames) or runs[i + 1] != runs[i]]
        kept_run = next((runs[i] for i in reversed(ends) if np.array_equal(frames[i], self.kept)), None)
        if kept_run is None:
            return frames + [self.kept], iterations + [iterations[-1] + 1 if iterations else 0]
        order = [i for i in range(len(frames)) if runs[i] != kept_run] + [i for i in range(len(frames)) if runs[i] == kept_run]
        return [frames[i] for i in order], [iterations[i] for i in order]


def _runs(iterations):
    """Which K-means run each report belongs to: a new run starts where the count does not go up by one."""
    starts = np.ones(len(iterations), dtype=bool)
    starts[1:] = np.diff(np.asarray(iterations, dtype=np.int64)) != 1
    return np.cumsum(starts) - 1


def colour_cloud(image, palette, recorder: CentreRecorder, colour_space: str, n_samples: int = 2000,
                 seed: int = 0) -> dict:
    """A sample of `image`'s visible colours and the recorded centres, ready for the page.

    Parameters
    ----------
    image : ndarray of shape (height, width, 4), dtype uint8
        The RGBA image that was quantized.
    palette : ndarray of shape (n_colors, 4), dtype uint8
        Its palette (a fully transparent entry is never anyone's nearest).
    recorder : CentreRecorder
        What the fit reported; its frames are shown with the kept run last.
    colour_space : str
        The space the palette was fitted in.
    n_samples : int, default=2000
        Pixels drawn (with replacement, so a big photo costs no shuffle).
    seed : int, default=0

    Returns
    -------
    dict
        ``cloud_rgb`` (uint8, 3 per colour), ``cloud_fit`` (float64, the
        same in the fitting space), ``cloud_labels`` (uint8, the nearest
        palette entry of each), ``cloud_frames_rgb`` and
        ``cloud_frames_fit`` (float64, n_frames x n_clusters x 3),
        ``cloud_frame_iter`` (int32, the iteration of each frame),
        ``cloud_frame_run`` (int32, which K-means run it belongs to: the
        restarts, then each finer level) and ``cloud_space``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((2, 2, 4), np.uint8); image[..., 3] = 255; image[0, :, 0] = 200
    >>> palette = np.array([[200, 0, 0, 255], [0, 0, 0, 255]], np.uint8)
    >>> cloud = colour_cloud(image, palette, CentreRecorder(), "rgb", n_samples=8)
    >>> sorted(set(cloud["cloud_labels"].tolist()))
    [0, 1]
    """
    space = colour_spaces.colour_space(colour_space)
    flat = image.reshape(-1, 4)
    rng = np.random.default_rng(seed)
    # Draw among all pixels and keep the visible ones: no index array the size of a big photo.
    drawn = rng.integers(0, flat.shape[0], size=4 * n_samples)
    chosen = drawn[flat[drawn, 3] > 0][:n_samples]
    if chosen.size < n_samples:  # mostly transparent: draw among the visible pixels themselves
        visible = np.flatnonzero(flat[:, 3] > 0)
        chosen = visible[rng.integers(0, visible.size, size=n_samples)] if visible.size else visible
    rgb = np.ascontiguousarray(flat[chosen, :3])
    fit = space.to_fit(rgb.astype(np.float64))[:, :3]
    entries = np.flatnonzero(palette[:, 3] > 0)
    entries_fit = space.to_fit(palette[entries, :3].astype(np.float64))[:, :3]
    distances = ((fit[:, None, :] - entries_fit[None, :, :]) ** 2).sum(axis=2)
    labels = entries[distances.argmin(axis=1)] if entries.size else np.zeros(len(rgb), np.intp)

    frames, iterations = recorder.in_order()
    runs = _runs(iterations)
    keep = np.arange(len(frames))
    if keep.size > MAX_FRAMES:
        keep = np.unique(np.linspace(0, keep.size - 1, MAX_FRAMES).round().astype(np.intp))
    n_clusters = frames[0].shape[0] if frames else 0
    frames_fit = np.array([frames[i][:, :3] for i in keep], dtype=np.float64).reshape(keep.size, n_clusters, 3)
    frames_rgb = space.from_fit(frames_fit.reshape(-1, 3)).reshape(frames_fit.shape) if keep.size else frames_fit
    return {
        "cloud_rgb": rgb.reshape(-1),
        "cloud_fit": np.ascontiguousarray(fit, dtype=np.float64).reshape(-1),
        "cloud_labels": labels.astype(np.uint8),
        "cloud_frames_rgb": np.ascontiguousarray(frames_rgb, dtype=np.float64).reshape(-1),
        "cloud_frames_fit": np.ascontiguousarray(frames_fit).reshape(-1),
        "cloud_frame_iter": np.asarray(iterations, dtype=np.int32)[keep],
        "cloud_frame_run": runs[keep].astype(np.int32),
        "cloud_space": space.name,
    }
