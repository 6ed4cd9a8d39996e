"""Rolling-origin backtest: forecast from several past origins, score against what happened.

Origins are spaced ``horizon_days`` apart and end at the last history day:
the evaluation origins are the last ``n_origins`` (default 5 one-week
windows), the calibration origins the ones before them. At every origin a
model sees only the history before the origin (``ChannelSeries.head``); its
parameters are estimated at the first origin and reused later (the data
before the first origin is before every later origin too, so nothing is
peeked at, and refitting is cheap).

Metrics per channel and model, on interval level and on daily totals:

- WAPE = sum|y - yhat| / sum y
- MASE = mean|y - yhat| / mean|y_t - y_{t-1 week}| in-sample (the weekly
  seasonal naive's error on the 4 weeks (interval) or 8 weeks (daily) before
  each origin)
- bias = sum(yhat - y) / sum y (positive: over-forecast)
- coverage of the prediction interval: the interval at an origin is
  calibrated on residuals of earlier origins only (:mod:`wfm.forecast.intervals`).

``auto`` is scored honestly too: at each evaluation origin it uses the model
with the best WAPE over the earlier origins (nested selection), not the
model that is best on the evaluated windows.

Examples
--------
>>> import numpy as np
>>> wape(np.array([10.0, 10.0]), np.array([12.0, 9.0]))
0.15
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wfm.forecast.intervals import IntervalCalibration, calibrate, coverage
from wfm.forecast.models import Derived, make_model
from wfm.forecast.series import ChannelSeries

MIN_TRAIN_DAYS = 28   # an origin needs four weeks before it
CALIBRATION_ORIGINS = 8


# ----------------------------------------------------------------- metrics --
def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error, sum|y - yhat| / sum y (NaN if sum y = 0)."""
    a = np.asarray(actual, float)
    s = a.sum()
    return float(np.abs(a - predicted).sum() / s) if s > 0 else float("nan")


def bias(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Relative bias, sum(yhat - y) / sum y (NaN if sum y = 0)."""
    a = np.asarray(actual, float)
    s = a.sum()
    return float((np.asarray(predicted, float) - a).sum() / s) if s > 0 else float("nan")


def mase(actual: np.ndarray, predicted: np.ndarray, scale: float) -> float:
    """Mean absolute error over the in-sample weekly-naive MAE ``scale``."""
    if not scale > 0:
        return float("nan")
    return float(np.abs(np.asarray(actual, float) - predicted).mean() / scale)


def naive_scale(series: ChannelSeries, daily: bool) -> float:
    """In-sample MAE of the weekly seasonal naive just before the series end."""
    if daily:
        t = series.totals
        n = min(56, t.size - 7)
        return float(np.abs(t[-n:] - t[-n - 7:-7]).mean()) if n > 0 else float("nan")
    Y = series.Y
    n = min(28, series.n_days - 7)
    return float(np.abs(Y[-n:] - Y[-n - 7:-7]).mean()) if n > 0 else float("nan")


def rolling_origins(series: ChannelSeries, n_origins: int, step_days: int,
                    min_train_days: int = MIN_TRAIN_DAYS) -> list[np.datetime64]:
    """Up to ``n_origins`` origins, ``step_days`` apart, the last one ``step_days``
    before the series end, each with at least ``min_train_days`` of history (ascending)."""
    out = []
    for k in range(1, n_origins + 1):
        o = series.end - np.timedelta64(k * step_days, "D")
        if (o - series.dates[0]).astype(int) < min_train_days:
            break
        out.append(o)
    return out[::-1]


# --------------------------------------------------------------- one model --
@dataclass
class OriginForecast:
    """One model's forecast from one origin, with the actuals of its window."""

    origin: np.datetime64
    origin_day: int            # row of the origin in the full series
    F: np.ndarray              # day x slot forecast
    lead: np.ndarray           # day offset (0 = origin day) of every real interval
    actual: np.ndarray
    pred: np.ndarray
    structural: np.ndarray     # closed-hour intervals (forecast exactly 0 by rule)
    scale_interval: float
    scale_daily: float


def run_origins(series: ChannelSeries, name: str, origins: list[np.datetime64],
                days: int, level: float = 0.8, source: ChannelSeries | None = None,
                source_forecast=None) -> tuple[list[OriginForecast], dict]:
    """Forecast ``days`` days from every origin with model ``name``.

    Parameters
    ----------
    source, source_forecast : optional
        For ``name == "derived"``: the source channel's series and a function
        ``(origin, days) -> day x slot forecast`` made at that origin.

    Returns
    -------
    list of OriginForecast, dict
        Per origin (ascending), and the parameters estimated at the first origin.
    """
    params: dict | None = None
    out = []
    for origin in origins:
        hist = series.head(origin)
        if name == "derived":
            model = Derived(level).fit_with_source(hist, source.head(origin))
            F = model.predict_from(source_forecast(origin, days), origin)
        else:
            model = make_model(name, level).fit(hist, params=params)
            if params is None:
                params = model.params_
            F = model.predict_days(origin, days)
        lead, slot, actual = series.window(origin, days)
        wd = ((origin.astype("int64") + lead + 3) % 7).astype(int)
        od = int((origin - series.dates[0]).astype(int))
        closed = series.flags.closed[od + lead]
        structural = model.zero_mask_[wd, slot] | closed
        out.append(OriginForecast(origin, od, F, lead, actual, F[lead, slot], structural,
                                  naive_scale(hist, False), naive_scale(hist, True)))
    return out, params or {}


# ------------------------------------------------------------- one channel --
@dataclass
class ChannelBacktest:
    """Every candidate model's rolling-origin forecasts for one channel.

    Attributes
    ----------
    origins : list of datetime64
        Ascending; the last ``n_eval`` are scored, the earlier ones calibrate.
    horizon : int
        Days per scored window (lead days ``0 .. horizon-1``).
    runs : dict
        Model name -> list of OriginForecast (one per origin).
    """

    series: ChannelSeries
    origins: list[np.datetime64]
    n_eval: int
    horizon: int
    level: float = 0.8
    calibration_origins: int = CALIBRATION_ORIGINS
    ensemble: bool = False
    runs: dict[str, list[OriginForecast]] = field(default_factory=dict)
    params: dict[str, dict] = field(default_factory=dict)

    @property
    def eval_index(self) -> range:
        return range(len(self.origins) - self.n_eval, len(self.origins))

    # -- residual pools -----------------------------------------------------
    def pool(self, names: tuple[str, ...], k: int, bucket: int = 0,
             daily: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Actuals and (mean) forecasts of ``names`` from the origins before origin ``k``.

        Only lead days in ``bucket`` (``bucket * horizon .. (bucket+1) * horizon - 1``)
        and only dates before origin ``k`` (dates of the future never enter).
        ``k == len(origins)`` pools for the final forecast.
        """
        limit = (self.runs[names[0]][k].origin_day if k < len(self.origins)
                 else self.series.n_days)
        acts, preds = [], []
        for j in range(max(0, k - self.calibration_origins), k):
            r0 = self.runs[names[0]][j]
            sel = ((r0.lead // self.horizon) == bucket) & (r0.origin_day + r0.lead < limit)
            if not sel.any():
                continue
            p = np.mean([self.runs[n][j].pred[sel] for n in names], axis=0)
            a = r0.actual[sel]
            if daily:
                lead = r0.lead[sel]
                a = np.bincount(lead, weights=a)
                p = np.bincount(lead, weights=p)
                used = np.bincount(lead) > 0
                a, p = a[used], p[used]
            else:
                keep = ~r0.structural[sel]
                a, p = a[keep], p[keep]
            acts.append(a)
            preds.append(p)
        if not acts:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(acts), np.concatenate(preds)

    def calibration(self, names: tuple[str, ...], k: int, bucket: int = 0,
                    daily: bool = False) -> IntervalCalibration:
        a, p = self.pool(names, k, bucket, daily)
        return calibrate(a, p, self.level, min_residuals=14 if daily else 50)

    def select(self, k: int, candidates: tuple[str, ...]) -> tuple[str, ...]:
        """Best model(s) by WAPE over the origins before ``k`` (nested selection).

        Returns one name, or the best two when ``ensemble`` is set. With no
        earlier origin to judge by, ``daily_profile`` (or the first candidate).
        """
        scores = {}
        for n in candidates:
            a, p = self.pool((n,), k)
            if a.size and a.sum() > 0:
                scores[n] = wape(a, p)
        if not scores:
            first = "daily_profile" if "daily_profile" in candidates else candidates[0]
            return (first,)
        ranked = sorted(scores, key=lambda n: (scores[n], candidates.index(n)))
        return tuple(ranked[:2]) if self.ensemble and len(ranked) > 1 else (ranked[0],)

    def scores(self, names: tuple[str, ...]) -> float:
        """WAPE of ``names`` (mean forecast) on the evaluation windows."""
        a, p = [], []
        for k in self.eval_index:
            r = [self.runs[n][k] for n in names]
            sel = r[0].lead < self.horizon
            a.append(r[0].actual[sel])
            p.append(np.mean([x.pred[sel] for x in r], axis=0))
        return wape(np.concatenate(a), np.concatenate(p)) if a else float("nan")

    # -- metrics ------------------------------------------------------------
    def metrics(self, candidates: tuple[str, ...], auto: bool = True) -> list[dict]:
        """Backtest rows (channel, model, level, wape, mase, bias, coverage, n_origins).

        With ``auto`` a row for the nested selection among ``candidates`` is added.
        """
        rows = []
        choices = {k: self.select(k, candidates) for k in self.eval_index}
        for label in (*candidates, "auto") if auto else candidates:
            for daily in (False, True):
                A, P, LO, HI, ST, SC, N = [], [], [], [], [], [], []
                for k in self.eval_index:
                    names = choices[k] if label == "auto" else (label,)
                    r = [self.runs[n][k] for n in names]
                    sel = r[0].lead < self.horizon
                    a = r[0].actual[sel]
                    p = np.mean([x.pred[sel] for x in r], axis=0)
                    st = r[0].structural[sel]
                    cal = self.calibration(names, k, 0, daily)
                    if daily:
                        lead = r[0].lead[sel]
                        a, p = np.bincount(lead, weights=a), np.bincount(lead, weights=p)
                        used = np.bincount(lead) > 0
                        a, p = a[used], p[used]
                        st = np.zeros(a.size, dtype=bool)
                        scale = r[0].scale_daily
                    else:
                        scale = r[0].scale_interval
                    lo, hi = cal.bounds(p)
                    A.append(a), P.append(p), LO.append(lo), HI.append(hi), ST.append(st)
                    SC.append(np.full(a.size, scale))
                    N.append(a.size)
                a, p = np.concatenate(A), np.concatenate(P)
                sc = np.concatenate(SC)
                rows.append({
                    "channel": self.series.channel,
                    "model": label,
                    "level": "daily" if daily else "interval",
                    "wape": wape(a, p),
                    "mase": float(np.abs(a - p).sum() / sc.sum()) if sc.sum() > 0
                    else float("nan"),
                    "bias": bias(a, p),
                    "coverage": coverage(a, np.concatenate(LO), np.concatenate(HI),
                                         np.concatenate(ST)),
                    "n_origins": self.n_eval,
                })
        return rows


BACKTEST_COLUMNS = ["channel", "model", "level", "wape", "mase", "bias", "coverage",
                    "n_origins"]


def empty_backtest() -> pd.DataFrame:
    """A backtest frame with the design columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in
                                      ("wape", "mase", "bias", "coverage") else
                                      ("int64" if c == "n_origins" else "str"))
                         for c in BACKTEST_COLUMNS})


def run_backtest(history: pd.DataFrame, scenario=None, model: str = "auto",
                 progress=None) -> pd.DataFrame:
    """Backtest frame of :func:`wfm.forecast.run_forecast` without the final forecast.

    The number of origins and their horizon come from ``scenario.forecast``
    (``backtest_origins``, ``backtest_horizon_days``; defaults 5 and 7).

    Returns
    -------
    DataFrame
        ``channel, model, level, wape, mase, bias, coverage, n_origins``.
    """
    from wfm.forecast.core import run_forecast

    return run_forecast(history, scenario, horizon_days=1, model=model, backtest=True,
                        progress=progress).backtest
