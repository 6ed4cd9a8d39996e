"""Step 1 of the scheduler: preference costs in the relaxation, and the rounding MILP.

The instances are tiny and their optima derived in the comments; the
relaxation's bound must equal them where the preference conflict is forced.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pulp
import pytest
from test_scheduling_solvers import MON, checked, fixed, requirements, roster, scenario

from wfm.scheduling import core, schedule
from wfm.scheduling.model import build_model, repair_start, round_by_mip, value
from wfm.scheduling.roster import parse_roster
from wfm.scheduling.solve import solve
from wfm.scheduling.templates import expand_shifts


def _early_late():
    # one head 08-16 and one 12-20 on Monday; 8 h shifts start at 08:00 or 12:00
    scen = scenario([fixed("08:00", [8.0], latest="12:00", step=240)])
    req = requirements(scen, 1, {"voice": [(0, 8, 12, 1.0), (0, 12, 16, 2.0), (0, 16, 20, 1.0)]})
    return scen, req


def test_forced_preference_conflict_is_in_the_bound():
    # Both agents want to start at 08:00 but one has to start at 12:00: labour
    # 2 x 8 h x 0.5 = 8 plus one unmet preference (2) = 10 is optimal, and the
    # step-1 bound must see the unmet preference (without it, it would be 8).
    scen, req = _early_late()
    ros = roster([{"agent_id": x, "skills": "voice", "preferred_start": "08:00"} for x in "ab"])
    res = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    assert res.objective == pytest.approx(10.0, abs=1e-6)
    assert res.best_bound == pytest.approx(10.0, abs=1e-6)
    assert res.lp_bound == pytest.approx(10.0, abs=1e-6)
    assert res.status == "optimal"
    assert res.preferences_met == pytest.approx(0.5)
    checked(res, ros, scen)


def test_agent_without_preference_takes_the_late_shift():
    # A third agent without preferences works 12:00; one 08:00 agent stays at
    # home (a preference counts only on worked days): objective 8, all met.
    scen, req = _early_late()
    ros = roster([{"agent_id": x, "skills": "voice", "preferred_start": "08:00"} for x in "ab"]
                 + [{"agent_id": "c", "skills": "voice"}])
    res = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    assert res.objective == pytest.approx(8.0, abs=1e-6)
    assert res.preferences_met == pytest.approx(1.0)
    late = res.shifts.loc[res.shifts["start"].dt.hour == 12, "agent_id"].tolist()
    assert late == ["c"]
    checked(res, ros, scen)


def test_minimum_hours_force_a_wished_day_off_into_the_bound():
    # Agent a wishes Monday off but needs 56 h a week (8 h on a one-day
    # horizon); b has no minimum. Optimal: a works 08-16 (labour 4) and
    # misses the wish (2) = 6. Without counting that a must work, the
    # relaxation would hand the shift to b and bound 4.
    scen = scenario([fixed("08:00", [8.0])])
    req = requirements(scen, 1, {"voice": [(0, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "days_off_wished": "mon",
                   "min_hours_week": 56.0, "max_hours_week": 56.0, "max_days_week": 7},
                  {"agent_id": "b", "skills": "voice"}])
    res = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    assert res.shifts["agent_id"].tolist() == ["a"]
    assert res.objective == pytest.approx(6.0, abs=1e-6)
    assert res.lp_bound == pytest.approx(6.0, abs=1e-6)
    checked(res, ros, scen)


def _medium():
    """Two days, two skill groups, starts every 30 min: a fractional LP."""
    scen = scenario([fixed("06:00", [4.0, 6.0, 8.0], latest="14:00")], channels=[
        {"name": "voice", "kind": "realtime", "priority": 2.0},
        {"name": "chat", "kind": "concurrent", "concurrency": 2, "priority": 1.0}])
    req = requirements(scen, 2, {
        "voice": [(d, 8, 12, 3.3) for d in range(2)] + [(d, 12, 18, 2.6) for d in range(2)]
        + [(d, 18, 22, 1.2) for d in range(2)],
        "chat": [(d, 9, 21, 1.7) for d in range(2)]})
    ros = roster([{"agent_id": f"v{i}", "skills": "voice", "min_hours_week": 8.0}
                  for i in range(5)]
                 + [{"agent_id": f"m{i}", "skills": "voice;chat", "preferred_start": "09:00"}
                    for i in range(4)])
    return scen, req, ros


def _inputs(scen, req, ros, days=2):
    """Agents, demand, shift catalog and skill groups of a small instance."""
    agents = parse_roster(ros, scen)
    demand = core.prepare_demand(req, scen)
    catalog = expand_shifts(scen, [MON + pd.Timedelta(days=d) for d in range(days)])
    return agents, demand, catalog, core.make_groups(agents, catalog, demand.channels)


def test_rounding_milp_keeps_each_count_next_to_its_lp_value():
    scen, req, ros = _medium()
    agents, demand, catalog, groups = _inputs(scen, req, ros)
    prob = build_model(demand, catalog, groups, agents, scen.weights, 11.0)
    rep = solve(prob, "highs", mip=False)
    assert rep.status == "optimal"
    lp = {k: value(v) for k, v in prob.wfm.n.items()}
    assert any(abs(x - round(x)) > 1e-6 for x in lp.values()), "instance should be fractional"
    counts, rep_r = round_by_mip(lp, demand, catalog, groups, agents, scen.weights, 11.0,
                                 "highs", time_limit=60, gap=1e-4)
    assert rep_r.has_solution and counts
    for key, x in lp.items():
        assert math.floor(x + 1e-6) <= counts.get(key, 0) <= math.ceil(x - 1e-6)


def test_large_instance_path_uses_the_rounding_milp(monkeypatch):
    # above MIP_MAX_INTEGERS the counts come from LP + rounding MILP; the
    # schedule is complete and every contract holds
    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    res = schedule(req, scen, ros, time_limit=60)
    assert "rounding" in set(res.stages["stage"])
    assert "shift_counts" not in set(res.stages["stage"])
    assert res.objective >= res.best_bound - 1e-6
    checked(res, ros, scen, days=2)


def test_large_instance_bound_is_the_full_grid_lp_solved_alongside(monkeypatch):
    # on the large-instance path the counts come from the LP on hourly blocks
    # and the bound from the LP on the full grid, solved in a thread: the same
    # value as that LP solved on its own, and at least the blocks' LP
    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    res = schedule(req, scen, ros, time_limit=60)
    agents, demand, catalog, groups = _inputs(scen, req, ros)
    rep = solve(build_model(demand, catalog, groups, agents, scen.weights, 11.0), "highs",
                mip=False)
    stages = res.stages.set_index("stage")
    assert stages.loc["lp_relaxation", "status"] == "optimal"
    assert stages.loc["lp_blocks", "objective"] <= rep.objective + 1e-6
    assert res.lp_bound == pytest.approx(rep.objective, rel=1e-7)
    # then the bound at its duals (here no higher: tests/scheduling/test_lagrangian.py)
    at_duals = stages.loc["lagrangian_bound", "objective"]
    assert at_duals >= rep.objective - 1e-6
    assert res.best_bound == pytest.approx(at_duals, rel=1e-7)
    assert res.objective >= res.best_bound - 1e-6


def _spy_rounding_and_plans(monkeypatch, second=None, tolerance=math.inf):
    """Record round_by_mip's calls and the counts step 2 is given; ``second(out,
    block_minutes)`` replaces the result of the roundings of the full grid's LP.

    ``tolerance``: FULL_GRID_ROUNDING_TOLERANCE; on the medium instance (a few
    members per skill, as with 50 agents) the rounding of the full grid's LP
    is more than 2 % worse on hourly blocks than the first and is not used,
    so by default any is accepted here."""
    rounded, planned, lps = [], {}, []
    real_round, real_assign = core.round_by_mip, core.assign_group

    def round_spy(lp_counts, *args, **kw):
        out = real_round(lp_counts, *args, **kw)
        if kw.get("swaps") and second is not None:
            out = second(out, kw.get("block_minutes"))
        rounded.append((lp_counts, out[0], kw.get("swaps", False), kw.get("block_minutes")))
        # they may run side by side: the first rounding (no swaps) first, the
        # one on half-hour blocks last
        rounded.sort(key=lambda r: (r[2], r[3] or 0))
        return out

    def assign_spy(g, grp, plan, *args, **kw):
        planned.update({(g, s): k for s, k in plan.items() if k})
        return real_assign(g, grp, plan, *args, **kw)

    class Spy(core._BackgroundLP):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            lps.append(self)

    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    monkeypatch.setattr(core, "FULL_GRID_ROUNDING_TOLERANCE", tolerance)
    monkeypatch.setattr(core, "round_by_mip", round_spy)
    monkeypatch.setattr(core, "assign_group", assign_spy)
    monkeypatch.setattr(core, "_BackgroundLP", Spy)
    return rounded, planned, lps


def test_large_instance_rounds_the_full_grid_lp_too_and_plans_with_it(monkeypatch):
    # once the LP on the full grid (the bound's) is solved, its counts are
    # rounded as well, each to an integer next to its value, and step 2 plans
    # with those
    scen, req, ros = _medium()
    rounded, planned, lps = _spy_rounding_and_plans(monkeypatch)
    monkeypatch.setattr(core, "FINE_ROUNDING_BLOCK_MINUTES", 0)
    res = schedule(req, scen, ros, time_limit=60)
    assert "rounding_full_grid_lp" in set(res.stages["stage"])
    assert len(rounded) == 2 and len(lps) == 1
    lp_full, counts, swaps, _block = rounded[1]
    assert lp_full is lps[0].counts and counts is not None
    assert swaps and not rounded[0][2]       # only the second start swaps
    assert lp_full != rounded[0][0]          # not the LP on blocks
    for key, x in lp_full.items():
        assert math.floor(x + 1e-6) <= counts.get(key, 0) <= math.ceil(x - 1e-6)
    assert planned == counts
    checked(res, ros, scen, days=2)


def _round_limits(monkeypatch, before=None) -> list[tuple[int | None, float]]:
    """Record each rounding MILP's (block minutes or None for hourly, time limit).

    ``before(kw)``, if given, is called with the rounding's keywords before it runs.
    """
    limits = []
    real_round = core.round_by_mip

    def round_spy(lp_counts, *args, **kw):
        limits.append((kw.get("block_minutes"), args[7]))
        if before is not None:
            before(kw)
        return real_round(lp_counts, *args, **kw)

    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    monkeypatch.setattr(core, "round_by_mip", round_spy)
    return limits


def test_each_rounding_on_hourly_blocks_runs_at_most_its_share_of_the_time_limit(monkeypatch):
    # with a few agents per skill the rounding MILPs are hard; each may use
    # ROUNDING_MAX_SHARE of the limit, not all of step 1's time (the one on
    # half-hour blocks has its own limit, see the next test)
    scen, req, ros = _medium()
    limits = _round_limits(monkeypatch)
    res = schedule(req, scen, ros, time_limit=60)
    hourly = [lim for block, lim in limits if block is None]
    half_hours = [lim for block, lim in limits if block is not None]
    assert len(hourly) == 2 and len(half_hours) == 1
    assert max(hourly) <= core.ROUNDING_MAX_SHARE * 60 + 1e-9
    checked(res, ros, scen, days=2)


def test_half_hour_rounding_runs_at_most_a_multiple_of_the_first_roundings_time(monkeypatch):
    # it starts on the core the first rounding frees and is stopped after
    # FINE_ROUNDING_MAX_FACTOR times that rounding's time, well before step
    # 1's deadline (0.7 of the limit: 42 s)
    scen, req, ros = _medium()
    limits = _round_limits(monkeypatch)
    monkeypatch.setattr(core, "FINE_ROUNDING_MAX_FACTOR", 2.0)
    res = schedule(req, scen, ros, time_limit=60)
    seconds = res.stage_seconds
    first = seconds["rounding_full_grid_lp"] if "stopped" in set(
        res.stages.set_index("stage").loc[["rounding"], "status"]) else seconds["rounding"]
    half_hours = [lim for block, lim in limits if block is not None]
    assert len(half_hours) == 1
    assert half_hours[0] <= 2.0 * max(core.ROUNDING_MIN_SECONDS, first) + 1e-6
    assert half_hours[0] < 0.5 * 60
    checked(res, ros, scen, days=2)


def test_half_hour_rounding_is_stopped_after_a_multiple_of_the_hourly_one_of_the_same_counts(
        monkeypatch):
    # once the full grid's LP counts are rounded on hourly blocks, their
    # rounding on half-hour blocks (here: one that would take 30 s) is
    # stopped after FINE_ROUNDING_MAX_FACTOR times that rounding's time
    waited = []

    def slow_half_hours(kw):
        if kw.get("block_minutes"):
            t = time.perf_counter()
            waited.append((kw["stop"].wait(timeout=30.0), time.perf_counter() - t))

    scen, req, ros = _medium()
    _round_limits(monkeypatch, before=slow_half_hours)
    res = schedule(req, scen, ros, time_limit=60)
    hourly = max(core.ROUNDING_MIN_SECONDS, res.stage_seconds["rounding_full_grid_lp"])
    assert len(waited) == 1 and waited[0][0]
    assert waited[0][1] <= core.FINE_ROUNDING_MAX_FACTOR * hourly + 1.0
    assert "rounding_half_hours" in set(res.stages["stage"])
    checked(res, ros, scen, days=2)


def test_full_grid_lp_counts_are_rounded_on_half_hour_blocks_on_the_freed_core(monkeypatch):
    # once the first rounding's core is free, the full grid's LP counts are
    # rounded on half-hour blocks as well; where that finds usable counts,
    # step 2 plans with them
    scen, req, ros = _medium()
    rounded, planned, lps = _spy_rounding_and_plans(monkeypatch)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    res = schedule(req, scen, ros, time_limit=60)
    assert [(r[2], r[3]) for r in rounded] == [(False, None), (True, None), (True, 30)]
    lp_full, counts, _swaps, _block = rounded[2]
    assert lp_full is lps[0].counts and rounded[1][0] is lp_full
    stages = res.stages.set_index("stage")
    assert {"rounding_full_grid_lp", "rounding_half_hours"} <= set(stages.index)
    assert planned == (counts if counts is not None else rounded[1][1])
    if counts is not None:
        for key, x in lp_full.items():
            assert math.floor(x + 1e-6) <= counts.get(key, 0) <= math.ceil(x - 1e-6)
    checked(res, ros, scen, days=2)


def test_half_hour_rounding_where_the_full_grid_lp_leaves_live_channels_short(monkeypatch):
    # the medium instance's shifts end by 22:00 at the latest and chat runs
    # to 21:00 with few members: its full grid LP leaves voice and chat short
    scen, req, ros = _medium()
    _rounded, _planned, lps = _spy_rounding_and_plans(monkeypatch)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    res = schedule(req, scen, ros, time_limit=60)
    assert lps[0].shortfall_share >= core.FINE_ROUNDING_MIN_SHORTFALL
    assert "rounding_half_hours" in set(res.stages["stage"])


def test_no_half_hour_rounding_where_the_shortfall_is_most_of_the_objective(monkeypatch):
    # the same instance with the largest share for it set below its share
    scen, req, ros = _medium()
    rounded, _planned, lps = _spy_rounding_and_plans(monkeypatch)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    monkeypatch.setattr(core, "FINE_ROUNDING_MIN_SHORTFALL", 0.0)
    monkeypatch.setattr(core, "FINE_ROUNDING_MAX_SHORTFALL", 0.005)
    res = schedule(req, scen, ros, time_limit=60)
    assert lps[0].shortfall_share > core.FINE_ROUNDING_MAX_SHORTFALL
    assert [(r[2], r[3]) for r in rounded] == [(False, None), (True, None)]
    assert "rounding_half_hours" not in set(res.stages["stage"])
    checked(res, ros, scen, days=2)


def test_no_half_hour_rounding_where_the_roster_covers_the_live_channels(monkeypatch):
    # demand the roster covers in full: no shortfall, no half-hour rounding
    scen, _req, ros = _medium()
    easy = requirements(scen, 2, {"voice": [(d, 8, 12, 1.3) for d in range(2)],
                                  "chat": [(d, 9, 13, 0.7) for d in range(2)]})
    rounded, _planned, lps = _spy_rounding_and_plans(monkeypatch)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    res = schedule(easy, scen, ros, time_limit=60)
    assert lps[0].counts is not None and lps[0].shortfall_share == 0.0
    assert [(r[2], r[3]) for r in rounded] == [(False, None), (True, None)]
    assert "rounding_half_hours" not in set(res.stages["stage"])
    checked(res, ros, scen, days=2)


def test_full_grid_lp_rounding_worse_on_the_same_blocks_is_not_used(monkeypatch):
    # its objective on hourly blocks far above the first rounding's: neither
    # it nor the rounding on half-hour blocks is used (it runs to its end
    # here: not stopped once its bound passes the first's)
    class NoBoundStop(core.StopEvent):
        bound_above = property(lambda self: math.inf, lambda self, _v: None)

    scen, req, ros = _medium()
    rounded, planned, _lps = _spy_rounding_and_plans(
        monkeypatch, second=lambda out, _block: (
            out[0], replace(out[1], objective=out[1].objective * 1.5)), tolerance=0.02)
    monkeypatch.setattr(core, "StopEvent", NoBoundStop)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    res = schedule(req, scen, ros, time_limit=60)
    assert all(r[1] is not None for r in rounded) and len(rounded) == 3
    assert planned == rounded[0][1]
    checked(res, ros, scen, days=2)


def test_half_hour_rounding_far_from_its_bound_is_not_used(monkeypatch):
    scen, req, ros = _medium()

    def far(out, block):
        return (out[0], replace(out[1], gap=0.2)) if block else out

    rounded, planned, _lps = _spy_rounding_and_plans(monkeypatch, second=far)
    monkeypatch.setattr(core, "FINE_ROUNDING_TIME_FACTOR", 0.0)
    res = schedule(req, scen, ros, time_limit=60)
    assert len(rounded) == 3 and rounded[2][1] is not None
    assert planned == rounded[1][1]     # the hourly rounding of the full grid's LP
    checked(res, ros, scen, days=2)


def test_full_grid_lp_rounding_without_a_solution_leaves_the_blocks_rounding(monkeypatch):
    scen, req, ros = _medium()
    rounded, planned, _lps = _spy_rounding_and_plans(
        monkeypatch, second=lambda out, _block: (None, out[1]))
    res = schedule(req, scen, ros, time_limit=60)
    assert len(rounded) >= 2 and rounded[0][1] is not None
    assert all(r[1] is None for r in rounded[1:])
    assert planned == rounded[0][1]
    assert "rounded cumulatively" not in res.message
    checked(res, ros, scen, days=2)


def test_usable_full_grid_lp_rounding_stops_the_first_one_running_alongside(monkeypatch):
    # the first rounding runs as long as it may; once the full grid's LP
    # counts are rounded (alongside, with swaps), it is stopped, recorded as
    # such (not as a time limit), and step 2 plans with the second's counts
    scen, req, ros = _medium()
    rounded, planned, _lps = _spy_rounding_and_plans(monkeypatch)
    spied = core.round_by_mip
    waited = []

    def slow_first(lp_counts, *args, **kw):
        if not kw.get("swaps"):
            waited.append(kw["stop"].wait(60))
        return spied(lp_counts, *args, **kw)

    monkeypatch.setattr(core, "round_by_mip", slow_first)
    monkeypatch.setattr(core, "FINE_ROUNDING_BLOCK_MINUTES", 0)
    res = schedule(req, scen, ros, time_limit=60)
    assert waited == [True]
    stages = res.stages.set_index("stage")
    assert stages.loc["rounding", "status"] == "stopped"
    assert stages.loc["rounding_full_grid_lp", "status"] == "optimal"
    assert [r[2] for r in rounded] == [False, True] and rounded[1][1] is not None
    assert planned == rounded[1][1]
    checked(res, ros, scen, days=2)


def test_failed_full_grid_lp_leaves_the_blocks_bound_and_says_so(monkeypatch):
    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    real = core.build_model

    def no_memory_for_the_full_grid(*args, **kw):
        if kw.get("name") is None:
            raise MemoryError("no room for the full grid")
        return real(*args, **kw)

    monkeypatch.setattr(core, "build_model", no_memory_for_the_full_grid)
    res = schedule(req, scen, ros, time_limit=60)
    assert "the LP relaxation on the full grid failed (no room for the full grid)" \
        in res.message
    blocks = res.stages.set_index("stage").loc["lp_blocks", "objective"]
    assert res.best_bound == pytest.approx(blocks)
    checked(res, ros, scen, days=2)


def test_one_solver_thread_keeps_the_scheduler_on_one_core(monkeypatch):
    import threading

    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    workers, bound_lp_running = [], []
    real_pool, real_solve = core.ThreadPoolExecutor, core.solve

    def pool(max_workers, **kw):
        workers.append((kw.get("thread_name_prefix"), max_workers))
        return real_pool(max_workers=max_workers, **kw)

    def solve_spy(prob, *args, **kw):
        if prob.name == "wfm_shift_counts_blocks":
            bound_lp_running.append(any(t.name == "wfm-bound-lp" and t.is_alive()
                                        for t in threading.enumerate()))
        return real_solve(prob, *args, **kw)

    monkeypatch.setattr(core, "ThreadPoolExecutor", pool)
    monkeypatch.setattr(core, "solve", solve_spy)
    res = schedule(req, scen, ros, time_limit=60, threads=1)
    # one step-2 worker, and the roundings one after the other
    assert workers == [("wfm-step2", 1)] and bound_lp_running == [False]
    assert res.stages.set_index("stage").loc["lp_relaxation", "status"] == "optimal"
    checked(res, ros, scen, days=2)
    workers.clear()
    schedule(req, scen, ros, time_limit=60)
    # the two roundings side by side; two skill groups, two threads
    assert workers == [("wfm-rounding", 2), ("wfm-step2", 2)]


def _slow_lp(built):
    """A random covering LP whose interior-point solve takes seconds (~4 s here)."""
    rng = np.random.default_rng(0)
    n, m = 20000, 8000
    prob = pulp.LpProblem("cover", pulp.LpMinimize)
    xs = [pulp.LpVariable(f"x{i}", 0) for i in range(n)]
    prob += pulp.lpSum(float(c) * x for c, x in zip(rng.random(n), xs))
    for j in range(m):
        prob += pulp.lpSum(xs[i] for i in rng.choice(n, 40, replace=False)) \
            >= float(rng.random() * 10), f"r{j}"
    built.set()
    return prob


def test_cancelled_bound_lp_stops_at_its_next_iteration():
    import threading

    built = threading.Event()
    bg = core._BackgroundLP(lambda: _slow_lp(built), time_limit=None)
    assert built.wait(60)
    bg.cancel()
    assert not bg._thread.is_alive()
    # interrupted (reported like a time limit), not solved to the end
    assert bg.error is None and bg.report.status == "time_limit"


def test_failing_schedule_stops_the_bound_lp(monkeypatch):
    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    cancelled = []

    class Spy(core._BackgroundLP):
        def cancel(self):
            cancelled.append(self)
            super().cancel()

    def broken(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(core, "_BackgroundLP", Spy)
    monkeypatch.setattr(core, "round_by_mip", broken)
    with pytest.raises(KeyboardInterrupt):
        schedule(req, scen, ros, time_limit=60)
    assert len(cancelled) == 1 and not cancelled[0]._thread.is_alive()


def test_failing_rounding_stops_the_one_running_alongside(monkeypatch):
    # the first rounding fails while the full grid's LP is being rounded (a
    # MILP that would run for minutes): the error comes out at once, and the
    # other MILP was stopped, not waited for
    import threading
    import time

    from test_solve import _market_split

    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    second_started, second = threading.Event(), []

    def rounding(lp_counts, *args, **kw):
        if not kw.get("swaps"):
            assert second_started.wait(60)
            time.sleep(0.5)
            raise RuntimeError("the first rounding failed")
        second_started.set()
        second.append(solve(_market_split(), "highs", time_limit=120, stop=kw["stop"]))
        return None, second[-1]

    monkeypatch.setattr(core, "round_by_mip", rounding)
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="the first rounding failed"):
        schedule(req, scen, ros, time_limit=600)
    assert time.perf_counter() - t < 60
    assert len(second) == 1 and second[0].status == "time_limit"


def test_full_grid_rounding_stops_once_its_bound_passes_the_first_roundings(monkeypatch):
    # the full grid's rounding is used only within FULL_GRID_ROUNDING_TOLERANCE
    # of the first's objective; once its bound is above that it is stopped
    # (here a MILP that would run for minutes, its bound ten times the first's)
    import time

    from test_solve import _market_split

    scen, req, ros = _medium()
    monkeypatch.setattr(core, "MIP_MAX_INTEGERS", 0)
    monkeypatch.setattr(core, "FINE_ROUNDING_BLOCK_MINUTES", 0)    # no half-hour rounding
    first, second = [], []

    def rounding(lp_counts, *args, **kw):
        if not kw.get("swaps"):
            first.append(round_by_mip(lp_counts, *args, **kw))
            return first[-1]
        while not first:        # started before the first is done: its limit comes later
            time.sleep(0.05)
        rep = solve(_market_split(offset=10.0 * first[0][1].objective), "highs",
                    time_limit=120, stop=kw["stop"])
        second.append(rep)
        return first[0][0], rep

    monkeypatch.setattr(core, "round_by_mip", rounding)
    t = time.perf_counter()
    res = schedule(req, scen, ros, time_limit=300)
    assert time.perf_counter() - t < 60
    assert len(second) == 1 and second[0].status == "time_limit"
    limit = (1.0 + core.FULL_GRID_ROUNDING_TOLERANCE) * first[0][1].objective
    assert second[0].best_bound > limit
    stages = res.stages.set_index("stage")
    assert stages.loc["rounding_full_grid_lp", "status"] == "stopped"
    assert stages.loc["rounding", "status"] == "optimal"
    checked(res, ros, scen, days=2)


def test_repair_start_lowers_the_counts_that_break_a_row():
    # two shift types whose LP values (0.6, 0.7) both round up to 1, but one
    # agent works at most one of them and at most 8 paid hours; the row with
    # an unbounded continuous variable never limits the counts
    prob = pulp.LpProblem("repair", pulp.LpMinimize)
    n1 = pulp.LpVariable("n1", 0, 1, cat=pulp.LpInteger)
    n2 = pulp.LpVariable("n2", 0, 1, cat=pulp.LpInteger)
    n3 = pulp.LpVariable("n3", 1, 2, cat=pulp.LpInteger)
    h = pulp.LpVariable("h", 0, 8)
    free = pulp.LpVariable("free", 0)
    prob += h + free
    prob += n1 + n2 <= 1, "oneshift"
    prob += 8 * n1 + 8 * n2 - h == 0, "hours"
    prob += n3 - free <= 0, "cover"
    prob += n3 <= 1, "cap"
    fixed = repair_start(prob, {n1: 1, n2: 1, n3: 2}, {n1: 0.6, n2: 0.7, n3: 1.2})
    # n1 exceeds its LP value more (0.4 against 0.3) and is lowered first;
    # n3 goes to its floor for the cap row, never below its lower bound
    assert fixed == {n1: 0.0, n2: 1.0, n3: 1.0}
    assert repair_start(prob, {n1: 0, n2: 1, n3: 1}, {n1: 0.6, n2: 0.7, n3: 1.2}) == \
        {n1: 0.0, n2: 1.0, n3: 1.0}


def test_repair_start_swaps_a_short_shift_for_a_long_one_where_a_row_is_full():
    # a group must work 8 paid hours; its one shift of the day is a 6-hour
    # one and the day's row is full, so no count can be raised: with swaps
    # the 6-hour shift goes down and the 8-hour one up
    prob = pulp.LpProblem("swap", pulp.LpMinimize)
    six = pulp.LpVariable("six", 0, 1, cat=pulp.LpInteger)
    eight = pulp.LpVariable("eight", 0, 1, cat=pulp.LpInteger)
    prob += six + eight
    prob += six + eight <= 1, "oneshift"
    need = [({six: 6.0, eight: 8.0}, 8.0)]
    start, target = {six: 1, eight: 0}, {six: 0.5, eight: 0.5}
    assert repair_start(prob, start, target, need) == {six: 1.0, eight: 0.0}
    assert repair_start(prob, start, target, need, swaps=True) == {six: 0.0, eight: 1.0}
    # never below a count's lower bound
    six.lowBound = 1
    assert repair_start(prob, start, target, need, swaps=True) == {six: 1.0, eight: 0.0}


def test_rounding_start_holds_every_row_of_the_counts_alone():
    scen, req, ros = _medium()
    agents, demand, catalog, groups = _inputs(scen, req, ros)
    prob = build_model(demand, catalog, groups, agents, scen.weights, 11.0)
    solve(prob, "highs", mip=False)
    lp = {v: value(v) for v in prob.wfm.n.values()}
    for v, x in lp.items():
        v.lowBound, v.upBound = math.floor(x + 1e-6), math.ceil(x - 1e-6)
    start = repair_start(prob, {v: math.ceil(x - 1e-6) for v, x in lp.items()}, lp)
    for v, k in start.items():
        assert v.lowBound <= k <= v.upBound
    for con in prob.constraints():
        if all(v in start for v in con):
            lhs = sum(a * start[v] for v, a in con.items()) + con.constant
            assert lhs <= 1e-6 if con.sense == pulp.LpConstraintLE else \
                lhs >= -1e-6 if con.sense == pulp.LpConstraintGE else abs(lhs) <= 1e-6


@pytest.mark.parametrize("start", [{"x": 3.0, "y": 0.0}, {"x": 0.0, "y": 0.0}, {"x": 2.0}])
def test_highs_start_feasible_partial_or_infeasible(start):
    # min x + 2y, x + y >= 2.5, integers: optimum x = 3, y = 0 (3.0); a
    # feasible start, an infeasible one (ignored) and a partial one all end there
    prob = pulp.LpProblem("start", pulp.LpMinimize)
    v = {n: pulp.LpVariable(n, 0, 10, cat=pulp.LpInteger) for n in "xy"}
    prob += v["x"] + 2 * v["y"]
    prob += v["x"] + v["y"] >= 2.5
    rep = solve(prob, "highs", start={v[k]: x for k, x in start.items()})
    assert rep.status == "optimal" and rep.objective == pytest.approx(3.0)
    assert value(v["x"]) == pytest.approx(3.0) and value(v["y"]) == pytest.approx(0.0)


def test_step2_chunks_realise_a_plan_that_fits(monkeypatch):
    # five voice agents, a plan of five 8-hour shifts over two days: solved
    # in chunks of two members, every planned shift is staffed once, nothing
    # is added, and each agent works one shift
    from wfm.scheduling import assign

    scen, req, ros = _medium()
    agents, _demand, catalog, groups = _inputs(scen, req, ros)
    grp = next(g for g in groups if g.skills == (0,))
    grp.types = np.flatnonzero(grp.compat.any(axis=0))
    eight = [int(s) for s in grp.types
             if catalog.length[s] == 480 and catalog.start_wall[s] in (480, 540, 600)]
    counts = {s: 1 for s in eight[:5]} if len(eight) >= 5 else {}
    assert sum(counts.values()) == 5
    monkeypatch.setattr(assign, "CHUNK_MEMBERS", 2)
    assert len(assign._chunks(grp, agents, 2)) == 3
    ga = assign.assign_group(0, grp, counts, catalog, agents, scen.weights, 11.0,
                             time_limit=30)
    assert sorted(s for ss in ga.shifts.values() for s in ss) == sorted(counts)
    assert all(len(ss) == 1 for ss in ga.shifts.values()) and len(ga.shifts) == 5
    assert ga.short == pytest.approx(0.0) and ga.extra == pytest.approx(0.0)
    assert not ga.min_hours_missed


def test_hour_patterns_enumerate_whole_shift_weeks():
    from wfm.scheduling.model import hour_patterns

    # 21-25 h in at most 4 shifts of 6 h: only four shifts (24 h)
    assert hour_patterns((360,), 21.0, 25.0, 4) == [(4,)]
    # 16-20 h with 4 h and 5 h shifts, at most 4: 4+4+4+4, 4+4+4+5 ... 5+5+5+5
    assert sorted(hour_patterns((240, 300), 16.0, 20.0, 4)) == [(0, 4), (1, 3), (2, 2), (3, 1),
                                                               (4, 0)]
    assert hour_patterns((240,), 0.0, 8.0, 5) == [(0,), (1,), (2,)]
    assert hour_patterns((360,), 13.0, 17.0, 5) == []


def test_hour_patterns_tighten_the_bound(monkeypatch):
    # One agent, 21-25 h a week in at most 4 days, only 6-hour shifts, and
    # one head needed 08-14 on three days: any schedule works four 6-hour
    # shifts (24 h: labour 12, 6 h over = 18). Without the patterns the
    # relaxation works 3.5 of them (labour 10.5, 3 h over).
    from wfm.scheduling import model

    scen = scenario([fixed("08:00", [6.0])])
    req = requirements(scen, 7, {"voice": [(d, 8, 14, 1.0) for d in range(3)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 21.0,
                   "max_hours_week": 25.0, "max_days_week": 4}])
    res = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    assert len(res.shifts) == 4
    assert res.objective == pytest.approx(18.0)
    assert res.lp_bound == pytest.approx(18.0)
    checked(res, ros, scen, days=7)
    monkeypatch.setattr(model, "MAX_PATTERNS", 0)
    loose = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    assert loose.lp_bound == pytest.approx(13.5)


def test_weekly_hall_rows_count_the_days_of_who_can_work_early():
    # Only x (one day a week) may start at 06:00; y starts at 08:00. One head
    # is needed 06:00-08:00 on two days: any schedule leaves one of them
    # uncovered. Each day alone has a member for the early shift, so without
    # the weekly row the relaxation staffed the early shift on both days.
    scen = scenario([fixed("06:00", [4.0], name="early"), fixed("08:00", [4.0], name="day")])
    req = requirements(scen, 2, {"voice": [(d, 6, 8, 1.0) for d in range(2)]})
    ros = roster([{"agent_id": "x", "skills": "voice", "max_days_week": 1},
                  {"agent_id": "y", "skills": "voice", "earliest_start": "08:00"}])
    res = schedule(req, scen, ros, time_limit=60, gap=1e-6)
    assert len(res.shifts[res.shifts["template"] == "early"]) == 1
    assert res.summary["under_agent_hours"].sum() == pytest.approx(2.0)
    checked(res, ros, scen, days=2)

    agents, demand, catalog, groups = _inputs(scen, req, ros)
    early = [k for k in build_model(demand, catalog, groups, agents, scen.weights, 11.0).wfm.n
             if catalog.template_names[catalog.template[k[1]]] == "early"]

    def early_shifts(weekly: bool) -> float:
        prob = build_model(demand, catalog, groups, agents, scen.weights, 11.0)
        for con in prob.constraints():
            if con.name.startswith("hallweek") and not weekly:
                con.constant = -100.0
        assert solve(prob, "highs", mip=False).status == "optimal"
        return sum(value(prob.wfm.n[k]) for k in early)

    assert early_shifts(True) == pytest.approx(1.0)
    assert early_shifts(False) == pytest.approx(2.0)
