"""Elementwise minimum and maximum as selects: the same values, much faster in WebAssembly.

Pyodide's NumPy runs ``np.minimum`` and ``np.maximum`` (and ``np.copyto``
with ``where=``, and ``np.putmask``) three to six times slower than
``np.where(a < b, a, b)``: their loops propagate NaN element by element,
where natively they are vectorised. For arrays without NaN the two give the
same values, so the hot loops that page users run (the bounded E-step, the
dithering) use these. Measured in Pyodide 0.27.7: a minimum of two 1.4
million float64 arrays takes 8.7 ms with ``np.minimum``, 2.9 ms as a select;
natively both take about 1 ms.
"""

from __future__ import annotations

import numpy as np


def smaller(a, b):
    """``np.minimum(a, b)`` for arrays without NaN (ties give `b`, the same value)."""
    return np.where(a < b, a, b)


def larger(a, b):
    """``np.maximum(a, b)`` for arrays without NaN (ties give `b`, the same value)."""
    return np.where(a > b, a, b)
