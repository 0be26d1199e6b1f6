"""Explorer benchmark: the time of one Step (assign + update in Python, then drawing with the
regions), and of one Back (drawing only), at 300 and at 100,000 points.

Run by hand (not in CI), after the tests' dependencies are installed:

    python bench/explorer.py                 # 300 and 100,000 points, K=8, 5 Steps each
    python bench/explorer.py --points 300 20000 100000 --k 8

It builds dist/, serves it on localhost, opens the explorer in headless
Chromium, loads the points as a CSV file (seeded uniform noise, on which K-means takes many iterations), and
times each Step from the click to the state drawn (the page's own
performance clock, no Playwright round trip), and the drawing alone (the
page's ``kmeans:explorer-draw`` measure), with the regions on and off.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import build  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

LAST_DRAW = "() => performance.getEntriesByName('kmeans:explorer-draw').at(-1).duration"

# Click a button and resolve with the milliseconds until the explorer is idle again. A mutation
# observer runs once the task that set the state (and drew it) is over.
TIME_CLICK = """
async (id) => {
  const started = performance.now();
  const idle = () => document.body.dataset.pointsState !== 'running';
  const done = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (idle()) { observer.disconnect(); resolve(); }
    });
    observer.observe(document.body, { attributes: true });
  });
  document.getElementById(id).click();
  if (!idle()) await done;
  return performance.now() - started;
}
"""


def points_csv(n_points: int, seed: int = 0) -> bytes:
    # Uniform noise: K-means takes many iterations on it, so every timed Step does real work.
    X = np.random.default_rng(seed).uniform(0, 8, (n_points, 2))
    return ("x,y\n" + "\n".join(f"{x:.5f},{y:.5f}" for x, y in X) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, nargs="+", default=[300, 100_000])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()

    subprocess.run([sys.executable, str(REPO / "build.py"), "build"], check=True, stdout=subprocess.DEVNULL)
    server = build.make_server(REPO / "dist", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/#clusters"

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=120_000)
        print(f"K={args.k}, medians of {args.steps} (ms):")
        print(f"{'points':>8} {'regions':>8} {'Step':>8} {'its drawing':>12} {'Back (draw only)':>17}")
        for n_points in args.points:
            page.set_input_files("#points-input", files=[{"name": f"bench-{n_points}.csv", "mimeType": "text/csv",
                                                          "buffer": points_csv(n_points)}])
            page.wait_for_function(f"() => document.getElementById('points-caption').textContent.includes('{n_points} points')"
                                   " && document.body.dataset.pointsState === 'ready'", timeout=300_000)
            page.fill("#points-k", str(args.k))
            page.dispatch_event("#points-k", "change")
            page.fill("#points-max-iter", "500")
            page.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=60_000)
            for regions in (True, False):
                page.set_checked("#points-voronoi", regions)
                page.click("#points-reset")
                page.wait_for_function("() => document.body.dataset.pointsState === 'ready'", timeout=60_000)
                steps, backs, draws = [], [], []
                for n in range(1, args.steps + 1):
                    steps.append(page.evaluate(TIME_CLICK, "points-step"))
                    if page.get_attribute("body", "data-points-iteration") != str(n):
                        sys.exit(f"the run ended after {n - 1} Steps; ask for fewer (--steps)")
                    draws.append(page.evaluate(LAST_DRAW))
                    backs.append(page.evaluate(TIME_CLICK, "points-back"))
                    page.evaluate(TIME_CLICK, "points-step")  # forward again (replayed from the history)
                print(f"{n_points:>8} {('on' if regions else 'off'):>8} {statistics.median(steps):>8.1f} "
                      f"{statistics.median(draws):>12.1f} {statistics.median(backs):>17.1f}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
