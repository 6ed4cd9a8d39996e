"""A realistic, deterministic sample contact center.

:func:`generate` writes the bundled sample: about two years of 15-minute
history of a mid-size German-speaking insurer (site ``Europe/Berlin``,
public holidays of North Rhine-Westphalia), a roster of 120 agents and a
``scenario.toml`` that uses all of it. The same seed always gives the same
files, byte for byte.

What the generator models, per channel:

========================  ===================================================
channel                   arrival pattern
========================  ===================================================
``voice``                 Mon-Sat 08-20, Monday-morning peak, lunch dip;
                          closed on public holidays; slowly declining
``chat``                  daily 07-22, late-morning and evening peaks; growing
``email``                 24/7 with a daytime peak; Monday backlog
``social``                24/7, evening peak, over-dispersed (bursty) with
                          occasional incident spikes (app outage, viral post)
``letters``               business days only, in morning mail batches
``chatbot``               24/7 bot sessions, growing fast (not staffed)
``chatbot_handoff``       Binomial(chatbot sessions, hand-off rate)
========================  ===================================================

On top: annual seasonality (January premium invoices, the November car
insurance switching season, a summer dip, the quiet Christmas week), storms
that raise claims on every channel for a few days, catch-up after holidays,
marketing-campaign days, and average handle times with intraday and weekday
variation (AHT is empty where the volume is 0).

Examples
--------
>>> from wfm.sampledata import generate_history
>>> h = generate_history(seed=1, days=7)   # one week, ends Sunday 2026-11-15
>>> sorted(h["channel"].unique())[:3]
['chat', 'chatbot', 'chatbot_handoff']
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wfm.timegrid import interval_grid

#: Last day of the bundled history (a Sunday); the planning horizon starts the day after.
HISTORY_END = dt.date(2026, 11, 15)
#: Seed of the bundled sample.
DEFAULT_SEED = 20261115
TIMEZONE = "Europe/Berlin"
COUNTRY = "DE"
SUBDIVISION = "NW"
INTERVAL_MINUTES = 15
HANDOFF_RATE = 0.15
CHANNELS = ("voice", "chat", "email", "social", "letters", "chatbot", "chatbot_handoff")
HORIZON_DAYS = 7
#: Past marketing mailings (email volume x multiplier), modelled in the history.
PAST_CAMPAIGNS = {dt.date(2025, 5, 16): 1.35, dt.date(2025, 11, 21): 1.4}
#: Future special days written into scenario.toml (inside the horizon week).
HORIZON_CAMPAIGNS = (
    (dt.date(2026, 11, 20), "newsletter campaign: e-mail", ("email",), 1.4),
    (dt.date(2026, 11, 21), "TV spot: social media", ("social",), 1.5),
)


@dataclass(frozen=True)
class _Profile:
    """Arrival and handle-time pattern of one channel (level at HISTORY_END)."""

    weekly_volume: float          # contacts per week at HISTORY_END without season [1]
    trend_per_year: float         # multiplicative growth per year (0.94 = -6 %/year)
    weekday: tuple[float, ...]    # relative day weights Mon..Sun
    knots: tuple[tuple[float, float], ...]           # (hour, weight) intraday shape
    knots_weekend: tuple[tuple[float, float], ...] | None  # Sat/Sun shape if different
    open_hours: tuple[float, float]                  # local opening hours [h]
    aht_seconds: float            # mean handle time [s]
    aht_knots: tuple[tuple[float, float], ...]       # (hour, factor) intraday AHT
    aht_cv: float                 # coefficient of variation of single handle times
    day_noise: float              # sd of the log daily level (over-dispersion)
    interval_shape: float | None  # gamma shape of interval mixing (None: Poisson)


_FULL_DAY = (0.0, 24.0)

PROFILES: dict[str, _Profile] = {
    "voice": _Profile(
        weekly_volume=8_800, trend_per_year=0.93,
        weekday=(1.30, 1.10, 1.02, 1.00, 0.88, 0.36, 0.0),
        knots=((8, 0.55), (9, 1.15), (10, 1.35), (11, 1.30), (12, 1.0), (13, 0.85),
               (14, 1.10), (15, 1.05), (16, 0.90), (17, 0.70), (18, 0.50), (19, 0.35),
               (20, 0.25)),
        knots_weekend=((8, 0.5), (10, 1.1), (12, 0.9), (14, 0.6), (16, 0.45), (20, 0.2)),
        open_hours=(8.0, 20.0), aht_seconds=330.0,
        aht_knots=((8, 1.08), (10, 0.97), (13, 1.0), (16, 1.02), (19, 1.10), (20, 1.12)),
        aht_cv=0.9, day_noise=0.05, interval_shape=None,
    ),
    "chat": _Profile(
        weekly_volume=3_100, trend_per_year=1.15,
        weekday=(1.20, 1.05, 1.00, 1.00, 0.92, 0.62, 0.58),
        knots=((7, 0.3), (9, 0.9), (11, 1.1), (13, 0.9), (15, 1.0), (17, 0.9),
               (19, 1.1), (20.5, 1.15), (22, 0.5)),
        knots_weekend=None, open_hours=(7.0, 22.0), aht_seconds=600.0,
        aht_knots=((7, 1.05), (12, 0.97), (18, 1.0), (22, 1.08)),
        aht_cv=0.8, day_noise=0.06, interval_shape=None,
    ),
    "email": _Profile(
        weekly_volume=4_000, trend_per_year=1.02,
        weekday=(1.35, 1.15, 1.05, 1.00, 0.95, 0.50, 0.45),
        knots=((0, 0.15), (5, 0.08), (7, 0.5), (9, 1.2), (11, 1.3), (14, 1.1), (17, 0.9),
               (20, 0.6), (23, 0.3), (24, 0.15)),
        knots_weekend=None, open_hours=_FULL_DAY, aht_seconds=420.0,
        aht_knots=((0, 1.0), (24, 1.0)),
        aht_cv=1.0, day_noise=0.07, interval_shape=None,
    ),
    "social": _Profile(
        weekly_volume=1_000, trend_per_year=1.08,
        weekday=(1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.10),
        knots=((0, 0.3), (4, 0.1), (7, 0.5), (12, 1.0), (18, 1.2), (21, 1.3), (24, 0.3)),
        knots_weekend=None, open_hours=_FULL_DAY, aht_seconds=270.0,
        aht_knots=((0, 1.0), (24, 1.0)),
        aht_cv=1.1, day_noise=0.20, interval_shape=1.5,
    ),
    "letters": _Profile(
        weekly_volume=1_000, trend_per_year=0.90,
        weekday=(1.30, 1.00, 1.00, 1.00, 0.95, 0.0, 0.0),
        knots=(), knots_weekend=None, open_hours=(7.0, 17.0), aht_seconds=660.0,
        aht_knots=((0, 1.0), (24, 1.0)),
        aht_cv=0.7, day_noise=0.10, interval_shape=None,
    ),
    "chatbot": _Profile(
        weekly_volume=11_000, trend_per_year=1.35,
        weekday=(1.15, 1.05, 1.00, 1.00, 0.95, 0.90, 0.95),
        knots=((0, 0.15), (4, 0.05), (7, 0.6), (10, 1.2), (13, 1.0), (17, 1.0), (20, 1.3),
               (22, 0.9), (24, 0.15)),
        knots_weekend=None, open_hours=_FULL_DAY, aht_seconds=150.0,
        aht_knots=((0, 1.0), (24, 1.0)),
        aht_cv=0.6, day_noise=0.06, interval_shape=None,
    ),
}
HANDOFF_AHT_SECONDS = 480.0

#: Morning mail batches: (hour the batch is scanned, share of the day's letters).
LETTER_BATCHES = ((8.0, 0.6), (10.5, 0.3), (13.5, 0.1))

#: Volume factor on public holidays (voice and letters closed).
HOLIDAY_FACTOR = {"voice": 0.0, "chat": 0.35, "email": 0.4, "social": 0.8, "letters": 0.0,
                  "chatbot": 0.8}
#: Volume factor on the first business day after a holiday (catch-up).
CATCH_UP_FACTOR = {"voice": 1.15, "chat": 1.05, "email": 1.15, "social": 1.0,
                   "letters": 1.5, "chatbot": 1.05}
#: Storms raise claims for a few days (day-0 factor, decaying by 0.55 a day).
STORM_FACTOR = {"voice": 1.7, "chat": 1.4, "email": 1.5, "social": 2.5, "letters": 1.0,
                "chatbot": 1.6}


def _interp_hours(knots: tuple[tuple[float, float], ...], hours: np.ndarray) -> np.ndarray:
    xs = np.array([k[0] for k in knots], dtype=float)
    ys = np.array([k[1] for k in knots], dtype=float)
    return np.interp(hours, xs, ys)


def _season(doy: np.ndarray, channel: str) -> np.ndarray:
    """Annual seasonality by day of year (multiplicative, ~1 on average)."""
    def bump(center: float, sd: float) -> np.ndarray:
        d = (doy - center + 182.5) % 365.0 - 182.5  # circular distance in days
        return np.exp(-0.5 * (d / sd) ** 2)

    # January: annual premium invoices; November: car insurance switching season
    # (deadline 30 November); summer holidays are quiet.
    jan = {"letters": 0.35, "email": 0.2, "voice": 0.18}.get(channel, 0.08)
    nov = {"voice": 0.16, "chat": 0.18, "email": 0.15, "chatbot": 0.22,
           "social": 0.08, "letters": 0.05}.get(channel, 0.1)
    return (1.0 + jan * bump(14, 9) + nov * bump(330, 14) - 0.12 * bump(213, 22)
            + 0.04 * np.cos(2 * np.pi * (doy - 20) / 365.0))


def _holidays(days: pd.DatetimeIndex) -> dict[dt.date, str]:
    import holidays

    years = sorted({d.year for d in days})
    return dict(holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=years).items())


def _storm_days(rng: np.random.Generator, days: pd.DatetimeIndex) -> np.ndarray:
    """Per-day storm multiplier index (0 on calm days, 1 on day 0 of a storm, ...)."""
    strength = np.zeros(len(days))
    # about four storms a year, mostly in the windy half (October-March)
    windy = np.isin(days.month, [10, 11, 12, 1, 2, 3])
    p = np.where(windy, 6.0 / 182.0, 1.5 / 183.0)
    starts = np.flatnonzero(rng.random(len(days)) < p)
    for s in starts:
        for k in range(5):
            if s + k < len(days):
                strength[s + k] = max(strength[s + k], 0.55 ** k)
    return strength


def _day_frame(days: pd.DatetimeIndex, rng: np.random.Generator,
               end: dt.date) -> dict[str, np.ndarray]:
    """Expected daily volume per channel (before intraday split and noise)."""
    hol = _holidays(days)
    dates = [d.date() for d in days]
    is_hol = np.array([d in hol for d in dates])
    weekday = days.day_of_week.to_numpy()
    business = (~is_hol) & (weekday < 5)
    # first business day after one or more non-business weekdays that were holidays
    catch_up = np.zeros(len(days), dtype=bool)
    for i in range(1, len(days)):
        if business[i]:
            j = i - 1
            while j >= 0 and not business[j] and (is_hol[j] or weekday[j] >= 5):
                if is_hol[j]:
                    catch_up[i] = True
                j -= 1
    christmas = np.array([(d.month == 12 and d.day >= 24) or (d.month == 1 and d.day == 1)
                          for d in dates])
    half_day = np.array([d.month == 12 and d.day in (24, 31) for d in dates])
    years_to_end = np.array([(d - end).days / 365.25 for d in dates])
    doy = days.day_of_year.to_numpy().astype(float)
    storm = _storm_days(rng, days)
    campaign = np.array([PAST_CAMPAIGNS.get(d, 1.0) for d in dates])

    out: dict[str, np.ndarray] = {}
    for name, p in PROFILES.items():
        w = np.array(p.weekday)
        daily = p.weekly_volume * w[weekday] / w.sum()
        daily = daily * p.trend_per_year ** years_to_end * _season(doy, name)
        daily = np.where(is_hol, daily * HOLIDAY_FACTOR[name], daily)
        daily = np.where(catch_up, daily * CATCH_UP_FACTOR[name], daily)
        daily = np.where(christmas & ~is_hol, daily * 0.6, daily)
        if name == "letters":
            daily = np.where(half_day, 0.0, daily)
        daily = daily * (1.0 + (STORM_FACTOR[name] - 1.0) * storm)
        if name == "email":
            daily = daily * campaign
        daily = daily * np.exp(rng.normal(0.0, p.day_noise, len(days)))
        out[name] = daily
    out["_half_day"] = half_day
    return out


def _intraday(name: str, hours: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Relative intraday weight of each interval (0 when the channel is closed)."""
    p = PROFILES[name]
    lo, hi = p.open_hours
    shape = _interp_hours(p.knots, hours)
    if p.knots_weekend is not None:
        shape = np.where(weekend, _interp_hours(p.knots_weekend, hours), shape)
    return np.where((hours >= lo) & (hours < hi), shape, 0.0)


def generate_history(seed: int = DEFAULT_SEED, days: int | None = None,
                     years: float = 2.0, end: dt.date = HISTORY_END) -> pd.DataFrame:
    """Simulated 15-minute history of every channel, ending on ``end``.

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same frame.
    days : int, optional
        Number of days of history; default: whole weeks covering ``years``.
    years : float
        Length of the history [years] when ``days`` is not given.
    end : date
        Last day of the history (inclusive).

    Returns
    -------
    DataFrame
        Columns ``timestamp`` (tz-aware, Europe/Berlin, interval start),
        ``channel``, ``volume`` (contacts offered per interval, int),
        ``aht_seconds`` (average handle time [s], NaN where volume is 0);
        one row per interval per channel, sorted by timestamp then channel.
    """
    if days is None:
        days = int(math.ceil(years * 365.25 / 7.0)) * 7
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    start = end - dt.timedelta(days=days - 1)
    rng = np.random.default_rng(seed)
    grid = interval_grid(start, days, TIMEZONE, INTERVAL_MINUTES)
    n = len(grid)
    local = grid.tz_localize(None)
    day_index = ((local.normalize() - pd.Timestamp(start)).days).to_numpy()
    hours = (local.hour + local.minute / 60.0).to_numpy() + INTERVAL_MINUTES / 120.0
    day_start = pd.date_range(start, periods=days, freq="D")
    weekday = day_start.day_of_week.to_numpy()[day_index]
    weekend = weekday >= 5

    daily = _day_frame(day_start, rng, end)
    half_day = daily.pop("_half_day")[day_index]

    # intraday weights normalised on a regular 24-hour day of the same type, so a
    # 23/25-hour daylight-saving day simply loses/gains its night hour
    ref_hours = np.arange(0, 24, INTERVAL_MINUTES / 60.0) + INTERVAL_MINUTES / 120.0
    incident = _incident_strength(rng, n)
    volumes: dict[str, np.ndarray] = {}
    ahts: dict[str, np.ndarray] = {}
    for name, p in PROFILES.items():
        expected_day = daily[name][day_index]
        if name == "letters":
            weight = np.zeros(n)
            for hour, share in LETTER_BATCHES:
                # a batch is scanned over half an hour: 70 % in the first interval
                first = np.isclose(hours, hour + INTERVAL_MINUTES / 120.0)
                second = np.isclose(hours, hour + 3 * INTERVAL_MINUTES / 120.0)
                weight += share * (0.7 * first + 0.3 * second)
            lam = expected_day * weight
        else:
            w = _intraday(name, hours, weekend)
            norm_wd = _intraday(name, ref_hours, np.zeros_like(ref_hours, dtype=bool)).sum()
            norm_we = _intraday(name, ref_hours, np.ones_like(ref_hours, dtype=bool)).sum()
            lam = expected_day * w / np.where(weekend, norm_we, norm_wd)
            if name in ("voice", "chat"):
                # 24 and 31 December: open until noon only
                lam = np.where(half_day & (hours >= 12.0), 0.0, lam)
        if p.interval_shape is not None:
            # gamma-Poisson mixing: bursts beyond Poisson noise
            lam = lam * rng.gamma(p.interval_shape, 1.0 / p.interval_shape, n)
        if name == "social":
            lam = lam * (1.0 + incident)
        elif name == "chat":
            lam = lam * (1.0 + 0.3 * incident / 7.0)
        vol = rng.poisson(lam)
        volumes[name] = vol
        ahts[name] = _aht(rng, p.aht_seconds, p.aht_knots, p.aht_cv, vol, hours, weekend)
    handoff = rng.binomial(volumes["chatbot"], HANDOFF_RATE)
    volumes["chatbot_handoff"] = handoff
    ahts["chatbot_handoff"] = _aht(rng, HANDOFF_AHT_SECONDS,
                                   ((0, 1.05), (10, 0.97), (20, 1.0), (24, 1.05)),
                                   0.8, handoff, hours, weekend)

    order = list(CHANNELS)
    frame = pd.DataFrame({
        "timestamp": np.repeat(grid.to_numpy(), len(order)),
        "channel": np.tile(np.array(order, dtype=object), n),
        "volume": np.column_stack([volumes[c] for c in order]).ravel().astype("int64"),
        "aht_seconds": np.column_stack([ahts[c] for c in order]).ravel(),
    })
    frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_convert(TIMEZONE)
    frame["channel"] = frame["channel"].astype("str")
    return frame


def _incident_strength(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-interval incident strength (app outage, viral post), 0 when calm.

    About nine incidents a year, each 2-6 hours long, starting at 3-7 times
    the usual social-media volume and fading out.
    """
    strength = np.zeros(n)
    per_interval = 9.0 / (365.25 * 96)
    for s in np.flatnonzero(rng.random(n) < per_interval):
        length = int(rng.integers(8, 25))
        peak = rng.uniform(3.0, 7.0)
        decay = np.linspace(1.0, 0.2, length)
        end = min(n, s + length)
        strength[s:end] = np.maximum(strength[s:end], peak * decay[: end - s])
    return strength


def _aht(rng: np.random.Generator, base: float, knots: tuple[tuple[float, float], ...],
         cv: float, volume: np.ndarray, hours: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Observed mean handle time [s] of each interval, NaN where volume is 0.

    The mean of ``volume`` handle times with coefficient of variation ``cv``
    is gamma distributed around the expected AHT with relative sd
    ``cv / sqrt(volume)``.
    """
    mean = base * _interp_hours(knots, hours) * np.where(weekend, 1.04, 1.0)
    n = np.maximum(volume, 1)
    # the mean of n gamma-distributed handle times is gamma with shape n / cv^2
    shape = n / cv ** 2
    obs = rng.gamma(shape, mean / shape)
    return np.where(volume > 0, np.maximum(np.round(obs), 1.0), np.nan)


# --------------------------------------------------------------------------
# roster
# --------------------------------------------------------------------------

#: Skill groups of the sample center: (skills, number of agents, team).
SKILL_GROUPS: tuple[tuple[str, int, str], ...] = (
    ("voice", 34, "Service Telefon"),
    ("voice;chat", 18, "Service Telefon"),
    ("voice;email", 10, "Service Telefon"),
    ("voice;chat;chatbot_handoff", 8, "Digital"),
    ("chat;chatbot_handoff", 12, "Digital"),
    ("chat;email;chatbot_handoff", 6, "Digital"),
    ("email;letters", 12, "Schriftgut"),
    ("email;letters;social", 8, "Schriftgut"),
    ("social;chat;chatbot_handoff", 4, "Social Media"),
    ("voice;chat;email;social;letters;chatbot_handoff", 8, "Allrounder"),
)

_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def agent_contract(rng: np.random.Generator, week: list[dt.date]) -> dict[str, object]:
    """Contract hours, days, availability, wishes and cost of one synthetic agent."""
    full_time = rng.random() < 0.7
    earliest = latest = unavailable = preferred = days_off = ""
    if full_time:
        max_h = float(rng.choice([38.0, 39.0, 40.0]))
        min_h = max_h - 2.0
        max_days = 5
        cost = round(float(rng.uniform(30.0, 38.0)), 2)
    else:
        max_h = float(rng.choice([20.0, 25.0, 30.0]))
        min_h = max_h - 4.0
        max_days = int(rng.choice([4, 5])) if max_h < 30 else 5
        cost = round(float(rng.uniform(28.0, 34.0)), 2)
        if rng.random() < 0.45:
            earliest, latest = "08:00", str(rng.choice(["14:00", "14:30", "15:00"]))
    if full_time and rng.random() < 0.12:
        earliest, latest = "07:00", "18:00"
    u = rng.random()
    if u < 0.15:
        unavailable = str(rng.choice(["sat;sun", "sat", "sun", "wed"]))
    elif u < 0.27:
        leave_days = int(rng.integers(1, 3))
        first = int(rng.integers(0, 7 - leave_days))
        unavailable = ";".join(week[first + i].isoformat() for i in range(leave_days))
        if full_time:
            # leave counts as worked time: 8 h per day of leave off the contract
            min_h = max(0.0, min_h - 8.0 * leave_days)
            max_h = max_h - 8.0 * leave_days
            max_days = max_days - leave_days
        else:
            max_days = min(max_days, 7 - leave_days)
            min_h = max(0.0, min(min_h, max_days * 6.0 - 4.0))
    if rng.random() < 0.2:
        preferred = str(rng.choice(["07:00", "08:00", "09:00", "10:00", "12:00"]))
        if earliest and (preferred < earliest or latest):
            preferred = earliest
    if rng.random() < 0.2:
        days_off = str(rng.choice(["fri", "mon", "sat;sun", "wed"]))
    return {"min_hours_week": min_h, "max_hours_week": max_h, "max_days_week": max_days,
            "earliest_start": earliest, "latest_end": latest, "unavailable": unavailable,
            "preferred_start": preferred, "days_off_wished": days_off, "hourly_cost": cost}


def generate_roster(seed: int = DEFAULT_SEED,
                    horizon_start: dt.date = HISTORY_END + dt.timedelta(days=1)) -> pd.DataFrame:
    """A roster of 120 agents for the week starting ``horizon_start``.

    Mixed skills (see :data:`SKILL_GROUPS`), about 70 % full-time (38-40 h a
    week on 5 days) and 30 % part-time (20-30 h); some agents with limited
    hours, unavailable weekdays or dates (leave, training) in the horizon
    week, shift preferences and proficiency below 1 for new hires. Agents on
    leave for some days of the week have their minimum hours lowered by 8 h
    per day of leave (leave counts as worked time in German contracts).

    Returns
    -------
    DataFrame
        The roster columns of the data contract (strings as in the CSV file).
    """
    rng = np.random.default_rng(seed + 1)
    week = [horizon_start + dt.timedelta(days=i) for i in range(7)]
    rows = []
    k = 0
    for skills, count, team in SKILL_GROUPS:
        for _ in range(count):
            k += 1
            row: dict[str, object] = {"agent_id": f"A{k:03d}", "skills": skills}
            row.update(agent_contract(rng, week))
            proficiency = ""
            if rng.random() < 0.15:
                # new hire: slower on the first skill
                first_skill = skills.split(";")[0]
                proficiency = f"{first_skill}:{rng.choice([0.7, 0.8, 0.9])}"
            row.update({"proficiency": proficiency, "max_consecutive_days": 6, "team": team})
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# scenario
# --------------------------------------------------------------------------

def scenario_toml(history_file: str, roster_file: str, horizon_start: dt.date) -> str:
    """The text of the sample ``scenario.toml``."""
    special = []
    for date, name, channels, mult in HORIZON_CAMPAIGNS:
        chans = ", ".join(f'"{c}"' for c in channels)
        special.append(f'[[special_days]]\ndate = {date.isoformat()}\nname = "{name}"\n'
                       f"channels = [{chans}]\nmultiplier = {mult}\n")
    for date, mult in sorted(PAST_CAMPAIGNS.items()):
        special.append(f'[[special_days]]\ndate = {date.isoformat()}\n'
                       f'name = "newsletter campaign (past)"\nchannels = ["email"]\n'
                       f"multiplier = {mult}\n")
    return f'''# Sample scenario: a German-speaking insurer's omnichannel customer service.
# Generated by `wfm sample-data` (wfm.sampledata); every field is documented in
# the README's scenario reference. Paths are relative to this file.

[site]
name = "Rheinland Versicherung - Kundenservice Köln"
timezone = "{TIMEZONE}"
interval_minutes = {INTERVAL_MINUTES}
country = "{COUNTRY}"
subdivision = "{SUBDIVISION}"

[staffing]
shrinkage = 0.30          # training, meetings, absence (breaks are scheduled)
max_occupancy = 0.85
min_agents = 0

[[channels]]
name = "voice"
kind = "realtime"
service_level_target = 0.80
answer_seconds = 20
aht_seconds = 330
patience_seconds = 90     # mean customer patience: Erlang A with abandonment
priority = 3.0

[[channels]]
name = "chat"
kind = "concurrent"
service_level_target = 0.80
answer_seconds = 60
aht_seconds = 600
concurrency = 2
priority = 2.0

[[channels]]
name = "email"
kind = "deferred"
aht_seconds = 420
response_time_hours = 24
priority = 1.0

[[channels]]
name = "social"
kind = "deferred"
aht_seconds = 270
response_time_hours = 2
priority = 1.5

[[channels]]
name = "letters"
kind = "deferred"
aht_seconds = 660
response_time_hours = 72
priority = 0.5

[[channels]]
name = "chatbot"
kind = "concurrent"
aht_seconds = 150
concurrency = 20
staffed = false           # bot sessions: nobody is scheduled on them

[[channels]]
name = "chatbot_handoff"
kind = "concurrent"
service_level_target = 0.80
answer_seconds = 60
aht_seconds = {HANDOFF_AHT_SECONDS:.0f}
concurrency = 2
derived_from = "chatbot"
derived_rate = {HANDOFF_RATE}
priority = 2.0

[[shift_templates]]
name = "early"
start_earliest = "06:30"
start_latest = "09:30"
start_step_minutes = 30
lengths_hours = [8.0, 8.5]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
[[shift_templates.breaks]]
minutes = 30
paid = false
earliest_after_start_minutes = 180
latest_after_start_minutes = 300

[[shift_templates]]
name = "late"
start_earliest = "10:00"
start_latest = "14:30"
start_step_minutes = 30
lengths_hours = [8.0, 8.5]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
[[shift_templates.breaks]]
minutes = 30
paid = false
earliest_after_start_minutes = 180
latest_after_start_minutes = 300

[[shift_templates]]
name = "night"            # social media, e-mail and bot hand-offs arrive around the clock
start_earliest = "21:30"
start_latest = "22:30"
start_step_minutes = 30
lengths_hours = [8.0]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
channels = ["social", "email", "chatbot_handoff"]
[[shift_templates.breaks]]
minutes = 30
paid = false
earliest_after_start_minutes = 180
latest_after_start_minutes = 300

[[shift_templates]]
name = "part_time"
start_earliest = "07:00"
start_latest = "17:00"
start_step_minutes = 60
lengths_hours = [4.0, 5.0, 6.0]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
[[shift_templates.breaks]]
minutes = 15
paid = true
earliest_after_start_minutes = 90
latest_after_start_minutes = 240
min_before_end_minutes = 45

[agents]
file = "{roster_file}"
min_rest_hours = 11
max_consecutive_days = 6

[data]
history = "{history_file}"

[horizon]
start = {horizon_start.isoformat()}
days = {HORIZON_DAYS}

[forecast]
model = "auto"
horizon_days = {HORIZON_DAYS}
backtest_origins = 4
backtest_horizon_days = 7
interval_level = 0.8
history_weeks = 60

[solver]
backend = "highs"
time_limit_seconds = 120
gap = 0.02

[weights]
under_coverage = 100
over_coverage = 1
labour_cost = 0.5
preference = 2
backlog = 5

''' + "\n".join(special)


_README = """# Sample data: a German-speaking insurer's customer service

Generated by `wfm sample-data DIR --seed {seed} --years {years}` (module
`wfm.sampledata`); the same seed always gives the same files. Fictitious
"Rheinland Versicherung", customer service in Cologne: site time zone
`Europe/Berlin`, 15-minute intervals, public holidays of Germany / North
Rhine-Westphalia (`holidays`, country `DE`, subdivision `NW`).

| file | what |
|---|---|
| `scenario.toml` | the scenario: site, 7 channels with service targets, shrinkage 30 %, shift templates with breaks, roster, history, horizon {horizon_start} + 7 days, special days |
| `{history_file}` | {rows:,} rows: every 15-minute interval of every channel from {first} to {last} (Sunday), columns `timestamp, channel, volume, aht_seconds` |
| `roster.csv` | {agents} agents for the horizon week: skills, contract hours, availability, preferences |

## Channels (average contacts per week over the last 8 weeks of history)

| channel | kind | pattern | contacts / week | mean AHT [s] |
|---|---|---|---:|---:|
{channel_rows}

`chatbot` sessions are not staffed (`staffed = false`); `chatbot_handoff` is
`Binomial(chatbot sessions, {rate})` and derived from `chatbot` in the
scenario. `aht_seconds` is empty where `volume` is 0.

Built into the history: annual seasonality (January premium invoices, the
November car-insurance switching season, a summer dip, a quiet Christmas
week), a slow shift from voice and letters to chat and the chatbot, public
holidays (voice and letters closed), catch-up on the day after a holiday,
half days on 24 and 31 December, storms (claims surge on every channel for a
few days), social-media incidents (app outage, viral post: a few hours of
4-8 times the usual volume), two past newsletter campaigns (e-mail x1.35/x1.4,
listed in the scenario's special days), and daylight-saving days with 23 and
25 hours.

## Roster

{agents} agents; {full_time} full-time (38-40 h a week on 5 days), {part_time}
part-time (20-30 h). Skill groups:

| skills | agents |
|---|---:|
{skill_rows}

Some agents work mornings only (`earliest_start`/`latest_end`), are never
available on given weekdays, or are on leave or training on dates of the
horizon week (`unavailable`; their minimum hours are lowered by 8 h per day
of leave); some wish a start time or days off, new hires have
`proficiency` below 1 on their first skill.
"""


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def generate(out_dir: Path | str, seed: int = DEFAULT_SEED, years: float = 2.0,
             history_format: str = "parquet", progress=None) -> Path:
    """Write the sample center (history, roster, scenario, README) into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder to write to (created if needed).
    seed : int
        Random seed; the same seed gives the same files.
    years : float
        Length of the history [years] (whole weeks ending Sunday 2026-11-15).
    history_format : {"parquet", "csv.gz", "csv"}
        File format of the history.
    progress : callable, optional
        Called with a short message before each step.

    Returns
    -------
    Path
        The written ``scenario.toml``.

    Examples
    --------
    >>> from wfm.sampledata import generate
    >>> path = generate("/tmp/wfm-sample", seed=7, years=0.1)  # doctest: +SKIP
    """
    from wfm.io import write_frame

    formats = ("parquet", "csv.gz", "csv")
    if history_format not in formats:
        raise ValueError(f"history_format must be one of {formats}, got {history_format!r}")
    if years <= 0:
        raise ValueError(f"years must be > 0, got {years}")
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say(f"simulating {years:g} years of 15-minute history (seed {seed})")
    history = generate_history(seed=seed, years=years)
    history_file = f"history.{history_format}"
    write_frame(history, out / history_file, kind="history")
    horizon_start = HISTORY_END + dt.timedelta(days=1)
    say("writing roster and scenario")
    roster = generate_roster(seed=seed, horizon_start=horizon_start)
    write_frame(roster, out / "roster.csv", kind="roster")
    scenario_path = out / "scenario.toml"
    _atomic_write_text(scenario_path, scenario_toml(history_file, "roster.csv", horizon_start))
    _atomic_write_text(out / "README.md",
                       _readme(history, roster, seed, years, history_file, horizon_start))
    return scenario_path


def _readme(history: pd.DataFrame, roster: pd.DataFrame, seed: int, years: float,
            history_file: str, horizon_start: dt.date) -> str:
    kinds = {"voice": "realtime", "chat": "concurrent", "email": "deferred",
             "social": "deferred", "letters": "deferred", "chatbot": "not staffed",
             "chatbot_handoff": "concurrent, derived"}
    patterns = {"voice": "Mon-Sat 08-20", "chat": "daily 07-22", "email": "24/7",
                "social": "24/7, bursty", "letters": "business days, morning batches",
                "chatbot": "24/7", "chatbot_handoff": "24/7 (follows chatbot)"}
    ts = history["timestamp"]
    last = ts.max()
    recent = history[ts > last - pd.Timedelta(days=56)]
    rows = []
    for ch in CHANNELS:
        r = recent[recent["channel"] == ch]
        weekly = r["volume"].sum() / 8.0
        aht = (r["aht_seconds"] * r["volume"]).sum() / max(r["volume"].sum(), 1)
        rows.append(f"| `{ch}` | {kinds[ch]} | {patterns[ch]} | {weekly:,.0f} | {aht:,.0f} |")
    leave = roster["unavailable"].fillna("").map(
        lambda u: sum(1 for x in str(u).split(";") if x[:1].isdigit()))
    full_time = int((roster["max_hours_week"] + 8 * leave >= 36).sum())
    skill_rows = [f"| `{s}` | {n} |" for s, n, _ in SKILL_GROUPS]
    return _README.format(
        seed=seed, years=f"{years:g}", horizon_start=horizon_start.isoformat(),
        history_file=history_file, rows=len(history), first=ts.min().date().isoformat(),
        last=last.date().isoformat(), agents=len(roster), channel_rows="\n".join(rows),
        rate=HANDOFF_RATE, full_time=full_time, part_time=len(roster) - full_time,
        skill_rows="\n".join(skill_rows),
    )


def sample_dir() -> Path:
    """Folder of the bundled sample (repo checkout) or of the generated cache copy."""
    return sample_scenario_path().parent


def _repo_sample() -> Path:
    return Path(__file__).resolve().parent.parent / "sample_data" / "scenario.toml"


def sample_scenario_path() -> Path:
    """Path of the sample ``scenario.toml``.

    The copy bundled in the repository (``<repo>/sample_data/``) when wfm
    runs from a checkout; otherwise (an installed wheel) the sample is
    generated once, with the default seed, into ``$WFM_SAMPLE_DIR`` or
    ``~/.cache/wfm/sample_data`` and reused afterwards.

    Examples
    --------
    >>> from wfm.sampledata import sample_scenario_path
    >>> sample_scenario_path().name
    'scenario.toml'
    """
    bundled = _repo_sample()
    if bundled.is_file():
        return bundled
    env = os.environ.get("WFM_SAMPLE_DIR")
    cache = Path(env) if env else Path.home() / ".cache" / "wfm" / "sample_data"
    target = cache / "scenario.toml"
    if not target.is_file():
        generate(cache, seed=DEFAULT_SEED)
    return target
