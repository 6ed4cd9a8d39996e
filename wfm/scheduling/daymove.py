"""The local search's day move: every agent's shift on one day chosen together.

The search's other moves change one or two agents' days at a time; at their
local optimum coverage can still improve where several agents would have to
move at once (e.g. a few starts each a quarter-hour later to close a gap
that each move alone only shifts). The day move re-optimises one day for
all agents in one small MILP: each agent keeps or changes its shift of that
day (a few candidate shift types and break options, ranked by the coverage
LP's duals, or none), every other day stays as it is. Each candidate keeps
the agent's contract with its other days, so the choices are independent
apart from the coverage.

The coverage is modelled on the window of intervals the day's shifts touch
(:func:`wfm.scheduling.model.add_coverage` on that slice): the heads of the
other days' shifts are fixed there, deferred work waiting at the window's
start enters with its first interval, and no more may wait at its end than
waits now, so the rest of the week can keep its channel allocation. The
search then re-solves its coverage LP on the whole week and keeps the
day's new shifts only if the schedule's objective drops.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pulp

from wfm.config import SchedulingWeights
from wfm.scheduling.model import Demand, Group, add_coverage, add_heads_rows
from wfm.scheduling.solve import SolveReport, solve


@dataclass
class DayChoice:
    """One agent's options on the day.

    ``options``: ``(intervals, share worked, own cost)`` of each candidate
    shift (with its break option), or None for no shift that day;
    ``current``: the index of what the agent works now.
    """

    group: int
    options: list[tuple[np.ndarray, np.ndarray, float] | None]
    current: int


def day_milp(demand: Demand, groups: list[Group], weights: SchedulingWeights,
             present: np.ndarray, backlog: np.ndarray, choices: list[DayChoice], *,
             time_limit: float, gap: float = 2e-3, threads: int | None = 1
             ) -> tuple[list[int] | None, SolveReport | None]:
    """The agents' choices on one day at least cost of the day's window.

    Parameters
    ----------
    present : ndarray, shape (G, T)
        Heads per group and interval of the shifts not in ``choices``.
    backlog : ndarray, shape (C, T)
        Deferred work waiting after each interval now (the coverage LP's):
        before the window it enters the window's first interval; at the
        window's last interval it bounds what may wait there.
    time_limit : float
        Seconds for the MILP (it starts from the current choices).

    Returns
    -------
    (list of int or None, SolveReport or None)
        The option chosen per agent, or None where the MILP finds nothing
        below the current choices' cost (or their LP does not solve).
    """
    touched = [o[0] for ch in choices for o in ch.options if o is not None and o[0].size]
    if not touched:
        return None, None
    w0 = int(min(int(i.min()) for i in touched))
    w1 = int(max(int(i.max()) for i in touched)) + 1
    work = demand.workload[:, w0:w1].copy()
    if w0 > 0:
        for c in range(len(demand.channels)):
            if demand.is_deferred(c):
                work[c, 0] += float(backlog[c, w0 - 1])
    dem = replace(demand, grid=demand.grid[w0:w1], required=demand.required[:, w0:w1],
                  workload=work, labels=demand.labels[w0:w1])
    prob = pulp.LpProblem("wfm_day_move", pulp.LpMinimize)
    obj: dict = {}
    extra: dict[tuple[int, int], dict] = {}
    zs: list[list[pulp.LpVariable]] = []
    for i, ch in enumerate(choices):
        row = []
        for k, opt in enumerate(ch.options):
            v = pulp.LpVariable(f"z_{i}_{k}", cat=pulp.LpBinary)
            row.append(v)
            if opt is None:
                continue
            idx, share, cost = opt
            obj[v] = cost
            for t, x in zip((idx - w0).tolist(), share.tolist()):
                extra.setdefault((ch.group, t), {})[v] = -x
        zs.append(row)
        prob.addConstraint(pulp.lpSum(row) == 1, f"one_{i}")
    fixed = present[:, w0:w1]
    active = {}
    for g in range(len(groups)):
        can = fixed[g] > 1e-9
        can[[t for (gg, t) in extra if gg == g]] = True
        active[g] = np.flatnonzero(can)
    cov = add_coverage(prob, dem, groups, active, weights, obj)
    add_heads_rows(prob, groups, active, cov, fixed, extra)
    last = w1 - w0 - 1
    for c in range(len(demand.channels)):
        if demand.is_deferred(c) and (c, last) in cov.backlog:
            prob.addConstraint(cov.backlog[(c, last)] <= float(backlog[c, w1 - 1]) + 1e-9,
                               f"waiting_{c}")
    prob.setObjective(pulp.LpAffineExpression(obj))
    # the current choices, solved as an LP, are the MILP's start, with every
    # variable's value (HiGHS 1.16.0 can still price it wrongly after its
    # presolve, with the integer values alone or all of them; solve() then
    # solves again without presolve)
    for row, ch in zip(zs, choices):
        for k, v in enumerate(row):
            v.lowBound = v.upBound = 1 if k == ch.current else 0
    now = solve(prob, "highs", mip=False, threads=threads)
    if now.status != "optimal":
        return None, now
    start = {v: v.varValue or 0.0 for v in prob.variables()}
    for row in zs:
        for v in row:
            v.lowBound, v.upBound = 0, 1
    rep = solve(prob, "highs", time_limit=time_limit, gap=gap, threads=threads, start=start)
    if not rep.has_solution or rep.objective is None or rep.objective > now.objective - 1e-6:
        return None, rep
    picked = []
    for row in zs:
        vals = [v.varValue or 0.0 for v in row]
        picked.append(int(np.argmax(vals)))
    return picked, rep
