"""Erlang A (M/M/N+M) kernels against independent references.

Three layers of reference:
1. ``_erlang_a_reference.reference``: from the model alone -- stationary
   distribution from the birth-death balance equations (mpmath), the tagged
   caller's absorbing Markov chain solved by matrix exponential (answered
   within T) and phase-type moments (ASA). No closed form is shared with
   ``wfm.staffing.erlang_a``.
2. ``_erlang_a_reference.reference_mp``: stationary distribution in mpmath
   plus the per-queue-position answer probability as a regularized
   incomplete beta function (an intermediate step of the derivation, itself
   checked against layer 1 here); feasible up to ~1,000 Erlangs in a test.
3. The final closed forms evaluated in mpmath at 50 digits (checks the
   floating-point evaluation at 10,000 Erlangs; the formulas themselves are
   checked by layers 1-2).
Plus a discrete-event simulation of M/M/N+M (FCFS, seeded).
"""

from __future__ import annotations

import heapq
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfm.errors import StaffingError
from wfm.staffing import erlang, erlang_a

sys.path.insert(0, str(Path(__file__).parent))
from _erlang_a_reference import reference, reference_mp  # noqa: E402

CASES = [  # traffic, agents, aht, patience, answer
    (10.0, 12, 180.0, 120.0, 20.0),
    (10.0, 8, 180.0, 60.0, 30.0),     # overloaded, stable through abandonment
    (3.0, 2, 300.0, 600.0, 10.0),
    (25.0, 30, 240.0, 90.0, 0.0),
    (25.0, 30, 240.0, 90.0, 60.0),
    (0.4, 1, 200.0, 30.0, 15.0),
]


@pytest.mark.parametrize("case", CASES)
def test_matches_first_principles_chain(case):
    sl, ab, pw, asa = reference(*case)
    m = erlang_a.metrics(*case)
    assert m.service_level == pytest.approx(sl, rel=1e-10)
    assert m.abandonment == pytest.approx(ab, rel=1e-10)
    assert m.wait_probability == pytest.approx(pw, rel=1e-10)
    assert m.asa_seconds == pytest.approx(asa, rel=1e-9)
    assert m.occupancy == pytest.approx(case[0] * (1 - ab) / case[1], rel=1e-10)


def test_beta_reference_agrees_with_chain():
    for case in CASES[:3]:
        chain = reference(*case)
        beta = reference_mp(*case)
        for a, b in zip(chain[:3], beta):
            assert float(b) == pytest.approx(a, rel=1e-10)


@pytest.mark.parametrize("traffic", [1.0, 10.0, 100.0, 1000.0])
def test_matches_mpmath_to_1e_9(traffic):
    aht, patience, answer = 180.0, 120.0, 20.0
    n = int(erlang_a.required_agents(traffic, aht, patience, answer, 0.8).whole)
    for agents in ({n} if traffic >= 1000 else {max(n - 1, 1), n, n + 2}):
        ref = reference_mp(traffic, agents, aht, patience, answer, dps=25)
        m = erlang_a.metrics(traffic, agents, aht, patience, answer)
        got = (m.service_level, m.abandonment, m.wait_probability)
        for g, r in zip(got, ref):
            assert abs(g / float(r) - 1.0) < 1e-9


def _mp_closed_form(traffic, agents, aht, patience, answer):
    mp.mp.dps = 50
    a, n = mp.mpf(traffic), mp.mpf(agents)
    e = mp.power(a, n) * mp.exp(-a) / mp.gammainc(n + 1, a)
    x, y = n * patience / aht, a * patience / aht
    u = mp.exp(-mp.mpf(answer) / patience)
    j = x * mp.exp(y) * mp.power(y, -x) * mp.gammainc(x, 0, y)
    pi_n = 1 / (1 / e + j - 1)
    s = x * mp.exp(y) * mp.power(y, -x - 1) * (mp.gammainc(x + 1, 0, y)
                                               - mp.gammainc(x + 1, 0, y * u))
    sl = pi_n * (1 / e - 1) + pi_n * s
    rho = y / x
    ab = pi_n * j * (1 - 1 / rho + 1 / (rho * j))
    return sl, ab, pi_n * j


@pytest.mark.parametrize("agents", [8629, 9500, 10050])
def test_10000_erlangs_precision(agents):
    # 8629 agents is the 80/20 requirement at 10,000 Erlangs with 120 s patience
    ref = _mp_closed_form(10000.0, agents, 180.0, 120.0, 20.0)
    m = erlang_a.metrics(10000.0, agents, 180.0, 120.0, 20.0)
    for g, r in zip((m.service_level, m.abandonment, m.wait_probability), ref):
        assert abs(g / float(r) - 1.0) < 1e-9


def test_extremes_stay_finite():
    # deep overload, huge overstaffing, tiny and huge patience
    a = np.array([5000.0, 5.0, 50.0, 50.0, 20000.0])
    n = np.array([100.0, 3000.0, 55.0, 55.0, 19000.0])
    p = np.array([60.0, 60.0, 0.5, 1e6, 300.0])
    m = erlang_a.metrics(a, n, 300.0, p, 20.0)
    for v in m:
        assert np.all(np.isfinite(v)) and np.all((v >= 0))
    assert m.abandonment[0] == pytest.approx(1 - 100 / 5000, rel=0.01)   # fluid limit
    assert m.service_level[1] == pytest.approx(1.0)
    # very patient callers: Erlang C
    c = erlang.metrics(50.0, 55.0, 300.0, 20.0)
    assert m.service_level[3] == pytest.approx(c.service_level, rel=1e-3)


def test_edge_cases():
    m = erlang_a.metrics(0.0, 0, 180, 60, 20)
    assert (m.service_level, m.abandonment, m.occupancy) == (1, 0, 0)
    m = erlang_a.metrics(4.0, 0, 180, 60, 20)
    assert m.service_level == 0 and m.abandonment == 1 and np.isinf(m.asa_seconds)
    # fewer agents than traffic is stable with abandonment
    m = erlang_a.metrics(20.0, 15, 180, 60, 20)
    # carried load cannot exceed the agents: abandonment >= 1 - 15/20
    assert 0 < m.service_level < 1 and 0.5 > m.abandonment >= 0.25
    assert erlang_a.required_agents(np.array([0.0]), 180, 60, 20, 0.8).whole[0] == 0
    with pytest.raises(StaffingError):
        erlang_a.required_agents(5.0, 180, 60, 20, 1.0)


def test_required_agents_all_constraints():
    a = np.array([0.3, 4.0, 40.0, 400.0, 4000.0])
    r = erlang_a.required_agents(a, 240, 90, 20, 0.8, asa_target=8.0, max_occupancy=0.88,
                                 max_abandonment=0.03)

    def meets(n):
        m = erlang_a.metrics(a, n, 240, 90, 20)
        return ((m.service_level >= 0.8) & (m.asa_seconds <= 8.0) & (m.occupancy <= 0.88)
                & (m.abandonment <= 0.03))

    assert np.all(meets(r.whole))
    assert not np.any(meets(r.whole - 1))
    assert np.all((r.fractional > r.whole - 1) & (r.fractional <= r.whole))


@settings(max_examples=40, deadline=None)
@given(traffic=st.floats(0.05, 300.0), aht=st.floats(30.0, 900.0),
       patience=st.floats(5.0, 1200.0), t=st.floats(0.0, 90.0), target=st.floats(0.05, 0.98))
def test_required_agents_minimal(traffic, aht, patience, t, target):
    r = erlang_a.required_agents(traffic, aht, patience, t, target)
    assert erlang_a.service_level(traffic, r.whole, aht, patience, t) >= target
    if r.whole > 0:
        assert erlang_a.service_level(traffic, r.whole - 1, aht, patience, t) < target
    sl = erlang_a.service_level(traffic, r.fractional, aht, patience, t)
    assert sl == pytest.approx(target, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(traffic=st.floats(0.05, 300.0), aht=st.floats(30.0, 900.0),
       patience=st.floats(5.0, 1200.0), t=st.floats(0.0, 90.0))
def test_monotone_in_agents(traffic, aht, patience, t):
    n = np.arange(0, int(traffic * 1.5) + 10) * 0.5
    m = erlang_a.metrics(traffic, n, aht, patience, t)
    assert np.all(np.diff(m.service_level) >= -1e-12)
    assert np.all(np.diff(m.abandonment) <= 1e-12)


@settings(max_examples=30, deadline=None)
@given(volume=st.floats(1.0, 400.0), aht=st.floats(30.0, 900.0), factor=st.floats(1.0, 2.0))
def test_requirement_monotone_in_volume_and_aht(volume, aht, factor):
    def req(v, h):
        return erlang_a.required_agents(erlang.traffic_erlangs(v, h, 15), h, 90, 20, 0.8)

    base, more, longer = req(volume, aht), req(volume * factor, aht), req(volume, aht * factor)
    assert more.whole >= base.whole and longer.whole >= base.whole


def simulate_mmn_m(lam, aht, patience, n, customers, seed):
    """FCFS M/M/N+M. With FCFS, a caller's wait is fixed on arrival (the time
    the earliest server frees up after everyone ahead who stays); it abandons
    if that exceeds its patience and then takes no server."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, customers))
    service = rng.exponential(aht, customers)
    tau = rng.exponential(patience, customers)
    free = [0.0] * n
    waits = np.empty(customers)
    served = np.empty(customers, bool)
    for i in range(customers):
        f = free[0]
        wait = max(f - arrivals[i], 0.0)
        if wait > tau[i]:
            waits[i], served[i] = tau[i], False
            continue
        heapq.heapreplace(free, arrivals[i] + wait + service[i])
        waits[i], served[i] = wait, True
    return waits, served


@pytest.mark.parametrize("traffic,n,patience", [(6.0, 6, 60.0), (15.0, 13, 120.0)])
def test_agrees_with_simulation(traffic, n, patience):
    aht, answer = 100.0, 10.0
    waits, served = simulate_mmn_m(traffic / aht, aht, patience, n, 150_000, seed=11)
    waits, served = waits[5000:], served[5000:]
    batches = np.array_split(np.arange(waits.size), 50)
    sl_b = np.array([np.mean(served[b] & (waits[b] <= answer)) for b in batches])
    ab_b = np.array([np.mean(~served[b]) for b in batches])
    asa_b = np.array([waits[b][served[b]].mean() for b in batches])
    m = erlang_a.metrics(traffic, n, aht, patience, answer)
    for est, val in ((sl_b, m.service_level), (ab_b, m.abandonment), (asa_b, m.asa_seconds)):
        se = est.std(ddof=1) / np.sqrt(len(est))
        assert abs(est.mean() - val) < 4 * se + 1e-3 * max(val, 1.0)
