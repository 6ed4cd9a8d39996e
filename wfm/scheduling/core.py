"""``schedule()``: requirements + roster -> shifts, breaks and channel assignments.

The schedule is built in four steps (the formulation is in
:mod:`wfm.scheduling.model`):

1. shift counts per skill group and shift type: the LP relaxation of a
   model that is itself a relaxation of the full problem (interior point +
   crossover), so its optimum ``lp_bound`` bounds every schedule; counts by
   a rounding MILP on hourly blocks (each count to the integer below or
   above its value in the LP on the same blocks, started from the
   cumulative rounding repaired to its rows; that rounding alone if the
   MILP finds nothing in time), while the LP on the full grid, which gives
   the bound, is solved in a thread alongside steps 1-3; once it is solved,
   its own counts are rounded by the same MILP (alongside the first
   rounding if that still runs, which is then stopped), and, given the time,
   on half-hour blocks too; they replace the others where that MILP finds
   a solution (the blocks average each hour's quarters, so the LP on them
   staffs what the full grid does not see); or
   by solving the MILP exactly when it has at most :data:`MIP_MAX_INTEGERS` integer
   variables (its bound then tightens ``best_bound``);
2. named agents onto the planned shift types under their contracts (one
   MILP per skill group, or per chunk of a large group, matching the plan's
   half-hourly presence, started from priced weeks -- each member's best
   valid week against what the others leave -- which are also its
   fallback, and a minimum-hours repair);
3. break placement and channel allocation for the named shifts (MILP);
   then, with the time left, a local search on the named schedule against
   its own objective (:mod:`wfm.scheduling.improve`: one agent's day at a
   time, and at its local optima an agent's week, two agents' days or one
   day of every agent, every contract rule kept, a move kept only if the
   objective drops);
4. each agent's per-interval channel split.

The returned objective is recomputed from the finished schedule
(:mod:`wfm.scheduling.evaluate`), so ``gap = (objective - best_bound) /
objective`` is the whole decomposition's distance from optimal, not a single
solver's gap. Besides the bounds of step 1, ``best_bound`` takes the
Lagrangian bound at the duals of the LP on the full grid
(:func:`wfm.scheduling.lagrangian.lagrangian_bound`: each agent's week priced
exactly, every contract rule kept; seconds, alongside the other steps).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from wfm.config import Scenario, SchedulingWeights
from wfm.errors import DataValidationError, SchedulingError
from wfm.scheduling.assign import (
    PREFERRED_START_TOLERANCE_MINUTES,
    GroupAssignment,
    assign_group,
    reach_per_block,
    split_channels,
)
from wfm.scheduling.evaluate import evaluate_coverage
from wfm.scheduling.improve import CoverageLPError, cheapest_week, improve_schedule
from wfm.scheduling.lagrangian import lagrangian_bound
from wfm.scheduling.model import (
    ROUNDING_BLOCK_MINUTES,
    Demand,
    Group,
    agent_cost_factor,
    build_break_model,
    build_model,
    coarsen_demand,
    interval_labels,
    round_breaks,
    round_by_mip,
    round_counts,
    value,
)
from wfm.scheduling.roster import Agent, parse_roster, week_blocks
from wfm.scheduling.solve import SolveReport, StopEvent, check_solver, rel_gap, solve
from wfm.scheduling.templates import ShiftCatalog, coarsen, expand_shifts, net_presence
from wfm.timegrid import local_date

#: Share of the time limit by which the LP relaxation and step 1 should be
#: done. The LP takes about the same time whatever the number of agents (~20 s
#: for a week of the sample scenario), so it may use half of a short limit.
#: Step 1 ends by the larger of the second share and what
#: :data:`STEPS_2_3_SECONDS_PER_AGENT` leaves.
STAGE_DEADLINES = (0.5, 0.42)
#: Seconds per agent the local search is kept after step 1 (at most half of
#: the time left then, less :data:`FRAMES_SECONDS`); steps 2 and 3 share the
#: rest, step 2 ending by :data:`STEP2_SHARE` of it. Fixed deadlines (78 and
#: 90 % of the limit) left the search no time when step 1 took its full
#: share: 150 agents at 30 s gave 6,782, against 3,180 with 8 s of search.
#: Step 2 needs its time too: with 20 % of the time left after step 1, 150
#: agents at 120 s gave 3,005 against 2,946.
IMPROVE_SECONDS_PER_AGENT = 0.3
STEP2_SHARE = 0.8
#: Time steps 2 and 3 take per agent [s] (measured: 50 agents ~15 s, 150
#: agents ~60 s on 2 cores), kept free of step 1 within 30-60 % of the limit.
STEPS_2_3_SECONDS_PER_AGENT = 0.4
#: Step 2 on counts from cumulative rounding (the rounding MILP found nothing
#: usable in time) gets the neighbourhood [min] and the priority-scaled
#: shortfall of the earlier releases, which repair such counts better: sample
#: week 11,236 against 11,716 with the settings for the rounding MILP's counts.
ROUGH_PLAN_NEIGHBOUR_MINUTES = 30
#: Seconds kept for building the output frames after the improvement search,
#: and per agent (500 agents at 600 s: 2 s left the run 1.1 s over its limit;
#: 150 agents at 30 s ended 2.3 s early with 2 s + 0.005 s per agent).
FRAMES_SECONDS = 1.0
FRAMES_SECONDS_PER_AGENT = 0.007
#: The improvement search runs when at least this many seconds are left.
IMPROVE_MIN_SECONDS = 3.0
#: Step 1 is solved as a MILP (not LP + rounding) up to this many integer
#: variables; the break MILP above it only rounds its LP relaxation.
MIP_MAX_INTEGERS = 1500
#: The break MILP gets this share of the time left (at least
#: :data:`BREAK_MIP_MIN_SECONDS`), within the time steps 2 and 3 share
#: (:data:`IMPROVE_SECONDS_PER_AGENT`).
BREAK_MIP_SHARE = 0.25
BREAK_MIP_MIN_SECONDS = 2.0
#: Threads that assign named agents to the planned shifts (step 2), one skill
#: group each at a time (at most the number of cores).
STEP2_WORKERS = 2
#: The rounding MILP stops within this gap of its bound (or the requested
#: gap, if larger): its objective is the hourly model's, not the schedule's,
#: and the time it saves goes to the steps after it (50 agents at 60 s: a
#: solution 3.45 % from its bound at 23 s, none better by its limit at 40 s).
ROUNDING_GAP = 0.05
#: The rounding MILP is skipped (counts rounded cumulatively) when step 1
#: leaves it less than this many seconds: building it alone takes 1-2 s.
ROUNDING_MIN_SECONDS = 1.0
#: Each rounding MILP on hourly blocks runs for at most this share of the
#: time limit. With a few agents per skill it is hard and ran to step 1's
#: deadline (0.7 of the limit) far from its bound, leaving the search a
#: quarter of the time: 20 / 30 / 40 agents in 120 s gave 806.8 / 1,063.6 /
#: 1,896.3, with this share 615.6 / 998.3 / 1,687.2 (the counts of a rounding
#: stopped far from its bound are not used, see ``ROUNDING_MAX_GAP``); from
#: 50 agents up it is done well within it (50 agents in 60 s: 13.7 s;
#: 150 in 120 s: 15-18 s each; 500 in 600 s: 17 s in all).
ROUNDING_MAX_SHARE = 0.25
#: Block length [min] of a third rounding MILP (of the full grid's LP counts,
#: once the first rounding's core is free; 0: none), and how many times the
#: first rounding's time it needs left before step 1's deadline to start.
FINE_ROUNDING_BLOCK_MINUTES = 30
FINE_ROUNDING_TIME_FACTOR = 2.0
#: ... and it runs for at most this many times that rounding's time, and
#: once the hourly rounding of the same counts is done, this many times
#: that one's. Where it pays off it takes about 2.2 times the latter (150
#: agents at 100 %: 28.9 s against 12.9 s; its solution comes at the end of
#: the root node). On the sample plan (120 agents) the root's cut rounds had
#: not ended after 55 s (10 times the 5.5 s of the hourly one): the MILP
#: still held its start, 12.7 % from its bound, not used.
FINE_ROUNDING_MAX_FACTOR = 3.0
#: ... and only where the full grid's LP leaves the live (not deferred)
#: channels short: its shortfall penalty is at least this share of the LP's
#: objective (150 agents: none up to 95 % of the contracts' mean hours, 11 %
#: at 100 %).
FINE_ROUNDING_MIN_SHORTFALL = 0.01
#: ... and at most this share: where the shortfall is most of the objective
#: (the roster far too small) it did not pay off in any instance measured
#: (share 0.56-0.75: the sample plan, 120 agents, stopped at its cap after
#: 18 s, the schedule step 60 s instead of 72-76 s without it, both within
#: the requested 2 %; 150 agents at 115 % and 130 % of the contracts' mean
#: hours, 31 and 29 s, not used; at 100 %, share 0.11, it is used).
FINE_ROUNDING_MAX_SHORTFALL = 0.5
#: The full grid's LP counts rounded on hourly blocks are not used where
#: that rounding's objective exceeds the first's by more than this share
#: (150 agents: within 0.1 % of each other, in four instances; 50: 46 % more).
FULL_GRID_ROUNDING_TOLERANCE = 0.02
#: Share of the time limit by which the LP relaxation on the full grid (the
#: bound, solved in a thread alongside steps 1-3) must be done.
BOUND_LP_DEADLINE = 0.95
#: Below this time limit [s] the LP on the full grid is not started: it needs
#: 20-35 s on one core (40-150 agents), so it would not finish, and it would
#: slow the LP on blocks that the schedule is built from (150 agents at 15 s:
#: that LP stopped at its limit too, and its last iterate rounded to a
#: schedule 100 times worse than one from a finished LP).
BOUND_LP_MIN_LIMIT = 40.0
#: Share of such a short limit by which the LP on blocks should be done. Its
#: last iterate rounds to schedules 20-100 times worse than a finished LP's
#: (150 agents at 15 s: it needs 5.4-6.9 s, so by half of the limit it
#: finished in some runs and not in others).
BLOCKS_LP_ALONE_SHARE = 0.7
#: HiGHS options of the LP relaxations: interior point, then crossover.
LP_OPTIONS = {"solver": "ipm", "run_crossover": "on"}


@dataclass
class ScheduleResult:
    """A schedule and how good it is.

    Attributes
    ----------
    status : str
        ``optimal`` (objective within the requested gap of the bound),
        ``time_limit`` (gap above the requested one, and a step, the local
        search included, stopped at its time limit; the best schedule found
        is returned), ``feasible`` (gap above the requested one, every step
        finished) or ``infeasible``.
    objective : float
        Objective of the returned schedule, recomputed from it.
    best_bound : float or None
        Lower bound on the objective of any schedule: the best of step 1's
        LP (or MILP) bound and the Lagrangian bound at the LP's duals.
    gap : float or None
        ``(objective - best_bound) / objective``.
    solve_seconds : float
        Wall-clock time of the whole call [s].
    shifts, assignments, agent_hours, unmet : DataFrame
        Output frames (see DESIGN.md); ``unmet`` has ``timestamp, channel,
        required, scheduled, unmet`` for every channel and interval with
        unmet demand (heads; deferred channels: work past its deadline in
        agent-intervals).
    message : str
        What happened, in words.
    lp_bound : float or None
        LP relaxation bound of step 1 (<= best_bound).
    preferences_met : float or None
        Share of shift preferences met (None when nobody has one).
    stage_seconds : dict
        Wall-clock seconds per step.
    summary : DataFrame
        Per channel: required, scheduled, under- and over-coverage [agent-hours].
    objective_terms : dict
        The objective split into under, over, backlog, labour, preference.
    stages : DataFrame
        One row per solver run: stage, status, objective, bound, gap, seconds.
        Status ``stopped``: a run ended on purpose, its result not needed (the
        first rounding, once the second has usable counts).
    """

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    solve_seconds: float
    shifts: pd.DataFrame
    assignments: pd.DataFrame
    agent_hours: pd.DataFrame
    unmet: pd.DataFrame
    message: str = ""
    lp_bound: float | None = None
    preferences_met: float | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    objective_terms: dict[str, float] = field(default_factory=dict)
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    solver: str = "highs"


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

def prepare_demand(requirements: pd.DataFrame, scenario: Scenario,
                   extra_channels: list[str] = ()) -> Demand:
    """Requirements frame -> :class:`Demand` arrays on the horizon grid.

    The horizon is the local days present in ``requirements`` (consecutive).
    Realtime and concurrent channels use ``agents_required``; deferred
    channels use ``volume * aht_seconds`` as workload with the channel's
    ``response_time_hours``.

    Raises
    ------
    DataValidationError
        Missing columns, unknown or unstaffed channels, timestamps off the
        interval grid, duplicates, negative or missing values.
    """
    from wfm.timegrid import interval_grid

    need = ["timestamp", "channel", "agents_required"]
    missing = [c for c in need if c not in requirements.columns]
    if missing:
        raise DataValidationError(f"requirements: missing column(s) {missing}; expected "
                                  f"{need} (+ volume, aht_seconds for deferred channels)")
    if requirements.empty:
        raise DataValidationError("requirements: no rows")
    tz = scenario.site.timezone
    step = scenario.site.interval_minutes
    ts = requirements["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        try:
            ts = pd.to_datetime(ts, utc=True, format="ISO8601")
        except (ValueError, TypeError) as err:
            raise DataValidationError(f"requirements: column 'timestamp': expected ISO 8601 "
                                      f"timestamps with UTC offset ({err})") from None
    ts = ts.dt.tz_convert(tz)
    chans = requirements["channel"].astype(str)
    staffed = {c.name for c in scenario.staffed_channels}
    known = set(scenario.channel_names)
    bad = sorted(set(chans) - staffed)
    if bad:
        what = "not staffed (staffed = false)" if set(bad) <= known else "not in the scenario"
        raise DataValidationError(f"requirements: channel(s) {bad} {what}; expected some of "
                                  f"{sorted(staffed)}")
    dates = sorted(set(ts.dt.date))
    n_days = (dates[-1] - dates[0]).days + 1
    if n_days != len(dates):
        raise DataValidationError(f"requirements: the days {dates[0]}..{dates[-1]} are not "
                                  f"consecutive ({n_days - len(dates)} day(s) missing)")
    grid = interval_grid(dates[0], n_days, tz, step)
    pos = grid.get_indexer(pd.DatetimeIndex(ts))
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise DataValidationError(f"requirements: row {i}: timestamp {ts.iloc[i]} is not on "
                                  f"the {step}-minute grid of {tz}")
    order = [c.name for c in scenario.staffed_channels
             if c.name in set(chans) or c.name in set(extra_channels)]
    cidx = {c: i for i, c in enumerate(order)}
    ci = chans.map(cidx).to_numpy()
    key = ci * len(grid) + pos
    if len(np.unique(key)) != key.size:
        dup = pd.Series(key).duplicated().to_numpy()
        i = int(np.flatnonzero(dup)[0])
        raise DataValidationError(f"requirements: row {i}: duplicate (timestamp, channel) "
                                  f"({ts.iloc[i]}, {chans.iloc[i]})")
    T, C = len(grid), len(order)
    required = np.zeros((C, T))
    workload = np.zeros((C, T))
    ar = pd.to_numeric(requirements["agents_required"], errors="coerce").to_numpy(float)
    kinds = [scenario.channel(c).kind for c in order]
    deferred_rows = np.array([kinds[i] == "deferred" for i in ci])
    bad_ar = ~deferred_rows & (~np.isfinite(ar) | (ar < 0))
    if bad_ar.any():
        i = int(np.flatnonzero(bad_ar)[0])
        found = requirements["agents_required"].iloc[i]
        raise DataValidationError(f"requirements: row {i}, column 'agents_required': expected "
                                  f"a number >= 0, found {found!r}")
    required[ci[~deferred_rows], pos[~deferred_rows]] = ar[~deferred_rows]
    if deferred_rows.any():
        for col in ("volume", "aht_seconds"):
            if col not in requirements.columns:
                raise DataValidationError(f"requirements: deferred channels need column "
                                          f"'{col}' (workload = volume x aht_seconds)")
        vol = pd.to_numeric(requirements["volume"], errors="coerce").to_numpy(float)
        aht = pd.to_numeric(requirements["aht_seconds"], errors="coerce").to_numpy(float)
        for i in np.flatnonzero(deferred_rows):
            c = order[ci[i]]
            v = vol[i]
            if not np.isfinite(v) or v < 0:
                raise DataValidationError(f"requirements: row {i}, column 'volume': expected a "
                                          f"number >= 0 for deferred channel {c!r}, found {v!r}")
            a = aht[i] if np.isfinite(aht[i]) and aht[i] > 0 else scenario.channel(c).aht_seconds
            # scheduled agent-intervals: net work / productive share of a scheduled head
            eff = (1.0 - scenario.shrinkage_of(c)) * scenario.max_occupancy_of(c)
            workload[ci[i], pos[i]] = v * a / (step * 60.0) / eff
    priority = np.array([scenario.channel(c).priority for c in order])
    resp = np.array([scenario.channel(c).response_time_hours or np.nan
                     if k == "deferred" else np.nan for c, k in zip(order, kinds)])
    window = np.array([max(1, int(math.floor(r * 60 / step + 1e-9))) if np.isfinite(r) else 0
                       for r in resp])
    return Demand(grid=grid, channels=order, kinds=kinds, priority=priority, required=required,
                  workload=workload, response_hours=resp, window=window,
                  interval_minutes=step, labels=interval_labels(grid))


def make_groups(agents: list[Agent], catalog: ShiftCatalog, channels: list[str]) -> list[Group]:
    """Skill groups with each member's compatible shift types."""
    cidx = {c: i for i, c in enumerate(channels)}
    by_skills: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for a, ag in enumerate(agents):
        by_skills[tuple(sorted(cidx[s] for s in ag.skills))].append(a)
    groups = []
    tpl_ok_cache: dict[frozenset, np.ndarray] = {}
    for skills, members in sorted(by_skills.items()):
        comp = np.zeros((len(members), catalog.n_types), dtype=bool)
        for mi, a in enumerate(members):
            ag = agents[a]
            if ag.skills not in tpl_ok_cache:
                tpl_ok_cache[ag.skills] = np.array(
                    [ch is None or bool(ch & ag.skills) for ch in catalog.template_channels])
            avail = np.array([ag.available_on(d) for d in catalog.days])
            comp[mi] = (tpl_ok_cache[ag.skills][catalog.template] & avail[catalog.day]
                        & (catalog.start_wall >= ag.earliest) & (catalog.end_wall <= ag.latest))
        groups.append(Group(skills=skills, members=members, compat=comp))
    return groups


def _fit_minimum_hours(agents: list[Agent], catalog: ShiftCatalog, groups: list[Group],
                       rest_minutes: int) -> list[str]:
    """Lower minimum hours no week can reach; returns warnings.

    Exact: a week must keep every rule (:func:`cheapest_week`, costs zero),
    so shift lengths that cannot add up to the minimum within the maximum
    (e.g. 39 h with 8 and 8.5 h shifts) count, as do rest and availability.
    The minimum is lowered to the paid hours of the longest valid week; agents
    with the same shift types and contract are checked once.
    """
    notes = []
    blocks = week_blocks(len(catalog.days))
    known: dict[tuple, float | None] = {}
    for grp in groups:
        for mi, a in enumerate(grp.members):
            ag = agents[a]
            if ag.min_hours <= 0:
                continue
            types = np.flatnonzero(grp.compat[mi])
            key = (types.tobytes(), ag.min_hours, ag.max_hours, ag.max_days,
                   ag.max_consecutive)
            if key not in known:
                known[key] = _reach(ag, types, catalog, rest_minutes, blocks)
            reach = known[key]
            if reach is not None:
                notes.append(f"{ag.agent_id} (min {ag.min_hours:g} h a week, at most "
                             f"{reach:g} h possible)")
                ag.min_hours = reach
    return notes


def _reach(ag: Agent, types: np.ndarray, catalog: ShiftCatalog, rest_minutes: int,
           blocks: list[tuple[list[int], float]]) -> float | None:
    """None if some week of ``ag`` reaches its minimum hours, else the weekly
    minimum the longest valid week reaches in each block [h]."""
    upper = min(min(r, ag.max_hours) / share for r, share in
                reach_per_block(ag, types, catalog))
    if ag.min_hours <= upper + 1e-9:
        floors = [ag.min_hours * share * 60.0 for _days, share in blocks]
        if cheapest_week(np.zeros(types.size), types, ag, catalog, rest_minutes,
                         floors) is not None:
            return None
    paid = catalog.paid[types].astype(float)
    best = cheapest_week(-paid, types, ag, catalog, rest_minutes, [0.0] * len(blocks))
    worked = [] if best is None else [int(types[i]) for i in best[1]]
    per_block = [sum(float(catalog.paid[s]) for s in worked if int(catalog.day[s]) in bdays)
                 for bdays, _share in blocks]
    return min(p / 60.0 / share for p, (_d, share) in zip(per_block, blocks, strict=True))


# ---------------------------------------------------------------------------
# the steps
# ---------------------------------------------------------------------------

def prepare_inputs(requirements: pd.DataFrame, scenario: Scenario,
                   roster: pd.DataFrame | None = None
                   ) -> tuple[list[Agent], Demand, ShiftCatalog, list[Group], list[str]]:
    """Agents, demand, shift catalog and skill groups of a scheduling run.

    Returns ``(agents, demand, catalog, groups, lowered)``; ``lowered`` names
    the agents whose minimum hours were lowered to what their availability
    and the templates allow.
    """
    if roster is None:
        path = scenario.resolve(scenario.agents.file)
        if path is None:
            raise SchedulingError(f"{scenario.source}: no roster given and no [agents] file")
        from wfm import io as wio

        roster = wio.read_roster(path, scenario)
        source = str(path)
    else:
        source = "roster"
    agents = parse_roster(roster, scenario, source=source)
    skill_channels = sorted({s for a in agents for s in a.skills})
    demand = prepare_demand(requirements, scenario, extra_channels=skill_channels)
    # local dates from the wall clock: a local midnight may not exist (Santiago
    # moves its clocks at 00:00)
    catalog = expand_shifts(scenario, [pd.Timestamp(d).date()
                                       for d in pd.unique(local_date(demand.grid))])
    if len(catalog.grid) != demand.n_intervals:
        raise SchedulingError("internal: shift grid and demand grid differ")
    groups = make_groups(agents, catalog, demand.channels)
    low = _fit_minimum_hours(agents, catalog, groups,
                             round(scenario.agents.min_rest_hours * 60))
    return agents, demand, catalog, groups, low


class _Clock:
    """The run's time limit: seconds left until a share of it."""

    def __init__(self, limit: float):
        self.t0 = time.perf_counter()
        self.limit = limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def until(self, share: float, floor: float = 0.5) -> float:
        return max(floor, self.limit * share - self.elapsed())


def _shortfall_share(prob: pulp.LpProblem, objective: float) -> float:
    """The share of a solved count model's objective that is the live channels' shortfall."""
    cost = prob.wfm.objective_terms
    short = sum(cost[v] * value(v) for segs in prob.wfm.coverage.under.values() for v in segs)
    return short / objective if objective > 0 else 0.0


class _BackgroundLP:
    """The LP relaxation of a model built and solved in a thread (for the bound).

    HiGHS releases the GIL while it solves and gives each calling thread its
    own scheduler, so the interior-point solve (one core) runs alongside the
    steps of the main thread.
    """

    def __init__(self, build: Callable[[], pulp.LpProblem], time_limit: float | None,
                 then: Callable[[pulp.LpProblem], None] | None = None):
        self.report: SolveReport | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0
        #: the LP's shift counts, once it is solved to optimality
        self.counts: dict[tuple[int, int], float] | None = None
        #: then the share of its objective that is the live channels'
        #: shortfall penalty
        self.shortfall_share = 0.0
        self._solved = threading.Event()
        self._build = build
        self._then = then
        self._limit = time_limit
        self._t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wfm-bound-lp", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            prob = self._build()
            if self._stop.is_set():
                return
            limit = None if self._limit is None else \
                max(0.5, self._limit - (time.perf_counter() - self._t0))
            # one thread: the main thread's solves use the other cores
            self.report = solve(prob, "highs", time_limit=limit, mip=False, threads=1,
                                options=LP_OPTIONS, stop=self._stop)
            if self.report.status == "optimal":
                self.counts = {k: value(v) for k, v in prob.wfm.n.items()}
                self.shortfall_share = _shortfall_share(prob, self.report.objective)
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            self.error = err
            return
        finally:
            self.seconds = time.perf_counter() - self._t0
            self._solved.set()
        if self._then is not None and self.report.status == "optimal" \
                and not self._stop.is_set():
            self._then(prob)

    def cancel(self) -> None:
        """Stop the solve (at its next interior-point iteration) and wait for the thread.

        A model still being built is built first (seconds), then not solved.
        """
        self._stop.set()
        self._thread.join()

    def wait(self) -> None:
        """Wait for the thread to end (the solve and what follows it)."""
        self._thread.join()

    def wait_solved(self, timeout: float | None) -> bool:
        """Wait at most ``timeout`` seconds for the solve (not what follows it) to end."""
        return self._solved.wait(timeout)

    @property
    def finished(self) -> bool:
        """Whether the thread is done (``report`` and ``error`` are final)."""
        return not self._thread.is_alive()

    def result(self) -> SolveReport:
        """Wait for the solve; re-raise what it raised."""
        self.wait()
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


class _LagrangianBound:
    """:func:`~wfm.scheduling.lagrangian.lagrangian_bound` at the duals of the LP on the full grid.

    Computed where that LP was solved: in the bound's thread after its LP
    (:meth:`compute`), or in a thread of its own when step 1 solved it
    (:meth:`start`). About 3 s at 150 agents; its LP stops at the run's time
    limit. Under a short limit, without the LP on the full grid, it is taken
    at the duals of the LP on blocks, each block's spread evenly over its
    intervals (any duals give a bound): 150 agents 2,787.8 against that LP's
    2,735.7, in 3.7 s (the LP on the full grid: 2,787.8 in 25 s; the bound at
    its duals 2,805.3).
    """

    def __init__(self, demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                 agents: list[Agent], weights: SchedulingWeights, rest_h: float,
                 clock: _Clock):
        self._args = (demand, catalog, groups, agents, weights, rest_h)
        self._shape = (len(groups), catalog.n_intervals)
        self._clock = clock
        self._thread: threading.Thread | None = None
        self.value: float | None = None
        self.error: Exception | None = None
        self.seconds = 0.0
        self.unsolved = False       # its coverage LP stopped before optimality

    def _duals(self, prob: pulp.LpProblem, block: int = 1) -> np.ndarray | None:
        G, T = self._shape
        duals = np.zeros((G, -(-T // block)))
        for (g, t), con in prob.wfm.heads.items():
            if con.pi is None:
                return None
            duals[g, t] = con.pi
        if block > 1:
            # a head for the block's k intervals is worth the block's dual
            duals = np.repeat(duals / block, block, axis=1)[:, :T]
        return duals

    def _run(self, duals: np.ndarray | None) -> None:
        t = time.perf_counter()
        try:
            if duals is not None:
                self.value = lagrangian_bound(*self._args, duals,
                                              time_limit=self._clock.until(1.0), threads=1)
                self.unsolved = self.value is None
        except Exception as err:  # noqa: BLE001 - reported as a note, the LP's bound stands
            self.error = err
        finally:
            self.seconds = time.perf_counter() - t

    def compute(self, prob: pulp.LpProblem, block: int = 1) -> None:
        """From the duals of ``prob`` (its LP solved to optimality), in this thread.

        ``block``: intervals per interval of ``prob`` (a model on blocks).
        """
        self._run(self._duals(prob, block))

    def start(self, prob: pulp.LpProblem, block: int = 1) -> None:
        """As :meth:`compute`, in a thread of its own (the duals are read now)."""
        self._thread = threading.Thread(target=self._run, args=(self._duals(prob, block),),
                                        name="wfm-lagrangian", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _round_both(lp_counts: dict[tuple[int, int], float], background: _BackgroundLP | None,
                clock: _Clock, step1_end: float, stage_s: dict[str, float],
                say: Callable[[str], None], args: tuple, gap: float, threads: int | None,
                record: Callable[..., None]) -> dict | None:
    """Step 1's rounding MILPs: of the LP on blocks, and of the LP on the full grid.

    Returns the counts to plan with: the full grid LP's rounding on half-hour
    blocks where usable, else on hourly blocks, else the first rounding's;
    None where none is usable.

    The LP on hourly blocks averages each hour's quarters, so its counts can
    be far from good ones on the full grid: at 150 agents they are worth
    3,227 there (rounded: 3,244) against 2,788 for the full grid's own LP
    (rounded on blocks: 2,872), and the finished schedule was 2,940 against
    2,920. So once the LP on the full grid (the bound's, in its thread) is
    solved, its counts are rounded too, by the same MILP on blocks, and
    replace those of the LP on blocks. With a few members per skill that LP
    spreads shifts thinly over start times, and the MILP may find nothing
    within ROUNDING_MAX_GAP (50 agents: its bound 1,391 against 983 for the
    rounding of the LP on blocks); the first rounding stands then. Its start
    may swap a shorter shift for a longer one where the repair cannot
    otherwise reach a group's minimum hours (swaps): on another roster of
    150 agents the MILP kept its start (5,243, an hour short of a minimum,
    against a bound of 2,683) for 38 s without, and solved with them
    (2,904.1 against 2,918.4). The first rounding's start does not swap
    (50 agents: 1,109-1,316 against 1,078 with it).

    They run side by side (each MILP on one core; the LP on blocks is solved
    first, the full grid's LP in the bound's thread meanwhile), and once the
    second has usable counts HiGHS stops the first: on a roster of 150
    agents where the first takes 56 s, the second took 26 s alongside it
    (16 s alone), and the schedule was 2,905-2,919 against 2,946.9. CBC runs
    both to their end. After the first, the second starts only with at
    least as much time left before step 1's deadline as the first took
    (150 agents: 15-18 s each).

    On the core the first frees, with FINE_ROUNDING_TIME_FACTOR times the
    first's time left (or the second's, where the first was stopped), the
    full grid's LP counts are also rounded on half-hour blocks (about twice
    as long; it is stopped after FINE_ROUNDING_MAX_FACTOR times the first's
    time, or the second's once that one is done). Hourly blocks cannot see
    which quarter-hours a shift covers: at 150 agents with demand at 100 %
    of the contracts' mean hours, the hourly rounding is worth 4,574 on the
    full grid against 3,891 on half-hour blocks (the LP: 3,209), and the
    schedule 3,497-3,651 (three runs) against 3,658; at 85 % 2,844 against
    2,872, the schedule 2,901.4 and 2,907.3 against 2,901.5 (the search has
    20 s less); at 70 % the schedule is worse, 3,594.6 against 3,556.6, at
    95 % the same (2,796.4 against 2,797.2). So it runs only where the full
    grid's LP leaves the live channels short (FINE_ROUNDING_MIN_SHORTFALL: at
    150 agents none up to 95 %, 11 % of its objective at 100 %), but not where
    the shortfall is most of the objective (FINE_ROUNDING_MAX_SHORTFALL);
    FINE_ROUNDING_BLOCK_MINUTES = 0 turns it off.
    With one thread asked for, only the first two run, one after the other.

    The full grid's rounding is used only within FULL_GRID_ROUNDING_TOLERANCE
    of the first's objective (below), so once the first is done, HiGHS
    stops it as soon as its bound passes that: at 50 agents it ran into its
    time limit (24 s, its bound 1,401 against 983), and now stops after
    about 7 s; the search gets the time (1,079.9 -> 1,045.8 in 60 s).
    """
    def hourly_limit() -> float:
        """A rounding MILP's time limit on hourly blocks (ROUNDING_MAX_SHARE)."""
        return min(clock.until(step1_end), ROUNDING_MAX_SHARE * clock.limit)

    def first_round(stop: threading.Event | None = None):
        t = time.perf_counter()
        out = round_by_mip(lp_counts, *args, hourly_limit(), gap, threads, stop=stop)
        stage_s["rounding"] = time.perf_counter() - t
        return out

    def fine_round(stage: str, threads: int | None, block: int | None = None,
                   stop: threading.Event | None = None, most: float = math.inf):
        t = time.perf_counter()
        limit = min(clock.until(step1_end), most) if block else hourly_limit()
        out = round_by_mip(background.counts, *args, limit, gap, threads,
                           swaps=True, block_minutes=block, stop=stop or abort)
        stage_s[stage] = time.perf_counter() - t
        return out

    def report_first(out) -> None:
        rounded, rep_r = out
        status = "stopped" if stopped.is_set() else None
        if rounded is not None and status is None and rep_r.objective is not None:
            # the full grid's rounding (same blocks) is not used above this:
            # it is stopped once its bound is
            hourly_stop.bound_above = (1.0 + FULL_GRID_ROUNDING_TOLERANCE) * rep_r.objective
        record("rounding", rep_r, status=status)
        say(f"  rounding MILP: {status or rep_r.status} ({stage_s['rounding']:.1f} s)"
            + ("" if rounded is None else f"; {sum(rounded.values())} shifts"))

    def left() -> float:
        return clock.until(step1_end, floor=0.0)

    def need(stage: str) -> float:
        """The time a stage took (0 before its end), and at least ROUNDING_MIN_SECONDS."""
        return max(ROUNDING_MIN_SECONDS, stage_s.get(stage, 0.0))

    stopped = threading.Event()
    abort = threading.Event()
    hourly_stop = StopEvent()       # the full grid's rounding on hourly blocks
    half_stop = threading.Event()   # ... and on half-hour blocks
    half_start = 0.0
    fine: dict[str, tuple] = {}
    if background is not None and threads != 1:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="wfm-rounding") as ex:
            jobs = {"rounding": ex.submit(first_round, stopped)}
            reported = False
            try:
                while True:
                    done = {k for k, j in jobs.items() if j.done()}
                    usable = {k for k in done - {"rounding"} if jobs[k].result()[0] is not None}
                    if "rounding" in done and not reported:
                        report_first(jobs["rounding"].result())  # re-raises what it raised
                        reported = True
                    solved = background.wait_solved(0)
                    lp = solved and background.counts is not None
                    if "rounding" not in done and usable:
                        stopped.set()      # its counts are not needed
                    # the full grid's LP counts on hourly blocks, with the
                    # first rounding or after it (given at least as much time)
                    if lp and "rounding_full_grid_lp" not in jobs and left() >= need("rounding"):
                        jobs["rounding_full_grid_lp"] = ex.submit(
                            fine_round, "rounding_full_grid_lp", 1, None, hourly_stop)
                    # and on half-hour blocks, on the core the first one frees
                    took = need("rounding_full_grid_lp" if stopped.is_set() else "rounding")
                    if lp and FINE_ROUNDING_BLOCK_MINUTES and "rounding" in done \
                            and FINE_ROUNDING_MIN_SHORTFALL <= background.shortfall_share \
                            <= FINE_ROUNDING_MAX_SHORTFALL \
                            and "rounding_half_hours" not in jobs \
                            and "rounding_full_grid_lp" in jobs \
                            and left() >= FINE_ROUNDING_TIME_FACTOR * took:
                        half_start = time.perf_counter()
                        jobs["rounding_half_hours"] = ex.submit(
                            fine_round, "rounding_half_hours", 1, FINE_ROUNDING_BLOCK_MINUTES,
                            half_stop, FINE_ROUNDING_MAX_FACTOR * took)
                    # once the same counts' rounding on hourly blocks is done,
                    # the half-hour one gets FINE_ROUNDING_MAX_FACTOR times its time
                    if "rounding_half_hours" in jobs and "rounding_full_grid_lp" in done \
                            and time.perf_counter() - half_start > FINE_ROUNDING_MAX_FACTOR \
                            * need("rounding_full_grid_lp"):
                        half_stop.set()
                    pending = [j for j in jobs.values() if not j.done()]
                    if not pending and ("rounding_full_grid_lp" in jobs or solved
                                        or left() < need("rounding")):
                        break
                    if pending:
                        wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    else:
                        background.wait_solved(0.2)
            except BaseException:
                # a rounding failed (or the run is interrupted): stop the others
                stopped.set()
                abort.set()
                hourly_stop.set()
                half_stop.set()
                raise
            fine = {k: j.result() for k, j in jobs.items() if k != "rounding"}
            first = jobs["rounding"].result()
    else:
        first = first_round()
        report_first(first)
        if background is not None and background.wait_solved(left() - need("rounding")) \
                and background.counts is not None and left() >= need("rounding"):
            fine["rounding_full_grid_lp"] = fine_round("rounding_full_grid_lp", threads,
                                                       stop=hourly_stop)
    # On the same hourly blocks the first two roundings are comparable: the full
    # grid's LP counts are not used where theirs is worse there than the
    # first's (its box is then poor: 50 agents 1,438 against 983, and the
    # schedule 1,316 against 1,078), nor on half-hour blocks then
    hourly, rejected = fine.get("rounding_full_grid_lp"), False
    if hourly is not None and hourly[0] is not None and first[0] is not None \
            and not stopped.is_set():
        rejected = hourly[1].objective > (1.0 + FULL_GRID_ROUNDING_TOLERANCE) \
            * first[1].objective
    best = None
    for stage in ("rounding_full_grid_lp", "rounding_half_hours"):
        if stage in fine:
            counts, rep = fine[stage]
            bound_stop = stage == "rounding_full_grid_lp" and rep.solver == "highs" \
                and rep.status != "optimal" and rep.best_bound is not None \
                and rep.best_bound > hourly_stop.bound_above   # CBC runs to its end
            record(stage, rep, status="stopped" if bound_stop else None)
            use = counts is not None and not rejected and hourly[0] is not None
            if stage == "rounding_half_hours":
                # only near its bound (CBC at 150 agents: 12.8 % from it,
                # worth 3,561 on the full grid against 2,872 on hourly blocks)
                use = use and rep.gap is not None and rep.gap <= gap
            say("  rounding MILP of the full grid's LP"
                + (" on half-hour blocks" if stage == "rounding_half_hours" else "") + ": "
                + ("stopped, its bound above the first's" if bound_stop else
                   f"{rep.status}; {sum(counts.values())} shifts" if counts is not None
                   else "no usable solution")
                + ("" if use or counts is None else ", not used")
                + f" ({stage_s[stage]:.1f} s)")
            if use:
                best = counts    # the half-hour blocks' if usable
    return first[0] if best is None else best


def _round_counts(prob_counts: dict[tuple[int, int], float]) -> dict[tuple[int, int], int]:
    return {k: int(round(v)) for k, v in prob_counts.items() if round(v) > 0}


def schedule(requirements: pd.DataFrame, scenario: Scenario,
             roster: pd.DataFrame | None = None, *, time_limit: float | None = None,
             gap: float | None = None, solver: str | None = None,
             progress: Callable[[str], None] | None = None,
             threads: int | None = None) -> ScheduleResult:
    """Schedule the roster's agents against the requirements.

    Parameters
    ----------
    requirements : DataFrame
        ``timestamp, channel, agents_required`` (+ ``volume, aht_seconds``
        for deferred channels); the horizon is the days present.
    scenario : Scenario
        Channels, shift templates, contract defaults, weights, solver settings.
    roster : DataFrame, optional
        Roster frame; default: the scenario's ``agents.file``.
    time_limit : float, optional
        Wall-clock limit for all steps [s]; default ``solver.time_limit_seconds``.
    gap : float, optional
        Relative gap to the best bound (0-1) at which the MILPs and the local
        search stop (the run ends early then); default ``solver.gap``.
    solver : {"highs", "cbc"}, optional
        Default ``solver.backend``.
    progress : callable, optional
        Called with one-line progress messages.
    threads : int, optional
        Solver threads (default ``solver.threads``); 1 also runs the bound's
        LP and the skill groups of step 2 one after the other.

    Returns
    -------
    ScheduleResult

    Examples
    --------
    >>> from wfm.scheduling import schedule
    >>> res = schedule(requirements, scenario, roster, time_limit=60)  # doctest: +SKIP
    >>> res.status, round(res.gap, 3)  # doctest: +SKIP
    ('optimal', 0.004)
    """
    started: list[_BackgroundLP] = []
    try:
        return _schedule(requirements, scenario, roster, time_limit=time_limit, gap=gap,
                         solver=solver, progress=progress, threads=threads, started=started)
    except BaseException:
        # an error or an interrupt (Ctrl-C in a notebook) must not leave the
        # bound's LP running on a core until its time limit
        for bg in started:
            bg.cancel()
        raise


def _schedule(requirements: pd.DataFrame, scenario: Scenario, roster: pd.DataFrame | None,
              *, time_limit: float | None, gap: float | None, solver: str | None,
              progress: Callable[[str], None] | None, threads: int | None,
              started: list[_BackgroundLP]) -> ScheduleResult:
    """:func:`schedule`; the bound's LP thread, once started, is put in ``started``."""
    say = progress or (lambda _m: None)
    cfg = scenario.solver
    time_limit = cfg.time_limit_seconds if time_limit is None else float(time_limit)
    gap = cfg.gap if gap is None else float(gap)
    if not (0.0 <= gap < 1.0):
        raise SchedulingError(f"gap must be in [0, 1), got {gap!r}")
    if time_limit <= 0:
        raise SchedulingError(f"time_limit must be > 0 seconds, got {time_limit!r}")
    solver = check_solver(solver or cfg.backend)
    threads = threads if threads is not None else cfg.threads
    weights = scenario.weights
    clock = _Clock(time_limit)
    stage_s: dict[str, float] = {}
    runs: list[dict] = []
    notes: list[str] = []
    hit_limit = False

    def record(stage: str, rep: SolveReport, status: str | None = None) -> None:
        """``status``: in place of the report's (a solve stopped on purpose)."""
        nonlocal hit_limit
        hit_limit |= status is None and rep.status == "time_limit"
        runs.append({"stage": stage, "status": status or rep.status, "objective": rep.objective,
                     "best_bound": rep.best_bound, "gap": rep.gap, "seconds": rep.seconds,
                     "solver": rep.solver})

    # -- inputs -------------------------------------------------------------
    t = time.perf_counter()
    agents, demand, catalog, groups, low = prepare_inputs(requirements, scenario, roster)
    if low:
        notes.append(f"{len(low)} agent(s) cannot reach their minimum hours with their "
                     f"availability and the templates; lowered for: {', '.join(low[:5])}"
                     + (f" and {len(low) - 5} more (agent_hours' min_hours_week has the "
                        "minimum used for each)" if len(low) > 5 else ""))
    rest_h = scenario.agents.min_rest_hours
    stage_s["prepare"] = time.perf_counter() - t
    say(f"schedule: {len(agents)} agents in {len(groups)} skill groups, "
        f"{len(catalog.days)} days, {demand.n_intervals} intervals, "
        f"{len(demand.channels)} channels, {catalog.n_types} shift types")

    # -- step 1: shift counts ----------------------------------------------
    # The LP relaxation is solved by HiGHS's interior-point method whatever
    # the MILP solver: on this covering structure dual simplex stalls in
    # degenerate pivots, while IPM needs ~50-110 iterations whatever the size,
    # and crossover then gives a vertex, which rounds far better than the
    # centre of the optimal face. CBC's barrier (CLP) took 62 s for the LP of
    # 50 agents (HiGHS: 28 s) and overran its time limit (120.7 s for 60 s at
    # 150 agents), leaving no bound; highspy is a dependency of wfm anyway.
    t = time.perf_counter()
    k_blk = max(1, ROUNDING_BLOCK_MINUTES // demand.interval_minutes)
    # on hourly intervals already, this is the model on the full grid
    prob = build_model(coarsen_demand(demand, k_blk), coarsen(catalog, k_blk), groups, agents,
                       weights, rest_h,
                       name="wfm_shift_counts_blocks" if k_blk > 1 else "wfm_shift_counts")
    exact = len(prob.wfm.n) <= MIP_MAX_INTEGERS
    on_blocks = not exact and k_blk > 1
    background: _BackgroundLP | None = None
    # the bound at the duals of the LP on the full grid (its own step)
    lagrangian = _LagrangianBound(demand, catalog, groups, agents, weights, rest_h, clock)
    if exact and k_blk > 1:
        # small enough to solve the counts exactly, on the full grid
        del prob
        prob = build_model(demand, catalog, groups, agents, weights, rest_h)
    elif on_blocks and time_limit >= BOUND_LP_MIN_LIMIT:
        # The LP on the full grid gives the bound; IPM runs on one core for
        # ~20-30 s whatever the number of agents, so it runs in a thread
        # (HiGHS releases the GIL) while the counts come from the same model
        # on hourly blocks, itself a relaxation (its LP takes ~6 s), which
        # the rounding MILP works on anyway.
        background = _BackgroundLP(
            lambda: build_model(demand, catalog, groups, agents, weights, rest_h),
            time_limit=clock.until(BOUND_LP_DEADLINE), then=lagrangian.compute)
        started.append(background)
        if threads == 1:
            # one core asked for: the bound's LP first, on its own
            background.wait()
    stage_s["build_counts"] = time.perf_counter() - t
    say(f"step 1/4: shift-count model with {len(prob.wfm.n)} integer and "
        f"{prob.numVariables() - len(prob.wfm.n)} continuous variables, "
        f"{prob.numConstraints()} constraints"
        + (f" on {k_blk * demand.interval_minutes}-minute blocks" if on_blocks else "")
        + f" ({stage_s['build_counts']:.1f} s to build)")
    t = time.perf_counter()
    # the LP on blocks without the LP on the full grid alongside (a short limit)
    blocks_alone = on_blocks and background is None
    # alone it may take longer: every later step is built on it
    lp_share = BLOCKS_LP_ALONE_SHARE if blocks_alone else STAGE_DEADLINES[0]
    rep1 = solve(prob, "highs", time_limit=clock.until(lp_share), mip=False,
                 threads=threads, options=LP_OPTIONS)
    lp_stage = "lp_blocks" if on_blocks else "lp_relaxation"
    record(lp_stage, rep1)
    stage_s[lp_stage] = time.perf_counter() - t
    if rep1.status == "infeasible":
        raise SchedulingError("internal: the shift-count relaxation is infeasible; please "
                              "report this with the scenario and roster")
    lp_value = rep1.objective if rep1.status == "optimal" else None
    best_bound = lp_value
    if lp_value is not None and (not on_blocks or blocks_alone):
        block = k_blk if on_blocks else 1
        if threads == 1:
            lagrangian.compute(prob, block)
        else:
            lagrangian.start(prob, block)
    lp_counts = {k: value(v) for k, v in prob.wfm.n.items()}
    if blocks_alone:
        notes.append(f"the LP relaxation on the full grid was not solved (it needs more than "
                     f"the time limit of {time_limit:g} s); "
                     + ("no bound is available" if lp_value is None
                        else "the bound comes from the LP on hourly blocks"))
    if lp_value is None:
        notes.append("the LP relaxation stopped at the time limit; its last iterate was "
                     "rounded" + ("" if on_blocks else " and no bound is available"))
    counts = round_counts(lp_counts, catalog)
    rough = True   # counts from cumulative rounding
    say(f"  LP relaxation{' on blocks' if on_blocks else ''}: {rep1.status}, bound "
        f"{'n/a' if lp_value is None else f'{lp_value:,.1f}'} "
        f"({stage_s[lp_stage]:.1f} s)")
    reserve = min(0.6, max(0.3, STEPS_2_3_SECONDS_PER_AGENT * len(agents) / time_limit))
    step1_end = max(STAGE_DEADLINES[1], 1.0 - reserve)
    if exact:
        t = time.perf_counter()
        rep_m = solve(prob, solver, time_limit=clock.until(step1_end), gap=gap * 0.5,
                      threads=threads)
        record("shift_counts", rep_m)
        stage_s["shift_counts"] = time.perf_counter() - t
        if rep_m.has_solution:
            counts = _round_counts({k: value(v) for k, v in prob.wfm.n.items()})
            rough = False
        if rep_m.best_bound is not None and (best_bound is None
                                              or rep_m.best_bound > best_bound):
            best_bound = rep_m.best_bound
        say(f"  shift-count MILP: {rep_m.status}, bound {best_bound or float('nan'):,.1f} "
            f"({stage_s['shift_counts']:.1f} s)")
        del prob
    elif clock.until(step1_end, floor=0.0) < ROUNDING_MIN_SECONDS:
        del prob
        hit_limit = True
        notes.append("no time was left for the rounding MILP; the LP's counts were rounded "
                     "cumulatively")
    else:
        del prob
        rounded = _round_both(
            lp_counts, background, clock, step1_end, stage_s, say,
            (demand, catalog, groups, agents, weights, rest_h, solver),
            max(gap, ROUNDING_GAP), threads, record)
        if rounded is not None:
            counts = rounded
            rough = False
        else:
            notes.append("the rounding MILP found no solution in time; the LP's counts were "
                         "rounded cumulatively")

    # -- step 2: named agents ----------------------------------------------
    t = time.perf_counter()
    after1 = clock.elapsed()
    frames_s = FRAMES_SECONDS + FRAMES_SECONDS_PER_AGENT * len(agents)
    rest = max(0.0, time_limit - after1 - frames_s)
    steps_2_3 = rest - min(0.5 * rest, IMPROVE_SECONDS_PER_AGENT * len(agents))
    step2_end = (after1 + STEP2_SHARE * steps_2_3) / time_limit
    step3_end = (after1 + steps_2_3) / time_limit
    shifts_of: dict[int, list[int]] = {}
    n_short = n_extra = 0
    missed: dict[int, float] = {}
    planned_of: dict[int, dict[int, int]] = {g: {} for g in range(len(groups))}
    for (g, s), k in counts.items():
        planned_of[g][s] = k
    sizes = [len(grp.members) * max(1, len(planned_of[g])) for g, grp in enumerate(groups)]
    order = sorted(range(len(groups)), key=lambda g: -sizes[g])
    # Groups are independent here, so STEP2_WORKERS threads solve them,
    # largest first (HiGHS and CBC run outside the GIL). Each group gets the
    # time to the deadline in proportion to its size among the groups not yet
    # started, as one after the other would: the step ends sooner, and the
    # time it saves goes to the breaks and the local search.
    workers = max(1, min(STEP2_WORKERS, os.cpu_count() or 1, threads or STEP2_WORKERS,
                         len(order)))
    lock = threading.Lock()
    left_size = float(sum(sizes)) or 1.0

    def assign_one(g: int) -> GroupAssignment:
        nonlocal left_size
        grp = groups[g]
        rough_kw = {} if not rough else {
            "neighbour": ROUGH_PLAN_NEIGHBOUR_MINUTES,
            "max_priority": float(max(demand.priority[c] for c in grp.skills))}
        with lock:
            budget = clock.until(step2_end, floor=0.0)
            # no time left: the greedy construction (assign_group at 0 s)
            lim = None if budget is None else 0.0 if budget <= 0.0 else \
                max(0.5, budget * sizes[g] / max(left_size, 1.0))
            left_size -= sizes[g]
        return assign_group(g, grp, planned_of[g], catalog, agents, weights, rest_h,
                            solver=solver, time_limit=lim, gap=gap, **rough_kw)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wfm-step2") as ex:
        done = list(ex.map(assign_one, order))
    for g, ga in zip(order, done):
        record(f"assign_g{g}", ga.report)
        shifts_of.update(ga.shifts)
        n_short += ga.short
        n_extra += ga.extra
        missed.update(ga.min_hours_missed)
    stage_s["assign"] = time.perf_counter() - t
    say(f"step 2/4: {sum(len(v) for v in shifts_of.values())} shifts assigned to "
        f"{len(shifts_of)} agents ({n_short:.1f} planned head-hours missing, {n_extra:.1f} "
        f"added against the plan; "
        f"{stage_s['assign']:.1f} s)")
    if missed:
        notes.append("minimum hours missed by " + ", ".join(
            f"{agents[a].agent_id} ({h:.1f} h)" for a, h in sorted(missed.items())))

    # -- step 3: breaks and channel allocation ------------------------------
    t = time.perf_counter()
    group_of = {a: g for g, grp in enumerate(groups) for a in grp.members}
    worked: dict[tuple[int, int], int] = defaultdict(int)
    for a, ss in shifts_of.items():
        for s in ss:
            worked[(group_of[a], s)] += 1
    prob3 = build_break_model(demand, catalog, groups, worked, weights)
    # The MILP starts from its LP relaxation (HiGHS, ~1 s at 150 agents)
    # rounded in each pool; with many integers it may only move each count to
    # the integer below or above its LP value. It gets a share of the time
    # left: the local search places breaks too, and at 150 agents in 120 s
    # the rounding and 22.5 s of search gave 2,953 against 2,978 for the
    # full break MILP (14 s) and 10 s of search.
    rep_lp = solve(prob3, "highs", mip=False, threads=threads)
    n_brk = sum(len(bv) for bv in prob3.wfm.breaks.values())
    if rep_lp.has_solution:
        start = round_breaks(prob3.wfm.breaks, box=n_brk > MIP_MAX_INTEGERS)
        how = "rounded from the LP relaxation"
    else:
        record("breaks_lp", rep_lp)
        # spread each pool's breaks evenly over its options (staggered across
        # the window; all in the middle cost 13,139 against 3,026 placed at
        # 150 agents)
        start = {}
        for (g, p), bv in prob3.wfm.breaks.items():
            k = sum(worked[(g, s)] for s in np.flatnonzero(catalog.pool == p)
                    if (g, int(s)) in worked)
            spread = np.bincount(np.floor((np.arange(k) + 0.5) * len(bv) / max(k, 1))
                                 .astype(int), minlength=len(bv))
            start.update({v: int(spread[j]) for j, v in enumerate(bv)})
        how = "spread evenly over their windows"
    left = min(clock.until(step3_end, floor=0.0),
               max(BREAK_MIP_MIN_SECONDS, BREAK_MIP_SHARE * (time_limit - clock.elapsed())))
    rep3 = None
    if left > 0.0:
        rep3 = solve(prob3, solver, time_limit=max(1.0, left), gap=gap, threads=threads,
                     start=start)
        if not rep3.has_solution:
            record("breaks_no_solution", rep3)
        why = "found no solution in time"
    else:
        hit_limit = True
        why = "had no time left"
    if rep3 is None or not rep3.has_solution:
        # the search moves them on
        for v, k in start.items():
            v.lowBound = v.upBound = k
        rep3 = solve(prob3, solver, time_limit=max(5.0, left), threads=threads)
        notes.append(f"break placement {why}; each pool's breaks were {how}")
    record("breaks", rep3)
    stage_s["breaks"] = time.perf_counter() - t
    say(f"step 3/4: breaks placed, {rep3.status} ({stage_s['breaks']:.1f} s)")

    option = _name_breaks(catalog, groups, shifts_of, prob3)
    quota = _quota_of(prob3)
    del prob3

    # -- improvement: local search on the named schedule ---------------------
    left = time_limit - clock.elapsed() - frames_s

    def goal() -> float | None:
        # the objective within the requested gap of the best bound known now
        # (the LP on the full grid and the bound at its duals may come in
        # during the search)
        bounds = [best_bound, lagrangian.value]
        if background is not None and background.finished \
                and background.report is not None and background.report.status == "optimal":
            bounds.append(background.report.objective)
        b = max((x for x in bounds if x is not None), default=None)
        return None if b is None or b <= 0.0 else b / (1.0 - gap)

    if left >= IMPROVE_MIN_SECONDS:
        t = time.perf_counter()
        try:
            imp = improve_schedule(demand, catalog, groups, agents, shifts_of, option,
                                   weights, rest_h, time_limit=left, threads=threads,
                                   target=goal, progress=say)
        except CoverageLPError as err:
            notes.append(f"the local search could not start (coverage LP: {err}); the "
                         f"schedule of step 3 is returned")
        else:
            shifts_of, option, quota = imp.shifts, imp.options, imp.quota
            hit_limit |= imp.stopped == "time limit"
            runs.append({"stage": "improve", "status": imp.stopped.replace(" ", "_"),
                         "objective": imp.objective, "best_bound": None, "gap": None,
                         "seconds": imp.seconds, "solver": "highs"})
            say(f"  improvement: {imp.objective_start:,.1f} -> {imp.objective:,.1f} "
                f"({imp.accepted} of {imp.tried} moves kept, {imp.stopped}; "
                f"{time.perf_counter() - t:.1f} s)")
        stage_s["improve"] = time.perf_counter() - t

    # -- step 4: named breaks and channel split -> frames --------------------
    t = time.perf_counter()
    frames = _build_frames(demand, catalog, groups, agents, shifts_of, option, quota)
    stage_s["split"] = time.perf_counter() - t

    # -- objective of the finished schedule ------------------------------------
    scheduled = frames.pop("scheduled")
    out = evaluate_coverage(demand, scheduled, weights)
    cost = agent_cost_factor(agents)
    labour = 0.0
    for a, ss in shifts_of.items():
        for s in ss:
            labour += weights.labour_cost * float(cost[a]) * catalog.paid[s] / 60.0
    frames["agent_hours"] = _agent_hours(agents, shifts_of, catalog)
    pref_total = int(frames["agent_hours"]["preferences_total"].sum())
    pref_unmet = pref_total - int(frames["agent_hours"]["preferences_met"].sum())
    terms = dict(out.costs)
    terms["labour"] = labour
    terms["preference"] = weights.preference * pref_unmet
    objective = float(sum(terms.values()))
    prefs_met = None if pref_total == 0 else 1.0 - pref_unmet / pref_total
    if background is not None:
        try:
            rep_b = background.result()
        except Exception as err:  # noqa: BLE001 - the schedule stands without it
            rep_b = None
            notes.append(f"the LP relaxation on the full grid failed ({err}); the bound is "
                         f"the LP's on hourly blocks")
        stage_s["lp_relaxation"] = background.seconds
        if rep_b is not None:
            record("lp_relaxation", rep_b)
            if rep_b.status == "optimal":
                lp_value = rep_b.objective
                best_bound = rep_b.objective if best_bound is None \
                    else max(best_bound, rep_b.objective)
            else:
                notes.append("the LP relaxation on the full grid stopped at the time limit; "
                             + ("no bound is available" if best_bound is None
                                else "the bound is the LP's on hourly blocks"))
    lagrangian.wait()
    if lagrangian.error is not None:
        notes.append(f"the Lagrangian bound failed ({lagrangian.error}); the best bound "
                     f"is without it")
    elif lagrangian.unsolved:
        notes.append("the Lagrangian bound's LP stopped at the time limit; the best bound is "
                     "without it")
    elif lagrangian.value is not None:
        stage_s["lagrangian_bound"] = lagrangian.seconds
        runs.append({"stage": "lagrangian_bound", "status": "optimal",
                     "objective": lagrangian.value, "best_bound": lagrangian.value,
                     "gap": None, "seconds": lagrangian.seconds, "solver": "highs"})
        if best_bound is None or lagrangian.value > best_bound:
            best_bound = lagrangian.value
    gap_final = rel_gap(objective, best_bound)
    elapsed = clock.elapsed()
    if gap_final is not None and gap_final <= gap + 1e-9:
        status = "optimal"      # what was asked for, even if a step was cut short
    elif hit_limit:
        status = "time_limit"
    else:
        status = "feasible"
    unmet_df, summary = _unmet_frames(demand, out)
    msg = [f"{status}: objective {objective:,.1f}, bound "
           f"{'n/a' if best_bound is None else f'{best_bound:,.1f}'}, gap "
           f"{'n/a' if gap_final is None else f'{100 * gap_final:.2f} %'} "
           f"(requested {100 * gap:g} %), {elapsed:.1f} s with {solver}"]
    if hit_limit:
        msg.append(f"a step stopped at the time limit of {time_limit:g} s; this is the best "
                   f"schedule found")
    if summary["under_agent_hours"].sum() > 1e-6:
        worst = summary.sort_values("under_agent_hours", ascending=False).iloc[0]
        msg.append(f"demand not met: {summary['under_agent_hours'].sum():,.1f} agent-hours "
                   f"short (most on {worst['channel']}: {worst['under_agent_hours']:,.1f}); "
                   f"see the unmet frame")
    msg.extend(notes)
    stage_s["total"] = elapsed
    say(f"step 4/4: {len(frames['assignments'])} assignment rows; " + msg[0])
    return ScheduleResult(
        status=status, objective=objective, best_bound=best_bound, gap=gap_final,
        solve_seconds=elapsed, shifts=frames["shifts"], assignments=frames["assignments"],
        agent_hours=frames["agent_hours"], unmet=unmet_df, message="; ".join(msg),
        lp_bound=lp_value, preferences_met=prefs_met, stage_seconds=stage_s, summary=summary,
        objective_terms=terms, stages=pd.DataFrame(runs), solver=solver)


# ---------------------------------------------------------------------------
# output frames
# ---------------------------------------------------------------------------

def _hhmm(ts: pd.Timestamp) -> str:
    return f"{ts.hour:02d}:{ts.minute:02d}"


def _name_breaks(catalog: ShiftCatalog, groups: list[Group], shifts_of: dict[int, list[int]],
                 prob3) -> dict[tuple[int, int], int]:
    """Break option per (agent, shift type): step 3's option counts handed out."""
    group_of = {a: g for g, grp in enumerate(groups) for a in grp.members}
    by_pool: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for a in sorted(shifts_of):
        for s in sorted(shifts_of[a]):
            by_pool[(group_of[a], int(catalog.pool[s]))].append((a, s))
    option: dict[tuple[int, int], int] = {}
    for key, members in by_pool.items():
        bv = prob3.wfm.breaks.get(key)
        if bv is None:
            for m in members:
                option[m] = 0
            continue
        ks = [int(round(value(v))) for v in bv]
        # members ordered by shift start so that staggered options stay staggered
        members = sorted(members, key=lambda m: (catalog.start_abs[m[1]], m[0]))
        seq = [j for j, k in enumerate(ks) for _ in range(k)]
        if len(seq) != len(members):  # solver rounding: pad/truncate with the busiest option
            j_big = int(np.argmax(ks)) if ks else 0
            seq = (seq + [j_big] * len(members))[:len(members)]
        for m, j in zip(members, seq):
            option[m] = j
    return option


def _quota_of(prob3) -> dict[tuple[int, int], dict[int, float]]:
    """Channel heads per (group, interval) of a solved break model."""
    quota: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)
    for (g, t, c), v in prob3.wfm.coverage.x.items():
        q = value(v)
        if q > 1e-9:
            quota[(g, t)][c] = q
    return quota


def _build_frames(demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                  agents: list[Agent], shifts_of: dict[int, list[int]],
                  option: dict[tuple[int, int], int],
                  quota: dict[tuple[int, int], dict[int, float]]) -> dict:
    T = demand.n_intervals
    t0 = catalog.grid[0]
    group_of = {a: g for g, grp in enumerate(groups) for a in grp.members}
    # presence per agent and interval
    shift_rows = []
    avail: dict[int, dict[int, float]] = defaultdict(dict)   # t -> agent -> share
    for a in sorted(shifts_of):
        for s in sorted(shifts_of[a]):
            p = int(catalog.pool[s])
            j = option[(a, s)]
            for t, x in zip(*net_presence(catalog, s, j)):
                if x > 1e-9:
                    avail[int(t)][a] = avail[int(t)].get(a, 0.0) + float(x)
            start = t0 + pd.Timedelta(minutes=int(catalog.start_abs[s]))
            end = t0 + pd.Timedelta(minutes=int(catalog.end_abs[s]))
            brk = []
            for b0, mm in zip(catalog.pool_options[p][j], catalog.pool_minutes[p]):
                bs = t0 + pd.Timedelta(minutes=int(b0))
                be = bs + pd.Timedelta(minutes=int(mm))
                brk.append(f"{_hhmm(bs)}-{_hhmm(be)}")
            shift_rows.append({
                "agent_id": agents[a].agent_id,
                "date": catalog.days[int(catalog.day[s])].isoformat(),
                "start": start, "end": end, "breaks": ";".join(brk),
                "template": catalog.template_names[int(catalog.template[s])],
                "paid_hours": catalog.paid[s] / 60.0,
            })
    # channel split per group and interval
    C = len(demand.channels)
    scheduled = np.zeros((C, T))
    rows_t, rows_a, rows_c, rows_f = [], [], [], []
    previous: dict[int, int] = {}
    for t in range(T):
        present = avail.get(t)
        if not present:
            continue
        per_group: dict[int, dict[int, float]] = defaultdict(dict)
        for a, sh in present.items():
            per_group[group_of[a]][a] = min(1.0, sh)
        for g, pres in per_group.items():
            grp = groups[g]
            q = quota.get((g, t), {})
            total_q = sum(q.values())
            total_p = sum(pres.values())
            if total_q > 0:
                # the solver's allocation sums to the heads present up to its
                # tolerance; scale it onto the exact presence
                q = {c: v * total_p / total_q for c, v in q.items()}
            else:
                q = {grp.skills[0]: total_p}
            prof = {a: {c: agents[a].skill_proficiency(demand.channels[c])
                        for c in grp.skills} for a in pres}
            split = split_channels(pres, q, list(grp.skills), prof, previous)
            for a, chans in split.items():
                for c, f in chans.items():
                    # truncate to 1e-6 so that written fractions never add up
                    # to more than the time on shift
                    f = math.floor(min(f, pres[a]) * 1e6) / 1e6
                    if f <= 1e-6:
                        continue
                    rows_t.append(t)
                    rows_a.append(agents[a].agent_id)
                    rows_c.append(demand.channels[c])
                    rows_f.append(f)
                    scheduled[c, t] += f
    assignments = pd.DataFrame({
        "timestamp": catalog.grid[np.asarray(rows_t, dtype=np.int64)],
        "agent_id": pd.array(rows_a, dtype="str"),
        "channel": pd.array(rows_c, dtype="str"),
        "fraction": np.asarray(rows_f, dtype=float),
    })
    shifts = pd.DataFrame(shift_rows, columns=["agent_id", "date", "start", "end", "breaks",
                                               "template", "paid_hours"])
    if not shifts.empty:
        shifts = shifts.sort_values(["agent_id", "start"], kind="stable").reset_index(drop=True)
    return {"shifts": shifts, "assignments": assignments, "scheduled": scheduled}


def _agent_hours(agents: list[Agent], shifts_of: dict[int, list[int]],
                 catalog: ShiftCatalog) -> pd.DataFrame:
    rows = []
    for a, ag in enumerate(agents):
        ss = shifts_of.get(a, [])
        pm = pt = 0
        if ag.preferred_start is not None:
            for s in ss:
                pt += 1
                pm += abs(int(catalog.start_wall[s]) - ag.preferred_start) <= \
                    PREFERRED_START_TOLERANCE_MINUTES
        worked_days = {int(catalog.day[s]) for s in ss}
        for d, day in enumerate(catalog.days):
            if day.weekday() in ag.days_off_wished:
                pt += 1
                pm += d not in worked_days
        rows.append({
            "agent_id": ag.agent_id, "team": ag.team, "days": len(worked_days),
            "paid_hours": float(sum(catalog.paid[s] for s in ss) / 60.0),
            "shift_hours": float(sum(catalog.length[s] for s in ss) / 60.0),
            "min_hours_week": ag.min_hours, "max_hours_week": ag.max_hours,
            "max_days_week": ag.max_days, "preferences_met": pm, "preferences_total": pt,
        })
    return pd.DataFrame(rows)


def _unmet_frames(demand: Demand, out) -> tuple[pd.DataFrame, pd.DataFrame]:
    ih = demand.interval_hours
    C, T = out.unmet.shape
    req = np.where(np.array([demand.is_deferred(c) for c in range(C)])[:, None],
                   demand.workload, demand.required)
    ci, ti = np.nonzero(out.unmet > 1e-6)
    unmet = pd.DataFrame({
        "timestamp": demand.grid[ti],
        "channel": pd.array([demand.channels[c] for c in ci], dtype="str"),
        "required": req[ci, ti], "scheduled": out.scheduled[ci, ti], "unmet": out.unmet[ci, ti],
    })
    summary = pd.DataFrame({
        "channel": demand.channels, "kind": demand.kinds,
        "required_agent_hours": req.sum(axis=1) * ih,
        "scheduled_agent_hours": out.scheduled.sum(axis=1) * ih,
        "under_agent_hours": out.unmet.sum(axis=1) * ih,
        "over_agent_hours": out.over.sum(axis=1) * ih,
    })
    return unmet, summary

