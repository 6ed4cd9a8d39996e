"""End-to-end plan (wfm.plan.run_plan and `wfm plan`) on a tiny center built here.

Three channels (voice, chat, e-mail), six weeks of generated history scaled to
ten agents, a two-day horizon: the whole chain runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wfm import io as wio
from wfm.cli import app
from wfm.config import load_scenario
from wfm.errors import WfmError
from wfm.plan import PLAN_FILES, WhatIf, run_plan

START = dt.date(2026, 11, 16)

SCENARIO = f"""
[site]
name = "Tiny plan center"
timezone = "Europe/Berlin"
interval_minutes = 15

[[channels]]
name = "voice"
kind = "realtime"
aht_seconds = 300
patience_seconds = 120
priority = 3.0

[[channels]]
name = "chat"
kind = "concurrent"
answer_seconds = 60
aht_seconds = 600
concurrency = 2

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
start = {START.isoformat()}
days = 2

[forecast]
model = "seasonal_naive_avg"
backtest_origins = 1
backtest_horizon_days = 2

[solver]
time_limit_seconds = 20
gap = 0.05
"""

ROSTER = "agent_id,skills,min_hours_week,max_hours_week,max_days_week\n" + "".join(
    f"a{i:02d},{skills},0,40,5\n" for i, skills in enumerate(
        ["voice", "voice", "voice;chat", "voice;chat", "voice;email", "chat",
         "chat;email", "email", "voice", "voice;chat;email"], start=1))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from wfm.sampledata import generate_history

    folder = tmp_path_factory.mktemp("tiny_plan")
    h = generate_history(seed=11, days=42, end=START - dt.timedelta(days=1))
    h = h[h["channel"].isin(["voice", "chat", "email"])].reset_index(drop=True)
    h["volume"] = (h["volume"] * 0.09).round().astype(int)
    h.loc[h["volume"] == 0, "aht_seconds"] = np.nan
    wio.write_frame(h, folder / "history.csv", kind="history")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def planned(tiny):
    lines: list[str] = []
    result = run_plan(load_scenario(tiny / "scenario.toml"), tiny / "out",
                      progress=lines.append)
    return result, lines


def test_plan_writes_every_frame_summary_and_charts(planned):
    result, lines = planned
    out = result.out_dir
    for key in ("forecast", "requirements", "shifts", "assignments", "coverage", "kpis",
                "worst_gaps", "summary", "stages", "chart_coverage", "chart_heatmap",
                "backtest", "selection"):
        assert (out / PLAN_FILES[key]).is_file(), key
    # every frame re-reads through the validating reader
    for kind in ("forecast", "requirements", "shifts", "assignments", "coverage"):
        frame = wio.read_frame(out / PLAN_FILES[kind], kind)
        assert len(frame) > 0
    # PNGs are real images
    for key in ("chart_coverage", "chart_heatmap"):
        assert (out / PLAN_FILES[key]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # progress and timing per stage
    stages = pd.read_csv(out / PLAN_FILES["stages"])
    assert list(stages["stage"]) == ["validate history", "forecast", "requirements",
                                     "schedule", "coverage"]
    assert any("forecast done" in line for line in lines)


def test_horizon_is_the_scenario_horizon(planned):
    result, _ = planned
    days = sorted(set(pd.DatetimeIndex(result.coverage["timestamp"]).tz_localize(None).date))
    assert days == [START, START + dt.timedelta(days=1)]


def test_summary_numbers_match_the_frames(planned):
    result, _ = planned
    out = result.out_dir
    summary = (out / PLAN_FILES["summary"]).read_text()
    kpis = pd.read_csv(out / PLAN_FILES["kpis"])
    cov = wio.read_frame(out / PLAN_FILES["coverage"], "coverage")
    h = 0.25  # interval length [h]
    for ch in ("voice", "chat", "email"):
        c = cov[cov["channel"] == ch]
        k = kpis[kpis["channel"] == ch].iloc[0]
        # KPIs recomputed independently from the coverage frame
        assert k["required_hours"] == pytest.approx(c["required"].sum() * h, rel=1e-6)
        assert k["scheduled_hours"] == pytest.approx(c["scheduled"].sum() * h, rel=1e-6)
        assert k["under_staffed_hours"] == pytest.approx(
            np.clip(-c["gap"], 0, None).sum() * h, rel=1e-6, abs=1e-9)
        vol = c["volume"].fillna(0)
        sl = np.nansum(c["service_level"] * vol) / vol[c["service_level"].notna()].sum()
        assert k["service_level"] == pytest.approx(sl, rel=1e-6)
        # and the summary table shows the same service level (3 significant digits)
        row = next(line for line in summary.splitlines() if line.startswith(f"| {ch} |"))
        cells = [x.strip() for x in row.strip("|").split("|")]
        header = next(line for line in summary.splitlines() if line.startswith("| channel |"))
        cols = [x.strip() for x in header.strip("|").split("|")]
        assert float(cells[cols.index("service_level")]) == pytest.approx(
            k["service_level"], rel=5e-3)
    # worst gaps are the most negative gaps of the coverage frame
    worst = pd.read_csv(out / PLAN_FILES["worst_gaps"])
    assert worst["gap"].min() == pytest.approx(cov["gap"].min())
    # solver status in the summary is the one of the result
    assert re.search(rf"status \*\*{result.schedule_status}\*\*", summary)


def test_scheduled_hours_match_assignments(planned):
    result, _ = planned
    asg = wio.read_frame(result.out_dir / PLAN_FILES["assignments"], "assignments")
    cov = wio.read_frame(result.out_dir / PLAN_FILES["coverage"], "coverage")
    assert asg["fraction"].sum() == pytest.approx(cov["scheduled"].sum(), rel=1e-6)


def test_failed_run_leaves_previous_results(tiny, planned):
    result, _ = planned
    before = {p.name: p.read_bytes() for p in result.out_dir.iterdir()}
    scen = load_scenario(tiny / "scenario.toml")
    scen.agents.file = Path("no_such_roster.csv")
    with pytest.raises(WfmError):
        run_plan(scen, result.out_dir)
    after = {p.name: p.read_bytes() for p in result.out_dir.iterdir()}
    assert after == before
    leftovers = [p.name for p in result.out_dir.parent.iterdir() if p.name.startswith(".out")]
    assert leftovers == []


def test_skip_stages_with_given_requirements_and_what_if(tiny, planned):
    result, _ = planned
    scen = load_scenario(tiny / "scenario.toml")
    again = run_plan(scen, tiny / "out_req", requirements=result.requirements)
    assert list(again.stages["status"][:3]) == ["skipped", "skipped", "skipped"]
    busier = run_plan(scen, tiny / "out_busy", forecast=result.forecast,
                      what_if=WhatIf(volume_factor=1.5))
    assert busier.requirements["agents_required"].sum() > \
        result.requirements["agents_required"].sum()


def test_cli_plan_and_compare(tiny, planned):
    result, _ = planned
    runner = CliRunner()
    out_b = tiny / "cli_b"
    res = runner.invoke(app, ["plan", "--scenario", str(tiny / "scenario.toml"), "--out",
                              str(out_b), "--volume-factor", "1.3", "--time-limit", "10"])
    assert res.exit_code == 0, res.output
    assert "plan written to" in res.output
    res = runner.invoke(app, ["compare", str(result.out_dir), str(out_b)])
    assert res.exit_code == 0, res.output
    assert "service_level" in res.output and "voice" in res.output
    res = runner.invoke(app, ["plan", "--scenario", str(tiny / "nope.toml")])
    assert res.exit_code == 2
    assert "scenario file not found" in res.output
