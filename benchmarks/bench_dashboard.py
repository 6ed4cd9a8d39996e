"""Dashboard page render times once the plan is cached (server side, AppTest).

Usage::

    python benchmarks/bench_dashboard.py [--scenario S] [--cache-dir D] [--repeat N]

Default: the bundled sample scenario and the dashboard's own cache folder
(``~/.cache/wfm/dashboard``). The plan must be there already (open the
dashboard once, or run with ``--compute``, which computes it first and
prints how long that took). For every page the script run is timed with
``streamlit.testing.v1.AppTest``: the first run (memory caches cold: the
plan is read from disk, frames are derived) and then the median of
``--repeat`` warm runs (what a planner sees when clicking around), plus one
what-if slider change. The baseline is an empty Streamlit script run in
the same harness; the ratio says how much each page adds to Streamlit's own
overhead. Browser-side drawing (vega-embed) is not included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PAGES = ["coverage", "what_if", "data_sources", "forecast", "staffing", "schedule"]


def _timed_run(at, timeout: float = 120.0) -> float:
    t0 = time.perf_counter()
    at.run(timeout=timeout)
    dt = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"page raised: {[e.value for e in at.exception]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", help="scenario TOML (default: the bundled sample)")
    ap.add_argument("--cache-dir", help="dashboard cache folder")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compute", action="store_true",
                    help="compute the plan first if it is not cached")
    args = ap.parse_args()
    if args.scenario:
        os.environ["WFM_DASHBOARD_SCENARIO"] = str(Path(args.scenario).resolve())
    if args.cache_dir:
        os.environ["WFM_DASHBOARD_CACHE"] = str(Path(args.cache_dir).resolve())

    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.testing.v1 import AppTest

    from dashboards import data

    src = data.default_source()
    if data.plan(src) is None:
        if not args.compute:
            sys.exit(f"no cached plan for {src.scenario_path} in {data.cache_dir(src)}; "
                     "open the dashboard once or pass --compute")
        t0 = time.perf_counter()
        data.compute_plan(src, progress=lambda m: print(f"  {m}", file=sys.stderr))
        print(f"first plan computed in {time.perf_counter() - t0:.1f} s")

    empty = AppTest.from_string("import streamlit as st\nst.write('x')")
    _timed_run(empty)
    baseline = statistics.median(_timed_run(empty) for _ in range(args.repeat))
    print(f"scenario: {src.scenario_path}")
    print(f"baseline (empty script run): {baseline * 1000:.1f} ms\n")
    print(f"{'page':<14}{'first run [s]':>15}{'warm median [s]':>18}{'x baseline':>12}")
    app = REPO / "dashboards" / "app.py"
    for page in PAGES:
        at = AppTest.from_file(app, default_timeout=120)
        at.run(timeout=120)  # the default page, to register the navigation
        at.switch_page(f"views/{page}.py")
        first = _timed_run(at)
        warm = statistics.median(_timed_run(at) for _ in range(args.repeat))
        print(f"{page:<14}{first:>15.2f}{warm:>18.2f}{warm / baseline:>12.0f}")
        if page == "what_if":
            at.slider(key="wi_volume").set_value(1.1)
            change = _timed_run(at)
            at.slider(key="wi_volume").set_value(1.1)
            again = _timed_run(at)
            print(f"{'  what-if x1.1':<14}{change:>15.2f}{again:>18.2f}"
                  f"{again / baseline:>12.0f}   (new value, then cached)")


if __name__ == "__main__":
    main()
