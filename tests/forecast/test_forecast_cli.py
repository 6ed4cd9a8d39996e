"""wfm forecast: files in, files out, progress on stderr, clean errors."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from wfm.cli import app
from wfm.io import write_frame

from conftest import make_history

SCENARIO = """
[site]
timezone = "Europe/Berlin"
interval_minutes = 60
country = "DE"

[[channels]]
name = "voice"
aht_seconds = 280

[forecast]
horizon_days = 3
"""


def test_forecast_command(tmp_path):
    hist = make_history(weeks=10, seed=51)
    hist["aht_seconds"] = 240.0
    hist.loc[hist["volume"] == 0, "aht_seconds"] = float("nan")
    write_frame(hist, tmp_path / "history.csv", "history")
    (tmp_path / "scenario.toml").write_text(SCENARIO)
    out, bt = tmp_path / "forecast.csv", tmp_path / "backtest.csv"
    res = CliRunner().invoke(app, ["forecast", "--history", str(tmp_path / "history.csv"),
                                   "--scenario", str(tmp_path / "scenario.toml"),
                                   "--out", str(out), "--backtest", str(bt)])
    assert res.exit_code == 0, res.output
    f = pd.read_csv(out)
    assert list(f.columns) == ["timestamp", "channel", "volume", "volume_lo", "volume_hi",
                               "aht_seconds", "model"]
    assert len(f) == 3 * 24  # the scenario's horizon
    assert f["timestamp"].iloc[0] == "2025-03-17T00:00:00+01:00"
    assert f.loc[f["volume"] > 0, "aht_seconds"].round(6).eq(240.0).all()
    b = pd.read_csv(bt)
    assert {"channel", "model", "level", "wape", "mase", "bias", "coverage",
            "n_origins"} <= set(b.columns)
    assert "voice: forecasting" in res.stderr
    assert "lowest backtest WAPE" in res.stderr


def test_forecast_command_without_scenario(tmp_path):
    hist = make_history(weeks=6, seed=52, interval=30, channel="calls")
    write_frame(hist, tmp_path / "h.parquet", "history")
    out = tmp_path / "f.parquet"
    res = CliRunner().invoke(app, ["forecast", "-H", str(tmp_path / "h.parquet"),
                                   "--horizon-days", "2", "--out", str(out),
                                   "--model", "daily_profile"])
    assert res.exit_code == 0, res.output
    f = pd.read_parquet(out)
    assert len(f) == 2 * 48 and set(f["model"]) == {"daily_profile"}


def test_forecast_command_bad_model(tmp_path):
    hist = make_history(weeks=3, seed=53)
    write_frame(hist, tmp_path / "h.csv", "history")
    res = CliRunner().invoke(app, ["forecast", "-H", str(tmp_path / "h.csv"), "--out",
                                   str(tmp_path / "f.csv"), "--model", "prophet"])
    assert res.exit_code == 2
    assert "unknown model 'prophet'" in res.stderr
    assert not (tmp_path / "f.csv").exists()
