"""Synthetic contact-center histories with known structure for the forecast tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wfm.timegrid import interval_grid


def pattern(grid: pd.DatetimeIndex, level: float = 20.0, closed_sunday: bool = True,
            open_hours: tuple[int, int] = (8, 20)) -> np.ndarray:
    """Expected volume: a daily bump between the opening hours x a weekday factor."""
    local = grid.tz_localize(None)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    wd = local.day_of_week.to_numpy()
    lo, hi = open_hours
    inside = (hour >= lo) & (hour < hi)
    shape = np.where(inside, 1.0 + np.sin(np.pi * (hour - lo) / (hi - lo)), 0.0)
    weekly = np.array([1.3, 1.1, 1.0, 1.0, 0.9, 0.5, 0.0 if closed_sunday else 0.3])[wd]
    return level * shape * weekly


def make_history(start: str = "2025-01-06", weeks: int = 20, interval: int = 60,
                 tz: str = "Europe/Berlin", level: float = 20.0, noise: bool = True,
                 seed: int = 1, channel: str = "voice", **kw) -> pd.DataFrame:
    """History frame of one channel following :func:`pattern` (Poisson if ``noise``)."""
    grid = interval_grid(pd.Timestamp(start).date(), 7 * weeks, tz, interval)
    lam = pattern(grid, level, **kw)
    vol = np.random.default_rng(seed).poisson(lam).astype(float) if noise else lam
    return pd.DataFrame({"timestamp": grid, "channel": channel, "volume": vol})


@pytest.fixture
def history_factory():
    return make_history


@pytest.fixture
def pattern_fn():
    return pattern
