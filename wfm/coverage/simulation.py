"""Discrete-event simulation of a multi-skill contact center schedule.

Erlang C/A and the concurrency and backlog models in :mod:`wfm.staffing`
treat each channel as served by its own agents. A real center routes each
contact to any free agent with the skill, so agents with several skills pool
capacity across channels. :func:`simulate` replays a schedule (a day, a week)
contact by contact and measures the service the customers would get.

Model
-----
- **Arrivals**: Poisson per channel with the piecewise-constant rate
  ``volume / interval length`` of each interval of ``demand_df``.
- **Handle times**: exponential (``handle_time="exponential"``) or lognormal
  with coefficient of variation ``handle_cv`` (``"lognormal"``), mean
  ``aht_seconds`` of the arrival's interval. For concurrent channels this is
  the length of a chat session.
- **Agents**: an agent is on duty in an interval when the schedule assigns
  them (``assignments``; with ``shifts`` also when on shift outside breaks
  but unassigned). Each on-duty agent-interval is lost to shrinkage with
  probability ``shrinkage`` of the channels the agent is assigned to (the
  same net agents that :func:`wfm.coverage.coverage` gives Erlang). An agent
  going off duty finishes the work in hand first.
- **Routing** (``routing``): ``"skills"`` (default) lets an agent take any
  channel in their skill set (roster skills plus every channel the schedule
  assigns them); ``"assigned"`` only the channels assigned in that interval;
  ``"dedicated"`` one channel per agent-interval, drawn with probability
  equal to the assignment fractions (the per-channel Erlang world, used to
  measure the pooling gain).
- **Arriving contacts** go to the longest-idle free agent with the skill.
  A chat (concurrent channel) goes first to an agent already chatting who has
  a free slot (packing keeps idle agents free for calls), else to an idle
  agent; an agent holds sessions up to the channel's ``concurrency`` (a
  session of a channel with concurrency k uses 1/k of the agent) and never
  mixes sessions with calls or deferred work.
- **Freed agents** take the waiting contact of the highest-``priority``
  realtime/concurrent channel in their skills, ties by longest waiting; only
  when none waits, the deferred item with the earliest deadline
  (response-time target). No pre-emption.
- **Abandonment**: exponential patience with mean ``patience_seconds``
  where the channel sets it, else infinite patience.
- **Measures** (by the interval the contact arrived in): ``service_level``
  = answered within ``answer_seconds`` / offered (abandoned contacts count as
  not answered in time; deferred: completed within the response-time target);
  ``asa_seconds`` = mean wait of answered contacts; ``abandonment`` =
  abandoned / offered. Contacts still open at the end of the horizon are
  counted only when their target has already been missed (censoring).
  The queue starts empty at the first interval.
- **Confidence intervals** over independent replications:
  ``mean +- t_{(1+level)/2, R-1} s / sqrt(R)``.

Implementation
--------------
Plain Python with :mod:`heapq`, not SimPy or ciw. SimPy runs every contact
and agent as a generator process with resource/store requests: several
times the per-event cost, and skill routing with concurrency still has to be
written by hand on top. ciw models networks of single-class nodes and has no
notion of an agent serving several queues or several sessions at once. Here
everything random (arrivals, handle times, patience, shrinkage) is drawn
up front with numpy, arrivals are a pre-sorted array, and the event heap
holds only service completions; abandonment is resolved lazily when an agent
looks at a queue (a customer whose patience ran out before the agent came
is abandoned at that moment of patience), so it needs no events either.
Interval boundaries come from a sorted array too. Per-interval statistics
are computed afterwards with ``numpy.bincount``. Common random numbers: the
arrival stream of replication r does not depend on the routing mode, so
:func:`pooling_gain` compares modes on identical customers.

Examples
--------
>>> res = simulate(requirements, shifts, assignments, roster, scenario,
...                replications=10, seed=0)                  # doctest: +SKIP
>>> res.per_channel[["channel", "service_level", "service_level_lo",
...               "service_level_hi"]]                        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from wfm.config import Scenario
from wfm.errors import DataValidationError, WfmError
from wfm.timegrid import wall_span

ROUTINGS = ("skills", "assigned", "dedicated")
HANDLE_TIMES = ("exponential", "lognormal")

_RT, _CONC, _DEF = 0, 1, 2
_KIND_CODE = {"realtime": _RT, "concurrent": _CONC, "deferred": _DEF}
_EPS = 1e-9


@dataclass
class SimulationResult:
    """What :func:`simulate` returns.

    Attributes
    ----------
    per_interval : DataFrame
        Per ``timestamp, channel``: ``volume`` (expected contacts),
        ``offered`` (mean simulated, after censoring), ``service_level``,
        ``service_level_lo``, ``service_level_hi`` (0-1), ``asa_seconds``,
        ``asa_seconds_lo``, ``asa_seconds_hi`` [s], ``abandonment``,
        ``abandonment_lo``, ``abandonment_hi`` (0-1), ``busy_agents`` (mean
        agents busy on the channel, a chat session counting 1/concurrency),
        ``replications_with_contacts``.
    per_channel : DataFrame
        Per channel over the whole horizon: ``kind``, ``volume``,
        ``offered``, ``answered``, ``abandoned`` (means per replication),
        ``service_level`` (+ ``_lo``, ``_hi``), ``service_level_target``,
        ``asa_seconds`` (+ CI), ``abandonment`` (+ CI), ``busy_agent_hours``.
    occupancy : DataFrame
        Per ``timestamp``: ``available_agents`` (mean agents on duty after
        shrinkage), ``busy_agents``, ``occupancy`` (0-1).
    per_replication : DataFrame
        Per ``replication, channel``: ``offered, answered, answered_in_target,
        abandoned, wait_seconds_sum, service_level, asa_seconds, abandonment``.
    replications, seed, routing, handle_time, ci_level, elapsed_seconds
        The settings and the wall-clock time of the run [s].
    notes : list of str
        Things the caller should know (e.g. assignments outside the horizon).
    contacts : DataFrame or None
        With ``keep_contacts=True``: every contact, ``replication,
        arrival_seconds, channel, start_seconds, end_seconds, handle_seconds,
        agent_id, abandoned`` (seconds since the first interval's start; NaN
        start and empty agent: not served).
    """

    per_interval: pd.DataFrame
    per_channel: pd.DataFrame
    occupancy: pd.DataFrame
    per_replication: pd.DataFrame
    replications: int
    seed: int
    routing: str
    handle_time: str
    ci_level: float
    elapsed_seconds: float
    notes: list[str] = field(default_factory=list)
    contacts: pd.DataFrame | None = None


# --------------------------------------------------------------------------
# Preparing the inputs: frames -> arrays
# --------------------------------------------------------------------------
@dataclass
class _Model:
    channels: list[str]
    kind: np.ndarray            # [C] int codes
    priority: np.ndarray        # [C] float
    weight: np.ndarray          # [C] 1/concurrency
    target_seconds: np.ndarray  # [C] answer_seconds, deferred: response time [s]
    patience: np.ndarray        # [C] mean patience [s], inf = none
    sl_target: np.ndarray       # [C] 0-1
    t0: pd.Timestamp            # start of interval 0
    dt: float                   # interval length [s]
    n_int: int
    volume: np.ndarray          # [I, C] expected contacts
    aht: np.ndarray             # [I, C] mean handle time [s]
    agents: list[Any]
    frac: np.ndarray            # [I, A, C] assignment fractions
    duty: np.ndarray            # [I, A] share of the interval on duty (0-1)
    shrink: np.ndarray          # [I, A] shrinkage of the agent-interval (0-1)
    skills: list[tuple[int, ...]]  # full skill set per agent (channel indices)
    proficiency: np.ndarray     # [A, C] handle-speed factor (roster), 1 = average
    notes: list[str]

    @property
    def horizon(self) -> float:
        return self.n_int * self.dt


def _offsets(ts: pd.Series, t0: pd.Timestamp) -> np.ndarray:
    """Seconds since ``t0`` (absolute time, so DST days are right)."""
    return ((ts - t0).dt.total_seconds()).to_numpy(float)


def _aware(ts: pd.Series, tz: str, what: str) -> pd.Series:
    out = pd.to_datetime(ts)
    if getattr(out.dt, "tz", None) is None:
        raise DataValidationError(
            f"{what}: column 'timestamp' has no time zone; expected tz-aware timestamps "
            f"in {tz!r}"
        )
    return out.dt.tz_convert(tz)


def _parse_skills(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v).strip() for v in value if str(v).strip()]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [s.strip() for s in str(value).replace(",", ";").split(";") if s.strip()]


def _shift_on(shifts: pd.DataFrame, agent_index: dict, t0: pd.Timestamp, dt_s: float,
              n_int: int, tz: str) -> np.ndarray:
    """[I, A] True where the agent is on shift, outside breaks, >= half the interval."""
    need = ("agent_id", "start", "end")
    missing = [c for c in need if c not in shifts.columns]
    if missing:
        raise DataValidationError(f"shifts: missing column(s) {missing}; expected "
                                  "agent_id, date, start, end, breaks")
    on = np.zeros((n_int, len(agent_index)), bool)
    edges = np.arange(n_int + 1) * dt_s

    def local(x: Any) -> pd.Timestamp:
        t = pd.Timestamp(x)
        if t.tzinfo is None:
            t = t.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
        return t.tz_convert(tz)

    for row_no, r in enumerate(shifts.itertuples(index=False)):
        a = agent_index.get(r.agent_id)
        if a is None:
            continue
        try:
            s, e = local(r.start), local(r.end)
        except (ValueError, TypeError) as err:
            raise DataValidationError(f"shifts: row {row_no}: start/end not a datetime "
                                      f"({r.start!r}, {r.end!r}): {err}") from None
        spans = [((s - t0).total_seconds(), (e - t0).total_seconds())]
        brk = getattr(r, "breaks", None)
        for part in _parse_skills(brk):
            try:
                b0, b1 = (dt.time.fromisoformat(x.strip()) for x in part.split("-"))
            except ValueError:
                raise DataValidationError(
                    f"shifts: row {row_no}: break {part!r}; expected 'HH:MM-HH:MM'"
                ) from None
            day = s.tz_localize(None).normalize()
            bs = day + pd.Timedelta(hours=b0.hour, minutes=b0.minute)
            if bs < s.tz_localize(None):
                bs += pd.Timedelta(days=1)
            bs_l, be_l = wall_span(bs, pd.Timedelta(hours=b1.hour, minutes=b1.minute), tz)
            bs_s = (bs_l - t0).total_seconds()
            be_s = (be_l - t0).total_seconds()
            new = []
            for x0, x1 in spans:
                if be_s <= x0 or bs_s >= x1:
                    new.append((x0, x1))
                    continue
                if bs_s > x0:
                    new.append((x0, bs_s))
                if be_s < x1:
                    new.append((be_s, x1))
            spans = new
        cover = np.zeros(n_int)
        for x0, x1 in spans:
            cover += np.clip(np.minimum(edges[1:], x1) - np.maximum(edges[:-1], x0), 0, None)
        on[:, a] |= cover >= 0.5 * dt_s
    return on


def _prepare(demand_df: pd.DataFrame, shifts: pd.DataFrame | None,
             assignments: pd.DataFrame, roster: pd.DataFrame | None,
             scenario: Scenario) -> _Model:
    tz = scenario.site.timezone
    dt_s = scenario.site.interval_minutes * 60.0
    for col in ("timestamp", "channel", "volume"):
        if col not in demand_df.columns:
            raise DataValidationError(f"demand: missing column {col!r}; expected timestamp, "
                                      "channel, volume, aht_seconds")
    for col in ("timestamp", "agent_id", "channel", "fraction"):
        if col not in assignments.columns:
            raise DataValidationError(f"assignments: missing column {col!r}; expected "
                                      "timestamp, agent_id, channel, fraction")
    notes: list[str] = []
    dem = demand_df.copy()
    dem["timestamp"] = _aware(dem["timestamp"], tz, "demand")
    dem["channel"] = dem["channel"].astype(str)
    asg = assignments.copy()
    asg["timestamp"] = _aware(asg["timestamp"], tz, "assignments")
    asg["channel"] = asg["channel"].astype(str)
    known = set(scenario.channel_names)
    for what, d in (("demand", dem), ("assignments", asg)):
        bad = sorted(set(d["channel"]) - known)
        if bad:
            raise DataValidationError(f"{what}: unknown channel(s) {bad}; expected one of "
                                      f"{scenario.channel_names}")
    unstaffed = sorted({c.name for c in scenario.channels if not c.staffed}
                       & set(dem["channel"]))
    if unstaffed:
        notes.append(f"channels served by no agent are not simulated: {unstaffed}")
        dem = dem[~dem["channel"].isin(unstaffed)]
    present = set(dem["channel"]) | set(asg["channel"])
    chans = [c for c in scenario.channels if c.staffed and c.name in present]
    if not chans:
        raise DataValidationError("simulate: no staffed channel in the demand or assignments")
    cidx = {c.name: i for i, c in enumerate(chans)}
    if dem.empty:
        raise DataValidationError("simulate: the demand frame has no rows")

    t0 = dem["timestamp"].min()
    off = _offsets(dem["timestamp"], t0)
    if np.any(np.abs(off / dt_s - np.round(off / dt_s)) > 1e-6):
        raise DataValidationError(f"demand: timestamps are not on the {dt_s / 60:.0f}-minute "
                                  "interval grid of the scenario")
    ii = np.round(off / dt_s).astype(int)
    n_int = int(ii.max()) + 1
    C = len(chans)
    vol = np.zeros((n_int, C))
    aht = np.tile(np.array([c.aht_seconds for c in chans], float), (n_int, 1))
    ci = dem["channel"].map(cidx).to_numpy(int)
    v = pd.to_numeric(dem["volume"], errors="coerce").to_numpy(float)
    if np.any(~np.isfinite(v) | (v < 0)):
        i = int(np.flatnonzero(~np.isfinite(v) | (v < 0))[0])
        raise DataValidationError(f"demand: row {i}: field 'volume' is {v[i]!r}; "
                                  "expected a number >= 0")
    np.add.at(vol, (ii, ci), v)
    if "aht_seconds" in dem.columns:
        h = pd.to_numeric(dem["aht_seconds"], errors="coerce").to_numpy(float)
        ok = np.isfinite(h) & (h > 0)
        aht[ii[ok], ci[ok]] = h[ok]

    # agents
    a_off = _offsets(asg["timestamp"], t0)
    a_ii = np.round(a_off / dt_s).astype(int)
    inside = (a_ii >= 0) & (a_ii < n_int) & asg["channel"].isin(cidx).to_numpy()
    if (~inside).any():
        notes.append(f"{int((~inside).sum())} assignment row(s) outside the simulated "
                     "period or on unsimulated channels were not used")
    agent_ids = list(pd.unique(asg["agent_id"]))
    roster_skills: dict[Any, list[str]] = {}
    roster_prof: dict[Any, dict[str, float]] = {}
    if roster is not None:
        if "agent_id" not in roster.columns or "skills" not in roster.columns:
            raise DataValidationError("roster: expected columns agent_id and skills")
        for aid, sk in zip(roster["agent_id"], roster["skills"]):
            roster_skills[aid] = _parse_skills(sk)
        if "proficiency" in roster.columns:
            for row, (aid, pr) in enumerate(zip(roster["agent_id"], roster["proficiency"])):
                for item in _parse_skills(pr):
                    name, _, val = item.partition(":")
                    try:
                        v = float(val)
                    except ValueError:
                        v = float("nan")
                    if not 0.0 < v <= 2.0:
                        raise DataValidationError(
                            f"roster: row {row} (agent {aid}): proficiency {item!r}; "
                            "expected 'channel:factor' with a factor in (0, 2]")
                    roster_prof.setdefault(aid, {})[name.strip()] = v
        if shifts is not None:
            agent_ids += [a for a in pd.unique(shifts["agent_id"]) if a not in set(agent_ids)]
    elif shifts is not None:
        agent_ids += [a for a in pd.unique(shifts["agent_id"]) if a not in set(agent_ids)]
    aidx = {a: i for i, a in enumerate(agent_ids)}
    A = len(agent_ids)
    frac = np.zeros((n_int, A, C))
    f = pd.to_numeric(asg["fraction"], errors="coerce").to_numpy(float)
    if np.any(~np.isfinite(f) | (f < 0) | (f > 1 + 1e-9)):
        i = int(np.flatnonzero(~np.isfinite(f) | (f < 0) | (f > 1 + 1e-9))[0])
        raise DataValidationError(f"assignments: row {i}: field 'fraction' is {f[i]!r}; "
                                  "expected a number between 0 and 1")
    sel = np.flatnonzero(inside)
    np.add.at(frac, (a_ii[sel], asg["agent_id"].iloc[sel].map(aidx).to_numpy(int),
                     asg["channel"].iloc[sel].map(cidx).to_numpy(int)), f[sel])
    tot = frac.sum(axis=2)
    duty = np.clip(tot, 0.0, 1.0)
    ch_shrink = np.array([scenario.shrinkage_of(c.name) for c in chans])
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = np.where(tot > 0, (frac * ch_shrink).sum(axis=2) / tot, 0.0)

    skills: list[tuple[int, ...]] = []
    assigned_any = frac.sum(axis=0) > 0  # [A, C]
    for a, aid in enumerate(agent_ids):
        s = {cidx[n] for n in roster_skills.get(aid, []) if n in cidx}
        s |= set(np.flatnonzero(assigned_any[a]).tolist())
        skills.append(tuple(sorted(s)))
    prof = np.ones((A, C))
    for aid, d in roster_prof.items():
        if aid in aidx:
            for name, v in d.items():
                if name in cidx:
                    prof[aidx[aid], cidx[name]] = v
    if roster is not None:
        unknown = [a for a in agent_ids if a not in roster_skills]
        if unknown:
            notes.append(f"{len(unknown)} scheduled agent(s) not on the roster; their "
                         "skills are the channels they are assigned to")

    if shifts is not None and len(shifts):
        on_shift = _shift_on(shifts, aidx, t0, dt_s, n_int, tz)
        extra = on_shift & (tot <= 0)
        if extra.any():
            # On shift but unassigned: available with the full skill set.
            sk_shrink = np.array([np.mean(ch_shrink[list(s)]) if s else
                                  scenario.staffing.shrinkage for s in skills])
            duty = np.where(extra, 1.0, duty)
            shrink = np.where(extra, sk_shrink[None, :], shrink)
            notes.append(f"{int(extra.sum())} agent-interval(s) on shift without an "
                         "assignment were simulated as available (routing 'skills' only)")
    return _Model(
        channels=[c.name for c in chans],
        kind=np.array([_KIND_CODE[c.kind] for c in chans]),
        priority=np.array([c.priority for c in chans], float),
        weight=np.array([1.0 / c.concurrency for c in chans], float),
        target_seconds=np.array([(c.response_time_hours or 24.0) * 3600.0
                                 if c.kind == "deferred" else c.answer_seconds
                                 for c in chans], float),
        patience=np.array([c.patience_seconds if (c.patience_seconds and c.kind != "deferred")
                           else np.inf for c in chans], float),
        sl_target=np.array([c.service_level_target for c in chans], float),
        t0=t0, dt=dt_s, n_int=n_int, volume=vol, aht=aht, agents=agent_ids,
        frac=frac, duty=duty, shrink=shrink, skills=skills, proficiency=prof, notes=notes,
    )


# --------------------------------------------------------------------------
# One replication
# --------------------------------------------------------------------------
def _draw_contacts(m: _Model, rng: np.random.Generator, handle_time: str,
                   handle_cv: float) -> tuple[np.ndarray, ...]:
    """Arrival times [s], channel, interval, handle time [s], abandon time [s]."""
    counts = rng.poisson(m.volume)                                    # [I, C]
    flat = counts.ravel()
    n = int(flat.sum())
    cell = np.repeat(np.arange(flat.size), flat)
    interval = cell // len(m.channels)
    chan = cell % len(m.channels)
    t = (interval + rng.random(n)) * m.dt
    order = np.argsort(t, kind="stable")
    t, interval, chan = t[order], interval[order], chan[order]
    mean = m.aht[interval, chan]
    if handle_time == "exponential":
        svc = rng.exponential(1.0, n) * mean
    else:
        s2 = math.log1p(handle_cv ** 2)
        svc = mean * np.exp(rng.normal(-0.5 * s2, math.sqrt(s2), n))
    pat = m.patience[chan]
    finite = np.isfinite(pat)
    abandon = np.full(n, np.inf)
    abandon[finite] = t[finite] + rng.exponential(1.0, int(finite.sum())) * pat[finite]
    return t, chan, interval, svc, abandon


def _draw_staff(m: _Model, rng: np.random.Generator, routing: str,
                apply_shrinkage: bool) -> tuple[np.ndarray, list[list[tuple[int, ...]]] | None]:
    """[I, A] availability and, for per-interval routing, the skills of each agent."""
    p = m.duty * ((1.0 - m.shrink) if apply_shrinkage else 1.0)
    u = rng.random(p.shape)
    avail = u < p
    if routing == "skills":
        return avail, None
    if routing == "assigned":
        per = [[tuple(np.flatnonzero(row).tolist()) for row in m.frac[i] > 0]
               for i in range(m.n_int)]
        return avail, per
    # dedicated: one channel per agent-interval, P(channel) = fraction / total
    cum = np.cumsum(m.frac, axis=2)
    tot = cum[:, :, -1:]
    v = rng.random(m.duty.shape)[:, :, None] * tot
    pick = (v >= cum).sum(axis=2)
    pick = np.minimum(pick, len(m.channels) - 1)
    per = [[(int(c),) for c in pick[i]] for i in range(m.n_int)]
    return avail, per


def _run(m: _Model, t_arr: np.ndarray, chan: np.ndarray, svc: np.ndarray,
         abandon_at: np.ndarray, avail: np.ndarray,
         per_skills: list[list[tuple[int, ...]]] | None, use_proficiency: bool
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The event loop.

    Returns start time [s] (NaN: not served), abandoned flag, agent index
    (-1: not served) and handle time [s] per contact.
    """
    C = len(m.channels)
    A = len(m.agents)
    kind = m.kind.tolist()
    weight = m.weight.tolist()
    prio = m.priority.tolist()
    target = m.target_seconds.tolist()
    arr = t_arr.tolist()
    chl = chan.tolist()
    svl = svc.tolist()
    abl = abandon_at.tolist()
    n = len(arr)
    start = [math.nan] * n
    abandoned = [False] * n
    queues = [deque() for _ in range(C)]
    idle: list[dict] = [dict() for _ in range(C)]
    partial: list[dict] = [dict() for _ in range(C)]
    on = [False] * A
    mode = [0] * A          # 0 idle, 1 one call/item, 2 chat sessions
    load = [0.0] * A
    heap: list[tuple[float, int]] = []
    agent_of = [0] * n
    INF = math.inf
    prof = m.proficiency.tolist() if use_proficiency and np.any(m.proficiency != 1.0) \
        else None
    dur = svl if prof is None else list(svl)

    # Per skill set: realtime/concurrent channels grouped by priority (high
    # first), concurrent channels grouped likewise, and deferred channels.
    plan_cache: dict[tuple[int, ...], tuple] = {}

    def plan(sk: tuple[int, ...]) -> tuple:
        p = plan_cache.get(sk)
        if p is None:
            def groups(cs: list[int]) -> tuple:
                levels = sorted({prio[c] for c in cs}, reverse=True)
                return tuple(tuple(c for c in cs if prio[c] == lv) for lv in levels)
            nd = [c for c in sk if kind[c] != _DEF]
            cc = [c for c in sk if kind[c] == _CONC]
            p = (groups(nd), groups(cc), tuple(c for c in sk if kind[c] == _DEF), tuple(cc))
            plan_cache[sk] = p
        return p

    skills = [()] * A
    plans = [plan(())] * A

    def head(c: int, t: float) -> float:
        """Arrival time of the first waiting, not yet abandoned contact of c."""
        q = queues[c]
        while q:
            k = q[0]
            if abl[k] <= t:
                q.popleft()
                abandoned[k] = True
                continue
            return arr[k]
        return INF

    def begin(a: int, k: int, t: float) -> None:
        start[k] = t
        agent_of[k] = a
        if prof is None:
            heapq.heappush(heap, (t + svl[k], k))
        else:
            d = dur[k] = svl[k] / prof[a][chl[k]]
            heapq.heappush(heap, (t + d, k))

    def set_partial(a: int) -> None:
        ld = load[a]
        for c in plans[a][3]:
            if on[a] and ld + weight[c] <= 1.0 + _EPS:
                partial[c][a] = None
            else:
                partial[c].pop(a, None)

    def fill(a: int, t: float) -> None:
        """Agent in chat mode takes more waiting sessions while there is room."""
        while True:
            best, bt = -1, INF
            for grp in plans[a][1]:
                for c in grp:
                    if load[a] + weight[c] <= 1.0 + _EPS:
                        h = head(c, t)
                        if h < bt:
                            best, bt = c, h
                if best >= 0:
                    break
            if best < 0:
                break
            k = queues[best].popleft()
            load[a] += weight[best]
            begin(a, k, t)
        set_partial(a)

    def dispatch(a: int, t: float) -> None:
        """An idle, on-duty agent looks for work; else joins the idle pools."""
        pl = plans[a]
        for grp in pl[0]:
            best, bt = -1, INF
            for c in grp:
                h = head(c, t)
                if h < bt:
                    best, bt = c, h
            if best >= 0:
                k = queues[best].popleft()
                if kind[best] == _CONC:
                    mode[a] = 2
                    load[a] = weight[best]
                    begin(a, k, t)
                    fill(a, t)
                else:
                    mode[a] = 1
                    begin(a, k, t)
                return
        best, bd = -1, INF
        for c in pl[2]:
            q = queues[c]
            if q:
                d = arr[q[0]] + target[c]
                if d < bd:
                    best, bd = c, d
        if best >= 0:
            mode[a] = 1
            begin(a, queues[best].popleft(), t)
            return
        for c in skills[a]:
            idle[c][a] = None

    def leave_pools(a: int) -> None:
        if mode[a] == 0:
            for c in skills[a]:
                idle[c].pop(a, None)
        elif mode[a] == 2:
            for c in plans[a][3]:
                partial[c].pop(a, None)

    # interval boundaries: who comes on, who goes off, whose skills change
    prev = np.zeros(A, bool)
    changes: list[tuple[list[int], list[int]]] = []
    for i in range(m.n_int):
        cur = avail[i]
        if per_skills is None:
            went_off = np.flatnonzero(prev & ~cur).tolist()
            came_on = np.flatnonzero(cur & ~prev).tolist()
        else:
            went_off = np.flatnonzero(prev & ~cur).tolist()
            came_on = np.flatnonzero(cur).tolist()  # skills may change every interval
        changes.append((went_off, came_on))
        prev = cur

    def boundary(i: int, t: float) -> None:
        went_off, came_on = changes[i]
        for a in went_off:
            leave_pools(a)
            on[a] = False
        for a in came_on:
            new = m.skills[a] if per_skills is None else per_skills[i][a]
            if on[a]:
                if new == skills[a]:
                    continue
                leave_pools(a)
            skills[a] = new
            plans[a] = plan(new)
            on[a] = True
            if mode[a] == 0:
                dispatch(a, t)
            elif mode[a] == 2:
                fill(a, t)

    dt_s = m.dt
    horizon = m.horizon
    n_b = m.n_int
    ia, ib = 0, 0
    next_a = arr[0] if n else INF
    next_b = 0.0
    heappop = heapq.heappop
    while True:
        th = heap[0][0] if heap else INF
        if th <= next_a and th <= next_b:
            if th >= horizon:
                break
            _, k = heappop(heap)
            a = agent_of[k]
            c = chl[k]
            if kind[c] == _CONC:
                load[a] -= weight[c]
                if load[a] < _EPS:
                    load[a] = 0.0
                    mode[a] = 0
                    for c2 in plans[a][3]:
                        partial[c2].pop(a, None)
                    if on[a]:
                        dispatch(a, th)
                elif on[a]:
                    fill(a, th)
            else:
                mode[a] = 0
                if on[a]:
                    dispatch(a, th)
        elif next_a <= next_b:
            if next_a >= horizon:
                break
            t = next_a
            k = ia
            c = chl[k]
            ia += 1
            next_a = arr[ia] if ia < n else INF
            if kind[c] == _CONC:
                d = partial[c]
                if d:
                    a = next(iter(d))
                    load[a] += weight[c]
                    begin(a, k, t)
                    set_partial(a)
                    continue
                d = idle[c]
                if d:
                    a = next(iter(d))
                    for c2 in skills[a]:
                        idle[c2].pop(a, None)
                    mode[a] = 2
                    load[a] = weight[c]
                    begin(a, k, t)
                    set_partial(a)
                    continue
                queues[c].append(k)
            else:
                d = idle[c]
                if d:
                    a = next(iter(d))
                    for c2 in skills[a]:
                        idle[c2].pop(a, None)
                    mode[a] = 1
                    begin(a, k, t)
                    continue
                queues[c].append(k)
        else:
            if next_b >= horizon:
                next_b = INF
                continue
            boundary(ib, next_b)
            ib += 1
            next_b = ib * dt_s if ib < n_b else INF
    start_a = np.array(start, float)
    # contacts still waiting at the end: abandoned if their patience ran out
    ab = np.array(abandoned, bool) | (np.isnan(start_a) & (abandon_at <= horizon))
    agent_a = np.where(np.isnan(start_a), -1, np.array(agent_of, np.int64))
    return start_a, ab, agent_a, (svc if prof is None else np.array(dur, float))


def _tally(m: _Model, t_arr: np.ndarray, chan: np.ndarray, interval: np.ndarray,
           svc: np.ndarray, start: np.ndarray, abandoned: np.ndarray,
           warmup: float) -> dict[str, np.ndarray]:
    """Per-interval-and-channel counts of one replication, all [I, C]."""
    C = len(m.channels)
    size = m.n_int * C
    cell = interval * C + chan
    horizon = m.horizon
    served = np.isfinite(start)
    deferred = m.kind[chan] == _DEF
    tgt = m.target_seconds[chan]
    wait = np.where(served, start - t_arr, np.nan)
    # deferred: the reply goes out when the item is completed
    resp = np.where(deferred, wait + svc, wait)
    in_target = served & (resp <= tgt + 1e-9)
    open_ = ~served & ~abandoned
    # an open contact is counted only once its target is already missed
    censored = open_ & ((horizon - t_arr) <= tgt)
    stat = t_arr >= warmup
    counted = ~censored & stat
    served_s = served & stat

    def bc(w: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=w, minlength=size).reshape(m.n_int, C)
    out = {
        "offered": bc(counted.astype(float)),
        "answered": bc(served_s.astype(float)),
        "in_target": bc((in_target & stat).astype(float)),
        "abandoned": bc((abandoned & stat).astype(float)),
        "wait_sum": bc(np.where(served_s, wait, 0.0)),
    }
    # busy agent-seconds per interval and channel (a session weighs 1/concurrency)
    s = start[served]
    e = s + svc[served]
    w = m.weight[chan[served]]
    c_s = chan[served]
    edges = np.arange(m.n_int + 1) * m.dt
    busy = np.zeros((m.n_int, C))
    for c in range(C):
        sel = c_s == c
        if not sel.any():
            continue
        busy[:, c] = np.diff(_ramp_integral(s[sel], w[sel], edges)
                             - _ramp_integral(e[sel], w[sel], edges))
    out["busy"] = busy / m.dt
    return out


def _ramp_integral(x: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    """sum_j w_j * max(at - x_j, 0) for each point of ``at``."""
    o = np.argsort(x)
    xs, ws = x[o], w[o]
    cw = np.concatenate(([0.0], np.cumsum(ws)))
    cwx = np.concatenate(([0.0], np.cumsum(ws * xs)))
    j = np.searchsorted(xs, at, side="right")
    return at * cw[j] - cwx[j]


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------
def _ci(x: np.ndarray, level: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and half-width of the t confidence interval over ``axis``, ignoring NaN."""
    x = np.asarray(x, float)
    n = np.isfinite(x).sum(axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells -> NaN
        mean = np.nanmean(x, axis=axis)
        sd = np.nanstd(x, axis=axis, ddof=1)
    tq = stats.t.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1))
    half = np.where(n > 1, tq * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, half


def simulate(demand_df: pd.DataFrame, shifts: pd.DataFrame | None,
             assignments: pd.DataFrame, roster: pd.DataFrame | None,
             scenario: Scenario, *, replications: int = 10, seed: int = 0,
             handle_time: str = "exponential", handle_cv: float = 1.0,
             routing: str = "skills", apply_shrinkage: bool = True,
             ci_level: float = 0.95, warmup_minutes: float = 0.0,
             use_proficiency: bool = False, keep_contacts: bool = False
             ) -> SimulationResult:
    """Simulate a schedule contact by contact; see the module docstring for the model.

    Parameters
    ----------
    demand_df : DataFrame
        ``timestamp, channel, volume`` [contacts per interval] and optionally
        ``aht_seconds`` [s] (else the channel default): a requirements or
        forecast frame. Its intervals define the simulated period; channels
        with ``staffed = false`` are skipped (noted in ``notes``).
    shifts : DataFrame or None
        ``agent_id, date, start, end, breaks``; optional, see Notes.
    assignments : DataFrame
        ``timestamp, agent_id, channel, fraction`` from the schedule.
    roster : DataFrame or None
        ``agent_id, skills`` (``;``-separated channel names); None: each
        agent's skills are the channels the schedule assigns them.
    scenario : Scenario
        Channel kinds, targets, concurrency, patience, priorities, shrinkage.
    replications : int
        Independent replications (>= 2 for confidence intervals).
    seed : int
        Seed of :class:`numpy.random.SeedSequence`; same seed, same result.
    handle_time : {"exponential", "lognormal"}
        Handle-time distribution, mean ``aht_seconds``.
    handle_cv : float
        Coefficient of variation of lognormal handle times.
    routing : {"skills", "assigned", "dedicated"}
        Which channels an on-duty agent serves (module docstring).
    apply_shrinkage : bool
        Remove agent-intervals with probability ``shrinkage`` (default True).
    ci_level : float
        Confidence level of the intervals (0-1).
    warmup_minutes : float
        Contacts arriving in the first ``warmup_minutes`` [min] are simulated
        but left out of the statistics (the queue starts empty; a center
        that opens empty in the morning needs no warm-up).
    use_proficiency : bool
        Divide handle times by the roster's ``proficiency`` factor of the
        agent for the channel (e.g. ``voice:0.8``: 25% longer calls). Off by
        default: ``aht_seconds`` usually already averages over all agents.
    keep_contacts : bool
        Also return every simulated contact in ``SimulationResult.contacts``.

    Returns
    -------
    SimulationResult

    Notes
    -----
    With ``shifts``, agents on shift outside their breaks but without any
    assignment in an interval are simulated as available with their full
    skill set (routing ``"skills"``): an unassigned agent still takes
    contacts.

    Examples
    --------
    >>> res = simulate(req, None, asg, roster, scenario, replications=10)  # doctest: +SKIP
    >>> res.per_channel.set_index("channel").service_level                     # doctest: +SKIP
    """
    if routing not in ROUTINGS:
        raise WfmError(f"unknown routing {routing!r}; expected one of {list(ROUTINGS)}")
    if handle_time not in HANDLE_TIMES:
        raise WfmError(f"unknown handle_time {handle_time!r}; expected one of "
                       f"{list(HANDLE_TIMES)}")
    if replications < 1:
        raise WfmError(f"replications must be >= 1, got {replications}")
    if not 0 < ci_level < 1:
        raise WfmError(f"ci_level must be between 0 and 1, got {ci_level}")
    if handle_cv <= 0:
        raise WfmError(f"handle_cv must be > 0, got {handle_cv}")
    t_start = time.perf_counter()
    m = _prepare(demand_df, shifts if routing == "skills" else None, assignments, roster,
                 scenario)
    R = replications
    I, C = m.n_int, len(m.channels)
    keys = ("offered", "answered", "in_target", "abandoned", "wait_sum", "busy")
    acc = {k: np.zeros((R, I, C)) for k in keys}
    avail_mean = np.zeros(I)
    logs = []
    agent_ids = np.array([str(a) for a in m.agents] + [""], dtype=object)
    for r, ss in enumerate(np.random.SeedSequence(seed).spawn(R)):
        s_arr, s_staff = ss.spawn(2)
        t_arr, chan, interval, svc, ab = _draw_contacts(m, np.random.default_rng(s_arr),
                                                        handle_time, handle_cv)
        avail, per = _draw_staff(m, np.random.default_rng(s_staff), routing,
                                 apply_shrinkage)
        start, abandoned, agent, svc = _run(m, t_arr, chan, svc, ab, avail, per,
                                            use_proficiency)
        tally = _tally(m, t_arr, chan, interval, svc, start, abandoned,
                       warmup_minutes * 60.0)
        if keep_contacts:
            logs.append(pd.DataFrame({
                "replication": r, "arrival_seconds": t_arr,
                "channel": np.array(m.channels, dtype=object)[chan],
                "start_seconds": start, "end_seconds": start + svc,
                "handle_seconds": svc, "agent_id": agent_ids[agent],
                "abandoned": abandoned}))
        for k in keys:
            acc[k][r] = tally[k]
        avail_mean += avail.sum(axis=1) / R

    with np.errstate(invalid="ignore", divide="ignore"):
        sl = acc["in_target"] / acc["offered"]
        asa = acc["wait_sum"] / acc["answered"]
        abd = acc["abandoned"] / acc["offered"]
    sl = np.where(acc["offered"] > 0, sl, np.nan)
    asa = np.where(acc["answered"] > 0, asa, np.nan)
    abd = np.where(acc["offered"] > 0, abd, np.nan)

    ts = pd.DatetimeIndex(m.t0 + pd.to_timedelta(np.arange(I) * m.dt, unit="s"),
                          name="timestamp").tz_convert(scenario.site.timezone)
    frame: dict[str, Any] = {
        "timestamp": np.repeat(ts, C),
        "channel": np.tile(np.array(m.channels, dtype=object), I),
        "volume": m.volume.ravel(),
        "offered": acc["offered"].mean(axis=0).ravel(),
    }
    for name, x in (("service_level", sl), ("asa_seconds", asa), ("abandonment", abd)):
        mean, half = _ci(x, ci_level)
        frame[name] = mean.ravel()
        frame[f"{name}_lo"] = (mean - half).ravel()
        frame[f"{name}_hi"] = (mean + half).ravel()
    frame["busy_agents"] = acc["busy"].mean(axis=0).ravel()
    frame["replications_with_contacts"] = (acc["offered"] > 0).sum(axis=0).ravel()
    intervals = pd.DataFrame(frame)
    intervals["channel"] = intervals["channel"].astype(str)

    tot = {k: acc[k].sum(axis=1) for k in keys}          # [R, C]
    with np.errstate(invalid="ignore", divide="ignore"):
        r_sl = np.where(tot["offered"] > 0, tot["in_target"] / tot["offered"], np.nan)
        r_asa = np.where(tot["answered"] > 0, tot["wait_sum"] / tot["answered"], np.nan)
        r_ab = np.where(tot["offered"] > 0, tot["abandoned"] / tot["offered"], np.nan)
    per_rep = pd.DataFrame({
        "replication": np.repeat(np.arange(R), C),
        "channel": np.tile(np.array(m.channels, dtype=object), R),
        "offered": tot["offered"].ravel(), "answered": tot["answered"].ravel(),
        "answered_in_target": tot["in_target"].ravel(),
        "abandoned": tot["abandoned"].ravel(), "wait_seconds_sum": tot["wait_sum"].ravel(),
        "service_level": r_sl.ravel(), "asa_seconds": r_asa.ravel(),
        "abandonment": r_ab.ravel(),
    })
    per_rep["channel"] = per_rep["channel"].astype(str)
    kinds = {v: k for k, v in _KIND_CODE.items()}
    summ: dict[str, Any] = {
        "channel": list(m.channels),
        "kind": [kinds[int(k)] for k in m.kind],
        "volume": m.volume.sum(axis=0),
        "offered": tot["offered"].mean(axis=0),
        "answered": tot["answered"].mean(axis=0),
        "abandoned": tot["abandoned"].mean(axis=0),
    }
    for name, x in (("service_level", r_sl), ("asa_seconds", r_asa), ("abandonment", r_ab)):
        mean, half = _ci(x, ci_level)
        summ[name] = mean
        summ[f"{name}_lo"] = mean - half
        summ[f"{name}_hi"] = mean + half
    summ["service_level_target"] = m.sl_target
    summ["busy_agent_hours"] = tot["busy"].mean(axis=0) * m.dt / 3600.0
    channels = pd.DataFrame(summ)

    busy_all = acc["busy"].sum(axis=2).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        occ = np.where(avail_mean > 0, busy_all / avail_mean, np.nan)
    occupancy = pd.DataFrame({"timestamp": ts, "available_agents": avail_mean,
                              "busy_agents": busy_all, "occupancy": occ})
    return SimulationResult(
        per_interval=intervals, per_channel=channels, occupancy=occupancy,
        per_replication=per_rep, replications=R, seed=seed, routing=routing,
        handle_time=handle_time, ci_level=ci_level,
        elapsed_seconds=time.perf_counter() - t_start, notes=list(m.notes),
        contacts=pd.concat(logs, ignore_index=True) if keep_contacts else None,
    )


def pooling_gain(demand_df: pd.DataFrame, assignments: pd.DataFrame,
                 roster: pd.DataFrame | None, scenario: Scenario, *,
                 coverage_df: pd.DataFrame | None = None, replications: int = 10,
                 seed: int = 0, handle_time: str = "exponential") -> pd.DataFrame:
    """Service level with multi-skill routing vs dedicated agents, same schedule.

    Runs :func:`simulate` twice on identical customers (common random
    numbers): ``routing="skills"`` (pooled) and ``routing="dedicated"`` (each
    agent-interval serves one channel, drawn from the assignment fractions:
    the world per-channel Erlang assumes). Shifts are not used, so both runs
    see the same agent-intervals.

    Parameters
    ----------
    demand_df, assignments, roster, scenario
        As for :func:`simulate`.
    coverage_df : DataFrame, optional
        From :func:`wfm.coverage.coverage`; adds the analytic per-channel
        (Erlang) volume-weighted service level for comparison.
    replications, seed, handle_time
        As for :func:`simulate`.

    Returns
    -------
    DataFrame
        Per channel: ``volume``, ``service_level_dedicated``,
        ``service_level_pooled`` (+ ``_lo``/``_hi``), ``gain`` (pooled minus
        dedicated, 0-1 points) with ``gain_lo``/``gain_hi`` (paired t interval
        over replications), ``service_level_erlang`` when ``coverage_df`` is
        given, and a row ``channel = "all"`` weighted by simulated offered
        contacts.
    """
    kw = dict(replications=replications, seed=seed, handle_time=handle_time)
    pooled = simulate(demand_df, None, assignments, roster, scenario, routing="skills", **kw)
    dedicated = simulate(demand_df, None, assignments, roster, scenario,
                         routing="dedicated", **kw)
    pr = pooled.per_replication
    dr = dedicated.per_replication
    rows = []
    level = pooled.ci_level
    chans = list(pooled.per_channel["channel"])
    for name in chans + ["all"]:
        if name == "all":
            p = pr.groupby("replication")[["answered_in_target", "offered"]].sum()
            d = dr.groupby("replication")[["answered_in_target", "offered"]].sum()
            ps = (p.answered_in_target / p.offered).to_numpy()
            ds = (d.answered_in_target / d.offered).to_numpy()
            vol = float(pooled.per_channel["volume"].sum())
        else:
            ps = pr.loc[pr.channel == name, "service_level"].to_numpy()
            ds = dr.loc[dr.channel == name, "service_level"].to_numpy()
            vol = float(pooled.per_channel.loc[pooled.per_channel.channel == name, "volume"].iloc[0])
        pm, ph = _ci(ps, level)
        dm, dh = _ci(ds, level)
        gm, gh = _ci(ps - ds, level)
        rows.append({"channel": name, "volume": vol,
                     "service_level_dedicated": float(dm),
                     "service_level_dedicated_lo": float(dm - dh),
                     "service_level_dedicated_hi": float(dm + dh),
                     "service_level_pooled": float(pm),
                     "service_level_pooled_lo": float(pm - ph),
                     "service_level_pooled_hi": float(pm + ph),
                     "gain": float(gm), "gain_lo": float(gm - gh), "gain_hi": float(gm + gh)})
    out = pd.DataFrame(rows)
    if coverage_df is not None:
        erl = {}
        for name in chans:
            d = coverage_df[coverage_df["channel"] == name]
            v = np.nan_to_num(d["volume"].to_numpy(float))
            s = d["service_level"].to_numpy(float)
            ok = np.isfinite(s) & (v > 0)
            erl[name] = float(np.dot(s[ok], v[ok]) / v[ok].sum()) if ok.any() else np.nan
        d = coverage_df[coverage_df["channel"].isin(chans)]
        v = np.nan_to_num(d["volume"].to_numpy(float))
        s = d["service_level"].to_numpy(float)
        ok = np.isfinite(s) & (v > 0)
        erl["all"] = float(np.dot(s[ok], v[ok]) / v[ok].sum()) if ok.any() else np.nan
        out["service_level_erlang"] = out["channel"].map(erl)
    return out


def compare_with_erlang(result: SimulationResult, kpis_df: pd.DataFrame) -> pd.DataFrame:
    """Simulated service level next to the per-channel analytic one.

    Parameters
    ----------
    result : SimulationResult
        From :func:`simulate`.
    kpis_df : DataFrame
        From :func:`wfm.coverage.kpis` (``channel, service_level, ...``), i.e.
        Erlang C/A, concurrency and backlog models with dedicated agents.

    Returns
    -------
    DataFrame
        Per simulated channel and ``"all"`` (weighted by simulated offered
        contacts): ``channel, kind, service_level_erlang,
        service_level_simulated, service_level_simulated_lo,
        service_level_simulated_hi, difference`` (simulated minus Erlang),
        ``asa_seconds_erlang, asa_seconds_simulated, abandonment_erlang,
        abandonment_simulated``.
    """
    k = kpis_df.set_index("channel")
    pc = result.per_channel
    rows = []
    for r in pc.itertuples(index=False):
        e = k.loc[r.channel] if r.channel in k.index else None
        rows.append({
            "channel": r.channel, "kind": r.kind,
            "service_level_erlang": float(e["service_level"]) if e is not None else np.nan,
            "service_level_simulated": r.service_level,
            "service_level_simulated_lo": r.service_level_lo,
            "service_level_simulated_hi": r.service_level_hi,
            "asa_seconds_erlang": float(e["asa_seconds"]) if e is not None else np.nan,
            "asa_seconds_simulated": r.asa_seconds,
            "abandonment_erlang": float(e["abandonment"]) if e is not None else np.nan,
            "abandonment_simulated": r.abandonment,
        })
    pr = result.per_replication.groupby("replication")[["answered_in_target", "offered"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean, half = _ci((pr.answered_in_target / pr.offered).to_numpy(), result.ci_level)
    w = pc["offered"].to_numpy(float)
    erl = np.array([row["service_level_erlang"] for row in rows], float)
    ok = np.isfinite(erl) & (w > 0)
    rows.append({
        "channel": "all", "kind": "all",
        "service_level_erlang": float(np.dot(erl[ok], w[ok]) / w[ok].sum()) if ok.any()
        else np.nan,
        "service_level_simulated": float(mean),
        "service_level_simulated_lo": float(mean - half),
        "service_level_simulated_hi": float(mean + half),
        "asa_seconds_erlang": np.nan, "asa_seconds_simulated": np.nan,
        "abandonment_erlang": np.nan, "abandonment_simulated": np.nan,
    })
    out = pd.DataFrame(rows)
    out["difference"] = out["service_level_simulated"] - out["service_level_erlang"]
    return out
