"""The sample contact center: deterministic, valid, and shaped like a real one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import wfm.sampledata as sd
from wfm.cli import app
from wfm.config import load_scenario
from wfm.io import read_history, read_roster, validate_file


@pytest.fixture(scope="module")
def bundled():
    s = load_scenario(sd.sample_scenario_path())
    return s, read_history(s.resolve(s.data.history), s), read_roster(s.resolve(s.agents.file), s)


def test_history_is_deterministic_for_a_seed():
    a = sd.generate_history(seed=5, days=14)
    b = sd.generate_history(seed=5, days=14)
    c = sd.generate_history(seed=6, days=14)
    pd.testing.assert_frame_equal(a, b)
    assert not a["volume"].equals(c["volume"])
    assert a["timestamp"].iloc[-1] == pd.Timestamp("2026-11-15 23:45", tz="Europe/Berlin")
    assert a["timestamp"].iloc[0] == pd.Timestamp("2026-11-02 00:00", tz="Europe/Berlin")


def test_generate_writes_valid_identical_files(tmp_path: Path):
    paths = []
    for name in ("a", "b"):
        res = CliRunner().invoke(app, ["sample-data", str(tmp_path / name), "--seed", "3",
                                       "--years", "0.06"])
        assert res.exit_code == 0, res.output
        paths.append(Path(res.output.strip().splitlines()[-1]))
    for f in ("scenario.toml", "roster.csv", "history.parquet", "README.md"):
        assert (paths[0].parent / f).read_bytes() == (paths[1].parent / f).read_bytes(), f
    s = load_scenario(paths[0])
    for f, kind in ((s.data.history, "history"), (s.agents.file, "roster")):
        rep = validate_file(s.resolve(f), kind, s)
        assert rep.ok and not rep.warnings, rep.to_text()
    h = read_history(s.resolve(s.data.history), s)
    assert h["timestamp"].dt.date.nunique() == 28  # 0.06 years -> 4 whole weeks


def test_csv_gz_history_format(tmp_path: Path):
    p = sd.generate(tmp_path, seed=3, years=0.02, history_format="csv.gz")
    s = load_scenario(p)
    assert s.data.history == Path("history.csv.gz")
    assert validate_file(s.resolve(s.data.history), "history", s).ok


def test_bundled_sample_validates_without_errors(bundled):
    s, h, r = bundled
    for f, kind in ((s.data.history, "history"), (s.agents.file, "roster")):
        rep = validate_file(s.resolve(f), kind, s)
        assert rep.ok and not rep.warnings, rep.to_text()
    assert (s.base_dir / "README.md").is_file()
    size = sum(p.stat().st_size for p in s.base_dir.iterdir())
    assert size < 5_000_000  # a few MB at most


def test_bundled_history_shape(bundled):
    s, h, _ = bundled
    ts = h["timestamp"]
    assert ts.min() == pd.Timestamp("2024-11-11 00:00", tz="Europe/Berlin")  # a Monday
    assert ts.max() == pd.Timestamp("2026-11-15 23:45", tz="Europe/Berlin")  # a Sunday
    assert (ts.max() - ts.min()).days >= 730
    assert set(h["channel"]) == set(s.channel_names)
    # daylight-saving days have 23 and 25 hours of rows
    per_day = h[h["channel"] == "voice"].groupby(ts.dt.date).size()
    assert per_day[dt.date(2025, 3, 30)] == 92 and per_day[dt.date(2025, 10, 26)] == 100
    assert per_day.drop([dt.date(2025, 3, 30), dt.date(2025, 10, 26), dt.date(2026, 3, 29),
                         dt.date(2026, 10, 25)]).eq(96).all()
    # AHT present exactly where contacts were handled
    assert (h["aht_seconds"].isna() == (h["volume"] == 0)).all()
    assert (h["volume"] == h["volume"].round()).all()


def wide(h: pd.DataFrame) -> pd.DataFrame:
    return h.pivot(index="timestamp", columns="channel", values="volume")


def test_channel_patterns(bundled):
    _, h, _ = bundled
    w = wide(h)
    local = w.index
    hour = local.hour + local.minute / 60
    wd = local.day_of_week
    day = pd.Index(local.date)
    import holidays

    hol = holidays.country_holidays("DE", subdiv="NW", years=[2024, 2025, 2026])
    is_hol = np.array([d in hol for d in day])
    # voice: Mon-Sat 08-20 only, closed on Sundays and public holidays
    assert w.loc[(hour < 8) | (hour >= 20) | (wd == 6) | is_hol, "voice"].sum() == 0
    assert w.loc[(hour >= 9) & (hour < 12) & (wd == 0) & ~is_hol, "voice"].mean() > 40
    # chat: daily 07-22
    assert w.loc[(hour < 7) | (hour >= 22), "chat"].sum() == 0
    assert w.loc[(wd == 6) & (hour >= 10) & (hour < 20), "chat"].mean() > 2
    # email and social arrive around the clock
    assert w.loc[(hour >= 1) & (hour < 5), "email"].sum() > 1000
    assert w.loc[(hour >= 1) & (hour < 5), "social"].sum() > 500
    # letters: business days, morning batches at 08:00, 10:30, 13:30 only
    lt = w["letters"]
    assert lt[(wd >= 5) | is_hol].sum() == 0
    times = {t.strftime("%H:%M") for t in lt[lt > 0].index}
    assert times == {"08:00", "08:15", "10:30", "10:45", "13:30", "13:45"}
    # hand-offs never exceed bot sessions, at about the scenario's rate
    assert (w["chatbot_handoff"] <= w["chatbot"]).all()
    rate = w["chatbot_handoff"].sum() / w["chatbot"].sum()
    assert rate == pytest.approx(sd.HANDOFF_RATE, abs=0.005)
    # weekly profile: Monday is the busiest voice day, Saturday far below
    daily = w["voice"].groupby(day).sum()
    by_wd = daily[~np.isin(daily.index, list(hol))].groupby(
        pd.to_datetime(daily.index[~np.isin(daily.index, list(hol))]).day_of_week).mean()
    assert by_wd[0] == by_wd.max() and by_wd[5] < 0.5 * by_wd[2]


def test_trend_seasonality_and_bursts(bundled):
    _, h, _ = bundled
    w = wide(h)
    ts = w.index
    # the same four November weeks a year apart: voice down, digital up
    def nov(year):
        sel = (ts >= pd.Timestamp(f"{year}-10-19", tz="Europe/Berlin")) & (
            ts < pd.Timestamp(f"{year}-11-16", tz="Europe/Berlin"))
        return w[sel].sum()

    a, b = nov(2025), nov(2026)
    assert b["voice"] < a["voice"]
    assert b["chat"] > a["chat"] and b["chatbot"] > 1.15 * a["chatbot"]
    share = lambda x: x["voice"] / x[["voice", "chat", "email", "social", "letters"]].sum()
    assert share(b) < share(a)
    # annual seasonality: November above the summer holidays
    month = w.groupby(ts.month).sum()
    assert month.loc[11, "voice"] > 1.1 * month.loc[8, "voice"]
    # social media is bursty: over-dispersed at a fixed hour, with incident spikes
    sm = w["social"][(ts.hour == 20) & (ts.minute == 0)]
    assert sm.var() > 2.0 * sm.mean()
    assert w["social"].max() > 6 * w["social"].mean()


def test_aht_varies_within_the_day(bundled):
    _, h, _ = bundled
    v = h[(h["channel"] == "voice") & (h["volume"] > 20)]
    by_hour = v.groupby(v["timestamp"].dt.hour)["aht_seconds"].mean()
    assert by_hour.loc[19] > 1.05 * by_hour.loc[10]
    means = h.groupby("channel").apply(
        lambda g: (g["aht_seconds"] * g["volume"]).sum() / g["volume"].sum())
    assert means["letters"] > means["voice"] > means["social"]


def test_roster_matches_the_scenario(bundled):
    s, _, r = bundled
    assert len(r) == 120 and r["agent_id"].is_unique
    staffed = {c.name for c in s.staffed_channels}
    skills = r["skills"].str.split(";")
    assert all(set(k) <= staffed for k in skills)
    # every staffed channel is served by someone; single- and multi-skill agents
    assert set().union(*skills.map(set)) == staffed
    n_skills = skills.map(len)
    assert (n_skills == 1).sum() >= 20 and (n_skills >= 3).sum() >= 20
    part_time = r["max_hours_week"] <= 30
    assert 20 <= part_time.sum() <= 60
    full = r[(r["max_hours_week"] >= 38) & (r["max_days_week"] == 5)]
    assert len(full) >= 60
    assert (r["min_hours_week"] <= r["max_hours_week"]).all()
    # limited availability and preferences exist, dates inside the horizon week
    assert r["earliest_start"].notna().sum() >= 5
    days = [d for u in r["unavailable"].dropna() for d in u.split(";") if d[:1].isdigit()]
    assert days and all("2026-11-16" <= d <= "2026-11-22" for d in days)
    assert r["unavailable"].dropna().str.contains("sat|sun|wed").any()
    assert r["preferred_start"].notna().sum() >= 5
    assert r["days_off_wished"].notna().sum() >= 5
    assert r["proficiency"].notna().sum() >= 5


def test_bundled_files_match_the_generator(bundled):
    s, _, r = bundled
    again = sd.generate_roster(sd.DEFAULT_SEED)
    assert (s.base_dir / "roster.csv").read_text().splitlines()[1].startswith(
        again.iloc[0]["agent_id"])
    assert len(again) == len(r)
    text = sd.scenario_toml("history.parquet", "roster.csv", dt.date(2026, 11, 16))
    assert (s.base_dir / "scenario.toml").read_text() == text


@pytest.mark.slow
def test_bundled_history_is_the_default_seed(bundled):
    _, h, _ = bundled
    fresh = sd.generate_history(seed=sd.DEFAULT_SEED)
    pd.testing.assert_frame_equal(h, fresh, check_dtype=False)


def test_sample_scenario_path_falls_back_to_a_cache(tmp_path: Path, monkeypatch):
    calls = []
    real = sd.generate

    def small(out_dir, seed=sd.DEFAULT_SEED, **kw):
        calls.append(seed)
        return real(out_dir, seed=seed, years=0.02)

    monkeypatch.setattr(sd, "_repo_sample", lambda: tmp_path / "nowhere" / "scenario.toml")
    monkeypatch.setattr(sd, "generate", small)
    monkeypatch.setenv("WFM_SAMPLE_DIR", str(tmp_path / "cache"))
    p = sd.sample_scenario_path()
    assert p == tmp_path / "cache" / "scenario.toml" and p.is_file()
    assert sd.sample_scenario_path() == p
    assert calls == [sd.DEFAULT_SEED]  # generated once, then reused
    load_scenario(p)


def test_bundled_path_in_a_checkout():
    p = sd.sample_scenario_path()
    assert p == Path(sd.__file__).resolve().parent.parent / "sample_data" / "scenario.toml"
