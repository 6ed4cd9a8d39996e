"""``wfm coverage``: files in, coverage + KPIs (+ simulation) out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import wfm.staffing
from wfm import io as wio
from wfm.cli import app

TZ = "Europe/Berlin"

SCENARIO = """
[site]
timezone = "Europe/Berlin"
interval_minutes = 15

[staffing]
shrinkage = 0.2

[[channels]]
name = "voice"
kind = "realtime"
aht_seconds = 240
patience_seconds = 120

[[channels]]
name = "chat"
kind = "concurrent"
concurrency = 2
aht_seconds = 600
answer_seconds = 60
"""


def _fake_service(demand_df, agents_df, scenario):
    n = agents_df["agents_net"].to_numpy(float)
    out = demand_df[["timestamp", "channel"]].copy()
    out["service_level"] = n / (n + 1.0)
    out["asa_seconds"] = 5.0
    out["occupancy"] = 0.7
    out["abandonment"] = 0.01
    return out


@pytest.fixture
def folder(tmp_path, monkeypatch):
    if not hasattr(wfm.staffing, "service_with_agents"):
        monkeypatch.setattr(wfm.staffing, "service_with_agents", _fake_service,
                            raising=False)
    (tmp_path / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    ts = pd.date_range("2026-11-16 08:00", periods=16, freq="15min", tz=TZ,
                       name="timestamp")
    req = pd.concat([pd.DataFrame({
        "timestamp": ts, "channel": ch, "volume": vol, "aht_seconds": aht,
        "agents_net": need, "agents_required": need / 0.8, "service_level": 0.8,
        "asa_seconds": 10.0, "occupancy": 0.8}) for ch, vol, aht, need in
        (("voice", 30.0, 240.0, 10.0), ("chat", 8.0, 600.0, 3.0))], ignore_index=True)
    wio.write_frame(req, tmp_path / "req.csv", "requirements")
    sched = tmp_path / "sched"
    sched.mkdir()
    agents = {**{f"v{i}": {"voice": 1.0} for i in range(10)},
              "m1": {"voice": 0.5, "chat": 0.5}, "c1": {"chat": 1.0}, "c2": {"chat": 1.0}}
    rows = [(t, a, ch, f) for t in ts for a, chans in agents.items() for ch, f in chans.items()]
    asg = pd.DataFrame(rows, columns=["timestamp", "agent_id", "channel", "fraction"])
    wio.write_frame(asg, sched / "assignments.csv", "assignments")
    shifts = pd.DataFrame({"agent_id": list(agents), "date": "2026-11-16",
                           "start": "2026-11-16T08:00:00", "end": "2026-11-16T12:00:00",
                           "breaks": ""})
    wio.write_frame(shifts, sched / "shifts.csv", "shifts")
    return tmp_path


def test_coverage_command_writes_frames_and_prints_kpis(folder):
    out = folder / "out" / "coverage.csv"
    out.parent.mkdir()
    r = CliRunner().invoke(app, [
        "coverage", "--requirements", str(folder / "req.csv"), "--schedule",
        str(folder / "sched"), "--out", str(out), "--scenario", str(folder / "scenario.toml"),
        "--simulate", "--replications", "3", "--pooling"])
    assert r.exit_code == 0, r.output
    cov = wio.read_frame(out, "coverage")
    assert len(cov) == 32
    v = cov[cov["channel"] == "voice"]
    assert np.allclose(v["scheduled"], 10.5) and np.allclose(v["required"], 12.5)
    assert (out.parent / "coverage_kpis.csv").is_file()
    sim = pd.read_csv(out.parent / "coverage_simulation.csv")
    assert {"service_level", "service_level_lo", "service_level_hi"} <= set(sim.columns)
    assert len(sim) == 32
    assert (out.parent / "coverage_simulation_channels.csv").is_file()
    text = r.stdout
    assert "under h" in text and "voice" in text
    assert "SL Erlang" in text and "SL sim" in text
    assert "pooling gain" in text


def test_coverage_command_bad_schedule_folder(folder):
    r = CliRunner().invoke(app, [
        "coverage", "--requirements", str(folder / "req.csv"), "--schedule",
        str(folder / "nothing"), "--out", str(folder / "c.csv"),
        "--scenario", str(folder / "scenario.toml")])
    assert r.exit_code == 2
    assert "no assignments.csv" in r.output
    assert not (folder / "c.csv").exists()
