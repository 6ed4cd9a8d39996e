"""Expand shift templates into the concrete shifts of a planning horizon.

A *shift type* is one template, one local day, one start time and one length
(without break placement). Its intervals are found in absolute time, so a
shift on a daylight-saving day covers the right intervals of the 23- or
25-hour grid: an 8-hour shift always lasts 8 elapsed hours, and its local
end time shows the clock change.

Each shift type has a list of *break options*: every way to place the
template's breaks (one placement per :class:`wfm.config.BreakRule`, in rule
order, not overlapping) on the break step grid inside the windows. Shift
types of one day whose break options are identical in absolute time share a
*break pool*, which lets the models place breaks per pool rather than per
shift type.

Examples
--------
>>> import datetime as dt
>>> from wfm.config import Scenario
>>> s = Scenario.model_validate({"channels": [{"name": "voice"}]})
>>> cat = expand_shifts(s, [dt.date(2026, 11, 16)])
>>> int(cat.n_types) > 0
True
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wfm.config import WEEKDAYS, Scenario
from wfm.errors import SchedulingError

#: Cap on break placement combinations per shift type; beyond it (several
#: break rules with wide windows) every other start is dropped until it fits.
MAX_BREAK_OPTIONS = 120


@dataclass
class ShiftCatalog:
    """Every concrete shift type of the horizon, as parallel numpy arrays.

    Attributes
    ----------
    grid : DatetimeIndex
        Interval starts of the horizon (local, tz-aware), ``T`` intervals.
    days : list of date
        The local days of the horizon.
    interval_minutes : int
        Interval length [min].
    template : ndarray of int
        Index into ``template_names`` per shift type.
    day : ndarray of int
        Index into ``days`` (the local date the shift starts on).
    start_wall : ndarray of int
        Local wall-clock start [min after midnight].
    end_wall : ndarray of int
        Local wall-clock end [min after the start day's midnight; > 1440
        past midnight].
    length : ndarray of int
        Elapsed length including breaks [min].
    paid : ndarray of int
        Paid minutes: length minus unpaid breaks [min].
    start_abs, end_abs : ndarray of int
        Start and end [min after the first interval of the grid], absolute
        time.
    presence : list of (ndarray, ndarray)
        Per shift type the interval indices and the share of each interval
        [0-1] that lies inside the shift (only indices inside the grid).
    pool : ndarray of int
        Break pool of each shift type.
    pool_options : list of list of ndarray
        Per pool, per option, the break starts [min, absolute].
    pool_breaks : list of (ndarray, ndarray) lists
        Per pool, per option, (interval indices, share of interval on break).
    pool_minutes : list of tuple of int
        Per pool, the break lengths [min] of its rules.
    """

    grid: pd.DatetimeIndex
    days: list[dt.date]
    interval_minutes: int
    template_names: list[str]
    template_channels: list[frozenset[str] | None]
    template: np.ndarray
    day: np.ndarray
    start_wall: np.ndarray
    end_wall: np.ndarray
    length: np.ndarray
    paid: np.ndarray
    start_abs: np.ndarray
    end_abs: np.ndarray
    presence: list[tuple[np.ndarray, np.ndarray]]
    pool: np.ndarray
    pool_options: list[list[np.ndarray]] = field(default_factory=list)
    pool_breaks: list[list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=list)
    pool_minutes: list[tuple[int, ...]] = field(default_factory=list)
    pool_paid: list[tuple[bool, ...]] = field(default_factory=list)

    @property
    def n_types(self) -> int:
        return int(self.template.size)

    @property
    def n_intervals(self) -> int:
        return len(self.grid)

    @property
    def n_pools(self) -> int:
        return len(self.pool_options)

    def types_on(self, d: int) -> np.ndarray:
        """Indices of the shift types starting on day ``d``."""
        return np.flatnonzero(self.day == d)

    def local_start(self, s: int) -> pd.Timestamp:
        """Local tz-aware start of shift type ``s``."""
        return self.grid[0] + pd.Timedelta(minutes=int(self.start_abs[s]))

    def compatible(self, s: int, skills: frozenset[str], earliest: int, latest: int) -> bool:
        """Whether an agent with these skills and wall-clock window may work ``s``."""
        chans = self.template_channels[self.template[s]]
        if chans is not None and not (chans & skills):
            return False
        return bool(self.start_wall[s] >= earliest and self.end_wall[s] <= latest)


def interval_shares(start: float, end: float, interval: int, n: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Intervals overlapped by ``[start, end)`` and the share of each overlapped.

    Parameters
    ----------
    start, end : float
        Minutes after the grid start (absolute time).
    interval : int
        Interval length [min].
    n : int
        Number of intervals in the grid; indices outside ``[0, n)`` are dropped.
    """
    if end <= start:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    i0 = int(np.floor(start / interval))
    i1 = int(np.ceil(end / interval))
    idx = np.arange(i0, i1)
    lo = np.maximum(idx * interval, start)
    hi = np.minimum((idx + 1) * interval, end)
    share = (hi - lo) / interval
    keep = (idx >= 0) & (idx < n) & (share > 1e-12)
    return idx[keep], share[keep]


def _break_options(rules: list, length: int, step: int, template: str) -> list[tuple[int, ...]]:
    """Every placement of ``rules`` in a shift of ``length`` minutes (offsets [min])."""
    per_rule: list[list[int]] = []
    for r in rules:
        last = min(r.latest_after_start_minutes, length - r.min_before_end_minutes - r.minutes)
        starts = list(range(r.earliest_after_start_minutes, last + 1, step))
        if not starts:
            raise SchedulingError(
                f"shift template {template!r}: a {r.minutes}-minute break cannot be placed in "
                f"a {length / 60:g} h shift (window {r.earliest_after_start_minutes}-"
                f"{r.latest_after_start_minutes} min after the start, ending at least "
                f"{r.min_before_end_minutes} min before the end); widen the window or drop "
                f"the length"
            )
        per_rule.append(starts)
    if not per_rule:
        return [()]
    while True:
        combos = [c for c in itertools.product(*per_rule)
                  if all(c[i] + rules[i].minutes <= c[i + 1] for i in range(len(c) - 1))]
        if len(combos) <= MAX_BREAK_OPTIONS:
            break
        per_rule = [p[::2] if len(p) > 1 else p for p in per_rule]
    if not combos:
        raise SchedulingError(
            f"shift template {template!r}: its {len(rules)} breaks cannot be placed without "
            f"overlapping in a {length / 60:g} h shift"
        )
    return combos


def _localize(naive: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    # A start inside the spring-forward gap moves to the first valid minute;
    # a start in the repeated fall-back hour takes its first (summer) occurrence.
    return naive.tz_localize(tz, nonexistent="shift_forward",
                             ambiguous=np.ones(len(naive), dtype=bool))


def expand_shifts(scenario: Scenario, days: list[dt.date]) -> ShiftCatalog:
    """Concrete shift types for ``days`` from the scenario's shift templates.

    Parameters
    ----------
    scenario : Scenario
        Supplies time zone, interval length and ``shift_templates``.
    days : list of date
        Consecutive local days of the horizon.

    Returns
    -------
    ShiftCatalog

    Raises
    ------
    SchedulingError
        No template, or a break that fits no placement in one of its lengths.
    """
    from wfm.timegrid import interval_grid

    if not scenario.shift_templates:
        raise SchedulingError(f"{scenario.source}: no shift templates; add [[shift_templates]]")
    tz = scenario.site.timezone
    step = scenario.site.interval_minutes
    grid = interval_grid(days[0], len(days), tz, step)
    t0 = grid[0]
    n = len(grid)

    rows: dict[str, list] = {k: [] for k in (
        "template", "day", "start_wall", "length", "paid", "start_abs", "end_abs", "end_wall",
        "options", "minutes", "paidflags")}
    names = [t.name for t in scenario.shift_templates]
    chans = [frozenset(t.channels) if t.channels else None for t in scenario.shift_templates]
    for ti, tpl in enumerate(scenario.shift_templates):
        e = tpl.start_earliest.hour * 60 + tpl.start_earliest.minute
        la = tpl.start_latest.hour * 60 + tpl.start_latest.minute
        starts = np.arange(e, la + 1, tpl.start_step_minutes)
        lengths = sorted({int(round(h * 60)) for h in tpl.lengths_hours})
        rules = list(tpl.breaks)
        unpaid = sum(r.minutes for r in rules if not r.paid)
        opts_by_len = {L: _break_options(rules, L, step, tpl.name) for L in lengths}
        for di, day in enumerate(days):
            if WEEKDAYS[day.weekday()] not in tpl.days:
                continue
            naive = pd.DatetimeIndex([pd.Timestamp(day) + pd.Timedelta(minutes=int(m))
                                      for m in starts])
            local = _localize(naive, tz)
            abs_start = ((local - t0).total_seconds() // 60).astype(np.int64)
            seen: set[tuple[int, int]] = set()
            for m, a0 in zip(starts, abs_start):
                for L in lengths:
                    if (int(a0), L) in seen:
                        continue  # two wall-clock starts collapsed by the DST gap
                    seen.add((int(a0), L))
                    end_local = t0 + pd.Timedelta(minutes=int(a0) + L)
                    end_wall = ((end_local.date() - day).days * 1440
                                + end_local.hour * 60 + end_local.minute)
                    rows["template"].append(ti)
                    rows["day"].append(di)
                    start_local = t0 + pd.Timedelta(minutes=int(a0))
                    rows["start_wall"].append(start_local.hour * 60 + start_local.minute
                                              + (start_local.date() - day).days * 1440)
                    rows["length"].append(L)
                    rows["paid"].append(L - unpaid)
                    rows["start_abs"].append(int(a0))
                    rows["end_abs"].append(int(a0) + L)
                    rows["end_wall"].append(end_wall)
                    rows["options"].append(tuple(tuple(int(a0) + o for o in c)
                                                 for c in opts_by_len[L]))
                    rows["minutes"].append(tuple(r.minutes for r in rules))
                    rows["paidflags"].append(tuple(r.paid for r in rules))

    if not rows["template"]:
        raise SchedulingError(
            f"{scenario.source}: the shift templates allow no shift on any day of the horizon "
            f"{days[0]}..{days[-1]} (check their 'days')"
        )
    presence = [interval_shares(a, b, step, n) for a, b in zip(rows["start_abs"],
                                                               rows["end_abs"])]
    pool_index: dict[tuple, int] = {}
    pool = np.empty(len(rows["template"]), dtype=np.int64)
    pool_options: list[list[np.ndarray]] = []
    pool_breaks: list[list[tuple[np.ndarray, np.ndarray]]] = []
    pool_minutes: list[tuple[int, ...]] = []
    pool_paid: list[tuple[bool, ...]] = []
    for s, (opts, mins, pf, d) in enumerate(zip(rows["options"], rows["minutes"],
                                                 rows["paidflags"], rows["day"])):
        key = (d, opts, mins)
        if key not in pool_index:
            pool_index[key] = len(pool_options)
            pool_options.append([np.asarray(o, dtype=np.int64) for o in opts])
            brk = []
            for o in opts:
                share = np.zeros(0)
                idx = np.zeros(0, dtype=np.int64)
                for b0, mm in zip(o, mins):
                    i, sh = interval_shares(b0, b0 + mm, step, n)
                    idx = np.concatenate([idx, i])
                    share = np.concatenate([share, sh])
                if idx.size:
                    u, inv = np.unique(idx, return_inverse=True)
                    share = np.bincount(inv, weights=share)
                    idx = u
                brk.append((idx, share))
            pool_breaks.append(brk)
            pool_minutes.append(mins)
            pool_paid.append(pf)
        pool[s] = pool_index[key]

    return ShiftCatalog(
        grid=grid, days=list(days), interval_minutes=step, template_names=names,
        template_channels=chans,
        template=np.asarray(rows["template"], dtype=np.int64),
        day=np.asarray(rows["day"], dtype=np.int64),
        start_wall=np.asarray(rows["start_wall"], dtype=np.int64),
        end_wall=np.asarray(rows["end_wall"], dtype=np.int64),
        length=np.asarray(rows["length"], dtype=np.int64),
        paid=np.asarray(rows["paid"], dtype=np.int64),
        start_abs=np.asarray(rows["start_abs"], dtype=np.int64),
        end_abs=np.asarray(rows["end_abs"], dtype=np.int64),
        presence=presence, pool=pool, pool_options=pool_options, pool_breaks=pool_breaks,
        pool_minutes=pool_minutes, pool_paid=pool_paid,
    )


def net_presence(catalog: ShiftCatalog, s: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Interval indices and share of each on shift type ``s`` and not on its break option ``j``."""
    idx, sh = catalog.presence[s]
    on = dict(zip(idx.tolist(), sh.tolist()))
    bidx, bsh = catalog.pool_breaks[int(catalog.pool[s])][j]
    for t, x in zip(bidx.tolist(), bsh.tolist()):
        on[t] = on.get(t, 0.0) - x
    keys = np.array(sorted(k for k, x in on.items() if x > 1e-12), dtype=np.int64)
    return keys, np.array([on[int(k)] for k in keys], dtype=float)


def rebin(idx: np.ndarray, share: np.ndarray, k: int, n_blocks: int
           ) -> tuple[np.ndarray, np.ndarray]:
    if idx.size == 0:
        return idx, share
    b = idx // k
    u, inv = np.unique(b, return_inverse=True)
    s = np.bincount(inv, weights=share) / k
    keep = u < n_blocks
    return u[keep], s[keep]


def coarsen(catalog: ShiftCatalog, k: int) -> ShiftCatalog:
    """The catalog on a grid of blocks of ``k`` intervals (shares averaged per block).

    Used by step 1: a schedule's per-interval presence averaged over blocks
    is a feasible presence of the coarse model, so the coarse model stays a
    relaxation. Break options whose block profiles coincide are merged
    (``pool_options`` keeps one representative per profile).
    """
    if k <= 1:
        return catalog
    n = -(-catalog.n_intervals // k)
    grid = catalog.grid[::k]
    presence = [rebin(i, s, k, n) for i, s in catalog.presence]
    pool_breaks, pool_options = [], []
    for opts, brks in zip(catalog.pool_options, catalog.pool_breaks):
        seen: dict[tuple, int] = {}
        pb, po = [], []
        for o, (i, s) in zip(opts, brks):
            bi, bs = rebin(i, s, k, n)
            key = (tuple(bi.tolist()), tuple(np.round(bs, 9).tolist()))
            if key in seen:
                continue
            seen[key] = len(pb)
            pb.append((bi, bs))
            po.append(o)
        pool_breaks.append(pb)
        pool_options.append(po)
    return ShiftCatalog(
        grid=grid, days=catalog.days, interval_minutes=catalog.interval_minutes * k,
        template_names=catalog.template_names, template_channels=catalog.template_channels,
        template=catalog.template, day=catalog.day, start_wall=catalog.start_wall,
        end_wall=catalog.end_wall, length=catalog.length, paid=catalog.paid,
        start_abs=catalog.start_abs, end_abs=catalog.end_abs, presence=presence,
        pool=catalog.pool, pool_options=pool_options, pool_breaks=pool_breaks,
        pool_minutes=catalog.pool_minutes, pool_paid=catalog.pool_paid)
