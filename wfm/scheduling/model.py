"""The scheduling MILPs (PuLP): shift counts per skill group, then break placement.

Why a decomposition
-------------------
One binary per agent x day x shift (with break placement) is 300,000
binaries for 150 agents and a week; HiGHS finds no feasible point of that
in two minutes. Agents with the same skills are interchangeable for
coverage, so the schedule is built in four steps (see :mod:`wfm.scheduling.core`):

1. :func:`build_model` -- *shift counts*. Integer ``n[g, s]``: how many agents
   of skill group ``g`` work shift type ``s`` (template x day x start x
   length). Breaks are continuous per break pool and option. Channel
   allocation ``x[g, t, c]`` (heads of group ``g`` on channel ``c`` in
   interval ``t``), piecewise-linear under-coverage per channel and
   interval, over-coverage, and for deferred channels a backlog carried
   between intervals up to the response-time deadline. Contracts enter as
   group aggregates that every real schedule satisfies (hours via one
   continuous hours variable per agent, days, per-day availability, Hall
   conditions for earliest-start/latest-end windows per day and per week,
   rest and consecutive-day cuts, and whole-shift hour patterns per
   contract class, :func:`hour_patterns`), so this model is a *relaxation*
   of the full problem and its best bound bounds every schedule.
   Unmet shift preferences enter as a transportation of the planned shifts
   to classes of members (:func:`add_preference_costs`), also a relaxation.
   In practice its LP relaxation is solved (interior point: dual simplex
   stalls on this degenerate covering structure) and rounded by a MILP that
   may move each count only to the integer below or above it, on hourly
   blocks (:func:`round_by_mip`), except for small instances where the MILP
   is solved outright.
2. :mod:`wfm.scheduling.assign` -- named agents onto shifts near the planned
   ones (per group, in chunks of at most 50 members, matching the planned
   half-hourly presence).
3. :func:`build_break_model` -- the named shifts fixed, integer break counts
   per pool and option with the same channel allocation and backlog block.
4. :mod:`wfm.scheduling.assign` -- each agent's per-interval channel split.

Objective (all terms in agent-hours, weights from
:class:`wfm.config.SchedulingWeights`)::

    sum_c,t  under_coverage * priority_c * sum_j slope_j * u_j[c,t]   (realtime, concurrent)
  + sum_c,t  under_coverage * priority_c * m[c,t]      (deferred work past its deadline)
  + sum_c,t  over_coverage  * o[c,t]                   (heads above need / idle on deferred)
  + sum_c,t  backlog * B[c,t] * h / response_hours_c   (deferred work waiting)
  + sum_a    labour_cost * cost_a * paid_hours_a
  + sum    preference * unmet preferences    (step 1: its least possible value)

``u_j`` are the segments of the shortfall as a share of the requirement
(``under_coverage_breakpoints``) with increasing slopes
(``under_coverage_slopes``): one interval 40 % short costs more than four
intervals 10 % short. ``B`` is the backlog in agent-hours; carrying work for
its full response time costs ``backlog`` per agent-hour.

Deferred channels: arrivals ``W[t]`` (workload in scheduled agent-intervals
= volume x AHT / interval / ((1 - shrinkage) x max occupancy)), work done
``d[t] <= sum_g x[g,t,c]``, written-off work ``m[t]``; ``B[t] = B[t-1] +
W[t] - d[t] - m[t]`` and ``B[t] <= sum of W over the last D intervals``
(``D`` = response time in intervals), so no work is older than its
deadline. Work still in the backlog at the end of the horizon is due after
it and is not penalised beyond the backlog cost.

Constraint names follow ``cover_voice_2026-11-16T08:15`` (PuLP turns ``-``
into ``_`` in names).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from wfm.config import SchedulingWeights
from wfm.scheduling.roster import Agent, week_blocks
from wfm.scheduling.solve import SolveReport, solve
from wfm.scheduling.templates import ShiftCatalog, coarsen

DEFAULT_BREAKPOINTS = (0.1, 0.25, 0.5)
#: A shift "meets" a preferred start within this many minutes of it.
PREFERRED_START_TOLERANCE_MINUTES = 30
DEFAULT_SLOPES = (1.0, 2.0, 4.0, 8.0)


@dataclass
class Demand:
    """Per-channel demand on the horizon grid, as arrays.

    Attributes
    ----------
    grid : DatetimeIndex
        Interval starts (local), ``T`` of them.
    channels : list of str
        Channel names, ``C`` of them.
    kinds : list of str
        ``realtime`` | ``concurrent`` | ``deferred`` per channel.
    priority : ndarray, shape (C,)
        Under-coverage weight multiplier per channel.
    required : ndarray, shape (C, T)
        Heads to schedule (``agents_required``); 0 on deferred channels.
    workload : ndarray, shape (C, T)
        Deferred work arriving in each interval [scheduled agent-intervals];
        0 on other channels.
    response_hours : ndarray, shape (C,)
        Response-time target of deferred channels [h]; NaN elsewhere.
    window : ndarray of int, shape (C,)
        Intervals a deferred item may wait, including its arrival interval.
    interval_minutes : int
        Interval length [min].
    labels : list of str
        ``YYYY-MM-DDTHH:MM`` local label per interval (unique; the repeated
        hour of a fall-back day carries its UTC offset).
    """

    grid: pd.DatetimeIndex
    channels: list[str]
    kinds: list[str]
    priority: np.ndarray
    required: np.ndarray
    workload: np.ndarray
    response_hours: np.ndarray
    window: np.ndarray
    interval_minutes: int
    labels: list[str] = field(default_factory=list)

    @property
    def interval_hours(self) -> float:
        return self.interval_minutes / 60.0

    @property
    def n_intervals(self) -> int:
        return len(self.grid)

    def is_deferred(self, c: int) -> bool:
        return self.kinds[c] == "deferred"

    def backlog_cap(self, c: int) -> np.ndarray:
        """Largest backlog allowed after each interval [agent-intervals]."""
        w = self.workload[c]
        D = int(self.window[c])
        cs = np.concatenate([[0.0], np.cumsum(w)])
        t = np.arange(w.size)
        lo = np.maximum(0, t - D + 2)
        return cs[t + 1] - cs[lo]


@dataclass
class Group:
    """Agents with identical skills (interchangeable for coverage)."""

    skills: tuple[int, ...]               # channel indices
    members: list[int]                    # agent indices
    types: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    compat: np.ndarray | None = None      # bool (len(members), n_types): may work s


def coarsen_demand(demand: Demand, k: int) -> Demand:
    """Demand on blocks of ``k`` intervals, for the step-1 relaxation.

    Requirements are averaged per block and deferred work summed (in
    agent-blocks); the deadline window is rounded up to whole blocks plus one
    (lenient), so every schedule's block averages are feasible. Under- and
    over-coverage penalties are perspective functions of (requirement,
    shortfall) -- jointly convex -- so by Jensen's inequality the block
    penalty of the averages never exceeds the sum of the interval penalties:
    the coarse model's optimum is a lower bound of the fine one.
    """
    if k <= 1:
        return demand
    T = demand.n_intervals
    nb = -(-T // k)
    pad = nb * k - T

    def blocks(a: np.ndarray) -> np.ndarray:
        a = np.concatenate([a, np.zeros((a.shape[0], pad))], axis=1) if pad else a
        return a.reshape(a.shape[0], nb, k)

    counts = np.full(nb, k, dtype=float)
    if pad:
        counts[-1] = k - pad
    required = blocks(demand.required).sum(axis=2) / k
    workload = blocks(demand.workload).sum(axis=2) / k
    window = np.array([int(math.ceil(w / k)) + 1 if w > 0 else 0 for w in demand.window])
    grid = demand.grid[::k]
    return Demand(grid=grid, channels=demand.channels, kinds=demand.kinds,
                  priority=demand.priority, required=required, workload=workload,
                  response_hours=demand.response_hours, window=window,
                  interval_minutes=demand.interval_minutes * k, labels=interval_labels(grid))


def interval_labels(grid: pd.DatetimeIndex) -> list[str]:
    """Unique ``YYYY-MM-DDTHH:MM`` labels for constraint names."""
    base = list(grid.strftime("%Y-%m-%dT%H:%M"))
    seen: set[str] = set()
    out = []
    for lab, off in zip(base, grid.strftime("%z")):
        out.append(lab if lab not in seen else f"{lab}{off}")
        seen.add(lab)
    return out


def under_segments(weights: SchedulingWeights) -> tuple[np.ndarray, np.ndarray]:
    """Segment widths (shares of the requirement) and slopes of the under-coverage penalty."""
    bps = tuple(getattr(weights, "under_coverage_breakpoints", DEFAULT_BREAKPOINTS))
    slopes = tuple(getattr(weights, "under_coverage_slopes", DEFAULT_SLOPES))
    edges = np.array((0.0, *bps, 1.0))
    return np.diff(edges), np.asarray(slopes, dtype=float)


def add_soft_shortfall(problem: pulp.LpProblem, name: str, target: float,
                       widths: np.ndarray, slopes: np.ndarray, weight: float,
                       objective: dict) -> list[pulp.LpVariable]:
    """Piecewise-linear shortfall variables below ``target``; returns them.

    The shortfall is split into segments of ``widths * target`` heads with
    increasing ``slopes``; because the slopes increase, the solver fills the
    cheap segments first, so the sum is a convex penalty of the shortfall.
    Each segment's cost ``weight * slope`` is added to ``objective``
    (a dict variable -> coefficient).
    """
    out = []
    for j, (w, sl) in enumerate(zip(widths, slopes)):
        v = pulp.LpVariable(f"{name}_s{j}", 0.0, float(w * target))
        objective[v] = objective.get(v, 0.0) + weight * float(sl)
        out.append(v)
    return out


@dataclass
class CoverageBlock:
    """Variables of the channel allocation / coverage / backlog block."""

    x: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    under: dict[tuple[int, int], list[pulp.LpVariable]] = field(default_factory=dict)
    over: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    done: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    backlog: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    writeoff: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)


def add_coverage(problem: pulp.LpProblem, demand: Demand, groups: list[Group],
                 active: dict[int, np.ndarray], weights: SchedulingWeights,
                 objective: dict) -> CoverageBlock:
    """Channel allocation, coverage rows, backlog and their penalties.

    Parameters
    ----------
    active : dict
        Group index -> intervals in which the group may have heads present.

    Returns
    -------
    CoverageBlock
        ``x[g, t, c]`` exists for each active ``(g, t)`` and skill ``c``; the
        caller ties ``sum_c x[g, t, c]`` to the heads present.
    """
    blk = CoverageBlock()
    T = demand.n_intervals
    ih = demand.interval_hours
    labels = demand.labels
    by_ct: dict[tuple[int, int], list[pulp.LpVariable]] = defaultdict(list)
    for g, grp in enumerate(groups):
        for t in active.get(g, ()):
            t = int(t)
            for c in grp.skills:
                v = pulp.LpVariable(f"x_g{g}_c{c}_t{t}", 0.0)
                blk.x[(g, t, c)] = v
                by_ct[(c, t)].append(v)
    widths, slopes = under_segments(weights)
    w_over = weights.over_coverage * ih
    for c, ch in enumerate(demand.channels):
        w_under = weights.under_coverage * float(demand.priority[c]) * ih
        if not demand.is_deferred(c):
            req = demand.required[c]
            for t in range(T):
                xs = by_ct.get((c, t), [])
                r = float(req[t])
                if not xs and r <= 0:
                    continue
                terms = {v: 1.0 for v in xs}
                if r > 0:
                    segs = add_soft_shortfall(problem, f"under_{ch}_{t}", r, widths, slopes,
                                              w_under, objective)
                    blk.under[(c, t)] = segs
                    for v in segs:
                        terms[v] = 1.0
                if xs:
                    o = pulp.LpVariable(f"over_{ch}_{t}", 0.0)
                    objective[o] = w_over
                    blk.over[(c, t)] = o
                    terms[o] = -1.0
                problem.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression(terms), pulp.LpConstraintEQ,
                    f"cover_{ch}_{labels[t]}", r))
            continue
        work = demand.workload[c]
        cap = demand.backlog_cap(c)
        resp = float(demand.response_hours[c])
        w_back = weights.backlog * ih * ih / resp
        prev = None
        for t in range(T):
            xs = by_ct.get((c, t), [])
            if xs:
                d = pulp.LpVariable(f"done_{ch}_{t}", 0.0)
                o = pulp.LpVariable(f"over_{ch}_{t}", 0.0)
                objective[o] = w_over
                blk.done[(c, t)] = d
                blk.over[(c, t)] = o
                terms = {v: 1.0 for v in xs}
                terms[d] = -1.0
                terms[o] = -1.0
                problem.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression(terms), pulp.LpConstraintEQ,
                    f"work_{ch}_{labels[t]}", 0.0))
            else:
                d = None
            w = float(work[t])
            if prev is None and d is None and w <= 0:
                continue  # nothing has arrived yet
            B = pulp.LpVariable(f"backlog_{ch}_{t}", 0.0, max(0.0, float(cap[t])))
            objective[B] = w_back
            m = pulp.LpVariable(f"late_{ch}_{t}", 0.0)
            objective[m] = w_under
            blk.backlog[(c, t)] = B
            blk.writeoff[(c, t)] = m
            terms = {B: 1.0, m: 1.0}
            if prev is not None:
                terms[prev] = -1.0
            if d is not None:
                terms[d] = 1.0
            problem.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintEQ,
                f"cover_{ch}_{labels[t]}", w))
            prev = B
    return blk


def add_heads_rows(problem: pulp.LpProblem, groups: list[Group], active: dict[int, np.ndarray],
                   cov: CoverageBlock, present: np.ndarray,
                   extra: dict[tuple[int, int], dict] | None = None
                   ) -> dict[tuple[int, int], pulp.LpConstraint]:
    """Rows ``sum_c x[g, t, c] (+ extra[g, t]) = present[g, t]`` for every active (g, t).

    The channel allocation of a group's heads present in an interval, for
    fixed shifts (step 3 adds its break-count terms as ``extra``). Returns the
    rows by ``(group, interval)``.
    """
    rows = {}
    for g, grp in enumerate(groups):
        for t in active[g]:
            t = int(t)
            terms = {cov.x[(g, t, c)]: 1.0 for c in grp.skills}
            if extra:
                terms.update(extra.get((g, t), {}))
            rhs = float(present[g, t])
            con = pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintEQ,
                                    f"cap_g{g}_t{t}", rhs if abs(rhs) > 1e-9 else 0.0)
            problem.addConstraint(con)
            rows[(g, t)] = con
    return rows


def agent_cost_factor(agents: list[Agent]) -> np.ndarray:
    """Hourly cost of each agent relative to the roster mean (1.0 without costs)."""
    cost = np.array([a.hourly_cost for a in agents], dtype=float)
    mean = cost.mean() if cost.size else 1.0
    return cost / mean if mean > 0 else np.ones_like(cost)


@dataclass
class CountModel:
    """Handles of :func:`build_model` (attached as ``problem.wfm``)."""

    n: dict[tuple[int, int], pulp.LpVariable]
    breaks: dict[tuple[int, int], list[pulp.LpVariable]]
    hours: dict[tuple[int, int], pulp.LpVariable]
    coverage: CoverageBlock
    objective_terms: dict
    pref_days: list[pulp.LpConstraint] = field(default_factory=list)
    #: ``(group, interval) ->`` the row tying the channel allocation to the shifts
    heads: dict[tuple[int, int], pulp.LpConstraint] = field(default_factory=dict)


#: Most hour patterns per contract class (see :func:`hour_patterns`); a class
#: with more gets none and relies on the hours and days rows alone.
MAX_PATTERNS = 400


def hour_patterns(lengths: tuple[int, ...], hmin: float, hmax: float, dmax: int
                  ) -> list[tuple[int, ...]]:
    """Every way to work a week of paid hours in ``[hmin, hmax]`` with at most ``dmax`` shifts.

    ``lengths`` are the paid minutes of the shifts a member may work; a
    pattern counts the shifts of each length. Returns ``[]`` when there are
    more than :data:`MAX_PATTERNS`.
    """
    out: list[tuple[int, ...]] = []
    lo, hi = hmin * 60 - 1e-6, hmax * 60 + 1e-6

    def rec(i: int, left: int, total: float, acc: list[int]) -> bool:
        if i == len(lengths):
            if lo <= total <= hi:
                out.append(tuple(acc))
            return len(out) <= MAX_PATTERNS
        for k in range(left + 1):
            if total + k * lengths[i] > hi:
                break
            acc.append(k)
            ok = rec(i + 1, left - k, total + k * lengths[i], acc)
            acc.pop()
            if not ok:
                return False
        return True

    return out if rec(0, dmax, 0.0, []) else []


def _add_hall_rows(prob: pulp.LpProblem, name: str, g: int, types: np.ndarray, grp: Group,
                   agents: list[Agent], n_vars: dict, catalog: ShiftCatalog) -> None:
    """Hall conditions on the shift types ``types`` (of one day, or of a week block).

    Members are classed by the types they may work; the types outside one
    class's set need members who can work some of them, each on at most
    ``min(max_days, days with such a type)`` of them. On one day that is one
    shift per able member; over a week it also counts their working days.
    """
    able = grp.compat[:, types]
    classes = {tuple(r) for r in able[able.any(axis=1)]}
    if len(classes) <= 1:
        return
    for ci, cls in enumerate(sorted(classes)):
        outside = ~np.asarray(cls, dtype=bool)
        if not outside.any():
            continue
        out_types = types[outside]
        rhs = 0
        for mi, a in enumerate(grp.members):
            mine = out_types[able[mi, outside]]
            if mine.size:
                rhs += min(agents[a].max_days, len(set(catalog.day[mine].tolist())))
        prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression({n_vars[(g, int(s))]: 1.0 for s in out_types}),
            pulp.LpConstraintLE, f"{name}_c{ci}", rhs))


def _add_hour_patterns(prob: pulp.LpProblem, g: int, bi: int, in_blk: np.ndarray,
                       classes: dict[tuple, int], n_vars: dict, catalog: ShiftCatalog) -> None:
    """Whole-shift hours per member: the shifts of each paid length are a sum of patterns.

    Members with the same hours window, days and shift lengths form a
    contract class; each member works one :func:`hour_patterns` pattern, so
    the planned shifts of each paid length equal the patterns' shifts of that
    length. Every schedule meets these rows (which the group's hours and days
    rows alone do not: 21 hours in at most 4 shifts cannot be worked with 6-hour
    shifts only), so the model stays a relaxation.
    """
    if not classes:
        return
    lengths = sorted({int(x) for x in catalog.paid[in_blk]})
    per_len: dict[int, dict] = {L: {} for L in lengths}
    pats = {}
    for key in classes:
        hmin, hmax, dmax, mine = key
        pats[key] = hour_patterns(mine, hmin, hmax, dmax)
        if not pats[key]:
            return   # too many (or none): leave the group to the hours rows
    for ci, (key, k) in enumerate(sorted(classes.items())):
        mine = key[3]
        mv = [pulp.LpVariable(f"pat_g{g}_w{bi}_c{ci}_p{j}", 0, k, cat=pulp.LpInteger)
              for j in range(len(pats[key]))]
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression({v: 1.0 for v in mv}),
                                             pulp.LpConstraintEQ, f"patcls_g{g}_w{bi}_c{ci}", k))
        for v, pat in zip(mv, pats[key]):
            for L, cnt in zip(mine, pat):
                if cnt:
                    per_len[L][v] = per_len[L].get(v, 0.0) - cnt
    for L in lengths:
        terms = dict(per_len[L])
        for s in in_blk[catalog.paid[in_blk] == L]:
            terms[n_vars[(g, int(s))]] = 1.0
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                             pulp.LpConstraintEQ, f"patlen_g{g}_w{bi}_L{L}", 0))


def build_model(demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                agents: list[Agent], weights: SchedulingWeights, min_rest_hours: float,
                name: str = "wfm_shift_counts", patterns: bool = True) -> pulp.LpProblem:
    """Step 1: the shift-count MILP (a relaxation of the full schedule).

    Parameters
    ----------
    demand : Demand
    catalog : ShiftCatalog
    groups : list of Group
        Skill groups with ``compat`` filled (see :func:`wfm.scheduling.core.make_groups`).
    agents : list of Agent
    weights : SchedulingWeights
    min_rest_hours : float
        Minimum rest between two shifts of one agent [h].

    Returns
    -------
    LpProblem
        With ``problem.wfm`` a :class:`CountModel` holding the variables.
    """
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    obj: dict = {}
    T = catalog.n_intervals
    nd = len(catalog.days)
    cost = agent_cost_factor(agents)
    rest = int(round(min_rest_hours * 60))
    n_vars: dict[tuple[int, int], pulp.LpVariable] = {}
    brk_vars: dict[tuple[int, int], list[pulp.LpVariable]] = {}
    h_vars: dict[tuple[int, int], pulp.LpVariable] = {}
    active: dict[int, np.ndarray] = {}
    avail = np.array([[a.available_on(d) for d in catalog.days] for a in agents], dtype=bool)
    pres_rows: list[tuple[int, dict]] = []
    heads: dict[tuple[int, int], pulp.LpConstraint] = {}
    pref_days: list[pulp.LpConstraint] = []

    for g, grp in enumerate(groups):
        comp = grp.compat                     # members x types
        ub = comp.sum(axis=0)
        types = np.flatnonzero(ub > 0)
        grp.types = types
        if types.size == 0:
            continue
        # heads present = sum of shifts covering t minus those on break
        pres: dict[int, dict] = defaultdict(dict)
        fixed_brk: dict[int, dict] = defaultdict(dict)
        pool_members: dict[int, list[int]] = defaultdict(list)
        cover_mask = np.zeros(T, dtype=bool)
        for s in types:
            v = pulp.LpVariable(f"n_g{g}_s{s}", 0, int(ub[s]), cat=pulp.LpInteger)
            n_vars[(g, int(s))] = v
            for t, x in zip(*catalog.presence[s]):
                pres[int(t)][v] = float(x)
            cover_mask[catalog.presence[s][0]] = True
            pool_members[int(catalog.pool[s])].append(int(s))
        for p, members in pool_members.items():
            opts = catalog.pool_breaks[p]
            if len(opts) == 1:
                idx, sh = opts[0]
                for s in members:
                    v = n_vars[(g, s)]
                    for t, x in zip(idx, sh):
                        fixed_brk[int(t)][v] = fixed_brk[int(t)].get(v, 0.0) + float(x)
                continue
            bv = [pulp.LpVariable(f"brk_g{g}_p{p}_k{k}", 0.0) for k in range(len(opts))]
            brk_vars[(g, p)] = bv
            terms = {v: 1.0 for v in bv}
            for s in members:
                terms[n_vars[(g, s)]] = -1.0
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                                 pulp.LpConstraintEQ, f"breaks_g{g}_p{p}", 0))
            for v, (idx, sh) in zip(bv, opts):
                for t, x in zip(idx, sh):
                    fixed_brk[int(t)][v] = fixed_brk[int(t)].get(v, 0.0) + float(x)
        act = np.flatnonzero(cover_mask)
        active[g] = act
        pres_rows.append((g, {"pres": pres, "brk": fixed_brk, "act": act}))

    cov = add_coverage(prob, demand, groups, active, weights, obj)

    for g, rows in pres_rows:
        grp = groups[g]
        fixed_brk, act = rows["brk"], rows["act"]
        pres = rows["pres"]
        for t in act:
            t = int(t)
            cterms = {cov.x[(g, t, c)]: 1.0 for c in grp.skills}
            for v, x in pres.get(t, {}).items():
                cterms[v] = cterms.get(v, 0.0) - x
            for v, x in fixed_brk.get(t, {}).items():
                cterms[v] = cterms.get(v, 0.0) + x
            con = pulp.LpConstraint(pulp.LpAffineExpression(cterms), pulp.LpConstraintEQ,
                                    f"cap_g{g}_t{t}", 0)
            prob.addConstraint(con)
            heads[(g, t)] = con

        # contracts, aggregated over the group's members
        members = grp.members
        comp = grp.compat
        types = grp.types
        for bi, (bdays, share) in enumerate(week_blocks(nd)):
            in_blk = types[np.isin(catalog.day[types], bdays)]
            if in_blk.size == 0:
                continue
            terms = {n_vars[(g, int(s))]: catalog.paid[s] / 60.0 for s in in_blk}
            day_terms = {n_vars[(g, int(s))]: 1.0 for s in in_blk}
            day_cap = 0
            contract_classes: dict[tuple, int] = defaultdict(int)
            for mi, a in enumerate(members):
                ag = agents[a]
                my = in_blk[comp[mi, in_blk]]
                my_days = len(set(catalog.day[my].tolist()))
                dmax = min(ag.max_days, my_days)
                day_cap += dmax
                longest = (np.sort(catalog.paid[my])[::-1][:1].sum() / 60.0) if my.size else 0.0
                hmax = min(ag.max_hours, dmax * longest)
                hmin = min(ag.min_hours * share, hmax)
                contract_classes[(hmin, hmax, dmax,
                                  tuple(sorted({int(x) for x in catalog.paid[my]})))] += 1
                hv = pulp.LpVariable(f"hours_a{a}_w{bi}", hmin, hmax)
                h_vars[(a, bi)] = hv
                obj[hv] = obj.get(hv, 0.0) + weights.labour_cost * float(cost[a])
                terms[hv] = -1.0
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                                 pulp.LpConstraintEQ, f"hours_g{g}_w{bi}", 0))
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(day_terms),
                                                 pulp.LpConstraintLE, f"days_g{g}_w{bi}",
                                                 day_cap))
            _add_hall_rows(prob, f"hallweek_g{g}_w{bi}", g, in_blk, grp, agents, n_vars,
                           catalog)
            if patterns:
                _add_hour_patterns(prob, g, bi, in_blk, contract_classes, n_vars, catalog)
        for d in range(nd):
            on_d = types[catalog.day[types] == d]
            if on_d.size == 0:
                continue
            able = comp[:, on_d]                  # members x types of the day
            who = able.any(axis=1)
            prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression({n_vars[(g, int(s))]: 1.0 for s in on_d}),
                pulp.LpConstraintLE, f"oneshift_g{g}_d{d}", int(who.sum())))
            _add_hall_rows(prob, f"hall_g{g}_d{d}", g, on_d, grp, agents, n_vars, catalog)
        pref_days += add_preference_costs(prob, g, grp, n_vars, catalog, agents, weights, obj)
        # rest: one agent cannot work a shift ending at or after tau on day d and
        # one starting before tau + rest on a later day
        for d in range(nd - 1):
            on_d = types[catalog.day[types] == d]
            if on_d.size == 0:
                continue
            for d2 in range(d + 1, min(nd, d + 3)):
                on_d2 = types[catalog.day[types] == d2]
                if on_d2.size == 0:
                    continue
                who = int((avail[members][:, [d, d2]].any(axis=1)).sum())
                for tau, late, early in rest_conflicts(catalog, on_d, on_d2, rest):
                    t_ = {n_vars[(g, int(s))]: 1.0 for s in late}
                    t_.update({n_vars[(g, int(s))]: 1.0 for s in early})
                    prob.addConstraint(pulp.LpConstraint(
                        pulp.LpAffineExpression(t_), pulp.LpConstraintLE,
                        f"rest_g{g}_d{d}_d{d2}_{tau}", who))
        # consecutive days
        kmin = min(agents[a].max_consecutive for a in members)
        if kmin + 1 <= nd:
            for d0 in range(0, nd - kmin):
                win = list(range(d0, d0 + kmin + 1))
                in_w = types[np.isin(catalog.day[types], win)]
                rhs = sum(min(agents[a].max_consecutive, len(win),
                              int(avail[a, win].sum())) for a in members)
                prob.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression({n_vars[(g, int(s))]: 1.0 for s in in_w}),
                    pulp.LpConstraintLE, f"consec_g{g}_d{d0}", rhs))

    prob.setObjective(pulp.LpAffineExpression(obj))
    prob.wfm = CountModel(n=n_vars, breaks=brk_vars, hours=h_vars, coverage=cov,
                          objective_terms=obj, pref_days=pref_days, heads=heads)
    return prob


def rest_conflicts(catalog: ShiftCatalog, today: np.ndarray, later: np.ndarray, rest: int
                   ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Sets of shift types no agent may work together because of the rest rule.

    For every end ``tau`` of a shift in ``today``: the types of ``today``
    ending at or after ``tau`` and those of ``later`` (a later day) starting
    before ``tau + rest``; any one of the first and one of the second are
    less than ``rest`` minutes apart, so one agent works at most one of all
    of them. Yields ``(tau, late, early)``, each pair of sizes once (a set
    with the same sizes as an earlier one is the same set).
    """
    seen: set[tuple[int, int]] = set()
    for tau in np.unique(catalog.end_abs[today]):
        late = today[catalog.end_abs[today] >= tau]
        early = later[catalog.start_abs[later] < tau + rest]
        if late.size == 0 or early.size == 0 or (late.size, early.size) in seen:
            continue
        seen.add((late.size, early.size))
        yield int(tau), late, early


def add_preference_costs(prob: pulp.LpProblem, g: int, grp: Group,
                         n_vars: dict[tuple[int, int], pulp.LpVariable], catalog: ShiftCatalog,
                         agents: list[Agent], weights: SchedulingWeights, obj: dict
                         ) -> list[pulp.LpConstraint]:
    """The least cost of unmet shift preferences of group ``g``'s shift counts, per day.

    Members are classed per day by (preferred start, whether they wished the
    day off); ``y_near[c, s]`` counts class-``c`` members on a shift type
    ``s`` starting within :data:`PREFERRED_START_TOLERANCE_MINUTES` of their
    preferred start (cost: the wished day off, if any), ``y_rest[c]`` class
    members on any other shift (cost: a missed start and the day off). The
    members without preferences take at most one shift each and no type more
    often than it is planned. Every assignment of the planned shifts to
    members is such a transportation, so the term is a relaxation of the
    preference cost of step 2 (and the step-1 bound stays a bound), while it
    steers the counts towards starts that the members with preferences like.

    Returns the rows of the days members with preferences must work.
    """
    out: list[pulp.LpConstraint] = []
    if weights.preference <= 0:
        return out
    tol = PREFERRED_START_TOLERANCE_MINUTES
    types = grp.types
    worked: dict[tuple[int, object], dict] = defaultdict(dict)   # (day, start) -> y vars
    for d in range(len(catalog.days)):
        on_d = types[catalog.day[types] == d]
        if on_d.size == 0:
            continue
        weekday = catalog.days[d].weekday()
        classes: dict[tuple, int] = defaultdict(int)
        for mi, a in enumerate(grp.members):
            if not grp.compat[mi, on_d].any():
                continue
            ag = agents[a]
            classes[(ag.preferred_start, weekday in ag.days_off_wished)] += 1
        free = classes.pop((None, False), 0)
        if not classes:
            continue
        taken: dict = {}
        near_of: dict[int, dict] = defaultdict(dict)
        for ci, ((start, off), m) in enumerate(sorted(classes.items(),
                                                      key=lambda kv: (kv[0][0] or -1, kv[0][1]))):
            terms = {}
            if start is not None:
                near = on_d[np.abs(catalog.start_wall[on_d] - start) <= tol]
                for s in near:
                    v = pulp.LpVariable(f"pref_g{g}_d{d}_c{ci}_s{s}", 0.0)
                    if off:
                        obj[v] = weights.preference
                    near_of[int(s)][v] = 1.0
                    terms[v] = 1.0
            rest = pulp.LpVariable(f"pref_g{g}_d{d}_c{ci}_other", 0.0)
            obj[rest] = weights.preference * ((start is not None) + off)
            terms[rest] = 1.0
            taken.update(terms)
            worked[(d, start)].update(terms)
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                                 pulp.LpConstraintLE,
                                                 f"prefclass_g{g}_d{d}_c{ci}", m))
        for s, terms in near_of.items():
            terms = dict(terms)
            terms[n_vars[(g, s)]] = -1.0
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                                 pulp.LpConstraintLE, f"prefnear_g{g}_s{s}", 0))
        # the shifts the classes do not take go to members without preferences,
        # and the classes take no more shifts than there are
        terms = {n_vars[(g, int(s))]: 1.0 for s in on_d}
        for v in taken:
            terms[v] = -1.0
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                             pulp.LpConstraintLE, f"preffree_g{g}_d{d}", free))
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                             pulp.LpConstraintGE, f"preftaken_g{g}_d{d}", 0))
    # Members cannot dodge their preferences by not working: each works at
    # least the days its minimum hours need with its longest shift, a member
    # with a preferred start on every one of them (counted in its classes), a
    # member with wished days off on those beyond its other available days.
    for bi, (bdays, share) in enumerate(week_blocks(len(catalog.days))):
        need: dict[object, int] = defaultdict(int)
        for mi, a in enumerate(grp.members):
            ag = agents[a]
            if ag.preferred_start is None and not ag.days_off_wished:
                continue
            mine = types[grp.compat[mi, types] & np.isin(catalog.day[types], bdays)]
            if mine.size == 0 or ag.min_hours <= 0:
                continue
            longest = float(catalog.paid[mine].max()) / 60.0
            days = math.ceil(ag.min_hours * share / longest - 1e-9) if longest > 0 else 0
            if ag.preferred_start is not None:
                need[ag.preferred_start] += days
            else:
                other = {int(d) for d in catalog.day[mine]
                         if catalog.days[int(d)].weekday() not in ag.days_off_wished}
                need[None] += max(0, days - len(other))
        for start, k in need.items():
            terms = {v: 1.0 for (d, st), vs in worked.items() if st == start and d in bdays
                     for v in vs}
            if k > 0 and terms:
                row = pulp.LpConstraint(
                    pulp.LpAffineExpression(terms), pulp.LpConstraintGE,
                    f"prefdays_g{g}_w{bi}_{'none' if start is None else start}", k)
                prob.addConstraint(row)
                out.append(row)
    return out


@dataclass
class BreakModel:
    """Handles of :func:`build_break_model` (attached as ``problem.wfm``)."""

    breaks: dict[tuple[int, int], list[pulp.LpVariable]]
    fixed: dict[tuple[int, int], int]
    coverage: CoverageBlock


def build_break_model(demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                      worked: dict[tuple[int, int], int], weights: SchedulingWeights,
                      name: str = "wfm_breaks") -> pulp.LpProblem:
    """Step 3: break placement and channel allocation for fixed named shifts.

    Parameters
    ----------
    worked : dict
        ``(group, shift type) -> number of agents`` of the final assignment.

    Returns
    -------
    LpProblem
        Integer break counts per group, pool and option
        (``problem.wfm.breaks``; pools with a single option are in
        ``problem.wfm.fixed``), plus the coverage block.
    """
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    obj: dict = {}
    T = catalog.n_intervals
    present = np.zeros((len(groups), T))
    pools: dict[tuple[int, int], int] = defaultdict(int)
    for (g, s), k in worked.items():
        if k <= 0:
            continue
        idx, sh = catalog.presence[s]
        present[g, idx] += k * sh
        pools[(g, int(catalog.pool[s]))] += k
    brk_vars: dict[tuple[int, int], list[pulp.LpVariable]] = {}
    fixed: dict[tuple[int, int], int] = {}
    brk_terms: dict[tuple[int, int], dict] = defaultdict(dict)
    for (g, p), k in sorted(pools.items()):
        opts = catalog.pool_breaks[p]
        if len(opts) == 1:
            fixed[(g, p)] = k
            idx, sh = opts[0]
            present[g, idx] -= k * sh
            continue
        bv = [pulp.LpVariable(f"brk_g{g}_p{p}_k{j}", 0, k, cat=pulp.LpInteger)
              for j in range(len(opts))]
        brk_vars[(g, p)] = bv
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression({v: 1.0 for v in bv}),
                                             pulp.LpConstraintEQ, f"breaks_g{g}_p{p}", k))
        for v, (idx, sh) in zip(bv, opts):
            for t, x in zip(idx, sh):
                brk_terms[(g, int(t))][v] = float(x)
    active = {}
    for g in range(len(groups)):
        tt = set(np.flatnonzero(present[g] > 1e-9).tolist())
        tt |= {t for (gg, t) in brk_terms if gg == g}
        active[g] = np.array(sorted(tt), dtype=np.int64)
    cov = add_coverage(prob, demand, groups, active, weights, obj)
    add_heads_rows(prob, groups, active, cov, present, brk_terms)
    prob.setObjective(pulp.LpAffineExpression(obj) if obj else pulp.LpAffineExpression())
    prob.wfm = BreakModel(breaks=brk_vars, fixed=fixed, coverage=cov)
    return prob


def round_breaks(breaks: dict[tuple[int, int], list[pulp.LpVariable]], box: bool
                 ) -> dict[pulp.LpVariable, int]:
    """Integer break counts from the break model's LP values, pool by pool.

    The options of a pool are in time order; their running sum is rounded to
    the nearest integer, so each pool keeps its number of breaks and every
    count is the integer just below or above its LP value. With ``box`` each
    variable's bounds are narrowed to those two integers (the break MILP then
    only decides the rounding). Returns the rounded counts.
    """
    out: dict[pulp.LpVariable, int] = {}
    for bv in breaks.values():
        x = np.array([max(0.0, value(v)) for v in bv])
        k = int(round(x.sum()))
        r = np.minimum(np.floor(np.cumsum(x) + 0.5 + 1e-9).astype(int), k)
        r[-1] = k
        counts = np.diff(np.concatenate([[0], np.maximum.accumulate(r)]))
        for v, xv, c in zip(bv, x, counts):
            if box:
                v.lowBound = math.floor(xv + 1e-6)
                v.upBound = max(v.lowBound, math.ceil(xv - 1e-6))
            out[v] = int(c)
    return out


def value(v: pulp.LpVariable | None) -> float:
    """Solution value of ``v`` (0.0 for None or an unset value)."""
    if v is None:
        return 0.0
    x = v.varValue
    return 0.0 if x is None or not math.isfinite(x) else float(x)


#: Fractional part of a running shift count at which cumulative rounding
#: rounds up. Below 0.5 on purpose: a missing agent-hour costs the
#: under-coverage weight (100 by default, more in the steeper penalty
#: segments) while a surplus one costs the over-coverage weight (1) plus
#: labour, and named agents realise fewer shifts than planned (contracts).
#: Measured with ``benchmarks/bench_schedule.py`` and the sample plan: 0.4
#: lowered the objective by 11-49 % against 0.5 on 50 / 150 agents and the
#: sample week; 0.35 and 0.45 were worse than 0.4 on all three, 0.3 and 0.2
#: at 150 agents. The outcome is sensitive to the rounding (step 2 realises
#: the counts under contracts), so these are measured, not derived.
ROUND_UP_AT = 0.4


def round_counts(lp_counts: dict[tuple[int, int], float], catalog: ShiftCatalog
                 ) -> dict[tuple[int, int], int]:
    """Integer shift counts from fractional ones by cumulative rounding.

    Within each (group, day, template, length) the shift types are ordered by
    start and the running sum is rounded (up from :data:`ROUND_UP_AT`), so
    every integer shift lies within one start step of fractional mass it
    replaces and each family's total changes by less than one.
    """
    fam: dict[tuple, list[tuple[int, int, float]]] = defaultdict(list)
    for (g, s), x in lp_counts.items():
        fam[(g, int(catalog.day[s]), int(catalog.template[s]), int(catalog.length[s]))].append(
            (int(catalog.start_abs[s]), s, x))
    out: dict[tuple[int, int], int] = {}
    for (g, *_), items in fam.items():
        items.sort()
        cum = 0.0
        prev = 0
        for _, s, x in items:
            cum += max(0.0, x)
            r = int(math.floor(cum + (1.0 - ROUND_UP_AT) + 1e-9))
            if r > prev:
                out[(g, s)] = r - prev
            prev = max(prev, r)
    return out


#: Penalty multiplier (x under_coverage per hour) for missing an agent's minimum hours.
MIN_HOURS_PENALTY = 50.0
#: A rounding MILP stopped farther than this from its bound has not got
#: far beyond its start, whose counts are rounded down where rows forbid
#: rounding up; cumulative rounding is used instead (50 agents at 60 s:
#: 8,591 with the MILP's incumbent at a 97.7 % gap, 7,574 with the fallback).
ROUNDING_MAX_GAP = 0.25
#: Block length of the rounding MILP [min]: its coverage rows are block averages.
ROUNDING_BLOCK_MINUTES = 60


def repair_start(prob: pulp.LpProblem, start: dict[pulp.LpVariable, int],
                 target: dict[pulp.LpVariable, float],
                 needs: list[tuple[dict[pulp.LpVariable, float], float]] = (),
                 swaps: bool = False) -> dict[pulp.LpVariable, float]:
    """Lower integer start values until the rows they alone decide hold, then raise for ``needs``.

    A row is checked when, written as ``sum a_i n_i <= cap``, every start
    variable has ``a_i >= 0`` and the other variables' least activity (from
    their bounds) makes ``cap`` finite: shifts per day, days, Hall, rest and
    consecutive-day rows, and the hours rows against the members' maximum
    hours. A violated row lowers the counts that exceed their ``target`` (LP
    value) the most, never below their lower bound (the floor of the LP
    value, which satisfies these rows), until it holds.

    Each need ``(weights, amount)`` (e.g. a group's paid hours against its
    members' minimum hours, soft in the model) then raises the counts below
    their ``target`` the most, within their upper bounds and where every
    checked row keeps holding, until ``sum weights * x >= amount``. With
    ``swaps``, a need still short then swaps a count down for a heavier one
    up where a full row blocks every raise (:func:`_swap_for_need`).
    """
    x = dict(start)
    rows = []
    for con in prob.constraints():
        senses = [1.0] if con.sense == pulp.LpConstraintLE else \
            [-1.0] if con.sense == pulp.LpConstraintGE else [1.0, -1.0]
        for sg in senses:
            n_terms, least = [], sg * con.constant
            for v, a in con.items():
                a = sg * a
                if v in x:
                    n_terms.append((v, a))
                    continue
                b = v.lowBound if a > 0 else v.upBound
                if b is None:
                    least = -math.inf
                    break
                least += a * b
            if (n_terms and math.isfinite(least) and all(a >= 0 for _, a in n_terms)
                    and any(a > 0 for _, a in n_terms)):
                rows.append((n_terms, -least))
    for _ in range(5):
        changed = False
        for n_terms, cap in rows:
            excess = sum(a * x[v] for v, a in n_terms) - cap
            if excess <= 1e-6:
                continue
            for v, a in sorted(n_terms, key=lambda t: target[t[0]] - x[t[0]]):
                while a > 0 and excess > 1e-6 and x[v] > (v.lowBound or 0):
                    x[v] -= 1
                    excess -= a
                    changed = True
                if excess <= 1e-6:
                    break
        if not changed:
            break
    activity = [sum(a * x[v] for v, a in n_terms) for n_terms, _cap in rows]
    rows_of: dict[pulp.LpVariable, list[tuple[int, float]]] = defaultdict(list)
    for i, (n_terms, _cap) in enumerate(rows):
        for v, a in n_terms:
            if a > 0:
                rows_of[v].append((i, a))
    # each checked row's positive terms (the inverse of rows_of), for swaps
    row_vars = [{v: a for v, a in n_terms if a > 0} for n_terms, _cap in rows] if swaps else []

    def step(v: pulp.LpVariable, d: int) -> None:
        x[v] += d
        for i, a in rows_of[v]:
            activity[i] += d * a

    for weights, amount in needs:
        have = sum(w * x[v] for v, w in weights.items())
        for v in sorted((v for v, w in weights.items() if w > 0),
                        key=lambda v: x[v] - target[v]):
            while (have < amount - 1e-6 and (v.upBound is None or x[v] < v.upBound)
                   and all(activity[i] + a <= rows[i][1] + 1e-6 for i, a in rows_of[v])):
                step(v, 1)
                have += weights[v]
            if have >= amount - 1e-6:
                break
        while swaps and have < amount - 1e-6:
            # a full row (days, shifts per day) blocks every raise: swap a
            # shorter count down for a longer one up where that row allows
            swap = _swap_for_need(x, target, weights, rows, rows_of, row_vars, activity)
            if swap is None:
                break
            u, v = swap
            step(u, -1)
            step(v, 1)
            have += weights[v] - weights[u]
    return {v: float(k) for v, k in x.items()}


def _swap_for_need(x: dict, target: dict, weights: dict, rows: list, rows_of: dict,
                   row_vars: list[dict], activity: list[float]
                   ) -> tuple[pulp.LpVariable, pulp.LpVariable] | None:
    """``(u, v)``: lowering ``u`` by one frees every row that raising ``v`` overfills.

    Both are terms of the need (``weights``), ``v`` the heavier; ``v`` is the
    count farthest below its target that has such a ``u``, ``u`` the one
    farthest above its target. None when no such pair exists.
    """
    for v in sorted((v for v, w in weights.items()
                     if w > 0 and (v.upBound is None or x[v] < v.upBound)),
                    key=lambda v: x[v] - target[v]):
        over = [(i, activity[i] + a - rows[i][1]) for i, a in rows_of[v]
                if activity[i] + a > rows[i][1] + 1e-6]
        if not over:
            continue
        for u in sorted(row_vars[over[0][0]], key=lambda u: target[u] - x[u]):
            if (u is not v and u in weights and weights[u] < weights[v]
                    and x[u] > (u.lowBound or 0)
                    and all(row_vars[i].get(u, 0.0) >= o - 1e-9 for i, o in over)):
                return u, v
    return None


def round_by_mip(lp_counts: dict[tuple[int, int], float], demand: Demand, catalog: ShiftCatalog,
                 groups: list[Group], agents: list[Agent], weights: SchedulingWeights,
                 min_rest_hours: float, solver: str, time_limit: float | None, gap: float,
                 threads: int | None = None, swaps: bool = False,
                 stop: threading.Event | None = None, block_minutes: int | None = None
                 ) -> tuple[dict[tuple[int, int], int] | None, SolveReport]:
    """Round the LP's shift counts by a MILP that sees the coverage.

    Each count may only go to the integer just below or above its LP value
    (so only the fractional ones are decisions, one binary each), and the
    choice is made by the step-1 model itself on blocks of ``block_minutes``
    (default :data:`ROUNDING_BLOCK_MINUTES`; :func:`coarsen_demand`), several
    times smaller than the interval model. Unlike rounding each count on its
    own, the MILP trades a shift rounded down in one skill group against one
    rounded up in another that covers the same channels and hours, and keeps
    the contract aggregates.

    ``swaps``: the start may swap counts (:func:`repair_start`). ``stop``: as
    :func:`~wfm.scheduling.solve.solve`'s, to end the MILP from another
    thread (HiGHS keeps its incumbent).

    Returns
    -------
    (counts, report)
        ``counts`` is None when the MILP found no solution in time, or only
        one farther than :data:`ROUNDING_MAX_GAP` from its bound; the caller
        then rounds cumulatively.
    """
    k = max(1, (block_minutes or ROUNDING_BLOCK_MINUTES) // demand.interval_minutes)
    prob = build_model(coarsen_demand(demand, k), coarsen(catalog, k), groups, agents, weights,
                       min_rest_hours, name="wfm_rounding", patterns=False)
    for key, v in prob.wfm.n.items():
        x = lp_counts.get(key, 0.0)
        v.lowBound = math.floor(x + 1e-6)
        v.upBound = max(v.lowBound, math.ceil(x - 1e-6))
    # No hour patterns here: with them (soft) the root took the whole limit
    # and HiGHS kept its start (150 agents: 7,394 against 3,003).
    # Minimum hours and the days members with preferences must work become
    # soft (priced as in step 2), so that rounding every count down is always
    # a solution: the box alone can miss every integer point of these rows.
    extra: dict = {}
    group_of = {a: g for g, grp in enumerate(groups) for a in grp.members}
    min_hours: dict[tuple[int, int], float] = defaultdict(float)
    for (a, bi), hv in prob.wfm.hours.items():
        min_hours[(group_of[a], bi)] += hv.lowBound or 0.0
        if hv.lowBound and hv.lowBound > 0:
            sl = pulp.LpVariable(f"minslack_a{a}_w{bi}", 0.0)
            prob.addConstraint(hv + sl >= hv.lowBound, f"minhours_a{a}_w{bi}")
            hv.lowBound = 0.0
            extra[sl] = MIN_HOURS_PENALTY * weights.under_coverage
    for row in prob.wfm.pref_days:
        sl = pulp.LpVariable(f"slack_{row.name}", 0.0)
        row.addInPlace(sl)
        extra[sl] = weights.preference
    if extra:
        prob.setObjective(prob.objective + pulp.LpAffineExpression(extra))
    # start from cumulative rounding (within the box), repaired where it
    # breaks a row (HiGHS drops an infeasible start), so a short time limit
    # never ends worse than that
    # and raised where a group's shifts fall short of its members' minimum
    # hours (soft here, but priced far above coverage)
    cumulative = round_counts(lp_counts, catalog)
    block_of = {d: bi for bi, (bdays, _share) in enumerate(week_blocks(len(catalog.days)))
                for d in bdays}
    hours_terms: dict[tuple[int, int], dict] = defaultdict(dict)
    for (g, s), v in prob.wfm.n.items():
        hours_terms[(g, block_of[int(catalog.day[s])])][v] = catalog.paid[s] / 60.0
    start = repair_start(prob, {v: cumulative.get(key, 0) for key, v in prob.wfm.n.items()},
                         {v: lp_counts.get(key, 0.0) for key, v in prob.wfm.n.items()},
                         [(terms, min_hours[key]) for key, terms in hours_terms.items()],
                         swaps=swaps)
    rep = solve(prob, solver, time_limit=time_limit, gap=gap, threads=threads, start=start,
                stop=stop)
    if not rep.has_solution or (rep.gap is not None and rep.gap > ROUNDING_MAX_GAP):
        return None, rep
    counts = {key: int(round(value(v))) for key, v in prob.wfm.n.items() if value(v) > 0.5}
    return counts, rep
