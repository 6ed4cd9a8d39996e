"""Prediction intervals calibrated on out-of-sample (rolling-origin) residuals.

Contact counts are over-dispersed Poisson: the spread of the error grows
with the level, ``Var(y - yhat) ~ yhat + phi * yhat**2`` (Poisson noise plus
a multiplicative day-level error). Residuals are standardised by that scale,

    u = (y - yhat) / sqrt(max(yhat, floor) + phi * yhat**2),

and the interval is ``yhat + q_lo * sigma .. yhat + q_hi * sigma`` with
``q_lo, q_hi`` the empirical (split-conformal) quantiles of ``u``. ``phi`` is
the method-of-moments estimate on the same residuals. The residuals always
come from forecasts made at earlier origins than the one the interval is for
(never from the window that is evaluated), so the backtest coverage is an
honest estimate. ``floor`` keeps near-zero forecasts of sparse channels from
getting an interval of width zero.

Intervals with a structural-zero forecast (closed hours) are exactly 0..0.
Counts are integers: where the forecast is the same in every interval
(a flat channel) the bounds land on whole numbers and the coverage can
exceed the nominal level by the probability mass at the bounds; forecasts
that vary over the day break these ties.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> yhat = rng.uniform(2.0, 40.0, 5000)
>>> cal = calibrate(rng.poisson(yhat), yhat, level=0.8)
>>> lo, hi = cal.bounds(yhat)
>>> y = rng.poisson(yhat)
>>> bool(0.77 < np.mean((y >= lo) & (y <= hi)) < 0.83)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

SIGMA_FLOOR = 0.25  # [contacts]: minimum variance used for near-zero forecasts


@dataclass(frozen=True)
class IntervalCalibration:
    """Parameters of a calibrated prediction interval.

    Attributes
    ----------
    level : float
        Nominal coverage (0-1).
    phi : float
        Over-dispersion (0 = Poisson).
    q_lo, q_hi : float
        Quantiles of the standardised residual.
    n : int
        Residuals used (0: the Poisson default, uncalibrated).
    """

    level: float
    phi: float
    q_lo: float
    q_hi: float
    n: int

    def scale(self, mean: np.ndarray) -> np.ndarray:
        """Standard deviation of the forecast error at ``mean`` [contacts]."""
        m = np.asarray(mean, dtype=float)
        return np.sqrt(np.maximum(m, SIGMA_FLOOR) + self.phi * m * m)

    def bounds(self, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound (>= 0) for forecasts ``mean``; 0..0 where mean is 0."""
        m = np.asarray(mean, dtype=float)
        s = self.scale(m)
        lo = np.maximum(m + self.q_lo * s, 0.0)
        hi = np.maximum(m + self.q_hi * s, 0.0)
        zero = m <= 0.0
        return np.where(zero, 0.0, lo), np.where(zero, 0.0, hi)


def default_calibration(level: float, phi: float = 0.0) -> IntervalCalibration:
    """Normal-approximation interval for over-dispersed Poisson counts (no residuals)."""
    z = stats.norm.ppf(0.5 + level / 2.0)
    return IntervalCalibration(level, max(phi, 0.0), -z, z, 0)


def estimate_phi(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Method-of-moments over-dispersion: sum((y-yhat)^2 - yhat) / sum(yhat^2), >= 0."""
    y = np.asarray(actual, dtype=float)
    m = np.asarray(predicted, dtype=float)
    den = float(np.sum(m * m))
    if den <= 0.0:
        return 0.0
    return max(0.0, float(np.sum((y - m) ** 2 - m)) / den)


def calibrate(actual: np.ndarray, predicted: np.ndarray, level: float = 0.8,
              min_residuals: int = 20) -> IntervalCalibration:
    """Calibrate an interval on out-of-sample residuals.

    Parameters
    ----------
    actual, predicted : array_like
        Observed and forecast volume at earlier origins [contacts]; structural
        zeros (forecast 0) are left out.
    level : float
        Nominal coverage, e.g. 0.8 for an 80 % interval.
    min_residuals : int
        With fewer usable residuals the Poisson default is returned.
    """
    y = np.asarray(actual, dtype=float)
    m = np.asarray(predicted, dtype=float)
    use = m > 0.0
    y, m = y[use], m[use]
    if y.size < min_residuals:
        return default_calibration(level, estimate_phi(y, m) if y.size else 0.0)
    phi = estimate_phi(y, m)
    u = (y - m) / np.sqrt(np.maximum(m, SIGMA_FLOOR) + phi * m * m)
    alpha = 1.0 - level
    n = u.size
    # finite-sample conformal correction: use the ceil((n+1)(1-a/2))/n quantile
    p_hi = min(1.0, np.ceil((n + 1) * (1 - alpha / 2)) / n)
    p_lo = max(0.0, 1.0 - p_hi)
    q_lo, q_hi = np.quantile(u, [p_lo, p_hi])
    return IntervalCalibration(level, phi, float(q_lo), float(q_hi), int(n))


def coverage(actual: np.ndarray, lo: np.ndarray, hi: np.ndarray,
             structural: np.ndarray | None = None) -> float:
    """Share of actuals inside [lo, hi].

    Intervals that are structural zeros (forecast 0..0 for a closed hour) and
    whose actual is 0 are not counted: they would inflate the coverage of
    channels with long closed hours. A contact in a closed hour is counted as
    a miss.
    """
    y = np.asarray(actual, dtype=float)
    inside = (y >= lo - 1e-9) & (y <= hi + 1e-9)
    if structural is not None:
        count = ~(np.asarray(structural, dtype=bool) & (y == 0))
    else:
        count = np.ones(y.shape, dtype=bool)
    n = int(count.sum())
    return float(inside[count].sum() / n) if n else float("nan")
