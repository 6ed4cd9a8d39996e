"""Agents of the roster as arrays the scheduler works with.

The roster frame has the columns of the data contract (``agent_id, skills,
min_hours_week, max_hours_week, max_days_week`` and the optional
``earliest_start, latest_end, unavailable, proficiency, preferred_start,
days_off_wished, max_consecutive_days, hourly_cost, team``). Cells may be
the CSV strings (``"voice;chat"``) or already-parsed lists. Everything is
checked once here; a bad cell is a :class:`wfm.errors.DataValidationError`
naming the row, the column, what was found and what was expected.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wfm.config import WEEKDAYS, Scenario
from wfm.errors import DataValidationError

REQUIRED_COLUMNS = ("agent_id", "skills", "min_hours_week", "max_hours_week", "max_days_week")
_WEEKDAY_ALIASES = {name: i for i, name in enumerate(WEEKDAYS)}
_WEEKDAY_ALIASES.update({"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
                         "friday": 4, "saturday": 5, "sunday": 6})


#: Sentinel for 'no latest end': later than any shift can end (two days).
NO_LATEST_END = 2 * 1440

@dataclass
class Agent:
    """One agent's contract, availability and preferences (times in minutes)."""

    agent_id: str
    skills: frozenset[str]
    min_hours: float
    max_hours: float
    max_days: int
    earliest: int = 0                 # wall-clock minute a shift may start from
    # Wall-clock minute (after the start day's midnight) a shift must end by; with no
    # latest_end in the roster, overnight shifts (ending after 24:00) are allowed.
    latest: int = NO_LATEST_END
    unavailable_dates: frozenset[dt.date] = frozenset()
    unavailable_weekdays: frozenset[int] = frozenset()
    proficiency: dict[str, float] = field(default_factory=dict)
    preferred_start: int | None = None
    days_off_wished: frozenset[int] = frozenset()
    max_consecutive: int = 6
    hourly_cost: float = 1.0
    team: str = ""

    def available_on(self, day: dt.date) -> bool:
        return day not in self.unavailable_dates and day.weekday() not in \
            self.unavailable_weekdays

    def skill_proficiency(self, channel: str) -> float:
        return self.proficiency.get(channel, 1.0)


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, str) and not v.strip()


def _items(v: Any) -> list[str]:
    if _blank(v):
        return []
    if isinstance(v, list | tuple | set | frozenset | np.ndarray):
        return [str(x).strip() for x in v if str(x).strip()]
    return [p.strip() for p in str(v).split(";") if p.strip()]


def _hhmm(v: Any, row: int, col: str, source: str) -> int | None:
    if _blank(v):
        return None
    if isinstance(v, dt.time):
        return v.hour * 60 + v.minute + (1 if v.second >= 59 and v.hour == 23 else 0)
    s = str(v).strip()
    try:
        hh, mm = s.split(":")[:2]
        h, m = int(hh), int(mm)
    except ValueError:
        h = m = -1
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise DataValidationError(f"{source}: row {row}, column '{col}': expected a time "
                                  f"'HH:MM' between 00:00 and 24:00, found {v!r}")
    return h * 60 + m


def _number(v: Any, row: int, col: str, source: str, default: float | None = None,
            lo: float | None = 0.0) -> float:
    if _blank(v):
        if default is None:
            raise DataValidationError(f"{source}: row {row}, column '{col}': a value is "
                                      f"required, found an empty cell")
        return default
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = float("nan")
    if not math.isfinite(x) or (lo is not None and x < lo):
        raise DataValidationError(f"{source}: row {row}, column '{col}': expected a number "
                                  f">= {lo}, found {v!r}")
    return x


def parse_roster(roster: pd.DataFrame, scenario: Scenario, source: str = "roster",
                 channels: list[str] | None = None) -> list[Agent]:
    """Validate the roster frame and return its agents.

    Parameters
    ----------
    roster : DataFrame
        Roster columns of the data contract.
    scenario : Scenario
        Supplies the channel names and the contract defaults
        (``agents.max_consecutive_days``).
    source : str
        Name used in error messages (e.g. the file path).
    channels : list of str, optional
        Channels agents may be skilled for; default: the scenario's staffed
        channels.

    Raises
    ------
    DataValidationError
        A missing column, a duplicate id, an unknown skill, a bad number,
        time, date or weekday, or min hours above max hours.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in roster.columns]
    if missing:
        raise DataValidationError(f"{source}: missing column(s) {missing}; a roster needs "
                                  f"{list(REQUIRED_COLUMNS)}")
    if roster.empty:
        raise DataValidationError(f"{source}: the roster has no agents")
    known = set(channels if channels is not None else
                [c.name for c in scenario.staffed_channels])
    ids = roster["agent_id"].astype(str).str.strip()
    dup = sorted(set(ids[ids.duplicated()]))
    if dup:
        raise DataValidationError(f"{source}: duplicate agent_id(s) {dup[:10]}")
    agents: list[Agent] = []
    default_cons = scenario.agents.max_consecutive_days
    for i, rec in enumerate(roster.to_dict("records")):
        row = i + 2  # header is line 1 of a CSV file
        aid = str(rec["agent_id"]).strip()
        if not aid or aid.lower() == "nan":
            raise DataValidationError(f"{source}: row {row}, column 'agent_id': empty")
        skills = _items(rec["skills"])
        if not skills:
            raise DataValidationError(f"{source}: row {row} (agent {aid}), column 'skills': "
                                      f"expected channel names separated by ';', found "
                                      f"{rec['skills']!r}")
        bad = [s for s in skills if s not in known]
        if bad:
            raise DataValidationError(
                f"{source}: row {row} (agent {aid}), column 'skills': {bad} not a staffed "
                f"channel; expected some of {sorted(known)}")
        lo = _number(rec["min_hours_week"], row, "min_hours_week", source, 0.0)
        hi = _number(rec["max_hours_week"], row, "max_hours_week", source)
        if lo > hi:
            raise DataValidationError(f"{source}: row {row} (agent {aid}): min_hours_week "
                                      f"{lo:g} is above max_hours_week {hi:g}")
        days = _number(rec["max_days_week"], row, "max_days_week", source)
        if days != int(days) or days > 7:
            raise DataValidationError(f"{source}: row {row} (agent {aid}), column "
                                      f"'max_days_week': expected a whole number 0-7, found "
                                      f"{rec['max_days_week']!r}")
        earliest = _hhmm(rec.get("earliest_start"), row, "earliest_start", source)
        latest = _hhmm(rec.get("latest_end"), row, "latest_end", source)
        if earliest is not None and latest is not None and latest <= earliest:
            raise DataValidationError(f"{source}: row {row} (agent {aid}): latest_end must be "
                                      f"after earliest_start")
        dates: set[dt.date] = set()
        wdays: set[int] = set()
        for item in _items(rec.get("unavailable")):
            key = item.lower()
            if key in _WEEKDAY_ALIASES:
                wdays.add(_WEEKDAY_ALIASES[key])
                continue
            try:
                dates.add(dt.date.fromisoformat(item))
            except ValueError:
                raise DataValidationError(
                    f"{source}: row {row} (agent {aid}), column 'unavailable': expected ISO "
                    f"dates or weekday names separated by ';', found {item!r}") from None
        wished: set[int] = set()
        for item in _items(rec.get("days_off_wished")):
            key = item.lower()
            if key not in _WEEKDAY_ALIASES:
                raise DataValidationError(
                    f"{source}: row {row} (agent {aid}), column 'days_off_wished': expected "
                    f"weekday names {list(WEEKDAYS)}, found {item!r}")
            wished.add(_WEEKDAY_ALIASES[key])
        prof: dict[str, float] = {}
        for item in _items(rec.get("proficiency")):
            ch, _, val = item.partition(":")
            ch = ch.strip()
            try:
                p = float(val)
            except ValueError:
                p = float("nan")
            if ch not in skills or not (0.0 < p <= 2.0):
                raise DataValidationError(
                    f"{source}: row {row} (agent {aid}), column 'proficiency': expected "
                    f"'channel:factor' for one of the agent's skills {skills} with factor in "
                    f"(0, 2], found {item!r}")
            prof[ch] = p
        cons = _number(rec.get("max_consecutive_days"), row, "max_consecutive_days", source,
                       float(default_cons), lo=1.0)
        cost = _number(rec.get("hourly_cost"), row, "hourly_cost", source, 1.0)
        team = rec.get("team")
        agents.append(Agent(
            agent_id=aid, skills=frozenset(skills), min_hours=lo, max_hours=hi,
            max_days=int(days), earliest=earliest if earliest is not None else 0,
            latest=latest if latest is not None else NO_LATEST_END, unavailable_dates=frozenset(dates),
            unavailable_weekdays=frozenset(wdays), proficiency=prof,
            preferred_start=_hhmm(rec.get("preferred_start"), row, "preferred_start", source),
            days_off_wished=frozenset(wished), max_consecutive=int(cons), hourly_cost=cost,
            team="" if _blank(team) else str(team),
        ))
    return agents


def week_blocks(n_days: int) -> list[tuple[list[int], float]]:
    """Consecutive 7-day blocks of the horizon and the share of a week each covers.

    Weekly contract limits apply per block from the horizon start; a shorter
    last block keeps the weekly maxima and a pro-rated minimum.
    """
    out = []
    for b0 in range(0, n_days, 7):
        idx = list(range(b0, min(n_days, b0 + 7)))
        out.append((idx, len(idx) / 7.0))
    return out
