"""A tighter lower bound than the scheduler's own: the per-agent LP relaxation.

The scheduler's bound is the LP relaxation of the shift-count model
(:func:`wfm.scheduling.model.build_model`), in which a skill group's
contracts and preferences enter as aggregates over its members. Here every
named agent has its own variable ``x[a, s]`` in [0, 1] per shift type it may
work (skills, availability, earliest start / latest end), with its own
contract rows: paid hours per week block within its minimum and maximum, at
most its days per block, one shift a day, at most ``max_consecutive`` days in
any window one day longer, and rest between shifts of adjacent days (clique
rows: no two shifts that break the rest). Labour (with the agent's hourly
cost) and unmet preferences are priced per agent and shift, as in the
schedule's objective. Breaks are continuous counts per skill group, pool and
option; coverage, channel allocation and backlog are the block of
:func:`wfm.scheduling.model.add_coverage`.

Every schedule that keeps every contract is a point of this LP, so its
optimum bounds the objective of every such schedule from below. It is
several times larger than the shift-count LP (150 agents and a week: about
115,000 columns and 2.1 M non-zeros, ~2-3 min with HiGHS's interior point
method on 2 cores), too slow for the scheduler's own time limits; the
benchmark reports it to state how far its schedules are from optimal.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pulp

from wfm.config import Scenario, SchedulingWeights
from wfm.scheduling.assign import preference_misses
from wfm.scheduling.core import prepare_inputs
from wfm.scheduling.model import (
    Demand,
    Group,
    add_coverage,
    add_heads_rows,
    agent_cost_factor,
    rest_conflicts,
)
from wfm.scheduling.roster import Agent, week_blocks
from wfm.scheduling.solve import SolveReport, solve
from wfm.scheduling.templates import ShiftCatalog


def _rest_cliques(prob: pulp.LpProblem, x: dict[int, pulp.LpVariable],
                  by_day: dict[int, list[int]], catalog: ShiftCatalog, rest: int,
                  name: str) -> None:
    """At most one shift of each rest conflict (:func:`rest_conflicts`) of adjacent days."""
    for d in sorted(by_day):
        if not by_day.get(d + 1):
            continue
        for tau, late, early in rest_conflicts(catalog, np.array(by_day[d]),
                                               np.array(by_day[d + 1]), rest):
            prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression({x[int(s)]: 1.0 for s in [*late, *early]}),
                pulp.LpConstraintLE, f"{name}_d{d}_{tau}", 1))


def build_agent_model(demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                      agents: list[Agent], weights: SchedulingWeights, min_rest_hours: float
                      ) -> pulp.LpProblem:
    """The per-agent relaxation (see the module docstring) as an LP."""
    prob = pulp.LpProblem("wfm_agent_bound", pulp.LpMinimize)
    obj: dict = {}
    T = catalog.n_intervals
    nd = len(catalog.days)
    rest = round(min_rest_hours * 60)
    cost = agent_cost_factor(agents)
    present: dict[tuple[int, int], dict] = defaultdict(dict)   # -(heads) terms per (g, t)
    active: dict[int, np.ndarray] = {}
    for g, grp in enumerate(groups):
        pools: dict[int, list[pulp.LpVariable]] = defaultdict(list)
        can = np.zeros(T, dtype=bool)
        for mi, a in enumerate(grp.members):
            ag = agents[a]
            types = np.flatnonzero(grp.compat[mi]) if grp.compat is not None else []
            x = {}
            for s in map(int, types):
                v = pulp.LpVariable(f"x_a{a}_s{s}", 0.0, 1.0)
                x[s] = v
                obj[v] = (weights.labour_cost * float(cost[a]) * catalog.paid[s] / 60.0
                          + weights.preference * preference_misses(ag, catalog, s)[0])
                idx, sh = catalog.presence[s]
                for t, h in zip(idx, sh):
                    present[(g, int(t))][v] = present[(g, int(t))].get(v, 0.0) - float(h)
                can[idx] = True
                pools[int(catalog.pool[s])].append(v)
            if not x:
                continue
            by_day: dict[int, list[int]] = defaultdict(list)
            for s in x:
                by_day[int(catalog.day[s])].append(s)
            for d, ss in by_day.items():
                prob.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression({x[s]: 1.0 for s in ss}), pulp.LpConstraintLE,
                    f"day_a{a}_d{d}", 1))
            for bi, (bdays, share) in enumerate(week_blocks(nd)):
                inb = [s for s in x if int(catalog.day[s]) in bdays]
                if not inb:
                    continue
                hours = pulp.LpAffineExpression({x[s]: catalog.paid[s] / 60.0 for s in inb})
                prob.addConstraint(pulp.LpConstraint(hours, pulp.LpConstraintLE,
                                                     f"maxh_a{a}_w{bi}", ag.max_hours))
                if ag.min_hours * share > 0:
                    prob.addConstraint(pulp.LpConstraint(hours.copy(), pulp.LpConstraintGE,
                                                         f"minh_a{a}_w{bi}",
                                                         ag.min_hours * share))
                prob.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression({x[s]: 1.0 for s in inb}), pulp.LpConstraintLE,
                    f"days_a{a}_w{bi}", ag.max_days))
            k = ag.max_consecutive
            for d0 in range(max(0, nd - k)):
                ss = [s for d in range(d0, d0 + k + 1) for s in by_day.get(d, [])]
                if ss:
                    prob.addConstraint(pulp.LpConstraint(
                        pulp.LpAffineExpression({x[s]: 1.0 for s in ss}), pulp.LpConstraintLE,
                        f"consec_a{a}_d{d0}", k))
            _rest_cliques(prob, x, by_day, catalog, rest, f"rest_a{a}")
        for p, shifts in pools.items():
            opts = catalog.pool_breaks[p]
            if len(opts) == 1:
                idx, sh = opts[0]
                for v in shifts:
                    for t, h in zip(idx, sh):
                        present[(g, int(t))][v] = present[(g, int(t))].get(v, 0.0) + float(h)
                continue
            bv = [pulp.LpVariable(f"brk_g{g}_p{p}_k{j}", 0.0) for j in range(len(opts))]
            terms = {v: 1.0 for v in bv}
            terms.update({v: -1.0 for v in shifts})
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms),
                                                 pulp.LpConstraintEQ, f"breaks_g{g}_p{p}", 0))
            for v, (idx, sh) in zip(bv, opts):
                for t, h in zip(idx, sh):
                    present[(g, int(t))][v] = float(h)
        active[g] = np.flatnonzero(can)
    cov = add_coverage(prob, demand, groups, active, weights, obj)
    add_heads_rows(prob, groups, active, cov, np.zeros((len(groups), T)), present)
    prob.setObjective(pulp.LpAffineExpression(obj))
    return prob


def reference_bound(requirements: pd.DataFrame, scenario: Scenario,
                    roster: pd.DataFrame | None = None, *, time_limit: float | None = None,
                    threads: int | None = None) -> SolveReport:
    """Solve the per-agent LP relaxation of a scheduling run (HiGHS, interior point).

    Returns the solver's report: ``objective`` is the bound when ``status``
    is ``optimal`` (a run stopped at ``time_limit`` gives no bound).

    Examples
    --------
    >>> rep = reference_bound(requirements, scenario, roster)  # doctest: +SKIP
    >>> rep.status, round(rep.objective, 1)  # doctest: +SKIP
    ('optimal', 2807.4)
    """
    agents, demand, catalog, groups, _low = prepare_inputs(requirements, scenario, roster)
    prob = build_agent_model(demand, catalog, groups, agents, scenario.weights,
                             scenario.agents.min_rest_hours)
    return solve(prob, "highs", time_limit=time_limit, mip=False, threads=threads,
                 options={"solver": "ipm", "run_crossover": "off"})
