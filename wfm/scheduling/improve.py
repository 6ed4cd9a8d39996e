"""Local search on the named schedule against the schedule's own objective.

Steps 1-3 build the schedule through group aggregates: step 2 matches each
group's planned presence, and what it cannot see (each member's whole-shift
hours, days and rest) costs coverage and overtime against the plan. This
pass works on the named schedule itself. Its objective is the schedule's:
coverage with the channel allocation and backlog of every group (an LP over
the groups' heads present per interval, solved once and then re-solved warm
after each change of a few right-hand sides), labour and preferences.

A move changes one agent's day: another shift type and/or break option on a
worked day, a shift dropped, or a shift added on a free day, keeping every
contract rule (hours and days per week, one shift a day, consecutive days,
rest, skills, availability). Moves are ranked by the LP's duals (the
marginal cost of a head of the group in each interval) and the best ones
are tried on the LP; a move is kept only when the re-solved objective is
lower, so the schedule never gets worse.

Two larger moves reach what one day's change cannot. The *week move* gives
an agent without a one-day move the cheapest week by the estimates (dynamic
programming over the days, a few options per day, under the contract): at
fixed weekly hours it can shorten one shift and lengthen another at once.
At a local optimum the *exchange* hands each group's shifts of a day to the
members for whom they cost least (hourly cost, preferences): the coverage
stays the same. When that saves nothing either, a *pair move* changes one
agent's day although it costs, then another agent's day that more than makes
up for it: e.g. an agent who can do voice and chat moves from voice to an
uncovered chat evening while a voice-only agent takes over its voice hours,
which neither move does alone. Before the pair move, the *day move*
(:mod:`wfm.scheduling.daymove`) chooses every agent's shift on one day
together in a small MILP, for changes that only pay off when several agents
make them at once (three shifts each an hour earlier to close a gap that
one of them alone only shifts). The search goes on from there, so it ends at
a local optimum of every move or at its time limit.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from wfm.config import SchedulingWeights
from wfm.scheduling.assign import preference_misses, valid_week
from wfm.scheduling.daymove import DayChoice, day_milp
from wfm.scheduling.evaluate import under_penalty
from wfm.scheduling.model import (
    Demand,
    Group,
    add_coverage,
    add_heads_rows,
    agent_cost_factor,
    under_segments,
)
from wfm.scheduling.roster import Agent, week_blocks
from wfm.scheduling.solve import solve
from wfm.scheduling.templates import ShiftCatalog, net_presence

#: Moves tried on the LP per round before the duals are refreshed (if one was
#: kept; one per agent and day, best estimate first).
MOVES_PER_ROUND = 160
#: Feasible moves per agent and day whose estimated gain is computed (the
#: best by the duals' prediction).
CHECKED_PER_DAY = 2
#: A move is tried when the duals predict at least this gain (they bound it).
#: Measured on the schedules after step 3 (search alone; 150 agents 8 s / 500
#: agents 60 s): 160 / 2 / 0.2 gave 2,972 / 9,604, the first setting 40 / 5 /
#: 0.05 gave 2,978 / 9,733 (it stopped at a local optimum of its candidates
#: at 500 agents); 80 / 2 / 0.2: 2,967 / 9,651; 320 / 2 / 0.2: 2,979 / 9,598.
MIN_PREDICTED_GAIN = 0.2
#: Rounds in a row without a kept move in which the moves tried are passed
#: over and the next predictions tried, before the local optimum's exchanges
#: and pair moves. The duals mispredict: at 40 agents a one-day move gaining
#: 139 was left untried, its agent's day taken by a move predicted better
#: that did not gain. Measured, search alone from the benchmark's schedules
#: after step 3 (40 agents 47 s / 50 agents 20 s / 150 agents 65 s): 0 (no
#: such rounds) 2,428.0 / 1,081.7 / 2,946.1; 1: 2,416.8 / 1,077.6 / 2,939.2;
#: 3: 2,294.8 / 1,077.6 / 2,941.3; 5: 2,294.9 / 1,077.6 / 2,939.6; 10:
#: 2,270.8 / 1,076.5 / 2,939.8; without a limit (40 agents) 2,662.2, the
#: pair moves never reached.
FRESH_ROUNDS = 3
#: Options per day (best by the duals) the week move chooses from; 0: no week moves.
WEEK_CHOICES_PER_DAY = 4
#: Pair moves at a local optimum: how much the first move may cost, how many
#: first moves (best estimates first) and second moves per first are tried.
#: Measured on the benchmark's instances: from the saved 150-agent schedule
#: after step 3, the one-agent moves stop at 2,948.8 (34 s); with pair moves
#: 150 s of search reach 2,925.4. Whole runs: 20 agents in 120 s 1,279.4 ->
#: 1,231.2; 50 agents in 60 s 1,084.4 -> 1,084.3; 150 agents in 120 s
#: 2,955.7 / 2,952.3 -> 2,947.8 / 2,930.7 (HiGHS / CBC); 500 agents in 600 s
#: 9,633.5 -> 9,632.4 (the search now runs to the time limit).
#: The first moves for which no second move gained are passed over by the
#: next pair moves, until a kept move changes their agent or a day near
#: theirs (as the rejected moves of :data:`FRESH_ROUNDS`). Search alone from
#: the 40-agent schedule after step 3: a local optimum of 2,251.0 after
#: 65.5 s instead of 2,250.9 after 130.7 s; 40 / 50 / 150 agents at 47 / 20 / 65 s:
#: 2,285.9 / 1,076.6 / 2,940.8 against 2,294.8 / 1,077.6 / 2,941.3. They
#: are passed over before each agent's day's two first moves are chosen (as
#: in the one-agent rounds), so a third is tried: 2,288.2 / 1,077.6 /
#: 2,940.6, and a local optimum of 2,237.0 in 128.9 s from the 40 agents.
PAIR_FIRST_WORSE = 500.0
PAIR_FIRST_TRIED = 200
PAIR_SECOND_TRIED = 10
#: The day move (:mod:`wfm.scheduling.daymove`), tried at a local optimum
#: before the pair move: candidate shifts per agent (the best by the duals,
#: besides its current one, the same a step earlier and later, and none; 0
#: turns the move off), and seconds for its MILP. The search alone from a
#: schedule of 150 agents after step 3, 60 s: 2,920.2 without the move; 3
#: candidates 2,878.2-2,887.3 (four runs), 6: 2,891.2-2,892.8 (four), 10:
#: 2,887.0 (the smaller MILPs leave time for more days); 2 s for the MILP
#: instead of 3: 2,905.2. ``schedule()`` at 150 agents in 120 s with 5
#: candidates: 2,880.3 twice, against 2,871.3-2,873.4 with 3.
#: Two days in a row chosen together (every agent's combinations of the
#: two days' candidates that keep its contract, the 10 best by the duals;
#: the same MILP) find nothing at the search's local optimum of 2,867.8
#: (also with 8 candidates a day and 40 combinations; each MILP about 1 s),
#: so there is no such move.
DAY_MOVE_CHOICES = 3
DAY_MOVE_SECONDS = 3.0
#: Two rounds of one-agent moves in a row that tried all their moves (not
#: ended early to refresh the duals) and gained less than this each are
#: followed by a day move too, before the local optimum, whose last rounds
#: gain tenths. 150 agents, ``schedule()`` in 120 s: 2,871.5 and 2,872.0
#: (without: 2,872.5-2,882.4, mostly 2,882). After any one such round:
#: 2,869.0-2,870.4 (three runs), but 50 agents with CBC, whose search has
#: 11 s from a schedule four times its end, then ended at 1,431.1-1,436.3
#: against 1,155.5.
#: The search alone as above, 60 s: 2,881.4 and 2,882.2 (after one round:
#: 2,871.2).
DAY_MOVE_EARLY = 1.5


@dataclass
class ImproveResult:
    """Outcome of :func:`improve_schedule`."""

    shifts: dict[int, list[int]]
    options: dict[tuple[int, int], int]
    quota: dict[tuple[int, int], dict[int, float]]
    objective_start: float
    objective: float
    tried: int = 0
    accepted: int = 0
    rounds: int = 0
    seconds: float = 0.0
    stopped: str = ""
    history: list[tuple[float, float]] = field(default_factory=list)
    pair_moves: int = 0


def pair_matrix(cat: ShiftCatalog) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """Every (shift type, break option) pair as a row of a sparse presence matrix.

    Returns ``(N, pair_type, pair_opt, first)``: ``N[p, t]`` is the share of
    interval ``t`` worked (on shift, not on break) by pair ``p``, and the
    pairs of shift type ``s`` are rows ``first[s]`` to ``first[s + 1] - 1``.
    """
    pairs: list[tuple[int, int]] = []
    first = np.zeros(cat.n_types + 1, dtype=np.int64)
    data, rows_i, cols_i = [], [], []
    for s in range(cat.n_types):
        first[s] = len(pairs)
        for j in range(len(cat.pool_breaks[int(cat.pool[s])])):
            idx, sh = net_presence(cat, s, j)
            rows_i.extend([len(pairs)] * idx.size)
            cols_i.extend(idx.tolist())
            data.extend(sh.tolist())
            pairs.append((s, j))
    first[cat.n_types] = len(pairs)
    N = sp.csr_matrix((data, (rows_i, cols_i)), shape=(len(pairs), cat.n_intervals))
    pair_type = np.array([p[0] for p in pairs], dtype=np.int64)
    pair_opt = np.array([p[1] for p in pairs], dtype=np.int64)
    return N, pair_type, pair_opt, first


def shift_cost_function(agents: list[Agent], cat: ShiftCatalog, weights: SchedulingWeights
                        ) -> Callable[[int, int], float]:
    """``cost(a, s)``: labour and unmet preferences of agent ``a`` working shift type ``s``."""
    cost_f = agent_cost_factor(agents)

    def shift_cost(a: int, s: int) -> float:
        miss, _ = preference_misses(agents[a], cat, s)
        return (weights.labour_cost * float(cost_f[a]) * cat.paid[s] / 60.0
                + weights.preference * miss)

    return shift_cost


def _may_work(ag: Agent, week: list[int], catalog: ShiftCatalog, rest: int,
              paid_now: float | None) -> bool:
    """Whether a move may leave ``ag`` working ``week``.

    ``paid_now`` is given (the paid minutes the agent works now) for an agent
    already below its minimum hours: it may not lose hours, and the minimum
    is not checked; otherwise every rule of :func:`valid_week` applies.
    """
    if paid_now is None:
        return valid_week(ag, week, catalog, rest)
    return valid_week(ag, week, catalog, rest, min_hours=False) and \
        sum(int(catalog.paid[x]) for x in week) >= paid_now


def _realtime_cost(required: np.ndarray, heads: np.ndarray, widths: np.ndarray,
                   slopes: np.ndarray, w_under: float, w_over: float) -> np.ndarray:
    return (under_penalty(required, heads, widths, slopes, w_under)
            + w_over * np.maximum(0.0, heads - required))


def _estimate(csr: sp.csr_matrix, add: np.ndarray, rem: np.ndarray, p_old: int | None,
              p_new: int | None) -> float:
    """Estimated coverage cost of one head of a group leaving pair ``p_old`` for ``p_new``.

    ``add``/``rem`` are the group's per-interval estimates of
    :meth:`_CoverageLP.estimates`; the pairs are rows of the presence matrix.
    """
    idx = []
    sh = []
    for p, sign in ((p_old, -1.0), (p_new, 1.0)):
        if p is not None:
            lo, hi = csr.indptr[p], csr.indptr[p + 1]
            idx.append(csr.indices[lo:hi])
            sh.append(sign * csr.data[lo:hi])
    if not idx:
        return 0.0
    u, inv = np.unique(np.concatenate(idx), return_inverse=True)
    net = np.bincount(inv, weights=np.concatenate(sh))
    return float(np.where(net > 0, net * add[u], -net * rem[u]).sum())


def cheapest_week(cost: np.ndarray, types: np.ndarray, ag: Agent, cat: ShiftCatalog,
                  rest: int, block_min: list[float], off_cost: np.ndarray | None = None
                  ) -> tuple[float, list[int]] | None:
    """The cheapest week of ``ag`` from the options ``types`` (exact).

    ``cost[i]`` is the cost of working ``types[i]`` (a shift type may be
    listed more than once, e.g. with different break options);
    ``off_cost[d]`` the cost of day ``d`` off (default 0); ``block_min[b]``
    the least paid minutes in week block ``b`` (:func:`week_blocks`). Every other
    rule of :func:`~wfm.scheduling.assign.valid_week` holds: one shift a day,
    at most ``max_hours`` and ``max_days`` per block, ``max_consecutive``
    days in a row, ``rest`` minutes between shifts. Dynamic programming over
    the days with the state (paid time in the block, days worked in it, run
    of consecutive days, the shift of the day before); the rest rule is a
    threshold on the previous shift's end, so each day's shifts are ordered
    by end and the cheapest allowed predecessor is a running minimum.
    Returns ``(cost, positions in types of the shifts worked)`` or None when
    no week keeps the rules.
    """
    paid = cat.paid[types].astype(np.int64)
    unit = int(np.gcd.reduce(np.concatenate([paid[paid > 0], [60]])))
    h_max = int(np.floor(ag.max_hours * 60.0 / unit + 1e-9))
    nd_n = ag.max_days + 1
    n_days = len(cat.days)
    run_n = min(ag.max_consecutive, n_days) + 1
    blocks = week_blocks(n_days)
    closes = {bdays[-1]: b for b, (bdays, _share) in enumerate(blocks)}
    inf = np.inf
    day_of = cat.day[types]
    start = cat.start_abs[types].astype(np.int64)
    end = cat.end_abs[types].astype(np.int64)
    never = -(10 ** 12)
    # costs (paid units, days, run, k): k = 0 no shift that day, k > 0 the
    # day's k-th shift by end
    layer = np.full((h_max + 1, nd_n, run_n, 1), inf)
    layer[0, 0, 0, 0] = 0.0
    ends = np.array([never], dtype=np.int64)
    raws, closed, opts_of = [], [], []
    for d in range(n_days):
        on = np.flatnonzero(day_of == d)
        on = on[np.argsort(end[on], kind="stable")]
        opts_of.append(on)
        new = np.full((h_max + 1, nd_n, run_n, on.size + 1), inf)
        new[:, :, 0, 0] = layer.min(axis=(2, 3)) + (0.0 if off_cost is None else off_cost[d])
        if on.size:
            pm = np.minimum.accumulate(layer, axis=3)
            last = np.searchsorted(ends, start[on] - rest, side="right") - 1
            for i, k in enumerate(on):
                p = int(paid[k]) // unit
                if p > h_max or last[i] < 0:
                    continue
                new[p:, 1:, 1:, i + 1] = pm[:h_max + 1 - p, :-1, :-1, last[i]] + cost[k]
        raws.append(new)
        if d in closes:
            # the block ends: keep its minimum, start the next from zero
            floor = int(np.ceil((block_min[closes[d]] - 1e-6) / unit))
            shut = np.full_like(new, inf)
            if floor <= h_max:
                shut[0, 0] = new[max(floor, 0):].min(axis=(0, 1))
            new = shut
        closed.append(new)
        layer = new
        ends = np.concatenate([[never], end[on]])
    best = float(layer.min())
    if not np.isfinite(best):
        return None
    # back through the days
    week = []
    d = n_days - 1
    run_k = np.unravel_index(int(np.argmin(layer[0, 0])), layer.shape[2:])
    state = _open_block(raws[d], block_min[closes[d]], unit, run_k)
    while True:
        h, nd, r, k = state
        if k > 0:
            s = opts_of[d][k - 1]
            week.append(int(s))
            h, nd, r = h - int(paid[s]) // unit, nd - 1, r - 1
            if d == 0:
                break
            prev_ends = np.concatenate([[never], end[opts_of[d - 1]]])
            lim = int(np.searchsorted(prev_ends, start[s] - rest, side="right"))
            prev = (h, nd, r, int(np.argmin(closed[d - 1][h, nd, r, :lim])))
        else:
            if d == 0:
                break
            sub = closed[d - 1][h, nd]
            rr, kk = np.unravel_index(int(np.argmin(sub)), sub.shape)
            prev = (h, nd, int(rr), int(kk))
        d -= 1
        if d in closes:
            prev = _open_block(raws[d], block_min[closes[d]], unit, prev[2:])
        state = prev
    return best, sorted(week)


def _open_block(raw: np.ndarray, minimum: float, unit: int, run_k: tuple
                ) -> tuple[int, int, int, int]:
    """The (paid, days) a closed block came from: the cheapest allowed for ``run_k``."""
    floor = max(int(np.ceil((minimum - 1e-6) / unit)), 0)
    sub = raw[floor:, :, int(run_k[0]), int(run_k[1])]
    hh, nd = np.unravel_index(int(np.argmin(sub)), sub.shape)
    return (int(hh) + floor, int(nd), int(run_k[0]), int(run_k[1]))


def _week_candidate(a: int, ag: Agent, by_day: dict[int, int], sel: np.ndarray,
                    sel_day: np.ndarray, gain: np.ndarray, costs: np.ndarray,
                    pair_type: np.ndarray, options: dict[tuple[int, int], int],
                    add: np.ndarray, rem: np.ndarray, N: sp.csr_matrix,
                    pair_of: Callable[[int, int], int], shift_cost: Callable[[int, int], float],
                    cat: ShiftCatalog, rest: int, below_min: bool
                    ) -> tuple[float, int, list[tuple[int | None, int]]] | None:
    """The agent's best week by the estimates, as a move changing two or more days (or None).

    ``sel`` are the agent's compatible (shift type, break option) pairs,
    ``gain`` their cost by the duals and ``costs`` their labour and
    preference cost; ``add``/``rem`` the group's estimates per interval.
    """
    day_opts, day_pairs = [], []
    for d in range(len(cat.days)):
        s0 = by_day.get(d)
        p0 = None if s0 is None else pair_of(s0, options[(a, s0)])
        c0 = 0.0 if s0 is None else shift_cost(a, s0)
        opts = [(0.0, -1 if s0 is None else s0)]
        prs = [-1 if p0 is None else p0]
        if s0 is not None:
            opts.append((_estimate(N, add, rem, p0, None) - c0, -1))
            prs.append(-1)
        on_d = np.flatnonzero(sel_day == d)
        for i in on_d[np.argsort(gain[on_d], kind="stable")[:WEEK_CHOICES_PER_DAY]]:
            p = int(sel[i])
            if p == p0:
                continue
            opts.append((_estimate(N, add, rem, p0, p) - c0 + float(costs[i]),
                         int(pair_type[p])))
            prs.append(p)
        day_opts.append(opts)
        day_pairs.append(prs)
    block_min = []
    for bdays, share in week_blocks(len(cat.days)):
        floor = ag.min_hours * share * 60.0
        if below_min:
            floor = min(floor, sum(float(cat.paid[s]) for d, s in by_day.items() if d in bdays))
        block_min.append(floor)
    # every day has one option off (the day kept free, or its shift removed)
    at = [(d, k) for d, opts in enumerate(day_opts) for k, (_c, s) in enumerate(opts) if s >= 0]
    off_k = [next(k for k, (_c, s) in enumerate(opts) if s < 0) for opts in day_opts]
    best = cheapest_week(np.array([day_opts[d][k][0] for d, k in at]),
                         np.array([day_opts[d][k][1] for d, k in at], dtype=np.int64),
                         ag, cat, rest, block_min,
                         np.array([opts[k][0] for opts, k in zip(day_opts, off_k)]))
    if best is None or best[0] >= -MIN_PREDICTED_GAIN:
        return None
    est, worked = best
    choice = list(off_k)
    for i in worked:
        d, k = at[i]
        choice[d] = k
    changes = [(by_day.get(d), day_pairs[d][k]) for d, k in enumerate(choice) if k != 0]
    if len(changes) < 2:
        return None      # one day: the day moves cover it
    week = [by_day[d] for d, k in enumerate(choice) if k == 0 and d in by_day]
    week += [day_opts[d][k][1] for d, k in enumerate(choice) if k != 0 and day_opts[d][k][1] >= 0]
    if not valid_week(ag, week, cat, rest, min_hours=not below_min):
        return None
    return (est, a, changes)


def _reassign_days(groups: list[Group], agents: list[Agent], shifts: dict[int, list[int]],
                   options: dict[tuple[int, int], int], catalog: ShiftCatalog, rest: int,
                   below_min: set[int], shift_cost: Callable[[int, int], float]) -> float:
    """Hand each group's shifts of a day to its members at least labour and preference cost.

    The shifts (with their break options) of a group and day stay the same,
    so the coverage does not change; each is given to the member for whom it
    costs least (hourly cost, preferences), by an assignment problem in which
    a member may take a shift only if the week stays within every rule of
    the contract. Changes ``shifts`` and ``options`` in place; returns the
    cost saved.
    """
    day_of = catalog.day
    saved = 0.0
    for grp in groups:
        members = list(grp.members)
        for d in range(len(catalog.days)):
            held = [(a, s) for a in members for s in shifts.get(a, []) if int(day_of[s]) == d]
            if not held or len(members) < 2:
                continue
            cols = [(s, options[(a, s)]) for a, s in held]
            kinds = sorted({s for s, _j in cols})
            n_off = len(members) - len(cols)
            big = 1e9
            cost_s = np.full((len(members), len(kinds)), big)
            cost_off = np.full(len(members), big)
            now = 0.0
            for i, a in enumerate(members):
                ag = agents[a]
                mine = shifts.get(a, [])
                others = [x for x in mine if int(day_of[x]) != d]
                paid_now = sum(int(catalog.paid[x]) for x in mine) if a in below_min else None
                now += sum(shift_cost(a, x) for x in mine if int(day_of[x]) == d)
                for k, s in enumerate(kinds):
                    if grp.compat[i, s] and _may_work(ag, [*others, s], catalog, rest,
                                                           paid_now):
                        cost_s[i, k] = shift_cost(a, s)
                if n_off and _may_work(ag, others, catalog, rest, paid_now):
                    cost_off[i] = 0.0
            kind_of = [kinds.index(s) for s, _j in cols]
            matrix = np.concatenate([cost_s[:, kind_of],
                                     np.repeat(cost_off[:, None], n_off, axis=1)], axis=1)
            rows_i, cols_i = linear_sum_assignment(matrix)
            total = float(matrix[rows_i, cols_i].sum())
            if total >= big or total >= now - 1e-6:
                continue
            for a, s in held:
                shifts[a] = [x for x in shifts[a] if x != s]
                del options[(a, s)]
            for i, c in zip(rows_i, cols_i):
                if c < len(cols):
                    a = members[i]
                    s, j = cols[c]
                    shifts.setdefault(a, []).append(s)
                    shifts[a].sort()
                    options[(a, s)] = j
            saved += now - total
    return saved


class CoverageLPError(RuntimeError):
    """The coverage LP did not solve to optimality."""


class _CoverageLP:
    """The coverage LP for fixed heads per group and interval, re-solved warm."""

    def __init__(self, demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                 present: np.ndarray, weights: SchedulingWeights, threads: int | None):
        T = catalog.n_intervals
        prob = pulp.LpProblem("wfm_improve", pulp.LpMinimize)
        obj: dict = {}
        active = {}
        for g, grp in enumerate(groups):
            can = np.zeros(T, dtype=bool)
            for s in np.flatnonzero(grp.compat.any(axis=0)) if grp.compat is not None else ():
                can[catalog.presence[s][0]] = True
            can |= present[g] > 1e-9
            active[g] = np.flatnonzero(can)
        cov = add_coverage(prob, demand, groups, active, weights, obj)
        cons = add_heads_rows(prob, groups, active, cov, present)
        prob.setObjective(pulp.LpAffineExpression(obj))
        rep = solve(prob, "highs", mip=False, threads=threads)
        if rep.status != "optimal":
            raise CoverageLPError(rep.status)
        self.h = prob.solverModel
        self.h.setOptionValue("presolve", "off")
        self.row = np.full((len(groups), T), -1, dtype=np.int32)
        for (g, t), con in cons.items():
            self.row[g, t] = con.index
        self.x = {k: v.index for k, v in cov.x.items()}
        keys = np.array(list(self.x), dtype=np.int64).reshape(-1, 3)
        self.xg, self.xt, self.xc = keys[:, 0], keys[:, 1], keys[:, 2]
        self.xi = np.array(list(self.x.values()), dtype=np.int64)
        self.backlog_cols = {k: v.index for k, v in cov.backlog.items()}
        self.demand, self.weights = demand, weights
        self.skills = [list(grp.skills) for grp in groups]
        self.present = present.copy()
        self.objective = float(self.h.getInfo().objective_function_value)
        self.dirty = False

    def twin(self) -> _CoverageLP:
        """A second LP of the same heads, solved from this one's basis (for a second thread)."""
        self._solve()
        other = copy.copy(self)
        h = highspy.Highs()
        h.passOptions(self.h.getOptions())
        h.passModel(self.h.getLp())
        h.setBasis(self.h.getBasis())
        other.h = h
        other.present = self.present.copy()
        other.dirty = True
        other._solve()
        return other

    def duals(self) -> np.ndarray:
        self._solve()
        rd = np.asarray(self.h.getSolution().row_dual)
        out = np.zeros(self.row.shape)
        ok = self.row >= 0
        out[ok] = rd[self.row[ok]]
        return out

    def change(self, g: int, idx: np.ndarray, delta: np.ndarray, solve: bool = True,
               cutoff: float | None = None) -> float:
        """Add ``delta`` heads of group ``g`` at intervals ``idx``; the new objective.

        With ``solve=False`` (undoing a rejected move) the LP is re-solved
        only when next needed: the objective is known, and the last basis
        stays dual feasible whatever the right-hand sides, so the next solve
        starts warm from it.

        With a ``cutoff`` the solve stops as soon as the new objective is
        known to be at least ``cutoff`` (the dual simplex's objective only
        rises towards the optimum), and the objective returned is then
        infinite: a move that cannot gain is rejected without being solved
        to the end.
        """
        self.present[g, idx] += delta
        rows = self.row[g, idx]
        if (rows < 0).any():
            raise RuntimeError("internal: a move reaches an interval outside its group's rows")
        vals = self.present[g, idx]
        self.h.changeRowsBounds(len(rows), rows, vals, vals)
        self.dirty = True
        if solve:
            self._solve(cutoff)
        return self.objective

    def _solve(self, cutoff: float | None = None) -> None:
        if not self.dirty:
            return
        if cutoff is None:
            self.h.run()
        else:
            self.h.setOptionValue("objective_bound", cutoff)
            try:
                self.h.run()
            finally:
                self.h.setOptionValue("objective_bound", highspy.kHighsInf)
        status = self.h.getModelStatus()
        if cutoff is not None and status == highspy.HighsModelStatus.kObjectiveBound:
            self.objective = float("inf")            # dirty: not solved to the end
            return
        if status != highspy.HighsModelStatus.kOptimal:
            raise CoverageLPError(self.h.modelStatusToString(status))
        self.objective = float(self.h.getInfo().objective_function_value)
        self.dirty = False

    def estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """Estimated cost of one more head, and of one head less, per group and interval.

        Realtime channels: the exact change of the channel's penalty with
        everybody else's allocation kept; deferred channels: the LP's
        marginal value of capacity there (from the reduced cost of the
        group's allocation column and the dual of its heads row). A new head
        goes to the group's channel where it helps most, a head taken away
        leaves the channel where it is missed least among those the group
        staffs with at least one head (else the one it staffs most).
        """
        self._solve()
        dem, w = self.demand, self.weights
        sol = self.h.getSolution()
        col = np.asarray(sol.col_value)
        rc = np.asarray(sol.col_dual)
        rd = np.asarray(sol.row_dual)
        G, T = self.row.shape
        C = len(dem.channels)
        X = np.zeros((G, T, C))
        X[self.xg, self.xt, self.xc] = col[self.xi]
        y = X.sum(axis=0).T
        m_add = np.zeros((C, T))
        m_rem = np.zeros((C, T))
        widths, slopes = under_segments(w)
        ih = dem.interval_hours
        # capacity value on deferred channels: -dual of the channel's work row
        # = reduced cost of x[g, t, c] + dual of the heads row (g, t)
        cap_value = rc[self.xi] + rd[self.row[self.xg, self.xt]]
        for c in range(C):
            if dem.is_deferred(c):
                on_c = self.xc == c
                v = np.zeros(T)
                v[self.xt[on_c]] = cap_value[on_c]
                m_add[c], m_rem[c] = v, -v
                continue
            r = dem.required[c]
            wu = w.under_coverage * float(dem.priority[c]) * ih
            wo = w.over_coverage * ih

            f0 = _realtime_cost(r, y[c], widths, slopes, wu, wo)
            m_add[c] = _realtime_cost(r, y[c] + 1.0, widths, slopes, wu, wo) - f0
            m_rem[c] = _realtime_cost(r, np.maximum(0.0, y[c] - 1.0), widths, slopes, wu,
                                      wo) - f0
        add = np.zeros((G, T))
        rem = np.zeros((G, T))
        for g, sk in enumerate(self.skills):
            add[g] = m_add[sk].min(axis=0)
            xs = X[g][:, sk].T                                   # (skills, T)
            full = np.where(xs >= 1.0 - 1e-6, m_rem[sk], np.inf).min(axis=0)
            most = m_rem[sk][xs.argmax(axis=0), np.arange(T)]
            rem[g] = np.where(np.isfinite(full), full, most)
        return add, rem

    def backlog(self) -> np.ndarray:
        """Deferred work waiting after each interval, per channel (C, T)."""
        self._solve()
        col = np.asarray(self.h.getSolution().col_value)
        out = np.zeros((len(self.demand.channels), self.row.shape[1]))
        for (c, t), i in self.backlog_cols.items():
            out[c, t] = col[i]
        return out

    def quota(self) -> dict[tuple[int, int], dict[int, float]]:
        self._solve()
        col = np.asarray(self.h.getSolution().col_value)
        out: dict[tuple[int, int], dict[int, float]] = {}
        for (g, t, c), i in self.x.items():
            q = float(col[i])
            if q > 1e-9:
                out.setdefault((g, t), {})[c] = q
        return out


@dataclass
class _Trial:
    """One agent's changes, made in one of the search's coverage LPs."""

    lp: _CoverageLP
    group: int
    idx: np.ndarray
    delta: np.ndarray
    dcost: float        # the changes' own cost (labour, preferences)

    def gains(self, before: float) -> bool:
        """Whether the LP's objective with the changes' own cost is below ``before``."""
        return self.lp.objective + self.dcost < before - 1e-6

    def undo(self, objective: float) -> None:
        """Take the changes back out (the LP re-solved when next needed) at ``objective``."""
        self.lp.change(self.group, self.idx, -self.delta, solve=False)
        self.lp.objective = objective


def improve_schedule(demand: Demand, catalog: ShiftCatalog, groups: list[Group],
                     agents: list[Agent], shifts: dict[int, list[int]],
                     options: dict[tuple[int, int], int], weights: SchedulingWeights,
                     min_rest_hours: float, *, time_limit: float | None = None,
                     threads: int | None = None, max_rounds: int | None = None,
                     target: Callable[[], float | None] | None = None,
                     progress: Callable[[str], None] | None = None) -> ImproveResult:
    """Improve a named schedule by moves of one agent's shifts.

    A move changes one agent's day (another shift type or break option, a
    shift dropped or added), moves one of the agent's shifts to a free day,
    or changes several of its days at once (the week move). Moves are tried
    in the order the coverage LP's duals predict; a move tried and rejected
    is passed over in the next rounds (up to :data:`FRESH_ROUNDS` of them
    without a kept move), which try the next predictions. At a local
    optimum a group's shifts of a day are exchanged between its members,
    then every agent's shift on one day is chosen together (the day move,
    also after two rounds in a row that gained little), and then two
    agents' days are changed together (the pair move).

    Parameters
    ----------
    shifts : dict
        Agent index -> shift types worked (every contract rule holds).
    options : dict
        ``(agent, shift type) -> break option`` of every worked shift.
    time_limit : float, optional
        Seconds for the search; without it the search runs to a local optimum
        (or ``max_rounds``).
    threads : int, optional
        HiGHS threads; unless 1 (and on more than one core), a second thread
        tries every other move in a twin of the coverage LP.
    target : callable, optional
        Asked at the start of each round: an objective at which the search
        stops (``stopped == "gap reached"``), e.g. the requested gap above
        the best bound known by then, or None to go on.

    Returns
    -------
    ImproveResult
        The improved shifts and break options, and the group channel quotas
        of the result (``(group, interval) -> channel -> heads``).

    Raises
    ------
    CoverageLPError
        The coverage LP of the given schedule could not be solved.
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    rest = round(min_rest_hours * 60)
    cat = catalog
    G, T = len(groups), cat.n_intervals
    group_of = {a: g for g, grp in enumerate(groups) for a in grp.members}
    row_of = {a: mi for grp in groups for mi, a in enumerate(grp.members)}
    shifts = {a: list(ss) for a, ss in shifts.items() if ss}
    options = {(a, s): options[(a, s)] for a, ss in shifts.items() for s in ss}

    N, pair_type, pair_opt, first = pair_matrix(cat)
    shift_cost = shift_cost_function(agents, cat, weights)

    def pair_of(s: int, j: int) -> int:
        return int(first[s] + j)

    def pair_cost_of(a: int, p: int) -> float:
        return shift_cost(a, int(pair_type[p]))

    def present_of(shifts: dict[int, list[int]], options: dict) -> np.ndarray:
        present = np.zeros((G, T))
        for a, ss in shifts.items():
            for s in ss:
                r = N.getrow(pair_of(s, options[(a, s)]))
                present[group_of[a], r.indices] += r.data
        return present

    fixed_cost = sum(shift_cost(a, s) for a, ss in shifts.items() for s in ss)
    lp = _CoverageLP(demand, cat, groups, present_of(shifts, options), weights, threads)
    # a second thread tries moves in a twin LP (HiGHS releases the GIL)
    twin = lp.twin() if threads != 1 and (os.cpu_count() or 1) > 1 else None
    lps = [lp] if twin is None else [lp, twin]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wfm-improve") \
        if twin is not None else None
    current = lp.objective + fixed_cost
    start_obj = current
    history = [(0.0, current)]
    # per agent: compatible pairs, their costs
    comp_pairs: dict[int, np.ndarray] = {}
    pair_cost: dict[int, np.ndarray] = {}
    pair_day: dict[int, np.ndarray] = {}
    pair_on_day: dict[int, list[np.ndarray]] = {}      # positions in comp_pairs, per day
    below_min = {a for a, ag in enumerate(agents)
                 if not valid_week(ag, shifts.get(a, []), cat, rest, min_hours=True)}
    tried = accepted = rounds = pair_moves = fresh_rounds = 0
    stopped = "local optimum"

    def pairs_of(a: int) -> None:
        """Cache agent ``a``'s compatible (shift type, break option) pairs, their days and costs."""
        if a not in comp_pairs:
            ok = groups[group_of[a]].compat[row_of[a]]
            sel = np.flatnonzero(ok[pair_type])
            comp_pairs[a] = sel
            pair_day[a] = cat.day[pair_type[sel]]
            pair_on_day[a] = [np.flatnonzero(pair_day[a] == d) for d in range(len(cat.days))]
            tc = np.array([shift_cost(a, s) for s in range(cat.n_types)])
            pair_cost[a] = tc[pair_type[sel]]

    # agent -> (shift left or None, shift taken or None) -> whether the agent
    # may work its week with that change; forgotten when its shifts change
    works: dict[int, dict[tuple[int | None, int | None], bool]] = {}
    # (agent, changes) -> days changed, of the moves tried and rejected: the
    # next round passes over them and tries the next predictions (the duals
    # mispredict: at a local optimum of the first predictions the next ones
    # may still gain). Forgotten when a kept move changes the agent or a day
    # within one of theirs.
    rejected: dict[tuple[int, tuple[tuple[int | None, int], ...]], set[int]] = {}
    # likewise the first moves of pair moves for which no second move gained
    first_failed: dict[tuple[int, tuple[tuple[int | None, int], ...]], set[int]] = {}
    # days whose day move found nothing, until a kept move changes them or a
    # day either side
    day_failed: set[int] = set()
    day_next = 0
    day_overhead = 1.0      # seconds of a day move besides its MILP (the last one's)
    low_rounds = 0          # rounds in a row that tried all their moves and gained little

    def days_of(changes: list[tuple[int | None, int]]) -> set[int]:
        return {int(cat.day[s0 if p < 0 else int(pair_type[p])]) for s0, p in changes}

    def key_of(a: int, changes: list[tuple[int | None, int]]
               ) -> tuple[int, tuple[tuple[int | None, int], ...]]:
        return (a, tuple(changes))

    def remember(memo: dict, a: int, changes: list[tuple[int | None, int]]) -> None:
        memo[key_of(a, changes)] = days_of(changes)

    def may_work(a: int, s0: int | None, s_new: int | None, week: list[int],
                 paid_now: float | None) -> bool:
        """:func:`_may_work` for agent ``a``'s week with ``s0`` replaced by ``s_new``, cached."""
        memo = works.setdefault(a, {})
        ok = memo.get((s0, s_new))
        if ok is None:
            ok = memo[(s0, s_new)] = _may_work(agents[a], week, cat, rest, paid_now)
        return ok

    def agent_day(a: int, d: int) -> tuple[int | None, list[int], float | None]:
        """Agent ``a``'s shift on day ``d`` (or None), its other shifts, and its
        paid minutes where it is below its minimum hours (else None, see
        :func:`_may_work`)."""
        mine = shifts.get(a, [])
        s0 = next((s for s in mine if int(cat.day[s]) == d), None)
        paid_now = sum(int(cat.paid[x]) for x in mine) if a in below_min else None
        return s0, [s for s in mine if s != s0], paid_now

    def day_moves(a: int, d: int, val: np.ndarray, gain: np.ndarray, add_est: np.ndarray,
                  rem_est: np.ndarray, limit: float, checked: int,
                  skip_moves: dict | None = None) -> list[tuple[float, int | None, int]]:
        """Agent ``a``'s valid moves on day ``d`` predicted by the duals below ``limit``.

        ``gain`` is the predicted cost of each of the agent's pairs (its own
        cost plus the duals). The first ``checked`` moves that keep the
        contract, in order of predicted change (the 30 best pairs, and the
        day's shift dropped), as ``(estimate, shift left or None, pair or -1
        for a drop)``, the estimate from :meth:`_CoverageLP.estimates`.
        Moves in ``skip_moves`` (``rejected`` or ``first_failed``) are
        passed over.
        """
        g = group_of[a]
        sel = comp_pairs[a]
        s0, others, paid_now = agent_day(a, d)
        base = 0.0
        p_old = None
        c0 = 0.0
        if s0 is not None:
            p_old = pair_of(s0, options[(a, s0)])
            c0 = shift_cost(a, s0)
            base = c0 + float(val[p_old, g])
        on_d = pair_on_day[a][d]
        moves = []
        delta = gain[on_d] - base
        if on_d.size and delta.min() < limit:
            first30 = np.argsort(delta, kind="stable")[:30]
            moves = [(float(delta[k]), int(sel[on_d[k]])) for k in first30
                     if delta[k] < limit and int(sel[on_d[k]]) != p_old]
        if s0 is not None and -base < limit:
            moves.append((-base, -1))                # drop the day's shift
        moves.sort()
        out = []
        for _pred, p in moves:
            if skip_moves and key_of(a, [(s0, p)]) in skip_moves:
                continue
            s_new = None if p < 0 else int(pair_type[p])
            week = others + ([] if s_new is None else [s_new])
            if (s_new is None or s_new != s0) and not may_work(a, s0, s_new, week, paid_now):
                continue
            est = _estimate(N, add_est[g], rem_est[g], p_old, None if p < 0 else p) - c0 \
                + (0.0 if p < 0 else float(pair_cost_of(a, p)))
            out.append((est, s0, p))
            if len(out) >= checked:
                break
        return out

    def try_move(a: int, changes: list[tuple[int | None, int]], below: float | None = None,
                 on: _CoverageLP | None = None, resolve: bool = True) -> _Trial:
        """Make agent ``a``'s changes in the LP ``on`` (default: ``lp``), re-solved.

        With ``below``, the LP is solved to the end only when the objective
        with the changes' own cost may be below it (else its objective is
        infinite). ``resolve=False``: not re-solved (more changes follow).
        """
        g = group_of[a]
        diff = np.zeros(T)
        dcost = 0.0
        for s0, p in changes:
            if s0 is not None:
                r = N.getrow(pair_of(s0, options[(a, s0)]))
                diff[r.indices] -= r.data
                dcost -= shift_cost(a, s0)
            if p >= 0:
                r = N.getrow(p)
                diff[r.indices] += r.data
                dcost += shift_cost(a, int(pair_type[p]))
        idx = np.flatnonzero(np.abs(diff) > 1e-12)
        trial = _Trial(lp if on is None else on, g, idx, diff[idx], dcost)
        trial.lp.change(g, idx, trial.delta, solve=resolve,
                        cutoff=None if below is None else below - dcost)
        return trial

    def keep_move(a: int, changes: list[tuple[int | None, int]], trial: _Trial,
                  last: bool = True) -> None:
        """Record agent ``a``'s changes, made in an LP by :func:`try_move`.

        The other LP (with two threads) gets them too. ``last=False``:
        another agent's changes are in the LP too and are recorded next; the
        objective is only in the history after them.
        """
        nonlocal fixed_cost, current
        for other in lps:
            if other is not trial.lp:
                other.change(trial.group, trial.idx, trial.delta, solve=False)
                other.objective = trial.lp.objective
        mine = list(shifts.get(a, []))
        for s0, _p in changes:
            if s0 is not None:
                mine.remove(s0)
                del options[(a, s0)]
        for _s0, p in changes:
            if p >= 0:
                s_new = int(pair_type[p])
                mine.append(s_new)
                options[(a, s_new)] = int(pair_opt[p])
        shifts[a] = sorted(mine)
        works.pop(a, None)
        near = {d + k for d in days_of(changes) for k in (-1, 0, 1)}
        for memo in (rejected, first_failed):
            for key in [k for k, ds in memo.items() if k[0] == a or ds & near]:
                del memo[key]
        day_failed.difference_update(near)
        fixed_cost += trial.dcost
        if last:
            current = trial.lp.objective + fixed_cost
            history.append((time.perf_counter() - t0, current))

    def day_moves_all(val: np.ndarray, add_est: np.ndarray, rem_est: np.ndarray,
                      limit: float, checked: int, skip: int | None = None,
                      days: range | None = None, skip_moves: dict | None = None
                      ) -> list[tuple[float, int, int | None, int]]:
        """:func:`day_moves` of every agent but ``skip`` on ``days``, best estimate first."""
        out = []
        for a in range(len(agents)):
            if a == skip or a not in group_of:
                continue
            pairs_of(a)
            gain = pair_cost[a] + val[comp_pairs[a], group_of[a]]
            for d in days or range(len(cat.days)):
                out.extend((est, a, s0, p) for est, s0, p in
                           day_moves(a, d, val, gain, add_est, rem_est, limit, checked,
                                     skip_moves=skip_moves))
        out.sort(key=lambda m: m[0])
        return out

    def pair_move() -> tuple[int, int] | None:
        """At a local optimum: one agent's day changed although it costs, then another's.

        The first move may raise the objective by up to :data:`PAIR_FIRST_WORSE`
        (best estimates first, :data:`PAIR_FIRST_TRIED` of them); after it,
        with the re-solved LP's duals, the other agents' one-day moves that
        are predicted to more than make up for it are tried
        (:data:`PAIR_SECOND_TRIED`). The first pair (or single move, should
        the first one gain after all) that lowers the objective is kept.
        Returns ``(agents moved, moves tried)``, or None when none gains.
        """
        n_tried = 0
        pi = lp.duals()
        val = np.asarray(N @ pi.T)
        add_est, rem_est = lp.estimates()
        firsts = day_moves_all(val, add_est, rem_est, PAIR_FIRST_WORSE, 2,
                               skip_moves=first_failed)
        for _est, a, s0, p in firsts[:PAIR_FIRST_TRIED]:
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                return None
            before = lp.objective
            move_a = try_move(a, [(s0, p)])
            cost_a = move_a.dcost
            n_tried += 1
            after_a = lp.objective
            if move_a.gains(before):
                keep_move(a, [(s0, p)], move_a)
                return 1, n_tried
            val2 = np.asarray(N @ lp.duals().T)
            add2, rem2 = lp.estimates()
            need = -(after_a + cost_a - before)
            # the second move where the first changed the coverage: its day
            # and the days either side (shifts past midnight, backlog carried
            # overnight)
            d = int(cat.day[s0 if p < 0 else int(pair_type[p])])
            near = range(max(0, d - 1), min(len(cat.days), d + 2))
            for _e, b, s0b, pb in day_moves_all(val2, add2, rem2, need, 1, skip=a,
                                                days=near)[:PAIR_SECOND_TRIED]:
                move_b = try_move(b, [(s0b, pb)], below=before - cost_a - 1e-6)
                n_tried += 1
                if move_b.gains(before - cost_a):
                    keep_move(a, [(s0, p)], move_a, last=False)
                    keep_move(b, [(s0b, pb)], move_b)
                    return 2, n_tried
                move_b.undo(after_a)
            move_a.undo(before)
            remember(first_failed, a, [(s0, p)])
        return None

    def day_move() -> int | None:
        """Every agent's shift on one day chosen together (at a local optimum, or
        after rounds that gained little, :data:`DAY_MOVE_EARLY`).

        The days are taken in turn, those whose move found nothing since they
        (or a day either side) last changed passed over. The day's new shifts
        are kept when the schedule's objective drops (re-solved on the whole
        week). Returns the number of agents whose day changed, or None when
        no day's move gains.
        """
        nonlocal day_next, day_overhead
        n_days = len(cat.days)
        pi = lp.duals()
        val = np.asarray(N @ pi.T)
        first_day = day_next
        for k in range(n_days):
            d = (first_day + k) % n_days
            left = DAY_MOVE_SECONDS if time_limit is None else min(
                DAY_MOVE_SECONDS, time_limit - (time.perf_counter() - t0) - day_overhead)
            if left < 1.0:
                return None
            if d in day_failed:
                continue
            day_next = d + 1
            fixed = lp.present.copy()
            agents_in, choices, moves = [], [], []
            for a in range(len(agents)):
                g = group_of.get(a)
                if g is None:
                    continue
                pairs_of(a)
                s0, others, paid_now = agent_day(a, d)
                opts: list[int] = []            # pairs, -1: no shift
                sel = comp_pairs[a]
                on_d = sel[pair_on_day[a][d]]
                if s0 is not None:
                    p0 = pair_of(s0, options[(a, s0)])
                    opts.append(p0)
                    if may_work(a, s0, None, others, paid_now):
                        opts.append(-1)
                    # the same shift started a step earlier and later: moves
                    # that only pay off together are often such small ones,
                    # which the duals do not rank first
                    same = on_d[(cat.paid[pair_type[on_d]] == cat.paid[s0])
                                & (pair_opt[on_d] == options[(a, s0)])]
                    starts = cat.start_abs[pair_type[same]]
                    for side in (same[starts < cat.start_abs[s0]],
                                 same[starts > cat.start_abs[s0]]):
                        if side.size:
                            near_p = int(side[np.argmin(np.abs(
                                cat.start_abs[pair_type[side]] - cat.start_abs[s0]))])
                            s_new = int(pair_type[near_p])
                            if may_work(a, s0, s_new, [*others, s_new], paid_now):
                                opts.append(near_p)
                else:
                    opts.append(-1)
                n_near = len(opts)
                cost = pair_cost[a][pair_on_day[a][d]] + val[on_d, g]
                for i in np.argsort(cost, kind="stable"):
                    if len(opts) >= DAY_MOVE_CHOICES + n_near:
                        break
                    p = int(on_d[i])
                    s_new = int(pair_type[p])
                    if p in opts or (s_new != s0 and not may_work(
                            a, s0, s_new, [*others, s_new], paid_now)):
                        continue
                    opts.append(p)
                if len(opts) < 2:
                    continue
                if s0 is not None:
                    r = N.getrow(opts[0])
                    fixed[g, r.indices] -= r.data
                options_a = []
                for p in opts:
                    if p < 0:
                        options_a.append(None)
                    else:
                        r = N.getrow(p)
                        options_a.append((r.indices, r.data, float(pair_cost_of(a, p))))
                agents_in.append((a, s0))
                choices.append(DayChoice(g, options_a, 0))
                moves.append(opts)
            t_day = time.perf_counter()
            picked, rep = day_milp(demand, groups, weights, fixed, lp.backlog(), choices,
                                   time_limit=left, threads=threads)
            day_overhead = time.perf_counter() - t_day - (0.0 if rep is None else rep.seconds)
            changed = [] if picked is None else [
                (a, [(s0, opts[k])]) for (a, s0), opts, k in zip(agents_in, moves, picked)
                if k != 0]
            if not changed:
                day_failed.add(d)
                continue
            before = lp.objective
            trials = [try_move(a, ch, resolve=i == len(changed) - 1)     # solved once
                      for i, (a, ch) in enumerate(changed)]
            if lp.objective + fixed_cost + sum(tr.dcost for tr in trials) < current - 1e-6:
                for i, ((a, ch), tr) in enumerate(zip(changed, trials)):
                    keep_move(a, ch, tr, last=i == len(trials) - 1)
                return len(changed)
            for tr in reversed(trials):
                tr.undo(before)
            day_failed.add(d)
        return None

    def day_move_kept() -> bool:
        """:func:`day_move` where on (:data:`DAY_MOVE_CHOICES`), counted and reported."""
        nonlocal accepted
        n_moved = day_move() if DAY_MOVE_CHOICES else None
        if n_moved:
            accepted += 1
            say(f"  improve: one day's shifts chosen together ({n_moved} agents moved), "
                f"objective {current:,.1f}")
        return bool(n_moved)

    try:
        while True:
            if max_rounds is not None and rounds >= max_rounds:
                stopped = "round limit"
                break
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                stopped = "time limit"
                break
            goal = None if target is None else target()
            if goal is not None and current <= goal + 1e-9:
                stopped = "gap reached"
                break
            rounds += 1
            round_start = current
            pi = lp.duals()                                  # (G, T)
            val = np.asarray(N @ pi.T)                       # (pairs, G)
            add_est, rem_est = lp.estimates()


            cands = []
            for a, ag in enumerate(agents):
                g = group_of.get(a)
                if g is None:
                    continue
                if time_limit is not None and a % 50 == 0 and \
                        time.perf_counter() - t0 > time_limit:
                    break   # the moves found so far are not tried either
                pairs_of(a)
                sel = comp_pairs[a]
                gain = pair_cost[a] + val[sel, g]            # predicted cost of working the pair
                mine = shifts.get(a, [])
                paid_now = sum(int(cat.paid[x]) for x in mine) if a in below_min else None
                n_before = len(cands)
                by_day = {int(cat.day[s]): s for s in mine}
                sel_day = pair_day[a]
                for d in range(len(cat.days)):
                    best = None
                    for est, s0, p in day_moves(a, d, val, gain, add_est, rem_est,
                                                -MIN_PREDICTED_GAIN, CHECKED_PER_DAY,
                                                skip_moves=rejected):
                        if best is None or est < best[0]:
                            best = (est, a, [(s0, p)])
                    if best is not None:
                        cands.append(best)
                # a shift moved to a free day (kept hours and days when the
                # contract allows no drop or no extra day on its own)
                free_days = [d for d in range(len(cat.days)) if d not in by_day]
                combos = []
                for d2 in free_days:
                    on_d2 = pair_on_day[a][d2]
                    if not on_d2.size:
                        continue
                    i2 = on_d2[np.argmin(gain[on_d2])]
                    for d, s0 in by_day.items():
                        p0 = pair_of(s0, options[(a, s0)])
                        pred = float(gain[i2]) - shift_cost(a, s0) - float(val[p0, g])
                        if pred < -MIN_PREDICTED_GAIN and \
                                key_of(a, [(s0, int(sel[i2]))]) not in rejected:
                            combos.append((pred, s0, int(sel[i2])))
                combos.sort()
                best = None
                for _pred, s0, p in combos[:CHECKED_PER_DAY]:
                    week = [x for x in mine if x != s0] + [int(pair_type[p])]
                    if not may_work(a, s0, int(pair_type[p]), week, paid_now):
                        continue
                    p0 = pair_of(s0, options[(a, s0)])
                    est = _estimate(N, add_est[g], rem_est[g], p0, p) - shift_cost(a, s0) \
                        + float(pair_cost_of(a, p))
                    if best is None or est < best[0]:
                        best = (est, a, [(s0, p)])
                if best is not None:
                    cands.append(best)
                # the agent's best week: several days changed at once (e.g.
                # one shift shortened and another lengthened at minimum hours),
                # for an agent without a one-day move. Measured, search alone
                # from the same start: sample week 28 s / local optimum 8,724 /
                # 8,713 (for every agent: 8,736 / 8,727; never: 8,726 /
                # 8,721); 150 agents 12 s / 22 s 2,958 / 2,953 (every agent:
                # 2,960 / 2,952; never: 2,964 / 2,958)
                if WEEK_CHOICES_PER_DAY and len(cands) == n_before:
                    week_move = _week_candidate(
                        a, ag, by_day, sel, sel_day, gain, pair_cost[a], pair_type,
                        options, add_est[g], rem_est[g], N, pair_of, shift_cost, cat, rest,
                        a in below_min)
                    if week_move is not None and key_of(a, week_move[2]) not in rejected:
                        cands.append(week_move)
            cands.sort(key=lambda c: c[0])
            moved: set[int] = set()
            improved_round = False
            in_round = 0
            queue = [(a, changes) for _est, a, changes in cands]
            i = 0
            cut = False         # ended to refresh the duals, moves left untried
            while i < len(queue):
                a, changes = queue[i]
                i += 1
                if a in moved:
                    continue
                if in_round >= MOVES_PER_ROUND and improved_round:
                    cut = True
                    break   # refresh the duals
                if time_limit is not None and time.perf_counter() - t0 > time_limit:
                    break
                in_round += 1
                before = lp.objective
                # with two threads, the next move is tried at the same time in
                # the twin LP, as if this one is not kept (most are not)
                while twin is not None and i < len(queue) and queue[i][0] in moved:
                    i += 1
                second = None
                if twin is not None and i < len(queue):
                    second = queue[i]
                    i += 1
                    in_round += 1
                    pending = pool.submit(try_move, *second, before - 1e-6, twin)
                first_try = try_move(a, changes, below=before - 1e-6)
                second_try = pending.result() if second is not None else None
                tried += 1
                if first_try.gains(before):
                    if second_try is not None:
                        second_try.undo(before)
                        i -= 1                 # tried again after this one
                        in_round -= 1
                    accepted += 1
                    improved_round = True
                    moved.add(a)
                    keep_move(a, changes, first_try)
                    continue
                first_try.undo(before)
                remember(rejected, a, changes)
                if second_try is None:
                    continue
                tried += 1
                if second_try.gains(before):
                    accepted += 1
                    improved_round = True
                    moved.add(second[0])
                    keep_move(second[0], second[1], second_try)
                else:
                    second_try.undo(before)
                    remember(rejected, *second)
            say(f"  improve: round {rounds}, objective {current:,.1f} ({accepted} of {tried} "
                f"moves kept)")
            fresh_rounds = 0 if improved_round else fresh_rounds + 1
            low_rounds = low_rounds + 1 if not cut and round_start - current < DAY_MOVE_EARLY \
                else 0
            if improved_round and low_rounds >= 2 and day_move_kept():
                continue
            if not improved_round and cands and fresh_rounds <= FRESH_ROUNDS and not (
                    time_limit is not None and time.perf_counter() - t0 > time_limit):
                continue        # the next predictions, passing over the moves tried
            if not improved_round:
                # same shifts, other members: labour and preferences only
                saved = _reassign_days(groups, agents, shifts, options, cat, rest, below_min,
                                       shift_cost)
                works.clear()                       # members' shifts may have changed
                if saved <= 1e-9:
                    if day_move_kept():
                        continue
                    kept = pair_move()
                    if kept is None:
                        if time_limit is not None and time.perf_counter() - t0 > time_limit:
                            stopped = "time limit"
                        break
                    tried += kept[1]
                    accepted += kept[0]
                    pair_moves += kept[0] == 2
                    say(f"  improve: {'two agents moved' if kept[0] == 2 else 'one agent moved'}"
                        f" after {kept[1]} tries, objective {current:,.1f}")
                    continue
                fixed_cost -= saved
                current = lp.objective + fixed_cost
                history.append((time.perf_counter() - t0, current))
                say(f"  improve: shifts exchanged between members, objective {current:,.1f}")
    except CoverageLPError as err:
        # keep the last accepted schedule; its quotas from a fresh LP
        stopped = f"coverage LP failed ({err})"
        lp = _CoverageLP(demand, cat, groups, present_of(shifts, options), weights, threads)
        current = lp.objective + fixed_cost
    finally:
        if pool is not None:
            pool.shutdown()
    return ImproveResult(shifts={a: ss for a, ss in shifts.items() if ss}, options=options,
                         quota=lp.quota(), objective_start=start_obj, objective=current,
                         tried=tried, accepted=accepted, rounds=rounds,
                         seconds=time.perf_counter() - t0, stopped=stopped, history=history,
                         pair_moves=pair_moves)
