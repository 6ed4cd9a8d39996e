"""``wfm dashboard`` command line, and the dashboard's chart builders on small frames."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wfm.cli import app
from wfm.cli import dashboard_commands as dc
from wfm.errors import MissingExtraError

TZ = "Europe/Berlin"


def test_streamlit_command_serves_the_repo_app_headless() -> None:
    cmd = dc.streamlit_command(port=8611, address="127.0.0.1", python="py")
    assert cmd[:4] == ["py", "-m", "streamlit", "run"]
    app_path = Path(cmd[4])
    assert app_path.name == "app.py" and app_path.parent.name == "dashboards"
    assert app_path.is_file()
    opts = dict(zip(cmd[5::2], cmd[6::2]))
    assert opts["--server.headless"] == "true"
    assert opts["--server.port"] == "8611"
    assert opts["--server.address"] == "127.0.0.1"


def test_missing_streamlit_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(dc.importlib.util, "find_spec",
                        lambda name, *a: None if name == "streamlit" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r'pip install -e "\.\[dashboard\]"'):
        dc.streamlit_command()
    res = CliRunner().invoke(app, ["dashboard", "--port", "8612"])
    assert res.exit_code == 2
    assert "pip install -e" in res.output and "dashboard" in res.output


def test_bad_scenario_fails_before_starting(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["dashboard", "--scenario", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2
    assert "scenario file not found" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[site]\ninterval_minutes = 7\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["dashboard", "--scenario", str(bad)])
    assert res.exit_code == 2 and "interval_minutes" in res.output


def test_dashboard_help_lists_the_options() -> None:
    res = CliRunner().invoke(app, ["dashboard", "--help"])
    assert res.exit_code == 0
    for opt in ("--port", "--scenario", "--cache-dir", "--address"):
        assert opt in res.output


# -- chart builders -------------------------------------------------------------

alt = pytest.importorskip("altair")


@pytest.fixture()
def dashboards_pkg():
    import sys

    repo = Path(__file__).resolve().parents[2]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from dashboards import charts

    return charts


def _coverage(days: int = 2) -> pd.DataFrame:
    ts = pd.date_range("2026-11-16", periods=96 * days, freq="15min", tz=TZ)
    rows = []
    for ch, shift in (("voice", 0.0), ("chat", 1.0)):
        req = np.where((ts.hour >= 8) & (ts.hour < 20), 4.0, 0.0)
        sched = req + shift - (ts.hour == 9) * 3.0
        rows.append(pd.DataFrame({"timestamp": ts, "channel": ch, "required": req,
                                  "scheduled": sched, "gap": sched - req,
                                  "service_level": 0.8}))
    return pd.concat(rows, ignore_index=True)


def test_gap_heatmap_is_diverging_at_zero(dashboards_pkg) -> None:
    chart = dashboards_pkg.gap_heatmap(_coverage(), "voice", limit=3.0, interval_minutes=15,
                                       select=True)
    spec = chart.to_dict()
    color = spec["encoding"]["color"]
    assert color["scale"]["scheme"] == "redblue"  # low (under) red, high (over) blue
    assert color["scale"]["domainMid"] == 0
    assert color["scale"]["domain"] == [-3.0, 3.0]
    assert "agents" in color["title"]
    data = pd.DataFrame(chart.data)
    assert len(data) == 2 * 96  # one cell per day and interval
    assert data["gap"].min() == -3.0
    assert spec["params"][0]["name"] == "cell"


def test_gap_heatmap_on_the_25_hour_day(dashboards_pkg) -> None:
    # 2026-10-25: clocks go back, 02:00-02:45 happen twice -> one cell (their mean)
    ts = pd.date_range(pd.Timestamp("2026-10-25", tz=TZ), pd.Timestamp("2026-10-26", tz=TZ),
                       freq="15min", inclusive="left")
    assert len(ts) == 100
    gap = np.arange(100, dtype=float)
    cov = pd.DataFrame({"timestamp": ts, "channel": "voice", "required": 0.0,
                        "scheduled": gap, "gap": gap, "service_level": 1.0})
    data = pd.DataFrame(dashboards_pkg.gap_heatmap(cov, "voice", 5.0, 15).data)
    assert len(data) == 96
    two = data[data["time"] == "02:00"]["gap"].iloc[0]
    assert two == pytest.approx((8 + 12) / 2)  # 02:00 CEST is the 9th, 02:00 CET the 13th


def test_shift_segments_merge_runs_and_place_breaks(dashboards_pkg) -> None:
    day = pd.Timestamp("2026-11-16")
    ts = pd.date_range("2026-11-16 08:00", "2026-11-16 12:45", freq="15min", tz=TZ)
    chan = ["voice"] * 8 + ["chat"] * 8 + ["voice"] * 4
    keep = [i for i, t in enumerate(ts) if not (t.hour == 10 and t.minute < 30)]
    asg = pd.DataFrame({"timestamp": ts[keep], "agent_id": "a1",
                        "channel": [chan[i] for i in keep], "fraction": 1.0})
    # a split interval counts for the channel with the larger share
    extra = pd.DataFrame({"timestamp": [ts[0]], "agent_id": ["a1"], "channel": ["chat"],
                          "fraction": [0.0]})
    asg = pd.concat([asg, extra], ignore_index=True)
    asg.loc[0, "fraction"] = 0.6
    asg.loc[len(asg) - 1, "fraction"] = 0.4
    shifts = pd.DataFrame({"agent_id": ["a1"], "date": ["2026-11-16"],
                           "start": ["2026-11-16T08:00:00+01:00"],
                           "end": ["2026-11-16T13:00:00+01:00"], "breaks": ["10:00-10:30"]})
    seg = dashboards_pkg.shift_segments(shifts, asg, day, 15)
    work = seg[seg["kind"] == "work"].sort_values("start")
    assert list(work["channel"]) == ["voice", "chat", "voice"]
    assert list(work["start"].dt.strftime("%H:%M")) == ["08:00", "10:30", "12:00"]
    assert list(work["end"].dt.strftime("%H:%M")) == ["10:00", "12:00", "13:00"]
    brk = seg[seg["kind"] == "break"]
    assert list(brk["start"].dt.strftime("%H:%M")) == ["10:00"]
    assert list(brk["end"].dt.strftime("%H:%M")) == ["10:30"]
    chart = dashboards_pkg.gantt(seg, ["voice", "chat"]).to_dict()
    assert chart["encoding"]["color"]["scale"]["domain"] == ["voice", "chat", "break"]
