"""Rolling-origin backtest: metrics, no peeking, honest interval coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wfm.forecast.backtest import (ChannelBacktest, bias, mase, rolling_origins, run_origins,
                                   wape)
from wfm.forecast.intervals import calibrate, coverage
from wfm.forecast.series import build_series

from conftest import make_history


def series_of(hist, interval=60):
    return build_series("voice", pd.DatetimeIndex(hist["timestamp"]),
                        hist["volume"].to_numpy(float), interval)


def test_metric_definitions():
    a = np.array([10.0, 20.0, 0.0, 10.0])
    p = np.array([12.0, 15.0, 1.0, 10.0])
    # |e| = 2 + 5 + 1 + 0 = 8, sum y = 40, sum(p - y) = -2
    assert wape(a, p) == pytest.approx(8 / 40)
    assert bias(a, p) == pytest.approx(-2 / 40)
    assert mase(a, p, scale=4.0) == pytest.approx((8 / 4) / 4.0)
    assert np.isnan(wape(np.zeros(3), np.ones(3)))
    lo, hi = p - 1.5, p + 1.5
    # inside: 12+-1.5 no (10), 15+-1.5 no, 1+-1.5 yes (0), 10 yes -> 2 of 4
    assert coverage(a, lo, hi) == pytest.approx(0.5)
    # a structural zero with actual 0 is not counted, one with a contact is a miss
    st = np.array([False, False, True, False])
    assert coverage(a, lo, hi, st) == pytest.approx(1 / 3)


def test_origins_are_weekly_and_leave_four_weeks():
    s = series_of(make_history(weeks=8))
    o = rolling_origins(s, 10, 7)
    assert len(o) == 4  # 56 days: origins at 28, 35, 42, 49
    assert o[-1] == s.end - np.timedelta64(7, "D")
    assert all((b - a).astype(int) == 7 for a, b in zip(o, o[1:]))
    assert (o[0] - s.dates[0]).astype(int) >= 28


@pytest.mark.parametrize("name", ["seasonal_naive_avg", "daily_profile", "mstl",
                                  "regression"])
def test_backtest_does_not_peek(name):
    # the same history up to the last origin, then wildly different: every
    # forecast made at that origin must be identical
    hist = make_history(weeks=14, seed=21)
    s1 = series_of(hist)
    origin = s1.end - np.timedelta64(7, "D")
    changed = hist.copy()
    after = (changed["timestamp"].dt.tz_localize(None) >= pd.Timestamp(str(origin))).to_numpy()
    changed.loc[after, "volume"] = changed.loc[after, "volume"] * 50 + 7
    s2 = series_of(changed)
    r1, _ = run_origins(s1, name, [origin], 7)
    r2, _ = run_origins(s2, name, [origin], 7)
    np.testing.assert_array_equal(r1[0].F, r2[0].F)
    assert not np.array_equal(r1[0].actual, r2[0].actual)


def test_interval_calibration_uses_only_earlier_origins():
    # make the last window wildly different: the interval at the last origin
    # must not change, because its calibration residuals come from before it
    hist = make_history(weeks=14, seed=23)
    s1 = series_of(hist)
    last = s1.end - np.timedelta64(7, "D")
    changed = hist.copy()
    after = (changed["timestamp"].dt.tz_localize(None) >= pd.Timestamp(str(last))).to_numpy()
    changed.loc[after, "volume"] = changed.loc[after, "volume"] * 3
    cals = []
    for s in (s1, series_of(changed)):
        origins = rolling_origins(s, 6, 7)
        cb = ChannelBacktest(s, origins, 2, 7)
        cb.runs["daily_profile"], _ = run_origins(s, "daily_profile", origins, 7)
        cals.append(cb.calibration(("daily_profile",), len(origins) - 1))
    assert cals[0] == cals[1]


def test_poisson_interval_coverage_near_nominal():
    # a stationary Poisson series: the calibrated 80 % interval covers 75-85 %
    hist = make_history(weeks=24, level=15.0, seed=25, closed_sunday=False,
                        open_hours=(0, 24))
    s = series_of(hist)
    origins = rolling_origins(s, 13, 7)
    cb = ChannelBacktest(s, origins, 5, 7, level=0.8)
    cb.runs["daily_profile"], _ = run_origins(s, "daily_profile", origins, 7)
    rows = {r["level"]: r for r in cb.metrics(("daily_profile",)) if r["model"] == "auto"}
    assert 0.75 <= rows["interval"]["coverage"] <= 0.85
    assert rows["interval"]["n_origins"] == 5


def test_calibrate_on_overdispersed_counts():
    rng = np.random.default_rng(4)
    mean = rng.uniform(0.5, 60, 20000)
    # negative binomial: Var = m + 0.05 m^2
    y = rng.poisson(mean * rng.gamma(20.0, 1 / 20.0, mean.size))
    cal = calibrate(y[:10000], mean[:10000], 0.8)
    assert cal.phi == pytest.approx(0.05, abs=0.015)
    lo, hi = cal.bounds(mean[10000:])
    assert 0.77 < coverage(y[10000:], lo, hi) < 0.83
