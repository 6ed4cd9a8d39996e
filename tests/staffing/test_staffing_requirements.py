"""The requirements stage and service_with_agents on small, hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wfm.config import Scenario
from wfm.errors import StaffingError
from wfm.timegrid import interval_grid
from wfm.staffing import (
    REQUIREMENT_COLUMNS,
    channels,
    erlang,
    erlang_a,
    requirements,
    service_with_agents,
)

TZ = "Europe/Berlin"


def scenario(**staffing) -> Scenario:
    return Scenario.model_validate({
        "site": {"timezone": TZ, "interval_minutes": 15},
        "staffing": {"shrinkage": 0.3, "max_occupancy": 0.85, **staffing},
        "channels": [
            {"name": "voice", "kind": "realtime", "aht_seconds": 300, "answer_seconds": 20,
             "service_level_target": 0.8, "patience_seconds": 90},
            {"name": "hotline", "kind": "realtime", "aht_seconds": 240,
             "service_level_target": 0.9, "answer_seconds": 30, "shrinkage": 0.4},
            {"name": "chat", "kind": "concurrent", "concurrency": 2, "aht_seconds": 600,
             "answer_seconds": 60},
            {"name": "email", "kind": "deferred", "aht_seconds": 420, "response_time_hours": 4},
            {"name": "chatbot", "kind": "concurrent", "aht_seconds": 150, "staffed": False},
            {"name": "handoff", "kind": "concurrent", "concurrency": 2, "aht_seconds": 480,
             "answer_seconds": 60, "derived_from": "chatbot", "derived_rate": 0.2},
        ],
    })


def forecast(day="2026-03-02", days=2, seed=1) -> pd.DataFrame:
    ts = interval_grid(day, days, TZ, 15)
    rng = np.random.default_rng(seed)
    hour = ts.hour.to_numpy()
    open_ = (hour >= 8) & (hour < 20)
    rows = []
    for name, level in (("voice", 40), ("hotline", 10), ("chat", 20), ("email", 15),
                        ("chatbot", 60)):
        vol = np.where(open_, rng.poisson(level, len(ts)), 0).astype(float)
        rows.append(pd.DataFrame({"timestamp": ts, "channel": name, "volume": vol,
                                  "aht_seconds": np.nan}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def req():
    return requirements(forecast(), scenario())


def test_frame_contract(req):
    assert list(req.columns) == REQUIREMENT_COLUMNS
    assert str(req["timestamp"].dt.tz) == TZ
    assert set(req["channel"]) == {"voice", "hotline", "chat", "email", "handoff"}
    assert not req.duplicated(["timestamp", "channel"]).any()
    assert req["timestamp"].is_monotonic_increasing
    assert req["agents_net_whole"].dtype == np.int64
    assert np.all(req["agents_net"] <= req["agents_net_whole"] + 1e-9)


def test_shrinkage_and_whole_numbers(req):
    shrink = req["channel"].map({"hotline": 0.4}).fillna(0.3).to_numpy()
    np.testing.assert_allclose(req["agents_required"], req["agents_net"] / (1 - shrink))
    expect = np.maximum(np.ceil(req["agents_required"] - 1e-9), req["agents_net_whole"])
    np.testing.assert_array_equal(req["agents_required_whole"], expect)


def test_realtime_matches_kernels(req):
    v = req[(req["channel"] == "hotline") & (req["volume"] > 0)]
    a = v["volume"].to_numpy() * 240 / 900
    r = erlang.required_agents(a, 240, 30, 0.9, max_occupancy=0.85)
    np.testing.assert_array_equal(v["agents_net_whole"], r.whole)
    np.testing.assert_allclose(v["agents_net"], r.fractional)
    np.testing.assert_allclose(v["service_level"], erlang.service_level(a, r.whole, 240, 30))
    assert np.all(v["service_level"] >= 0.9) and np.all(v["occupancy"] <= 0.85)
    # voice has a patience: Erlang A, with abandonment
    w = req[(req["channel"] == "voice") & (req["volume"] > 0)]
    a = w["volume"].to_numpy() * 300 / 900
    r = erlang_a.required_agents(a, 300, 90, 20, 0.8, max_occupancy=0.85)
    np.testing.assert_array_equal(w["agents_net_whole"], r.whole)
    assert np.all(w["abandonment"] > 0) and np.all(w["service_level"] >= 0.8)


def test_concurrent_and_derived(req, ):
    fc = forecast()
    bot = fc[fc["channel"] == "chatbot"].set_index("timestamp")["volume"]
    h = req[req["channel"] == "handoff"].set_index("timestamp")
    np.testing.assert_allclose(h["volume"], bot.loc[h.index] * 0.2)
    assert np.all(h["aht_seconds"] == 480)
    c = req[(req["channel"] == "chat") & (req["volume"] > 0)]
    a = c["volume"].to_numpy() * 600 / 900
    r = channels.queue_requirement(a, 600, 60, 0.8, concurrency=2, max_occupancy=0.85)
    np.testing.assert_array_equal(c["agents_net_whole"], r.whole)


def test_zero_volume_needs_nobody(req):
    z = req[(req["volume"] == 0) & (req["channel"] != "email")]
    assert np.all(z["agents_net"] == 0) and np.all(z["agents_required_whole"] == 0)
    assert np.all(z["service_level"] == 1.0)


def test_min_agents_floor():
    r = requirements(forecast(), scenario(min_agents=3))
    busy = r[(r["volume"] > 0) & (r["channel"] != "email")]
    assert busy["agents_net_whole"].min() >= 3 and busy["agents_net"].min() >= 3
    idle = r[(r["volume"] == 0) & (r["channel"] != "email")]
    assert idle["agents_net_whole"].max() == 0


def test_deferred_backlog_meets_every_deadline(req):
    e = req[req["channel"] == "email"]
    assert len(e) == 96 * 2                       # every interval, incl. nights
    assert np.all(e["service_level"] == 1.0)
    assert e["agents_net"].sum() * 900 * 0.85 == pytest.approx(
        (e["volume"] * e["aht_seconds"]).sum())
    # work arrives at 08:00 at the earliest and waits at most one interval
    assert e.loc[e["agents_net"] > 0, "timestamp"].dt.hour.min() >= 8
    jit = requirements(forecast(), scenario(), deferred_policy="jit")
    je = jit[jit["channel"] == "email"]
    assert je["agents_net"].max() >= e["agents_net"].max()
    assert np.all(je["service_level"] == 1.0)
    with pytest.raises(StaffingError, match="deferred_policy"):
        requirements(forecast(), scenario(), deferred_policy="asap")


def test_daylight_saving_days():
    for day, n in (("2025-03-30", 92), ("2025-10-26", 100)):
        fc = forecast(day, days=1)
        r = requirements(fc, scenario())
        v = r[r["channel"] == "voice"]
        assert len(v) == n
        assert v["timestamp"].diff().dropna().dt.total_seconds().eq(900).all()


def test_iso_text_timestamps():
    fc = forecast(days=1)
    text = fc.copy()
    text["timestamp"] = fc["timestamp"].map(lambda t: t.isoformat())
    a = requirements(fc, scenario())
    b = requirements(text, scenario())
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.parametrize("mutate,match", [
    (lambda f: f.assign(channel=f["channel"].replace("voice", "fax")), "not in the scenario"),
    (lambda f: f.assign(volume=f["volume"].where(f.index != 5, -1.0)), "row 5"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "duplicate"),
    (lambda f: f.assign(timestamp=f["timestamp"].dt.tz_localize(None)), "time zone"),
    (lambda f: f.drop(columns="volume"), "missing column"),
])
def test_bad_input(mutate, match):
    with pytest.raises(StaffingError, match=match):
        requirements(mutate(forecast(days=1)), scenario())


def test_service_with_agents_round_trip(req):
    s = scenario()
    svc = service_with_agents(req, req[["timestamp", "channel", "agents_net_whole"]].rename(
        columns={"agents_net_whole": "agents_net"}), s)
    merged = req.merge(svc, on=["timestamp", "channel"], suffixes=("", "_svc"))
    assert len(merged) == len(req)
    queue = merged["channel"] != "email"
    np.testing.assert_allclose(merged.loc[queue, "service_level_svc"],
                               merged.loc[queue, "service_level"], rtol=1e-12)
    em = merged[~queue]
    assert np.all(em["service_level_svc"].dropna() == 1.0)
    # fewer agents: worse service, and missing agent rows mean zero agents
    half = req[["timestamp", "channel"]].assign(agents_net=req["agents_net_whole"] * 0.5)
    dropped = half.index[(req["volume"] > 0) & (req["channel"] == "voice")][:5]
    worse = service_with_agents(req, half.drop(index=dropped), s)
    assert len(worse) == len(req)
    w = worse.merge(req, on=["timestamp", "channel"], suffixes=("", "_req"))
    busy = (w["volume"] > 0) & (w["channel"] != "email")
    assert np.all(w.loc[busy, "service_level"] <= w.loc[busy, "service_level_req"] + 1e-12)
    nobody = (worse["agents_net"] == 0) & (worse["volume"] > 0) & (worse["channel"] != "email")
    assert nobody.sum() >= 1 and worse.loc[nobody, "service_level"].eq(0).all()


def test_service_with_agents_fractional_and_forecast_input():
    s = scenario()
    fc = forecast(days=1)
    ts = fc["timestamp"].drop_duplicates().to_numpy()
    agents = pd.DataFrame({"timestamp": pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert(TZ)
                           if pd.DatetimeIndex(ts).tz is None else ts,
                           "channel": "handoff", "agents": 2.5})
    out = service_with_agents(fc, agents, s)
    h = out[out["channel"] == "handoff"]
    bot = fc[fc["channel"] == "chatbot"]["volume"].to_numpy()
    np.testing.assert_allclose(h["volume"], bot * 0.2)
    a = h["volume"].to_numpy() * 480 / 900
    np.testing.assert_allclose(h["service_level"], erlang.service_level(a, 5.0, 480, 60))
    assert "chatbot" not in set(out["channel"])
    with pytest.raises(StaffingError, match="agents_net"):
        service_with_agents(fc, agents.assign(agents=-1.0), s)
