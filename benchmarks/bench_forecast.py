"""Benchmark: forecast every channel of the sample center, backtested.

Run:  python benchmarks/bench_forecast.py [--origins 5] [--horizon-days 14]
                                          [--history-weeks N] [--scenario S]

On the sample data (two years of 15-minute history, 7 channels) this runs
:func:`wfm.forecast.run_forecast` with ``model="auto"``: per channel a
rolling-origin backtest (5 one-week evaluation origins plus the calibration
origins before them) of every model, the selection, and a 14-day forecast
with 80 % prediction intervals. It prints per channel:

- interval-level WAPE of each model and of ``auto`` (honest, nested
  selection: at each origin the model that was best on the earlier origins),
  and its MASE;
- the improvement of ``auto`` over the weekly seasonal naive baseline
  (1 - WAPE_auto / WAPE_naive, measured in the same run);
- the empirical coverage of the 80 % interval (interval and daily level);
- the wall time per channel and in total (fit + backtest + forecast).

Targets: improvement >= 20 % on every channel, coverage within 80 +- 5 %,
total under 60 s. The scenario's own ``history_weeks`` limit is lifted
unless ``--history-weeks`` is given, so all of the history is used.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from wfm.config import apply_overrides, load_scenario
from wfm.forecast import run_forecast
from wfm.forecast.models import CANDIDATES
from wfm.io import read_history
from wfm.sampledata import sample_scenario_path

SHORT = {"seasonal_naive": "naive", "seasonal_naive_avg": "naive_avg",
         "daily_profile": "daily_prof", "mstl": "mstl", "regression": "regress",
         "derived": "derived", "auto": "auto"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=None, help="scenario TOML (default: sample)")
    parser.add_argument("--origins", type=int, default=5, help="evaluation origins")
    parser.add_argument("--horizon-days", type=int, default=14, help="forecast days")
    parser.add_argument("--history-weeks", type=int, default=None,
                        help="use only the last N weeks (default: all)")
    args = parser.parse_args()

    path = args.scenario or sample_scenario_path()
    scenario = apply_overrides(load_scenario(path), {
        "forecast.backtest_origins": args.origins,
        "forecast.backtest_horizon_days": 7,
        "forecast.history_weeks": args.history_weeks,
        "forecast.model": "auto",
    })
    t0 = time.perf_counter()
    history = read_history(scenario.resolve(scenario.data.history), scenario)
    t_read = time.perf_counter() - t0
    days = history["timestamp"].dt.tz_localize(None).dt.normalize().nunique()
    print(f"sample: {path}")
    print(f"history: {len(history)} rows, {history['channel'].nunique()} channels, "
          f"{days} days, {scenario.site.interval_minutes}-minute intervals "
          f"(read + validate {t_read:.1f} s)")

    stamps: dict[str, float] = {}
    last = [time.perf_counter()]

    def progress(msg: str) -> None:
        now = time.perf_counter()
        name, _, rest = msg.partition(":")
        if rest.strip() != "forecasting":
            stamps[name] = now - last[0]
        last[0] = now
        print(f"  {msg}", file=sys.stderr)

    t0 = time.perf_counter()
    last[0] = t0
    res = run_forecast(history, scenario, horizon_days=args.horizon_days, model="auto",
                       backtest=True, progress=progress)
    total = time.perf_counter() - t0

    bt = res.backtest
    iv = bt[bt["level"] == "interval"]
    dl = bt[bt["level"] == "daily"]
    models = [m for m in (*CANDIDATES, "derived") if m in set(bt["model"])]
    head = (f"{'channel':<16}" + "".join(f"{SHORT[m]:>11}" for m in models)
            + f"{'auto':>8}{'MASE':>7}{'vs naive':>10}{'cov_int':>9}{'cov_day':>9}"
            + f"{'chosen':>20}{'time':>7}")
    print(f"\ninterval-level WAPE per model, {args.origins} one-week origins, "
          f"{args.horizon_days}-day forecast, 80 % intervals")
    print(head)
    print("-" * len(head))
    fails = []
    for ch in res.selection["channel"]:
        w = iv[iv["channel"] == ch].set_index("model")
        d = dl[dl["channel"] == ch].set_index("model")
        if w.empty:
            print(f"{ch:<16} no backtest")
            continue
        cells = "".join(f"{w['wape'].get(m, float('nan')):>11.3f}" for m in models)
        auto = w.loc["auto"]
        gain = 1.0 - auto["wape"] / w.loc["seasonal_naive", "wape"]
        chosen = res.selection.set_index("channel").loc[ch, "model"]
        print(f"{ch:<16}{cells}{auto['wape']:>8.3f}{auto['mase']:>7.3f}{gain:>10.1%}"
              f"{auto['coverage']:>9.1%}{d.loc['auto', 'coverage']:>9.1%}"
              f"{chosen:>20}{stamps.get(ch, float('nan')):>6.1f}s")
        if gain < 0.20:
            fails.append(f"{ch}: improvement {gain:.1%} < 20 %")
        if abs(auto["coverage"] - 0.8) > 0.05:
            fails.append(f"{ch}: interval coverage {auto['coverage']:.1%} outside 75-85 %")
    print("\ndaily-total WAPE per model")
    print(f"{'channel':<16}" + "".join(f"{SHORT[m]:>11}" for m in models) + f"{'auto':>8}")
    for ch in res.selection["channel"]:
        d = dl[dl["channel"] == ch].set_index("model")
        if not d.empty:
            print(f"{ch:<16}" + "".join(f"{d['wape'].get(m, float('nan')):>11.3f}"
                                        for m in models) + f"{d.loc['auto', 'wape']:>8.3f}")
    cov = iv[iv["model"] == "auto"]["coverage"]
    cov_d = dl[dl["model"] == "auto"]["coverage"]
    print(f"\nmean interval coverage (auto): {cov.mean():.1%} (nominal 80 %), "
          f"daily: {cov_d.mean():.1%}")
    print(f"total fit + {args.origins}-origin backtest + {args.horizon_days}-day forecast: "
          f"{total:.1f} s for {res.selection.shape[0]} channels (target < 60 s); "
          f"baseline read of the history {t_read:.1f} s")
    if total >= 60:
        fails.append(f"total time {total:.1f} s >= 60 s")
    pd.set_option("display.width", 200)
    print("\nselection:")
    for row in res.selection.itertuples(index=False):
        print(f"  {row.channel}: {row.model} - {row.reason}"
              + (f" [warning: {row.warning}]" if row.warning else ""))
    print("\ntargets: " + ("all met" if not fails else "MISSED: " + "; ".join(fails)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
