"""Step 2's contract helpers on horizons longer than a week (per 7-day block)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from test_improve import _type
from test_scheduling_solvers import MON, checked, fixed, requirements, roster, scenario
from test_step1 import _inputs

from wfm.scheduling import schedule
from wfm.scheduling.assign import _fits, greedy_assign, top_up, valid_week
from wfm.scheduling.checker import check_schedule
from wfm.scheduling.core import _fit_minimum_hours


def _two_weeks(min_hours=16.0, max_hours=40.0, max_days=5):
    scen = scenario([fixed("06:00", [8.0], latest="09:00", step=180)])
    req = requirements(scen, 14, {"voice": [(d, 9, 17, 1.0) for d in range(14)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": min_hours,
                   "max_hours_week": max_hours, "max_days_week": max_days,
                   "max_consecutive_days": 6}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=14)
    return agents[0], catalog, groups[0]


def _hours_per_block(catalog, shifts):
    out = [0.0, 0.0]
    for s in shifts:
        out[int(catalog.day[s]) // 7] += catalog.paid[s] / 60.0
    return out


def test_fits_counts_the_weekly_maximum_per_week_of_the_horizon():
    ag, catalog, _grp = _two_weeks(max_hours=24.0, max_days=3)
    week1 = [_type(catalog, d, "09:00", 8.0) for d in (0, 2, 4)]           # 24 h, 3 days
    # the first week is full, the second is not: a shift there fits
    assert _fits(ag, week1, _type(catalog, 8, "09:00", 8.0), catalog, 11 * 60)
    assert not _fits(ag, week1, _type(catalog, 6, "09:00", 8.0), catalog, 11 * 60)
    # and consecutive days still run across the weeks: Sunday after a full Mon-Sat
    ag.max_hours, ag.max_days, ag.max_consecutive = 60.0, 7, 6
    six = [_type(catalog, d, "09:00", 8.0) for d in range(1, 7)]
    assert not _fits(ag, six, _type(catalog, 7, "09:00", 8.0), catalog, 11 * 60)
    assert _fits(ag, six, _type(catalog, 8, "09:00", 8.0), catalog, 11 * 60)


def test_top_up_reaches_the_minimum_in_every_week():
    ag, catalog, grp = _two_weeks(min_hours=16.0)
    # 32 h in the first week, nothing in the second: over the horizon the
    # agent works twice the weekly minimum, but the second week has none
    start = {0: [_type(catalog, d, "09:00", 8.0) for d in range(4)]}
    out = top_up(grp, start, catalog, [ag], 11 * 60)[0]
    assert _hours_per_block(catalog, out) == [32.0, 16.0]
    assert valid_week(ag, out, catalog, 11 * 60)
    # from nothing: each week gets its own minimum
    out = top_up(grp, {}, catalog, [ag], 11 * 60)[0]
    assert _hours_per_block(catalog, out) == [16.0, 16.0]


def test_top_up_rebuilds_the_week_when_adding_shifts_cannot_reach_the_minimum():
    # exactly 25 h in at most 3 days with 8, 8.5 and 9 h shifts: adding the
    # longest shift while none suffices gives 9 + 9, and then any third
    # shift passes the maximum; the week 9 + 8 + 8 keeps every rule
    scen = scenario([fixed("09:00", [8.0, 8.5, 9.0])])
    req = requirements(scen, 7, {"voice": [(0, 9, 17, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 25.0,
                   "max_hours_week": 25.0, "max_days_week": 3}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=7)
    assert _fit_minimum_hours(agents, catalog, groups, 11 * 60) == []
    start = {0: [_type(catalog, 2, "09:00", 8.5)]}
    out = top_up(groups[0], start, catalog, agents, 11 * 60)[0]
    assert sum(catalog.paid[s] for s in out) / 60.0 == pytest.approx(25.0)
    assert valid_week(agents[0], out, catalog, 11 * 60)
    assert start[0][0] in out            # the shift it had is kept (8.5 + 8.5 + 8)


def test_greedy_assign_keeps_the_maximum_per_week_not_per_horizon():
    ag, catalog, grp = _two_weeks(min_hours=0.0, max_hours=16.0, max_days=2)
    counts = {_type(catalog, d, "09:00", 8.0): 1 for d in (0, 2, 4, 8, 10)}
    out = greedy_assign(grp, counts, catalog, [ag], 11 * 60)[0]
    # two shifts a week (16 h), not two over the fortnight
    assert _hours_per_block(catalog, out) == [16.0, 16.0]
    assert valid_week(ag, out, catalog, 11 * 60)


def test_minimum_hours_out_of_reach_in_one_week_are_lowered_to_that_week():
    ag, catalog, grp = _two_weeks(min_hours=32.0)
    # unavailable for all but two days of the second week: 16 h possible there
    grp.compat[0, np.isin(catalog.day, [7, 8, 9, 10, 11])] = False
    notes = _fit_minimum_hours([ag], catalog, [grp], 11 * 60)
    assert len(notes) == 1 and "at most 16 h" in notes[0]
    assert ag.min_hours == pytest.approx(16.0)


def test_short_horizon_lowers_the_weekly_minimum_pro_rata():
    # 2 days of one 8-hour shift each: 16 h possible, 2/7 of a week; a weekly
    # minimum of 70 h asks for 20 h there, so it becomes 16 / (2/7) = 56 h
    scen = scenario([fixed("09:00", [8.0])])
    req = requirements(scen, 2, {"voice": [(0, 9, 17, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 70.0,
                   "max_hours_week": 80.0, "max_days_week": 7}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=2)
    _fit_minimum_hours(agents, catalog, groups, 11 * 60)
    assert agents[0].min_hours == pytest.approx(56.0)


def test_minimum_hours_the_shift_lengths_cannot_add_up_to_are_lowered():
    # 39 h a week, no more, with 8 and 8.5 h shifts: four shifts give at most
    # 34 h, five at least 40 h; 34 h is the most a week can have
    scen = scenario([fixed("09:00", [8.0, 8.5])])
    req = requirements(scen, 7, {"voice": [(0, 9, 17, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 39.0,
                   "max_hours_week": 39.0, "max_days_week": 5},
                  {"agent_id": "b", "skills": "voice", "min_hours_week": 32.0,
                   "max_hours_week": 39.0, "max_days_week": 5}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=7)
    notes = _fit_minimum_hours(agents, catalog, groups, 11 * 60)
    assert notes == ["a (min 39 h a week, at most 34 h possible)"]
    assert agents[0].min_hours == pytest.approx(34.0) and agents[1].min_hours == 32.0
    # the run reaches the lowered minimum, and its bound is one on it: not
    # above the schedule (the contract's 39 h would put it there)
    res = schedule(req, scen, ros, time_limit=30, gap=1e-6)
    assert "a (min 39 h a week, at most 34 h possible)" in res.message
    assert "infeasible" not in set(res.stages["status"])
    assert res.best_bound <= res.objective + 1e-6
    hours = res.agent_hours.set_index("agent_id")["paid_hours"]
    assert hours["a"] == pytest.approx(34.0) and 32.0 <= hours["b"] <= 39.0
    rep = check_schedule(res.shifts, res.assignments, ros, scen, horizon_start=MON,
                         horizon_days=7)
    assert set(rep.violations["agent_id"]) == {"a"} and rep.rules() == {"min_hours"}


def test_more_than_five_lowered_minimums_are_counted_in_the_message():
    scen = scenario([fixed("09:00", [8.0, 8.5])])
    req = requirements(scen, 7, {"voice": [(0, 9, 17, 1.0)]})
    ros = roster([{"agent_id": f"a{i}", "skills": "voice", "min_hours_week": 39.0,
                   "max_hours_week": 39.0, "max_days_week": 5} for i in range(7)])
    res = schedule(req, scen, ros, time_limit=30)
    assert "7 agent(s) cannot reach their minimum hours" in res.message
    assert "a4 (min 39 h a week, at most 34 h possible) and 2 more" in res.message
    assert (res.agent_hours["min_hours_week"] == 34.0).all()


def test_minimum_hours_the_rest_rule_rules_out_are_lowered():
    # one early and one late start a day, 8 h each; with 16 h of rest no
    # shift may follow a late one the next day, and with 20 h none may
    # follow an early one either: 2 of 3 days at most, 16 h
    scen = scenario([fixed("06:00", [8.0], latest="14:00", step=480)], rest=20.0)
    req = requirements(scen, 3, {"voice": [(0, 9, 17, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 56.0,
                   "max_hours_week": 60.0, "max_days_week": 7}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=3)
    notes = _fit_minimum_hours(agents, catalog, groups, 20 * 60)
    # 16 h in 3/7 of a week is 37.3 h a week; the days alone allowed 56 h
    assert len(notes) == 1 and agents[0].min_hours == pytest.approx(16.0 * 7 / 3)


def test_two_week_schedule_keeps_every_weekly_contract():
    scen = scenario([fixed("06:00", [8.0], latest="09:00", step=180)])
    req = requirements(scen, 14, {"voice": [(d, 9, 17, 1.0) for d in range(7)]})
    ros = roster([{"agent_id": f"a{i}", "skills": "voice", "min_hours_week": 16.0,
                   "max_hours_week": 24.0, "max_days_week": 3} for i in range(3)])
    res = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    checked(res, ros, scen, days=14)
    dates = pd.to_datetime(res.shifts["date"]).dt.date
    week2 = res.shifts[dates >= MON + dt.timedelta(days=7)]
    assert len(week2) >= 6            # 3 agents x 16 h in the week without demand


def test_no_time_left_gives_the_greedy_construction_without_a_solver(monkeypatch):
    from wfm.config import SchedulingWeights
    from wfm.scheduling import assign

    def no_solver(*_a, **_k):
        raise AssertionError("a MILP was solved with no time left")

    ag, catalog, grp = _two_weeks(min_hours=16.0, max_hours=24.0, max_days=3)
    counts = {_type(catalog, d, "09:00", 8.0): 1 for d in (0, 2, 4, 8)}
    monkeypatch.setattr(assign, "solve", no_solver)
    out = assign.assign_group(0, grp, counts, catalog, [ag], SchedulingWeights(), 11.0,
                              time_limit=0.0)
    greedy = greedy_assign(grp, counts, catalog, [ag], 11 * 60)
    assert out.shifts == top_up(grp, greedy, catalog, [ag], 11 * 60)
    assert out.report.status == "time_limit"
    # the planned shifts, and the second week topped up to its minimum
    assert _hours_per_block(catalog, out.shifts[0]) == [24.0, 16.0]
    assert valid_week(ag, out.shifts[0], catalog, 11 * 60)


def test_priced_weeks_staff_the_plan_under_every_contract_rule():
    """Six planned 8-h shifts for two agents (16 h in 2 days, 24 h in 3):
    five can be staffed, the rest rule (11 h) parting 14:00-22:00 from 06:00
    the next morning; each week is valid, nothing is staffed off the plan."""
    from wfm.config import SchedulingWeights
    from wfm.scheduling.assign import _candidates, _deviation, _profile, priced_weeks

    scen = scenario([fixed("06:00", [8.0], latest="14:00", step=60)])
    req = requirements(scen, 7, {"voice": [(0, 6, 14, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "max_hours_week": 16.0,
                   "max_days_week": 2},
                  {"agent_id": "b", "skills": "voice", "max_hours_week": 24.0,
                   "max_days_week": 3}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=7)
    grp = groups[0]
    grp.types = np.flatnonzero(grp.compat.any(axis=0))
    counts = {_type(catalog, 0, "06:00", 8.0): 2, _type(catalog, 1, "14:00", 8.0): 1,
              _type(catalog, 2, "06:00", 8.0): 1, _type(catalog, 3, "14:00", 8.0): 1,
              _type(catalog, 4, "06:00", 8.0): 1}
    target = _profile(counts, catalog)
    planned = np.array(sorted(counts))
    allowed = _candidates(grp, planned, catalog, agents, set(), 0)
    weeks = priced_weeks(grp, target, allowed, catalog, agents, np.ones(2),
                         SchedulingWeights(), 11 * 60, short_weight=200.0)
    for a, ag in enumerate(agents):
        assert valid_week(ag, weeks[a], catalog, 11 * 60)
        assert set(weeks[a]) <= set(counts)
    assert sorted(len(w) for w in weeks.values()) == [2, 3]
    assert _deviation(target, weeks, catalog) == pytest.approx((8.0, 0.0))
