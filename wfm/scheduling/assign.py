"""Steps 2 and 4: named agents onto the planned shifts, and their channel split.

Step 2 (:func:`assign_group`) is one small MILP per skill group (per chunk
of at most :data:`CHUNK_MEMBERS` members for larger groups): binary
``z[a, s]`` for agent ``a`` working shift type ``s`` (the types starting at a
planned start of the group, any length; every compatible type for an agent
whose minimum hours cannot be reached otherwise -- the repair pass; the
types near a member's preferred start; starts within
:data:`RETRY_NEIGHBOUR_MINUTES` when the planned starts leave planned
presence unstaffed), started from :func:`priced_weeks`. Hard constraints: at
most one shift per day, maximum paid hours, maximum working days, maximum
consecutive days, minimum rest between shifts (clique cuts over end/start
thresholds), unavailability, earliest start and latest end; the weekly
minimum is soft with a prohibitive penalty and reported if ever missed.
Soft: matching step 1's half-hourly presence of the group (a missing
head-hour costs twice ``under_coverage``, an extra one ``over_coverage``),
labour cost, and preferences (``preference`` per shift whose start is more
than :data:`PREFERRED_START_TOLERANCE_MINUTES` from the preferred start, and
per worked day the agent wished off).

Step 4 (:func:`split_channels`) divides each group's channel allocation of
step 3 among the group's agents present in the interval: an agent keeps the
channel of the previous interval where the quota allows, new capacity goes
to the most proficient agents first, so most agents work one channel per
interval and at most ``channels - 1`` agents per group and interval are
split.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pulp

from wfm.config import SchedulingWeights
from wfm.scheduling.model import (
    MIN_HOURS_PENALTY,
    PREFERRED_START_TOLERANCE_MINUTES,
    Group,
    agent_cost_factor,
    value,
)
from wfm.scheduling.roster import Agent, week_blocks
from wfm.scheduling.solve import SolveReport, rel_gap, solve
from wfm.scheduling.templates import ShiftCatalog, rebin

#: Step 2 may use any shift type starting this close to a planned one [min].
#: 0 (the planned starts, any length): with the counts from the rounding MILP,
#: 30 gave a worse schedule (objective 3,100 vs 2,968 at 150 agents, 1.5x the
#: time) since the profile cannot tell a shift moved by 30 min from the plan.
NEIGHBOUR_MINUTES = 0
#: A chunk whose MILP on the planned starts leaves more than this many
#: head-hours of its planned presence unstaffed is re-solved with every start
#: within :data:`RETRY_NEIGHBOUR_MINUTES` of a planned one, if at least
#: :data:`RETRY_TIME_SHARE` of its time is left (sample week: a 6-member
#: group's 27 unstaffed head-hours).
RETRY_SHORT_HEAD_HOURS = 1.0
RETRY_NEIGHBOUR_MINUTES = 60
RETRY_TIME_SHARE = 0.4
#: A step-2 MILP stopped by its time limit farther than this from its bound
#: has a poor incumbent (e.g. 91 % at 150 agents with 5 s); its start
#: (:func:`priced_weeks`) is used instead.
GREEDY_ABOVE_GAP = 0.25
#: Resolution of the presence profile step 2 matches against step 1 [min]
#: (measured at 150 agents: 30 -> 2,946, 60 -> 2,968, 15 -> 2,955).
PROFILE_MINUTES = 30
#: Rounds of :func:`priced_weeks`, step 2's start (150 agents at 105 % of the
#: contracts' hours, planned head-hours unstaffed: 230, 181, 165 after one,
#: two, three rounds; 0.5 s a round).
PRICED_WEEK_PASSES = 3


def preference_misses(agent: Agent, catalog: ShiftCatalog, s: int) -> tuple[int, int]:
    """(unmet, total) preferences touched by ``agent`` working shift type ``s``.

    A preferred start counts once per worked day; a wished day off counts
    once per horizon day with that weekday (the worked ones are unmet).
    """
    unmet = total = 0
    if agent.preferred_start is not None:
        total += 1
        if abs(int(catalog.start_wall[s]) - agent.preferred_start) > \
                PREFERRED_START_TOLERANCE_MINUTES:
            unmet += 1
    if catalog.days[int(catalog.day[s])].weekday() in agent.days_off_wished:
        unmet += 1
    return unmet, total


@dataclass
class GroupAssignment:
    """Outcome of step 2 for one group."""

    shifts: dict[int, list[int]]           # agent index -> shift types worked
    report: SolveReport
    short: float                           # planned head-hours not staffed
    extra: float                           # head-hours beyond the plan
    min_hours_missed: dict[int, float]     # agent -> hours below minimum


def _rest_cliques(types: np.ndarray, catalog: ShiftCatalog, rest: int) -> list[list[int]]:
    """Sets of shift types (of different days) no agent may combine (rest/overlap)."""
    out = []
    days = catalog.day[types]
    for d in np.unique(days):
        on_d = types[days == d]
        ends = np.unique(catalog.end_abs[on_d])
        for d2 in (d + 1, d + 2):
            on_d2 = types[days == d2]
            if on_d2.size == 0:
                continue
            seen = set()
            for tau in ends:
                late = on_d[catalog.end_abs[on_d] >= tau]
                early = on_d2[catalog.start_abs[on_d2] < tau + rest]
                if late.size and early.size and (late.size, early.size) not in seen:
                    seen.add((late.size, early.size))
                    out.append([int(s) for s in late] + [int(s) for s in early])
    return out


def _profile(counts: dict[int, float], catalog: ShiftCatalog) -> np.ndarray:
    """Heads present per profile block (of :data:`PROFILE_MINUTES`) of shift counts."""
    k = max(1, PROFILE_MINUTES // catalog.interval_minutes)
    nb = -(-catalog.n_intervals // k)
    out = np.zeros(nb)
    for s, cnt in counts.items():
        b, sh = rebin(*catalog.presence[s], k, nb)
        np.add.at(out, b, cnt * sh)
    return out


def _candidates(grp: Group, planned: np.ndarray, catalog: ShiftCatalog, agents: list[Agent],
                widen: set[int], neighbour: int) -> list[np.ndarray]:
    """The shift types each member (by position) may work in step 2.

    Every type of the group starting within ``neighbour`` minutes of a
    planned one on the same day (any template and length), and the member's
    preferred starts, so that a preference can be met where the plan's
    presence allows it; every compatible type for the members in ``widen``.
    """
    near = np.zeros(catalog.n_types, dtype=bool)
    for s in planned:
        near |= (catalog.day == catalog.day[s]) & \
            (np.abs(catalog.start_abs - catalog.start_abs[s]) <= neighbour)
    cand = grp.types[near[grp.types]]
    out = []
    for mi, a in enumerate(grp.members):
        ag = agents[a]
        mine_all = grp.types[grp.compat[mi, grp.types]]
        if mi in widen:
            out.append(mine_all)
            continue
        allowed = cand[grp.compat[mi, cand]]
        if ag.preferred_start is not None:
            near_pref = mine_all[np.abs(catalog.start_wall[mine_all] - ag.preferred_start)
                                 <= PREFERRED_START_TOLERANCE_MINUTES]
            allowed = np.union1d(allowed, near_pref)
        out.append(allowed)
    return out


def priced_weeks(grp: Group, target: np.ndarray, allowed: list[np.ndarray],
                 catalog: ShiftCatalog, agents: list[Agent], cost: np.ndarray,
                 weights: SchedulingWeights, rest: int, short_weight: float,
                 passes: int = PRICED_WEEK_PASSES) -> dict[int, list[int]]:
    """Step 2's start: each member's best valid week against what the others leave.

    Members in turn (the least flexible first) take the week of the week
    pricer's dynamic programming (every contract rule exact) that is
    cheapest against the presence profile ``target`` less the other
    members' weeks: a head-hour of it staffed saves ``short_weight``, one
    beyond it costs ``over_coverage``, plus labour and preferences as in the
    MILP. A week reaching the minimum hours where one exists with the types
    ``allowed`` (by member position). Then ``passes - 1`` more rounds, each
    member's week chosen again given the others'; a week is only replaced by
    a cheaper one.
    """
    from wfm.scheduling.improve import cheapest_week

    bh = max(1, PROFILE_MINUTES // catalog.interval_minutes) * catalog.interval_minutes / 60.0
    left = target.astype(float).copy()
    rows: dict[int, np.ndarray] = {}

    def presence(s: int) -> np.ndarray:
        if s not in rows:
            rows[s] = _profile({s: 1.0}, catalog)
        return rows[s]

    blocks = week_blocks(len(catalog.days))
    order = sorted(range(len(grp.members)), key=lambda mi: (
        allowed[mi].size, -agents[grp.members[mi]].max_hours, grp.members[mi]))
    fixed: dict[int, np.ndarray] = {}
    weeks: dict[int, list[int]] = {}
    for _round in range(passes):
        changed = False
        for mi in order:
            a, types = grp.members[mi], allowed[mi]
            if types.size == 0:
                continue
            ag = agents[a]
            if a not in fixed:
                fixed[a] = np.array([weights.labour_cost * float(cost[a])
                                     * catalog.paid[s] / 60.0
                                     + weights.preference * preference_misses(ag, catalog, s)[0]
                                     for s in types])
            for s in weeks.get(a, ()):
                left += presence(s)
            pres = np.stack([presence(int(s)) for s in types])
            staffed = np.minimum(pres, np.clip(left, 0.0, None))
            price = fixed[a] - bh * (short_weight * staffed.sum(axis=1)
                                     - weights.over_coverage * (pres - staffed).sum(axis=1))
            floors = [ag.min_hours * share * 60.0 for _days, share in blocks]
            best = cheapest_week(price, types, ag, catalog, rest, floors) \
                or cheapest_week(price, types, ag, catalog, rest, [0.0] * len(blocks))
            # the week it has, priced against what the others leave now
            now = float(price[np.searchsorted(types, weeks[a])].sum()) if a in weeks \
                else math.inf
            if best is not None and best[0] < now - 1e-9:
                weeks[a] = [int(types[i]) for i in best[1]]
                changed = True
            for s in weeks.get(a, ()):
                left -= presence(s)
        if not changed:
            break
    return {a: w for a, w in weeks.items() if w}


def _build_assignment(g: int, grp: Group, planned: np.ndarray, target: np.ndarray,
                      catalog: ShiftCatalog, agents: list[Agent], cost: np.ndarray,
                      weights: SchedulingWeights, rest: int, widen: set[int],
                      short_weight: float, neighbour: int = NEIGHBOUR_MINUTES
                      ) -> tuple[pulp.LpProblem, dict, dict]:
    prob = pulp.LpProblem(f"wfm_assign_g{g}", pulp.LpMinimize)
    obj: dict = {}
    z: dict[tuple[int, int], pulp.LpVariable] = {}
    by_type: dict[int, list] = defaultdict(list)
    nd = len(catalog.days)
    slack_min: dict[int, pulp.LpVariable] = {}
    allowed_of = _candidates(grp, planned, catalog, agents, widen, neighbour)
    for mi, a in enumerate(grp.members):
        ag = agents[a]
        allowed = allowed_of[mi]
        if allowed.size == 0 and ag.min_hours <= 0:
            continue
        mine: dict[int, pulp.LpVariable] = {}
        for s in allowed:
            s = int(s)
            v = pulp.LpVariable(f"z_a{a}_s{s}", cat=pulp.LpBinary)
            z[(a, s)] = v
            mine[s] = v
            by_type[s].append(v)
            miss, _ = preference_misses(ag, catalog, s)
            obj[v] = weights.labour_cost * float(cost[a]) * catalog.paid[s] / 60.0 \
                + weights.preference * miss
        by_day: dict[int, list] = defaultdict(list)
        for s, v in mine.items():
            by_day[int(catalog.day[s])].append(v)
        for d, vs in by_day.items():
            if len(vs) > 1:
                prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(
                    {v: 1.0 for v in vs}), pulp.LpConstraintLE, f"oneshift_a{a}_d{d}", 1))
        for bi, (bdays, share) in enumerate(week_blocks(nd)):
            terms = {v: catalog.paid[s] / 60.0 for s, v in mine.items()
                     if int(catalog.day[s]) in bdays}
            dterms = {v: 1.0 for s, v in mine.items() if int(catalog.day[s]) in bdays}
            lo = ag.min_hours * share
            if lo > 0:
                sl = pulp.LpVariable(f"minslack_a{a}_w{bi}", 0.0)
                slack_min[(a, bi)] = sl
                obj[sl] = MIN_HOURS_PENALTY * weights.under_coverage + 1.0
                t2 = dict(terms)
                t2[sl] = 1.0
                prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(t2),
                                                     pulp.LpConstraintGE,
                                                     f"minhours_a{a}_w{bi}", lo))
            if terms:
                prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                                     pulp.LpConstraintLE,
                                                     f"maxhours_a{a}_w{bi}", ag.max_hours))
                if len(set(int(catalog.day[s]) for s in mine)) > ag.max_days:
                    prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(dterms),
                                                         pulp.LpConstraintLE,
                                                         f"maxdays_a{a}_w{bi}", ag.max_days))
        K = ag.max_consecutive
        if K < nd:
            for d0 in range(0, nd - K):
                vs = [v for d in range(d0, d0 + K + 1) for v in by_day.get(d, [])]
                if len({d for d in range(d0, d0 + K + 1) if by_day.get(d)}) > K:
                    prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(
                        {v: 1.0 for v in vs}), pulp.LpConstraintLE, f"consec_a{a}_d{d0}", K))
        if mine:
            for ci, clique in enumerate(_rest_cliques(np.array(sorted(mine)), catalog, rest)):
                prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(
                    {mine[s]: 1.0 for s in clique}), pulp.LpConstraintLE,
                    f"rest_a{a}_{ci}", 1))
    # presence profile of the group against step 1's plan
    k = max(1, PROFILE_MINUTES // catalog.interval_minutes)
    nb = target.size
    rows: dict[int, dict] = defaultdict(dict)
    for (a, s), v in z.items():
        idx, sh = catalog.presence[s]
        for b, x in zip(*rebin(idx, sh, k, nb)):
            rows[int(b)][v] = float(x)
    bh = k * catalog.interval_minutes / 60.0
    for b in sorted(set(rows) | set(np.flatnonzero(target > 1e-9).tolist())):
        terms = dict(rows.get(b, {}))
        sv = pulp.LpVariable(f"short_b{b}", 0)
        ev = pulp.LpVariable(f"extra_b{b}", 0)
        terms[sv] = 1.0
        terms[ev] = -1.0
        obj[sv] = short_weight * bh
        obj[ev] = weights.over_coverage * bh
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                             pulp.LpConstraintEQ, f"profile_g{g}_b{b}",
                                             float(target[b])))
    prob.setObjective(pulp.LpAffineExpression(obj))
    return prob, z, slack_min


def _worked(shifts: dict[int, list[int]]) -> dict[int, float]:
    out: dict[int, float] = defaultdict(float)
    for ss in shifts.values():
        for x in ss:
            out[x] += 1.0
    return out


def _chosen(z: dict[tuple[int, int], pulp.LpVariable]) -> dict[int, list[int]]:
    """Agent -> shift types of a solved assignment MILP."""
    out: dict[int, list[int]] = defaultdict(list)
    for (a, s), v in z.items():
        if value(v) > 0.5:
            out[a].append(s)
    return dict(out)


def _deviation(target: np.ndarray, shifts: dict[int, list[int]], catalog: ShiftCatalog
               ) -> tuple[float, float]:
    """Head-hours of a presence profile ``target`` not staffed, and staffed beyond it."""
    diff = _profile(_worked(shifts), catalog) - target
    bh = max(1, PROFILE_MINUTES // catalog.interval_minutes) * catalog.interval_minutes / 60.0
    return float(np.clip(-diff, 0, None).sum() * bh), float(np.clip(diff, 0, None).sum() * bh)


def _chunks(grp: Group, agents: list[Agent], size: int) -> list[list[int]]:
    """Member positions of ``grp`` in chunks of at most ``size``, each a cross-section.

    Members are ordered by contract, availability and preferences and dealt
    round-robin, so every chunk holds a similar mix of the group.
    """
    k = max(1, -(-len(grp.members) // size))
    order = sorted(range(len(grp.members)), key=lambda mi: (
        agents[grp.members[mi]].min_hours, agents[grp.members[mi]].max_hours,
        agents[grp.members[mi]].max_days, int(grp.compat[mi].sum()),
        agents[grp.members[mi]].preferred_start or -1, grp.members[mi]))
    return [order[c::k] for c in range(k)]


def _split_plan(counts: dict[int, int], subs: list[Group], agents: list[Agent],
                catalog: ShiftCatalog) -> list[dict[int, int]]:
    """Deal the planned shifts to the chunks in proportion to their minimum hours.

    Shifts go in order of day and start, each to the chunk least loaded
    relative to its members' minimum hours (a small share of the maximum
    hours for members without one), so every chunk gets a similar cut of
    every day.
    """
    if len(subs) == 1:
        return [dict(counts)]
    cap = [sum(agents[a].min_hours + 0.01 * agents[a].max_hours for a in sub.members) or 1.0
           for sub in subs]
    load = [0.0] * len(subs)
    out: list[dict[int, int]] = [defaultdict(int) for _ in subs]
    for s in sorted(counts, key=lambda s: (catalog.day[s], catalog.start_abs[s], -catalog.paid[s])):
        for _ in range(counts[s]):
            ok = [i for i, sub in enumerate(subs) if sub.compat[:, s].any()] or \
                list(range(len(subs)))
            i = min(ok, key=lambda i: (load[i] + catalog.paid[s] / 60.0) / cap[i])
            out[i][s] += 1
            load[i] += catalog.paid[s] / 60.0
    return [dict(o) for o in out]


def _needs_all_types(ag: Agent, mine: np.ndarray, catalog: ShiftCatalog) -> bool:
    """Whether ``ag`` cannot reach the minimum hours with the shift types ``mine``."""
    if ag.min_hours <= 0:
        return False
    return any(reach + 1e-9 < min(ag.min_hours * share, ag.max_hours)
               for reach, share in reach_per_block(ag, mine, catalog))


def reach_per_block(ag: Agent, mine: np.ndarray, catalog: ShiftCatalog
                    ) -> list[tuple[float, float]]:
    """Per 7-day block: the most paid hours ``ag`` can work with the shift types
    ``mine`` (its longest shift on each of its best ``max_days`` days; rest
    aside), and the share of a week the block covers."""
    best_per_day: dict[int, float] = {}
    for s in mine:
        d = int(catalog.day[s])
        best_per_day[d] = max(best_per_day.get(d, 0.0), catalog.paid[s] / 60.0)
    out = []
    for bdays, share in week_blocks(len(catalog.days)):
        inb = sorted((best_per_day.get(d, 0.0) for d in bdays), reverse=True)
        out.append((sum(inb[:ag.max_days]), share))
    return out


def _assign_chunk(g: int, sub: Group, planned: np.ndarray, target: np.ndarray,
                  catalog: ShiftCatalog, agents: list[Agent],
                  cost: np.ndarray, weights: SchedulingWeights, rest: int, short_weight: float,
                  solver: str, time_limit: float | None, gap: float | None, neighbour: int
                  ) -> tuple[dict[int, list[int]], SolveReport]:
    """The step-2 MILP for some members of a group, with its repair loop.

    Members who cannot reach their minimum with the planned types alone get
    every compatible type up front; members still short after a solve get
    them in a re-run (at most two). The MILP starts from
    :func:`priced_weeks` (topped up to the minimum hours). Returns the best
    usable attempt, or that start when no attempt came within
    :data:`GREEDY_ABOVE_GAP`.
    """
    widen = {mi for mi, a in enumerate(sub.members)
             if _needs_all_types(agents[a], planned[sub.compat[mi, planned]]
                                 if planned.size else planned, catalog)}
    t_start = time.perf_counter()
    construct = top_up(sub, priced_weeks(sub, target,
                                      _candidates(sub, planned, catalog, agents, widen, neighbour),
                                      catalog, agents, cost, weights, rest, short_weight),
                    catalog, agents, rest)
    best: tuple[float, dict[int, list[int]]] | None = None
    rep = None
    for attempt in range(3):
        prob, z, slack = _build_assignment(g, sub, planned, target, catalog, agents, cost,
                                           weights, rest, widen, short_weight, neighbour)
        left = None if time_limit is None else \
            max(0.3, time_limit - (time.perf_counter() - t_start))
        if left is not None and neighbour > 0:
            left = max(0.3, 0.7 * left)  # keep time for the fallbacks
        # start from the construction where it uses the candidates, so
        # a time limit never ends with a worse incumbent than that
        start = {v: float(s in construct.get(a, ())) for (a, s), v in z.items()}
        rep = solve(prob, solver, time_limit=left, gap=gap, start=start)
        if not rep.has_solution and neighbour > 0:
            # too little time for the neighbourhood: planned shift types only
            neighbour, widen = 0, set()
            continue
        usable = rep.has_solution and (rep.status == "optimal" or (
            rep.gap is not None and rep.gap <= GREEDY_ABOVE_GAP))
        if usable and (best is None or rep.objective < best[0]):
            best = (rep.objective, _chosen(z))
        missed = {a for (a, _bi), v in slack.items() if value(v) > 1e-6}
        if not missed or attempt == 2 or not rep.has_solution:
            break
        if time_limit is not None and time.perf_counter() - t_start > 0.5 * time_limit:
            break  # too little time left for a better widened run
        idx = {a: mi for mi, a in enumerate(sub.members)}
        grown = {idx[a] for a in missed} - widen
        if not grown:
            break
        widen |= grown
    if best is None:
        return {a: list(construct[a]) for a in sub.members if construct.get(a)}, rep
    short, _extra = _deviation(target, best[1], catalog)
    if (neighbour < RETRY_NEIGHBOUR_MINUTES and short > RETRY_SHORT_HEAD_HOURS
            and (time_limit is None
                 or time.perf_counter() - t_start < (1 - RETRY_TIME_SHARE) * time_limit)):
        # the planned starts alone leave planned presence unstaffed: the same
        # MILP with every start near a planned one (its optimum can only be
        # lower), started from the best solution so far
        prob, z, _slack = _build_assignment(g, sub, planned, target, catalog, agents, cost,
                                            weights, rest, widen, short_weight,
                                            RETRY_NEIGHBOUR_MINUTES)
        left = None if time_limit is None else \
            max(0.3, time_limit - (time.perf_counter() - t_start))
        start = {v: float(s in best[1].get(a, ())) for (a, s), v in z.items()}
        rep2 = solve(prob, solver, time_limit=left, gap=gap, start=start)
        if rep2.has_solution and rep2.objective < best[0] - 1e-6:
            best, rep = (rep2.objective, _chosen(z)), rep2
    return best[1], rep


#: Step 2 solves a group's members in chunks of at most this many (each a
#: cross-section of the group's contracts), one after the other, each with
#: its cut of the planned shifts: the largest group of 500 agents (150
#: members) as one MILP stopped at a 98.6 % gap after 109 s.
CHUNK_MEMBERS = 50


def assign_group(g: int, grp: Group, counts: dict[int, int], catalog: ShiftCatalog,
                 agents: list[Agent], weights: SchedulingWeights, min_rest_hours: float,
                 solver: str = "highs", time_limit: float | None = None,
                 gap: float | None = None, neighbour: int = NEIGHBOUR_MINUTES,
                 max_priority: float = 1.0) -> GroupAssignment:
    """Step 2 for one skill group: which agent works which planned shift.

    Groups larger than :data:`CHUNK_MEMBERS` are solved in chunks, one after
    the other: the planned shifts are dealt to the chunks by their members'
    minimum hours, and each chunk's target is its own shifts' presence plus
    what the earlier chunks left uncovered of theirs.

    Parameters
    ----------
    counts : dict
        Shift type -> number of the group's agents step 1 planned on it.
    time_limit : float, optional
        Wall-clock limit for this group [s] (shared by the chunks and the repair pass).
        At 0 no MILP is solved: each chunk takes its greedy construction
        (:func:`greedy_assign`), reported with status ``time_limit``.
    neighbour : int
        Shift types starting this close to a planned one are candidates [min].
    max_priority : float
        Scales the cost of missing planned presence (the core passes the
        group's highest channel priority for counts from cumulative rounding).

    Returns
    -------
    GroupAssignment
    """
    cost = agent_cost_factor(agents)
    rest = int(round(min_rest_hours * 60))
    # a head-hour short of the plan costs under-coverage at the second slope,
    # by default not scaled by the channels' priorities: with voice's priority
    # the largest group of 500 agents found no schedule within 2 % in 110 s
    # (98 % gap), without it the same group was solved in 65 s.
    short_weight = weights.under_coverage * max_priority * 2.0
    planned = np.array(sorted(s for s, k in counts.items() if k > 0), dtype=np.int64)
    t_start = time.perf_counter()
    chunks = _chunks(grp, agents, CHUNK_MEMBERS)
    subs = [Group(skills=grp.skills, members=[grp.members[mi] for mi in ch],
                  types=grp.types, compat=grp.compat[ch]) for ch in chunks]
    plans = _split_plan(counts, subs, agents, catalog)
    shifts: dict[int, list[int]] = {}
    reps: list[SolveReport] = []
    planned_so_far: dict[int, float] = defaultdict(float)
    for i, sub in enumerate(subs):
        for x, k in plans[i].items():
            planned_so_far[x] += k
        # this chunk's plan and what the earlier chunks left of theirs
        target = np.clip(_profile(planned_so_far, catalog)
                         - _profile(_worked(shifts), catalog), 0.0, None)
        left = None
        if time_limit is not None:
            left = max(0.3, (time_limit - (time.perf_counter() - t_start))
                       * len(sub.members) / sum(len(c.members) for c in subs[i:]))
        if time_limit is not None and time_limit <= 0:
            greedy = greedy_assign(sub, plans[i], catalog, agents, rest)
            shifts.update({a: list(ss) for a, ss in greedy.items() if ss})
            reps.append(SolveReport("time_limit", None, None, None, 0.0, solver, False))
            continue
        mine, rep = _assign_chunk(g, sub, planned, target, catalog, agents, cost,
                                  weights, rest, short_weight, solver, left, gap, neighbour)
        reps.append(rep)
        shifts.update(mine)
    n_short, n_extra = _deviation(_profile(counts, catalog), shifts, catalog)
    shifts = top_up(grp, shifts, catalog, agents, rest)
    missed = {}
    for a in grp.members:
        short_h = sum(max(short, 0.0)
                      for _days, short in _shortfalls(agents[a], shifts.get(a, []), catalog))
        if short_h > 1e-6:
            missed[a] = short_h
    return GroupAssignment(dict(shifts), _combine(reps), n_short, n_extra, dict(missed))


def _combine(reps: list[SolveReport]) -> SolveReport:
    """One report for the chunks of a group (sums; the worst status)."""
    if len(reps) == 1:
        return reps[0]
    rank = ["optimal", "feasible", "time_limit", "infeasible"]
    status = max((r.status for r in reps), key=lambda x: rank.index(x) if x in rank else 1)
    has = all(r.has_solution for r in reps)
    obj = sum(r.objective for r in reps) if has else None
    bound = sum(r.best_bound for r in reps) if all(r.best_bound is not None
                                                   for r in reps) else None
    return SolveReport(status=status, objective=obj, best_bound=bound, gap=rel_gap(obj, bound),
                       seconds=sum(r.seconds for r in reps), solver=reps[0].solver,
                       has_solution=has)


def split_channels(present: dict[int, dict[int, float]], quota: dict[int, float],
                   skills: list[int], proficiency: dict[int, dict[int, float]],
                   previous: dict[int, int]) -> dict[int, dict[int, float]]:
    """Divide one group's channel quotas in one interval among its agents.

    Parameters
    ----------
    present : dict
        Agent -> share of the interval the agent is on shift and not on break.
    quota : dict
        Channel -> heads the group puts on it (sums to the total present).
    skills : list of int
        The group's channels.
    proficiency : dict
        Agent -> channel -> proficiency factor.
    previous : dict
        Agent -> channel worked most in the previous interval (updated in place).

    Returns
    -------
    dict
        Agent -> channel -> fraction of the interval.
    """
    left = {c: max(0.0, quota.get(c, 0.0)) for c in skills}
    cap = {a: sh for a, sh in present.items() if sh > 1e-9}
    out: dict[int, dict[int, float]] = defaultdict(dict)

    def give(a: int, c: int) -> None:
        q = min(cap[a], left[c])
        if q > 1e-9:
            out[a][c] = out[a].get(c, 0.0) + q
            cap[a] -= q
            left[c] -= q

    for a in sorted(cap):
        c = previous.get(a)
        if c is not None and c in left:
            give(a, c)
    for c in sorted(skills, key=lambda c: -left[c]):
        if left[c] <= 1e-9:
            continue
        for a in sorted(cap, key=lambda a: (-proficiency.get(a, {}).get(c, 1.0), a)):
            if cap[a] > 1e-9:
                give(a, c)
            if left[c] <= 1e-9:
                break
    # rounding residue of the solver: whatever capacity is left goes to the
    # channel with the largest quota (it is idle time there)
    if any(v > 1e-6 for v in cap.values()):
        c_big = max(skills, key=lambda c: quota.get(c, 0.0))
        for a, v in cap.items():
            if v > 1e-6:
                out[a][c_big] = out[a].get(c_big, 0.0) + v
    for a, chans in out.items():
        previous[a] = max(chans, key=chans.get)
    return out


def valid_week(ag: Agent, shifts: list[int], catalog: ShiftCatalog, rest: int,
               min_hours: bool = True) -> bool:
    """Whether ``ag`` may work exactly ``shifts`` (skills and availability aside)."""
    days = sorted(int(catalog.day[s]) for s in shifts)
    if len(set(days)) != len(days):
        return False
    for bdays, share in week_blocks(len(catalog.days)):
        inb = [s for s in shifts if int(catalog.day[s]) in bdays]
        hours = sum(int(catalog.paid[s]) for s in inb) / 60.0
        if hours > ag.max_hours + 1e-9 or len(inb) > ag.max_days:
            return False
        if min_hours and hours < ag.min_hours * share - 1e-9:
            return False
    run = best = 0
    prev = None
    for d in days:
        run = run + 1 if prev is not None and d == prev + 1 else 1
        best = max(best, run)
        prev = d
    if best > ag.max_consecutive:
        return False
    spans = sorted((int(catalog.start_abs[s]), int(catalog.end_abs[s])) for s in shifts)
    return all(b[0] >= a[1] + rest for a, b in pairwise(spans))


def _fits(ag: Agent, mine: list[int], s: int, catalog: ShiftCatalog, rest: int) -> bool:
    """Whether ``ag`` working ``mine`` may also work shift type ``s`` (the minimum aside)."""
    return valid_week(ag, [*mine, s], catalog, rest, min_hours=False)


def _shortfalls(ag: Agent, mine: list[int], catalog: ShiftCatalog
                ) -> list[tuple[set[int], float]]:
    """Per 7-day block of the horizon: its days and the paid hours below the minimum."""
    out = []
    for bdays, share in week_blocks(len(catalog.days)):
        days = set(bdays)
        paid = sum(float(catalog.paid[x]) for x in mine if int(catalog.day[x]) in days)
        out.append((days, ag.min_hours * share - paid / 60.0))
    return out


def greedy_assign(grp: Group, counts: dict[int, int], catalog: ShiftCatalog,
                  agents: list[Agent], rest: int) -> dict[int, list[int]]:
    """Fallback construction when the step-2 MILP finds nothing in time.

    Planned shifts (longest first) go to the compatible agent furthest below
    the minimum hours who can still take them under every hard contract rule;
    then agents below their minimum take further compatible shifts.
    """
    mine: dict[int, list[int]] = defaultdict(list)
    members = list(enumerate(grp.members))

    def deficit(a: int, s: int) -> float:
        d = int(catalog.day[s])
        return next(short for days, short in _shortfalls(agents[a], mine[a], catalog)
                    if d in days)

    todo = sorted((s for s, k in counts.items() for _ in range(k)),
                  key=lambda s: (-catalog.paid[s], catalog.start_abs[s]))
    for s in todo:
        ok = [(deficit(a, s), a) for mi, a in members
              if grp.compat[mi, s] and _fits(agents[a], mine[a], s, catalog, rest)]
        if ok:
            mine[max(ok)[1]].append(int(s))
    return top_up(grp, mine, catalog, agents, rest)


def top_up(grp: Group, shifts: dict[int, list[int]], catalog: ShiftCatalog,
           agents: list[Agent], rest: int) -> dict[int, list[int]]:
    """Add compatible shifts to agents below their minimum hours (hard rules kept).

    Each 7-day block of the horizon on its own (the minimum is per week):
    shortest sufficient shift first, so the minimum is met with little
    overtime; where no further day fits, a shift is lengthened. An agent
    still short gets the valid week that reaches the minimum and keeps most of
    the shifts it was given (:func:`_reaching_week`).
    """
    mine: dict[int, list[int]] = defaultdict(list, {a: list(v) for a, v in shifts.items()})
    for mi, a in enumerate(grp.members):
        ag = agents[a]
        for b, (days, _short) in enumerate(_shortfalls(ag, mine[a], catalog)):
            inside = grp.compat[mi] & np.isin(catalog.day, list(days))
            for _ in range(7 * 4):
                need = _shortfalls(ag, mine[a], catalog)[b][1]
                if need <= 1e-9:
                    break
                cand = [int(s) for s in np.flatnonzero(inside)
                        if _fits(ag, mine[a], int(s), catalog, rest)]
                if cand:
                    enough = [s for s in cand if catalog.paid[s] / 60.0 >= need - 1e-9]
                    pick = (min(enough, key=lambda s: (catalog.paid[s], catalog.start_abs[s]))
                            if enough else
                            max(cand, key=lambda s: (catalog.paid[s], -catalog.start_abs[s])))
                    mine[a].append(pick)
                    continue
                # no further day: lengthen a shift of the block (same day, longer type)
                longer = _longer_shift(ag, mine[a], inside, days, catalog, rest)
                if longer is None:
                    break
                mine[a].remove(longer[0])
                mine[a].append(longer[1])
        if any(short > 1e-9 for _days, short in _shortfalls(ag, mine[a], catalog)):
            # from the week it was given: the additions above may have changed it
            week = _reaching_week(ag, list(shifts.get(a, [])),
                                  np.flatnonzero(grp.compat[mi]), catalog, rest)
            if week is not None:
                mine[a] = week
    return {a: v for a, v in mine.items() if v}


def _reaching_week(ag: Agent, mine: list[int], types: np.ndarray, catalog: ShiftCatalog,
                   rest: int) -> list[int] | None:
    """The valid week reaching the minimum hours that keeps most of ``mine``.

    Exact (the week pricer's dynamic programming): where shifts added one at
    a time cannot reach it (e.g. 37.5 h needing one 8.5 h shift and four of
    7.5 h), the week is rebuilt. Each shift kept counts -1, each new one +1
    (and a little per paid hour); None if no week reaches it.
    """
    from wfm.scheduling.improve import cheapest_week

    keep = np.isin(types, mine)
    cost = np.where(keep, -1.0, 1.0 + catalog.paid[types] * 1e-4)
    floors = [ag.min_hours * share * 60.0 for _days, share in week_blocks(len(catalog.days))]
    best = cheapest_week(cost, types, ag, catalog, rest, floors)
    return None if best is None else [int(types[i]) for i in best[1]]


def _longer_shift(ag: Agent, mine: list[int], allowed: np.ndarray, days: set[int],
                  catalog: ShiftCatalog, rest: int) -> tuple[int, int] | None:
    """A shift of ``mine`` on one of ``days`` and a longer ``allowed`` type that fits
    instead (shortest first)."""
    for x in sorted((x for x in mine if int(catalog.day[x]) in days),
                    key=lambda x: catalog.paid[x]):
        others = [y for y in mine if y != x]
        same = np.flatnonzero(allowed & (catalog.day == catalog.day[x])
                              & (catalog.paid > catalog.paid[x]))
        for s in sorted(same, key=lambda s: (catalog.paid[s],
                                             abs(catalog.start_abs[s] - catalog.start_abs[x]))):
            if _fits(ag, others, int(s), catalog, rest):
                return x, int(s)
    return None
