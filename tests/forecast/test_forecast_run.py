"""run_forecast: frames, selection, fallbacks, derived channels, AHT."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from wfm.config import Scenario
from wfm.errors import ForecastError
from wfm.forecast import FORECAST_COLUMNS, run_forecast
from wfm.forecast.aht import AhtModel
from wfm.timegrid import interval_grid

from conftest import make_history, pattern


def scenario(**extra) -> Scenario:
    data = {"site": {"interval_minutes": 60, "country": "DE"},
            "channels": [{"name": "voice"}]}
    data.update(extra)
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def result():
    hist = make_history(weeks=20, seed=31)
    return run_forecast(hist, scenario(), horizon_days=14)


def test_forecast_frame_contract(result):
    f = result.forecast
    assert list(f.columns) == FORECAST_COLUMNS
    assert len(f) == 14 * 24
    assert str(f["timestamp"].dt.tz) == "Europe/Berlin"
    assert f["timestamp"].iloc[0] == pd.Timestamp("2025-05-26", tz="Europe/Berlin")
    assert (f["volume_lo"] <= f["volume"]).all() and (f["volume"] <= f["volume_hi"]).all()
    assert (f["volume_lo"] >= 0).all()
    assert f["aht_seconds"].eq(300.0).all()  # no AHT in the history: channel default
    closed = pattern(pd.DatetimeIndex(f["timestamp"])) == 0
    assert (f.loc[closed, ["volume", "volume_lo", "volume_hi"]] == 0).all().all()


def test_backtest_and_selection(result):
    bt = result.backtest
    assert set(bt["level"]) == {"interval", "daily"}
    assert {"seasonal_naive", "daily_profile", "mstl", "regression", "auto"} <= set(bt["model"])
    assert (bt["n_origins"] == 5).all()
    sel = result.selection.iloc[0]
    wapes = bt[(bt.level == "interval") & (bt.model != "auto")].set_index("model")["wape"]
    # auto picks the lowest backtest WAPE and says so
    assert sel["model"] == wapes.idxmin()
    assert "lowest backtest WAPE" in sel["reason"]
    assert sel["wape"] < sel["naive_wape"]
    # on Poisson noise around a fixed pattern the best model clearly beats the naive
    assert wapes.min() < 0.85 * wapes["seasonal_naive"]


def test_without_scenario_interval_and_channels_are_inferred():
    a = make_history(weeks=8, interval=30, seed=33, channel="calls")
    b = make_history(weeks=8, interval=30, seed=34, channel="mails", closed_sunday=False)
    res = run_forecast(pd.concat([a, b], ignore_index=True), None, horizon_days=2)
    assert sorted(res.forecast["channel"].unique()) == ["calls", "mails"]
    assert len(res.forecast) == 2 * 2 * 48
    diffs = res.forecast["timestamp"].drop_duplicates().diff().dropna().unique()
    assert list(diffs) == [pd.Timedelta(minutes=30)]


def test_short_history_falls_back_with_warning():
    hist = make_history(weeks=2, seed=35)  # 14 days: no room for a backtest
    res = run_forecast(hist, scenario(), horizon_days=7)
    sel = res.selection.iloc[0]
    assert sel["model"] == "seasonal_naive_avg"
    assert "short history" in sel["warning"]
    assert res.backtest.empty
    assert res.forecast["volume"].sum() > 0


def test_too_short_history_is_an_error():
    hist = make_history(weeks=1, seed=36).iloc[: 24 * 4]
    with pytest.raises(ForecastError, match="at least 7 days"):
        run_forecast(hist, scenario(), horizon_days=7)


def test_unknown_model_and_bad_frame():
    hist = make_history(weeks=6)
    with pytest.raises(ForecastError, match="expected one of"):
        run_forecast(hist, scenario(), model="arima")
    with pytest.raises(ForecastError, match="missing column"):
        run_forecast(hist.drop(columns="volume"), scenario())
    bad = hist.copy()
    bad.loc[5, "volume"] = -1.0
    with pytest.raises(ForecastError, match="row 5") as err:
        run_forecast(bad, scenario())
    assert "found -1.0" in str(err.value) and hist["channel"].iloc[5] in str(err.value)
    bad.loc[[7, 9], "volume"] = np.nan
    with pytest.raises(ForecastError, match="row 5") as err:
        run_forecast(bad, scenario())
    assert "(3 rows in all)" in str(err.value)
    bad.loc[5, "volume"] = 1.0
    with pytest.raises(ForecastError, match=r"row 7 .*found nothing \(empty\) \(2 rows in all\)"):
        run_forecast(bad, scenario())


def test_requested_model_is_used():
    hist = make_history(weeks=12, seed=37)
    res = run_forecast(hist, scenario(), horizon_days=3, model="seasonal_naive")
    assert set(res.forecast["model"]) == {"seasonal_naive"}
    assert res.selection.iloc[0]["reason"] == "requested"
    res = run_forecast(hist, scenario(), horizon_days=3, model="mstl")
    assert set(res.backtest["model"]) == {"seasonal_naive", "mstl"}  # with the baseline


def derived_history(weeks=16, rate=0.2, seed=41, with_handoff=True):
    rng = np.random.default_rng(seed)
    bot = make_history(weeks=weeks, level=40.0, seed=seed, channel="chatbot",
                       closed_sunday=False, open_hours=(0, 24))
    frames = [bot]
    if with_handoff:
        hand = bot.assign(channel="chatbot_handoff",
                          volume=rng.binomial(bot["volume"].astype(int), rate).astype(float))
        frames.append(hand)
    return pd.concat(frames, ignore_index=True)


def derived_scenario():
    return scenario(channels=[
        {"name": "chatbot", "kind": "concurrent", "concurrency": 20, "staffed": False},
        {"name": "chatbot_handoff", "kind": "concurrent", "derived_from": "chatbot",
         "derived_rate": 0.25}])


def test_derived_channel_is_backtested_against_direct():
    res = run_forecast(derived_history(), derived_scenario(), horizon_days=7)
    bt = res.backtest
    assert "derived" in set(bt[bt.channel == "chatbot_handoff"]["model"])
    assert "derived" not in set(bt[bt.channel == "chatbot"]["model"])
    # the unstaffed source channel is forecast too
    f = res.forecast
    assert set(f["channel"]) == {"chatbot", "chatbot_handoff"}
    ratio = (f[f.channel == "chatbot_handoff"]["volume"].sum()
             / f[f.channel == "chatbot"]["volume"].sum())
    assert ratio == pytest.approx(0.2, rel=0.05)


def test_derived_channel_without_history_uses_scenario_rate():
    res = run_forecast(derived_history(with_handoff=False), derived_scenario(),
                       horizon_days=7)
    f = res.forecast
    np.testing.assert_allclose(f[f.channel == "chatbot_handoff"]["volume"].to_numpy(),
                               0.25 * f[f.channel == "chatbot"]["volume"].to_numpy())
    sel = res.selection.set_index("channel").loc["chatbot_handoff"]
    assert sel["model"] == "derived" and "no history" in sel["warning"]


def test_public_holiday_from_site_country():
    # closed on every public holiday of the history; 2025-06-09 (Whit Monday)
    # is in the horizon and forecast as (almost) nothing
    hist = make_history(start="2024-06-03", weeks=53, seed=43)
    day = hist["timestamp"].dt.tz_localize(None).dt.date
    import holidays

    de = holidays.country_holidays("DE", years=[2024, 2025])
    hist.loc[day.isin(list(de)).to_numpy(), "volume"] = 0.0
    res = run_forecast(hist, scenario(), horizon_days=14)
    f = res.forecast
    fday = f["timestamp"].dt.tz_localize(None).dt.date
    assert f.loc[fday == dt.date(2025, 6, 9), "volume"].sum() < 0.05 * \
        f.loc[fday == dt.date(2025, 6, 10), "volume"].sum()
    without = run_forecast(hist, scenario(site={"interval_minutes": 60, "country": None}),
                           horizon_days=14, model="daily_profile")
    g = without.forecast
    assert g.loc[fday == dt.date(2025, 6, 9), "volume"].sum() > 0.5 * \
        g.loc[fday == dt.date(2025, 6, 10), "volume"].sum()


def test_aht_is_volume_weighted_and_ignores_empty_intervals():
    grid = interval_grid(dt.date(2025, 1, 6), 28, "Europe/Berlin", 60)
    hour = grid.hour.to_numpy()
    vol = np.where(hour >= 8, 10.0, 0.0)
    vol[hour == 8] = 1.0
    aht = np.where(vol > 0, 200.0, np.nan)
    aht[hour == 8] = 2000.0          # one long contact in a thin interval
    aht[(hour < 8)] = 9999.0         # garbage where there are no contacts: ignored
    vol_nan = vol.copy()
    model = AhtModel(300.0).fit(grid, vol_nan, aht, 60)
    fut = interval_grid(dt.date(2025, 2, 3), 1, "Europe/Berlin", 60)
    pred = model.predict(fut)
    assert np.all(np.isfinite(pred))
    assert pred[14] == pytest.approx(200.0, rel=0.01)   # far from the thin interval
    assert pred[3] < 2000.0                              # no contacts at 3 am: no 9999
    assert 200.0 < pred[8] < 2000.0                      # shrunk toward the day's mean


def test_history_without_closed_intervals_gives_the_same_forecast():
    # ACD exports leave out intervals without contacts (closed nights, Sundays):
    # missing rows count as 0, so the forecast is the same as from the full file
    hist = make_history(weeks=12, seed=61)
    sparse = hist[hist["volume"] > 0]
    # the export ends on Saturday evening (Sunday is closed): say where the horizon starts
    sc = scenario(horizon={"start": "2025-03-31"})
    full = run_forecast(hist, sc, horizon_days=7, model="daily_profile")
    thin = run_forecast(sparse, sc, horizon_days=7, model="daily_profile")
    pd.testing.assert_frame_equal(full.forecast, thin.forecast)
    assert "missing from the history taken as 0" in thin.selection.iloc[0]["warning"]


def test_horizon_start_after_a_gap_and_before_the_end():
    hist = make_history(weeks=12, seed=62)  # ends Sunday 2025-03-30
    later = run_forecast(hist, scenario(horizon={"start": "2025-04-21"}), horizon_days=2,
                         model="daily_profile")
    assert later.forecast["timestamp"].iloc[0] == pd.Timestamp("2025-04-21",
                                                               tz="Europe/Berlin")
    assert "lead time" in later.selection.iloc[0]["warning"]
    assert later.forecast["volume"].sum() > 0
    earlier = run_forecast(hist, scenario(horizon={"start": "2025-03-17"}), horizon_days=2,
                           model="daily_profile")
    assert "not used" in earlier.selection.iloc[0]["warning"]
    assert earlier.forecast["timestamp"].iloc[0] == pd.Timestamp("2025-03-17",
                                                                 tz="Europe/Berlin")


def test_ensemble_of_the_two_best_and_run_backtest():
    from wfm.forecast import run_backtest

    hist = make_history(weeks=16, seed=63)
    res = run_forecast(hist, scenario(forecast={"ensemble": True}), horizon_days=2)
    label = res.selection.iloc[0]["model"]
    assert label.startswith("ensemble(") and label.count("+") == 1
    bt = run_backtest(hist, scenario(forecast={"backtest_origins": 3}))
    assert set(bt["n_origins"]) == {3}
    assert {"interval", "daily"} == set(bt["level"])
