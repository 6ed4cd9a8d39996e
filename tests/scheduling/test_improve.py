"""The local search on named schedules, and the deferred channels' exact cost."""

from __future__ import annotations

import numpy as np
import pytest
from test_scheduling_solvers import fixed, requirements, roster, scenario
from test_step1 import _inputs, _medium

from wfm.scheduling.assign import preference_misses
from wfm.scheduling.core import _build_frames
from wfm.scheduling.evaluate import deferred_costs, evaluate_coverage, fifo_backlog
from wfm.scheduling.improve import _CoverageLP, improve_schedule, valid_week
from wfm.scheduling.model import agent_cost_factor


def _type(catalog, day, hhmm, hours):
    h, m = map(int, hhmm.split(":"))
    hit = np.flatnonzero((catalog.day == day) & (catalog.start_wall == 60 * h + m)
                         & (catalog.paid == int(60 * hours)))
    assert hit.size == 1
    return int(hit[0])


def _objective(demand, catalog, groups, agents, weights, shifts, options, quota):
    """The schedule's objective recomputed from its frames (not from the search)."""
    frames = _build_frames(demand, catalog, groups, agents, shifts, options, quota)
    out = evaluate_coverage(demand, frames["scheduled"], weights)
    cost = agent_cost_factor(agents)
    total = sum(out.costs.values())
    for a, ss in shifts.items():
        for s in ss:
            total += weights.labour_cost * cost[a] * catalog.paid[s] / 60.0
            total += weights.preference * preference_misses(agents[a], catalog, s)[0]
    return total


def test_a_misplaced_shift_moves_onto_the_demand():
    # one head 08-16, 8 h shifts start 08:00-12:00: the agent starts at 12:00
    # (4 h short, 4 h over); the search moves the shift to 08:00, the optimum:
    # labour 8 h x 0.5 = 4.0 and nothing else
    scen = scenario([fixed("08:00", [8.0], latest="12:00")])
    req = requirements(scen, 1, {"voice": [(0, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice"}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=1)
    late = _type(catalog, 0, "12:00", 8.0)
    res = improve_schedule(demand, catalog, groups, agents, {0: [late]}, {(0, late): 0},
                           scen.weights, 11.0)
    assert res.shifts == {0: [_type(catalog, 0, "08:00", 8.0)]}
    assert res.objective_start > res.objective
    assert res.objective == pytest.approx(4.0, abs=1e-6)
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(4.0, abs=1e-6)


def _poor_start():
    """The medium instance and a legal but poor start: every agent works
    06:00-14:00 on Monday only. ``(scen, agents, demand, catalog, groups,
    shifts, options)``."""
    scen, req, ros = _medium()
    agents, demand, catalog, groups = _inputs(scen, req, ros)
    early = _type(catalog, 0, "06:00", 8.0)
    shifts = {a: [early] for a in range(len(agents))}
    options = {(a, early): 0 for a in shifts}
    return scen, agents, demand, catalog, groups, shifts, options


@pytest.mark.parametrize("threads", [1, None])    # one LP, or a twin in a second thread
def test_search_keeps_every_contract_and_reports_the_true_objective(threads):
    scen, agents, demand, catalog, groups, shifts, options = _poor_start()
    start = _objective(demand, catalog, groups, agents, scen.weights, shifts, options,
                       _CoverageLP(demand, catalog, groups, _present(catalog, groups, shifts),
                                   scen.weights, None).quota())
    res = improve_schedule(demand, catalog, groups, agents, shifts, options, scen.weights, 11.0,
                           max_rounds=50, threads=threads)
    assert res.objective_start == pytest.approx(start, rel=1e-9)
    assert res.objective < 0.8 * start
    assert res.accepted > 0
    row_of = {a: (g, mi) for g, grp in enumerate(groups) for mi, a in enumerate(grp.members)}
    for a, ss in res.shifts.items():
        assert valid_week(agents[a], ss, catalog, 11 * 60)
        g, mi = row_of[a]
        assert groups[g].compat[mi, ss].all()
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(res.objective, abs=0.01)  # 1e-6 truncation


def _present(catalog, groups, shifts):
    from wfm.scheduling.templates import net_presence

    present = np.zeros((len(groups), catalog.n_intervals))
    for g, grp in enumerate(groups):
        for a in grp.members:
            for s in shifts.get(a, []):
                idx, sh = net_presence(catalog, s, 0)
                present[g, idx] += sh
    return present


def _lp_and_move():
    """The coverage LP of the medium instance with one agent at 06:00-14:00 on
    day 0, and the heads of a 10:00 shift on day 1 for its first group.
    ``(lp, build, present, idx, heads)``; ``build(present)`` makes a fresh LP."""
    scen, req, ros = _medium()
    _agents, demand, catalog, groups = _inputs(scen, req, ros)
    present = _present(catalog, groups, {0: [_type(catalog, 0, "06:00", 8.0)]})

    def build(heads):
        return _CoverageLP(demand, catalog, groups, heads, scen.weights, None)

    idx, sh = catalog.presence[_type(catalog, 1, "10:00", 8.0)]
    return build(present), build, present, idx, sh


def test_coverage_lp_undo_without_solving_restores_the_objective():
    lp, build, present, idx, sh = _lp_and_move()
    base = lp.objective
    moved = lp.change(0, idx, sh)
    assert moved != pytest.approx(base)
    lp.change(0, idx, -sh, solve=False)
    lp.duals()
    assert lp.objective == pytest.approx(base, rel=1e-9)
    # the same as a coverage LP built from scratch for that presence
    assert build(present).objective == pytest.approx(base, rel=1e-9)


def test_coverage_lp_cutoff_stops_only_moves_that_cannot_gain():
    lp, build, present, idx, sh = _lp_and_move()
    base = lp.objective
    moved_present = present.copy()
    moved_present[0, idx] += sh
    moved = build(moved_present).objective
    assert moved != pytest.approx(base)
    # below the cutoff: solved to the end
    assert lp.change(0, idx, sh, cutoff=moved + 1.0) == pytest.approx(moved, rel=1e-9)
    lp.change(0, idx, -sh, solve=False)
    lp.objective = base
    # at or above it: rejected (stopped early, or solved and not below)
    assert lp.change(0, idx, sh, cutoff=moved - 1.0) >= moved - 1.0
    lp.change(0, idx, -sh, solve=False)
    lp.objective = base
    # the option is reset: the next solve goes to the end
    lp.change(0, idx, sh)
    assert lp.objective == pytest.approx(moved, rel=1e-9)
    lp.change(0, idx, -sh)
    assert lp.objective == pytest.approx(base, rel=1e-9)


def test_twin_lp_solves_like_its_original_and_apart_from_it():
    lp, _build, _present_now, idx, sh = _lp_and_move()
    twin = lp.twin()
    assert twin.objective == pytest.approx(lp.objective, rel=1e-9)
    base = lp.objective
    moved = twin.change(0, idx, sh)
    assert moved != pytest.approx(base)
    assert lp.duals() is not None and lp.objective == pytest.approx(base, rel=1e-9)
    assert lp.change(0, idx, sh) == pytest.approx(moved, rel=1e-9)


def test_valid_week_rules():
    scen = scenario([fixed("06:00", [8.0], latest="14:00", step=60)])
    req = requirements(scen, 7, {"voice": [(0, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 16.0,
                   "max_hours_week": 32.0, "max_days_week": 4, "max_consecutive_days": 3}])
    agents, _demand, catalog, _groups = _inputs(scen, req, ros, days=7)
    ag = agents[0]
    rest = 11 * 60
    d = [_type(catalog, k, "06:00", 8.0) for k in range(7)]
    assert valid_week(ag, [d[0], d[2]], catalog, rest)
    assert not valid_week(ag, [d[0]], catalog, rest)                     # 8 h < 16 h minimum
    assert valid_week(ag, [d[0]], catalog, rest, min_hours=False)
    assert not valid_week(ag, [d[0], d[1], d[2], d[3]], catalog, rest)   # 4 days in a row
    assert not valid_week(ag, [d[0], d[2], d[4], d[6], d[1]], catalog, rest)  # 5 days, 40 h
    # 14:00-22:00 then 06:00 the next day: 8 h of rest
    assert not valid_week(ag, [_type(catalog, 0, "14:00", 8.0), d[1]], catalog, rest)
    assert valid_week(ag, [_type(catalog, 0, "14:00", 8.0), _type(catalog, 1, "09:00", 8.0)],
                      catalog, rest)


def test_hopeless_deferred_work_is_written_off_on_arrival():
    # one agent-interval of work arrives at t=0 with a 4-interval window and
    # no capacity before t=5: it is late whatever happens; first-in-first-out
    # keeps it waiting 3 intervals, the model writes it off at once
    work = np.array([1.0, 0, 0, 0, 0, 0])
    heads = np.array([0.0, 0, 0, 0, 0, 1])
    cap = np.array([1.0, 1.0, 1.0, 0, 0, 0])
    late, backlog, idle = deferred_costs(work, heads, cap, 10.0, 0.5, 0.25)
    assert (late, backlog, idle) == pytest.approx((10.0, 0.0, 0.25))
    _done, f_late, f_backlog = fifo_backlog(work, heads, 4)
    assert f_late.sum() == pytest.approx(1.0) and f_backlog.sum() == pytest.approx(3.0)
    # capacity at t=2 serves it after waiting 2 intervals (t=0, t=1)
    heads = np.array([0.0, 0, 1, 0, 0, 0])
    assert deferred_costs(work, heads, cap, 10.0, 0.5, 0.25) == pytest.approx((0.0, 1.0, 0.0))


def test_schedule_keeps_step_3_when_the_search_cannot_start(monkeypatch):
    from test_scheduling_solvers import checked

    from wfm.scheduling import core, schedule
    from wfm.scheduling.improve import CoverageLPError

    def fail(*_a, **_k):
        raise CoverageLPError("kInfeasible")

    monkeypatch.setattr(core, "improve_schedule", fail)
    scen = scenario([fixed("08:00", [8.0])])
    req = requirements(scen, 1, {"voice": [(0, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice"}])
    res = schedule(req, scen, ros, time_limit=30)
    assert "local search could not start" in res.message
    assert res.objective == pytest.approx(4.0, abs=1e-6)
    checked(res, ros, scen)


@pytest.mark.parametrize(("failing", "how"), [
    ("milp", "rounded from the LP relaxation"),
    ("both", "spread evenly over their windows")])
def test_breaks_placed_when_the_break_milp_finds_nothing(monkeypatch, failing, how):
    from test_scheduling_solvers import checked

    from wfm.scheduling import core, schedule
    from wfm.scheduling.solve import SolveReport

    real = core.solve

    def no_breaks(problem, *args, **kw):
        is_mip = kw.get("mip", True)
        if problem.name == "wfm_breaks" and (is_mip or failing == "both") \
                and not getattr(problem, f"_failed_{is_mip}", False):
            setattr(problem, f"_failed_{is_mip}", True)
            return SolveReport("time_limit", None, None, None, 0.1, "highs", False)
        return real(problem, *args, **kw)

    monkeypatch.setattr(core, "solve", no_breaks)
    monkeypatch.setattr(core, "IMPROVE_MIN_SECONDS", 1e9)   # no search: see the fallback
    brk = {"minutes": 30, "paid": False, "earliest_after_start_minutes": 180,
           "latest_after_start_minutes": 300, "min_before_end_minutes": 60}
    scen = scenario([fixed("08:00", [8.5], [brk])])
    req = requirements(scen, 1, {"voice": [(0, 8, 16.5, 4.0)]})
    ros = roster([{"agent_id": x, "skills": "voice"} for x in "abcd"])
    res = schedule(req, scen, ros, time_limit=60)
    assert how in res.message
    # four agents, four heads needed all day: the breaks are staggered
    assert len(res.shifts) == 4 and res.shifts["breaks"].nunique() == 4
    checked(res, ros, scen)


def test_best_week_matches_enumerating_every_week():
    # random day options (days off priced too) on a 7-day catalog; the
    # dynamic programme's week is the cheapest of all weeks that keep the
    # contract, found by enumeration
    import itertools

    from wfm.scheduling.improve import cheapest_week

    scen = scenario([fixed("06:00", [4.0, 8.0], latest="14:00", step=120)])
    req = requirements(scen, 7, {"voice": [(d, 8, 16, 1.0) for d in range(7)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 20.0,
                   "max_hours_week": 32.0, "max_days_week": 5, "max_consecutive_days": 3}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=7)
    ag = agents[0]
    rng = np.random.default_rng(3)
    rest = 11 * 60
    for _trial in range(5):
        day_opts = []
        for d in range(7):
            on_d = np.flatnonzero(catalog.day == d)
            pick = rng.choice(on_d, size=2, replace=False)
            day_opts.append([(float(rng.normal()), -1)]
                            + [(float(rng.normal()), int(s)) for s in pick])
        best = None
        for choice in itertools.product(range(3), repeat=7):
            week = [day_opts[d][k][1] for d, k in enumerate(choice) if day_opts[d][k][1] >= 0]
            if valid_week(ag, week, catalog, rest):
                cost = sum(day_opts[d][k][0] for d, k in enumerate(choice))
                if best is None or cost < best[0] - 1e-12:
                    best = (cost, list(choice))
        shifts = [o for opts in day_opts for o in opts[1:]]
        got = cheapest_week(np.array([c for c, _s in shifts]),
                            np.array([s for _c, s in shifts]), ag, catalog, rest,
                            [ag.min_hours * 60.0], np.array([opts[0][0] for opts in day_opts]))
        if best is None:
            assert got is None
            continue
        assert got is not None
        assert got[0] == pytest.approx(best[0], abs=1e-9)
        week = [shifts[i][1] for i in got[1]]
        assert valid_week(ag, week, catalog, rest)


def test_week_move_trades_hours_between_days_at_fixed_hours(monkeypatch):
    # the agent must work exactly 12 h a week: Monday 8 h and Tuesday 4 h,
    # while the demand is 4 h on Monday and 8 h on Tuesday. No change of one
    # day keeps the 12 h; the week move shortens Monday and lengthens Tuesday
    # at once.
    scen = scenario([fixed("08:00", [4.0, 8.0])])
    req = requirements(scen, 7, {"voice": [(0, 8, 12, 1.0), (1, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "min_hours_week": 12.0,
                   "max_hours_week": 12.0}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=7)
    mon8, tue4 = _type(catalog, 0, "08:00", 8.0), _type(catalog, 1, "08:00", 4.0)
    start = {0: [mon8, tue4]}
    opts = {(0, mon8): 0, (0, tue4): 0}
    res = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights, 11.0)
    assert res.shifts == {0: sorted([_type(catalog, 0, "08:00", 4.0),
                                     _type(catalog, 1, "08:00", 8.0)])}
    assert res.objective == pytest.approx(6.0, abs=1e-6)   # 12 h x 0.5, nothing short or over
    import wfm.scheduling.improve as imp

    monkeypatch.setattr(imp, "WEEK_CHOICES_PER_DAY", 0)
    stuck = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights, 11.0)
    assert stuck.shifts == {0: sorted(start[0])}


def test_members_exchange_shifts_for_their_preferred_starts():
    # a (prefers 09:00) works 12:00-20:00, b (prefers 12:00) works 09:00-17:00;
    # the coverage is the same either way, the exchange meets both preferences
    from wfm.scheduling.improve import _reassign_days

    scen = scenario([fixed("09:00", [8.0], latest="12:00", step=180)])
    req = requirements(scen, 1, {"voice": [(0, 9, 20, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice", "preferred_start": "09:00"},
                  {"agent_id": "b", "skills": "voice", "preferred_start": "12:00"}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=1)
    nine, noon = _type(catalog, 0, "09:00", 8.0), _type(catalog, 0, "12:00", 8.0)
    shifts = {0: [noon], 1: [nine]}
    options = {(0, noon): 0, (1, nine): 0}

    def cost(a, s):
        return scen.weights.preference * preference_misses(agents[a], catalog, s)[0]

    assert cost(0, noon) + cost(1, nine) == pytest.approx(2 * scen.weights.preference)
    saved = _reassign_days(groups, agents, shifts, options, catalog, 660, set(), cost)
    assert saved == pytest.approx(2 * scen.weights.preference)
    assert shifts == {0: [nine], 1: [noon]}
    assert options == {(0, nine): 0, (1, noon): 0}
    # nothing left to gain: a second pass changes nothing
    assert _reassign_days(groups, agents, shifts, options, catalog, 660, set(), cost) == 0.0


def test_pair_move_when_no_one_agent_move_gains(monkeypatch):
    # voice 08-16 and chat 16-24, one head each. a (voice and chat) works
    # 08-16 on voice and b (voice only) 16-24, where nothing needs it; each
    # must work 8 h. Alone, a moving to 16-24 leaves voice short as much as
    # chat is now, and b moving to 08-16 only doubles voice (over-coverage
    # costs nothing here): neither gains. Together they cover both channels.
    scen = scenario([fixed("08:00", [8.0], latest="16:00", step=480)],
                    channels=[{"name": "voice", "kind": "realtime", "priority": 1.0},
                              {"name": "chat", "kind": "concurrent", "priority": 1.0,
                               "concurrency": 1}],
                    over_coverage=0.0)
    req = requirements(scen, 1, {"voice": [(0, 8, 16, 1.0)], "chat": [(0, 16, 24, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice;chat", "min_hours_week": 8.0},
                  {"agent_id": "b", "skills": "voice", "min_hours_week": 8.0}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=1)
    early, late = _type(catalog, 0, "08:00", 8.0), _type(catalog, 0, "16:00", 8.0)
    ia = next(i for i, ag in enumerate(agents) if ag.agent_id == "a")
    ib = 1 - ia
    start = {ia: [early], ib: [late]}
    opts = {(ia, early): 0, (ib, late): 0}
    import wfm.scheduling.improve as imp

    monkeypatch.setattr(imp, "DAY_MOVE_CHOICES", 0)     # (it finds this too)
    with monkeypatch.context() as m:
        m.setattr(imp, "PAIR_FIRST_TRIED", 0)
        stuck = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights,
                                 11.0)
    assert stuck.shifts == start
    assert stuck.objective > 100.0                      # 8 h of chat short
    res = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights, 11.0)
    assert res.shifts == {ia: [late], ib: [early]}
    assert res.pair_moves == 1
    assert res.objective == pytest.approx(8.0, abs=1e-6)   # 16 h x 0.5, nothing short
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(8.0, abs=1e-6)


def _three_late_starts(day: int = 0, days: int = 1):
    """One head 06-18 on ``day`` (of ``days``); three agents who must each
    work one 4-hour shift (starts 06:00-15:00 on the hour) start an hour
    late there: 07, 11 and 15."""
    scen = scenario([fixed("06:00", [4.0], latest="15:00", step=60)])
    req = requirements(scen, days, {"voice": [(day, 6, 18, 1.0)]})
    ros = roster([{"agent_id": f"a{i}", "skills": "voice", "min_hours_week": 4.0}
                  for i in range(3)])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=days)
    late = [_type(catalog, day, h, 4.0) for h in ("07:00", "11:00", "15:00")]
    return scen, agents, demand, catalog, groups, late


def test_day_move_moves_three_agents_at_once(monkeypatch):
    # Any one agent moved an hour earlier opens a gap where it left (06-07
    # short becomes 10-11 short, or 18-19 over becomes 14-15 over), and so
    # does any second one after it: neither the one-agent nor the pair move
    # gains. All three an hour earlier cover 06-18 exactly: labour 12 h x 0.5.
    import wfm.scheduling.improve as imp

    scen, agents, demand, catalog, groups, late = _three_late_starts()
    start = {a: [s] for a, s in enumerate(late)}
    opts = {(a, s): 0 for a, s in enumerate(late)}
    with monkeypatch.context() as m:
        m.setattr(imp, "DAY_MOVE_CHOICES", 0)
        stuck = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights,
                                 11.0)
    assert stuck.shifts == start and stuck.stopped == "local optimum"
    assert stuck.objective > 100.0                       # an hour short
    res = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights, 11.0)
    early = [_type(catalog, 0, h, 4.0) for h in ("06:00", "10:00", "14:00")]
    assert sorted(s for ss in res.shifts.values() for s in ss) == sorted(early)
    assert res.objective == pytest.approx(6.0, abs=1e-6)
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(6.0, abs=1e-6)


def test_day_move_tries_every_day_before_it_gives_up():
    # The three late starts on the second of three days, nothing to gain on
    # the others: the day move must reach that day in the call that finds
    # the other days without a gain (it once stepped past every other day
    # and ended the search at a local optimum with the day untried).
    scen, agents, demand, catalog, groups, late = _three_late_starts(day=1, days=3)
    start = {a: [s] for a, s in enumerate(late)}
    opts = {(a, s): 0 for a, s in enumerate(late)}
    res = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights, 11.0)
    early = [_type(catalog, 1, h, 4.0) for h in ("06:00", "10:00", "14:00")]
    assert res.stopped == "local optimum"
    assert sorted(s for ss in res.shifts.values() for s in ss) == sorted(early)
    assert res.objective == pytest.approx(6.0, abs=1e-6)
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(6.0, abs=1e-6)


def test_day_move_after_rounds_that_gained_little(monkeypatch):
    # The three late starts of the test above on Monday, and a chat agent
    # (no minimum hours, no chat demand) on Tuesday and Wednesday: the first
    # two rounds each drop one of its shifts (labour 2 + over 4; one move per
    # agent and round), and only a day move can fix Monday. It follows two
    # rounds in a row that tried all their moves and gained less than
    # DAY_MOVE_EARLY each; otherwise the next round comes first (none here).
    import wfm.scheduling.improve as imp

    scen = scenario([fixed("06:00", [4.0], latest="15:00", step=60)],
                    [{"name": "voice", "kind": "realtime", "priority": 1.0},
                     {"name": "chat", "kind": "realtime", "priority": 1.0}])
    req = requirements(scen, 3, {"voice": [(0, 6, 18, 1.0)]})
    ros = roster([{"agent_id": f"a{i}", "skills": "voice", "min_hours_week": 4.0}
                  for i in range(3)] + [{"agent_id": "a3", "skills": "chat"}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=3)
    start = {a: [_type(catalog, 0, h, 4.0)] for a, h in enumerate(("07:00", "11:00", "15:00"))}
    start[3] = [_type(catalog, d, "06:00", 4.0) for d in (1, 2)]
    opts = {(a, s): 0 for a, ss in start.items() for s in ss}

    def search(early: float, rounds: int = 2):
        with monkeypatch.context() as m:
            m.setattr(imp, "DAY_MOVE_EARLY", early)
            return improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights,
                                    11.0, max_rounds=rounds)

    one = search(10.0, rounds=1)                          # one round: no day move yet
    assert one.accepted == 1 and one.objective > 100.0
    first = search(1.5)
    assert first.stopped == "round limit" and first.accepted == 2
    assert 3 not in first.shifts
    assert first.objective_start - first.objective == pytest.approx(12.0, abs=1e-6)
    assert first.objective > 100.0                       # Monday an hour short
    res = search(10.0)
    assert res.stopped == "round limit" and res.accepted == 3
    early = [_type(catalog, 0, h, 4.0) for h in ("06:00", "10:00", "14:00")]
    assert sorted(s for ss in res.shifts.values() for s in ss) == sorted(early)
    assert res.objective == pytest.approx(6.0, abs=1e-6)
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(6.0, abs=1e-6)


def test_day_milp_picks_the_best_combination_of_the_choices():
    # every combination of three starts for each of the three agents,
    # evaluated by the coverage LP of the whole day: the MILP's pick is the
    # cheapest (from the late starts, which it must leave)
    from wfm.scheduling.daymove import DayChoice, day_milp
    from wfm.scheduling.improve import shift_cost_function

    scen, agents, demand, catalog, groups, _late = _three_late_starts()
    cost = shift_cost_function(agents, catalog, scen.weights)
    starts = [[_type(catalog, 0, h, 4.0) for h in hs] for hs in
              (("07:00", "06:00", "08:00"), ("11:00", "09:00", "10:00"),
               ("15:00", "13:00", "14:00"))]

    def true_cost(pick):
        present = _present(catalog, groups, {a: [ss[k]] for a, (ss, k) in
                                             enumerate(zip(starts, pick))})
        lp = _CoverageLP(demand, catalog, groups, present, scen.weights, 1)
        return lp.objective + sum(cost(a, ss[k]) for a, (ss, k) in enumerate(zip(starts, pick)))

    choices = []
    for a, ss in enumerate(starts):
        idx_sh = [catalog.presence[s] for s in ss]
        choices.append(DayChoice(0, [(i, sh, cost(a, s)) for (i, sh), s in zip(idx_sh, ss)], 0))
    T = catalog.n_intervals
    picked, rep = day_milp(demand, groups, scen.weights, np.zeros((1, T)),
                           np.zeros((1, T)), choices, time_limit=30, gap=1e-9)
    combos = {(i, j, k): true_cost((i, j, k)) for i in range(3) for j in range(3)
              for k in range(3)}
    best = min(combos.values())
    assert best < combos[(0, 0, 0)] - 1.0
    assert picked is not None and rep.status == "optimal"
    assert combos[tuple(picked)] == pytest.approx(best, abs=1e-6)
    assert tuple(picked) == (1, 2, 2)
    # from the best combination there is nothing better to find
    again = [DayChoice(0, ch.options, k) for ch, k in zip(choices, picked)]
    assert day_milp(demand, groups, scen.weights, np.zeros((1, T)), np.zeros((1, T)),
                    again, time_limit=30, gap=1e-9)[0] is None


def test_day_move_with_deferred_work_waiting_across_its_window(monkeypatch):
    # two days of voice 06-18 and e-mail arriving 08-20 (2 h to answer);
    # everybody starts late on both days, so e-mail waits overnight into the
    # second day's window. The day moves keep the schedule's objective
    # exact (recomputed from the frames) and end below the search without them
    import wfm.scheduling.improve as imp

    scen = scenario([fixed("06:00", [4.0], latest="15:00", step=60)], channels=[
        {"name": "voice", "kind": "realtime", "priority": 1.0},
        {"name": "email", "kind": "deferred", "response_time_hours": 14.0,
         "aht_seconds": 900.0}])
    scen.staffing.shrinkage = 0.0
    scen.staffing.max_occupancy = 1.0
    req = requirements(scen, 2, {"voice": [(d, 6, 18, 1.0) for d in range(2)],
                                 "email": [(d, 20, 22, 1.0) for d in range(2)]})
    ros = roster([{"agent_id": f"a{i}", "skills": "voice;email", "min_hours_week": 8.0,
                   "max_hours_week": 8.0} for i in range(3)])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=2)
    hours = ("07:00", "11:00", "15:00")
    start = {a: [_type(catalog, d, h, 4.0) for d in range(2)] for a, h in enumerate(hours)}
    opts = {(a, s): 0 for a, ss in start.items() for s in ss}
    said = []
    with monkeypatch.context() as m:
        m.setattr(imp, "DAY_MOVE_CHOICES", 0)
        without = improve_schedule(demand, catalog, groups, agents, start, opts,
                                   scen.weights, 11.0)
    res = improve_schedule(demand, catalog, groups, agents, start, opts, scen.weights, 11.0,
                           progress=said.append)
    assert any("one day's shifts chosen together" in m for m in said)
    assert res.objective < without.objective - 1.0
    assert _objective(demand, catalog, groups, agents, scen.weights, res.shifts, res.options,
                      res.quota) == pytest.approx(res.objective, rel=1e-9)
    for a, ss in res.shifts.items():
        assert valid_week(agents[a], ss, catalog, 11 * 60)


def test_moves_tried_and_rejected_give_way_to_the_next_predictions(monkeypatch):
    # one head 08-16, the agent at 12:00. Duals that mispredict: the 14:00
    # start (covering 21-22, priced -100 an interval) ahead of the 08:00
    # start (08-09, -50), which alone gains. One move is checked per day.
    # The 14:00 start is tried and rejected; without passing over it the next
    # round tries it again, and the search stops at 12:00. Passing over it,
    # the next round tries the 08:00 start, the optimum.
    import wfm.scheduling.improve as imp

    scen = scenario([fixed("08:00", [8.0], latest="14:00", step=60)])
    req = requirements(scen, 1, {"voice": [(0, 8, 16, 1.0)]})
    ros = roster([{"agent_id": "a", "skills": "voice"}])
    agents, demand, catalog, groups = _inputs(scen, req, ros, days=1)
    noon = _type(catalog, 0, "12:00", 8.0)
    pi = np.zeros((len(groups), catalog.n_intervals))
    pi[:, 84:88] = -100.0                       # 21:00-22:00
    pi[:, 32:36] = -50.0                        # 08:00-09:00
    monkeypatch.setattr(imp._CoverageLP, "duals", lambda self: pi)
    monkeypatch.setattr(imp, "CHECKED_PER_DAY", 1)
    monkeypatch.setattr(imp, "PAIR_FIRST_TRIED", 0)
    monkeypatch.setattr(imp, "DAY_MOVE_CHOICES", 0)

    def search():
        return improve_schedule(demand, catalog, groups, agents, {0: [noon]}, {(0, noon): 0},
                                scen.weights, 11.0, threads=1)

    res = search()
    assert res.shifts == {0: [_type(catalog, 0, "08:00", 8.0)]}
    assert res.objective == pytest.approx(4.0, abs=1e-6)     # 8 h x 0.5, nothing short
    assert res.tried >= 2
    monkeypatch.setattr(imp, "FRESH_ROUNDS", 0)
    stuck = search()
    assert stuck.shifts == {0: [noon]}
    assert stuck.objective > 100.0                           # 4 h short


@pytest.mark.parametrize(("cut", "gap", "status"), [
    (False, 0.0, "feasible"),       # every step finished, gap above the requested
    (True, 0.0, "time_limit"),      # the search stopped by the clock: said
    (True, 0.9, "optimal"),         # ... unless the schedule is within the requested gap
])
def test_a_search_stopped_by_the_time_limit_sets_the_status(monkeypatch, cut, gap, status):
    from test_lagrangian import _one_group_inputs

    from wfm.scheduling import core, schedule

    real = core.improve_schedule

    def stopped_by_the_clock(*args, **kw):
        out = real(*args, **kw)
        out.stopped = "time limit"
        return out

    if cut:
        monkeypatch.setattr(core, "improve_schedule", stopped_by_the_clock)
    scen, req, ros = _one_group_inputs()
    res = schedule(req, scen, ros, time_limit=60, gap=gap)
    assert "improve" in set(res.stages["stage"])
    assert 0.1 < res.gap < 0.9          # 3,619.9 against its bound
    assert res.status == status
    assert ("a step stopped at the time limit" in res.message) == cut


def test_search_stops_once_its_target_is_reached():
    scen, agents, demand, catalog, groups, shifts, options = _poor_start()
    free = improve_schedule(demand, catalog, groups, agents, shifts, options, scen.weights,
                            11.0, max_rounds=50, target=lambda: None)
    assert free.stopped != "gap reached" and free.rounds > 2
    # a target between the start and the local optimum: the search stops at
    # the first round that starts at or below it, before the local optimum
    goal = (free.objective_start + free.objective) / 2
    asked = []

    def target():
        asked.append(1)
        return goal

    cut = improve_schedule(demand, catalog, groups, agents, shifts, options, scen.weights,
                           11.0, max_rounds=50, target=target)
    assert cut.stopped == "gap reached"
    assert cut.objective <= goal + 1e-9 and cut.objective > free.objective + 1e-6
    assert cut.rounds < free.rounds and len(asked) == cut.rounds + 1


def test_schedule_stops_the_search_within_the_requested_gap():
    from test_lagrangian import _one_group_inputs

    from wfm.scheduling import schedule

    scen, req, ros = _one_group_inputs()
    # the search ends at 3,619.9 (the brute-force optimum), 4,453.2 after
    # step 3, against step 1's bound 2,592.3: within 40 % after one round
    wide = schedule(req, scen, ros, time_limit=60, gap=0.4)
    assert wide.stages.set_index("stage").loc["improve", "status"] == "gap_reached"
    assert wide.status == "optimal" and wide.gap <= 0.4
    # never within 10 %: the search runs to its local optimum
    narrow = schedule(req, scen, ros, time_limit=60, gap=0.1)
    assert narrow.stages.set_index("stage").loc["improve", "status"] == "local_optimum"
    assert narrow.status == "feasible"
