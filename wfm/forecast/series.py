"""One channel's history as a day x wall-clock-slot matrix.

Every model works on the same representation: ``Y[d, s]`` is the volume of
local day ``d`` in wall-clock slot ``s`` (``s = minute_of_day // interval``).
Daylight-saving days are mapped onto this regular grid: on the 25-hour day
the repeated slots hold the mean of their two intervals, on the 23-hour day
the skipped slots are interpolated from their neighbours. ``Y`` is therefore
a "24-hour equivalent" day; the real intervals (``grid_*``) are kept for
evaluation, and forecasts are mapped back onto the real local interval grid
of the horizon (:func:`matrix_to_grid`), so a 23-hour day gets 92 and a
25-hour day 100 quarter-hours.

Intervals missing from the history are taken as zero volume: ACD exports
leave out intervals without contacts (closed nights, weekends). Their count
is kept in :attr:`ChannelSeries.n_missing` and reported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wfm.errors import ForecastError
from wfm.forecast.calendar import Calendar, CalendarFlags
from wfm.timegrid import interval_grid


@dataclass
class ChannelSeries:
    """History of one channel on the day x slot grid (see module docstring).

    Attributes
    ----------
    channel : str
    tz : str
        IANA time zone of the timestamps.
    interval_minutes : int
    dates : ndarray of datetime64[D]
        Consecutive local dates, one per row of ``Y``.
    Y : ndarray, shape (n_days, slots_per_day)
        Volume per wall-clock slot [contacts per interval].
    grid_day, grid_slot : ndarray of int
        Day row and slot of every real local interval of the history.
    grid_volume : ndarray of float
        Volume of every real local interval [contacts].
    calendar : Calendar
    n_missing : int
        Intervals absent from the history and taken as 0.
    """

    channel: str
    tz: str
    interval_minutes: int
    dates: np.ndarray
    Y: np.ndarray
    grid_day: np.ndarray
    grid_slot: np.ndarray
    grid_volume: np.ndarray
    calendar: Calendar
    n_missing: int = 0
    _flags: CalendarFlags | None = field(default=None, repr=False)

    @property
    def slots(self) -> int:
        """Wall-clock slots per day (96 for 15-minute intervals)."""
        return 1440 // self.interval_minutes

    @property
    def n_days(self) -> int:
        return self.dates.size

    @property
    def weekday(self) -> np.ndarray:
        """Weekday of every row (0 = Monday)."""
        # 1970-01-01 was a Thursday (weekday 3)
        return ((self.dates.astype("int64") + 3) % 7).astype(int)

    @property
    def totals(self) -> np.ndarray:
        """24-hour-equivalent daily totals (row sums of ``Y``) [contacts/day]."""
        return self.Y.sum(axis=1)

    @property
    def flags(self) -> CalendarFlags:
        """Calendar flags of every history day."""
        if self._flags is None:
            self._flags = self.calendar.flags(self.dates, self.channel)
        return self._flags

    @property
    def end(self) -> np.datetime64:
        """The day after the last history day (the natural forecast origin)."""
        return self.dates[-1] + np.timedelta64(1, "D")

    def head(self, origin: np.datetime64) -> ChannelSeries:
        """The history strictly before local date ``origin`` (views, no copy)."""
        n = int((np.datetime64(origin, "D") - self.dates[0]).astype(int))
        n = max(0, min(n, self.n_days))
        keep = self.grid_day < n
        flags = None
        if self._flags is not None:
            f = self._flags
            flags = CalendarFlags(f.holiday[:n], f.holiday_name[:n], f.multiplier[:n],
                                  f.closed[:n])
        return ChannelSeries(self.channel, self.tz, self.interval_minutes, self.dates[:n],
                             self.Y[:n], self.grid_day[keep], self.grid_slot[keep],
                             self.grid_volume[keep], self.calendar, self.n_missing, flags)

    def window(self, origin: np.datetime64, days: int) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
        """Real intervals of ``days`` days from ``origin``: (day offset, slot, volume)."""
        o = int((np.datetime64(origin, "D") - self.dates[0]).astype(int))
        sel = (self.grid_day >= o) & (self.grid_day < o + days)
        return self.grid_day[sel] - o, self.grid_slot[sel], self.grid_volume[sel]


def infer_interval_minutes(timestamps: pd.DatetimeIndex) -> int:
    """Interval length [min] of a history: the most common step between timestamps.

    Raises
    ------
    ForecastError
        If the step does not divide a day into whole intervals.
    """
    ts = pd.DatetimeIndex(timestamps).unique().sort_values()
    if ts.size < 2:
        raise ForecastError("cannot infer the interval length from fewer than 2 timestamps")
    steps = np.diff(ts.as_unit("s").asi8) // 60
    steps = steps[steps > 0]
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    minutes = ts.hour.to_numpy() * 60 + ts.minute.to_numpy()
    if step <= 0 or 1440 % step or np.any(minutes % step):
        raise ForecastError(
            f"cannot infer the interval length: the most common step is {step} min and "
            "timestamps must be interval starts of a regular grid dividing the day "
            "(15, 30 or 60 min)"
        )
    return step


def build_series(channel: str, timestamps: pd.DatetimeIndex | pd.Series, volume: np.ndarray,
                 interval_minutes: int, calendar: Calendar | None = None,
                 tz: str | None = None, last_day: dt.date | None = None) -> ChannelSeries:
    """Put one channel's history on the day x slot grid.

    Parameters
    ----------
    channel : str
    timestamps : DatetimeIndex or Series
        Interval starts, tz-aware (converted to ``tz`` when given).
    volume : array_like
        Contacts per interval (>= 0).
    interval_minutes : int
    calendar : Calendar, optional
        Default: no holidays, no special days.
    tz : str, optional
        Site time zone; default: the timestamps' own zone.
    last_day : date, optional
        Last local day of the history when the data stops earlier (an export
        that leaves out closed days at its end); those days count as 0.

    Raises
    ------
    ForecastError
        On empty input, naive timestamps, off-grid timestamps or duplicates.
    """
    idx = pd.DatetimeIndex(timestamps)
    vol = np.asarray(volume, dtype=float)
    if idx.size == 0:
        raise ForecastError(f"channel {channel!r}: the history has no rows")
    if idx.tz is None:
        raise ForecastError(
            f"channel {channel!r}: timestamps have no time zone; expected tz-aware local "
            "times (ISO 8601 with UTC offset in files)"
        )
    if tz is not None:
        idx = idx.tz_convert(tz)
    zone = str(idx.tz)
    if np.any(~np.isfinite(vol)) or np.any(vol < 0):
        bad = int(np.flatnonzero(~np.isfinite(vol) | (vol < 0))[0])
        raise ForecastError(
            f"channel {channel!r}: volume must be a finite number >= 0, found {vol[bad]!r} "
            f"at {idx[bad].isoformat()}"
        )
    order = np.argsort(idx.asi8, kind="stable")
    idx, vol = idx[order], vol[order]
    dup = idx.duplicated()
    if dup.any():
        raise ForecastError(
            f"channel {channel!r}: duplicate timestamp {idx[dup][0].isoformat()} in the history"
        )
    first = idx[0].date()
    last = idx[-1].date()
    if last_day is not None and last_day > last:
        last = last_day
    n_days = (last - first).days + 1
    grid = interval_grid(first, n_days, zone, interval_minutes)
    pos = grid.get_indexer(idx)
    if np.any(pos < 0):
        bad = idx[pos < 0][0]
        raise ForecastError(
            f"channel {channel!r}: timestamp {bad.isoformat()} is not the start of a "
            f"{interval_minutes}-minute interval"
        )
    grid_volume = np.zeros(grid.size)
    grid_volume[pos] = vol
    n_missing = int(grid.size - idx.size)
    day0 = np.datetime64(first, "D")
    local = grid.tz_localize(None)
    grid_day = ((local.normalize().values.astype("datetime64[D]") - day0)
                .astype(int))
    grid_slot = ((local.hour * 60 + local.minute) // interval_minutes).to_numpy()
    Y = _to_matrix(grid_day, grid_slot, grid_volume, n_days, 1440 // interval_minutes)
    dates = day0 + np.arange(n_days).astype("timedelta64[D]")
    return ChannelSeries(channel, zone, interval_minutes, dates, Y, grid_day, grid_slot,
                         grid_volume, calendar or Calendar(), n_missing)


def _to_matrix(day: np.ndarray, slot: np.ndarray, values: np.ndarray, n_days: int,
               slots: int) -> np.ndarray:
    """Mean value per (day, slot); slots a DST day skips are interpolated."""
    flat = day * slots + slot
    sums = np.bincount(flat, weights=values, minlength=n_days * slots)
    counts = np.bincount(flat, minlength=n_days * slots)
    Y = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    gaps = np.flatnonzero(counts == 0)
    if gaps.size:
        # only the spring-forward hour: neighbours are the same night's slots
        have = np.flatnonzero(counts > 0)
        Y[gaps] = np.interp(gaps, have, Y[have])
    return Y.reshape(n_days, slots)


def matrix_to_grid(F: np.ndarray, start: np.datetime64, tz: str,
                   interval_minutes: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Map a day x slot forecast onto the real local interval grid from ``start``.

    Returns the grid (DatetimeIndex named ``timestamp``) and the value of every
    interval; both repeated slots of a 25-hour day take the slot's value.
    """
    n_days = F.shape[0]
    start_date = pd.Timestamp(start).date()
    grid = interval_grid(start_date, n_days, tz, interval_minutes)
    day, slot = grid_positions(grid, start_date, interval_minutes)
    return grid, F[day, slot]


def grid_positions(grid: pd.DatetimeIndex, start: dt.date,
                   interval_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """Day offset from ``start`` and wall-clock slot of every timestamp of ``grid``."""
    local = grid.tz_localize(None)
    day = (local.normalize().values.astype("datetime64[D]")
           - np.datetime64(start, "D")).astype(int)
    slot = ((local.hour * 60 + local.minute) // interval_minutes).to_numpy()
    return day, slot
