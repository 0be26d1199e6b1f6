"""Stress tests of the bounded E-step (Hamerly bounds) and the code that primes or reuses it.

The claim under test: whatever the bounds do, the labels they produce are
exactly those of a brute-force nearest-center computation (ties to the lowest
center index), and ``BoundedAssigner.distances`` gives exactly the squared
distances of that computation. The reference here is computed in the test,
with the package's per-feature arithmetic (``sum_j (x_j - c_j)**2``
accumulated in feature order) on the full distance matrix, and ``argmin``.

Integer data on coarse lattices, duplicate centers, reflected centers and
half-integer centers give many exact ties; the centers then take random
walks (tiny, small and large moves, permutations, snapping, palette swaps
with ``max_shift``, with and without the index mapping that keeps the
runner-up centers) across both the explicit (K < 32) and the expanded
(K >= 32) kernels, which also track a runner-up center for every row.

The last sections keep minimal reproductions of the failures this file
found, now fixed: a huge center move that left a running offset too large
for later small moves, center moves so small that their squares
underflowed, then one huge move within a single call (also reached through
``KMeans`` with a far user ``init``), and squared distances so small
(subnormal) that their rounding beat the relative margin; and two that a
review of the many-center E-step found: ranks that overflow (NaN gaps were
not treated as ties) and runner-ups left unmapped by a palette swap.
"""

from __future__ import annotations

import itertools

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kmeans import _bounds, _coarse_to_fine, _distances, quantize
from kmeans._bounds import BoundedAssigner
from kmeans._coarse_to_fine import Fit
from kmeans._lloyd import lloyd_single
from kmeans.colour_spaces import RGB
from kmeans.quantize import quantize_image as quantize_with_defaults

# Plain K-means: the bounds are checked against exact K-means in RGB.
quantize_image = functools.partial(quantize_with_defaults, colour_space="rgb", dither=0.0)

# ---------------------------------------------------------------------------
# The reference
# ---------------------------------------------------------------------------


def brute_matrix(X, centers):
    """Full (n, K) squared distances, feature by feature in feature order."""
    X = np.asarray(X, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    out = np.zeros((X.shape[0], centers.shape[0]))
    for j in range(X.shape[1]):
        diff = X[:, j, None] - centers[None, :, j]
        diff = diff * diff
        if j == 0:
            out = diff
        else:
            out = out + diff
    return out


def brute(X, centers):
    """Labels (ties -> lowest index), squared distance to them, squared distance to the second."""
    d = brute_matrix(X, centers)
    labels = np.argmin(d, axis=1)
    rows = np.arange(X.shape[0])
    best = d[rows, labels].copy()
    if centers.shape[0] > 1:
        d[rows, labels] = np.inf
        second = d.min(axis=1)
    else:
        second = np.full(X.shape[0], np.inf)
    return labels, best, second


def assert_exact(assigner, X, centers, labels, context=""):
    expected_labels, expected_best, _ = brute(X, centers)
    bad = np.flatnonzero(labels != expected_labels)
    if bad.size:
        i = bad[0]
        d = brute_matrix(X[i : i + 1], centers)[0]
        raise AssertionError(
            f"{context}: {bad.size} wrong labels; row {i} x={X[i].tolist()} got label {labels[i]} "
            f"(d2={d[labels[i]]!r}) expected {expected_labels[i]} (d2={d[expected_labels[i]]!r}); "
            f"K={centers.shape[0]}"
        )
    got = assigner.distances(centers, labels)
    if not np.array_equal(got, expected_best):
        i = np.flatnonzero(got != expected_best)[0]
        raise AssertionError(f"{context}: distances differ at row {i}: {got[i]!r} != {expected_best[i]!r}")


# Number of assigner calls checked against the reference (reported at the end).
CHECKED = {"assigner_calls": 0, "rows_checked": 0, "lloyd_runs": 0, "images": 0}


def _count(n_rows):
    CHECKED["assigner_calls"] += 1
    CHECKED["rows_checked"] += int(n_rows)


# ---------------------------------------------------------------------------
# Data and moves
# ---------------------------------------------------------------------------


def lattice_points(rng, n, n_features, levels):
    """Integer colours 0..255 on a lattice of `levels` values per feature (many duplicates)."""
    step = 255 // max(levels - 1, 1)
    X = rng.integers(0, levels, size=(n, n_features)) * step
    return np.asfortranarray(X.astype(np.float64))


def initial_centers(rng, X, n_clusters, levels, kind, dup_fraction):
    n, n_features = X.shape
    step = 255 // max(levels - 1, 1)
    if kind == "points":
        C = X[rng.integers(n, size=n_clusters)]
    elif kind == "lattice":
        C = rng.integers(0, levels, size=(n_clusters, n_features)) * step
    elif kind == "half":
        C = rng.integers(0, 511, size=(n_clusters, n_features)) / 2.0
    elif kind == "uniform":
        C = rng.uniform(0, 255, size=(n_clusters, n_features))
    elif kind == "one_point":
        C = np.repeat(X[rng.integers(n)][None], n_clusters, axis=0)
    else:  # pragma: no cover
        raise ValueError(kind)
    C = np.array(C, dtype=np.float64)
    n_dup = int(dup_fraction * n_clusters)
    if n_dup and n_clusters > 1:
        dst = rng.choice(n_clusters, n_dup, replace=False)
        C[dst] = C[rng.integers(n_clusters, size=n_dup)]
    return C


MOVES = [
    "none", "tiny", "small", "large", "jump", "snap", "half", "dup", "permute",
    "points", "one", "reflect", "toward", "palette", "palette_perm",
]


def move_centers(rng, X, C, kind):
    """New centers for a normal (per-center shift) call."""
    K, n_features = C.shape
    C = C.copy()
    subset = rng.random(K) < rng.uniform(0.1, 1.0)
    if kind == "none":
        pass
    elif kind == "tiny":
        C[subset] += rng.normal(0, 10.0 ** rng.uniform(-12, -3), size=(subset.sum(), n_features))
    elif kind == "small":
        C[subset] += rng.normal(0, rng.uniform(0.1, 5), size=(subset.sum(), n_features))
    elif kind == "large":
        C[subset] += rng.normal(0, rng.uniform(30, 300), size=(subset.sum(), n_features))
    elif kind == "jump":
        C = rng.uniform(-100, 400, size=C.shape)
    elif kind == "snap":
        C = np.rint(C)
    elif kind == "half":
        C = np.rint(2 * C) / 2
    elif kind == "dup":
        if K > 1:
            n_dup = rng.integers(1, K)
            C[rng.choice(K, n_dup, replace=False)] = C[rng.integers(K, size=n_dup)]
    elif kind == "permute":
        C = C[rng.permutation(K)]
    elif kind == "points":
        C[subset] = X[rng.integers(X.shape[0], size=subset.sum())]
    elif kind == "one":
        k = rng.integers(K)
        C[k] += rng.normal(0, 10.0 ** rng.uniform(-6, 2), size=n_features)
    elif kind == "reflect":
        # c' = 2x - c: the data point x is then exactly equidistant from c and c'.
        if K > 1:
            for _ in range(rng.integers(1, min(K, 8) + 1)):
                a, b = rng.choice(K, 2, replace=False)
                x = X[rng.integers(X.shape[0])]
                C[b] = 2 * x - C[a]
    elif kind == "toward":
        # Every center moves a random fraction of the way to a random data point.
        target = X[rng.integers(X.shape[0], size=K)]
        C += rng.uniform(0, 1, size=(K, 1)) * (target - C)
    else:  # pragma: no cover
        raise ValueError(kind)
    return C


def palette_swap(rng, assigner, X, C, labels, permute):
    """What _palette_labels does: rounded, deduplicated centers, labels mapped, max_shift."""
    rounded = np.clip(np.rint(C), 0, 255)
    palette, inverse = np.unique(rounded, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if permute:
        order = rng.permutation(palette.shape[0])  # palette row r is old palette[order[r]]
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        palette = palette[order]
        inverse = position[inverse]
    max_shift = float(np.sqrt(((rounded - C) ** 2).sum(axis=1).max()))
    new_labels = inverse[labels]
    # With the mapping the assigner keeps its runner-up centers (merged ones
    # included); without it, it must forget them.
    relabel = inverse if rng.random() < 0.5 else None
    assigner.replace_centers(palette, new_labels, max_shift=max_shift, relabel=relabel)
    return palette, new_labels


def prime_assigner(rng, assigner, X, C, mode):
    """Prime with valid bounds; returns the labels passed (and later updated)."""
    n = X.shape[0]
    d = brute_matrix(X, C)
    if mode == "exact":
        labels = np.argmin(d, axis=1)
    else:  # arbitrary labels: bounds can still be valid, just never decisive for wrong ones
        labels = rng.integers(C.shape[0], size=n)
    rows = np.arange(n)
    own = np.sqrt(d[rows, labels])
    others = d.copy()
    others[rows, labels] = np.inf
    lower_true = np.sqrt(others.min(axis=1))
    slack_scale = rng.choice([0.0, 1e-6, 1.0, 40.0])
    lower = np.maximum(lower_true - rng.uniform(0, 1, n) * slack_scale, 0.0)
    if rng.random() < 0.5:
        upper = own + rng.uniform(0, 1, n) * slack_scale
    else:
        upper = None
    labels = labels.astype(np.intp)
    assigner.prime(C, labels, lower=lower, upper=upper)
    return labels


def run_walk(rng, X, C, moves, prime_mode, context):
    assigner = BoundedAssigner(X)
    if prime_mode == "none":
        labels = np.full(X.shape[0], -1, dtype=np.intp)
    else:
        labels = prime_assigner(rng, assigner, X, C, prime_mode)
    assigner(C, labels)
    assert_exact(assigner, X, C, labels, f"{context} first call")
    _count(X.shape[0])
    for step, kind in enumerate(moves):
        if kind in ("palette", "palette_perm"):
            C, labels = palette_swap(rng, assigner, X, C, labels, permute=kind == "palette_perm")
        else:
            C = move_centers(rng, X, C, kind)
            assigner(C, labels)
        assert_exact(assigner, X, C, labels, f"{context} step {step} ({kind})")
        _count(X.shape[0])


# ---------------------------------------------------------------------------
# 1. Random walks of the centers through the bounded E-step
# ---------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_features=st.sampled_from([3, 4, 1, 2, 5, 8]),
    n_clusters=st.one_of(st.integers(1, 31), st.integers(32, 300), st.sampled_from([1, 2, 31, 32, 33])),
    n_points=st.integers(1, 500),
    levels=st.sampled_from([2, 3, 5, 17, 256]),
    init=st.sampled_from(["points", "lattice", "half", "uniform", "one_point"]),
    dup_fraction=st.sampled_from([0.0, 0.3, 0.9]),
    prime_mode=st.sampled_from(["none", "exact", "random_labels"]),
    moves=st.lists(st.sampled_from(MOVES), min_size=1, max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_bounded_labels_equal_brute_force_along_random_walks(
    n_features, n_clusters, n_points, levels, init, dup_fraction, prime_mode, moves, seed
):
    rng = np.random.default_rng(seed)
    X = lattice_points(rng, n_points, n_features, levels)
    C = initial_centers(rng, X, n_clusters, levels, init, dup_fraction)
    run_walk(rng, X, C, moves, prime_mode, f"seed={seed}")


@pytest.mark.parametrize(
    "n_points, n_clusters, n_features",
    [(40_000, 3, 3), (5_000, 31, 3), (3_000, 31, 4), (40_000, 40, 3), (2_000, 256, 3), (3_000, 300, 4)],
)
def test_bounded_labels_large_blocks(n_points, n_clusters, n_features):
    # Big enough to take the per-center loop of the explicit kernel (rows*K >
    # 65536), to cross _EXPLICIT_BLOCK_ROWS (32768 rows) in _recompute and
    # distances(), and the expanded kernel's row blocks.
    rng = np.random.default_rng(n_points * 1000 + n_clusters)
    X = lattice_points(rng, n_points, n_features, 9)
    C = initial_centers(rng, X, n_clusters, 9, "points", 0.2)
    moves = ["small", "reflect", "snap", "half", "tiny", "palette_perm", "large", "toward"]
    run_walk(rng, X, C, moves, "none", "large")


@pytest.mark.parametrize("n_clusters", [3, 40, 256])
def test_bounded_labels_when_the_rows_in_doubt_are_settled_in_many_blocks(monkeypatch, n_clusters):
    # A photo's million colours are settled SETTLE_BLOCK_ROWS (65,536) rows at a time; here 37.
    monkeypatch.setattr(_bounds, "SETTLE_BLOCK_ROWS", 37)
    rng = np.random.default_rng(n_clusters)
    X = lattice_points(rng, 3_000, 3, 9)
    C = initial_centers(rng, X, n_clusters, 9, "points", 0.2)
    run_walk(rng, X, C, ["small", "reflect", "large", "palette_perm", "toward", "tiny", "snap"], "none", "blocks")


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_clusters=st.integers(1, 300), n_features=st.sampled_from([3, 4]))
def test_bounded_labels_photo_like_data(seed, n_clusters, n_features):
    # Gaussian blobs of integer colours (like a photo's pixels) and centers
    # converging towards the blob means, then the palette swap.
    rng = np.random.default_rng(seed)
    means = rng.uniform(0, 255, size=(rng.integers(1, 20), n_features))
    X = np.clip(np.rint(means[rng.integers(means.shape[0], size=800)] + rng.normal(0, 10, (800, n_features))), 0, 255)
    X = np.asfortranarray(np.unique(X, axis=0))
    C = X[rng.integers(X.shape[0], size=n_clusters)] + rng.normal(0, 20, (n_clusters, n_features))
    run_walk(rng, X, C, ["toward", "toward", "small", "tiny", "none", "palette", "small", "palette_perm"],
             "none", f"photo seed={seed}")


@settings(max_examples=150, deadline=None)
@given(
    n_features=st.sampled_from([1, 2, 3, 4]),
    n_clusters=st.one_of(st.integers(1, 31), st.integers(32, 120)),
    n_points=st.integers(1, 300),
    levels=st.sampled_from([2, 3, 17, 256]),
    scale=st.sampled_from([1e-300, 1e-200, 1e-160, 1e-158, 1e-153, 1e-100, 1e-50, 1e-6, 1e6, 1e50, 1e100, 1e140]),
    shift=st.sampled_from([0.0, 1e3, -1e5]),
    moves=st.lists(st.sampled_from([m for m in MOVES if not m.startswith("palette")]), min_size=1, max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_bounded_labels_at_every_scale(n_features, n_clusters, n_points, levels, scale, shift, moves, seed):
    # The same walks with data and moves scaled together (and shifted away
    # from the origin): the margins must follow the data's scale, from squared
    # distances that underflow to 0 everywhere (1e-300, 1e-200: all ties) to
    # nearly overflowing ones, through subnormal ones (1e-158, 1e-160: see the
    # last test of this file).
    rng = np.random.default_rng(seed)
    X = lattice_points(rng, n_points, n_features, levels)
    C = initial_centers(rng, X, n_clusters, levels, "half", 0.3)
    Xs = np.asfortranarray(X * scale + shift * scale)
    assigner = BoundedAssigner(Xs)
    labels = np.full(n_points, -1, dtype=np.intp)
    for step, kind in enumerate(["none", *moves]):
        C = move_centers(rng, X, C, kind)
        Cs = C * scale + shift * scale
        assigner(Cs, labels)
        assert_exact(assigner, Xs, Cs, labels, f"scale={scale} seed={seed} step {step} ({kind})")
        _count(n_points)


# ---------------------------------------------------------------------------
# 2. The nearest-two kernels on their own
# ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    n_features=st.sampled_from([1, 2, 3, 4, 8]),
    n_clusters=st.integers(1, 300),
    n_points=st.integers(1, 700),
    levels=st.sampled_from([2, 3, 17, 256]),
    init=st.sampled_from(["points", "lattice", "half", "uniform", "one_point"]),
    offset=st.sampled_from([0.0, 0.5, 1e3, 1e6, -1e7]),
    seed=st.integers(0, 2**32 - 1),
)
def test_nearest_two_kernels_match_brute_force(n_features, n_clusters, n_points, levels, init, offset, seed):
    rng = np.random.default_rng(seed)
    X = lattice_points(rng, n_points, n_features, levels) + offset
    C = initial_centers(rng, X - offset, n_clusters, levels, init, 0.3) + offset
    C = move_centers(rng, X, C, "reflect")
    labels, best, second = brute(X, C)
    kernels = {
        "dispatch": _distances.nearest_two,
        "explicit": _distances.nearest_two_explicit,
        "small": _distances.nearest_two_small,
        "expanded": _distances.nearest_two_expanded,
    }
    for name, kernel in kernels.items():
        got_labels, got_best, got_second = kernel(np.asfortranarray(X), C)
        np.testing.assert_array_equal(got_labels, labels, err_msg=name)
        np.testing.assert_array_equal(got_best, best, err_msg=name)
        if name in ("explicit", "small") or (name == "dispatch" and n_clusters < 32):
            np.testing.assert_array_equal(got_second, second, err_msg=name)
        else:
            assert np.all(got_second <= second), name
    # The runner-up and the bound on the rest that the many-center E-step keeps.
    d = brute_matrix(X, C)
    got_labels, got_best, runner_up, runner_up_sq, rest = _distances.nearest_three_expanded(np.asfortranarray(X), C)
    rows = np.arange(X.shape[0])
    np.testing.assert_array_equal(got_labels, labels)
    np.testing.assert_array_equal(got_best, best)
    if n_clusters > 1:
        assert np.all(runner_up != labels)
        assert np.all(runner_up_sq <= d[rows, runner_up])
        np.testing.assert_array_equal(d[rows, runner_up] >= best, True)
    if n_clusters > 2:
        others = d.copy()
        others[rows, labels] = np.inf
        others[rows, runner_up] = np.inf
        assert np.all(rest <= others.min(axis=1))
    # The per-center loop of the explicit kernel (normally only for big blocks).
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_distances, "SMALL_BLOCK_ENTRIES", 0)
        got = _distances.nearest_two_explicit(np.asfortranarray(X), C)
    np.testing.assert_array_equal(got[0], labels)
    np.testing.assert_array_equal(got[1], best)
    np.testing.assert_array_equal(got[2], second)


# ---------------------------------------------------------------------------
# 3. lloyd_single primed or not, _primed_lloyd, _palette_labels
# ---------------------------------------------------------------------------


def _colours(rng, n, n_features, kind):
    if kind == "blobs":
        means = rng.uniform(0, 255, size=(rng.integers(1, 12), n_features))
        X = means[rng.integers(means.shape[0], size=n)] + rng.normal(0, rng.uniform(1, 30), (n, n_features))
    elif kind == "lattice":
        X = lattice_points(rng, n, n_features, int(rng.choice([3, 5, 17])))
    else:  # narrow: all colours in few coarse bins
        X = rng.integers(100, 100 + rng.integers(2, 20), size=(n, n_features))
    X = np.unique(np.clip(np.rint(X), 0, 255), axis=0)  # distinct colours, as quantize fits
    return np.asfortranarray(X.astype(np.float64))


def _run(X, w, C, **kwargs):
    seen = []
    out = lloyd_single(
        X, w, C, callback=lambda n_iter, centers, inertia: seen.append((n_iter, centers.copy(), inertia)),
        **kwargs,
    )
    return out, seen


def _assert_same_runs(a, b, context):
    (la, ia, ca, na), seen_a = a
    (lb, ib, cb, nb), seen_b = b
    np.testing.assert_array_equal(la, lb, err_msg=context)
    np.testing.assert_array_equal(ca, cb, err_msg=context)
    assert na == nb, context
    assert ia == ib, context
    assert len(seen_a) == len(seen_b), context
    for (n1, c1, i1), (n2, c2, i2) in zip(seen_a, seen_b):
        assert n1 == n2 and i1 == i2, context
        np.testing.assert_array_equal(c1, c2, err_msg=context)


def _assert_palette_labels(X, centers, state, context):
    fit = Fit(centers, 0) if state is None else Fit(centers, 0, *state)
    palette, labels, sq = quantize.round_palette(fit, X, X, RGB)
    expected_palette = np.unique(np.clip(np.rint(centers), 0, 255), axis=0)
    np.testing.assert_array_equal(palette, expected_palette)
    expected_labels, expected_best, _ = brute(X, palette)
    np.testing.assert_array_equal(labels, expected_labels, err_msg=context)
    np.testing.assert_array_equal(sq, expected_best, err_msg=context)
    _count(X.shape[0])


@settings(max_examples=120, deadline=None)
@given(
    n_features=st.sampled_from([3, 4]),
    n_points=st.integers(2, 600),
    n_clusters=st.one_of(st.integers(1, 31), st.integers(32, 200)),
    kind=st.sampled_from(["blobs", "lattice", "narrow"]),
    init=st.sampled_from(["points", "uniform", "one_point", "half"]),
    dup_fraction=st.sampled_from([0.0, 0.5]),
    zero_weights=st.booleans(),
    max_iter=st.sampled_from([1, 2, 3, 300]),
    tol=st.sampled_from([0.0, 1e-3, 10.0]),
    bits=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
)
def test_lloyd_single_primed_equals_unprimed(
    n_features, n_points, n_clusters, kind, init, dup_fraction, zero_weights, max_iter, tol, bits, seed
):
    rng = np.random.default_rng(seed)
    X = _colours(rng, n_points, n_features, kind)
    n = X.shape[0]
    w = rng.integers(1, 9, size=n).astype(np.float64)
    if zero_weights:
        w[rng.random(n) < 0.3] = 0.0
        w[rng.integers(n)] = 1.0
    C = initial_centers(rng, X, n_clusters, 17, init, dup_fraction)
    context = f"seed={seed}"
    plain = _run(X, w, C, max_iter=max_iter, tol=tol)
    CHECKED["lloyd_runs"] += 1

    # Primed with exact labels / arbitrary labels and valid (loose) bounds.
    for mode in ("exact", "random_labels"):
        assigner = BoundedAssigner(X)
        labels_init = prime_assigner(rng, assigner, X, C, mode)
        primed = _run(X, w, C, max_iter=max_iter, tol=tol, assigner=assigner, labels_init=labels_init.copy())
        _assert_same_runs(plain, primed, f"{context} prime={mode}")
        _assert_palette_labels(X, primed[0][2], (primed[0][0].copy(), assigner), f"{context} palette {mode}")
        CHECKED["lloyd_runs"] += 1

    # Primed from a coarse colour histogram, as the coarse-to-fine fit does.
    coarse = _coarse_to_fine.colour_histogram(X, w if w.all() else w + 1.0, bits)
    means, bin_of, radius = coarse.means, coarse.bin_of_colour, coarse.radius
    reach = np.sqrt(brute_matrix(X, means)[np.arange(n), bin_of])
    assert np.all(reach <= radius[bin_of]), "a colour lies outside its bin's radius"
    labels, _inertia, centers, n_iter, assigner = _coarse_to_fine.primed_lloyd(
        X, w, C, coarse, bin_of, max_iter=max_iter, tol=tol, callback=None, callback_inertia=False,
    )
    np.testing.assert_array_equal(labels, plain[0][0], err_msg=f"{context} _primed_lloyd labels")
    np.testing.assert_array_equal(centers, plain[0][2], err_msg=f"{context} _primed_lloyd centers")
    assert n_iter == plain[0][3]
    _assert_palette_labels(X, centers, (labels.copy(), assigner), f"{context} palette after _primed_lloyd")
    _assert_palette_labels(X, centers, None, f"{context} palette without state")
    CHECKED["lloyd_runs"] += 1


# ---------------------------------------------------------------------------
# 4. quantize_image end to end, with the coarse (and middle) levels forced on
# ---------------------------------------------------------------------------


def _random_image(rng, kind, alpha):
    h, w = rng.integers(8, 48, size=2)
    if kind == "blobs":
        means = rng.integers(0, 256, size=(rng.integers(1, 10), 3))
        img = means[rng.integers(means.shape[0], size=(h, w))] + rng.normal(0, rng.uniform(2, 40), (h, w, 3))
    elif kind == "noise":
        img = rng.integers(0, 256, size=(h, w, 3))
    elif kind == "narrow":
        base = rng.integers(0, 200)
        img = base + rng.integers(0, rng.integers(3, 50), size=(h, w, 3))
    else:  # lattice: few values, many ties
        img = rng.integers(0, 4, size=(h, w, 3)) * 85
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if alpha == "opaque":
        img = np.dstack([img, np.full((h, w), 255, np.uint8)])
    elif alpha == "holes":  # some fully transparent pixels: fit in RGB, one transparent entry
        a = np.where(rng.random((h, w)) < 0.2, 0, 255).astype(np.uint8)
        a.flat[0] = 255
        img = np.dstack([img, a])
    elif alpha == "partial":  # fit in RGBA
        a = rng.choice(np.array([0, 64, 128, 255], np.uint8), size=(h, w))
        a.flat[0] = 200
        img = np.dstack([img, a])
    return img


@settings(max_examples=90, deadline=None)
@example(kind="narrow", alpha="opaque", n_colors=184, coarse_min=10**9, middle=False, seed=20199)  # exact tie
@example(kind="narrow", alpha="rgb", n_colors=78, coarse_min=10**9, middle=True, seed=40401)  # tie to the higher index
@given(
    kind=st.sampled_from(["blobs", "noise", "narrow", "lattice"]),
    alpha=st.sampled_from(["rgb", "rgb", "opaque", "holes", "partial"]),
    n_colors=st.one_of(st.integers(2, 31), st.integers(32, 256)),
    coarse_min=st.sampled_from([4, 30, 200, 10**9]),
    middle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_quantize_image_nearest_palette_and_fixed_point(kind, alpha, n_colors, coarse_min, middle, seed):
    rng = np.random.default_rng(seed)
    image = _random_image(rng, kind, alpha)
    seen = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_coarse_to_fine, "COARSE_MIN_COLOURS", coarse_min)
        mp.setattr(_coarse_to_fine, "MIDDLE_MIN_COLOURS", coarse_min if middle else 10**9)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # fewer colours than n_colors
            try:
                result = quantize_image(
                    image, n_colors, seed=int(rng.integers(1000)), tol=0, max_iter=3000,
                    callback=lambda n_iter, centers, inertia: seen.append((n_iter, centers.copy())),
                )
            except ValueError as error:
                assert "n_colors=1" in str(error)
                return
    CHECKED["images"] += 1
    flat = image.reshape(-1, image.shape[2])
    visible = np.ones(flat.shape[0], bool) if image.shape[2] == 3 else flat[:, 3] > 0
    fit_channels = 4 if image.shape[2] == 4 and bool(((flat[:, 3] > 0) & (flat[:, 3] < 255)).any()) else 3
    indices = result.indices.reshape(-1)
    palette = result.palette.astype(np.float64)
    if not visible.all():
        transparent = palette.shape[0] - 1
        assert np.all(indices[~visible] == transparent)
        assert palette[transparent].tolist() == [0, 0, 0, 0]
        palette = palette[:-1]
    pixels = flat[visible, :fit_channels].astype(np.float64)
    d = brute_matrix(pixels, palette[:, :fit_channels])
    own = d[np.arange(pixels.shape[0]), indices[visible]]
    bad = np.flatnonzero(own != d.min(axis=1))
    assert bad.size == 0, (
        f"pixel {pixels[bad[0]].tolist()} got palette colour {palette[indices[visible][bad[0]]].tolist()} "
        f"at d2={own[bad[0]]}, nearest {palette[d[bad[0]].argmin()].tolist()} at d2={d[bad[0]].min()}"
    )
    sse = float((d.min(axis=1)).sum())
    assert abs(result.sse - sse) <= 1e-9 * max(sse, 1.0)
    if not seen:  # kept every colour: nothing was fitted
        assert result.n_iter == 0
        return
    n_iter, centers = seen[-1]
    assert n_iter < 3000, "did not converge"
    _assert_fixed_point(pixels, centers, exact=np.unique(pixels, axis=0).shape[0] > coarse_min)


def _assert_fixed_point(pixels, centers, exact):
    """Every center is the mean of the pixels nearest to it (atol 1e-9).

    `exact`: the fit ran lloyd_single on the colours themselves (the
    coarse-to-fine path), with the reference's arithmetic, so the brute-force
    labels are exactly the fit's. Otherwise the fit went through KMeans, on
    colours centered by their mean, and the callback's centers are `centers +
    mean`: a colour (nearly) tied between two centers may have been resolved
    either way by that arithmetic (seen: 14.0 vs 14.000000000000018 here for
    an exact tie). Then some resolution of the near ties (within 1e-9, the
    same for every pixel of a colour) must make every center the mean.
    """
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    d = brute_matrix(colours, centers)
    labels = np.argmin(d, axis=1)

    def wrong_centers(labels, only=None):
        wrong = []
        for k in range(centers.shape[0]) if only is None else only:
            members = labels == k
            if members.any():
                mean = (colours[members] * counts[members, None]).sum(axis=0) / counts[members].sum()
                if not np.allclose(mean, centers[k], rtol=0, atol=1e-9):
                    wrong.append(k)
        return wrong

    wrong = wrong_centers(labels)
    if wrong and not exact:
        near = d <= d.min(axis=1, keepdims=True) + 1e-9
        tied = np.flatnonzero(near.sum(axis=1) > 1)
        options = [np.flatnonzero(near[i]) for i in tied]
        touched = sorted(set(np.concatenate(options).tolist()) | set(wrong)) if options else wrong
        if 0 < tied.size and np.prod([len(o) for o in options], dtype=float) <= 4096:
            for choice in itertools.product(*options):
                trial = labels.copy()
                trial[tied] = choice
                if not wrong_centers(trial, touched):
                    wrong = []
                    break
    assert not wrong, f"centers {wrong} are not the means of the pixels nearest to them"


# ---------------------------------------------------------------------------
# 5. Failures this file found (minimal reproductions), fixed in the E-step (now _bounds.py and _distances.py):
#    the offset is folded back into the bounds when it grows large, and
#    center moves are measured without squaring underflow.
# ---------------------------------------------------------------------------


def test_a_huge_center_move_does_not_swallow_later_small_ones():
    # Found by this file: the running offset reached 2e16 and absorbed moves of 1.5.
    X = np.array([[0.0]])
    assigner = BoundedAssigner(X)
    labels = np.zeros(1, dtype=np.intp)
    C = np.array([[17.0], [10.0]])
    assigner(C, labels)  # label 1 (10 < 17): correct
    assigner(C + 1e16, labels)  # an excursion far away...
    assigner(C, labels)  # ...and back: offset is now 2e16
    for _ in range(6):  # center 0 walks towards x in steps of 1.5: 17 -> 8
        C = C.copy()
        C[0, 0] -= 1.5
        assigner(C, labels)
    # Center 0 is now at 8, closer than center 1 at 10.
    assert labels.tolist() == brute(X, C)[0].tolist() == [0]


def test_center_moves_at_a_subnormal_scale_still_count():
    # Found by this file: sqrt(sum(diff**2)) underflowed to 0 for moves of 1e-163.
    X = np.array([[0.0]])
    assigner = BoundedAssigner(X)
    labels = np.zeros(1, dtype=np.intp)
    C = np.array([[7e-161], [5e-161]])
    assigner(C, labels)  # label 1: correct
    for _ in range(400):  # center 0 walks towards x in steps of 1e-163: 7e-161 -> 3e-161
        C = C.copy()
        C[0, 0] -= 1e-163
        assigner(C, labels)
    assert labels.tolist() == brute(X, C)[0].tolist() == [0]


# ---------------------------------------------------------------------------
# 6. Three more failures this file found after that fix (minimal
#    reproductions): one huge move in a single call, the same through the
#    public KMeans with a far user init, and subnormal squared distances.
# ---------------------------------------------------------------------------


# Found by this file: one huge move of some center M (here 1e16) in a single call: the rebase
# computed upper - M + (own_shift + M), which rounded every upper bound to a multiple of ulp(M)
# (2.0 here), so a row whose own center barely moved lost its upper bound
def test_one_huge_center_move_keeps_the_upper_bounds():
    X = np.array([[0.0]])
    assigner = BoundedAssigner(X)
    labels = np.zeros(1, dtype=np.intp)
    assigner(np.array([[2.0], [0.0], [1e16]]), labels)  # label 1 (distance 0): correct
    C = np.array([[-1.0], [1.0], [9.0]])  # center 2 comes back from 1e16
    assigner(C, labels)
    # x = 0 is at distance 1 from centers 0 and 1: the tie goes to center 0.
    assert labels.tolist() == brute(X, C)[0].tolist() == [0]


# Found by this file (public API): KMeans with a user init far from the data (1e17 away) stopped
# with a label that is not the nearest center: the E-step after the far center's first move skipped
# the row (see the test above); scikit-learn gives [1, 0, 0], 0.5
def test_kmeans_with_a_far_init_gives_nearest_labels():
    from kmeans import KMeans

    X = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 2.0]])
    init = np.array([[1.0, 2.0], [0.0, 1e17]])
    km = KMeans(2, init=init, n_init=1, tol=0.0).fit(X)
    # Iteration 1: every point joins center 0, center 1 is empty and takes the
    # farthest point (0, 1); iteration 2 must then give (0, 1) to center 1.
    assert km.cluster_centers_.tolist() == [[1.5, 2.0], [0.0, 1.0]]
    assert km.labels_.tolist() == [1, 0, 0]  # was [0, 0, 0]
    assert km.inertia_ == 0.5  # was 3.75


# Found by this file: data at ~1e-158: squared distances are subnormal (4.9e-324 steps, relative
# precision ~3e-5 here), far coarser than the 1e-9 margin, so the bounds kept a label that the
# exact arithmetic ties with a lower index
def test_subnormal_squared_distances_do_not_beat_the_margin():
    X = np.array([[1.08e-158]])
    assigner = BoundedAssigner(X)
    labels = np.zeros(1, dtype=np.intp)
    assigner(np.array([[1.125e-158], [1.045e-158]]), labels)  # label 1: correct
    C = np.array([[1.12e-158], [1.04e-158]])
    assigner(C, labels)
    # Both squared distances compute to 1.6e-319: a tie, to center 0.
    assert brute_matrix(X, C)[0, 0] == brute_matrix(X, C)[0, 1]
    assert labels.tolist() == brute(X, C)[0].tolist() == [0]


# ---------------------------------------------------------------------------
# 7. Found by review of the many-center E-step (minimal reproductions)
# ---------------------------------------------------------------------------


# Squares so large that the ranks overflow to inf and their differences to NaN: the near-tie test
# (gap <= 2 * slack) was False for NaN, so the row kept the product's first NaN as its label
def test_ranks_that_overflow_are_rechecked_exactly():
    X = np.array([[1e160 + 20e144], [-1e160]])
    C = np.concatenate([[[-1e160]], 1e160 + 1e144 * np.arange(31)[:, None]])  # K = 32: the product path
    with np.errstate(all="ignore"):
        labels, best, _second = _distances.nearest_two(X, C)
        expected_labels, expected_best, _ = brute(X, C)
    assert labels.tolist() == expected_labels.tolist() == [21, 0]
    np.testing.assert_array_equal(best, expected_best)


# A palette swap with the index mapping while runner-ups were not tracked left them in the old
# numbering; once tracking resumed, an index past the merged palette's end raised IndexError
def test_relabel_while_not_tracking_keeps_runner_ups_in_range():
    C = np.r_[np.arange(39) * 100.0, 3902.0][:, None]  # K = 40
    X = np.r_[C[:, 0] + 0.1, 60.0][:, None]
    assigner = BoundedAssigner(X)
    labels = np.zeros(X.shape[0], dtype=np.intp)
    assigner(C, labels)
    assigner.replace_centers(C, labels, max_shift=0.0)  # no mapping: the runner-ups are forgotten
    palette = C[:-1].copy()
    palette[1] = 149.0
    palette[38] = 3851.0  # centers 38 and 39 merge
    relabel = np.r_[np.arange(39), 38]
    labels[:] = relabel[labels]
    assigner.replace_centers(palette, labels, max_shift=51.0, relabel=relabel)
    assert assigner.runner_up.max() < palette.shape[0]
    for moved in (palette + 0.1, palette + 0.3):
        assigner(moved, labels)
        assert labels.tolist() == brute(X, moved)[0].tolist()
