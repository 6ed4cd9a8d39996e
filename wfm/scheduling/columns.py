"""The tightest bound we compute: column generation over agents' weeks.

A schedule is one week (a set of shifts with break options, see
:func:`~wfm.scheduling.improve.cheapest_week`) per named agent. Its
objective is the coverage LP of the local search
(:class:`wfm.scheduling.improve._CoverageLP`: under- and over-coverage,
backlog) for the heads its weeks put in each interval, plus
each agent's labour and unmet preferences. The *master* LP relaxes the choice
of week to a convex combination of the weeks generated so far, one
combination per agent. The best week of each agent for the master's duals
is found exactly (every shift type of every day, by dynamic programming),
and Lagrangian duality gives a lower bound at every iteration::

    bound = master LP + sum over agents of min(0, reduced cost of its best week)

At convergence (no week with a negative reduced cost) the bound is the
master LP: the optimum over the convex hull of each agent's valid weeks, at
least as tight as the per-agent LP of :mod:`wfm.scheduling.reference`, in
which the hours, days, consecutive-days and rest rules only hold fractionally.

Like the per-agent LP it is too slow for the scheduler's time limits (150
agents and a week: about 25 minutes on 2 cores); the benchmark reports it to
state how far its schedules are from optimal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

from wfm.config import Scenario, SchedulingWeights
from wfm.scheduling.core import prepare_inputs
from wfm.scheduling.improve import CoverageLPError, _CoverageLP
from wfm.scheduling.lagrangian import WeekPricer
from wfm.scheduling.model import Demand, Group
from wfm.scheduling.roster import Agent
from wfm.scheduling.templates import ShiftCatalog

#: The bound is converged when it is within this share of the master LP.
TOLERANCE = 1e-4


@dataclass
class ColumnBound:
    """Outcome of :func:`column_bound`.

    Attributes
    ----------
    bound : float
        Lower bound on the objective of every schedule that keeps every
        contract rule (the best Lagrangian bound of the iterations).
    master_lp : float
        Last master LP value (an upper limit of what the bound can reach).
    converged : bool
        Whether the bound reached the master LP within ``tolerance``.
    iterations, weeks : int
        Pricing rounds, and the weeks in the master at the end.
    seconds : float
        Wall-clock time [s].
    history : list of (seconds, master LP, bound)
    """

    bound: float
    master_lp: float
    converged: bool
    iterations: int
    weeks: int
    seconds: float
    history: list[tuple[float, float, float]] = field(default_factory=list)


def column_bound(requirements: pd.DataFrame, scenario: Scenario,
                 roster: pd.DataFrame | None = None, *, time_limit: float | None = None,
                 tolerance: float = TOLERANCE, threads: int | None = None,
                 progress: Callable[[str], None] | None = None) -> ColumnBound:
    """Lower bound of a scheduling run by column generation (see the module docstring).

    Stops at convergence or at the first iteration that ends after
    ``time_limit`` seconds; the bound is valid at every iteration, only weaker
    before convergence.

    Examples
    --------
    >>> cb = column_bound(requirements, scenario, roster)  # doctest: +SKIP
    >>> cb.converged, round(cb.bound, 1)  # doctest: +SKIP
    (True, 2821.9)
    """
    agents, demand, catalog, groups, _low = prepare_inputs(requirements, scenario, roster)
    return bound_by_columns(demand, catalog, groups, agents, scenario.weights,
                            scenario.agents.min_rest_hours, time_limit=time_limit,
                            tolerance=tolerance, threads=threads, progress=progress)


def bound_by_columns(demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                     agents: list[Agent], weights: SchedulingWeights, min_rest_hours: float,
                     *, time_limit: float | None = None, tolerance: float = TOLERANCE,
                     threads: int | None = None,
                     progress: Callable[[str], None] | None = None) -> ColumnBound:
    """:func:`column_bound` on prepared inputs (:func:`~wfm.scheduling.core.prepare_inputs`)."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    pricer = WeekPricer(catalog, groups, agents, weights, min_rest_hours)
    N, first, members = pricer.N, pricer.first, pricer.members
    G, T = len(groups), catalog.n_intervals

    # the master: the coverage LP with heads present = sum of the members' weeks
    lp = _CoverageLP(demand, catalog, groups, np.zeros((G, T)), weights, threads)
    h = lp.h
    ok = lp.row >= 0
    n_rows = h.getNumRow()
    conv_row = {a: n_rows + i for i, (_g, _mi, a) in enumerate(members)}
    h.addRows(len(members), np.ones(len(members)), np.ones(len(members)), 0,
              np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    seen: set[tuple[int, tuple[tuple[int, int], ...]]] = set()

    def add_weeks(new: list[tuple[int, int, float, list[tuple[int, int]]]]) -> int:
        starts, idx, val, cost = [], [], [], []
        for g, a, c, week in new:
            key = (a, tuple(sorted(week)))
            if key in seen:
                continue
            seen.add(key)
            v = np.zeros(T)
            for s, j in week:
                r = N.getrow(int(first[s] + j))
                v[r.indices] += r.data
            nz = np.flatnonzero(v > 1e-12)
            rows = lp.row[g, nz]
            if (rows < 0).any():
                raise RuntimeError("internal: a week reaches an interval outside its group's rows")
            starts.append(len(idx))
            idx.extend([*rows.tolist(), conv_row[a]])
            val.extend([*(-v[nz]).tolist(), 1.0])
            cost.append(c)
        if cost:
            h.addCols(len(cost), np.array(cost), np.zeros(len(cost)),
                      np.full(len(cost), np.inf), len(idx), np.array(starts, dtype=np.int32),
                      np.array(idx, dtype=np.int32), np.array(val))
        return len(cost)

    add_weeks([(g, a, own, week) for g, a, _c, own, week in pricer.price(None)])
    h.setOptionValue("simplex_strategy", 4)          # primal simplex: warm after new columns
    history: list[tuple[float, float, float]] = []
    best_bound = -np.inf
    master = np.inf
    iterations = 0
    converged = False
    while True:
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise CoverageLPError(h.modelStatusToString(h.getModelStatus()))
        master = float(h.getInfo().objective_function_value)
        rd = np.asarray(h.getSolution().row_dual)
        duals = np.zeros((G, T))
        duals[ok] = rd[lp.row[ok]]
        priced = pricer.price(duals)
        iterations += 1
        reduced = [(c - rd[conv_row[a]], g, a, own, week) for g, a, c, own, week in priced]
        bound = master + sum(min(0.0, r[0]) for r in reduced)
        best_bound = max(best_bound, bound)
        elapsed = time.perf_counter() - t0
        history.append((elapsed, master, bound))
        say(f"column bound: iteration {iterations}, master LP {master:,.1f}, bound "
            f"{best_bound:,.1f} ({elapsed:.0f} s)")
        if master - best_bound <= tolerance * max(abs(master), 1.0):
            converged = True
            break
        if time_limit is not None and elapsed >= time_limit:
            break
        added = add_weeks([(g, a, own, week) for r, g, a, own, week in reduced if r < -1e-9])
        if not added:
            # the weeks priced negative are in the master already (within the
            # LP's tolerances): no further progress
            break
    return ColumnBound(bound=float(best_bound), master_lp=master, converged=converged,
                       iterations=iterations, weeks=len(seen),
                       seconds=time.perf_counter() - t0, history=history)
