"""An independent checker of a written schedule.

It reads nothing from the scheduler's internals: only the ``shifts`` and
``assignments`` frames (as written to CSV, or as returned), the roster frame
and the scenario. Every rule is re-derived from those:

- ``unknown_agent``: an agent not in the roster;
- ``skill``: an assignment on a channel the agent is not skilled for;
- ``one_shift_per_day``: two shifts of one agent on one date;
- ``date``: ``date`` is not the local date of ``start``;
- ``template``: start time, weekday, length or channels match no template;
- ``breaks``: breaks do not match the template's break rules (count,
  length, window after the start, distance before the end, overlap);
- ``min_hours`` / ``max_hours`` / ``max_days``: weekly contract (per 7-day
  block from the horizon start; a shorter last block keeps the maxima and a
  pro-rated minimum);
- ``consecutive_days``, ``rest``: working days in a row, hours between shifts;
- ``unavailable``, ``earliest_start``, ``latest_end``: availability;
- ``fraction``: a fraction outside (0, 1];
- ``fraction_sum``: an agent's fractions in one interval add up to more than 1;
- ``off_shift``: work in an interval the agent is not on shift or on break
  (a fraction above the share of the interval on shift and not on break).

Examples
--------
>>> report = check_schedule(shifts, assignments, roster, scenario)  # doctest: +SKIP
>>> report.ok, len(report.violations)  # doctest: +SKIP
(True, 0)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wfm.config import WEEKDAYS, Scenario
from wfm.timegrid import wall_spans

_TOL = 1e-6
_WD = {n: i for i, n in enumerate(WEEKDAYS)}
_WD.update({"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
            "saturday": 5, "sunday": 6})


@dataclass
class CheckReport:
    """Result of :func:`check_schedule`.

    Attributes
    ----------
    violations : DataFrame
        ``rule, agent_id, when, detail``, one row per violation.
    """

    violations: pd.DataFrame

    @property
    def ok(self) -> bool:
        return self.violations.empty

    def rules(self) -> set[str]:
        """The rules violated at least once."""
        return set(self.violations["rule"])

    def to_text(self, limit: int = 20) -> str:
        if self.ok:
            return "schedule check: every rule holds"
        lines = [f"schedule check: {len(self.violations)} violation(s)"]
        for r in self.violations.head(limit).itertuples(index=False):
            lines.append(f"  - {r.rule}: agent {r.agent_id} at {r.when}: {r.detail}")
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)


def _items(v) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return []
    return [x.strip() for x in str(v).split(";") if x.strip()]


def _minutes(v) -> int | None:
    items = _items(v)
    if not items:
        return None
    h, m = items[0].split(":")[:2]
    return int(h) * 60 + int(m)


def _ts(v, tz: str) -> pd.Timestamp:
    t = pd.Timestamp(v)
    if t.tzinfo is None:
        t = t.tz_localize(tz)
    return t.tz_convert(tz)


def _template_match(scenario: Scenario, start: pd.Timestamp, end: pd.Timestamp,
                    skills: set[str], breaks: list[tuple[pd.Timestamp, pd.Timestamp]]
                    ) -> tuple[str | None, str, int]:
    """(matching template name or None, reason, unpaid break minutes)."""
    length = int(round((end - start).total_seconds() / 60))
    wall = start.hour * 60 + start.minute
    wd = WEEKDAYS[start.weekday()]
    reasons = []
    for tpl in scenario.shift_templates:
        e = tpl.start_earliest.hour * 60 + tpl.start_earliest.minute
        la = tpl.start_latest.hour * 60 + tpl.start_latest.minute
        if wd not in tpl.days or tpl.channels and not (set(tpl.channels) & skills):
            continue
        # a start moved by the spring-forward gap keeps its planned wall-clock slot
        ok_start = (e <= wall <= la and (wall - e) % tpl.start_step_minutes == 0)
        if not ok_start:
            planned = wall - 60
            ok_start = (e <= planned <= la and (planned - e) % tpl.start_step_minutes == 0
                        and start.dst() != (start - pd.Timedelta(hours=1)).dst())
        if not ok_start or length not in {int(round(h * 60)) for h in tpl.lengths_hours}:
            continue
        rules = list(tpl.breaks)
        if len(rules) != len(breaks):
            reasons.append(f"{tpl.name}: {len(breaks)} break(s), expected {len(rules)}")
            continue
        bad = None
        prev_end = start
        for r, (b0, b1) in zip(rules, breaks):
            off = (b0 - start).total_seconds() / 60
            dur = (b1 - b0).total_seconds() / 60
            before_end = (end - b1).total_seconds() / 60
            if abs(dur - r.minutes) > 0.5:
                bad = f"break {b0:%H:%M} lasts {dur:g} min, expected {r.minutes}"
            elif off < r.earliest_after_start_minutes - 0.5 or \
                    off > r.latest_after_start_minutes + 0.5:
                bad = (f"break at {b0:%H:%M} starts {off:g} min after the start, expected "
                       f"{r.earliest_after_start_minutes}-{r.latest_after_start_minutes}")
            elif before_end < r.min_before_end_minutes - 0.5:
                bad = (f"break ending {b1:%H:%M} is {before_end:g} min before the end, "
                       f"expected >= {r.min_before_end_minutes}")
            elif b0 < prev_end:
                bad = f"break at {b0:%H:%M} overlaps the previous one"
            prev_end = b1
            if bad:
                break
        if bad:
            reasons.append(f"{tpl.name}: {bad}")
            continue
        return tpl.name, "", sum(r.minutes for r in rules if not r.paid)
    if reasons:
        return None, "; ".join(reasons), 0
    return None, (f"no template starts at {start:%H:%M} on {wd} with length {length / 60:g} h "
                  f"for skills {sorted(skills)}"), 0


def _utc(assignments: pd.DataFrame) -> pd.Series:
    """The assignments' interval starts in UTC."""
    if isinstance(assignments["timestamp"].dtype, pd.DatetimeTZDtype):
        return assignments["timestamp"].dt.tz_convert("UTC")
    return pd.to_datetime(assignments["timestamp"], utc=True, format="ISO8601")


def check_schedule(shifts: pd.DataFrame, assignments: pd.DataFrame, roster: pd.DataFrame,
                   scenario: Scenario, horizon_start: dt.date | None = None,
                   horizon_days: int | None = None) -> CheckReport:
    """Verify every scheduling rule on the output frames.

    Parameters
    ----------
    shifts : DataFrame
        ``agent_id, date, start, end, breaks`` (strings as in the CSV or
        timestamps).
    assignments : DataFrame
        ``timestamp, agent_id, channel, fraction``.
    roster : DataFrame
        The roster the schedule was made for (data-contract columns).
    scenario : Scenario
        Shift templates, rest and consecutive-day defaults, time zone.
    horizon_start : date, optional
        First day of the planning week (weekly limits count from it);
        default: the earliest shift date.
    horizon_days : int, optional
        Horizon length [days]; default: through the last shift date.

    Returns
    -------
    CheckReport
    """
    tz = scenario.site.timezone
    step = scenario.site.interval_minutes
    rest_min = scenario.agents.min_rest_hours * 60.0
    out: list[dict] = []

    def bad(rule: str, agent: str, when, detail: str) -> None:
        out.append({"rule": rule, "agent_id": agent, "when": str(when), "detail": detail})

    ros = {}
    for rec in roster.to_dict("records"):
        ros[str(rec["agent_id"]).strip()] = rec
    # -- shifts ------------------------------------------------------------------
    rows = []
    for rec in shifts.to_dict("records"):
        aid = str(rec["agent_id"]).strip()
        start, end = _ts(rec["start"], tz), _ts(rec["end"], tz)
        brks = []
        for part in _items(rec.get("breaks")):
            a, b = part.split("-")
            h0, m0 = (int(x) for x in a.split(":"))
            h1, m1 = (int(x) for x in b.split(":"))
            # breaks are wall-clock times on the shift's timeline (may pass midnight)
            base = start.tz_localize(None).normalize()
            b0 = base + pd.Timedelta(hours=h0, minutes=m0)
            while b0 < start.tz_localize(None) - pd.Timedelta(minutes=1):
                b0 += pd.Timedelta(days=1)
            brks.append(wall_spans(b0, pd.Timedelta(hours=h1, minutes=m1), tz))
        rows.append((aid, str(rec["date"])[:10], start, end, brks))
    first_day = horizon_start or (min(dt.date.fromisoformat(r[1]) for r in rows) if rows
                                  else None)
    sec = step * 60
    # the intervals are steps of `step` minutes from the horizon's first
    # local midnight (wfm.timegrid.interval_grid): not the UTC epoch's
    # grid where the offset is not a whole number of intervals (+05:30
    # with 60-minute intervals), nor the local clock's after a 30-minute
    # daylight-saving change (Lord Howe Island)
    anchor = int(pd.Timestamp(first_day).tz_localize(tz).timestamp()) \
        if first_day is not None else 0
    if len(assignments):
        ts = _utc(assignments)
        ag = assignments["agent_id"].astype(str).str.strip().to_numpy()
        fr = pd.to_numeric(assignments["fraction"], errors="coerce").to_numpy(float)
        t_s = ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()
        tot = pd.DataFrame({"a": ag, "t": t_s, "f": fr}) \
            .groupby(["a", "t"], sort=False)["f"].sum().to_dict()
    else:
        tot = {}

    def interval_of(x: int) -> int:
        """The start of the interval holding instant ``x`` [UTC s]."""
        return x - (x - anchor) % sec

    def worked_in(aid: str, x0: pd.Timestamp, x1: pd.Timestamp) -> float:
        t1 = int(x1.timestamp())
        return sum(tot.get((aid, u), 0.0)
                   for u in range(interval_of(int(x0.timestamp())), t1, sec))

    by_agent: dict[str, list] = defaultdict(list)
    for aid, date, start, end, readings in rows:
        # a break wholly inside the hour repeated when clocks go back reads
        # two ways ("02:00-02:30" at either 02:00): the one with the least
        # work assigned in it, the earlier of equal ones
        brks = [r[0] if len(r) == 1 else min(r, key=lambda x: worked_in(aid, *x))
                for r in readings]
        if aid not in ros:
            bad("unknown_agent", aid, start, "agent not in the roster")
            continue
        rec = ros[aid]
        skills = set(_items(rec.get("skills")))
        if date != start.date().isoformat():
            bad("date", aid, start, f"date {date} is not the start's local date")
        name, why, unpaid = _template_match(scenario, start, end, skills, brks)
        if name is None:
            rule = "breaks" if why and "break" in why else "template"
            bad(rule, aid, start, why)
        for b0, b1 in brks:
            if b0 < start or b1 > end:
                bad("breaks", aid, start, f"break {b0:%H:%M}-{b1:%H:%M} outside the shift")
        paid = (end - start).total_seconds() / 3600.0 - unpaid / 60.0
        by_agent[aid].append((start, end, brks, paid, dt.date.fromisoformat(date)))
        unavailable = _items(rec.get("unavailable"))
        day = start.date()
        for u in unavailable:
            if (u.lower() in _WD and _WD[u.lower()] == day.weekday()) or u == day.isoformat():
                bad("unavailable", aid, start, f"unavailable on {u}")
        e = _minutes(rec.get("earliest_start"))
        if e is not None and start.hour * 60 + start.minute < e:
            bad("earliest_start", aid, start, f"starts before {rec.get('earliest_start')}")
        la = _minutes(rec.get("latest_end"))
        if la is not None:
            end_wall = (end.date() - day).days * 1440 + end.hour * 60 + end.minute
            if end_wall > la:
                bad("latest_end", aid, start, f"ends after {rec.get('latest_end')}")
    # -- contracts per agent --------------------------------------------------
    cons_default = scenario.agents.max_consecutive_days
    last_day = max((r[4] for v in by_agent.values() for r in v), default=first_day)
    n_days = horizon_days or (((last_day - first_day).days + 1) if first_day else 0)
    for aid, rec in ros.items():
        mine = sorted(by_agent.get(aid, []), key=lambda r: r[0])
        dates = [r[4] for r in mine]
        for d in set(dates):
            if dates.count(d) > 1:
                bad("one_shift_per_day", aid, d, f"{dates.count(d)} shifts on {d}")
        for b0 in range(0, max(n_days, 1), 7):
            blk = [r for r in mine if 0 <= (r[4] - first_day).days - b0 < 7]
            share = min(7, n_days - b0) / 7.0
            hours = sum(r[3] for r in blk)
            lo = float(rec.get("min_hours_week") or 0) * share
            hi = float(rec.get("max_hours_week"))
            if hours > hi + _TOL:
                bad("max_hours", aid, first_day + dt.timedelta(days=b0),
                    f"{hours:g} paid hours > max {hi:g}")
            if hours < lo - _TOL:
                bad("min_hours", aid, first_day + dt.timedelta(days=b0),
                    f"{hours:g} paid hours < min {lo:g}")
            ndays = len({r[4] for r in blk})
            if ndays > int(float(rec.get("max_days_week"))):
                bad("max_days", aid, first_day + dt.timedelta(days=b0),
                    f"{ndays} days > max {rec.get('max_days_week')}")
        k = rec.get("max_consecutive_days")
        k = cons_default if k is None or pd.isna(k) or str(k).strip() == "" else int(float(k))
        run, prev = 0, None
        for d in sorted(set(dates)):
            run = run + 1 if prev is not None and (d - prev).days == 1 else 1
            prev = d
            if run > k:
                bad("consecutive_days", aid, d, f"{run} days in a row > max {k}")
        for a, b in zip(mine, mine[1:]):
            gap_h = (b[0] - a[1]).total_seconds() / 3600.0
            if gap_h * 60 < rest_min - _TOL:
                bad("rest", aid, b[0], f"{gap_h:g} h after the previous shift < "
                    f"{rest_min / 60:g} h")
    # -- assignments ------------------------------------------------------------------
    if len(assignments):
        ch = assignments["channel"].astype(str).to_numpy()
        for i in np.flatnonzero(~(fr > 0) | (fr > 1 + _TOL) | ~np.isfinite(fr)):
            bad("fraction", ag[i], ts.iloc[i], f"fraction {fr[i]!r} outside (0, 1]")
        skills = {a: set(_items(r.get("skills"))) for a, r in ros.items()}
        for i in range(len(ag)):
            if ag[i] not in ros:
                bad("unknown_agent", ag[i], ts.iloc[i], "agent not in the roster")
            elif ch[i] not in skills[ag[i]]:
                bad("skill", ag[i], ts.iloc[i], f"works {ch[i]!r}, skills "
                    f"{sorted(skills[ag[i]])}")
        # share of each interval on shift and not on break, per agent
        avail: dict[tuple[str, int], float] = defaultdict(float)
        for aid, mine in by_agent.items():
            for start, end, brks, _paid, _d in mine:
                spans = [(int(start.timestamp()), int(end.timestamp()))]
                for b0, b1 in brks:
                    x0, x1 = int(b0.timestamp()), int(b1.timestamp())
                    new = []
                    for s0, s1 in spans:
                        if x1 <= s0 or x0 >= s1:
                            new.append((s0, s1))
                            continue
                        if x0 > s0:
                            new.append((s0, x0))
                        if x1 < s1:
                            new.append((x1, s1))
                    spans = new
                for s0, s1 in spans:
                    t = interval_of(s0)
                    while t < s1:
                        avail[(aid, t)] += (min(s1, t + sec) - max(s0, t)) / sec
                        t += sec
        for (a, t), f in tot.items():
            when = pd.Timestamp(int(t), unit="s", tz="UTC").tz_convert(tz)
            if f > 1 + _TOL:
                bad("fraction_sum", a, when, f"fractions add up to {f:g} > 1")
            cap = avail.get((a, int(t)), 0.0)
            if f > cap + _TOL:
                bad("off_shift", a, when, f"works {f:g} of the interval but is on shift and "
                    f"not on break for {cap:g}")
    return CheckReport(pd.DataFrame(out, columns=["rule", "agent_id", "when", "detail"]))
