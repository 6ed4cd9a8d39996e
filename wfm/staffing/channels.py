"""Staffing models per channel kind, on numpy arrays (no pandas).

- **realtime** (phone, video): Erlang C; Erlang A when the channel sets a
  customer patience (:mod:`wfm.staffing.erlang`, :mod:`wfm.staffing.erlang_a`).
- **concurrent** (chat, messaging): one agent handles up to ``k`` sessions at
  once. Model: each agent is ``k`` independent session slots and a session
  holds one slot for ``aht_seconds``, the handle time *as observed while
  agents work concurrently* (so the slow-down from multitasking is already
  in it). Sessions then form an M/M/(N k) queue (M/M/(N k)+M with
  patience): ``agents = servers / k``. Assumption: agents always fill their
  ``k`` slots before a session waits, and the handle time does not depend
  on how many sessions an agent has open at that moment.
- **deferred** (e-mail, social, letters): items wait in a backlog and must be
  answered within ``response_time_hours``; there is no queue in seconds. See
  :func:`deferred_capacity` (how much handling capacity each interval needs
  so every item meets its deadline) and :func:`backlog_service` (what a
  given staffing achieves).
- **derived** channels (chatbot hand-off) take their volume from their source
  channel: :func:`derived_volume`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from wfm.errors import StaffingError
from wfm.staffing import erlang, erlang_a
from wfm.staffing.erlang import QueueMetrics, RequiredAgents

__all__ = [
    "BacklogResult",
    "DEFERRED_POLICIES",
    "backlog_service",
    "deadline_intervals",
    "deferred_capacity",
    "derived_volume",
    "queue_metrics",
    "queue_requirement",
]

DEFERRED_POLICIES = ("level", "jit")


def queue_requirement(traffic, aht_seconds, answer_seconds, target, *, concurrency=1,
                      patience_seconds=None, asa_target=None,
                      max_occupancy=None) -> RequiredAgents:
    """Agents for a realtime (``concurrency=1``) or concurrent channel.

    Parameters
    ----------
    traffic : array
        Offered load [Erlangs] in sessions (``volume * aht / interval``).
    aht_seconds, answer_seconds : array or float
        Handle time per session and answer-time threshold [s].
    target : float
        Service-level target in [0, 1).
    concurrency : int
        Sessions one agent handles at once (k); agents = servers / k.
    patience_seconds : float, optional
        Mean patience [s]; selects Erlang A.
    asa_target : float, optional
        Maximum ASA [s].
    max_occupancy : float, optional
        Cap on the share of busy session slots (0-1].

    Returns
    -------
    RequiredAgents
        ``whole`` = ``ceil(servers_whole / k)`` agents, ``fractional`` =
        ``servers_fractional / k``.
    """
    if patience_seconds is None:
        r = erlang.required_agents(traffic, aht_seconds, answer_seconds, target,
                                   asa_target=asa_target, max_occupancy=max_occupancy)
    else:
        r = erlang_a.required_agents(traffic, aht_seconds, patience_seconds, answer_seconds,
                                     target, asa_target=asa_target,
                                     max_occupancy=max_occupancy)
    if concurrency == 1:
        return r
    k = float(concurrency)
    whole = np.ceil(np.asarray(r.whole) / k).astype(np.int64)
    return RequiredAgents(whole, np.asarray(r.fractional) / k)


def queue_metrics(traffic, agents, aht_seconds, answer_seconds, *, concurrency=1,
                  patience_seconds=None, with_asa=True) -> QueueMetrics:
    """Service level, ASA, occupancy, waiting and abandonment with ``agents`` on the channel.

    ``agents`` may be fractional (net agents from a schedule); a concurrent
    channel gets ``agents * concurrency`` session slots.
    """
    servers = np.asarray(agents, dtype=float) * float(concurrency)
    if patience_seconds is None:
        return erlang.metrics(traffic, servers, aht_seconds, answer_seconds)
    return erlang_a.metrics(traffic, servers, aht_seconds, patience_seconds, answer_seconds,
                            with_asa=with_asa)


def derived_volume(source_volume, rate):
    """Volume of a derived channel: ``source_volume * rate`` (e.g. chatbot hand-offs)."""
    return np.asarray(source_volume, dtype=float) * float(rate)


# -- deferred channels -----------------------------------------------------------

def deadline_intervals(response_time_hours: float, interval_minutes: int) -> int:
    """Intervals an item may take: items of interval ``i`` are due by the end of ``i + d - 1``.

    Items are treated as arriving at the *start* of their interval, so
    ``d = floor(response_time / interval)`` guarantees the real deadline;
    a response time shorter than one interval gives ``d = 1`` (answered in
    the interval of arrival, the finest the grid can express).

    Examples
    --------
    >>> deadline_intervals(24, 15), deadline_intervals(4.1, 60), deadline_intervals(0.1, 15)
    (96, 4, 1)
    """
    d = int(np.floor(response_time_hours * 60.0 / interval_minutes + 1e-9))
    return max(d, 1)


def _next_true(mask):
    """For each i, the smallest j >= i with mask[j] (len(mask) if none)."""
    n = mask.size
    pos = np.where(mask, np.arange(n), n)
    return np.minimum.accumulate(pos[::-1])[::-1]


def _prev_true(mask):
    """For each i, the largest j <= i with mask[j] (-1 if none)."""
    pos = np.where(mask, np.arange(mask.size), -1)
    return np.maximum.accumulate(pos)


def deferred_capacity(work_seconds, deadline: int, workable=None,
                      policy: Literal["level", "jit"] = "level") -> np.ndarray:
    """Handling capacity per interval [agent-seconds] so every item meets its deadline.

    Work ``w_i`` (items x handle time) arrives in interval ``i`` and must be
    finished by the end of interval ``i + deadline - 1``, working only in
    ``workable`` intervals (those the shift templates can cover). Items are
    answered first come, first served; since every item has the same
    response time, FCFS is earliest-deadline-first, which meets every
    deadline whenever any schedule does.

    The work of interval ``i`` is scheduled in intervals ``i+1 .. i+d-1``:
    by then every item of interval ``i`` has arrived, so the staffing
    guarantees each *item's* own deadline (arrival + response time), not
    only the interval's on average. With ``deadline == 1`` (a response time
    shorter than two intervals) the work is scheduled in its own interval,
    and items arriving late in it are answered as they come.

    Policies (the total capacity is the same, only its timing differs):

    - ``"level"`` (default): each interval's work is spread evenly over the
      workable intervals of its own response window. The result is a moving
      average of the arrivals, so peaks are flattened over the response time
      and every batch is finished exactly when its window closes at the
      latest. This is the staffing planners call "levelled".
    - ``"jit"`` (just in time): each interval's work is done in the last
      workable interval of its window. Minimal at every point in time in the
      cumulative sense (nothing is done earlier than it must be) but peaky.

    Work whose window holds no workable interval is done in the first
    workable interval after it (it will be late; :func:`backlog_service`
    reports it). Work that would land after the last interval is not
    returned: pad ``work_seconds`` with ``deadline`` zeros (and ``workable``
    accordingly) to keep the tail of a horizon.

    Parameters
    ----------
    work_seconds : array
        Work arriving per interval [agent-seconds], >= 0.
    deadline : int
        Response window in intervals (:func:`deadline_intervals`).
    workable : bool array, optional
        Intervals in which agents can work on the channel (default: all).
    policy : {"level", "jit"}

    Returns
    -------
    numpy.ndarray
        Capacity per interval [agent-seconds of handling].

    Examples
    --------
    >>> deferred_capacity([400.0, 0, 0, 0, 0], 3)
    array([  0., 200., 200.,   0.,   0.])
    >>> deferred_capacity([400.0, 0, 0, 0, 0], 3, policy="jit")
    array([  0.,   0., 400.,   0.,   0.])
    """
    if policy not in DEFERRED_POLICIES:
        raise StaffingError(f"unknown deferred staffing policy {policy!r}; expected one of "
                            f"{list(DEFERRED_POLICIES)}")
    w = np.asarray(work_seconds, dtype=float)
    n = w.size
    d = int(deadline)
    mask = np.ones(n, bool) if workable is None else np.asarray(workable, bool)
    cap = np.zeros(n)
    if n == 0:
        return cap
    idx = np.arange(n)
    lag = 1 if d >= 2 else 0                             # window [i + lag, i + d)
    start = np.minimum(idx + lag, n)
    end = np.minimum(idx + d, n)
    if policy == "level":
        cum_mask = np.concatenate(([0], np.cumsum(mask)))
        count = cum_mask[end] - cum_mask[start]
        share = np.where(count > 0, w / np.maximum(count, 1), 0.0)
        cum_share = np.concatenate(([0.0], np.cumsum(share)))
        # interval t serves the batches i with i + lag <= t < i + d
        hi = np.maximum(idx - lag + 1, 0)
        lo = np.maximum(idx - d + 1, 0)
        cap = np.where(mask, cum_share[hi] - cum_share[lo], 0.0)
        # cumulative sums leave rounding noise where the window sum is zero
        cap = np.where(cap > 1e-9 * max(share.max(), 1.0), cap, 0.0)
        on_time = count > 0
    else:
        last = _prev_true(mask)[np.maximum(end - 1, 0)]
        on_time = (last >= start) & (end > start)
        cap += np.bincount(last[on_time], weights=w[on_time], minlength=n)
    late = ~on_time & (w > 0)
    if np.any(late):
        nxt = _next_true(mask)
        land = np.where(end < n, nxt[np.minimum(end, n - 1)], n)
        land = land[late]
        keep = land < n
        cap += np.bincount(land[keep], weights=w[late][keep], minlength=n)
    return cap


class BacklogResult(NamedTuple):
    """Outcome of working a deferred backlog with a given capacity (arrays per interval).

    Attributes
    ----------
    on_time_share : share of the work arriving in the interval finished by its
        deadline (1 where nothing arrives; NaN where the deadline lies past the
        last interval and the work is not finished by then)
    response_seconds : mean time from arrival to completion of the interval's
        items [s], from the fluid first-come-first-served model (inf if
        never finished within the grid)
    processed_seconds : work done in the interval [agent-seconds]
    backlog_seconds : work waiting at the end of the interval [agent-seconds]
    """

    on_time_share: np.ndarray
    response_seconds: np.ndarray
    processed_seconds: np.ndarray
    backlog_seconds: np.ndarray


def backlog_service(work_seconds, capacity_seconds, deadline: int,
                    interval_seconds: float) -> BacklogResult:
    """Work a deferred backlog first come, first served with a given capacity.

    Fluid model: in each interval the agents process up to
    ``capacity_seconds`` of work, the oldest first, including work that
    arrives during the interval. Cumulative work done is
    ``D_t = min(A_t, D_{t-1} + c_t) = C_t + min(0, min_{s<=t} (A_s - C_s))``
    (A, C cumulative arrivals and capacity), so it is computed without a
    loop. Work of interval ``i`` is on time when done by the end of
    ``i + deadline - 1``.

    Parameters
    ----------
    work_seconds : array
        Work arriving per interval [agent-seconds].
    capacity_seconds : array
        Handling capacity per interval [agent-seconds].
    deadline : int
        Response window in intervals.
    interval_seconds : float
        Interval length [s].

    Returns
    -------
    BacklogResult

    Examples
    --------
    >>> r = backlog_service([100.0, 0, 0], [50.0, 50.0, 0], 2, 900)
    >>> r.on_time_share.tolist(), r.backlog_seconds.tolist()
    ([1.0, 1.0, 1.0], [50.0, 0.0, 0.0])
    """
    w = np.asarray(work_seconds, dtype=float)
    c = np.asarray(capacity_seconds, dtype=float)
    n = w.size
    arr = np.cumsum(w)
    cap = np.cumsum(c)
    done = cap + np.minimum(0.0, np.minimum.accumulate(arr - cap))
    done = np.minimum(done, arr)
    prev_done = np.concatenate(([0.0], done[:-1]))
    processed = done - prev_done
    backlog = arr - done
    before = arr - w                                       # work ahead of the batch
    due = np.arange(n) + int(deadline) - 1
    in_grid = due < n
    done_by_due = done[np.minimum(due, n - 1)]
    tol = 1e-9 * max(float(arr[-1]) if n else 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((done_by_due - before + tol) / w, 0.0, 1.0)
    share = np.where(w > 0, share, 1.0)
    share = np.where(in_grid | (share >= 1.0) | (w <= 0), share, np.nan)
    # completion time of the batch's middle unit of work, linear within intervals
    mid = before + 0.5 * w
    t = np.searchsorted(done, mid - tol, side="left")
    finished = t < n
    tt = np.minimum(t, n - 1)
    lo_done = np.where(tt > 0, done[np.maximum(tt - 1, 0)], 0.0)
    step = done[tt] - lo_done
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip(np.where(step > 0, (mid - lo_done) / step, 1.0), 0.0, 1.0)
    completion = tt + frac
    response = np.maximum(completion - (np.arange(n) + 0.5), 0.0) * interval_seconds
    response = np.where(finished, response, np.inf)
    response = np.where(w > 0, response, 0.0)
    return BacklogResult(share, response, processed, backlog)
