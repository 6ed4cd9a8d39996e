"""The column-generation bound and its exact week pricing, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_scheduling_solvers import fixed, requirements, roster, scenario
from test_step1 import _inputs

from wfm.scheduling.assign import valid_week
from wfm.scheduling.columns import bound_by_columns
from wfm.scheduling.improve import (
    _CoverageLP,
    cheapest_week,
    pair_matrix,
    shift_cost_function,
)
from wfm.scheduling.reference import build_agent_model
from wfm.scheduling.roster import week_blocks
from wfm.scheduling.solve import solve

REST = 11 * 60


def _weeks(types, catalog):
    """Every choice of at most one of ``types`` a day (brute force)."""
    by_day = [[None, *[int(s) for s in types if catalog.day[s] == d]]
              for d in range(len(catalog.days))]
    for pick in itertools.product(*by_day):
        yield [s for s in pick if s is not None]


@pytest.mark.parametrize(("days", "contract", "seed"), [
    (7, {"min_hours_week": 16.0, "max_hours_week": 32.0, "max_days_week": 4,
         "max_consecutive_days": 2}, 0),
    (7, {"min_hours_week": 0.0, "max_hours_week": 40.0, "max_days_week": 6,
         "max_consecutive_days": 3}, 1),
    (9, {"min_hours_week": 20.0, "max_hours_week": 28.0, "max_days_week": 4,
         "max_consecutive_days": 3}, 2),
])
def test_cheapest_week_is_the_brute_force_optimum(days, contract, seed):
    # starts 06:00 and 14:00, 4 or 8 hours: a late shift followed by an
    # early one breaks the 11-hour rest
    scen = scenario([fixed("06:00", [4.0, 8.0], latest="14:00", step=480)])
    req = requirements(scen, days, {"voice": [(0, 6, 22, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", **contract}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=days)
    ag = agents[0]
    rng = np.random.default_rng(seed)
    types = np.flatnonzero(groups[0].compat[0])
    if days > 7:                                  # keep the brute force small
        types = types[catalog.paid[types] == 480]
    cost = rng.normal(0.0, 10.0, types.size)      # negative costs too, as with duals
    floors = [ag.min_hours * share * 60.0 for _d, share in week_blocks(days)]
    price = dict(zip(types.tolist(), cost))
    best = min((sum(price[s] for s in w), w) for w in _weeks(types, catalog)
               if valid_week(ag, w, catalog, REST))
    got = cheapest_week(cost, types, ag, catalog, REST, floors)
    assert got is not None
    assert got[0] == pytest.approx(best[0], abs=1e-9)
    week = [int(types[i]) for i in got[1]]
    assert valid_week(ag, week, catalog, REST)
    assert sum(price[s] for s in week) == pytest.approx(got[0], abs=1e-9)


def test_cheapest_week_none_when_no_week_keeps_the_contract():
    scen = scenario([fixed("09:00", [8.0])])
    req = requirements(scen, 7, {"voice": [(0, 9, 17, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 40.0,
                   "max_hours_week": 40.0, "max_days_week": 5, "max_consecutive_days": 1}])
    agents, _demand, catalog, groups = _inputs(scen, req, ros, days=7)
    types = np.flatnonzero(groups[0].compat[0])
    # 5 days of 8 h, never two in a row, do not fit in 7 days
    assert cheapest_week(np.ones(types.size), types, agents[0], catalog, REST,
                         [40 * 60.0]) is None


def _brute_optimum(demand, catalog, groups, agents, weights):
    """The best schedule by enumerating every valid week of every agent."""
    N, _pt, _po, first = pair_matrix(catalog)
    cost = shift_cost_function(agents, catalog, weights)
    G, T = len(groups), catalog.n_intervals
    lp = _CoverageLP(demand, catalog, groups, np.zeros((G, T)), weights, None)
    options = []
    for g, grp in enumerate(groups):
        for mi, a in enumerate(grp.members):
            types = np.flatnonzero(grp.compat[mi])
            mine = []
            for w in _weeks(types, catalog):
                if not valid_week(agents[a], w, catalog, REST):
                    continue
                # every break option of every shift
                for opts in itertools.product(*[range(first[s + 1] - first[s]) for s in w]):
                    v = np.zeros(T)
                    for s, j in zip(w, opts):
                        r = N.getrow(int(first[s] + j))
                        v[r.indices] += r.data
                    mine.append((g, v, sum(cost(a, s) for s in w)))
            options.append(mine)
    best = np.inf
    now = np.zeros((G, T))
    for combo in itertools.product(*options):
        present = np.zeros((G, T))
        for g, v, _c in combo:
            present[g] += v
        delta = present - now
        for g in range(G):
            idx = np.flatnonzero(np.abs(delta[g]) > 1e-12)
            if idx.size:
                lp.change(g, idx, delta[g, idx], solve=False)
        now = present
        lp.change(0, np.zeros(0, dtype=np.int64), np.zeros(0))
        best = min(best, lp.objective + sum(c for _g, _v, c in combo))
    return best


def _two_agents():
    """Two agents (voice; voice and chat), two days; 4- and 8-hour shifts
    from 06:00 or 14:00 with a 30-minute break after 2 h or 2:15; demand
    that no integer schedule meets exactly. ``(scenario, agents, demand,
    catalog, groups)``."""
    brk = [{"minutes": 30, "earliest_after_start_minutes": 120,
            "latest_after_start_minutes": 135}]
    scen = scenario([fixed("06:00", [4.0, 8.0], breaks=brk, latest="14:00", step=480)],
                    channels=[{"name": "voice", "kind": "realtime", "priority": 1.0},
                              {"name": "chat", "kind": "realtime", "priority": 0.5}])
    req = requirements(scen, 2, {"voice": [(0, 6, 14, 1.3), (1, 10, 20, 0.7)],
                                 "chat": [(0, 14, 22, 0.6), (1, 8, 12, 1.0)]})
    ros = roster([{"agent_id": "v", "skills": "voice", "min_hours_week": 8.0,
                   "max_hours_week": 16.0, "max_days_week": 2},
                  {"agent_id": "vc", "skills": "voice;chat", "min_hours_week": 0.0,
                   "max_hours_week": 12.0, "max_days_week": 2, "max_consecutive_days": 1}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=2)
    return scen, agents, demand, catalog, groups


def test_column_bound_is_below_the_optimum_and_above_the_per_agent_lp():
    scen, agents, demand, catalog, groups = _two_agents()
    cb = bound_by_columns(demand, catalog, groups, agents, scen.weights, 11.0)
    assert cb.converged
    optimum = _brute_optimum(demand, catalog, groups, agents, scen.weights)
    assert cb.bound <= optimum + 1e-6
    per_agent = solve(build_agent_model(demand, catalog, groups, agents, scen.weights, 11.0),
                      "highs", mip=False)
    assert per_agent.status == "optimal"
    assert cb.bound >= per_agent.objective - 1e-6
