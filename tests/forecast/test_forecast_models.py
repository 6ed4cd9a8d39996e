"""Each model on synthetic series with known structure."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from wfm.config import SpecialDay
from wfm.errors import ForecastError
from wfm.forecast.calendar import Calendar
from wfm.forecast.models import CANDIDATES, MODEL_NAMES, make_model
from wfm.forecast.series import build_series
from wfm.timegrid import interval_grid

from conftest import make_history, pattern

TZ = "Europe/Berlin"


def fit(name, hist, calendar=None, interval=60):
    s = build_series("voice", pd.DatetimeIndex(hist["timestamp"]),
                     hist["volume"].to_numpy(float), interval, calendar)
    return make_model(name).fit(s)


def future(start: str, days: int, interval: int = 60) -> pd.DatetimeIndex:
    return interval_grid(pd.Timestamp(start).date(), days, TZ, interval)


@pytest.mark.parametrize("name", CANDIDATES)
def test_pure_pattern_recovered(name):
    # noise-free daily x weekly pattern: every model must reproduce it closely
    hist = make_history(weeks=14, noise=False)
    model = fit(name, hist)
    grid = future("2025-04-14", 14)
    pred = model.predict(grid)
    truth = pattern(grid)
    err = np.abs(pred.mean - truth).sum() / truth.sum()
    tol = 1e-3  # a decomposition is exact up to LOESS rounding
    assert err < tol, f"{name}: WAPE {err:.4f} on a pure pattern"


@pytest.mark.parametrize("name", ["seasonal_naive_avg", "daily_profile", "regression"])
def test_poisson_pattern_close_to_truth(name):
    # with Poisson noise the forecast is close to the expected volume, much
    # closer than the noisy data is to it (averaging over weeks)
    hist = make_history(weeks=16, level=30.0, seed=3)
    model = fit(name, hist)
    grid = future("2025-04-28", 7)
    truth = pattern(grid, 30.0)
    err = np.abs(model.predict(grid).mean - truth).sum() / truth.sum()
    assert err < 0.08, f"{name}: WAPE vs truth {err:.3f}"


def test_seasonal_naive_is_last_week_exactly():
    hist = make_history(weeks=3, seed=5)
    model = fit("seasonal_naive", hist)
    grid = future("2025-01-27", 7)
    last_week = hist["volume"].to_numpy()[-7 * 24:]
    np.testing.assert_array_equal(model.predict(grid).mean, last_week)


@pytest.mark.parametrize("name", CANDIDATES)
def test_structural_zeros_stay_zero(name):
    # nights and Sundays are closed in every week of the history
    hist = make_history(weeks=14, seed=7)
    model = fit(name, hist)
    grid = future("2025-04-14", 14)
    pred = model.predict(grid)
    closed = pattern(grid) == 0
    assert closed.sum() > 0
    assert np.all(pred.mean[closed] == 0.0)
    assert np.all(pred.lo[closed] == 0.0) and np.all(pred.hi[closed] == 0.0)
    assert np.all(pred.mean[~closed] > 0.0)


@pytest.mark.parametrize("name", CANDIDATES)
def test_dst_days_have_92_and_100_intervals(name):
    # 15-minute history across the spring change, forecast across the autumn one
    hist = make_history(start="2025-01-06", weeks=11, interval=15, seed=9,
                        closed_sunday=False, open_hours=(0, 24))
    s = build_series("voice", pd.DatetimeIndex(hist["timestamp"]),
                     hist["volume"].to_numpy(float), 15)
    assert s.Y.shape[1] == 96
    model = make_model(name).fit(s)
    spring = future("2025-03-30", 1, 15)
    autumn = future("2025-10-26", 1, 15)
    assert len(spring) == 92 and len(autumn) == 100
    for grid in (spring, autumn):
        pred = model.predict(grid)
        assert pred.mean.shape == (len(grid),)
        assert np.all(np.isfinite(pred.mean)) and np.all(pred.mean > 0)
        assert np.all(pred.lo <= pred.mean) and np.all(pred.mean <= pred.hi)
    # the repeated hour 02:00-02:59 of the 25-hour day gets the same value twice
    a = model.predict(autumn).mean
    local = autumn.tz_localize(None)
    two = np.flatnonzero(local.hour == 2)
    assert two.size == 8
    np.testing.assert_allclose(a[two[:4]], a[two[4:]])


@pytest.mark.parametrize("start, extra", [("2025-10-20", 4), ("2025-03-24", -4)])
def test_history_across_dst_keeps_every_interval(start, extra):
    # a 25-hour (23-hour) day in the history: every real interval is kept, the
    # day x slot matrix has 96 slots a day, and a model fits and predicts
    grid = interval_grid(pd.Timestamp(start).date(), 21, TZ, 15)
    vol = 1.0 + np.arange(len(grid), dtype=float) % 7
    s = build_series("x", grid, vol, 15)
    assert len(grid) == 21 * 96 + extra
    assert s.grid_volume.sum() == vol.sum()
    assert s.n_missing == 0
    assert s.Y.shape == (21, 96) and np.all(np.isfinite(s.Y)) and np.all(s.Y > 0)
    pred = make_model("daily_profile").fit(s).predict(
        interval_grid(s.end.astype(object), 7, TZ, 15))
    assert np.all(np.isfinite(pred.mean)) and np.all(pred.mean > 0)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ForecastError) as err:
        make_model("prophet")
    for name in MODEL_NAMES:
        assert name in str(err.value)


@pytest.mark.parametrize("name", ["daily_profile", "regression", "mstl"])
def test_too_short_history_is_a_clear_error(name):
    hist = make_history(weeks=1)
    with pytest.raises(ForecastError, match="needs at least"):
        fit(name, hist)


def test_learned_holiday_closure():
    # the channel is closed on every public holiday of the history: a future
    # holiday is forecast as 0 by the holiday-aware models
    cal = Calendar("DE")
    hist = make_history(start="2024-01-01", weeks=60, seed=11)
    day = hist["timestamp"].dt.tz_localize(None).dt.date
    hol = day.isin(list(cal.public_holidays(dt.date(2024, 1, 1), dt.date(2025, 3, 1))))
    hist.loc[hol.to_numpy(), "volume"] = 0.0
    for name in ("daily_profile", "regression", "mstl"):
        model = fit(name, hist, cal)
        # Good Friday 2025-04-18 and Easter Monday 2025-04-21 are public holidays
        grid = future("2025-04-17", 5)
        mean = model.predict(grid).mean
        days = grid.tz_localize(None).normalize()
        on_hol = np.isin(days, pd.to_datetime(["2025-04-18", "2025-04-21"]))
        assert mean[on_hol].sum() < 0.05 * mean[~on_hol].sum(), name


def test_special_days_multiplier_and_closed():
    specials = [SpecialDay(date=dt.date(2025, 4, 15), multiplier=1.5),
                SpecialDay(date=dt.date(2025, 4, 16), closed=True, channels=["voice"]),
                SpecialDay(date=dt.date(2025, 4, 17), closed=True, channels=["chat"])]
    hist = make_history(weeks=14, noise=False)
    plain = fit("daily_profile", hist)
    special = fit("daily_profile", hist, Calendar(None, None, specials))
    grid = future("2025-04-14", 4)
    a, b = plain.predict(grid).mean, special.predict(grid).mean
    day = grid.tz_localize(None).day.to_numpy()
    np.testing.assert_allclose(b[day == 14], a[day == 14])
    np.testing.assert_allclose(b[day == 15], 1.5 * a[day == 15])
    assert np.all(b[day == 16] == 0.0)
    np.testing.assert_allclose(b[day == 17], a[day == 17])  # other channel's closure


def test_level_shift_is_followed():
    # volume doubles 3 weeks before the end: the daily models follow it
    hist = make_history(weeks=16, level=20.0, seed=13)
    ts = hist["timestamp"]
    shift = (ts >= ts.iloc[-1] - pd.Timedelta(days=21)).to_numpy()
    hist.loc[shift, "volume"] = np.random.default_rng(14).poisson(
        2.0 * pattern(pd.DatetimeIndex(ts[shift]), 20.0))
    model = fit("daily_profile", hist)
    grid = future("2025-04-28", 7)
    ratio = model.predict(grid).mean.sum() / pattern(grid, 40.0).sum()
    assert 0.85 < ratio < 1.15


def test_fit_from_timestamps_and_volume():
    hist = make_history(weeks=6, noise=False)
    model = make_model("seasonal_naive_avg").fit(hist["timestamp"], hist["volume"])
    grid = future("2025-02-17", 7)
    np.testing.assert_allclose(model.predict(grid).mean, pattern(grid))


def test_predict_before_history_end_is_an_error():
    model = fit("seasonal_naive", make_history(weeks=2))
    with pytest.raises(ForecastError, match="cannot forecast"):
        model.predict(future("2025-01-10", 1))
