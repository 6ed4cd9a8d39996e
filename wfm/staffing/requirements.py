"""Requirements stage: forecast -> agents per channel per interval, and the
service a given staffing achieves.

:func:`requirements` turns a forecast frame into the requirements frame of
the design (one row per interval per staffed channel)::

    timestamp, channel, volume, aht_seconds, agents_net, agents_required,
    service_level, asa_seconds, occupancy,
    agents_net_whole, agents_required_whole, abandonment

``agents_net`` / ``agents_required`` are FRACTIONAL: the agent level at which
the channel's targets are met exactly (continuous Erlang extension, or the
exact work rate for deferred channels). ``*_whole`` are the minimal whole
numbers. ``agents_required = agents_net / (1 - shrinkage)``;
``agents_required_whole = max(ceil(agents_required), agents_net_whole)``.
The scheduler consumes the fractional ``agents_required``: it pools
multi-skilled agents across channels, and rounding every channel up first
would overstaff. ``service_level``, ``asa_seconds``, ``occupancy`` and
``abandonment`` are what ``agents_net_whole`` agents achieve.

Per channel kind (:mod:`wfm.staffing.channels`):

- realtime: Erlang C, or Erlang A when ``patience_seconds`` is set, for the
  service-level target (and the ASA target, occupancy cap if set);
- concurrent: the same on session slots, ``concurrency`` slots per agent;
- deferred: the "level" backlog policy (each interval's work spread over its
  response window, only in intervals some shift template can cover),
  divided by ``interval * max_occupancy``; the frame gets a row for every
  interval between the first and last forecast timestamp;
- derived channels get ``volume = source volume * derived_rate``;
  channels with ``staffed = false`` produce no rows.

``staffing.min_agents`` is a floor wherever a channel has work (volume > 0,
or deferred capacity > 0).

:func:`service_with_agents` is the reverse: given net agents per interval and
channel, what service they achieve. Coverage and the dashboard's what-if
use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wfm.config import Channel, Scenario
from wfm.errors import StaffingError, WfmError
from wfm.staffing import channels as chm

__all__ = ["REQUIREMENT_COLUMNS", "SERVICE_COLUMNS", "prepare_demand", "requirements",
           "service_with_agents", "workable_mask"]

REQUIREMENT_COLUMNS = [
    "timestamp", "channel", "volume", "aht_seconds", "agents_net", "agents_required",
    "service_level", "asa_seconds", "occupancy", "agents_net_whole",
    "agents_required_whole", "abandonment",
]
SERVICE_COLUMNS = [
    "timestamp", "channel", "volume", "aht_seconds", "agents_net", "service_level",
    "asa_seconds", "occupancy", "abandonment", "wait_probability",
]
def _lookup(channel: pd.Series, mapping: dict, default=np.nan) -> np.ndarray:
    """``channel.map(mapping)`` as a float array, fast for string columns."""
    codes, uniques = pd.factorize(channel)
    table = np.array([mapping.get(u, default) for u in uniques] + [default], dtype=float)
    return table[codes]


_WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


# -- input preparation -------------------------------------------------------------

def _timestamps(values: pd.Series, tz: str, what: str) -> pd.Series:
    ts = values
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(ts.dtype):
            raise StaffingError(f"{what}: timestamps have no time zone; expected local "
                                f"times with UTC offset in {tz}")
        try:
            ts = pd.to_datetime(ts, utc=True, format="ISO8601")
        except (ValueError, TypeError) as err:
            raise StaffingError(f"{what}: column 'timestamp' is not ISO 8601 with a UTC "
                                f"offset ({err})") from None
    return ts.dt.tz_convert(tz)


def prepare_demand(frame: pd.DataFrame, scenario: Scenario,
                   what: str = "forecast") -> pd.DataFrame:
    """Validated ``timestamp, channel, volume, aht_seconds`` rows of the staffed channels.

    Derived channels get ``volume = source volume * derived_rate`` wherever the
    source channel has rows (their own ``aht_seconds`` is kept where given);
    channels with ``staffed = false`` are then left out (by design, not
    dropped: they need no agents). Missing ``aht_seconds`` take the channel
    default.

    Raises
    ------
    StaffingError
        Unknown channel, missing column, negative / missing volume,
        duplicate (timestamp, channel), timestamps without a time zone.
    """
    missing = [c for c in ("timestamp", "channel", "volume") if c not in frame.columns]
    if missing:
        raise StaffingError(f"{what}: missing column(s) {missing}; expected at least "
                            "timestamp, channel, volume (and aht_seconds)")
    tz = scenario.site.timezone
    df = pd.DataFrame({
        "timestamp": _timestamps(frame["timestamp"].reset_index(drop=True), tz, what),
        "channel": frame["channel"].astype(str).to_numpy(),
        "volume": pd.to_numeric(frame["volume"], errors="coerce").to_numpy(dtype=float),
        "aht_seconds": (pd.to_numeric(frame["aht_seconds"], errors="coerce")
                        .to_numpy(dtype=float) if "aht_seconds" in frame.columns
                        else np.full(len(frame), np.nan)),
    })
    known = set(scenario.channel_names)
    unknown = sorted(set(df["channel"].unique()) - known)
    if unknown:
        raise StaffingError(f"{what}: channel(s) {unknown} are not in the scenario; "
                            f"expected one of {scenario.channel_names}")
    bad = np.flatnonzero(~np.isfinite(df["volume"].to_numpy()) |
                         (df["volume"].to_numpy() < 0))
    if bad.size:
        i = int(bad[0])
        raise StaffingError(f"{what}: row {i}: field 'volume' is {frame['volume'].iloc[i]!r}; "
                            f"expected a number >= 0 ({bad.size} such row(s))")
    if df["timestamp"].isna().any():
        i = int(np.flatnonzero(df["timestamp"].isna().to_numpy())[0])
        raise StaffingError(f"{what}: row {i}: field 'timestamp' is missing")
    dup = df.duplicated(["timestamp", "channel"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise StaffingError(f"{what}: row {i}: duplicate (timestamp, channel) = "
                            f"({df['timestamp'].iloc[i]}, {df['channel'].iloc[i]}); expected "
                            "one row per interval per channel")
    aht = df["aht_seconds"].to_numpy()
    bad_aht = np.flatnonzero(np.isfinite(aht) & (aht <= 0))
    if bad_aht.size:
        i = int(bad_aht[0])
        raise StaffingError(f"{what}: row {i}: field 'aht_seconds' is {aht[i]!r}; expected "
                            "a number > 0")
    default_aht = _lookup(df["channel"], {c.name: c.aht_seconds for c in scenario.channels})
    aht = df["aht_seconds"].to_numpy(dtype=float)
    df["aht_seconds"] = np.where(np.isnan(aht), default_aht, aht)

    parts = [df]
    for ch in scenario.channels:
        if ch.derived_from is None:
            continue
        src = df[df["channel"] == ch.derived_from]
        if src.empty:
            continue          # no source rows: keep the derived channel's own rows, if any
        own = df[df["channel"] == ch.name].set_index("timestamp")["aht_seconds"]
        derived = pd.DataFrame({
            "timestamp": src["timestamp"].array,
            "channel": ch.name,
            "volume": chm.derived_volume(src["volume"].to_numpy(), ch.derived_rate),
        })
        derived["aht_seconds"] = (derived["timestamp"].map(own).to_numpy(dtype=float)
                                  if len(own) else np.nan)
        derived["aht_seconds"] = derived["aht_seconds"].fillna(ch.aht_seconds)
        parts = [p[p["channel"] != ch.name] for p in parts] + [derived]
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else df
    staffed = {c.name for c in scenario.staffed_channels}
    df = df[df["channel"].isin(staffed)].reset_index(drop=True)
    return df


def _check_spacing(ts: pd.Series, interval_minutes: int, channel: str, what: str) -> None:
    if len(ts) < 2:
        return
    ns = np.diff(np.sort(ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)))
    step = interval_minutes * 60 * 10**9
    off = ns % step
    if np.any(off != 0):
        raise StaffingError(f"{what}: channel {channel!r}: timestamps are not on a "
                            f"{interval_minutes}-minute grid (site.interval_minutes); "
                            "expected one row per interval start")


# -- workable intervals of deferred channels -----------------------------------------

def workable_mask(timestamps: pd.DatetimeIndex, interval_minutes: int, scenario: Scenario,
                  channel: str) -> np.ndarray:
    """Intervals in which some shift template could have an agent on ``channel``.

    A template covers the local times from ``start_earliest`` to
    ``start_latest + max(lengths_hours)`` on its weekdays (past midnight into
    the next day). With no shift templates at all every interval is workable.
    """
    n = len(timestamps)
    templates = [t for t in scenario.shift_templates
                 if t.channels is None or channel in t.channels]
    if not scenario.shift_templates:
        return np.ones(n, bool)
    idx = pd.DatetimeIndex(timestamps)
    minute = (idx.hour * 60 + idx.minute).to_numpy()
    dow = idx.day_of_week.to_numpy()
    out = np.zeros(n, bool)
    for t in templates:
        start = t.start_earliest.hour * 60 + t.start_earliest.minute
        end = (t.start_latest.hour * 60 + t.start_latest.minute
               + int(round(max(t.lengths_hours) * 60)))
        days = np.zeros(7, bool)
        days[[_WEEKDAY[d] for d in t.days]] = True
        out |= days[dow] & (minute >= start) & (minute + interval_minutes <= end)
        if end > 1440:
            out |= days[(dow - 1) % 7] & (minute + interval_minutes <= end - 1440)
    return out


# -- per-kind computation -----------------------------------------------------------

def _queue_rows(ch: Channel, scenario: Scenario, vol, aht, interval_minutes):
    traffic = vol * aht / (interval_minutes * 60.0)
    k = ch.concurrency if ch.kind == "concurrent" else 1
    try:
        req = chm.queue_requirement(traffic, aht, ch.answer_seconds, ch.service_level_target,
                                    concurrency=k, patience_seconds=ch.patience_seconds,
                                    asa_target=ch.asa_target_seconds,
                                    max_occupancy=scenario.max_occupancy_of(ch.name))
    except WfmError as err:
        raise StaffingError(f"channel {ch.name!r}: {err}") from None
    whole = np.asarray(req.whole, dtype=float)
    frac = np.asarray(req.fractional, dtype=float)
    floor = float(scenario.staffing.min_agents)
    busy = vol > 0
    whole = np.where(busy, np.maximum(whole, floor), 0.0)
    frac = np.where(busy, np.maximum(frac, floor), 0.0)
    m = chm.queue_metrics(traffic, whole, aht, ch.answer_seconds, concurrency=k,
                          patience_seconds=ch.patience_seconds)
    return {
        "agents_net": frac, "agents_net_whole": whole,
        "service_level": np.asarray(m.service_level, float),
        "asa_seconds": np.asarray(m.asa_seconds, float),
        "occupancy": np.asarray(m.occupancy, float),
        "abandonment": np.asarray(m.abandonment, float),
        "wait_probability": np.asarray(m.wait_probability, float),
    }


def _full_grid(ts: pd.Series, interval_minutes: int, extra: int = 0) -> pd.DatetimeIndex:
    step = pd.Timedelta(minutes=interval_minutes)
    first, last = ts.min(), ts.max()
    n = int((last - first) / step) + 1 + extra
    return pd.date_range(first, periods=n, freq=step, name="timestamp")


def _deferred_rows(ch: Channel, scenario: Scenario, sub: pd.DataFrame, interval_minutes: int,
                   policy: str) -> pd.DataFrame:
    d = chm.deadline_intervals(ch.response_time_hours, interval_minutes)
    grid = _full_grid(sub["timestamp"], interval_minutes, extra=d)
    n_out = len(grid) - d
    pos = ((sub["timestamp"] - grid[0]) / pd.Timedelta(minutes=interval_minutes)).to_numpy()
    pos = np.round(pos).astype(np.int64)
    vol = np.zeros(len(grid))
    aht = np.full(len(grid), float(ch.aht_seconds))
    vol[pos] = sub["volume"].to_numpy()
    aht[pos] = sub["aht_seconds"].to_numpy()
    work = vol * aht
    workable = workable_mask(grid, interval_minutes, scenario, ch.name)
    if not workable.any() and work.sum() > 0:
        raise StaffingError(f"channel {ch.name!r}: no shift template can cover this channel, "
                            "so its deferred work can never be done; add a template")
    cap = chm.deferred_capacity(work, d, workable, policy=policy)
    interval_s = interval_minutes * 60.0
    occ = scenario.max_occupancy_of(ch.name)
    frac = cap / (interval_s * occ)
    floor = float(scenario.staffing.min_agents)
    busy = cap > 0
    frac = np.where(busy, np.maximum(frac, floor), 0.0)
    whole = np.where(busy, np.maximum(np.ceil(frac - 1e-9 * np.maximum(frac, 1.0)), floor), 0.0)
    svc = _deferred_service(work, whole, d, interval_s, occ)
    out = pd.DataFrame({"timestamp": grid[:n_out], "channel": ch.name,
                        "volume": vol[:n_out], "aht_seconds": aht[:n_out],
                        "agents_net": frac[:n_out], "agents_net_whole": whole[:n_out]})
    for key, val in svc.items():
        out[key] = val[:n_out]
    return out


def _deferred_service(work, agents, d, interval_s, occ):
    cap = np.asarray(agents, float) * interval_s * occ
    res = chm.backlog_service(work, cap, d, interval_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        busy = np.where(agents > 0, res.processed_seconds / (agents * interval_s), 0.0)
    return {"service_level": res.on_time_share, "asa_seconds": res.response_seconds,
            "occupancy": busy, "abandonment": np.zeros(len(work)),
            "wait_probability": np.where(work > 0, 1.0, 0.0)}


def requirements(forecast_df: pd.DataFrame, scenario: Scenario, *,
                 deferred_policy: str = "level") -> pd.DataFrame:
    """Agents needed per staffed channel and interval (the requirements frame).

    Parameters
    ----------
    forecast_df : DataFrame
        ``timestamp, channel, volume[, aht_seconds]`` (a forecast frame;
        other columns are ignored). Timestamps tz-aware (or ISO text with
        offsets) on the ``site.interval_minutes`` grid.
    scenario : Scenario
        Channels, shrinkage, occupancy cap, minimum agents, shift templates.
    deferred_policy : {"level", "jit"}
        Backlog policy of deferred channels (:func:`wfm.staffing.channels.deferred_capacity`).

    Returns
    -------
    DataFrame
        :data:`REQUIREMENT_COLUMNS`, sorted by timestamp then channel (scenario order).

    Raises
    ------
    StaffingError
        Bad input (unknown channel, negative volume, ...) or an impossible target.

    Examples
    --------
    >>> import pandas as pd
    >>> from wfm.config import Scenario
    >>> s = Scenario.model_validate({"channels": [{"name": "voice", "aht_seconds": 180}],
    ...                              "staffing": {"shrinkage": 0.3}})
    >>> fc = pd.DataFrame({"timestamp": pd.date_range("2026-01-05 09:00", periods=2,
    ...                    freq="15min", tz="Europe/Berlin"), "channel": "voice",
    ...                    "volume": [50.0, 0.0]})
    >>> r = requirements(fc, s)
    >>> r[["agents_net", "agents_net_whole", "agents_required_whole"]].round(2).values.tolist()
    [[13.04, 14.0, 19.0], [0.0, 0.0, 0.0]]
    """
    if deferred_policy not in chm.DEFERRED_POLICIES:
        raise StaffingError(f"unknown deferred_policy {deferred_policy!r}; expected one of "
                            f"{list(chm.DEFERRED_POLICIES)}")
    demand = prepare_demand(forecast_df, scenario, "forecast")
    im = scenario.site.interval_minutes
    groups = demand.groupby("channel", sort=False).indices
    parts = []
    for ch in scenario.staffed_channels:
        if ch.name not in groups:
            continue
        sub = demand.iloc[groups[ch.name]].sort_values("timestamp", kind="stable")
        _check_spacing(sub["timestamp"], im, ch.name, "forecast")
        if ch.kind == "deferred":
            part = _deferred_rows(ch, scenario, sub, im, deferred_policy)
        else:
            vol = sub["volume"].to_numpy(dtype=float)
            aht = sub["aht_seconds"].to_numpy(dtype=float)
            cols = _queue_rows(ch, scenario, vol, aht, im)
            part = pd.DataFrame({"timestamp": sub["timestamp"].array, "channel": ch.name,
                                 "volume": vol, "aht_seconds": aht, **cols})
        shrink = scenario.shrinkage_of(ch.name)
        net = part["agents_net"].to_numpy()
        req = net / (1.0 - shrink)
        part["agents_required"] = req
        part["agents_required_whole"] = np.maximum(
            np.ceil(req - 1e-9 * np.maximum(req, 1.0)), part["agents_net_whole"].to_numpy())
        parts.append(part)
    if not parts:
        return _empty(REQUIREMENT_COLUMNS, scenario)
    out = pd.concat(parts, ignore_index=True)
    for c in ("agents_net_whole", "agents_required_whole"):
        out[c] = out[c].astype(np.int64)
    return _sorted(out, scenario)[REQUIREMENT_COLUMNS]


def _sorted(df: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    order = {name: i for i, name in enumerate(scenario.channel_names)}
    key = _lookup(df["channel"], order)
    ts = df["timestamp"].to_numpy(dtype="datetime64[ns]")
    perm = np.lexsort((key, ts))
    return df.iloc[perm].reset_index(drop=True)


def _empty(columns, scenario: Scenario) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    out["timestamp"] = pd.Series(pd.DatetimeIndex([], tz=scenario.site.timezone))
    out["channel"] = pd.Series(dtype=str)
    return out[columns]


def service_with_agents(demand_df: pd.DataFrame, agents_df: pd.DataFrame | None,
                        scenario: Scenario) -> pd.DataFrame:
    """Service achieved with GIVEN net agents per interval and channel.

    Parameters
    ----------
    demand_df : DataFrame
        ``timestamp, channel, volume[, aht_seconds]`` (a forecast or a
        requirements frame).
    agents_df : DataFrame or None
        ``timestamp, channel, agents_net`` (or ``agents``): net agents on the
        channel, fractional allowed (e.g. scheduled heads x (1 - shrinkage)).
        ``None`` takes ``agents_net`` from ``demand_df``. A demand row without
        agents has 0 agents; agents without a demand row face volume 0.
    scenario : Scenario

    Returns
    -------
    DataFrame
        :data:`SERVICE_COLUMNS`, one row per (timestamp, channel) of the union,
        sorted by timestamp then channel. Realtime/concurrent: Erlang C/A with
        the (fractional) agents. Deferred: the FCFS backlog worked by the
        agents at ``max_occupancy``: ``service_level`` is the share of the
        interval's items answered within the response time (NaN when their
        deadline is past the last interval and they are not answered by
        then), ``asa_seconds`` their mean response time, ``occupancy`` the
        share of agent time spent on the backlog.

    Examples
    --------
    >>> import pandas as pd
    >>> from wfm.config import Scenario
    >>> s = Scenario.model_validate({"channels": [{"name": "voice", "aht_seconds": 180}]})
    >>> ts = pd.date_range("2026-01-05 09:00", periods=1, freq="15min", tz="Europe/Berlin")
    >>> d = pd.DataFrame({"timestamp": ts, "channel": "voice", "volume": [50.0]})
    >>> a = pd.DataFrame({"timestamp": ts, "channel": "voice", "agents_net": [14.0]})
    >>> round(float(service_with_agents(d, a, s)["service_level"].iloc[0]), 4)
    0.8884
    """
    demand = prepare_demand(demand_df, scenario, "demand")
    src = demand_df if agents_df is None else agents_df
    col = next((c for c in ("agents_net", "agents") if c in src.columns), None)
    if col is None or "timestamp" not in src.columns or "channel" not in src.columns:
        raise StaffingError("agents: expected columns timestamp, channel, agents_net")
    tz = scenario.site.timezone
    agents = pd.DataFrame({
        "timestamp": _timestamps(src["timestamp"].reset_index(drop=True), tz, "agents"),
        "channel": src["channel"].astype(str).to_numpy(),
        "agents_net": pd.to_numeric(src[col], errors="coerce").to_numpy(float),
    })
    a_vals = agents["agents_net"].to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(a_vals) | (a_vals < 0))
    if bad.size:
        i = int(bad[0])
        raise StaffingError(f"agents: row {i}: field 'agents_net' is {a_vals[i]!r}; "
                            "expected a number >= 0")
    if agents.duplicated(["timestamp", "channel"]).any():
        raise StaffingError("agents: duplicate (timestamp, channel) rows; expected one per "
                            "interval per channel")
    staffed = {c.name: c for c in scenario.staffed_channels}
    agents = agents[agents["channel"].isin(staffed)]
    merged = demand.merge(agents, on=["timestamp", "channel"], how="outer")
    default_aht = _lookup(merged["channel"], {c.name: c.aht_seconds for c in scenario.channels})
    merged["volume"] = merged["volume"].fillna(0.0)
    aht = merged["aht_seconds"].to_numpy(dtype=float)
    merged["aht_seconds"] = np.where(np.isnan(aht), default_aht, aht)
    merged["agents_net"] = merged["agents_net"].fillna(0.0)
    im = scenario.site.interval_minutes
    interval_s = im * 60.0
    groups = merged.groupby("channel", sort=False).indices
    parts = []
    for name, ch in staffed.items():
        if name not in groups:
            continue
        sub = merged.iloc[groups[name]].sort_values("timestamp", kind="stable")
        vol = sub["volume"].to_numpy(float)
        aht = sub["aht_seconds"].to_numpy(float)
        ag = sub["agents_net"].to_numpy(float)
        if ch.kind == "deferred":
            _check_spacing(sub["timestamp"], im, name, "demand")
            d = chm.deadline_intervals(ch.response_time_hours, im)
            grid = _full_grid(sub["timestamp"], im)
            pos = np.round(((sub["timestamp"] - grid[0]) /
                            pd.Timedelta(minutes=im)).to_numpy()).astype(np.int64)
            work = np.zeros(len(grid))
            agents_grid = np.zeros(len(grid))
            work[pos] = vol * aht
            agents_grid[pos] = ag
            svc = _deferred_service(work, agents_grid, d, interval_s,
                                    scenario.max_occupancy_of(name))
            cols = {k: v[pos] for k, v in svc.items()}
        else:
            traffic = vol * aht / interval_s
            k = ch.concurrency if ch.kind == "concurrent" else 1
            m = chm.queue_metrics(traffic, ag, aht, ch.answer_seconds, concurrency=k,
                                  patience_seconds=ch.patience_seconds)
            cols = {"service_level": m.service_level, "asa_seconds": m.asa_seconds,
                    "occupancy": m.occupancy, "abandonment": m.abandonment,
                    "wait_probability": m.wait_probability}
        part = pd.DataFrame({"timestamp": sub["timestamp"].array, "channel": name,
                             "volume": vol, "aht_seconds": aht, "agents_net": ag})
        for key, val in cols.items():
            part[key] = np.asarray(val, dtype=float)
        parts.append(part)
    if not parts:
        return _empty(SERVICE_COLUMNS, scenario)
    out = pd.concat(parts, ignore_index=True)
    return _sorted(out, scenario)[SERVICE_COLUMNS]

