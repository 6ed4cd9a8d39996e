"""Forecast every channel of a history: backtest, select, forecast, intervals, AHT.

:func:`run_forecast` is the one entry point the CLI, the dashboard, the
notebooks and :mod:`wfm.plan` call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wfm.errors import ForecastError
from wfm.forecast.aht import AhtModel
from wfm.forecast.backtest import (CALIBRATION_ORIGINS, ChannelBacktest, empty_backtest,
                                   rolling_origins, run_origins)
from wfm.forecast.calendar import Calendar
from wfm.forecast.intervals import IntervalCalibration, default_calibration
from wfm.forecast.models import CANDIDATES, Derived, _naive_phi, check_model_name, \
    make_model
from wfm.forecast.series import ChannelSeries, build_series, infer_interval_minutes, \
    matrix_to_grid

FORECAST_COLUMNS = ["timestamp", "channel", "volume", "volume_lo", "volume_hi",
                    "aht_seconds", "model"]
SELECTION_COLUMNS = ["channel", "model", "reason", "wape", "naive_wape", "warning"]
FALLBACK_MODEL = "seasonal_naive_avg"


@dataclass
class ForecastResult:
    """Result of :func:`run_forecast`.

    Attributes
    ----------
    forecast : DataFrame
        ``timestamp, channel, volume, volume_lo, volume_hi, aht_seconds, model``:
        every local interval of the horizon for every channel [contacts, s].
    backtest : DataFrame
        ``channel, model, level, wape, mase, bias, coverage, n_origins``; level is
        ``interval`` or ``daily``; ``model == "auto"`` scores the honest
        (nested) selection.
    selection : DataFrame
        ``channel, model, reason, wape, naive_wape, warning``: the model used
        per channel and why (``warning`` non-empty for fallbacks).
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    selection: pd.DataFrame


@dataclass
class _ChannelPlan:
    name: str
    series: ChannelSeries | None
    derived_from: str | None
    derived_rate: float | None
    default_aht: float


def _default_scenario(history: pd.DataFrame):
    from wfm.config import Scenario

    return Scenario()


def _timestamps(history: pd.DataFrame, tz: str) -> pd.DatetimeIndex:
    col = history["timestamp"]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(col).tz_convert(tz)
    if pd.api.types.is_datetime64_dtype(col.dtype):
        raise ForecastError(
            "history: column 'timestamp' has no time zone; expected tz-aware local times "
            "(ISO 8601 with UTC offset, e.g. 2025-10-26T02:15:00+01:00)"
        )
    try:
        parsed = pd.to_datetime(col, utc=True, format="ISO8601")
    except (ValueError, TypeError) as err:
        raise ForecastError(f"history: column 'timestamp' is not ISO 8601: {err}") from None
    return pd.DatetimeIndex(parsed).tz_convert(tz)


def _check_history(history: pd.DataFrame) -> None:
    if not isinstance(history, pd.DataFrame):
        raise ForecastError(f"history must be a DataFrame, got {type(history).__name__}")
    missing = [c for c in ("timestamp", "channel", "volume") if c not in history.columns]
    if missing:
        raise ForecastError(
            f"history: missing column(s) {missing}; expected timestamp, channel, volume "
            "and optionally aht_seconds"
        )
    if history.empty:
        raise ForecastError("history: no rows")


def run_forecast(history: pd.DataFrame, scenario=None, horizon_days: int | None = None,
                 model: str = "auto", backtest: bool = True,
                 progress: Callable[[str], None] | None = None) -> ForecastResult:
    """Forecast volume and AHT of every channel per interval, with prediction intervals.

    Per channel: rolling-origin backtest of the candidate models (5 one-week
    origins by default, plus earlier origins that calibrate the prediction
    intervals), selection of the model with the lowest backtest WAPE
    (``model="auto"``), the forecast of every local interval of the horizon,
    an 80 % prediction interval calibrated on out-of-sample residuals, and an
    AHT forecast. A derived channel (``derived_from``) is also tried as
    source forecast x hand-off rate; the backtest decides. A channel with too
    little history for a backtest falls back to ``seasonal_naive_avg`` with a
    warning in ``selection``; one with less than a week is an error.

    Parameters
    ----------
    history : DataFrame
        ``timestamp`` (tz-aware), ``channel``, ``volume`` [contacts per interval],
        optional ``aht_seconds`` [s]. Intervals missing from it count as 0.
    scenario : wfm.config.Scenario, optional
        Site (time zone, interval, country for public holidays), channels,
        special days and forecast settings. None, or a scenario without
        channels: channels from the history, interval length inferred, every
        other setting at its default (or the scenario's).
    horizon_days : int, optional
        Days to forecast from the day after the last history day (or from
        ``scenario.horizon.start``: set it when an export leaves out closed
        days at its end); default ``scenario.forecast.horizon_days``.
    model : str
        ``"auto"`` or one of :data:`wfm.forecast.MODEL_NAMES`.
    backtest : bool
        False skips the model comparison (``auto`` then uses ``daily_profile``);
        the chosen model is still run on the calibration origins so that its
        prediction interval is calibrated.
    progress : callable, optional
        Called with one line of text per channel.

    Returns
    -------
    ForecastResult

    Raises
    ------
    ForecastError
        Bad history frame, unknown model, a channel without enough history.

    Examples
    --------
    >>> from wfm.forecast import run_forecast  # doctest: +SKIP
    >>> res = run_forecast(history, scenario, horizon_days=14)  # doctest: +SKIP
    >>> res.selection[["channel", "model"]]  # doctest: +SKIP
    """
    check_model_name(model)
    _check_history(history)
    say = progress or (lambda msg: None)
    # a scenario without channels (or none) takes channels and interval from the history
    explicit = scenario is not None and bool(scenario.channels)
    if scenario is None:
        scenario = _default_scenario(history)
    fc = scenario.forecast
    tz = scenario.site.timezone
    level = fc.interval_level
    horizon_days = int(horizon_days if horizon_days is not None else fc.horizon_days)
    if horizon_days < 1:
        raise ForecastError(f"horizon_days must be >= 1, got {horizon_days}")
    ts = _timestamps(history, tz)
    volume = pd.to_numeric(history["volume"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(volume) | (volume < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = history["volume"].iloc[i]
        found = "nothing (empty)" if pd.isna(raw) else repr(raw.item() if hasattr(raw, "item")
                                                            else raw)
        more = f" ({int(bad.sum()):,} rows in all)" if bad.sum() > 1 else ""
        raise ForecastError(
            f"history row {i} ({ts[i].isoformat()}, channel "
            f"{history['channel'].iloc[i]!s}): field 'volume' must be a number >= 0, "
            f"found {found}{more}"
        )
    channels_in = pd.unique(history["channel"].astype(str))
    chan_col = history["channel"].astype(str).to_numpy()
    interval = _interval(ts, chan_col, scenario if explicit else None)
    calendar = Calendar.from_scenario(scenario)

    # horizon start: the day after the history, or the scenario's start
    last_day = max(ts[chan_col == c].max() for c in channels_in).date()
    start = np.datetime64(last_day, "D") + np.timedelta64(1, "D")
    notes: list[str] = []
    history_end = start  # every channel's history is padded with zeros up to here
    if scenario.horizon.start is not None:
        want = np.datetime64(scenario.horizon.start, "D")
        if want < start:
            notes.append(f"history after {want - np.timedelta64(1, 'D')} not used "
                         f"(horizon.start = {want})")
            history_end = want
        elif want - start <= np.timedelta64(7, "D"):
            # up to a week without rows before the horizon: closed days an
            # export left out (a weekend, a holiday), i.e. zero volume
            history_end = want
        else:
            notes.append(f"horizon.start {want} is {(want - start).astype(int)} days after "
                         f"the history: forecast with that lead time")
        start = want
    cut = pd.Timestamp(pd.Timestamp(history_end).date()).tz_localize(tz)

    plans = _plans(scenario if explicit else None, channels_in, chan_col, ts, volume, history,
                   interval, calendar, cut, fc.history_weeks)

    forecasts: list[pd.DataFrame] = []
    bt_rows: list[dict] = []
    selection: list[dict] = []
    finals: dict[str, tuple[np.datetime64, np.ndarray]] = {}
    backtests: dict[str, ChannelBacktest] = {}
    series_by = {p.name: p.series for p in plans}
    for extra in [c for c in channels_in if explicit and c not in scenario.channel_names]:
        selection.append({"channel": extra, "model": "", "reason": "",
                          "wape": np.nan, "naive_wape": np.nan,
                          "warning": "channel is in the history but not in the scenario: "
                                     "not forecast"})
    for plan in plans:
        t0 = time.perf_counter()
        say(f"{plan.name}: forecasting")
        rows, sel, final, cb = _forecast_channel(
            plan, model, backtest, start, horizon_days, level, fc, finals, backtests,
            series_by, tz, interval, history, chan_col, cut)
        if notes:
            sel["warning"] = "; ".join([*notes, sel["warning"]] if sel["warning"] else notes)
        forecasts.append(rows)
        bt_rows.extend(cb)
        selection.append(sel)
        finals[plan.name] = final
        say(f"{plan.name}: {sel['model']} ({time.perf_counter() - t0:.1f} s)"
            + (f" - {sel['warning']}" if sel["warning"] else ""))
    forecast = pd.concat(forecasts, ignore_index=True) if forecasts else \
        pd.DataFrame(columns=FORECAST_COLUMNS)
    bt = pd.DataFrame(bt_rows) if bt_rows else empty_backtest()
    return ForecastResult(forecast[FORECAST_COLUMNS], bt,
                          pd.DataFrame(selection, columns=SELECTION_COLUMNS))


def _interval(ts: pd.DatetimeIndex, chan: np.ndarray, scenario) -> int:
    found = {}
    for c in pd.unique(chan):
        sub = ts[chan == c]
        if sub.size >= 2:
            found[c] = infer_interval_minutes(sub)
    if scenario is not None:
        want = scenario.site.interval_minutes
        bad = {c: m for c, m in found.items() if m % want}
        if bad:
            c, m = next(iter(bad.items()))
            raise ForecastError(
                f"history: channel {c!r} has {m}-minute intervals but the scenario's "
                f"site.interval_minutes is {want}"
            )
        return want
    if not found:
        raise ForecastError("history: cannot infer the interval length (fewer than 2 rows "
                            "per channel)")
    return min(found.values())


def _plans(scenario, channels_in, chan_col, ts, volume, history, interval, calendar, cut,
           history_weeks) -> list[_ChannelPlan]:
    """One plan per channel to forecast, sources before the channels derived from them."""
    last_day = (cut - pd.Timedelta(hours=12)).date()

    def series_of(name: str) -> ChannelSeries | None:
        sel = (chan_col == name) & (ts < cut)
        if history_weeks is not None:
            # whole local days: subtracting 60 x 168 h across a DST change would
            # start the window at 01:00
            first = pd.Timestamp(cut.date() - pd.Timedelta(weeks=history_weeks).to_pytimedelta())
            sel &= ts >= first.tz_localize(cut.tz)
        if not sel.any():
            return None
        # every channel's history runs to the day before the horizon: days
        # without rows at the end count as 0 like any other missing interval
        return _trim_leading_zeros(build_series(name, ts[sel], volume[sel], interval,
                                                calendar, last_day=last_day))

    plans: list[_ChannelPlan] = []
    if scenario is None:
        for c in channels_in:
            plans.append(_ChannelPlan(c, series_of(c), None, None, 300.0))
    else:
        for ch in scenario.channels:
            plans.append(_ChannelPlan(ch.name, series_of(ch.name), ch.derived_from,
                                      ch.derived_rate, ch.aht_seconds))
    for p in plans:
        if p.series is None and p.derived_from is None:
            window = (f" in the {history_weeks} weeks (forecast.history_weeks) "
                      if history_weeks is not None else " ")
            raise ForecastError(
                f"channel {p.name!r}: no history{window}before {cut.date()}; a channel "
                "needs at least 7 days of history (or derived_from another channel)"
            )
    # sources first (derivation chains are short; a stable sort by depth is enough)
    by_name = {p.name: p for p in plans}

    def depth(p: _ChannelPlan) -> int:
        d, seen = 0, set()
        while p.derived_from is not None and p.derived_from in by_name and p.name not in seen:
            seen.add(p.name)
            p = by_name[p.derived_from]
            d += 1
        return d

    return sorted(plans, key=depth)


def _trim_leading_zeros(series: ChannelSeries) -> ChannelSeries:
    """Drop the days before a channel's first contact (it did not exist yet)."""
    nz = np.flatnonzero(series.totals > 0)
    if nz.size == 0 or nz[0] < 7:
        return series
    first = int(nz[0])
    keep = series.grid_day >= first
    return ChannelSeries(series.channel, series.tz, series.interval_minutes,
                         series.dates[first:], series.Y[first:], series.grid_day[keep] - first,
                         series.grid_slot[keep], series.grid_volume[keep], series.calendar,
                         series.n_missing)


def _forecast_channel(plan, model, backtest, start, horizon_days, level, fc, finals,
                      backtests, series_by, tz, interval, history, chan_col, cut):
    s = plan.series
    name = plan.name
    src_name = plan.derived_from
    src_plan_ok = src_name is not None and src_name in finals
    src_series = series_by.get(src_name) if src_name is not None else None
    warning: list[str] = []
    if s is not None and s.n_missing:
        warning.append(f"{s.n_missing} interval(s) missing from the history taken as 0")

    # -- no own history: derived only --------------------------------------
    if s is None:
        if not src_plan_ok:
            raise ForecastError(f"channel {name!r}: no history and no source channel to "
                                f"derive it from")
        src_start, src_F = finals[src_name]
        off = int((start - src_start).astype(int))
        F = src_F[off:off + horizon_days] * float(plan.derived_rate or 0.0)
        cal = default_calibration(level)
        sel = {"channel": name, "model": "derived", "wape": np.nan, "naive_wape": np.nan,
               "reason": f"no history: {src_name} forecast x scenario derived_rate "
                         f"{plan.derived_rate}", "warning": "no history; rate from scenario"}
        rows = _rows(name, F, start, tz, interval, [cal], fc.backtest_horizon_days, 0,
                     "derived", None, plan)
        return rows, sel, (start, F), []

    if s.n_days < 7:
        raise ForecastError(
            f"channel {name!r}: only {s.n_days} day(s) of history; at least 7 days (one "
            "full week) are needed for a forecast"
        )
    if model == "derived" and not src_plan_ok:
        raise ForecastError(f"channel {name!r}: model 'derived' needs a channel with "
                            "derived_from set to another channel in the history")

    bt_h = fc.backtest_horizon_days
    lead_days = int((start - s.end).astype(int)) + horizon_days  # days from series end
    run_days = max(bt_h, lead_days)
    n_eval = fc.backtest_origins
    origins = rolling_origins(s, n_eval + CALIBRATION_ORIGINS, bt_h)
    n_eval = min(n_eval, len(origins))
    first_train = int((origins[0] - s.dates[0]).astype(int)) if origins else s.n_days
    candidates = tuple(c for c in CANDIDATES if make_model(c).min_days <= first_train)
    if src_plan_ok and src_name in backtests:
        candidates = (*candidates, "derived")
    if model == "auto":
        tried = candidates if backtest else ("daily_profile" if "daily_profile" in candidates
                                             else FALLBACK_MODEL,)
    else:
        tried = (model,)
    bt_rows: list[dict] = []
    chosen: tuple[str, ...]
    cb = None
    if len(origins) < 2:
        # too short for a backtest: a baseline, uncalibrated (in-sample) interval
        if model == "auto":
            chosen = (FALLBACK_MODEL,)
            reason = f"{s.n_days} days of history: too short for a backtest"
            warning.append(f"short history ({s.n_days} days): fell back to "
                           f"{FALLBACK_MODEL} without backtest")
        else:
            chosen = (model,)
            reason = "requested"
            warning.append(f"short history ({s.n_days} days): no backtest, interval "
                           "not calibrated")
        wape_sel = naive_wape = np.nan
        params: dict[str, dict] = {}
    else:
        cb = ChannelBacktest(s, origins, n_eval, bt_h, level, CALIBRATION_ORIGINS, fc.ensemble)
        run = set(tried) | ({"seasonal_naive"} if backtest else set())
        if "derived" in run:
            src_cb = backtests.get(src_name)
            if src_cb is None:
                raise ForecastError(f"channel {name!r}: model 'derived' needs a backtest of "
                                    f"source channel {src_name!r}, whose history is too short")
            src_s = src_cb.series
        for m in [c for c in (*CANDIDATES, "derived") if c in run]:
            if m == "derived":
                cb.runs[m], cb.params[m] = run_origins(
                    s, m, origins, run_days, level, src_s,
                    _source_forecaster(src_cb))
            else:
                if make_model(m).min_days > first_train:
                    raise ForecastError(
                        f"channel {name!r}: model {m!r} needs {make_model(m).min_days} days "
                        f"of history before the backtest's first origin; the channel has "
                        f"{s.n_days} days in all")
                cb.runs[m], cb.params[m] = run_origins(s, m, origins, run_days, level)
        params = cb.params
        backtests[name] = cb
        if backtest:
            bt_rows = cb.metrics(tuple(c for c in (*CANDIDATES, "derived") if c in run),
                                 auto=model == "auto")
        naive_wape = cb.scores(("seasonal_naive",)) if "seasonal_naive" in cb.runs else np.nan
        if model == "auto" and backtest:
            chosen = _best(cb, candidates)
            wape_sel = cb.scores(chosen)
            others = ", ".join(f"{c} {cb.scores((c,)):.3f}" for c in candidates)
            if np.isfinite(wape_sel):
                reason = (f"lowest backtest WAPE {wape_sel:.3f} over {n_eval} origins "
                          f"({others})")
            else:
                reason = f"no contacts in the {n_eval} backtest windows: simplest model"
                warning.append("no contacts in the backtest windows")
        else:
            chosen = (tried[0],)
            wape_sel = cb.scores(chosen)
            reason = "requested" if model != "auto" else "no backtest: default model"

    # -- final fit on the whole history -------------------------------------
    n_days = lead_days
    Fs = []
    for m in chosen:
        if m == "derived":
            src_start, src_F = finals[src_name]
            d = Derived(level).fit_with_source(s, src_series)
            src = _source_from(src_series, src_start, src_F, s.end, n_days)
            Fs.append(d.predict_from(src, s.end))
        else:
            mod = make_model(m, level).fit(s, params=params.get(m) or None)
            Fs.append(mod.predict_days(s.end, n_days))
    F_all = np.mean(Fs, axis=0)
    n_buckets = -(-n_days // bt_h)
    cals: list[IntervalCalibration] = []
    for b in range(n_buckets):
        c = cb.calibration(chosen, len(origins), b) if cb is not None else None
        if c is None or c.n == 0:
            c = cals[-1] if cals else default_calibration(level, _naive_phi(s))
        cals.append(c)
    off = int((start - s.end).astype(int))
    label = chosen[0] if len(chosen) == 1 else "ensemble(" + "+".join(chosen) + ")"
    rows = _rows(name, F_all[off:off + horizon_days], start, tz, interval,
                 cals, bt_h, off, label, (history, chan_col, cut), plan)
    sel = {"channel": name, "model": label, "reason": reason, "wape": wape_sel,
           "naive_wape": naive_wape, "warning": "; ".join(warning)}
    return rows, sel, (s.end, F_all), bt_rows


def _best(cb: ChannelBacktest, candidates: tuple[str, ...]) -> tuple[str, ...]:
    scores = {c: cb.scores((c,)) for c in candidates}
    ranked = sorted(scores, key=lambda c: (np.nan_to_num(scores[c], nan=np.inf),
                                           candidates.index(c)))
    if cb.ensemble and len(ranked) > 1:
        return tuple(ranked[:2])
    return (ranked[0],)


def _source_forecaster(src_cb: ChannelBacktest | None):
    """(origin, days) -> the source's forecast made at that origin (its nested choice)."""
    def forecast(origin: np.datetime64, days: int) -> np.ndarray:
        if src_cb is None:
            raise ForecastError("derived forecast needs the source channel's backtest")
        ks = [k for k, o in enumerate(src_cb.origins) if o == origin]
        if ks:
            k = ks[0]
            names = src_cb.select(k, tuple(src_cb.runs))
            F = np.mean([src_cb.runs[n][k].F for n in names], axis=0)
            if F.shape[0] >= days:
                return F[:days]
        m = make_model("daily_profile").fit(src_cb.series.head(origin),
                                            params=src_cb.params.get("daily_profile"))
        return m.predict_days(origin, days)
    return forecast


def _source_from(src_series, src_start, src_F, start, n_days) -> np.ndarray:
    """Source volume per day x slot from ``start``: history where known, then forecast."""
    parts = []
    if start < src_start and src_series is not None:
        i0 = int((start - src_series.dates[0]).astype(int))
        i1 = int((src_start - src_series.dates[0]).astype(int))
        parts.append(src_series.Y[i0:i1])
    have = sum(p.shape[0] for p in parts)
    off = int((start + np.timedelta64(have, "D") - src_start).astype(int))
    parts.append(src_F[off:off + n_days - have])
    return np.concatenate(parts)[:n_days]


def _rows(name, F, start, tz, interval, cals, bt_h, lead_offset, label, aht_src, plan):
    grid, mean = matrix_to_grid(F, start, tz, interval)
    day = (grid.tz_localize(None).normalize().values.astype("datetime64[D]")
           - np.datetime64(start, "D")).astype(int)
    bucket = np.minimum((day + lead_offset) // bt_h, len(cals) - 1)
    lo = np.empty_like(mean)
    hi = np.empty_like(mean)
    for b in np.unique(bucket):
        k = bucket == b
        lo[k], hi[k] = cals[b].bounds(mean[k])
    aht = AhtModel(plan.default_aht)
    if aht_src is not None:
        history, chan_col, cut = aht_src
        if "aht_seconds" in history.columns:
            sub = history.loc[chan_col == name]
            ts = _timestamps(sub, tz)
            keep = ts < cut
            aht.fit(ts[keep], pd.to_numeric(sub["volume"], errors="coerce").to_numpy()[keep],
                    pd.to_numeric(sub["aht_seconds"], errors="coerce").to_numpy()[keep],
                    interval)
        else:
            aht.fit(grid[:0], np.zeros(0), None, interval)
    else:
        aht.fit(grid[:0], np.zeros(0), None, interval)
    return pd.DataFrame({
        "timestamp": grid,
        "channel": name,
        "volume": mean,
        "volume_lo": np.minimum(lo, mean),
        "volume_hi": np.maximum(hi, mean),
        "aht_seconds": aht.predict(grid),
        "model": label,
    })
