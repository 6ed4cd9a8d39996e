"""Every validation rule of wfm.io on hand-made bad files, through the library and the CLI.

Each file is small and written by hand so the expected line numbers can be
read off the text: the header is line 1.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from wfm.cli import app
from wfm.config import scenario_from_dict
from wfm.errors import DataValidationError
from wfm.io import read_frame, read_history, read_roster, validate_file, validate_frame

runner = CliRunner()

SCENARIO_TOML = """
[site]
timezone = "Europe/Berlin"
interval_minutes = 15

[[channels]]
name = "voice"
kind = "realtime"

[[channels]]
name = "email"
kind = "deferred"

[[channels]]
name = "chatbot"
kind = "concurrent"
concurrency = 10
staffed = false
"""

GOOD = """\
timestamp,channel,volume,aht_seconds
2025-01-06T08:00:00+01:00,voice,12,300
2025-01-06T08:00:00+01:00,email,3,400
2025-01-06T08:15:00+01:00,voice,15,310
2025-01-06T08:15:00+01:00,email,0,
2025-01-06T08:30:00+01:00,voice,9,290
2025-01-06T08:30:00+01:00,email,1,420
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    p = tmp_path / "scenario.toml"
    p.write_text(SCENARIO_TOML)
    return p


def write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def cli(path: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["validate", str(path), *args])
    return res.exit_code, res.output


def bad(path: Path, rule: str, text: str, *args: str, kind: str | None = None,
        scenario: Path | None = None) -> None:
    """The CLI exits 1 and names the rule and the text; the library agrees."""
    extra = list(args)
    if scenario is not None:
        extra += ["--scenario", str(scenario)]
    if kind is not None:
        extra += ["--kind", kind]
    code, out = cli(path, *extra)
    assert code == 1, out
    assert f"[{rule}]" in out, out
    assert text in out, out
    sc = None
    if scenario is not None:
        from wfm.config import load_scenario
        sc = load_scenario(scenario)
    report = validate_file(path, kind, sc)
    assert not report.ok
    assert rule in {p.rule for p in report.errors}


def test_good_file_passes(tmp_path, scenario_file):
    p = write(tmp_path, GOOD)
    code, out = cli(p, "--scenario", str(scenario_file))
    assert code == 0, out
    # the scenario's chatbot channel has no history: a warning, not an error
    assert "0 error(s), 1 warning(s)" in out and "[channel_without_history]" in out
    code, out = cli(p)
    assert code == 0 and "ok, no problems" in out
    h = read_history(p)
    assert str(h["timestamp"].dt.tz) == "Europe/Berlin"
    assert h["aht_seconds"].isna().sum() == 1


def test_missing_column(tmp_path):
    p = write(tmp_path, GOOD.replace(",volume,", ",vol,"))
    # 'vol' is both a missing 'volume' and an unexpected column
    bad(p, "missing_columns", "missing column(s) ['volume']", kind="history")


def test_extra_column_in_history(tmp_path):
    p = write(tmp_path, "timestamp,channel,volume,aht_secs\n"
                        "2025-01-06T08:00:00+01:00,voice,12,300\n")
    bad(p, "extra_columns", "unexpected column(s) ['aht_secs']")


def test_unparsable_timestamp(tmp_path):
    text = GOOD.replace("2025-01-06T08:15:00+01:00,voice", "2025-13-06T08:15:00+01:00,voice")
    p = write(tmp_path, text)
    bad(p, "unparsable_timestamp", "line 4; found '2025-13-06T08:15:00+01:00'")


def test_non_numeric_volume(tmp_path):
    p = write(tmp_path, GOOD.replace("voice,15,310", "voice,fifteen,310"))
    bad(p, "not_a_number", "column 'volume'; line 4; found 'fifteen'")


def test_negative_volume(tmp_path):
    p = write(tmp_path, GOOD.replace("voice,9,290", "voice,-9,290"))
    bad(p, "negative_volume", "line 6; found '-9'; expected a number >= 0")


def test_empty_volume(tmp_path):
    p = write(tmp_path, GOOD.replace("voice,9,290", "voice,,290"))
    bad(p, "missing_value", "volume is empty; column 'volume'; line 6")


def test_negative_aht(tmp_path):
    p = write(tmp_path, GOOD.replace("email,1,420", "email,1,-420"))
    bad(p, "negative_aht", "line 7; found '-420'")


def test_zero_aht_with_volume(tmp_path):
    p = write(tmp_path, GOOD.replace("voice,12,300", "voice,12,0"))
    bad(p, "zero_aht", "line 2; found '0'")


def test_absurd_aht_depends_on_channel_kind(tmp_path, scenario_file):
    # 5 h is absurd for a phone call (limit 4 h) but possible for an e-mail (24 h)
    text = GOOD.replace("voice,12,300", "voice,12,18000").replace("email,3,400",
                                                                   "email,3,18000")
    p = write(tmp_path, text)
    bad(p, "absurd_aht", "line 2; found '18000'; expected at most 14400 s (4 h)",
        scenario=scenario_file)
    from wfm.config import load_scenario
    rep = validate_file(p, scenario=load_scenario(scenario_file))
    assert [e.rows for e in rep.errors if e.rule == "absurd_aht"] == [(2,)]


def test_duplicate_rows(tmp_path):
    text = GOOD + "2025-01-06T08:15:00+01:00,voice,15,310\n"
    p = write(tmp_path, text)
    bad(p, "duplicate_rows", "lines 4, 8")


def test_off_grid_timestamp(tmp_path):
    p = write(tmp_path, GOOD.replace("08:30:00+01:00,voice", "08:37:00+01:00,voice"))
    bad(p, "off_grid", "not on the 15-minute interval grid; column 'timestamp'; line 6")


def test_unknown_channel(tmp_path, scenario_file):
    p = write(tmp_path, GOOD.replace("email,0,", "fax,0,"))
    bad(p, "unknown_channel", "channel(s) ['fax'] not in the scenario",
        scenario=scenario_file)


def test_gap_is_an_error_and_never_filled(tmp_path):
    lines = GOOD.splitlines(keepends=True)
    text = "".join(lines[:3] + lines[4:])  # drop voice at 08:15
    p = write(tmp_path, text)
    bad(p, "gap", "channel 'voice': 1 missing interval(s) in 1 gap(s) between "
        "2025-01-06T08:00:00+01:00 and 2025-01-06T08:30:00+01:00; gaps are reported, never "
        "filled; column 'timestamp'; found '2025-01-06T08:15:00+01:00'")
    code, out = cli(p, "--allow-gaps")
    assert code == 0, out
    assert "warning" in out and "[gap]" in out
    h = read_history(p, gaps="warning")
    assert len(h) == 5  # nothing filled in


def test_mixed_timezones(tmp_path):
    p = write(tmp_path, GOOD.replace("2025-01-06T08:30:00+01:00,email",
                                     "2025-01-06T08:30:00,email"))
    bad(p, "mixed_timezones", "without (1 rows); the minority is listed; column 'timestamp'; "
        "line 7")


def test_offset_inconsistent_with_site_zone(tmp_path):
    # summer time in Berlin is +02:00; one row claims +01:00
    text = """\
    timestamp,channel,volume
    2025-07-01T08:00:00+02:00,voice,1
    2025-07-01T08:15:00+01:00,voice,1
    2025-07-01T08:30:00+02:00,voice,1
    """
    p = write(tmp_path, text)
    bad(p, "offset_mismatch", "UTC offset does not match Europe/Berlin")


def test_nonexistent_local_time_on_spring_forward(tmp_path):
    text = """\
    timestamp,channel,volume
    2025-03-30T01:45:00,voice,1
    2025-03-30T02:30:00,voice,1
    2025-03-30T03:00:00,voice,1
    """
    p = write(tmp_path, text)
    bad(p, "nonexistent_local_time", "line 3; found '2025-03-30T02:30:00'")


def test_interval_mismatch(tmp_path, scenario_file):
    text = """\
    timestamp,channel,volume
    2025-01-06T08:00:00+01:00,voice,1
    2025-01-06T08:30:00+01:00,voice,1
    2025-01-06T09:00:00+01:00,voice,1
    """
    p = write(tmp_path, text)
    bad(p, "interval_mismatch", "30 minutes apart but the scenario declares 15-minute",
        scenario=scenario_file)


def test_interval_cannot_be_inferred(tmp_path):
    text = """\
    timestamp,channel,volume
    2025-01-06T08:00:00+01:00,voice,1
    2025-01-06T08:20:00+01:00,voice,1
    2025-01-06T08:40:00+01:00,voice,1
    """
    p = write(tmp_path, text)
    bad(p, "interval_not_inferred", "most common step between timestamps is 20 min")


def test_every_problem_is_collected(tmp_path):
    text = (GOOD.replace("voice,9,290", "voice,-9,290")
            .replace("email,3,400", "email,x,400")
            .replace("08:15:00+01:00,voice", "08:16:00+01:00,voice"))
    p = write(tmp_path, text)
    rep = validate_file(p)
    rules = {e.rule for e in rep.errors}
    assert {"negative_volume", "not_a_number", "off_grid"} <= rules
    with pytest.raises(DataValidationError) as err:
        read_history(p)
    assert err.value.report is not None
    assert "3 validation error(s)" in str(err.value) or len(rep.errors) >= 3
    df = rep.to_frame()
    assert list(df.columns)[:4] == ["source", "severity", "rule", "column"]
    assert set(df["rule"]) >= rules


def test_empty_file(tmp_path):
    p = write(tmp_path, "")
    bad(p, "empty", "the file is empty", kind="history")


def test_header_only(tmp_path):
    p = write(tmp_path, "timestamp,channel,volume\n")
    bad(p, "empty", "the file has no data rows")


def test_ragged_csv(tmp_path):
    p = write(tmp_path, "timestamp,channel,volume\n2025-01-06T08:00:00+01:00,voice,1,9,9\n"
                        "2025-01-06T08:15:00+01:00,voice,1\n")
    bad(p, "csv_syntax", "more fields than the header; line 2; expected 3 fields per line",
        kind="history")


def test_unknown_file_type(tmp_path):
    p = write(tmp_path, GOOD, name="history.xlsx")
    bad(p, "file_type", "unknown file type '.xlsx'", kind="history")


def test_file_not_found(tmp_path):
    code, out = cli(tmp_path / "nope.csv", "--kind", "history")
    assert code == 1
    assert "file not found" in out


def test_kind_not_inferable(tmp_path):
    p = write(tmp_path, "a,b\n1,2\n")
    bad(p, "unknown_kind", "cannot tell which frame this is")


def test_bad_kind_option_exits_2(tmp_path):
    p = write(tmp_path, GOOD)
    res = runner.invoke(app, ["validate", str(p), "--kind", "histories"])
    assert res.exit_code == 2
    assert "--kind must be one of" in res.output


def test_column_map_translates_vendor_headers(tmp_path):
    text = GOOD.replace("timestamp,channel,volume,aht_seconds",
                        "Interval Start,Queue,Offered,AHT")
    p = write(tmp_path, text, name="acd_export.csv")
    code, out = cli(p, "--kind", "history")
    assert code == 1 and "[missing_columns]" in out
    args = ["-m", "Interval Start=timestamp", "-m", "Queue=channel", "-m", "Offered=volume",
            "-m", "AHT=aht_seconds"]
    code, out = cli(p, *args)
    assert code == 0, out
    h = read_history(p, column_map={"Interval Start": "timestamp", "Queue": "channel",
                                    "Offered": "volume", "AHT": "aht_seconds"})
    assert list(h.columns) == ["timestamp", "channel", "volume", "aht_seconds"]
    # a map naming a column the file does not have is reported
    code, out = cli(p, "-m", "Start=timestamp", "--kind", "history")
    assert code == 1 and "[column_map]" in out


def test_roster_problems_all_reported(tmp_path, scenario_file):
    text = """\
    agent_id,skills,min_hours_week,max_hours_week,max_days_week,earliest_start,latest_end,unavailable,proficiency
    A1,voice;email,30,38,5,08:00,17:00,2026-11-18;sat,voice:0.8
    A2,voice;fax,30,38,5,,,,
    A3,email,40,30,5,,,,
    A4,voice,20,25,8,25:00,12:00,someday,email:0.5
    A1,chatbot,20,25,4,,,,
    """
    p = write(tmp_path, text, name="roster.csv")
    code, out = cli(p, "--scenario", str(scenario_file))
    assert code == 1
    for rule, snippet in [
        ("unknown_channel", "line 3; found 'fax'"),
        ("min_above_max", "line 4"),
        ("max_days_week_out_of_range", "line 5; found '8'"),
        ("bad_time_of_day", "line 5; found '25:00'"),
        ("bad_unavailable", "line 5; found 'someday'"),
        ("bad_proficiency", "line 5; found 'email:0.5'"),
        ("unstaffed_skill", "line 6; found 'chatbot'"),
        ("duplicate_rows", "lines 2, 6"),
    ]:
        line = next((x for x in out.splitlines() if f"[{rule}]" in x), "")
        assert snippet in line, (rule, out)
    with pytest.raises(DataValidationError):
        read_roster(p)


def test_roster_good_is_normalised(tmp_path):
    text = """\
    agent_id,skills,min_hours_week,max_hours_week,max_days_week,earliest_start,unavailable,days_off_wished
    A1, voice ; email ,30,38,5,8:00,2026-11-18;Saturday,Fri
    """
    r = read_roster(write(tmp_path, text, name="roster.csv"))
    row = r.iloc[0]
    assert row["skills"] == "voice;email"
    assert row["earliest_start"] == "08:00"
    assert row["unavailable"] == "2026-11-18;sat"
    assert row["days_off_wished"] == "fri"
    assert r["max_days_week"].dtype == "int64"


def test_shift_problems(tmp_path):
    text = """\
    agent_id,date,start,end,breaks
    A1,2026-11-16,2026-11-16T08:00:00+01:00,2026-11-16T16:30:00+01:00,12:00-12:30
    A2,2026-11-17,2026-11-16T08:00:00+01:00,2026-11-16T07:30:00+01:00,
    A3,2026-11-16,2026-11-16T08:00:00+01:00,2026-11-16T16:30:00+01:00,18:00-18:30
    """
    p = write(tmp_path, text, name="shifts.csv")
    code, out = cli(p)
    assert code == 1
    assert "[shift_inverted]" in out and "[date_mismatch]" in out and "[bad_breaks]" in out
    rep = validate_file(p)
    assert {e.rule: e.rows for e in rep.errors}["bad_breaks"] == (4,)


def test_assignment_over_one(tmp_path):
    text = """\
    timestamp,agent_id,channel,fraction
    2026-11-16T08:00:00+01:00,A1,voice,0.7
    2026-11-16T08:00:00+01:00,A1,email,0.5
    2026-11-16T08:15:00+01:00,A1,voice,1.2
    """
    p = write(tmp_path, text, name="assignments.csv")
    code, out = cli(p)
    assert code == 1
    assert "[over_assigned]" in out and "lines 2, 3" in out
    assert "[fraction_out_of_range]" in out


def test_coverage_gap_must_be_consistent(tmp_path):
    text = """\
    timestamp,channel,required,scheduled,gap,service_level
    2026-11-16T08:00:00+01:00,voice,10.5,9,-1.5,0.7
    2026-11-16T08:15:00+01:00,voice,10.5,12,2,0.9
    """
    p = write(tmp_path, text, name="coverage.csv")
    bad(p, "gap_inconsistent", "line 3; found '2'")


def test_requirements_required_below_net(tmp_path):
    text = """\
    timestamp,channel,volume,aht_seconds,agents_net,agents_required,service_level,asa_seconds,occupancy
    2026-11-16T08:00:00+01:00,voice,100,300,36.2,30.0,0.8,12,0.77
    """
    p = write(tmp_path, text, name="requirements.csv")
    bad(p, "required_below_net", "line 2")


def test_forecast_interval_inverted(tmp_path):
    text = """\
    timestamp,channel,volume,volume_lo,volume_hi,aht_seconds,model
    2026-11-16T08:00:00+01:00,voice,100,120,90,300,mstl
    """
    p = write(tmp_path, text, name="forecast.csv")
    bad(p, "interval_inverted", "volume_lo is above volume_hi")


def test_validate_frame_counts_rows_from_one():
    df = pd.DataFrame({"timestamp": ["2025-01-06T08:00:00+01:00", "2025-01-06T08:15:00+01:00"],
                       "channel": ["voice", "voice"], "volume": [1, -1]})
    rep = validate_frame(df, "history", source="upload")
    assert rep.row_unit == "row"
    assert [e.rows for e in rep.errors] == [(2,)]
    assert "row numbers count data rows from 1" in rep.to_text()


def test_read_frame_raises_with_report(tmp_path):
    p = write(tmp_path, GOOD.replace("voice,9,290", "voice,-9,290"))
    with pytest.raises(DataValidationError) as err:
        read_frame(p, "history")
    assert err.value.report.errors[0].rule == "negative_volume"
    assert str(p) in str(err.value)


def test_scenario_from_dict_channels_used(tmp_path):
    sc = scenario_from_dict({"channels": [{"name": "voice"}]})
    p = write(tmp_path, GOOD)
    rep = validate_file(p, scenario=sc)
    assert "unknown_channel" in {e.rule for e in rep.errors}
