"""Interval grids in local time, correct on daylight-saving days.

Timestamps in wfm are tz-aware pandas timestamps in the site's time zone,
each the start of an interval. A day with a daylight-saving change has 23 or
25 hours (92 or 100 quarter-hours); building grids through UTC, as pandas
does for tz-aware ranges, gets that right.

Examples
--------
>>> import datetime as dt
>>> g = interval_grid(dt.date(2025, 3, 30), 1, "Europe/Berlin", 15)
>>> len(g)   # spring forward: 23 hours
92
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def interval_grid(start: dt.date | str | pd.Timestamp, days: int, tz: str,
                  interval_minutes: int) -> pd.DatetimeIndex:
    """Start times of every interval of ``days`` local days from ``start``.

    Parameters
    ----------
    start : date
        First local day.
    days : int
        Number of days.
    tz : str
        IANA time zone.
    interval_minutes : int
        Interval length [min].
    """
    first = pd.Timestamp(pd.Timestamp(start).date()).tz_localize(tz)
    last = pd.Timestamp(pd.Timestamp(start).date() + dt.timedelta(days=days)).tz_localize(tz)
    return pd.date_range(first, last, freq=f"{interval_minutes}min", inclusive="left",
                         name="timestamp")


def local_date(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Local calendar date of each timestamp (as numpy datetime64[D])."""
    idx = pd.DatetimeIndex(ts)
    return idx.tz_localize(None).normalize().values.astype("datetime64[D]")


def minute_of_day(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Local wall-clock minute of the day (0-1439) of each timestamp."""
    idx = pd.DatetimeIndex(ts)
    return (idx.hour * 60 + idx.minute).to_numpy()


def hours_in_day(day: dt.date, tz: str) -> float:
    """Length of a local day [h]: 24, or 23/25 on daylight-saving days."""
    a = pd.Timestamp(day).tz_localize(tz)
    b = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz)
    return (b - a).total_seconds() / 3600.0


def wall_spans(b0: pd.Timestamp, end: pd.Timedelta, tz: str
               ) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Every reading of a span from a naive wall-clock start to the next
    wall-clock time ``end`` (a time of day, e.g. a break's), in ``tz``, that
    is as short as its times allow; earliest first.

    The end is on ``b0``'s date if it reads later, else on the next. In the
    hour repeated when clocks go back a wall time names two instants; the
    span is read as the shortest one its times allow (a break ``01:30-02:00``
    there starts at the second 01:30 and lasts 30 minutes, not 90 from the
    first; ``02:30-02:00`` in Europe at 03:00 summer time, when the clock
    reads 02:00 again, is 30 minutes on one date, though its end reads
    earlier than its start). A span wholly inside the repeated hour has two
    such readings (``01:00-01:30`` in either occurrence of 01:00), any other
    one. Wall times skipped when clocks go forward move forward.
    """
    def both(t: pd.Timestamp) -> list[pd.Timestamp]:
        return sorted({t.tz_localize(tz, ambiguous=flag, nonexistent="shift_forward")
                       for flag in (True, False)})

    b1 = b0.normalize() + end
    if b1 <= b0:
        b1 += pd.Timedelta(days=1)
    ends = [b1, b1 - pd.Timedelta(days=1)]
    spans = sorted({(x1 - x0, x0, x1) for x0 in both(b0) for e in ends for x1 in both(e)
                    if x1 > x0})
    if not spans:
        return [(both(b0)[0], both(b1)[-1])]
    return [(x0, x1) for length, x0, x1 in spans if length == spans[0][0]]


def wall_span(b0: pd.Timestamp, end: pd.Timedelta, tz: str
              ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The earliest of :func:`wall_spans`' readings."""
    return wall_spans(b0, end, tz)[0]
