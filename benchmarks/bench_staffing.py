"""Benchmark of the staffing stage: a year of 15-minute intervals x 6 channels.

Run::

    python benchmarks/bench_staffing.py [--days 365] [--repeat 3] [--baseline-every 50]

Workload: the last ``--days`` days of the bundled sample center's history used
as a forecast (realistic daily/weekly profiles, closed hours, incident
spikes): voice (Erlang A), chat and chatbot hand-off (concurrency 2, Erlang C
on session slots; hand-off derived from the chatbot channel), e-mail, social
and letters (deferred backlog). Prints

- ``wfm.staffing.requirements`` wall and CPU time (best of ``--repeat``) and
  intervals per second;
- the same requirements computed by a straightforward per-interval Python
  loop (the textbook Erlang B recursion walked up agent by agent for the
  Erlang C channels, one scalar Erlang A search per voice interval, and each
  deferred interval's window of batches summed in Python), timed on every
  ``--baseline-every``-th row and extrapolated to all rows (the full loop
  would take minutes); its results are checked against the vectorised ones;
- the latency of one ``wfm erlang`` call as a new process (what a planner
  waits for at the shell) and in-process.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def load_workload(days: int):
    from wfm.config import load_scenario
    from wfm.io import read_history
    from wfm.sampledata import sample_scenario_path

    scen = load_scenario(sample_scenario_path())
    hist = read_history(scen.resolve(scen.data.history), scen)
    start = hist["timestamp"].max() - pd.Timedelta(days=days) + pd.Timedelta(minutes=15)
    fc = hist[hist["timestamp"] >= start].reset_index(drop=True)
    return scen, fc


def erlang_c_loop(traffic, aht, answer, target, max_occupancy):
    """Classic per-interval calculator: walk N up with the Erlang B recursion."""
    if traffic <= 0:
        return 0
    n = 0
    b = 1.0
    while True:
        n += 1
        b = traffic * b / (n + traffic * b)
        if n <= traffic or traffic / n > max_occupancy:
            continue
        c = n * b / (n - traffic * (1 - b))
        if 1 - c * math.exp(-(n - traffic) * answer / aht) >= target:
            return n


def baseline(scen, demand, rows, interval_minutes):
    """Per-interval loop over ``rows`` (positions in ``demand``); returns whole agents."""
    from wfm.staffing import channels, erlang_a

    from wfm.staffing import workable_mask

    out = {}
    interval_s = interval_minutes * 60.0
    by_channel = {name: g for name, g in demand.groupby("channel", sort=False)}
    masks = {name: workable_mask(pd.DatetimeIndex(g["timestamp"]), interval_minutes, scen, name)
             for name, g in by_channel.items()}
    for pos in rows:
        row = demand.iloc[pos]
        ch = scen.channel(row["channel"])
        occ = scen.max_occupancy_of(ch.name)
        if ch.kind == "deferred":
            # level policy, one interval at a time: add the share of every batch
            # whose window [j+1, j+d) covers this interval (work spread over the
            # workable intervals of its window)
            g = by_channel[ch.name]
            d = channels.deadline_intervals(ch.response_time_hours, interval_minutes)
            i = int(g["timestamp"].searchsorted(row["timestamp"]))
            vol = g["volume"].to_numpy()
            aht = g["aht_seconds"].to_numpy()
            mask = masks[ch.name]
            total = 0.0
            if mask[i]:
                for j in range(max(i - d + 1, 0), i):
                    count = int(mask[j + 1:j + d].sum())
                    if count:
                        total += vol[j] * aht[j] / count
            out[pos] = ("deferred", math.ceil(total / (interval_s * occ) - 1e-9))
            continue
        traffic = row["volume"] * row["aht_seconds"] / interval_s
        k = ch.concurrency if ch.kind == "concurrent" else 1
        if ch.patience_seconds is not None:
            n = erlang_a.required_agents(float(traffic), float(row["aht_seconds"]),
                                         ch.patience_seconds, ch.answer_seconds,
                                         ch.service_level_target, max_occupancy=occ).whole
        else:
            n = erlang_c_loop(traffic, row["aht_seconds"], ch.answer_seconds,
                              ch.service_level_target, occ)
        out[pos] = ("queue", math.ceil(n / k))
    return out


def time_cli(repeat: int) -> tuple[float, float]:
    exe = Path(sys.executable).with_name("wfm")
    cmd = ([str(exe)] if exe.exists() else [sys.executable, "-m", "wfm"]) + [
        "erlang", "--volume", "100", "--interval-minutes", "30", "--aht", "180",
        "--target", "0.8", "--answer-seconds", "20", "--json"]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    from wfm.cli.staffing_commands import erlang_calculation

    t = time.perf_counter()
    for _ in range(20):
        erlang_calculation(100, 30, 180, 0.8, 20)
    return statistics.median(times), (time.perf_counter() - t) / 20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-every", type=int, default=50)
    args = ap.parse_args()

    from wfm.staffing import prepare_demand, requirements

    scen, fc = load_workload(args.days)
    im = scen.site.interval_minutes
    requirements(fc.iloc[:2000], scen)            # warm imports and caches
    walls, cpus = [], []
    for _ in range(args.repeat):
        c, t = time.process_time(), time.perf_counter()
        req = requirements(fc, scen)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    n_out = len(req)
    print(f"workload: {args.days} days x {req['channel'].nunique()} staffed channels = "
          f"{n_out:,} requirement rows (from {len(fc):,} forecast rows, 15-min intervals)")
    print(f"vectorised requirements(): best wall {min(walls):.3f} s, "
          f"best CPU {min(cpus):.3f} s  ({n_out / min(walls):,.0f} intervals/s)")

    demand = prepare_demand(fc, scen)
    demand = demand.sort_values(["channel", "timestamp"], kind="stable").reset_index(drop=True)
    rows = np.arange(0, len(demand), args.baseline_every)
    t = time.perf_counter()
    base = baseline(scen, demand, rows, im)
    t_base = time.perf_counter() - t
    per_row = t_base / len(rows)
    est = per_row * len(demand)
    print(f"per-interval Python loop: {t_base:.2f} s for {len(rows):,} rows (every "
          f"{args.baseline_every}th) -> {est:.1f} s extrapolated to {len(demand):,} rows "
          f"({1 / per_row:,.0f} intervals/s)")
    print(f"speed-up of the vectorised stage: {est / min(walls):,.0f}x (wall)")

    key = req.set_index(["channel", "timestamp"])["agents_net_whole"]
    agree = {"queue": [0, 0], "deferred": [0, 0]}
    for pos, (kind, n) in base.items():
        row = demand.iloc[pos]
        agree[kind][1] += 1
        agree[kind][0] += int(key.loc[(row["channel"], row["timestamp"])]) == n
    print("baseline vs vectorised whole agents: "
          f"queue channels {agree['queue'][0]}/{agree['queue'][1]} rows agree, deferred "
          f"{agree['deferred'][0]}/{agree['deferred'][1]} (the loop leaves out work that "
          "waits for the next workable interval, e.g. social posts at night)")

    cli, inproc = time_cli(5)
    print(f"`wfm erlang` single call: {cli * 1000:.0f} ms as a new process (median of 5), "
          f"{inproc * 1000:.2f} ms in-process")


if __name__ == "__main__":
    main()
