"""Targets: how many trial encodes a size or quality target takes, and how much of a budget it uses.

Run by hand (not in CI):

    python bench/targets.py                 # the two sample photos, several budgets and qualities
    python bench/targets.py --big           # also the 12-megapixel upscale

For each photo, size budgets spread between its 4-colour and 256-colour PNGs,
and qualities from 30 to 80, go through ``kmeans.compress_to_target`` with
the defaults. A line per target: the K chosen, met or not, the share of the
budget used (issue target: at least 75 %), the trials (target: at most 5 on
average) and the time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "py"))
sys.path.insert(0, str(REPO / "bench"))
from kmeans import compress_to_target, encode_png, quantize_image  # noqa: E402
from native import photos  # noqa: E402  (the same photos as the speed benchmark)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the 12-megapixel photo")
    args = parser.parse_args()
    trials = {"size": [], "quality": []}
    for name, image in photos(args.big):
        low, high = (len(encode_png(quantize_image(image, k))) for k in (4, 256))
        budgets = [round(low + (high - low) * share) for share in (0.1, 0.3, 0.5, 0.7, 0.9)]
        for budget in budgets + [low // 3]:
            started = time.perf_counter()
            found = compress_to_target(image, max_bytes=budget)
            used = len(found.png) / budget
            trials["size"].append(len(found.trials))
            print(f"{name}: <= {budget:,} B: K={found.n_colors} {'met' if found.met else 'MISSED'}, "
                  f"{used:.0%} of the budget, {len(found.trials)} trials, {time.perf_counter() - started:.2f} s")
        for quality in (30, 50, 70, 80):
            started = time.perf_counter()
            found = compress_to_target(image, min_quality=quality)
            trials["quality"].append(len(found.trials))
            print(f"{name}: >= Q{quality}: K={found.n_colors} {'met' if found.met else 'missed'} "
                  f"(score {found.score:.1f}, {len(found.png):,} B), {len(found.trials)} trials, "
                  f"{time.perf_counter() - started:.2f} s")
    for kind, counts in trials.items():
        print(f"{kind} targets: {statistics.mean(counts):.1f} trials on average (max {max(counts)})")


if __name__ == "__main__":
    main()
