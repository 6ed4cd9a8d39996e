"""The per-agent LP bound (benchmark reference)."""

from __future__ import annotations

import pytest
from test_scheduling_solvers import fixed, requirements, roster, scenario
from test_step1 import _medium

from wfm.scheduling import schedule
from wfm.scheduling.reference import reference_bound


def test_bound_of_a_single_shift_is_its_labour():
    # 1 head 08-16, one 8 h shift at 08:00: the optimum works it, 8 h x 0.5
    scen = scenario([fixed("08:00", [8.0])])
    req = requirements(scen, 1, {"voice": [(0, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice"}])
    rep = reference_bound(req, scen, ros)
    assert rep.status == "optimal"
    assert rep.objective == pytest.approx(4.0, abs=1e-5)


def test_per_agent_rules_raise_the_bound_to_the_optimum():
    # two agents, each at most one day a week; the demand wants the same
    # head on Monday and Tuesday 08-16. Per agent, each works one day: both
    # days covered, labour 2 x 8 h x 0.5 = 8.0; the schedule finds it too
    scen = scenario([fixed("08:00", [8.0])])
    req = requirements(scen, 2, {"voice": [(0, 8, 16, 1.0), (1, 8, 16, 1.0)]})
    ros = roster([{"agent_id": x, "skills": "voice", "max_days_week": 1} for x in "ab"])
    rep = reference_bound(req, scen, ros)
    res = schedule(req, scen, ros, time_limit=30)
    assert rep.objective == pytest.approx(8.0, abs=1e-5)
    assert res.objective == pytest.approx(8.0, abs=1e-5)


def test_bound_is_below_the_schedule_on_a_fractional_instance():
    scen, req, ros = _medium()
    rep = reference_bound(req, scen, ros)
    res = schedule(req, scen, ros, time_limit=30)
    assert rep.status == "optimal"
    assert rep.objective <= res.objective + 1e-6
    # not a trivial bound: here as tight as the shift-count LP's
    assert rep.objective >= res.lp_bound - 1e-6
