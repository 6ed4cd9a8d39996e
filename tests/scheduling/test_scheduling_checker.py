"""The independent checker catches seeded violations; templates on DST days; the CLI."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from wfm.config import Scenario
from wfm.scheduling import schedule
from wfm.scheduling.checker import check_schedule
from wfm.scheduling.templates import expand_shifts

MON = dt.date(2026, 11, 16)
TZ = "Europe/Berlin"
BRK = {"minutes": 30, "paid": False, "earliest_after_start_minutes": 180,
       "latest_after_start_minutes": 300, "min_before_end_minutes": 60}


def _scenario() -> Scenario:
    return Scenario.model_validate({
        "site": {"timezone": TZ, "interval_minutes": 15},
        "channels": [{"name": "voice", "priority": 3.0},
                     {"name": "chat", "kind": "concurrent", "concurrency": 2}],
        "shift_templates": [{"name": "day", "start_earliest": "08:00",
                             "start_latest": "10:00", "start_step_minutes": 60,
                             "lengths_hours": [8.5], "breaks": [BRK]}],
    })


def _roster() -> pd.DataFrame:
    return pd.DataFrame([
        {"agent_id": "v1", "skills": "voice", "min_hours_week": 0, "max_hours_week": 40,
         "max_days_week": 5},
        {"agent_id": "c1", "skills": "chat", "min_hours_week": 0, "max_hours_week": 40,
         "max_days_week": 5, "unavailable": "wed"},
    ])


@pytest.fixture(scope="module")
def solved():
    from wfm.timegrid import interval_grid

    scen = _scenario()
    grid = interval_grid(MON, 2, TZ, 15)
    hours = grid.hour + grid.minute / 60
    rows = []
    for ch, x in (("voice", 1.0), ("chat", 1.0)):
        rows.append(pd.DataFrame({"timestamp": grid, "channel": ch, "volume": 0.0,
                                  "aht_seconds": 300.0,
                                  "agents_required": ((hours >= 8) & (hours < 18)) * x}))
    req = pd.concat(rows, ignore_index=True)
    ros = _roster()
    res = schedule(req, scen, ros, time_limit=30)
    rep = check_schedule(res.shifts, res.assignments, ros, scen, horizon_start=MON,
                         horizon_days=2)
    assert rep.ok, rep.to_text()
    assert len(res.shifts) == 4
    return scen, ros, res


def _check(scen, ros, shifts, asg):
    return check_schedule(shifts, asg, ros, scen, horizon_start=MON, horizon_days=2).rules()


def test_skill_violation(solved):
    scen, ros, res = solved
    asg = res.assignments.copy()
    i = asg.index[asg["agent_id"] == "c1"][0]
    asg.loc[i, "channel"] = "voice"
    assert _check(scen, ros, res.shifts, asg) == {"skill"}


def test_fraction_sum_and_off_shift(solved):
    scen, ros, res = solved
    asg = res.assignments.copy()
    row = asg.iloc[[0]].copy()
    row["channel"] = "voice" if row["channel"].iloc[0] == "chat" else row["channel"]
    assert "fraction_sum" in _check(scen, ros, res.shifts, pd.concat([asg, row]))
    # work during the break
    sh = res.shifts.iloc[0]
    b0 = pd.Timestamp(f"{sh['date']}T{sh['breaks'][:5]}").tz_localize(TZ)
    extra = pd.DataFrame({"timestamp": [b0], "agent_id": [sh["agent_id"]],
                          "channel": [asg.loc[asg["agent_id"] == sh["agent_id"],
                                              "channel"].iloc[0]], "fraction": [0.5]})
    assert _check(scen, ros, res.shifts, pd.concat([asg, extra])) == {"off_shift"}
    bad = asg.copy()
    bad.loc[bad.index[0], "fraction"] = 1.5
    assert "fraction" in _check(scen, ros, res.shifts, bad)


def test_break_outside_window(solved):
    scen, ros, res = solved
    sh = res.shifts.copy()
    start = pd.Timestamp(sh.loc[0, "start"])
    b = start + pd.Timedelta(minutes=60)
    sh.loc[0, "breaks"] = f"{b:%H:%M}-{b + pd.Timedelta(minutes=30):%H:%M}"
    assert "breaks" in _check(scen, ros, sh, res.assignments.iloc[0:0])


def test_contract_rules(solved):
    scen, ros, res = solved
    sh = res.shifts.copy()
    # unavailable weekday: move c1's Monday shift to Wednesday 2026-11-18
    i = sh.index[sh["agent_id"] == "c1"][0]
    moved = sh.loc[[i]].copy()
    for col in ("start", "end"):
        moved[col] = pd.to_datetime(moved[col]) + pd.Timedelta(days=2)
    moved["date"] = "2026-11-18"
    rules = check_schedule(pd.concat([sh, moved]), res.assignments.iloc[0:0], ros, scen,
                           horizon_start=MON, horizon_days=3).rules()
    assert "unavailable" in rules
    # two shifts on one date, and the rest between them
    dup = sh.loc[[i]].copy()
    for col in ("start", "end"):
        dup[col] = pd.to_datetime(dup[col]) + pd.Timedelta(hours=1)
    rules = _check(scen, ros, pd.concat([sh, dup]), res.assignments.iloc[0:0])
    assert {"one_shift_per_day", "rest"} <= rules
    # weekly hours and days
    tight = ros.copy()
    tight["max_hours_week"] = 10.0
    tight["max_days_week"] = 1
    tight["min_hours_week"] = [0.0, 0.0]
    rules = check_schedule(sh, res.assignments.iloc[0:0], tight, scen, horizon_start=MON,
                           horizon_days=7).rules()
    assert {"max_hours", "max_days"} <= rules
    lazy = ros.copy()
    lazy["min_hours_week"] = 40.0
    rules = check_schedule(sh, res.assignments.iloc[0:0], lazy, scen, horizon_start=MON,
                           horizon_days=7).rules()
    assert "min_hours" in rules
    # earliest start / latest end, and a start no template allows
    late = ros.copy()
    late["earliest_start"] = "09:30"
    late["latest_end"] = "17:00"
    assert {"earliest_start", "latest_end"} <= _check(scen, late, sh,
                                                      res.assignments.iloc[0:0])
    odd = sh.copy()
    for col in ("start", "end"):
        odd[col] = pd.to_datetime(odd[col]) + pd.Timedelta(minutes=15)
    odd["breaks"] = ""
    assert "template" in _check(scen, ros, odd, res.assignments.iloc[0:0]) or \
        "breaks" in _check(scen, ros, odd, res.assignments.iloc[0:0])


def test_consecutive_days():
    scen = _scenario()
    scen.agents.max_consecutive_days = 2
    ros = _roster()
    rows = []
    for d in range(3):
        day = MON + dt.timedelta(days=d)
        s = pd.Timestamp(f"{day}T08:00").tz_localize(TZ)
        rows.append({"agent_id": "v1", "date": day.isoformat(), "start": s,
                     "end": s + pd.Timedelta(hours=8.5), "breaks": "11:00-11:30"})
    rules = check_schedule(pd.DataFrame(rows), pd.DataFrame(
        columns=["timestamp", "agent_id", "channel", "fraction"]), ros, scen,
        horizon_start=MON, horizon_days=7).rules()
    assert rules == {"consecutive_days"}


def test_templates_on_dst_days():
    scen = _scenario()
    scen.shift_templates[0].start_earliest = dt.time(6, 0)
    spring = expand_shifts(scen, [dt.date(2026, 3, 29)])
    assert spring.n_intervals == 92
    s = 0  # 06:00 start, 8.5 h
    assert spring.start_wall[s] == 360
    assert spring.start_abs[s] == 300          # 5 elapsed hours after midnight
    assert spring.local_start(s).hour == 6
    idx, share = spring.presence[s]
    assert idx[0] == 20 and len(idx) == 34 and share.sum() == pytest.approx(34)
    autumn = expand_shifts(scen, [dt.date(2026, 10, 25)])
    assert autumn.n_intervals == 100
    assert autumn.start_abs[0] == 7 * 60       # 7 elapsed hours to 06:00
    # every break option of an 8.5 h shift lies 180-300 min after its start
    for opt in spring.pool_options[spring.pool[s]]:
        assert 180 <= opt[0] - spring.start_abs[s] <= 300


def _hourly_day_shift(tz: str, day: dt.date, days: int, start: str, until: int):
    """One voice agent, one 8-h template starting at ``start``, 60-minute intervals and
    one head required from 08:00 to ``until`` o'clock each day: the scenario, the
    roster and the schedule."""
    from wfm.timegrid import interval_grid

    scen = Scenario.model_validate({
        "site": {"timezone": tz, "interval_minutes": 60},
        "channels": [{"name": "voice"}],
        "shift_templates": [{"name": "day", "start_earliest": start,
                             "start_latest": start, "lengths_hours": [8.0]}],
    })
    ros = pd.DataFrame([{"agent_id": "v1", "skills": "voice", "min_hours_week": 0,
                         "max_hours_week": 40, "max_days_week": 5}])
    grid = interval_grid(day, days, tz, 60)
    hours = grid.hour + grid.minute / 60
    req = pd.DataFrame({"timestamp": grid, "channel": "voice",
                        "agents_required": ((hours >= 8) & (hours < until)) * 1.0})
    return scen, ros, schedule(req, scen, ros, time_limit=30)


def test_intervals_on_the_local_grid_with_a_half_hour_utc_offset():
    """+05:30 and 60-minute intervals: the local hours are not on UTC's hour grid."""
    scen, ros, res = _hourly_day_shift("Asia/Kolkata", MON, 1, "08:30", 17)
    assert len(res.shifts) == 1
    first = res.assignments.sort_values("timestamp").iloc[0]
    assert first["timestamp"].hour == 8 and first["fraction"] == pytest.approx(0.5)
    rep = check_schedule(res.shifts, res.assignments, ros, scen, horizon_start=MON,
                         horizon_days=1)
    assert rep.ok, rep.to_text()
    # the shift covers half of 08:00-09:00 local: more is work off shift
    asg = res.assignments.copy()
    asg.loc[asg["timestamp"] == first["timestamp"], "fraction"] = 0.75
    rep = check_schedule(res.shifts, asg, ros, scen, horizon_start=MON, horizon_days=1)
    assert rep.rules() == {"off_shift"}
    assert "on shift and not on break for 0.5" in rep.violations["detail"].iloc[0]


def test_intervals_after_a_half_hour_daylight_saving_change():
    """Lord Howe Island, 4 Oct 2026: clocks go from 02:00 to 02:30. The 60-minute
    intervals keep counting from the first midnight, so after the change they
    start at half past on the clock; a shift from 08:00 covers half of 07:30-08:30."""
    day = dt.date(2026, 10, 3)
    scen, ros, res = _hourly_day_shift("Australia/Lord_Howe", day, 2, "08:00", 16)
    assert len(res.shifts) == 2
    second = res.assignments[res.assignments["timestamp"].dt.day == 4]
    assert second["timestamp"].dt.minute.eq(30).all()
    rep = check_schedule(res.shifts, res.assignments, ros, scen, horizon_start=day,
                         horizon_days=2)
    assert rep.ok, rep.to_text()


def _check_night(tz: str, date: str, start: str, end: str, breaks: str,
                 asg: pd.DataFrame | None = None):
    """Check one agent's 8-h night shift (21:30 template, a 30-min break 180-300 min in)."""
    scen = Scenario.model_validate({
        "site": {"timezone": tz, "interval_minutes": 15},
        "channels": [{"name": "voice"}],
        "shift_templates": [{"name": "night", "start_earliest": "21:30",
                             "start_latest": "21:30", "lengths_hours": [8.0],
                             "breaks": [{"minutes": 30, "paid": False,
                                         "earliest_after_start_minutes": 180,
                                         "latest_after_start_minutes": 300}]}],
    })
    ros = pd.DataFrame([{"agent_id": "v1", "skills": "voice", "min_hours_week": 0,
                         "max_hours_week": 40, "max_days_week": 5}])
    shifts = pd.DataFrame([{"agent_id": "v1", "date": date, "start": start, "end": end,
                            "breaks": breaks}])
    if asg is None:
        asg = pd.DataFrame(columns=["timestamp", "agent_id", "channel", "fraction"])
    return check_schedule(shifts, asg, ros, scen, horizon_start=dt.date.fromisoformat(date),
                          horizon_days=1)


def test_break_in_the_hour_repeated_when_clocks_go_back():
    """01:30-02:00 on the night of 1 Nov 2026 (New York): the break starts at the
    second 01:30 (EST), 300 min into a 21:30 EDT shift, and lasts 30 min."""
    night = ("America/New_York", "2026-10-31", "2026-10-31T21:30:00-04:00",
             "2026-11-01T04:30:00-05:00", "01:30-02:00")
    rep = _check_night(*night)
    assert rep.ok, rep.to_text()
    # work in the break (01:30 EST) is off shift; the first 01:30 (EDT) is not
    asg = pd.DataFrame({"timestamp": pd.to_datetime(["2026-11-01T01:30:00-05:00",
                                                     "2026-11-01T01:30:00-04:00"], utc=True)
                        .tz_convert("America/New_York"),
                        "agent_id": "v1", "channel": "voice", "fraction": 1.0})
    rep = _check_night(*night, asg=asg)
    assert rep.rules() == {"off_shift"} and len(rep.violations) == 1
    assert rep.violations["when"].iloc[0].endswith("-05:00")


@pytest.mark.parametrize("offset", ["-04:00", "-05:00"])
def test_break_wholly_inside_the_repeated_hour_is_read_as_the_assignments_say(offset):
    """01:00-01:30 on the night of 1 Nov 2026 (New York) is 210 or 270 min into a
    21:30 EDT shift, both in the break window: the reading with no work in it holds."""
    night = ("America/New_York", "2026-10-31", "2026-10-31T21:30:00-04:00",
             "2026-11-01T04:30:00-05:00", "01:00-01:30")
    ny = "America/New_York"
    brk = pd.Timestamp(f"2026-11-01T01:00:00{offset}")
    worked = [t for t in pd.date_range(pd.Timestamp(night[2]).tz_convert("UTC"),
                                       pd.Timestamp(night[3]).tz_convert("UTC"),
                                       freq="15min", inclusive="left")
              if not brk <= t < brk + pd.Timedelta(minutes=30)]
    asg = pd.DataFrame({"timestamp": pd.DatetimeIndex(worked).tz_convert(ny),
                        "agent_id": "v1", "channel": "voice", "fraction": 1.0})
    assert len(asg) == 30
    rep = _check_night(*night, asg=asg)
    assert rep.ok, rep.to_text()
    # work in both readings: one of them is off shift
    extra = pd.DataFrame({"timestamp": [brk.tz_convert(ny)], "agent_id": "v1",
                          "channel": "voice", "fraction": 1.0})
    rep = _check_night(*night, asg=pd.concat([asg, extra], ignore_index=True))
    assert rep.rules() == {"off_shift"} and len(rep.violations) == 1


def test_break_whose_end_reads_earlier_than_its_start():
    """Berlin, night of 25 Oct 2026: a break 02:30-02:00 starts 300 min into a
    21:30 shift, at 02:30 summer time, and ends 30 min later at 02:00 winter time."""
    rep = _check_night(TZ, "2026-10-24", "2026-10-24T21:30:00+02:00",
                       "2026-10-25T04:30:00+01:00", "02:30-02:00")
    assert rep.ok, rep.to_text()


def test_cli_schedule(tmp_path):
    from typer.testing import CliRunner

    from wfm.cli import app
    from wfm.timegrid import interval_grid

    scen_text = """
[site]
timezone = "Europe/Berlin"
interval_minutes = 15
[[channels]]
name = "voice"
[[channels]]
name = "email"
kind = "deferred"
response_time_hours = 8
aht_seconds = 600
[[shift_templates]]
name = "day"
start_earliest = "08:00"
start_latest = "10:00"
start_step_minutes = 60
lengths_hours = [8.5]
[[shift_templates.breaks]]
minutes = 30
earliest_after_start_minutes = 180
latest_after_start_minutes = 300
[agents]
file = "roster.csv"
"""
    (tmp_path / "scenario.toml").write_text(scen_text)
    _roster().assign(skills=["voice", "voice;email"]).drop(columns="unavailable").to_csv(
        tmp_path / "roster.csv", index=False)
    grid = interval_grid(MON, 1, TZ, 15)
    hours = grid.hour + grid.minute / 60
    req = pd.concat([
        pd.DataFrame({"timestamp": grid, "channel": "voice", "volume": 10.0,
                      "aht_seconds": 300.0, "agents_net": ((hours >= 8) & (hours < 18)) * 0.7,
                      "agents_required": ((hours >= 8) & (hours < 18)) * 1.0, "service_level": 0.8,
                      "asa_seconds": 20.0, "occupancy": 0.8}),
        pd.DataFrame({"timestamp": grid, "channel": "email", "volume":
                      ((hours >= 8) & (hours < 12)) * 2.0, "aht_seconds": 600.0,
                      "agents_net": 0.0, "agents_required": 0.0, "service_level": 1.0,
                      "asa_seconds": 0.0, "occupancy": 0.0}),
    ])
    from wfm.io import write_frame

    write_frame(req, tmp_path / "req.csv", "requirements")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["schedule", "--requirements", str(tmp_path / "req.csv"),
                                 "--scenario", str(tmp_path / "scenario.toml"), "--out",
                                 str(out), "--time-limit", "30", "--solver", "highs"])
    assert r.exit_code == 0, r.output
    assert "every rule holds" in r.output and "status" in r.output
    for f in ("shifts.csv", "assignments.csv", "agent_hours.csv"):
        assert (out / f).is_file()
    shifts = pd.read_csv(out / "shifts.csv")
    assert len(shifts) == 2
    bad = CliRunner().invoke(app, ["schedule", "--requirements", str(tmp_path / "req.csv"),
                                   "--scenario", str(tmp_path / "scenario.toml"), "--out",
                                   str(out), "--solver", "gurobi"])
    assert bad.exit_code == 2 and "unknown solver" in bad.output
