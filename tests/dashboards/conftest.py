"""Fixtures for the dashboard tests: a tiny scenario planned once per session.

Three channels (voice, chat, e-mail), six weeks of simulated history, ten
agents and a two-day horizon: the first plan takes seconds, so every page
test starts from a computed plan in a private cache folder.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `dashboards` is a folder of the checkout, not installed
    sys.path.insert(0, str(REPO))
HORIZON_START = dt.date(2026, 11, 16)  # the Monday after the sample history ends

TINY_SCENARIO = f"""
[site]
name = "Tiny test center"
timezone = "Europe/Berlin"
interval_minutes = 15
country = "DE"

[staffing]
shrinkage = 0.25
max_occupancy = 0.85

[[channels]]
name = "voice"
kind = "realtime"
service_level_target = 0.8
answer_seconds = 20
aht_seconds = 300
priority = 3.0

[[channels]]
name = "chat"
kind = "concurrent"
service_level_target = 0.8
answer_seconds = 60
aht_seconds = 600
concurrency = 2
priority = 2.0

[[channels]]
name = "email"
kind = "deferred"
aht_seconds = 420
response_time_hours = 24

[[shift_templates]]
name = "day"
start_earliest = "07:00"
start_latest = "13:00"
start_step_minutes = 120
lengths_hours = [8.0]
[[shift_templates.breaks]]
minutes = 30
earliest_after_start_minutes = 180
latest_after_start_minutes = 300

[agents]
file = "roster.csv"

[data]
history = "history.csv"

[horizon]
start = {HORIZON_START.isoformat()}
days = 2

[forecast]
model = "seasonal_naive"
horizon_days = 2
backtest_origins = 1
backtest_horizon_days = 2

[solver]
time_limit_seconds = 15
gap = 0.2
"""

ROSTER = """agent_id,skills,min_hours_week,max_hours_week,max_days_week
a01,voice,0,40,5
a02,voice,0,40,5
a03,voice;chat,0,40,5
a04,voice;chat,0,40,5
a05,voice;email,0,40,5
a06,chat,0,40,5
a07,chat;email,0,40,5
a08,email,0,40,5
a09,voice,0,40,5
a10,voice;chat;email,0,40,5
"""


def write_tiny_scenario(folder: Path, scale: float = 0.09) -> Path:
    """Write the tiny scenario (history scaled down from the sample generator)."""
    from wfm import io as wio
    from wfm.sampledata import generate_history

    folder.mkdir(parents=True, exist_ok=True)
    h = generate_history(seed=7, days=42, end=HORIZON_START - dt.timedelta(days=1))
    h = h[h["channel"].isin(["voice", "chat", "email"])].reset_index(drop=True)
    # A center of ten agents: scale the sample's volumes down (rounded contacts).
    h["volume"] = (h["volume"] * scale).round().astype(int)
    h.loc[h["volume"] == 0, "aht_seconds"] = float("nan")
    wio.write_frame(h, folder / "history.csv", kind="history")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    path = folder / "scenario.toml"
    path.write_text(TINY_SCENARIO, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_scenario(tmp_path_factory.mktemp("tiny") / "center")


@pytest.fixture(scope="session")
def dashboard_cache(tmp_path_factory: pytest.TempPathFactory, tiny_scenario: Path) -> Path:
    """A cache folder holding the tiny scenario's plan (computed once)."""
    cache = tmp_path_factory.mktemp("dash-cache")
    old = {k: os.environ.get(k) for k in ("WFM_DASHBOARD_SCENARIO", "WFM_DASHBOARD_CACHE")}
    os.environ["WFM_DASHBOARD_SCENARIO"] = str(tiny_scenario)
    os.environ["WFM_DASHBOARD_CACHE"] = str(cache)
    try:
        from dashboards import data

        data.compute_plan(data.default_source(), time_limit=15)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return cache


@pytest.fixture()
def dashboard_env(monkeypatch: pytest.MonkeyPatch, tiny_scenario: Path,
                  dashboard_cache: Path) -> Path:
    """Point the dashboard (in this process) at the tiny scenario and its cache."""
    monkeypatch.setenv("WFM_DASHBOARD_SCENARIO", str(tiny_scenario))
    monkeypatch.setenv("WFM_DASHBOARD_CACHE", str(dashboard_cache))
    return dashboard_cache
