"""The Lagrangian bound at given duals: below the brute-force optimum, above the LP."""

from __future__ import annotations

import numpy as np
import pytest
from test_columns import _brute_optimum, _two_agents
from test_scheduling_solvers import fixed, requirements, roster, scenario
from test_step1 import _inputs

from wfm.scheduling import core, schedule
from wfm.scheduling.columns import bound_by_columns
from wfm.scheduling.lagrangian import lagrangian_bound
from wfm.scheduling.model import build_model
from wfm.scheduling.solve import solve


def _one_group_inputs():
    """Two voice agents in one skill group, three days: one may work any
    day but never two in a row, the other one day only. The LP pools their
    contracts, each agent's week keeps its own. ``(scenario, requirements,
    roster)``."""
    brk = [{"minutes": 30, "earliest_after_start_minutes": 120,
            "latest_after_start_minutes": 135}]
    scen = scenario([fixed("06:00", [4.0, 8.0], breaks=brk, latest="14:00", step=480)])
    req = requirements(scen, 3, {"voice": [(0, 15, 21, 1.6), (0, 10, 16, 0.4),
                                           (1, 9, 12, 0.5), (1, 14, 18, 0.9),
                                           (2, 16, 22, 0.4), (2, 15, 21, 1.3)]})
    ros = roster([{"agent_id": "a0", "skills": "voice", "min_hours_week": 0.0,
                   "max_hours_week": 20.0, "max_days_week": 3, "max_consecutive_days": 2},
                  {"agent_id": "a1", "skills": "voice", "min_hours_week": 0.0,
                   "max_hours_week": 16.0, "max_days_week": 1, "max_consecutive_days": 1}])
    return scen, req, ros


def _one_group():
    scen, req, ros = _one_group_inputs()
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=3)
    return scen, agents, demand, catalog, groups


# (instance, its LP relaxation, the bound at the LP's duals); brute-force
# optima 2,557.0 and 3,619.9, column generation 1,487.2 and 2,561.3
CASES = [(_two_agents, 1487.165, 1487.165), (_one_group, 1372.0425, 1818.2925)]


@pytest.fixture(scope="module", params=CASES, ids=["two groups", "one group"])
def case(request):
    build, lp_value, at_duals = request.param
    scen, agents, demand, catalog, groups = build()
    optimum = _brute_optimum(demand, catalog, groups, agents, scen.weights)
    columns = bound_by_columns(demand, catalog, groups, agents, scen.weights, 11.0)
    assert columns.converged
    prob = build_model(demand, catalog, groups, agents, scen.weights, 11.0)
    rep = solve(prob, "highs", mip=False)
    assert rep.status == "optimal"
    assert rep.objective == pytest.approx(lp_value, abs=1e-3)
    duals = np.zeros((len(groups), catalog.n_intervals))
    for (g, t), con in prob.wfm.heads.items():
        duals[g, t] = con.pi

    def bound(pi):
        return lagrangian_bound(demand, catalog, groups, agents, scen.weights, 11.0, pi)

    return bound, duals, rep.objective, at_duals, columns.master_lp, optimum


def test_the_lps_duals_give_at_least_the_lp(case):
    bound, duals, lp, at_duals, columns, optimum = case
    got = bound(duals)
    assert lp - 1e-6 <= got <= columns + 1e-6
    assert columns <= optimum + 1e-6
    # above the LP where it pools the contracts of a group's members
    assert got == pytest.approx(at_duals, abs=1e-3)


@pytest.mark.parametrize("seed", range(3))
def test_other_duals_give_a_bound_below_the_optimum(case, seed):
    bound, duals, _lp, _at, columns, optimum = case
    rng = np.random.default_rng(seed)
    # near the LP's duals, and far above the over-coverage penalty (lowered
    # to it inside)
    for pi in (duals + rng.normal(0.0, 5.0, duals.shape),
               duals + rng.normal(0.0, 200.0, duals.shape)):
        got = bound(pi)
        assert got is not None
        # column generation maximises the same bound over the duals
        assert got <= columns + 1e-6
        assert got <= optimum + 1e-6


def test_duals_of_the_wrong_shape_are_refused(case):
    bound, *_rest = case
    with pytest.raises(ValueError, match="groups x intervals"):
        bound(np.zeros((1, 1)))


def test_schedule_reports_the_bound_at_the_lps_duals(monkeypatch):
    # the large-instance path: the LP on the full grid in a thread, then the
    # Lagrangian bound at its duals, which is the best bound here
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    scen, req, ros = _one_group_inputs()
    res = schedule(req, scen, ros, time_limit=60)
    stages = res.stages.set_index("stage")
    assert res.lp_bound == pytest.approx(1372.0425, abs=1e-3)
    assert stages.loc["lagrangian_bound", "objective"] == pytest.approx(1818.2925, abs=1e-3)
    assert res.best_bound == pytest.approx(1818.2925, abs=1e-3)
    # brute force: 3,619.9, which the search finds
    assert res.objective >= res.best_bound - 1e-6
    assert "bound 1,818.3" in res.message


def test_a_failed_lagrangian_bound_leaves_the_lps_and_says_so(monkeypatch):
    def broken(*_args, **_kw):
        raise MemoryError("no room")

    monkeypatch.setattr(core, "lagrangian_bound", broken)
    scen, req, ros = _one_group_inputs()
    res = schedule(req, scen, ros, time_limit=60)
    assert "the Lagrangian bound failed (no room); the best bound is without it" \
        in res.message
    assert "lagrangian_bound" not in set(res.stages["stage"])
    assert res.best_bound >= res.lp_bound - 1e-6


@pytest.mark.parametrize(("max_integers", "threads", "where"), [
    (None, None, "wfm-lagrangian"),     # step 1 solved the LP: a thread of its own
    (None, 1, "MainThread"),            # one core asked for: no thread
    (0, None, "wfm-bound-lp"),          # after the LP solved alongside, in its thread
])
def test_where_the_bound_is_computed(monkeypatch, max_integers, threads, where):
    import threading

    if max_integers is not None:
        monkeypatch.setattr(core, "MIP_MAX_INTEGERS", max_integers)
    real, seen = core.lagrangian_bound, []

    def spy(*args, **kw):
        seen.append(threading.current_thread().name)
        return real(*args, **kw)

    monkeypatch.setattr(core, "lagrangian_bound", spy)
    scen, req, ros = _one_group_inputs()
    res = schedule(req, scen, ros, time_limit=60, threads=threads)
    assert seen == [where]
    assert "lagrangian_bound" in set(res.stages["stage"])


def test_a_lagrangian_bound_out_of_time_is_left_out_and_said(monkeypatch):
    monkeypatch.setattr(core, "lagrangian_bound", lambda *_a, **_k: None)
    scen, req, ros = _one_group_inputs()
    res = schedule(req, scen, ros, time_limit=60)
    assert "the Lagrangian bound's LP stopped at the time limit" in res.message
    assert "lagrangian_bound" not in set(res.stages["stage"])


def test_under_a_short_limit_the_bound_is_taken_at_the_duals_of_the_lp_on_blocks(monkeypatch):
    # the large-instance path below BOUND_LP_MIN_LIMIT: no LP on the full grid,
    # so the Lagrangian bound is priced at the block LP's duals, spread over
    # each block's intervals; it must still lie below the brute-force optimum
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    scen, req, ros = _one_group_inputs()
    res = schedule(req, scen, ros, time_limit=core.BOUND_LP_MIN_LIMIT - 1)
    stages = res.stages.set_index("stage")
    assert "lp_relaxation" not in stages.index
    blocks = stages.loc["lp_blocks", "objective"]
    lag = stages.loc["lagrangian_bound", "objective"]
    # 1,800.5 against the block LP's 1,203.3 (at the full grid's duals: 1,818.3)
    assert lag > blocks + 1.0
    assert res.best_bound == pytest.approx(lag)
    assert lag <= 3619.9 + 1e-6                 # brute force
    assert "the LP relaxation on the full grid was not solved" in res.message
