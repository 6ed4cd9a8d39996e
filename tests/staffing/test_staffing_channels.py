"""Channel models: concurrency, deferred backlog, derived volume.

The deferred tests check the computed staffing with an independent,
item-by-item simulation written here: every e-mail is a discrete item with
its own arrival time (uniform inside its interval), agents work items first
come first served at the capacity the staffing gives, and each item's
completion time is compared with its own deadline (arrival + response time).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfm.errors import StaffingError
from wfm.staffing import channels, erlang


def simulate_items(volume, aht, capacity, interval_s, response_s, seed=0):
    """Completion lateness [s] of each item (<= 0: on time), FCFS.

    Items arrive uniformly inside their interval; capacity is the agent-seconds
    of handling available per interval, delivered at a constant rate within it.
    """
    rng = np.random.default_rng(seed)
    n = len(volume)
    arrivals = np.concatenate([i * interval_s + np.sort(rng.uniform(0, interval_s, int(v)))
                               for i, v in enumerate(volume)])
    cum_cap = np.concatenate(([0.0], np.cumsum(capacity)))

    def time_when_capacity_reaches(c):
        # the time at which cumulative capacity (linear within intervals) equals c
        i = np.searchsorted(cum_cap, c, side="left")
        if i > n:
            return np.inf
        i = max(i, 1)
        rate = capacity[i - 1] / interval_s
        return (i - 1) * interval_s + (c - cum_cap[i - 1]) / rate if rate > 0 else i * interval_s

    def capacity_at(t):
        i = int(t // interval_s)
        if i >= n:
            return cum_cap[-1]
        return cum_cap[i] + capacity[i] * (t - i * interval_s) / interval_s

    late = np.empty(arrivals.size)
    used = 0.0            # cumulative capacity used when the previous item finished
    for k, t in enumerate(arrivals):
        start_cap = max(used, capacity_at(t))     # idle capacity before arrival is lost
        used = start_cap + aht
        done = time_when_capacity_reaches(used - 1e-9)
        late[k] = done - (t + response_s)
    return late


@pytest.mark.parametrize("policy", ["level", "jit"])
@pytest.mark.parametrize("response_hours", [0.5, 2.0, 24.0])
def test_every_item_meets_its_deadline(policy, response_hours):
    rng = np.random.default_rng(3)
    interval_s, aht = 900.0, 300.0
    hours = np.arange(3 * 96) % 96
    base = np.where((hours >= 32) & (hours < 72), 6.0, 1.0)
    volume = rng.poisson(base).astype(float)
    volume[100] += 40                      # a burst
    d = channels.deadline_intervals(response_hours, 15)
    pad = np.concatenate([volume, np.zeros(d)])
    cap = channels.deferred_capacity(pad * aht, d, policy=policy)
    assert cap.sum() == pytest.approx(pad.sum() * aht)
    late = simulate_items(pad, aht, cap, interval_s, response_hours * 3600.0)
    assert np.all(late <= 1e-6), late.max()
    res = channels.backlog_service(pad * aht, cap, d, interval_s)
    assert np.all(res.on_time_share[: len(volume)] == 1.0)


def test_level_is_flatter_than_jit_and_understaffing_misses():
    rng = np.random.default_rng(5)
    volume = rng.poisson(np.tile(np.r_[np.full(40, 0.5), np.full(56, 8.0)], 3)).astype(float)
    work = volume * 400.0
    d = channels.deadline_intervals(8, 15)
    level = channels.deferred_capacity(work, d, policy="level")
    jit = channels.deferred_capacity(work, d, policy="jit")
    assert level.max() < jit.max()
    assert level.std() < jit.std()
    short = level * 0.8
    res = channels.backlog_service(work, short, d, 900.0)
    assert np.nanmin(res.on_time_share[: len(work) - d]) < 1.0
    late = simulate_items(volume, 400.0, short, 900.0, 8 * 3600.0)
    assert np.any(late > 0)


def test_workable_intervals_only():
    # work may only be done in "day" intervals; night arrivals wait for morning
    n = 96 * 2
    mask = (np.arange(n) % 96 >= 28) & (np.arange(n) % 96 < 88)
    work = np.full(n, 600.0)
    d = channels.deadline_intervals(4, 15)
    cap = channels.deferred_capacity(work, d, mask)
    assert np.all(cap[~mask] == 0)
    # work is done from the interval after arrival; arrivals after the last
    # workable interval of the grid would be done after it (not returned)
    last_workable = np.flatnonzero(mask).max()
    assert cap.sum() == pytest.approx(work[:last_workable].sum())
    res = channels.backlog_service(work, cap, d, 900.0)
    # every batch whose window (the d-1 intervals after it) holds a workable
    # interval is on time
    feasible = np.array([mask[i + 1:i + d].any() for i in range(n - d)])
    assert feasible.sum() > 100
    assert np.all(res.on_time_share[: n - d][feasible] == 1.0)
    # arrivals in the middle of the night cannot be answered within 4 hours
    assert res.on_time_share[8] < 1.0


def test_backlog_service_response_time():
    # one batch of 3600 s of work, 1 agent-interval (900 s) per interval:
    # done after 4 intervals, the middle item after ~2
    work = np.array([3600.0, 0, 0, 0, 0, 0])
    cap = np.full(6, 900.0)
    res = channels.backlog_service(work, cap, 3, 900.0)
    assert res.processed_seconds.tolist() == [900.0] * 4 + [0.0, 0.0]
    assert res.on_time_share[0] == pytest.approx(0.75)
    assert res.response_seconds[0] == pytest.approx((2.0 - 0.5) * 900.0)
    assert res.backlog_seconds[-1] == 0.0
    with pytest.raises(StaffingError):
        channels.deferred_capacity(work, 2, policy="asap")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 50), min_size=5, max_size=60), st.integers(1, 12),
       st.sampled_from(["level", "jit"]))
def test_capacity_meets_all_deadlines_property(volume, d, policy):
    volume = np.asarray(volume + [0.0] * d)
    work = np.floor(volume) * 300.0
    cap = channels.deferred_capacity(work, d, policy=policy)
    res = channels.backlog_service(work, cap, d, 900.0)
    assert np.all(res.on_time_share[: len(work) - d] >= 1.0 - 1e-12)
    assert cap.sum() == pytest.approx(work.sum(), abs=1e-6)


def test_concurrency_model():
    # 2 sessions per agent: an M/M/(2N) queue on sessions
    traffic, aht = 12.0, 600.0
    r = channels.queue_requirement(traffic, aht, 60, 0.8, concurrency=2)
    servers = erlang.required_agents(traffic, aht, 60, 0.8)
    assert r.whole == int(np.ceil(servers.whole / 2))
    assert r.fractional == pytest.approx(servers.fractional / 2)
    m = channels.queue_metrics(traffic, r.whole, aht, 60, concurrency=2)
    assert m.service_level == pytest.approx(erlang.service_level(traffic, 2 * r.whole, aht, 60))
    assert m.occupancy == pytest.approx(traffic / (2 * r.whole))
    assert channels.queue_metrics(traffic, r.whole - 1, aht, 60,
                                  concurrency=2).service_level < 0.8


def test_derived_volume_and_deadline():
    np.testing.assert_allclose(channels.derived_volume([10.0, 0.0, 3.0], 0.15), [1.5, 0, 0.45])
    assert channels.deadline_intervals(72, 15) == 288
    assert channels.deadline_intervals(2, 30) == 4
