"""The synthetic multi-site group: layout, validity, determinism, local patterns, CLI."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import wfm.samplegroup as sg
from wfm.cli import app
from wfm.config import Scenario, scenario_from_dict
from wfm.errors import ConfigError
from wfm.io import read_roster, validate_frame, validate_file

SEED = 11


def merge(base: dict, over: dict) -> dict:
    """Tables merge key by key, everything else (lists too) replaces."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            else v
    return out


def site_scenarios(path: Path) -> dict[str, Scenario]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults = {k: v for k, v in data.items() if k not in ("group", "sites")}
    out = {}
    for entry in data["sites"]:
        s = scenario_from_dict(merge(defaults, entry), source=str(path),
                               base_dir=path.parent)
        assert s.site.name not in out
        out[s.site.name] = s
    return out


def site_history(folder: Path, s: Scenario) -> pd.DataFrame:
    """One site's slice, in the history contract (local time of the site)."""
    h = pd.read_parquet(folder / "history", filters=[("site", "==", s.site.name)])
    assert set(h["site"].astype(str)) == {s.site.name}
    h = h.drop(columns="site")
    h["channel"] = h["channel"].astype(str)
    h["timestamp"] = h["timestamp"].dt.tz_convert(s.site.timezone)
    return h.sort_values(["timestamp", "channel"], ignore_index=True)


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    out = tmp_path_factory.mktemp("g") / "group"
    path = sg.generate_group(out, sites=3, queues_per_site=7, years=0.1, seed=SEED)
    return path, site_scenarios(path)


def test_layout_and_partition_filters(group):
    path, sites = group
    root = path.parent
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "history", "rosters",
                                                      "scenario.toml"]
    assert list(sites) == ["site01", "site02", "site03"]
    for name, s in sites.items():
        assert (root / "rosters" / f"{name}.csv").is_file()
        parts = sorted(p.name for p in (root / "history" / f"site={name}").iterdir())
        assert parts == sorted(f"channel={c}" for c in s.channel_names)
        for c in s.channel_names:
            files = list((root / "history" / f"site={name}" / f"channel={c}").iterdir())
            assert [f.name for f in files] == ["part-0.parquet"]  # no temporary left
    s = sites["site02"]
    want = s.channel_names[:2]
    h = pd.read_parquet(root / "history",
                        filters=[("site", "==", "site02"), ("channel", "in", want)])
    assert set(h["site"].astype(str)) == {"site02"}
    assert set(h["channel"].astype(str)) == set(want)
    assert str(h["timestamp"].dt.tz) == "UTC"
    assert h["volume"].dtype == np.float64 and (h["volume"] >= 0).all()
    assert (h["volume"] == h["volume"].round()).all()
    assert (h["aht_seconds"].isna() == (h["volume"] == 0)).all()
    # 0.1 years -> 6 whole weeks of 15-minute intervals per channel (Tampa: DST ends
    # on 2026-11-01, one 25-hour day)
    assert len(h) == 2 * (42 * 96 + 4)
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name, s in sites.items():
        assert f"`{name}`" in readme and s.site.timezone in readme


def test_every_site_is_a_valid_scenario_with_a_realistic_queue_mix(group):
    path, sites = group
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["group"]["name"].startswith("Synthetic group (3 sites")
    assert data["data"]["history"] == "history"
    zones = {s.site.timezone for s in sites.values()}
    assert zones == {"Europe/Amsterdam", "America/New_York", "Asia/Manila"}
    for s in sites.values():
        assert s.site.country in holidays.list_supported_countries()
        assert s.site.interval_minutes == 15
        assert s.horizon.start == dt.date(2026, 11, 16)
        assert s.resolve(s.agents.file) == path.parent / "rosters" / f"{s.site.name}.csv"
        kinds = [c.kind for c in s.channels]
        assert len(s.channels) == 7
        assert {"realtime", "concurrent", "deferred"} <= set(kinds)
        lang = s.channel_names[0].split("_")[1]
        bot = s.channel(f"chatbot_{lang}")
        handoff = s.channel(f"chatbot_handoff_{lang}")
        assert not bot.staffed and handoff.derived_from == bot.name
        assert 0.1 <= handoff.derived_rate <= 0.2
        for c in s.channels:
            if c.name.startswith("chat_"):
                assert c.kind == "concurrent" and c.concurrency in (2, 3)
            if c.kind == "deferred":
                assert c.response_time_hours is not None
            if not c.name.startswith("chatbot"):
                base, language, product = c.name.split("_")
                assert base in ("voice", "chat", "email", "social", "letters")
    # some voice queues model customer patience (Erlang A)
    voice = [c for s in sites.values() for c in s.channels if c.kind == "realtime"]
    assert any(c.patience_seconds for c in voice)


def test_history_and_rosters_validate_per_site(group):
    path, sites = group
    for s in sites.values():
        h = site_history(path.parent, s)
        rep = validate_frame(h, "history", s, source=s.site.name)
        assert rep.ok and not rep.warnings, rep.to_text()
        assert set(h["channel"]) == set(s.channel_names)
        rep = validate_file(s.resolve(s.agents.file), "roster", s)
        assert rep.ok and not rep.warnings, rep.to_text()
        local = h["timestamp"]
        assert local.min() == pd.Timestamp("2026-10-05", tz=s.site.timezone)
        assert local.max() == pd.Timestamp("2026-11-15 23:45", tz=s.site.timezone)


def test_patterns_in_local_time(group):
    path, sites = group
    s = sites["site02"]  # Tampa, America/New_York, US holidays
    w = site_history(path.parent, s).pivot(index="timestamp", columns="channel",
                                           values="volume")
    hour = w.index.hour + w.index.minute / 60
    voice = [c for c in s.channel_names if c.startswith("voice_")]
    # voice: local opening hours (08-20 shifted by at most an hour), closed on Sundays
    # and on US public holidays (Columbus Day, Veterans Day)
    assert w.loc[(hour < 7) | (hour >= 21), voice].sum().sum() == 0
    assert w.loc[w.index.day_of_week == 6, voice].sum().sum() == 0
    for day in ("2026-10-12", "2026-11-11"):
        assert w.loc[w.index.normalize() == pd.Timestamp(day, tz=s.site.timezone),
                     voice].sum().sum() == 0
    assert w.loc[(hour >= 10) & (hour < 12) & (w.index.day_of_week == 0),
                 voice].sum(axis=1).mean() > 5
    # weekly profile: Monday busier than Saturday
    daily = w[voice].sum(axis=1).groupby(w.index.day_of_week).mean()
    assert daily[0] > 1.5 * daily[5]
    # hand-offs: Binomial(bot sessions, rate)
    bot, handoff = "chatbot_en", "chatbot_handoff_en"
    assert (w[handoff] <= w[bot]).all()
    rate = w[handoff].sum() / w[bot].sum()
    assert rate == pytest.approx(s.channel(handoff).derived_rate, abs=0.01)
    # e-mail arrives around the clock
    email = [c for c in s.channel_names if c.startswith("email_")]
    assert w.loc[(hour >= 1) & (hour < 5), email].sum().sum() > 0


def test_opening_hours_differ_in_utc_between_zones(group):
    path, sites = group

    def busy_hour(name: str, utc: bool) -> float:
        s = sites[name]
        voice = [c for c in s.channel_names if c.startswith("voice_")][0]
        h = pd.read_parquet(path.parent / "history",
                            filters=[("site", "==", name), ("channel", "==", voice)])
        ts = h.loc[h["volume"] > 0, "timestamp"]
        if not utc:
            ts = ts.dt.tz_convert(s.site.timezone)
        # volume-weighted centre of the day's calls (circular mean of the hour of day)
        ang = 2 * np.pi * (ts.dt.hour + ts.dt.minute / 60) / 24
        wgt = h.loc[h["volume"] > 0, "volume"]
        return float(np.angle(np.sum(wgt * np.exp(1j * ang))) % (2 * np.pi) * 24 / (2 * np.pi))

    local = {n: busy_hour(n, utc=False) for n in sites}
    utc = {n: busy_hour(n, utc=True) for n in sites}
    # the same local business day (around 13:00 local, +/- the per-queue shift) ...
    assert all(11.5 < v < 15.5 for v in local.values()), local
    # ... falls 13 hours apart in UTC between Manila (UTC+8) and Tampa (UTC-5/-4)
    diff = (utc["site02"] - utc["site03"]) % 24
    assert 10.0 < diff < 16.0, utc
    # ... and 6 hours apart between Amsterdam (UTC+1) and Tampa (UTC-5)
    assert abs((utc["site02"] - utc["site01"]) % 24 - 6.0) < 3.0, utc


def test_rosters_are_sized_to_the_need_and_cover_every_queue(group):
    path, sites = group
    plan = sg.plan_group(3, 7, SEED)
    for i, (spec, queues) in enumerate(plan):
        s = sites[spec.name]
        r = read_roster(s.resolve(s.agents.file), s)
        grid, vol, aht = sg.simulate_site(spec, queues, 42, 15, SEED, i)
        need = sg._weekly_hours_needed(queues, grid, vol, aht, 15)
        total = sum(need.values())
        mean_hours = ((r["min_hours_week"] + r["max_hours_week"]) / 2).sum()
        # just enough contract hours for the need plus the shift-granularity slack
        assert sg.ROSTER_SLACK * total <= mean_hours <= sg.ROSTER_SLACK * total + 40.0
        skills = r["skills"].str.split(";")
        for c in s.staffed_channels:
            assert skills.map(lambda x, c=c.name: c in x).sum() >= 2, c.name
        assert not any(c.name.startswith("chatbot_") and not c.name.startswith(
            "chatbot_handoff") for x in skills for c in s.channels if c.name in x)
        # skill groups stay within one language
        langs = skills.map(lambda x: {n.split("_")[-1] if n.startswith("chatbot_handoff")
                                      else n.split("_")[1] for n in x})
        assert (langs.map(len) == 1).mean() > 0.9
        assert r["agent_id"].str.startswith(f"{spec.name}-A").all()


def test_tiny_sites_with_agents_per_site(tmp_path: Path):
    path = sg.generate_group(tmp_path / "g", sites=2, queues_per_site=5, years=0.05,
                             agents_per_site=3, seed=SEED)
    for s in site_scenarios(path).values():
        r = read_roster(s.resolve(s.agents.file), s)
        assert len(r) == 3
        covered = {c for x in r["skills"] for c in x.split(";")}
        assert covered == set(s.channel_names)  # Q=5: no chatbot, every queue staffed


@pytest.mark.parametrize("q, kinds", [(1, ["realtime"]), (2, ["realtime", "concurrent"]),
                                      (3, ["realtime", "concurrent", "deferred"])])
def test_small_queue_counts(q, kinds):
    (_, queues), = sg.plan_group(1, q, SEED)
    assert [x.kind for x in queues] == kinds
    assert all(x.staffed and x.derived_from is None for x in queues)


def test_determinism_and_independent_site_streams(tmp_path: Path):
    a = sg.generate_group(tmp_path / "a", sites=2, queues_per_site=3, years=0.04, seed=5)
    b = sg.generate_group(tmp_path / "b", sites=2, queues_per_site=3, years=0.04, seed=5)
    c = sg.generate_group(tmp_path / "c", sites=2, queues_per_site=3, years=0.04, seed=6)
    for f in ("scenario.toml", "README.md", "rosters/site01.csv", "rosters/site02.csv"):
        assert (a.parent / f).read_bytes() == (b.parent / f).read_bytes(), f
    ha = pd.read_parquet(a.parent / "history")
    pd.testing.assert_frame_equal(ha, pd.read_parquet(b.parent / "history"))
    hc = pd.read_parquet(c.parent / "history")
    assert not ha["volume"].equals(hc["volume"])
    assert (a.parent / "rosters/site01.csv").read_bytes() != \
        (c.parent / "rosters/site01.csv").read_bytes()
    # site01 does not depend on how many sites are generated
    one = sg.generate_group(tmp_path / "one", sites=1, queues_per_site=3, years=0.04, seed=5)
    h1 = pd.read_parquet(one.parent / "history")
    pd.testing.assert_frame_equal(
        h1.drop(columns="site"),
        ha[ha["site"] == "site01"].drop(columns="site").reset_index(drop=True),
        check_categorical=False)


def test_hourly_grid_and_half_hour_time_zone(tmp_path: Path):
    # site09 is Bengaluru (UTC+05:30): hourly intervals start at :30 in UTC
    path = sg.generate_group(tmp_path / "g", sites=9, queues_per_site=1, years=0.02,
                             interval_minutes=60, agents_per_site=2, seed=SEED)
    s = site_scenarios(path)["site09"]
    assert s.site.timezone == "Asia/Kolkata" and s.site.interval_minutes == 60
    raw = pd.read_parquet(path.parent / "history", filters=[("site", "==", "site09")])
    assert set(raw["timestamp"].dt.minute) == {30}
    h = site_history(path.parent, s)
    assert set(h["timestamp"].dt.minute) == {0} and len(h) == 14 * 24  # 2 whole weeks
    rep = validate_frame(h, "history", s)
    assert rep.ok and not rep.warnings, rep.to_text()


def test_failed_run_leaves_nothing(tmp_path: Path, monkeypatch):
    calls = []
    real = sg.simulate_site

    def failing(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(sg, "simulate_site", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        sg.generate_group(tmp_path / "g", sites=2, queues_per_site=2, years=0.02)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a hidden partial one


def test_output_folder_rules(tmp_path: Path):
    out = tmp_path / "g"
    out.mkdir()  # an empty folder is fine
    sg.generate_group(out, sites=1, queues_per_site=1, years=0.02, seed=1)
    # an earlier group is replaced, with nothing of it left over
    (out / "history" / "site=site01" / "channel=stale").mkdir()
    sg.generate_group(out, sites=1, queues_per_site=2, years=0.02, seed=1)
    assert not (out / "history" / "site=site01" / "channel=stale").exists()
    assert len(list((out / "history" / "site=site01").iterdir())) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]
    # a folder with other files is never touched
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not empty"):
        sg.generate_group(other, sites=1, queues_per_site=1, years=0.02)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("kw, match", [
    ({"sites": 0}, "sites must be between 1 and 200"),
    ({"sites": 201}, "sites must be between 1 and 200"),
    ({"queues_per_site": 51}, "queues_per_site must be between 1 and 50"),
    ({"interval_minutes": 20}, "interval_minutes must be one of"),
    ({"years": 0}, "years must be > 0"),
    ({"agents_per_site": 0}, "agents_per_site must be between"),
    ({"seed": -1}, "seed must be >= 0"),
])
def test_bad_arguments(tmp_path: Path, kw, match):
    with pytest.raises(ConfigError, match=match):
        sg.generate_group(tmp_path / "g", **{"sites": 1, "queues_per_site": 1,
                                             "years": 0.02, **kw})
    assert not (tmp_path / "g").exists()


def test_cli_group(tmp_path: Path):
    res = CliRunner().invoke(app, ["sample-data", str(tmp_path / "g"), "--sites", "2",
                                   "--queues-per-site", "3", "--years", "0.03",
                                   "--interval", "30", "--agents-per-site", "4",
                                   "--seed", "9"])
    assert res.exit_code == 0, res.output
    path = Path(res.stdout.strip().splitlines()[-1])
    assert path == tmp_path / "g" / "scenario.toml"
    assert "site 1/2 site01" in res.stderr and "site 2/2 site02" in res.stderr
    sites = site_scenarios(path)
    assert [s.site.interval_minutes for s in sites.values()] == [30, 30]
    assert all(len(read_roster(s.resolve(s.agents.file), s)) == 4 for s in sites.values())
    again = sg.generate_group(tmp_path / "h", sites=2, queues_per_site=3, years=0.03,
                              interval_minutes=30, agents_per_site=4, seed=9)
    assert path.read_bytes() == again.read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--sites", "0"], "--sites"),
    (["--sites", "201"], "--sites"),
    (["--sites", "2", "--queues-per-site", "0"], "--queues-per-site"),
    (["--sites", "2", "--interval", "20"], "--interval must be 15, 30 or 60; got 20"),
    (["--sites", "2", "--format", "csv"], "partitioned Parquet"),
    (["--sites", "2", "--agents-per-site", "0"], "--agents-per-site"),
    (["--queues-per-site", "3"], "--queues-per-site: only for a multi-site group"),
    (["--interval", "30", "--agents-per-site", "3"],
     "--interval, --agents-per-site: only for a multi-site group"),
])
def test_cli_bad_options(tmp_path: Path, args, message):
    res = CliRunner().invoke(app, ["sample-data", str(tmp_path / "g"), *args])
    assert res.exit_code == 2
    assert message in res.output
    assert not (tmp_path / "g").exists()


def test_cli_refuses_a_folder_with_other_files(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("keep me")
    res = CliRunner().invoke(app, ["sample-data", str(tmp_path), "--sites", "1",
                                   "--queues-per-site", "1", "--years", "0.02"])
    assert res.exit_code == 2
    assert "folder is not empty" in res.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.slow
def test_full_size_group_is_fast(tmp_path: Path):
    """20 sites x 15 queues x 2 years of 15-minute intervals (~21 M rows) in well under 2 min."""
    import time

    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    path = sg.generate_group(tmp_path / "g", sites=20, queues_per_site=15, years=2.0)
    elapsed = time.perf_counter() - t0
    files = sorted((path.parent / "history").glob("site=*/channel=*/part-0.parquet"))
    assert len(files) == 300
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    assert rows == 300 * 735 * 96  # 105 weeks; the DST days of each zone cancel out
    assert elapsed < 60.0, f"{elapsed:.1f} s"
