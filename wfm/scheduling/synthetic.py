"""Synthetic requirements and rosters for scheduler tests and benchmarks.

Plausible intraday curves per channel kind (phone peaks late morning and
early afternoon, chat into the evening, e-mail arriving over the business
day, social media around the clock, letters in a morning batch on weekdays),
scaled so that the week's requirement is a chosen share of the roster's
contract hours. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from wfm.config import Scenario
from wfm.timegrid import interval_grid

#: Share of the week's agent-hours per channel name (others share equally).
_SHARES = {"voice": 0.45, "chat": 0.18, "email": 0.14, "social": 0.05, "letters": 0.08,
           "chatbot_handoff": 0.10}


def _curve(name: str, kind: str, hour: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    def bump(c: float, w: float) -> np.ndarray:
        return np.exp(-0.5 * ((hour - c) / w) ** 2)

    if name == "voice" or kind == "realtime":
        open_ = (hour >= 8) & (hour < 20) & (weekday < 6)
        y = 0.35 + bump(10.5, 1.5) + 0.8 * bump(14.5, 1.8)
        y = y * np.where(weekday == 5, 0.5, 1.0) * np.where(weekday == 0, 1.15, 1.0)
    elif name == "letters":
        open_ = (hour >= 7) & (hour < 16) & (weekday < 5)
        y = bump(8.5, 1.0) + 0.1
    elif name == "social":
        open_ = np.ones_like(hour, dtype=bool)
        y = 0.2 + bump(12.0, 3.0) + 0.6 * bump(20.0, 2.0)
    elif kind == "deferred":
        open_ = (hour >= 6) & (hour < 22)
        y = 0.3 + bump(10.0, 2.5) + 0.5 * bump(15.0, 2.0)
        y = y * np.where(weekday >= 5, 0.4, 1.0)
    else:
        open_ = (hour >= 7) & (hour < 22)
        y = 0.4 + bump(11.0, 2.0) + 0.7 * bump(19.5, 1.8)
        y = y * np.where(weekday >= 5, 0.7, 1.0)
    return np.where(open_, y, 0.0)


def synthetic_requirements(scenario: Scenario, start: dt.date, agent_hours: float,
                           days: int = 7, seed: int = 0, noise: float = 0.08) -> pd.DataFrame:
    """A requirements frame whose total is ``agent_hours`` scheduled agent-hours.

    Parameters
    ----------
    scenario : Scenario
        Channels (staffed ones get rows), time zone, interval.
    start : date
        First day.
    agent_hours : float
        Total requirement over the horizon [agent-hours], split over channels
        by fixed shares.
    days : int
        Horizon length [days].
    seed : int
        Random seed of the multiplicative noise.
    noise : float
        Relative standard deviation of the per-interval noise.

    Returns
    -------
    DataFrame
        ``timestamp, channel, volume, aht_seconds, agents_net, agents_required``
        (deferred channels: ``volume`` and ``aht_seconds`` carry the work,
        ``agents_required`` the same work spread evenly).
    """
    rng = np.random.default_rng(seed)
    step = scenario.site.interval_minutes
    grid = interval_grid(start, days, scenario.site.timezone, step)
    hour = (grid.hour + grid.minute / 60.0).to_numpy(dtype=float)
    weekday = grid.day_of_week.to_numpy()
    chans = scenario.staffed_channels
    default = (1.0 - sum(_SHARES.get(c.name, 0.0) for c in chans)) / max(1, sum(
        c.name not in _SHARES for c in chans))
    shares = np.array([_SHARES.get(c.name, default) for c in chans])
    shares = shares / shares.sum()
    ih = step / 60.0
    frames = []
    for c, share in zip(chans, shares):
        y = _curve(c.name, c.kind, hour, weekday)
        y = y * np.exp(rng.normal(0.0, noise, y.size))
        heads = y * (agent_hours * share / ih) / max(y.sum(), 1e-9)
        shrink = scenario.shrinkage_of(c.name)
        if c.kind == "deferred":
            eff = (1.0 - shrink) * scenario.max_occupancy_of(c.name)
            volume = heads * eff * step * 60.0 / c.aht_seconds
            req = np.full(y.size, heads.sum() / y.size)
        else:
            volume = heads * (1.0 - shrink) * step * 60.0 / c.aht_seconds * c.concurrency
            req = heads
        frames.append(pd.DataFrame({
            "timestamp": grid, "channel": c.name, "volume": volume,
            "aht_seconds": float(c.aht_seconds), "agents_net": req * (1.0 - shrink),
            "agents_required": req,
        }))
    out = pd.concat(frames, ignore_index=True)
    out["channel"] = out["channel"].astype("str")
    return out


def synthetic_roster(n_agents: int, seed: int = 0,
                     horizon_start: dt.date | None = None) -> pd.DataFrame:
    """``n_agents`` agents drawn from the sample center's roster mix.

    The sample roster (:func:`wfm.sampledata.generate_roster`, 120 agents) is
    repeated with fresh seeds until ``n_agents`` rows, keeping its skill
    groups, contracts, windows, absences and preferences.
    """
    from wfm import sampledata

    kw = {} if horizon_start is None else {"horizon_start": horizon_start}
    parts = []
    k = 0
    while sum(len(p) for p in parts) < n_agents:
        r = sampledata.generate_roster(seed=seed + 7919 * k, **kw)
        parts.append(r)
        k += 1
    out = pd.concat(parts, ignore_index=True)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(out), size=n_agents, replace=False))
    out = out.iloc[pick].reset_index(drop=True)
    out["agent_id"] = [f"A{i + 1:04d}" for i in range(n_agents)]
    return out
