"""Volume forecasting models, one common interface.

Every model is a small class with ``fit(history)`` and ``predict(timestamps)
-> Prediction(mean, lo, hi)``. Inside, the history of one channel is a
day x wall-clock-slot matrix (:class:`wfm.forecast.series.ChannelSeries`) and
a model produces a day x slot forecast (:meth:`ForecastModel.predict_days`)
that is mapped onto the real local interval grid (23/25-hour days included).

Models (closed set, :data:`MODEL_NAMES`):

``seasonal_naive``
    Same interval one week earlier (the baseline every backtest compares to).
``seasonal_naive_avg``
    Mean of the same interval on the last 4 same weekdays that were not
    holidays or special days.
``daily_profile``
    The contact-center standard: daily totals by exponential smoothing
    (Holt, damped trend) of the weekday-adjusted series, times weekday
    factors and learned holiday effects, spread over the day with an
    intraday profile per weekday from the last 12 weeks.
``mstl``
    MSTL decomposition (daily and weekly periods) of the square-root interval
    series of the last 8 weeks; remainder level by simple exponential
    smoothing of its daily means.
``regression``
    Weighted regression of log daily totals on calendar regressors (weekday,
    public holiday, catch-up day after a holiday, last year's level for the
    annual season) plus a recent-residual level, times the same intraday
    profile per weekday as ``daily_profile``.
``derived``
    For a channel with ``derived_from``: the source channel's forecast times
    the hand-off rate per time of day, estimated on the last 4 weeks.

Common to all but the two naive baselines: outlier intervals (incident
spikes) are capped before fitting, holidays and scenario special days are
kept out of the fit, and a slot that was zero on every same weekday of the
last 26 weeks (a closed hour) is forecast as exactly 0. Scenario special
days in the horizon are applied to every model (multiplier, or 0 when
closed).

Examples
--------
>>> import numpy as np, pandas as pd
>>> ts = pd.date_range("2025-01-06", periods=96 * 7 * 6, freq="15min", tz="Europe/Berlin")
>>> vol = np.tile(np.r_[np.zeros(32), np.full(48, 10.0), np.zeros(16)], 7 * 6)
>>> m = make_model("daily_profile").fit(ts, vol)
>>> future = pd.date_range("2025-02-17", periods=96, freq="15min", tz="Europe/Berlin")
>>> pred = m.predict(future)
>>> float(pred.mean[40].round(6)), float(pred.mean[0])
(10.0, 0.0)
"""

from __future__ import annotations

import warnings
from typing import ClassVar, NamedTuple

import numpy as np
import pandas as pd

from wfm.errors import ForecastError
from wfm.forecast.calendar import Calendar
from wfm.forecast.intervals import IntervalCalibration, default_calibration, estimate_phi
from wfm.forecast.series import ChannelSeries, build_series, grid_positions, \
    infer_interval_minutes

PROFILE_WEEKS = 12       # intraday profile and weekday factors: recent enough to follow change
PROFILE_PRIOR_DAYS = 4.0  # shrinkage of a weekday's profile toward its group's [days]
WEEKDAY_GROUP = np.array([0, 0, 0, 0, 0, 1, 2])  # Mon-Fri, Sat, Sun share a shape
ZERO_WEEKS = 26          # a slot zero on every same weekday this long is a closed hour
MIN_ZERO_WEEKS = 4       # ... but only decided once at least this many weeks are seen
ETS_WEEKS = 52           # daily exponential smoothing sees at most a year
NAIVE_AVG_WEEKS = 4


class Prediction(NamedTuple):
    """Forecast of every requested interval: mean and prediction-interval bounds."""

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


# ---------------------------------------------------------------- kernels --
def recent_rows(series: ChannelSeries, weeks: int, normal: bool = True) -> np.ndarray:
    """Row indices of the last ``weeks`` weeks (holidays/special days left out)."""
    first = max(0, series.n_days - 7 * weeks)
    rows = np.arange(first, series.n_days)
    if normal:
        rows = rows[~series.flags.abnormal[rows]]
    return rows


def capped_matrix(series: ChannelSeries, weeks: int = PROFILE_WEEKS) -> np.ndarray:
    """``Y`` with incident spikes capped, for fitting.

    The cap of a slot is ``2 m + 3 sqrt(m) + 3`` with ``m`` the median of that
    weekday x slot over the recent weeks: far above Poisson noise and normal
    day-to-day variation, well below the 4-10x bursts of an incident.
    """
    Y = series.Y
    rows = recent_rows(series, weeks)
    if rows.size < 7:
        return Y
    wd = series.weekday
    med = np.zeros((7, series.slots))
    for d in range(7):
        r = rows[wd[rows] == d]
        if r.size:
            med[d] = np.median(Y[r], axis=0)
        else:
            med[d] = np.median(Y[rows], axis=0)
    cap = 2.0 * med + 3.0 * np.sqrt(med) + 3.0
    return np.minimum(Y, cap[wd])


def structural_zeros(series: ChannelSeries) -> np.ndarray:
    """(7, slots) mask of closed hours: zero on every same weekday of the last 26 weeks.

    Needs at least 4 same-weekday days; before that nothing is masked.
    """
    rows = recent_rows(series, ZERO_WEEKS)
    wd = series.weekday
    mask = np.zeros((7, series.slots), dtype=bool)
    for d in range(7):
        r = rows[wd[rows] == d]
        if r.size >= MIN_ZERO_WEEKS:
            mask[d] = np.all(series.Y[r] == 0.0, axis=0)
    return mask


def weekday_factors(totals: np.ndarray, weekday: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean daily total per weekday relative to the mean day (7,); 0 for closed weekdays."""
    overall = totals[rows].mean() if rows.size else 0.0
    W = np.ones(7)
    if overall <= 0.0:
        return np.zeros(7)
    for d in range(7):
        r = rows[weekday[rows] == d]
        if r.size:
            W[d] = totals[r].mean() / overall
    return W


def intraday_profile(Y: np.ndarray, weekday: np.ndarray, rows: np.ndarray,
                     prior_days: float = PROFILE_PRIOR_DAYS) -> np.ndarray:
    """Share of the day's volume in each slot, per weekday (7, slots); rows sum to 1 or 0.

    Each weekday's profile is shrunk toward its group's (Monday-Friday,
    Saturday, Sunday) with ``prior_days`` days' worth of pseudo-volume: a
    quarter-hour seen on 12 Tuesdays is noisy, and weekdays of a group share
    most of their shape. A weekday absent from ``rows`` takes the group's
    profile (or, failing that, the one pooled over all days).
    """
    slots = Y.shape[1]
    pooled = Y[rows].sum(axis=0) if rows.size else np.zeros(slots)
    pooled = pooled / pooled.sum() if pooled.sum() > 0 else np.full(slots, 1.0 / slots)
    group = WEEKDAY_GROUP[weekday[rows]]
    P = np.empty((7, slots))
    for d in range(7):
        r = rows[weekday[rows] == d]
        g = rows[group == WEEKDAY_GROUP[d]]
        G = Y[g].sum(axis=0)
        G = G / G.sum() if G.sum() > 0 else pooled
        S = Y[r].sum(axis=0)
        day_mean = S.sum() / max(r.size, 1)
        x = S + prior_days * day_mean * G
        P[d] = x / x.sum() if x.sum() > 0 else G
    return P


class HolidayEffect(NamedTuple):
    """What a public holiday does to a channel, learned from its history."""

    ratio: float                 # holiday total / expected total of that weekday
    by_name: dict[str, float]    # the same per holiday name (shrunk to ``ratio``)
    profile: np.ndarray | None   # intraday shares on holidays (None: weekday profile)
    n: int                       # past holidays seen

    def factor(self, name: str) -> float:
        return self.by_name.get(name, self.ratio)


def holiday_effect(series: ChannelSeries, Y: np.ndarray) -> HolidayEffect:
    """Estimate the holiday ratio per channel from past public holidays.

    Each past holiday is compared with the mean of the same weekday in the
    three weeks before and after it (normal days only). Without past holidays
    the ratio is 1 (no evidence).
    """
    flags = series.flags
    totals = Y.sum(axis=1)
    wd = series.weekday
    normal = ~flags.abnormal
    idx = np.flatnonzero(flags.holiday & ~flags.special)
    actual, expected, names = [], [], []
    for i in idx:
        near = np.arange(i - 21, i + 22, 7)
        near = near[(near >= 0) & (near < series.n_days) & (near != i)]
        near = near[normal[near]]
        if near.size == 0:
            continue
        e = totals[near].mean()
        if e <= 0.0:
            continue  # a weekday the channel is closed anyway says nothing
        actual.append(totals[i])
        expected.append(e)
        names.append(flags.holiday_name[i])
    if not actual:
        return HolidayEffect(1.0, {}, None, 0)
    a, e = np.array(actual), np.array(expected)
    ratio = float(a.sum() / e.sum())
    by_name: dict[str, float] = {}
    for name in set(names):
        k = np.array([n == name for n in names])
        # one prior observation's worth of shrinkage to the pooled ratio
        by_name[name] = float((a[k].sum() + ratio * e[k].mean()) / (e[k].sum() + e[k].mean()))
    profile = None
    hol_rows = idx[totals[idx] > 0]
    if hol_rows.size >= 2:
        s = Y[hol_rows].sum(axis=0)
        profile = s / s.sum()
    return HolidayEffect(ratio, by_name, profile, len(actual))


# ------------------------------------------------------------------ models --
class ForecastModel:
    """Base class: fit on one channel's history, predict any future intervals.

    Parameters
    ----------
    level : float
        Nominal coverage of the prediction interval (default 0.8).

    Attributes
    ----------
    params_ : dict
        Estimated parameters; pass them to :meth:`fit` (``params=``) to refit
        the same model on a longer history without re-estimating (the backtest
        does this for later origins: the parameters come from data before the
        first origin, so nothing is peeked at).
    calibration : IntervalCalibration
        Set by :func:`wfm.forecast.run_forecast` from backtest residuals; the
        default is the over-dispersed Poisson interval estimated in-sample.
    """

    name: ClassVar[str] = ""
    min_days: ClassVar[int] = 7

    def __init__(self, level: float = 0.8):
        self.level = level
        self.params_: dict = {}
        self.calibration: IntervalCalibration = default_calibration(level)
        self.series_: ChannelSeries | None = None

    # -- public interface ---------------------------------------------------
    def fit(self, history, volume=None, *, params: dict | None = None,
            calendar: Calendar | None = None, interval_minutes: int | None = None,
            channel: str = "channel") -> ForecastModel:
        """Fit on one channel's history.

        Parameters
        ----------
        history : ChannelSeries or timestamps
            The prepared series, or tz-aware interval start times (then pass
            ``volume``).
        volume : array_like, optional
            Contacts per interval when ``history`` is timestamps.
        params : dict, optional
            Parameters from an earlier fit to reuse instead of estimating.
        calendar : Calendar, optional
            Holidays/special days (with timestamps input; default none).
        interval_minutes : int, optional
            Default: inferred from the timestamps.
        """
        if isinstance(history, ChannelSeries):
            series = history
        else:
            if volume is None:
                raise ForecastError("fit(timestamps, volume): volume is missing")
            ts = pd.DatetimeIndex(history)
            im = interval_minutes or infer_interval_minutes(ts)
            series = build_series(channel, ts, np.asarray(volume, float), im, calendar)
        if series.n_days < self.min_days:
            raise ForecastError(
                f"channel {series.channel!r}: model {self.name!r} needs at least "
                f"{self.min_days} days of history, found {series.n_days}"
            )
        self.series_ = series
        self.zero_mask_ = structural_zeros(series)
        self._fit(series, dict(params) if params else None)
        if self.calibration.n == 0:
            self.calibration = default_calibration(self.level, _naive_phi(series))
        return self

    def predict_days(self, start: np.datetime64, n_days: int) -> np.ndarray:
        """Forecast as a (n_days, slots) matrix of the days from ``start`` on."""
        s = self._require_fit()
        start = np.datetime64(start, "D")
        if start < s.end:
            raise ForecastError(
                f"channel {s.channel!r}: cannot forecast from {start}, the history runs "
                f"to {s.dates[-1]}"
            )
        dates = start + np.arange(n_days).astype("timedelta64[D]")
        F = np.asarray(self._predict(dates), dtype=float)
        return self._finish(F, dates)

    def predict(self, timestamps) -> Prediction:
        """Mean and interval bounds for tz-aware interval start times [contacts]."""
        s = self._require_fit()
        ts = pd.DatetimeIndex(timestamps).tz_convert(s.tz)
        if ts.size == 0:
            e = np.zeros(0)
            return Prediction(e, e, e)
        first = ts.min().date()
        day, slot = grid_positions(ts, first, s.interval_minutes)
        F = self.predict_days(np.datetime64(first, "D"), int(day.max()) + 1)
        mean = F[day, slot]
        lo, hi = self.calibration.bounds(mean)
        return Prediction(mean, lo, hi)

    # -- for subclasses -------------------------------------------------------
    def _fit(self, series: ChannelSeries, params: dict | None) -> None:
        raise NotImplementedError

    def _predict(self, dates: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    apply_zero_mask: ClassVar[bool] = True

    def _finish(self, F: np.ndarray, dates: np.ndarray) -> np.ndarray:
        s = self.series_
        F = np.maximum(np.nan_to_num(F, nan=0.0), 0.0)
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        if self.apply_zero_mask:
            F = np.where(self.zero_mask_[wd], 0.0, F)
        flags = s.calendar.flags(dates, s.channel)
        mult = np.where(np.isnan(flags.multiplier), 1.0, flags.multiplier)
        mult = np.where(flags.closed, 0.0, mult)
        return F * mult[:, None]

    def _require_fit(self) -> ChannelSeries:
        if self.series_ is None:
            raise ForecastError(f"model {self.name!r} is not fitted; call fit() first")
        return self.series_

    def _horizon(self, dates: np.ndarray) -> np.ndarray:
        """Days ahead of the history end (1 = the first forecast day)."""
        return (dates - self.series_.dates[-1]).astype(int)


def _naive_phi(series: ChannelSeries) -> float:
    """Over-dispersion of week-over-week changes of the last 4 weeks (in-sample)."""
    Y = series.Y
    n = min(series.n_days - 7, 28)
    if n <= 0:
        return 0.0
    cur, prev = Y[-n:].ravel(), Y[-n - 7:-7].ravel()
    # Var(y_t - y_{t-7}) = 2 (m + phi m^2): the same moment estimate on half the variance
    return estimate_phi(cur, prev) / 2.0


class SeasonalNaive(ForecastModel):
    """Same interval, same weekday, last week (repeated for longer horizons)."""

    name = "seasonal_naive"
    min_days = 7
    apply_zero_mask = False

    def _fit(self, series, params):
        self.last_week_ = series.Y[-7:]
        self.last_wd_ = series.weekday[-7:]

    def _predict(self, dates):
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        row = {int(w): i for i, w in enumerate(self.last_wd_)}
        return self.last_week_[[row[int(w)] for w in wd]]


class SeasonalNaiveAvg(ForecastModel):
    """Mean of the same interval over the last 4 normal same weekdays."""

    name = "seasonal_naive_avg"
    min_days = 7
    apply_zero_mask = False

    def _fit(self, series, params):
        wd = series.weekday
        normal = ~series.flags.abnormal
        self.rows_ = np.zeros((7, series.slots))
        for d in range(7):
            r = np.flatnonzero((wd == d) & normal)[-NAIVE_AVG_WEEKS:]
            if r.size == 0:  # only holidays on that weekday so far
                r = np.flatnonzero(wd == d)[-NAIVE_AVG_WEEKS:]
            self.rows_[d] = series.Y[r].mean(axis=0)

    def _predict(self, dates):
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        return self.rows_[wd]


class _DailyTimesProfile(ForecastModel):
    """Shared part of the daily-total x intraday-profile models."""

    def _fit_profile(self, series: ChannelSeries) -> np.ndarray:
        Yc = capped_matrix(series)
        rows = recent_rows(series, PROFILE_WEEKS)
        if rows.size < 7:
            rows = recent_rows(series, series.n_days // 7 + 1)
        if rows.size == 0:
            rows = np.arange(series.n_days)
        wd = series.weekday
        tot = Yc.sum(axis=1)
        self.W_ = weekday_factors(tot, wd, rows)
        self.P_ = intraday_profile(Yc, wd, rows)
        self.hol_ = holiday_effect(series, Yc)
        return tot

    def _spread(self, dates: np.ndarray, daily: np.ndarray) -> np.ndarray:
        """Daily totals (without calendar) -> day x slot with holiday effects."""
        s = self.series_
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        flags = s.calendar.flags(dates, s.channel)
        F = daily[:, None] * self.P_[wd]
        for i in np.flatnonzero(flags.holiday):
            f = self.hol_.factor(flags.holiday_name[i])
            prof = self.hol_.profile if self.hol_.profile is not None else self.P_[wd[i]]
            F[i] = daily[i] * f * prof
        return F

    def _adjusted(self, series: ChannelSeries, tot: np.ndarray) -> np.ndarray:
        """Weekday-adjusted daily level; NaN on abnormal days and closed weekdays."""
        W = self.W_[series.weekday]
        z = np.where((W > 0) & ~series.flags.abnormal, tot / np.where(W > 0, W, 1.0), np.nan)
        return z


class DailyProfile(_DailyTimesProfile):
    """Daily totals by damped-trend exponential smoothing x intraday profile."""

    name = "daily_profile"
    min_days = 14

    def _fit(self, series, params):
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        tot = self._fit_profile(series)
        z = self._adjusted(series, tot)[-7 * ETS_WEEKS:]
        z = _despike(z)
        z = pd.Series(z).interpolate(limit_direction="both").to_numpy()
        self.ets_ = None
        if np.all(np.isnan(z)) or np.nanmax(z) <= 0:
            self.level_ = np.zeros(1)
            return
        model = ExponentialSmoothing(z, trend="add", damped_trend=True,
                                     initialization_method="heuristic"
                                     if z.size >= 14 else "estimated")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if params:
                res = model.fit(smoothing_level=params["alpha"], smoothing_trend=params["beta"],
                                damping_trend=params["phi"], optimized=False)
            else:
                res = model.fit()
                self.params_ = {"alpha": float(res.params["smoothing_level"]),
                                "beta": float(res.params["smoothing_trend"]),
                                "phi": float(res.params["damping_trend"])}
        # damped additive trend: yhat(t+h) = level + (phi + ... + phi^h) trend
        self.ets_state_ = (float(np.asarray(res.level)[-1]), float(np.asarray(res.trend)[-1]),
                           float(res.params["damping_trend"]))
        self.ets_ = res
        if params:
            self.params_ = dict(params)

    def _predict(self, dates):
        h = self._horizon(dates)
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        if self.ets_ is None:
            level = np.zeros(h.size)
        else:
            lvl, trend, phi = self.ets_state_
            damp = np.cumsum(phi ** np.arange(1, int(h.max()) + 1))
            level = np.maximum(lvl + damp[h - 1] * trend, 0.0)
        return self._spread(dates, level * self.W_[wd])


class Regression(_DailyTimesProfile):
    """Calendar regression of log daily totals x intraday profile.

    Weighted least squares of ``log(1 + daily total)`` on weekday dummies,
    public holiday, first open day after a holiday (catch-up) and last year's
    smoothed level at the same weekday-aligned date (``t - 364`` days: the
    annual season, e.g. a switching season or a summer dip), over the last
    year with weights halving every 13 weeks. The forecast adds the
    exponentially weighted mean of the latest residuals (half-life 7 days),
    which follows level shifts the regressors cannot know.
    """

    name = "regression"
    min_days = 28
    window_days = 364
    half_life_days = 91.0
    level_half_life_days = 7.0

    def _design(self, idx: np.ndarray, dates: np.ndarray) -> np.ndarray:
        """Regressors for day rows ``idx`` (may lie beyond the history) at ``dates``."""
        s = self.series_
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        cols = [np.ones(dates.size)]
        cols += [(wd == d).astype(float) for d in self.dummies_]
        flags = s.calendar.flags(dates, s.channel)
        if self.use_holiday_:
            cols.append(flags.holiday.astype(float))
        if self.use_after_:
            prev = s.calendar.flags(dates - np.timedelta64(1, "D"), s.channel).holiday
            cols.append((prev & ~flags.holiday).astype(float))
        if self.use_year_:
            cols.append(self.yearly_[idx - 364])
        return np.column_stack(cols)

    def _fit(self, series, params):
        tot = self._fit_profile(series)
        n_all = series.n_days
        wd = series.weekday
        flags = series.flags
        # last year's level: 7-day centred mean of log totals, so the weekday cancels
        logt = np.log1p(tot)
        self.yearly_ = pd.Series(logt).rolling(7, center=True, min_periods=4).mean().to_numpy()
        first = max(0, n_all - self.window_days)
        self.use_year_ = n_all - max(first, 367) >= 56
        if self.use_year_:
            first = max(first, 367)
        rows = np.arange(first, n_all)
        open_day = self.W_[wd[rows]] > 0
        y = np.where(open_day & ~flags.special[rows], logt[rows], np.nan)
        # holidays are explained by their regressor, not treated as spikes
        hol_rows = flags.holiday[rows]
        y = np.where(hol_rows, y, _despike(np.where(hol_rows, np.nan, y), log=True))
        ok = np.isfinite(y)
        self.dummies_ = [d for d in range(7) if self.W_[d] > 0][1:]
        hol = flags.holiday[rows] & ok
        self.use_holiday_ = bool(hol.sum() >= 2)
        prev = np.r_[False, flags.holiday[rows][:-1]]
        self.use_after_ = bool((prev & ~flags.holiday[rows] & ok).sum() >= 2)
        self.empty_ = ok.sum() < 14 or np.nanmax(np.where(ok, y, np.nan)) <= 0
        if self.empty_:
            return
        X = self._design(rows, series.dates[rows])[ok]
        age = (n_all - 1 - rows[ok]).astype(float)
        w = np.sqrt(0.5 ** (age / self.half_life_days))
        beta, *_ = np.linalg.lstsq(X * w[:, None], y[ok] * w, rcond=None)
        resid = y[ok] - X @ beta
        self.beta_ = beta
        self.sigma2_ = float(np.average(resid ** 2, weights=w ** 2))
        lw = 0.5 ** (age / self.level_half_life_days)
        self.level_ = float(np.sum(lw * resid) / np.sum(lw))

    def _predict(self, dates):
        s = self.series_
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        if self.empty_:
            return np.zeros((dates.size, s.slots))
        idx = s.n_days - 1 + self._horizon(dates)
        logf = self._design(idx, dates) @ self.beta_ + self.level_
        daily = np.expm1(logf + 0.5 * self.sigma2_) * (self.W_[wd] > 0)
        # the holiday level is a regressor: use the holiday profile only
        hol = s.calendar.flags(dates, s.channel).holiday
        F = daily[:, None] * self.P_[wd]
        if self.hol_.profile is not None:
            F[hol] = daily[hol, None] * self.hol_.profile
        return F


class MSTLModel(ForecastModel):
    """MSTL (daily + weekly seasonality) on sqrt volume of the last 8 weeks."""

    name = "mstl"
    min_days = 21
    window_weeks = 8

    def _fit(self, series, params):
        from statsmodels.tsa.holtwinters import SimpleExpSmoothing
        from statsmodels.tsa.seasonal import MSTL

        S = series.slots
        n = min(series.n_days, 7 * self.window_weeks)
        Yc = capped_matrix(series)[-n:].copy()
        wd = series.weekday[-n:]
        ab = series.flags.abnormal[-n:]
        for i in np.flatnonzero(ab):
            # an abnormal day is replaced by the mean of its weekday's normal days
            same = np.flatnonzero((wd == wd[i]) & ~ab)
            if same.size:
                Yc[i] = Yc[same].mean(axis=0)
        x = np.sqrt(Yc.ravel())
        self.hol_ = holiday_effect(series, capped_matrix(series))
        if np.all(x == 0):
            self.zero_ = True
            return
        self.zero_ = False
        jump = max(1, S // 10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # two back-fitting passes separate the daily from the weekly cycle (one
            # leaves the weekly pattern in the trend); long seasonal windows with
            # local-constant (degree 0) smoothing average each slot over the cycles
            # instead of extrapolating a noisy per-slot slope at the series end
            # (that alone cut the backtest WAPE by ~15 %); the jumps evaluate LOESS
            # every few points only (exact enough, ~10x faster)
            res = MSTL(x, periods=(S, 7 * S), windows=(41, 101), iterate=2,
                       stl_kwargs={"inner_iter": 1, "seasonal_deg": 0, "seasonal_jump": jump,
                                   "trend_jump": 10 * jump, "low_pass_jump": 10 * jump}).fit()
        seas = np.asarray(res.seasonal)
        daily_seas = seas[:, 0][-S:]
        weekly = seas[:, 1].reshape(n, S)[-7:]
        self.weekly_ = {int(w): weekly[k] for k, w in enumerate(wd[-7:])}
        self.daily_seas_ = daily_seas
        deseason = (np.asarray(res.trend) + np.asarray(res.resid)).reshape(n, S).mean(axis=1)
        self.resid_var_ = float(np.var(np.asarray(res.resid)))
        model = SimpleExpSmoothing(deseason, initialization_method="heuristic"
                                   if n >= 14 else "estimated")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if params:
                ses = model.fit(smoothing_level=params["alpha"], optimized=False)
                self.params_ = dict(params)
            else:
                ses = model.fit()
                self.params_ = {"alpha": float(ses.params["smoothing_level"])}
        self.level_ = float(np.asarray(ses.forecast(1))[0])

    def _predict(self, dates):
        S = self.series_.slots
        if self.zero_:
            return np.zeros((dates.size, S))
        wd = ((dates.astype("int64") + 3) % 7).astype(int)
        root = self.level_ + self.daily_seas_[None, :] + np.stack(
            [self.weekly_[int(w)] for w in wd])
        F = np.maximum(root, 0.0) ** 2 + self.resid_var_ * (root > 0)
        flags = self.series_.calendar.flags(dates, self.series_.channel)
        for i in np.flatnonzero(flags.holiday):
            F[i] = F[i] * self.hol_.factor(flags.holiday_name[i])
        return F


class Derived(ForecastModel):
    """Source channel forecast x hand-off rate per time of day (last 4 weeks).

    Parameters
    ----------
    source : ForecastModel, optional
        A fitted model of the source channel, used by :meth:`predict`.
    rate : float, optional
        Hand-off rate to use when the channel has no history of its own
        (the scenario's ``derived_rate``).
    """

    name = "derived"
    min_days = 7
    rate_weeks = 4
    prior_contacts = 50.0  # source contacts of shrinkage toward the overall rate

    def __init__(self, level: float = 0.8, source: ForecastModel | None = None,
                 rate: float | None = None):
        super().__init__(level)
        self.source = source
        self.fixed_rate = rate

    def fit_rate(self, series: ChannelSeries | None, source: ChannelSeries) -> Derived:
        """Estimate the rate per slot from the overlap of both histories."""
        S = source.slots
        if series is None or series.n_days == 0:
            r = self.fixed_rate if self.fixed_rate is not None else 0.0
            self.rate_ = np.full(S, r)
            return self
        end = min(series.end, source.end)
        start = end - np.timedelta64(7 * self.rate_weeks, "D")
        a = series.head(end)
        b = source.head(end)
        ra = a.dates >= start
        rb = b.dates >= start
        num = a.Y[ra].sum(axis=0)
        den = b.Y[rb].sum(axis=0)
        overall = num.sum() / den.sum() if den.sum() > 0 else (self.fixed_rate or 0.0)
        k = self.prior_contacts
        self.rate_ = (num + k * overall) / (den + k)
        self.rate_[(den == 0) & (num == 0)] = overall
        return self

    def _fit(self, series, params):
        if self.source is None or self.source.series_ is None:
            raise ForecastError("model 'derived' needs a fitted source-channel model")
        self.fit_rate(series, self.source.series_)

    def fit_with_source(self, series: ChannelSeries, source: ChannelSeries) -> Derived:
        """Fit the rate on ``series`` against the ``source`` history (no source model)."""
        self.series_ = series
        self.zero_mask_ = structural_zeros(series)
        self.fit_rate(series, source)
        if self.calibration.n == 0:
            self.calibration = default_calibration(self.level, _naive_phi(series))
        return self

    def predict_from(self, source_forecast: np.ndarray, start: np.datetime64) -> np.ndarray:
        """Finished day x slot forecast from the source's forecast of the days from ``start``."""
        dates = np.datetime64(start, "D") + np.arange(
            source_forecast.shape[0]).astype("timedelta64[D]")
        return self._finish(self.combine(source_forecast), dates)

    def combine(self, source_forecast: np.ndarray) -> np.ndarray:
        """Day x slot forecast from the source's day x slot forecast."""
        return source_forecast * self.rate_[None, :]

    def _predict(self, dates):
        F = self.source.predict_days(dates[0], dates.size)
        return self.combine(F)


def _despike(z: np.ndarray, log: bool = False, k: float = 5.0) -> np.ndarray:
    """Daily values far off their 3-week rolling median become NaN (incident days)."""
    s = pd.Series(z)
    med = s.rolling(21, center=True, min_periods=5).median()
    dev = (s - med).abs()
    mad = dev.rolling(56, center=True, min_periods=10).median()
    floor = 0.05 if log else 0.05 * med.abs()
    out = (dev > k * np.maximum(1.4826 * mad, floor)).to_numpy()
    z = z.copy()
    z[out] = np.nan
    return z


_MODELS: dict[str, type[ForecastModel]] = {
    m.name: m for m in (SeasonalNaive, SeasonalNaiveAvg, DailyProfile, MSTLModel, Regression,
                        Derived)
}
#: Valid ``model=`` names: every model plus ``"auto"`` (best backtest WAPE per channel).
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS) + ("auto",)
#: Models tried by ``auto`` on every channel (``derived`` only on derived channels).
CANDIDATES: tuple[str, ...] = ("seasonal_naive", "seasonal_naive_avg", "daily_profile",
                               "mstl", "regression")


def check_model_name(name: str) -> str:
    """``name`` if it is a model name or ``"auto"``, else a ForecastError listing them."""
    if name not in MODEL_NAMES:
        raise ForecastError(f"unknown model {name!r}; expected one of {list(MODEL_NAMES)}")
    return name


def make_model(name: str, level: float = 0.8, **kwargs) -> ForecastModel:
    """A new, unfitted model by name.

    Examples
    --------
    >>> make_model("mstl").name
    'mstl'
    >>> make_model("prophet")
    Traceback (most recent call last):
    ...
    wfm.errors.ForecastError: unknown model 'prophet'; expected one of ['seasonal_naive', \
'seasonal_naive_avg', 'daily_profile', 'mstl', 'regression', 'derived', 'auto']
    """
    check_model_name(name)
    if name == "auto":
        raise ForecastError("'auto' is a selection rule, not a model: use run_forecast()")
    return _MODELS[name](level=level, **kwargs)

