"""Forecasting: volume and AHT per channel per interval, backtested, with intervals.

:func:`run_forecast` backtests the models of :mod:`wfm.forecast.models` on
rolling origins (:mod:`wfm.forecast.backtest`), picks the best per channel,
forecasts every local interval of the horizon with a calibrated prediction
interval (:mod:`wfm.forecast.intervals`) and the AHT (:mod:`wfm.forecast.aht`),
taking public holidays and scenario special days into account
(:mod:`wfm.forecast.calendar`).
"""

from wfm.forecast.backtest import run_backtest
from wfm.forecast.calendar import Calendar
from wfm.forecast.core import FORECAST_COLUMNS, ForecastResult, run_forecast
from wfm.forecast.models import MODEL_NAMES, ForecastModel, Prediction, make_model

__all__ = ["FORECAST_COLUMNS", "MODEL_NAMES", "Calendar", "ForecastModel", "ForecastResult",
           "Prediction", "make_model", "run_backtest", "run_forecast"]
