"""A/B timing of two checkouts of the package: is a change slower or faster?

Run by hand (not in CI), on a quiet machine:

    git worktree add /tmp/before HEAD~3          # the code before the change
    python bench/ab.py /tmp/before --rounds 5    # this checkout (B) against it (A)

Each round times ``quantize_image`` (file already decoded, PNG not written)
on the same photos and K in a fresh process for A, then for B, alternating,
so that both meet the same load; the best time of each over all rounds is
compared. Photos: scikit-learn's china and flower (640x427) and china
scaled to 4000x3000 (12 MP), as in ``bench/native.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Runs in a fresh interpreter with one checkout's py/ first on sys.path.
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image
from kmeans import quantize_image
cases = json.loads(sys.argv[2])
photos = {"china": load_sample_image("china.jpg"), "flower": load_sample_image("flower.jpg")}
photos["china-12mp"] = np.asarray(Image.fromarray(photos["china"]).resize((4000, 3000), Image.BICUBIC))
quantize_image(photos["china"][::4, ::4], 8)  # imports and first calls, untimed
times = {}
for name, k in cases:
    started = time.perf_counter()
    quantize_image(photos[name], k, seed=0)
    times[f"{name} K={k}"] = time.perf_counter() - started
print(json.dumps(times))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", help="the other checkout (its py/ folder is used)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--no-big", action="store_true", help="skip the 12-megapixel photo")
    args = parser.parse_args(argv)
    names = ["china", "flower"] + ([] if args.no_big else ["china-12mp"])
    cases = [(name, k) for name in names for k in args.k]
    checkouts = {"A (baseline)": Path(args.baseline) / "py", "B (this checkout)": REPO / "py"}
    best: dict[str, dict[str, float]] = {label: {} for label in checkouts}
    for round_number in range(args.rounds):
        for label, py in checkouts.items():
            out = subprocess.run([sys.executable, "-c", CHILD, str(py), json.dumps(cases)],
                                 capture_output=True, text=True, check=True)
            for case, seconds in json.loads(out.stdout).items():
                best[label][case] = min(seconds, best[label].get(case, float("inf")))
        print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    a, b = best.values()
    print("| case | A (s) | B (s) | B / A |\n| --- | ---: | ---: | ---: |")
    for case in a:
        print(f"| {case} | {a[case]:.3f} | {b[case]:.3f} | {b[case] / a[case]:.3f} |")


if __name__ == "__main__":
    main()
