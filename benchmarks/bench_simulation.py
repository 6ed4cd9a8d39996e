"""Benchmark: simulate one week of the sample center (~120 agents, all channels).

Usage::

    python benchmarks/bench_simulation.py                 # synthetic schedule
    python benchmarks/bench_simulation.py --plan plan_out # a 'wfm plan' folder

Without ``--plan`` the demand is the last week of the sample history and the
schedule a synthetic one: every roster agent works five 8-hour days with a
30-minute break, starts staggered over the day, and splits each interval
across their skills in proportion to the channels' workload. With ``--plan``
the folder's ``requirements.csv``, ``shifts.csv`` and ``assignments.csv``
are used. Prints the wall-clock time of 10 replications (target: < 60 s),
the time of one replication as the baseline, contacts per second, and the
pooled vs dedicated service level (the multi-skill pooling gain).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from wfm import io as wio
from wfm.config import load_scenario
from wfm.coverage import pooling_gain, simulate
from wfm.sampledata import sample_scenario_path


def synthetic_week(scenario, history: pd.DataFrame, roster: pd.DataFrame):
    """Demand (last week of history) and a simple 120-agent schedule over it."""
    tz = scenario.site.timezone
    last = history["timestamp"].max().tz_localize(None).normalize()
    start = (last - pd.Timedelta(days=6)).tz_localize(tz)
    staffed = [c.name for c in scenario.staffed_channels]
    dem = history[(history["timestamp"] >= start) & history["channel"].isin(staffed)].copy()
    ch = {c.name: c for c in scenario.channels}
    dem["aht_seconds"] = dem["aht_seconds"].fillna(dem["channel"].map(
        {n: c.aht_seconds for n, c in ch.items()}))
    dem["workload"] = dem["volume"] * dem["aht_seconds"] / dem["channel"].map(
        {n: c.concurrency for n, c in ch.items()})
    work = dem.pivot_table(index="timestamp", columns="channel", values="workload",
                           aggfunc="sum").fillna(0.0)
    ts = work.index
    rows = []
    skills = [s.split(";") for s in roster["skills"]]
    offsets = np.arange(0, 16) * 30  # starts 06:30 .. 14:00
    for i, (aid, sk) in enumerate(zip(roster["agent_id"], skills)):
        off_days = {i % 7, (i + 3) % 7}
        begin = pd.Timedelta(minutes=390 + int(offsets[i % len(offsets)]))
        for d in range(7):
            if d in off_days:
                continue
            day = (start.tz_localize(None) + pd.Timedelta(days=d))
            s = (day + begin).tz_localize(tz)
            e = s + pd.Timedelta(hours=8)
            b0 = s + pd.Timedelta(hours=4)
            on = (ts >= s) & (ts < e) & ~((ts >= b0) & (ts < b0 + pd.Timedelta(minutes=30)))
            w = work.loc[on, [c for c in sk if c in work.columns]]
            tot = w.sum(axis=1).to_numpy()
            frac = np.where(tot[:, None] > 0, w.to_numpy() / np.where(tot > 0, tot, 1)[:, None],
                            1.0 / w.shape[1])
            for j, c in enumerate(w.columns):
                keep = frac[:, j] > 0
                rows.append(pd.DataFrame({"timestamp": w.index[keep], "agent_id": aid,
                                          "channel": c, "fraction": frac[keep, j]}))
    asg = pd.concat(rows, ignore_index=True)
    return dem.drop(columns="workload"), asg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, help="a 'wfm plan' output folder")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--no-pooling", action="store_true", help="skip the pooling-gain run")
    args = ap.parse_args(argv)

    sc = load_scenario(sample_scenario_path())
    roster = wio.read_roster(sc.resolve(sc.agents.file), sc)
    if args.plan:
        dem = wio.read_frame(args.plan / "requirements.csv", "requirements", sc)
        asg = wio.read_frame(args.plan / "assignments.csv", "assignments", sc)
        shifts = wio.read_frame(args.plan / "shifts.csv", "shifts", sc)
        source = f"plan folder {args.plan}"
    else:
        hist = wio.read_history(sc.resolve(sc.data.history), sc)
        dem, asg = synthetic_week(sc, hist, roster)
        shifts = None
        source = "last week of the sample history, synthetic schedule"
    n_agents = asg["agent_id"].nunique()
    print(f"input: {source}; {n_agents} agents, {dem['volume'].sum():,.0f} contacts, "
          f"{dem['timestamp'].nunique()} intervals, {len(asg):,} assignment rows")

    t = time.perf_counter()
    one = simulate(dem, shifts, asg, roster, sc, replications=1, seed=1)
    t1 = time.perf_counter() - t
    t = time.perf_counter()
    res = simulate(dem, shifts, asg, roster, sc, replications=args.replications, seed=0)
    tr = time.perf_counter() - t
    contacts = res.per_replication["offered"].sum()
    print(f"baseline, 1 replication:          {t1:6.2f} s")
    print(f"week x {args.replications} replications:        {tr:6.2f} s "
          f"(target < 60 s: {tr / 60:.0%} of budget; {tr / t1:.1f}x the baseline)")
    print(f"throughput:                       {contacts / tr:,.0f} contacts/s")
    print(res.per_channel[["channel", "offered", "service_level", "service_level_lo",
                           "service_level_hi", "asa_seconds", "abandonment"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    del one
    if not args.no_pooling:
        t = time.perf_counter()
        g = pooling_gain(dem, asg, roster, sc, replications=args.replications, seed=0)
        print(f"pooling gain (pooled minus dedicated routing, {time.perf_counter() - t:.1f} s):")
        print(g[["channel", "service_level_dedicated", "service_level_pooled", "gain",
                 "gain_lo", "gain_hi"]].to_string(index=False,
                                                   float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
