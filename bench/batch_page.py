"""The page's batch on every core: ``?workers=2`` against ``?workers=1`` on the same photos, in one run.

Run by hand (not in CI), after the tests' dependencies are installed:

    python bench/batch_page.py                      # 24 photos, 1 and 2 workers
    python bench/batch_page.py --photos 24 --workers 1 2 3 --repeat 2

It builds dist/ into a temporary folder, serves it on localhost and, in
headless Chromium, for each pool size: opens the page with ``?workers=N`` as
a returning visitor would (a persistent profile, filled by one visit first:
a fresh profile compiles Pyodide again in every worker), waits until the first worker has booted and warmed up (as a
user who opens the page and then picks a folder), chooses the photos (480x320
JPEG crops of the two sample photos, as ``bench/cli_jobs.py`` makes them) and
times from the choice to the last row done. The extra workers boot when the
batch starts, and that time is counted. Runs alternate between pool sizes, so
each sees the same load. Reported: the best time of ``--repeat``, photos per
second, the speed-up over one worker (issue target: at least 1.6x with two on
2 cores), and the peak memory of Chromium's processes while the batch ran
(the sum of their PSS, sampled every 0.2 s from /proc).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
import build
from browser import CHROMIUM_ARGS
from cli_jobs import make_photos

BOOT_TIMEOUT_MS = 120_000


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def chromium_megabytes() -> float:
    """The proportional set size of every Chromium process started by this one, in MB."""
    total = 0
    for pid in descendants(os.getpid()):
        try:
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def open_profile(playwright, profile: Path):
    """Chromium with a persistent profile: its HTTP cache and V8's code cache live on between runs."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)


def run_batch(playwright, url: str, photos: list[Path], workers: int, profile: Path) -> tuple[float, float]:
    """Seconds from choosing the photos to the last row done, and the peak MB of Chromium meanwhile."""
    browser = open_profile(playwright, profile)
    try:
        page = browser.new_page()
        page.goto(f"{url}?workers={workers}")
        page.wait_for_function("() => document.body.dataset.warm === 'true'", timeout=BOOT_TIMEOUT_MS)
        peak = 0.0
        running = True

        def sample():
            nonlocal peak
            while running:
                peak = max(peak, chromium_megabytes())
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        page.set_input_files("#image-input", [str(path) for path in photos])
        page.wait_for_function("() => document.getElementById('batch').dataset.state === 'done'",
                               timeout=BOOT_TIMEOUT_MS * 5, polling=100)
        seconds = time.perf_counter() - started
        running = False
        sampler.join()
        done = page.text_content("#batch-summary")
        assert done.startswith(f"{len(photos)} of {len(photos)} done"), done
        assert page.get_attribute("#batch", "data-workers") == str(workers)
        return seconds, peak
    finally:
        browser.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        (temp / "photos").mkdir()
        make_photos(temp / "photos", args.photos)
        photos = sorted((temp / "photos").iterdir())
        build.build(temp / "site", repo=REPO, log=lambda *a, **k: None)
        server = build.make_server(temp / "site", "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        results: dict[int, list[tuple[float, float]]] = {n: [] for n in args.workers}
        profile = temp / "profile"
        with sync_playwright() as playwright:
            # A returning visitor: the first visit fills the caches (Pyodide, NumPy, the compiled code).
            first = open_profile(playwright, profile)
            first.new_page().goto(url)
            first.pages[-1].wait_for_function("() => document.body.dataset.warm === 'true'", timeout=BOOT_TIMEOUT_MS)
            first.close()
            for _ in range(args.repeat):
                for workers in args.workers:
                    results[workers].append(run_batch(playwright, url, photos, workers, profile))
                    seconds, peak = results[workers][-1]
                    print(f"  workers={workers}: {seconds:.1f} s, peak {peak:.0f} MB", flush=True)
        server.shutdown()
    base = min(seconds for seconds, _ in results[args.workers[0]])
    print(f"\n{args.photos} photos, 480x320, K=16, the page's defaults")
    print(f"{'workers':>8} {'best s':>8} {'photos/s':>9} {'speed-up':>9} {'peak MB':>8}")
    for workers, runs in results.items():
        best = min(seconds for seconds, _ in runs)
        peak = max(peak for _, peak in runs)
        print(f"{workers:>8} {best:>8.1f} {args.photos / best:>9.2f} {base / best:>8.2f}x {peak:>8.0f}")


if __name__ == "__main__":
    main()
