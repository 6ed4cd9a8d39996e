"""Multi-skill simulation: agreement with Erlang C / Erlang A, routing rules, determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from wfm.config import Scenario
from wfm.coverage import pooling_gain, simulate
from wfm.coverage.simulation import _shift_on
from wfm.errors import DataValidationError, WfmError

TZ = "Europe/Berlin"
DAY = pd.date_range("2026-11-16", periods=96, freq="15min", tz=TZ, name="timestamp")


def _demand(ts, volumes: dict[str, float], aht: dict[str, float]) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"timestamp": ts, "channel": ch, "volume": float(v),
                                    "aht_seconds": float(aht[ch])})
                      for ch, v in volumes.items()], ignore_index=True)


def _assign(ts, agents: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = [(t, a, ch, f) for t in ts for a, chans in agents.items() for ch, f in chans.items()]
    return pd.DataFrame(rows, columns=["timestamp", "agent_id", "channel", "fraction"])


# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------
def erlang_c_reference(n: int, lam: float, aht: float, t: float) -> tuple[float, float]:
    """M/M/n: P(wait <= t) and mean wait [s] (Erlang C, textbook closed form)."""
    a = lam * aht
    top = a ** n / math.factorial(n) * n / (n - a)
    c = top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)
    gap = (n - a) / aht
    return 1.0 - c * math.exp(-gap * t), c / gap


def erlang_a_reference(n: int, lam: float, aht: float, patience: float,
                       t: float) -> tuple[float, float, float]:
    """M/M/n+M (Erlang A) from the birth-death chain and a tagged customer.

    Returns (P(answered within t), mean wait of answered [s], P(abandon)).
    A customer who finds j waiting ahead moves up at rate n*mu + k*theta
    (k ahead), is served from k = 0 at rate n*mu and abandons at rate theta;
    P(served by t) is read off the matrix exponential of that absorbing chain.
    """
    mu, th = 1.0 / aht, 1.0 / patience
    jmax = 400
    w = np.zeros(n + jmax + 1)
    w[0] = 1.0
    for s in range(1, n + jmax + 1):
        w[s] = w[s - 1] * lam / (min(s, n) * mu + max(s - n, 0) * th)
    pi = w / w.sum()
    sl = pi[:n].sum()
    served = pi[:n].sum()
    wait_served = 0.0
    for j in range(0, jmax):
        p = pi[n + j]
        if p < 1e-14:
            continue
        # transient states: k = j..0 ahead (index j-k), absorbing: served, abandoned
        m = j + 1
        q = np.zeros((m + 2, m + 2))
        for idx in range(m):
            k = j - idx
            if k > 0:
                q[idx, idx + 1] = n * mu + k * th
            else:
                q[idx, m] = n * mu
            q[idx, m + 1] = th
            q[idx, idx] = -q[idx].sum()
        ps_t = expm(q * t)[0, m]
        rates = [n * mu + k * th + th for k in range(j, -1, -1)]
        p_serv = np.prod([(n * mu + k * th) / (n * mu + k * th + th) for k in range(j, -1, -1)])
        sl += p * ps_t
        served += p * p_serv
        wait_served += p * p_serv * sum(1.0 / r for r in rates)
    return sl, wait_served / served, 1.0 - served


def test_references_agree_with_staffing_kernels():
    """The test's references and wfm.staffing's kernels are independent derivations."""
    from wfm.staffing import erlang, erlang_a

    sl, asa = erlang_c_reference(25, 100 / 900.0, 180.0, 20.0)
    assert float(erlang.service_level(20.0, 25, 180.0, 20.0)) == pytest.approx(sl, rel=1e-9)
    assert float(erlang.asa(20.0, 25, 180.0)) == pytest.approx(asa, rel=1e-9)
    sl, asa, ab = erlang_a_reference(18, 100 / 900.0, 180.0, 120.0, 20.0)
    m = erlang_a.metrics(20.0, 18, 180.0, 120.0, 20.0)
    assert float(m.service_level) == pytest.approx(sl, rel=1e-6)
    assert float(m.asa_seconds) == pytest.approx(asa, rel=1e-6)
    assert float(m.abandonment) == pytest.approx(ab, rel=1e-6)


def test_reference_erlang_a_tends_to_erlang_c():
    """Cross-check of the two references: very patient customers = Erlang C."""
    sl_c, asa_c = erlang_c_reference(5, 3 / 100.0, 100.0, 20.0)
    sl_a, asa_a, ab = erlang_a_reference(5, 3 / 100.0, 100.0, 1e9, 20.0)
    assert sl_a == pytest.approx(sl_c, abs=1e-6)
    assert asa_a == pytest.approx(asa_c, rel=1e-5)
    assert ab < 1e-5


# --------------------------------------------------------------------------
# Validation on single-skill cases
# --------------------------------------------------------------------------
@pytest.mark.parametrize("n_agents, calls", [(25, 100.0), (8, 30.0)])
def test_single_skill_agrees_with_erlang_c(n_agents, calls):
    """M/M/N: simulated SL and ASA contain Erlang C within the 99% CI."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 180, "answer_seconds": 20}]})
    dem = _demand(DAY, {"voice": calls}, {"voice": 180.0})
    asg = _assign(DAY, {f"a{i}": {"voice": 1.0} for i in range(n_agents)})
    res = simulate(dem, None, asg, None, sc, replications=30, seed=11, ci_level=0.99,
                   warmup_minutes=60)
    sl_ref, asa_ref = erlang_c_reference(n_agents, calls / 900.0, 180.0, 20.0)
    ch = res.per_channel.iloc[0]
    assert ch["service_level_lo"] <= sl_ref <= ch["service_level_hi"], (ch, sl_ref)
    assert ch["asa_seconds_lo"] <= asa_ref <= ch["asa_seconds_hi"], (ch, asa_ref)
    # the CI is informative, not a wide net
    assert ch["service_level_hi"] - ch["service_level_lo"] < 0.08
    assert ch["abandonment"] == 0.0
    # the offered load is carried: busy agents = arrival rate x AHT
    busy = res.per_interval["busy_agents"].iloc[8:-8].mean()
    assert busy == pytest.approx(calls * 180 / 900.0, rel=0.03)


def test_single_skill_agrees_with_erlang_a():
    """M/M/N+M: SL, ASA and abandonment contain the Erlang A values (99% CI)."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 180, "answer_seconds": 20,
         "patience_seconds": 120}]})
    n, calls = 18, 100.0   # overloaded without abandonment (a = 20 > 18)
    dem = _demand(DAY, {"voice": calls}, {"voice": 180.0})
    asg = _assign(DAY, {f"a{i}": {"voice": 1.0} for i in range(n)})
    res = simulate(dem, None, asg, None, sc, replications=30, seed=5, ci_level=0.99,
                   warmup_minutes=60)
    sl_ref, asa_ref, ab_ref = erlang_a_reference(n, calls / 900.0, 180.0, 120.0, 20.0)
    ch = res.per_channel.iloc[0]
    assert ch["service_level_lo"] <= sl_ref <= ch["service_level_hi"], (ch, sl_ref)
    assert ch["asa_seconds_lo"] <= asa_ref <= ch["asa_seconds_hi"], (ch, asa_ref)
    assert ch["abandonment_lo"] <= ab_ref <= ch["abandonment_hi"], (ch, ab_ref)
    assert ab_ref > 0.05  # a case where abandonment matters


def test_concurrent_channel_is_erlang_c_on_slots():
    """Chat-only agents with concurrency k form an M/M/(N*k) queue of sessions."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "chat", "kind": "concurrent", "concurrency": 3, "aht_seconds": 600,
         "answer_seconds": 30}]})
    n, chats = 5, 18.0  # 15 slots, offered load 12 sessions
    dem = _demand(DAY, {"chat": chats}, {"chat": 600.0})
    asg = _assign(DAY, {f"a{i}": {"chat": 1.0} for i in range(n)})
    res = simulate(dem, None, asg, None, sc, replications=30, seed=3, ci_level=0.99,
                   warmup_minutes=120)
    sl_ref, asa_ref = erlang_c_reference(n * 3, chats / 900.0, 600.0, 30.0)
    ch = res.per_channel.iloc[0]
    assert ch["service_level_lo"] <= sl_ref <= ch["service_level_hi"], (ch, sl_ref)
    assert ch["asa_seconds_lo"] <= asa_ref <= ch["asa_seconds_hi"], (ch, asa_ref)


# --------------------------------------------------------------------------
# Routing rules, from the contact log
# --------------------------------------------------------------------------
def _mixed_scenario(**kw) -> Scenario:
    return Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "kind": "realtime", "aht_seconds": 240, "priority": 3.0},
        {"name": "callback", "kind": "realtime", "aht_seconds": 240, "priority": 1.0},
        {"name": "chat", "kind": "concurrent", "concurrency": 3, "aht_seconds": 500},
        {"name": "email", "kind": "deferred", "aht_seconds": 300,
         "response_time_hours": 4},
    ], **kw})


def _mixed_run(seed=0, replications=1, **kw):
    ts = DAY[32:48]  # 08:00-12:00
    dem = _demand(ts, {"voice": 10, "callback": 5, "chat": 9, "email": 4},
                  {"voice": 240, "callback": 240, "chat": 500, "email": 300})
    agents = {"v1": {"voice": 1.0}, "v2": {"voice": 1.0}, "v3": {"voice": 1.0},
              "c1": {"chat": 1.0}, "c2": {"chat": 1.0},
              "m1": {"voice": 0.5, "callback": 0.5}, "m2": {"voice": 0.5, "callback": 0.5},
              "m3": {"voice": 0.5, "email": 0.5}, "m4": {"chat": 0.5, "email": 0.5},
              "m5": {"voice": 0.25, "chat": 0.25, "callback": 0.25, "email": 0.25}}
    return simulate(dem, None, _assign(ts, agents), None, _mixed_scenario(),
                    replications=replications, seed=seed, keep_contacts=True, **kw)


def test_agents_only_serve_their_skills():
    res = _mixed_run()
    c = res.contacts
    served = c[c["agent_id"] != ""]
    assert len(served) > 300
    allowed = {"v": {"voice"}, "c": {"chat"}, "m1": {"voice", "callback"},
               "m2": {"voice", "callback"}, "m3": {"voice", "email"},
               "m4": {"chat", "email"}, "m5": {"voice", "chat", "callback", "email"}}
    for aid, ch in zip(served["agent_id"], served["channel"]):
        skills = allowed.get(aid, allowed.get(aid[0]))
        assert ch in skills, (aid, ch)
    # the multi-skilled agents really do pool: each serves several channels
    for aid in ("m1", "m3", "m4", "m5"):
        assert served.loc[served["agent_id"] == aid, "channel"].nunique() >= 2


def test_no_mixing_and_concurrency_limit():
    c = _mixed_run().contacts
    served = c[c["agent_id"] != ""]
    for aid, d in served.groupby("agent_id"):
        ev = []
        for ch, s, e in zip(d["channel"], d["start_seconds"], d["end_seconds"]):
            ev.append((s, 1, ch))
            ev.append((e, -1, ch))
        ev.sort(key=lambda x: (x[0], x[1]))
        active: dict[str, int] = {}
        peak_chat = 0
        for _, step, ch in ev:
            active[ch] = active.get(ch, 0) + step
            busy = {k: v for k, v in active.items() if v > 0}
            if "chat" in busy:
                assert set(busy) == {"chat"}, (aid, busy)   # chats never mix with other work
                assert busy["chat"] <= 3, (aid, busy)       # concurrency 3
                peak_chat = max(peak_chat, busy["chat"])
            else:
                assert sum(busy.values()) <= 1, (aid, busy)  # one call / item at a time
        if aid.startswith("c"):
            assert peak_chat == 3  # busy chat agents do fill their slots


def test_priorities_and_deferred_last():
    """A callback or e-mail is taken only when no higher-priority contact the agent
    could serve is waiting; voice (priority 3) goes first."""
    res = _mixed_run()
    c = res.contacts
    skills = {"m1": {"voice", "callback"}, "m2": {"voice", "callback"},
              "m3": {"voice", "email"}, "m5": {"voice", "callback", "chat", "email"}}
    voice = c[c["channel"] == "voice"]
    v_arr = voice["arrival_seconds"].to_numpy()
    v_start = voice["start_seconds"].fillna(np.inf).to_numpy()
    chat = c[c["channel"] == "chat"]
    k_arr = chat["arrival_seconds"].to_numpy()
    k_start = chat["start_seconds"].fillna(np.inf).to_numpy()
    checked = 0
    for aid, sk in skills.items():
        low = c[(c["agent_id"] == aid) & c["channel"].isin(["callback", "email"])]
        for ch, t in zip(low["channel"], low["start_seconds"]):
            # voice waiting at t: arrived before t, not started by t
            assert not np.any((v_arr < t - 1e-9) & (v_start > t + 1e-9)), (aid, ch, t)
            if ch == "email" and "chat" in sk:
                assert not np.any((k_arr < t - 1e-9) & (k_start > t + 1e-9)), (aid, t)
            checked += 1
    assert checked > 20
    # and voice does get better service than the lower-priority callback
    s = res.per_channel.set_index("channel")
    assert s.loc["voice", "asa_seconds"] < s.loc["callback", "asa_seconds"]


def test_deterministic_with_seed():
    a = _mixed_run(seed=7, replications=2)
    b = _mixed_run(seed=7, replications=2)
    pd.testing.assert_frame_equal(a.per_interval, b.per_interval)
    pd.testing.assert_frame_equal(a.contacts, b.contacts)
    c = _mixed_run(seed=8, replications=2)
    assert not a.contacts["arrival_seconds"].equals(c.contacts["arrival_seconds"])


def test_abandonment_and_deferred_targets():
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 300, "patience_seconds": 60},
        {"name": "email", "kind": "deferred", "aht_seconds": 300, "response_time_hours": 2}]})
    ts = DAY[32:64]
    dem = _demand(ts, {"voice": 30, "email": 10}, {"voice": 300, "email": 300})
    # 5 voice agents for 10 Erlangs: heavy abandonment; 5 e-mail agents for 3.3 Erlangs
    agents = {**{f"v{i}": {"voice": 1.0} for i in range(5)},
              **{f"e{i}": {"email": 1.0} for i in range(5)}}
    res = simulate(dem, None, _assign(ts, agents), None, sc, replications=3, seed=1,
                   keep_contacts=True)
    s = res.per_channel.set_index("channel")
    assert s.loc["voice", "abandonment"] > 0.3
    assert s.loc["email", "service_level"] == 1.0
    c = res.contacts
    ab = c[c["abandoned"]]
    assert ab["start_seconds"].isna().all() and (ab["agent_id"] == "").all()
    assert (c.loc[c["channel"] == "email", "abandoned"] == False).all()  # noqa: E712
    # e-mails arriving in the last 2 h may still be open: those are not counted
    assert s.loc["email", "offered"] <= s.loc["email", "volume"] * 1.2


def test_shrinkage_thins_agents():
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.4}, "channels": [
        {"name": "voice"}]})
    dem = _demand(DAY[:16], {"voice": 10}, {"voice": 300})
    asg = _assign(DAY[:16], {f"a{i}": {"voice": 1.0} for i in range(50)})
    res = simulate(dem, None, asg, None, sc, replications=4, seed=2)
    avail = res.occupancy["available_agents"].mean()
    assert avail == pytest.approx(30.0, abs=1.5)  # 50 x (1 - 0.4), binomial noise
    res0 = simulate(dem, None, asg, None, sc, replications=1, seed=2, apply_shrinkage=False)
    assert (res0.occupancy["available_agents"] == 50).all()


def test_pooling_gain_positive():
    """Cross-skilled agents beat the same heads split into dedicated pools."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 300}, {"name": "chat2", "aht_seconds": 300}]})
    ts = DAY[32:48]
    dem = _demand(ts, {"voice": 18, "chat2": 18}, {"voice": 300, "chat2": 300})
    agents = {f"a{i}": {"voice": 0.5, "chat2": 0.5} for i in range(14)}
    g = pooling_gain(dem, _assign(ts, agents), None, sc, replications=8, seed=4)
    allrow = g.set_index("channel").loc["all"]
    assert allrow["gain"] > 0.05 and allrow["gain_lo"] > 0
    assert allrow["service_level_pooled"] > allrow["service_level_dedicated"]


def test_routing_modes_and_bad_options():
    sc = _mixed_scenario()
    ts = DAY[32:36]
    dem = _demand(ts, {"voice": 10}, {"voice": 240})
    asg = _assign(ts, {"m": {"voice": 0.5, "email": 0.5}})
    for routing in ("skills", "assigned", "dedicated"):
        r = simulate(dem, None, asg, None, sc, replications=2, routing=routing)
        assert set(r.per_channel["channel"]) == {"voice", "email"}
    with pytest.raises(WfmError, match="routing"):
        simulate(dem, None, asg, None, sc, routing="random")
    with pytest.raises(WfmError, match="handle_time"):
        simulate(dem, None, asg, None, sc, handle_time="gamma")
    with pytest.raises(WfmError, match="unknown channel"):
        simulate(dem.assign(channel="fax"), None, asg, None, sc)


def test_lognormal_handle_times_have_requested_mean_and_cv():
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 200}]})
    dem = _demand(DAY, {"voice": 50}, {"voice": 200})
    asg = _assign(DAY, {f"a{i}": {"voice": 1.0} for i in range(20)})
    r = simulate(dem, None, asg, None, sc, replications=1, handle_time="lognormal",
                 handle_cv=0.5, keep_contacts=True)
    h = r.contacts["handle_seconds"]
    assert h.mean() == pytest.approx(200, rel=0.02)
    assert h.std() / h.mean() == pytest.approx(0.5, rel=0.05)


def test_shift_breaks_make_agents_unavailable():
    t0 = DAY[0]
    shifts = pd.DataFrame({"agent_id": ["a"], "date": ["2026-11-16"],
                           "start": ["2026-11-16T08:00:00"], "end": ["2026-11-16T12:00:00"],
                           "breaks": ["10:00-10:15"]})
    on = _shift_on(shifts, {"a": 0}, t0, 900.0, 96, TZ)[:, 0]
    expected = np.zeros(96, bool)
    expected[32:48] = True
    expected[40] = False
    np.testing.assert_array_equal(on, expected)


def test_unassigned_on_shift_agents_take_contacts():
    """With shifts, an agent on shift but without assignment still answers (skills)."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 120}]})
    ts = DAY[32:40]
    dem = _demand(ts, {"voice": 20}, {"voice": 120})
    asg = _assign(ts[:1], {"a": {"voice": 1.0}})
    roster = pd.DataFrame({"agent_id": ["a"], "skills": ["voice"]})
    shifts = pd.DataFrame({"agent_id": ["a"], "date": ["2026-11-16"],
                           "start": ["2026-11-16T08:00:00+01:00"],
                           "end": ["2026-11-16T10:00:00+01:00"], "breaks": [""]})
    with_shift = simulate(dem, shifts, asg, roster, sc, replications=1, seed=0)
    without = simulate(dem, None, asg, roster, sc, replications=1, seed=0)
    assert with_shift.occupancy["available_agents"].sum() == 8
    assert without.occupancy["available_agents"].sum() == 1
    assert (with_shift.per_channel["answered"].iloc[0]
            > without.per_channel["answered"].iloc[0])


def test_daylight_saving_day_has_100_intervals():
    """Fall-back day: 25 h = 100 quarter-hours, the repeated hour is simulated twice."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 120}]})
    ts = pd.date_range("2026-10-25", "2026-10-26", freq="15min", tz=TZ, inclusive="left",
                       name="timestamp")
    assert len(ts) == 100
    dem = _demand(ts, {"voice": 5}, {"voice": 120})
    res = simulate(dem, None, _assign(ts, {"a": {"voice": 1.0}, "b": {"voice": 1.0}}), None,
                   sc, replications=2, seed=0)
    pi = res.per_interval
    assert len(pi) == 100
    pd.testing.assert_series_equal(pi["timestamp"].reset_index(drop=True),
                                   pd.Series(ts).reset_index(drop=True), check_names=False,
                                   check_freq=False)
    assert (res.occupancy["available_agents"] == 2).all()


def test_proficiency_scales_handle_times():
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 100}]})
    dem = _demand(DAY[32:64], {"voice": 10}, {"voice": 100})
    asg = _assign(DAY[32:64], {"slow": {"voice": 1.0}, "fast": {"voice": 1.0}})
    roster = pd.DataFrame({"agent_id": ["slow", "fast"], "skills": ["voice", "voice"],
                           "proficiency": ["voice:0.5", None]})
    res = simulate(dem, None, asg, roster, sc, replications=3, seed=0, keep_contacts=True,
                   use_proficiency=True)
    h = res.contacts.groupby("agent_id")["handle_seconds"].mean()
    assert h["slow"] == pytest.approx(200, rel=0.15)
    assert h["fast"] == pytest.approx(100, rel=0.15)
    off = simulate(dem, None, asg, roster, sc, replications=3, seed=0, keep_contacts=True)
    h = off.contacts.groupby("agent_id")["handle_seconds"].mean()
    assert h["slow"] == pytest.approx(100, rel=0.15)
    with pytest.raises(DataValidationError, match="proficiency"):
        simulate(dem, None, asg, roster.assign(proficiency=["voice:3", None]), sc)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n=st.integers(1, 6), calls=st.floats(2.0, 30.0), seed=st.integers(0, 1000))
def test_more_agents_never_delay_anyone(n, calls, seed):
    """Same customers (common random numbers), one more agent: with FCFS and
    infinite patience no customer starts later (sample-path monotonicity in the
    number of servers), so service level never drops. With abandonment this
    holds only on average (a caller served instead of abandoning can delay
    others), so patience is not drawn here."""
    sc = Scenario.model_validate({"staffing": {"shrinkage": 0.0}, "channels": [
        {"name": "voice", "aht_seconds": 200}]})
    ts = DAY[32:40]
    dem = _demand(ts, {"voice": calls}, {"voice": 200})
    out = []
    for k in (n, n + 1):
        asg = _assign(ts, {f"a{i}": {"voice": 1.0} for i in range(k)})
        out.append(simulate(dem, None, asg, None, sc, replications=2, seed=seed,
                            keep_contacts=True))
    a, b = out
    sa = a.contacts["start_seconds"].fillna(np.inf).to_numpy()
    sb = b.contacts["start_seconds"].fillna(np.inf).to_numpy()
    assert (sb <= sa + 1e-9).all()
    assert (b.per_replication["answered_in_target"].to_numpy()
            >= a.per_replication["answered_in_target"].to_numpy()).all()


def test_compare_with_erlang_weights_by_offered():
    from wfm.coverage import compare_with_erlang

    res = _mixed_run(replications=2)
    k = pd.DataFrame({"channel": ["voice", "callback", "chat", "email"],
                      "service_level": [0.9, 0.5, 0.7, 1.0],
                      "asa_seconds": [10.0, 30.0, 20.0, np.nan],
                      "abandonment": [0.0] * 4})
    c = compare_with_erlang(res, k).set_index("channel")
    off = res.per_channel.set_index("channel")["offered"]
    exp = (off * pd.Series([0.9, 0.5, 0.7, 1.0], index=off.index)).sum() / off.sum()
    assert c.loc["all", "service_level_erlang"] == pytest.approx(exp)
    assert c.loc["voice", "difference"] == pytest.approx(
        c.loc["voice", "service_level_simulated"] - 0.9)
    pr = res.per_replication.groupby("replication")[["answered_in_target", "offered"]].sum()
    assert c.loc["all", "service_level_simulated"] == pytest.approx(
        (pr.answered_in_target / pr.offered).mean())
