"""Multi-site group plans: scenario merge, per-series tasks, executors give equal results,
failures are reported, single-file and partitioned history agree, CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from wfm import io as wio
from wfm.cli import app
from wfm.config import Scenario, group_from_dict, load_group
from wfm.errors import ConfigError
from wfm.forecast import run_forecast
from wfm.group import (
    ForecastTask,
    HistorySlice,
    channel_components,
    forecast_channels,
    forecast_series,
    run_group_plan,
)
from wfm.parallel import Executor
from wfm.samplegroup import generate_group

FRAMES = ("forecast", "backtest", "selection", "requirements", "shifts", "assignments",
          "coverage", "kpis")


# -- scenario ---------------------------------------------------------------------
def test_sites_merge_over_shared_defaults():
    g = group_from_dict({
        "group": {"name": "North"},
        "staffing": {"shrinkage": 0.25, "max_occupancy": 0.9},
        "channels": [{"name": "voice"}],
        "sites": [
            {"site": {"name": "ams", "timezone": "Europe/Amsterdam"}},
            {"site": {"name": "nyc", "timezone": "America/New_York"},
             "staffing": {"max_occupancy": 0.8},
             "channels": [{"name": "chat", "kind": "concurrent", "concurrency": 2}]},
        ]})
    assert g.multi_site and g.name == "North" and g.site_names == ["ams", "nyc"]
    ams, nyc = g.site("ams"), g.site("nyc")
    assert ams.channel_names == ["voice"] and nyc.channel_names == ["chat"]  # lists replace
    assert nyc.staffing.shrinkage == 0.25 and nyc.staffing.max_occupancy == 0.8  # tables merge
    assert ams.site.timezone == "Europe/Amsterdam" and ams.staffing.max_occupancy == 0.9
    with pytest.raises(ConfigError, match="unknown site 'lon'; expected one of"):
        g.site("lon")


def test_single_site_scenario_is_a_group_of_one():
    g = group_from_dict({"site": {"name": "Köln"}, "channels": [{"name": "voice"}]})
    assert not g.multi_site and g.site_names == ["Köln"]


@pytest.mark.parametrize("sites, message", [
    ([{"channels": [{"name": "voice"}]}], "sites\\[0\\]: field 'site.name' is required"),
    ([{"site": {"name": "a"}}, {"site": {"name": "a"}}], "duplicate site 'a'"),
    ([{"site": {"name": "a/b"}}], "may only hold letters"),
    ([{"site": {"name": "a"}, "channels": [{"name": "v", "kind": "phone"}]}],
     "(?s)sites\\[0\\] 'a'.*field 'channels\\['v'\\].kind'"),
    ([], "non-empty list"),
])
def test_bad_site_entries_name_the_file_site_and_field(sites, message):
    with pytest.raises(ConfigError, match=message):
        group_from_dict({"sites": sites}, source="group.toml")


def test_site_entry_can_come_from_its_own_file(tmp_path):
    (tmp_path / "paris.toml").write_text(
        '[site]\nname = "paris"\ntimezone = "Europe/Paris"\n'
        '[[channels]]\nname = "voice"\n[staffing]\nshrinkage = 0.4\n', encoding="utf-8")
    (tmp_path / "group.toml").write_text(
        '[staffing]\nmax_occupancy = 0.8\n'
        '[[sites]]\nfile = "paris.toml"\n[sites.staffing]\nshrinkage = 0.35\n',
        encoding="utf-8")
    s = load_group(tmp_path / "group.toml").site("paris")
    assert s.site.timezone == "Europe/Paris"
    assert (s.staffing.shrinkage, s.staffing.max_occupancy) == (0.35, 0.8)
    (tmp_path / "group.toml").write_text('[[sites]]\nfile = "rome.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="rome.toml: site scenario file not found"):
        load_group(tmp_path / "group.toml")


def test_derived_channels_travel_with_their_source():
    s = Scenario.model_validate({"channels": [
        {"name": "chat"}, {"name": "bot", "staffed": False},
        {"name": "handoff", "derived_from": "bot", "derived_rate": 0.1},
        {"name": "email", "kind": "deferred"}]})
    assert channel_components(s) == [["chat"], ["bot", "handoff"], ["email"]]


# -- data ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_group(tmp_path_factory) -> Path:
    """Three sites in three time zones, six queues each (with a chatbot hand-off)."""
    out = tmp_path_factory.mktemp("group") / "g"
    return generate_group(out, sites=3, queues_per_site=6, years=0.15, interval_minutes=60,
                          agents_per_site=8, seed=5)


@pytest.fixture(scope="module")
def twenty_sites(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("group20") / "g"
    return generate_group(out, sites=20, queues_per_site=2, years=0.12, interval_minutes=60,
                          agents_per_site=4, seed=9)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("site", "channel", "timestamp", "model", "origin", "agent_id",
                        "start") if c in df]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


def test_series_tasks_reproduce_the_whole_site_forecast(small_group):
    group = load_group(small_group)
    name, sc = next(iter(group.sites.items()))
    path = sc.resolve(sc.data.history)
    tasks = [ForecastTask(sc, HistorySlice(name, comp, path=path), 7)
             for comp in channel_components(sc)]
    assert any(len(t.history.channels) == 2 for t in tasks)  # chatbot with its hand-off
    parts = [forecast_series(t)[0] for t in tasks]
    # the same site forecast in one call, from the whole site's slice
    raw = HistorySlice(name, sc.channel_names, path=path).read()
    frame, report = wio.check_frame(raw, "history", sc)
    assert report.ok, report.to_text()
    whole = run_forecast(frame, sc, horizon_days=7)
    for attr in ("forecast", "backtest", "selection"):
        got = pd.concat([getattr(p, attr) for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(_sorted(got), _sorted(getattr(whole, attr)))


def test_slice_reads_only_its_partition(small_group):
    sc = next(iter(load_group(small_group).sites.values()))
    sl = HistorySlice(sc.site.name, sc.channel_names[:1], path=sc.resolve(sc.data.history))
    df = sl.read()
    assert set(df["channel"]) == {sc.channel_names[0]} and "site" not in df
    assert len(df) > 24 * 7 * 4


def test_forecast_channels_on_a_process_pool_equals_serial(small_group):
    sc = next(iter(load_group(small_group).sites.values()))
    raw = HistorySlice(sc.site.name, sc.channel_names, path=sc.resolve(sc.data.history)).read()
    frame, _ = wio.check_frame(raw, "history", sc)
    serial = forecast_channels(frame, sc, horizon_days=7, backtest=False)
    pool = forecast_channels(frame, sc, horizon_days=7, backtest=False,
                             executor=Executor("local", workers=2))
    for attr in ("forecast", "selection"):
        pd.testing.assert_frame_equal(getattr(serial, attr), getattr(pool, attr))


# -- group plans --------------------------------------------------------------------------
@pytest.mark.slow
def test_twenty_site_plan_on_dask_equals_serial(twenty_sites, tmp_path):
    pytest.importorskip("distributed")
    group = load_group(twenty_sites)
    assert len(group.sites) == 20
    serial = run_group_plan(group, tmp_path / "serial", time_limit=60, site_folders=False)
    dask = run_group_plan(group, tmp_path / "dask", time_limit=60,
                          executor=Executor("dask", workers=2))
    assert serial.failures.empty and dask.failures.empty
    assert len(serial.sites) == 20 and set(serial.kpis["site"]) == set(group.sites)
    for attr in FRAMES:
        a, b = getattr(serial, attr), getattr(dask, attr)
        assert not a.empty, attr
        pd.testing.assert_frame_equal(a, b, obj=attr)
    for name in ("forecast.csv", "shifts.csv", "coverage.csv", "kpis.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "dask" / name) \
            .read_bytes(), name
    # every site also gets a complete plan folder of its own
    site_dir = tmp_path / "dask" / "sites" / "site07"
    assert {"forecast.csv", "shifts.csv", "coverage.csv", "summary.md",
            "gap_heatmap.png"} <= {p.name for p in site_dir.iterdir()}
    summary = (tmp_path / "dask" / "summary.md").read_text(encoding="utf-8")
    assert "20 of 20 sites planned on Dask LocalCluster (2 workers)" in summary


def _break_one_series(group_dir: Path, site: str, channel: str) -> None:
    part = group_dir / "history" / f"site={site}" / f"channel={channel}"
    f = next(part.glob("*.parquet"))
    df = pd.read_parquet(f)
    df.loc[df.index[10], "volume"] = -5.0
    df.to_parquet(f)


@pytest.mark.slow
def test_a_failing_series_is_reported_and_the_rest_completes(small_group, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_group.parent, broken)
    group = load_group(broken / "scenario.toml")
    site = group.site_names[1]
    bad = group.sites[site].staffed_channels[0].name
    _break_one_series(broken, site, bad)
    res = run_group_plan(group, tmp_path / "out", time_limit=30, backtest=False)
    assert len(res.failures) == 1
    f = res.failures.iloc[0]
    assert (f["stage"], f["site"], f["channels"]) == ("forecast", site, bad)
    assert "volume" in f["message"] and "row" in f["message"]
    # every site is planned; the broken site without the broken queue
    assert set(res.kpis["site"]) == set(group.site_names)
    planned = set(res.requirements.loc[res.requirements["site"] == site, "channel"])
    assert bad not in planned and planned
    assert bad in set(res.requirements.loc[res.requirements["site"] != site, "channel"]) \
        or bad not in group.sites[group.site_names[0]].channel_names
    text = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "## Failures" in text and bad in text
    assert pd.read_csv(tmp_path / "out" / "failures.csv")["site"].tolist() == [site]
    # the CLI says so and exits 4 (partial plan), the output is still written
    r = CliRunner().invoke(app, ["plan", "--scenario", str(broken / "scenario.toml"),
                                 "--out", str(tmp_path / "cli"), "--no-backtest",
                                 "--time-limit", "30"])
    assert r.exit_code == 4, r.output
    assert f"forecast {site}/{bad}" in r.output
    assert (tmp_path / "cli" / "sites" / site / "shifts.csv").is_file()


@pytest.mark.slow
def test_single_file_history_with_site_column_gives_the_same_plan(small_group, tmp_path):
    group = load_group(small_group)
    parts = []
    for name, sc in group.sites.items():
        raw = HistorySlice(name, sc.channel_names, path=sc.resolve(sc.data.history)).read()
        parts.append(raw.assign(site=name))
    one = pd.concat(parts, ignore_index=True)
    a = run_group_plan(group, None, backtest=False, time_limit=30)
    b = run_group_plan(group, None, history=one, backtest=False, time_limit=30)
    for attr in ("forecast", "requirements", "shifts", "kpis"):
        pd.testing.assert_frame_equal(getattr(a, attr), getattr(b, attr), obj=attr)
    with pytest.raises(ConfigError, match="unknown sites \\['mars'\\]"):
        run_group_plan(group, None, history=one.assign(site="mars"), backtest=False)
    with pytest.raises(ConfigError, match="needs a 'site' column"):
        run_group_plan(group, None, history=one.drop(columns="site"), backtest=False)


def test_group_options_that_only_fit_one_site_are_refused(small_group, tmp_path):
    r = CliRunner().invoke(app, ["plan", "--scenario", str(small_group), "--out",
                                 str(tmp_path / "o"), "--volume-factor", "1.2"])
    assert r.exit_code == 2 and "single-site" in r.output
    r = CliRunner().invoke(app, ["plan", "--scenario", str(small_group), "--out",
                                 str(tmp_path / "o"), "--executor", "spark"])
    assert r.exit_code == 2 and "expected one of local, dask, serial" in r.output
    assert not (tmp_path / "o").exists()


def test_validate_checks_every_site_and_names_the_bad_one(small_group, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_group.parent, broken)
    group = load_group(broken / "scenario.toml")
    ok = CliRunner().invoke(app, ["validate", str(broken / "history"), "--scenario",
                                  str(broken / "scenario.toml")])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("ok, no problems") == 3
    site = group.site_names[2]
    _break_one_series(broken, site, group.sites[site].staffed_channels[0].name)
    bad = CliRunner().invoke(app, ["validate", str(broken / "history"), "--scenario",
                                   str(broken / "scenario.toml")])
    assert bad.exit_code == 1
    assert f"[site={site}]" in bad.output and "volume" in bad.output
    assert "2 of 3 sites without errors" in bad.output


def test_single_site_commands_explain_a_multi_site_scenario(small_group, tmp_path):
    from wfm.config import load_scenario

    with pytest.raises(ConfigError, match="a multi-site scenario \\(3 \\[\\[sites\\]\\]"):
        load_scenario(small_group)


def test_horizon_starts_the_day_after_each_sites_last_local_day(small_group):
    from wfm.group import _site_last_timestamps

    group = load_group(small_group)
    path = next(iter(group.sites.values())).resolve("history")
    last = _site_last_timestamps(path, group)
    for name, sc in group.sites.items():
        raw = HistorySlice(name, sc.channel_names, path=path).read()
        want = pd.Timestamp(raw["timestamp"].max()).tz_convert(sc.site.timezone)
        assert last[name] == want and str(last[name].tz) == sc.site.timezone
        # the sample's weeks end on Sunday 2026-11-15 in every site's own time
        assert last[name].date().isoformat() == "2026-11-15"


def test_wfm_forecast_on_a_group_writes_every_site_with_a_site_column(small_group, tmp_path):
    out = tmp_path / "fc.csv"
    r = CliRunner().invoke(app, ["forecast", "--scenario", str(small_group), "--out",
                                 str(out), "--no-backtest", "--horizon-days", "2"])
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out)
    group = load_group(small_group)
    assert list(fc.columns[:3]) == ["site", "timestamp", "channel"]
    for name, sc in group.sites.items():
        mine = fc[fc["site"] == name]
        assert set(mine["channel"]) == set(sc.channel_names)
        # two local days per channel, in the site's own offset (hourly sites)
        assert len(mine) == 2 * 24 * len(sc.channel_names)
        first = pd.Timestamp(mine["timestamp"].iloc[0])
        assert first.tz_convert(sc.site.timezone).strftime("%Y-%m-%d %H:%M") == \
            "2026-11-16 00:00"


@pytest.mark.slow
def test_a_running_dask_cluster_is_used_by_its_address(small_group):
    distributed = pytest.importorskip("distributed")
    from wfm.group import forecast_group

    group = load_group(small_group)
    local = forecast_group(group, backtest=False, horizon_days=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = forecast_group(group, backtest=False, horizon_days=2,
                                executor=Executor("dask", address=cluster.scheduler_address))
        # the cluster outlives the run: wfm closes only what it started
        assert cluster.scheduler_address.startswith("tcp://")
        assert len(cluster.workers) == 2
    assert remote.failures.empty and remote.tasks == local.tasks
    pd.testing.assert_frame_equal(local.forecast, remote.forecast)


def test_one_history_file_per_site_without_a_site_column(small_group, tmp_path):
    """Per-site files (CSV with naive local times, Parquet) work like the shared dataset,
    and the horizon then starts the day after each site's last local day."""
    import tomllib

    from wfm.group import forecast_group

    data = tomllib.loads(small_group.read_text(encoding="utf-8"))
    data["horizon"].pop("start")
    group = load_group(small_group)
    for i, (name, sc) in enumerate(group.sites.items()):
        raw = HistorySlice(name, sc.channel_names, path=sc.resolve(sc.data.history)).read()
        local = pd.DatetimeIndex(raw["timestamp"]).tz_convert(sc.site.timezone)
        if i % 2 == 0:  # CSV with naive local wall-clock times (a typical ACD export)
            f = tmp_path / f"{name}.csv"
            raw.assign(timestamp=local.strftime("%Y-%m-%d %H:%M:%S")).to_csv(f, index=False)
        else:
            f = tmp_path / f"{name}.parquet"
            raw.to_parquet(f)
        entry = next(e for e in data["sites"] if e["site"]["name"] == name)
        entry["data"] = {"history": str(f)}
    per_site = group_from_dict(data, source="per_site.toml", base_dir=small_group.parent)
    a = forecast_group(group, backtest=False, horizon_days=2)
    b = forecast_group(per_site, backtest=False, horizon_days=2)
    assert b.failures.empty, b.failures.to_dict("records")
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    # two sites sharing one file without a site column cannot be told apart
    shared = next(iter(tmp_path.glob("*.parquet")))
    for e in data["sites"]:
        e["data"] = {"history": str(shared)}
    with pytest.raises(ConfigError, match="history of 3 sites .* needs a 'site' column"):
        forecast_group(group_from_dict(data, base_dir=small_group.parent), backtest=False)
