"""Coverage frame, KPIs and worst gaps on tiny hand-checked frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import wfm.staffing
from wfm.config import Scenario
from wfm.coverage import COVERAGE_COLUMNS, KPI_COLUMNS, coverage, kpis, worst_gaps
from wfm.errors import DataValidationError

TZ = "Europe/Berlin"


def _scenario() -> Scenario:
    return Scenario.model_validate({
        "staffing": {"shrinkage": 0.3},
        "channels": [
            {"name": "voice", "kind": "realtime", "shrinkage": 0.2,
             "service_level_target": 0.8},
            {"name": "email", "kind": "deferred", "service_level_target": 0.2},
        ],
    })


def _ts(i: int) -> pd.Timestamp:
    return pd.Timestamp("2026-11-16 08:00", tz=TZ) + pd.Timedelta(minutes=15 * i)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    req = pd.DataFrame({
        "timestamp": [_ts(0), _ts(0), _ts(1), _ts(1)],
        "channel": ["voice", "email", "voice", "email"],
        "volume": [10.0, 5.0, 20.0, 0.0],
        "aht_seconds": [300.0, 600.0, 300.0, 600.0],
        "agents_required": [4.0, 1.0, 6.0, 0.0],
    })
    asg = pd.DataFrame({
        "timestamp": [_ts(0), _ts(0), _ts(0), _ts(0), _ts(1), _ts(2)],
        "agent_id": ["a1", "a2", "a2", "a3", "a1", "a1"],
        "channel": ["voice", "voice", "email", "voice", "voice", "voice"],
        "fraction": [1.0, 0.5, 0.5, 1.0, 1.0, 1.0],
    })
    return req, asg


def _fake_service(calls: list):
    """A stand-in service model with simple closed forms, to check the plumbing."""

    def service_with_agents(demand_df, agents_df, scenario):
        calls.append((demand_df.copy(), agents_df.copy()))
        n = agents_df["agents_net"].to_numpy(float)
        out = demand_df[["timestamp", "channel"]].copy()
        # returned in reverse order: coverage must align by key, not position
        out["service_level"] = n / (n + 1.0)
        out["asa_seconds"] = 10.0 / (n + 0.5)
        out["occupancy"] = 0.5
        out["abandonment"] = 0.0
        return out.iloc[::-1].reset_index(drop=True)

    return service_with_agents


@pytest.fixture
def fake_service(monkeypatch):
    calls: list = []
    monkeypatch.setattr(wfm.staffing, "service_with_agents", _fake_service(calls),
                        raising=False)
    return calls


def test_coverage_joins_gaps_and_net_agents(fake_service):
    req, asg = _frames()
    cov = coverage(req, asg, _scenario())
    assert list(cov.columns[:6]) == COVERAGE_COLUMNS
    assert len(cov) == 5  # 4 requirement rows + 1 scheduled row without requirement
    got = cov.set_index([cov["timestamp"], cov["channel"]])
    # hand-checked: scheduled = sum of fractions; net = scheduled * (1 - shrinkage)
    exp = {
        (_ts(0), "voice"): (4.0, 2.5, -1.5, 2.0, False),
        (_ts(0), "email"): (1.0, 0.5, -0.5, 0.35, False),
        (_ts(1), "voice"): (6.0, 1.0, -5.0, 0.8, False),
        (_ts(1), "email"): (0.0, 0.0, 0.0, 0.0, False),   # nobody scheduled: zero-filled
        (_ts(2), "voice"): (0.0, 1.0, 1.0, 0.8, True),    # no requirement row: flagged
    }
    for key, (required, scheduled, gap, net, missing) in exp.items():
        row = got.loc[key]
        assert row["required"] == pytest.approx(required)
        assert row["scheduled"] == pytest.approx(scheduled)
        assert row["gap"] == pytest.approx(gap)
        assert row["agents_net"] == pytest.approx(net)
        assert bool(row["requirement_missing"]) is missing
        if missing:
            assert math.isnan(row["service_level"])
        else:
            assert row["service_level"] == pytest.approx(net / (net + 1.0))
    # the service model saw only rows with a requirement, with NET agents
    (demand, agents), = fake_service
    assert len(demand) == 4
    assert sorted(agents["agents_net"].round(6)) == [0.0, 0.35, 0.8, 2.0]
    assert str(cov["timestamp"].dt.tz) == TZ


def test_kpis_hand_checked(fake_service):
    req, asg = _frames()
    sc = _scenario()
    cov = coverage(req, asg, sc)
    k = kpis(cov, req, sc).set_index("channel")
    assert list(k.reset_index().columns) == KPI_COLUMNS
    sl_v0, sl_v1, sl_e0 = 2.0 / 3.0, 0.8 / 1.8, 0.35 / 1.35
    assert k.loc["voice", "volume"] == 30.0
    assert k.loc["voice", "service_level"] == pytest.approx((10 * sl_v0 + 20 * sl_v1) / 30)
    assert k.loc["voice", "asa_seconds"] == pytest.approx((10 * 10 / 2.5 + 20 * 10 / 1.3) / 30)
    assert k.loc["voice", "share_intervals_under_target"] == 1.0
    assert k.loc["email", "share_intervals_under_target"] == 0.0  # 0.259 >= target 0.2
    assert k.loc["email", "intervals_with_volume"] == 1
    # agent-hours: gaps x 0.25 h
    assert k.loc["voice", "under_staffed_hours"] == pytest.approx((1.5 + 5.0) * 0.25)
    assert k.loc["voice", "over_staffed_hours"] == 0.0
    assert k.loc["voice", "unplanned_hours"] == pytest.approx(0.25)
    assert k.loc["voice", "required_hours"] == pytest.approx(10.0 * 0.25)
    assert k.loc["voice", "scheduled_hours"] == pytest.approx(4.5 * 0.25)
    assert k.loc["email", "under_staffed_hours"] == pytest.approx(0.5 * 0.25)
    assert k.loc["all", "service_level"] == pytest.approx(
        (10 * sl_v0 + 20 * sl_v1 + 5 * sl_e0) / 35)
    assert k.loc["all", "under_staffed_hours"] == pytest.approx((1.5 + 5.0 + 0.5) * 0.25)
    assert k.loc["all", "service_level_target"] == pytest.approx((30 * 0.8 + 5 * 0.2) / 35)
    # overall ASA covers realtime/concurrent channels only
    assert k.loc["all", "asa_seconds"] == pytest.approx(k.loc["voice", "asa_seconds"])


def test_kpis_take_volume_from_requirements(fake_service):
    req, asg = _frames()
    sc = _scenario()
    cov = coverage(req, asg, sc).drop(columns=["volume"])
    k = kpis(cov, req, sc).set_index("channel")
    assert k.loc["voice", "volume"] == 30.0
    with pytest.raises(DataValidationError, match="volume"):
        kpis(cov, None, sc)


def test_worst_gaps_order(fake_service):
    req, asg = _frames()
    cov = coverage(req, asg, _scenario())
    w = worst_gaps(cov, n=10)
    assert list(zip(w["channel"], w["gap"])) == [("voice", -5.0), ("voice", -1.5),
                                                  ("email", -0.5)]
    assert len(worst_gaps(cov, n=2)) == 2


def test_bad_inputs_are_clear_errors(fake_service):
    req, asg = _frames()
    sc = _scenario()
    naive = req.assign(timestamp=req["timestamp"].dt.tz_localize(None))
    with pytest.raises(DataValidationError, match="time zone"):
        coverage(naive, asg, sc)
    with pytest.raises(DataValidationError, match=r"unknown channel.*'fax'"):
        coverage(req, asg.assign(channel=["fax"] + list(asg["channel"][1:])), sc)
    with pytest.raises(DataValidationError, match="row 2.*fraction"):
        coverage(req, asg.assign(fraction=[1.0, 0.5, 1.5, 1.0, 1.0, 1.0]), sc)
    with pytest.raises(DataValidationError, match="duplicate"):
        coverage(pd.concat([req, req.iloc[[0]]]), asg, sc)
    with pytest.raises(DataValidationError, match="agents_required"):
        coverage(req.drop(columns="agents_required"), asg, sc)


def test_other_timezone_offsets_are_aligned(fake_service):
    """Assignments in UTC join requirement rows given in local time."""
    req, asg = _frames()
    asg_utc = asg.assign(timestamp=asg["timestamp"].dt.tz_convert("UTC"))
    cov = coverage(req, asg_utc, _scenario())
    assert len(cov) == 5
    assert cov["scheduled"].sum() == pytest.approx(asg["fraction"].sum())


def _erlang_c_sl(n: int, a: float, aht: float, t: float) -> float:
    """P(wait <= t) in M/M/n (Erlang C), straight from the textbook formula."""
    top = a ** n / math.factorial(n) * n / (n - a)
    c = top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)
    return 1.0 - c * math.exp(-(n - a) * t / aht)


def test_coverage_uses_erlang_for_realtime():
    """Integration with wfm.staffing: 10 scheduled heads, 20% shrinkage = 8 net."""
    if not hasattr(wfm.staffing, "service_with_agents"):
        pytest.skip("wfm.staffing.service_with_agents not available yet")
    sc = Scenario.model_validate({"channels": [
        {"name": "voice", "kind": "realtime", "shrinkage": 0.2, "answer_seconds": 20}]})
    req = pd.DataFrame({"timestamp": [_ts(0)], "channel": ["voice"], "volume": [30.0],
                        "aht_seconds": [180.0], "agents_required": [9.0]})
    asg = pd.DataFrame({"timestamp": [_ts(0)] * 10, "agent_id": [f"a{i}" for i in range(10)],
                        "channel": "voice", "fraction": 1.0})
    cov = coverage(req, asg, sc)
    a = 30 * 180 / 900.0
    assert cov["agents_net"].iloc[0] == pytest.approx(8.0)
    assert cov["service_level"].iloc[0] == pytest.approx(_erlang_c_sl(8, a, 180.0, 20.0),
                                                         rel=1e-6)
    assert np.isfinite(cov["asa_seconds"].iloc[0])
