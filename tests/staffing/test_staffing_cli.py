"""``wfm erlang`` and ``wfm requirements`` through Typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wfm.cli import app
from wfm.io import read_frame, write_frame
from wfm.staffing import erlang, erlang_a
from wfm.timegrid import interval_grid

runner = CliRunner()
BASE = ["erlang", "--volume", "100", "--interval-minutes", "30", "--aht", "180",
        "--target", "0.8", "--answer-seconds", "20"]


def test_erlang_human_output():
    res = runner.invoke(app, BASE)
    assert res.exit_code == 0, res.output
    assert "Erlang C" in res.output and "10.000 Erlangs" in res.output
    assert "Agents required            14" in res.output
    assert "88.8 %" in res.output and "7.8 s" in res.output


def test_erlang_json():
    res = runner.invoke(app, BASE + ["--json"])
    assert res.exit_code == 0
    out = json.loads(res.output)
    for key in ("agents_required", "agents_fractional", "service_level", "asa_seconds",
                "occupancy", "wait_probability"):
        assert key in out
    assert out["agents_required"] == 14
    assert out["service_level"] == pytest.approx(erlang.service_level(10.0, 14, 180, 20))
    assert 13 < out["agents_fractional"] <= 14


def test_erlang_with_agents_and_patience():
    res = runner.invoke(app, BASE + ["--agents", "12", "--patience", "120", "--json"])
    out = json.loads(res.output)
    assert out["model"] == "erlang_a" and out["agents"] == 12
    m = erlang_a.metrics(10.0, 12, 180, 120, 20)
    assert out["abandonment"] == pytest.approx(m.abandonment)
    assert out["service_level"] == pytest.approx(m.service_level)
    # unstable Erlang C: infinite ASA is null in JSON
    res = runner.invoke(app, BASE + ["--agents", "9", "--json"])
    out = json.loads(res.output)
    assert out["asa_seconds"] is None and out["service_level"] == 0.0


def test_erlang_occupancy_cap_and_errors():
    out = json.loads(runner.invoke(app, BASE + ["--max-occupancy", "0.6", "--json"]).output)
    assert out["agents_required"] == 17 and out["occupancy"] <= 0.6
    for bad in (["--target", "1.0"], ["--volume", "-5"], ["--patience", "0"]):
        res = runner.invoke(app, BASE + bad)
        assert res.exit_code == 2
        assert "error:" in res.output


def test_requirements_command(tmp_path):
    scen = tmp_path / "scenario.toml"
    scen.write_text("""
[site]
timezone = "Europe/Berlin"
interval_minutes = 15

[[channels]]
name = "voice"
aht_seconds = 300

[[channels]]
name = "email"
kind = "deferred"
aht_seconds = 400
response_time_hours = 8
""")
    ts = interval_grid("2026-03-02", 1, "Europe/Berlin", 15)
    rows = []
    for ch, lvl in (("voice", 30.0), ("email", 10.0)):
        vol = np.where((ts.hour >= 8) & (ts.hour < 18), lvl, 0.0)
        rows.append(pd.DataFrame({"timestamp": ts, "channel": ch, "volume": vol,
                                  "volume_lo": vol * 0.8, "volume_hi": vol * 1.2,
                                  "aht_seconds": np.nan, "model": "test"}))
    fc_path = write_frame(pd.concat(rows, ignore_index=True), tmp_path / "forecast.csv",
                          "forecast")
    out = tmp_path / "req.csv"
    res = runner.invoke(app, ["requirements", "--forecast", str(fc_path), "--scenario",
                              str(scen), "--out", str(out)])
    assert res.exit_code == 0, res.output
    req = read_frame(out, "requirements")
    assert set(req["channel"]) == {"voice", "email"}
    assert len(req) == 2 * len(ts)
    assert (req["agents_required"] >= req["agents_net"]).all()
    res = runner.invoke(app, ["requirements", "--forecast", str(tmp_path / "nope.csv"),
                              "--scenario", str(scen), "--out", str(out)])
    assert res.exit_code != 0
