"""Erlang B / C kernels against independent references.

References:
- mpmath at 60 significant digits, from the textbook definitions
  (Erlang B as the truncated Poisson ratio for integer N, computed by exact
  summation; as ``A^x e^-A / Gamma(x+1, A)`` for non-integer x);
- the Call Centre Helper worked example "Erlang C formula - made simple"
  (100 calls in 30 minutes, AHT 180 s, 20 s answer target: 14 agents give
  P(wait) 17.4 %, service level 88.8 %, ASA 7.8 s, occupancy 71.4 %; 13 agents
  miss 80/20);
- Erlang B table value B(10, 10) = 0.2146 (e.g. any Erlang B table, Kleinrock
  "Queueing Systems" Vol. 1, Ch. 3: E_1(10, 10) = 0.21458);
- a discrete-event simulation of M/M/N (FCFS, seeded).
"""

from __future__ import annotations

import heapq

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfm.errors import StaffingError
from wfm.staffing import erlang

TRAFFICS = [1.0, 10.0, 100.0, 1000.0, 10000.0]


def _mp_erlang(n, a, aht, t):
    """(B, C, SL, ASA) at high precision; integer n by exact Poisson sums."""
    mp.mp.dps = 60
    a = mp.mpf(a)
    if float(n).is_integer():
        n = int(n)
        term = mp.mpf(1)
        total = mp.mpf(1)
        for k in range(1, n + 1):
            term = term * a / k
            total += term
        b = term / total
    else:
        n = mp.mpf(n)
        b = mp.power(a, n) * mp.exp(-a) / mp.gammainc(n + 1, a)
    n = mp.mpf(n)
    c = n * b / (n - a * (1 - b))
    sl = 1 - c * mp.exp(-(n - a) * mp.mpf(t) / aht)
    return b, c, sl, c * aht / (n - a)


def _levels(a):
    """Agent levels from just above the traffic to far beyond any target."""
    base = np.floor(a) + 1
    span = int(5 * np.sqrt(a)) + 6
    step = max(1, span // 25)
    ints = base + np.arange(0, span, step)
    return np.concatenate([ints, [a + 0.37, a + 1.5 * np.sqrt(a) + 0.5]])


def _mp_erlang_b_integers(levels, a):
    """Erlang B at integer levels by one pass of exact Poisson-term summation."""
    mp.mp.dps = 60
    a = mp.mpf(a)
    wanted = set(int(n) for n in levels)
    out = {}
    term = total = mp.mpf(1)
    for k in range(1, max(wanted) + 1):
        term = term * a / k
        total += term
        if k in wanted:
            out[k] = term / total
    return out


@pytest.mark.parametrize("traffic", TRAFFICS)
def test_matches_mpmath_to_1e_9(traffic):
    aht, t = 180.0, 20.0
    levels = _levels(traffic)
    m = erlang.metrics(traffic, levels, aht, t)
    b = erlang.erlang_b(traffic, levels)
    exact_b = _mp_erlang_b_integers([n for n in levels if float(n).is_integer()], traffic)
    worst = 0.0
    for i, n in enumerate(levels):
        n = float(n)
        if n.is_integer():
            nn, aa = mp.mpf(n), mp.mpf(traffic)
            rb = exact_b[int(n)]
            rc = nn * rb / (nn - aa * (1 - rb))
            rsl = 1 - rc * mp.exp(-(nn - aa) * mp.mpf(t) / aht)
            rasa = rc * aht / (nn - aa)
        else:
            rb, rc, rsl, rasa = _mp_erlang(n, traffic, aht, t)
        for got, ref in ((b[i], rb), (m.wait_probability[i], rc), (m.service_level[i], rsl),
                         (m.asa_seconds[i], rasa)):
            worst = max(worst, abs(got / float(ref) - 1.0))
    assert worst < 1e-9, worst


def test_published_worked_example():
    # Call Centre Helper, "Erlang C formula - made simple": 10 Erlangs, 14 agents
    m = erlang.metrics(10.0, 14, 180, 20)
    assert round(m.wait_probability, 3) == 0.174
    assert round(m.service_level, 3) == 0.888
    assert round(m.asa_seconds, 1) == 7.8
    assert round(m.occupancy, 3) == 0.714
    r = erlang.required_agents(erlang.traffic_erlangs(100, 180, 30), 180, 20, 0.8)
    assert r.whole == 14
    assert erlang.service_level(10.0, 13, 180, 20) < 0.8


def test_erlang_b_table_value():
    assert erlang.erlang_b(10.0, 10) == pytest.approx(0.21458, abs=5e-6)


def test_type_preserving():
    assert isinstance(erlang.erlang_c(10.0, 14), float)
    out = erlang.erlang_c(np.array([10.0, 5.0]), 14)
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    r = erlang.required_agents(np.full((2, 3), 4.0), 180, 20, 0.8)
    assert r.whole.shape == (2, 3) and r.fractional.shape == (2, 3)
    assert isinstance(erlang.required_agents(4.0, 180, 20, 0.8).whole, int)


def test_edge_cases():
    # zero volume: nothing to serve
    m = erlang.metrics(0.0, 0, 180, 20)
    assert (m.service_level, m.asa_seconds, m.occupancy, m.wait_probability) == (1, 0, 0, 0)
    r = erlang.required_agents(np.array([0.0]), 180, 20, 0.8)
    assert r.whole[0] == 0 and r.fractional[0] == 0.0
    # agents <= traffic: unstable
    m = erlang.metrics(5.0, np.array([0.0, 3.0, 5.0]), 180, 20)
    assert np.all(m.service_level == 0) and np.all(np.isinf(m.asa_seconds))
    assert np.all(m.wait_probability == 1)
    assert np.isnan(m.occupancy[0]) and m.occupancy[2] == 1.0
    # fractional traffic and agents
    assert 0 < erlang.service_level(0.3, 1, 300, 20) < 1
    assert erlang.erlang_b(2.5, 3.5) == pytest.approx(
        float(_mp_erlang(3.5, 2.5, 1, 0)[0]), rel=1e-12)
    # 10,000 Erlangs: finite, and the requirement is minimal
    r = erlang.required_agents(10000.0, 180, 20, 0.8)
    assert erlang.service_level(10000.0, r.whole, 180, 20) >= 0.8
    assert erlang.service_level(10000.0, r.whole - 1, 180, 20) < 0.8
    with pytest.raises(StaffingError):
        erlang.required_agents(10.0, 180, 20, 1.0)


def test_fractional_requirement_meets_target_exactly():
    a = np.array([0.2, 1.7, 10.0, 55.5, 300.0, 4321.0])
    r = erlang.required_agents(a, 240, 30, 0.85)
    assert np.all(r.fractional > r.whole - 1) and np.all(r.fractional <= r.whole)
    sl = erlang.service_level(a, r.fractional, 240, 30)
    np.testing.assert_allclose(sl, 0.85, atol=1e-6)


def test_asa_and_occupancy_constraints():
    a = np.array([3.0, 30.0, 300.0])
    r = erlang.required_agents(a, 180, 20, 0.5, asa_target=5.0, max_occupancy=0.8)
    m = erlang.metrics(a, r.whole, 180, 20)
    assert np.all(m.asa_seconds <= 5.0) and np.all(m.occupancy <= 0.8 + 1e-12)
    below = erlang.metrics(a, r.whole - 1, 180, 20)
    assert np.all((below.asa_seconds > 5.0) | (below.occupancy > 0.8)
                  | (below.service_level < 0.5))
    # fractional: the binding constraint is met exactly
    fm = erlang.metrics(a, r.fractional, 180, 20)
    binding = np.minimum(np.abs(fm.asa_seconds - 5.0) / 5.0, np.abs(fm.occupancy - 0.8))
    assert np.all(binding < 1e-6)


@settings(max_examples=60, deadline=None)
@given(traffic=st.floats(0.01, 400.0), aht=st.floats(20.0, 1200.0),
       t=st.floats(0.0, 120.0), target=st.floats(0.05, 0.99))
def test_required_agents_minimal(traffic, aht, t, target):
    r = erlang.required_agents(traffic, aht, t, target)
    assert erlang.service_level(traffic, r.whole, aht, t) >= target
    assert r.whole - 1 <= traffic or erlang.service_level(traffic, r.whole - 1, aht, t) < target


@settings(max_examples=60, deadline=None)
@given(traffic=st.floats(0.01, 500.0), aht=st.floats(20.0, 1200.0), t=st.floats(0.0, 120.0))
def test_service_level_rises_with_agents(traffic, aht, t):
    n = np.floor(traffic) + np.arange(0, 40) * 0.5
    sl = erlang.service_level(traffic, n, aht, t)
    assert np.all(np.diff(sl) >= -1e-12)


@settings(max_examples=40, deadline=None)
@given(volume=st.floats(1.0, 500.0), aht=st.floats(30.0, 900.0), factor=st.floats(1.0, 2.0))
def test_requirement_monotone_in_volume_and_aht(volume, aht, factor):
    base = erlang.required_agents(erlang.traffic_erlangs(volume, aht, 15), aht, 20, 0.8)
    more = erlang.required_agents(erlang.traffic_erlangs(volume * factor, aht, 15), aht, 20, 0.8)
    longer = erlang.required_agents(erlang.traffic_erlangs(volume, aht * factor, 15),
                                    aht * factor, 20, 0.8)
    assert more.whole >= base.whole and longer.whole >= base.whole
    assert more.fractional >= base.fractional - 1e-7
    assert longer.fractional >= base.fractional - 1e-7


def simulate_mmn(lam, aht, n, answer, customers, seed):
    """FCFS M/M/N: waits via the servers' next-free times (exact for FCFS)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, customers))
    service = rng.exponential(aht, customers)
    free = [0.0] * n
    waits = np.empty(customers)
    for i in range(customers):
        f = heapq.heappop(free)
        start = max(arrivals[i], f)
        waits[i] = start - arrivals[i]
        heapq.heappush(free, start + service[i])
    return waits


@pytest.mark.parametrize("traffic,n", [(4.0, 6), (12.0, 15)])
def test_agrees_with_simulation(traffic, n):
    aht, answer = 100.0, 15.0
    waits = simulate_mmn(traffic / aht, aht, n, answer, 120_000, seed=7)[5_000:]
    # batch means for a confidence interval under autocorrelation
    batches = np.array_split(waits, 50)
    sl_b = np.array([np.mean(b <= answer) for b in batches])
    asa_b = np.array([np.mean(b) for b in batches])
    m = erlang.metrics(traffic, n, aht, answer)
    se_sl = sl_b.std(ddof=1) / np.sqrt(len(sl_b))
    se_asa = asa_b.std(ddof=1) / np.sqrt(len(asa_b))
    assert abs(sl_b.mean() - m.service_level) < 4 * se_sl + 1e-3
    assert abs(asa_b.mean() - m.asa_seconds) < 4 * se_asa + 0.05
