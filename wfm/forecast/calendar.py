"""Calendar effects: public holidays of the site's country and scenario special days.

Public holidays come from the `holidays` package for ``site.country`` (and
``site.subdivision`` for regional ones). Special days come from the scenario
(``[[special_days]]``: a date, optional channels, a volume ``multiplier`` or
``closed``). Models learn what a public holiday does to each channel from the
history; a scenario special day is the planner's knowledge and is applied as
given (multiplier, or exactly zero when closed).

Examples
--------
>>> import numpy as np
>>> cal = Calendar(country="DE")
>>> flags = cal.flags(np.array(["2025-12-25", "2025-12-29"], dtype="datetime64[D]"), "voice")
>>> flags.holiday.tolist()
[True, False]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from wfm.errors import ConfigError


@dataclass(frozen=True)
class CalendarFlags:
    """Calendar facts for an array of local dates (one entry per date).

    Attributes
    ----------
    holiday : ndarray of bool
        Public holiday of the site's country.
    holiday_name : ndarray of object
        Name of the public holiday ('' where none).
    multiplier : ndarray of float
        Scenario special-day volume multiplier (NaN where none).
    closed : ndarray of bool
        Scenario says the channel is closed that day (volume 0).
    """

    holiday: np.ndarray
    holiday_name: np.ndarray
    multiplier: np.ndarray
    closed: np.ndarray

    @property
    def special(self) -> np.ndarray:
        """Days with a scenario special-day entry (multiplier or closed)."""
        return ~np.isnan(self.multiplier) | self.closed

    @property
    def abnormal(self) -> np.ndarray:
        """Days that are not representative of their weekday (holiday or special)."""
        return self.holiday | self.special


class Calendar:
    """Public holidays of one country plus the scenario's special days.

    Parameters
    ----------
    country : str or None
        ISO 3166 country code (e.g. ``"DE"``); None: no public holidays.
    subdivision : str or None
        State/province code for regional holidays (e.g. ``"NW"``).
    special_days : iterable of wfm.config.SpecialDay
        Scenario special days (date, channels or None for all, multiplier, closed).
    """

    def __init__(self, country: str | None = None, subdivision: str | None = None,
                 special_days: Iterable = ()):
        self.country = country
        self.subdivision = subdivision
        self.special_days = list(special_days)
        self._holidays = None
        if country:
            import holidays

            try:
                self._holidays = holidays.country_holidays(country, subdiv=subdivision)
            except NotImplementedError:
                raise ConfigError(
                    f"site.country {country!r}: no public-holiday calendar for this country; "
                    "expected an ISO 3166 code such as 'DE', 'AT', 'CH', 'US'"
                ) from None
            except Exception as err:  # holidays raises its own types for bad subdivisions
                raise ConfigError(
                    f"site.country {country!r} / site.subdivision {subdivision!r}: {err}"
                ) from None

    @classmethod
    def from_scenario(cls, scenario) -> Calendar:
        """The calendar of ``scenario.site`` and ``scenario.special_days``."""
        return cls(scenario.site.country, scenario.site.subdivision, scenario.special_days)

    def public_holidays(self, start: dt.date, end: dt.date) -> dict[dt.date, str]:
        """Public holidays between ``start`` and ``end`` (inclusive) as {date: name}."""
        if self._holidays is None:
            return {}
        return {d: str(self._holidays.get(d)) for d in _dates_between(start, end)
                if d in self._holidays}

    def _known(self, first_year: int, last_year: int) -> tuple[np.ndarray, list[str]]:
        """Holiday dates (datetime64[D]) and names of the years, cached."""
        key = (first_year, last_year)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            for y in range(first_year, last_year + 1):  # the package fills years lazily
                _ = dt.date(y, 1, 1) in self._holidays
            items = sorted((d, str(n)) for d, n in self._holidays.items()
                           if first_year <= d.year <= last_year)
            cache[key] = (np.array([d for d, _ in items], dtype="datetime64[D]"),
                          [n for _, n in items])
        return cache[key]

    def flags(self, dates: np.ndarray, channel: str) -> CalendarFlags:
        """Holiday and special-day flags of ``channel`` for local ``dates`` (datetime64[D])."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        n = dates.size
        holiday = np.zeros(n, dtype=bool)
        names = np.full(n, "", dtype=object)
        mult = np.full(n, np.nan)
        closed = np.zeros(n, dtype=bool)
        if n == 0:
            return CalendarFlags(holiday, names, mult, closed)
        if self._holidays is not None:
            known = self._known(int(str(dates.min())[:4]), int(str(dates.max())[:4]))
            hit = np.isin(dates, known[0])
            if hit.any():
                holiday[hit] = True
                lookup = dict(zip(known[0].tolist(), known[1]))
                names[hit] = [lookup[d] for d in dates[hit].tolist()]
        for sd in self.special_days:
            if sd.channels is not None and channel not in sd.channels:
                continue
            hit = dates == np.datetime64(sd.date, "D")
            if sd.closed or sd.multiplier == 0.0:
                closed |= hit
            elif sd.multiplier is not None:
                # several entries on one day compound (e.g. campaign on a bridge day)
                mult[hit] = np.where(np.isnan(mult[hit]), 1.0, mult[hit]) * sd.multiplier
            elif sd.multiplier is None:
                # an entry without effect still marks the day as not representative
                mult[hit] = np.where(np.isnan(mult[hit]), 1.0, mult[hit])
        return CalendarFlags(holiday, names, mult, closed)


def _dates_between(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)
