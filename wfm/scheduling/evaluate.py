"""The scheduler's objective, recomputed from a finished schedule.

Given the heads scheduled per channel and interval (the sum of assignment
fractions) this evaluates exactly the objective the models optimise (see
:mod:`wfm.scheduling.model`): piecewise-linear under-coverage, over-coverage,
and for deferred channels the backlog model's least cost for those heads
(:func:`deferred_costs`). The reported late work and backlog of deferred
channels come from earliest-deadline-first (= first-in-first-out, all items
of a channel have the same response time) processing, which completes the
most work on time: work that misses its deadline is reported in the interval
where the deadline passes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from wfm.config import SchedulingWeights
from wfm.scheduling.model import Demand, under_segments


@dataclass
class CoverageOutcome:
    """Per channel x interval outcome of a schedule (heads, i.e. agent-intervals).

    Attributes
    ----------
    scheduled : ndarray (C, T)
        Heads working each channel.
    unmet : ndarray (C, T)
        Realtime/concurrent: shortfall below the requirement; deferred: work
        whose deadline passed unfinished in that interval.
    over : ndarray (C, T)
        Heads above the requirement, or capacity on a deferred channel with
        no work waiting.
    backlog : ndarray (C, T)
        Deferred work waiting after the interval.
    costs : dict
        ``under``, ``over``, ``backlog`` objective terms.
    """

    scheduled: np.ndarray
    unmet: np.ndarray
    over: np.ndarray
    backlog: np.ndarray
    costs: dict[str, float]


def fifo_backlog(work: np.ndarray, capacity: np.ndarray, window: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Process deferred work first-in-first-out with a deadline.

    Parameters
    ----------
    work : ndarray
        Work arriving in each interval [agent-intervals].
    capacity : ndarray
        Heads available on the channel in each interval.
    window : int
        Intervals an item may wait including its arrival interval.

    Returns
    -------
    done, late, backlog : ndarray
        Work done, work whose deadline passed (at the deadline interval), and
        work waiting after each interval.
    """
    T = work.size
    done = np.zeros(T)
    late = np.zeros(T)
    backlog = np.zeros(T)
    queue: deque[list] = deque()          # [arrival interval, amount]
    for t in range(T):
        if work[t] > 0:
            queue.append([t, float(work[t])])
        cap = float(capacity[t])
        while queue and cap > 1e-12:
            take = min(cap, queue[0][1])
            queue[0][1] -= take
            cap -= take
            done[t] += take
            if queue[0][1] <= 1e-12:
                queue.popleft()
        while queue and queue[0][0] <= t - window + 1:
            late[t] += queue.popleft()[1]
        backlog[t] = sum(q[1] for q in queue)
    return done, late, backlog


def deferred_costs(work: np.ndarray, heads: np.ndarray, cap: np.ndarray, w_late: float,
                   w_backlog: float, w_idle: float) -> tuple[float, float, float]:
    """Least late, backlog and idle cost of a deferred channel for given heads.

    The backlog model of :func:`wfm.scheduling.model.add_coverage` with the
    heads fixed, solved exactly (a small LP): work done ``d <= heads`` (idle
    capacity ``heads - d`` costs ``w_idle``), backlog ``B_t = B_{t-1} + work_t
    - d_t - m_t`` at most ``cap_t`` (the work of the response window, costing
    ``w_backlog`` per agent-interval waiting), ``m_t`` written off as late
    (``w_late``). Work that will miss its deadline anyway may be written off
    on arrival, which first-in-first-out processing would keep waiting until
    its deadline; so this is the models' objective for the same heads, and
    never above what first-in-first-out processing costs.

    Returns
    -------
    late, backlog, idle : float
        The three costs.
    """
    from scipy.optimize import linprog

    T = work.size
    if T == 0:
        return 0.0, 0.0, 0.0
    eye = sp.identity(T, format="csr")
    lag = sp.eye(T, k=-1, format="csr")
    # variables [d, o, B, m]
    a_eq = sp.vstack([sp.hstack([eye, eye, sp.csr_matrix((T, T)), sp.csr_matrix((T, T))]),
                      sp.hstack([eye, sp.csr_matrix((T, T)), eye - lag, eye])], format="csr")
    b_eq = np.concatenate([heads, work])
    cost = np.concatenate([np.zeros(T), np.full(T, w_idle), np.full(T, w_backlog),
                           np.full(T, w_late)])
    bounds = [(0, None)] * (2 * T) + [(0, max(0.0, float(x))) for x in cap] + [(0, None)] * T
    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"internal: deferred-channel LP failed: {res.message}")
    x = res.x
    return (float(w_late * x[3 * T:].sum()), float(w_backlog * x[2 * T:3 * T].sum()),
            float(w_idle * x[T:2 * T].sum()))


def under_penalty(required: np.ndarray, heads: np.ndarray, widths: np.ndarray,
                  slopes: np.ndarray, weight: float) -> np.ndarray:
    """Piecewise-linear under-coverage cost per interval of a realtime channel.

    The shortfall below ``required`` fills segments of ``widths * required``
    heads at increasing ``slopes`` (times ``weight``); a shortfall beyond the
    last segment, which the models cannot have, is priced at the last slope.
    """
    rest = np.maximum(0.0, required - heads)
    out = np.zeros_like(rest)
    for wd, sl in zip(widths, slopes):
        seg = np.minimum(rest, wd * required)
        out += weight * sl * seg
        rest = rest - seg
    return out + weight * float(slopes[-1]) * rest


def evaluate_coverage(demand: Demand, scheduled: np.ndarray,
                      weights: SchedulingWeights) -> CoverageOutcome:
    """Objective terms of a schedule's per-channel heads.

    Parameters
    ----------
    demand : Demand
    scheduled : ndarray (C, T)
        Heads per channel and interval.
    weights : SchedulingWeights
    """
    C, T = scheduled.shape
    ih = demand.interval_hours
    unmet = np.zeros((C, T))
    over = np.zeros((C, T))
    backlog = np.zeros((C, T))
    widths, slopes = under_segments(weights)
    cost_under = cost_over = cost_backlog = 0.0
    for c in range(C):
        y = scheduled[c]
        w_under = weights.under_coverage * float(demand.priority[c]) * ih
        if demand.is_deferred(c):
            done, late, bl = fifo_backlog(demand.workload[c], y, int(demand.window[c]))
            unmet[c] = late
            over[c] = np.maximum(0.0, y - done)
            backlog[c] = bl
            w_back = weights.backlog * ih * ih / float(demand.response_hours[c])
            u, b, o = deferred_costs(demand.workload[c], y, demand.backlog_cap(c), w_under,
                                     w_back, weights.over_coverage * ih)
            cost_under += u
            cost_backlog += b
            cost_over += o
            continue
        else:
            r = demand.required[c]
            unmet[c] = np.maximum(0.0, r - y)
            over[c] = np.maximum(0.0, y - r)
            cost_under += under_penalty(r, y, widths, slopes, w_under).sum()
        cost_over += weights.over_coverage * ih * over[c].sum()
    return CoverageOutcome(scheduled, unmet, over, backlog,
                           {"under": cost_under, "over": cost_over, "backlog": cost_backlog})
