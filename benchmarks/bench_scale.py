"""Forecast + backtest of a large group: serial vs Dask LocalCluster (issue: scale out).

Generates (or reuses) a synthetic group of ``--sites`` x ``--queues`` series
with ``--years`` of 15-minute history, then forecasts every series with its
rolling-origin backtest twice, each in a fresh process:

* serial, in one process (the baseline);
* on a Dask ``LocalCluster`` with ``--workers`` single-threaded worker processes.

Prints the wall time of each, the speed-up ratio, peak memory (RSS) of the
serial process, of the Dask driver and of each worker, and whether the two
runs gave identical forecasts, backtests and selections.

    python benchmarks/bench_scale.py                       # 300 series x 2 years
    python benchmarks/bench_scale.py --sites 4 --queues 5 --years 0.5   # quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _digest(frame) -> str:
    import pandas as pd

    keys = [c for c in ("site", "channel", "timestamp", "model", "origin") if c in frame]
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values
                          .tobytes()).hexdigest()[:16]


def run_mode(scenario: str, mode: str, workers: int) -> dict:
    """One forecast of the whole group in this process; returns the figures."""
    from wfm.config import load_group
    from wfm.group import forecast_group
    from wfm.parallel import Executor, Runner

    group = load_group(scenario)
    ex = Executor("local") if mode == "serial" else Executor("dask", workers=workers)
    with Runner(ex) as runner:
        if mode == "dask":
            cpu0 = sum(runner.client.run(_cpu_seconds).values())
        else:
            cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        gf = forecast_group(group, runner=runner, backtest=True)
        seconds = time.perf_counter() - t0
        worker_mb = []
        if mode == "dask":
            worker_mb = sorted(runner.client.run(_peak_rss_mb).values())
            cpu = sum(runner.client.run(_cpu_seconds).values()) - cpu0
        else:
            cpu = _cpu_seconds() - cpu0
    return {
        "mode": mode, "seconds": seconds, "cpu_seconds": cpu, "series": gf.tasks,
        "failures": len(gf.failures), "driver_peak_mb": _peak_rss_mb(),
        "worker_peak_mb": worker_mb,
        "digest": {a: _digest(getattr(gf, a)) for a in ("forecast", "backtest", "selection")},
        "rows": int(sum(len(r.forecast) for r in gf.sites.values())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--queues", type=int, default=15, help="queues (series) per site")
    ap.add_argument("--years", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", type=Path, help="reuse a group made by 'wfm sample-data --sites'")
    ap.add_argument("--mode", choices=["serial", "dask"], help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.mode:  # child process: one measurement
        print(json.dumps(run_mode(str(args.data), args.mode, args.workers)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        scenario = args.data / "scenario.toml" if args.data else None
        if scenario is None:
            from wfm.samplegroup import generate_group
            t0 = time.perf_counter()
            scenario = generate_group(Path(tmp) / "group", sites=args.sites,
                                      queues_per_site=args.queues, years=args.years,
                                      interval_minutes=15, agents_per_site=5)
            print(f"generated {args.sites} sites x {args.queues} queues x {args.years:g} years "
                  f"of 15-min history in {time.perf_counter() - t0:.1f} s")
        out = {}
        for mode in ("serial", "dask"):
            cmd = [sys.executable, __file__, "--mode", mode, "--data", str(scenario),
                   "--workers", str(args.workers)]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})
            if proc.returncode != 0:
                sys.exit(f"{mode} run failed:\n{proc.stderr[-3000:]}")
            out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
            r = out[mode]
            load = os.getloadavg()[0]
            print(f"{mode:>6}: {r['series']} series, {r['seconds']:.1f} s wall, "
                  f"{r['cpu_seconds']:.0f} CPU s in the worker processes "
                  f"({r['cpu_seconds'] / r['seconds']:.2f} cores busy on average), "
                  f"load average after the run {load:.1f} on {os.cpu_count()} cores, "
                  f"{r['failures']} failures, driver peak {r['driver_peak_mb']:.0f} MB"
                  + (f", worker peaks {', '.join(f'{m:.0f}' for m in r['worker_peak_mb'])} MB"
                     if r["worker_peak_mb"] else ""))
    s, d = out["serial"], out["dask"]
    same = s["digest"] == d["digest"]
    print(f"speed-up serial -> Dask LocalCluster ({args.workers} workers): "
          f"{s['seconds'] / d['seconds']:.2f}x")
    print(f"per series: serial {s['seconds'] / s['series']:.2f} s, "
          f"Dask {d['seconds'] / d['series']:.2f} s")
    print(f"identical forecast, backtest and selection: {'yes' if same else 'NO'} "
          f"({s['series']} tasks for {s['rows']:,} forecast rows; a chatbot and its hand-off "
          "queue are one task)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
