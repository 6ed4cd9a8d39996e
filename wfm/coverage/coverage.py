"""Coverage: required vs scheduled agents, gaps, and the service they achieve.

The coverage frame joins the staffing requirements with the schedule's
channel assignments, one row per interval per channel:

``timestamp, channel, required, scheduled, gap, service_level`` plus the
extras ``volume, aht_seconds, agents_net, asa_seconds, occupancy,
abandonment, requirement_missing``.

``required`` is ``agents_required`` (heads to schedule, after shrinkage) and
``scheduled`` the sum of assignment fractions (heads on the channel). The
service level is what the channel's own queueing model (Erlang C/A for
realtime, the concurrency model for chat, the backlog model for deferred
work; :func:`wfm.staffing.service_with_agents`) gives with
``agents_net = scheduled * (1 - shrinkage)`` agents. Each channel is treated
as served by dedicated agents; :mod:`wfm.coverage.simulation` measures what
multi-skill routing adds.

Examples
--------
>>> from wfm.coverage import coverage, kpis, worst_gaps   # doctest: +SKIP
>>> cov = coverage(requirements, assignments, scenario)   # doctest: +SKIP
>>> kpis(cov, requirements, scenario)                     # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wfm.config import Scenario
from wfm.errors import DataValidationError

COVERAGE_COLUMNS = ["timestamp", "channel", "required", "scheduled", "gap", "service_level"]
COVERAGE_EXTRAS = ["volume", "aht_seconds", "agents_net", "asa_seconds", "occupancy",
                   "abandonment", "requirement_missing"]
KPI_COLUMNS = [
    "channel", "kind", "volume", "service_level", "service_level_target", "asa_seconds",
    "abandonment", "occupancy", "intervals", "intervals_with_volume",
    "share_intervals_under_target", "required_hours", "scheduled_hours",
    "under_staffed_hours", "over_staffed_hours", "unplanned_hours",
]

#: An interval counts as under target when its service level is more than this
#: below the target (0-1); see :func:`kpis`.
UNDER_TARGET_TOLERANCE = 0.005

_REQ_NEEDED = ("timestamp", "channel", "volume", "agents_required")
_ASG_NEEDED = ("timestamp", "agent_id", "channel", "fraction")


def _check_columns(df: pd.DataFrame, needed: tuple[str, ...], what: str) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{what}: missing column(s) {missing}; expected at least {list(needed)}, "
            f"found {list(df.columns)}"
        )


def _local_timestamps(ts: pd.Series, tz: str, what: str) -> pd.Series:
    """``ts`` as tz-aware timestamps in ``tz``; naive timestamps are an error."""
    out = pd.to_datetime(ts)
    if getattr(out.dt, "tz", None) is None:
        raise DataValidationError(
            f"{what}: column 'timestamp' has no time zone; expected tz-aware timestamps "
            f"in the site's zone {tz!r} (ISO 8601 with UTC offset in files)"
        )
    return out.dt.tz_convert(tz)


def _check_channels(channels: pd.Series, scenario: Scenario, what: str) -> None:
    known = set(scenario.channel_names)
    bad = sorted(set(channels.astype(str)) - known)
    if bad:
        raise DataValidationError(
            f"{what}: unknown channel(s) {bad}; expected one of {scenario.channel_names}"
        )


def interval_hours(scenario: Scenario) -> float:
    """Length of one planning interval [h]."""
    return scenario.site.interval_minutes / 60.0


def scheduled_heads(assignments: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Heads scheduled per interval and channel: the sum of assignment fractions.

    Parameters
    ----------
    assignments : DataFrame
        ``timestamp, agent_id, channel, fraction`` (fraction of the interval, 0-1).
    scenario : Scenario

    Returns
    -------
    DataFrame
        ``timestamp, channel, scheduled`` [agents].
    """
    _check_columns(assignments, _ASG_NEEDED, "assignments")
    a = assignments.loc[:, list(_ASG_NEEDED)].copy()
    a["timestamp"] = _local_timestamps(a["timestamp"], scenario.site.timezone, "assignments")
    a["channel"] = a["channel"].astype(str)
    _check_channels(a["channel"], scenario, "assignments")
    frac = pd.to_numeric(a["fraction"], errors="coerce")
    bad = frac.isna() | (frac < 0) | (frac > 1 + 1e-9)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"assignments: row {i}: field 'fraction' is {a['fraction'].iloc[i]!r}; "
            "expected a number between 0 and 1 (share of the interval)"
        )
    a["fraction"] = frac.astype(float)
    return (a.groupby(["timestamp", "channel"], sort=True, observed=True)["fraction"]
            .sum().rename("scheduled").reset_index())


def coverage(requirements: pd.DataFrame, assignments: pd.DataFrame,
             scenario: Scenario) -> pd.DataFrame:
    """Required vs scheduled agents and the service achieved, per interval and channel.

    Parameters
    ----------
    requirements : DataFrame
        The staffing frame: ``timestamp, channel, volume, agents_required`` and
        ``aht_seconds`` (channel default when absent).
    assignments : DataFrame
        ``timestamp, agent_id, channel, fraction`` from the schedule.
    scenario : Scenario
        Channel kinds, targets, shrinkage.

    Returns
    -------
    DataFrame
        One row per (timestamp, channel) found in either input, sorted by
        timestamp, then in the scenario's channel order:
        ``timestamp, channel, required, scheduled, gap, service_level`` [agents,
        agents, agents, 0-1] and ``volume, aht_seconds, agents_net,
        asa_seconds, occupancy, abandonment, requirement_missing``.
        Requirement rows nobody is scheduled on get ``scheduled = 0``;
        scheduled rows without a requirement row are kept with
        ``required = 0``, ``requirement_missing = True`` and NaN service.

    Notes
    -----
    ``agents_net = scheduled * (1 - shrinkage of the channel)``. The service
    columns come from :func:`wfm.staffing.service_with_agents`, i.e. each
    channel's own model with dedicated agents (Poisson arrivals; see there).

    Examples
    --------
    >>> cov = coverage(requirements, assignments, scenario)   # doctest: +SKIP
    >>> cov[cov.gap < 0].head()                               # doctest: +SKIP
    """
    tz = scenario.site.timezone
    _check_columns(requirements, _REQ_NEEDED, "requirements")
    req = requirements.copy()
    req["timestamp"] = _local_timestamps(req["timestamp"], tz, "requirements")
    req["channel"] = req["channel"].astype(str)
    _check_channels(req["channel"], scenario, "requirements")
    dup = req.duplicated(["timestamp", "channel"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataValidationError(
            f"requirements: row {i}: duplicate (timestamp, channel) = "
            f"({req['timestamp'].iloc[i]}, {req['channel'].iloc[i]}); expected one row "
            "per interval per channel"
        )
    if "aht_seconds" not in req.columns:
        req["aht_seconds"] = np.nan
    default_aht = req["channel"].map({c.name: c.aht_seconds for c in scenario.channels})
    req["aht_seconds"] = pd.to_numeric(req["aht_seconds"], errors="coerce").fillna(default_aht)
    req = req[["timestamp", "channel", "volume", "aht_seconds", "agents_required"]]

    sched = scheduled_heads(assignments, scenario)
    cov = req.merge(sched, on=["timestamp", "channel"], how="outer", indicator=True)
    cov["requirement_missing"] = (cov["_merge"] == "right_only").to_numpy()
    cov = cov.drop(columns="_merge")
    cov["scheduled"] = cov["scheduled"].fillna(0.0).astype(float)
    cov["required"] = cov["agents_required"].fillna(0.0).astype(float)
    cov["gap"] = cov["scheduled"] - cov["required"]
    shrink = cov["channel"].map({c.name: scenario.shrinkage_of(c.name)
                                 for c in scenario.channels}).astype(float)
    cov["agents_net"] = cov["scheduled"] * (1.0 - shrink)
    order = {name: i for i, name in enumerate(scenario.channel_names)}
    cov["_order"] = cov["channel"].map(order)
    cov = (cov.sort_values(["timestamp", "_order"], kind="stable")
           .drop(columns="_order").reset_index(drop=True))

    svc = _service(cov.loc[~cov["requirement_missing"]], scenario)
    for col in ("service_level", "asa_seconds", "occupancy", "abandonment"):
        cov[col] = np.nan
        cov.loc[~cov["requirement_missing"], col] = svc[col].to_numpy()
    return cov[COVERAGE_COLUMNS + COVERAGE_EXTRAS]


def _service(rows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Service achieved by ``rows.agents_net`` net agents, aligned with ``rows``."""
    from wfm.staffing import service_with_agents

    demand = rows[["timestamp", "channel", "volume", "aht_seconds"]].reset_index(drop=True)
    agents = rows[["timestamp", "channel", "agents_net"]].reset_index(drop=True)
    if demand.empty:
        return pd.DataFrame({c: np.array([], float) for c in
                             ("service_level", "asa_seconds", "occupancy", "abandonment")})
    out = service_with_agents(demand, agents, scenario)
    out = out.copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"]).dt.tz_convert(scenario.site.timezone)
    out["channel"] = out["channel"].astype(str)
    keep = ["timestamp", "channel"] + [c for c in ("service_level", "asa_seconds",
                                                   "occupancy", "abandonment")
                                       if c in out.columns]
    merged = demand[["timestamp", "channel"]].merge(out[keep], on=["timestamp", "channel"],
                                                    how="left", validate="one_to_one")
    for c in ("service_level", "asa_seconds", "occupancy", "abandonment"):
        if c not in merged.columns:
            merged[c] = np.nan
    return merged


def _wavg(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    w = weights[ok].sum()
    return float(np.dot(values[ok], weights[ok]) / w) if w > 0 else float("nan")


def kpis(coverage_df: pd.DataFrame, requirements: pd.DataFrame | None,
         scenario: Scenario) -> pd.DataFrame:
    """Coverage KPIs per channel and overall (``channel = "all"``).

    Parameters
    ----------
    coverage_df : DataFrame
        From :func:`coverage`.
    requirements : DataFrame or None
        Used for ``volume`` when ``coverage_df`` has no volume column (e.g. a
        coverage file written by another tool); may be None otherwise.
    scenario : Scenario

    Returns
    -------
    DataFrame
        Columns ``KPI_COLUMNS``: ``volume`` [contacts], volume-weighted
        ``service_level`` (0-1) and ``abandonment`` (0-1), volume-weighted
        ``asa_seconds`` [s], ``occupancy`` (0-1, workload over net agents),
        ``share_intervals_under_target`` (0-1, among intervals with volume; more
        than UNDER_TARGET_TOLERANCE below the target),
        ``required_hours``, ``scheduled_hours``, ``under_staffed_hours``
        (sum of shortfalls ``max(-gap, 0)`` x interval length),
        ``over_staffed_hours`` [agent-hours] and ``unplanned_hours``
        (scheduled where no requirement row exists) [agent-hours].
        The overall row weights channels by volume; its ASA and occupancy
        cover realtime and concurrent channels only (a deferred channel's
        wait is hours, not seconds). Intervals whose queue is unstable (too
        few agents: infinite ASA) are left out of the ASA average; they show
        in ``service_level`` and ``share_intervals_under_target``.

    Examples
    --------
    >>> kpis(coverage(req, asg, scenario), req, scenario)   # doctest: +SKIP
    """
    cov = coverage_df.copy()
    if "volume" not in cov.columns:
        if requirements is None:
            raise DataValidationError("kpis: coverage frame has no 'volume' column and no "
                                      "requirements were given to take it from")
        r = requirements[["timestamp", "channel", "volume"]].copy()
        r["timestamp"] = _local_timestamps(r["timestamp"], scenario.site.timezone,
                                           "requirements")
        cov["timestamp"] = _local_timestamps(cov["timestamp"], scenario.site.timezone,
                                             "coverage")
        cov = cov.merge(r, on=["timestamp", "channel"], how="left")
    for col in ("asa_seconds", "abandonment", "occupancy", "agents_net"):
        if col not in cov.columns:
            cov[col] = np.nan
    if "requirement_missing" not in cov.columns:
        cov["requirement_missing"] = False
    h = interval_hours(scenario)
    rows = []
    kinds = {c.name: c.kind for c in scenario.channels}

    targets = {c.name: c.service_level_target for c in scenario.channels}

    def one(name: str, d: pd.DataFrame, kind: str) -> dict:
        vol = d["volume"].to_numpy(float)
        vol0 = np.nan_to_num(vol)
        sl = d["service_level"].to_numpy(float)
        gap = d["gap"].to_numpy(float)
        has_vol = vol0 > 0
        tgt = d["channel"].map(targets).to_numpy(float)
        # Half a percentage point of tolerance: a schedule that meets the fractional
        # requirement exactly sits at the target, and rounding must not count as a miss.
        under = has_vol & np.isfinite(sl) & (sl < tgt - UNDER_TARGET_TOLERANCE)
        # the overall ASA and occupancy leave out deferred channels (waits of hours)
        rt = (d["channel"].map(kinds).isin(["realtime", "concurrent"]).to_numpy()
              if name == "all" else np.ones(len(d), bool))
        net = np.nan_to_num(d["agents_net"].to_numpy(float))
        missing = d["requirement_missing"].to_numpy(bool)
        return {
            "channel": name, "kind": kind,
            "volume": float(vol0.sum()),
            "service_level": _wavg(sl, vol0),
            "service_level_target": (targets[name] if name in targets
                                     else _wavg(tgt, vol0)),
            "asa_seconds": _wavg(d["asa_seconds"].to_numpy(float)[rt], vol0[rt]),
            "abandonment": _wavg(d["abandonment"].to_numpy(float), vol0),
            "occupancy": _wavg(d["occupancy"].to_numpy(float)[rt], net[rt]),
            "intervals": int(len(d)),
            "intervals_with_volume": int(has_vol.sum()),
            "share_intervals_under_target": (float(under.sum() / has_vol.sum())
                                             if has_vol.any() else float("nan")),
            "required_hours": float(d["required"].sum() * h),
            "scheduled_hours": float(d["scheduled"].sum() * h),
            "under_staffed_hours": float(np.clip(-gap, 0, None).sum() * h),
            "over_staffed_hours": float(np.clip(gap[~missing], 0, None).sum() * h),
            "unplanned_hours": float(d["scheduled"].to_numpy(float)[missing].sum() * h),
        }

    present = set(cov["channel"].astype(str))
    for name in [c.name for c in scenario.channels if c.name in present]:
        rows.append(one(name, cov[cov["channel"] == name], kinds[name]))
    rows.append(one("all", cov, "all"))
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def worst_gaps(coverage_df: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` intervals with the largest shortfall (most negative ``gap``).

    Parameters
    ----------
    coverage_df : DataFrame
        From :func:`coverage`.
    n : int
        How many rows to return.

    Returns
    -------
    DataFrame
        Rows with ``gap < 0``, most negative first (ties: earlier first), with
        the coverage columns and, where present, ``volume``.
    """
    cols = [c for c in COVERAGE_COLUMNS + ["volume"] if c in coverage_df.columns]
    d = coverage_df.loc[coverage_df["gap"] < 0, cols]
    return (d.sort_values(["gap", "timestamp", "channel"], kind="stable")
            .head(n).reset_index(drop=True))
