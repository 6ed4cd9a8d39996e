"""Average handle time (AHT) forecast per channel and interval.

The AHT of an interval is a volume-weighted mean: an interval with 40
contacts says more than one with 1, and an interval without contacts (or
without an AHT value) says nothing, so it gets weight 0 instead of
poisoning the mean. The forecast is

    aht[weekday, slot] = recent level x smoothed profile[weekday, slot]

with the profile from the last 8 weeks (volume-weighted, smoothed over
neighbouring slots, shrunk toward the weekday mean where volume is thin) and
the level ratio of the last 2 weeks to those 8 weeks (follows a new product
or process, and an AHT that drifts as agents learn).

Examples
--------
>>> import numpy as np, pandas as pd
>>> ts = pd.date_range("2025-01-06", periods=96 * 14, freq="15min", tz="Europe/Berlin")
>>> vol = np.where(ts.hour.to_numpy() >= 8, 10.0, 0.0)
>>> aht = np.where(vol > 0, 240.0, np.nan)
>>> model = AhtModel(default_seconds=300.0).fit(ts, vol, aht)
>>> future = pd.date_range("2025-01-20 09:00", periods=4, freq="15min", tz="Europe/Berlin")
>>> model.predict(future).round(6).tolist()
[240.0, 240.0, 240.0, 240.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wfm.forecast.series import grid_positions

PROFILE_WEEKS = 8
LEVEL_WEEKS = 2
PRIOR_CONTACTS = 20.0     # contacts of shrinkage toward the weekday mean
SMOOTH_KERNEL = np.array([1.0, 2.0, 3.0, 2.0, 1.0])  # over neighbouring slots


class AhtModel:
    """Volume-weighted AHT profile per weekday x slot with a recent level.

    Parameters
    ----------
    default_seconds : float
        AHT used where the history has none (the channel's scenario default) [s].
    """

    def __init__(self, default_seconds: float = 300.0):
        self.default_seconds = float(default_seconds)
        self.tz: str | None = None

    def fit(self, timestamps, volume, aht_seconds, interval_minutes: int | None = None
            ) -> AhtModel:
        """Fit on one channel's history (``aht_seconds`` may be None or contain NaN)."""
        ts = pd.DatetimeIndex(timestamps)
        self.tz = str(ts.tz) if ts.tz is not None else None
        if interval_minutes is None:
            from wfm.forecast.series import infer_interval_minutes

            interval_minutes = infer_interval_minutes(ts) if ts.size > 1 else 60
        self.interval_minutes = interval_minutes
        S = 1440 // interval_minutes
        self.profile_ = np.full((7, S), self.default_seconds)
        self.has_data_ = False
        if aht_seconds is None or ts.size == 0:
            return self
        v = np.asarray(volume, float)
        a = np.asarray(aht_seconds, float)
        ok = np.isfinite(a) & (a > 0) & np.isfinite(v) & (v > 0)
        if not ok.any():
            return self
        end = ts.max()
        recent = ts >= end - pd.Timedelta(weeks=PROFILE_WEEKS)
        use = ok & recent
        if not use.any():
            use = ok
        w, a_use = v[use], a[use]
        local = ts[use].tz_localize(None) if ts.tz is not None else ts[use]
        wd = local.day_of_week.to_numpy()
        slot = ((local.hour * 60 + local.minute) // interval_minutes).to_numpy()
        flat = wd * S + slot
        num = np.bincount(flat, weights=w * a_use, minlength=7 * S).reshape(7, S)
        den = np.bincount(flat, weights=w, minlength=7 * S).reshape(7, S)
        overall = num.sum() / den.sum()
        # smooth numerator and weight alike: a volume-weighted moving average
        k = SMOOTH_KERNEL
        pad = len(k) // 2
        num_s = np.stack([np.convolve(np.pad(r, pad, mode="wrap"), k, "valid") for r in num])
        den_s = np.stack([np.convolve(np.pad(r, pad, mode="wrap"), k, "valid") for r in den])
        day_num, day_den = num.sum(axis=1), den.sum(axis=1)
        day_mean = np.where(day_den > 0, day_num / np.where(day_den > 0, day_den, 1), overall)
        prof = (num_s + PRIOR_CONTACTS * day_mean[:, None]) / (den_s + PRIOR_CONTACTS)
        last = use & (ts >= end - pd.Timedelta(weeks=LEVEL_WEEKS))
        level = 1.0
        if last.any():
            # recent volume-weighted mean over that of the whole profile window:
            # like with like, so a smoothed-away outlier cannot move the level
            recent_mean = np.sum(v[last] * a[last]) / np.sum(v[last])
            level = float(np.clip(recent_mean / overall, 0.5, 2.0))
        self.profile_ = prof * level
        self.has_data_ = True
        return self

    def predict(self, timestamps) -> np.ndarray:
        """AHT [s] for interval start times (tz-aware, any future dates)."""
        ts = pd.DatetimeIndex(timestamps)
        if self.tz is not None and ts.tz is not None:
            ts = ts.tz_convert(self.tz)
        if ts.size == 0:
            return np.zeros(0)
        day, slot = grid_positions(ts, ts.min().date(), self.interval_minutes)
        wd = ((np.datetime64(ts.min().date(), "D").astype("int64") + day + 3) % 7).astype(int)
        return self.profile_[wd, slot]
