"""A synthetic, deterministic multi-site contact-center group.

:func:`generate_group` writes a group of ``sites`` contact centers spread
over time zones of Europe, the Americas and Asia-Pacific, each with
``queues_per_site`` queues (a queue is channel x language x product, e.g.
``voice_en_billing`` or ``chat_de_sales``), ``years`` of interval history
and a roster per site, plus one multi-site ``scenario.toml``::

    DIR/scenario.toml                   defaults + one [[sites]] entry per site
    DIR/history/site=<site>/channel=<queue>/part-0.parquet
    DIR/rosters/<site>.csv
    DIR/README.md

The history is a hive-partitioned Parquet dataset (columns ``timestamp``,
UTC start of the interval, ``volume`` and ``aht_seconds``; ``site`` and
``channel`` are the partition folders), so one site's slice reads with
``pd.read_parquet(DIR / "history", filters=[("site", "==", "site01")])``.

What the generator models, per queue (all patterns in the site's *local*
time, so the UTC timestamps of sites in different zones are shifted):

- the channel's weekly and intraday shape (:data:`wfm.sampledata.PROFILES`:
  voice Mon-Sat 08-20 with a Monday peak, chat 07-22, e-mail and social
  media around the clock, letters in morning batches on business days, a
  24/7 chatbot) with opening hours shifted per queue by up to an hour;
- a few big queues and many small ones (volume falls with a Zipf-like rank),
  secondary languages smaller than the site's main language;
- trend, annual seasonality (a queue-specific peak, a summer dip in the
  site's hemisphere, a quiet Christmas week where Christmas is a public
  holiday), public holidays of the site's country (voice and letters closed,
  catch-up the next business day) and a few site-wide incident days;
- Poisson noise per interval on top of a log-normal day level; social media
  is over-dispersed (gamma-Poisson, i.e. negative binomial) with bursts;
- chatbot hand-offs ``Binomial(chatbot sessions, rate)`` when a site has
  six queues or more (``chatbot_<lang>`` is not staffed,
  ``chatbot_handoff_<lang>`` is derived from it);
- average handle times per queue with intraday variation (NaN where the
  volume is 0).

Rosters hold about the agents a week of the site's queues needs (Erlang C /
A per interval of an average recent week, deferred work at the occupancy
cap, plus shrinkage), in skill groups of one language: every agent has a
home queue and often one or two related queues of the same language.

The same seed gives byte-identical ``scenario.toml``, rosters and README and
identical history frames. Sites draw from independent random streams, so
site ``k`` does not change when more sites are generated.

Examples
--------
>>> from wfm.samplegroup import generate_group
>>> path = generate_group("/tmp/wfm-group", sites=3, queues_per_site=4,
...                       years=0.1)  # doctest: +SKIP
>>> path.name  # doctest: +SKIP
'scenario.toml'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wfm.errors import ConfigError
from wfm.sampledata import (
    CATCH_UP_FACTOR,
    DEFAULT_SEED,
    HISTORY_END,
    HOLIDAY_FACTOR,
    LETTER_BATCHES,
    PROFILES,
    _aht,
    _atomic_write_text,
    _intraday,
    agent_contract,
)
from wfm.timegrid import interval_grid

__all__ = ["SITE_CATALOGUE", "QueueSpec", "SiteSpec", "generate_group", "group_toml",
           "plan_group", "simulate_site", "site_roster"]

MAX_SITES = 200
MAX_QUEUES = 50
INTERVALS = (15, 30, 60)
#: Queues per site from which a chatbot and its hand-off channel are added.
CHATBOT_MIN_QUEUES = 6
SHRINKAGE = 0.30
MAX_OCCUPANCY = 0.85
#: 8-hour shifts cannot follow every intraday peak: roster hours above the net need.
ROSTER_SLACK = 1.15
HISTORY_FOLDER = "history"
ROSTER_FOLDER = "rosters"


@dataclass(frozen=True)
class SiteSpec:
    """Where a site is and what it speaks.

    Attributes
    ----------
    name : str
        Unique site name (``site01``), the ``site`` partition value.
    city : str
        Display location.
    timezone : str
        IANA time zone; every local pattern is in this zone.
    country, subdivision : str
        Public holidays (codes of the ``holidays`` package).
    languages : tuple of str
        Language codes, the first is the site's main language.
    scale : float
        Site size factor on every queue's volume [1].
    """

    name: str
    city: str
    timezone: str
    country: str
    subdivision: str | None
    languages: tuple[str, ...]
    scale: float


@dataclass(frozen=True)
class QueueSpec:
    """One queue (channel of the scenario) and its arrival / handle-time pattern.

    ``base`` is the channel type whose profile the queue follows (``voice``,
    ``chat``, ``email``, ``social``, ``letters``, ``chatbot`` or
    ``chatbot_handoff``); ``kind`` is the staffing kind of the scenario.
    """

    name: str
    base: str
    kind: str
    language: str
    product: str
    weekly_volume: float        # contacts per week at the end of the history [1]
    aht_seconds: float          # mean handle time [s]
    hour_shift: float           # opening hours shifted by this [h]
    trend_per_year: float       # multiplicative growth per year [1]
    season_amplitude: float     # annual cosine amplitude [1]
    season_peak_doy: float      # day of year of the annual peak
    service_level_target: float = 0.8
    answer_seconds: float = 20.0
    patience_seconds: float | None = None
    concurrency: int = 1
    response_time_hours: float | None = None
    priority: float = 1.0
    staffed: bool = True
    derived_from: str | None = None
    derived_rate: float | None = None


#: (city, time zone, country, subdivision, languages); regions interleaved so that
#: any first few sites already span Europe, the Americas and Asia-Pacific.
SITE_CATALOGUE: tuple[tuple[str, str, str, str | None, tuple[str, ...]], ...] = (
    ("Amsterdam", "Europe/Amsterdam", "NL", None, ("nl", "en")),
    ("Tampa", "America/New_York", "US", None, ("en", "es")),
    ("Manila", "Asia/Manila", "PH", None, ("en", "tl")),
    ("Cologne", "Europe/Berlin", "DE", "NW", ("de", "en")),
    ("Dallas", "America/Chicago", "US", None, ("en", "es")),
    ("Sydney", "Australia/Sydney", "AU", "NSW", ("en",)),
    ("Lyon", "Europe/Paris", "FR", None, ("fr", "en")),
    ("Toronto", "America/Toronto", "CA", "ON", ("en", "fr")),
    ("Bengaluru", "Asia/Kolkata", "IN", None, ("en", "hi")),
    ("Madrid", "Europe/Madrid", "ES", "MD", ("es", "en")),
    ("Mexico City", "America/Mexico_City", "MX", None, ("es", "en")),
    ("Singapore", "Asia/Singapore", "SG", None, ("en", "zh")),
    ("Manchester", "Europe/London", "GB", None, ("en",)),
    ("Sao Paulo", "America/Sao_Paulo", "BR", None, ("pt", "en")),
    ("Tokyo", "Asia/Tokyo", "JP", None, ("ja", "en")),
    ("Krakow", "Europe/Warsaw", "PL", None, ("pl", "en", "de")),
    ("Phoenix", "America/Phoenix", "US", None, ("en", "es")),
    ("Auckland", "Pacific/Auckland", "NZ", None, ("en",)),
    ("Lisbon", "Europe/Lisbon", "PT", None, ("pt", "en", "es")),
    ("Bogota", "America/Bogota", "CO", None, ("es", "en")),
    ("Kuala Lumpur", "Asia/Kuala_Lumpur", "MY", None, ("en", "ms", "zh")),
    ("Dublin", "Europe/Dublin", "IE", None, ("en", "de", "fr")),
    ("Buenos Aires", "America/Argentina/Buenos_Aires", "AR", None, ("es",)),
    ("Seoul", "Asia/Seoul", "KR", None, ("ko", "en")),
    ("Stockholm", "Europe/Stockholm", "SE", None, ("sv", "en")),
    ("Santiago", "America/Santiago", "CL", None, ("es", "en")),
    ("Milan", "Europe/Rome", "IT", None, ("it", "en")),
)

#: Order in which staffed queue kinds are added (Q = 1, 2, 3: voice, chat, email).
KIND_PATTERN = ("voice", "chat", "email", "voice", "social", "voice", "chat", "letters",
                "voice", "email", "chat", "voice")
#: Products (with their handle-time factor) that queues of one channel and language serve.
PRODUCTS: tuple[tuple[str, float], ...] = (
    ("billing", 1.0), ("sales", 0.9), ("support", 1.15), ("claims", 1.25), ("tech", 1.35),
    ("retention", 1.2), ("orders", 0.85), ("accounts", 1.0), ("returns", 0.9),
    ("premium", 1.1), ("onboarding", 1.2), ("payments", 0.95), ("delivery", 0.85),
    ("complaints", 1.3), ("loyalty", 0.9), ("business", 1.15), ("mobile", 1.05),
    ("internet", 1.2), ("tv", 1.0), ("insurance", 1.2), ("travel", 1.05), ("loans", 1.25),
    ("cards", 0.95), ("general", 1.0),
)
#: Contacts per week of a site's biggest queue of each channel (site scale 1) [1].
TOP_WEEKLY_VOLUME = {"voice": 7_000.0, "chat": 3_000.0, "email": 3_000.0, "social": 900.0,
                     "letters": 700.0}
#: Trend range per year (voice and letters decline, digital grows).
TREND_RANGE = {"voice": (0.90, 1.0), "chat": (1.05, 1.20), "email": (0.97, 1.06),
               "social": (1.0, 1.15), "letters": (0.85, 0.95), "chatbot": (1.2, 1.4)}
#: Mean handle time of a product factor 1 [s].
BASE_AHT = {"voice": 330.0, "chat": 600.0, "email": 420.0, "social": 270.0,
            "letters": 660.0, "chatbot": 150.0, "chatbot_handoff": 480.0}
#: Coefficient of variation of single handle times.
AHT_CV = {"voice": 0.9, "chat": 0.8, "email": 1.0, "social": 1.1, "letters": 0.7,
          "chatbot": 0.6, "chatbot_handoff": 0.8}
HANDOFF_AHT_KNOTS = ((0, 1.05), (10, 0.97), (20, 1.0), (24, 1.05))
#: Related queue types an agent of a home channel type may also work.
RELATED = {"voice": ("voice", "chat", "email"),
           "chat": ("chat", "voice", "chatbot_handoff", "social", "email"),
           "email": ("email", "letters", "social", "chat"),
           "social": ("social", "email", "chat", "chatbot_handoff"),
           "letters": ("letters", "email"),
           "chatbot_handoff": ("chatbot_handoff", "chat", "social")}


# --------------------------------------------------------------------------
# sites and queues
# --------------------------------------------------------------------------

def _site_name(i: int, sites: int) -> str:
    return f"site{i + 1:0{max(2, len(str(sites)))}d}"


def plan_group(sites: int, queues_per_site: int, seed: int = DEFAULT_SEED
               ) -> list[tuple[SiteSpec, list[QueueSpec]]]:
    """Sites and their queues (no history yet); deterministic for a seed.

    Parameters
    ----------
    sites : int
        Number of sites (1-200); they cycle through :data:`SITE_CATALOGUE`.
    queues_per_site : int
        Queues (channels of the scenario) per site (1-50), chatbot channels
        included when there are six or more.
    seed : int
        Random seed (>= 0).

    Returns
    -------
    list of (SiteSpec, list of QueueSpec)

    Examples
    --------
    >>> spec, queues = plan_group(2, 3, seed=1)[1]
    >>> spec.timezone, [q.name for q in queues]
    ('America/New_York', ['voice_en_billing', 'chat_en_billing', 'email_en_billing'])
    """
    _check_counts(sites, queues_per_site, seed)
    out = []
    for i in range(sites):
        rng = np.random.default_rng([seed, 1, i])
        city, tz, country, subdiv, langs = SITE_CATALOGUE[i % len(SITE_CATALOGUE)]
        if i >= len(SITE_CATALOGUE):
            city = f"{city} {i // len(SITE_CATALOGUE) + 1}"
        spec = SiteSpec(name=_site_name(i, sites), city=city, timezone=tz, country=country,
                        subdivision=subdiv, languages=langs,
                        scale=float(np.exp(rng.normal(0.0, 0.35))))
        out.append((spec, _queues(spec, queues_per_site, rng)))
    return out


def _queues(site: SiteSpec, q: int, rng: np.random.Generator) -> list[QueueSpec]:
    langs = site.languages
    with_bot = q >= CHATBOT_MIN_QUEUES
    n_staffed = q - 2 if with_bot else q
    kinds = [KIND_PATTERN[j % len(KIND_PATTERN)] for j in range(n_staffed)]
    seen: dict[str, int] = {}
    per_lang: dict[tuple[str, str], int] = {}
    combos = []
    for base in kinds:
        n = seen.get(base, 0)
        seen[base] = n + 1
        # every third queue of a channel serves a secondary language
        lang = langs[0] if (n % 3 != 2 or len(langs) == 1) else \
            langs[1 + (n // 3) % (len(langs) - 1)]
        k = per_lang.get((base, lang), 0)
        per_lang[(base, lang)] = k + 1
        product, factor = PRODUCTS[k % len(PRODUCTS)]
        if k >= len(PRODUCTS):
            product = f"{product}{k // len(PRODUCTS) + 1}"
        combos.append((base, lang, product, factor))
    # a few big queues, many small ones: Zipf-like weight of a random rank
    rank = rng.permutation(n_staffed)
    queues: list[QueueSpec] = []
    for j, (base, lang, product, factor) in enumerate(combos):
        weight = (rank[j] + 1.0) ** -0.85 * math.exp(rng.normal(0.0, 0.15))
        if lang != langs[0]:
            weight *= 0.5
        weekly = TOP_WEEKLY_VOLUME[base] * site.scale * weight
        lo, hi = TREND_RANGE[base]
        common = dict(
            name=f"{base}_{lang}_{product}", base=base, language=lang, product=product,
            weekly_volume=round(weekly, 1),
            aht_seconds=round(BASE_AHT[base] * factor * math.exp(rng.normal(0.0, 0.08))),
            hour_shift=float(rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0])),
            trend_per_year=round(float(rng.uniform(lo, hi)), 3),
            season_amplitude=round(float(rng.uniform(0.03, 0.15)), 3),
            season_peak_doy=float(rng.integers(1, 366)),
        )
        if base == "voice":
            patience = float(rng.choice([60.0, 90.0, 120.0, 180.0])) \
                if rng.random() < 0.5 else None
            premium = product in ("premium", "retention") or rng.random() < 0.15
            queues.append(QueueSpec(kind="realtime", **common, priority=3.0,
                                    service_level_target=0.9 if premium else 0.8,
                                    answer_seconds=15.0 if premium else 20.0,
                                    patience_seconds=patience))
        elif base == "chat":
            queues.append(QueueSpec(kind="concurrent", **common, priority=2.0,
                                    answer_seconds=60.0,
                                    concurrency=int(rng.choice([2, 2, 3]))))
        else:
            hours = {"email": float(rng.choice([8.0, 24.0, 24.0, 48.0])), "social": 2.0,
                     "letters": 72.0}[base]
            prio = {"email": 1.0, "social": 1.5, "letters": 0.5}[base]
            queues.append(QueueSpec(kind="deferred", **common, priority=prio,
                                    response_time_hours=hours))
    if with_bot:
        lang = langs[0]
        chat_weekly = sum(x.weekly_volume for x in queues
                          if x.base == "chat" and x.language == lang)
        bot = f"chatbot_{lang}"
        lo, hi = TREND_RANGE["chatbot"]
        queues.append(QueueSpec(
            name=bot, base="chatbot", kind="concurrent", language=lang, product="bot",
            weekly_volume=round(3.0 * max(chat_weekly, 1_000.0 * site.scale), 1),
            aht_seconds=BASE_AHT["chatbot"], hour_shift=0.0,
            trend_per_year=round(float(rng.uniform(lo, hi)), 3),
            season_amplitude=round(float(rng.uniform(0.03, 0.15)), 3),
            season_peak_doy=float(rng.integers(1, 366)),
            concurrency=20, staffed=False, priority=1.0))
        queues.append(QueueSpec(
            name=f"chatbot_handoff_{lang}", base="chatbot_handoff", kind="concurrent",
            language=lang, product="bot", weekly_volume=0.0,
            aht_seconds=round(BASE_AHT["chatbot_handoff"] * math.exp(rng.normal(0.0, 0.08))),
            hour_shift=0.0, trend_per_year=1.0, season_amplitude=0.0, season_peak_doy=1.0,
            answer_seconds=60.0, concurrency=2, priority=2.0, derived_from=bot,
            derived_rate=round(float(rng.uniform(0.10, 0.20)), 3)))
    return queues


def _check_counts(sites: int, queues_per_site: int, seed: int) -> None:
    if not (1 <= sites <= MAX_SITES):
        raise ConfigError(f"sites must be between 1 and {MAX_SITES}, got {sites}")
    if not (1 <= queues_per_site <= MAX_QUEUES):
        raise ConfigError(f"queues_per_site must be between 1 and {MAX_QUEUES}, "
                          f"got {queues_per_site}")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}")


# --------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------

def _history_days(years: float) -> int:
    """Whole weeks covering ``years`` (ending on the Sunday HISTORY_END)."""
    return int(math.ceil(years * 365.25 / 7.0)) * 7


def _holiday_dates(site: SiteSpec, days: pd.DatetimeIndex) -> set[dt.date]:
    import holidays

    years = sorted({d.year for d in days})
    return set(holidays.country_holidays(site.country, subdiv=site.subdivision,
                                         years=years))


def _interval_incidents(rng: np.random.Generator, n: int, interval_minutes: int,
                        per_year: float) -> np.ndarray:
    """Per-interval burst strength (app outage, viral post), 0 when calm.

    ``per_year`` bursts a year, 2-6 hours long, starting at 3-7 times the
    usual volume and fading out.
    """
    per_day = 1440 // interval_minutes
    strength = np.zeros(n)
    for s in np.flatnonzero(rng.random(n) < per_year / (365.25 * per_day)):
        length = max(1, int(rng.integers(120, 361)) // interval_minutes)
        decay = np.linspace(1.0, 0.2, length) * rng.uniform(3.0, 7.0)
        end = min(n, s + length)
        strength[s:end] = np.maximum(strength[s:end], decay[: end - s])
    return strength


def simulate_site(site: SiteSpec, queues: list[QueueSpec], days: int,
                  interval_minutes: int = 15, seed: int = DEFAULT_SEED, site_index: int = 0,
                  end: dt.date = HISTORY_END) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray],
                                                       dict[str, np.ndarray]]:
    """Simulate one site's interval history (every queue), ending on ``end``.

    Parameters
    ----------
    site : SiteSpec
        The site (time zone, holidays).
    queues : list of QueueSpec
        Its queues, a derived queue after its source.
    days : int
        Local days of history (>= 1).
    interval_minutes : {15, 30, 60}
        Interval length [min].
    seed, site_index : int
        Random stream of this site: ``default_rng([seed, 2, site_index])``.
    end : date
        Last local day of the history (inclusive).

    Returns
    -------
    grid : DatetimeIndex
        Interval starts, tz-aware in the site's zone (23/25-hour days on
        daylight-saving changes).
    volumes : dict[str, ndarray]
        Contacts offered per interval per queue (float, whole numbers >= 0).
    aht : dict[str, ndarray]
        Mean handle time per interval per queue [s], NaN where volume is 0.
    """
    ivl = interval_minutes
    rng = np.random.default_rng([seed, 2, site_index])
    start = end - dt.timedelta(days=days - 1)
    grid = interval_grid(start, days, site.timezone, ivl)
    n = len(grid)
    local = grid.tz_localize(None)
    day_index = ((local.normalize() - pd.Timestamp(start)).days).to_numpy()
    hour_start = (local.hour + local.minute / 60.0).to_numpy()
    hours = hour_start + ivl / 120.0  # interval centre [h]
    day_start = pd.date_range(start, periods=days, freq="D")
    weekday_d = day_start.day_of_week.to_numpy()
    weekend = weekday_d[day_index] >= 5
    ref_hours = np.arange(0, 24, ivl / 60.0) + ivl / 120.0

    # day-level calendar, shared by every queue of the site
    hol = _holiday_dates(site, day_start)
    dates = [d.date() for d in day_start]
    is_hol = np.array([d in hol for d in dates])
    business = (~is_hol) & (weekday_d < 5)
    catch_up = np.zeros(days, dtype=bool)
    for i in range(1, days):
        if business[i]:
            j = i - 1
            while j >= 0 and not business[j]:
                if is_hol[j]:
                    catch_up[i] = True
                j -= 1
    xmas_holiday = any(d.month == 12 and d.day == 25 for d in hol)
    christmas = np.array([xmas_holiday and ((d.month == 12 and d.day >= 24)
                                            or (d.month == 1 and d.day == 1)) for d in dates])
    years_to_end = np.array([(d - end).days / 365.25 for d in dates])
    doy = day_start.day_of_year.to_numpy().astype(float)
    south = site.timezone.startswith(("Australia/", "Pacific/", "America/Sao_Paulo",
                                      "America/Argentina/", "America/Santiago"))
    dip_doy = 20.0 if south else 213.0
    dip = np.exp(-0.5 * (((doy - dip_doy + 182.5) % 365.0 - 182.5) / 22.0) ** 2)
    # site-wide incident days (outage, storm, price change): about three a year
    incident = np.zeros(days)
    for s in np.flatnonzero(rng.random(days) < 3.0 / 365.25):
        peak = rng.uniform(0.4, 1.2)
        for k in range(4):
            if s + k < days:
                incident[s + k] = max(incident[s + k], peak * 0.5 ** k)

    volumes: dict[str, np.ndarray] = {}
    ahts: dict[str, np.ndarray] = {}
    for q in queues:
        if q.derived_from is not None:
            vol = rng.binomial(volumes[q.derived_from].astype(np.int64), q.derived_rate)
            shifted = hours
            knots = HANDOFF_AHT_KNOTS
        else:
            p = PROFILES[q.base]
            w = np.array(p.weekday)
            daily = q.weekly_volume * w[weekday_d] / w.sum()
            season = (1.0 + q.season_amplitude * np.cos(2 * np.pi * (doy - q.season_peak_doy)
                                                         / 365.25) - 0.10 * dip)
            daily = daily * q.trend_per_year ** years_to_end * season
            daily = np.where(is_hol, daily * HOLIDAY_FACTOR[q.base], daily)
            daily = np.where(catch_up, daily * CATCH_UP_FACTOR[q.base], daily)
            daily = np.where(christmas & ~is_hol, daily * 0.6, daily)
            daily = daily * (1.0 + incident * (0.3 if q.base == "letters" else 1.0))
            daily = daily * np.exp(rng.normal(0.0, p.day_noise, days))
            shifted = (hours - q.hour_shift) % 24.0
            if q.base == "letters":
                # mail batches: 70 % scanned in the interval of the batch, 30 % in the next
                weight = np.zeros(n)
                for hour, share in LETTER_BATCHES:
                    b = hour + q.hour_shift
                    span = ivl / 60.0
                    first = (hour_start <= b) & (b < hour_start + span)
                    second = (hour_start <= b + span) & (b + span < hour_start + span)
                    weight += share * (0.7 * first + 0.3 * second)
                lam = daily[day_index] * weight
            else:
                wt = _intraday(q.base, shifted, weekend)
                ref = (ref_hours - q.hour_shift) % 24.0
                norm_wd = _intraday(q.base, ref, np.zeros(len(ref), dtype=bool)).sum()
                norm_we = _intraday(q.base, ref, np.ones(len(ref), dtype=bool)).sum()
                lam = daily[day_index] * wt / np.where(weekend, norm_we, norm_wd)
            if q.base == "social":
                # gamma-Poisson mixing (negative binomial) and bursts
                lam = lam * rng.gamma(1.5, 1.0 / 1.5, n)
                lam = lam * (1.0 + _interval_incidents(rng, n, ivl, 6.0))
            vol = rng.poisson(lam)
            knots = p.aht_knots
        volumes[q.name] = vol.astype(np.float64)
        ahts[q.name] = _aht(rng, q.aht_seconds, knots, AHT_CV[q.base], vol, shifted, weekend)
    return grid, volumes, ahts


def _write_partition(path: Path, utc_ns: np.ndarray, volume: np.ndarray,
                     aht: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays(
        [pa.array(utc_ns, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
         pa.array(volume, type=pa.float64()), pa.array(aht, type=pa.float64())],
        names=["timestamp", "volume", "aht_seconds"])
    path.parent.mkdir(parents=True, exist_ok=True)
    # the dataset reader skips files starting with '.'
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        # interval starts are evenly spaced: delta encoding stores them in a few bytes
        pq.write_table(table, tmp, compression="zstd",
                       use_dictionary=["volume", "aht_seconds"],
                       column_encoding={"timestamp": "DELTA_BINARY_PACKED"})
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------
# roster
# --------------------------------------------------------------------------

def _weekly_hours_needed(queues: list[QueueSpec], grid: pd.DatetimeIndex,
                         volumes: dict[str, np.ndarray], ahts: dict[str, np.ndarray],
                         interval_minutes: int, weeks: int = 4) -> dict[str, float]:
    """Paid agent-hours a week each staffed queue needs (average of the last ``weeks``).

    Realtime and concurrent queues: Erlang C (A with patience) on the mean
    volume of each interval of the week; deferred queues: workload at the
    occupancy cap. Shrinkage is added on top.
    """
    from wfm.staffing.channels import queue_requirement

    ivl = interval_minutes
    local = grid.tz_localize(None)
    last = local.normalize().max()
    recent = np.asarray(local.normalize() > last - pd.Timedelta(days=7 * weeks))
    slot = (local.day_of_week * (1440 // ivl) + (local.hour * 60 + local.minute) // ivl
            ).to_numpy()[recent]
    n_slots = 7 * 1440 // ivl
    n_weeks = max(1.0, recent.sum() / (7 * 1440 / ivl))
    out: dict[str, float] = {}
    for q in queues:
        if not q.staffed:
            continue
        vol = volumes[q.name][recent]
        aht_obs = ahts[q.name][recent]
        total = vol.sum()
        aht = float(np.nansum(aht_obs * vol) / total) if total > 0 else q.aht_seconds
        mean_vol = np.bincount(slot, weights=vol, minlength=n_slots) / n_weeks
        traffic = mean_vol * aht / (60.0 * ivl)
        if q.kind == "deferred":
            agents = traffic / MAX_OCCUPANCY
        else:
            agents = np.asarray(queue_requirement(
                traffic, aht, q.answer_seconds, q.service_level_target,
                concurrency=q.concurrency, patience_seconds=q.patience_seconds,
                max_occupancy=MAX_OCCUPANCY).fractional, dtype=float)
        out[q.name] = float(agents.sum() * ivl / 60.0 / (1.0 - SHRINKAGE))
    return out


def site_roster(site: SiteSpec, queues: list[QueueSpec], hours_needed: dict[str, float],
                agents: int | None = None, seed: int = DEFAULT_SEED, site_index: int = 0,
                horizon_start: dt.date = HISTORY_END + dt.timedelta(days=1)) -> pd.DataFrame:
    """A roster for one site's horizon week, sized to its queues' need.

    Parameters
    ----------
    site : SiteSpec
        The site (agent ids start with its name).
    queues : list of QueueSpec
        Its queues; unstaffed ones (chatbot sessions) are never a skill.
    hours_needed : dict[str, float]
        Paid agent-hours a week per staffed queue [h].
    agents : int, optional
        Number of agents; default: agents until their mean contract hours
        cover ``ROSTER_SLACK`` times the total need (at least one).
    seed, site_index : int
        Random stream ``default_rng([seed, 3, site_index])``.
    horizon_start : date
        First day of the planned week (dates of leave fall in it).

    Returns
    -------
    DataFrame
        The roster columns of the data contract. Every agent has a home
        queue (filled in proportion to need) and often one or two related
        queues of the same language; every staffed queue is a skill of at
        least two agents (one when the site has a single agent).
    """
    rng = np.random.default_rng([seed, 3, site_index])
    week = [horizon_start + dt.timedelta(days=i) for i in range(7)]
    staffed = [q for q in queues if q.staffed]
    need = np.array([hours_needed.get(q.name, 0.0) for q in staffed])
    target = ROSTER_SLACK * need.sum()
    contracts: list[dict[str, object]] = []
    while (len(contracts) < agents) if agents is not None else (
            not contracts or sum((c["min_hours_week"] + c["max_hours_week"]) / 2.0
                                 for c in contracts) < target):
        contracts.append(agent_contract(rng, week))
    # home queues: each agent to the queue with the largest unmet need
    remaining = need * ROSTER_SLACK
    skills: list[list[int]] = []
    for c in contracts:
        j = int(np.argmax(remaining))
        remaining[j] -= (c["min_hours_week"] + c["max_hours_week"]) / 2.0
        skills.append([j])
    by_lang = {lang: [j for j, q in enumerate(staffed) if q.language == lang]
               for lang in site.languages}
    for s in skills:
        home = staffed[s[0]]
        u = rng.random()
        extra = 0 if u < 0.35 else 1 if u < 0.75 else 2 if u < 0.95 else 5
        cand = [j for j in by_lang[home.language]
                if j not in s and staffed[j].base in RELATED[home.base]]
        while extra and cand:
            w = need[cand] + 1.0
            j = cand[int(rng.choice(len(cand), p=w / w.sum()))]
            s.append(j)
            cand.remove(j)
            extra -= 1
    # every queue a skill of at least two agents (same language first, fewest skills first)
    wanted = min(2, len(skills))
    for j, q in enumerate(staffed):
        while sum(j in s for s in skills) < wanted:
            pool = [i for i, s in enumerate(skills) if j not in s]
            same = [i for i in pool if staffed[skills[i][0]].language == q.language]
            i = min(same or pool, key=lambda i: (len(skills[i]), i))
            skills[i].append(j)
    rows = []
    for k, (c, s) in enumerate(zip(contracts, skills)):
        names = [staffed[j].name for j in s]
        home = staffed[s[0]]
        proficiency = f"{names[0]}:{rng.choice([0.7, 0.8, 0.9])}" if rng.random() < 0.15 \
            else ""
        rows.append({
            "agent_id": f"{site.name}-A{k + 1:04d}", "skills": ";".join(names),
            "min_hours_week": c["min_hours_week"], "max_hours_week": c["max_hours_week"],
            "max_days_week": c["max_days_week"], "earliest_start": c["earliest_start"],
            "latest_end": c["latest_end"], "unavailable": c["unavailable"],
            "proficiency": proficiency, "preferred_start": c["preferred_start"],
            "days_off_wished": c["days_off_wished"], "max_consecutive_days": 6,
            "hourly_cost": c["hourly_cost"],
            "team": f"{site.city} {home.language.upper()} {home.base}",
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# scenario and README
# --------------------------------------------------------------------------

def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"no TOML form for {v!r}")


_DEFAULTS_TOML = '''\
[group]
name = {group_name}

[data]
history = "{history}"         # hive-partitioned Parquet: site=<site>/channel=<queue>/

[staffing]
shrinkage = {shrinkage}
max_occupancy = {max_occupancy}
min_agents = 0

[horizon]
start = {horizon_start}
days = 7

[forecast]
model = "auto"
horizon_days = 7
backtest_origins = 3
backtest_horizon_days = 7
interval_level = 0.8

[solver]
backend = "highs"
time_limit_seconds = 60
gap = 0.02

[weights]
under_coverage = 100
over_coverage = 1
labour_cost = 0.5
preference = 2
backlog = 5

[agents]
min_rest_hours = 11
max_consecutive_days = 6

# Shift templates shared by every site (local time of each site); a site may
# give its own list.
[[shift_templates]]
name = "early"
start_earliest = "06:30"
start_latest = "09:30"
start_step_minutes = 30
lengths_hours = [8.0, 8.5]
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
[[shift_templates.breaks]]
minutes = 30
paid = false
earliest_after_start_minutes = 180
latest_after_start_minutes = 300

[[shift_templates]]
name = "night"                # e-mail, social media and hand-offs arrive around the clock
start_earliest = "21:30"
start_latest = "22:30"
start_step_minutes = 30
lengths_hours = [8.0]
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
[[shift_templates.breaks]]
minutes = 15
paid = true
earliest_after_start_minutes = 90
latest_after_start_minutes = 240
min_before_end_minutes = 45
'''


def _channel_toml(q: QueueSpec) -> str:
    fields: list[tuple[str, object]] = [("name", q.name), ("kind", q.kind)]
    if q.kind != "deferred":
        fields += [("service_level_target", q.service_level_target),
                   ("answer_seconds", q.answer_seconds)]
    fields.append(("aht_seconds", float(q.aht_seconds)))
    if q.concurrency != 1:
        fields.append(("concurrency", q.concurrency))
    if q.patience_seconds is not None:
        fields.append(("patience_seconds", q.patience_seconds))
    if q.response_time_hours is not None:
        fields.append(("response_time_hours", q.response_time_hours))
    if q.derived_from is not None:
        fields += [("derived_from", q.derived_from), ("derived_rate", q.derived_rate)]
    if not q.staffed:
        fields.append(("staffed", False))
    else:
        fields.append(("priority", q.priority))
    return "[[sites.channels]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fields)


def group_toml(plan: list[tuple[SiteSpec, list[QueueSpec]]], interval_minutes: int,
               name: str) -> str:
    """The text of the multi-site ``scenario.toml`` for ``plan``."""
    head = ("# Synthetic multi-site contact-center group, generated by `wfm sample-data "
            "--sites`\n# (wfm.samplegroup). Top-level sections are defaults for every "
            "site; each\n# [[sites]] entry is merged over them (tables key by key, lists "
            "replace).\n# Paths are relative to this file.\n\n")
    parts = [head, _DEFAULTS_TOML.format(
        group_name=_toml(name), history=HISTORY_FOLDER, shrinkage=SHRINKAGE,
        max_occupancy=MAX_OCCUPANCY,
        horizon_start=(HISTORY_END + dt.timedelta(days=1)).isoformat())]
    for site, queues in plan:
        lines = ["", f"# {site.name}: {site.city} ({site.timezone}), languages "
                 f"{', '.join(site.languages)}", "[[sites]]", "[sites.site]",
                 f"name = {_toml(site.name)}", f"timezone = {_toml(site.timezone)}",
                 f"country = {_toml(site.country)}"]
        if site.subdivision:
            lines.append(f"subdivision = {_toml(site.subdivision)}")
        lines.append(f"interval_minutes = {interval_minutes}")
        parts.append("\n".join(lines) + "\n")
        parts.extend(_channel_toml(q) for q in queues)
        parts.append(f"[sites.agents]\nfile = "
                     f"{_toml(f'{ROSTER_FOLDER}/{site.name}.csv')}\n")
    return "".join(parts)


def _readme(name: str, plan: list[tuple[SiteSpec, list[QueueSpec]]],
            stats: dict[str, dict[str, tuple[float, float]]], agents: dict[str, int],
            seed: int, years: float, days: int, interval_minutes: int, rows: int,
            agents_per_site: int | None) -> str:
    site_rows, queue_rows = [], []
    for site, queues in plan:
        weekly = sum(v for v, _ in stats[site.name].values())
        site_rows.append(
            f"| `{site.name}` | {site.city} | `{site.timezone}` | {site.country}"
            f"{'-' + site.subdivision if site.subdivision else ''} | "
            f"{', '.join(site.languages)} | {len(queues)} | {weekly:,.0f} | "
            f"{agents[site.name]} |")
        for q in queues:
            v, aht = stats[site.name][q.name]
            kind = q.kind + (", derived" if q.derived_from else "") + \
                ("" if q.staffed else ", not staffed")
            queue_rows.append(f"| `{site.name}` | `{q.name}` | {kind} | {v:,.0f} | "
                              f"{aht:,.0f} |")
    end = HISTORY_END
    first = end - dt.timedelta(days=days - 1)
    per_site = "" if agents_per_site is None else f" --agents-per-site {agents_per_site}"
    return f"""# {name}

Generated by `wfm sample-data --sites {len(plan)} --queues-per-site \
{len(plan[0][1])} --years {years:g} --interval {interval_minutes}{per_site} --seed {seed}`
(`wfm.samplegroup`). Synthetic data: {len(plan)} sites in {len({s.timezone for s, _ in plan})} \
time zones, {sum(len(q) for _, q in plan)} queues, {rows:,} history rows of \
{interval_minutes}-minute intervals from {first.isoformat()} to {end.isoformat()} \
(local days of each site), planning week from \
{(end + dt.timedelta(days=1)).isoformat()}.

| file | what |
|---|---|
| `scenario.toml` | multi-site scenario: shared defaults (staffing, forecast, horizon, shift templates, solver, weights) and one `[[sites]]` entry per site (site, channels, roster) |
| `{HISTORY_FOLDER}/site=<site>/channel=<queue>/part-0.parquet` | hive-partitioned history: `timestamp` (UTC, start of the interval), `volume`, `aht_seconds` (empty where volume is 0) |
| `{ROSTER_FOLDER}/<site>.csv` | one roster per site for the planning week |

Read one site's slice (local time = convert from UTC to the site's zone):

```python
pd.read_parquet("{HISTORY_FOLDER}", filters=[("site", "==", "site01")])
```

Patterns are in each site's local time (opening hours, weekdays, public
holidays of its country, Christmas where it is a holiday, summer dip of its
hemisphere), so the UTC timestamps of sites in different zones are shifted.
Volumes: Poisson per interval on a log-normal day level (social media
gamma-Poisson with bursts), trend, annual season per queue, catch-up after
holidays and a few site-wide incident days. Queues with six or more per site
include a `chatbot_<lang>` channel (not staffed) and its
`chatbot_handoff_<lang>` (Binomial hand-offs, derived in the scenario).
Rosters: about the agents an average recent week needs (Erlang C / A per
interval, deferred work at {MAX_OCCUPANCY:.0%} occupancy, {SHRINKAGE:.0%}
shrinkage, x{ROSTER_SLACK} for shift granularity), skill groups within one
language, contracts as in the bundled sample.

## Sites (contacts per week: mean of the last 8 weeks, or of the whole history when shorter)

| site | city | time zone | holidays | languages | queues | contacts / week | agents |
|---|---|---|---|---|---:|---:|---:|
{chr(10).join(site_rows)}

## Queues

| site | queue | kind | contacts / week | mean AHT [s] |
|---|---|---|---:|---:|
{chr(10).join(queue_rows)}
"""


# --------------------------------------------------------------------------
# the group
# --------------------------------------------------------------------------

_OUTPUT_ENTRIES = frozenset({"scenario.toml", HISTORY_FOLDER, ROSTER_FOLDER, "README.md"})


def _is_previous_output(out: Path) -> bool:
    """``out`` holds only what an earlier group generation wrote (safe to replace)."""
    entries = {p.name for p in out.iterdir()}
    if not entries <= _OUTPUT_ENTRIES or "scenario.toml" not in entries:
        return False
    text = (out / "scenario.toml").read_text(encoding="utf-8", errors="replace")
    return "\n[group]\n" in text and "wfm.samplegroup" in text


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder; expected a new or empty "
                          "folder for the group")
    if out.is_dir() and any(out.iterdir()) and not _is_previous_output(out):
        raise ConfigError(f"{out}: folder is not empty; expected a new or empty folder "
                          "(or one written by an earlier 'wfm sample-data --sites')")


def generate_group(out_dir: Path | str, sites: int = 20, queues_per_site: int = 15,
                   years: float = 2.0, interval_minutes: int = 15,
                   agents_per_site: int | None = None, seed: int = DEFAULT_SEED,
                   progress: Callable[[str], None] | None = None) -> Path:
    """Write a synthetic multi-site group (scenario, history, rosters, README).

    The output is built in a hidden folder next to ``out_dir`` and renamed
    into place at the end, so a failed run leaves no half dataset behind.
    An existing ``out_dir`` must be empty or hold an earlier group (which
    is replaced). Sites are simulated and written one at a time: memory
    holds one site's history.

    Parameters
    ----------
    out_dir : path
        Folder of the group.
    sites : int
        Number of sites, 1-200 (time zones of Europe, the Americas and
        Asia-Pacific; see :data:`SITE_CATALOGUE`).
    queues_per_site : int
        Queues per site, 1-50 (with six or more: a chatbot and its hand-off).
    years : float
        History length [years], whole weeks ending Sunday 2026-11-15 (local
        day of each site); > 0 and at most 10.
    interval_minutes : {15, 30, 60}
        Interval length [min] of every site.
    agents_per_site : int, optional
        Roster size of every site (>= 1); default: sized to the site's need.
    seed : int
        Random seed (>= 0); the same seed gives the same files.
    progress : callable, optional
        Called with a short message per step.

    Returns
    -------
    Path
        The written ``scenario.toml``.

    Raises
    ------
    ConfigError
        For an option out of range or an ``out_dir`` holding other files.

    Examples
    --------
    >>> from wfm.samplegroup import generate_group
    >>> p = generate_group("/tmp/wfm-group", sites=2, queues_per_site=6,
    ...                    years=0.1, agents_per_site=8)  # doctest: +SKIP
    >>> import pandas as pd
    >>> pd.read_parquet(p.parent / "history",
    ...                 filters=[("site", "==", "site01")])  # doctest: +SKIP
    """
    from wfm.io import write_frame

    _check_counts(sites, queues_per_site, seed)
    if not (0 < years <= 10):
        raise ConfigError(f"years must be > 0 and at most 10, got {years}")
    if interval_minutes not in INTERVALS:
        raise ConfigError(f"interval_minutes must be one of {INTERVALS}, "
                          f"got {interval_minutes}")
    if agents_per_site is not None and not (1 <= agents_per_site <= 10_000):
        raise ConfigError(f"agents_per_site must be between 1 and 10000, "
                          f"got {agents_per_site}")
    say = progress or (lambda _msg: None)
    out = Path(out_dir).absolute()
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    days = _history_days(years)
    plan = plan_group(sites, queues_per_site, seed)
    name = f"Synthetic group ({sites} sites, {queues_per_site} queues each)"
    stats: dict[str, dict[str, tuple[float, float]]] = {}
    agents: dict[str, int] = {}
    rows = 0
    try:
        (tmp / ROSTER_FOLDER).mkdir(parents=True)
        for i, (site, queues) in enumerate(plan):
            say(f"site {i + 1}/{sites} {site.name} ({site.city}, {site.timezone}): "
                f"{len(queues)} queues x {days} days of {interval_minutes}-minute history")
            grid, volumes, ahts = simulate_site(site, queues, days, interval_minutes, seed,
                                                i)
            utc_ns = grid.tz_convert("UTC").tz_localize(None).to_numpy().astype(
                "datetime64[ns]").astype(np.int64)
            recent = grid >= grid[-1] - pd.Timedelta(days=56) + pd.Timedelta(
                minutes=interval_minutes)
            n_weeks = min(8.0, days / 7.0)
            stats[site.name] = {}
            for q in queues:
                _write_partition(tmp / HISTORY_FOLDER / f"site={site.name}"
                                 / f"channel={q.name}" / "part-0.parquet",
                                 utc_ns, volumes[q.name], ahts[q.name])
                v, a = volumes[q.name][recent], ahts[q.name][recent]
                total = v.sum()
                stats[site.name][q.name] = (
                    total / n_weeks, float(np.nansum(a * v) / total) if total else 0.0)
                rows += len(grid)
            need = _weekly_hours_needed(queues, grid, volumes, ahts, interval_minutes)
            del grid, volumes, ahts
            roster = site_roster(site, queues, need, agents_per_site, seed, i)
            agents[site.name] = len(roster)
            write_frame(roster, tmp / ROSTER_FOLDER / f"{site.name}.csv", kind="roster")
        say("writing scenario.toml and README.md")
        _atomic_write_text(tmp / "README.md", _readme(name, plan, stats, agents, seed, years,
                                                      days, interval_minutes, rows,
                                                      agents_per_site))
        _atomic_write_text(tmp / "scenario.toml", group_toml(plan, interval_minutes, name))
        _check_target(out)
        old = None
        if out.is_dir() and any(out.iterdir()):
            old = out.parent / f".{out.name}.old{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "scenario.toml"
