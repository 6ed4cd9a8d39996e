"""The scheduler's objective, recomputed from a finished schedule.

Given the heads scheduled per channel and interval (the sum of assignment
fractions) this evaluates exactly the objective the models optimise (see
:mod:`wfm.scheduling.model`): piecewise-linear under-coverage, over-coverage,
and for deferred channels an earliest-deadline-first (= first-in-first-out,
all items of a channel have the same response time) processing of the
arriving work, which for agreeable deadlines completes the most work on
time and so equals the model's optimum for the same capacity. Work that
misses its deadline is reported in the interval where the deadline passes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

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
            cost_under += w_under * late.sum()
            cost_backlog += weights.backlog * ih * ih / float(demand.response_hours[c]) * \
                bl.sum()
        else:
            r = demand.required[c]
            short = np.maximum(0.0, r - y)
            unmet[c] = short
            over[c] = np.maximum(0.0, y - r)
            rest = short.copy()
            for wd, sl in zip(widths, slopes):
                seg = np.minimum(rest, wd * r)
                cost_under += w_under * sl * seg.sum()
                rest = rest - seg
        cost_over += weights.over_coverage * ih * over[c].sum()
    return CoverageOutcome(scheduled, unmet, over, backlog,
                           {"under": cost_under, "over": cost_over, "backlog": cost_backlog})
